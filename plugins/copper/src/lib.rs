//! The Copper connector.
//!
//! # Brief overview
//!
//! Syncs one Copper (Copper.co platform) organization through its REST API. Copper is a
//! custodian and settlement network, not a spot exchange: an organization holds portfolios
//! (custody, trading vault, trading, external, ClearLoop), each portfolio holds wallets (one
//! per currency and network), and every movement of money is an *order*: `buy` and `sell`
//! (settlement orders, OTC or RFQ), `deposit`, `withdraw`, staking rewards and so on. The
//! crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`] (hex
//! HMAC-SHA256 of timestamp, method, path with query, and body), [`pagination`] (created-at
//! windows walked with the shared [`exsync_plugin_api::window::Walker`], `offset` pages
//! inside them), [`parsing`] (JSON to records, error mapping), [`config`] (integration
//! settings), [`connector`] (all of it wired to the host). Every module but `connector` is
//! pure and unit-tested in `tests.rs`.
//!
//! # What maps to what
//!
//! * Balances: `GET /platform/wallets`, every wallet of every portfolio the key sees; each
//!   record's `wallet` is `<portfolioType>:<portfolioId>:<walletId>`, so it says which
//!   portfolio, which portfolio type and which wallet.
//! * Trades: executed `buy`/`sell` orders (a settlement order settles whole: one trade per
//!   order, the order id as trade id, price = quote amount / amount).
//! * Orders: `buy`/`sell` orders of every status.
//! * Deposits: orders of type `deposit`, `retrieved-deposit`, `cross-chain-deposit`.
//! * Withdrawals: orders of type `withdraw`, `multi-withdraw`, `cross-chain-withdraw`.
//! * Ledger: every executed order that moves money, signed; a trade gives two legs (base and
//!   quote), a withdrawal fee its own leg. `balance_after` is Copper's `balanceSnapshot`.
//! * Candles: not offered. Copper publishes no OHLCV market data, so the stream is absent.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::CopperConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(CopperConnector);
