//! Named events: each emits its log line and updates its metrics in one place.
//!
//! Modelled on Vector's `internal_events`: code that observes something builds the event and
//! calls `emit`; the wording of the log and the metric it moves never drift apart.

use std::time::Duration;

use exsync_protocol::{AuditEntry, ReloadReport};

use tracing::{debug, error, info, warn};

use crate::metrics::Metrics;

/// Labels of one stream of one integration.
#[derive(Clone, Copy, Debug)]
pub struct StreamLabels<'a> {
    pub integration: &'a str,
    pub exchange: &'a str,
    pub stream: &'a str,
}

impl StreamLabels<'_> {
    fn values(&self) -> [&str; 3] {
        [self.integration, self.exchange, self.stream]
    }
}

pub struct PageCommitted<'a> {
    pub labels: StreamLabels<'a>,
    pub partition: &'a str,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl PageCommitted<'_> {
    pub fn emit(&self, m: &Metrics) {
        let l = self.labels;
        debug!(
            integration = l.integration,
            stream = l.stream,
            partition = self.partition,
            inserted = self.inserted,
            updated = self.updated,
            unchanged = self.unchanged,
            "Page committed."
        );
        m.pages_committed.with_label_values(&l.values()).inc();
        m.records_synced
            .with_label_values(&l.values())
            .inc_by(self.inserted + self.updated);
    }
}

pub struct StreamSynced<'a> {
    pub labels: StreamLabels<'a>,
    pub records: u64,
    pub partitions: u64,
    pub duration: Duration,
    pub finished_ms: i64,
}

impl StreamSynced<'_> {
    pub fn emit(&self, m: &Metrics) {
        let l = self.labels;
        info!(
            integration = l.integration,
            stream = l.stream,
            records = self.records,
            partitions = self.partitions,
            seconds = self.duration.as_secs_f64(),
            "Stream synced."
        );
        m.sync_duration
            .with_label_values(&[l.integration, l.exchange, l.stream, "ok"])
            .observe(self.duration.as_secs_f64());
        m.last_success
            .with_label_values(&l.values())
            .set(self.finished_ms as f64 / 1000.0);
        m.consecutive_failures.with_label_values(&l.values()).set(0);
    }
}

pub struct StreamSyncFailed<'a> {
    pub labels: StreamLabels<'a>,
    pub partition: &'a str,
    /// The error kind: the `reason` label.
    pub reason: &'a str,
    /// Already redacted.
    pub message: &'a str,
    pub hint: &'a str,
    pub duration: Duration,
}

impl StreamSyncFailed<'_> {
    pub fn emit(&self, m: &Metrics) {
        let l = self.labels;
        error!(
            integration = l.integration,
            stream = l.stream,
            partition = self.partition,
            reason = self.reason,
            hint = self.hint,
            "Stream sync failed: {}",
            self.message
        );
        m.sync_failures
            .with_label_values(&[l.integration, l.exchange, l.stream, self.reason])
            .inc();
        m.sync_duration
            .with_label_values(&[l.integration, l.exchange, l.stream, "failed"])
            .observe(self.duration.as_secs_f64());
        m.consecutive_failures.with_label_values(&l.values()).inc();
    }
}

pub struct HttpResponded<'a> {
    pub exchange: &'a str,
    /// Status code, or `error` when no response came.
    pub status: &'a str,
    pub duration: Duration,
}

impl HttpResponded<'_> {
    pub fn emit(&self, m: &Metrics) {
        m.http_duration
            .with_label_values(&[self.exchange, self.status])
            .observe(self.duration.as_secs_f64());
        m.http_requests
            .with_label_values(&[self.exchange, self.status])
            .inc();
        if self.status == "429" || self.status == "418" {
            m.rate_limit_responses
                .with_label_values(&[self.exchange, self.status])
                .inc();
        }
    }
}

pub struct RateLimitWaited<'a> {
    pub exchange: &'a str,
    pub bucket: &'a str,
    pub waited: Duration,
    /// `budget` (our own pacing), `retry_after` (the exchange told us in a 429) or
    /// `rate_limited` (the plugin read the limit from the answer; the engine waits, and the
    /// bucket is `plugin`).
    pub cause: &'static str,
}

