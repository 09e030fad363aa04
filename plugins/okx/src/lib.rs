//! The OKX connector.
//!
//! # Brief overview
//!
//! Syncs one OKX (API v5) account: balances of the trading, funding, savings (Simple Earn)
//! and staking (On-chain Earn, summed per currency over active orders) accounts, fills and
//! orders per instrument type, algo orders per algo order type (`algo:<ordType>` partitions
//! of the orders stream, ids `algo:<algoId>`), crypto deposits and withdrawals and fiat ones
//! (`fiat` partitions, ids `fiat:<ordId>`), the bills of the trading and funding accounts
//! (OKX's ledger) and public candles.
//!
//! Left out, and why:
//! * Fiat deposits and withdrawals are read from the paths OKX's documentation gives,
//!   `fiat/deposit-order-history` and `fiat/withdrawal-order-history`; it documents no
//!   `fiat/deposit-history` or `fiat/withdrawal-history`. Its `after`/`before` are described
//!   only as inclusive begin and end timestamps (unconfirmed: that `before=T` answers the
//!   orders created at or before T, newest first, as read here).
//! * Algo orders in state `partially_failed` are stored when OKX serves them under one of
//!   the `state` filters it documents (`effective`, `canceled`, `order_failed`); the filter
//!   has no value for them (unconfirmed: whether OKX serves them at all then).
//! * Algo orders report nothing filled: their fills belong to the ordinary orders they
//!   place (`ordIdList`), which are synced with the instrument type's orders.
//!
//! The crate reads top-down:
//! [`endpoints`] (URLs, rate limits, reach), [`signing`] (base64 HMAC-SHA256 of timestamp,
//! method, path and body), [`pagination`] (newest-first walks, candle windows), [`parsing`]
//! (JSON to records, error codes to kinds), [`config`] (integration settings), [`connector`]
//! (all of it wired to the host). Every module but `connector` is pure and unit-tested in
//! `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::OkxConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(OkxConnector);
