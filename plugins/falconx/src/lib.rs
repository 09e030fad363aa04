//! The FalconX connector.
//!
//! # Brief overview
//!
//! Syncs one FalconX account through its REST API (`api.falconx.io/v1`). FalconX is an
//! institutional RFQ venue, not a spot exchange with an order book, and its API is mapped
//! onto exsync's record kinds as follows:
//!
//! * Balances: `GET /v1/balances`, one row per token and platform; `wallet` is the platform
//!   FalconX names (`browser`, `api`, `margin`...); `GET /v1/derivatives/margins`, the margin
//!   held for derivatives, in the `derivatives_margin` wallet.
//! * Trades: `GET /v1/quotes?t_start=&t_end=`, the executed quotes; every filled quote is a
//!   trade (the client takes FalconX's price: `taker`). And `GET /v1/derivatives`, every
//!   derivative trade of the account in one unpaged list, read whole each sync as the trades
//!   stream's `derivatives` partition: each option is a trade of its contract
//!   (`BTC-USD-20220226-20000-P`: quantity as amount, premium as cost, premium per unit as
//!   price, no base asset). NDFs, interest-rate swaps and forwards are left out, named in a
//!   warning: FalconX documents only an option row, so which field holds their traded rate
//!   and what their `quantity` counts is unknown, and no honest price or cost can be given.
//! * Orders: the same list, for the quotes FalconX shows as orders (placed through its order
//!   endpoint: they carry `order_type`); filled ones are `closed`, unfilled `canceled`.
//! * Deposits and withdrawals: `GET /v1/transfers?t_start=&t_end=`, split by `type`.
//! * No ledger (FalconX has no ledger endpoint) and no candles (an RFQ venue has no public
//!   market data): those streams are absent from the manifest.
//!
//! Every other history endpoint is account-wide and filtered by a time window, with no page
//! token: the shared [`exsync_plugin_api::window::Walker`] walks 30-day windows back to the
//! configured start; derivative trades are read whole. The crate reads top-down:
//! [`endpoints`] (URLs, limits), [`signing`] (HMAC-SHA256 of timestamp, method, path with
//! query and body, under the base64-decoded secret, base64), [`pagination`] (time windows),
//! [`parsing`] (JSON to records, error mapping), [`config`] (integration settings),
//! [`connector`] (all of it wired to the host).

pub(crate) mod config;
pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use config::generate_config;
pub use connector::FalconxConnector;
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(FalconxConnector);
