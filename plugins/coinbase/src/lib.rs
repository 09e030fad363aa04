//! The Coinbase Advanced Trade connector.
//!
//! # Brief overview
//!
//! Syncs one Coinbase (retail, `api.coinbase.com`) account through a CDP API key: the balance
//! of every wallet (`/api/v3/brokerage/accounts`), fills and orders (Advanced Trade v3),
//! deposits, withdrawals and the full transaction history of every wallet (the Coinbase App
//! v2 `/v2/accounts/{id}/transactions`, Coinbase's ledger) and public candles. The crate
//! reads top-down: [`endpoints`] (URLs, rate limits), [`signing`] (a new ES256 or EdDSA JWT per
//! request), [`pagination`] (cursor walks, candle windows), [`parsing`] (JSON to records,
//! error answers to kinds), [`config`] (integration settings), [`connector`] (all of it wired
//! to the host). Every module but `connector` is pure and unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::CoinbaseConnector;

exsync_plugin_api::export_connector!(CoinbaseConnector);
