//! Invoked when calling `exsyncctl data sources|list|info|validate|download`.
//!
//! Reads go through [`crate::candles`] on the blocking pool; `download` runs a one-off
//! candles sync of a temporary public integration (`download:EXCHANGE`) through the engine,
//! streaming its progress like `sync --wait`.

use std::sync::Arc;

use exsync_plugin_api::Stream;
use exsync_protocol::{
    DataDownloadReport, DataDownloadRequest, DataInfoReport, DataInfoRequest, DataListReport,
    DataSourceInfo, DataSourcesReport, DataValidateReport, DataValidateRequest, Response,
    SeriesSelector,
};

use super::integrations::{integration_info, shown_streams, StoreSnapshot};
use super::{failure, refuse_while_shutting_down, Responder};
use crate::candles::{self, Series, DOWNLOAD_PREFIX};
use crate::config::{PublicCandles, DATASOURCE_PREFIX};
use crate::daemon::Daemon;
use crate::host::now_ms;
use crate::store::{PageWrite, PartitionKey};
use crate::{engine, quality, supervisor};

/// One download at a time: two would share the `download:EXCHANGE` cursors.
static DOWNLOADING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many gap runs `data info` lists.
const GAP_RANGES_SHOWN: usize = 10;

/// `exsyncctl data sources`: the data sources of `datasources.d` and their state.
pub fn data_sources(daemon: &Daemon) -> Response {
    let stored = StoreSnapshot::read(&daemon.store);
    let topo = daemon.topology.read().expect("topology lock");
    daemon.load_stream_states(shown_streams(&topo));
    let live = daemon.live_view();
    let sources = topo
        .integrations
        .values()
        .filter(|it| candles::is_datasource(it.name()))
        .map(|it| {
            let info = integration_info(daemon, it, &stored, &live);
            DataSourceInfo {
                name: it
                    .name()
                    .strip_prefix(DATASOURCE_PREFIX)
                    .unwrap_or(it.name())
                    .to_owned(),
                integration: it.name().to_owned(),
                exchange: it.exchange().to_owned(),
                file: it.config.file.display().to_string(),
                symbols: it.config.candle_symbols.clone(),
                timeframes: it.config.candle_timeframes.clone(),
                interval_s: it
                    .config
                    .streams
                    .iter()
                    .find(|(s, _)| *s == Stream::Candles)
                    .map_or(0, |(_, i)| i.as_secs()),
                history_days: it.config.candle_history_days.unwrap_or(0),
                state: info.state,
                error: it.error.clone().or_else(|| {
                    info.streams
                        .into_iter()
                        .find_map(|s| s.last_error.filter(|_| s.stream == "candles"))
                }),
            }
        })
        .collect();
    Response::DataSources(DataSourcesReport { sources })
}

async fn read(daemon: &Arc<Daemon>, selector: SeriesSelector) -> Result<Vec<Series>, Response> {
    let d = daemon.clone();
    match tokio::task::spawn_blocking(move || candles::read_series(&d, &selector)).await {
        Ok(Ok(series)) => Ok(series),
        Ok(Err(e)) => Err(failure("internal", e, "see the daemon log")),
        Err(e) => Err(failure(
            "internal",
            format!("while reading candle series: the task failed: {e}"),
            "see the daemon log",
        )),
    }
}

/// `exsyncctl data list`
pub async fn data_list(daemon: &Arc<Daemon>) -> Response {
    match read(daemon, SeriesSelector::default()).await {
        Ok(series) => Response::DataList(DataListReport {
            series: series.into_iter().map(|s| s.info).collect(),
        }),
        Err(r) => r,
    }
}

fn describe(selector: &SeriesSelector) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &selector.symbol {
        parts.push(s.clone());
    }
    if let Some(t) = &selector.timeframe {
        parts.push(t.clone());
    }
    if let Some(e) = &selector.exchange {
        parts.push(format!("on {e}"));
    }
    if parts.is_empty() {
        "any series".into()
    } else {
        parts.join(" ")
    }
}

