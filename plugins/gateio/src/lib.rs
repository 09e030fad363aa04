//! The Gate.io connector.
//!
//! # Brief overview
//!
//! Syncs one Gate.io account through APIv4: balances of every wallet the API shows (spot,
//! isolated and cross margin, or a unified account's one wallet; perpetual futures per settle
//! currency, delivery futures, options, and Earn lending); trades and orders of the spot (and
//! margin) account, all pairs at once, and of perpetual futures (USDT- and BTC-settled) where
//! the account has them; trades of delivery futures (`delivery:usdt`) where the account has a
//! delivery account; the spot, isolated-margin, futures, options and delivery account books
//! (the ledger); deposits, withdrawals and public spot candles.
//!
//! Delivery trades (`GET /delivery/{settle}/my_trades`) have no time window, only `limit`,
//! `offset` and `last_id`: they walk plugin-api's `walk::KeyWalker` newest first by trade id
//! (`last_id` = the oldest id read), down to the newest trade stored, amounts by the
//! multipliers of `GET /delivery/{settle}/contracts`. unconfirmed: that the list comes newest
//! first, that ids grow with time, that `last_id` lists the older fills, and how far back the
//! list reaches.
//!
//! Not read yet (time ran out before they could be built and tested end to end, so none of it
//! is half-wired here):
//! - delivery orders: `GET /delivery/{settle}/orders` requires `status` (`open` or
//!   `finished`) and also pages only by `offset`/`last_id`; the same key walk fits it, with
//!   open orders held for the next walk. Gate says an order cancelled unfilled is gone after
//!   10 minutes;
//! - options trades and orders: `GET /options/my_trades` requires `underlying` (so one walk per
//!   underlying the account holds, from `GET /options/positions` or `GET /options/underlyings`),
//!   and `GET /options/orders` requires `status`. Both take `from`, `to`, `offset` and `limit`
//!   (the window walk fits them). unconfirmed: that the base amount of a fill is its size times
//!   the `multiplier` of `GET /options/contracts?underlying=`.
//!
//! The crate reads top-down: [`endpoints`] (URLs, buckets, limits), [`signing`] (HMAC-SHA512
//! over method, path, query, the body's SHA-512 and the timestamp), [`pagination`] (30-day
//! windows walked back to the configured start, Gate's `page`/`offset` inside them),
//! [`parsing`] (JSON to records), [`config`] (integration settings), [`connector`] (all of it
//! wired to the host). Every module but `connector` is pure and unit-tested in `tests.rs`.

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::GateioConnector;

exsync_plugin_api::export_connector!(GateioConnector);
