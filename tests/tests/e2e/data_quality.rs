//! Candle quality reports kept across restarts, an integration's `[candles] history_days`,
//! and `data info` on the candle still open.
//!
//! Failure stories: the quality report lived in the daemon's memory only, so straight after a
//! restart `data validate` had nothing to show without a new check, the
//! `exsync_candle_quality_issues` gauges read nothing until the next sync, and duplicates the
//! exchange sent within one answer (seen only at ingestion) were forgotten. And an
//! integration's candles could only go back to its `start`: `[candles] history_days` was
//! refused, so a year of candles meant a year of trades too.

use exsync_e2e::assert_all_ok;
use exsync_e2e::daemon::{binance_integration_with, wait_for, Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms, DAY_MS};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

/// The quality gauge's lines, sorted: what a scrape sees.
fn quality_gauges(daemon: &Daemon) -> Vec<String> {
    let mut lines: Vec<String> = daemon
        .metrics()
        .lines()
        .filter(|l| l.starts_with("exsync_candle_quality_issues{"))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn klines_requests(sim: &Sim) -> u64 {
    sim.stats()["by_endpoint"]["GET /api/v3/klines"]
        .as_u64()
        .unwrap_or(0)
}

fn finding<'a>(report: &'a Value, check: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
}

#[test]
fn quality_reports_and_gauges_are_the_same_after_a_restart_without_a_sync() {
    let sim = Sim::binance(&[
        "--seed",
        "24",
        "--trades",
        "10",
        "--kline-faults",
        "gap,spike,ohlc,duplicate,zero-volume",
    ]);
    let setup = Setup::new();
    let dir = setup.config_dir().join("datasources.d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("faulty.toml"),
        format!(
            "exchange = \"binance\"\nbase_url = \"{}\"\nsymbols = [\"BTC/USDT\"]\n\
             timeframes = [\"1h\", \"4h\"]\ninterval = \"6h\"\nhistory_days = 6\n",
            sim.url
        ),
    )
    .unwrap();
    let mut daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait("data:faulty"));

    // The report the sync left, without checking again.
    let before = daemon.ctl(&["--json", "data", "validate", "--last"]);
    assert_eq!(before.code, 1, "issues found: exit 1\n{}", before.stderr);
    let before = before.json();
    let series = before["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{before}");
    let hourly = series
        .iter()
        .find(|q| q["series"]["timeframe"] == "1h")
        .unwrap();
    for check in [
        "gap",
        "duplicate",
        "ohlc_high",
        "spike_inside",
        "zero_volume",
    ] {
        assert!(finding(hourly, check).is_some(), "{check}: {hourly}");
    }
    let duplicates = finding(hourly, "duplicate").unwrap()["count"].clone();
    let gauges = quality_gauges(&daemon);
    assert!(
        gauges.iter().any(|l| l.contains("severity=\"error\"")
            && l.contains("timeframe=\"1h\"")
            && !l.ends_with(" 0")),
        "{gauges:?}"
    );

    daemon.terminate();
    sim.reset_stats();
    let daemon = Daemon::start(&setup);

    // Straight after the start: the same gauges, and the same report, without a new sync.
    assert_eq!(quality_gauges(&daemon), gauges);
    let after = daemon.ctl(&["--json", "data", "validate", "--last"]);
    assert_eq!(after.code, 1, "{}", after.stderr);
    assert_eq!(after.json(), before);
    assert!(daemon.log().contains("Candle quality reports restored."));
    // One series, by its exchange's own symbol.
    let one = daemon
        .ctl(&[
            "--json",
            "data",
            "validate",
            "--last",
            "BTCUSDT",
            "--timeframe",
            "4h",
        ])
        .json();
    assert_eq!(one["series"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["series"][0]["series"]["timeframe"], "4h");
    // A fresh check still counts the duplicates only ingestion saw, before the restart.
    let fresh = daemon
        .ctl(&[
            "--json",
            "data",
            "validate",
            "BTC/USDT",
            "--timeframe",
            "1h",
        ])
        .json();
    assert_eq!(
        finding(&fresh["series"][0], "duplicate").unwrap()["count"],
        duplicates,
        "{fresh}"
    );
    assert_eq!(klines_requests(&sim), 0, "no sync ran: {}", sim.stats());

    // `--last` cannot take a threshold (it shows what was checked); a series never checked
    // is named.
    let both = daemon.ctl(&["data", "validate", "--last", "--spike-threshold", "0.5"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    let none = daemon.ctl(&["data", "validate", "--last", "DOGE/USDT"]);
    assert_eq!(none.code, 1, "{}", none.stderr);
    assert!(
        none.stderr.contains("no kept quality report for DOGE/USDT"),
        "{}",
        none.stderr
    );
}

/// How far back the klines requests went: the earliest `startTime` the simulator saw.
fn earliest_klines_start(sim: &Sim) -> i64 {
    sim.stats()["earliest_start"]["GET /api/v3/klines BTCUSDT"]
        .as_i64()
        .unwrap_or_else(|| panic!("no klines request with a startTime: {}", sim.stats()))
}

fn integration_toml(sim: &Sim, candles_extra: &str) -> String {
    binance_integration_with(
        &sim.url,
        &days_ago(20),
        false,
        &format!(
            "[streams]\ndeposits = \"6h\"\n[candles]\nsymbols = [\"BTC/USDT\"]\n\
             timeframes = [\"1h\"]\ninterval = \"6h\"\n{candles_extra}"
        ),
    )
}

#[test]
fn candles_history_days_bounds_the_backfill_and_a_reload_deepens_it() {
    let sim = Sim::binance(&["--seed", "25", "--trades", "10"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration("main", &integration_toml(&sim, "history_days = 3\n"));
    let daemon = Daemon::start(&setup);
    let shown = daemon.ctl(&["integrations", "main"]);
    assert!(
        shown.stdout.contains("history (candles): 3 days back"),
        "{}",
        shown.stdout
    );

    let asked = now_ms();
    assert_all_ok(&daemon.sync_wait("main"));
    // The candles walked back 3 days, not to the integration's start 20 days ago...
    let earliest = earliest_klines_start(&sim);
    let depth = asked - 3 * DAY_MS;
    assert!(
        (depth - 600_000..=depth + 600_000).contains(&earliest),
        "klines from {earliest}, history_days points at {depth}"
    );
    let candles = daemon.records("main", "candle");
    let first = candles
        .iter()
        .map(|c| c["open_time"].as_i64().unwrap())
        .min()
        .unwrap();
    assert!(first >= depth - 3_600_000 - 600_000, "first candle {first}");
    // Coverage names the candles' own start.
    let coverage = daemon.ctl_json(&["coverage", "main"]);
    let candles_from = coverage["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"] == "candles")
        .and_then(|s| s["start_ms"].as_i64())
        .unwrap_or_else(|| panic!("{coverage}"));
    assert!(
        (depth - 600_000..=depth + 600_000).contains(&candles_from),
        "{coverage}"
    );
    // `data info` tells the candle still open from the last final one.
    let info = daemon.ctl_json(&["data", "info", "BTC/USDT", "--timeframe", "1h"]);
    let last = info["series"]["last_ms"].as_i64().unwrap();
    assert_eq!(info["series"]["last_open"], true, "{info}");
    assert_eq!(info["open_ms"], last, "{info}");
    assert_eq!(info["last_final_ms"], last - 3_600_000, "{info}");
    assert_eq!(info["open_overdue"], false, "{info}");
    let text = daemon.ctl(&["data", "info", "BTC/USDT", "--timeframe", "1h"]);
    assert!(
        text.stdout.contains("(still open: not final)") && text.stdout.contains("last final"),
        "{}",
        text.stdout
    );
    // ...while the other streams still go back to the start.
    let deposits_from = sim.stats()["earliest_start"]["GET /sapi/v1/capital/deposit/hisrec"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", sim.stats()));
    assert!(
        deposits_from < asked - 19 * DAY_MS,
        "deposits from {deposits_from}"
    );

    // Deeper on reload: the candles walk again from the new start, and merge.
    setup.integration("main", &integration_toml(&sim, "history_days = 5\n"));
    let reloaded = daemon.reload_wait();
    assert_eq!(reloaded.code, 0, "{}{}", reloaded.stdout, reloaded.stderr);
    wait_for("the new history to show", || {
        let shown = daemon.ctl(&["integrations", "main"]);
        shown
            .stdout
            .contains("history (candles): 5 days back")
            .then_some(())
    });
    sim.reset_stats();
    let asked = now_ms();
    assert_all_ok(&daemon.sync_wait("main"));
    let earliest = earliest_klines_start(&sim);
    let depth = asked - 5 * DAY_MS;
    assert!(
        (depth - 600_000..=depth + 600_000).contains(&earliest),
        "klines from {earliest} after the reload, history_days points at {depth}"
    );
    let candles = daemon.records("main", "candle");
    let mut times: Vec<i64> = candles
        .iter()
        .map(|c| c["open_time"].as_i64().unwrap())
        .collect();
    let n = times.len();
    times.sort_unstable();
    times.dedup();
    assert_eq!(times.len(), n, "one candle per open time");
    assert!(times[0] <= depth + 3_600_000, "first candle {}", times[0]);
    assert!(daemon.log().contains("Candles go back further now"));

    // A caught-up walk stays caught up: the next sync asks from the open candle only.
    sim.reset_stats();
    assert_all_ok(&daemon.sync_wait("main"));
    assert!(klines_requests(&sim) <= 2, "{}", sim.stats());

    // A bad value is refused with the file, the key and what is allowed; the running
    // configuration stays.
    setup.integration("main", &integration_toml(&sim, "history_days = 0\n"));
    let refused = daemon.reload_wait();
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(
        said.contains("main.toml")
            && said.contains(
                "[candles] history_days = 0: allowed is a whole number of days from 1 to 36500"
            ),
        "{said}"
    );
    let offline = exsync_e2e::daemon::ctl(
        &setup.socket(),
        &["validate", setup.config_dir().to_str().unwrap()],
    );
    assert_eq!(offline.code, 1, "{}{}", offline.stdout, offline.stderr);
    assert!(
        format!("{}{}", offline.stdout, offline.stderr).contains("history_days = 0: allowed"),
        "{}{}",
        offline.stdout,
        offline.stderr
    );
}
