//! Load: a hundred integrations on one simulator whose every answer is late. Every stream
//! syncs on its schedule, and `status` answers fast from the daemon's memory while they do.
//!
//! The failure story: `status` read each stream's state, record count and policy state from
//! the store, one read transaction each, behind a lock that the syncs held while they waited
//! for the store's writer and the disk; with a thousand integrations it answered in tens to
//! hundreds of milliseconds. And every integration had an HTTP client of its own: a thousand
//! integrations kept a thousand connections open.

use std::time::{Duration, Instant};

use exsync_e2e::control::{percentile, ControlClient};
use exsync_e2e::daemon::{binance_integration_with, wait_for, Daemon, Setup};
use exsync_e2e::dates::{date_of, days_ago, now_ms, DAY_MS};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

const INTEGRATIONS: usize = 100;
/// Every stream's interval: fifteen seconds, so a half-minute run sees two cycles.
const INTERVAL_MS: i64 = 15_000;
/// How long after its interval (plus the scheduler's 10% jitter) a stream's last success may
/// be: a sync waits for a slot and takes a few round trips at the simulator's latency, in a
/// debug build on a machine other tests keep busy. Less than an interval: no cycle is missed.
const SLACK_MS: i64 = 10_000;
/// Generous for a debug build on a busy machine; the release bench (`bench-load.sh`) holds
/// `status` to 10 ms with ten times the integrations.
const STATUS_P99: Duration = Duration::from_millis(100);

/// Every stream of a `status` answer: (integration, stream, last success, last error).
fn streams(status: &Value) -> Vec<(String, String, Option<i64>, Value)> {
    let mut out = Vec::new();
    for it in status["integrations"].as_array().expect("integrations") {
        for s in it["streams"].as_array().expect("streams") {
            out.push((
                it["name"].as_str().unwrap_or_default().to_owned(),
                s["stream"].as_str().unwrap_or_default().to_owned(),
                s["last_success_ms"].as_i64(),
                s["last_error"].clone(),
            ));
        }
    }
    out
}

/// Streams whose last success is older than their schedule allows, or that failed.
fn off_schedule(status: &Value) -> Vec<String> {
    let now = now_ms();
    streams(status)
        .into_iter()
        .filter_map(|(name, stream, last, error)| {
            let late = last.is_none_or(|t| now - t > INTERVAL_MS * 11 / 10 + SLACK_MS);
            (late || !error.is_null()).then(|| {
                let age = last.map(|t| now - t);
                format!("{name}/{stream}: last success {age:?} ms ago, error {error}")
            })
        })
        .collect()
}

#[test]
fn a_hundred_integrations_sync_on_schedule_and_status_stays_fast() {
    let start = days_ago(2);
    let end = date_of(now_ms() + DAY_MS);
    let sim = Sim::binance(&[
        "--slow-ms",
        "50",
        "--no-weight-limit",
        "--history-start",
        &start,
        "--history-end",
        &end,
        "--assets",
        "6",
        "--symbols",
        "12",
        "--traded-symbols",
        "2",
        "--trades",
        "20",
        "--orders-extra",
        "2",
        "--open-orders",
        "1",
        "--deposits",
        "3",
        "--withdrawals",
        "2",
    ]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        "max_concurrent_syncs = 16\n",
    )
    .unwrap();
    let streams_toml = "[streams]\nbalances = \"15s\"\ntrades = \"15s\"\n";
    for i in 0..INTEGRATIONS {
        setup.integration(
            &format!("load-{i:03}"),
            &binance_integration_with(&sim.url, &start, false, streams_toml),
        );
    }
    let daemon = Daemon::start(&setup);
    let mut client = ControlClient::connect(&daemon.socket);

    // The first cycle: every stream synced once.
    wait_for("every stream's first sync", || {
        let (status, _) = client.timed_status();
        let all = streams(&status);
        assert_eq!(all.len(), INTEGRATIONS * 2, "{status}");
        all.iter().all(|s| s.2.is_some()).then_some(())
    });

    // Two cycles: `status` over and over, every stream on schedule at every look.
    let mut took = Vec::new();
    let mut off = Vec::new();
    let until = Instant::now() + Duration::from_millis(2 * INTERVAL_MS as u64);
    let mut next_look = Instant::now();
    while Instant::now() < until {
        let (status, t) = client.timed_status();
        took.push(t);
        if Instant::now() >= next_look {
            off.extend(off_schedule(&status));
            next_look += Duration::from_secs(2);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let p50 = percentile(&took, 50.0);
    let p99 = percentile(&took, 99.0);
    eprintln!(
        "status: {} requests, p50 {p50:?}, p99 {p99:?}, max {:?}",
        took.len(),
        percentile(&took, 100.0)
    );
    assert!(
        off.is_empty(),
        "{} times a stream was off schedule, e.g. {:?}",
        off.len(),
        &off[..off.len().min(5)]
    );
    assert!(
        p99 < STATUS_P99,
        "status p99 {p99:?} (p50 {p50:?}) over {} requests, allowed {STATUS_P99:?}",
        took.len()
    );

    // One HTTP client for the daemon: open files grow with the syncs running at once, not
    // with the integrations configured (one client each kept a connection per integration).
    let fds = std::fs::read_dir(format!("/proc/{}/fd", daemon.pid()))
        .expect("listing the daemon's open files")
        .count();
    eprintln!("exsyncd: {fds} open files");
    assert!(
        fds < INTEGRATIONS,
        "{fds} open files for {INTEGRATIONS} integrations"
    );

    // The schedule ran: the first sync and at least one more of every stream, none failed.
    let syncs = daemon
        .metrics()
        .lines()
        .filter(|l| l.starts_with("exsync_sync_duration_seconds_count"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert!(
        syncs >= (INTEGRATIONS * 2 * 2) as f64,
        "only {syncs} stream syncs in three cycles: the schedule fell behind"
    );
    let failures = daemon
        .metrics()
        .lines()
        .filter(|l| l.starts_with("exsync_sync_failures_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert_eq!(failures, 0.0, "stream syncs failed");
}
