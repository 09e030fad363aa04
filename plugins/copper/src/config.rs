//! Configuration for the `copper` connector.
//!
//! [`CopperConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. Credentials: `api_key` (Copper's "API Key") and `api_secret` ("API Secret").
//! The integration's `[options]` table may hold:
//!
//! * `page_limit` (1..=1000, default 1000): the `limit` of every list request.
//!
//! Any other option is refused, so a typo does not go unnoticed. `sandbox = true` selects
//! Copper's demo environment. Copper has no market data, so a `[candles]` table is refused.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CopperConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// The configured history start, UTC ms; `None`: as far back as Copper serves.
    pub(crate) start_ms: Option<i64>,
    pub(crate) page_limit: usize,
}

impl fmt::Debug for CopperConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopperConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("page_limit", &self.page_limit)
            .finish()
    }
}

fn required(config: &ConnectorConfig, name: &str) -> Result<String, PluginError> {
    let value = config.credential(name)?.trim().to_owned();
    if value.is_empty() {
        return Err(PluginError::config(format!("credential `{name}` is empty")));
    }
    Ok(value)
}

impl CopperConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<CopperConfig, PluginError> {
        let api_key = required(config, "api_key")?;
        let api_secret = required(config, "api_secret")?;
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }
        if !config.candles.symbols.is_empty() || !config.candles.timeframes.is_empty() {
            return Err(PluginError::unsupported(
                "Copper publishes no OHLCV candles; remove the [candles] table",
            ));
        }
        let mut page_limit = DEFAULT_PAGE_LIMIT;
        for (name, value) in &config.options {
            match name.as_str() {
                "page_limit" => {
                    page_limit = value
                        .as_u64()
                        .and_then(|v| usize::try_from(v).ok())
                        .filter(|v| (1..=MAX_PAGE_LIMIT).contains(v))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `page_limit` is {value}; it must be an integer from 1 \
                                 to {MAX_PAGE_LIMIT}"
                            ))
                        })?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the copper plugin knows `page_limit`)"
                    )))
                }
            }
        }
        Ok(CopperConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config.start_ms,
            page_limit,
        })
    }
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/copper-main.toml: one Copper organization.
exchange = "copper"
# base_url = "http://127.0.0.1:8080/platform"  # optional: a proxy or a local simulator
sandbox = false                       # true: Copper's demo environment
start = "2023-01-01"                  # optional: history start; default: all of it

[credentials]
# Create a read-only API key in the Copper platform (Settings, API keys).
api_key = "env:COPPER_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/copper-main.secret"

[streams]                             # stream = sync interval
balances = "15m"                      # every wallet of every portfolio
trades = "1h"                         # executed buy/sell settlement orders
orders = "1h"                         # buy/sell settlement orders, every status
deposits = "6h"
withdrawals = "6h"
ledger = "1h"                         # every executed order, signed
# Copper has no candles.

[options]
page_limit = 1000                     # items per list request (max 1000)
"#
    .to_owned()
}
