//! The `copper` connector end to end: the real `exsyncd`, the real plugin `.so`, and
//! `exsync-sim copper` on loopback. Full and incremental syncs against the ground truth, a
//! wrong API secret, a stale timestamp, Copper's 429, server errors and a cut-off body.

use std::collections::BTreeMap;
use std::time::Duration;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::http;
use exsync_e2e::sim::Sim;
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_none_leaked, streams, text};
use serde_json::Value;

/// The simulated organization's credentials: distinctive, so a leak is found by a plain
/// search of every output.
const API_KEY: &str = "e2eCOPPERapiKEY3c9a7f1d5e2b8a4c6d0e9f1a3b5c7d9e";
const API_SECRET: &str = "e2eCOPPERapiSECRETm4N8b6V2c9X3z7L1k5J0h2G8f4D6s1";
const WRONG_SECRET: &str = "e2eCOPPERwrongSECRETp1O9i8U7y6T5r4E3w2Q1z0X9c8V7";
const ORGANIZATION: &str = "e2e-copper-org-5b1e";
const NAME: &str = "copper-main";

/// Every stream Copper offers (it has no candles).
const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

/// The test's own table of Copper's order types.
const DEPOSIT_TYPES: [&str; 3] = ["deposit", "retrieved-deposit", "cross-chain-deposit"];
const WITHDRAWAL_TYPES: [&str; 3] = ["withdraw", "multi-withdraw", "cross-chain-withdraw"];
const TERMINAL: [&str; 8] = [
    "executed",
    "canceled",
    "liquidated",
    "error",
    "blocked",
    "declined",
    "suspended",
    "rejected",
];

/// Starts `exsync-sim copper` with the test credentials and `args`.
fn copper_sim(args: &[&str]) -> Sim {
    let mut all = vec![
        "--api-key",
        API_KEY,
        "--api-secret",
        API_SECRET,
        "--organization-id",
        ORGANIZATION,
    ];
    all.extend_from_slice(args);
    Sim::start("copper", &all)
}

/// An installation with the Copper plugin and one integration against `sim`.
fn copper_setup(sim: &Sim, secret: &str, budget: bool, page_limit: usize) -> Setup {
    copper_setup_with(sim, secret, budget, page_limit, STREAMS)
}

/// The same, with only `streams` synced.
fn copper_setup_with(
    sim: &Sim,
    secret: &str,
    budget: bool,
    page_limit: usize,
    streams: &str,
) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_copper.so");
    setup.env("E2E_COPPER_KEY", API_KEY);
    setup.env("E2E_COPPER_SECRET", secret);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "copper"
base_url = "{}/platform"
start = "2024-01-01"
budget = {budget}
[credentials]
api_key = "env:E2E_COPPER_KEY"
api_secret = "env:E2E_COPPER_SECRET"
[options]
page_limit = {page_limit}
{streams}"#,
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

fn assert_no_copper_secrets(outputs: &[&str]) {
    assert_none_leaked(&[API_KEY, API_SECRET, WRONG_SECRET], outputs);
}

/// A Copper time (Unix ms as a string) → ms.
fn ms(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a Copper time: {v}"))
}

/// A non-negative decimal string → (digits, scale), independently of the plugin.
fn decimal(s: &str) -> (u128, u32) {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    (format!("{int}{frac}").parse().unwrap(), frac.len() as u32)
}

/// `a × b == c` exactly.
fn product_is(a: &str, b: &str, c: &str) -> bool {
    let ((ma, sa), (mb, sb), (mc, sc)) = (decimal(a), decimal(b), decimal(c));
    let (p, sp) = (ma * mb, sa + sb);
    let scale = sp.max(sc);
    p * 10u128.pow(scale - sp) == mc * 10u128.pow(scale - sc)
}

fn orders_of<'a>(truth: &'a Value, types: &[&str]) -> Vec<&'a Value> {
    truth["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| types.is_empty() || types.contains(&o["orderType"].as_str().unwrap()))
        .collect()
}

fn ids<'a>(items: &[&'a Value]) -> Vec<(String, &'a Value)> {
    items.iter().map(|o| (text(&o["orderId"]), *o)).collect()
}

fn non_zero(v: &Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.is_empty() && s.chars().any(|c| ('1'..='9').contains(&c)))
        .map(str::to_owned)
}

fn negated(s: &str) -> String {
    format!("-{s}")
}

