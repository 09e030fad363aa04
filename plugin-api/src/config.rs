//! What the host tells a connector, and what a connector reports back about the account.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The configuration of one integration, as its connector receives it.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq)]
pub struct ConnectorConfig {
    /// The integration's name (its file name): for log lines only.
    pub integration: String,
    /// Where to send requests: the integration's override, else the sandbox or default URL
    /// of the manifest. No trailing slash.
    pub base_url: String,
    #[serde(default)]
    pub sandbox: bool,
    /// How far back history goes, UTC ms; `None` means as far as the exchange keeps it.
    #[serde(default)]
    pub start_ms: Option<i64>,
    /// Credential values by manifest field name. Never log these.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    #[serde(default)]
    pub candles: CandleConfig,
    /// The integration's free-form `[options]` table.
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// An `[options]` value that must be a boolean (`poll_open_orders`, `internal_transfers`), or
/// a `config` error that names the option and what it was given.
pub fn option_bool(name: &str, value: &serde_json::Value) -> Result<bool, crate::PluginError> {
    value.as_bool().ok_or_else(|| {
        crate::PluginError::config(format!(
            "option `{name}` is {value}; it must be true or false"
        ))
    })
}

impl ConnectorConfig {
    /// A credential by name, or a `config` error that names the missing field.
    pub fn credential(&self, name: &str) -> Result<&str, crate::PluginError> {
        self.credentials
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| {
                crate::PluginError::config(format!("credential `{name}` is not configured"))
            })
    }
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("sandbox", &self.sandbox)
            .field("start_ms", &self.start_ms)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .field("candles", &self.candles)
            .field("options", &self.options)
            .finish()
    }
}

/// Which candles to keep: every symbol in every timeframe.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CandleConfig {
    /// Unified symbols, `BTC/USDT`.
    #[serde(default)]
    pub symbols: Vec<String>,
    #[serde(default)]
    pub timeframes: Vec<String>,
}

/// What the host already knows when it asks a connector for a stream's partitions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionContext {
    /// Native asset codes this account is known to have touched: from stored balances,
    /// deposits, withdrawals, and both sides and the fee of stored trades.
    #[serde(default)]
    pub assets: Vec<String>,
    /// Partitions of this stream that already have a cursor.
    #[serde(default)]
    pub known: Vec<String>,
}

/// What the key may do, where the exchange says. `None`: the exchange does not tell.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    pub read: Option<bool>,
    pub trade: Option<bool>,
    pub withdraw: Option<bool>,
}

/// The result of [`crate::Connector::check`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The account as the exchange names it (uid, account id, e-mail...).
    pub account: String,
    pub permissions: Permissions,
    /// Exchange clock minus our clock, in ms, where the exchange tells its time.
    #[serde(default)]
    pub clock_offset_ms: Option<i64>,
    /// Anything else worth showing the operator.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_credential_values() {
        let mut c = ConnectorConfig::default();
        c.credentials
            .insert("api_secret".into(), "s3cr3t-value".into());
        let shown = format!("{c:?}");
        assert!(shown.contains("api_secret"));
        assert!(!shown.contains("s3cr3t-value"));
    }

    #[test]
    fn missing_credential_is_a_config_error_naming_it() {
        let err = ConnectorConfig::default()
            .credential("api_key")
            .unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::CONFIG);
        assert!(err.message.contains("api_key"));
    }
}
