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
    /// `exsyncctl credentials set NAME` (values from a no-echo prompt or stdin lines)
    CredentialsSet(CredentialsRequest),
    /// `exsyncctl credentials rotate NAME`: tested against the exchange before it replaces
    CredentialsRotate(CredentialsRequest),
    /// `exsyncctl backup FILE`
    Backup(BackupRequest),
    /// `exsyncctl audit [--since DURATION|DATE]`
    Audit(AuditRequest),
    /// `exsyncctl data sources`
    DataSources,
    /// `exsyncctl data list`
    DataList,
    /// `exsyncctl data info SYMBOL --timeframe TF [--exchange EX]`
    DataInfo(DataInfoRequest),
    /// `exsyncctl data validate [SYMBOL] [--timeframe TF] [--exchange EX]`
    DataValidate(DataValidateRequest),
    /// `exsyncctl data download --exchange EX --symbols S,.. --timeframes TF,.. --days N`
    DataDownload(DataDownloadRequest),
    /// `exsyncctl data export --format parquet|csv --dir DIR`
    DataExport(DataExportRequest),
    /// `exsyncctl data generate-sample`
    DataGenerateSample(DataGenerateSampleRequest),
    /// `exsyncctl pause NAME`: no scheduled syncs until `resume` (kept across restarts)
    Pause(PauseRequest),
    /// `exsyncctl resume NAME`: clears a pause set by `pause` or by `on_error = "pause"`
    Resume(ResumeRequest),
    /// `exsyncctl prune [--dry-run] [NAME]`: applies the integrations' `retention` now
    Prune(PruneRequest),
    /// `exsyncctl debug record NAME --dir DIR`: runs a sync and streams its redacted
    /// request/response pairs ([`Response::DebugRecordPair`]) for ctl to save
    DebugRecord(DebugRecordRequest),
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
            Request::CredentialsSet(_) => "credentials set",
            Request::CredentialsRotate(_) => "credentials rotate",
            Request::Backup(_) => "backup",
            Request::Audit(_) => "audit",
            Request::DataSources => "data sources",
            Request::DataList => "data list",
            Request::DataInfo(_) => "data info",
            Request::DataValidate(_) => "data validate",
            Request::DataDownload(_) => "data download",
            Request::DataExport(_) => "data export",
            Request::DataGenerateSample(_) => "data generate-sample",
            Request::Pause(_) => "pause",
            Request::Resume(_) => "resume",
            Request::Prune(_) => "prune",
            Request::DebugRecord(_) => "debug record",
        }
    }

    /// The integration (or other object) a request acts on, for the audit trail: a name,
    /// never a secret.
    pub fn target(&self) -> Option<String> {
        match self {
            Request::Status | Request::Plugins | Request::Integrations | Request::Audit(_) => None,
            Request::Reload(_) => None,
            Request::Test(r) => Some(r.integration.clone()),
            Request::Sync(r) => Some(match &r.stream {
                Some(stream) => format!("{}/{stream}", r.integration),
                None => r.integration.clone(),
            }),
            Request::Records(r) => Some(format!("{}/{}", r.integration, r.kind)),
            Request::Coverage(r) => Some(r.integration.clone()),
            Request::CredentialsSet(r) | Request::CredentialsRotate(r) => {
                Some(r.integration.clone())
            }
            Request::Backup(r) => Some(r.file.clone()),
            Request::DataSources | Request::DataList | Request::DataInfo(_) => None,
            Request::DataValidate(_) => None,
            Request::DataDownload(r) => Some(format!("{}: {}", r.exchange, r.symbols.join(","))),
            Request::DataExport(_) | Request::DataGenerateSample(_) => None,
            Request::Pause(r) => Some(r.integration.clone()),
            Request::Resume(r) => Some(r.integration.clone()),
            Request::Prune(r) => r.integration.clone(),
            Request::DebugRecord(r) => Some(match &r.stream {
                Some(stream) => format!("{}/{stream}", r.integration),
                None => r.integration.clone(),
            }),
        }
    }

    /// Whether the request changes anything (needs more than read access).
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Request::Sync(_)
                | Request::Reload(_)
                | Request::CredentialsSet(_)
                | Request::CredentialsRotate(_)
                | Request::Backup(_)
                | Request::DataDownload(_)
                | Request::DataGenerateSample(_)
                | Request::Pause(_)
                | Request::Resume(_)
                | Request::Prune(_)
                | Request::DebugRecord(_)
        )
    }

    /// Whether the request reads or writes stored credentials (the audit log records each).
    /// A backup copies them (encrypted), so it counts.
    pub fn touches_credentials(&self) -> bool {
        matches!(
            self,
            Request::CredentialsSet(_) | Request::CredentialsRotate(_) | Request::Backup(_)
        )
    }

    /// Whether the request signs requests to the exchange with an integration's credentials
    /// (`test`): a use of the key, not a read of the daemon's state.
    pub fn uses_credentials(&self) -> bool {
        matches!(self, Request::Test(_))
    }

    /// The right the peer needs: [`Right::Change`] for changes and anything that touches or
    /// uses credentials, [`Right::Read`] for the rest (status, plugins, integrations,
    /// records, coverage, audit).
    pub fn needs(&self) -> Right {
        if self.is_audited() {
            Right::Change
        } else {
            Right::Read
        }
    }

    /// Whether the request is written to the audit log (whatever its outcome): every change
    /// and every credential access or use.
    pub fn is_audited(&self) -> bool {
        self.is_change() || self.touches_credentials() || self.uses_credentials()
    }
}

