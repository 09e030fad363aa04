//! Configuration for the `bybit` connector.
//!
//! [`BybitConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `recv_window_ms` (1..=60000, default 5000): how long after its timestamp Bybit may accept
//!   a signed request;
//! * `adjust_clock` (default true): correct our timestamps by Bybit's server clock, measured
//!   from `GET /v5/market/time` when Bybit rejects a timestamp (10002), then retry once; a
//!   second rejection is a `clock` error. Off, the first rejection is a `clock` error that
//!   tells the measured offset, for an operator who wants a drifting host clock fixed (NTP)
//!   rather than followed;
//! * `transfer_overlap_days` (1..=30, default 7): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late;
//! * `candle_category` (`spot`, `linear` or `inverse`; default `spot`): the market whose
//!   candles the `[candles]` symbols name.
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false skips the open-order request after each orders walk; finished
//!   orders are still read from the history.
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{
    interval_of, DAY_MS, DEFAULT_RECV_WINDOW_MS, DEFAULT_TRANSFER_OVERLAP_MS, MAX_RECV_WINDOW_MS,
    TIMEFRAMES,
};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BybitConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// History start, UTC ms; `None`: as far back as Bybit keeps history (two years).
    pub(crate) start_ms: Option<i64>,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) candle_category: String,
    pub(crate) recv_window_ms: u64,
    pub(crate) adjust_clock: bool,
    pub(crate) transfer_overlap_ms: i64,
    /// Whether each orders walk ends with the open-order request.
    pub(crate) poll_open_orders: bool,
}

impl fmt::Debug for BybitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BybitConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("candle_category", &self.candle_category)
            .field("recv_window_ms", &self.recv_window_ms)
            .field("adjust_clock", &self.adjust_clock)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .field("poll_open_orders", &self.poll_open_orders)
            .finish()
    }
}

impl BybitConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<BybitConfig, PluginError> {
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
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USDT\""
                )));
            }
        }
        for timeframe in &config.candles.timeframes {
            if interval_of(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Bybit interval (one of {})",
                    known.join(", ")
                )));
            }
        }
        let mut candles = Vec::new();
        for symbol in &config.candles.symbols {
            for timeframe in &config.candles.timeframes {
                candles.push((symbol.clone(), timeframe.clone()));
            }
        }

        let mut recv_window_ms = DEFAULT_RECV_WINDOW_MS;
        let mut adjust_clock = true;
        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        let mut candle_category = "spot".to_owned();
        let mut poll_open_orders = true;
        for (name, value) in &config.options {
            match name.as_str() {
                "recv_window_ms" => {
                    recv_window_ms = value
                        .as_u64()
                        .filter(|v| (1..=MAX_RECV_WINDOW_MS).contains(v))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `recv_window_ms` is {value}; it must be an integer from 1 \
                                 to {MAX_RECV_WINDOW_MS}"
                            ))
                        })?;
                }
                "adjust_clock" => {
                    adjust_clock = exsync_plugin_api::option_bool("adjust_clock", value)?;
                }
                "transfer_overlap_days" => {
                    let days =
                        value
                            .as_i64()
                            .filter(|d| (1..=30).contains(d))
                            .ok_or_else(|| {
                                PluginError::config(format!(
                                "option `transfer_overlap_days` is {value}; it must be an integer \
                                 from 1 to 30"
                            ))
                            })?;
                    transfer_overlap_ms = days * DAY_MS;
                }
                "candle_category" => {
                    candle_category = value
                        .as_str()
                        .filter(|c| matches!(*c, "spot" | "linear" | "inverse"))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `candle_category` is {value}; it must be \"spot\", \
                                 \"linear\" or \"inverse\""
                            ))
                        })?
                        .to_owned();
                }
                "poll_open_orders" => {
                    poll_open_orders = exsync_plugin_api::option_bool("poll_open_orders", value)?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the bybit plugin knows `poll_open_orders`, `recv_window_ms`, \
                         `adjust_clock`, `transfer_overlap_days` and `candle_category`)"
                    )))
                }
            }
        }

        Ok(BybitConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config.start_ms,
            candles,
            candle_category,
            recv_window_ms,
            adjust_clock,
            transfer_overlap_ms,
            poll_open_orders,
        })
    }
}

/// `"BTC/USDT"` → `("BTC", "USDT")`.
pub(crate) fn split_unified(symbol: &str) -> Option<(&str, &str)> {
    let (base, quote) = symbol.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && !s.contains('/') && !s.contains(char::is_whitespace);
    (ok(base) && ok(quote)).then_some((base, quote))
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/bybit-main.toml: one Bybit account (v5 API).
exchange = "bybit"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: https://api-testnet.bybit.com (testnet keys)
start = "2025-01-01"                  # optional: history start; Bybit keeps two years

[credentials]
# Create a read-only system-generated (HMAC) API key on bybit.com: API Management.
api_key = "env:BYBIT_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/bybit-main.secret"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w 1M
interval = "1h"                       # sync interval of the candles stream

[options]
recv_window_ms = 5000                 # how long a signed request stays valid
adjust_clock = true                   # false: fail with `clock` instead of following Bybit's clock
transfer_overlap_days = 7             # deposits/withdrawals re-read at least this far back
candle_category = "spot"              # spot, linear or inverse
"#
    .to_owned()
}
