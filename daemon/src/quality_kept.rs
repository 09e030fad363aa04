//! Keeps the candle quality reports in the store and reads them back at the start.
//!
//! The daemon checks a series after every candles sync and every `data validate`
//! ([`crate::candles::keep`]); the last report of each series goes to the store's
//! `quality_reports` table, so that straight after a restart `exsyncctl data validate --last`
//! shows it and the `exsync_candle_quality_issues` gauges hold its counts, before any sync.
//! Open times an exchange sent twice within one answer are seen only by the engine (the store
//! merges them on commit): they go to `page_duplicates`, so a fresh check after a restart
//! still counts them. What it leaves to others: the checks (`quality`), reading series and
//! deciding when to check (`candles`).

use std::collections::BTreeMap;

use exsync_protocol::SeriesQuality;

use crate::candles::SeriesKey;
use crate::daemon::Daemon;
use crate::events::{CandleQualityNotKept, CandleQualityRestored, QualityGauge};
use crate::store::SeriesId;

/// The severities of the quality gauge, each set (0 included).
const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// Writes `reports` to the store, each replacing its series' last one. A failure is logged
/// and counted, never fatal: the reports stay in memory.
pub fn persist(daemon: &Daemon, reports: &[SeriesQuality]) {
    let rows: Vec<(SeriesId, Vec<u8>)> = reports
        .iter()
        .map(|r| {
            let s = &r.series;
            (
                (
                    s.exchange.clone(),
                    s.symbol_native.clone(),
                    s.timeframe.clone(),
                ),
                serde_json::to_vec(r).expect("quality reports serialize"),
            )
        })
        .collect();
    if let Err(e) = daemon.store.put_quality_reports(&rows) {
        CandleQualityNotKept {
            error: &e.to_string(),
        }
        .emit(&daemon.metrics);
    }
}

/// Adds open times sent twice within one answer of `namespace` to the store.
pub fn persist_page_duplicates(daemon: &Daemon, namespace: &str, twice: &[(&str, &str, i64)]) {
    let mut by_series: BTreeMap<SeriesId, Vec<i64>> = BTreeMap::new();
    for (symbol, timeframe, t) in twice {
        by_series
            .entry((
                namespace.to_owned(),
                (*symbol).to_owned(),
                (*timeframe).to_owned(),
            ))
            .or_default()
            .push(*t);
    }
    for (series, times) in by_series {
        if let Err(e) = daemon.store.add_page_duplicates(&series, &times) {
            CandleQualityNotKept {
                error: &e.to_string(),
            }
            .emit(&daemon.metrics);
        }
    }
}

/// Issues by severity over every report of one (exchange, timeframe): the gauge's values.
pub fn totals<'a>(
    reports: impl Iterator<Item = &'a SeriesQuality> + Clone,
    exchange: &str,
    timeframe: &str,
) -> Vec<(&'static str, u64)> {
    SEVERITIES
        .iter()
        .map(|sev| {
            let n = reports
                .clone()
                .filter(|r| r.series.exchange == exchange && r.series.timeframe == timeframe)
                .flat_map(|r| &r.findings)
                .filter(|f| f.severity == *sev)
                .map(|f| f.count)
                .sum();
            (*sev, n)
        })
        .collect()
}

/// At the start: the kept reports and page duplicates go into the candle book, and the gauges
/// of every (exchange, timeframe) they cover are set from them. Blocking (a store read).
pub fn restore(daemon: &Daemon) {
    let reports = match daemon.store.quality_reports() {
        Ok(r) => r,
        Err(e) => {
            CandleQualityNotKept {
                error: &format!("while restoring: {e}"),
            }
            .emit(&daemon.metrics);
            return;
        }
    };
    let duplicates = daemon.store.page_duplicates().unwrap_or_else(|e| {
        CandleQualityNotKept {
            error: &format!("while restoring: {e}"),
        }
        .emit(&daemon.metrics);
        Vec::new()
    });
    let mut book = daemon.candles.lock().expect("candle book lock");
    let mut unreadable = 0;
    for ((exchange, symbol_native, timeframe), json) in reports {
        match serde_json::from_slice::<SeriesQuality>(&json) {
            Ok(report) => {
                let key = SeriesKey {
                    exchange,
                    symbol_native,
                    timeframe,
                };
                // A check that ran already (it cannot before the start, but keep the newest).
                book.reports.entry(key).or_insert(report);
            }
            Err(_) => unreadable += 1,
        }
    }
    for (series, times) in duplicates {
        book.page_duplicates
            .entry(series)
            .or_default()
            .extend(times);
    }
    let mut gauges: Vec<QualityGauge> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for key in book.reports.keys() {
        if seen.insert((key.exchange.clone(), key.timeframe.clone())) {
            gauges.push(QualityGauge {
                exchange: key.exchange.clone(),
                timeframe: key.timeframe.clone(),
                totals: totals(book.reports.values(), &key.exchange, &key.timeframe),
            });
        }
    }
    CandleQualityRestored {
        series: book.reports.len(),
        unreadable,
        gauges: &gauges,
    }
    .emit(&daemon.metrics);
}
