//! Configuration for the `bitmex` connector.
//!
//! [`BitmexConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `expires_after_s` (1..=3600, default 30): how long after signing BitMEX may accept a
//!   request (its `api-expires`);
//! * `adjust_clock` (default true): sign expiries on BitMEX's clock (measured from its
//!   server time, `GET /api/v1`, when BitMEX finds a request expired) instead of ours. Off, an
//!   expiry BitMEX finds in the past is a `clock` error that tells the measured offset;
//! * `transfer_overlap_days` (1..=30, default 7): how far back a caught-up deposit,
//!   withdrawal or ledger sync reads again, at least, for transfers that settle late;
//! * `candle_market` (`spot` or `perpetual`, default `spot`): which market the `[candles]`
//!   symbols name (`BTC/USDT` is `XBT_USDT` spot, or the `XBTUSDT` perpetual).
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{
    bin_size_of, DAY_MS, DEFAULT_EXPIRES_AFTER_S, DEFAULT_TRANSFER_OVERLAP_MS, MAX_EXPIRES_AFTER_S,
    TIMEFRAMES,
};

/// BitMEX's instrument type codes (`typ`) of the markets candles may come from.
pub(crate) const SPOT_TYPE: &str = "IFXXXP";
pub(crate) const PERPETUAL_TYPE: &str = "FFWCSX";

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BitmexConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// History start, UTC ms; `None`: as far back as BitMEX keeps history (its opening).
    pub(crate) start_ms: Option<i64>,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    /// BitMEX's `typ` of the candle market.
    pub(crate) candle_type: &'static str,
    pub(crate) expires_after_s: i64,
    pub(crate) adjust_clock: bool,
    pub(crate) transfer_overlap_ms: i64,
}

impl fmt::Debug for BitmexConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitmexConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("candle_type", &self.candle_type)
            .field("expires_after_s", &self.expires_after_s)
            .field("adjust_clock", &self.adjust_clock)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .finish()
    }
}

impl BitmexConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<BitmexConfig, PluginError> {
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
            if bin_size_of(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a BitMEX bin size (one of {})",
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

        let mut expires_after_s = DEFAULT_EXPIRES_AFTER_S;
        let mut adjust_clock = true;
        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        let mut candle_type = SPOT_TYPE;
        for (name, value) in &config.options {
            match name.as_str() {
                "expires_after_s" => {
                    expires_after_s = value
                        .as_i64()
                        .filter(|v| (1..=MAX_EXPIRES_AFTER_S).contains(v))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `expires_after_s` is {value}; it must be an integer from \
                                 1 to {MAX_EXPIRES_AFTER_S}"
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
                                    "option `transfer_overlap_days` is {value}; it must be an \
                                 integer from 1 to 30"
                                ))
                            })?;
                    transfer_overlap_ms = days * DAY_MS;
                }
                "candle_market" => {
                    candle_type = match value.as_str() {
                        Some("spot") => SPOT_TYPE,
                        Some("perpetual") => PERPETUAL_TYPE,
                        _ => {
                            return Err(PluginError::config(format!(
                                "option `candle_market` is {value}; it must be \"spot\" or \
                                 \"perpetual\""
                            )))
                        }
                    };
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the bitmex plugin knows `expires_after_s`, \
                         `adjust_clock`, `transfer_overlap_days` and `candle_market`)"
                    )))
                }
            }
        }

        Ok(BitmexConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config.start_ms,
            candles,
            candle_type,
            expires_after_s,
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
    r#"# integrations.d/bitmex-main.toml: one BitMEX account (REST API v1).
exchange = "bitmex"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: https://testnet.bitmex.com (testnet keys)
start = "2024-01-01"                  # optional: history start; BitMEX keeps all of it

[credentials]
# Create a read-only API key on bitmex.com: Account, API Keys.
api_key = "env:BITMEX_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/bitmex-main.secret"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT"]
timeframes = ["1h", "1d"]             # 1m 5m 1h 1d
interval = "1h"                       # sync interval of the candles stream

[options]
expires_after_s = 30                  # how long a signed request stays valid
adjust_clock = false                  # true: follow BitMEX's clock instead of failing with `clock`
transfer_overlap_days = 7             # wallet history re-read at least this far back
candle_market = "spot"                # spot or perpetual
"#
    .to_owned()
}
