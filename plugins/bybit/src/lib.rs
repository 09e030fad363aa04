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
//! - The ledger of a classic account's **spot** wallet: Bybit's v5 reference has no endpoint
//!   for it. Its two transaction logs do not cover it: `GET /v5/account/transaction-log`
//!   takes `accountType` `UNIFIED` only, and `GET /v5/account/contract-transaction-log`
//!   applies to "classic account, UTA1.0(inverse)" and lists the derivatives wallet only. The
//!   pre-upgrade log (`/v5/pre-upgrade/account/transaction-log`) serves the USDC contract
//!   account of an upgraded account (categories linear and option), not spot. So a classic
//!   account's ledger holds its contract wallet only. Its spot wallet's fills are still
//!   synced as trades (`/v5/execution/list?category=spot`) and its balance
//!   (`wallet-balance?accountType=SPOT`, with Bybit's own `free` and `locked`) as the `spot`
//!   wallet (the classic `CONTRACT` wallet is the `futures` wallet); its transfers to and
//!   from the funding wallet (`/v5/asset/transfer/query-inter-transfer-list`) are not read.
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
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(BybitConnector);
