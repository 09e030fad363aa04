//! The Gemini connector end to end: the real `exsyncd`, the real `libexsync_plugin_gemini.so`,
//! `exsync-sim gemini` on loopback.
//!
//! The simulator's history lies between fixed dates, so every test's `start` is a fixed date
//! before it; only candles follow today's clock.

use std::collections::BTreeMap;

use exsync_e2e::assert_no_secrets;
use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "gemini-main";
const START: &str = "2023-06-01";
const WRONG_SECRET: &str = "e2eWRONGgeminiSECRETz1x2c3v4b5n6m7AaSsDdFfGgHh";

const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
"#;

const CANDLES: &str = r#"[candles]
symbols = ["BTC/USD"]
timeframes = ["1h", "1d"]
interval = "1h"
"#;

// ---------------------------------------------------------------------------------------
// Helpers.

/// Starts `exsync-sim gemini` with the test credentials and `args`. Its limits are off unless
/// `args` set them: only the rate-limit test is about pacing.
fn gemini_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    if !args.contains(&"--transfers-interval-ms") {
        all.extend([
            "--transfers-interval-ms",
            "0",
            "--private-per-minute",
            "100000",
            "--public-per-minute",
            "100000",
        ]);
    }
    all.extend_from_slice(args);
    Sim::start("gemini", &all)
}

/// An installation with the Gemini plugin and one integration against `sim`.
fn gemini_setup(sim: &Sim, secret: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_gemini.so");
    setup.env("E2E_GEMINI_KEY", API_KEY);
    setup.env("E2E_GEMINI_SECRET", secret);
    setup.integration(
        INTEGRATION,
        &format!(
            r#"exchange = "gemini"
base_url = "{}"
start = "{START}"
budget = {budget}
[credentials]
api_key = "env:E2E_GEMINI_KEY"
api_secret = "env:E2E_GEMINI_SECRET"
{extra}"#,
            sim.url
        ),
    );
    setup
}

/// Asserts that the stored records of `kind` are exactly `truth` (objects keyed by `id`),
/// with `fields` (stored field, raw field) equal digit for digit.
fn compare(daemon: &Daemon, kind: &str, truth: &Value, id: &str, fields: &[(&str, &str)]) {
    let list = truth
        .as_array()
        .unwrap_or_else(|| panic!("truth {kind}: {truth}"));
    assert!(!list.is_empty(), "no {kind} in the truth");
    let truth: Vec<(String, &Value)> = list.iter().map(|v| (text(&v[id]), v)).collect();
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

/// Asserts that the integration holds exactly the simulator's account, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    compare(
        daemon,
        "trade",
        &truth["trades"],
        "tid",
        &[
            ("symbol", "symbol"),
            ("order_id", "order_id"),
            ("price", "price"),
            ("amount", "amount"),
            ("fee_amount", "fee_amount"),
            ("fee_asset_native", "fee_currency"),
            ("timestamp", "timestampms"),
        ],
    );
    compare(
        daemon,
        "order",
        &truth["orders"],
        "order_id",
        &[
            ("symbol", "symbol"),
            ("filled", "executed_amount"),
            ("amount", "original_amount"),
            ("price", "price"),
            ("timestamp", "timestampms"),
        ],
    );
    compare(
        daemon,
        "deposit",
        &truth["deposits"],
        "eid",
        &[
            ("amount", "amount"),
            ("asset_native", "currency"),
            ("timestamp", "timestampms"),
        ],
    );
    compare(
        daemon,
        "withdrawal",
        &truth["withdrawals"],
        "eid",
        &[
            ("amount", "amount"),
            ("fee_amount", "feeAmount"),
            ("asset_native", "currency"),
            ("timestamp", "timestampms"),
        ],
    );

    // Balances have no exchange id: wallet and currency.
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
    let spot = truth["balances"]["spot"].as_array().unwrap();
    let staking = truth["balances"]["staking"].as_array().unwrap();
    assert_eq!(stored.len(), spot.len() + staking.len(), "{stored:?}");
    for (wallet, rows, total, free) in [
        ("spot", spot, "amount", "available"),
        ("staking", staking, "balance", "available"),
    ] {
        for b in rows {
            let key = format!("{wallet}:{}", text(&b["currency"]));
            let rec = stored
                .get(&key)
                .unwrap_or_else(|| panic!("no balance {key}"));
            assert_eq!(&rec["raw"], b, "{key} raw");
            assert_eq!(text(&rec["total"]), text(&b[total]), "{key} total");
            assert_eq!(text(&rec["free"]), text(&b[free]), "{key} free");
        }
    }
}

/// Every closed candle the sim serves now for BTCUSD in `frame` is stored, exactly.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim, timeframe: &str, frame: &str) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/candles?symbol=btcusd&frame={frame}",
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
    // The newest closed candle may have closed after the sync: all but it must be there.
    for row in &truth[..truth.len() - 1] {
        let open = text(&row[0]);
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {timeframe} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {timeframe} {open}");
        assert_eq!(rec["final"], true, "candle {timeframe} {open}");
        assert_eq!(rec["base"], "BTC");
        assert_eq!(rec["quote"], "USD");
    }
    assert!(
        stored.len() <= truth.len() + 1,
        "{timeframe}: {}",
        stored.len()
    );
}

