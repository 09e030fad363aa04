//! Configuration for the `gateio` connector.
//!
//! [`GateioConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `adjust_clock` (default true): correct our timestamps by Gate's server clock, measured
//!   from `GET /spot/time` when Gate rejects a timestamp (`REQUEST_EXPIRED`, more than 60 s
//!   off), then retry once; a second rejection is a `clock` error. Off, the first rejection is
//!   a `clock` error that tells the measured offset, for an operator who wants a drifting host
//!   clock fixed (NTP) rather than followed;
//! * `transfer_overlap_days` (1..=30, default 7): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late.
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false skips the open-order request after each orders walk; finished
//!   orders are still read from the history.
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{interval_of, DAY_MS, DEFAULT_TRANSFER_OVERLAP_MS, TIMEFRAMES};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct GateioConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// History start, UTC ms; `None`: as far back as Gate serves.
    pub(crate) start_ms: Option<i64>,
    /// Candle partitions: `(Gate pair, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) adjust_clock: bool,
    pub(crate) transfer_overlap_ms: i64,
    /// Whether each orders walk ends with the open-order request.
    pub(crate) poll_open_orders: bool,
}

impl fmt::Debug for GateioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateioConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("adjust_clock", &self.adjust_clock)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .field("poll_open_orders", &self.poll_open_orders)
            .finish()
    }
}

impl GateioConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<GateioConfig, PluginError> {
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
        let mut pairs = Vec::new();
        for symbol in &config.candles.symbols {
            let pair = gate_pair(symbol).ok_or_else(|| {
                PluginError::config(format!(
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USDT\""
                ))
            })?;
            pairs.push(pair);
        }
        for timeframe in &config.candles.timeframes {
            if interval_of(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Gate interval (one of {})",
                    known.join(", ")
                )));
            }
        }
        let mut candles = Vec::new();
        for pair in &pairs {
            for timeframe in &config.candles.timeframes {
                candles.push((pair.clone(), timeframe.clone()));
            }
        }

        let mut adjust_clock = true;
        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        let mut poll_open_orders = true;
        for (name, value) in &config.options {
            match name.as_str() {
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
                                    "option `transfer_overlap_days` is {value}; it must be an \
                                 integer from 1 to 30"
                                ))
                            })?;
                    transfer_overlap_ms = days * DAY_MS;
                }
                "poll_open_orders" => {
                    poll_open_orders = exsync_plugin_api::option_bool("poll_open_orders", value)?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the gateio plugin knows `poll_open_orders`, `adjust_clock` and \
                         `transfer_overlap_days`)"
                    )))
                }
            }
        }

        Ok(GateioConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config.start_ms,
            candles,
            adjust_clock,
            transfer_overlap_ms,
            poll_open_orders,
        })
    }
}

/// `"BTC/USDT"` → `"BTC_USDT"`, Gate's currency pair.
pub(crate) fn gate_pair(symbol: &str) -> Option<String> {
    let (base, quote) = symbol.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
    (ok(base) && ok(quote)).then(|| format!("{base}_{quote}"))
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/gateio-main.toml: one Gate.io account (APIv4).
exchange = "gateio"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: Gate's testnet (testnet keys)
start = "2025-01-01"                  # optional: history start

[credentials]
# Create an APIv4 key on gate.io (API Management) with read-only permissions.
api_key = "env:GATEIO_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/gateio-main.secret"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 30m 1h 4h 8h 1d
interval = "1h"                       # sync interval of the candles stream

[options]
adjust_clock = true                   # false: fail with `clock` instead of following Gate's clock
transfer_overlap_days = 7             # deposits/withdrawals re-read at least this far back
"#
    .to_owned()
}
