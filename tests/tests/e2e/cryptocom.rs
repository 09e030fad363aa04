//! The Crypto.com Exchange connector end to end: the real `exsyncd`, the real
//! `libexsync_plugin_cryptocom.so`, `exsync-sim cryptocom` on loopback.
//!
//! The simulator's data ends now and reaches back 30 days (less where a test says), so every
//! test computes its integration's `start` from today's date.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "cryptocom-main";
const DAY_MS: i64 = 86_400_000;
const WRONG_SECRET: &str = "e2eWRONGcryptocomSECRETq1w2e3r4t5y6u7i8o9p0AaSs";

const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

const CANDLES: &str = r#"[candles]
symbols = ["BTC/USDT"]
timeframes = ["1h", "1d"]
interval = "1h"
"#;

// ---------------------------------------------------------------------------------------
// Helpers.

/// Starts `exsync-sim cryptocom` with the test credentials and `args`; without limits unless
/// `args` set one: only the rate-limit test is about pacing.
fn cryptocom_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    if !args.iter().any(|a| a.starts_with("--history-per-second")) {
        all.push("--no-rate-limit");
    }
    all.extend_from_slice(args);
    Sim::start("cryptocom", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

/// An installation with the Crypto.com plugin and one integration against `sim`.
fn cryptocom_setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_cryptocom.so");
    setup.env("E2E_CRYPTOCOM_KEY", API_KEY);
    setup.env("E2E_CRYPTOCOM_SECRET", secret);
    // The exchange's base URL names the API version; the simulator serves it there too.
    let url = format!("{}/exchange/v1", sim.url);
    setup.integration(
        INTEGRATION,
        &format!(
            r#"exchange = "cryptocom"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_CRYPTOCOM_KEY"
api_secret = "env:E2E_CRYPTOCOM_SECRET"
{extra}"#
        ),
    );
    setup
}

/// Asserts that the stored records of `kind` are exactly `truth`, with `fields` (stored
/// field, raw field) equal digit for digit.
fn compare(daemon: &Daemon, kind: &str, truth: &[Value], id: &str, fields: &[(&str, &str)]) {
    let truth: Vec<(String, &Value)> = truth.iter().map(|v| (text(&v[id]), v)).collect();
    assert!(!truth.is_empty(), "no {kind} in the truth");
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
    truth[key].as_array().unwrap().clone()
}

/// The fee paid: the exchange's signed `fees`, negated.
fn negated(v: &Value) -> String {
    let t = text(v);
    match t.strip_prefix('-') {
        Some(p) => p.to_owned(),
        None if t.trim_matches(|c| c == '0' || c == '.').is_empty() => t,
        None => format!("-{t}"),
    }
}