/// A secret value carried by a request: its `Debug` shows nothing and its memory is zeroised
/// when it is dropped. Serialised as the plain string (the socket is local and guarded).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
    /// The value itself: use it at once, copy it nowhere that outlives the use.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// One credential field: its manifest name (`api_key`, `api_secret`, `passphrase`...) and value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CredentialField {
    pub name: String,
    pub value: Secret,
}

/// `credentials set` and `credentials rotate`: every field of the integration's credentials.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CredentialsRequest {
    pub integration: String,
    pub fields: Vec<CredentialField>,
}

/// `exsyncctl backup FILE`: an absolute path the daemon writes (it must not exist yet).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct BackupRequest {
    pub file: String,
}

/// What a peer of the control socket may do, from least to most.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Right {
    /// Nothing: neither root, nor the daemon's user, nor in the socket's group.
    None,
    /// Status, plugins, integrations, records, coverage, audit: members of the socket group.
    Read,
    /// Everything: root and the daemon's own user.
    Change,
}

impl Right {
    pub fn as_str(self) -> &'static str {
        match self {
            Right::None => "none",
            Right::Read => "read",
            Right::Change => "change",
        }
    }
}

/// `exsyncctl audit [--since DURATION|DATE]`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct AuditRequest {
    /// Only entries at or after this UTC ms; all when absent.
    #[serde(default)]
    pub since_ms: Option<i64>,
}

/// `exsyncctl pause NAME`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PauseRequest {
    pub integration: String,
}

/// `exsyncctl prune [--dry-run] [NAME]`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PruneRequest {
    /// One integration, or all.
    #[serde(default)]
    pub integration: Option<String>,
    /// Count what would go; remove nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The answer to `prune`: what was removed (or would be, on a dry run).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PruneReport {
    pub dry_run: bool,
    pub pruned: Vec<PrunedKind>,
}

/// One kind of one integration: records older than `before_ms` removed (kind `raw`: their raw
/// JSON dropped, the records kept).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PrunedKind {
    pub integration: String,
    pub kind: String,
    pub before_ms: i64,
    pub records: u64,
}

/// `exsyncctl resume NAME`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ResumeRequest {
    pub integration: String,
}

/// The answer to `pause` and `resume`: the integration's pause state afterwards.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PauseReport {
    pub integration: String,
    /// Whether the request changed anything (pausing a paused integration does not).
    pub changed: bool,
    /// Why it is still paused, if it is (`enabled = false` in its file outlasts `resume`).
    #[serde(default)]
    pub paused: Option<PauseInfo>,
}

/// Why an integration is paused: it runs no scheduled sync, and a manual sync needs `--force`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PauseInfo {
    /// `config` (`enabled = false`), `ctl` (`exsyncctl pause`), `failures` (`on_error = "pause"`).
    pub by: String,
    pub reason: String,
    /// What to do to resume it.
    pub hint: String,
    /// When it was paused, UTC ms (absent for `config`).
    #[serde(default)]
    pub since_ms: Option<i64>,
}

/// One entry of the append-only audit log: who did what, when, with which result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct AuditEntry {
    /// Position in the log, from 1, never reused.
    pub seq: u64,
    /// When the daemon decided, UTC ms.
    pub at_ms: i64,
    /// Where it came from: `ctl` (a peer of the control socket), `signal` (SIGHUP) or
    /// `watch` (the config watcher); the last two are the daemon itself.
    pub origin: String,
    /// The peer's uid (the daemon's own for `signal` and `watch`).
    pub uid: u32,
    /// The peer's pid (the daemon's own for `signal` and `watch`).
    pub pid: u32,
    /// The uid's user name, where it resolves.
    #[serde(default)]
    pub user: Option<String>,
    /// The verb (`sync`, `reload`, ...).
    pub verb: String,
    /// What it acted on (`binance-main/trades`), never a secret.
    #[serde(default)]
    pub target: Option<String>,
    /// `ok`, `failed` (done, but part of it failed: a stream, a refused file), or the error
    /// kind of the answer (`denied` when the peer lacked the right).
    pub result: String,
    /// The answer's error message, if any (messages never carry secrets).
    #[serde(default)]
    pub message: Option<String>,
}

