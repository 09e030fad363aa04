//! The Gemini connector.
//!
//! # Brief overview
//!
//! Syncs one Gemini exchange account through the REST API v1: balances (the exchange wallet
//! and staking), trades per symbol (the symbols the account's own currencies trade), orders
//! (past orders and those still active), deposits and withdrawals (one transfers list, split
//! by type), the ledger (Gemini's transaction history) and public candles. The crate reads top-down: [`endpoints`] (URLs, buckets,
//! limits), [`signing`] (the base64 JSON payload and its HMAC-SHA384; the nonce source),
//! [`pagination`] (Gemini's forward walk by timestamp), [`parsing`] (JSON to records, error
//! reasons to error kinds), [`config`] (integration settings), [`connector`] (all of it wired
//! to the host). Every module but `connector` is pure and unit-tested in `tests.rs`.
//!
//! # The ledger
//!
//! Gemini's native ledger is `POST /v1/transactions` ("Get Transaction History"): the trades
//! and transfers of an account group, paged by a continuation token, from 2022-08-01 on. Its
//! documentation requires a **master-scoped** key with the Trader, Fund Manager or Auditor
//! role, so the stream works only for an integration with a master key and
//! `options.account` (the account to sync; the same option every other endpoint then
//! needs). With an account-scoped key (no `account` option) the ledger fails with a
//! `permission` error that says so, before any request; the other streams are unaffected.
//! The request fields (`timestamp_nanos`, `limit` ≤ 300, `continuation_token`) and the two
//! result shapes (trade, transfer) follow Gemini's REST specification; it gives no response
//! example, so the fixture `tests/data/transactions.json` is written from the schema's
//! fields, and what it leaves open is marked `unconfirmed:` in [`parsing`] and
//! [`pagination`]. A trade is three entries (base, quote, fee), a transfer one; Gemini's
//! transfer shape carries no fee amount, so withdrawal fees are not in the ledger (they are
//! in the withdrawals stream).
//!
//! `POST /v1/custodyaccountfees` (custody fee records) is not part of the ledger: it serves
//! custody accounts, which this connector does not sync.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::GeminiConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(GeminiConnector);
