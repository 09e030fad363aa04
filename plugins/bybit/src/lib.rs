//! The Bybit connector.
//!
//! # Brief overview
//!
//! Syncs one Bybit account through the v5 REST API: balances of every wallet (the unified
//! trading account, or the classic spot and derivatives wallets; the funding wallet; Earn
//! positions), trades (executions) and orders per product category (orders still open come
//! from the open-orders endpoint), deposits, withdrawals, the ledger (a unified account's
//! transaction log; a classic account's contract-wallet transaction log) and public candles.
//! The crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`] (HMAC-SHA256
//! of timestamp, key, receive window and query string), [`pagination`] (time windows walked
//! back to the two-year limit, Bybit's page cursors inside them), [`parsing`] (JSON to
//! records), [`config`] (integration settings), [`connector`] (all of it wired to the host).
//! Every module but `connector` is pure and unit-tested in `tests.rs`.
//!
//! # Not supported
//!
//! - The ledger of a classic account's **spot** wallet: Bybit's v5 documentation describes a
//!   transaction log for the unified account and one for the classic contract wallet
//!   (`/v5/account/contract-transaction-log`), but no endpoint that lists the movements of a
//!   classic spot wallet, so a classic account's ledger holds its contract wallet only.
//!   unconfirmed: that no such spot endpoint exists (none was found in the documentation read).
//! - unconfirmed: the contract log's per-UID limit and 7-day window (taken from the unified
//!   log's), and the sign of its `funding` field (Bybit's pages disagree); the amount is
//!   `change`, which Bybit documents as cashFlow + funding - fee, so it does not depend on it.

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
