//! The messages: one request type per verb, one report type per answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The first line each side sends.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub protocol: u32,
    /// `exsyncctl 0.1.0`, `exsyncd 0.1.0`.
    pub agent: String,
}

/// What a client asks for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// `exsyncctl status`
    Status,
    /// `exsyncctl plugins`
    Plugins,
    /// `exsyncctl integrations`
    Integrations,
    /// `exsyncctl test NAME`
    Test(TestRequest),
    /// `exsyncctl sync NAME [--stream S] [--wait]`
    Sync(SyncRequest),
    /// `exsyncctl records NAME --kind KIND`
    Records(RecordsRequest),
    /// `exsyncctl coverage NAME`
    Coverage(CoverageRequest),
    /// `exsyncctl reload [--wait]`
    Reload(ReloadRequest),
    /// `exsyncctl data export --format parquet|csv --dir DIR`
    DataExport(DataExportRequest),
    /// `exsyncctl data generate-sample`
    DataGenerateSample(DataGenerateSampleRequest),
}

impl Request {
    /// The verb, for logs and the audit trail.
    pub fn verb(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Plugins => "plugins",
            Request::Integrations => "integrations",
            Request::Test(_) => "test",
            Request::Sync(_) => "sync",
            Request::Records(_) => "records",
            Request::Coverage(_) => "coverage",
            Request::Reload(_) => "reload",
            Request::DataExport(_) => "data_export",
            Request::DataGenerateSample(_) => "data_generate_sample",
        }
    }

    /// Whether the request changes anything (needs more than read access).
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Request::Sync(_) | Request::Reload(_) | Request::DataGenerateSample(_)
        )
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TestRequest {
    pub integration: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SyncRequest {
    pub integration: String,
    /// One stream, or all the integration's streams.
    #[serde(default)]
    pub stream: Option<String>,
    /// Stream progress events and answer when the sync ends; otherwise answer once it started.
    #[serde(default)]
    pub wait: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordsRequest {
    pub integration: String,
    /// `balance`, `trade`, `order`, `deposit`, `withdrawal`, `ledger`, `candle`.
    pub kind: String,
    /// At most this many records (oldest first); all when absent.
    #[serde(default)]
    pub limit: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CoverageRequest {
    pub integration: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ReloadRequest {
    /// Answer with the outcome once the reload is applied; otherwise answer once it is queued.
    #[serde(default)]
    pub wait: bool,
}

/// What the daemon answers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Hello(Hello),
    /// Non-final: progress of a `sync --wait`.
    Progress(SyncProgress),
    /// Non-final: a batch of stored records; a [`Response::RecordsEnd`] follows.
    RecordBatch(RecordBatch),
    RecordsEnd(RecordsEnd),
    Status(StatusReport),
    Plugins(PluginsReport),
    Integrations(IntegrationsReport),
    Test(TestReport),
    Sync(SyncReport),
    Coverage(CoverageReport),
    Reload(ReloadReport),
    /// Non-final: stored candles of one series, for `data export`; a
    /// [`Response::DataExport`] follows the last one.
    CandleBatch(CandleBatch),
    DataExport(DataExportReport),
    DataGenerateSample(DataGenerateSampleReport),
    Error(ErrorResponse),
}

impl Response {
    /// Whether this response ends the answer to a request.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Response::Progress(_) | Response::RecordBatch(_) | Response::CandleBatch(_)
        )
    }
}

/// An error with the taxonomy's kind and what to do about it.
///
/// Kinds are the plugin taxonomy (`auth`, `permission`, `clock`, `rate_limited`, `banned`,
/// `network`, `exchange_unavailable`, `bad_response`, `unsupported`, `config`, `plugin`) plus
/// the control plane's own: `protocol` (malformed message, version mismatch), `not_found`
/// (no such integration or stream), `denied` (the peer may not change anything), `busy`,
/// `internal`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorInfo {
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub hint: Option<String>,
    /// When it happened, UTC ms.
    #[serde(default)]
    pub at_ms: Option<i64>,
}

pub type ErrorResponse = ErrorInfo;

impl ErrorInfo {
    pub fn new(kind: &str, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            kind: kind.to_owned(),
            message: message.into(),
            hint: None,
            at_ms: None,
        }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> ErrorInfo {
        self.hint = Some(hint.into());
        self
    }
}

/// A problem the daemon found and keeps running with: a bad plugin file, a broken
/// integration file, an unknown exchange, a missing credential.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What it concerns: a file path or an integration name.
    pub subject: String,
    pub error: ErrorInfo,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DaemonInfo {
    pub version: String,
    pub protocol: u32,
    pub pid: u32,
    pub started_ms: i64,
    pub config_dir: String,
    pub state_dir: String,
    pub plugin_dir: String,
    pub socket: String,
    pub metrics_listen: String,
}

