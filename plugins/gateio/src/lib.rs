//! The Gate.io connector.
//!
//! # Brief overview
//!
//! Syncs one Gate.io account through APIv4: balances of every wallet the API shows (spot,
//! isolated and cross margin, or a unified account's one wallet; perpetual futures per settle
//! currency, delivery futures, options, and Earn lending); trades and orders of the spot (and
//! margin) account, all pairs at once, and of perpetual futures (USDT- and BTC-settled) where
//! the account has them; the spot, isolated-margin, futures, options and delivery account books
//! (the ledger); deposits, withdrawals and public spot candles. Not read yet: trades and orders
//! of options and delivery futures.
//!
//! The crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`] (HMAC-SHA512
//! over method, path, query, the body's SHA-512 and the timestamp), [`pagination`] (30-day
//! windows walked back to the configured start, Gate's `page`/`offset` inside them),
//! [`parsing`] (JSON to records), [`config`] (integration settings), [`connector`] (all of it
//! wired to the host). Every module but `connector` is pure and unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::GateioConnector;

exsync_plugin_api::export_connector!(GateioConnector);
