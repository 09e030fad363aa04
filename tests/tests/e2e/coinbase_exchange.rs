//! The Coinbase Exchange connector end to end: the real `exsyncd`, the real
//! `libexsync_plugin_coinbase_exchange.so`, `exsync-sim coinbase-exchange` on loopback.
//!
//! The simulator's history ends now, so every test computes its integration's `start` from
//! today's date.

use exsync_e2e::truth::{assert_kind_exactly, stored_by_id};
use exsync_e2e::{assert_all_ok, streams, text};
use std::collections::BTreeMap;

use exsync_e2e::assert_no_secrets;
use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::Sim;
use serde_json::Value;

const INTEGRATION: &str = "coinbase-exchange-main";
const DAY_MS: i64 = 86_400_000;
/// Coinbase Exchange opened on 2015-01-26.
const LAUNCH_MS: i64 = 1_422_230_400_000;

/// Distinctive credentials, so a leak is found by a plain search of every output. The
/// secret is base64, as Coinbase's are.
const API_KEY: &str = "e2eCBXkey7f3a9c1d5e8b2046";
const API_SECRET: &str =
    "ZTJlQ0JYc2VjcmV0LXE4WHYyTG1ONHBSN3NUMXVXM3laNWFCNmNEOWVGMGdIMmpLNGxNNm5QOA==";
const PASSPHRASE: &str = "e2eCBXpassphraseQ7w8E9r0";
const WRONG_SECRET: &str = "ZTJlQ0JYV1JPTkctc2VjcmV0LXoxeDJjM3Y0YjVuNm03";

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

/// Starts `exsync-sim coinbase-exchange` with the test credentials and `args`. The private
/// limit is raised far above Coinbase's unless `args` set it: only the rate-limit test is
/// about pacing.
fn cbx_sim(args: &[&str]) -> Sim {
    let mut all = vec![
        "--api-key",
        API_KEY,
        "--api-secret",
        API_SECRET,
        "--passphrase",
        PASSPHRASE,
    ];
    if !args.contains(&"--private-rate") {
        all.extend(["--private-rate", "10000", "--private-burst", "10000"]);
    }
    if !args.contains(&"--fills-rate") {
        all.extend(["--fills-rate", "10000", "--fills-burst", "10000"]);
    }
    all.extend(["--public-rate", "10000", "--public-burst", "10000"]);
    all.extend_from_slice(args);
    Sim::start("coinbase-exchange", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "coinbase-exchange"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_CBX_KEY"
api_secret = "env:E2E_CBX_SECRET"
passphrase = "env:E2E_CBX_PASSPHRASE"
{extra}"#
    )
}

/// An installation with the Coinbase Exchange plugin and one integration against `sim`.
fn cbx_setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_coinbase_exchange.so");
    setup.env("E2E_CBX_KEY", API_KEY);
    setup.env("E2E_CBX_SECRET", secret);
    setup.env("E2E_CBX_PASSPHRASE", PASSPHRASE);
    setup.integration(INTEGRATION, &integration(&sim.url, start, budget, extra));
    setup
}

