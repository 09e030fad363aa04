//! Configuration for the `coinbase` connector.
//!
//! [`CoinbaseConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `max_clock_offset_ms` (0..=300000, default 30000): the largest difference between this
//!   host's clock and Coinbase's that the connector corrects. Within it, tokens are stamped
//!   with Coinbase's time (read from `GET /api/v3/brokerage/time`); beyond it, every signed
//!   request fails with a `clock` error, since a host clock that far off also skews every
//!   other time the daemon records.
//!
//! Any other option is refused, so a typo does not go unnoticed. `sandbox = true` is refused
//! with `unsupported`: Coinbase's Advanced Trade sandbox serves static, unauthenticated
//! sample answers, not an account, and there is nothing in it to sync.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError, TimeRange};

use crate::endpoints::{granularity, COINBASE_EPOCH_MS, TIMEFRAMES};

/// The largest `max_clock_offset_ms` accepted.
const MAX_CLOCK_OFFSET_LIMIT_MS: i64 = 300_000;
/// The default: well inside the 120 s a token lives.
const DEFAULT_MAX_CLOCK_OFFSET_MS: i64 = 30_000;

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CoinbaseConfig {
    pub(crate) integration: String,
    pub(crate) base_url: String,
    /// `organizations/{org_id}/apiKeys/{key_id}`.
    pub(crate) api_key_name: String,
    /// The private key: an EC P-256 PEM (ES256) or an Ed25519 secret in base64 (EdDSA).
    pub(crate) private_key: String,
    /// History start, UTC ms: the configured start, never before Coinbase's.
    pub(crate) start_ms: i64,
    /// The configured history Coinbase cannot hold, if the start is before it opened.
    pub(crate) unavailable: Option<TimeRange>,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) max_clock_offset_ms: i64,
}

impl fmt::Debug for CoinbaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoinbaseConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("max_clock_offset_ms", &self.max_clock_offset_ms)
            .finish()
    }
}

impl CoinbaseConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<CoinbaseConfig, PluginError> {
        if config.sandbox {
            return Err(PluginError::unsupported(
                "Coinbase Advanced Trade has no sandbox with accounts (its sandbox serves static \
                 sample answers); set `sandbox = false`",
            ));
        }
        let required = |name: &str| -> Result<String, PluginError> {
            let value = config.credential(name)?.trim().to_owned();
            if value.is_empty() {
                return Err(PluginError::config(format!("credential `{name}` is empty")));
            }
            Ok(value)
        };
        let api_key_name = required("api_key")?;
        let private_key = required("api_secret")?;
        // A CDP key is named `organizations/{org_id}/apiKeys/{key_id}`; newer (Ed25519) keys
        // are shown by their bare key id. unconfirmed: that the retail API takes a bare id as
        // `kid`/`sub` (Coinbase's SDKs accept both forms).
        let full_name =
            api_key_name.starts_with("organizations/") && api_key_name.contains("/apiKeys/");
        let bare_id = !api_key_name.contains('/') && !api_key_name.contains(char::is_whitespace);
        if !full_name && !bare_id {
            return Err(PluginError::config(
                "credential `api_key_name` must be the CDP key name \
                 `organizations/{org_id}/apiKeys/{key_id}` or the bare key id",
            ));
        }
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }
        for symbol in &config.candles.symbols {
            if split_unified(symbol).is_none() {
                return Err(PluginError::config(format!(
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USD\""
                )));
            }
        }
        for timeframe in &config.candles.timeframes {
            if granularity(timeframe).is_none() {
                let names: Vec<&str> = TIMEFRAMES.iter().map(|(n, _, _)| *n).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Coinbase granularity (one of {})",
                    names.join(", ")
                )));
            }
        }
        let mut candles = Vec::new();
        for symbol in &config.candles.symbols {
            for timeframe in &config.candles.timeframes {
                candles.push((symbol.clone(), timeframe.clone()));
            }
        }
        let mut max_clock_offset_ms = DEFAULT_MAX_CLOCK_OFFSET_MS;
        for (name, value) in &config.options {
            match name.as_str() {
                "max_clock_offset_ms" => {
                    max_clock_offset_ms = value
                        .as_i64()
                        .filter(|v| (0..=MAX_CLOCK_OFFSET_LIMIT_MS).contains(v))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `max_clock_offset_ms` is {value}; it must be an integer \
                                 from 0 to {MAX_CLOCK_OFFSET_LIMIT_MS}"
                            ))
                        })?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the coinbase plugin knows `max_clock_offset_ms`)"
                    )))
                }
            }
        }
        let configured = config.start_ms.unwrap_or(COINBASE_EPOCH_MS);
        Ok(CoinbaseConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key_name,
            private_key,
            start_ms: configured.max(COINBASE_EPOCH_MS),
            unavailable: Some(TimeRange::new(configured, COINBASE_EPOCH_MS))
                .filter(|r| !r.is_empty()),
            candles,
            max_clock_offset_ms,
        })
    }
}

/// `"BTC/USD"` → `("BTC", "USD")`.
pub(crate) fn split_unified(symbol: &str) -> Option<(&str, &str)> {
    let (base, quote) = symbol.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok(base) && ok(quote)).then_some((base, quote))
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/coinbase-main.toml: one Coinbase account (Advanced Trade + Coinbase App API).
exchange = "coinbase"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # Coinbase has no sandbox with accounts
start = "2020-01-01"                  # optional: history start

[credentials]
# Create a CDP API key (ECDSA, "View" permission) on the Coinbase Developer Platform.
api_key = "env:COINBASE_API_KEY_NAME"   # organizations/{org_id}/apiKeys/{key_id}
api_secret = "file:/run/credentials/exsyncd.service/coinbase-main.pem"

[streams]                             # stream = sync interval
balances = "15m"                      # every wallet: default, staked, vault, futures
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"                         # every transaction of every wallet

[candles]
symbols = ["BTC/USD", "ETH/USD"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 30m 1h 2h 6h 1d
interval = "1h"

[options]
max_clock_offset_ms = 30000           # clock skew corrected at most
"#
    .to_owned()
}
