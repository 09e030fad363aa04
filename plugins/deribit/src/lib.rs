//! The Deribit connector.
//!
//! # Brief overview
//!
//! Syncs one Deribit account through API v2 (JSON-RPC over HTTP GET): per currency the
//! margin balance and the open futures and options positions, trades, orders (history and
//! open), deposits, withdrawals and the transaction log (its ledger), and public candles from
//! the TradingView chart endpoint. The crate reads top-down: [`endpoints`] (URLs, buckets,
//! limits), [`signing`] (the `deri-hmac-sha256` header and the `client_signature` grant),
//! [`pagination`] (time windows with Deribit's continuation inside them, offset walks over
//! newest-first lists), [`parsing`] (JSON to records, numbers kept digit for digit),
//! [`config`] (integration settings), [`connector`] (all of it wired to the host). Every
//! module but `connector` is pure and unit-tested in `tests.rs`.
//!
//! One integration syncs the (sub)account its key belongs to. Unfinished: a main account's
//! subaccounts (Deribit's `subaccount_id` parameter, `mainaccount` scope) are not walked;
//! give each subaccount an integration of its own, with its own key.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::DeribitConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(DeribitConnector);
