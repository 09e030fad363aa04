//! The Crypto.com Exchange connector.
//!
//! # Brief overview
//!
//! Syncs one Crypto.com Exchange account through the v1 REST API: balances of the unified
//! wallet (`private/user-balance`), of staking positions (the `earn` wallet) and of every
//! sub-account (`private/get-subaccount-balances`, wallets `subaccount:{uuid}`, master key
//! only), trades (`private/get-trades`) and orders (`private/get-order-history`, plus the
//! orders open now) over every instrument at once, deposits, withdrawals, the ledger (the
//! account's transaction journal, `private/get-transactions`, and in a partition of its own
//! the staking rewards, `private/staking/get-reward-history`, as `reward` entries) and public
//! candles. The crate reads top-down:
//! [`endpoints`] (URLs, methods, buckets, limits), [`signing`] (HMAC-SHA256 of method, id, key,
//! sorted parameters and nonce, sent in the JSON body), [`pagination`] (24-hour windows walked
//! back to the configured start, nanosecond end times inside them), [`parsing`] (JSON to
//! records), [`config`] (integration settings), [`connector`] (all of it wired to the host).
//! Every module but `connector` is pure and unit-tested in `tests.rs`.
//!
//! # Not covered
//!
//! * Sub-accounts' histories: the master key reads only their balances; trades, orders,
//!   transfers and journals of a sub-account need that sub-account's own key (an integration
//!   of its own).
//! * Rewards have no id of their own: ours is built from the staking instrument, the reward
//!   instrument and the millisecond (unconfirmed: that this is unique).
//! * unconfirmed: whether the transaction journal also lists staking rewards; if it did, a
//!   reward would be stored twice, once from each source.
//! * Whether the reward history's 180-day limit bounds only a request's window (as the
//!   documentation words it) or also how far back it reaches is unconfirmed; the walk reads
//!   back to the configured start in 180-day windows.

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
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(CryptocomConnector);
