//! Configuration for the `bitget` connector.
//!
//! [`BitgetConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. `sandbox = true` means Bitget's demo trading: the same host, demo keys, and the
//! `paptrading: 1` header on every request. The integration's `[options]` table may hold:
//!
//! * `adjust_clock` (default true): correct our timestamps by Bitget's server clock, measured
//!   from `GET /api/v2/public/time` when Bitget rejects a timestamp (40008), then retry once;
//!   a second rejection is a `clock` error. Off, the first rejection is a `clock` error that
//!   tells the measured offset, for an operator who wants a drifting host clock fixed (NTP)
//!   rather than followed;
//! * `transfer_overlap_days` (1..=30, default 7): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late.
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{granularity_of, DAY_MS, DEFAULT_TRANSFER_OVERLAP_MS, TIMEFRAMES};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BitgetConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    pub(crate) passphrase: String,
    /// Demo trading: the `paptrading: 1` header on every request.
    pub(crate) demo: bool,
    /// History start, UTC ms; `None`: as far back as Bitget serves.
    pub(crate) start_ms: Option<i64>,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) adjust_clock: bool,
    pub(crate) transfer_overlap_ms: i64,
}

impl fmt::Debug for BitgetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitgetConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("demo", &self.demo)
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("adjust_clock", &self.adjust_clock)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .finish()
    }
}

impl BitgetConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<BitgetConfig, PluginError> {
        let credential = |name: &str| -> Result<String, PluginError> {
            let value = config.credential(name)?.trim().to_owned();
            if value.is_empty() {
                return Err(PluginError::config(format!("credential `{name}` is empty")));
            }
            Ok(value)
        };
        let api_key = credential("api_key")?;
        let api_secret = credential("api_secret")?;
        let passphrase = credential("passphrase")?;
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
            if granularity_of(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Bitget granularity (one of {})",
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

        let mut adjust_clock = true;
        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
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
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the bitget plugin knows `adjust_clock` and \
                         `transfer_overlap_days`)"
                    )))
                }
            }
        }

        Ok(BitgetConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            passphrase,
            demo: config.sandbox,
            start_ms: config.start_ms,
            candles,
            adjust_clock,
            transfer_overlap_ms,
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
    r#"# integrations.d/bitget-main.toml: one Bitget account (v2 API, classic account).
exchange = "bitget"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: demo trading (demo keys; same host)
start = "2025-01-01"                  # optional: history start; fills, orders, bills: 90 days

[credentials]
# Create a read-only API key on bitget.com: API Management. Bitget calls these
# API Key, Secret Key and Passphrase.
api_key = "env:BITGET_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/bitget-main.secret"
passphrase = "file:/run/credentials/exsyncd.service/bitget-main.passphrase"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1m 3m 5m 15m 30m 1h 4h 6h 12h 1d 3d 1w 1M
interval = "1h"                       # sync interval of the candles stream

[options]
adjust_clock = true                   # false: fail with `clock` instead of following Bitget's clock
transfer_overlap_days = 7             # deposits/withdrawals re-read at least this far back
"#
    .to_owned()
}