impl RateLimitWaited<'_> {
    pub fn emit(&self, m: &Metrics) {
        if self.waited.is_zero() {
            return;
        }
        if self.cause == "retry_after" {
            warn!(
                exchange = self.exchange,
                bucket = self.bucket,
                seconds = self.waited.as_secs_f64(),
                "Exchange asked us to wait; waiting."
            );
        } else if self.cause == "rate_limited" {
            warn!(
                exchange = self.exchange,
                seconds = self.waited.as_secs_f64(),
                "Plugin reported the exchange's rate limit; waiting before asking again."
            );
        } else {
            debug!(
                exchange = self.exchange,
                bucket = self.bucket,
                seconds = self.waited.as_secs_f64(),
                "Request budget spent; waiting."
            );
        }
        m.rate_limit_wait
            .with_label_values(&[self.exchange, self.bucket])
            .inc_by(self.waited.as_secs_f64());
    }
}

pub struct PluginLoaded<'a> {
    pub file: &'a str,
    pub id: &'a str,
    pub version: &'a str,
}

impl PluginLoaded<'_> {
    pub fn emit(&self, m: &Metrics) {
        info!(
            file = self.file,
            id = self.id,
            version = self.version,
            "Plugin loaded."
        );
        // `exsync_plugins_loaded` and `exsync_plugin_generations_resident` are gauges of
        // the whole topology: the daemon sets them once the plugins are in place.
        let _ = m;
    }
}

pub struct PluginRefused<'a> {
    pub file: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

impl PluginRefused<'_> {
    pub fn emit(&self, m: &Metrics) {
        error!(
            file = self.file,
            reason = self.reason,
            "Plugin refused: {}",
            self.message
        );
        m.plugin_load_failures
            .with_label_values(&[self.reason])
            .inc();
    }
}

pub struct IntegrationBroken<'a> {
    pub integration: &'a str,
    pub kind: &'a str,
    pub message: &'a str,
}

impl IntegrationBroken<'_> {
    pub fn emit(&self, _m: &Metrics) {
        error!(
            integration = self.integration,
            reason = self.kind,
            "Integration cannot run: {}",
            self.message
        );
    }
}

/// A reload of configuration and plugins that applied everything it found.
pub struct ConfigReloaded<'a> {
    pub report: &'a ReloadReport,
}

impl ConfigReloaded<'_> {
    pub fn emit(&self, m: &Metrics) {
        let r = self.report;
        info!(
            trigger = %r.trigger,
            added = r.added.len(),
            removed = r.removed.len(),
            changed = r.changed.len(),
            unchanged = r.unchanged.len(),
            plugins_added = r.plugins_added.len(),
            plugins_replaced = r.plugins_replaced.len(),
            plugins_removed = r.plugins_removed.len(),
            milliseconds = r.duration_ms,
            "Configuration reloaded."
        );
        m.config_reloads.with_label_values(&["ok"]).inc();
        m.config_last_reload_successful.set(1);
        m.config_last_reload_success.set(r.at_ms as f64 / 1000.0);
    }
}

/// A reload that refused something: each refused file keeps its running version.
pub struct ConfigReloadFailed<'a> {
    pub report: &'a ReloadReport,
}

impl ConfigReloadFailed<'_> {
    pub fn emit(&self, m: &Metrics) {
        let r = self.report;
        for p in &r.errors {
            error!(
                trigger = %r.trigger,
                subject = %p.subject,
                reason = %p.error.kind,
                "Reload refused a change; the running version stays: {}",
                p.error.message
            );
        }
        warn!(
            trigger = %r.trigger,
            refused = r.errors.len(),
            added = r.added.len(),
            removed = r.removed.len(),
            changed = r.changed.len(),
            "Configuration reload failed in part: see the errors above and `exsyncctl status`."
        );
        m.config_reloads.with_label_values(&["failed"]).inc();
        m.config_last_reload_successful.set(0);
    }
}

/// A daemon setting that changed in `exsyncd.toml` and applies only at the next start.
pub struct RestartRequired<'a> {
    pub setting: &'a str,
}

