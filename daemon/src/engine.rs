//! The sync engine: drives a connector page by page and stores each page in one transaction.
//!
//! Work unit: `(integration, stream, partition)` with a persisted cursor. For each stream the
//! engine asks the connector for its partitions, then for each partition fetches pages from
//! the stored cursor until the connector says it is caught up. Every page (records, cursor,
//! coverage) is one redb write transaction, so a crash loses at most the page in flight.
//! Shutdown is checked between pages: the page in flight is finished and committed first.
//!
//! Scheduling: each integration has one task that runs its due streams (interval plus a fixed
//! jitter offset per stream, inside the integration's sync windows, unless it is paused: see
//! `policy.rs`); `exsyncctl sync` runs them now. One sync per integration at a time; at most
//! `max_concurrent_syncs` integrations sync at once.

use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use exsync_plugin_api::loader::ConnectorHandle;
use exsync_plugin_api::{ErrorKind, PartitionContext, PluginError, Record, Stream};
use exsync_protocol::{ErrorInfo, Range, StreamSyncResult, SyncProgress, SyncReport};
use rust_decimal::Decimal;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use tokio::sync::mpsc::UnboundedSender;

use crate::daemon::Daemon;
use crate::events::{
    CandleHistoryDeepened, PageCommitted, RateLimitWaited, StreamLabels, StreamSyncFailed,
    StreamSynced,
};
use crate::host::now_ms;
use crate::policy;
use crate::store::{PageOutcome, PageWrite, PartitionKey, StoredRecord};
use crate::supervisor::{error_info, Integration};
use crate::taxonomy;
use crate::webhook::{Notification, Transition};

/// Rounds of partition discovery per sync: trades found on a new symbol reveal assets that
/// reveal more symbols. Converges in one or two rounds on real accounts.
const MAX_PARTITION_ROUNDS: usize = 4;
/// Pages of one partition in one sync before the engine suspects a plugin that never ends.
const MAX_PAGES_PER_PARTITION: u64 = 1_000_000;

/// A page being checked and committed on the blocking pool.
type Committing = tokio::task::JoinHandle<Result<PageOutcome, PluginError>>;

/// A [`PartitionKey`] that can move to a blocking thread.
#[derive(Clone)]
struct OwnedPartitionKey {
    integration: String,
    stream: Stream,
    partition: String,
}

impl OwnedPartitionKey {
    fn borrow(&self) -> PartitionKey<'_> {
        PartitionKey {
            integration: &self.integration,
            stream: self.stream.as_str(),
            partition: &self.partition,
        }
    }
}

/// Pauses before asking again for a page the plugin answered `rate_limited` (a minute in all):
/// long enough for any exchange's per-second or per-window counter to recover.
const RATE_LIMIT_PAUSES: [Duration; 6] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(30),
];

/// Why a partition stopped.
enum PartitionEnd {
    Done,
    ShuttingDown,
}

/// Checks a page's records and readies them for the store, each kept as the JSON the plugin
/// sent. Amounts must be exact decimals in canonical form: what the exchange sent, digit for
/// digit. Also collects the native assets the records show the account has touched.
fn prepare(
    stream: Stream,
    records: Vec<Box<RawValue>>,
) -> Result<(Vec<StoredRecord>, BTreeSet<String>), PluginError> {
    let expected = stream.record_kind();
    let mut out = Vec::with_capacity(records.len());
    let mut assets = BTreeSet::new();
    for (n, json) in records.into_iter().enumerate() {
        // Every field checked, `raw` only checked present: its bytes are stored as sent.
        let r = Record::<IgnoredAny>::from_json(expected, json.get()).map_err(|e| {
            PluginError::plugin(format!(
                "the plugin returned an invalid record (number {n} of a {stream} page): {e}"
            ))
        })?;
        let id = r.id();
        if id.is_empty() {
            return Err(PluginError::plugin(format!(
                "the plugin returned a {} record without an id",
                r.kind()
            )));
        }
        for (field, value) in r.amounts() {
            if !is_exact_decimal(value) {
                return Err(PluginError::bad_response(format!(
                    "{} {id}: {field} {value:?} is not an exact decimal",
                    r.kind()
                )));
            }
        }
        touched_assets(&r, &mut assets);
        out.push(StoredRecord {
            kind: expected.as_str(),
            timestamp: r.timestamp(),
            id,
            json: json.into(),
        });
    }
    Ok((out, assets))
}

/// Whether `value` is an exact decimal written as [`Decimal`] writes it: parsing it loses
/// nothing and printing it gives back the same text.
fn is_exact_decimal(value: &str) -> bool {
    is_plain_decimal(value)
        || matches!(Decimal::from_str_exact(value), Ok(d) if d.to_string() == value)
}

