//! Retention: how long each kind of record is kept, and the compaction pass that applies it.
//!
//! `retention = { trade = "forever", candle = "400d", raw = "90d" }` in an integration file:
//! records of a kind older than its age are removed; `raw` keeps the records but empties their
//! `raw` JSON (to `{}`) once older than its age. Kinds not named are kept forever (today's
//! behaviour). The pass removes only what is older than the cut, reports each kind it touched
//! (one log line and `exsync_pruned_records_total{kind}`), and runs once a day per integration
//! and on `exsyncctl prune [--dry-run] [NAME]`. It touches records only: cursors, coverage,
//! stream state, credentials and the audit trail are never pruned (coverage still says a
//! pruned range was synced: it was).

use std::sync::Arc;
use std::time::Duration;

use exsync_protocol::PrunedKind;

use crate::daemon::Daemon;
use crate::events::RecordsPruned;
use crate::host::now_ms;
use crate::supervisor::Integration;

/// How often each integration's records are compacted. Retention ages are counted in days.
pub const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);
/// The first pass after an integration starts: late enough not to compete with its first sync.
const FIRST_PRUNE_AFTER: Duration = Duration::from_secs(10 * 60);

/// The kinds `retention` takes: the record kinds, and `raw`.
pub const KINDS: [&str; 8] = [
    "balance",
    "trade",
    "order",
    "deposit",
    "withdrawal",
    "ledger",
    "candle",
    "raw",
];

/// `retention` parsed: `(kind, age)`; kinds kept forever are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    pub ages: Vec<(String, Duration)>,
    /// As written, for display.
    pub shown: Vec<(String, String)>,
}

impl Retention {
    /// Parses the `retention` table; the error names the key and what is allowed.
    pub fn parse(table: &std::collections::BTreeMap<String, String>) -> Result<Retention, String> {
        let mut out = Retention::default();
        for (kind, text) in table {
            if !KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "retention: unknown kind `{kind}`; allowed are {}",
                    KINDS.join(", ")
                ));
            }
            out.shown.push((kind.clone(), text.clone()));
            if text == "forever" {
                continue;
            }
            match humantime::parse_duration(text) {
                Ok(d) if d >= Duration::from_secs(86_400) => out.ages.push((kind.clone(), d)),
                _ => {
                    return Err(format!(
                        "retention.{kind} = {text:?}: allowed is \"forever\" or an age of at least a day, like \"400d\""
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// Applies one integration's retention as of `now_ms`; returns what it removed (would remove).
pub fn prune(
    daemon: &Daemon,
    it: &Integration,
    now_ms: i64,
    dry_run: bool,
) -> Result<Vec<PrunedKind>, String> {
    let mut out = Vec::new();
    for (kind, age) in &it.config.retention.ages {
        let before_ms = now_ms - age.as_millis() as i64;
        let (kinds, strip_raw): (Vec<&str>, bool) = if kind == "raw" {
            (KINDS[..7].to_vec(), true)
        } else {
            (vec![kind.as_str()], false)
        };
        let mut records = 0;
        for k in kinds {
            records += daemon
                .store
                .prune_records(it.name(), k, before_ms, strip_raw, dry_run)
                .map_err(|e| e.to_string())?;
        }
        RecordsPruned {
            integration: it.name(),
            kind,
            before_ms,
            records,
            dry_run,
        }
        .emit(&daemon.metrics);
        out.push(PrunedKind {
            integration: it.name().to_owned(),
            kind: kind.clone(),
            before_ms,
            records,
        });
    }
    Ok(out)
}

/// The daily compaction of one integration, until it stops (shutdown, or a reload).
pub async fn daily(daemon: Arc<Daemon>, it: Arc<Integration>) {
    if it.config.retention.ages.is_empty() {
        return;
    }
    let mut wait = FIRST_PRUNE_AFTER;
    loop {
        tokio::select! {
            _ = it.stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = PRUNE_EVERY;
        let (d, i) = (daemon.clone(), it.clone());
        let done = tokio::task::spawn_blocking(move || prune(&d, &i, now_ms(), false)).await;
        match done {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(integration = it.name(), error = %e, "Could not prune records.")
            }
            Err(e) => {
                tracing::error!(integration = it.name(), error = %e, "The prune task failed.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_takes_kinds_forever_and_ages_of_a_day_or_more() {
        let table = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let r = Retention::parse(&table(&[
            ("trade", "forever"),
            ("candle", "400d"),
            ("raw", "90d"),
        ]))
        .unwrap();
        assert_eq!(
            r.ages,
            vec![
                ("candle".to_owned(), Duration::from_secs(400 * 86_400)),
                ("raw".to_owned(), Duration::from_secs(90 * 86_400))
            ]
        );
        assert_eq!(r.shown.len(), 3);
        let e = Retention::parse(&table(&[("trades", "1d")])).unwrap_err();
        assert!(
            e.contains("unknown kind `trades`") && e.contains("allowed"),
            "{e}"
        );
        let e = Retention::parse(&table(&[("trade", "1h")])).unwrap_err();
        assert!(
            e.starts_with("retention.trade") && e.contains("forever"),
            "{e}"
        );
        assert_eq!(Retention::parse(&table(&[])).unwrap(), Retention::default());
    }
}
