//! The `b2c2` connector end to end: the real `exsyncd`, the real plugin `.so`, and
//! `exsync-sim b2c2` on loopback. A full sync against the ground truth, an incremental
//! second sync, a wrong token, B2C2's 429 and its maintenance answers.

use std::collections::BTreeMap;
use std::time::Duration;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::http;
use exsync_e2e::sim::Sim;
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_none_leaked, streams, text};
use serde_json::Value;

/// The simulated account's token: distinctive, so a leak is found by a plain search.
const TOKEN: &str = "e2eB2C2tokenf3a9c1d5e8b2a4c6d8e0f1a3b5c7d9";
const WRONG_TOKEN: &str = "e2eB2C2wrongTOKENp0o9i8u7y6t5r4e3w2q1";
const NAME: &str = "b2c2-main";

/// Every stream B2C2 offers.
const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

/// Starts `exsync-sim b2c2` with the test token and `args`.
fn b2c2_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--token", TOKEN];
    all.extend_from_slice(args);
    Sim::start("b2c2", &all)
}

/// An installation with the B2C2 plugin and one integration against `sim`.
fn b2c2_setup(sim: &Sim, token: &str, budget: bool, page_limit: u32) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_b2c2.so");
    setup.env("E2E_B2C2_TOKEN", token);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "b2c2"
base_url = "{}"
start = "2024-01-01"
budget = {budget}
[credentials]
api_key = "env:E2E_B2C2_TOKEN"
[options]
page_limit = {page_limit}
{STREAMS}"#,
            sim.url
        ),
    );
    setup
}

