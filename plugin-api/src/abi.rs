//! The types that cross the dynamic-library boundary, and nothing else.
#![allow(non_local_definitions)] // sabi_trait expands to impls inside a const; harmless.
//!
//! Everything here is `#[repr(C)]` and checked by abi_stable's layout checker when a plugin is
//! loaded. The rules that keep 1.x compatible:
//!
//! * [`ConnectorMod`] is a prefix type: fields are appended after the last one, never reordered.
//! * [`ConnectorAbi`] and [`HostIo`] are `#[sabi_trait]`s: methods are appended, never changed.
//! * Structured data (manifest, config, pages, check reports) crosses as JSON in an `RString`,
//!   so it grows by new optional fields without touching the layout.
//!
//! Plugin authors do not use this module directly: they implement [`crate::Connector`] and
//! call [`crate::export_connector!`].

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RStr, RString, RVec, Tuple2},
    StableAbi,
};

use crate::error::PluginError;

/// A header name and value.
pub type Header = Tuple2<RString, RString>;

/// Severity of a plugin log line.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// One HTTP request, as the plugin asks the host to send it.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct AbiHttpRequest {
    pub method: RString,
    /// Absolute URL. Its host must be one of the manifest's `api_hosts` or the integration's
    /// `base_url` override; the host refuses anything else.
    pub url: RString,
    pub headers: RVec<Header>,
    pub body: RVec<u8>,
    /// What the request costs against its rate-limit bucket (Binance's request weight).
    pub cost: u32,
    /// The manifest rate-limit bucket this request draws from; empty means the first one.
    pub bucket: RString,
    /// Whether the host may send this exact request again after 429, 5xx or a network error.
    /// False for requests that carry a timestamp or nonce: the host then sends once, records
    /// any wait the exchange asked for, and the plugin rebuilds the request
    /// ([`crate::Host::http_retrying`]); the next send waits out what was recorded. Such a
    /// request that had to wait for the budget is not sent at all, since it would arrive
    /// stale: the host answers status 0 ("not sent, rebuild it").
    pub resend: bool,
}

/// The response to an [`AbiHttpRequest`], whatever its status: mapping statuses to
/// [`crate::ErrorKind`]s is the plugin's job, retrying 429/5xx is the host's.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct AbiHttpResponse {
    pub status: u16,
    /// Header names are lower case.
    pub headers: RVec<Header>,
    pub body: RVec<u8>,
}

/// The host's side of the boundary: the only I/O a plugin has.
#[sabi_trait]
pub trait HostIo: Send + Sync {
    /// Sends a request and blocks until the response arrives. The host applies timeouts,
    /// the rate-limit budget and retries with backoff on 429 and 5xx.
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError>;

    /// Wall-clock time in UTC milliseconds.
    fn now_ms(&self) -> i64;

    /// Writes a line to the daemon's log, tagged with the integration. Secrets are redacted.
    #[sabi(last_prefix_field)]
    fn log(&self, level: LogLevel, message: RStr<'_>);
}

/// An owned, type-erased [`HostIo`].
pub type HostIoBox = HostIo_TO<'static, RBox<()>>;

/// The plugin's side of the boundary: one configured connection to one exchange account.
///
/// Calls block and may take seconds; the host runs them on its blocking pool, one at a time
/// per instance.
#[sabi_trait]
pub trait ConnectorAbi: Send + Sync {
    /// Tests the connection. Returns a JSON [`crate::CheckReport`].
    fn check(&self) -> RResult<RString, PluginError>;

    /// The partition keys of `stream`. `context` is a JSON [`crate::PartitionContext`].
    fn partitions(
        &self,
        stream: RStr<'_>,
        context: RStr<'_>,
    ) -> RResult<RVec<RString>, PluginError>;

    /// Fetches one page. Returns a JSON [`crate::Page`].
    #[sabi(last_prefix_field)]
    fn fetch(
        &self,
        stream: RStr<'_>,
        partition: RStr<'_>,
        cursor: ROption<RStr<'_>>,
    ) -> RResult<RString, PluginError>;
}

/// An owned, type-erased [`ConnectorAbi`].
pub type ConnectorBox = ConnectorAbi_TO<'static, RBox<()>>;

/// The root module every plugin exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ConnectorModRef)))]
#[sabi(missing_field(panic))]
pub struct ConnectorMod {
    /// The plugin's [`crate::Manifest`] as JSON.
    pub manifest: extern "C" fn() -> RResult<RString, PluginError>,

    /// Creates a connector from a JSON [`crate::ConnectorConfig`] and the host's I/O.
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(config: RStr<'_>, host: HostIoBox) -> RResult<ConnectorBox, PluginError>,
}

impl RootModule for ConnectorModRef {
    declare_root_module_statics! {ConnectorModRef}
    const BASE_NAME: &'static str = "exsync_plugin";
    const NAME: &'static str = "exsync_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
