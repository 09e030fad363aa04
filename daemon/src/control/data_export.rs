//! Invoked when calling `exsyncctl data export`.
//!
//! The daemon only reads: it streams the stored candles of every matching series to
//! `exsyncctl` as [`CandleBatch`] lines, and `exsyncctl` writes the Parquet or CSV files.
//! Why there: the store belongs to this process (redb opens a file in one process only), but
//! the files belong to the operator. The daemon runs as its own `exsync` user and could not
//! write into an operator's directory, or would leave files there the operator cannot
//! replace; `exsyncctl` writes with the operator's own permissions into a directory the
//! daemon never needs to see. Speed: the candles come out of the candle table series by
//! series, oldest first (no JSON, no sort), and cross the socket as integer amounts with
//! one scale per batch column (about 60 bytes a candle); the reading (this side) and the
//! encoding (the other side) run in parallel on two processes. `scripts/bench-data.sh`
//! measures the whole path.
//!
//! An amount the export's `DECIMAL(38, 18)` cannot hold exactly (more than 18 decimal
//! places that are not zeros, or 20 digits or more before the point) fails the export,
//! naming the series and the candle: nothing is rounded.

use std::sync::Arc;

use exsync_protocol::{
    CandleBatch, CandleRow, DataExportReport, DataExportRequest, Response, CANDLE_MAX_SCALE,
    SAMPLE_EXCHANGE,
};
use rust_decimal::Decimal;

use super::{failure, Responder};
use crate::daemon::Daemon;
use crate::events::CandlesExported;
use crate::store::{CandleSeries, CandleValues};

/// Candles per batch line: about 60 bytes each, so a line stays near 250 KB, under the
/// protocol's 1 MiB line limit even for amounts of 38 digits.
const BATCH: usize = 4_000;

/// The columns of a candle row, for messages.
const VALUE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

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

fn symbol_matches(wanted: &[String], s: &CandleSeries) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let unified = match (&s.base, &s.quote) {
        (Some(b), Some(q)) => Some(format!("{b}/{q}")),
        _ => None,
    };
    wanted
        .iter()
        .any(|w| w.eq_ignore_ascii_case(&s.symbol) || unified.as_deref() == Some(w.as_str()))
}

/// An amount's mantissa and scale, the scale at most [`CANDLE_MAX_SCALE`], or why the
/// export's DECIMAL(38, 18) cannot hold it exactly.
fn export_amount(d: Decimal) -> Result<(i128, u32), String> {
    let d = if d.scale() > CANDLE_MAX_SCALE {
        d.normalize()
    } else {
        d
    };
    if d.scale() > CANDLE_MAX_SCALE {
        return Err(format!(
            "{d} has more than {CANDLE_MAX_SCALE} decimal places (DECIMAL(38,18))"
        ));
    }
    // At most 20 digits before the point: |mantissa| < 10^(20 + scale), at most 10^38.
    if d.mantissa().unsigned_abs() >= 10u128.pow(20 + d.scale()) {
        return Err(format!(
            "{d} has more than 20 digits before the point (DECIMAL(38,18))"
        ));
    }
    Ok((d.mantissa(), d.scale()))
}

