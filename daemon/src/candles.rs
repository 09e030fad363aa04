//! Candle series as stored: read from the store, merged over their sources, checked, kept.
//!
//! A series is one (exchange, symbol, timeframe). Its candles may sit under several store
//! namespaces: integrations with a `[candles]` table, data sources (`data:NAME`) and
//! downloads (`download:EXCHANGE`). Within a namespace the store keys a candle by
//! (symbol, timeframe, open time), so a re-fetch replaces it; across namespaces this module
//! merges by open time (a final candle wins over an open one), so every view counts each
//! (exchange, symbol, timeframe, open time) once.
//!
//! After every candles sync the engine calls [`refresh_after_sync`]: the series of that
//! exchange are checked ([`crate::quality`]), the reports kept in the [`CandleBook`] and the
//! `exsync_candle_quality_issues` gauge set from [`CandleQualityChecked`] (and the reports kept
//! in the store by [`crate::quality_kept`]). What it leaves to
//! others: the checks themselves (`quality`), answering ctl (`control/data.rs`).

use std::collections::{BTreeMap, BTreeSet};

use exsync_protocol::{QualityFinding, SeriesInfo, SeriesQuality, SeriesSelector};
use rust_decimal::Decimal;

use crate::config::DATASOURCE_PREFIX;
use crate::daemon::Daemon;
use crate::events::CandleQualityChecked;
use crate::host::now_ms;
use crate::quality::{self, CandleRow, CheckContext};
use crate::store::{CandleSeries, StoredRecord};

/// One-off downloads (`exsyncctl data download`) store under `download:EXCHANGE`.
pub const DOWNLOAD_PREFIX: &str = "download:";

/// The severities of the quality gauge, each set (0 included) at every check.
const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// Which series.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesKey {
    pub exchange: String,
    pub symbol_native: String,
    pub timeframe: String,
}

/// What the daemon keeps about candle series between checks.
#[derive(Default, Debug)]
pub struct CandleBook {
    /// The last report of each series.
    pub reports: BTreeMap<SeriesKey, SeriesQuality>,
    /// Open times an exchange sent twice within one answer, by (namespace, native symbol,
    /// timeframe): the store merges them on commit, so only the engine sees them.
    pub page_duplicates: BTreeMap<(String, String, String), BTreeSet<i64>>,
}

/// A stored candle's series, the fields a selector matches.
struct StoredCandle {
    symbol: String,
    base: Option<String>,
    quote: Option<String>,
    timeframe: String,
}

/// The fields of a stored series a selector matches.
fn probe(s: &CandleSeries) -> StoredCandle {
    StoredCandle {
        symbol: s.symbol.clone(),
        base: s.base.clone(),
        quote: s.quote.clone(),
        timeframe: s.timeframe.clone(),
    }
}

/// A store namespace holding candles.
#[derive(Debug, Clone)]
struct Source {
    namespace: String,
    exchange: String,
    /// The candles stream's sync interval, when it is scheduled.
    interval_ms: Option<i64>,
    spike_threshold: Option<Decimal>,
}

/// One series, read and merged.
#[derive(Debug, Clone)]
pub struct Series {
    pub key: SeriesKey,
    pub info: SeriesInfo,
    /// One row per open time, oldest first.
    pub rows: Vec<CandleRow>,
    /// The shortest sync interval of a source that syncs it on a schedule.
    pub interval_ms: Option<i64>,
    pub spike_threshold: Option<Decimal>,
}

/// Every namespace with candles: configured integrations and data sources, and downloads.
fn sources(daemon: &Daemon) -> Vec<Source> {
    let mut out: Vec<Source> = {
        let topo = daemon.topology.read().expect("topology lock");
        topo.integrations
            .values()
            .map(|it| Source {
                namespace: it.name().to_owned(),
                exchange: it.exchange().to_owned(),
                interval_ms: it
                    .streams
                    .iter()
                    .find(|(s, _)| *s == exsync_plugin_api::Stream::Candles)
                    .map(|(_, i)| i.as_millis() as i64),
                spike_threshold: it.config.spike_threshold,
            })
            .collect()
    };
    let stored = daemon.store.integrations_with("candle").unwrap_or_default();
    for ns in stored {
        if out.iter().any(|s| s.namespace == ns) {
            continue;
        }
        if let Some(exchange) = ns.strip_prefix(DOWNLOAD_PREFIX) {
            out.push(Source {
                namespace: ns.clone(),
                exchange: exchange.to_owned(),
                interval_ms: None,
                spike_threshold: None,
            });
        }
    }
    out
}

