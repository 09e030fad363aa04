//! Configuration for the `binance` connector.
//!
//! [`BinanceConfig`] is the integration's [`ConnectorConfig`] checked and completed with
//! defaults. The integration's `[options]` table may hold:
//!
//! * `recv_window_ms` (1..=60000, default 5000): how long after its `timestamp` Binance may
//!   accept a signed request;
//! * `transfer_overlap_days` (1..=90, default 7): how far back a caught-up deposit or
//!   withdrawal sync reads again, at least, for transfers that settle late;
//! * `poll_open_orders` (bool, default true; the daemon sets it from `[streams.orders]
//!   poll_open`): false ends each orders walk after the last order, instead of coming back
//!   to the oldest order still open;
//! * `internal_transfers` (bool, default true; from `[streams.transfers] include`): accepted
//!   and without effect, as this connector syncs no internal transfers (`capital/deposit`
//!   and `capital/withdraw` list on-chain and off-chain moves in and out of the account;
//!   universal transfers between its own wallets are not read).
//!
//! Any other option is refused, so a typo does not go unnoticed.

use std::fmt;

use exsync_plugin_api::{ConnectorConfig, PluginError};

use crate::endpoints::{
    BINANCE_LAUNCH_MS, DAY_MS, DEFAULT_RECV_WINDOW_MS, DEFAULT_TRANSFER_OVERLAP_MS,
    MAX_RECV_WINDOW_MS, TIMEFRAMES,
};

/// One integration's settings, validated.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct BinanceConfig {
    /// The integration's name, for log lines.
    pub(crate) integration: String,
    /// Where requests go (already resolved by the host), without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    /// History start, UTC ms: the configured start, never before Binance's launch.
    pub(crate) start_ms: i64,
    /// Candle partitions: `(unified symbol, timeframe)`, every symbol in every timeframe.
    pub(crate) candles: Vec<(String, String)>,
    pub(crate) recv_window_ms: u64,
    pub(crate) transfer_overlap_ms: i64,
    /// Whether orders walks come back for the oldest order still open.
    pub(crate) poll_open_orders: bool,
}

impl fmt::Debug for BinanceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceConfig")
            .field("integration", &self.integration)
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("start_ms", &self.start_ms)
            .field("candles", &self.candles)
            .field("recv_window_ms", &self.recv_window_ms)
            .field("transfer_overlap_ms", &self.transfer_overlap_ms)
            .field("poll_open_orders", &self.poll_open_orders)
            .finish()
    }
}

impl BinanceConfig {
    /// Checks the host's config; a `config` error names the field that is wrong.
    pub(crate) fn from_connector_config(
        config: &ConnectorConfig,
    ) -> Result<BinanceConfig, PluginError> {
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

        let mut candles = Vec::new();
        for symbol in &config.candles.symbols {
            if split_unified(symbol).is_none() {
                return Err(PluginError::config(format!(
                    "candles symbol {symbol:?} is not a unified symbol like \"BTC/USDT\""
                )));
            }
        }
        for timeframe in &config.candles.timeframes {
            if !TIMEFRAMES.contains(&timeframe.as_str()) {
                return Err(PluginError::config(format!(
                    "candles timeframe {timeframe:?} is not a Binance interval (one of {})",
                    TIMEFRAMES.join(", ")
                )));
            }
        }
        for symbol in &config.candles.symbols {
            for timeframe in &config.candles.timeframes {
                candles.push((symbol.clone(), timeframe.clone()));
            }
        }

        let mut recv_window_ms = DEFAULT_RECV_WINDOW_MS;
        let mut transfer_overlap_ms = DEFAULT_TRANSFER_OVERLAP_MS;
        let mut poll_open_orders = true;
        for (name, value) in &config.options {
            match name.as_str() {
                "recv_window_ms" => {
                    recv_window_ms = value
                        .as_u64()
                        .filter(|v| (1..=MAX_RECV_WINDOW_MS).contains(v))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "option `recv_window_ms` is {value}; it must be an integer \
                                 from 1 to {MAX_RECV_WINDOW_MS}"
                            ))
                        })?;
                }
                "transfer_overlap_days" => {
                    let days =
                        value
                            .as_i64()
                            .filter(|d| (1..=90).contains(d))
                            .ok_or_else(|| {
                                PluginError::config(format!(
                            "option `transfer_overlap_days` is {value}; it must be an integer \
                             from 1 to 90"
                        ))
                            })?;
                    transfer_overlap_ms = days * DAY_MS;
                }
                "poll_open_orders" => {
                    poll_open_orders = exsync_plugin_api::option_bool("poll_open_orders", value)?;
                }
                // No internal transfers are synced: there is nothing to leave out.
                "internal_transfers" => {
                    exsync_plugin_api::option_bool("internal_transfers", value)?;
                }
                other => {
                    return Err(PluginError::config(format!(
                        "unknown option `{other}` (the binance plugin knows `recv_window_ms`, \
                         `transfer_overlap_days`, `poll_open_orders` and `internal_transfers`)"
                    )))
                }
            }
        }

        Ok(BinanceConfig {
            integration: config.integration.clone(),
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key,
            api_secret,
            start_ms: config
                .start_ms
                .unwrap_or(BINANCE_LAUNCH_MS)
                .max(BINANCE_LAUNCH_MS),
            candles,
            recv_window_ms,
            transfer_overlap_ms,
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
    r#"# integrations.d/binance-main.toml: one Binance (spot) account.
exchange = "binance"
# base_url = "http://127.0.0.1:8080"  # optional: a proxy or a local simulator
sandbox = false                       # true: https://testnet.binance.vision (no deposits/withdrawals)
start = "2020-01-01"                  # optional: history start; default 2017-07-14, Binance's launch

[credentials]
# Create a read-only API key (HMAC) on binance.com: API Management, "Enable Reading" only.
api_key = "env:BINANCE_API_KEY"
api_secret = "file:/run/credentials/exsyncd.service/binance-main.secret"

[streams]                             # stream = sync interval; Binance spot has no ledger
balances = "15m"
trades = "1h"
orders = "1h"
deposits = "6h"
withdrawals = "6h"

[candles]
symbols = ["BTC/USDT", "ETH/USDT"]
timeframes = ["1h", "1d"]             # 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M
interval = "1h"                       # sync interval of the candles stream

[options]
recv_window_ms = 5000                 # how long a signed request stays valid (max 60000)
transfer_overlap_days = 7             # deposits/withdrawals re-read at least this far back
"#
    .to_owned()
}
