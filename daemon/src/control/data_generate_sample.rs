//! Invoked when calling `exsyncctl data generate-sample`.
//!
//! Makes the synthetic series of [`crate::sample`] and merges them into the store's candle
//! table under the integration [`SAMPLE_EXCHANGE`], one partition per (symbol, timeframe),
//! in pages like a sync but without the JSON of a plugin's records
//! ([`crate::store::Store::commit_candles`]): a re-run with the same seed changes nothing,
//! another seed replaces the values.

use std::sync::Arc;
use std::time::Instant;

use exsync_protocol::{
    DataGenerateSampleReport, DataGenerateSampleRequest, Range, Response, SAMPLE_EXCHANGE,
};

use super::failure;
use crate::daemon::Daemon;
use crate::events::SampleGenerated;
use crate::sample::{self, SampleSpec};
use crate::store::{NewCandle, PartitionKey};

/// Candles per store transaction: large pages amortise the commit (one disk flush each).
const PAGE: usize = 20_000;

pub async fn data_generate_sample(
    daemon: &Arc<Daemon>,
    request: DataGenerateSampleRequest,
) -> Response {
    if daemon
        .topology
        .read()
        .expect("topology lock")
        .integrations
        .contains_key(SAMPLE_EXCHANGE)
    {
        return failure(
            "usage",
            format!("an integration is named `{SAMPLE_EXCHANGE}`; its candles are real"),
            "rename integrations.d/sample.toml to keep synthetic and real data apart",
        );
    }
    let or = |v: &Vec<String>, d: &[&str]| {
        if v.is_empty() {
            d.iter().map(|s| s.to_string()).collect()
        } else {
            v.clone()
        }
    };
    let now = crate::host::now_ms();
    let spec = SampleSpec {
        seed: request.seed,
        symbols: or(&request.symbols, &sample::DEFAULT_SYMBOLS),
        timeframes: or(&request.timeframes, &sample::DEFAULT_TIMEFRAMES),
        days: request.days.unwrap_or(sample::DEFAULT_DAYS),
        end_ms: request.end_ms.unwrap_or(now - now.rem_euclid(86_400_000)),
    };
    if let Err(e) = sample::check(&spec) {
        return failure(
            "usage",
            format!("while generating sample candles: {e}"),
            "symbols like BTC/USDT, timeframes of 1m 5m 15m 1h 4h 1d, --days of at least 1",
        );
    }
    let store = daemon.store.clone();
    let job = tokio::task::spawn_blocking(move || {
        let mut report = DataGenerateSampleReport {
            exchange: SAMPLE_EXCHANGE.to_owned(),
            seed: spec.seed,
            from_ms: spec.end_ms - i64::from(spec.days) * 86_400_000,
            to_ms: spec.end_ms,
            ..Default::default()
        };
        let (mut generate, mut merge) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let finest = sample::finest_ms(&spec);
        for symbol in &spec.symbols {
            let t = Instant::now();
            let fine = sample::walk(&spec, symbol, finest);
            generate += t.elapsed();
            for timeframe in &spec.timeframes {
                let t = Instant::now();
                let k = (sample::timeframe_ms(timeframe).expect("checked") / finest) as usize;
                let rolled;
                let candles = if k == 1 {
                    &fine
                } else {
                    rolled = sample::roll_up(&fine, k);
                    &rolled
                };
                generate += t.elapsed();
                let partition = format!("{symbol}:{timeframe}");
                let key = PartitionKey {
                    integration: SAMPLE_EXCHANGE,
                    stream: "candles",
                    partition: &partition,
                };
                let tf_ms = sample::timeframe_ms(timeframe).expect("checked");
                let series = [sample::series(symbol, timeframe)];
                let raw = sample::raw(spec.seed);
                let mut page = Vec::with_capacity(PAGE.min(candles.len()));
                for chunk in candles.chunks(PAGE) {
                    let t = Instant::now();
                    page.clear();
                    page.extend(chunk.iter().map(|c| NewCandle {
                        series: 0,
                        candle: sample::values(symbol, c),
                        raw: &raw,
                    }));
                    generate += t.elapsed();
                    let covered = Range {
                        from_ms: chunk[0].open_time,
                        to_ms: chunk[chunk.len() - 1].open_time + tf_ms,
                    };
                    let t = Instant::now();
                    store.commit_candles(key, &series, &page, Some(covered))?;
                    merge += t.elapsed();
                }
                report.candles += candles.len() as u64;
                report.series.push(format!("{symbol} {timeframe}"));
            }
        }
        report.generate_ms = generate.as_millis() as u64;
        report.store_ms = merge.as_millis() as u64;
        Ok::<_, crate::store::StoreError>(report)
    });
    match job.await {
        Ok(Ok(report)) => {
            SampleGenerated {
                series: report.series.len() as u64,
                candles: report.candles,
                seed: report.seed,
                store_ms: report.store_ms,
            }
            .emit(&daemon.metrics);
            Response::DataGenerateSample(report)
        }
        Ok(Err(e)) => failure(
            "internal",
            format!("while storing sample candles: {e}"),
            "see the daemon log",
        ),
        Err(e) => failure(
            "internal",
            format!("while generating sample candles: {e}"),
            "see the daemon log",
        ),
    }
}
