//! The BitMEX connector.
//!
//! # Brief overview
//!
//! Syncs one BitMEX account through the REST API v1: the balance of every margin currency
//! (BitMEX keeps one wallet per currency, shared by spot and derivatives) and what is staked
//! (the `earn` wallet), trades
//! (executions of type `Trade`) and orders of every symbol, deposits, withdrawals and the
//! native ledger (all three from the wallet history, per currency) and public candles. The
//! crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`] (HMAC-SHA256 of
//! verb, path with query, expiry and body), [`pagination`] (time windows walked with
//! plugin-api's `Walker`, BitMEX's `start` offsets inside them, the wallet history's newest
//! first offset walk), [`parsing`] (JSON to records, satoshis and micro-units to exact
//! decimals), [`config`] (integration settings), [`connector`] (all of it wired to the host).
//! Every module but `connector` is pure and unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::BitmexConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(BitmexConnector);
