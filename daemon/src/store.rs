//! The embedded store: records, cursors, coverage and ban state in one redb file.
//!
//! The engine's unit of durability is a page: [`Store::commit_page`] writes the page's records,
//! the partition's new cursor and the coverage the page proves in one write transaction, so a
//! crash loses at most the page in flight and a restart resumes from the stored cursor. Every
//! record is keyed `(integration, kind, id)`: a re-fetch is an upsert, never a duplicate.
//! (Batching durability, a disk flush once a second instead of per page, was measured and
//! gained nothing: an fdatasync costs about 0.3 ms here, a 1000-record page about 12 ms in all.)
//!
//! Candles have a table of their own, binary rows keyed by series and open time
//! ([`candles`]); [`Store::commit_page`] routes a page's `candle` records there.
//!
//! This module owns the table layout and nothing else; what a record means is the engine's.

mod candles;

pub use candles::{CandleSeries, CandleValues, NewCandle};

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use exsync_protocol::{ErrorInfo, Range};
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};
use serde::{Deserialize, Serialize};

/// `(integration, kind, id)` → (timestamp, the record's JSON).
const RECORDS: TableDefinition<(&str, &str, &str), (i64, &[u8])> = TableDefinition::new("records");
/// `(integration, kind, timestamp, id)` → (): records in time order.
const RECORDS_BY_TIME: TableDefinition<(&str, &str, i64, &str), ()> =
    TableDefinition::new("records_by_time");
/// `(integration, kind)` → number of records.
const RECORD_COUNTS: TableDefinition<(&str, &str), u64> = TableDefinition::new("record_counts");
/// `(integration, stream, partition)` → the plugin's opaque cursor.
const CURSORS: TableDefinition<(&str, &str, &str), &str> = TableDefinition::new("cursors");
/// `(integration, stream, partition)` → [`Coverage`] as JSON.
const COVERAGE: TableDefinition<(&str, &str, &str), &[u8]> = TableDefinition::new("coverage");
/// `(integration, stream)` → [`StreamState`] as JSON.
const STREAM_STATE: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("stream_state");
/// `(integration, native asset)` → (): assets the account is known to have touched.
const ASSETS: TableDefinition<(&str, &str), ()> = TableDefinition::new("assets");
/// rate-limit scope → banned until (UTC ms). Survives restarts, so a restart never walks
/// straight back into an active ban.
const BANS: TableDefinition<&str, i64> = TableDefinition::new("bans");
/// `(integration, field)` → `nonce ‖ XChaCha20-Poly1305 ciphertext` of one credential value
/// (sealed by [`crate::credentials`]; no plaintext secret is ever written to this file).
const CREDENTIALS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("credentials");
/// integration → when its stored credentials were set or last rotated (UTC ms).
const CREDENTIALS_SET: TableDefinition<&str, i64> = TableDefinition::new("credentials_set");
/// The master key's check value: a sealed constant; a key that cannot open it is wrong.
const KEY_CHECK: TableDefinition<&str, &[u8]> = TableDefinition::new("key_check");
/// `schema_version` and friends.
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// integration → its policy state (a pause, consecutive failures) as JSON (`policy.rs`).
const POLICY_STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("policy_state");
/// (exchange, native symbol, timeframe) → the series' last quality report as JSON
/// (`candles.rs`): `data validate --last` and the quality gauges read it after a restart.
const QUALITY_REPORTS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("quality_reports");
/// (namespace, native symbol, timeframe) → open times an exchange sent twice within one
/// answer, a JSON array: the store merges them on commit, so only the engine saw them.
const PAGE_DUPLICATES: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("page_duplicates");
/// integration → the earliest start (UTC ms) its candles backfill was ever asked to walk
/// from: a `history_days` raised beyond it walks the candles again (`engine.rs`).
const CANDLE_DEPTH: TableDefinition<&str, i64> = TableDefinition::new("candle_depth");

/// redb's page cache. Its default (1 GiB) made a 1M-trade sync peak at 945 MiB RSS; the
/// engine writes pages once and reads little back, so a small cache costs nothing.
const CACHE_BYTES: usize = 32 << 20;

/// The layout version this code writes. Bump with a migration.
/// 2: candles moved from `records` to their own table (`candles.rs`); a version 1 store is
/// migrated when it is opened.
pub const SCHEMA_VERSION: &str = "2";

/// A store failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("store error while {doing}: {source}")]
    Redb {
        doing: String,
        source: Box<redb::Error>,
    },
    #[error("store is corrupt while {doing}: {message}")]
    Corrupt { doing: String, message: String },
    #[error("store {path} has schema version {found}, this exsyncd reads {SCHEMA_VERSION}")]
    Schema { path: String, found: String },
}

trait Doing<T> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> Doing<T> for Result<T, E> {
    fn doing(self, what: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Redb {
            doing: what(),
            source: Box::new(e.into()),
        })
    }
}

/// Where a partition's synced history stands.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub synced: Vec<Range>,
    pub unavailable: Vec<Range>,
    #[serde(default)]
    pub failed: Option<ErrorInfo>,
}

/// Adds `r` to a sorted, disjoint list of ranges, merging what overlaps or touches.
pub fn merge_range(ranges: &mut Vec<Range>, r: Range) {
    if r.to_ms <= r.from_ms {
        return;
    }
    ranges.push(r);
    ranges.sort_by_key(|r| (r.from_ms, r.to_ms));
    let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges.drain(..) {
        match merged.last_mut() {
            Some(last) if r.from_ms <= last.to_ms => last.to_ms = last.to_ms.max(r.to_ms),
            _ => merged.push(r),
        }
    }
    *ranges = merged;
}

/// The last outcome of a stream's sync.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamState {
    #[serde(default)]
    pub last_success_ms: Option<i64>,
    #[serde(default)]
    pub last_attempt_ms: Option<i64>,
    #[serde(default)]
    pub last_error: Option<ErrorInfo>,
}

/// One record, validated and encoded, ready to store.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub kind: &'static str,
    pub id: String,
    pub timestamp: i64,
    /// The record as the plugin sent it.
    pub json: Box<str>,
}

/// A page as the store commits it.
#[derive(Debug, Clone, Default)]
pub struct PageWrite {
    pub records: Vec<StoredRecord>,
    /// Native asset codes the page's records show the account touched, each once.
    pub assets: BTreeSet<String>,
    pub next_cursor: Option<String>,
    pub covered: Option<Range>,
    pub unavailable: Option<Range>,
}

