//! `exsyncctl sync`: full syncs, incremental syncs and crash recovery against the simulator.

use exsync_e2e::assert_all_ok;
use exsync_e2e::assert_no_secrets;
use exsync_e2e::daemon::{
    binance_integration, binance_integration_with, wait_for, Daemon, Setup, ALL_STREAMS,
};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::{assert_stored_exactly, truth_counts};

fn binance_setup(sim: &Sim, streams: &str) -> Setup {
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration("binance-main", &binance_integration(&sim.url, streams));
    setup
}

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    let sim = Sim::binance(&["--seed", "11", "--trades", "4000"]);
    let setup = binance_setup(&sim, ALL_STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait("binance-main");
    assert_all_ok(&report);
    let truth = sim.truth();
    let (trades, orders, deposits, withdrawals) = truth_counts(&truth);
    assert!(trades >= 4000 && orders > 0 && deposits > 0 && withdrawals > 0);
    assert_stored_exactly(&daemon, "binance-main", &truth);

    // The simulator saw no bad signature and banned nobody.
    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{}", stats["by_status"]);
    assert!(
        stats["by_status"].get("418").is_none(),
        "{}",
        stats["by_status"]
    );

    let metrics = daemon.metrics();
    assert!(metrics.contains("exsync_records_synced_total{exchange=\"binance\",integration=\"binance-main\",stream=\"trades\"}"), "{metrics}");
    assert!(
        metrics.contains("exsync_last_success_timestamp_seconds"),
        "{metrics}"
    );
    assert_no_secrets(&[&daemon.log(), &metrics, &report.to_string()]);
}

#[test]
fn second_sync_stores_nothing_new_and_makes_at_most_one_request_per_partition() {
    let sim = Sim::binance(&["--seed", "12", "--trades", "1500"]);
    let setup = binance_setup(&sim, ALL_STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait("binance-main"));
    let before: usize = ["trade", "order", "deposit", "withdrawal", "balance"]
        .iter()
        .map(|k| daemon.records("binance-main", k).len())
        .sum();

    sim.reset_stats();
    let report = daemon.sync_wait("binance-main");
    assert_all_ok(&report);
    for s in report["streams"].as_array().unwrap() {
        if s["stream"] != "balances" {
            assert_eq!(
                s["records"], 0,
                "a sync with nothing new stored something: {s}"
            );
        }
    }
    let after: usize = ["trade", "order", "deposit", "withdrawal", "balance"]
        .iter()
        .map(|k| daemon.records("binance-main", k).len())
        .sum();
    assert_eq!(before, after);

    let stats = sim.stats();
    for (key, count) in stats["by_endpoint_symbol"].as_object().unwrap() {
        assert!(
            count.as_u64().unwrap() <= 1,
            "{key} was requested {count} times in a sync with nothing new"
        );
    }
    for endpoint in [
        "GET /sapi/v1/capital/deposit/hisrec",
        "GET /sapi/v1/capital/withdraw/history",
        "GET /api/v3/account",
    ] {
        let n = stats["by_endpoint"][endpoint].as_u64().unwrap_or(0);
        assert!(n <= 1, "{endpoint} requested {n} times: {stats}");
    }

    // New trades arrive: the next sync picks up exactly those.
    sim.append_trades(7);
    assert_all_ok(&daemon.sync_wait("binance-main"));
    assert_stored_exactly(&daemon, "binance-main", &sim.truth());
}

#[test]
fn kill_9_in_the_middle_of_a_sync_then_restart_completes_exactly() {
    // Slow answers make the sync last long enough to be killed in the middle.
    let sim = Sim::binance(&["--seed", "13", "--trades", "12000", "--slow-ms", "15"]);
    let setup = binance_setup(&sim, ALL_STREAMS);
    let mut daemon = Daemon::start(&setup);
    let started = daemon.ctl(&["sync", "binance-main"]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    wait_for("some trades to be stored", || {
        let status = daemon.status();
        let it = &status["integrations"][0];
        let stored = it["streams"]
            .as_array()?
            .iter()
            .find(|s| s["stream"] == "trades")?["records"]
            .as_u64()?;
        (stored > 0).then_some(())
    });
    daemon.kill9();

    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait("binance-main");
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, "binance-main", &sim.truth());
}

