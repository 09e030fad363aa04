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
//!
//! # What maps to what
//!
//! * Balances: `List Portfolio Balances` once per balance type; `wallet` is `trading`,
//!   `vault` or `prime_custody`. Staking amounts (bonded, unbonding, rewards) stay in `raw`.
//!   Futures (FCM): `Get Entity FCM Balance` of the portfolio's entity (its id read from
//!   `Get Portfolio` on every balances sync) is one `USD` balance in wallet `futures`,
//!   `total` its `cfm_usd_balance`; margin, PnL and buying power stay in `raw`. FCM
//!   positions (`/v1/entities/{entity_id}/futures/positions`) are contracts, not balances,
//!   and no stream of ours holds them: they are not synced. The FCM balance is the
//!   entity's, so every portfolio of one entity reports the same one.
//! * Trades: `List Portfolio Fills` (`start_date` is required); Prime charges its commission
//!   in the quote currency and does not say maker or taker.
//! * Orders: `List Portfolio Orders`, every status; open orders are read again until they
//!   close.
//! * Deposits and withdrawals: `List Portfolio Transactions` filtered by `types` (deposits:
//!   `DEPOSIT`, `INTERNAL_DEPOSIT`, `SWEEP_DEPOSIT`, `PROXY_DEPOSIT`; withdrawals likewise).
//! * Ledger: every portfolio transaction, whatever its type (rewards, conversions, billing,
//!   staking...), the amount negative where it leaves the portfolio. Transactions rather
//!   than activities: an activity is an audit-log entry (who did what, with a list of
//!   symbols) and carries no amount, so it cannot be a ledger entry. Prime reports no
//!   running balance: `balance_after` stays empty, and fills are not in this ledger.
//! * Candles: `Get Product Candles`. Prime serves candles only on this signed,
//!   portfolio-scoped path; it has no public market-data endpoint.

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
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(CoinbasePrimeConnector);