/// `exsyncctl audit`: entries oldest first.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct AuditReport {
    pub entries: Vec<AuditEntry>,
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
    /// Sync even if the integration is paused (without it, a paused integration refuses).
    #[serde(default)]
    pub force: bool,
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
    Credentials(CredentialsReport),
    Backup(BackupReport),
    Audit(AuditReport),
    DataSources(DataSourcesReport),
    DataList(DataListReport),
    DataInfo(DataInfoReport),
    DataValidate(DataValidateReport),
    DataDownload(DataDownloadReport),
    /// Non-final: stored candles of one series, for `data export`; a
    /// [`Response::DataExport`] follows the last one.
    CandleBatch(CandleBatch),
    DataExport(DataExportReport),
    DataGenerateSample(DataGenerateSampleReport),
    Pause(PauseReport),
    Prune(PruneReport),
    /// Non-final: one recorded request/response pair of a `debug record`; a
    /// [`Response::DebugRecord`] follows the last one.
    DebugRecordPair(RecordedPair),
    DebugRecord(DebugRecordReport),
    Error(ErrorResponse),
}

impl Response {
    /// Whether this response ends the answer to a request.
    pub fn is_final(&self) -> bool {
        !matches!(
            self,
            Response::Progress(_)
                | Response::RecordBatch(_)
                | Response::CandleBatch(_)
                | Response::DebugRecordPair(_)
        )
    }
}

/// An error with the taxonomy's kind and what to do about it.
///
/// Kinds are the plugin taxonomy (`auth`, `permission`, `clock`, `rate_limited`, `banned`,
/// `network`, `exchange_unavailable`, `bad_response`, `unsupported`, `config`, `plugin`), the
/// daemon's own `store` (the store could not write: a full disk), plus the control plane's own: `protocol` (malformed message, version mismatch), `not_found`
/// (no such integration or stream), `denied` (the peer lacks the right the verb needs), `busy`,
/// `internal`, and [`ERROR_KIND_FILE`] (a local file or directory of the operator's).
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

/// The kind of an error with a local file or directory: `data export` into a directory it
/// cannot create or write, or a file in the way that is damaged or not an exsync export. The
/// message names the path and what was being done; what was there is left as it was.
pub const ERROR_KIND_FILE: &str = "file";

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
    /// `ready`, `syncing`, `failing` (last sync failed), `broken` (cannot run: see `error`),
    /// `paused` (see `paused`).
    pub state: String,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    pub streams: Vec<StreamStatus>,
    /// Credentials kept in the daemon's encrypted store (`credentials = "store"`).
    #[serde(default)]
    pub credentials: Option<CredentialAge>,
    /// Why it runs no scheduled sync, if it is paused.
    #[serde(default)]
    pub paused: Option<PauseInfo>,
    /// The sync policies from its file, as applied (`exsyncctl integrations NAME`).
    #[serde(default)]
    pub policy: Option<PolicyInfo>,
}

/// An integration's sync policies as the daemon applies them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PolicyInfo {
    /// `enabled` in the file.
    pub enabled: bool,
    /// `sync_windows`, as written; empty means any time.
    #[serde(default)]
    pub sync_windows: Vec<String>,
    /// When the next window opens, UTC ms (absent when there are no windows or one is open).
    #[serde(default)]
    pub next_window_ms: Option<i64>,
    /// Whether a window is open now (true when there are no windows).
    #[serde(default)]
    pub in_window: bool,
    /// The jitter bound, ms.
    #[serde(default)]
    pub jitter_ms: u64,
    /// `on_error`: `retry` or `pause`.
    #[serde(default)]
    pub on_error: String,
    #[serde(default)]
    pub max_consecutive_failures: Option<u32>,
    /// Syncs in a row that failed.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// How far back each stream's history is kept (`trades: from 2024-01-01T00:00:00Z`);
    /// `integration` for the whole integration.
    #[serde(default)]
    pub history: Vec<(String, String)>,
    /// `retention` per kind (`trade`: `forever`, `candle`: `400days`, `raw`: `90days`).
    #[serde(default)]
    pub retention: Vec<(String, String)>,
    /// What the daemon keeps of a stream: `("balances", "wallets: spot, funding")`.
    #[serde(default)]
    pub filters: Vec<(String, String)>,
    /// What the daemon asks the exchange for beyond the defaults:
    /// `("orders", "open orders are not polled (poll_open = false)")`,
    /// `("transfers", "include: deposits, internal")`. Empty: everything (the default).
    #[serde(default)]
    pub fetches: Vec<(String, String)>,
    /// `primary_currency`, as configured.
    #[serde(default)]
    pub primary_currency: Option<String>,
    /// Why the primary currency looks wrong (not among the assets the account holds), or
    /// that it is not checked yet (no balances synced).
    #[serde(default)]
    pub primary_currency_warning: Option<String>,
}