/// What a commit changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Which partition a page belongs to.
#[derive(Debug, Clone, Copy)]
pub struct PartitionKey<'a> {
    pub integration: &'a str,
    pub stream: &'a str,
    pub partition: &'a str,
}

/// Repairs a store that was not closed cleanly (a crash, `kill -9`) on a copy beside it, then
/// renames the copy over it. A file redb cannot repair (truncated, overwritten) stays exactly as
/// it was: redb's repair writes to the file it repairs, and may even panic on a damaged one.
fn repair_a_copy(path: &Path) -> Result<(), StoreError> {
    let shown = path.display().to_string();
    let copy = path.with_extension("redb.repairing");
    let failed = |message: String| {
        StoreError::Corrupt {
        doing: format!("repairing {shown} after an unclean shutdown"),
        message: format!(
            "{message}; the file is left as it is: restore it from a backup (exsyncctl backup) or move it away to start an empty store"
        ),
    }
    };
    std::fs::copy(path, &copy)
        .map_err(|e| failed(format!("copying it to {}: {e}", copy.display())))?;
    let repaired = std::panic::catch_unwind(|| {
        Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&copy)
            .map(drop)
    });
    let outcome = match repaired {
        Ok(Ok(())) => std::fs::File::open(&copy)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&copy, path))
            .map_err(|e| failed(format!("replacing it with its repaired copy: {e}"))),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(_) => Err(failed("redb panicked while repairing it".into())),
    };
    if outcome.is_err() {
        let _ = std::fs::remove_file(&copy);
    }
    outcome
}

/// The redb database behind exsyncd.
pub struct Store {
    /// `None` only between closing a handle after an I/O error and opening it again.
    db: std::sync::RwLock<Option<Database>>,
    path: std::path::PathBuf,
    /// Integration → how many times what `status` shows of it changed: see [`Store::touched`].
    changes: std::sync::Mutex<HashMap<String, u64>>,
}

/// Counts a change of an integration when dropped: after the write it guards, whether that
/// write committed or failed, on every return path.
struct Touch<'a>(&'a Store, &'a str);

impl Drop for Touch<'_> {
    fn drop(&mut self) {
        self.0.touched(self.1);
    }
}

impl Store {
    /// Counts a change of what `status` shows of `integration`: its records, stream states
    /// and policy state here, and what the daemon keeps in memory (the running stream, the
    /// next runs). Called after the change is made, so that a reader who saw a count read
    /// what was there at that count or later: `status` builds an integration's part again
    /// only when its count moved.
    pub fn touched(&self, integration: &str) {
        let mut changes = self.changes.lock().expect("changes lock");
        match changes.get_mut(integration) {
            Some(n) => *n += 1,
            None => {
                changes.insert(integration.to_owned(), 1);
            }
        }
    }

