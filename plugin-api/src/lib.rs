#![doc = include_str!("../README.md")]

pub mod abi;
pub mod clock;
mod config;
mod connector;
pub mod decimal;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod host;
pub mod loader;
mod manifest;
mod record;
pub mod signing;
pub mod time;
pub mod walk;
pub mod window;

#[doc(hidden)]
pub use abi_stable;

pub use config::{
    option_bool, CandleConfig, CheckReport, ConnectorConfig, PartitionContext, Permissions,
};
pub use connector::{Connector, Page, TimeRange};
pub use error::{ErrorKind, PluginError};
pub use host::{Host, HttpRequest, HttpResponse, LogLevel};
pub use manifest::{
    CredentialField, HistoryLimit, Manifest, RateLimit, RateScope, ResetFormat, Stream,
};
pub use record::{
    Balance, Candle, LedgerEntry, Liquidity, Order, OrderStatus, Record, RecordKind, Side, Trade,
    Transfer, TransferStatus,
};

#[doc(hidden)]
pub mod __private {
    pub use crate::connector::{export_manifest, export_new, guard};
}

/// The version of this interface crate, as the host and plugins see it.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
