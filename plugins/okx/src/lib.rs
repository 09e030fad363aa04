//! The OKX connector.
//!
//! # Brief overview
//!
//! Syncs one OKX (API v5) account: balances of the trading, funding, savings (Simple Earn)
//! and staking (On-chain Earn, summed per currency over active orders) accounts, fills and
//! orders per instrument type, deposits, withdrawals, the bills of the trading and funding
//! accounts (OKX's ledger) and public candles.
//!
//! Not synced yet (unfinished, for lack of time): algo orders (`trade/orders-algo-history`,
//! `trade/orders-algo-pending`) are not in the orders stream, and fiat deposits and
//! withdrawals are not in the transfers streams (unconfirmed: whether and under which paths
//! OKX documents its fiat order history for the v5 API; not yet checked). The crate reads top-down:
//! [`endpoints`] (URLs, rate limits, reach), [`signing`] (base64 HMAC-SHA256 of timestamp,
//! method, path and body), [`pagination`] (newest-first walks, candle windows), [`parsing`]
//! (JSON to records, error codes to kinds), [`config`] (integration settings), [`connector`]
//! (all of it wired to the host). Every module but `connector` is pure and unit-tested in
//! `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::OkxConnector;

exsync_plugin_api::export_connector!(OkxConnector);
