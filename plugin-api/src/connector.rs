//! The trait a plugin implements, and the glue that exports it safely.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use abi_stable::std_types::{ROption, RResult, RStr, RString, RVec};
use serde::{Deserialize, Serialize};

use crate::abi::{ConnectorAbi, ConnectorAbi_TO, ConnectorBox, HostIoBox};
use crate::host::to_rstring;
use crate::{CheckReport, ConnectorConfig, Host, Manifest, PartitionContext, PluginError, Record};
use crate::{ErrorKind, Stream};

/// A half-open UTC millisecond range `[from_ms, to_ms)`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl TimeRange {
    pub fn new(from_ms: i64, to_ms: i64) -> TimeRange {
        TimeRange { from_ms, to_ms }
    }
    pub fn is_empty(&self) -> bool {
        self.to_ms <= self.from_ms
    }
}

/// One page of a stream partition, as the engine stores it in one transaction.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    /// The cursor to store and pass to the next `fetch`. `None` keeps no cursor: the next fetch
    /// starts from the beginning (right for snapshots such as balances).
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// The time range this page proves complete: every record of the partition in it is in
    /// this page or an earlier one.
    #[serde(default)]
    pub covered: Option<TimeRange>,
    /// A range the exchange cannot serve (beyond its history limit), if the plugin knows one.
    #[serde(default)]
    pub unavailable: Option<TimeRange>,
    /// True when the engine should fetch again right away with `next_cursor`; false when the
    /// partition is caught up until its next scheduled sync.
    #[serde(default)]
    pub more: bool,
}

impl Page {
    /// A last page: these records, nothing more until the next sync.
    pub fn done(records: Vec<Record>) -> Page {
        Page {
            records,
            ..Page::default()
        }
    }
}

/// One configured connection to one exchange account.
///
/// Every method may block on [`Host::http`]. None may spawn threads, open sockets or files,
/// read the clock other than through [`Host::now_ms`], or keep a global logger.
pub trait Connector: Send + Sync + Sized + 'static {
    /// What the plugin declares: credentials, streams, hosts, limits.
    fn manifest() -> Manifest;

    /// Builds a connector; may not do I/O that can fail for a reason the operator would want
    /// reported by `check` instead.
    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError>;

    /// Tests the connection and reports identity, permissions and clock offset.
    fn check(&self) -> Result<CheckReport, PluginError>;

    /// The partition keys of a stream; `vec![String::new()]` where it is not split.
    fn partitions(
        &self,
        stream: Stream,
        context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError>;

    /// Fetches the page that follows `cursor` (`None`: the first page from the configured
    /// start).
    fn fetch(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError>;

    /// [`Connector::fetch`]'s page as the JSON that crosses the ABI; the host calls this one.
    ///
    /// The default encodes what `fetch` returns. A connector may write the page itself, for
    /// instance a record's `raw` copied from the exchange's bytes instead of parsed into a
    /// tree and encoded again; it must describe the page `fetch` would return.
    fn fetch_json(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<String, PluginError> {
        let page = self.fetch(stream, partition, cursor)?;
        serde_json::to_string(&page)
            .map_err(|e| PluginError::plugin(format!("while encoding the page: {e}")))
    }
}

/// Runs `f`, turning a panic into a `plugin` error. Used at every entry point.
#[doc(hidden)]
pub fn guard<T>(what: &str, f: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e),
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".into());
            RResult::RErr(PluginError::new(
                ErrorKind::PLUGIN,
                format!("plugin panicked while {what}: {detail}"),
            ))
        }
    }
}

fn to_json<T: Serialize>(what: &str, value: &T) -> Result<RString, PluginError> {
    serde_json::to_string(value)
        .map(to_rstring)
        .map_err(|e| PluginError::plugin(format!("while encoding {what}: {e}")))
}

fn parse_stream(stream: &str) -> Result<Stream, PluginError> {
    Stream::from_name(stream)
        .ok_or_else(|| PluginError::unsupported(format!("unknown stream `{stream}`")))
}

/// Wraps a [`Connector`] for the ABI: panics are caught and poison the instance, so the
/// host never calls into half-updated state.
#[doc(hidden)]
pub struct Guarded<C> {
    inner: C,
    poisoned: AtomicBool,
}