/// `exsyncctl status`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct StatusReport {
    pub daemon: DaemonInfo,
    pub plugins: Vec<PluginInfo>,
    pub integrations: Vec<IntegrationInfo>,
    /// Everything that is wrong right now, across plugins, config and integrations.
    pub problems: Vec<Problem>,
    /// The last reload of configuration and plugins (none since the start if absent).
    #[serde(default)]
    pub last_reload: Option<Box<ReloadReport>>,
}

/// One file in the plugin directory, loaded or refused.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PluginInfo {
    /// The file in the plugin directory.
    pub file: String,
    /// `loaded` or `refused`.
    pub state: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// The plugin API version the daemon speaks (and the plugin was accepted for).
    #[serde(default)]
    pub api_version: Option<String>,
    pub sha256: String,
    /// How many different code versions of this plugin were loaded since the daemon started.
    pub generation: u32,
    /// Why it was refused.
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PluginsReport {
    pub plugins: Vec<PluginInfo>,
}

/// One configured integration.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct IntegrationInfo {
    pub name: String,
    pub exchange: String,
    pub file: String,
    /// `ready`, `syncing`, `failing` (last sync failed), `broken` (cannot run: see `error`).
    pub state: String,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    pub streams: Vec<StreamStatus>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct IntegrationsReport {
    pub integrations: Vec<IntegrationInfo>,
}

/// The state of one stream of one integration.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct StreamStatus {
    pub stream: String,
    pub interval_s: u64,
    /// `idle`, `running`.
    pub state: String,
    #[serde(default)]
    pub last_success_ms: Option<i64>,
    #[serde(default)]
    pub last_attempt_ms: Option<i64>,
    #[serde(default)]
    pub next_run_ms: Option<i64>,
    #[serde(default)]
    pub last_error: Option<ErrorInfo>,
    /// Records of this stream's kind in the store.
    pub records: u64,
}

/// `exsyncctl test NAME`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct TestReport {
    pub integration: String,
    pub exchange: String,
    pub account: String,
    #[serde(default)]
    pub can_read: Option<bool>,
    #[serde(default)]
    pub can_trade: Option<bool>,
    #[serde(default)]
    pub can_withdraw: Option<bool>,
    #[serde(default)]
    pub clock_offset_ms: Option<i64>,
    /// Credential names with masked values (`abcd****mnop`).
    pub credentials: Vec<(String, String)>,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Non-final: where a sync stands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SyncProgress {
    pub integration: String,
    pub stream: String,
    pub partition: String,
    pub partitions_done: u64,
    pub partitions_total: u64,
    /// Records stored by this sync so far, all streams.
    pub records: u64,
    pub pages: u64,
}

/// The outcome of one stream's sync.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct StreamSyncResult {
    pub stream: String,
    /// `ok` or `failed`.
    pub result: String,
    pub records: u64,
    pub pages: u64,
    pub partitions: u64,
    pub duration_ms: u64,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

/// `exsyncctl sync NAME`: without `--wait`, `started` is true and `streams` is empty.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SyncReport {
    pub integration: String,
    pub started: bool,
    pub streams: Vec<StreamSyncResult>,
}

impl SyncReport {
    pub fn failed(&self) -> bool {
        self.streams.iter().any(|s| s.result != "ok")
    }
}

/// Non-final: stored records, each the JSON object `exsyncctl records --format json` prints.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct RecordBatch {
    pub records: Vec<Value>,
}

/// Final answer to `records`: how many were sent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct RecordsEnd {
    pub count: u64,
}

/// A half-open UTC ms range.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Range {
    pub from_ms: i64,
    pub to_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PartitionCoverage {
    pub partition: String,
    /// Ranges proven complete.
    pub synced: Vec<Range>,
    /// Ranges the exchange cannot serve (beyond its history limit).
    pub unavailable: Vec<Range>,
    /// The last failure on this partition, if it has not succeeded since.
    #[serde(default)]
    pub failed: Option<ErrorInfo>,
    /// Whether a cursor is stored (the next sync resumes from it).
    pub has_cursor: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct StreamCoverage {
    pub stream: String,
    /// The configured start of history, UTC ms.
    #[serde(default)]
    pub start_ms: Option<i64>,
    /// Before this the exchange keeps nothing (its history limit), if it says.
    #[serde(default)]
    pub limit_from_ms: Option<i64>,
    pub partitions: Vec<PartitionCoverage>,
}

/// `exsyncctl coverage NAME`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CoverageReport {
    pub integration: String,
    pub streams: Vec<StreamCoverage>,
}

/// The result of checking a configuration directory offline (`exsyncctl validate DIR`, which
/// runs `exsyncd --validate`; that command prints this as JSON on stdout).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ValidateReport {
    pub config_dir: String,
    /// Every file looked at: `exsyncd.toml` and each `integrations.d/*.toml`.
    pub files: Vec<FileCheck>,
}

