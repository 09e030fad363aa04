//! What a plugin declares about itself before it is given any credential.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kind of data an exchange account offers, synced on its own schedule.
///
/// The names are the keys of an integration file's `[streams]` table.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stream {
    Balances,
    Trades,
    Orders,
    Deposits,
    Withdrawals,
    Ledger,
    Candles,
}

impl Stream {
    pub const ALL: [Stream; 7] = [
        Stream::Balances,
        Stream::Trades,
        Stream::Orders,
        Stream::Deposits,
        Stream::Withdrawals,
        Stream::Ledger,
        Stream::Candles,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Balances => "balances",
            Stream::Trades => "trades",
            Stream::Orders => "orders",
            Stream::Deposits => "deposits",
            Stream::Withdrawals => "withdrawals",
            Stream::Ledger => "ledger",
            Stream::Candles => "candles",
        }
    }

    pub fn from_name(name: &str) -> Option<Stream> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The record kind this stream produces.
    pub fn record_kind(self) -> crate::RecordKind {
        use crate::RecordKind;
        match self {
            Stream::Balances => RecordKind::Balance,
            Stream::Trades => RecordKind::Trade,
            Stream::Orders => RecordKind::Order,
            Stream::Deposits => RecordKind::Deposit,
            Stream::Withdrawals => RecordKind::Withdrawal,
            Stream::Ledger => RecordKind::Ledger,
            Stream::Candles => RecordKind::Candle,
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One credential an integration must (or may) supply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CredentialField {
    /// `api_key`, `api_secret`, `passphrase` where the credential plays that role, whatever the
    /// exchange calls it; plain names (`portfolio_id`, `sub_account`) for extras.
    pub name: String,
    /// The exchange's own word for it ("Secret Key").
    pub label: String,
    /// Whether the value must come from `env:` or `file:`, never plain in a config file. The
    /// host masks and redacts secret values everywhere, and key material whatever this says
    /// (a name containing `key`, `secret`, `passphrase`, `password` or `token`); only other
    /// plain fields (`sub_account`, `portfolio_id`) are shown as they are.
    pub secret: bool,
    #[serde(default)]
    pub optional: bool,
}

/// Who an exchange counts a rate limit against.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum RateScope {
    /// The calling address (Binance's request weight): every integration that talks to the
    /// same exchange host shares the budget, whatever its key.
    #[default]
    Host,
    /// The account or API key (Binance's UID weight, KuCoin's resource pools, Bybit's and
    /// OKX's per-UID limits): integrations on the same key share the budget, two keys never
    /// do.
    Key,
}

/// How a [`RateLimit::reset_header`] says when the exchange's window frees up.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ResetFormat {
    /// Milliseconds from now (KuCoin's `gw-ratelimit-reset`).
    #[default]
    MillisLeft,
    /// Seconds from now.
    SecondsLeft,
    /// A Unix time in milliseconds (Bybit's `X-Bapi-Limit-Reset-Timestamp`, Gate's
    /// `X-Gate-RateLimit-Reset-Timestamp`).
    EpochMillis,
    /// A Unix time in seconds (BitMEX's `x-ratelimit-reset`).
    EpochSeconds,
}

/// A request budget: at most `capacity` cost units per `window_ms`.
///
/// Fields after `ban_statuses` were added in 1.1 and are optional in the JSON: a manifest
/// written before them reads as a per-host budget fed by `used_header` only. Build one with
/// [`RateLimit::new`] and the `with_*` methods, so that fields added later keep their
/// defaults.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Name requests refer to in [`crate::HttpRequest::bucket`].
    pub bucket: String,
    pub capacity: u32,
    pub window_ms: u64,
    /// A response header carrying the exchange's own count of what this window has used
    /// (Binance's `x-mbx-used-weight-1m`); the host trusts it over its own count.
    #[serde(default)]
    pub used_header: Option<String>,
    /// HTTP statuses that mean "banned for a while" rather than "slow down" (Binance's 418).
    #[serde(default)]
    pub ban_statuses: Vec<u16>,
    /// Who the exchange counts this budget against (since 1.1; `host` when absent).
    #[serde(default)]
    pub scope: RateScope,
    /// A response header carrying what this window has *left* (KuCoin's
    /// `gw-ratelimit-remaining`, Bybit's `X-Bapi-Limit-Status`); the host never spends more
    /// than it says until the window resets (since 1.1).
    #[serde(default)]
    pub remaining_header: Option<String>,
    /// A response header carrying the exchange's own size of this budget
    /// (`gw-ratelimit-limit`); the host adopts it when it is smaller than `capacity`
    /// (since 1.1).
    #[serde(default)]
    pub limit_header: Option<String>,
    /// A response header saying when the window frees up, read as `reset_format` says
    /// (since 1.1). Without it a `remaining_header` of 0 holds requests for `window_ms`.
    #[serde(default)]
    pub reset_header: Option<String>,
    /// How to read `reset_header` (since 1.1; milliseconds from now when absent).
    #[serde(default)]
    pub reset_format: ResetFormat,
}

impl RateLimit {
    /// A per-host budget of `capacity` cost units per `window_ms`, fed by no header.
    pub fn new(bucket: &str, capacity: u32, window_ms: u64) -> RateLimit {
        RateLimit {
            bucket: bucket.to_owned(),
            capacity,
            window_ms,
            ..RateLimit::default()
        }
    }

