//! Configuration for the `okx` connector.
//!
//! [`OkxConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `max_clock_offset_ms` (0..=3600000, default 900000): the largest difference between
//!   this host's clock and OKX's that the connector corrects. Within it, requests are stamped
//!   with OKX's time (measured with `GET /api/v5/public/time`); beyond it, every signed
//!   request fails with a `clock` error, since a host clock that far off also skews every
//!   other time the daemon records. The default corrects minutes of skew (OKX itself accepts
//!   30 s); 30000 or less makes a host clock drifting past OKX's tolerance an error instead;
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false skips the open-order lists (`orders-pending`, `orders-algo-pending`)
//!   after each history walk; finished orders are still read from the histories;
//! * `internal_transfers` (bool, default true; from `[streams.transfers] include`): accepted
//!   and without effect: the deposit and withdrawal histories hold no funds transfers between
//!   the account's own accounts (`asset/transfer`), and the ledger keeps every bill.
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{bar, OKX_EPOCH_MS, TIMEFRAMES};

/// The largest `max_clock_offset_ms` accepted: an hour.
const MAX_CLOCK_OFFSET_LIMIT_MS: i64 = 3_600_000;
/// The default `max_clock_offset_ms`: a host clock minutes off is followed, not refused
/// (issue 9), while one a quarter of an hour off is more likely wrong than skewed.
const DEFAULT_MAX_CLOCK_OFFSET_MS: i64 = 900_000;

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OkxConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    /// Demo trading: the `x-simulated-trading: 1` header on every request.
    pub(crate) demo: bool,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    pub(crate) passphrase: String,
    /// The sub-account this key must belong to, if configured.
    pub(crate) sub_account: Option<String>,
    /// History start, UTC ms: the configured start, never before OKX's.
    pub(crate) start_ms: i64,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) max_clock_offset_ms: i64,
    /// Whether the open-order lists are read after each orders history walk.
    pub(crate) poll_open_orders: bool,
}

impl fmt::Debug for OkxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OkxConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("demo", &self.demo)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("sub_account", &self.sub_account)
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("max_clock_offset_ms", &self.max_clock_offset_ms)
            .field("poll_open_orders", &self.poll_open_orders)
            .finish()
    }
}

impl OkxConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<OkxConfig, PluginError> {
        let required = |name: &str| -> Result<String, PluginError> {
            let value = config.credential(name)?.trim().to_owned();
            if value.is_empty() {
                return Err(PluginError::config(format!("credential `{name}` is empty")));
            }
            Ok(value)
        };
        let api_key = required("api_key")?;
        let api_secret = required("api_secret")?;
        let passphrase = required("passphrase")?;
        let sub_account = config
            .credentials
            .get("sub_account")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }

        for symbol in &config.candles.symbols {
            if split_unified(symbol).is_none() {
                return Err(PluginError::config(format!(
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USDT\""
                )));
            }
        }
        for timeframe in &config.candles.timeframes {
            if bar(timeframe).is_none() {
                let names: Vec<&str> = TIMEFRAMES.iter().map(|(n, _, _)| *n).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not an OKX bar (one of {})",
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
        let mut poll_open_orders = true;
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
                "poll_open_orders" => {
                    poll_open_orders = exsync_plugin_api::option_bool("poll_open_orders", value)?;
                }
                // No internal transfers are synced as deposits or withdrawals.
                "internal_transfers" => {
                    exsync_plugin_api::option_bool("internal_transfers", value)?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the okx plugin knows `max_clock_offset_ms`, \
                         `poll_open_orders` and `internal_transfers`)"
                    )))
                }
            }
        }

        Ok(OkxConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            demo: config.sandbox,
            api_key,
            api_secret,
            passphrase,
            sub_account,
            start_ms: config.start_ms.unwrap_or(OKX_EPOCH_MS).max(OKX_EPOCH_MS),
            candles,
            max_clock_offset_ms,
            poll_open_orders,
        })
    }
}

/// `"BTC/USDT"` → `("BTC", "USDT")`.
pub(crate) fn split_unified(symbol: &str) -> Option<(&str, &str)> {
    let (base, quote) = symbol.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (ok(base) && ok(quote)).then_some((base, quote))
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/okx-main.toml: one OKX account (API v5).
exchange = "okx"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: demo trading (demo API keys; same host)
start = "2024-01-01"                  # optional: history start; fills, orders and bills reach 3 months

[credentials]
# Create a read-only API key on okx.com: API, "Read" permission only.
api_key = "env:OKX_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/okx-main.secret"
passphrase = "file:/run/credentials/exsyncd.service/okx-main.passphrase"
# sub_account = "trading-desk-1"      # optional: check that the key belongs to this sub-account

[streams]                             # stream = sync interval
balances = "15m"                      # trading, funding and Simple Earn accounts
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"                         # bills of the trading and funding accounts

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 2d 1w (UTC bars)
interval = "1h"

[options]
max_clock_offset_ms = 900000          # clock skew corrected at most (OKX accepts 30 s)
"#
    .to_owned()
}
