//! Configuration for the `coinbase-prime` connector.
//!
//! [`CoinbasePrimeConfig`] is the integration's [`ConnectorConfig`] checked and completed
//! with defaults. Credentials carry Prime's own names: `portfolio_id`, `access_key`,
//! `passphrase`, `signing_key`. The integration's `[options]` table may hold:
//!
//! * `page_limit` (1..=3000, default 1000): the `limit` of every list request;
//! * `internal_transfers` (bool, default true; the daemon sets it from `[streams.transfers]
//!   include`): false leaves `INTERNAL_DEPOSIT` and `INTERNAL_WITHDRAWAL` (moves between the
//!   organisation's own portfolios) out of the deposits and withdrawals requests.
//!
//! Any other option is refused, so a typo does not go unnoticed. Coinbase Prime has no
//! public sandbox: `sandbox = true` is `unsupported`.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{
    granularity, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PRIME_LAUNCH_MS, TIMEFRAMES,
};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CoinbasePrimeConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) portfolio_id: String,
    pub(crate) access_key: String,
    pub(crate) passphrase: String,
    pub(crate) signing_key: String,
    /// History start, UTC ms: the configured start, never before Prime opened.
    pub(crate) start_ms: i64,
    /// Candle partitions: `(product id, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) page_limit: usize,
    /// Whether transfers between the organisation's own portfolios are synced.
    pub(crate) internal_transfers: bool,
}

impl fmt::Debug for CoinbasePrimeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoinbasePrimeConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("portfolio_id", &self.portfolio_id)
            .field("api_key", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("page_limit", &self.page_limit)
            .field("internal_transfers", &self.internal_transfers)
            .finish()
    }
}

fn required(config: &ConnectorConfig, name: &str) -> Result<String, PluginError> {
    let value = config.credential(name)?.trim().to_owned();
    if value.is_empty() {
        return Err(PluginError::config(format!("credential `{name}` is empty")));
    }
    Ok(value)
}

impl CoinbasePrimeConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<CoinbasePrimeConfig, PluginError> {
        if config.sandbox {
            return Err(PluginError::unsupported(
                "Coinbase Prime has no public sandbox; set `sandbox = false` (a `base_url` \
                 override still points the integration elsewhere)",
            ));
        }
        let portfolio_id = required(config, "portfolio_id")?;
        let access_key = required(config, "api_key")?;
        let passphrase = required(config, "passphrase")?;
        let signing_key = required(config, "api_secret")?;
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }

        for symbol in &config.candles.symbols {
            if product_id(symbol).is_none() {
                return Err(PluginError::config(format!(
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USD\""
                )));
            }
        }
        for timeframe in &config.candles.timeframes {
            if granularity(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|t| t.0).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Coinbase Prime granularity (one \
                     of {})",
                    known.join(", ")
                )));
            }
        }
        let mut candles = Vec::new();
        for symbol in &config.candles.symbols {
            for timeframe in &config.candles.timeframes {
                candles.push((
                    product_id(symbol).expect("checked above"),
                    timeframe.clone(),
                ));
            }
        }

        let mut page_limit = DEFAULT_PAGE_LIMIT;
        let mut internal_transfers = true;
        for (name, value) in &config.options {
            match name.as_str() {
                "page_limit" => {
                    page_limit = value
                        .as_u64()
                        .and_then(|v| usize::try_from(v).ok())
                        .filter(|v| (1..=MAX_PAGE_LIMIT).contains(v))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `page_limit` is {value}; it must be an integer from 1 \
                                 to {MAX_PAGE_LIMIT}"
                            ))
                        })?;
                }
                "internal_transfers" => {
                    internal_transfers =
                        exsync_plugin_api::option_bool("internal_transfers", value)?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the coinbase-prime plugin knows `page_limit` \
                         and `internal_transfers`)"
                    )))
                }
            }
        }

        Ok(CoinbasePrimeConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            portfolio_id,
            access_key,
            passphrase,
            signing_key,
            start_ms: config
                .start_ms
                .unwrap_or(PRIME_LAUNCH_MS)
                .max(PRIME_LAUNCH_MS),
            candles,
            page_limit,
            internal_transfers,
        })
    }
}

/// `"BTC/USD"` → `"BTC-USD"`, Prime's product id.
pub(crate) fn product_id(symbol: &str) -> Option<String> {
    let (base, quote) = symbol.split_once('/')?;
    let ok =
        |s: &str| !s.is_empty() && !s.contains(['/', '-', ':']) && !s.contains(char::is_whitespace);
    (ok(base) && ok(quote)).then(|| {
        format!(
            "{}-{}",
            base.to_ascii_uppercase(),
            quote.to_ascii_uppercase()
        )
    })
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/prime-main.toml: one Coinbase Prime portfolio.
exchange = "coinbase-prime"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # Coinbase Prime has no public sandbox
start = "2023-01-01"                  # optional: history start; default 2021-01-01

[credentials]
# Create a read-only API key in the Prime web app (Settings, APIs): it shows the access key,
# passphrase and signing key once. The portfolio id is in the portfolio's URL.
portfolio_id = "6b9e7d5c-0000-4000-8000-000000000000"
api_key = "env:PRIME_ACCESS_KEY"
passphrase = "file:/run/credentials/exsyncd.service/prime-main.passphrase"
api_secret = "file:/run/credentials/exsyncd.service/prime-main.signing-key"

[streams]                             # stream = sync interval
balances = "15m"                      # trading, vault and Prime custody wallets
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"                         # every portfolio transaction, signed

[candles]
symbols = ["BTC/USD", "ETH/USD"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 30m 1h 2h 6h 1d
interval = "1h"                       # sync interval of the candles stream

[options]
page_limit = 1000                     # items per list request (max 3000)
"#
    .to_owned()
}