    /// The change count of each of `integrations` (0: none since the start).
    pub fn changes_of<'a>(&self, integrations: impl Iterator<Item = &'a str>) -> Vec<u64> {
        let changes = self.changes.lock().expect("changes lock");
        integrations
            .map(|i| changes.get(i).copied().unwrap_or(0))
            .collect()
    }

    /// Begins a write transaction. After an I/O error (a full disk) redb refuses every write
    /// until the database is opened again: the handle is then closed and opened again here, so
    /// syncing resumes by itself once space returns. The committed data is as the last
    /// successful commit left it.
    pub(crate) fn begin_write(&self) -> Result<redb::WriteTransaction, redb::Error> {
        let first = self
            .db
            .read()
            .expect("store lock")
            .as_ref()
            .map(|db| db.begin_write());
        match first {
            Some(Ok(txn)) => return Ok(txn),
            Some(Err(redb::TransactionError::Storage(redb::StorageError::PreviousIo))) | None => {}
            Some(Err(e)) => return Err(e.into()),
        }
        let mut db = self.db.write().expect("store lock");
        // Another writer may have opened it again meanwhile.
        if let Some(Ok(txn)) = db.as_ref().map(|d| d.begin_write()) {
            return Ok(txn);
        }
        *db = None;
        tracing::warn!(path = %self.path.display(), "Opening the store again after an I/O error.");
        let fresh = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&self.path)?;
        let txn = fresh.begin_write()?;
        *db = Some(fresh);
        Ok(txn)
    }

    /// Begins a read transaction.
    pub(crate) fn begin_read(&self) -> Result<redb::ReadTransaction, redb::Error> {
        match self.db.read().expect("store lock").as_ref() {
            Some(db) => Ok(db.begin_read()?),
            None => Err(redb::Error::Io(std::io::Error::other(
                "the store is closed after an I/O error and could not be opened again yet",
            ))),
        }
    }

    /// Opens (or creates) the store and checks its schema version.
    ///
    /// An existing file is first checked without writing to it: a damaged file (truncated,
    /// overwritten) is refused as it is, never repaired in place or recreated, so the operator
    /// can restore a backup or keep it for inspection. Only a file that merely needs redb's
    /// repair after a crash (`kill -9`, power loss) goes on to the normal open, which repairs it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        if path.exists() {
            match Database::builder().open_read_only(path) {
                Ok(_) => {}
                Err(redb::DatabaseError::RepairAborted) => repair_a_copy(path)?,
                Err(e) => {
                    return Err(StoreError::Corrupt {
                        doing: format!("checking {shown} before opening it"),
                        message: format!(
                            "{e}; the file is left as it is: restore it from a backup (exsyncctl backup) or move it away to start an empty store"
                        ),
                    })
                }
            }
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .doing(|| format!("opening {shown}"))?;
        let store = Store {
            db: std::sync::RwLock::new(Some(db)),
            path: path.to_owned(),
            changes: Default::default(),
        };
        let txn = store
            .begin_write()
            .doing(|| format!("initialising {shown}"))?;
        {
            let mut meta = txn.open_table(META).doing(|| "opening meta".into())?;
            let found = meta
                .get("schema_version")
                .doing(|| "reading the schema version".into())?;
            match found.map(|v| v.value().to_owned()) {
                Some(v) if v == "1" => {
                    let doing = || format!("moving the candles of {shown} to the candle table");
                    let moved = candles::migrate_v1_candles(&txn, &doing)?;
                    meta.insert("schema_version", SCHEMA_VERSION)
                        .doing(|| "writing the schema version".into())?;
                    tracing::info!(path = %shown, candles = moved, "Store migrated to schema 2: candles have their own table.");
                }
                Some(v) if v != SCHEMA_VERSION => {
                    return Err(StoreError::Schema {
                        path: shown,
                        found: v,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION)
                        .doing(|| "writing the schema version".into())?;
                }
            }
            // Create every table so readers never meet a missing one.
            txn.open_table(RECORDS).doing(|| "creating tables".into())?;
            txn.open_table(RECORDS_BY_TIME)
                .doing(|| "creating tables".into())?;
            txn.open_table(RECORD_COUNTS)
                .doing(|| "creating tables".into())?;
            txn.open_table(CURSORS).doing(|| "creating tables".into())?;
            txn.open_table(COVERAGE)
                .doing(|| "creating tables".into())?;
            txn.open_table(STREAM_STATE)
                .doing(|| "creating tables".into())?;
            txn.open_table(ASSETS).doing(|| "creating tables".into())?;
            txn.open_table(BANS).doing(|| "creating tables".into())?;
            txn.open_table(CREDENTIALS)
                .doing(|| "creating tables".into())?;
            txn.open_table(CREDENTIALS_SET)
                .doing(|| "creating tables".into())?;
            txn.open_table(KEY_CHECK)
                .doing(|| "creating tables".into())?;
            txn.open_table(POLICY_STATE)
                .doing(|| "creating tables".into())?;
            txn.open_table(QUALITY_REPORTS)
                .doing(|| "creating tables".into())?;
            txn.open_table(PAGE_DUPLICATES)
                .doing(|| "creating tables".into())?;
            txn.open_table(CANDLE_DEPTH)
                .doing(|| "creating tables".into())?;
            txn.open_table(candles::CANDLE_SERIES)
                .doing(|| "creating tables".into())?;
            txn.open_table(candles::CANDLES)
                .doing(|| "creating tables".into())?;
        }
        txn.commit().doing(|| format!("initialising {shown}"))?;
        Ok(store)
    }

    /// Stores a page: records (upserted), cursor and coverage, in one transaction.
    pub fn commit_page(
        &self,
        key: PartitionKey<'_>,
        page: &PageWrite,
    ) -> Result<PageOutcome, StoreError> {
        let PartitionKey {
            integration,
            stream,
            partition,
        } = key;
        let _touch = Touch(self, integration);
        let doing = || format!("committing a page of {integration}/{stream}/{partition}");
        let mut txn = self.begin_write().doing(doing)?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::Corrupt {
                doing: doing(),
                message: e.to_string(),
            })?;
        let mut outcome = PageOutcome::default();
        {
            // Candles go to their own table (`candles.rs`), the rest to `records`.
            let mut candle_series: Vec<CandleSeries> = Vec::new();
            let mut new_candles: Vec<NewCandle<'_>> = Vec::new();
            for r in page.records.iter().filter(|r| r.kind == "candle") {
                let (series, candle, raw) =
                    candles::parse_candle_json(&r.json).map_err(|e| StoreError::Corrupt {
                        doing: doing(),
                        message: format!("candle {}: {e}", r.id),
                    })?;
                let at = match candle_series
                    .iter()
                    .position(|s| s.symbol == series.symbol && s.timeframe == series.timeframe)
                {
                    Some(at) => at,
                    None => {
                        candle_series.push(series);
                        candle_series.len() - 1
                    }
                };
                new_candles.push(NewCandle {
                    series: at,
                    candle,
                    raw,
                });
            }
            candles::put_candles(
                &txn,
                integration,
                &candle_series,
                &new_candles,
                &mut outcome,
                &doing,
            )?;
            let mut records = txn.open_table(RECORDS).doing(doing)?;
            let mut by_time = txn.open_table(RECORDS_BY_TIME).doing(doing)?;
            let mut counts = txn.open_table(RECORD_COUNTS).doing(doing)?;
            let mut assets = txn.open_table(ASSETS).doing(doing)?;
            let mut new_by_kind: Vec<(&str, u64)> = Vec::new();
            for r in page.records.iter().filter(|r| r.kind != "candle") {
                // One lookup per record: the insert hands back what it replaced. An unchanged
                // record is rewritten with the same bytes, which costs less than looking it up
                // first when, as in a history walk, nearly every record is new.
                let old = records
                    .insert(
                        (integration, r.kind, r.id.as_str()),
                        (r.timestamp, r.json.as_bytes()),
                    )
                    .doing(doing)?
                    .map(|guard| {
                        let (ts, bytes) = guard.value();
                        (ts, bytes == r.json.as_bytes())
                    });
                match old {
                    Some((ts, same)) if ts == r.timestamp => {
                        // The time index already names this record.
                        if same {
                            outcome.unchanged += 1;
                        } else {
                            outcome.updated += 1;
                        }
                        continue;
                    }
                    Some((ts, _)) => {
                        outcome.updated += 1;
                        by_time
                            .remove((integration, r.kind, ts, r.id.as_str()))
                            .doing(doing)?;
                    }
                    None => {
                        outcome.inserted += 1;
                        match new_by_kind.iter_mut().find(|(k, _)| *k == r.kind) {
                            Some((_, n)) => *n += 1,
                            None => new_by_kind.push((r.kind, 1)),
                        }
                    }
                }
                by_time
                    .insert((integration, r.kind, r.timestamp, r.id.as_str()), ())
                    .doing(doing)?;
            }
            for asset in &page.assets {
                assets
                    .insert((integration, asset.as_str()), ())
                    .doing(doing)?;
            }
            for (kind, n) in new_by_kind {
                let before = counts
                    .get((integration, kind))
                    .doing(doing)?
                    .map(|v| v.value())
                    .unwrap_or(0);
                counts
                    .insert((integration, kind), before + n)
                    .doing(doing)?;
            }

            let mut cursors = txn.open_table(CURSORS).doing(doing)?;
            match &page.next_cursor {
                Some(c) => {
                    cursors
                        .insert((integration, stream, partition), c.as_str())
                        .doing(doing)?;
                }
                None => {
                    cursors
                        .remove((integration, stream, partition))
                        .doing(doing)?;
                }
            }

            let mut coverage_table = txn.open_table(COVERAGE).doing(doing)?;
            let mut coverage: Coverage = match coverage_table
                .get((integration, stream, partition))
                .doing(doing)?
            {
                Some(v) => serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt {
                    doing: doing(),
                    message: e.to_string(),
                })?,
                None => Coverage::default(),
            };
            if let Some(r) = page.covered {
                merge_range(&mut coverage.synced, r);
            }
            if let Some(r) = page.unavailable {
                merge_range(&mut coverage.unavailable, r);
            }
            coverage.failed = None;
            let bytes = serde_json::to_vec(&coverage).expect("coverage serializes");
            coverage_table
                .insert((integration, stream, partition), bytes.as_slice())
                .doing(doing)?;
        }
        txn.commit().doing(doing)?;
        Ok(outcome)
    }

    /// Remembers that a partition failed (cleared by its next committed page).
    pub fn record_failure(
        &self,
        key: PartitionKey<'_>,
        error: &ErrorInfo,
    ) -> Result<(), StoreError> {
        let PartitionKey {
            integration,
            stream,
            partition,
        } = key;
        let doing = || format!("recording a failure of {integration}/{stream}/{partition}");
        let txn = self.begin_write().doing(doing)?;
        {
            let mut table = txn.open_table(COVERAGE).doing(doing)?;
            let mut coverage: Coverage =
                match table.get((integration, stream, partition)).doing(doing)? {
                    Some(v) => serde_json::from_slice(v.value()).unwrap_or_default(),
                    None => Coverage::default(),
                };
            coverage.failed = Some(error.clone());
            let bytes = serde_json::to_vec(&coverage).expect("coverage serializes");
            table
                .insert((integration, stream, partition), bytes.as_slice())
                .doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    pub fn cursor(&self, key: PartitionKey<'_>) -> Result<Option<String>, StoreError> {
        let doing = || {
            format!(
                "reading the cursor of {}/{}/{}",
                key.integration, key.stream, key.partition
            )
        };
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(CURSORS).doing(doing)?;
        let v = table
            .get((key.integration, key.stream, key.partition))
            .doing(doing)?;
        Ok(v.map(|v| v.value().to_owned()))
    }

    /// Partitions of a stream that have a stored cursor.
    pub fn cursor_partitions(
        &self,
        integration: &str,
        stream: &str,
    ) -> Result<Vec<String>, StoreError> {
        let doing = || format!("listing cursors of {integration}/{stream}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(CURSORS).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.range((integration, stream, "")..).doing(doing)? {
            let (k, _) = entry.doing(doing)?;
            let (i, s, p) = k.value();
            if i != integration || s != stream {
                break;
            }
            out.push(p.to_owned());
        }
        Ok(out)
    }

    /// Native assets the account is known to have touched.
    pub fn assets(&self, integration: &str) -> Result<Vec<String>, StoreError> {
        let doing = || format!("listing the assets of {integration}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(ASSETS).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.range((integration, "")..).doing(doing)? {
            let (k, _) = entry.doing(doing)?;
            let (i, a) = k.value();
            if i != integration {
                break;
            }
            out.push(a.to_owned());
        }
        Ok(out)
    }

    pub fn record_count(&self, integration: &str, kind: &str) -> Result<u64, StoreError> {
        let doing = || format!("counting {kind} records of {integration}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(RECORD_COUNTS).doing(doing)?;
        Ok(table
            .get((integration, kind))
            .doing(doing)?
            .map(|v| v.value())
            .unwrap_or(0))
    }

    /// The record counts of one integration, kind → count.
    pub fn record_counts_of(&self, integration: &str) -> Result<HashMap<String, u64>, StoreError> {
        let doing = || format!("reading the record counts of {integration}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(RECORD_COUNTS).doing(doing)?;
        let mut out = HashMap::new();
        for entry in table.range((integration, "")..).doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (i, kind) = k.value();
            if i != integration {
                break;
            }
            out.insert(kind.to_owned(), v.value());
        }
        Ok(out)
    }

    /// Every record count, integration → kind → count, in one read transaction: what
    /// `status` shows for a thousand integrations costs one transaction, not one per stream.
    pub fn record_counts(&self) -> Result<HashMap<String, HashMap<String, u64>>, StoreError> {
        let doing = || "reading the record counts".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(RECORD_COUNTS).doing(doing)?;
        let mut out: HashMap<String, HashMap<String, u64>> = HashMap::new();
        for entry in table.iter().doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (integration, kind) = k.value();
            out.entry(integration.to_owned())
                .or_default()
                .insert(kind.to_owned(), v.value());
        }
        Ok(out)
    }

    /// Visits stored records of one kind, oldest first, until `visit` returns false.
    pub fn for_each_record(
        &self,
        integration: &str,
        kind: &str,
        mut visit: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), StoreError> {
        if kind == "candle" {
            for json in self.candle_records(integration)? {
                if !visit(json.as_bytes()) {
                    break;
                }
            }
            return Ok(());
        }
        let doing = || format!("reading {kind} records of {integration}");
        let txn = self.begin_read().doing(doing)?;
        let by_time = txn.open_table(RECORDS_BY_TIME).doing(doing)?;
        let records = txn.open_table(RECORDS).doing(doing)?;
        for entry in by_time
            .range((integration, kind, i64::MIN, "")..)
            .doing(doing)?
        {
            let (k, _) = entry.doing(doing)?;
            let (i, kd, _, id) = k.value();
            if i != integration || kd != kind {
                break;
            }
            let Some(v) = records.get((integration, kind, id)).doing(doing)? else {
                return Err(StoreError::Corrupt {
                    doing: doing(),
                    message: format!("time index names {id:?}, which is not stored"),
                });
            };
            if !visit(v.value().1) {
                break;
            }
        }
        Ok(())
    }

    /// Visits stored records of one kind in id order with their id, until `visit` returns
    /// false. Reads one table only, so it is the fast way through every record of a kind.
    /// Not for candles: they are read with [`Store::for_each_candle`].
    pub fn for_each_record_by_id(
        &self,
        integration: &str,
        kind: &str,
        mut visit: impl FnMut(&str, &[u8]) -> bool,
    ) -> Result<(), StoreError> {
        debug_assert_ne!(kind, "candle", "candles are read with for_each_candle");
        let doing = || format!("reading {kind} records of {integration} by id");
        let txn = self.begin_read().doing(doing)?;
        let records = txn.open_table(RECORDS).doing(doing)?;
        for entry in records.range((integration, kind, "")..).doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (i, kd, id) = k.value();
            if i != integration || kd != kind {
                break;
            }
            if !visit(id, v.value().1) {
                break;
            }
        }
        Ok(())
    }

    /// Coverage of every partition of a stream.
    pub fn coverage(
        &self,
        integration: &str,
        stream: &str,
    ) -> Result<Vec<(String, Coverage)>, StoreError> {
        let doing = || format!("reading the coverage of {integration}/{stream}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(COVERAGE).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.range((integration, stream, "")..).doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (i, s, p) = k.value();
            if i != integration || s != stream {
                break;
            }
            let c = serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt {
                doing: doing(),
                message: e.to_string(),
            })?;
            out.push((p.to_owned(), c));
        }
        Ok(out)
    }

    pub fn stream_state(&self, integration: &str, stream: &str) -> Result<StreamState, StoreError> {
        let doing = || format!("reading the state of {integration}/{stream}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(STREAM_STATE).doing(doing)?;
        Ok(match table.get((integration, stream)).doing(doing)? {
            Some(v) => serde_json::from_slice(v.value()).unwrap_or_default(),
            None => StreamState::default(),
        })
    }

    pub fn set_stream_state(
        &self,
        integration: &str,
        stream: &str,
        state: &StreamState,
    ) -> Result<(), StoreError> {
        let _touch = Touch(self, integration);
        let doing = || format!("writing the state of {integration}/{stream}");
        let txn = self.begin_write().doing(doing)?;
        {
            let mut table = txn.open_table(STREAM_STATE).doing(doing)?;
            let bytes = serde_json::to_vec(state).expect("stream state serializes");
            table
                .insert((integration, stream), bytes.as_slice())
                .doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    /// Records a ban on a rate-limit scope until `until_ms`.
    pub fn set_ban(&self, scope: &str, until_ms: i64) -> Result<(), StoreError> {
        let doing = || format!("recording a ban of {scope}");
        let txn = self.begin_write().doing(doing)?;
        {
            let mut table = txn.open_table(BANS).doing(doing)?;
            table.insert(scope, until_ms).doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    /// The ban on a scope, if one is recorded (it may have expired).
    pub fn ban(&self, scope: &str) -> Result<Option<i64>, StoreError> {
        let doing = || format!("reading the ban of {scope}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(BANS).doing(doing)?;
        Ok(table.get(scope).doing(doing)?.map(|v| v.value()))
    }

    /// The integrations (store namespaces) holding records of `kind`, including ones no
    /// longer configured.
    pub fn integrations_with(&self, kind: &str) -> Result<Vec<String>, StoreError> {
        let doing = || format!("listing the integrations with {kind} records");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(RECORD_COUNTS).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.iter().doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (integration, k_kind) = k.value();
            if k_kind == kind && v.value() > 0 {
                out.push(integration.to_owned());
            }
        }
        Ok(out)
    }

    /// Number of records across all integrations and kinds.
    pub fn total_records(&self) -> Result<u64, StoreError> {
        let doing = || "counting records".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(RECORDS).doing(doing)?;
        Ok(table.len().doing(doing)? + self.total_candles()?)
    }

    /// The master key's check value, if a key was ever used with this store.
    pub fn key_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let doing = || "reading the key check value".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(KEY_CHECK).doing(doing)?;
        Ok(table
            .get("master")
            .doing(doing)?
            .map(|v| v.value().to_vec()))
    }

    /// Keeps the check value of the master key (once, when a key is first used).
    pub fn set_key_check(&self, check: &[u8]) -> Result<(), StoreError> {
        let doing = || "writing the key check value".to_owned();
        let mut txn = self.begin_write().doing(doing)?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::Corrupt {
                doing: doing(),
                message: e.to_string(),
            })?;
        {
            let mut table = txn.open_table(KEY_CHECK).doing(doing)?;
            table.insert("master", check).doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    /// Replaces every sealed credential field of `integration` in one transaction.
    pub fn put_credentials(
        &self,
        integration: &str,
        sealed: &[(String, Vec<u8>)],
        set_ms: i64,
    ) -> Result<(), StoreError> {
        let doing = || format!("storing the credentials of {integration}");
        let mut txn = self.begin_write().doing(doing)?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::Corrupt {
                doing: doing(),
                message: e.to_string(),
            })?;
        {
            let mut table = txn.open_table(CREDENTIALS).doing(doing)?;
            let mut old = Vec::new();
            for entry in table.range((integration, "")..).doing(doing)? {
                let (k, _) = entry.doing(doing)?;
                let (i, field) = k.value();
                if i != integration {
                    break;
                }
                old.push(field.to_owned());
            }
            for field in &old {
                table.remove((integration, field.as_str())).doing(doing)?;
            }
            for (field, bytes) in sealed {
                table
                    .insert((integration, field.as_str()), bytes.as_slice())
                    .doing(doing)?;
            }
            let mut set = txn.open_table(CREDENTIALS_SET).doing(doing)?;
            set.insert(integration, set_ms).doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    /// The sealed credential fields of `integration` and when they were set, if any.
    #[allow(clippy::type_complexity)]
    pub fn sealed_credentials(
        &self,
        integration: &str,
    ) -> Result<Option<(Vec<(String, Vec<u8>)>, i64)>, StoreError> {
        let doing = || format!("reading the credentials of {integration}");
        let txn = self.begin_read().doing(doing)?;
        let set = txn.open_table(CREDENTIALS_SET).doing(doing)?;
        let Some(set_ms) = set.get(integration).doing(doing)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let table = txn.open_table(CREDENTIALS).doing(doing)?;
        let mut fields = Vec::new();
        for entry in table.range((integration, "")..).doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (i, field) = k.value();
            if i != integration {
                break;
            }
            fields.push((field.to_owned(), v.value().to_vec()));
        }
        Ok(Some((fields, set_ms)))
    }

    /// Every integration with stored credentials, and when they were set.
    pub fn credential_stamps(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let doing = || "listing stored credentials".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(CREDENTIALS_SET).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.iter().doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            out.push((k.value().to_owned(), v.value()));
        }
        Ok(out)
    }

    /// Copies the whole store, as of one read transaction, into a new database at `path`
    /// (which must not exist). Syncs keep committing meanwhile; the copy is consistent.
    pub fn copy_to(&self, path: &Path) -> Result<(), StoreError> {
        let shown = path.display().to_string();
        let doing = || format!("copying the store to {shown}");
        let read = self.begin_read().doing(doing)?;
        let copy = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .doing(doing)?;
        let write = copy.begin_write().doing(doing)?;
        copy_table(&read, &write, RECORDS, &doing)?;
        copy_table(&read, &write, RECORDS_BY_TIME, &doing)?;
        copy_table(&read, &write, RECORD_COUNTS, &doing)?;
        copy_table(&read, &write, CURSORS, &doing)?;
        copy_table(&read, &write, COVERAGE, &doing)?;
        copy_table(&read, &write, STREAM_STATE, &doing)?;
        copy_table(&read, &write, ASSETS, &doing)?;
        copy_table(&read, &write, BANS, &doing)?;
        copy_table(&read, &write, CREDENTIALS, &doing)?;
        copy_table(&read, &write, CREDENTIALS_SET, &doing)?;
        copy_table(&read, &write, KEY_CHECK, &doing)?;
        copy_table(&read, &write, META, &doing)?;
        copy_table(&read, &write, POLICY_STATE, &doing)?;
        copy_table(&read, &write, QUALITY_REPORTS, &doing)?;
        copy_table(&read, &write, PAGE_DUPLICATES, &doing)?;
        copy_table(&read, &write, CANDLE_DEPTH, &doing)?;
        copy_table(&read, &write, candles::CANDLE_SERIES, &doing)?;
        copy_table(&read, &write, candles::CANDLES, &doing)?;
        write.commit().doing(doing)
    }

    /// Retention (`prune.rs`): the records of `kind` older than `before_ms` are removed, or
    /// with `strip_raw` kept with their `raw` emptied to `{}`. A dry run only counts. Returns
    /// how many records it touched (would touch).
    pub fn prune_records(
        &self,
        integration: &str,
        kind: &str,
        before_ms: i64,
        strip_raw: bool,
        dry_run: bool,
    ) -> Result<u64, StoreError> {
        let _touch = Touch(self, integration);
        if kind == "candle" {
            return self.prune_candles(integration, before_ms, strip_raw, dry_run);
        }
        let doing = || format!("pruning {kind} records of {integration} before {before_ms}");
        let txn = self.begin_write().doing(doing)?;
        let mut touched = 0u64;
        {
            let mut records = txn.open_table(RECORDS).doing(doing)?;
            let mut by_time = txn.open_table(RECORDS_BY_TIME).doing(doing)?;
            let mut counts = txn.open_table(RECORD_COUNTS).doing(doing)?;
            let mut old: Vec<(i64, String)> = Vec::new();
            for entry in by_time
                .range((integration, kind, i64::MIN, "")..(integration, kind, before_ms, ""))
                .doing(doing)?
            {
                let (k, _) = entry.doing(doing)?;
                let (_, _, ts, id) = k.value();
                old.push((ts, id.to_owned()));
            }
            for (ts, id) in &old {
                if !strip_raw {
                    touched += 1;
                    if !dry_run {
                        records
                            .remove((integration, kind, id.as_str()))
                            .doing(doing)?;
                        by_time
                            .remove((integration, kind, *ts, id.as_str()))
                            .doing(doing)?;
                    }
                    continue;
                }
                let json = match records.get((integration, kind, id.as_str())).doing(doing)? {
                    Some(v) => v.value().1.to_vec(),
                    None => continue,
                };
                let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&json) else {
                    continue;
                };
                let empty = serde_json::Value::Object(Default::default());
                match value.get_mut("raw") {
                    Some(raw) if *raw != empty => *raw = empty,
                    _ => continue,
                }
                touched += 1;
                if !dry_run {
                    let bytes = serde_json::to_vec(&value).expect("a record serializes");
                    records
                        .insert((integration, kind, id.as_str()), (*ts, bytes.as_slice()))
                        .doing(doing)?;
                }
            }
            if !strip_raw && !dry_run && touched > 0 {
                let before = counts
                    .get((integration, kind))
                    .doing(doing)?
                    .map(|v| v.value())
                    .unwrap_or(0);
                counts
                    .insert((integration, kind), before.saturating_sub(touched))
                    .doing(doing)?;
            }
        }
        if dry_run {
            txn.abort().doing(doing)?;
        } else {
            txn.commit().doing(doing)?;
        }
        Ok(touched)
    }

    /// An integration's policy state as `policy.rs` wrote it, if any.
    pub fn policy_state(&self, integration: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let doing = || format!("reading the policy state of {integration}");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(POLICY_STATE).doing(doing)?;
        Ok(table
            .get(integration)
            .doing(doing)?
            .map(|v| v.value().to_vec()))
    }

    /// Every integration's policy state as stored, in one read transaction (see
    /// [`Store::record_counts`]).
    pub fn policy_states(&self) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        let doing = || "reading the policy states".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(POLICY_STATE).doing(doing)?;
        let mut out = HashMap::new();
        for entry in table.iter().doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            out.insert(k.value().to_owned(), v.value().to_vec());
        }
        Ok(out)
    }

    pub fn set_policy_state(&self, integration: &str, state: &[u8]) -> Result<(), StoreError> {
        let _touch = Touch(self, integration);
        let doing = || format!("writing the policy state of {integration}");
        let txn = self.begin_write().doing(doing)?;
        {
            let mut table = txn.open_table(POLICY_STATE).doing(doing)?;
            table.insert(integration, state).doing(doing)?;
        }
        txn.commit().doing(doing)
    }
}

