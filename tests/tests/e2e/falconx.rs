//! The `falconx` connector end to end: the real `exsyncd`, the real plugin `.so`, and
//! `exsync-sim falconx` on loopback. Full and incremental syncs against the ground truth
//! (derivative options among the trades, NDFs and swaps left out), a wrong secret, a stale
//! timestamp, FalconX's 429, server errors and malformed answers.

use std::collections::BTreeMap;
use std::time::Duration;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::sim::Sim;
use exsync_e2e::truth::{assert_kind_exactly, stored_by_id};
use exsync_e2e::{assert_all_ok, assert_none_leaked, http, streams, text};
use serde_json::Value;

/// The simulated account's credentials: distinctive, so a leak is found by a plain search of
/// every output. The secrets are base64, as FalconX issues them.
const API_KEY: &str = "e2eFALCONXkeyR5t8Y1u4I7o0P3a6S9d2F5g8H1j4K7";
const PASSPHRASE: &str = "e2eFALCONXpassphraseW3e6R9t2Y5";
const SECRET: &str = "ZTJlRkFMQ09OWHNlY3JldFE5dzhFN3I2VDV5NFUzaTJPMXAw";
const WRONG_SECRET: &str = "ZTJlRkFMQ09OWHdyb25nU0VDUkVUejF4MmMzdjRiNW42bTc=";
const NAME: &str = "falconx-main";

/// Every stream FalconX serves: no ledger, no candles.
const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
"#;

/// Starts `exsync-sim falconx` with the test credentials and `args`.
fn falconx_sim(args: &[&str]) -> Sim {
    let mut all = vec![
        "--api-key",
        API_KEY,
        "--passphrase",
        PASSPHRASE,
        "--secret",
        SECRET,
    ];
    all.extend_from_slice(args);
    Sim::start("falconx", &all)
}

/// An installation with the FalconX plugin and one integration against `sim`.
fn falconx_setup(sim: &Sim, secret: &str, start: &str, budget: bool) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_falconx.so");
    setup.env("E2E_FALCONX_KEY", API_KEY);
    setup.env("E2E_FALCONX_PASSPHRASE", PASSPHRASE);
    setup.env("E2E_FALCONX_SECRET", secret);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "falconx"
base_url = "{}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_FALCONX_KEY"
api_secret = "env:E2E_FALCONX_SECRET"
passphrase = "env:E2E_FALCONX_PASSPHRASE"
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

fn assert_no_falconx_secrets(outputs: &[&str]) {
    assert_none_leaked(&[API_KEY, PASSPHRASE, SECRET, WRONG_SECRET], outputs);
}