/// How old an integration's stored credentials are.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CredentialAge {
    /// When they were set or last rotated, UTC ms; absent when none are stored.
    #[serde(default)]
    pub set_ms: Option<i64>,
    #[serde(default)]
    pub age_s: Option<u64>,
    /// `credential_max_age` in exsyncd.toml.
    pub max_age_s: u64,
    /// Why they need attention: older than the maximum age, none stored, master key wrong.
    #[serde(default)]
    pub warning: Option<String>,
}

/// `exsyncctl credentials set|rotate NAME`: what was stored and what the exchange says the
/// key may do. Values appear only masked (`abcd****mnop`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CredentialsReport {
    pub integration: String,
    pub exchange: String,
    /// `set` or `rotated`.
    pub action: String,
    pub account: String,
    #[serde(default)]
    pub can_read: Option<bool>,
    #[serde(default)]
    pub can_trade: Option<bool>,
    #[serde(default)]
    pub can_withdraw: Option<bool>,
    pub credentials: Vec<(String, String)>,
    /// Loud warnings: a key that can withdraw.
    #[serde(default)]
    pub warnings: Vec<String>,
    pub set_ms: i64,
}

/// `exsyncctl backup FILE`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct BackupReport {
    pub file: String,
    /// Size of the encrypted file.
    pub bytes: u64,
    pub at_ms: i64,
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

/// Which candle series a `data` command means. A symbol matches the unified form
/// (`BTC/USDT`) or the exchange's own (`BTCUSDT`); absent fields match every series.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SeriesSelector {
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub timeframe: Option<String>,
    #[serde(default)]
    pub exchange: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataInfoRequest {
    pub series: SeriesSelector,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataValidateRequest {
    pub series: SeriesSelector,
    /// A price move larger than this fraction (`"0.2"`: 20 %) between two candles or inside
    /// one is a spike; the series' configured threshold when absent.
    #[serde(default)]
    pub spike_threshold: Option<String>,
    /// The reports kept from the last check of each series (after every candles sync and
    /// every `data validate`, kept across restarts), without checking again.
    #[serde(default)]
    pub last: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataDownloadRequest {
    /// The plugin id (`binance`).
    pub exchange: String,
    /// Unified symbols (`BTC/USDT`).
    pub symbols: Vec<String>,
    /// Timeframes (`1m 5m 15m 1h 4h 1d`).
    pub timeframes: Vec<String>,
    /// How many days back from now.
    pub days: u32,
}

/// One configured public data source (`datasources.d/NAME.toml`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataSourceInfo {
    pub name: String,
    /// The integration name it syncs under (`data:NAME`).
    pub integration: String,
    pub exchange: String,
    pub file: String,
    pub symbols: Vec<String>,
    pub timeframes: Vec<String>,
    pub interval_s: u64,
    pub history_days: u32,
    /// `ready`, `syncing`, `failing`, `broken`.
    pub state: String,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
}

/// `exsyncctl data sources`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataSourcesReport {
    pub sources: Vec<DataSourceInfo>,
}

/// One stored candle series: every candle of one (exchange, symbol, timeframe), merged by
/// open time over the integrations, data sources and downloads that fetched it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SeriesInfo {
    pub exchange: String,
    /// Unified (`BTC/USDT`) where the plugin knows base and quote, else as the exchange writes it.
    pub symbol: String,
    pub symbol_native: String,
    pub timeframe: String,
    /// Distinct open times stored.
    pub count: u64,
    #[serde(default)]
    pub first_ms: Option<i64>,
    #[serde(default)]
    pub last_ms: Option<i64>,
    /// Whether the last candle is still open (not final).
    #[serde(default)]
    pub last_open: bool,
    /// The integrations whose store holds candles of it.
    pub sources: Vec<String>,
}

