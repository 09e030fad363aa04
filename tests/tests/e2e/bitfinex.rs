//! The Bitfinex connector end to end: the real `exsyncd`, the real
//! `libexsync_plugin_bitfinex.so`, `exsync-sim bitfinex` on loopback.
//!
//! Bitfinex keeps closed orders for two weeks only, so the simulator's data ends now and every
//! test computes its integration's `start` from today's date. Bitfinex's records are
//! positional arrays: the comparisons below name each place they read.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "bitfinex-main";
const DAY_MS: i64 = 86_400_000;
const WRONG_SECRET: &str = "e2eWRONGbitfinexSECRETq1w2e3r4t5y6u7i8o9p0AaSsDd";

const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

const CANDLES: &str = r#"[candles]
symbols = ["BTC/USD"]
timeframes = ["1h", "1d"]
interval = "1h"
"#;

// ---------------------------------------------------------------------------------------
// Helpers.

/// Starts `exsync-sim bitfinex` with the test credentials and `args`. The per-endpoint limit
/// is raised far above Bitfinex's unless `args` set it: only the rate-limit tests are about
/// pacing.
fn bitfinex_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    if !args.contains(&"--auth-per-minute") {
        all.extend([
            "--auth-per-minute",
            "100000",
            "--candles-per-minute",
            "100000",
        ]);
    }
    all.extend_from_slice(args);
    Sim::start("bitfinex", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

fn bitfinex_setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bitfinex.so");
    setup.env("E2E_BITFINEX_KEY", API_KEY);
    setup.env("E2E_BITFINEX_SECRET", secret);
    setup.integration(INTEGRATION, &integration(&sim.url, start, budget, extra));
    setup
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "bitfinex"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_BITFINEX_KEY"
api_secret = "env:E2E_BITFINEX_SECRET"
{extra}"#
    )
}

