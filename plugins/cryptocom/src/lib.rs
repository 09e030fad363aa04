//! The Crypto.com Exchange connector.
//!
//! # Brief overview
//!
//! Syncs one Crypto.com Exchange account through the v1 REST API: balances of the unified
//! wallet (`private/user-balance`) and of staking positions (the `earn` wallet), trades
//! (`private/get-trades`) and orders (`private/get-order-history`, plus the orders open now)
//! over every instrument at once, deposits, withdrawals, the account's transaction journal
//! (its ledger, `private/get-transactions`) and public candles. The crate reads top-down:
//! [`endpoints`] (URLs, methods, buckets, limits), [`signing`] (HMAC-SHA256 of method, id, key,
//! sorted parameters and nonce, sent in the JSON body), [`pagination`] (24-hour windows walked
//! back to the configured start, nanosecond end times inside them), [`parsing`] (JSON to
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
pub use connector::CryptocomConnector;

exsync_plugin_api::export_connector!(CryptocomConnector);