fn stream<'a>(report: &'a Value, name: &str) -> &'a Value {
    streams(report)
        .iter()
        .find(|s| s["stream"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

/// `2024-03-05T10:11:12.345678Z` → ms (truncated), read independently of the plugin.
fn ms(v: &Value) -> i64 {
    let t = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let frac = t[19..]
        .strip_prefix('.')
        .map(|f| f.trim_end_matches('Z'))
        .map(|f| format!("{f:0<3}")[..3].parse::<i64>().unwrap())
        .unwrap_or(0);
    ((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 + n(17, 19) * 1000 + frac
}

/// B2C2's codes and the market's: the test's own table.
fn common(code: &str) -> String {
    match code {
        "UST" => "USDT",
        "USC" => "USDC",
        "LNK" => "LINK",
        "DOG" => "DOGE",
        other => other,
    }
    .to_owned()
}

fn compare(
    daemon: &Daemon,
    kind: &str,
    truth: &Value,
    list: &str,
    id: &str,
    fields: &[(&str, &str)],
) -> BTreeMap<String, Value> {
    let items: Vec<(String, &Value)> = truth[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (text(&t[id]), t))
        .collect();
    assert_kind_exactly(daemon, NAME, kind, &items, |id, rec, raw| {
        for (field, raw_field) in fields {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
        assert_eq!(rec["timestamp"], ms(&raw["created"]), "{kind} {id}");
    })
}

/// Asserts that the integration holds exactly the simulator's account.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let trades = compare(
        daemon,
        "trade",
        truth,
        "trades",
        "trade_id",
        &[
            ("symbol", "instrument"),
            ("price", "price"),
            ("amount", "quantity"),
            ("order_id", "order"),
            ("side", "side"),
        ],
    );
    for t in trades.values() {
        let instrument = text(&t["symbol"]);
        assert_eq!(text(&t["base"]), common(&instrument[..3]), "{t}");
        assert_eq!(text(&t["quote"]), common(&instrument[3..6]), "{t}");
        assert!(t["fee_amount"].is_null(), "B2C2 charges no fee: {t}");
    }
    let orders = compare(
        daemon,
        "order",
        truth,
        "orders",
        "order_id",
        &[("symbol", "instrument"), ("amount", "quantity")],
    );
    for o in orders.values() {
        let raw = &o["raw"];
        let executed = !raw["executed_price"].is_null();
        assert_eq!(
            o["status"],
            if executed { "closed" } else { "rejected" },
            "{o}"
        );
        assert_eq!(o["type"], text(&raw["order_type"]).to_lowercase(), "{o}");
    }
    let withdrawals = compare(
        daemon,
        "withdrawal",
        truth,
        "withdrawals",
        "withdrawal_id",
        &[("amount", "amount"), ("asset_native", "currency")],
    );
    for w in withdrawals.values() {
        let raw = &w["raw"];
        let status = if raw["settled"] == true {
            "ok"
        } else {
            "pending"
        };
        assert_eq!(w["status"], status, "{w}");
        assert_eq!(text(&w["asset"]), common(&text(&raw["currency"])), "{w}");
    }
    let ledger = compare(
        daemon,
        "ledger",
        truth,
        "ledger",
        "transaction_id",
        &[
            ("amount", "amount"),
            ("asset_native", "currency"),
            ("type", "type"),
        ],
    );
    assert!(ledger.values().any(|l| l["type"] == "funding"));
    assert!(ledger
        .values()
        .any(|l| l["asset"] == "USDT" && l["asset_native"] == "UST"));

    let balances: BTreeMap<String, Value> = daemon
        .records(NAME, "balance")
        .into_iter()
        .map(|b| (text(&b["asset_native"]), b))
        .collect();
    let truth_balances = truth["balances"].as_object().unwrap();
    assert_eq!(
        balances.len(),
        truth_balances.len(),
        "one balance per currency"
    );
    for (currency, amount) in truth_balances {
        let b = &balances[currency];
        assert_eq!(b["total"], *amount, "{currency}");
        assert_eq!(b["wallet"], "spot", "{currency}");
        assert_eq!(b["asset"], common(currency), "{currency}");
        assert_eq!(b["raw"], serde_json::json!({ currency.as_str(): amount }));
    }
}

fn requests(stats: &Value, path: &str) -> u64 {
    stats["by_endpoint"][format!("GET {path}")]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn b2c2_full_sync_stores_exactly_the_ground_truth() {
    let sim = b2c2_sim(&["--seed", "71", "--no-rate-limit"]);
    let setup = b2c2_setup(&sim, TOKEN, false, 10);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl_json(&["test", NAME]);
    assert!(test.to_string().contains("B2C2 account"), "{test:#}");
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(i64::MAX);
    assert!(offset.abs() <= 2_000, "{test:#}");
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(streams(&report).len(), 5, "{report}");
    let truth = sim.truth();
    assert!(truth["trades"].as_array().unwrap().len() >= 200);
    assert_stored_exactly(&daemon, &truth);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["offset_too_big"], 0, "{stats}");
    // 30-day windows back to 2024-01-01, some read in several offset pages.
    let windows = 36;
    assert!(requests(&stats, "/ledger/") > windows, "{stats}");
    assert!(
        requests(&stats, "/ledger/") as usize >= truth["ledger"].as_array().unwrap().len() / 10,
        "{stats}"
    );
    assert_none_leaked(
        &[TOKEN],
        &[
            &daemon.log(),
            &daemon.metrics(),
            &report.to_string(),
            &test.to_string(),
        ],
    );
}

#[test]
fn b2c2_second_sync_fetches_only_what_is_new() {
    let sim = b2c2_sim(&["--seed", "72", "--no-rate-limit", "--orders", "120"]);
    let setup = b2c2_setup(&sim, TOKEN, false, 50);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));

    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    for name in ["trades", "orders", "withdrawals", "ledger"] {
        assert_eq!(stream(&report, name)["records"], 0, "{name}: {report}");
    }
    // One window from where the last sync stopped: one request per list.
    let stats = sim.stats();
    for path in [
        "/trade/",
        "/order/",
        "/withdrawal/",
        "/ledger/",
        "/balance/",
    ] {
        assert_eq!(requests(&stats, path), 1, "{path}: {stats}");
    }

    // New orders arrive: the next sync reads one page of each list and stores them.
    let r = http::post(
        &format!("{}/__sim/append", sim.url),
        r#"{"orders": 4, "withdrawals": 1}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "orders")["records"], 4, "{report}");
    assert_eq!(stream(&report, "withdrawals")["records"], 1, "{report}");
    assert_eq!(requests(&sim.stats(), "/order/"), 1);
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn b2c2_wrong_token_is_an_auth_error_and_never_shown() {
    let sim = b2c2_sim(&["--seed", "73", "--orders", "20", "--no-rate-limit"]);
    let setup = b2c2_setup(&sim, WRONG_TOKEN, false, 50);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        let message = s["error"]["message"].as_str().unwrap();
        assert!(message.contains("HTTP 401"), "{s}");
        assert!(message.contains("Invalid token"), "{s}");
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    assert_none_leaked(
        &[TOKEN, WRONG_TOKEN],
        &[
            &daemon.log(),
            &daemon.metrics(),
            &test.stdout,
            &test.stderr,
            &report.to_string(),
        ],
    );
}

#[test]
fn b2c2_paced_sync_meets_no_429_and_a_tight_limit_is_waited_out() {
    // The daemon paces to the manifest's 10 a second: the sim's bucket never runs dry.
    let sim = b2c2_sim(&["--seed", "74", "--orders", "60", "--withdrawals", "5"]);
    let setup = b2c2_setup(&sim, TOKEN, true, 50);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
    drop(daemon);

    // A bucket of 3 refilling 3 a second: 429 with Retry-After, waited out.
    let sim = b2c2_sim(&[
        "--seed",
        "75",
        "--orders",
        "60",
        "--withdrawals",
        "5",
        "--rate-limit-rps",
        "3",
        "--rate-limit-burst",
        "3",
    ]);
    let setup = b2c2_setup(&sim, TOKEN, true, 50);
    let daemon = Daemon::start(&setup);
    let mut report = daemon.sync_wait(NAME);
    for attempt in 0.. {
        let failed: Vec<&Value> = streams(&report)
            .iter()
            .filter(|s| s["result"] != "ok")
            .collect();
        if failed.is_empty() {
            break;
        }
        for s in failed {
            assert_eq!(s["error"]["kind"], "rate_limited", "{s}");
        }
        assert!(attempt < 5, "the sync never completed: {report}");
        std::thread::sleep(Duration::from_millis(1500));
        report = daemon.sync_wait(NAME);
    }
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn b2c2_maintenance_answers_are_retried() {
    let sim = b2c2_sim(&["--seed", "76", "--orders", "40", "--no-rate-limit"]);
    let setup = b2c2_setup(&sim, TOKEN, false, 50);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn b2c2_offset_cap_refusal_is_reported_as_the_plugins_window_being_too_wide() {
    // A cap of 0: the second offset page of any window is refused with error 1102.
    let sim = b2c2_sim(&[
        "--seed",
        "77",
        "--orders",
        "40",
        "--no-rate-limit",
        "--max-offset",
        "0",
    ]);
    let setup = b2c2_setup(&sim, TOKEN, false, 1);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(NAME);
    assert_eq!(stream(&report, "balances")["result"], "ok", "{report}");
    let ledger = stream(&report, "ledger");
    assert_eq!(ledger["result"], "failed", "{report}");
    assert_eq!(ledger["error"]["kind"], "plugin", "{ledger}");
    let message = ledger["error"]["message"].as_str().unwrap();
    assert!(message.contains("1102"), "{ledger}");
    assert!(message.contains("GET /ledger/"), "{ledger}");
    assert!(sim.stats()["offset_too_big"].as_u64().unwrap() > 0);
}