impl RestartRequired<'_> {
    pub fn emit(&self, _m: &Metrics) {
        warn!(
            setting = self.setting,
            "Setting changed; it applies at the next restart (restart required)."
        );
    }
}

/// What a reload did to one integration.
pub struct IntegrationReloaded<'a> {
    pub integration: &'a str,
    /// `started`, `restarted`, `stopping`.
    pub action: &'static str,
}

impl IntegrationReloaded<'_> {
    pub fn emit(&self, _m: &Metrics) {
        match self.action {
            "started" => info!(integration = self.integration, "Integration started."),
            "restarted" => info!(
                integration = self.integration,
                "Integration restarted with new settings; it keeps its cursors."
            ),
            _ => info!(
                integration = self.integration,
                "Integration removed; it stops after its page in flight."
            ),
        }
    }
}

/// A stopped integration's last page is committed.
pub struct IntegrationStopped<'a> {
    pub integration: &'a str,
}

impl IntegrationStopped<'_> {
    pub fn emit(&self, _m: &Metrics) {
        info!(integration = self.integration, "Integration stopped.");
    }
}

/// A plugin file was replaced by a new build, now loaded beside the old one.
pub struct PluginReplaced<'a> {
    pub file: &'a str,
    pub id: &'a str,
    pub old_version: &'a str,
    pub version: &'a str,
    pub generation: u32,
}

impl PluginReplaced<'_> {
    pub fn emit(&self, _m: &Metrics) {
        info!(
            file = self.file,
            id = self.id,
            old_version = self.old_version,
            version = self.version,
            generation = self.generation,
            "Plugin replaced: new syncs use the new build; pages in flight finish on the old one."
        );
    }
}

/// A plugin file left the plugin directory.
pub struct PluginRemoved<'a> {
    pub file: &'a str,
    pub id: &'a str,
}

impl PluginRemoved<'_> {
    pub fn emit(&self, _m: &Metrics) {
        warn!(
            file = self.file,
            id = self.id,
            "Plugin removed: its integrations stop after their page in flight."
        );
    }
}

/// Credentials were stored (set or rotated).
pub struct CredentialsStored<'a> {
    pub integration: &'a str,
    /// `set` or `rotate`.
    pub action: &'a str,
    pub can_withdraw: Option<bool>,
}

impl CredentialsStored<'_> {
    pub fn emit(&self, m: &Metrics) {
        info!(
            integration = self.integration,
            action = self.action,
            "Credentials stored (encrypted)."
        );
        if self.can_withdraw == Some(true) {
            warn!(
                integration = self.integration,
                "WARNING: the stored key can WITHDRAW funds; exsync needs read access only. Replace it with a read-only key."
            );
        }
        m.credential_events
            .with_label_values(&[self.integration, self.action, "ok"])
            .inc();
        m.credential_age
            .with_label_values(&[self.integration])
            .set(0);
    }
}

/// A credential set or rotate was refused; nothing was stored.
pub struct CredentialsRefused<'a> {
    pub integration: &'a str,
    pub action: &'a str,
    /// The error's kind (`auth`, `permission`, `config`...).
    pub reason: &'a str,
    /// Already free of secret values.
    pub message: &'a str,
}

impl CredentialsRefused<'_> {
    pub fn emit(&self, m: &Metrics) {
        warn!(
            integration = self.integration,
            action = self.action,
            reason = self.reason,
            "Credentials not stored: {}",
            self.message
        );
        m.credential_events
            .with_label_values(&[self.integration, self.action, "refused"])
            .inc();
    }
}

/// Stored credentials are older than `credential_max_age`.
pub struct CredentialTooOld<'a> {
    pub integration: &'a str,
    pub age: Duration,
    pub max_age: Duration,
}

impl CredentialTooOld<'_> {
    pub fn emit(&self) {
        warn!(
            integration = self.integration,
            age_days = self.age.as_secs() / 86_400,
            max_age_days = self.max_age.as_secs() / 86_400,
            "Stored credentials are older than credential_max_age: rotate them with `exsyncctl credentials rotate`."
        );
    }
}

