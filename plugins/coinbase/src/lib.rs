//! The Coinbase Advanced Trade connector.
//!
//! # Brief overview
//!
//! Syncs one Coinbase (retail, `api.coinbase.com`) account through a CDP API key: the balance
//! of every wallet (`/api/v3/brokerage/accounts`) and of every perpetuals (INTX) portfolio,
//! fills and orders (Advanced Trade v3), deposits, withdrawals and the full transaction
//! history of every wallet (the Coinbase App v2 `/v2/accounts/{id}/transactions`, Coinbase's
//! ledger) and public candles. The crate reads top-down: [`endpoints`] (URLs, rate limits),
//! [`signing`] (a new ES256 or EdDSA JWT per request, for an ECDSA or an Ed25519 CDP key; the
//! simulator verifies both, end to end), [`pagination`] (cursor walks, candle windows),
//! [`parsing`] (JSON to records, error answers to kinds), [`config`] (integration settings),
//! [`connector`] (all of it wired to the host). Every module but `connector` is pure and
//! unit-tested in `tests.rs`.
//!
//! # What it does not do, and why
//!
//! * **The futures (CFM) balance** comes from `/api/v3/brokerage/cfm/balance_summary`, read
//!   only when `/accounts` lists a CFM wallet: the `futures` USD record takes its
//!   `cfm_usd_balance` and open-order hold. unconfirmed: how the summary relates to the CFM
//!   wallet of `/accounts`, and what Coinbase answers an account without futures.
//! * **Perpetuals (INTX) portfolios** are found with
//!   `/api/v3/brokerage/portfolios?portfolio_type=INTX`; each one's per-asset collateral
//!   (`/api/v3/brokerage/intx/balances/{portfolio}`) goes to the `perpetuals` wallet, the word
//!   an INTX wallet of `/accounts` has (`futures` stays the US derivatives account's).
//!   Positions and their unrealised PnL are not balances and are not read. Coinbase's
//!   reference marks these INTX endpoints deprecated, retiring on 2026-09-09 for a
//!   Deribit-based derivatives gateway, which this connector does not read. unconfirmed:
//!   whether a key scoped to the default portfolio may list and read the INTX portfolios.
//! * **Ledger running balances**: `balance_after` stays empty. Coinbase's ledger here is the
//!   v2 transaction list, whose documented transaction resource (`id`, `type`, `status`,
//!   `amount`, `native_amount`, `description`, `created_at`, `updated_at`, `resource`,
//!   `resource_path`, `network`, `to`/`from`, `details`) carries no balance after the entry.
//!   (The `balance` field of a ledger entry belongs to the separate Coinbase Exchange API.)

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
#[doc(hidden)]
pub use parsing::fuzz_parse;

exsync_plugin_api::export_connector!(CoinbaseConnector);
