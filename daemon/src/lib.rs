//! exsyncd: keeps a complete, exact, local copy of exchange accounts.
//!
//! # Brief overview
//!
//! The daemon loads one connector plugin per exchange ([`plugins`]), reads the integrations
//! that use them ([`config`], [`supervisor`]), and syncs each integration's streams page by page
//! into an embedded redb store ([`engine`], [`store`]). Plugins do no I/O of their own: the
//! [`host`] module sends their HTTP requests within the exchange's request budget. Operators
//! drive it with `exsyncctl` over a Unix socket ([`control`]), which writes every change to an
//! append-only [`audit`] log; Prometheus scrapes [`metrics`].
//! Changes to the configuration and plugin directories are applied while it runs
//! ([`watch`], [`reload`]).

pub mod audit;
pub mod backup;
pub mod candles;
pub mod config;
pub mod control;
pub mod credentials;
pub mod daemon;
pub mod engine;
pub mod events;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod metrics;
pub mod notify;
pub mod plugins;
pub mod policy;
pub mod prune;
pub mod quality;
pub mod quality_kept;
pub mod recording;
pub mod reload;
pub mod sample;
pub mod store;
pub mod supervisor;
pub mod taxonomy;
pub mod watch;
pub mod webhook;
