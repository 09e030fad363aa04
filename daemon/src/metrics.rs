//! The metric catalogue and the `/metrics` endpoint.
//!
//! Every metric exsyncd exports is declared here, once, with its help text. Labels come only
//! from closed sets: integration, exchange, stream, result, reason, status, bucket. Nothing
//! else in the daemon registers metrics; named events in [`crate::events`] update them.

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Buckets for a sync of one stream: a balance snapshot takes under a second, a first full
/// history of a busy account can take an hour.
const SYNC_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
/// Buckets for one HTTP request: loopback answers in a millisecond, a slow exchange in seconds.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Every metric of exsyncd.
pub struct Metrics {
    pub registry: Registry,
    pub sync_duration: HistogramVec,
    pub sync_failures: IntCounterVec,
    pub records_synced: IntCounterVec,
    /// `exsync_pruned_records_total{kind}`: records removed by retention, and `raw` for
    /// records whose raw JSON was dropped.
    pub pruned_records: IntCounterVec,
    pub pages_committed: IntCounterVec,
    pub last_success: GaugeVec,
    pub sync_interval: GaugeVec,
    pub consecutive_failures: IntGaugeVec,
    pub http_duration: HistogramVec,
    pub http_requests: IntCounterVec,
    pub rate_limit_wait: prometheus::CounterVec,
    pub rate_limit_responses: IntCounterVec,
    pub plugins_loaded: IntGauge,
    pub plugin_load_failures: IntCounterVec,
    pub plugins_refused: IntGauge,
    pub plugin_generations: IntGauge,
    pub config_reloads: IntCounterVec,
    pub config_last_reload_successful: IntGauge,
    pub config_last_reload_success: prometheus::Gauge,
    pub config_problems: IntGauge,
    pub integrations: IntGaugeVec,
    pub build_info: IntGaugeVec,
    pub credential_age: IntGaugeVec,
    pub credential_events: IntCounterVec,
    pub control_requests: IntCounterVec,
    pub audit_entries: IntCounterVec,
    pub audit_write_failures: prometheus::IntCounter,
    pub candle_quality_issues: IntGaugeVec,
    pub notifications: IntCounterVec,
    /// `exsync_plugin_call_timeouts_total{integration, exchange, call}`: calls into a plugin
    /// that did not return within `plugin_call_timeout` (`call`: `fetch`, `partitions`,
    /// `check`).
    pub plugin_call_timeouts: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        fn reg<T: prometheus::core::Collector + Clone + 'static>(r: &Registry, m: T) -> T {
            r.register(Box::new(m.clone()))
                .expect("metric names in the catalogue are unique");
            m
        }
        let stream_labels = &["integration", "exchange", "stream"];
        Metrics {
            sync_duration: reg(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "exsync_sync_duration_seconds",
                        "Time to sync one stream of one integration, by result.",
                    )
                    .buckets(SYNC_BUCKETS.to_vec()),
                    &["integration", "exchange", "stream", "result"],
                )
                .unwrap(),
            ),
            sync_failures: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_sync_failures_total",
                        "Failed stream syncs, by error kind (auth, clock, rate_limited, ...).",
                    ),
                    &["integration", "exchange", "stream", "reason"],
                )
                .unwrap(),
            ),
            pruned_records: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_pruned_records_total",
                        "Records removed by retention (kind `raw`: records whose raw JSON was dropped).",
                    ),
                    &["kind"],
                )
                .unwrap(),
            ),
            records_synced: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_records_synced_total",
                        "Records stored that were new or changed.",
                    ),
                    stream_labels,
                )
                .unwrap(),
            ),
            pages_committed: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new("exsync_pages_committed_total", "Pages committed to the store."),
                    stream_labels,
                )
                .unwrap(),
            ),
            last_success: reg(
                &registry,
                GaugeVec::new(
                    Opts::new(
                        "exsync_last_success_timestamp_seconds",
                        "When the stream last synced successfully, Unix seconds.",
                    ),
                    stream_labels,
                )
                .unwrap(),
            ),
            sync_interval: reg(
                &registry,
                GaugeVec::new(
                    Opts::new(
                        "exsync_sync_interval_seconds",
                        "The configured sync interval of the stream, seconds (for alerts on staleness).",
                    ),
                    stream_labels,
                )
                .unwrap(),
            ),
            consecutive_failures: reg(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "exsync_sync_consecutive_failures",
                        "Syncs of the stream that failed in a row since its last success (or since the daemon started).",
                    ),
                    stream_labels,
                )
                .unwrap(),
            ),
            http_duration: reg(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "exsync_http_request_duration_seconds",
                        "Exchange HTTP requests, by status code (`error` when no response came).",
                    )
                    .buckets(HTTP_BUCKETS.to_vec()),
                    &["exchange", "status"],
                )
                .unwrap(),
            ),
            http_requests: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new("exsync_http_requests_total", "Exchange HTTP requests, by status code."),
                    &["exchange", "status"],
                )
                .unwrap(),
            ),
            rate_limit_wait: reg(
                &registry,
                prometheus::CounterVec::new(
                    Opts::new(
                        "exsync_rate_limit_wait_seconds_total",
                        "Time waited for the request budget, a Retry-After, or (bucket \"plugin\") a rate limit the plugin read from an answer.",
                    ),
                    &["exchange", "bucket"],
                )
                .unwrap(),
            ),
            rate_limit_responses: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_rate_limit_responses_total",
                        "Responses telling us to slow down (429) or banning us (418).",
                    ),
                    &["exchange", "status"],
                )
                .unwrap(),
            ),
            plugins_loaded: reg(
                &registry,
                IntGauge::new("exsync_plugins_loaded", "Plugins loaded and usable.").unwrap(),
            ),
            plugin_load_failures: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new("exsync_plugin_load_failures_total", "Plugin files refused, by reason."),
                    &["reason"],
                )
                .unwrap(),
            ),
            plugins_refused: reg(
                &registry,
                IntGauge::new(
                    "exsync_plugins_refused",
                    "Plugin files refused right now: not loaded, or a new build refused while the old one keeps serving.",
                )
                .unwrap(),
            ),
            plugin_generations: reg(
                &registry,
                IntGauge::new(
                    "exsync_plugin_generations_resident",
                    "Plugin code versions loaded in this process (libraries are never unloaded).",
                )
                .unwrap(),
            ),
            config_reloads: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new("exsync_config_reloads_total", "Configuration reloads, by result."),
                    &["result"],
                )
                .unwrap(),
            ),
            config_last_reload_successful: {
                let g = reg(
                    &registry,
                    IntGauge::new(
                        "exsync_config_last_reload_successful",
                        "Whether the last reload of configuration and plugins applied everything (1) or refused something (0).",
                    )
                    .unwrap(),
                );
                // No reload yet: the configuration the daemon started with is in force.
                g.set(1);
                g
            },
            config_last_reload_success: reg(
                &registry,
                prometheus::Gauge::new(
                    "exsync_config_last_reload_success_timestamp_seconds",
                    "When a reload last applied everything, Unix seconds (0: none since the start).",
                )
                .unwrap(),
            ),
            config_problems: reg(
                &registry,
                IntGauge::new(
                    "exsync_config_problems",
                    "Problems with the configuration or plugins right now (see `exsyncctl status`).",
                )
                .unwrap(),
            ),
            integrations: reg(
                &registry,
                IntGaugeVec::new(
                    Opts::new("exsync_integrations", "Configured integrations, by state."),
                    &["state"],
                )
                .unwrap(),
            ),
            build_info: reg(
                &registry,
                IntGaugeVec::new(
                    Opts::new("exsync_build_info", "Always 1; labels carry the version."),
                    &["version", "plugin_api"],
                )
                .unwrap(),
            ),
            credential_age: reg(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "exsync_credential_age_seconds",
                        "Age of an integration's stored credentials (since set or last rotated).",
                    ),
                    &["integration"],
                )
                .unwrap(),
            ),
            credential_events: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_credential_changes_total",
                        "Credential set and rotate requests, by action and result.",
                    ),
                    &["integration", "action", "result"],
                )
                .unwrap(),
            ),
            control_requests: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_control_requests_total",
                        "Requests on the control socket, by verb and result (ok, failed, denied, error).",
                    ),
                    &["verb", "result"],
                )
                .unwrap(),
            ),
            audit_entries: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_audit_entries_total",
                        "Entries appended to the audit log, by origin (ctl, signal, watch) and result.",
                    ),
                    &["origin", "result"],
                )
                .unwrap(),
            ),
            audit_write_failures: reg(
                &registry,
                prometheus::IntCounter::new(
                    "exsync_audit_write_failures_total",
                    "Audit entries that could not be written to the store (each also logged).",
                )
                .unwrap(),
            ),
            candle_quality_issues: reg(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "exsync_candle_quality_issues",
                        "Defects found in stored candle series at their last check (missing, duplicate or invalid candles, spikes, broken OHLC, staleness), summed over symbols.",
                    ),
                    &["exchange", "timeframe", "severity"],
                )
                .unwrap(),
            ),
            notifications: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_notifications_total",
                        "Webhook notification attempts, by result (sent, retried, failed).",
                    ),
                    &["result"],
                )
                .unwrap(),
            ),
            plugin_call_timeouts: reg(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "exsync_plugin_call_timeouts_total",
                        "Calls into a plugin that did not return within plugin_call_timeout; the instance is abandoned until a reload (call: fetch, partitions, check).",
                    ),
                    &["integration", "exchange", "call"],
                )
                .unwrap(),
            ),
            registry,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding into a Vec cannot fail");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Serves `GET /metrics` until the future is dropped.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    use axum::{http::header, routing::get, Router};
    let app = Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }));
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "Metrics server stopped.");
    }
}

/// Binds the metrics listener (separately, so a taken port fails startup with a clear error).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