/// A candle series in the quality tables: (exchange or namespace, native symbol, timeframe).
pub type SeriesId = (String, String, String);

impl Store {
    /// Keeps the last quality report of each series given (JSON), replacing the one before.
    pub fn put_quality_reports(&self, reports: &[(SeriesId, Vec<u8>)]) -> Result<(), StoreError> {
        let doing = || format!("keeping {} candle quality report(s)", reports.len());
        let txn = self.begin_write().doing(doing)?;
        {
            let mut table = txn.open_table(QUALITY_REPORTS).doing(doing)?;
            for ((exchange, symbol, timeframe), json) in reports {
                table
                    .insert(
                        (exchange.as_str(), symbol.as_str(), timeframe.as_str()),
                        json.as_slice(),
                    )
                    .doing(doing)?;
            }
        }
        txn.commit().doing(doing)
    }

    /// Every kept quality report (JSON), by series.
    pub fn quality_reports(&self) -> Result<Vec<(SeriesId, Vec<u8>)>, StoreError> {
        let doing = || "reading the kept candle quality reports".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(QUALITY_REPORTS).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.iter().doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (exchange, symbol, timeframe) = k.value();
            out.push((
                (exchange.to_owned(), symbol.to_owned(), timeframe.to_owned()),
                v.value().to_vec(),
            ));
        }
        Ok(out)
    }

    /// Adds open times an exchange sent twice within one answer to those kept for a series of
    /// one namespace.
    pub fn add_page_duplicates(&self, series: &SeriesId, times: &[i64]) -> Result<(), StoreError> {
        let (namespace, symbol, timeframe) = series;
        let doing = || format!("keeping the duplicate candles of {namespace} {symbol} {timeframe}");
        let key = (namespace.as_str(), symbol.as_str(), timeframe.as_str());
        let txn = self.begin_write().doing(doing)?;
        {
            let mut table = txn.open_table(PAGE_DUPLICATES).doing(doing)?;
            let mut all: BTreeSet<i64> = match table.get(key).doing(doing)? {
                Some(v) => serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt {
                    doing: doing(),
                    message: e.to_string(),
                })?,
                None => BTreeSet::new(),
            };
            all.extend(times.iter().copied());
            let json = serde_json::to_vec(&all).expect("open times serialize");
            table.insert(key, json.as_slice()).doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    /// The earliest start an integration's candles backfill was asked to walk from, if any.
    pub fn candle_depth(&self, integration: &str) -> Result<Option<i64>, StoreError> {
        let doing = || format!("reading how far back the candles of {integration} go");
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(CANDLE_DEPTH).doing(doing)?;
        Ok(table.get(integration).doing(doing)?.map(|v| v.value()))
    }

    /// Records a new earliest start of an integration's candles backfill and forgets the
    /// cursor of every candles partition, in one transaction: the next sync walks each from
    /// the new start (what it fetches again merges with what is stored; coverage is kept).
    pub fn deepen_candles(&self, integration: &str, start_ms: i64) -> Result<u64, StoreError> {
        let doing = || format!("walking the candles of {integration} again");
        let txn = self.begin_write().doing(doing)?;
        let mut reset = 0;
        {
            let mut cursors = txn.open_table(CURSORS).doing(doing)?;
            let mut partitions: Vec<String> = Vec::new();
            for entry in cursors.range((integration, "candles", "")..).doing(doing)? {
                let (k, _) = entry.doing(doing)?;
                let (i, s, p) = k.value();
                if i != integration || s != "candles" {
                    break;
                }
                partitions.push(p.to_owned());
            }
            for p in &partitions {
                cursors
                    .remove((integration, "candles", p.as_str()))
                    .doing(doing)?;
                reset += 1;
            }
            let mut depth = txn.open_table(CANDLE_DEPTH).doing(doing)?;
            depth.insert(integration, start_ms).doing(doing)?;
        }
        txn.commit().doing(doing)?;
        Ok(reset)
    }

    /// Records how far back an integration's candles backfill was first asked to walk.
    pub fn set_candle_depth(&self, integration: &str, start_ms: i64) -> Result<(), StoreError> {
        let doing = || format!("recording how far back the candles of {integration} go");
        let txn = self.begin_write().doing(doing)?;
        {
            let mut depth = txn.open_table(CANDLE_DEPTH).doing(doing)?;
            depth.insert(integration, start_ms).doing(doing)?;
        }
        txn.commit().doing(doing)
    }

    /// Every series' open times sent twice within one answer, by (namespace, symbol, timeframe).
    pub fn page_duplicates(&self) -> Result<Vec<(SeriesId, BTreeSet<i64>)>, StoreError> {
        let doing = || "reading the kept duplicate candles".to_owned();
        let txn = self.begin_read().doing(doing)?;
        let table = txn.open_table(PAGE_DUPLICATES).doing(doing)?;
        let mut out = Vec::new();
        for entry in table.iter().doing(doing)? {
            let (k, v) = entry.doing(doing)?;
            let (namespace, symbol, timeframe) = k.value();
            let times = serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt {
                doing: doing(),
                message: format!("{namespace} {symbol} {timeframe}: {e}"),
            })?;
            out.push((
                (
                    namespace.to_owned(),
                    symbol.to_owned(),
                    timeframe.to_owned(),
                ),
                times,
            ));
        }
        Ok(out)
    }
}