fn stream<'a>(report: &'a Value, name: &str) -> &'a Value {
    streams(report)
        .iter()
        .find(|s| s["stream"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

/// No credential of the test profile in any of `outputs`.
fn assert_no_cbx_secrets(outputs: &[&str]) {
    assert_no_secrets(outputs);
    for out in outputs {
        for secret in [API_SECRET, PASSPHRASE, WRONG_SECRET] {
            assert!(!out.contains(secret), "a credential leaked:\n{out}");
        }
    }
}

/// Asserts that the stored records of `kind` are exactly `truth` (`(id, raw)`), with `fields`
/// (stored field, raw field) equal digit for digit.
fn compare(daemon: &Daemon, kind: &str, truth: &[(String, Value)], fields: &[(&str, &str)]) {
    assert!(!truth.is_empty(), "the sim has no {kind}");
    let truth: Vec<(String, &Value)> = truth.iter().map(|(id, raw)| (id.clone(), raw)).collect();
    assert_kind_exactly(daemon, INTEGRATION, kind, &truth, |id, rec, raw| {
        for (field, raw_field) in fields {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
    });
}

fn list(truth: &Value, key: &str) -> Vec<Value> {
    truth[key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.{key}"))
        .clone()
}

fn keyed(items: Vec<Value>, id: impl Fn(&Value) -> String) -> Vec<(String, Value)> {
    items.into_iter().map(|v| (id(&v), v)).collect()
}

/// Asserts that the integration holds exactly the simulator's profile, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let fills: Vec<Value> = truth["fills"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap().clone())
        .collect();
    compare(
        daemon,
        "trade",
        &keyed(fills, |f| {
            format!("{}:{}", text(&f["product_id"]), text(&f["trade_id"]))
        }),
        &[
            ("symbol", "product_id"),
            ("order_id", "order_id"),
            ("price", "price"),
            ("amount", "size"),
            ("fee_amount", "fee"),
            ("side", "side"),
        ],
    );
    compare(
        daemon,
        "order",
        &keyed(list(truth, "orders"), |o| text(&o["id"])),
        &[
            ("symbol", "product_id"),
            ("filled", "filled_size"),
            ("amount", "size"),
            ("price", "price"),
            ("cost", "executed_value"),
        ],
    );
    compare(
        daemon,
        "deposit",
        &keyed(list(truth, "deposits"), |t| text(&t["id"])),
        &[("amount", "amount"), ("asset_native", "currency")],
    );
    compare(
        daemon,
        "withdrawal",
        &keyed(list(truth, "withdrawals"), |t| text(&t["id"])),
        &[("amount", "amount"), ("asset_native", "currency")],
    );
    let ledger: Vec<(String, Value)> = truth["ledger"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(currency, rows)| {
            rows.as_array()
                .unwrap()
                .iter()
                .map(move |r| (currency.clone(), r.clone()))
        })
        .map(|(_, r)| (text(&r["id"]), r))
        .collect();
    compare(
        daemon,
        "ledger",
        &ledger,
        &[
            ("amount", "amount"),
            ("balance_after", "balance"),
            ("type", "type"),
        ],
    );
    // Ledger assets: each entry is stored under its account's currency.
    let stored = stored_by_id(daemon, INTEGRATION, "ledger");
    for (currency, rows) in truth["ledger"].as_object().unwrap() {
        for r in rows.as_array().unwrap() {
            assert_eq!(
                &stored[&text(&r["id"])]["asset_native"],
                currency,
                "ledger {}",
                r["id"]
            );
        }
    }

    // Balances: one per account, zero ones included.
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
    let accounts = list(truth, "accounts");
    assert_eq!(stored.len(), accounts.len(), "balances: {stored:?}");
    for a in &accounts {
        let key = format!("spot:{}", text(&a["currency"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], a, "{key} raw");
        assert_eq!(text(&rec["total"]), text(&a["balance"]), "{key} total");
        assert_eq!(text(&rec["free"]), text(&a["available"]), "{key} free");
        assert_eq!(text(&rec["locked"]), text(&a["hold"]), "{key} locked");
    }
}

/// Every final candle of BTC-USD at `granularity` since `start_ms` is stored, exactly.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim, start_ms: i64, timeframe: &str, g: i64) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/candles?product_id=BTC-USD&granularity={g}&start={start_ms}",
        sim.url
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let truth = r.json();
    let truth = truth.as_array().unwrap();
    assert!(!truth.is_empty());
    let stored: BTreeMap<i64, Value> = daemon
        .records(INTEGRATION, "candle")
        .into_iter()
        .filter(|c| c["timeframe"] == timeframe)
        .map(|c| (c["open_time"].as_i64().unwrap(), c))
        .collect();
    for row in truth {
        let open = row[0].as_i64().unwrap() * 1000;
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {timeframe} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {timeframe} {open}");
        assert_eq!(rec["final"], true, "candle {timeframe} {open}");
        // Rows are [time, low, high, open, close, volume].
        assert_eq!(text(&rec["low"]), text(&row[1]));
        assert_eq!(text(&rec["high"]), text(&row[2]));
        assert_eq!(text(&rec["open"]), text(&row[3]));
        assert_eq!(text(&rec["close"]), text(&row[4]));
        assert_eq!(rec["base"], "BTC");
        assert_eq!(rec["quote"], "USD");
    }
    // Besides the closed ones, at most the candle still open.
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
    let sim = cbx_sim(&["--seed", "61"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = cbx_setup(&sim, API_SECRET, &days_ago(200), false, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1h", 3600);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1d", 86_400);

    // An asset no product lists is stored as received, with its ledger.
    let odd: Vec<Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .filter(|b| b["asset_native"] == "XYZ1")
        .collect();
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!(odd[0]["asset"], "XYZ1");
    assert!(daemon
        .records(INTEGRATION, "ledger")
        .iter()
        .any(|l| l["asset_native"] == "XYZ1"));

    // Orders still open are stored as open; pending transfers as pending.
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let truth_open = list(&truth, "orders")
        .iter()
        .filter(|o| o["status"] == "open")
        .count();
    assert!(truth_open > 0);
    assert_eq!(open, truth_open);
    assert!(daemon
        .records(INTEGRATION, "withdrawal")
        .iter()
        .any(|w| w["status"] == "pending"));
    // Transfers between the user's profiles are deposits and withdrawals too.
    for (kind, word) in [
        ("deposit", "internal_deposit"),
        ("withdrawal", "internal_withdraw"),
    ] {
        assert!(
            daemon
                .records(INTEGRATION, kind)
                .iter()
                .any(|t| t["raw"]["type"] == word),
            "no {word} stored"
        );
    }

    // Fills were asked for the products whose two currencies the profile holds (the four it
    // traded, and USDC-USD), never for the whole market: not DOGE or LTC, held at zero.
    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    let fill_scopes: Vec<&String> = stats["by_endpoint_scope"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("GET /fills "))
        .collect();
    for traded in ["BTC-USD", "ETH-BTC", "ETH-USD", "SOL-USD"] {
        assert!(
            fill_scopes.contains(&&format!("GET /fills {traded}")),
            "{stats}"
        );
    }
    assert!(
        fill_scopes
            .iter()
            .all(|k| !k.contains("DOGE") && !k.contains("LTC")),
        "{stats}"
    );

    // `test` reports the profile the key belongs to.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let shown = test.to_string();
    assert!(shown.contains(&text(&truth["profile_id"])), "{test:#}");

    assert_no_cbx_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &shown,
    ]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = cbx_sim(&["--seed", "62", "--orders", "200"]);
    let setup = cbx_setup(&sim, API_SECRET, &days_ago(200), false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    // Fills and ledger entries never change: nothing is stored again.
    for name in ["trades", "ledger"] {
        assert_eq!(stream(&report, name)["records"], 0, "{report}");
    }
    let stats = sim.stats();
    // One page per product and per account: the newest, which ends the walk.
    for (key, count) in stats["by_endpoint_scope"].as_object().unwrap() {
        if key.starts_with("GET /fills") || key.starts_with("GET /accounts/{id}/ledger") {
            assert_eq!(count, 1, "{key} in a sync with nothing new: {stats}");
        }
    }
    // Deposits and withdrawals, external and between profiles: one page each (the pending
    // ones are recent).
    assert_eq!(stats["by_endpoint"]["GET /transfers"], 4, "{stats}");

    // New fills arrive: the next sync picks them up with one request per product.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "trades")["records"], 7, "{report}");
    let stats = sim.stats();
    for (key, count) in stats["by_endpoint_scope"].as_object().unwrap() {
        if key.starts_with("GET /fills") {
            assert_eq!(count, 1, "{key}: {stats}");
        }
    }
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_or_passphrase_is_an_auth_error_and_never_shown() {
    let sim = cbx_sim(&["--seed", "63", "--orders", "30"]);
    let setup = cbx_setup(&sim, WRONG_SECRET, &days_ago(20), false, STREAMS);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid signature"),
            "{s}"
        );
    }
    let stats = sim.stats();
    assert!(
        stats["by_message"]["invalid signature"].as_u64().unwrap() > 0,
        "{stats}"
    );
    let log = daemon.log();
    assert_no_cbx_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    drop(daemon);

    // The right secret with a wrong passphrase.
    let mut setup = cbx_setup(&sim, API_SECRET, &days_ago(20), false, STREAMS);
    setup.env("E2E_CBX_PASSPHRASE", "e2eCBXwrongPASSPHRASE");
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Invalid Passphrase"),
            "{s}"
        );
    }
    assert_no_cbx_secrets(&[&daemon.log(), &report.to_string()]);
}

#[test]
fn stale_timestamp_is_followed_by_default_and_a_clock_error_with_adjust_clock_off() {
    // The integration that opts out (`adjust_clock = false`) fails `clock`; the default
    // follows the exchange's clock (issue 9).
    // Coinbase's clock runs a minute ahead: every timestamp we sign is outside its 30 s.
    let sim = cbx_sim(&[
        "--seed",
        "64",
        "--orders",
        "40",
        "--clock-offset-ms",
        "60000",
    ]);
    let setup = cbx_setup(
        &sim,
        API_SECRET,
        &days_ago(200),
        false,
        &format!("{STREAMS}[options]\nadjust_clock = false\n"),
    );
    setup.integration(
        "cbx-adjusted",
        &integration(&sim.url, &days_ago(200), false, STREAMS),
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
    let stats = sim.stats();
    assert!(
        stats["by_message"]["request timestamp expired"]
            .as_u64()
            .unwrap()
            > 0,
        "{stats}"
    );

    let report = daemon.sync_wait("cbx-adjusted");
    assert_all_ok(&report);
    let truth = sim.truth();
    let fills: usize = truth["fills"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(daemon.records("cbx-adjusted", "trade").len(), fills);
}

#[test]
fn the_private_rate_limit_is_obeyed_and_the_sync_finishes() {
    // Five requests a second (three for /fills), well below the manifest's budget, so the
    // daemon's own pacing does not save us: only backing off after Coinbase's 429 does.
    let sim = cbx_sim(&[
        "--seed",
        "65",
        "--orders",
        "60",
        "--private-rate",
        "5",
        "--private-burst",
        "5",
        "--fills-rate",
        "3",
        "--fills-burst",
        "3",
    ]);
    let setup = cbx_setup(&sim, API_SECRET, &days_ago(200), true, STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_message"]["Private rate limit exceeded"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "the test never hit the limit: {stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn history_before_the_launch_is_reported_unavailable_and_the_rest_covered() {
    let sim = cbx_sim(&["--seed", "66", "--orders", "20", "--history-days", "30"]);
    let streams = "[streams]\nledger = \"1h\"\ndeposits = \"1h\"\n";
    let setup = cbx_setup(&sim, API_SECRET, "2014-06-01", false, streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let start: i64 = 1_401_580_800_000; // 2014-06-01
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    for name in ["ledger", "deposits"] {
        let stream = coverage["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == name)
            .unwrap_or_else(|| panic!("no {name} coverage: {coverage:#}"));
        let partitions = stream["partitions"].as_array().unwrap();
        assert!(!partitions.is_empty(), "{stream:#}");
        for partition in partitions {
            let unavailable = partition["unavailable"].as_array().unwrap();
            assert_eq!(unavailable.len(), 1, "{partition:#}");
            assert_eq!(unavailable[0]["from_ms"], start, "{partition:#}");
            assert_eq!(unavailable[0]["to_ms"], LAUNCH_MS, "{partition:#}");
            let synced = partition["synced"].as_array().unwrap();
            assert_eq!(synced.len(), 1, "{partition:#}");
            assert_eq!(synced[0]["from_ms"], LAUNCH_MS, "{partition:#}");
            assert!(
                synced[0]["to_ms"].as_i64().unwrap() > now_ms() - DAY_MS,
                "{partition:#}"
            );
        }
    }
    // The ledger was asked from the launch on: Coinbase serves one day without a start.
    let stats = sim.stats();
    assert_eq!(
        stats["by_status"].as_object().unwrap().len(),
        1,
        "only 200s: {stats}"
    );
}

#[test]
fn server_errors_are_retried_and_the_sync_finishes_exactly() {
    let sim = cbx_sim(&["--seed", "67", "--orders", "30"]);
    let setup = cbx_setup(&sim, API_SECRET, &days_ago(200), false, STREAMS);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({ "fail_next": 3 }));

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 3, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}