/// `exsyncctl data generate-sample` stored its synthetic series.
pub struct SampleGenerated {
    pub series: u64,
    pub candles: u64,
    pub seed: u64,
    pub store_ms: u64,
}

impl SampleGenerated {
    pub fn emit(&self, _m: &Metrics) {
        info!(
            series = self.series,
            candles = self.candles,
            seed = self.seed,
            store_ms = self.store_ms,
            "Synthetic sample candles stored."
        );
    }
}

/// The master key does not match the store: nothing that needs a secret starts.
pub struct MasterKeyWrong<'a> {
    pub message: &'a str,
}

impl MasterKeyWrong<'_> {
    pub fn emit(&self) {
        error!("Wrong master key: {}", self.message);
    }
}

/// The `result` label of a control request or audit entry: a closed set.
pub fn result_label(result: &str) -> &'static str {
    match result {
        "ok" => "ok",
        "failed" => "failed",
        "denied" => "denied",
        _ => "error",
    }
}

/// The `origin` label of an audit entry: a closed set.
fn origin_label(origin: &str) -> &'static str {
    match origin {
        "signal" => "signal",
        "watch" => "watch",
        _ => "ctl",
    }
}

/// A request on the control socket was answered, or refused.
pub struct ControlRequestAnswered {
    pub verb: &'static str,
    /// `ok`, `failed`, `denied` or an error kind.
    pub result: String,
    pub uid: u32,
}

impl ControlRequestAnswered {
    pub fn emit(&self, m: &Metrics) {
        debug!(
            verb = self.verb,
            result = %self.result,
            uid = self.uid,
            "Control request answered."
        );
        m.control_requests
            .with_label_values(&[self.verb, result_label(&self.result)])
            .inc();
    }
}

/// An entry was appended to the audit log: the journal gets the same line.
pub struct Audited<'a> {
    pub entry: &'a AuditEntry,
}

impl Audited<'_> {
    pub fn emit(&self, m: &Metrics) {
        let e = self.entry;
        let user = e.user.as_deref().unwrap_or("?");
        let target = e.target.as_deref().unwrap_or("-");
        let message = e.message.as_deref().unwrap_or("");
        if e.result == "ok" {
            info!(
                audit_seq = e.seq,
                origin = %e.origin,
                uid = e.uid,
                pid = e.pid,
                user,
                verb = %e.verb,
                target,
                result = %e.result,
                "Audit: {} by uid {} ({user}) on {target}: {}.",
                e.verb,
                e.uid,
                e.result
            );
        } else {
            warn!(
                audit_seq = e.seq,
                origin = %e.origin,
                uid = e.uid,
                pid = e.pid,
                user,
                verb = %e.verb,
                target,
                result = %e.result,
                "Audit: {} by uid {} ({user}) on {target}: {}: {message}",
                e.verb,
                e.uid,
                e.result
            );
        }
        m.audit_entries
            .with_label_values(&[origin_label(&e.origin), result_label(&e.result)])
            .inc();
    }
}

/// An audit entry could not be stored; the journal keeps the only trace of it.
pub struct AuditWriteFailed<'a> {
    pub entry: &'a AuditEntry,
    pub error: &'a str,
}

impl AuditWriteFailed<'_> {
    pub fn emit(&self, m: &Metrics) {
        let e = self.entry;
        error!(
            origin = %e.origin,
            uid = e.uid,
            pid = e.pid,
            verb = %e.verb,
            target = e.target.as_deref().unwrap_or("-"),
            result = %e.result,
            "Could not write to the audit log: {}",
            self.error
        );
        m.audit_write_failures.inc();
    }
}

/// A candle series was checked for quality ([`crate::quality`]) after a sync or on request.
pub struct CandleQualityChecked<'a> {
    pub series: &'a exsync_protocol::SeriesQuality,
    /// Issues of every series of this exchange and timeframe, by severity: the gauge's value.
    pub totals: &'a [(&'static str, u64)],
}

