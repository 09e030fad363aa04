//! The Kraken connector.
//!
//! # Brief overview
//!
//! Syncs one Kraken spot account: balances (spot and earn, a snapshot), trades, closed and
//! open orders, deposits, withdrawals, the account ledger, and public OHLC candles. The crate
//! reads top-down: [`endpoints`] (URLs, costs, limits), [`signing`] (HMAC-SHA512 of the URI
//! path and the SHA-256 of nonce and body; the nonce source), [`pagination`] (time windows,
//! offsets, cursors), [`parsing`] (JSON to records, asset codes, error words), [`config`]
//! (integration settings), [`connector`] (all of it wired to the host). Every module but
//! `connector` is pure and unit-tested in `tests.rs`.
//!
//! Not here, because a Kraken spot API key does not reach them: Kraken Futures (its own API,
//! host and keys: a connector of its own) and per-asset margin wallets (spot margin is
//! positions against the spot balances; `TradeBalance` reports only a valuation summary in
//! one currency, not holdings, so it is not stored as a balance).

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::KrakenConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(KrakenConnector);