/// `exsyncctl data info SYMBOL --timeframe TF [--exchange EX]`
pub async fn data_info(daemon: &Arc<Daemon>, request: DataInfoRequest) -> Response {
    let selector = request.series;
    if selector.symbol.is_none() || selector.timeframe.is_none() {
        return failure(
            "usage",
            "data info needs a symbol and a timeframe",
            "exsyncctl data info BTC/USDT --timeframe 1h [--exchange binance]",
        );
    }
    let mut series = match read(daemon, selector.clone()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if series.len() > 1 {
        let exchanges: Vec<&str> = series.iter().map(|s| s.info.exchange.as_str()).collect();
        return failure(
            "usage",
            format!(
                "{} names {} series (exchanges: {})",
                describe(&selector),
                series.len(),
                exchanges.join(", ")
            ),
            "add --exchange",
        );
    }
    let Some(s) = series.pop() else {
        return failure(
            "not_found",
            format!("no stored candles for {}", describe(&selector)),
            "`exsyncctl data list` shows what is stored",
        );
    };
    let now = now_ms();
    let times: Vec<i64> = s.rows.iter().map(|r| r.open_time).collect();
    let runs = quality::timeframe_ms(&s.key.timeframe)
        .map(|tf| {
            quality::gap_runs(&times, tf)
                .into_iter()
                .map(|r| (quality::missing_in(&r, tf), r))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let last_final_ms = s
        .rows
        .iter()
        .rev()
        .find(|r| r.is_final)
        .map(|r| r.open_time);
    let open_ms = s.rows.last().filter(|r| !r.is_final).map(|r| r.open_time);
    let open_overdue = open_ms
        .zip(quality::timeframe_ms(&s.key.timeframe))
        .is_some_and(|(t, tf)| t + tf <= now);
    Response::DataInfo(DataInfoReport {
        last_final_ms,
        open_ms,
        open_overdue,
        gaps: runs.len() as u64,
        missing: runs.iter().map(|(n, _)| n).sum(),
        gap_ranges: runs
            .iter()
            .take(GAP_RANGES_SHOWN)
            .map(|(_, r)| *r)
            .collect(),
        last_age_ms: s.info.last_ms.map(|t| now - t),
        at_ms: now,
        series: s.info,
    })
}

/// `exsyncctl data validate [SYMBOL] [--timeframe TF] [--exchange EX]`
pub async fn data_validate(daemon: &Arc<Daemon>, request: DataValidateRequest) -> Response {
    let threshold = match request
        .spike_threshold
        .as_deref()
        .map(quality::parse_threshold)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return failure("usage", e, "give a fraction: --spike-threshold 0.2"),
    };
    let selector = request.series;
    if request.last {
        return kept_reports(daemon, &selector, threshold.is_some());
    }
    let d = daemon.clone();
    let sel = selector.clone();
    let checked = tokio::task::spawn_blocking(move || candles::validate(&d, &sel, threshold)).await;
    match checked {
        Ok(Ok(series)) if series.is_empty() && selector != SeriesSelector::default() => failure(
            "not_found",
            format!("no stored candles for {}", describe(&selector)),
            "`exsyncctl data list` shows what is stored",
        ),
        Ok(Ok(series)) => Response::DataValidate(DataValidateReport { series }),
        Ok(Err(e)) => failure("internal", e, "see the daemon log"),
        Err(e) => failure(
            "internal",
            format!("while checking candle series: the task failed: {e}"),
            "see the daemon log",
        ),
    }
}

/// `data validate --last`: the reports kept from the last check of each series the selector
/// names, as the store kept them across restarts; nothing is checked again.
fn kept_reports(daemon: &Daemon, selector: &SeriesSelector, threshold_given: bool) -> Response {
    if threshold_given {
        return failure(
            "usage",
            "--last shows the kept reports as they were checked; a spike threshold needs a new check",
            "leave out --last to check again with --spike-threshold",
        );
    }
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let series: Vec<_> = {
        let book = daemon.candles.lock().expect("candle book lock");
        book.reports
            .values()
            .filter(|r| {
                let s = &r.series;
                selector
                    .exchange
                    .as_deref()
                    .is_none_or(|e| eq(e, &s.exchange))
                    && selector
                        .timeframe
                        .as_deref()
                        .is_none_or(|t| t == s.timeframe)
                    && selector.symbol.as_deref().is_none_or(|want| {
                        eq(want, &s.symbol)
                            || eq(want, &s.symbol_native)
                            || eq(&want.replace(['/', '-', '_'], ""), &s.symbol_native)
                    })
            })
            .cloned()
            .collect()
    };
    if series.is_empty() && *selector != SeriesSelector::default() {
        return failure(
            "not_found",
            format!("no kept quality report for {}", describe(selector)),
            "reports are kept after each candles sync; `exsyncctl data validate` checks now",
        );
    }
    Response::DataValidate(DataValidateReport { series })
}

/// The base URL a download of `exchange` uses: that of a configured data source or
/// integration of the same exchange (a proxy, a testnet, a simulator), else the plugin's.
fn base_url_for(daemon: &Daemon, exchange: &str) -> Option<String> {
    let topo = daemon.topology.read().expect("topology lock");
    let mut its: Vec<_> = topo
        .integrations
        .values()
        .filter(|it| it.exchange() == exchange && it.error.is_none())
        .collect();
    // Data sources first: they are public, like the download.
    its.sort_by_key(|it| !candles::is_datasource(it.name()));
    its.into_iter().find_map(|it| it.config.base_url.clone())
}

/// `exsyncctl data download`: a one-off backfill of public candles through the engine.
pub async fn data_download(
    daemon: &Arc<Daemon>,
    request: DataDownloadRequest,
    out: &mut Responder,
) -> std::io::Result<()> {
    let name = format!("{DOWNLOAD_PREFIX}{}", request.exchange);
    let wanted = PublicCandles {
        name: name.clone(),
        file: Default::default(),
        exchange: request.exchange.clone(),
        base_url: base_url_for(daemon, &request.exchange),
        symbols: request.symbols.clone(),
        timeframes: request.timeframes.clone(),
        // Never scheduled: the download syncs once.
        interval: crate::config::DEFAULT_CANDLE_INTERVAL,
        history_days: request.days,
        spike_threshold: None,
    };
    if let Err(e) = wanted.check() {
        return out
            .send(&failure(
                "usage",
                format!("data download: {e}"),
                "exsyncctl data download --exchange binance --symbols BTC/USDT --timeframes 1h --days 365",
            ))
            .await;
    }
    if let Some(busy) = refuse_while_shutting_down(daemon, "download after the restart") {
        return out.send(&busy).await;
    }
    let _one = DOWNLOADING.lock().await;
    let plugins = daemon
        .topology
        .read()
        .expect("topology lock")
        .plugins
        .clone();
    let it = supervisor::build_integration(
        wanted.into_integration(),
        &plugins,
        &daemon.shared,
        daemon.shutdown.child_token(),
    );
    if let Some(e) = &it.error {
        return out.send(&Response::Error(e.clone())).await;
    }
    // Each download walks its whole range again: forget where the last one stopped. What
    // it fetches again merges with what is stored (one candle per open time).
    let store = daemon.store.clone();
    let reset = tokio::task::spawn_blocking({
        let name = name.clone();
        move || -> Result<(), crate::store::StoreError> {
            for partition in store.cursor_partitions(&name, Stream::Candles.as_str())? {
                let key = PartitionKey {
                    integration: &name,
                    stream: Stream::Candles.as_str(),
                    partition: &partition,
                };
                store.commit_page(key, &PageWrite::default())?;
            }
            Ok(())
        }
    })
    .await;
    if let Ok(Err(e)) = reset {
        return out
            .send(&failure(
                "internal",
                format!("while resetting the download cursors: {e}"),
                "see the daemon log",
            ))
            .await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The download runs on its own task: a client that goes away does not stop it.
    let task = tokio::spawn(engine::sync(
        daemon.clone(),
        Arc::new(it),
        vec![Stream::Candles],
        engine::Trigger::Manual,
        Some(tx),
    ));
    let mut client_gone = false;
    while let Some(progress) = rx.recv().await {
        if !client_gone && out.send(&Response::Progress(progress)).await.is_err() {
            client_gone = true;
        }
    }
    let sync = match task.await {
        Ok(report) => report,
        Err(e) => {
            return out
                .send(&failure(
                    "internal",
                    format!("the download task failed: {e}"),
                    "see the daemon log",
                ))
                .await
        }
    };
    let selector = SeriesSelector {
        exchange: Some(request.exchange.clone()),
        ..Default::default()
    };
    let series = match read(daemon, selector).await {
        Ok(s) => s
            .into_iter()
            .map(|s| s.info)
            .filter(|i| {
                request.timeframes.contains(&i.timeframe)
                    && request
                        .symbols
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(&i.symbol))
            })
            .collect(),
        Err(r) => return out.send(&r).await,
    };
    out.send(&Response::DataDownload(DataDownloadReport {
        exchange: request.exchange,
        days: request.days,
        sync,
        series,
    }))
    .await
}