/// The common case of [`is_exact_decimal`], decided without building a [`Decimal`]:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 28 digits, and not a negative zero. Every such
/// text fits a `Decimal` exactly (28 digits are below 2^96, the scale at most 27) and prints
/// back unchanged. False only means "not decided here".
fn is_plain_decimal(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value).as_bytes();
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], Some(&digits[dot + 1..])),
        None => (digits, None),
    };
    let all_digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !all_digits(int) || (int.len() > 1 && int[0] == b'0') {
        return false;
    }
    if frac.is_some_and(|f| !all_digits(f)) {
        return false;
    }
    let frac = frac.unwrap_or_default();
    if int.len() + frac.len() > 28 {
        return false;
    }
    let zero = int == b"0" && frac.iter().all(|&c| c == b'0');
    !(zero && value.starts_with('-'))
}

/// Adds the native assets a record shows the account has held.
fn touched_assets<R>(r: &Record<R>, into: &mut BTreeSet<String>) {
    let mut add = |asset: &String| {
        if !into.contains(asset) {
            into.insert(asset.clone());
        }
    };
    let nonzero = |s: &str| Decimal::from_str(s).map(|d| !d.is_zero()).unwrap_or(false);
    match r {
        Record::Balance(b) if nonzero(&b.total) || nonzero(&b.free) || nonzero(&b.locked) => {
            add(&b.asset_native)
        }
        Record::Deposit(t) | Record::Withdrawal(t) => add(&t.asset_native),
        Record::Trade(t) => [&t.base, &t.quote, &t.fee_asset_native]
            .into_iter()
            .flatten()
            .for_each(add),
        Record::Order(o)
            if o.filled != "0" && !o.filled.trim_start_matches(['0', '.']).is_empty() =>
        {
            [&o.base, &o.quote].into_iter().flatten().for_each(add)
        }
        Record::Ledger(l) => add(&l.asset_native),
        _ => {}
    }
}

fn to_info(e: &PluginError, redactor: &crate::host::Redactor) -> ErrorInfo {
    let mut info = error_info(e.kind, redactor.redact(&e.message));
    info.at_ms = Some(now_ms());
    info
}

/// Errors after which the other partitions of the stream would fail the same way.
fn stops_stream(kind: ErrorKind) -> bool {
    kind != ErrorKind::BAD_RESPONSE && kind != ErrorKind::UNSUPPORTED
}

/// Progress counters of one sync, shared with the reporter.
#[derive(Default)]
struct Counters {
    records: u64,
    pages: u64,
}

struct StreamRun<'a> {
    daemon: &'a Arc<Daemon>,
    it: &'a Arc<Integration>,
    connector: Arc<Mutex<ConnectorHandle>>,
    stream: Stream,
    progress: Option<&'a UnboundedSender<SyncProgress>>,
    counters: &'a Mutex<Counters>,
}

