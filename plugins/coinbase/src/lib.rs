//! The Coinbase Advanced Trade connector.
//!
//! # Brief overview
//!
//! Syncs one Coinbase (retail, `api.coinbase.com`) account through a CDP API key: the balance
//! of every wallet (`/api/v3/brokerage/accounts`), fills and orders (Advanced Trade v3),
//! deposits, withdrawals and the full transaction history of every wallet (the Coinbase App
//! v2 `/v2/accounts/{id}/transactions`, Coinbase's ledger) and public candles. The crate
//! reads top-down: [`endpoints`] (URLs, rate limits), [`signing`] (a new ES256 or EdDSA JWT per
//! request, for an ECDSA or an Ed25519 CDP key; the simulator verifies both, end to end), [`pagination`] (cursor walks, candle windows), [`parsing`] (JSON to records,
//! error answers to kinds), [`config`] (integration settings), [`connector`] (all of it wired
//! to the host). Every module but `connector` is pure and unit-tested in `tests.rs`.
//!
//! # What it does not do, and why
//!
//! * **The futures (CFM) balance** comes from `/api/v3/brokerage/cfm/balance_summary`, read
//!   only when `/accounts` lists a CFM wallet: the `futures` USD record takes its
//!   `cfm_usd_balance` and open-order hold. unconfirmed: how the summary relates to the CFM
//!   wallet of `/accounts`, and what Coinbase answers an account without futures.
//! * **Perpetuals (INTX) portfolio balances** (`/api/v3/brokerage/intx/balances/{portfolio}`)
//!   are not read: an INTX wallet of `/accounts` is stored as the `perpetuals` wallet, but the
//!   portfolio's per-asset collateral is not, for lack of time to build it with its simulator.
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

exsync_plugin_api::export_connector!(CoinbaseConnector);
