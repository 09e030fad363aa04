//! The Gemini connector.
//!
//! # Brief overview
//!
//! Syncs one Gemini exchange account through the REST API v1: balances (the exchange wallet
//! and staking), trades per symbol (the symbols the account's own currencies trade), orders
//! (past orders and those still active), deposits and withdrawals (one transfers list, split
//! by type) and public candles. The crate reads top-down: [`endpoints`] (URLs, buckets,
//! limits), [`signing`] (the base64 JSON payload and its HMAC-SHA384; the nonce source),
//! [`pagination`] (Gemini's forward walk by timestamp), [`parsing`] (JSON to records, error
//! reasons to error kinds), [`config`] (integration settings), [`connector`] (all of it wired
//! to the host). Every module but `connector` is pure and unit-tested in `tests.rs`.
//!
//! Not here: a ledger. Gemini's `POST /v1/transactions` needs a master-scoped key and its
//! answer's shape could not be confirmed, so the stream is absent from the manifest rather
//! than guessed (unconfirmed: /v1/transactions response fields).

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

exsync_plugin_api::export_connector!(GeminiConnector);
