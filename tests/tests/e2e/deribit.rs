//! The Deribit connector end to end: the real `exsyncd`, the real
//! `libexsync_plugin_deribit.so`, `exsync-sim deribit` on loopback.
//!
//! The simulator's data ends now (its recent-history rules need a today), so every test
//! computes its integration's `start` from today's date. Deribit writes amounts as JSON
//! numbers; stored amounts are decimal strings, so fields are compared as numbers.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "deribit-main";
const DAY_MS: i64 = 86_400_000;
const WRONG_SECRET: &str = "e2eWRONGderibitSECRETq1w2e3r4t5y6u7i8o9p0AaSsDd";

const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

const CANDLES: &str = r#"[candles]
symbols = ["BTC/USDT", "BTC-PERPETUAL"]
timeframes = ["1h", "1d"]
interval = "1h"
"#;

// ---------------------------------------------------------------------------------------
// Helpers.

/// Starts `exsync-sim deribit` with the test credentials and `args`.
fn deribit_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    all.extend_from_slice(args);
    Sim::start("deribit", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

fn setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_deribit.so");
    setup.env("E2E_DERIBIT_ID", API_KEY);
    setup.env("E2E_DERIBIT_SECRET", secret);
    setup.integration(INTEGRATION, &integration(&sim.url, start, budget, extra));
    setup
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "deribit"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_DERIBIT_ID"
api_secret = "env:E2E_DERIBIT_SECRET"
{extra}"#
    )
}

/// A stored decimal string and the exchange's JSON number are the same number.
fn same_number(stored: &Value, raw: &Value) -> bool {
    let s: f64 = text(stored).parse().unwrap_or(f64::NAN);
    let r: f64 = text(raw).parse().unwrap_or(f64::NAN);
    s == r
}

