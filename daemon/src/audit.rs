//! The audit log: an append-only table of who changed what, when, and with which result.
//!
//! Every change and every credential access through the control socket is appended here,
//! refused ones too, and so is every reload the daemon starts by itself (SIGHUP, the config
//! watcher). The control server decides what is audited ([`crate::control`]); this module
//! stores and reads entries and nothing else.
//!
//! Invariant: entries are only ever appended. Nothing in exsyncd updates or removes a row of
//! [`AUDIT`]; its key is a sequence number that only grows, so a gap would show a deletion.
//! Entries hold names (verb, integration, stream), never a credential's value.

use std::sync::Arc;

use exsync_protocol::AuditEntry;
use redb::{Durability, ReadableTable, TableDefinition, TableError};

use crate::control::access::user_name;
use crate::events::{AuditWriteFailed, Audited};
use crate::host::now_ms;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// sequence number (from 1) → [`AuditEntry`] as JSON.
const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

fn redb_error(doing: &str, e: impl Into<redb::Error>) -> StoreError {
    StoreError::Redb {
        doing: doing.to_owned(),
        source: Box::new(e.into()),
    }
}

/// Appends `entry` as the next entry of the log, durably, and returns its sequence number
/// (also written into `entry.seq`).
pub fn append(store: &Store, entry: &mut AuditEntry) -> Result<u64, StoreError> {
    let doing = "appending to the audit log";
    let mut txn = store.begin_write().map_err(|e| redb_error(doing, e))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| StoreError::Corrupt {
            doing: doing.to_owned(),
            message: e.to_string(),
        })?;
    {
        let mut table = txn.open_table(AUDIT).map_err(|e| redb_error(doing, e))?;
        let last = table
            .last()
            .map_err(|e| redb_error(doing, e))?
            .map(|(k, _)| k.value())
            .unwrap_or(0);
        entry.seq = last + 1;
        let json = serde_json::to_vec(entry).expect("audit entries always serialize");
        table
            .insert(entry.seq, json.as_slice())
            .map_err(|e| redb_error(doing, e))?;
    }
    txn.commit().map_err(|e| redb_error(doing, e))?;
    Ok(entry.seq)
}

/// The entries at or after `since_ms` (all when `None`), oldest first.
pub fn entries(store: &Store, since_ms: Option<i64>) -> Result<Vec<AuditEntry>, StoreError> {
    let doing = "reading the audit log";
    let txn = store.begin_read().map_err(|e| redb_error(doing, e))?;
    let table = match txn.open_table(AUDIT) {
        Ok(t) => t,
        // Nothing was ever audited in this store.
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(redb_error(doing, e)),
    };
    let mut out = Vec::new();
    for row in table.iter().map_err(|e| redb_error(doing, e))? {
        let (k, v) = row.map_err(|e| redb_error(doing, e))?;
        let entry: AuditEntry =
            serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt {
                doing: doing.to_owned(),
                message: format!("entry {} does not parse: {e}", k.value()),
            })?;
        if since_ms.is_none_or(|since| entry.at_ms >= since) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Appends `entry` on the blocking pool (a page commit may hold the store) and writes its
/// journal line. A failed write is logged and counted; the request it describes stands.
pub async fn record(store: Arc<Store>, metrics: &Metrics, entry: AuditEntry) {
    let kept = entry.clone();
    let written = tokio::task::spawn_blocking(move || {
        let mut entry = entry;
        append(&store, &mut entry).map(|_| entry)
    })
    .await;
    match written {
        Ok(Ok(entry)) => Audited { entry: &entry }.emit(metrics),
        Ok(Err(e)) => AuditWriteFailed {
            entry: &kept,
            error: &e.to_string(),
        }
        .emit(metrics),
        Err(e) => AuditWriteFailed {
            entry: &kept,
            error: &format!("the writing task failed: {e}"),
        }
        .emit(metrics),
    }
}

/// An entry for something the daemon does by itself (`origin` `signal` or `watch`): who is
/// the daemon, its own uid and pid.
pub fn own_entry(origin: &str, verb: &str, result: &str, message: Option<String>) -> AuditEntry {
    let uid = unsafe { libc::geteuid() };
    AuditEntry {
        seq: 0,
        at_ms: now_ms(),
        origin: origin.to_owned(),
        uid,
        pid: std::process::id(),
        user: user_name(uid),
        verb: verb.to_owned(),
        target: None,
        result: result.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: i64, verb: &str) -> AuditEntry {
        AuditEntry {
            at_ms,
            origin: "ctl".into(),
            uid: 61001,
            pid: 42,
            verb: verb.into(),
            result: "ok".into(),
            ..AuditEntry::default()
        }
    }

    #[test]
    fn entries_are_numbered_in_order_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exsync.redb");
        {
            let store = Store::open(&path).unwrap();
            assert!(entries(&store, None).unwrap().is_empty());
            let mut a = entry(1_000, "sync");
            let mut b = entry(2_000, "reload");
            assert_eq!(append(&store, &mut a).unwrap(), 1);
            assert_eq!(append(&store, &mut b).unwrap(), 2);
        }
        let store = Store::open(&path).unwrap();
        let mut c = entry(3_000, "sync");
        assert_eq!(append(&store, &mut c).unwrap(), 3);
        let all = entries(&store, None).unwrap();
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(all[1].verb, "reload");
        let since: Vec<u64> = entries(&store, Some(2_000))
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(since, [2, 3]);
    }
}
