//! Configuration for the `coinbase-exchange` connector.
//!
//! [`CoinbaseExchangeConfig`] is the integration's [`ConnectorConfig`] checked and completed
//! with defaults. The integration's `[options]` table may hold:
//!
//! * `adjust_clock` (bool, default true): sign with Coinbase's clock (measured with
//!   `GET /time`) instead of ours, and after a rejected timestamp measure it again and sign
//!   once more; a second rejection is a `clock` error. Off, a host whose clock is off is told
//!   (a `clock` error with the offset), not corrected;
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false lets the orders walk move past orders still open instead of
//!   reading down to the oldest of them again on the next sync (`/orders?status=all` lists
//!   open and finished orders alike, so there is no separate open-orders request to drop);
//! * `internal_transfers` (bool, default true; from `[streams.transfers] include`): false
//!   drops the `internal_deposit` and `internal_withdraw` partitions (moves between the
//!   user's own profiles).
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{granularity, LAUNCH_MS, TIMEFRAMES};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct CoinbaseExchangeConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    pub(crate) passphrase: String,
    /// History start, UTC ms, as configured (default: Coinbase Exchange's launch).
    pub(crate) start_ms: i64,
    /// Candle partitions: `(product id, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) adjust_clock: bool,
    /// Whether the orders walk comes back for the oldest order still open.
    pub(crate) poll_open_orders: bool,
    /// Whether transfers between the user's own profiles are synced.
    pub(crate) internal_transfers: bool,
}

impl fmt::Debug for CoinbaseExchangeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoinbaseExchangeConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("adjust_clock", &self.adjust_clock)
            .finish()
    }
}

impl CoinbaseExchangeConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<CoinbaseExchangeConfig, PluginError> {
        let mut credentials = Vec::new();
        for name in ["api_key", "api_secret", "passphrase"] {
            let value = config.credential(name)?.trim().to_owned();
            if value.is_empty() {
                return Err(PluginError::config(format!("credential `{name}` is empty")));
            }
            credentials.push(value);
        }
        let [api_key, api_secret, passphrase]: [String; 3] = credentials
            .try_into()
            .map_err(|_| PluginError::plugin("three credentials expected"))?;
        if config.base_url.is_empty() {
            return Err(PluginError::config("the integration has no base_url"));
        }

        let mut candles = Vec::new();
        for symbol in &config.candles.symbols {
            if product_id(symbol).is_none() {
                return Err(PluginError::config(format!(
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USD\""
                )));
            }
        }
        for timeframe in &config.candles.timeframes {
            if granularity(timeframe).is_none() {
                let names: Vec<&str> = TIMEFRAMES.iter().map(|(n, _)| *n).collect();
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Coinbase Exchange granularity (one \
                     of {})",
                    names.join(", ")
                )));
            }
        }
        for symbol in &config.candles.symbols {
            for timeframe in &config.candles.timeframes {
                candles.push((product_id(symbol).unwrap_or_default(), timeframe.clone()));
            }
        }

        let mut adjust_clock = true;
        let mut poll_open_orders = true;
        let mut internal_transfers = true;
        for (name, value) in &config.options {
            match name.as_str() {
                "adjust_clock" => {
                    adjust_clock = exsync_plugin_api::option_bool("adjust_clock", value)?;
                }
                "poll_open_orders" | "internal_transfers" => {
                    let on = exsync_plugin_api::option_bool(name, value)?;
                    if name == "poll_open_orders" {
                        poll_open_orders = on;
                    } else {
                        internal_transfers = on;
                    }
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the coinbase-exchange plugin knows \
                         `adjust_clock`, `poll_open_orders` and `internal_transfers`)"
                    )))
                }
            }
        }

        Ok(CoinbaseExchangeConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            passphrase,
            start_ms: config.start_ms.unwrap_or(LAUNCH_MS),
            candles,
            adjust_clock,
            poll_open_orders,
            internal_transfers,
        })
    }
}

/// `"BTC/USD"` → `"BTC-USD"`, Coinbase's product id.
pub(crate) fn product_id(symbol: &str) -> Option<String> {
    let (base, quote) = symbol.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && !s.contains(['/', '-']) && !s.contains(char::is_whitespace);
    (ok(base) && ok(quote)).then(|| format!("{base}-{quote}"))
}

/// An example integration file for this plugin, as `exsyncctl` and the docs show it.
pub fn generate_config() -> String {
    r#"# integrations.d/coinbase-exchange-main.toml: one Coinbase Exchange profile.
exchange = "coinbase-exchange"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: the public sandbox (test money)
start = "2020-01-01"                  # optional: history start; default 2015-01-26, the launch

[credentials]
# Create a key with the "View" permission only (Settings, API); it belongs to one profile.
api_key = "env:COINBASE_EXCHANGE_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/coinbase-exchange-main.secret"
passphrase = "file:/run/credentials/exsyncd.service/coinbase-exchange-main.passphrase"

[streams]                             # stream = sync interval
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"
ledger = "1h"

[candles]
symbols = ["BTC/USD", "ETH/USD"]
timeframes = ["1h", "1d"]             # 1m 5m 15m 1h 6h 1d
interval = "1h"                       # sync interval of the candles stream

[options]
adjust_clock = true                   # false: sign with this host's clock, not Coinbase's
"#
    .to_owned()
}
