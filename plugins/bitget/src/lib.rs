//! The Bitget connector.
//!
//! # Brief overview
//!
//! Syncs one Bitget account through the v2 REST API of a classic (non-unified) account:
//! balances of every wallet (spot, funding, USDT-/USDC-/coin-margined futures, cross margin,
//! isolated margin per symbol, Earn); trades and orders of spot, cross and isolated margin per
//! symbol and of futures per product type (orders still open from each market's open-orders
//! endpoint); deposits; withdrawals; the ledger (the spot bills, the futures bills per product
//! type, the cross margin records, the isolated margin records per symbol); public candles.
//!
//! A unified trading account (UTA) is told apart by `GET /api/v3/account/settings`, which
//! answers only for one (asked once per instance), and synced through the v3 API instead:
//! balances of the unified account and of the funding wallet beside it; fills, orders (those
//! still open from `unfilled-orders`) and financial records per category (spot, margin, the
//! three futures kinds) in 30-day windows paged by Bitget's `cursor`; deposits and
//! withdrawals from the v3 deposit and withdrawal records. Candles are public and the same
//! for both kinds of account.
//!
//! Left out for unified accounts: Earn holdings (no v3 Earn balance endpoint was found in
//! Bitget's UTA documentation). Unconfirmed: that `spot/account/info` (used by `check`)
//! serves a unified account's key; the widest window of the v3 deposit and withdrawal records
//! (v2's 90 days is kept); the code Bitget refuses a classic account's `account/settings`
//! with (any refusal that is not about the key, the clock, the rate or an outage is read as
//! "classic").
//!
//! The crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`]
//! (base64 HMAC-SHA256 of timestamp, method, path, query and body), [`pagination`] (time
//! windows walked back to Bitget's reach, `idLessThan` pages inside them), [`parsing`] (JSON to
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
pub use connector::BitgetConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(BitgetConnector);
