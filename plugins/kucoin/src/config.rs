//! Configuration for the `kucoin` connector.
//!
//! [`KucoinConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. KuCoin has no sandbox (its old one was retired): `sandbox = true` is refused.
//! The integration's `[options]` table may hold:
//!
//! * `transfer_overlap_days` (1..=30, default 1): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late.
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{
    timeframe, DAY_MS, DEFAULT_TRANSFER_OVERLAP_MS, KUCOIN_LAUNCH_MS, TIMEFRAMES,
};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KucoinConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    pub(crate) passphrase: String,
    /// History start, UTC ms: the configured start, never before KuCoin's launch.
    pub(crate) start_ms: i64,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) transfer_overlap_ms: i64,
}

impl fmt::Debug for KucoinConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KucoinConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .finish()
    }
}

impl KucoinConfig {
    /// Checks the host's config; a `config` (or, for the sandbox, `unsupported`) error names
    /// what is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<KucoinConfig, PluginError> {
        if config.sandbox {
            return Err(PluginError::unsupported(
                "KuCoin has no sandbox (its old one was retired); set `sandbox = false`, and \
                 `base_url` for a proxy or a simulator",
            ));
        }
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
        for tf in &config.candles.timeframes {
            if timeframe(tf).is_none() {
                return Err(PluginError::config(format!(
                    "candles timeframe {tf:?} is not a KuCoin candle type (one of {})",
                    TIMEFRAMES
                        .iter()
                        .map(|(ours, _, _)| *ours)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let mut candles = Vec::new();
        for symbol in &config.candles.symbols {
            for tf in &config.candles.timeframes {
                candles.push((symbol.clone(), tf.clone()));
            }
        }

        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        for (name, value) in &config.options {
            match name.as_str() {
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
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the kucoin plugin knows \
                         `transfer_overlap_days`)"
                    )))
                }
            }
        }

        Ok(KucoinConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            passphrase,
            start_ms: config
                .start_ms
                .unwrap_or(KUCOIN_LAUNCH_MS)
                .max(KUCOIN_LAUNCH_MS),
            candles,
            transfer_overlap_ms,
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
    r#"# integrations.d/kucoin-main.toml: one KuCoin (classic spot) account.
exchange = "kucoin"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # KuCoin has no sandbox: true is refused
start = "2020-01-01"                  # optional: history start; default 2017-09-01

[credentials]
# Create an API key (version 2) on kucoin.com with the "General" permission only.
api_key = "env:KUCOIN_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/kucoin-main.secret"
passphrase = "file:/run/credentials/exsyncd.service/kucoin-main.passphrase"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 1w
interval = "1h"                       # sync interval of the candles stream

[options]
transfer_overlap_days = 1             # deposits/withdrawals re-read at least this far back
"#
    .to_owned()
}