    /// Counted per account or API key rather than per address.
    pub fn per_key(mut self) -> RateLimit {
        self.scope = RateScope::Key;
        self
    }

    /// Fed by a header with the window's used count.
    pub fn with_used_header(mut self, name: &str) -> RateLimit {
        self.used_header = Some(name.to_owned());
        self
    }

    /// Fed by headers with what is left, the limit and when it resets.
    pub fn with_remaining_headers(
        mut self,
        remaining: &str,
        limit: Option<&str>,
        reset: Option<(&str, ResetFormat)>,
    ) -> RateLimit {
        self.remaining_header = Some(remaining.to_owned());
        self.limit_header = limit.map(str::to_owned);
        if let Some((name, format)) = reset {
            self.reset_header = Some(name.to_owned());
            self.reset_format = format;
        }
        self
    }

    /// Statuses that mean a ban (Binance's 418).
    pub fn with_ban_statuses(mut self, statuses: &[u16]) -> RateLimit {
        self.ban_statuses = statuses.to_vec();
        self
    }
}

/// How much history a stream can reach, and in what steps.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HistoryLimit {
    pub stream: Stream,
    /// How far back the exchange keeps data, if it says.
    #[serde(default)]
    pub max_lookback_ms: Option<i64>,
    /// The widest time window one request may ask for.
    #[serde(default)]
    pub max_window_ms: Option<i64>,
}

/// What a plugin declares about itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The `exchange` value integrations use: `binance`.
    pub id: String,
    pub display_name: String,
    /// The plugin's own version (not the API's).
    pub version: String,
    #[serde(default)]
    pub credentials: Vec<CredentialField>,
    #[serde(default)]
    pub streams: Vec<Stream>,
    /// Host names the plugin may call (`api.binance.com`).
    #[serde(default)]
    pub api_hosts: Vec<String>,
    #[serde(default)]
    pub default_base_url: String,
    #[serde(default)]
    pub sandbox_base_url: Option<String>,
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    #[serde(default)]
    pub history: Vec<HistoryLimit>,
    /// Candle timeframes the exchange serves (`1m`, `1h`, `1d`...).
    #[serde(default)]
    pub timeframes: Vec<String>,
}

impl Manifest {
    /// A manifest with only its identity filled in.
    pub fn new(id: &str, display_name: &str, version: &str) -> Manifest {
        Manifest {
            id: id.to_owned(),
            display_name: display_name.to_owned(),
            version: version.to_owned(),
            credentials: Vec::new(),
            streams: Vec::new(),
            api_hosts: Vec::new(),
            default_base_url: String::new(),
            sandbox_base_url: None,
            rate_limits: Vec::new(),
            history: Vec::new(),
            timeframes: Vec::new(),
        }
    }

    pub fn credential(&self, name: &str) -> Option<&CredentialField> {
        self.credentials.iter().find(|c| c.name == name)
    }

    pub fn history_limit(&self, stream: Stream) -> Option<&HistoryLimit> {
        self.history.iter().find(|h| h.stream == stream)
    }

    /// Checks what the host relies on: a usable id, known credential roles, a base URL.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok =
            self.id
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase())
                && !self.id.ends_with('-')
                && self.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
        if !id_ok {
            return Err(format!(
                "manifest id {:?} must start with a lowercase ASCII letter and hold only \
                 those, digits, '_' and '-' (not last)",
                self.id
            ));
        }
        if self.default_base_url.is_empty() {
            return Err("manifest has no default_base_url".into());
        }
        for rl in &self.rate_limits {
            if rl.capacity == 0 || rl.window_ms == 0 {
                return Err(format!(
                    "rate limit {:?} has a zero capacity or window",
                    rl.bucket
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str) -> Manifest {
        Manifest {
            default_base_url: "https://api.example.com".into(),
            ..Manifest::new(id, "Example", "1.0.0")
        }
    }

    #[test]
    fn a_rate_limit_written_before_1_1_reads_as_per_host_without_remaining_headers() {
        let old = r#"{"bucket":"ip","capacity":10,"window_ms":1000,"used_header":"x-used"}"#;
        let rl: RateLimit = serde_json::from_str(old).unwrap();
        assert_eq!(rl.scope, RateScope::Host);
        assert_eq!(rl.remaining_header, None);
        assert_eq!(rl.reset_format, ResetFormat::MillisLeft);
        assert_eq!(
            rl,
            RateLimit::new("ip", 10, 1000).with_used_header("x-used")
        );
        let new = RateLimit::new("pool", 5, 30_000)
            .per_key()
            .with_remaining_headers(
                "gw-ratelimit-remaining",
                Some("gw-ratelimit-limit"),
                Some(("gw-ratelimit-reset", ResetFormat::MillisLeft)),
            );
        let json = serde_json::to_string(&new).unwrap();
        assert!(json.contains(r#""scope":"key""#), "{json}");
        assert_eq!(serde_json::from_str::<RateLimit>(&json).unwrap(), new);
    }

    #[test]
    fn ids_are_lowercase_words_joined_by_dashes_or_underscores() {
        for good in ["binance", "coinbase-exchange", "crypto_com", "b2c2"] {
            assert_eq!(manifest(good).validate(), Ok(()), "{good}");
        }
        for bad in ["", "Binance", "2fa", "-x", "x-", "coin base", "ok/x"] {
            let err = manifest(bad).validate().unwrap_err();
            assert!(err.contains("manifest id"), "{bad}: {err}");
        }
    }
}
