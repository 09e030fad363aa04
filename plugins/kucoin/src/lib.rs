//! The KuCoin connector.
//!
//! # Brief overview
//!
//! Syncs one KuCoin (classic, non-UTA) account: the balances of every wallet (the account
//! types `GET /api/v1/accounts` lists: main = funding, trade = spot, trade_hf, margin; isolated
//! margin per symbol; futures per margin currency; Earn), fills, orders and the ledger of the
//! classic and of the high-frequency (`trade_hf`) account, deposits and withdrawals, all in
//! 7-day windows, and public candles. The classic history endpoints answer for every symbol
//! at once; the high-frequency ones take one symbol per request, chosen from the markets of
//! the currencies the account holds or has touched.
//! The crate reads top-down: [`endpoints`] (URLs, weights, limits), [`signing`] (API key
//! version 2: base64 HMAC-SHA256 of `timestamp + method + endpoint + body`, passphrase
//! HMAC'd too), [`pagination`] (windows, pages, resume points), [`parsing`] (JSON to
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
pub use connector::KucoinConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(KucoinConnector);
