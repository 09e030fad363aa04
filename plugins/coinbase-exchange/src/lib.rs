//! The Coinbase Exchange connector.
//!
//! # Brief overview
//!
//! Syncs one Coinbase Exchange profile (the one its API key belongs to): balances of every
//! account (a snapshot), fills per product, orders, deposits and withdrawals, the ledger of
//! every account, and public candles. The crate reads top-down: [`endpoints`] (URLs, limits),
//! [`signing`] (base64 HMAC-SHA256 of `timestamp + method + path + body`), [`pagination`]
//! (newest-first walks over `CB-AFTER` cursors, candle windows), [`parsing`] (JSON to
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
pub use connector::CoinbaseExchangeConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(CoinbaseExchangeConnector);
