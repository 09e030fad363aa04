//! Loads plugin libraries and calls them with typed values: the host's half of the ABI.
//!
//! Used by `exsyncd` and by tools that exercise a plugin outside the daemon. Libraries are
//! loaded with `lib_header_from_path(..).init_root_module()`, never `RootModule::load_from_*`,
//! which caches one module per type per process and would hand back the first plugin loaded
//! for every later one. Loaded libraries are never unloaded.

use std::fmt;
use std::path::Path;

use abi_stable::library::{lib_header_from_path, LibraryError};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString};

use crate::abi::{ConnectorBox, ConnectorModRef, HostIo, HostIo_TO};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{
    CheckReport, ConnectorConfig, Manifest, Page, PartitionContext, PluginError, Stream, TimeRange,
};

/// Why a file could not be used as a plugin, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The dynamic loader refused the file (not a shared library, wrong architecture,
    /// missing dependency).
    Open(String),
    /// A shared library, but it exports no exsync root module.
    NotAPlugin(String),
    /// Built against an incompatible `exsync-plugin-api` version.
    IncompatibleVersion(String),
    /// Same version number, but the types it was built with have another layout.
    AbiMismatch(String),
    /// The plugin loaded but its manifest is missing or invalid.
    Manifest(String),
}

impl LoadError {
    /// A stable snake_case reason, for metrics and ctl.
    pub fn reason(&self) -> &'static str {
        match self {
            LoadError::Open(_) => "open_failed",
            LoadError::NotAPlugin(_) => "not_a_plugin",
            LoadError::IncompatibleVersion(_) => "incompatible_version",
            LoadError::AbiMismatch(_) => "abi_mismatch",
            LoadError::Manifest(_) => "bad_manifest",
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Open(m) => write!(f, "cannot open the library: {m}"),
            LoadError::NotAPlugin(m) => write!(f, "not an exsync plugin: {m}"),
            LoadError::IncompatibleVersion(m) => write!(f, "incompatible plugin API version: {m}"),
            LoadError::AbiMismatch(m) => write!(f, "plugin ABI layout mismatch: {m}"),
            LoadError::Manifest(m) => write!(f, "invalid manifest: {m}"),
        }
    }
}

impl std::error::Error for LoadError {}

fn classify(err: LibraryError) -> LoadError {
    match err {
        LibraryError::OpenError { err, .. } => LoadError::Open(err.to_string()),
        LibraryError::GetSymbolError { .. } => {
            LoadError::NotAPlugin("it exports no abi_stable root module".into())
        }
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => LoadError::IncompatibleVersion(format!(
            "the plugin was built against {actual_version}, this exsyncd speaks {expected_version}"
        )),
        LibraryError::ParseVersionError(e) => LoadError::IncompatibleVersion(e.to_string()),
        LibraryError::AbiInstability(e) => {
            // The full report lists every mismatched field; its first lines say enough.
            let text = e.to_string();
            let short: String = text.lines().take(6).collect::<Vec<_>>().join(" ");
            LoadError::AbiMismatch(short)
        }
        LibraryError::InvalidAbiHeader(h) => {
            LoadError::NotAPlugin(format!("built with an incompatible abi_stable ({h:?})"))
        }
        LibraryError::InvalidCAbi { .. } => {
            LoadError::AbiMismatch("built by a compiler with another C ABI".into())
        }
        LibraryError::RootModule { err, .. } => {
            LoadError::Manifest(format!("the root module failed to initialise: {err}"))
        }
        other => LoadError::NotAPlugin(other.to_string()),
    }
}

/// A loaded plugin library: its root module and its manifest.
#[derive(Clone)]
pub struct PluginLibrary {
    module: ConnectorModRef,
    manifest: Manifest,
}

impl PluginLibrary {
    /// Loads the library at `path` (give each distinct file content its own path: glibc returns
    /// the already-loaded code for a path it has opened before).
    pub fn load(path: &Path) -> Result<PluginLibrary, LoadError> {
        let header = lib_header_from_path(path).map_err(classify)?;
        let module = header
            .init_root_module::<ConnectorModRef>()
            .map_err(classify)?;
        let json = match (module.manifest())() {
            RResult::ROk(json) => json,
            RResult::RErr(e) => return Err(LoadError::Manifest(e.to_string())),
        };
        let manifest: Manifest =
            serde_json::from_str(&json).map_err(|e| LoadError::Manifest(e.to_string()))?;
        manifest.validate().map_err(LoadError::Manifest)?;
        Ok(PluginLibrary { module, manifest })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Creates a connector for one integration.
    pub fn instantiate<H>(
        &self,
        config: &ConnectorConfig,
        host: H,
    ) -> Result<ConnectorHandle, PluginError>
    where
        H: HostIo + Send + Sync + 'static,
    {
        let json = serde_json::to_string(config).map_err(|e| {
            PluginError::config(format!("while encoding the connector config: {e}"))
        })?;
        let host = HostIo_TO::from_value(host, TD_Opaque);
        match (self.module.new())(RStr::from(json.as_str()), host) {
            RResult::ROk(inner) => Ok(ConnectorHandle { inner }),
            RResult::RErr(e) => Err(e),
        }
    }
}

/// A connector instance, called with typed values.
pub struct ConnectorHandle {
    inner: ConnectorBox,
}

/// A page as the plugin sent it, each record still the JSON the plugin wrote: the host checks
/// every record ([`crate::Record::from_json`]) and stores the bytes it received, without
/// building and re-encoding a tree it does not need.
#[derive(Deserialize, Debug)]
pub struct RawPage {
    pub records: Vec<Box<RawValue>>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub covered: Option<TimeRange>,
    #[serde(default)]
    pub unavailable: Option<TimeRange>,
    #[serde(default)]
    pub more: bool,
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, PluginError> {
    serde_json::from_str(json)
        .map_err(|e| PluginError::plugin(format!("the plugin returned an invalid {what}: {e}")))
}

impl ConnectorHandle {
    pub fn check(&self) -> Result<CheckReport, PluginError> {
        let json = self.inner.check().into_result()?;
        decode("check report", &json)
    }

    pub fn partitions(
        &self,
        stream: Stream,
        context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        let context = serde_json::to_string(context).map_err(|e| {
            PluginError::plugin(format!("while encoding the partition context: {e}"))
        })?;
        let keys = self
            .inner
            .partitions(stream.as_str().into(), context.as_str().into())
            .into_result()?;
        Ok(keys.into_iter().map(String::from).collect())
    }

    pub fn fetch(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        decode("page", &self.fetch_json(stream, partition, cursor)?)
    }

    /// Like [`ConnectorHandle::fetch`], with the records left as JSON.
    pub fn fetch_raw(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<RawPage, PluginError> {
        decode("page", &self.fetch_json(stream, partition, cursor)?)
    }

    fn fetch_json(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<RString, PluginError> {
        self.inner
            .fetch(
                stream.as_str().into(),
                partition.into(),
                cursor.map(RStr::from).into(),
            )
            .into_result()
    }
}