/// `2024-03-05T10:11:12.345678+00:00` → ms (the fraction truncated), read independently of
/// the plugin. The sim writes UTC only.
fn ms(v: &Value) -> i64 {
    let t = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    assert!(t.ends_with("+00:00") || t.ends_with('Z'), "{t}");
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from civil (H. Hinnant).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let frac = t[19..]
        .strip_prefix('.')
        .map(|f| {
            f.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .map(|f| format!("{f:0<3}")[..3].parse::<i64>().unwrap())
        .unwrap_or(0);
    ((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 + n(17, 19) * 1000 + frac
}

fn quotes(truth: &Value) -> &Vec<Value> {
    truth["quotes"].as_array().unwrap()
}

/// The derivative trades that are options: the ones the connector syncs.
fn options(truth: &Value) -> Vec<&Value> {
    truth["derivatives"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["product"] == "option")
        .collect()
}

/// A decimal's text as `(mantissa, scale)`, read independently of the plugin.
fn decimal(text: &str) -> (i128, u32) {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let mantissa = format!("{int}{frac}")
        .parse()
        .unwrap_or_else(|e| panic!("not a decimal: {text}: {e}"));
    (mantissa, frac.len() as u32)
}

/// `a × b == c`, exactly.
fn product_is(a: &str, b: &str, c: &str) -> bool {
    let ((am, asc), (bm, bsc), (cm, csc)) = (decimal(a), decimal(b), decimal(c));
    let (pm, psc) = (am * bm, asc + bsc);
    let scale = psc.max(csc);
    pm * 10i128.pow(scale - psc) == cm * 10i128.pow(scale - csc)
}

/// `2022-02-26T00:00:00+00:00` → `20220226`.
fn day(v: &Value) -> String {
    text(v)[..10].replace('-', "")
}

/// The transfers of one `type` in the truth, sorted by their JSON text.
fn transfers_of(truth: &Value, kind: &str) -> Vec<Value> {
    let mut list: Vec<Value> = truth["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == kind)
        .cloned()
        .collect();
    list.sort_by_key(|v| v.to_string());
    list
}

/// Asserts that the integration holds exactly the simulator's account.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    // Trades: every filled quote, by FalconX's quote id, and every derivative option, by its
    // trade id (NDFs and swaps are not stored).
    let mut trades: Vec<(String, &Value)> = quotes(truth)
        .iter()
        .filter(|q| q["is_filled"] == true)
        .map(|q| (text(&q["fx_quote_id"]), q))
        .collect();
    trades.extend(
        options(truth)
            .into_iter()
            .map(|d| (text(&d["trade_id"]), d)),
    );
    assert_kind_exactly(daemon, NAME, "trade", &trades, |id, t, raw| {
        let pair = &raw["token_pair"];
        if raw.get("trade_id").is_some() {
            let kind = if raw["option_type"] == "call" {
                "C"
            } else {
                "P"
            };
            let strike = text(&raw["strike_price"]["value"]);
            let strike = strike.trim_end_matches('0').trim_end_matches('.');
            assert_eq!(
                text(&t["symbol"]),
                format!(
                    "{}-{}-{}-{strike}-{kind}",
                    text(&pair["base_token"]),
                    text(&pair["quote_token"]),
                    day(&raw["maturity_date"])
                ),
                "{id}"
            );
            assert_eq!(t["base"], Value::Null, "{id}");
            assert_eq!(t["quote"], raw["premium"]["token"], "{id}");
            assert_eq!(t["side"], raw["side"], "{id}");
            assert_eq!(text(&t["amount"]), text(&raw["quantity"]), "{id}");
            assert_eq!(text(&t["cost"]), text(&raw["premium"]["value"]), "{id}");
            assert!(
                product_is(&text(&t["price"]), &text(&t["amount"]), &text(&t["cost"])),
                "{id}: price x amount is the premium: {t}"
            );
            assert_eq!(t["order_id"], Value::Null, "{id}");
            assert_eq!(t["timestamp"], ms(&raw["trade_date"]), "{id}");
            return;
        }
        assert_eq!(
            text(&t["symbol"]),
            format!(
                "{}-{}",
                text(&pair["base_token"]),
                text(&pair["quote_token"])
            ),
            "{id}"
        );
        assert_eq!(t["base"], pair["base_token"], "{id}");
        assert_eq!(t["quote"], pair["quote_token"], "{id}");
        assert_eq!(t["side"], raw["side_executed"], "{id}");
        assert_eq!(text(&t["price"]), text(&raw["price_executed"]), "{id}");
        assert_eq!(t["amount"], raw["quantity_requested"]["value"], "{id}");
        assert_eq!(text(&t["fee_amount"]), text(&raw["fee_usd"]), "{id}");
        assert_eq!(t["fee_asset_native"], "USD", "{id}");
        assert_eq!(t["order_id"], raw["fx_quote_id"], "{id}");
        assert_eq!(t["timestamp"], ms(&raw["t_execute"]), "{id}");
    });

    // Orders: the quotes placed as orders, filled or not.
    let orders: Vec<(String, &Value)> = quotes(truth)
        .iter()
        .filter(|q| q.get("order_type").is_some())
        .map(|q| (text(&q["fx_quote_id"]), q))
        .collect();
    assert!(orders.iter().any(|(_, q)| q["is_filled"] == false));
    assert_kind_exactly(daemon, NAME, "order", &orders, |id, o, raw| {
        let filled = raw["is_filled"] == true;
        assert_eq!(
            o["status"],
            if filled { "closed" } else { "canceled" },
            "{id}"
        );
        assert_eq!(o["type"], raw["order_type"], "{id}");
        assert_eq!(o["side"], raw["side_requested"], "{id}");
        let amount = text(&raw["quantity_requested"]["value"]);
        assert_eq!(text(&o["filled"]), if filled { amount } else { "0".into() });
        assert_eq!(o["timestamp"], ms(&raw["t_quote"]), "{id}");
    });

    // Deposits and withdrawals: FalconX gives them no id, so they are matched by content.
    for (kind, word) in [("deposit", "deposit"), ("withdrawal", "withdrawal")] {
        let truth = transfers_of(truth, word);
        assert!(!truth.is_empty());
        let stored = stored_by_id(daemon, NAME, kind);
        let mut raws: Vec<Value> = stored.values().map(|r| r["raw"].clone()).collect();
        raws.sort_by_key(|v| v.to_string());
        assert_eq!(raws, truth, "{kind}s stored differ from the exchange's");
        for r in stored.values() {
            let raw = &r["raw"];
            assert_eq!(text(&r["amount"]), text(&raw["quantity"]), "{r}");
            assert_eq!(r["asset_native"], raw["token"], "{r}");
            assert_eq!(r["timestamp"], ms(&raw["t_create"]), "{r}");
            assert_eq!(r["status"], "ok", "{r}");
        }
    }

    // Balances: one per (platform, token), the platform as the wallet, and the derivatives
    // margin per token.
    let balances: BTreeMap<(String, String), Value> = daemon
        .records(NAME, "balance")
        .into_iter()
        .map(|b| ((text(&b["wallet"]), text(&b["asset_native"])), b))
        .collect();
    let truth_balances = truth["balances"].as_array().unwrap();
    let margins = truth["derivatives_margins"].as_array().unwrap();
    assert_eq!(
        balances.len(),
        truth_balances.len() + margins.len(),
        "one per platform and token, one per margin token"
    );
    for raw in margins {
        let key = ("derivatives_margin".to_owned(), text(&raw["token"]));
        let b = balances
            .get(&key)
            .unwrap_or_else(|| panic!("no margin for {key:?}"));
        assert_eq!(&b["raw"], raw, "{key:?}");
        assert_eq!(text(&b["locked"]), text(&raw["total_margin"]), "{key:?}");
        assert_eq!(text(&b["total"]), text(&raw["total_margin"]), "{key:?}");
    }
    for raw in truth_balances {
        let key = (text(&raw["platform"]), text(&raw["token"]));
        let b = balances
            .get(&key)
            .unwrap_or_else(|| panic!("no balance for {key:?}"));
        assert_eq!(&b["raw"], raw, "{key:?}");
        assert_eq!(text(&b["total"]), text(&raw["balance"]), "{key:?}");
    }
    assert!(
        balances.contains_key(&("api".into(), "FXQ".into())),
        "unknown tokens kept"
    );
    assert!(
        balances[&("margin".to_owned(), "ETH".to_owned())]["total"]
            .as_str()
            .is_some_and(|t| t.starts_with('-')),
        "a negative margin balance is kept"
    );
}

fn requests(stats: &Value, path: &str) -> u64 {
    stats["by_endpoint"][format!("GET {path}")]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn falconx_full_sync_stores_exactly_the_ground_truth() {
    let sim = falconx_sim(&["--seed", "71", "--no-rate-limit"]);
    let setup = falconx_setup(&sim, SECRET, "2024-01-01", false);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl_json(&["test", NAME]);
    assert!(test.to_string().contains("margin"), "{test:#}");
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(i64::MAX);
    assert!(offset.abs() <= 2_000, "{test:#}");

    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(streams(&report).len(), 5, "{report}");
    let truth = sim.truth();
    assert!(quotes(&truth).len() >= 400);
    let derivatives = truth["derivatives"].as_array().unwrap();
    assert!(
        options(&truth).len() < derivatives.len(),
        "NDFs or swaps too"
    );
    assert!(!options(&truth).is_empty());
    assert!(!truth["derivatives_margins"].as_array().unwrap().is_empty());
    assert_stored_exactly(&daemon, &truth);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["clock_failures"], 0, "{stats}");
    assert_eq!(stats["window_refusals"], 0, "{stats}");
    // Almost three years in 30-day windows, for trades and for orders; the derivative
    // trades in one request.
    assert!(requests(&stats, "/v1/quotes") >= 2 * 35, "{stats}");
    assert_eq!(requests(&stats, "/v1/derivatives"), 1, "{stats}");
    let coverage = daemon.ctl(&["coverage", NAME]);
    assert_eq!(coverage.code, 0, "{}", coverage.stderr);
    assert_no_falconx_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.to_string(),
        &coverage.stdout,
    ]);
}

#[test]
fn falconx_second_sync_fetches_only_what_is_new() {
    let sim = falconx_sim(&["--seed", "72", "--no-rate-limit", "--quotes", "150"]);
    let setup = falconx_setup(&sim, SECRET, "2024-01-01", false);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));

    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    for name in ["trades", "orders", "deposits", "withdrawals"] {
        assert_eq!(stream(&report, name)["records"], 0, "{name}: {report}");
        // Trades: one window of quotes, and the derivative trades read whole again.
        let pages = if name == "trades" { 2 } else { 1 };
        assert_eq!(stream(&report, name)["pages"], pages, "{name}: {report}");
    }
    let stats = sim.stats();
    // One window each: trades and orders read quotes, deposits and withdrawals transfers.
    assert_eq!(requests(&stats, "/v1/quotes"), 2, "{stats}");
    assert_eq!(requests(&stats, "/v1/derivatives"), 1, "{stats}");
    assert_eq!(requests(&stats, "/v1/transfers"), 2, "{stats}");
    assert_eq!(requests(&stats, "/v1/balances"), 1, "{stats}");

    // New quotes and deposits arrive: the next sync reads one window and stores them.
    let r = http::post(
        &format!("{}/__sim/append", sim.url),
        r#"{"quotes": 7, "deposits": 2}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "trades")["records"], 7, "{report}");
    assert_eq!(stream(&report, "deposits")["records"], 2, "{report}");
    assert_eq!(requests(&sim.stats(), "/v1/quotes"), 2);
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn falconx_wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = falconx_sim(&["--seed", "73", "--quotes", "20", "--no-rate-limit"]);
    let setup = falconx_setup(&sim, WRONG_SECRET, "2026-01-01", false);
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
    assert_no_falconx_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &test.stdout,
        &test.stderr,
        &report.to_string(),
    ]);
}