#[test]
fn candles_store_every_closed_candle_exactly_and_the_open_one_as_not_final() {
    let sim = Sim::binance(&["--seed", "13", "--trades", "10"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    let candles = "[streams]\n[candles]\nsymbols = [\"BTC/USDT\"]\ntimeframes = [\"4h\", \"1d\"]\ninterval = \"1h\"\n";
    setup.integration(
        "binance-main",
        &binance_integration_with(&sim.url, "2025-06-01", false, candles),
    );
    let daemon = Daemon::start(&setup);
    let start_ms = 1_748_736_000_000; // 2025-06-01T00:00:00Z

    let report = daemon.sync_wait("binance-main");
    assert_all_ok(&report);
    let stored = daemon.records("binance-main", "candle");
    for (timeframe, period_ms) in [("4h", 4 * 3_600_000i64), ("1d", 86_400_000)] {
        let mut mine: Vec<&serde_json::Value> = stored
            .iter()
            .filter(|c| c["timeframe"] == timeframe)
            .collect();
        mine.sort_by_key(|c| c["open_time"].as_i64().unwrap());
        let (closed, open): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) =
            mine.iter().partition(|c| c["final"] == true);
        // The candle in progress when the sync ran, and only that one, is not final.
        assert_eq!(open.len(), 1, "{timeframe}: {open:?}");
        let open_time = open[0]["open_time"].as_i64().unwrap();
        assert_eq!(
            open_time,
            mine.last().unwrap()["open_time"].as_i64().unwrap(),
            "{timeframe}: the open candle is the newest"
        );
        // Every closed candle from the start on, digit for digit.
        let truth = sim.klines_truth("BTCUSDT", timeframe, start_ms, open_time);
        let truth = truth.as_array().unwrap();
        assert_eq!(closed.len(), truth.len(), "{timeframe}: count");
        assert!(truth.len() as i64 >= (open_time - start_ms) / period_ms - 1);
        for (c, t) in closed.iter().zip(truth) {
            assert_eq!(c["open_time"], t[0], "{timeframe}");
            assert_eq!(c["symbol"], "BTCUSDT");
            for (field, i) in [
                ("open", 1),
                ("high", 2),
                ("low", 3),
                ("close", 4),
                ("volume", 5),
            ] {
                assert_eq!(c[field], t[i], "{timeframe} {} {field}", c["open_time"]);
            }
        }
    }

    // The next sync starts at the open candle: one request per (symbol, timeframe).
    sim.reset_stats();
    assert_all_ok(&daemon.sync_wait("binance-main"));
    let stats = sim.stats();
    let klines = stats["by_endpoint"]["GET /api/v3/klines"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        (1..=2).contains(&klines),
        "{klines} klines requests for two caught-up partitions"
    );
}

#[test]
fn sync_asked_for_while_the_scheduled_one_runs_waits_for_it_and_does_not_repeat_it() {
    // Transfers only (their requests do not depend on what other streams found), slow
    // answers and a short history. The same account twice: one daemon syncs it on its own
    // schedule, as the reference; the other is asked to sync while its first sync runs.
    let sim_args = [
        "--seed",
        "14",
        "--trades",
        "50",
        "--slow-ms",
        "60",
        "--history-start",
        "2026-01-01",
    ];
    let streams = "[streams]\ndeposits = \"24h\"\nwithdrawals = \"24h\"\n";
    let start = |sim: &Sim| {
        let mut setup = Setup::new();
        setup.env("E2E_BINANCE_KEY", API_KEY);
        setup.env("E2E_BINANCE_SECRET", API_SECRET);
        setup.integration(
            "binance-main",
            &binance_integration_with(&sim.url, "2026-01-01", false, streams),
        );
        (Daemon::start(&setup), setup)
    };
    let endpoints = [
        "GET /sapi/v1/capital/deposit/hisrec",
        "GET /sapi/v1/capital/withdraw/history",
    ];
    let stream_states = |daemon: &Daemon| -> Option<Vec<serde_json::Value>> {
        let status = daemon.status();
        status["integrations"][0]["streams"].as_array().cloned()
    };

    let reference = Sim::binance(&sim_args);
    let (daemon, _setup) = start(&reference);
    wait_for("the reference sync", || {
        stream_states(&daemon)?
            .iter()
            .all(|s| s["last_success_ms"].is_i64() && s["state"] != "running")
            .then_some(())
    });
    let once = reference.stats();
    drop(daemon);

    let sim = Sim::binance(&sim_args);
    let (daemon, _setup) = start(&sim);
    wait_for("the scheduled first sync to be running", || {
        stream_states(&daemon)?
            .iter()
            .any(|s| s["state"] == "running")
            .then_some(())
    });
    assert_all_ok(&daemon.sync_wait("binance-main"));
    let (_, _, deposits, withdrawals) = truth_counts(&sim.truth());
    assert_eq!(daemon.records("binance-main", "deposit").len(), deposits);
    assert_eq!(
        daemon.records("binance-main", "withdrawal").len(),
        withdrawals
    );
    // What the scheduled sync did after the request was not done again.
    let twice = sim.stats();
    for endpoint in endpoints {
        assert!(
            once["by_endpoint"][endpoint].as_u64().unwrap_or(0) > 0,
            "{endpoint}: {once}"
        );
        assert_eq!(
            twice["by_endpoint"][endpoint], once["by_endpoint"][endpoint],
            "{endpoint} was asked more often than one sync asks it"
        );
    }
    assert!(
        daemon.log().contains("Not syncing again"),
        "{}",
        daemon.log()
    );
}