/// Copies every entry of one table from a read transaction into a write transaction.
fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    read: &redb::ReadTransaction,
    write: &redb::WriteTransaction,
    table: TableDefinition<K, V>,
    doing: &dyn Fn() -> String,
) -> Result<(), StoreError> {
    let source = read.open_table(table).doing(doing)?;
    let mut target = write.open_table(table).doing(doing)?;
    for entry in source.iter().doing(doing)? {
        let (k, v) = entry.doing(doing)?;
        target.insert(k.value(), v.value()).doing(doing)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_reports_duplicates_and_candle_depth_outlive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let id = ("binance".to_owned(), "BTCUSDT".to_owned(), "1h".to_owned());
        {
            let store = Store::open(&path).unwrap();
            store
                .put_quality_reports(&[(id.clone(), b"{\"n\":1}".to_vec())])
                .unwrap();
            store
                .put_quality_reports(&[(id.clone(), b"{\"n\":2}".to_vec())])
                .unwrap();
            store.add_page_duplicates(&id, &[5, 3]).unwrap();
            store.add_page_duplicates(&id, &[3, 9]).unwrap();
            let cursor = |integration: &str, stream: &str, partition: &str| {
                let key = PartitionKey {
                    integration,
                    stream,
                    partition,
                };
                let page = PageWrite {
                    next_cursor: Some("{}".into()),
                    ..Default::default()
                };
                store.commit_page(key, &page).unwrap();
            };
            cursor("a", "candles", "BTCUSDT:1h");
            cursor("a", "candles", "ETHUSDT:4h");
            cursor("a", "trades", "BTCUSDT");
            cursor("b", "candles", "BTCUSDT:1h");
            assert_eq!(store.candle_depth("a").unwrap(), None);
            store.set_candle_depth("a", 100).unwrap();
            assert_eq!(store.deepen_candles("a", 40).unwrap(), 2);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.quality_reports().unwrap(),
            vec![(id.clone(), b"{\"n\":2}".to_vec())]
        );
        assert_eq!(
            store.page_duplicates().unwrap(),
            vec![(id, BTreeSet::from([3, 5, 9]))]
        );
        assert_eq!(store.candle_depth("a").unwrap(), Some(40));
        assert!(store.cursor_partitions("a", "candles").unwrap().is_empty());
        assert_eq!(store.cursor_partitions("a", "trades").unwrap(), ["BTCUSDT"]);
        assert_eq!(store.cursor_partitions("b", "candles").unwrap().len(), 1);
    }

    #[test]
    fn credentials_are_replaced_whole_and_copied_with_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let sealed = |b: u8| vec![b; 40];
        store
            .put_credentials(
                "a",
                &[
                    ("api_key".into(), sealed(1)),
                    ("passphrase".into(), sealed(2)),
                ],
                10,
            )
            .unwrap();
        store
            .put_credentials("b", &[("api_key".into(), sealed(3))], 11)
            .unwrap();
        // A new set replaces every field of `a`, and leaves `b` alone.
        store
            .put_credentials("a", &[("api_key".into(), sealed(4))], 12)
            .unwrap();
        let (fields, set_ms) = store.sealed_credentials("a").unwrap().unwrap();
        assert_eq!(fields, vec![("api_key".to_owned(), sealed(4))]);
        assert_eq!(set_ms, 12);
        assert_eq!(
            store.credential_stamps().unwrap(),
            vec![("a".to_owned(), 12), ("b".to_owned(), 11)]
        );
        assert!(store.sealed_credentials("c").unwrap().is_none());
        store.set_key_check(b"check").unwrap();
        store
            .commit_page(
                PartitionKey {
                    integration: "a",
                    stream: "trades",
                    partition: "",
                },
                &PageWrite {
                    records: vec![rec("1", 5, "x")],
                    ..Default::default()
                },
            )
            .unwrap();

        let copy_path = dir.path().join("copy.redb");
        store.copy_to(&copy_path).unwrap();
        drop(store);
        let copy = Store::open(&copy_path).unwrap();
        assert_eq!(copy.key_check().unwrap().as_deref(), Some(&b"check"[..]));
        assert_eq!(copy.sealed_credentials("b").unwrap().unwrap().1, 11);
        assert_eq!(copy.total_records().unwrap(), 1);
    }

    fn rec(id: &str, ts: i64, body: &str) -> StoredRecord {
        StoredRecord {
            kind: "trade",
            id: id.into(),
            timestamp: ts,
            json: format!(r#"{{"id":"{id}","b":"{body}"}}"#).into(),
        }
    }

    fn key() -> PartitionKey<'static> {
        PartitionKey {
            integration: "i",
            stream: "trades",
            partition: "BTCUSDT",
        }
    }

    #[test]
    fn record_counts_and_policy_states_are_read_whole_as_they_are_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        for (integration, n) in [("a", 2), ("b", 3)] {
            let key = PartitionKey {
                integration,
                ..key()
            };
            let page = PageWrite {
                records: (0..n).map(|i| rec(&format!("t{i}"), i, "x")).collect(),
                assets: BTreeSet::new(),
                next_cursor: None,
                covered: None,
                unavailable: None,
            };
            store.commit_page(key, &page).unwrap();
        }
        store.set_policy_state("b", b"{\"x\":1}").unwrap();

        let counts = store.record_counts().unwrap();
        for integration in ["a", "b"] {
            assert_eq!(
                counts[integration]["trade"],
                store.record_count(integration, "trade").unwrap()
            );
        }
        assert_eq!(counts["b"]["trade"], 3);
        let policies = store.policy_states().unwrap();
        assert_eq!(policies.len(), 1);
        assert_eq!(policies["b"], store.policy_state("b").unwrap().unwrap());
    }

    #[test]
    fn upsert_never_duplicates_and_counts_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let page = PageWrite {
            records: vec![rec("a", 2, "x"), rec("b", 1, "y")],
            assets: BTreeSet::from(["BTC".to_owned()]),
            next_cursor: Some("c1".into()),
            covered: Some(Range {
                from_ms: 0,
                to_ms: 10,
            }),
            unavailable: None,
        };
        let out = store.commit_page(key(), &page).unwrap();
        assert_eq!(
            out,
            PageOutcome {
                inserted: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let out = store.commit_page(key(), &page).unwrap();
        assert_eq!(
            out,
            PageOutcome {
                inserted: 0,
                updated: 0,
                unchanged: 2
            }
        );
        let page2 = PageWrite {
            records: vec![rec("a", 5, "changed")],
            ..page.clone()
        };
        let out = store.commit_page(key(), &page2).unwrap();
        assert_eq!(
            out,
            PageOutcome {
                inserted: 0,
                updated: 1,
                unchanged: 0
            }
        );
        // Changed at the same time: updated, and still listed once.
        let page3 = PageWrite {
            records: vec![rec("a", 5, "changed again")],
            ..page.clone()
        };
        let out = store.commit_page(key(), &page3).unwrap();
        assert_eq!(
            out,
            PageOutcome {
                inserted: 0,
                updated: 1,
                unchanged: 0
            }
        );
        assert_eq!(store.record_count("i", "trade").unwrap(), 2);
        let mut seen = Vec::new();
        store
            .for_each_record("i", "trade", |j| {
                seen.push(String::from_utf8(j.to_vec()).unwrap());
                true
            })
            .unwrap();
        assert_eq!(seen.len(), 2, "the moved record is listed once: {seen:?}");
        assert!(seen[0].contains("\"b\""), "oldest first: {seen:?}");
        assert!(seen[1].contains("changed again"));
        assert_eq!(store.cursor(key()).unwrap().as_deref(), Some("c1"));
        assert_eq!(store.assets("i").unwrap(), vec!["BTC".to_owned()]);
    }

    #[test]
    fn store_survives_reopen_and_keeps_coverage_merged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            let store = Store::open(&path).unwrap();
            for (from, to) in [(0, 10), (20, 30), (10, 20)] {
                let page = PageWrite {
                    covered: Some(Range {
                        from_ms: from,
                        to_ms: to,
                    }),
                    ..Default::default()
                };
                store.commit_page(key(), &page).unwrap();
            }
            store
                .record_failure(key(), &ErrorInfo::new("network", "down"))
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let cov = store.coverage("i", "trades").unwrap();
        assert_eq!(cov.len(), 1);
        assert_eq!(
            cov[0].1.synced,
            vec![Range {
                from_ms: 0,
                to_ms: 30
            }]
        );
        assert_eq!(cov[0].1.failed.as_ref().unwrap().kind, "network");
        assert_eq!(store.cursor(key()).unwrap(), None);
    }

    #[test]
    fn merge_range_keeps_disjoint_sorted_ranges() {
        let mut v = vec![];
        merge_range(
            &mut v,
            Range {
                from_ms: 5,
                to_ms: 6,
            },
        );
        merge_range(
            &mut v,
            Range {
                from_ms: 1,
                to_ms: 2,
            },
        );
        merge_range(
            &mut v,
            Range {
                from_ms: 3,
                to_ms: 3,
            },
        );
        assert_eq!(
            v,
            vec![
                Range {
                    from_ms: 1,
                    to_ms: 2
                },
                Range {
                    from_ms: 5,
                    to_ms: 6
                }
            ]
        );
        merge_range(
            &mut v,
            Range {
                from_ms: 2,
                to_ms: 5,
            },
        );
        assert_eq!(
            v,
            vec![Range {
                from_ms: 1,
                to_ms: 6
            }]
        );
    }
}