#[test]
fn falconx_stale_timestamp_is_corrected_from_the_date_header() {
    // FalconX's clock two minutes ahead of ours: every timestamp we send is stale.
    let sim = falconx_sim(&[
        "--seed",
        "74",
        "--quotes",
        "20",
        "--no-rate-limit",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = falconx_setup(&sim, SECRET, "2024-01-01", false);
    let daemon = Daemon::start(&setup);
    // `test` is refused once, reads FalconX's clock off the refusal's Date and retries on it.
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
fn falconx_paced_sync_meets_no_429() {
    // The sim's default budget (10 a second, bursts of 10) and the daemon pacing to the
    // manifest's 8 a second: no request is refused. The account has no derivatives: the
    // margins and the derivative trades are refused, and the balances and trades are synced
    // without them.
    let sim = falconx_sim(&[
        "--seed",
        "75",
        "--history-start",
        "2026-01-01",
        "--no-derivatives",
    ]);
    let setup = falconx_setup(&sim, SECRET, "2026-01-01", true);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    assert!(requests(&stats, "/v1/quotes") >= 2 * 11, "{stats}");
    assert_eq!(requests(&stats, "/v1/derivatives/margins"), 1, "{stats}");
    assert_eq!(requests(&stats, "/v1/derivatives"), 1, "{stats}");
    assert_eq!(stats["by_status"]["403"], 2, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn falconx_rate_limit_answers_are_obeyed() {
    // A bucket of 3 that refills 3 a second, below the 8 the daemon paces to.
    let sim = falconx_sim(&[
        "--seed",
        "76",
        "--history-start",
        "2025-06-01",
        "--quotes",
        "80",
        "--deposits",
        "10",
        "--withdrawals",
        "5",
        "--rate-limit-rps",
        "3",
        "--rate-limit-burst",
        "3",
    ]);
    let setup = falconx_setup(&sim, SECRET, "2025-06-01", true);
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
    let metrics = daemon.metrics();
    assert!(
        metrics.contains("exsync_rate_limit_responses_total{exchange=\"falconx\",status=\"429\"}"),
        "{metrics}"
    );
}

#[test]
fn falconx_server_errors_are_retried_with_fresh_signatures() {
    let sim = falconx_sim(&["--seed", "77", "--quotes", "40", "--no-rate-limit"]);
    let setup = falconx_setup(&sim, SECRET, "2024-01-01", false);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["clock_failures"], 0, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn falconx_malformed_answers_are_bad_responses_naming_the_endpoint() {
    let sim = falconx_sim(&["--seed", "78", "--quotes", "20", "--no-rate-limit"]);
    let setup = falconx_setup(&sim, SECRET, "2026-01-01", false);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        let message = s["error"]["message"].as_str().unwrap();
        assert!(
            [
                "Get Balances",
                "Get Executed Quotes",
                "Get Derivatives",
                "Get Transfers"
            ]
            .iter()
            .any(|e| message.contains(e)),
            "{s}"
        );
    }
    assert_no_falconx_secrets(&[&daemon.log(), &report.to_string()]);
}