/// The unified symbol (`BTC/USDT`) where base and quote are known.
fn unified(c: &StoredCandle) -> String {
    match (&c.base, &c.quote) {
        (Some(b), Some(q)) => format!("{b}/{q}"),
        _ => c.symbol.clone(),
    }
}

fn matches(selector: &SeriesSelector, exchange: &str, c: &StoredCandle) -> bool {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    selector.exchange.as_deref().is_none_or(|e| eq(e, exchange))
        && selector
            .timeframe
            .as_deref()
            .is_none_or(|t| t == c.timeframe)
        && selector.symbol.as_deref().is_none_or(|s| {
            eq(s, &c.symbol) || eq(s, &unified(c)) || eq(&s.replace(['/', '-', '_'], ""), &c.symbol)
        })
}

struct Accumulating {
    info: SeriesInfo,
    rows: BTreeMap<i64, CandleRow>,
    interval_ms: Option<i64>,
    spike_threshold: Option<Decimal>,
}

/// Reads the series `selector` names, merged over their sources. Blocking.
pub fn read_series(daemon: &Daemon, selector: &SeriesSelector) -> Result<Vec<Series>, String> {
    let mut acc: BTreeMap<SeriesKey, Accumulating> = BTreeMap::new();
    for source in sources(daemon) {
        if selector
            .exchange
            .as_deref()
            .is_some_and(|e| !e.eq_ignore_ascii_case(&source.exchange))
        {
            continue;
        }
        daemon
            .store
            .for_each_candle(
                &source.namespace,
                |s| matches(selector, &source.exchange, &probe(s)),
                |s, v, _raw| {
                    let key = SeriesKey {
                        exchange: source.exchange.clone(),
                        symbol_native: s.symbol.clone(),
                        timeframe: s.timeframe.clone(),
                    };
                    // Keyed lookups only when the series changes: rows come series by series.
                    let a = acc.entry(key).or_insert_with(|| Accumulating {
                        info: SeriesInfo {
                            exchange: source.exchange.clone(),
                            symbol: unified(&probe(s)),
                            symbol_native: s.symbol.clone(),
                            timeframe: s.timeframe.clone(),
                            ..Default::default()
                        },
                        rows: BTreeMap::new(),
                        interval_ms: None,
                        spike_threshold: None,
                    });
                    if !a.info.sources.contains(&source.namespace) {
                        a.info.sources.push(source.namespace.clone());
                        a.interval_ms = match (a.interval_ms, source.interval_ms) {
                            (Some(x), Some(y)) => Some(x.min(y)),
                            (x, y) => x.or(y),
                        };
                        a.spike_threshold = match (a.spike_threshold, source.spike_threshold) {
                            (Some(x), Some(y)) => Some(x.min(y)),
                            (x, y) => x.or(y),
                        };
                    }
                    let [open, high, low, close, volume] = v.values.map(|d| d.to_string());
                    let row = CandleRow {
                        open_time: v.open_time,
                        open,
                        high,
                        low,
                        close,
                        volume,
                        is_final: v.is_final,
                    };
                    match a.rows.get(&row.open_time) {
                        Some(kept) if kept.is_final || !row.is_final => {}
                        _ => {
                            a.rows.insert(row.open_time, row);
                        }
                    }
                    true
                },
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(acc
        .into_iter()
        .map(|(key, a)| {
            let rows: Vec<CandleRow> = a.rows.into_values().collect();
            let mut info = a.info;
            info.count = rows.len() as u64;
            info.first_ms = rows.first().map(|r| r.open_time);
            info.last_ms = rows.last().map(|r| r.open_time);
            info.last_open = rows.last().is_some_and(|r| !r.is_final);
            info.sources.sort();
            Series {
                key,
                info,
                rows,
                interval_ms: a.interval_ms,
                spike_threshold: a.spike_threshold,
            }
        })
        .collect())
}

/// Pages of a candles partition the engine refused (an amount that is not a decimal, such
/// as `NaN`): nothing of them is stored, so the report says so from the recorded failure.
fn rejected(daemon: &Daemon, series: &Series) -> Vec<QualityFinding> {
    let mut out = Vec::new();
    for ns in &series.info.sources {
        let Ok(coverage) = daemon.store.coverage(ns, "candles") else {
            continue;
        };
        for (partition, c) in coverage {
            let ours = partition
                .rsplit_once(':')
                .is_some_and(|(s, t)| s == series.key.symbol_native && t == series.key.timeframe);
            let Some(failed) = c.failed.filter(|f| f.kind == "bad_response" && ours) else {
                continue;
            };
            // The engine names the record: `candle SYMBOL:TF:OPEN_TIME: close "NaN" is ...`.
            let at = failed
                .message
                .split("candle ")
                .nth(1)
                .and_then(|rest| rest.split(':').nth(2))
                .and_then(|t| t.trim().parse::<i64>().ok());
            out.push(QualityFinding {
                check: "rejected".into(),
                severity: quality::severity("rejected").into(),
                count: 1,
                first_ms: at.into_iter().collect(),
                detail: format!(
                    "a page from {ns} was refused and not stored: {}",
                    failed.message
                ),
            });
        }
    }
    out
}

/// Checks one series as it stands now.
pub fn check(
    daemon: &Daemon,
    series: &Series,
    threshold: Option<Decimal>,
    now: i64,
) -> SeriesQuality {
    let tf = quality::timeframe_ms(&series.key.timeframe);
    let spike_threshold = threshold.or(series.spike_threshold).unwrap_or_else(|| {
        quality::parse_threshold(quality::DEFAULT_SPIKE_THRESHOLD).expect("default parses")
    });
    let ctx = CheckContext {
        timeframe_ms: tf,
        now_ms: now,
        stale_after_ms: tf.map(|tf| quality::stale_after_ms(tf, series.interval_ms.unwrap_or(0))),
        spike_threshold,
    };
    let mut findings = quality::check_series(&series.rows, &ctx);
    let sent_twice: Vec<i64> = {
        let book = daemon.candles.lock().expect("candle book lock");
        let mut times = BTreeSet::new();
        for ns in &series.info.sources {
            let k = (
                ns.clone(),
                series.key.symbol_native.clone(),
                series.key.timeframe.clone(),
            );
            if let Some(t) = book.page_duplicates.get(&k) {
                times.extend(t.iter().copied());
            }
        }
        times.into_iter().collect()
    };
    quality::add_duplicates(&mut findings, &sent_twice);
    findings.extend(rejected(daemon, series));
    SeriesQuality {
        series: series.info.clone(),
        checked_at_ms: now,
        spike_threshold: spike_threshold.to_string(),
        findings,
    }
}

/// Keeps reports and sets the gauge of each (exchange, timeframe) they touch.
pub fn keep(daemon: &Daemon, reports: &[SeriesQuality]) {
    crate::quality_kept::persist(daemon, reports);
    let mut book = daemon.candles.lock().expect("candle book lock");
    for r in reports {
        let key = SeriesKey {
            exchange: r.series.exchange.clone(),
            symbol_native: r.series.symbol_native.clone(),
            timeframe: r.series.timeframe.clone(),
        };
        book.reports.insert(key, r.clone());
    }
    for r in reports {
        let totals: Vec<(&'static str, u64)> = SEVERITIES
            .iter()
            .map(|sev| {
                let n = book
                    .reports
                    .values()
                    .filter(|k| {
                        k.series.exchange == r.series.exchange
                            && k.series.timeframe == r.series.timeframe
                    })
                    .flat_map(|k| &k.findings)
                    .filter(|f| f.severity == *sev)
                    .map(|f| f.count)
                    .sum();
                (*sev, n)
            })
            .collect();
        CandleQualityChecked {
            series: r,
            totals: &totals,
        }
        .emit(&daemon.metrics);
    }
}

/// Checks the series `selector` names, keeps the reports and sets the gauge. Blocking.
pub fn validate(
    daemon: &Daemon,
    selector: &SeriesSelector,
    threshold: Option<Decimal>,
) -> Result<Vec<SeriesQuality>, String> {
    let now = now_ms();
    let mut series = read_series(daemon, selector)?;
    series.extend(refused_only(daemon, selector, &series));
    let reports: Vec<SeriesQuality> = series
        .iter()
        .map(|s| check(daemon, s, threshold, now))
        .collect();
    keep(daemon, &reports);
    Ok(reports)
}

/// Series with nothing stored whose candles partition failed on a refused page: the
/// exchange sent something (a `NaN`) the engine would not store, so the report must still
/// show them.
fn refused_only(daemon: &Daemon, selector: &SeriesSelector, known: &[Series]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for source in sources(daemon) {
        let Ok(coverage) = daemon.store.coverage(&source.namespace, "candles") else {
            continue;
        };
        for (partition, c) in coverage {
            if c.failed.as_ref().is_none_or(|f| f.kind != "bad_response") {
                continue;
            }
            let Some((symbol, timeframe)) = partition.rsplit_once(':') else {
                continue;
            };
            let key = SeriesKey {
                exchange: source.exchange.clone(),
                symbol_native: symbol.to_owned(),
                timeframe: timeframe.to_owned(),
            };
            let probe = StoredCandle {
                symbol: symbol.to_owned(),
                base: None,
                quote: None,
                timeframe: timeframe.to_owned(),
            };
            let seen = known.iter().chain(out.iter()).any(|s| s.key == key);
            if seen || !matches(selector, &source.exchange, &probe) {
                continue;
            }
            out.push(Series {
                info: SeriesInfo {
                    exchange: key.exchange.clone(),
                    symbol: symbol.to_owned(),
                    symbol_native: symbol.to_owned(),
                    timeframe: timeframe.to_owned(),
                    sources: vec![source.namespace.clone()],
                    ..Default::default()
                },
                key,
                rows: Vec::new(),
                interval_ms: source.interval_ms,
                spike_threshold: source.spike_threshold,
            });
        }
    }
    out
}

/// After a candles sync of `integration`: checks every series of its exchange.
pub async fn refresh_after_sync(daemon: &std::sync::Arc<Daemon>, exchange: &str) {
    let selector = SeriesSelector {
        exchange: Some(exchange.to_owned()),
        ..Default::default()
    };
    let d = daemon.clone();
    let done = tokio::task::spawn_blocking(move || validate(&d, &selector, None)).await;
    match done {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(exchange, "Could not check the candle series: {e}"),
        Err(e) => tracing::error!(exchange, "The candle check task failed: {e}"),
    }
}

/// Notes the open times a candles page holds twice (the store keeps one of each).
pub fn note_page(daemon: &Daemon, namespace: &str, records: &[StoredRecord]) {
    let mut seen = BTreeSet::new();
    let mut twice: Vec<(&str, &str, i64)> = Vec::new();
    for r in records {
        if !seen.insert(r.id.as_str()) {
            // Candle ids are `SYMBOL:TIMEFRAME:OPEN_TIME`; the symbol may hold a colon.
            let mut parts = r.id.rsplitn(3, ':');
            let (Some(t), Some(tf), Some(sym)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if let Ok(t) = t.parse() {
                twice.push((sym, tf, t));
            }
        }
    }
    if twice.is_empty() {
        return;
    }
    crate::quality_kept::persist_page_duplicates(daemon, namespace, &twice);
    let mut book = daemon.candles.lock().expect("candle book lock");
    for (sym, tf, t) in twice {
        book.page_duplicates
            .entry((namespace.to_owned(), sym.to_owned(), tf.to_owned()))
            .or_default()
            .insert(t);
    }
}

/// Whether `name` is a data source's integration.
pub fn is_datasource(name: &str) -> bool {
    name.starts_with(DATASOURCE_PREFIX)
}
