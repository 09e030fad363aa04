//! The simulator's 429s are obeyed: the sync finishes and is never banned.

use exsync_e2e::daemon::{binance_integration_with, Daemon, Setup, ALL_STREAMS};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_stored_exactly;

#[test]
fn retry_after_is_obeyed_and_the_sync_finishes_without_a_418() {
    // A budget far below Binance's, so the daemon's own (Binance-sized) budget does not save it:
    // only honouring Retry-After does.
    let sim = Sim::binance(&[
        "--seed",
        "41",
        "--trades",
        "600",
        "--weight-limit",
        "200",
        "--weight-window-ms",
        "2000",
        "--ban-after",
        "2",
        // History from where the integration starts: the withdrawal history walks 90-day
        // windows from now back to the start, and Binance allows ten of those a minute.
        "--history-start",
        "2025-09-01",
    ]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    // The daemon's own budget stays on: Binance-sized, it does not prevent the sim's 429s.
    setup.integration(
        "binance-main",
        &binance_integration_with(&sim.url, "2025-09-01", true, ALL_STREAMS),
    );
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait("binance-main");
    for s in report["streams"].as_array().unwrap() {
        assert_eq!(s["result"], "ok", "{s}");
    }
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert!(stats["by_status"].get("418").is_none(), "banned: {stats}");
    assert_stored_exactly(&daemon, "binance-main", &sim.truth());
    let metrics = daemon.metrics();
    assert!(
        metrics.contains("exsync_rate_limit_responses_total{exchange=\"binance\",status=\"429\"}"),
        "{metrics}"
    );
}
