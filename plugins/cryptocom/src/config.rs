//! Configuration for the `cryptocom` connector.
//!
//! [`CryptocomConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `transfer_overlap_days` (1..=90, default 7): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late;
//! * `staking` (default true): also read staking positions as the `earn` wallet and staking
//!   rewards into the ledger;
//! * `subaccounts` (default true): also read the sub-accounts' balances (master key only),
//!   each as the wallet `subaccount:{uuid}`.
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false skips the open-order request after each orders walk; finished
//!   orders are still read from the history.
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{timeframe_of, DAY_MS, DEFAULT_TRANSFER_OVERLAP_MS, TIMEFRAMES};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CryptocomConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// History start, UTC ms; `None`: as far back as the exchange serves.
    pub(crate) start_ms: Option<i64>,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) transfer_overlap_ms: i64,
    pub(crate) staking: bool,
    pub(crate) subaccounts: bool,
    /// Whether each orders walk ends with the open-order request.
    pub(crate) poll_open_orders: bool,
}

impl fmt::Debug for CryptocomConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptocomConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .field("staking", &self.staking)
            .field("subaccounts", &self.subaccounts)
            .field("poll_open_orders", &self.poll_open_orders)
            .finish()
    }
}

impl CryptocomConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<CryptocomConfig, PluginError> {
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
            if timeframe_of(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Crypto.com timeframe (one of {})",
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

        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        let mut staking = true;
        let mut subaccounts = true;
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
                "staking" => {
                    staking = exsync_plugin_api::option_bool("staking", value)?;
                }
                "subaccounts" => {
                    subaccounts = exsync_plugin_api::option_bool("subaccounts", value)?;
                }
                "poll_open_orders" => {
                    poll_open_orders = exsync_plugin_api::option_bool("poll_open_orders", value)?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the cryptocom plugin knows `poll_open_orders`, \
                         `transfer_overlap_days`, `staking` and `subaccounts`)"
                    )))
                }
            }
        }

        Ok(CryptocomConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config.start_ms,
            candles,
            transfer_overlap_ms,
            staking,
            subaccounts,
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
    r#"# integrations.d/cryptocom-main.toml: one Crypto.com Exchange account (v1 API).
exchange = "cryptocom"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: the UAT sandbox (UAT keys)
start = "2025-01-01"                  # optional: history start

[credentials]
# Create a read-only API key on the Crypto.com Exchange: Settings, API Keys.
api_key = "env:CRYPTOCOM_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/cryptocom-main.secret"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 30m 1h 2h 4h 12h 1d 1w 2w 1M
interval = "1h"                       # sync interval of the candles stream

[options]
transfer_overlap_days = 7             # deposits/withdrawals re-read at least this far back
staking = true                        # staking positions (`earn` wallet) and rewards (ledger)
subaccounts = true                    # sub-accounts' balances (master key only)
"#
    .to_owned()
}
