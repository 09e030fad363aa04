//! Configuration for the `gemini` connector.
//!
//! [`GeminiConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `account` (a string): the account within a group, for a master API key (Gemini requires
//!   it in every payload of a master key; an account-scoped key must not send it).
//!
//! Any other option is refused, so a typo does not go unnoticed. `sandbox = true` sends
//! requests to Gemini's sandbox (its own accounts and keys).

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{time_frame, GEMINI_LAUNCH_MS, TIMEFRAMES};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct GeminiConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// History start, UTC ms: the configured start, never before Gemini's first trade.
    pub(crate) start_ms: i64,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    /// The account of a master key, sent in every payload.
    pub(crate) account: Option<String>,
}

impl fmt::Debug for GeminiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("account", &self.account)
            .finish()
    }
}

impl GeminiConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<GeminiConfig, PluginError> {
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
            if time_frame(timeframe).is_none() {
                let known: Vec<&str> = TIMEFRAMES.iter().map(|(t, _, _)| *t).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Gemini time frame (one of {})",
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
        let mut account = None;
        for (name, value) in &config.options {
            match name.as_str() {
                "account" => {
                    let name = value
                        .as_str()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `account` is {value}; it must be the account's short \
                                 name, like \"primary\""
                            ))
                        })?;
                    account = Some(name.to_owned());
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the gemini plugin knows `account`)"
                    )))
                }
            }
        }
        Ok(GeminiConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config
                .start_ms
                .unwrap_or(GEMINI_LAUNCH_MS)
                .max(GEMINI_LAUNCH_MS),
            candles,
            account,
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
    r#"# integrations.d/gemini-main.toml: one Gemini exchange account (REST v1).
exchange = "gemini"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: Gemini's sandbox (sandbox keys)
start = "2022-01-01"                  # optional: history start

[credentials]
# Create an account-scoped API key with the Auditor role on gemini.com: Settings, API.
api_key = "env:GEMINI_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/gemini-main.secret"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
# ledger = "6h"                       # needs a master-scoped key and options.account

[candles]
symbols = ["BTC/USD", "ETH/USD"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 30m 1h 6h 1d
interval = "1h"

# [options]
# account = "primary"                 # only for a master key (the ledger needs one): the account to sync
"#
    .to_owned()
}
