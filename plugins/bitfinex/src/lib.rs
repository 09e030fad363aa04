//! The Bitfinex connector.
//!
//! # Brief overview
//!
//! Syncs one Bitfinex account through the v2 REST API: balances of every wallet the account
//! has (exchange, margin, funding...), trades, orders (the closed ones from the two-week
//! order history, the open ones from the active-orders endpoint), deposits and withdrawals
//! (both from the movements history), the ledger and public candles. Every history endpoint
//! is account-wide (no symbol or currency needed), so no stream is split into partitions
//! but candles. The crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`]
//! (HMAC-SHA384 of `/api/v2/<path>` + nonce + body, nonces that only grow), [`pagination`]
//! (time windows walked back to the configured start, pages inside by moving `end` back),
//! [`parsing`] (positional arrays to records, each position named), [`config`] (integration
//! settings), [`connector`] (all of it wired to the host). Every module but `connector` is
//! pure and unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::BitfinexConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(BitfinexConnector);
