//! The Coinbase Prime connector.
//!
//! # Brief overview
//!
//! Syncs one Coinbase Prime portfolio: balances of every wallet type the API reports
//! (trading, vault, Prime custody), fills, orders, deposits and withdrawals (from the
//! portfolio's transactions), the ledger (every portfolio transaction, signed) and candles.
//! Every history endpoint is portfolio-wide and cursor-paged, so no stream is split by
//! symbol; candles are split by product and timeframe. The crate reads top-down:
//! [`endpoints`] (URLs, limits), [`signing`] (HMAC-SHA256 of timestamp, method, path and
//! body, base64), [`pagination`] (time-ordered cursor walks), [`parsing`] (JSON to records,
//! error mapping), [`config`] (integration settings), [`connector`] (all of it wired to the
//! host). Every module but `connector` is pure and unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::CoinbasePrimeConnector;

exsync_plugin_api::export_connector!(CoinbasePrimeConnector);
