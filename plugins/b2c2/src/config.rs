//! Configuration for the `b2c2` connector.
//!
//! [`B2c2Config`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The one credential is B2C2's API token, in the `api_key` role. The integration's
//! `[options]` table may hold:
//!
//! * `page_limit` (1..=1000, default 1000): the `limit` of every list request.
//!
//! Any other option is refused, so a typo does not go unnoticed. `sandbox = true` selects
//! B2C2's UAT environment. B2C2 serves no candles: a `[candles]` table is refused.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct B2c2Config {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) sandbox: bool,
    pub(crate) token: String,
    /// The configured history start, UTC ms.
    pub(crate) start_ms: Option<i64>,
    pub(crate) page_limit: usize,
}

impl fmt::Debug for B2c2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("B2c2Config")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("sandbox", &self.sandbox)
            .field("api_key", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("page_limit", &self.page_limit)
            .finish()
    }
}

impl B2c2Config {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<B2c2Config, PluginError> {
        let token = config.credential("api_key")?.trim().to_owned();
        if token.is_empty() {
            return Err(PluginError::config(
                "credential `api_key` (API token) is empty",
            ));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PluginError::config(
                "credential `api_key` (API token) holds whitespace; B2C2 tokens are one word",
            ));
        }
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }
        if !config.candles.symbols.is_empty() || !config.candles.timeframes.is_empty() {
            return Err(PluginError::unsupported(
                "B2C2 publishes no OHLCV candles; remove the [candles] table",
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
                        "unknown option `{other}` (the b2c2 plugin knows `page_limit`)"
                    )))
                }
            }
        }
        Ok(B2c2Config {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            sandbox: config.sandbox,
            token,
            start_ms: config.start_ms,
            page_limit,
        })
    }
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/b2c2-main.toml: one B2C2 account.
exchange = "b2c2"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: B2C2's UAT environment (its own token)
start = "2023-01-01"                  # optional: history start

[credentials]
# The API token from B2C2's web portal (API tokens); production also needs the daemon's
# address on the token's IP whitelist.
api_key = "file:/run/credentials/exsyncd.service/b2c2-main.token"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
withdrawals = "6h"
ledger = "1h"                         # trades, transfers (deposits too), funding
# B2C2 has no deposits endpoint (deposits are in the ledger) and no candles.

[options]
page_limit = 1000                     # items per list request (max 1000)
"#
    .to_owned()
}