impl CandleQualityChecked<'_> {
    pub fn emit(&self, m: &Metrics) {
        let s = &self.series.series;
        if self.series.findings.is_empty() {
            debug!(
                exchange = %s.exchange,
                symbol = %s.symbol,
                timeframe = %s.timeframe,
                candles = s.count,
                "Candle series checked: no issue."
            );
        } else {
            let found: Vec<String> = self
                .series
                .findings
                .iter()
                .map(|f| format!("{} {} ({})", f.count, f.check, f.severity))
                .collect();
            warn!(
                exchange = %s.exchange,
                symbol = %s.symbol,
                timeframe = %s.timeframe,
                candles = s.count,
                "Candle series checked: {}.",
                found.join(", ")
            );
        }
        for (severity, n) in self.totals {
            m.candle_quality_issues
                .with_label_values(&[s.exchange.as_str(), s.timeframe.as_str(), severity])
                .set(*n as i64);
        }
    }
}

/// The quality gauge's values of one (exchange, timeframe): issues by severity.
pub struct QualityGauge {
    pub exchange: String,
    pub timeframe: String,
    pub totals: Vec<(&'static str, u64)>,
}

/// The kept candle quality reports were read back from the store at the start; the gauges
/// of every (exchange, timeframe) they cover are set from them.
pub struct CandleQualityRestored<'a> {
    pub series: usize,
    /// Kept reports that did not parse (left out).
    pub unreadable: usize,
    pub gauges: &'a [QualityGauge],
}

impl CandleQualityRestored<'_> {
    pub fn emit(&self, m: &Metrics) {
        if self.unreadable > 0 {
            warn!(
                series = self.series,
                unreadable = self.unreadable,
                "Candle quality reports restored; some kept reports did not parse and are left out."
            );
        } else {
            info!(series = self.series, "Candle quality reports restored.");
        }
        for g in self.gauges {
            for (severity, n) in &g.totals {
                m.candle_quality_issues
                    .with_label_values(&[g.exchange.as_str(), g.timeframe.as_str(), severity])
                    .set(*n as i64);
            }
        }
    }
}

/// A candle quality report (or the duplicates only the engine saw) could not be written to or
/// read from the store: it stays in memory only, and a restart recomputes it.
pub struct CandleQualityNotKept<'a> {
    pub error: &'a str,
}

impl CandleQualityNotKept<'_> {
    pub fn emit(&self, _m: &Metrics) {
        error!(
            error = self.error,
            "Candle quality report not kept in the store."
        );
    }
}

/// An integration's candles now go back further than any walk before (`history_days`
/// raised): its candles partitions walk again from the new start.
pub struct CandleHistoryDeepened<'a> {
    pub integration: &'a str,
    pub from_ms: i64,
    pub before_ms: i64,
    pub partitions: u64,
}

impl CandleHistoryDeepened<'_> {
    pub fn emit(&self, _m: &Metrics) {
        info!(
            integration = self.integration,
            from_ms = self.from_ms,
            before_ms = self.before_ms,
            partitions = self.partitions,
            "Candles go back further now: walking them again from the new start."
        );
    }
}

/// `exsyncctl data export` read its candles out of the store.
pub struct CandlesExported {
    pub series: u64,
    pub candles: u64,
    pub duration: Duration,
}

impl CandlesExported {
    pub fn emit(&self, _m: &Metrics) {
        info!(
            series = self.series,
            candles = self.candles,
            duration_ms = self.duration.as_millis() as u64,
            "Candles exported."
        );
    }
}

/// A webhook took a notification (`webhook.rs`).
pub struct NotificationSent<'a> {
    /// `failure` or `recovery`.
    pub event: &'a str,
    pub integration: &'a str,
    pub stream: &'a str,
    /// Redacted.
    pub url: &'a str,
    pub attempt: u32,
}

impl NotificationSent<'_> {
    pub fn emit(&self, m: &Metrics) {
        info!(
            integration = self.integration,
            stream = self.stream,
            event = self.event,
            url = self.url,
            attempt = self.attempt,
            "Notification sent."
        );
        m.notifications.with_label_values(&["sent"]).inc();
    }
}

