//! The Bybit connector.
//!
//! # Brief overview
//!
//! Syncs one Bybit account through the v5 REST API: balances of every wallet (the unified
//! trading account, or the classic spot and derivatives wallets; the funding wallet; Earn
//! positions), trades (executions) and orders per product category (orders still open come
//! from the open-orders endpoint), deposits, withdrawals, the unified account's transaction log
//! (its ledger) and public candles. The crate reads top-down: [`endpoints`]
//! (URLs, buckets, limits), [`signing`] (HMAC-SHA256 of timestamp, key, receive window and query
//! string), [`pagination`] (time windows walked back to the two-year limit, Bybit's page
//! cursors inside them), [`parsing`] (JSON to records), [`config`] (integration settings),
//! [`connector`] (all of it wired to the host). Every module but `connector` is pure and
//! unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::BybitConnector;

exsync_plugin_api::export_connector!(BybitConnector);
