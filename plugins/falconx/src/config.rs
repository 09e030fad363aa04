//! Configuration for the `falconx` connector.
//!
//! [`FalconxConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. Credentials carry FalconX's own labels (API Key, Secret, Passphrase) under the
//! role names `api_key`, `api_secret` and `passphrase`. The secret is base64 (FalconX hands
//! it out that way and signs with its decoded bytes): one that does not decode is a `config`
//! error here, not an `auth` error at the first request.
//!
//! The connector takes no `[options]`; any option is refused, so a typo does not go
//! unnoticed. FalconX has no public sandbox (`sandbox = true` is `unsupported`) and no
//! candles (a `[candles]` table is `unsupported`).

use std::fmt;

use exsync_plugin_api::signing::base64_decode;
use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::FALCONX_LAUNCH_MS;

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct FalconxConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) passphrase: String,
    /// The secret, base64-decoded.
    pub(crate) secret: Vec<u8>,
    /// History start, UTC ms, if configured (never before FalconX began).
    pub(crate) start_ms: Option<i64>,
}

impl fmt::Debug for FalconxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FalconxConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
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

impl FalconxConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<FalconxConfig, PluginError> {
        if config.sandbox {
            return Err(PluginError::unsupported(
                "FalconX has no public sandbox; set `sandbox = false` (a `base_url` override \
                 still points the integration elsewhere)",
            ));
        }
        let api_key = required(config, "api_key")?;
        let passphrase = required(config, "passphrase")?;
        let secret_text = required(config, "api_secret")?;
        // The error names the field, never its value.
        let secret = base64_decode(&secret_text).map_err(|_| {
            PluginError::config(
                "credential `api_secret` (FalconX's Secret) is not base64; paste it exactly as \
                 FalconX issued it",
            )
        })?;
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }
        if !config.candles.symbols.is_empty() || !config.candles.timeframes.is_empty() {
            return Err(PluginError::unsupported(
                "FalconX is an RFQ venue with no public market data: it serves no candles; \
                 remove the [candles] table",
            ));
        }
        if let Some(name) = config.options.keys().next() {
            return Err(PluginError::config(format!(
                "unknown option `{name}` (the falconx plugin takes no options)"
            )));
        }
        Ok(FalconxConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            passphrase,
            secret,
            start_ms: config.start_ms.map(|s| s.max(FALCONX_LAUNCH_MS)),
        })
    }
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/falconx-main.toml: one FalconX account.
exchange = "falconx"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # FalconX has no public sandbox
start = "2023-01-01"                  # optional: history start; default 2018-01-01

[credentials]
# FalconX's customer success team issues the API Key, Secret (base64) and Passphrase.
api_key = "env:FALCONX_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/falconx-main.secret"
passphrase = "file:/run/credentials/exsyncd.service/falconx-main.passphrase"

[streams]                             # stream = sync interval
balances = "15m"                      # every platform, and the derivatives margin
trades = "1h"                         # executed RFQ quotes
orders = "1h"                         # quotes placed as orders
deposits = "6h"
withdrawals = "6h"
# No ledger and no candles: FalconX serves neither.
"#
    .to_owned()
}