/// Asserts that the integration holds exactly the simulator's account, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let trades = list(truth, "trades");
    compare(
        daemon,
        "trade",
        &trades,
        "trade_id",
        &[
            ("symbol", "instrument_name"),
            ("order_id", "order_id"),
            ("price", "traded_price"),
            ("amount", "traded_quantity"),
            ("fee_asset_native", "fee_instrument_name"),
            ("timestamp", "create_time"),
        ],
    );
    let stored = daemon.records(INTEGRATION, "trade");
    let by_id: BTreeMap<String, &Value> =
        trades.iter().map(|t| (text(&t["trade_id"]), t)).collect();
    for rec in &stored {
        let raw = by_id[&text(&rec["id"])];
        assert_eq!(text(&rec["fee_amount"]), negated(&raw["fees"]), "{rec}");
    }
    compare(
        daemon,
        "order",
        &list(truth, "orders"),
        "order_id",
        &[
            ("symbol", "instrument_name"),
            ("filled", "cumulative_quantity"),
            ("amount", "quantity"),
            ("timestamp", "create_time"),
            ("updated", "update_time"),
        ],
    );
    // The ledger: the journal by its ids, and the staking rewards (which the exchange gives
    // no id) by staking instrument, reward instrument and millisecond.
    let journal = list(truth, "transactions");
    let rewards = list(truth, "staking_rewards");
    assert!(!journal.is_empty() && !rewards.is_empty());
    let mut ledger: Vec<(String, &Value)> = journal
        .iter()
        .map(|e| (text(&e["journal_id"]), e))
        .collect();
    ledger.extend(rewards.iter().map(|r| {
        let id = format!(
            "reward:{}:{}:{}",
            text(&r["staking_inst_name"]),
            text(&r["reward_inst_name"]),
            text(&r["event_timestamp_ms"])
        );
        (id, r)
    }));
    assert_kind_exactly(daemon, INTEGRATION, "ledger", &ledger, |id, rec, raw| {
        let fields: &[(&str, &str)] = if id.starts_with("reward:") {
            assert_eq!(rec["type"], "reward", "ledger {id}");
            assert_eq!(rec["asset"], raw["underlying_inst_name"], "ledger {id}");
            &[
                ("amount", "reward_quantity"),
                ("asset_native", "reward_inst_name"),
                ("timestamp", "event_timestamp_ms"),
            ]
        } else {
            &[
                ("amount", "transaction_qty"),
                ("asset_native", "instrument_name"),
                ("timestamp", "event_timestamp_ms"),
            ]
        };
        for (field, raw_field) in fields {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "ledger {id}: {field} differs from raw {raw_field}"
            );
        }
    });
    compare(
        daemon,
        "deposit",
        &list(truth, "deposits"),
        "id",
        &[
            ("amount", "amount"),
            ("asset_native", "currency"),
            ("timestamp", "create_time"),
            ("network", "network_id"),
        ],
    );
    compare(
        daemon,
        "withdrawal",
        &list(truth, "withdrawals"),
        "id",
        &[
            ("amount", "amount"),
            ("fee_amount", "fee"),
            ("asset_native", "currency"),
            ("timestamp", "create_time"),
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
    let unified = truth["balances"]["unified"].as_array().unwrap();
    let earn = truth["balances"]["earn"].as_array().unwrap();
    let subaccounts = truth["balances"]["subaccounts"].as_array().unwrap();
    let sub_positions: Vec<(String, &Value)> = subaccounts
        .iter()
        .flat_map(|a| {
            a["position_balances"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (text(&a["account"]), p))
        })
        .collect();
    assert!(!sub_positions.is_empty());
    assert_eq!(
        stored.len(),
        unified.len() + earn.len() + sub_positions.len(),
        "balances: {stored:?}"
    );
    // Each sub-account's balances sit in a wallet named after it, apart from the master's.
    for (account, p) in &sub_positions {
        let key = format!("subaccount:{account}:{}", text(&p["instrument_name"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], *p, "{key} raw");
        assert_eq!(text(&rec["total"]), text(&p["quantity"]), "{key} total");
        assert_eq!(text(&rec["free"]), text(&p["quantity"]), "{key} free");
        assert_eq!(text(&rec["locked"]), "0", "{key} locked");
    }
    for b in unified {
        let key = format!("unified:{}", text(&b["instrument_name"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], b, "{key} raw");
        assert_eq!(text(&rec["total"]), text(&b["quantity"]), "{key} total");
        assert_eq!(
            text(&rec["locked"]),
            text(&b["reserved_qty"]),
            "{key} locked"
        );
    }
    for p in earn {
        let key = format!("earn:{}", text(&p["underlying_inst_name"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], p, "{key} raw");
        assert_eq!(text(&rec["free"]), "0", "{key} free");
        assert_eq!(
            text(&rec["total"]),
            text(&p["staked_quantity"]),
            "{key} total"
        );
    }
}

/// Every closed candle of BTC_USDT in `timeframe` from `start_ms` is stored, exactly.
fn assert_candles_exactly(
    daemon: &Daemon,
    sim: &Sim,
    start_ms: i64,
    timeframe: &str,
    native: &str,
) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/candles?instrument_name=BTC_USDT&timeframe={native}&start={start_ms}",
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
        let open = text(&row["t"]);
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {timeframe} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {timeframe} {open}");
        assert_eq!(rec["final"], true, "candle {timeframe} {open}");
        assert_eq!(text(&rec["close"]), text(&row["c"]));
        assert_eq!(rec["base"], "BTC");
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
    // Enough records that days hold more than a page of trades and of journal entries, the
    // deposit window more than a page of deposits and the reward window more than a page of
    // staking rewards.
    // Twelve staking rewards a day for each of two currencies: more than the 500 a request
    // holds in the 180-day window.
    let sim = cryptocom_sim(&[
        "--seed",
        "61",
        "--trades",
        "3000",
        "--deposits",
        "450",
        "--rewards-per-day",
        "12",
    ]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = cryptocom_setup(&sim, API_SECRET, &days_ago(35), false, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(35), "1h", "1h");
    assert_candles_exactly(&daemon, &sim, start_ms_of(35), "1d", "1D");

    // The exchange's own code for USDC is kept next to the common one.
    let usdc: Vec<Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .filter(|b| b["asset_native"] == "USD_STABLE_COIN")
        .collect();
    assert_eq!(usdc.len(), 1, "{usdc:?}");
    assert_eq!(usdc[0]["asset"], "USDC");

    // Orders still open come from the open-orders method and are stored as open.
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let truth_open = list(&truth, "orders")
        .iter()
        .filter(|o| matches!(o["status"].as_str(), Some("NEW" | "ACTIVE")))
        .count();
    assert!(truth_open > 0);
    assert_eq!(open, truth_open);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    // 36 daily windows (and the forward one), some of them read in several pages.
    let requests = |m: &str| stats["by_method"][m].as_u64().unwrap_or(0);
    assert!(requests("private/get-trades") > 37, "{stats}");
    assert!(requests("private/get-transactions") > 60, "{stats}");
    assert!(requests("private/get-deposit-history") >= 3, "{stats}");
    // 720 rewards, 500 a page, one 180-day window: two pages (and the boundary read again).
    assert!(
        requests("private/staking/get-reward-history") >= 2,
        "{stats}"
    );
    assert_eq!(requests("private/get-subaccount-balances"), 1, "{stats}");

    // `test` reports who the key belongs to.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    assert!(
        test.to_string().contains(&text(&truth["account_uuid"])),
        "{test:#}"
    );

    assert_no_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.to_string(),
    ]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = cryptocom_sim(&["--seed", "62", "--trades", "300", "--history-days", "10"]);
    let setup = cryptocom_setup(&sim, API_SECRET, &days_ago(12), false, STREAMS);
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
    for (method, count) in stats["by_method"].as_object().unwrap() {
        assert!(
            count.as_u64().unwrap() <= 1,
            "{method} was requested {count} times in a sync with nothing new: {stats}"
        );
    }

    // New fills arrive: the next sync picks them up with one request.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(stats["by_method"]["private/get-trades"], 1, "{stats}");
    let trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap();
    assert_eq!(trades["records"], 7, "{trades}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = cryptocom_sim(&["--seed", "63", "--trades", "50", "--history-days", "5"]);
    let setup = cryptocom_setup(&sim, WRONG_SECRET, &days_ago(6), false, STREAMS);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("40101"),
            "{s}"
        );
    }
    assert!(sim.stats()["by_code"]["40101"].as_u64().unwrap() > 0);
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn a_nonce_off_the_exchanges_clock_follows_its_clock_read_from_the_date_header() {
    // The exchange's clock runs two minutes ahead: every nonce on ours is outside its 60 s
    // window.
    let sim = cryptocom_sim(&[
        "--seed",
        "64",
        "--trades",
        "20",
        "--history-days",
        "3",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = cryptocom_setup(&sim, API_SECRET, &days_ago(4), false, STREAMS);
    let daemon = Daemon::start(&setup);
    // The first nonce is refused; the plugin reads the exchange's clock off the refusal's Date
    // header and takes every later nonce on it.
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(0);
    assert!((118_000..=122_000).contains(&offset), "{test:#}");
}

#[test]
fn the_exchanges_rate_limits_are_kept_and_the_sync_finishes() {
    // The exchange's own limits (one history request a second, three others per 100 ms) and
    // the daemon's budget from the manifest: the sync paces itself and completes.
    let sim = cryptocom_sim(&[
        "--seed",
        "65",
        "--trades",
        "150",
        "--history-days",
        "6",
        "--history-per-second",
        "1",
    ]);
    let setup = cryptocom_setup(&sim, API_SECRET, &days_ago(7), true, STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, &sim.truth());
    let stats = sim.stats();
    // The budget keeps a margin over the exchange's windows, so normally no request meets a
    // 429; one held up on the way may, and is waited out and sent again.
    let limited = stats["by_status"]["429"].as_u64().unwrap_or(0);
    let total = stats["requests_total"].as_u64().unwrap();
    assert!(
        limited * 10 <= total,
        "{limited} of {total} requests limited: {stats}"
    );
}

#[test]
fn server_errors_are_retried_and_a_broken_answer_is_a_bad_response() {
    let sim = cryptocom_sim(&["--seed", "66", "--trades", "80", "--history-days", "4"]);
    let setup = cryptocom_setup(&sim, API_SECRET, &days_ago(5), false, STREAMS);
    let daemon = Daemon::start(&setup);

    // Two 503s in a row: the host sends the (re-signed) request again and the sync completes.
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_eq!(sim.stats()["by_status"]["503"], 2, "{}", sim.stats());
    assert_stored_exactly(&daemon, &sim.truth());

    // Every answer cut short: each stream fails `bad_response`, naming what it was fetching.
    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("while fetching"),
            "{s}"
        );
    }
    assert_no_secrets(&[&daemon.log(), &report.to_string()]);
}

#[test]
fn history_before_the_exchange_opened_is_reported_unavailable_and_the_rest_covered() {
    let sim = cryptocom_sim(&["--seed", "67", "--trades", "20", "--history-days", "20"]);
    let streams = "[streams]\ndeposits = \"1h\"\nwithdrawals = \"1h\"\n";
    let setup = cryptocom_setup(&sim, API_SECRET, "2019-01-01", false, streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    // The walk ends at the exchange's launch, 2019-11-14.
    let (start, launch) = (1_546_300_800_000_i64, 1_573_689_600_000_i64);
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    for name in ["deposits", "withdrawals"] {
        let stream = coverage["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == name)
            .unwrap_or_else(|| panic!("no {name} coverage: {coverage:#}"));
        let partition = &stream["partitions"][0];
        let unavailable = partition["unavailable"].as_array().unwrap();
        assert_eq!(unavailable.len(), 1, "{partition:#}");
        assert_eq!(unavailable[0]["from_ms"], start, "{partition:#}");
        assert_eq!(unavailable[0]["to_ms"], launch, "{partition:#}");
        let mut synced: Vec<(i64, i64)> = partition["synced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["from_ms"].as_i64().unwrap(), r["to_ms"].as_i64().unwrap()))
            .collect();
        synced.sort_unstable();
        assert_eq!(synced[0].0, launch, "{partition:#}");
        for w in synced.windows(2) {
            assert!(w[1].0 <= w[0].1, "a gap in {name} coverage: {partition:#}");
        }
        assert!(
            synced.last().unwrap().1 > now_ms() - DAY_MS,
            "{partition:#}"
        );
    }
    let truth = sim.truth();
    assert_eq!(
        daemon.records(INTEGRATION, "deposit").len(),
        list(&truth, "deposits").len()
    );
}