/// `exsyncctl data list`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataListReport {
    pub series: Vec<SeriesInfo>,
}

/// `exsyncctl data info`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataInfoReport {
    pub series: SeriesInfo,
    /// Runs of missing candles, and how many candles they miss.
    pub gaps: u64,
    pub missing: u64,
    /// The first runs of missing candles: `[from, to)` open times.
    pub gap_ranges: Vec<Range>,
    /// Now minus the last candle's open time.
    #[serde(default)]
    pub last_age_ms: Option<i64>,
    /// Now, on the daemon's clock.
    pub at_ms: i64,
    /// The open time of the newest final (closed) candle.
    #[serde(default)]
    pub last_final_ms: Option<i64>,
    /// The open time of the newest candle when it is not final: stored while still open, it is
    /// replaced by the final one at a later sync.
    #[serde(default)]
    pub open_ms: Option<i64>,
    /// Whether that candle's period has ended by the daemon's clock: it was stored while open
    /// and no sync has replaced it since (calendar timeframes never say so).
    #[serde(default)]
    pub open_overdue: bool,
}

/// One kind of defect found in a series.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct QualityFinding {
    /// `gap`, `zero_volume`, `duplicate`, `stale`, `invalid_value`, `non_positive`,
    /// `spike_between`, `spike_inside`, `ohlc_high`, `ohlc_low`, `ohlc_range`, `rejected`.
    pub check: String,
    /// `error`, `warning`, `info`.
    pub severity: String,
    /// How many candles (for `gap`: missing candles) it concerns.
    pub count: u64,
    /// The first offending open times, UTC ms, oldest first.
    pub first_ms: Vec<i64>,
    /// What was seen, in words.
    pub detail: String,
}

/// The quality report of one series.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct SeriesQuality {
    pub series: SeriesInfo,
    pub checked_at_ms: i64,
    /// The spike threshold used, a fraction (`0.2`).
    pub spike_threshold: String,
    /// Empty when the series is clean.
    pub findings: Vec<QualityFinding>,
}

/// `exsyncctl data validate`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataValidateReport {
    pub series: Vec<SeriesQuality>,
}

impl DataValidateReport {
    /// Whether any series has a finding of severity `error` or `warning`.
    pub fn has_issues(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| &s.findings)
            .any(|f| f.severity != "info")
    }
}

/// `exsyncctl data download`: the sync it ran and the series as they stand after it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DataDownloadReport {
    pub exchange: String,
    pub days: u32,
    pub sync: SyncReport,
    pub series: Vec<SeriesInfo>,
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
/// volume, final]`, each amount an exact integer of 10^-scale units, the scale of its column
/// given once per batch in [`CandleBatch::scales`]: `42000.5` at scale 2 is `4200050`.
/// Integers, not decimal strings: short on the wire and read without parsing a decimal.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CandleRow(
    pub i64,
    pub i128,
    pub i128,
    pub i128,
    pub i128,
    pub i128,
    pub bool,
);

/// The most decimal places a [`CandleRow`] amount has: that of the exported
/// `DECIMAL(38, 18)`.
pub const CANDLE_MAX_SCALE: u32 = 18;

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
    /// Decimal places of the open, high, low, close and volume columns of `rows`, each at
    /// most [`CANDLE_MAX_SCALE`].
    pub scales: [u32; 5],
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

/// `exsyncctl debug record NAME --dir DIR [--stream S]`: sync the integration now and record
/// every request it sends and the answer it gets, redacted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DebugRecordRequest {
    pub integration: String,
    /// One stream, or all the integration's streams.
    #[serde(default)]
    pub stream: Option<String>,
}

/// One request the host sent for a plugin and the answer it got, in the replay format of
/// `exsync-plugin-check --replay DIR` (one pair per file), redacted: no credential value,
/// signature, timestamp, nonce or authentication header is left in it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct RecordedPair {
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, without scheme and host; redacted parameters read `REDACTED`.
    pub path: String,
    /// Request headers by lower-case name; authentication headers read `REDACTED`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The request body as text (redacted like the query); absent when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct RecordedResponse {
    pub status: u16,
    /// Response headers by lower-case name.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The body exactly as received (credential values masked), as a JSON string: the
    /// replay sends a string body as is, so numbers keep their digits.
    #[serde(default)]
    pub body: String,
}

/// Final answer to `debug record`: how many pairs were sent, how the connection test and the
/// sync went.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DebugRecordReport {
    pub integration: String,
    pub pairs: u64,
    /// Why the connection test failed; absent when it passed.
    #[serde(default)]
    pub check_error: Option<ErrorInfo>,
    pub sync: SyncReport,
}