impl<C: Connector> Guarded<C> {
    fn call<T>(
        &self,
        what: &str,
        f: impl FnOnce(&C) -> Result<T, PluginError>,
    ) -> RResult<T, PluginError> {
        if self.poisoned.load(Ordering::Acquire) {
            return RResult::RErr(PluginError::plugin(
                "connector instance is poisoned by an earlier panic; restart the integration",
            ));
        }
        let result = guard(what, || f(&self.inner));
        if let RResult::RErr(e) = &result {
            if e.kind == ErrorKind::PLUGIN && e.message.starts_with("plugin panicked") {
                self.poisoned.store(true, Ordering::Release);
            }
        }
        result
    }
}

impl<C: Connector> ConnectorAbi for Guarded<C> {
    fn check(&self) -> RResult<RString, PluginError> {
        self.call("checking the connection", |c| {
            to_json("the check report", &c.check()?)
        })
    }

    fn partitions(
        &self,
        stream: RStr<'_>,
        context: RStr<'_>,
    ) -> RResult<RVec<RString>, PluginError> {
        self.call("listing partitions", |c| {
            let stream = parse_stream(stream.as_str())?;
            let context: PartitionContext =
                serde_json::from_str(context.as_str()).map_err(|e| {
                    PluginError::plugin(format!("while decoding the partition context: {e}"))
                })?;
            Ok(c.partitions(stream, &context)?
                .into_iter()
                .map(RString::from)
                .collect())
        })
    }

    fn fetch(
        &self,
        stream: RStr<'_>,
        partition: RStr<'_>,
        cursor: ROption<RStr<'_>>,
    ) -> RResult<RString, PluginError> {
        self.call("fetching a page", |c| {
            let stream = parse_stream(stream.as_str())?;
            let cursor = cursor.as_ref().map(|c| c.as_str()).into_option();
            c.fetch_json(stream, partition.as_str(), cursor)
                .map(to_rstring)
        })
    }
}

/// The root module's `manifest` entry point for connector `C`.
#[doc(hidden)]
pub fn export_manifest<C: Connector>() -> RResult<RString, PluginError> {
    guard("building the manifest", || {
        to_json("the manifest", &C::manifest())
    })
}

/// The root module's `new` entry point for connector `C`.
#[doc(hidden)]
pub fn export_new<C: Connector>(
    config: RStr<'_>,
    host: HostIoBox,
) -> RResult<ConnectorBox, PluginError> {
    guard("creating the connector", || {
        let config: ConnectorConfig = serde_json::from_str(config.as_str()).map_err(|e| {
            PluginError::config(format!("while decoding the connector config: {e}"))
        })?;
        let inner = C::new(config, Host::from_abi(host))?;
        let guarded = Guarded {
            inner,
            poisoned: AtomicBool::new(false),
        };
        Ok(ConnectorAbi_TO::from_value(
            guarded,
            abi_stable::sabi_trait::TD_Opaque,
        ))
    })
}

/// Exports a [`Connector`] as this library's root module.
///
/// Put it once at the end of the plugin's `lib.rs`. The plugin crate must be a `cdylib` and
/// list `abi_stable` among its dependencies (the version `exsync-plugin-api` uses).
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        extern "C" fn __exsync_manifest() -> $crate::abi_stable::std_types::RResult<
            $crate::abi_stable::std_types::RString,
            $crate::PluginError,
        > {
            $crate::__private::export_manifest::<$connector>()
        }

        extern "C" fn __exsync_new(
            config: $crate::abi_stable::std_types::RStr<'_>,
            host: $crate::abi::HostIoBox,
        ) -> $crate::abi_stable::std_types::RResult<$crate::abi::ConnectorBox, $crate::PluginError>
        {
            $crate::__private::export_new::<$connector>(config, host)
        }

        #[$crate::abi_stable::export_root_module]
        pub fn __exsync_root_module() -> $crate::abi::ConnectorModRef {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::abi::ConnectorMod {
                manifest: __exsync_manifest,
                new: __exsync_new,
            }
            .leak_into_prefix()
        }
    };
}