/// A webhook refused a notification or could not be reached; `retry_in` says whether
/// another attempt follows (`retried`) or it was given up (`failed`).
pub struct NotificationFailed<'a> {
    pub event: &'a str,
    pub integration: &'a str,
    pub stream: &'a str,
    /// Redacted.
    pub url: &'a str,
    pub attempt: u32,
    /// Without the URL.
    pub problem: &'a str,
    pub retry_in: Option<Duration>,
}

impl NotificationFailed<'_> {
    pub fn emit(&self, m: &Metrics) {
        match self.retry_in {
            Some(pause) => {
                warn!(
                    integration = self.integration,
                    stream = self.stream,
                    event = self.event,
                    url = self.url,
                    attempt = self.attempt,
                    retry_in_seconds = pause.as_secs(),
                    "Notification not delivered, retrying: {}",
                    self.problem
                );
                m.notifications.with_label_values(&["retried"]).inc();
            }
            None => {
                error!(
                    integration = self.integration,
                    stream = self.stream,
                    event = self.event,
                    url = self.url,
                    attempt = self.attempt,
                    "Notification given up: {}",
                    self.problem
                );
                m.notifications.with_label_values(&["failed"]).inc();
            }
        }
    }
}

/// An integration was paused (`exsyncctl pause`, or `on_error = "pause"` after a run of
/// failures) or resumed.
pub struct IntegrationPauseChanged<'a> {
    pub integration: &'a str,
    /// `ctl`, `failures`, or `resumed`.
    pub by: &'a str,
    pub reason: &'a str,
}

impl IntegrationPauseChanged<'_> {
    pub fn emit(&self) {
        match self.by {
            "resumed" => info!(integration = self.integration, "Integration resumed."),
            "failures" => warn!(
                integration = self.integration,
                reason = self.reason,
                "Integration paused after consecutive failed syncs."
            ),
            _ => info!(
                integration = self.integration,
                reason = self.reason,
                "Integration paused."
            ),
        }
    }
}

/// A compaction pass removed (or, dry, would remove) records older than the retention of
/// their kind.
pub struct RecordsPruned<'a> {
    pub integration: &'a str,
    /// A record kind, or `raw` (raw JSON dropped, records kept).
    pub kind: &'a str,
    pub before_ms: i64,
    pub records: u64,
    pub dry_run: bool,
}

impl RecordsPruned<'_> {
    pub fn emit(&self, m: &Metrics) {
        if self.dry_run {
            info!(
                integration = self.integration,
                kind = self.kind,
                before_ms = self.before_ms,
                records = self.records,
                "Records that retention would prune (dry run)."
            );
            return;
        }
        info!(
            integration = self.integration,
            kind = self.kind,
            before_ms = self.before_ms,
            records = self.records,
            "Records pruned."
        );
        m.pruned_records
            .with_label_values(&[self.kind])
            .inc_by(self.records);
    }
}

/// A `debug record` ended: how many redacted request/response pairs went to exsyncctl.
pub struct RequestsRecorded<'a> {
    pub integration: &'a str,
    pub pairs: u64,
    /// Pairs that could not be sent because the client went away.
    pub lost: u64,
}

impl RequestsRecorded<'_> {
    pub fn emit(&self, _m: &Metrics) {
        info!(
            integration = self.integration,
            pairs = self.pairs,
            lost = self.lost,
            "Requests recorded for debug record."
        );
    }
}

/// A call into a plugin did not return within `plugin_call_timeout`: its thread stays inside
/// the plugin and the instance is abandoned until a reload restarts the integration.
pub struct PluginCallTimedOut<'a> {
    pub integration: &'a str,
    pub exchange: &'a str,
    /// `fetch`, `partitions` or `check`: the metric's `call` label.
    pub call: &'static str,
    /// What the call was doing, for the log (`fetching trades of BTCUSDT`).
    pub what: &'a str,
    pub limit: Duration,
}

impl PluginCallTimedOut<'_> {
    pub fn emit(&self, m: &Metrics) {
        error!(
            integration = self.integration,
            exchange = self.exchange,
            call = self.call,
            limit_s = self.limit.as_secs(),
            "Plugin call timed out while {}; the instance is abandoned until a reload.",
            self.what
        );
        m.plugin_call_timeouts
            .with_label_values(&[self.integration, self.exchange, self.call])
            .inc();
    }
}
