//! Configuration for the `kraken` connector.
//!
//! [`KrakenConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `transfer_overlap_days` (1..=90, default 7): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late;
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false drops the orders partition `open` (no `OpenOrders` request); closed
//!   orders are still walked;
//! * `internal_transfers` (bool, default true; from `[streams.transfers] include`): accepted
//!   and without effect: deposits and withdrawals (`DepositStatus`, `WithdrawStatus`) hold no
//!   transfers between the account's own wallets, and the ledger keeps every entry.
//!
//! Any other option is refused, so a typo does not go unnoticed. Kraken has no spot sandbox:
//! `sandbox = true` is an `unsupported` error.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{
    timeframe_ms, DAY_MS, DEFAULT_TRANSFER_OVERLAP_MS, KRAKEN_LAUNCH_MS, TIMEFRAMES,
};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KrakenConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    /// The private key, base64 as Kraken shows it.
    pub(crate) api_secret: String,
    /// History start, UTC ms: the configured start, never before Kraken's launch.
    pub(crate) start_ms: i64,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) transfer_overlap_ms: i64,
    /// Whether the orders stream has its `open` partition (`OpenOrders`).
    pub(crate) poll_open_orders: bool,
}

impl fmt::Debug for KrakenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KrakenConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .field("poll_open_orders", &self.poll_open_orders)
            .finish()
    }
}

impl KrakenConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<KrakenConfig, PluginError> {
        if config.sandbox {
            return Err(PluginError::unsupported(
                "Kraken has no spot sandbox; set `sandbox = false` (a `base_url` override can \
                 point at a proxy or a simulator)",
            ));
        }
        let api_key = config.credential("api_key")?.trim().to_owned();
        let api_secret = config.credential("api_secret")?.trim().to_owned();
        if api_key.is_empty() {
            return Err(PluginError::config("credential `api_key` is empty"));
        }
        if api_secret.is_empty() {
            return Err(PluginError::config("credential `api_secret` is empty"));
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
            if timeframe_ms(timeframe).is_none() {
                let names: Vec<&str> = TIMEFRAMES.iter().map(|(n, _)| *n).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Kraken OHLC interval (one of {})",
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

        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        let mut poll_open_orders = true;
        for (name, value) in &config.options {
            match name.as_str() {
                "transfer_overlap_days" => {
                    let days =
                        value
                            .as_i64()
                            .filter(|d| (1..=90).contains(d))
                            .ok_or_else(|| {
                                PluginError::config(format!(
                                    "option `transfer_overlap_days` is {value}; it must be an \
                                 integer from 1 to 90"
                                ))
                            })?;
                    transfer_overlap_ms = days * DAY_MS;
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
                        "unknown option `{other}` (the kraken plugin knows \
                         `transfer_overlap_days`, `poll_open_orders` and `internal_transfers`)"
                    )))
                }
            }
        }

        Ok(KrakenConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config
                .start_ms
                .unwrap_or(KRAKEN_LAUNCH_MS)
                .max(KRAKEN_LAUNCH_MS),
            candles,
            transfer_overlap_ms,
            poll_open_orders,
        })
    }
}

/// `"BTC/USD"` → `("BTC", "USD")`.
pub(crate) fn split_unified(symbol: &str) -> Option<(&str, &str)> {
    let (base, quote) = symbol.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && !s.contains('/') && !s.contains(char::is_whitespace);
    (ok(base) && ok(quote)).then_some((base, quote))
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/kraken-main.toml: one Kraken (spot) account.
exchange = "kraken"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # Kraken has no spot sandbox
start = "2020-01-01"                  # optional: history start; default 2013-09-10, Kraken's launch

[credentials]
# Create an API key on kraken.com (Settings, API) with "Query Funds", "Query Open Orders &
# Trades", "Query Closed Orders & Trades" and "Query Ledger Entries" only. Give exsync a key
# of its own: Kraken wants every nonce of a key above the last one.
api_key = "env:KRAKEN_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/kraken-main.secret"   # the private key

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USD", "ETH/EUR"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 30m 1h 4h 1d 1w 15d; only the last 720 are served
interval = "1h"                       # sync interval of the candles stream

[options]
transfer_overlap_days = 7             # deposits/withdrawals re-read at least this far back
"#
    .to_owned()
}