impl StreamRun<'_> {
    fn labels(&self) -> StreamLabels<'_> {
        StreamLabels {
            integration: self.it.name(),
            exchange: self.it.exchange(),
            stream: self.stream.as_str(),
        }
    }

    /// A notification about this stream, to be completed by the caller.
    fn notification_of(&self) -> Notification {
        Notification {
            event: Transition::Failure,
            integration: self.it.name().to_owned(),
            exchange: self.it.exchange().to_owned(),
            stream: self.stream.as_str().to_owned(),
            error_kind: None,
            message: None,
            hint: None,
            at_ms: 0,
            last_failure_ms: None,
            last_success_ms: None,
        }
    }

    /// Hands a failure or recovery to the integration's webhook, if it has one; never waits.
    fn notify(&self, n: Notification) {
        if let Some(config) = &self.it.config.notify {
            crate::webhook::deliver(config, n, &self.daemon.metrics);
        }
    }

    async fn partitions(&self) -> Result<Vec<String>, PluginError> {
        let store = self.daemon.store.clone();
        let connector = self.connector.clone();
        let name = self.it.name().to_owned();
        let stream = self.stream;
        self.plugin_call("partitions", "listing partitions", move || {
            let context = PartitionContext {
                assets: store
                    .assets(&name)
                    .map_err(|e| taxonomy::store_error("reading the assets", e))?,
                known: store
                    .cursor_partitions(&name, stream.as_str())
                    .map_err(|e| taxonomy::store_error("reading the cursors", e))?,
            };
            let handle = connector
                .lock()
                .map_err(|_| PluginError::plugin("connector lock poisoned"))?;
            handle
                .partitions(stream, &context)
                .map_err(taxonomy::from_plugin)
        })
        .await
    }

    /// Fetches and commits pages of one partition until it is caught up.
    ///
    /// Pipelined: while page N is committed on one blocking thread, page N+1 is fetched and
    /// checked on another, from the cursor page N ends at. Page N+1 is committed only after
    /// page N is, so the stored cursor always matches the stored records; if page N fails,
    /// page N+1 is dropped and the partition stops there. Shutdown is checked before each
    /// fetch: the page in flight is finished and committed first.
    async fn partition(
        &self,
        partition: &str,
        done: u64,
        total: u64,
    ) -> Result<PartitionEnd, PluginError> {
        let key = self.key(partition);
        let mut cursor = {
            let (store, key) = (self.daemon.store.clone(), key.clone());
            blocking(move || {
                store
                    .cursor(key.borrow())
                    .map_err(|e| PluginError::plugin(e.to_string()))
            })
            .await?
        };
        let mut committing: Option<Committing> = None;
        let mut pages = 0u64;
        loop {
            if self.it.stop.is_cancelled() {
                self.settle(committing.take(), partition, done, total)
                    .await?;
                return Ok(PartitionEnd::ShuttingDown);
            }
            let fetched = self.fetch(partition, cursor.clone()).await;
            self.settle(committing.take(), partition, done, total)
                .await?;
            let (page, more) = fetched?;
            pages += 1;
            let cursor_moved = page.next_cursor != cursor;
            cursor.clone_from(&page.next_cursor);
            committing = Some(self.commit(key.clone(), page));
            if !more {
                self.settle(committing.take(), partition, done, total)
                    .await?;
                return Ok(PartitionEnd::Done);
            }
            let stuck = if !cursor_moved {
                Some(format!(
                    "the plugin asked for another page of {}/{partition} without moving its cursor",
                    self.stream
                ))
            } else if pages >= MAX_PAGES_PER_PARTITION {
                Some(format!(
                    "{}/{partition} did not end after {pages} pages",
                    self.stream
                ))
            } else {
                None
            };
            if let Some(message) = stuck {
                self.settle(committing.take(), partition, done, total)
                    .await?;
                return Err(PluginError::plugin(message));
            }
        }
    }

    fn key(&self, partition: &str) -> OwnedPartitionKey {
        OwnedPartitionKey {
            integration: self.it.name().to_owned(),
            stream: self.stream,
            partition: partition.to_owned(),
        }
    }

    /// Asks the plugin for the page after `cursor` and checks it, on the blocking pool.
    ///
    /// A `rate_limited` answer is waited out here, with growing pauses, and the same page asked
    /// for again: exchanges that signal their limit inside a 200 answer (Kraken's `EAPI:Rate
    /// limit exceeded`, Bybit's 10006) leave the host's 429 handling nothing to act on, and a
    /// plugin may not sleep. The stream fails `rate_limited` only when the pauses run out.
    async fn fetch(
        &self,
        partition: &str,
        cursor: Option<String>,
    ) -> Result<(PageWrite, bool), PluginError> {
        let mut attempt = 0;
        loop {
            match self.fetch_once(partition, cursor.clone()).await {
                Err(e)
                    if e.kind == ErrorKind::RATE_LIMITED && attempt < RATE_LIMIT_PAUSES.len() =>
                {
                    let pause = RATE_LIMIT_PAUSES[attempt];
                    attempt += 1;
                    RateLimitWaited {
                        exchange: self.it.exchange(),
                        bucket: "plugin",
                        waited: pause,
                        cause: "rate_limited",
                    }
                    .emit(&self.daemon.metrics);
                    tokio::select! {
                        _ = self.it.stop.cancelled() => return Err(e),
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
                other => return other,
            }
        }
    }

    async fn fetch_once(
        &self,
        partition: &str,
        cursor: Option<String>,
    ) -> Result<(PageWrite, bool), PluginError> {
        let connector = self.connector.clone();
        let what = format!("fetching a page of {}/{partition}", self.stream);
        let (stream, partition) = (self.stream, partition.to_owned());
        let (daemon, name) = (self.daemon.clone(), self.it.name().to_owned());
        // A stream with a later start than the plugin was given keeps only its own history.
        // Candles with `history_days` were asked from their own start: nothing to drop.
        let keep_from = policy::stream_start(
            self.it.config.since,
            &self.it.config.stream_since,
            stream,
            now_ms(),
        )
        .filter(|_| stream != Stream::Candles || self.it.config.candle_history_days.is_none());
        // `wallets` and `statuses`: the daemon keeps only what the operator asked for.
        let keep = self
            .it
            .config
            .keep
            .iter()
            .find(|(s, _)| *s == stream)
            .map(|(_, k)| k.clone());
        self.plugin_call("fetch", &what, move || {
            let page = {
                let handle = connector
                    .lock()
                    .map_err(|_| PluginError::plugin("connector lock poisoned"))?;
                handle
                    .fetch_raw(stream, &partition, cursor.as_deref())
                    .map_err(taxonomy::from_plugin)?
            };
            let (mut records, assets) = prepare(stream, page.records)?;
            if stream == Stream::Candles {
                crate::candles::note_page(&daemon, &name, &records);
            }
            if let Some(from) = keep_from {
                records.retain(|r| r.timestamp >= from);
            }
            if let Some(keep) = &keep {
                records.retain(|r| keep.keeps(&r.json));
            }
            let write = PageWrite {
                records,
                assets,
                next_cursor: page.next_cursor,
                covered: page.covered.map(|r| Range {
                    from_ms: r.from_ms,
                    to_ms: r.to_ms,
                }),
                unavailable: page.unavailable.map(|r| Range {
                    from_ms: r.from_ms,
                    to_ms: r.to_ms,
                }),
            };
            Ok((write, page.more))
        })
        .await
    }

    /// Runs a call into the connector on the blocking pool, for at most `plugin_call_timeout`
    /// (exsyncd.toml). A call that does not return in time cannot be stopped: its thread stays
    /// inside the plugin, holding the instance. The integration is then marked hung, the
    /// timeout is counted (`call`: `fetch` or `partitions`), and every later call fails at
    /// once with `plugin`, until a reload restarts it.
    async fn plugin_call<T: Send + 'static>(
        &self,
        call: &'static str,
        what: &str,
        f: impl FnOnce() -> Result<T, PluginError> + Send + 'static,
    ) -> Result<T, PluginError> {
        use std::sync::atomic::Ordering;
        let limit = self.daemon.settings.plugin_call_timeout;
        let abandoned = |what: &str| {
            PluginError::plugin(format!(
                "the {} plugin did not answer within {}s {what}; its instance is abandoned: fix or replace the plugin, then reload to restart {}",
                self.it.exchange(),
                limit.as_secs(),
                self.it.name()
            ))
        };
        if self.it.plugin_hung.load(Ordering::Acquire) {
            return Err(abandoned("in an earlier call"));
        }
        match tokio::time::timeout(limit, blocking(f)).await {
            Ok(result) => result,
            Err(_) => {
                self.it.plugin_hung.store(true, Ordering::Release);
                crate::events::PluginCallTimedOut {
                    integration: self.it.name(),
                    exchange: self.it.exchange(),
                    call,
                    what,
                    limit,
                }
                .emit(&self.daemon.metrics);
                Err(abandoned(&format!("while {what}")))
            }
        }
    }

    /// Starts committing a checked page on the blocking pool.
    fn commit(&self, key: OwnedPartitionKey, page: PageWrite) -> Committing {
        let store = self.daemon.store.clone();
        tokio::task::spawn_blocking(move || {
            store
                .commit_page(key.borrow(), &page)
                .map_err(|e| taxonomy::store_error("committing a page", e))
        })
    }

    /// Waits for a page being committed, then counts it and reports progress.
    async fn settle(
        &self,
        committing: Option<Committing>,
        partition: &str,
        done: u64,
        total: u64,
    ) -> Result<(), PluginError> {
        let Some(committing) = committing else {
            return Ok(());
        };
        let outcome = committing
            .await
            .unwrap_or_else(|e| Err(PluginError::plugin(format!("a blocking task failed: {e}"))))?;
        PageCommitted {
            labels: self.labels(),
            partition,
            inserted: outcome.inserted,
            updated: outcome.updated,
            unchanged: outcome.unchanged,
        }
        .emit(&self.daemon.metrics);
        let (records, all_pages) = {
            let mut c = self.counters.lock().expect("counters lock");
            c.records += outcome.inserted + outcome.updated;
            c.pages += 1;
            (c.records, c.pages)
        };
        if let Some(tx) = self.progress {
            let _ = tx.send(SyncProgress {
                integration: self.it.name().to_owned(),
                stream: self.stream.as_str().to_owned(),
                partition: partition.to_owned(),
                partitions_done: done,
                partitions_total: total,
                records,
                pages: all_pages,
            });
        }
        Ok(())
    }

    /// Records a ban the plugin reported (`banned`) that the host has not: an exchange that
    /// bans inside a 200 answer (Kraken's `EGeneral:Temporary lockout`) leaves the host's
    /// status check nothing to act on. Recorded like a 418, for `[http] default_ban`: no
    /// request goes to the exchange's host until it ends, restarts included.
    fn keep_ban(&self, e: &PluginError) {
        if e.kind != ErrorKind::BANNED {
            return;
        }
        let Some(host) = self
            .it
            .base_url
            .as_deref()
            .and_then(crate::config::url_host)
        else {
            return;
        };
        let exchange = self.it.exchange();
        if self.daemon.shared.banned_until(exchange, &host).is_none() {
            let until = self.daemon.shared.record_ban(exchange, &host, None);
            tracing::error!(
                integration = %self.it.name(), exchange, until_ms = until,
                "The exchange reported a ban; every request to it waits the ban out."
            );
        }
    }

    /// Syncs every partition of the stream; returns the result for ctl.
    async fn run(&self) -> StreamSyncResult {
        let started = Instant::now();
        let before = self.counters.lock().expect("counters lock").records;
        let pages_before = self.counters.lock().expect("counters lock").pages;
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut failure: Option<(String, PluginError)> = None;
        let mut interrupted = false;
        'rounds: for round in 0..MAX_PARTITION_ROUNDS {
            let parts = match self.partitions().await {
                Ok(p) => p,
                Err(e) => {
                    self.keep_ban(&e);
                    failure = Some((String::new(), e.context("while listing partitions")));
                    break;
                }
            };
            let mut seen = HashSet::new();
            let todo: Vec<String> = parts
                .into_iter()
                .filter(|p| !done.contains(p) && seen.insert(p.clone()))
                .collect();
            if todo.is_empty() {
                break;
            }
            let total = (done.len() + todo.len()) as u64;
            for part in todo {
                match self.partition(&part, done.len() as u64, total).await {
                    Ok(PartitionEnd::Done) => {
                        done.insert(part);
                    }
                    Ok(PartitionEnd::ShuttingDown) => {
                        interrupted = true;
                        break 'rounds;
                    }
                    Err(e) => {
                        self.keep_ban(&e);
                        let key = PartitionKey {
                            integration: self.it.name(),
                            stream: self.stream.as_str(),
                            partition: &part,
                        };
                        let info = to_info(&e, &self.it.redactor);
                        if let Err(se) = self.daemon.store.record_failure(key, &info) {
                            tracing::error!(error = %se, "Could not record a partition failure.");
                        }
                        let stop = stops_stream(e.kind);
                        if failure.is_none() || stop {
                            failure = Some((part.clone(), e));
                        }
                        done.insert(part);
                        if stop {
                            break 'rounds;
                        }
                    }
                }
            }
            // Only streams split by symbols discover more partitions as records arrive.
            if !matches!(self.stream, Stream::Trades | Stream::Orders)
                || round + 1 == MAX_PARTITION_ROUNDS
            {
                break;
            }
        }
        let duration = started.elapsed();
        let (records, pages) = {
            let c = self.counters.lock().expect("counters lock");
            (c.records - before, c.pages - pages_before)
        };
        let mut result = StreamSyncResult {
            stream: self.stream.as_str().to_owned(),
            result: "ok".into(),
            records,
            pages,
            partitions: done.len() as u64,
            duration_ms: duration.as_millis() as u64,
            error: None,
        };
        let labels = self.labels();
        let mut state = self
            .daemon
            .stream_state(self.it.name(), self.stream.as_str());
        state.last_attempt_ms = Some(now_ms());
        // What the stream was before this sync: a notification goes out on a change only.
        let failed_before = state.last_error.clone();
        let succeeded_before = state.last_success_ms;
        match (&failure, interrupted) {
            (Some((part, e)), _) => {
                let info = to_info(e, &self.it.redactor);
                StreamSyncFailed {
                    labels,
                    partition: part,
                    reason: taxonomy::name(e.kind),
                    message: &info.message,
                    hint: taxonomy::hint(e.kind),
                    duration,
                }
                .emit(&self.daemon.metrics);
                result.result = "failed".into();
                if failed_before.is_none() {
                    self.notify(Notification {
                        event: Transition::Failure,
                        error_kind: Some(info.kind.clone()),
                        message: Some(info.message.clone()),
                        hint: Some(taxonomy::hint(e.kind).to_owned()),
                        at_ms: info.at_ms.unwrap_or_else(now_ms),
                        last_failure_ms: None,
                        last_success_ms: succeeded_before,
                        ..self.notification_of()
                    });
                }
                state.last_error = Some(info.clone());
                result.error = Some(info);
            }
            (None, true) if self.daemon.shutdown.is_cancelled() => {
                result.result = "interrupted".into();
                result.error = Some(ErrorInfo::new("interrupted", "the daemon is shutting down; the sync resumes from its cursor at the next start"));
            }
            (None, true) => {
                // Stopped by a reload: an interrupted sync counts as not attempted, so the
                // integration's next instance (if it has one) resumes it from its cursor soon
                // after it starts instead of a whole interval later.
                result.result = "interrupted".into();
                result.error = Some(ErrorInfo::new("interrupted", "a reload stopped or restarted the integration after its page in flight; the sync resumes from its cursor"));
                state.last_attempt_ms = None;
            }
            (None, false) => {
                let finished = now_ms();
                StreamSynced {
                    labels,
                    records,
                    partitions: done.len() as u64,
                    duration,
                    finished_ms: finished,
                }
                .emit(&self.daemon.metrics);
                state.last_success_ms = Some(finished);
                if let Some(failed) = &failed_before {
                    self.notify(Notification {
                        event: Transition::Recovery,
                        error_kind: Some(failed.kind.clone()),
                        message: Some(failed.message.clone()),
                        hint: failed.hint.clone(),
                        at_ms: finished,
                        last_failure_ms: failed.at_ms,
                        last_success_ms: succeeded_before,
                        ..self.notification_of()
                    });
                }
                state.last_error = None;
            }
        }
        // The write waits for the store's writer (behind other syncs' page commits) and for
        // the disk: on the blocking pool, so the runtime's few threads stay free to answer
        // the control socket (`status` under load) and drive the other syncs.
        let (daemon, name, stream) = (self.daemon.clone(), self.it.name().to_owned(), self.stream);
        let stored = tokio::task::spawn_blocking(move || {
            daemon.set_stream_state(&name, stream.as_str(), &state)
        })
        .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "Could not record the stream state.");
        }
        result
    }
}

