//! Configuration for the `deribit` connector.
//!
//! [`DeribitConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `adjust_clock` (default true): correct our timestamps by Deribit's server clock,
//!   measured from `public/get_time` when Deribit rejects a timestamp, then retry once; a
//!   second rejection is a `clock` error. Off, the first rejection is a `clock` error that
//!   tells the measured offset;
//! * `transfer_overlap_days` (1..=30, default 7): how far back a caught-up deposit,
//!   withdrawal or order sync reads again, at least, for what settles late.
//!
//! Any other option is refused, so a typo does not go unnoticed. `[candles]` symbols are
//! either unified spot pairs (`BTC/USDT` → `BTC_USDT`) or Deribit instrument names as they are
//! (`BTC-PERPETUAL`, `ETH-27DEC24`).

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{resolution_of, DAY_MS, DEFAULT_TRANSFER_OVERLAP_MS, TIMEFRAMES};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DeribitConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    /// The Client ID.
    pub(crate) api_key: String,
    /// The Client Secret.
    pub(crate) api_secret: String,
    /// History start, UTC ms; `None`: all of it.
    pub(crate) start_ms: Option<i64>,
    /// Candle partitions: `(instrument, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) adjust_clock: bool,
    pub(crate) transfer_overlap_ms: i64,
}

impl fmt::Debug for DeribitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeribitConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("adjust_clock", &self.adjust_clock)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .finish()
    }
}

impl DeribitConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<DeribitConfig, PluginError> {
        let api_key = config.credential("api_key")?.trim().to_owned();
        let api_secret = config.credential("api_secret")?.trim().to_owned();
        if api_key.is_empty() {
            return Err(PluginError::config(
                "credential `api_key` (Client ID) is empty",
            ));
        }
        if api_secret.is_empty() {
            return Err(PluginError::config(
                "credential `api_secret` (Client Secret) is empty",
            ));
        }
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }
        let mut instruments = Vec::new();
        for symbol in &config.candles.symbols {
            instruments.push(instrument_of(symbol).ok_or_else(|| {
                PluginError::config(format!(
                    "candles symbol {symbol:?} is neither a unified pair like \"BTC/USDT\" nor a \
                     Deribit instrument like \"BTC-PERPETUAL\""
                ))
            })?);
        }
        for timeframe in &config.candles.timeframes {
            if resolution_of(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Deribit resolution (one of {})",
                    known.join(", ")
                )));
            }
        }
        let mut candles = Vec::new();
        for instrument in &instruments {
            for timeframe in &config.candles.timeframes {
                candles.push((instrument.clone(), timeframe.clone()));
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
                        "unknown option `{other}` (the deribit plugin knows `adjust_clock` and \
                         `transfer_overlap_days`)"
                    )))
                }
            }
        }

        Ok(DeribitConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config.start_ms,
            candles,
            adjust_clock,
            transfer_overlap_ms,
        })
    }
}

/// The Deribit instrument a `[candles]` symbol names: `"BTC/USDT"` → `BTC_USDT`; a name
/// without `/` (`BTC-PERPETUAL`) as it is.
pub(crate) fn instrument_of(symbol: &str) -> Option<String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    match symbol.split_once('/') {
        Some((base, quote)) if ok(base) && ok(quote) && !quote.contains('/') => {
            Some(format!("{base}_{quote}"))
        }
        Some(_) => None,
        None => ok(symbol).then(|| symbol.to_owned()),
    }
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/deribit-main.toml: one Deribit account (API v2).
exchange = "deribit"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: https://test.deribit.com (testnet keys)
start = "2024-01-01"                  # optional: history start

[credentials]
# Create a read-only API key on deribit.com: Account, API (scopes account:read,
# trade:read, wallet:read).
api_key = "env:DERIBIT_CLIENT_ID"
api_secret = "file:/run/credentials/exsyncd.service/deribit-main.secret"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT", "BTC-PERPETUAL"]   # unified spot pairs or Deribit instrument names
timeframes = ["1h", "1d"]             # 1m 3m 5m 10m 15m 30m 1h 2h 3h 6h 12h 1d
interval = "1h"

[options]
adjust_clock = true                   # false: fail with `clock` instead of following Deribit's clock
transfer_overlap_days = 7             # deposits/withdrawals/orders re-read at least this far back
"#
    .to_owned()
}