/// Asserts that the integration holds exactly the simulator's trades: executed buy and sell
/// orders, one trade each.
fn assert_trades_exactly(daemon: &Daemon, truth: &Value) {
    let executed: Vec<&Value> = orders_of(truth, &["buy", "sell"])
        .into_iter()
        .filter(|o| o["status"] == "executed")
        .collect();
    assert_kind_exactly(daemon, NAME, "trade", &ids(&executed), |id, t, raw| {
        assert_eq!(t["order_id"], raw["orderId"], "{id}");
        assert_eq!(t["side"], raw["orderType"], "{id}");
        assert_eq!(t["amount"], raw["amount"], "{id}");
        assert_eq!(t["cost"], raw["extra"]["totalQuoteAmount"], "{id}");
        assert_eq!(
            text(&t["symbol"]),
            format!(
                "{}/{}",
                text(&raw["baseCurrency"]),
                text(&raw["quoteCurrency"])
            )
        );
        assert_eq!(t["timestamp"], ms(&raw["terminatedAt"]), "{id}");
        assert!(
            product_is(
                t["price"].as_str().unwrap(),
                t["amount"].as_str().unwrap(),
                t["cost"].as_str().unwrap()
            ),
            "{id}: price × amount is not the quote amount: {t}"
        );
    });
}

/// Asserts that the integration holds exactly the simulator's organization.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    assert_trades_exactly(daemon, truth);

    // Orders: buy and sell orders of every status.
    let orders = orders_of(truth, &["buy", "sell"]);
    assert_kind_exactly(daemon, NAME, "order", &ids(&orders), |id, o, raw| {
        let status = match raw["status"].as_str().unwrap() {
            "executed" => "closed",
            "canceled" => "canceled",
            s if TERMINAL.contains(&s) => "rejected",
            _ => "open",
        };
        assert_eq!(o["status"], status, "{id}");
        assert_eq!(o["timestamp"], ms(&raw["createdAt"]), "{id}");
        assert_eq!(o["amount"], raw["amount"], "{id}");
        let filled = if status == "closed" {
            text(&raw["amount"])
        } else {
            "0".into()
        };
        assert_eq!(text(&o["filled"]), filled, "{id}");
        assert_eq!(o["type"], raw["limitType"], "{id}");
    });

    // Deposits and withdrawals.
    for (kind, types) in [("deposit", DEPOSIT_TYPES), ("withdrawal", WITHDRAWAL_TYPES)] {
        let transfers = orders_of(truth, &types);
        assert!(!transfers.is_empty(), "the sim has {kind}s");
        assert_kind_exactly(daemon, NAME, kind, &ids(&transfers), |id, t, raw| {
            let status = match raw["status"].as_str().unwrap() {
                "executed" => "ok",
                "canceled" => "canceled",
                s if TERMINAL.contains(&s) => "failed",
                _ => "pending",
            };
            assert_eq!(t["status"], status, "{id}");
            assert_eq!(t["amount"], raw["amount"], "{id}");
            assert_eq!(t["asset_native"], raw["baseCurrency"], "{id}");
            assert_eq!(t["network"], raw["mainCurrency"], "{id}");
            assert_eq!(t["txid"], raw["extra"]["transactionId"], "{id}");
            assert_eq!(t["timestamp"], ms(&raw["createdAt"]), "{id}");
            if kind == "deposit" {
                assert_eq!(t["address"], raw["extra"]["fromAddresses"][0], "{id}");
            } else {
                assert_eq!(t["address"], raw["extra"]["toAddress"], "{id}");
                let fee = non_zero(&raw["extra"]["withdrawFee"]);
                assert_eq!(t["fee_amount"].as_str().map(str::to_owned), fee, "{id}");
            }
        });
    }

    // Ledger: every executed order that moves money, by leg.
    let mut legs: Vec<(String, &Value)> = Vec::new();
    let mut amounts: BTreeMap<String, (String, String)> = BTreeMap::new();
    for o in orders_of(truth, &[]) {
        let kind = o["orderType"].as_str().unwrap();
        if o["status"] != "executed" || kind == "wallet-message" {
            continue;
        }
        let id = text(&o["orderId"]);
        let amount = text(&o["amount"]);
        let out = kind == "sell" || WITHDRAWAL_TYPES.contains(&kind);
        let base = text(&o["baseCurrency"]);
        amounts.insert(
            id.clone(),
            (base.clone(), if out { negated(&amount) } else { amount }),
        );
        legs.push((id.clone(), o));
        if kind == "buy" || kind == "sell" {
            let cost = text(&o["extra"]["totalQuoteAmount"]);
            let quote = text(&o["quoteCurrency"]);
            let signed = if out { cost } else { negated(&cost) };
            amounts.insert(format!("{id}:quote"), (quote, signed));
            legs.push((format!("{id}:quote"), o));
        }
        let fee = non_zero(&o["extra"]["withdrawFee"]);
        if let (true, Some(fee)) = (o["extra"]["includeFeeInWithdraw"] == false, fee) {
            amounts.insert(format!("{id}:fee"), (base, negated(&fee)));
            legs.push((format!("{id}:fee"), o));
        }
    }
    let ledger = assert_kind_exactly(daemon, NAME, "ledger", &legs, |id, l, raw| {
        let (asset, amount) = &amounts[id];
        assert_eq!(text(&l["asset_native"]), *asset, "{id}");
        assert_eq!(text(&l["amount"]), *amount, "{id}");
        assert_eq!(l["type"], raw["orderType"], "{id}");
        assert_eq!(l["timestamp"], ms(&raw["terminatedAt"]), "{id}");
        if !id.contains(':') {
            assert_eq!(l["balance_after"], raw["extra"]["balanceSnapshot"], "{id}");
        }
    });
    assert!(
        ledger.values().any(|l| l["asset_native"] == "CPRX"),
        "an unknown asset is stored"
    );

    // Balances: one per wallet, each saying its portfolio type, portfolio and wallet.
    let wallets: Vec<(String, &Value)> = truth["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                format!(
                    "{}:{}:{}:{}",
                    text(&w["portfolioType"]),
                    text(&w["portfolioId"]),
                    text(&w["walletId"]),
                    text(&w["currency"])
                ),
                w,
            )
        })
        .collect();
    let balances: BTreeMap<String, Value> = daemon
        .records(NAME, "balance")
        .into_iter()
        .map(|b| {
            (
                format!("{}:{}", text(&b["wallet"]), text(&b["asset_native"])),
                b,
            )
        })
        .collect();
    assert_eq!(balances.len(), wallets.len(), "one balance per wallet");
    for (id, raw) in &wallets {
        let b = balances
            .get(id)
            .unwrap_or_else(|| panic!("no balance stored for wallet {id}"));
        assert_eq!(&b["raw"], *raw, "{id}");
        assert_eq!(b["total"], raw["balance"], "{id}");
        assert_eq!(b["free"], raw["available"], "{id}");
        assert_eq!(b["locked"], raw["reserve"], "{id}");
    }
    for kind in ["custody", "trading-vault", "trading", "clearloop"] {
        assert!(
            balances.keys().any(|k| k.starts_with(&format!("{kind}:"))),
            "a {kind} wallet is stored"
        );
    }
}