impl ValidateReport {
    pub fn ok(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none())
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct FileCheck {
    pub file: String,
    /// The integration it defines, if it is an integration file.
    #[serde(default)]
    pub integration: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

/// `exsyncctl reload`: what a reload of configuration and plugins changed, or why it failed.
///
/// A reload validates everything before it stops anything: an integration file or a plugin
/// that is invalid changes nothing of what it defines (the running version stays, and the
/// reason is in `errors`); everything valid is applied.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ReloadReport {
    /// `ok` (everything applied), `failed` (something was refused: see `errors`), or
    /// `queued` (`reload` without `--wait`: the outcome is in `status` later).
    pub result: String,
    /// What asked for it: `watch`, `signal`, `ctl`.
    #[serde(default)]
    pub trigger: String,
    /// When it finished, UTC ms.
    #[serde(default)]
    pub at_ms: i64,
    #[serde(default)]
    pub duration_ms: u64,
    /// Integrations started, stopped, restarted with new settings, and left alone.
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
    #[serde(default)]
    pub changed: Vec<String>,
    #[serde(default)]
    pub unchanged: Vec<String>,
    /// Plugin files loaded for the first time, replaced by a new build, and removed.
    #[serde(default)]
    pub plugins_added: Vec<String>,
    #[serde(default)]
    pub plugins_replaced: Vec<String>,
    #[serde(default)]
    pub plugins_removed: Vec<String>,
    /// Daemon settings changed in `exsyncd.toml` that only a restart applies.
    #[serde(default)]
    pub restart_required: Vec<String>,
    /// What was refused, and why; the running version of each stays.
    #[serde(default)]
    pub errors: Vec<Problem>,
}

impl ReloadReport {
    pub fn failed(&self) -> bool {
        self.result == "failed"
    }
}

/// The exchange id (and store integration name) of the synthetic series that
/// `exsyncctl data generate-sample` makes: no exchange serves it, and it is marked synthetic
/// wherever it shows.
pub const SAMPLE_EXCHANGE: &str = "sample";

/// `exsyncctl data export`: which stored candles to stream. Empty lists mean all.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataExportRequest {
    /// Only series of this exchange id (`binance`, `sample`).
    #[serde(default)]
    pub exchange: Option<String>,
    /// Unified (`BTC/USDT`) or native (`BTCUSDT`) symbols.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// `1m`, `1h`, `4h`...
    #[serde(default)]
    pub timeframes: Vec<String>,
    /// Also the candle still open (not final); by default only final candles.
    #[serde(default)]
    pub include_open: bool,
}

/// One stored candle as `data export` streams it: `[open_time, open, high, low, close,
/// volume, final]`, amounts as the exact decimal strings the store holds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CandleRow(
    pub i64,
    pub String,
    pub String,
    pub String,
    pub String,
    pub String,
    pub bool,
);

/// Non-final: a batch of candles of one series, in no promised order. Batches of one series
/// follow each other; a series may come again (two integrations of one exchange), and the
/// reader then merges it like an existing file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CandleBatch {
    /// The integration's exchange id (`binance`), or [`SAMPLE_EXCHANGE`].
    pub exchange: String,
    /// The integration the candles are stored under.
    pub integration: String,
    /// The exchange's own symbol (`BTCUSDT`).
    pub symbol: String,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
    pub timeframe: String,
    /// Made up by `data generate-sample`, not fetched from an exchange.
    pub synthetic: bool,
    pub rows: Vec<CandleRow>,
}

/// Final answer to `data export`: what the daemon sent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataExportReport {
    pub series: u64,
    pub candles: u64,
    /// Candles left out because they are still open (without `include_open`).
    pub skipped_open: u64,
}

/// `exsyncctl data generate-sample`: synthetic candles, a pure function of these fields.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataGenerateSampleRequest {
    pub seed: u64,
    /// Unified symbols; `BTC/USDT`, `ETH/USDT`, `SOL/USDT` when empty.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// `1h` and `4h` when empty.
    #[serde(default)]
    pub timeframes: Vec<String>,
    /// How many days of history; 90 when absent.
    #[serde(default)]
    pub days: Option<u32>,
    /// Where the series ends (exclusive), UTC ms on a day boundary; the start of today (UTC)
    /// when absent.
    #[serde(default)]
    pub end_ms: Option<i64>,
}

/// What `data generate-sample` stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataGenerateSampleReport {
    /// Always [`SAMPLE_EXCHANGE`].
    pub exchange: String,
    pub seed: u64,
    pub from_ms: i64,
    pub to_ms: i64,
    /// `BTC/USDT 1h` and so on.
    pub series: Vec<String>,
    pub candles: u64,
    /// Time spent making the candles and merging them into the store.
    pub generate_ms: u64,
    pub store_ms: u64,
}
