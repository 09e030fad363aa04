//! Invoked when calling `exsyncctl data export`.
//!
//! The daemon only reads: it streams the stored candles of every matching series to
//! `exsyncctl` as [`CandleBatch`] lines, and `exsyncctl` writes the Parquet or CSV files.
//! Why there: the store belongs to this process (redb opens a file in one process only), but
//! the files belong to the operator. The daemon runs as its own `exsync` user and could not
//! write into an operator's directory, or would leave files there the operator cannot
//! replace; `exsyncctl` writes with the operator's own permissions into a directory the
//! daemon never needs to see. Speed: a candle crosses the socket as a compact JSON array of
//! about 90 bytes, and the reading (this side) and the encoding (the other side) run in
//! parallel on two processes; `scripts/bench-data.sh` measures the whole path.

use std::sync::Arc;

use exsync_protocol::{
    CandleBatch, CandleRow, DataExportReport, DataExportRequest, Response, SAMPLE_EXCHANGE,
};
use serde::Deserialize;

use super::{failure, Responder};
use crate::daemon::Daemon;
use crate::events::CandlesExported;

/// Candles per batch line: about 90 bytes each, so a line stays near 400 KB.
const BATCH: usize = 4_000;

/// The fields of a stored candle that an export needs (`raw` is skipped: an exchange's raw
/// candle is an array or an object of its own; what is synthetic is told by where it is
/// stored, the integration [`SAMPLE_EXCHANGE`]).
#[derive(Deserialize)]
struct StoredCandle {
    symbol: String,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    quote: Option<String>,
    timeframe: String,
    open_time: i64,
    open: String,
    high: String,
    low: String,
    close: String,
    volume: String,
    #[serde(rename = "final")]
    is_final: bool,
}

/// Which stored integrations hold candles of which exchange: the configured ones, plus the
/// synthetic sample when no configured integration is named like it.
fn sources(daemon: &Daemon, exchange: Option<&str>) -> Vec<(String, String)> {
    let topo = daemon.topology.read().expect("topology lock");
    let mut out: Vec<(String, String)> = topo
        .integrations
        .values()
        .map(|it| (it.name().to_owned(), it.exchange().to_owned()))
        .collect();
    if !topo.integrations.contains_key(SAMPLE_EXCHANGE) {
        out.push((SAMPLE_EXCHANGE.to_owned(), SAMPLE_EXCHANGE.to_owned()));
    }
    out.retain(|(_, ex)| exchange.is_none_or(|want| want == ex));
    out
}

fn symbol_matches(wanted: &[String], c: &StoredCandle) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let unified = match (&c.base, &c.quote) {
        (Some(b), Some(q)) => Some(format!("{b}/{q}")),
        _ => None,
    };
    wanted
        .iter()
        .any(|w| w.eq_ignore_ascii_case(&c.symbol) || unified.as_deref() == Some(w.as_str()))
}

pub async fn data_export(
    daemon: &Arc<Daemon>,
    request: DataExportRequest,
    out: &mut Responder,
) -> std::io::Result<()> {
    let sources = sources(daemon, request.exchange.as_deref());
    if sources.is_empty() {
        let exchange = request.exchange.unwrap_or_default();
        return out
            .send(&failure(
                "not_found",
                format!("no integration of exchange `{exchange}` is configured"),
                "exchange ids are the plugin ids in `exsyncctl integrations`, or `sample`",
            ))
            .await;
    }
    let started = std::time::Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<CandleBatch>(4);
    let store = daemon.store.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut report = DataExportReport::default();
        for (integration, exchange) in &sources {
            let mut batch: Option<CandleBatch> = None;
            let mut bad: Option<String> = None;
            let mut sent = true;
            store.for_each_record_by_id(integration, "candle", |id, json| {
                let c: StoredCandle = match serde_json::from_slice(json) {
                    Ok(c) => c,
                    Err(e) => {
                        bad = Some(format!("stored candle {id:?} of {integration}: {e}"));
                        return false;
                    }
                };
                if !request.timeframes.is_empty() && !request.timeframes.contains(&c.timeframe) {
                    return true;
                }
                if !symbol_matches(&request.symbols, &c) {
                    return true;
                }
                if !c.is_final && !request.include_open {
                    report.skipped_open += 1;
                    return true;
                }
                let same = batch
                    .as_ref()
                    .is_some_and(|b| b.symbol == c.symbol && b.timeframe == c.timeframe);
                let full = batch.as_ref().is_some_and(|b| b.rows.len() >= BATCH);
                if !same || full {
                    if let Some(b) = batch.take() {
                        if tx.blocking_send(b).is_err() {
                            sent = false;
                            return false;
                        }
                    }
                    if !same {
                        report.series += 1;
                    }
                }
                let synthetic = integration == SAMPLE_EXCHANGE;
                let b = batch.get_or_insert_with(|| CandleBatch {
                    exchange: exchange.clone(),
                    integration: integration.clone(),
                    symbol: c.symbol.clone(),
                    base: c.base.clone(),
                    quote: c.quote.clone(),
                    timeframe: c.timeframe.clone(),
                    synthetic,
                    rows: Vec::with_capacity(BATCH),
                });
                b.synthetic |= synthetic;
                b.rows.push(CandleRow(
                    c.open_time,
                    c.open,
                    c.high,
                    c.low,
                    c.close,
                    c.volume,
                    c.is_final,
                ));
                report.candles += 1;
                true
            })?;
            if let Some(e) = bad {
                return Ok(Err(e));
            }
            if !sent {
                break;
            }
            if let Some(b) = batch.take() {
                if tx.blocking_send(b).is_err() {
                    break;
                }
            }
        }
        Ok::<_, crate::store::StoreError>(Ok(report))
    });
    while let Some(batch) = rx.recv().await {
        out.send(&Response::CandleBatch(batch)).await?;
    }
    match reader.await {
        Ok(Ok(Ok(report))) => {
            CandlesExported {
                series: report.series,
                candles: report.candles,
                duration: started.elapsed(),
            }
            .emit(&daemon.metrics);
            out.send(&Response::DataExport(report)).await
        }
        Ok(Ok(Err(e))) => {
            out.send(&failure(
                "internal",
                format!("while exporting candles: {e}"),
                "the store may be damaged",
            ))
            .await
        }
        Ok(Err(e)) => {
            out.send(&failure("internal", e.to_string(), "see the daemon log"))
                .await
        }
        Err(e) => {
            out.send(&failure(
                "internal",
                format!("while exporting candles: {e}"),
                "see the daemon log",
            ))
            .await
        }
    }
}
