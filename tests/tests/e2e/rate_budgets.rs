//! Rate budgets shared by integrations: many integrations on one key never make the exchange
//! answer 429, two keys of a per-key bucket do not wait for each other, and an exchange that
//! says what its window has left steers the budget (KuCoin, Gate.io, BitMEX).
//!
//! The failure story: every integration had a budget of its own, sized from the manifest, so
//! six integrations on one Binance key spent six times the key's weight and met 429s, then a
//! 418 ban for the whole address.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{binance_integration_with, Daemon, Setup, ALL_STREAMS};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::text;
use exsync_e2e::truth::{assert_kind_exactly, assert_stored_exactly};
use serde_json::Value;

/// The simulator's window for every Binance bucket: short, so a test spends a few of them.
const WINDOW_MS: u64 = 2000;

/// `[rate_limits]` tables that size the daemon's Binance budgets like the simulator's.
fn binance_budgets(ip: u64, sapi_uid: u64) -> String {
    let window = format!("{}ms", WINDOW_MS);
    format!(
        r#"[rate_limits.ip]
capacity = {ip}
window = "{window}"
[rate_limits.sapi]
capacity = 12000
window = "{window}"
[rate_limits.sapi_uid]
capacity = {sapi_uid}
window = "{window}"
"#
    )
}

/// Lets every integration sync at once.
fn concurrent_syncs(setup: &Setup, n: usize) {
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        format!("max_concurrent_syncs = {n}\n"),
    )
    .unwrap();
}

