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
    /// `exsyncctl pause NAME`: no scheduled syncs until `resume` (kept across restarts)
    Pause(PauseRequest),
    /// `exsyncctl resume NAME`: clears a pause set by `pause` or by `on_error = "pause"`
    Resume(ResumeRequest),
    /// `exsyncctl prune [--dry-run] [NAME]`: applies the integrations' `retention` now
    Prune(PruneRequest),
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
            Request::Pause(_) => "pause",
            Request::Resume(_) => "resume",
            Request::Prune(_) => "prune",
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
                | Request::Pause(_)
                | Request::Resume(_)
                | Request::Prune(_)
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
    Pause(PauseReport),
    Prune(PruneReport),
    Error(ErrorResponse),
}

impl Response {
    /// Whether this response ends the answer to a request.
    pub fn is_final(&self) -> bool {
        !matches!(self, Response::Progress(_) | Response::RecordBatch(_))
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