/// The rows of one batch, each column at the largest scale it needs.
fn encode_rows(
    candles: &[CandleValues],
    series: &str,
) -> Result<([u32; 5], Vec<CandleRow>), String> {
    let mut parts = Vec::with_capacity(candles.len());
    let mut scales = [0u32; 5];
    for c in candles {
        let mut row = [(0i128, 0u32); 5];
        for (i, v) in c.values.iter().enumerate() {
            row[i] = export_amount(*v).map_err(|e| {
                format!(
                    "{series}: the {} of the candle opening at {} ms: {e}",
                    VALUE_COLUMNS[i], c.open_time
                )
            })?;
            scales[i] = scales[i].max(row[i].1);
        }
        parts.push(row);
    }
    // Below 10^20 at no more than 18 places: rescaled, a mantissa stays below 10^38.
    let at = |(m, s): (i128, u32), to: u32| m * 10i128.pow(to - s);
    let rows = candles
        .iter()
        .zip(parts)
        .map(|(c, p)| {
            CandleRow(
                c.open_time,
                at(p[0], scales[0]),
                at(p[1], scales[1]),
                at(p[2], scales[2]),
                at(p[3], scales[3]),
                at(p[4], scales[4]),
                c.is_final,
            )
        })
        .collect();
    Ok((scales, rows))
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
            let synthetic = integration == SAMPLE_EXCHANGE;
            let mut pending: Vec<CandleValues> = Vec::with_capacity(BATCH);
            let mut current: Option<CandleSeries> = None;
            let mut bad: Option<String> = None;
            let mut sent = true;
            // Sends the pending candles of `series` as one batch; false when ctl went away
            // or an amount does not fit (then `bad` says which).
            let flush = |series: &CandleSeries,
                         pending: &mut Vec<CandleValues>,
                         bad: &mut Option<String>|
             -> bool {
                if pending.is_empty() {
                    return true;
                }
                let name = format!(
                    "{exchange} {} {} (integration {integration})",
                    series.symbol, series.timeframe
                );
                let (scales, rows) = match encode_rows(pending, &name) {
                    Ok(r) => r,
                    Err(e) => {
                        *bad = Some(e);
                        return false;
                    }
                };
                pending.clear();
                tx.blocking_send(CandleBatch {
                    exchange: exchange.clone(),
                    integration: integration.clone(),
                    symbol: series.symbol.clone(),
                    base: series.base.clone(),
                    quote: series.quote.clone(),
                    timeframe: series.timeframe.clone(),
                    synthetic,
                    scales,
                    rows,
                })
                .is_ok()
            };
            store.for_each_candle(
                integration,
                |s| {
                    (request.timeframes.is_empty() || request.timeframes.contains(&s.timeframe))
                        && symbol_matches(&request.symbols, s)
                },
                |s, c, _raw| {
                    if !c.is_final && !request.include_open {
                        report.skipped_open += 1;
                        return true;
                    }
                    if current.as_ref() != Some(s) {
                        if let Some(done) = current.take() {
                            if !flush(&done, &mut pending, &mut bad) {
                                sent = bad.is_some();
                                return false;
                            }
                        }
                        current = Some(s.clone());
                        report.series += 1;
                    } else if pending.len() >= BATCH && !flush(s, &mut pending, &mut bad) {
                        sent = bad.is_some();
                        return false;
                    }
                    pending.push(*c);
                    report.candles += 1;
                    true
                },
            )?;
            if bad.is_none() && sent {
                if let Some(done) = current.take() {
                    if !flush(&done, &mut pending, &mut bad) {
                        sent = bad.is_some();
                    }
                }
            }
            if let Some(e) = bad {
                return Ok(Err(e));
            }
            if !sent {
                break;
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
                "export",
                format!("while exporting {e}"),
                "nothing was rounded and the files written so far are complete; leave this \
                 series out with --symbols/--timeframes",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn amounts_travel_as_integers_at_one_scale_per_column_or_fail_by_name() {
        let c = |t, open: &str, volume: &str| CandleValues {
            open_time: t,
            values: [d(open), d("1"), d("1"), d("1"), d(volume)],
            is_final: true,
        };
        let (scales, rows) =
            encode_rows(&[c(0, "42000.5", "0.00007"), c(60, "41999.25", "3")], "s").unwrap();
        assert_eq!(scales, [2, 0, 0, 0, 5]);
        assert_eq!(rows[0], CandleRow(0, 4_200_050, 1, 1, 1, 7, true));
        assert_eq!(rows[1], CandleRow(60, 4_199_925, 1, 1, 1, 300_000, true));
        // Zeros past the 18th place are dropped, anything else is refused by name.
        let (scales, rows) = encode_rows(
            &[c(
                0,
                "1.0000000000000000000000",
                "9999999999.999999999999999999",
            )],
            "s",
        )
        .unwrap();
        assert_eq!((scales[0], rows[0].1), (0, 1));
        // The most digits a stored amount has (28), all kept.
        assert_eq!((scales[4], rows[0].5), (18, 10i128.pow(28) - 1));
        let e =
            encode_rows(&[c(7, "0.0000000000000000001", "1")], "binance BTCUSDT 1h").unwrap_err();
        assert!(
            e.contains("binance BTCUSDT 1h: the open of the candle opening at 7 ms")
                && e.contains("more than 18 decimal places"),
            "{e}"
        );
        let e = encode_rows(&[c(7, "1", "100000000000000000000")], "s").unwrap_err();
        assert!(e.contains("the volume") && e.contains("20 digits"), "{e}");
    }
}