/// `exsyncctl sync NAME --wait` for every name at the same time; the reports by name.
fn sync_all_at_once(daemon: &Daemon, names: &[String]) -> BTreeMap<String, Value> {
    std::thread::scope(|s| {
        let running: Vec<_> = names
            .iter()
            .map(|name| s.spawn(move || (name.clone(), daemon.sync_wait(name))))
            .collect();
        running.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn assert_all_ok(reports: &BTreeMap<String, Value>) {
    for (name, report) in reports {
        let streams = report["streams"].as_array().expect("streams");
        assert!(!streams.is_empty(), "{name}: {report}");
        for s in streams {
            assert_eq!(s["result"], "ok", "{name}: {s}");
        }
    }
}

/// The most any one window of `series` (window start to weight) held.
/// The simulator answered no 429 in more than `requests` requests: enough for the exchange's
/// limits to have been reached without the budget.
fn assert_no_429_in_more_than(sim: &Sim, requests: u64) {
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    let total = stats["requests_total"].as_u64().unwrap();
    assert!(
        total > requests,
        "too few requests to reach the limits: {stats}"
    );
}

fn peak(series: &Value) -> u64 {
    series
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).max().unwrap_or(0))
        .unwrap_or(0)
}

#[test]
fn six_integrations_on_one_binance_key_never_meet_a_429() {
    const LIMIT: u64 = 600;
    let sim = Sim::binance(&[
        "--seed",
        "91",
        "--trades",
        "400",
        "--weight-limit",
        &LIMIT.to_string(),
        "--weight-window-ms",
        &WINDOW_MS.to_string(),
        "--history-start",
        "2025-09-01",
    ]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    concurrent_syncs(&setup, 8);
    let names: Vec<String> = (1..=6).map(|i| format!("binance-{i}")).collect();
    let extra = format!("{ALL_STREAMS}{}", binance_budgets(LIMIT, 180_000));
    for name in &names {
        setup.integration(
            name,
            &binance_integration_with(&sim.url, "2025-09-01", true, &extra),
        );
    }
    let daemon = Daemon::start(&setup);

    let reports = sync_all_at_once(&daemon, &names);
    assert_all_ok(&reports);
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    assert!(stats["by_status"].get("418").is_none(), "{stats}");
    // The budget was the bottleneck: some window ran close to the limit, none above it.
    let peak = peak(&stats["weight_by_window"]);
    assert!(
        peak * 10 >= LIMIT * 8 && peak <= LIMIT,
        "peak weight {peak} of {LIMIT}: {stats}"
    );
    let truth = sim.truth();
    for name in &names {
        assert_stored_exactly(&daemon, name, &truth);
    }
}

#[test]
fn two_keys_of_a_per_key_bucket_do_not_share_it() {
    // Binance counts withdraw-history weight (18000 a request) per account: two requests a
    // window for each key.
    const UID_LIMIT: u64 = 36_000;
    let (other_key, other_secret) = (
        "e2eOTHERkey7Fh2Jk4Lm6Np8Qr0St2Uv4Wx6Yz8Ab0Cd2Ef4",
        "e2eOTHERsecret3Gh5Jk7Lm9Np1Qr3St5Uv7Wx9Yz1Ab3Cd5",
    );
    let sim = Sim::binance(&[
        "--seed",
        "92",
        "--other-key",
        &format!("{other_key}:{other_secret}"),
        "--sapi-uid-weight-limit",
        &UID_LIMIT.to_string(),
        "--weight-window-ms",
        &WINDOW_MS.to_string(),
        "--history-start",
        "2025-06-01",
    ]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.env("E2E_OTHER_KEY", other_key);
    setup.env("E2E_OTHER_SECRET", other_secret);
    concurrent_syncs(&setup, 4);
    let streams = format!(
        "[streams]\nwithdrawals = \"1h\"\n{}",
        binance_budgets(6000, UID_LIMIT)
    );
    setup.integration(
        "binance-a",
        &binance_integration_with(&sim.url, "2025-06-01", true, &streams),
    );
    setup.integration(
        "binance-b",
        &binance_integration_with(&sim.url, "2025-06-01", true, &streams)
            .replace("E2E_BINANCE_KEY", "E2E_OTHER_KEY")
            .replace("E2E_BINANCE_SECRET", "E2E_OTHER_SECRET"),
    );
    let daemon = Daemon::start(&setup);

    let names = ["binance-a".to_owned(), "binance-b".to_owned()];
    let reports = sync_all_at_once(&daemon, &names);
    assert_all_ok(&reports);
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    let requests = stats["by_endpoint"]["GET /sapi/v1/capital/withdraw/history"]
        .as_u64()
        .unwrap_or(0);
    assert!(requests >= 8, "too few windows to tell: {stats}");
    // One shared budget would never let both keys spend in one window more than one key may.
    let peak = peak(&stats["sapi_uid_weight_by_window"]);
    assert!(
        peak > UID_LIMIT,
        "the keys waited for each other: at most {peak} UID weight in a window: {stats}"
    );
    let truth = sim.truth();
    let withdrawals: Vec<(String, &Value)> = truth["withdrawals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (text(&w["id"]), w))
        .collect();
    assert!(!withdrawals.is_empty());
    for name in &names {
        assert_kind_exactly(&daemon, name, "withdrawal", &withdrawals, |_, _, _| {});
    }
    // The key's digest names the budget; the key itself appears nowhere.
    let metrics = daemon.metrics();
    let log = daemon.log();
    for key in [API_KEY, other_key] {
        assert!(!metrics.contains(key) && !log.contains(key));
    }
}

#[test]
fn kucoin_remaining_header_steers_two_integrations_on_one_key_clear_of_429s() {
    // Pools far below KuCoin's, refilled every second: the manifest's budget (KuCoin-sized)
    // would overrun them; what each answer says is left keeps the daemon under them.
    let sim = crate::kucoin::start_sim(&[
        "--seed",
        "93",
        "--orders",
        "60",
        "--deposits",
        "20",
        "--withdrawals",
        "10",
        "--spot-quota",
        "60",
        "--management-quota",
        "100",
        "--public-quota",
        "30",
        "--quota-window-ms",
        "1000",
    ]);
    let setup = crate::kucoin::kucoin_setup(&sim, API_SECRET, crate::kucoin::PASSPHRASE, true);
    let second = std::fs::read_to_string(setup.integration_path(crate::kucoin::NAME)).unwrap();
    setup.integration("kucoin-second", &second);
    concurrent_syncs(&setup, 4);
    let daemon = Daemon::start(&setup);

    let names = [crate::kucoin::NAME.to_owned(), "kucoin-second".to_owned()];
    let reports = sync_all_at_once(&daemon, &names);
    for report in reports.values() {
        crate::kucoin::assert_all_ok(report);
    }
    assert_no_429_in_more_than(&sim, 120);
    crate::kucoin::assert_stored_exactly(&daemon, &sim);
}

/// Account streams of the Gate.io and BitMEX steering tests.
const ACCOUNT_STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

/// Two integrations of `exchange` on one key against `sim`, syncing at once, each with
/// `extra` (streams and `[rate_limits]`); both reports.
fn two_on_one_key(
    sim: &Sim,
    exchange: &str,
    plugin: &str,
    start: &str,
    extra: &str,
) -> (Daemon, BTreeMap<String, Value>) {
    let mut setup = Setup::new();
    setup.install_plugin(plugin);
    setup.env("E2E_STEER_KEY", API_KEY);
    setup.env("E2E_STEER_SECRET", API_SECRET);
    concurrent_syncs(&setup, 4);
    let names = [format!("{exchange}-1"), format!("{exchange}-2")];
    for name in &names {
        setup.integration(
            name,
            &format!(
                "exchange = \"{exchange}\"\nbase_url = \"{}\"\nstart = \"{start}\"\nbudget = true\n\
                 [credentials]\napi_key = \"env:E2E_STEER_KEY\"\napi_secret = \"env:E2E_STEER_SECRET\"\n\
                 {extra}",
                sim.url
            ),
        );
    }
    let daemon = Daemon::start(&setup);
    let reports = sync_all_at_once(&daemon, &names);
    (daemon, reports)
}

/// `[rate_limits]` giving each of `buckets` a budget far above the simulator's limit, in
/// its window: only what the answers say keeps the daemon under it.
fn generous_budgets(buckets: &[&str], capacity: u32, window: &str) -> String {
    buckets
        .iter()
        .map(|b| format!("[rate_limits.{b}]\ncapacity = {capacity}\nwindow = \"{window}\"\n"))
        .collect()
}

#[test]
fn gateio_usage_headers_steer_two_integrations_on_one_key_clear_of_429s() {
    // Three requests per endpoint a second, the daemon's budgets two hundred: each answer's
    // X-Gate-RateLimit-Requests-Remain, -Limit and -Reset-Timestamp keep it under Gate's.
    let start = exsync_e2e::dates::days_ago(12);
    let sim = Sim::start(
        "gateio",
        &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--seed",
            "94",
            "--trades",
            "300",
            "--history-days",
            "10",
            "--endpoint-limit",
            "3",
            "--limit-window-ms",
            "1000",
        ],
    );
    let budgets = generous_budgets(
        &["public", "spot", "wallet", "accounts", "futures"],
        200,
        "1s",
    );
    let (_daemon, reports) = two_on_one_key(
        &sim,
        "gateio",
        "libexsync_plugin_gateio.so",
        &start,
        &format!("{ACCOUNT_STREAMS}{budgets}"),
    );
    assert_all_ok(&reports);
    assert_no_429_in_more_than(&sim, 60);
}

#[test]
fn bitmex_usage_headers_steer_two_integrations_on_one_key_clear_of_429s() {
    // Six signed and four public requests per two seconds, the daemon's budgets 120 and 30:
    // each answer's x-ratelimit-remaining, -limit and -reset keep it under BitMEX's.
    let start = exsync_e2e::dates::days_ago(20);
    let sim = Sim::start(
        "bitmex",
        &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--seed",
            "95",
            "--trades",
            "200",
            "--history-days",
            "18",
            "--private-limit",
            "6",
            "--public-limit",
            "4",
            "--limit-window-ms",
            "2000",
        ],
    );
    let budgets = format!(
        "{}{}",
        generous_budgets(&["private"], 120, "2s"),
        generous_budgets(&["public"], 30, "2s")
    );
    let (_daemon, reports) = two_on_one_key(
        &sim,
        "bitmex",
        "libexsync_plugin_bitmex.so",
        &start,
        &format!("{ACCOUNT_STREAMS}{budgets}"),
    );
    assert_all_ok(&reports);
    assert_no_429_in_more_than(&sim, 30);
}
