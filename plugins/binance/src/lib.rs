//! The Binance connector.
//!
//! # Brief overview
//!
//! Syncs one Binance spot account: spot balances (a snapshot), trades and orders per symbol,
//! crypto deposits and withdrawals, and public candles. Binance has no spot ledger. The
//! crate reads top-down: [`endpoints`] (URLs, weights, limits), [`signing`] (HMAC-SHA256 of
//! the query string), [`pagination`] (cursors, windows, symbol loops), [`parsing`] (JSON to
//! records), [`config`] (integration settings), [`connector`] (all of it wired to the host).
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
pub use connector::BinanceConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(BinanceConnector);