/// Runs a blocking plugin or store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PluginError> + Send + 'static,
) -> Result<T, PluginError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(PluginError::plugin(format!("a blocking task failed: {e}"))))
}

/// Who asked for a sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `exsyncctl sync`: the streams run whatever their schedule says.
    Manual,
    /// The scheduler: a stream that synced less than 90% of its interval ago (a manual sync
    /// ran while this one waited for the integration) is skipped.
    Scheduled,
}

/// Whether a stream is due: never attempted, or last attempted at least 90% of its
/// interval ago.
fn is_due(daemon: &Daemon, it: &Integration, stream: Stream) -> bool {
    let Some(interval) = it
        .streams
        .iter()
        .find(|(s, _)| *s == stream)
        .map(|(_, i)| *i)
    else {
        return false;
    };
    let last = daemon
        .stream_state(it.name(), stream.as_str())
        .last_attempt_ms;
    match last {
        None => true,
        Some(t) => now_ms() - t >= (interval.as_millis() as i64) * 9 / 10,
    }
}

/// Syncs the given streams (all configured ones when `only` is empty) of one integration.
pub async fn sync(
    daemon: Arc<Daemon>,
    it: Arc<Integration>,
    only: Vec<Stream>,
    trigger: Trigger,
    progress: Option<UnboundedSender<SyncProgress>>,
) -> SyncReport {
    let mut report = SyncReport {
        integration: it.name().to_owned(),
        started: true,
        streams: Vec::new(),
    };
    let Some(connector) = it.connector.clone() else {
        return report;
    };
    let requested_ms = now_ms();
    let _running = it.sync_lock.lock().await;
    let _slot = daemon.sync_slots.clone().acquire_owned().await;
    let counters = Mutex::new(Counters::default());
    let streams: Vec<Stream> = it
        .streams
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| only.is_empty() || only.contains(s))
        .filter(|s| trigger == Trigger::Manual || is_due(&daemon, &it, *s))
        .collect();
    for stream in streams {
        // A manual sync that waited for another sync of this integration does not repeat
        // the streams that sync completed after it was asked for: they are as fresh as a
        // second pass would make them, and a second pass costs the exchange's budget.
        if trigger == Trigger::Manual && synced_since(&daemon, &it, stream, requested_ms) {
            tracing::info!(
                integration = it.name(),
                stream = stream.as_str(),
                "Not syncing again: the sync that ran while this one waited has just done it."
            );
            report.streams.push(StreamSyncResult {
                stream: stream.as_str().to_owned(),
                result: "ok".into(),
                records: 0,
                pages: 0,
                partitions: 0,
                duration_ms: 0,
                error: None,
            });
            continue;
        }
        if it.stop.is_cancelled() {
            break;
        }
        if stream == Stream::Candles {
            deepen_candle_walk(&daemon, &it);
        }
        daemon.set_running(it.name(), Some(stream));
        let run = StreamRun {
            daemon: &daemon,
            it: &it,
            // Candles with a start of their own run on an instance of their own.
            connector: match (&it.candle_connector, stream) {
                (Some(candles), Stream::Candles) => candles.clone(),
                _ => connector.clone(),
            },
            stream,
            progress: progress.as_ref(),
            counters: &counters,
        };
        report.streams.push(run.run().await);
        if stream == Stream::Candles {
            crate::candles::refresh_after_sync(&daemon, it.exchange()).await;
        }
    }
    daemon.set_running(it.name(), None);
    policy::record_outcome(&daemon, &it, &report);
    report
}