fn stream<'a>(report: &'a Value, name: &str) -> &'a Value {
    streams(report)
        .iter()
        .find(|s| s["stream"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    let sim = gemini_sim(&["--seed", "61", "--trades", "2600"]);
    let setup = gemini_setup(&sim, API_SECRET, false, &format!("{STREAMS}{CANDLES}"));
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, "1h", "1hr");
    assert_candles_exactly(&daemon, &sim, "1d", "1day");

    // Trades were asked for only where the account's currencies trade, several pages each.
    let stats = sim.stats();
    let by_symbol = stats["by_endpoint_symbol"].as_object().unwrap();
    for (key, _) in by_symbol {
        let symbol = key.rsplit(' ').next().unwrap();
        assert!(
            ["btcusd", "ethusd", "ethbtc", "solusd", "btcgusd", "ethgusd", "solbtc", "paxgusd"]
                .contains(&symbol),
            "{key}: not a market of the account's currencies"
        );
    }
    assert!(
        by_symbol.values().any(|n| n.as_u64().unwrap() >= 2),
        "no symbol needed a second page: {stats}"
    );
    assert_eq!(stats["auth_failures"], 0, "{stats}");

    // Orders still active are stored as open.
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let live = truth["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["is_live"] == true)
        .count();
    assert!(live > 0);
    assert_eq!(open, live);

    // `test` reports who the key belongs to and what it may do.
    // The simulated key is an Auditor key: it reads, and may neither trade nor withdraw.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let shown = test.to_string();
    assert!(shown.contains("Primary (primary)"), "{test:#}");
    assert_eq!(test["can_read"], true, "{test:#}");
    assert_eq!(test["can_trade"], false, "{test:#}");
    assert_eq!(test["can_withdraw"], false, "{test:#}");

    // `/v2/candles` serves a recent window only: what the start asks for before it is
    // reported beyond the exchange's reach.
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    let candles = coverage["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"] == "candles")
        .expect("candles coverage");
    let daily = candles["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partition"] == "btcusd:1d")
        .expect("btcusd:1d coverage");
    let unavailable = daily["unavailable"].as_array().unwrap();
    assert_eq!(unavailable.len(), 1, "{daily}");
    assert_eq!(unavailable[0]["from_ms"], 1_685_577_600_000_i64, "{daily}");

    assert_no_secrets(&[&daemon.log(), &daemon.metrics(), &report.to_string()]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = gemini_sim(&["--seed", "62", "--trades", "400"]);
    let setup = gemini_setup(&sim, API_SECRET, false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    for name in ["trades", "withdrawals"] {
        assert_eq!(stream(&report, name)["records"], 0, "{report}");
    }
    let stats = sim.stats();
    for (key, count) in stats["by_endpoint_symbol"].as_object().unwrap() {
        assert_eq!(count, 1, "{key} in a sync with nothing new: {stats}");
    }

    // New fills arrive: the next sync picks them up with one request for their symbol.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "trades")["records"], 7, "{report}");
    assert_eq!(
        sim.stats()["by_endpoint_symbol"]["POST /v1/mytrades btcusd"],
        1
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = gemini_sim(&["--seed", "63", "--trades", "50"]);
    let setup = gemini_setup(&sim, WRONG_SECRET, false, STREAMS);
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
                .contains("InvalidSignature"),
            "{s}"
        );
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn gemini_rate_limits_are_kept_and_transfers_spaced() {
    // Gemini's own limits: 600 private and 120 public requests a minute, one transfers
    // request in five seconds. The manifest's budget must keep the sync under all three.
    let sim = gemini_sim(&[
        "--seed",
        "64",
        "--trades",
        "300",
        "--deposits",
        "60",
        "--withdrawals",
        "20",
        "--transfers-interval-ms",
        "5000",
    ]);
    let setup = gemini_setup(&sim, API_SECRET, true, STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "limited: {stats}");
    assert!(
        stats["by_endpoint"]["POST /v1/transfers"].as_u64().unwrap() >= 4,
        "{stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn gemini_nonces_keep_increasing_across_a_restart() {
    let sim = gemini_sim(&["--seed", "65", "--trades", "60"]);
    let setup = gemini_setup(&sim, API_SECRET, false, STREAMS);
    let mut daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    daemon.terminate();
    let daemon = Daemon::start(&setup);
    sim.append_trades(3);
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "trades")["records"], 3, "{report}");
    let stats = sim.stats();
    assert!(stats["by_reason"].get("InvalidNonce").is_none(), "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn gemini_server_errors_are_retried_with_fresh_nonces() {
    let sim = gemini_sim(&["--seed", "66", "--trades", "60"]);
    let setup = gemini_setup(&sim, API_SECRET, false, STREAMS);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");
    assert!(stats["by_reason"].get("InvalidNonce").is_none(), "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn a_truncated_answer_is_a_bad_response_that_names_the_request() {
    let sim = gemini_sim(&["--seed", "67", "--trades", "60"]);
    let setup = gemini_setup(&sim, API_SECRET, false, STREAMS);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("while "),
            "{s}"
        );
    }
    sim.set_faults(serde_json::json!({"malformed_rate": 0.0}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn a_time_based_nonce_off_geminis_clock_follows_its_clock_read_from_the_date_header() {
    // Gemini's clock runs 90 s ahead and the key wants nonces within 30 s of it.
    let sim = gemini_sim(&[
        "--seed",
        "68",
        "--trades",
        "30",
        "--time-nonce",
        "--clock-offset-ms",
        "90000",
    ]);
    let setup = gemini_setup(&sim, API_SECRET, false, STREAMS);
    let daemon = Daemon::start(&setup);
    // The first nonce is refused; the plugin reads Gemini's clock off its Date header and
    // takes every later nonce on it.
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, &sim.truth());
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(0);
    assert!((88_000..=92_000).contains(&offset), "{test:#}");
}

#[test]
fn a_key_that_may_not_read_staking_still_syncs_the_exchange_wallet() {
    let sim = gemini_sim(&["--seed", "69", "--trades", "30", "--deny-staking"]);
    let setup = gemini_setup(&sim, API_SECRET, false, "[streams]\nbalances = \"1h\"\n");
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let truth = sim.truth();
    let balances = daemon.records(INTEGRATION, "balance");
    assert_eq!(
        balances.len(),
        truth["balances"]["spot"].as_array().unwrap().len()
    );
    assert!(balances.iter().all(|b| b["wallet"] == "spot"));
    assert!(
        daemon.log().contains("No staking balances"),
        "{}",
        daemon.log()
    );
    assert_eq!(sim.stats()["by_reason"]["MissingRole"], 1);
}

/// Asserts that the stored ledger is exactly the simulator's, entry for entry.
fn assert_ledger_exactly(daemon: &Daemon, truth: &Value) {
    let entries = truth["ledger"].as_array().expect("truth ledger");
    assert!(!entries.is_empty(), "no ledger in the truth");
    let expected: BTreeMap<String, &Value> = entries.iter().map(|e| (text(&e["id"]), e)).collect();
    let truth: Vec<(String, &Value)> = entries
        .iter()
        .map(|e| (text(&e["id"]), &e["raw"]))
        .collect();
    assert_kind_exactly(daemon, INTEGRATION, "ledger", &truth, |id, rec, _raw| {
        let want = expected[id];
        for (field, truth_field) in [
            ("amount", "amount"),
            ("asset_native", "asset"),
            ("type", "type"),
            ("timestamp", "timestamp"),
        ] {
            assert_eq!(
                text(&rec[field]),
                text(&want[truth_field]),
                "ledger {id}: {field}"
            );
        }
    });
}

#[test]
fn gemini_ledger_with_a_master_key_stores_exactly_the_ground_truth() {
    // A master key names its account in every account-level call; the group's transactions
    // come in pages of 300 by continuation token, and only this account's are kept.
    let sim = gemini_sim(&["--seed", "70", "--trades", "700", "--master-key"]);
    let setup = gemini_setup(
        &sim,
        API_SECRET,
        false,
        &format!("{STREAMS}ledger = \"1h\"\n[options]\naccount = \"primary\"\n"),
    );
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_ledger_exactly(&daemon, &truth);
    assert_stored_exactly(&daemon, &truth);
    let stats = sim.stats();
    let pages = stats["by_endpoint"]["POST /v1/transactions"]
        .as_u64()
        .unwrap();
    let results = truth["transactions"].as_array().unwrap().len() as u64;
    assert!(results > 600, "{results}");
    assert_eq!(pages, results / 300 + 1, "{stats}");
    assert!(
        stats["by_reason"].as_object().unwrap().is_empty(),
        "{stats}"
    );

    // Nothing new: no entries (the deposit still credited ahead of settlement is read again,
    // unchanged).
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "ledger")["records"], 0, "{report}");
    // New fills: three entries each.
    sim.append_trades(4);
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "ledger")["records"], 12, "{report}");
    assert_ledger_exactly(&daemon, &sim.truth());
    assert_no_secrets(&[&daemon.log(), &report.to_string()]);
}

#[test]
fn gemini_ledger_with_an_account_key_is_a_permission_error_and_the_rest_syncs() {
    let sim = gemini_sim(&["--seed", "71", "--trades", "40"]);
    let setup = gemini_setup(
        &sim,
        API_SECRET,
        false,
        &format!("{STREAMS}ledger = \"1h\"\n"),
    );
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        if s["stream"] == "ledger" {
            assert_eq!(s["result"], "failed", "{s}");
            assert_eq!(s["error"]["kind"], "permission", "{s}");
            let message = s["error"]["message"].as_str().unwrap();
            assert!(message.contains("master-scoped"), "{s}");
        } else {
            assert_eq!(s["result"], "ok", "{s}");
        }
    }
    assert!(
        sim.stats()["by_endpoint"]
            .get("POST /v1/transactions")
            .is_none(),
        "no request is sent that Gemini would refuse"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}