fn rows(truth: &Value, key: &str) -> Vec<Value> {
    truth[key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.{key}: {truth}"))
        .clone()
}

/// `(id, row)` of rows whose id is at place 0.
fn keyed(rows: Vec<Value>) -> Vec<(String, Value)> {
    rows.into_iter().map(|r| (text(&r[0]), r)).collect()
}

/// A stored decimal equals the JSON number Bitfinex sent (`negate`: the record keeps its
/// size or the fee paid, the array its signed value).
fn same_number(stored: &Value, sent: &Value, negate: bool) -> bool {
    let stored: f64 = text(stored).parse().unwrap();
    let sent = sent.as_f64().unwrap();
    let sent = if negate { -sent } else { sent };
    !text(&Value::from(stored)).contains('e') && stored == sent
}

/// Asserts that the stored records of `kind` are exactly `truth`, with `fields` (stored field,
/// array place, how) checked for each.
fn compare(
    daemon: &Daemon,
    kind: &str,
    truth: &[(String, Value)],
    check: impl Fn(&str, &Value, &Value),
) {
    let truth: Vec<(String, &Value)> = truth.iter().map(|(id, raw)| (id.clone(), raw)).collect();
    assert_kind_exactly(daemon, INTEGRATION, kind, &truth, |id, rec, raw| {
        check(id, rec, raw)
    });
}

/// Asserts that the integration holds exactly the simulator's account, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    // Trades: [ID, SYMBOL, MTS, ORDER_ID, EXEC_AMOUNT, EXEC_PRICE, _, _, MAKER, FEE, FEE_CURRENCY, _]
    let trades = keyed(rows(truth, "trades"));
    assert!(!trades.is_empty());
    compare(daemon, "trade", &trades, |id, rec, raw| {
        assert_eq!(rec["symbol"], raw[1], "trade {id}");
        assert_eq!(rec["timestamp"], raw[2], "trade {id}");
        assert_eq!(text(&rec["order_id"]), text(&raw[3]), "trade {id}");
        let sell = raw[4].as_f64().unwrap() < 0.0;
        assert_eq!(rec["side"], if sell { "sell" } else { "buy" }, "trade {id}");
        assert!(
            same_number(&rec["amount"], &raw[4], sell),
            "trade {id}: {rec}"
        );
        assert!(same_number(&rec["price"], &raw[5], false), "trade {id}");
        assert!(same_number(&rec["fee_amount"], &raw[9], true), "trade {id}");
        assert_eq!(rec["fee_asset_native"], raw[10], "trade {id}");
    });
    // Orders: closed ones still kept, and the open ones.
    // [ID, _, _, SYMBOL, MTS_CREATE, MTS_UPDATE, AMOUNT, AMOUNT_ORIG, …, ORDER_STATUS (13)]
    let mut orders = keyed(rows(truth, "orders"));
    orders.extend(keyed(rows(truth, "active_orders")));
    assert!(!orders.is_empty());
    compare(daemon, "order", &orders, |id, rec, raw| {
        assert_eq!(rec["symbol"], raw[3], "order {id}");
        assert_eq!(rec["timestamp"], raw[4], "order {id}");
        assert_eq!(rec["updated"], raw[5], "order {id}");
        let sell = raw[7].as_f64().unwrap() < 0.0;
        assert!(same_number(&rec["amount"], &raw[7], sell), "order {id}");
        let status = raw[13].as_str().unwrap();
        let expected = if status.starts_with("ACTIVE") || status.starts_with("PARTIALLY") {
            "open"
        } else if status.starts_with("EXECUTED") {
            "closed"
        } else {
            "canceled"
        };
        assert_eq!(rec["status"], expected, "order {id}: {status}");
    });
    // Movements: [ID, CURRENCY, CURRENCY_NAME, _, _, MTS_STARTED, …, STATUS (9), …, AMOUNT (12), FEES (13)]
    let movements = rows(truth, "movements");
    let (withdrawals, deposits): (Vec<Value>, Vec<Value>) = movements
        .into_iter()
        .partition(|m| m[12].as_f64().unwrap() < 0.0);
    assert!(!deposits.is_empty() && !withdrawals.is_empty());
    for (kind, list) in [("deposit", deposits), ("withdrawal", withdrawals)] {
        compare(daemon, kind, &keyed(list), |id, rec, raw| {
            assert_eq!(rec["asset_native"], raw[1], "{kind} {id}");
            assert_eq!(rec["network"], raw[2], "{kind} {id}");
            assert_eq!(rec["timestamp"], raw[5], "{kind} {id}");
            assert!(
                same_number(&rec["amount"], &raw[12], kind == "withdrawal"),
                "{kind} {id}"
            );
            if kind == "withdrawal" {
                assert!(
                    same_number(&rec["fee_amount"], &raw[13], true),
                    "{kind} {id}"
                );
            }
        });
    }
    // Ledger: [ID, CURRENCY, WALLET, MTS, _, AMOUNT, BALANCE, _, DESCRIPTION]
    compare(
        daemon,
        "ledger",
        &keyed(rows(truth, "ledgers")),
        |id, rec, raw| {
            assert_eq!(rec["asset_native"], raw[1], "ledger {id}");
            assert_eq!(rec["timestamp"], raw[3], "ledger {id}");
            assert!(same_number(&rec["amount"], &raw[5], false), "ledger {id}");
            assert!(
                same_number(&rec["balance_after"], &raw[6], false),
                "ledger {id}"
            );
        },
    );

    // Balances have no id: wallet and currency. [WALLET_TYPE, CURRENCY, BALANCE, _, AVAILABLE_BALANCE, …]
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
    let wallets = rows(truth, "wallets");
    assert_eq!(stored.len(), wallets.len(), "balances: {stored:?}");
    for w in wallets {
        let wallet = match w[0].as_str().unwrap() {
            "exchange" => "spot",
            other => other,
        };
        let key = format!("{wallet}:{}", text(&w[1]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(rec["raw"], w, "{key} raw");
        assert!(same_number(&rec["total"], &w[2], false), "{key} total");
        if !w[4].is_null() {
            assert!(same_number(&rec["free"], &w[4], false), "{key} free");
        }
    }
}

/// Every closed candle of tBTCUSD in `tf` from `start_ms` is stored, exactly.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim, start_ms: i64, timeframe: &str, tf: &str) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/candles?symbol=tBTCUSD&tf={tf}&start={start_ms}",
        sim.url
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let truth = r.json();
    let truth = truth.as_array().unwrap();
    assert!(!truth.is_empty());
    let stored: BTreeMap<String, Value> = daemon
        .records(INTEGRATION, "candle")
        .into_iter()
        .filter(|c| c["timeframe"] == timeframe)
        .map(|c| (text(&c["open_time"]), c))
        .collect();
    for row in truth {
        // [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]
        let open = text(&row[0]);
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {timeframe} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {timeframe} {open}");
        assert_eq!(rec["final"], true, "candle {timeframe} {open}");
        assert!(same_number(&rec["close"], &row[2], false));
        assert!(same_number(&rec["high"], &row[3], false));
        assert_eq!(rec["base"], "BTC");
    }
    assert!(
        stored.len() == truth.len() || stored.len() == truth.len() + 1,
        "{timeframe}: stored {} candles, {} closed",
        stored.len(),
        truth.len()
    );
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    // 7000 trades in 180 days: more than a page (2500) in every 90-day window.
    let sim = bitfinex_sim(&["--seed", "61", "--trades", "7000", "--can-withdraw", "true"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = bitfinex_setup(&sim, API_SECRET, &days_ago(200), false, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1h", "1h");
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1d", "1D");

    // Native codes are kept next to the market's.
    let usdt: Vec<Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .filter(|b| b["asset_native"] == "USTF0")
        .collect();
    assert_eq!(usdt.len(), 1);
    assert_eq!(
        (usdt[0]["asset"].as_str(), usdt[0]["wallet"].as_str()),
        (Some("USDT"), Some("margin"))
    );

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(
        stats["by_error_code"].get("10114").is_none(),
        "nonce refused: {stats}"
    );
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    assert!(
        stats["by_endpoint"]["POST /v2/auth/r/trades/hist"]
            .as_u64()
            .unwrap()
            >= 5,
        "the trades history paged: {stats}"
    );

    // `test` tells who the key belongs to and what it may do.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let shown = test.to_string();
    assert!(shown.contains(&text(&truth["user_id"])), "{test:#}");
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
    let sim = bitfinex_sim(&["--seed", "62", "--trades", "800"]);
    let setup = bitfinex_setup(&sim, API_SECRET, &days_ago(200), false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    for (endpoint, count) in stats["by_endpoint"].as_object().unwrap() {
        // Deposits and withdrawals both read the movements history.
        let allowed = if endpoint == "POST /v2/auth/r/movements/hist" {
            2
        } else {
            1
        };
        assert!(
            count.as_u64().unwrap() <= allowed,
            "{endpoint} was requested {count} times in a sync with nothing new: {stats}"
        );
    }

    // New fills arrive: the next sync picks them up with one request.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint"]["POST /v2/auth/r/trades/hist"], 1,
        "{stats}"
    );
    let trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap();
    assert!(trades["records"].as_u64().unwrap() >= 7, "{trades}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = bitfinex_sim(&["--seed", "63", "--trades", "50"]);
    let setup = bitfinex_setup(&sim, WRONG_SECRET, &days_ago(20), false, STREAMS);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("10100"),
            "{s}"
        );
    }
    let stats = sim.stats();
    // Refused once per call: an auth error (HTTP 500 on Bitfinex) is not retried.
    assert_eq!(
        stats["auth_failures"].as_u64().unwrap(),
        stats["requests_total"].as_u64().unwrap(),
        "{stats}"
    );
    assert!(stats["requests_total"].as_u64().unwrap() <= 12, "{stats}");
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn nonces_keep_growing_across_a_daemon_restart() {
    let sim = bitfinex_sim(&["--seed", "64", "--trades", "200"]);
    let setup = bitfinex_setup(&sim, API_SECRET, &days_ago(30), false, STREAMS);
    let mut daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    daemon.terminate();
    drop(daemon);

    // The simulator remembers the last nonce; a new daemon must go on above it.
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(stats["by_error_code"].get("10114").is_none(), "{stats}");
}

#[test]
fn the_manifest_budget_keeps_a_sync_under_bitfinex_limits() {
    // Bitfinex's own limits (90 calls a minute per endpoint, a minute's block past them) and
    // the daemon's budget from the manifest. History from 2013 on is some 55 windows per
    // stream; deposits and withdrawals both read the movements history, 110 calls: the
    // budget must hold the sync back for a minute, and no call is refused.
    let sim = bitfinex_sim(&[
        "--seed",
        "65",
        "--trades",
        "300",
        "--history-days",
        "60",
        "--auth-per-minute",
        "90",
    ]);
    let setup = bitfinex_setup(&sim, API_SECRET, "2013-01-01", true, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    assert!(
        stats["by_endpoint"]["POST /v2/auth/r/movements/hist"]
            .as_u64()
            .unwrap()
            > 90,
        "{stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn a_passed_rate_limit_is_waited_out_and_the_sync_finishes() {
    // Five calls a minute per endpoint, a block of a second past them, no budget in the
    // daemon: the trades walk (some 16 windows since 2023) runs into 429s and must wait
    // them out.
    let sim = bitfinex_sim(&[
        "--seed",
        "66",
        "--trades",
        "60",
        "--history-days",
        "20",
        "--auth-per-minute",
        "5",
        "--block-seconds",
        "1",
    ]);
    let streams_toml = "[streams]\ntrades = \"1h\"\nbalances = \"1h\"\n";
    let setup = bitfinex_setup(&sim, API_SECRET, "2023-01-01", false, streams_toml);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    let truth = sim.truth();
    let stored = daemon.records(INTEGRATION, "trade");
    assert_eq!(stored.len(), rows(&truth, "trades").len());
}

#[test]
fn orders_older_than_two_weeks_are_reported_unavailable() {
    let sim = bitfinex_sim(&["--seed", "67", "--trades", "20", "--history-days", "30"]);
    let setup = bitfinex_setup(
        &sim,
        API_SECRET,
        &days_ago(30),
        false,
        "[streams]\norders = \"1h\"\n",
    );
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    let stream = coverage["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"] == "orders")
        .unwrap_or_else(|| panic!("no orders coverage: {coverage:#}"));
    let partition = &stream["partitions"][0];
    let unavailable = partition["unavailable"].as_array().unwrap();
    assert_eq!(unavailable.len(), 1, "{partition:#}");
    assert_eq!(unavailable[0]["from_ms"], start_ms_of(30), "{partition:#}");
    let to = unavailable[0]["to_ms"].as_i64().unwrap();
    assert!(
        (to - (now_ms() - 14 * DAY_MS)).abs() < DAY_MS,
        "{partition:#}"
    );
}

#[test]
fn server_errors_are_retried_and_a_garbled_answer_is_a_bad_response() {
    let sim = bitfinex_sim(&["--seed", "68", "--trades", "300", "--history-days", "30"]);
    let setup = bitfinex_setup(&sim, API_SECRET, &days_ago(30), false, STREAMS);
    let daemon = Daemon::start(&setup);

    // A few 503s: each signed call is rebuilt with a new nonce and sent again.
    sim.set_faults(serde_json::json!({"fail_next": {"count": 3, "status": 503}}));
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(sim.stats()["by_status"]["503"], 3);
    assert_stored_exactly(&daemon, &sim.truth());

    // Every answer cut short: each stream fails `bad_response`, naming the endpoint.
    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("/v2/auth/r/")
                || s["error"]["message"].as_str().unwrap().contains("auth/r/"),
            "{s}"
        );
    }
    assert_no_secrets(&[&daemon.log(), &report.to_string()]);
}

#[test]
fn a_candle_symbol_bitfinex_does_not_list_is_a_config_error() {
    let sim = bitfinex_sim(&["--seed", "70", "--trades", "10", "--history-days", "20"]);
    let candles = "[candles]\nsymbols = [\"DOGE/EUR\"]\ntimeframes = [\"1h\"]\ninterval = \"1h\"\n";
    let setup = bitfinex_setup(&sim, API_SECRET, &days_ago(10), false, candles);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    let candles = streams(&report)
        .iter()
        .find(|s| s["stream"] == "candles")
        .unwrap_or_else(|| panic!("no candles stream: {report}"));
    assert_eq!(candles["result"], "failed", "{candles}");
    assert_eq!(candles["error"]["kind"], "config", "{candles}");
    assert!(
        candles["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tDOGE:EUR")
            || candles["error"]["message"]
                .as_str()
                .unwrap()
                .contains("tDOGEEUR"),
        "{candles}"
    );
}

#[test]
fn bitfinex_has_no_sandbox() {
    let sim = bitfinex_sim(&["--seed", "69", "--trades", "10", "--history-days", "20"]);
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bitfinex.so");
    setup.env("E2E_BITFINEX_KEY", API_KEY);
    setup.env("E2E_BITFINEX_SECRET", API_SECRET);
    let toml = integration(&sim.url, &days_ago(10), false, STREAMS)
        .replace("budget = false", "budget = false\nsandbox = true");
    setup.integration(INTEGRATION, &toml);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(
        test.stderr.contains("unsupported") && test.stderr.contains("sandbox"),
        "{}",
        test.stderr
    );
    assert_eq!(sim.stats()["requests_total"], 0);
}