fn requests(stats: &Value, path: &str) -> u64 {
    stats["by_endpoint"][format!("GET /platform/{path}")]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn copper_full_sync_stores_exactly_the_ground_truth() {
    // Copper's own rate limit and the daemon's budget: a full sync stays inside it.
    let sim = copper_sim(&["--seed", "71"]);
    let setup = copper_setup(&sim, API_SECRET, true, 20);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl_json(&["test", NAME]);
    assert!(test.to_string().contains(ORGANIZATION), "{test:#}");
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(i64::MAX);
    assert!(offset.abs() <= 2_000, "{test:#}");
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(streams(&report).len(), 6, "{report}");
    let truth = sim.truth();
    assert!(truth["orders"].as_array().unwrap().len() >= 400);
    assert_stored_exactly(&daemon, &truth);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["clock_failures"], 0, "{stats}");
    assert_eq!(stats["by_status"]["429"], Value::Null, "{stats}");
    // ~330 trade orders at 20 a page over 90-day windows since 2024: many windows and pages.
    assert!(requests(&stats, "orders") >= 60, "{stats}");
    let coverage = daemon.ctl_json(&["coverage", NAME]).to_string();
    assert_no_copper_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.to_string(),
        &coverage,
    ]);
}

#[test]
fn copper_second_sync_fetches_only_what_is_new() {
    let sim = copper_sim(&["--seed", "72", "--no-rate-limit", "--trades", "120"]);
    let setup = copper_setup(&sim, API_SECRET, false, 50);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));

    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    // Nothing changed: the store counts no new or updated record, and each order stream reads
    // one recent window of one page (from the oldest order still open, at most).
    for name in ["trades", "orders", "deposits", "withdrawals", "ledger"] {
        assert_eq!(stream(&report, name)["records"], 0, "{name}: {report}");
    }
    let stats = sim.stats();
    assert_eq!(requests(&stats, "orders"), 5, "{stats}");
    assert_eq!(requests(&stats, "wallets"), 1, "{stats}");

    // New trades and deposits arrive: the next sync reads them and stores them.
    let r = http::post(
        &format!("{}/__sim/append", sim.url),
        r#"{"trades": 7, "deposits": 2}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "trades")["records"], 7, "{report}");
    assert_eq!(stream(&report, "deposits")["records"], 2, "{report}");
    assert_eq!(requests(&sim.stats(), "orders"), 5);
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn copper_wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = copper_sim(&["--seed", "73", "--trades", "20", "--no-rate-limit"]);
    let setup = copper_setup(&sim, WRONG_SECRET, false, 100);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("HTTP 401"),
            "{s}"
        );
    }
    let stats = sim.stats();
    assert!(stats["auth_failures"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["clock_failures"], 0, "{stats}");
    assert_no_copper_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &test.stdout,
        &test.stderr,
        &report.to_string(),
    ]);
}

