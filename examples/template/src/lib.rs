//! The Template connector.
//!
//! # Brief overview
//!
//! Syncs one Template account: balances (a snapshot) and the ledger (oldest first, by id).
//! The crate reads top-down: [`endpoints`] (URLs, paths, limits; data only), [`signing`]
//! (pure: secret and request to headers), [`pagination`] (pure: cursor to request, answer to
//! the next cursor), [`parsing`] (pure: bytes to records), [`connector`] (all of it wired to
//! the host). Every module but `connector` is pure and unit-tested in `tests.rs`.

pub(crate) mod connector;
pub(crate) mod endpoints;
pub(crate) mod pagination;
pub(crate) mod parsing;
pub(crate) mod signing;
#[cfg(test)]
mod tests;

pub use connector::TemplateConnector;

exsync_plugin_api::export_connector!(TemplateConnector);