/// Asserts that the stored records of `kind` are exactly `truth` (`(id, raw)`), with the
/// `numbers` (stored field, raw field) equal as numbers and the `texts` equal as text.
fn compare(
    daemon: &Daemon,
    kind: &str,
    truth: &[(String, Value)],
    numbers: &[(&str, &str)],
    texts: &[(&str, &str)],
) {
    let truth: Vec<(String, &Value)> = truth.iter().map(|(id, raw)| (id.clone(), raw)).collect();
    assert_kind_exactly(daemon, INTEGRATION, kind, &truth, |id, rec, raw| {
        for (field, raw_field) in numbers {
            assert!(
                same_number(&rec[*field], &raw[*raw_field]),
                "{kind} {id}: {field} {} differs from raw {raw_field} {}",
                rec[*field],
                raw[*raw_field]
            );
            assert!(rec[*field].is_string(), "{kind} {id}: {field} is a string");
        }
        for (field, raw_field) in texts {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
    });
}

fn list(truth: &Value, key: &str) -> Vec<Value> {
    truth[key].as_array().unwrap().clone()
}

/// Asserts that the integration holds exactly the simulator's account, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let trades: Vec<(String, Value)> = list(truth, "trades")
        .into_iter()
        .map(|t| (text(&t["trade_id"]), t))
        .collect();
    assert!(!trades.is_empty());
    compare(
        daemon,
        "trade",
        &trades,
        &[
            ("price", "price"),
            ("amount", "amount"),
            ("fee_amount", "fee"),
        ],
        &[
            ("symbol", "instrument_name"),
            ("order_id", "order_id"),
            ("fee_asset_native", "fee_currency"),
            ("timestamp", "timestamp"),
            ("side", "direction"),
        ],
    );
    let orders: Vec<(String, Value)> = list(truth, "orders")
        .into_iter()
        .map(|o| (text(&o["order_id"]), o))
        .collect();
    compare(
        daemon,
        "order",
        &orders,
        &[("amount", "amount"), ("filled", "filled_amount")],
        &[
            ("symbol", "instrument_name"),
            ("timestamp", "creation_timestamp"),
            ("updated", "last_update_timestamp"),
        ],
    );
    let log: Vec<(String, Value)> = list(truth, "transaction_log")
        .into_iter()
        .map(|l| (text(&l["id"]), l))
        .collect();
    compare(
        daemon,
        "ledger",
        &log,
        &[("amount", "change"), ("balance_after", "balance")],
        &[
            ("asset_native", "currency"),
            ("timestamp", "timestamp"),
            ("type", "type"),
        ],
    );
    let deposits: Vec<(String, Value)> = list(truth, "deposits")
        .into_iter()
        .map(|d| {
            (
                format!("{}:{}", text(&d["currency"]), text(&d["transaction_id"])),
                d,
            )
        })
        .collect();
    compare(
        daemon,
        "deposit",
        &deposits,
        &[("amount", "amount")],
        &[
            ("asset_native", "currency"),
            ("timestamp", "received_timestamp"),
            ("txid", "transaction_id"),
        ],
    );
    let withdrawals: Vec<(String, Value)> = list(truth, "withdrawals")
        .into_iter()
        .map(|w| (format!("{}:{}", text(&w["currency"]), text(&w["id"])), w))
        .collect();
    compare(
        daemon,
        "withdrawal",
        &withdrawals,
        &[("amount", "amount"), ("fee_amount", "fee")],
        &[
            ("asset_native", "currency"),
            ("timestamp", "created_timestamp"),
        ],
    );

    // Balances: one margin balance per currency, one per open position.
    let stored: BTreeMap<String, Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .map(|b| {
            (
                format!("{}:{}", text(&b["wallet"]), text(&b["asset_native"])),
                b,
            )
        })
        .collect();
    let summaries = truth["account"]["summaries"].as_array().unwrap();
    let positions = truth["positions"].as_array().unwrap();
    assert!(!positions.is_empty());
    assert_eq!(
        stored.len(),
        summaries.len() + positions.len(),
        "balances: {stored:?}"
    );
    for s in summaries {
        let key = format!("margin:{}", text(&s["currency"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], s, "{key} raw");
        assert!(same_number(&rec["total"], &s["balance"]), "{key} total");
        assert!(
            same_number(&rec["free"], &s["available_withdrawal_funds"]),
            "{key} free"
        );
    }
    for p in positions {
        let wallet = if p["kind"] == "option" {
            "options"
        } else {
            "futures"
        };
        let key = format!("{wallet}:{}", text(&p["instrument_name"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], p, "{key} raw");
        assert!(same_number(&rec["total"], &p["size"]), "{key} size");
    }
}

/// Every closed candle of `instrument` in `resolution` from `start_ms` is stored, exactly.
fn assert_candles_exactly(
    daemon: &Daemon,
    sim: &Sim,
    instrument: &str,
    start_ms: i64,
    timeframe: &str,
    resolution: &str,
) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/candles?instrument={instrument}&resolution={resolution}&start={start_ms}",
        sim.url
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let truth = r.json();
    let truth = truth.as_array().unwrap();
    assert!(!truth.is_empty());
    let stored: BTreeMap<String, Value> = daemon
        .records(INTEGRATION, "candle")
        .into_iter()
        .filter(|c| c["timeframe"] == timeframe && c["symbol"] == instrument)
        .map(|c| (text(&c["open_time"]), c))
        .collect();
    for row in truth {
        let open = text(&row[0]);
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {instrument} {timeframe} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {instrument} {timeframe} {open}");
        assert_eq!(rec["final"], true, "candle {instrument} {timeframe} {open}");
        assert!(same_number(&rec["close"], &row[4]));
        assert!(same_number(&rec["volume"], &row[5]));
        assert_eq!(rec["base"], "BTC");
    }
    // Besides the closed ones, at most the candle still open.
    assert!(
        stored.len() == truth.len() || stored.len() == truth.len() + 1,
        "{instrument} {timeframe}: stored {} candles, {} closed",
        stored.len(),
        truth.len()
    );
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth_within_the_credit_limit() {
    // Deribit's own credit pool (50,000, 500 a request, 10,000 a second) and the daemon's
    // budget from the manifest: the whole sync passes without a single 429.
    let sim = deribit_sim(&["--seed", "61"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = setup(&sim, API_SECRET, &days_ago(130), true, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    let start = start_ms_of(130);
    assert_candles_exactly(&daemon, &sim, "BTC_USDT", start, "1h", "60");
    assert_candles_exactly(&daemon, &sim, "BTC_USDT", start, "1d", "1D");
    assert_candles_exactly(&daemon, &sim, "BTC-PERPETUAL", start, "1h", "60");

    // Orders still open come from the open-orders method and are stored as open.
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let truth_open = list(&truth, "orders")
        .iter()
        .filter(|o| o["order_state"] == "open")
        .count();
    assert!(truth_open > 0);
    assert_eq!(open, truth_open);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(stats["by_status"].get("429").is_none(), "{stats}");

    // `test` reports who the key belongs to, what it may do, and Deribit's clock.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let shown = test.to_string();
    assert!(
        shown.contains(truth["account"]["username"].as_str().unwrap()),
        "{test:#}"
    );
    assert!(shown.contains("wallet:read_write"), "{test:#}");
    assert_eq!(test["can_withdraw"], true, "{test:#}");

    assert_no_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &shown,
    ]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = deribit_sim(&["--seed", "62", "--trades", "600"]);
    // With the manifest's budget, so no request is repeated after a 429.
    let setup = setup(&sim, API_SECRET, &days_ago(130), true, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    for s in streams(&report) {
        if s["stream"] != "balances" {
            assert_eq!(
                s["records"], 0,
                "a sync with nothing new stored something: {s}"
            );
        }
    }
    let stats = sim.stats();
    for (key, count) in stats["by_method_currency"].as_object().unwrap() {
        // Trades and the order history are read twice: the history, then the recent ones
        // Deribit keeps apart.
        let allowed = if key.starts_with("private/get_user_trades")
            || key.starts_with("private/get_order_history")
        {
            2
        } else {
            1
        };
        assert!(
            count.as_u64().unwrap() <= allowed,
            "{key} was requested {count} times in a sync with nothing new: {stats}"
        );
    }

    // New fills arrive (too new for the history): the next sync picks them up from the
    // recent trades.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let trades = streams(&report)
        .iter()
        .filter(|s| s["stream"] == "trades")
        .map(|s| s["records"].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(trades, 7, "{report}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = deribit_sim(&["--seed", "63", "--trades", "50"]);
    let setup = setup(&sim, WRONG_SECRET, &days_ago(20), false, STREAMS);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("13009"),
            "{s}"
        );
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn stale_timestamp_is_followed_by_default_and_a_clock_error_with_adjust_clock_off() {
    // The integration that opts out (`adjust_clock = false`) fails `clock`; the default
    // follows the exchange's clock (issue 9).
    // Deribit's clock runs two minutes ahead: every timestamp we sign is out of range.
    let sim = deribit_sim(&[
        "--seed",
        "64",
        "--trades",
        "50",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = setup(
        &sim,
        API_SECRET,
        &days_ago(20),
        false,
        &format!("{STREAMS}[options]\nadjust_clock = false\n"),
    );
    setup.integration(
        "deribit-adjusted",
        &integration(&sim.url, &days_ago(20), false, STREAMS),
    );
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "clock", "{s}");
        let message = s["error"]["message"].as_str().unwrap();
        assert!(message.contains("adjust_clock"), "{s}");
        assert!(message.contains("behind"), "{s}");
    }

    let report = daemon.sync_wait("deribit-adjusted");
    assert_all_ok(&report);
    let trades = daemon.records("deribit-adjusted", "trade");
    let since = start_ms_of(20);
    let expected = list(&sim.truth(), "trades")
        .iter()
        .filter(|t| t["timestamp"].as_i64().unwrap() >= since)
        .count();
    assert_eq!(trades.len(), expected);
}

#[test]
fn an_empty_credit_pool_is_waited_out_and_the_sync_finishes() {
    // A pool of four requests refilling four a second: far below what the manifest allows,
    // so only the answers' 429s slow the daemon down.
    let sim = deribit_sim(&[
        "--seed",
        "65",
        "--trades",
        "100",
        "--history-days",
        "10",
        "--max-credits",
        "2000",
        "--refill-per-second",
        "2000",
    ]);
    let setup = setup(&sim, API_SECRET, &days_ago(12), true, STREAMS);
    let daemon = Daemon::start(&setup);

    let mut report = daemon.sync_wait(INTEGRATION);
    // A stream whose retries ran out is rate limited; the next sync finishes it.
    for _ in 0..3 {
        if streams(&report).iter().all(|s| s["result"] == "ok") {
            break;
        }
        for s in streams(&report) {
            if s["result"] != "ok" {
                assert_eq!(s["error"]["kind"], "rate_limited", "{s}");
            }
        }
        report = daemon.sync_wait(INTEGRATION);
    }
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_error_code"]["10028"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn server_errors_are_retried_and_a_malformed_answer_is_a_bad_response() {
    // One answer in five is a 5xx: the host retries them, the sync finishes.
    let sim = deribit_sim(&[
        "--seed",
        "66",
        "--trades",
        "120",
        "--history-days",
        "10",
        "--error-rate",
        "0.2",
    ]);
    let setup = setup(&sim, API_SECRET, &days_ago(12), false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let stats = sim.stats();
    let errors: u64 = ["500", "502", "503"]
        .iter()
        .map(|s| stats["by_status"][*s].as_u64().unwrap_or(0))
        .sum();
    assert!(errors > 0, "no server error was injected: {stats}");

    // Every answer cut short: each stream fails with `bad_response`, nothing is stored wrong.
    sim.set_faults(serde_json::json!({"error_rate": 0.0, "malformed_rate": 1.0}));
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        let message = s["error"]["message"].as_str().unwrap();
        assert!(message.contains("JSON-RPC envelope"), "{s}");
    }

    // Healed: the next sync completes the account exactly.
    sim.set_faults(serde_json::json!({"malformed_rate": 0.0}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn a_distant_start_is_covered_to_now_without_gaps_and_nothing_is_unavailable() {
    // Deribit keeps its whole history: three years of month windows per currency, all synced.
    let sim = deribit_sim(&["--seed", "67", "--trades", "80", "--history-days", "30"]);
    let streams = "[streams]\nledger = \"1h\"\ntrades = \"1h\"\ndeposits = \"1h\"\n";
    // With the manifest's budget: hundreds of requests, not one 429.
    let setup = setup(&sim, API_SECRET, &days_ago(3 * 365), true, streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let start = start_ms_of(3 * 365);
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    for name in ["ledger", "trades", "deposits"] {
        let stream = coverage["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == name)
            .unwrap_or_else(|| panic!("no {name} coverage: {coverage:#}"));
        let partitions = stream["partitions"].as_array().unwrap();
        assert_eq!(partitions.len(), 4, "one per currency: {stream:#}");
        for partition in partitions {
            let unavailable = partition["unavailable"].as_array().unwrap();
            assert!(unavailable.is_empty(), "{partition:#}");
            let mut synced: Vec<(i64, i64)> = partition["synced"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["from_ms"].as_i64().unwrap(), r["to_ms"].as_i64().unwrap()))
                .collect();
            synced.sort_unstable();
            assert_eq!(synced[0].0, start, "{name}: {partition:#}");
            for w in synced.windows(2) {
                assert!(w[1].0 <= w[0].1, "a gap in {name} coverage: {partition:#}");
            }
            assert!(
                synced.last().unwrap().1 > now_ms() - DAY_MS,
                "{partition:#}"
            );
        }
    }
    let stats = sim.stats();
    assert_eq!(
        stats["by_status"].as_object().unwrap().len(),
        1,
        "only 200s: {stats}"
    );
}

#[test]
fn a_key_without_wallet_read_is_a_permission_error_on_transfers_only() {
    let sim = deribit_sim(&[
        "--seed",
        "68",
        "--trades",
        "60",
        "--history-days",
        "10",
        "--can-read-wallet",
        "false",
    ]);
    let setup = setup(&sim, API_SECRET, &days_ago(12), true, STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        if s["stream"] == "deposits" || s["stream"] == "withdrawals" {
            assert_eq!(s["result"], "failed", "{s}");
            assert_eq!(s["error"]["kind"], "permission", "{s}");
            let message = s["error"]["message"].as_str().unwrap();
            assert!(message.contains("13021"), "{s}");
            assert!(message.contains("wallet:read"), "{s}");
        } else {
            assert_eq!(s["result"], "ok", "{s}");
        }
    }
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    assert!(test.to_string().contains("wallet:none"), "{test:#}");
    assert_eq!(test["can_withdraw"], false, "{test:#}");
    assert!(daemon.records(INTEGRATION, "deposit").is_empty());
    assert!(!daemon.records(INTEGRATION, "ledger").is_empty());
}

#[test]
fn kill_9_in_the_middle_of_the_transaction_log_then_restart_completes_exactly() {
    // One transaction-log request a second keeps the ledger walk going long enough to be
    // killed in the middle of it.
    let sim = deribit_sim(&["--seed", "69", "--trades", "2400"]);
    let streams = "[streams]\nledger = \"1h\"\n";
    let setup = setup(&sim, API_SECRET, &days_ago(130), true, streams);
    let mut daemon = Daemon::start(&setup);
    let started = daemon.ctl(&["sync", INTEGRATION]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let at_kill = exsync_e2e::daemon::wait_for("some ledger entries to be stored", || {
        let n = daemon.records(INTEGRATION, "ledger").len();
        (n >= 300).then_some(n)
    });
    daemon.kill9();
    let all = list(&sim.truth(), "transaction_log").len();
    assert!(
        at_kill < all,
        "the sync ended before the kill ({at_kill} of {all} entries)"
    );

    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let log: Vec<(String, Value)> = list(&sim.truth(), "transaction_log")
        .into_iter()
        .map(|l| (text(&l["id"]), l))
        .collect();
    compare(
        &daemon,
        "ledger",
        &log,
        &[("amount", "change"), ("balance_after", "balance")],
        &[("timestamp", "timestamp")],
    );
    assert_eq!(sim.stats()["by_status"].get("429"), None, "{}", sim.stats());
}

#[test]
fn a_pending_transfer_settling_later_is_updated_by_the_next_sync() {
    let sim = deribit_sim(&["--seed", "70", "--trades", "100", "--deposits", "80"]);
    let streams = "[streams]\ndeposits = \"1h\"\nwithdrawals = \"1h\"\n";
    let setup = setup(&sim, API_SECRET, &days_ago(130), true, streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let pending = |kind: &str| {
        daemon
            .records(INTEGRATION, kind)
            .into_iter()
            .filter(|r| r["status"] == "pending")
            .count()
    };
    let (deposits, withdrawals) = (pending("deposit"), pending("withdrawal"));
    assert!(
        deposits + withdrawals > 0,
        "the data set has a pending transfer"
    );

    let r = exsync_e2e::http::post(&format!("{}/__sim/settle", sim.url), "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_eq!((pending("deposit"), pending("withdrawal")), (0, 0));
    let truth = sim.truth();
    let stored = exsync_e2e::truth::stored_by_id(&daemon, INTEGRATION, "deposit");
    for d in list(&truth, "deposits") {
        let id = format!("{}:{}", text(&d["currency"]), text(&d["transaction_id"]));
        assert_eq!(stored[&id]["raw"], d, "deposit {id}");
    }
    let stored = exsync_e2e::truth::stored_by_id(&daemon, INTEGRATION, "withdrawal");
    for w in list(&truth, "withdrawals") {
        let id = format!("{}:{}", text(&w["currency"]), text(&w["id"]));
        assert_eq!(stored[&id]["raw"], w, "withdrawal {id}");
    }
}