/// How much earlier than the deepest walk so far a candles start must be to count as deeper:
/// the start moves later with the clock between syncs, so only a raised `history_days` (or a
/// clock set back by more than this) makes it earlier.
const DEEPER_MARGIN_MS: i64 = 60_000;

/// Before a candles sync: when the candles now go back further than any walk before
/// (`history_days` raised, applied by a reload or a restart), every candles partition forgets
/// its cursor and walks again from the new start. What it fetches again merges with what is
/// stored. The first walk only records its start.
fn deepen_candle_walk(daemon: &Daemon, it: &Integration) {
    let Some(start) = crate::config::candle_start(&it.config, now_ms()) else {
        return;
    };
    let done = match daemon.store.candle_depth(it.name()) {
        Ok(Some(deepest)) if start + DEEPER_MARGIN_MS >= deepest => return,
        Ok(Some(deepest)) => daemon
            .store
            .deepen_candles(it.name(), start)
            .map(|partitions| {
                CandleHistoryDeepened {
                    integration: it.name(),
                    from_ms: start,
                    before_ms: deepest,
                    partitions,
                }
                .emit(&daemon.metrics)
            }),
        Ok(None) => daemon.store.set_candle_depth(it.name(), start),
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        tracing::error!(
            integration = it.name(),
            "Could not check how far back the candles go: {e}"
        );
    }
}

