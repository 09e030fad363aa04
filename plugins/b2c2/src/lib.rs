//! The B2C2 connector.
//!
//! # Brief overview
//!
//! Syncs one B2C2 account. B2C2 is an institutional OTC liquidity provider, not an exchange
//! with an order book: a client asks for a price (RFQ) or sends a fill-or-kill order, and
//! every executed order becomes one trade (CFD orders may become several). The crate reads
//! top-down: [`endpoints`] (URLs, limits), [`signing`] (the token header: B2C2 signs
//! nothing), [`pagination`] (offset pages inside `created__gte`/`created__lt` windows),
//! [`parsing`] (JSON to records, error mapping), [`config`] (integration settings),
//! [`connector`] (all of it wired to the host). Every module but `connector` is pure and
//! unit-tested in `tests.rs`.
//!
//! # What maps to what
//!
//! * Balances: `GET /balance/`, one map of currency to amount for the one account B2C2
//!   keeps per client; wallet `spot`. B2C2 reports no holds: `free` is the balance, `locked`
//!   zero. Balances can be negative (credit lines).
//! * Trades: `GET /trade/`. B2C2 charges no fee (its price includes the spread): no fee
//!   fields. `cost` is quantity times price, exact.
//! * Orders: `GET /order/`. Orders are fill-or-kill (or market): executed (`closed`) when
//!   `executed_price` is set, else `rejected`. None stays open.
//! * Withdrawals: `GET /withdrawal/`; `settled` false is `pending`.
//! * Ledger: `GET /ledger/`: trades, transfers (deposits and withdrawals), funding of CFD
//!   positions, signed as B2C2 sends them.
//! * Deposits: not offered. B2C2 has no deposit endpoint; an incoming transfer appears in the
//!   ledger as a positive `transfer` entry.
//! * Candles: not offered. B2C2 publishes no OHLCV, only streamed quotes.
//! * CFD open positions (`/cfd/open_positions/`) and margin requirements are not synced
//!   (unfinished: exsync has no position record kind).

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::B2c2Connector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(B2c2Connector);