#[test]
fn copper_stale_timestamp_is_corrected_from_the_date_header() {
    // Copper's clock two minutes ahead of ours: every timestamp we send is stale.
    let sim = copper_sim(&[
        "--seed",
        "74",
        "--trades",
        "20",
        "--no-rate-limit",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = copper_setup(&sim, API_SECRET, false, 100);
    let daemon = Daemon::start(&setup);
    // `test` is refused once, reads Copper's clock off the refusal's Date and retries on it.
    let test = daemon.ctl_json(&["test", NAME]);
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(0);
    assert!((118_000..=122_000).contains(&offset), "{test:#}");
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, &sim.truth());
    let stats = sim.stats();
    assert!(stats["clock_failures"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
}

#[test]
fn copper_rate_limit_answers_are_obeyed() {
    // Six requests a second, far below the 1,000 per 5 minutes the daemon's budget allows
    // in a burst: the sim answers 429 and the daemon waits.
    let sim = copper_sim(&[
        "--seed",
        "75",
        "--trades",
        "60",
        "--deposits",
        "10",
        "--withdrawals",
        "6",
        "--rate-limit",
        "6",
        "--rate-window-ms",
        "1000",
    ]);
    let setup = copper_setup(&sim, API_SECRET, true, 100);
    let daemon = Daemon::start(&setup);
    let mut report = daemon.sync_wait(NAME);
    // Retries ran out on a stream only as `rate_limited`; a later sync resumes from its cursor.
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
fn copper_server_errors_are_retried_and_a_cut_body_is_a_bad_response() {
    let sim = copper_sim(&["--seed", "76", "--trades", "40", "--no-rate-limit"]);
    let setup = copper_setup(&sim, API_SECRET, false, 100);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());

    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(NAME);
    let trades = stream(&report, "trades");
    assert_eq!(trades["result"], "failed", "{trades}");
    assert_eq!(trades["error"]["kind"], "bad_response", "{trades}");
    assert!(
        trades["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Get Orders"),
        "{trades}"
    );
}

#[test]
fn copper_kill_9_in_the_middle_of_a_walk_then_restart_completes_exactly() {
    // Slow answers keep the trades walk going long enough to be killed in the middle of it.
    let sim = copper_sim(&[
        "--seed",
        "77",
        "--trades",
        "900",
        "--no-rate-limit",
        "--slow-ms",
        "100",
    ]);
    let setup = copper_setup_with(&sim, API_SECRET, false, 20, "[streams]\ntrades = \"1h\"\n");
    let mut daemon = Daemon::start(&setup);
    let started = daemon.ctl(&["sync", NAME]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let at_kill = exsync_e2e::daemon::wait_for("some trades to be stored", || {
        let n = daemon.records(NAME, "trade").len();
        (n >= 450).then_some(n)
    });
    daemon.kill9();
    assert!(
        at_kill < 900,
        "the sync ended before the kill ({at_kill} of 900 trades)"
    );
    let pages_before = requests(&sim.stats(), "orders");

    sim.reset_stats();
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_trades_exactly(&daemon, &sim.truth());
    // The walk resumed from its cursor: it read fewer pages than reading every buy and sell
    // order once would take.
    let truth = sim.truth();
    let all = orders_of(&truth, &["buy", "sell"]).len() as u64;
    let pages_after = requests(&sim.stats(), "orders");
    assert!(pages_before > 0, "pages were read before the kill");
    assert!(
        pages_after < all.div_ceil(20),
        "{pages_after} pages read after the restart for {all} orders ({pages_before} before)"
    );
}