/// Whether `stream` last succeeded after `since_ms`.
fn synced_since(daemon: &Daemon, it: &Integration, stream: Stream, since_ms: i64) -> bool {
    daemon
        .stream_state(it.name(), stream.as_str())
        .last_success_ms
        .is_some_and(|t| t > since_ms)
}

/// When a stream is next due: its interval after the last attempt, shifted by the
/// integration's fixed jitter offset for the stream (`policy::jitter_offset`).
fn next_due(
    it: &Integration,
    stream: Stream,
    last_attempt_ms: Option<i64>,
    interval: Duration,
) -> i64 {
    let bound = it.config.policy.jitter_for(interval);
    match last_attempt_ms {
        // First sync soon after start, spread over a few seconds.
        None => {
            now_ms()
                + policy::jitter_offset(
                    it.name(),
                    stream.as_str(),
                    bound.min(interval).min(Duration::from_secs(3)),
                )
        }
        Some(t) => {
            t + interval.as_millis() as i64
                + policy::jitter_offset(it.name(), stream.as_str(), bound)
        }
    }
}

/// The scheduling loop of one integration, until it stops (shutdown, or a reload).
pub async fn schedule(daemon: Arc<Daemon>, it: Arc<Integration>) {
    if it.connector.is_none() || it.streams.is_empty() {
        return;
    }
    // Retention runs beside the schedule, and stops with it.
    tokio::spawn(crate::prune::daily(daemon.clone(), it.clone()));
    let mut due: Vec<(Stream, Duration, i64)> = it
        .streams
        .iter()
        .map(|(s, interval)| {
            let last = daemon.stream_state(it.name(), s.as_str()).last_attempt_ms;
            (*s, *interval, next_due(&it, *s, last, *interval))
        })
        .collect();
    loop {
        let next = due.iter().map(|d| d.2).min().unwrap_or(i64::MAX);
        daemon.set_next_runs(it.name(), due.iter().map(|d| (d.0, d.2)).collect());
        let wait = Duration::from_millis((next - now_ms()).max(0) as u64);
        tokio::select! {
            _ = it.stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let now = now_ms();
        let ready: Vec<Stream> = due.iter().filter(|d| d.2 <= now).map(|d| d.0).collect();
        if it.stop.is_cancelled() {
            return;
        }
        let policy = &it.config.policy;
        let paused = policy::paused(
            policy,
            &it.config.file,
            &policy::state(&daemon.store, it.name()),
        );
        if let Some(p) = paused {
            tracing::debug!(integration = it.name(), by = %p.by, "Paused: the scheduled sync does not run.");
            for d in due.iter_mut().filter(|d| ready.contains(&d.0)) {
                d.2 = next_due(&it, d.0, Some(now), d.1);
            }
            continue;
        }
        if !policy.in_window(now) {
            // Outside every sync window: the due streams wait for the next one to open.
            let opens = policy.next_window(now);
            for d in due.iter_mut().filter(|d| ready.contains(&d.0)) {
                let bound = policy.jitter_for(d.1);
                d.2 = opens + policy::jitter_offset(it.name(), d.0.as_str(), bound);
            }
            continue;
        }
        // All due streams in one sync: balances before trades, under one hold of the lock.
        sync(
            daemon.clone(),
            it.clone(),
            ready.clone(),
            Trigger::Scheduled,
            None,
        )
        .await;
        for d in due.iter_mut().filter(|d| ready.contains(&d.0)) {
            d.2 = next_due(&it, d.0, Some(now_ms()), d.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_plugin_api::{Side, Trade};

    fn trade(price: &str) -> Vec<Box<RawValue>> {
        let record = Record::Trade(Trade {
            id: "S:1".into(),
            order_id: None,
            timestamp: 5,
            symbol: "S".into(),
            base: Some("B".into()),
            quote: Some("Q".into()),
            side: Side::Buy,
            price: price.into(),
            amount: "1".into(),
            cost: "1".into(),
            fee_asset: None,
            fee_asset_native: Some("BNB".into()),
            fee_amount: Some("0.00000001".into()),
            liquidity: None,
            raw: serde_json::json!({"z": 1, "a": 2}),
        });
        vec![serde_json::value::to_raw_value(&record).unwrap()]
    }

    #[test]
    fn prepare_keeps_exact_decimals_and_refuses_inexact_ones() {
        let sent = trade("98765432109.87654321");
        let text = sent[0].get().to_owned();
        let (ok, assets) = prepare(Stream::Trades, sent).unwrap();
        assert_eq!(ok[0].id, "S:1");
        assert_eq!(&*ok[0].json, text, "stored as sent");
        assert!(ok[0].json.contains("\"98765432109.87654321\""));
        assert_eq!(Vec::from_iter(assets), vec!["B", "BNB", "Q"]);
        for bad in [
            "1e-8",
            ".5",
            "0.1.2",
            "",
            "1,5",
            "NaN",
            "123456789012345678901234567890.1",
        ] {
            let e = prepare(Stream::Trades, trade(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BAD_RESPONSE, "{bad}");
        }
        let e = prepare(Stream::Orders, trade("1")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PLUGIN);
        assert!(
            e.message.contains(r#"kind "trade" where "order" belongs"#),
            "{}",
            e.message
        );
    }

    /// The shortcut decides only what the full check would decide the same way.
    #[test]
    fn plain_decimals_are_exactly_what_decimal_prints_back() {
        let slow = |v: &str| matches!(Decimal::from_str_exact(v), Ok(d) if d.to_string() == v);
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "-0.00000001",
            "00",
            "01",
            "1.",
            ".1",
            "-",
            "",
            "1.2.3",
            "+1",
            "1e8",
            " 1",
            "1 ",
            "0.10",
            "-12.340",
            "79228162514264337593543950335",
            "7922816251426433759354395033",
            "1.000000000000000000000000000",
            "0.0000000000000000000000000001",
            "0.000000000000000000000000001",
            "9999999999999999999999999999",
            "99999999999999999999999999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Random texts near the shape: sign, integer digits (leading zeros likely), maybe a
        // point and fraction digits, sometimes a stray character.
        let mut state = 1u64;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % bound
        };
        for _ in 0..20_000 {
            let mut t = String::new();
            if next(4) == 0 {
                t.push('-');
            }
            let zeros = next(3) == 0;
            for i in 0..next(17) {
                let d = if zeros && i == 0 { 0 } else { next(10) };
                t.push(char::from(b'0' + d as u8));
            }
            if next(2) == 0 {
                t.push('.');
                for _ in 0..next(17) {
                    t.push(char::from(b'0' + next(10) as u8));
                }
            }
            if next(20) == 0 {
                let at = next(t.len() as u64 + 1) as usize;
                t.insert(at, ['-', '.', 'e', '+', ' '][next(5) as usize]);
            }
            texts.push(t);
        }
        let mut decided = 0;
        for t in &texts {
            if is_plain_decimal(t) {
                decided += 1;
                assert!(slow(t), "{t:?} taken as exact, Decimal disagrees");
            }
            assert_eq!(is_exact_decimal(t), slow(t), "{t:?}");
        }
        assert!(decided > 100, "the shortcut decided only {decided} texts");
    }

    #[test]
    fn next_due_jitters_within_ten_percent_and_the_same_every_time() {
        let config = crate::config::IntegrationConfig {
            name: "binance-main".into(),
            file: "binance-main.toml".into(),
            exchange: "binance".into(),
            base_url: None,
            sandbox: false,
            start_ms: None,
            budget: true,
            credentials: Default::default(),
            credentials_in_store: false,
            streams: Vec::new(),
            candle_symbols: Vec::new(),
            candle_timeframes: Vec::new(),
            options: Default::default(),
            policy: Default::default(),
            since: None,
            stream_since: Vec::new(),
            retention: Default::default(),
            keep: Vec::new(),
            fetch: Default::default(),
            primary_currency: None,
            rate_limits: Vec::new(),
            public: false,
            candle_history_days: None,
            spike_threshold: None,
            notify: None,
        };
        let it = crate::supervisor::Integration::unconnected(config);
        let d = next_due(
            &it,
            Stream::Trades,
            Some(1_000_000),
            Duration::from_secs(100),
        );
        assert!((1_100_000..=1_110_000).contains(&d), "{d}");
        assert_eq!(
            d,
            next_due(
                &it,
                Stream::Trades,
                Some(1_000_000),
                Duration::from_secs(100)
            )
        );
    }
}
