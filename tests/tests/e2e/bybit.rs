//! The Bybit connector end to end: the real `exsyncd`, the real `libexsync_plugin_bybit.so`,
//! `exsync-sim bybit` on loopback.
//!
//! Bybit serves two years of history only, so the simulator's data ends today and every test
//! computes its integration's `start` from today's date.

use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, streams, text};
use std::collections::BTreeMap;

use exsync_e2e::assert_no_secrets;
use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

const INTEGRATION: &str = "bybit-main";
const DAY_MS: i64 = 86_400_000;
const WRONG_SECRET: &str = "e2eWRONGbybitSECRETq1w2e3r4t5y6u7i8o9p0AaSsDdFf";

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

/// Starts `exsync-sim bybit` with the test credentials and `args`. The per-UID limit is
/// raised far above Bybit's unless `args` set it: only the rate-limit test is about pacing.
fn bybit_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    if !args.contains(&"--uid-limit") {
        all.extend(["--uid-limit", "10000"]);
    }
    all.extend_from_slice(args);
    Sim::start("bybit", &all)
}

/// An installation with the Bybit plugin and one integration against `sim`.
fn bybit_setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bybit.so");
    setup.env("E2E_BYBIT_KEY", API_KEY);
    setup.env("E2E_BYBIT_SECRET", secret);
    setup.integration(INTEGRATION, &integration(&sim.url, start, budget, extra));
    setup
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "bybit"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_BYBIT_KEY"
api_secret = "env:E2E_BYBIT_SECRET"
{extra}"#
    )
}

/// Asserts that the stored records of `kind` are exactly `truth` (`(id, raw)`), with `fields`
/// (stored field, raw field) equal digit for digit.
fn compare(daemon: &Daemon, kind: &str, truth: &[(String, Value)], fields: &[(&str, &str)]) {
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

fn flat(truth: &Value, key: &str) -> Vec<Value> {
    match &truth[key] {
        Value::Object(by_category) => by_category
            .values()
            .flat_map(|v| v.as_array().unwrap().clone())
            .collect(),
        Value::Array(list) => list.clone(),
        other => panic!("truth.{key} is {other}"),
    }
}

fn keyed(items: Vec<Value>, id: &str) -> Vec<(String, Value)> {
    items.into_iter().map(|v| (text(&v[id]), v)).collect()
}

/// Asserts that the integration holds exactly the simulator's account, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    // Funding fees are listed among executions but belong to the ledger.
    let trades: Vec<Value> = flat(truth, "executions")
        .into_iter()
        .filter(|e| e["execType"] != "Funding")
        .collect();
    assert!(!trades.is_empty());
    compare(
        daemon,
        "trade",
        &keyed(trades, "execId"),
        &[
            ("symbol", "symbol"),
            ("order_id", "orderId"),
            ("price", "execPrice"),
            ("amount", "execQty"),
            ("cost", "execValue"),
            ("fee_amount", "execFee"),
            ("fee_asset_native", "feeCurrency"),
            ("timestamp", "execTime"),
        ],
    );
    compare(
        daemon,
        "order",
        &keyed(flat(truth, "orders"), "orderId"),
        &[
            ("symbol", "symbol"),
            ("filled", "cumExecQty"),
            ("amount", "qty"),
            ("timestamp", "createdTime"),
            ("updated", "updatedTime"),
        ],
    );
    compare(
        daemon,
        "ledger",
        &keyed(flat(truth, "transaction_log"), "id"),
        &[
            ("amount", "change"),
            ("balance_after", "cashBalance"),
            ("asset_native", "currency"),
            ("timestamp", "transactionTime"),
        ],
    );
    compare(
        daemon,
        "deposit",
        &keyed(flat(truth, "deposits"), "id"),
        &[
            ("amount", "amount"),
            ("asset_native", "coin"),
            ("timestamp", "successAt"),
            ("network", "chain"),
        ],
    );
    compare(
        daemon,
        "withdrawal",
        &keyed(flat(truth, "withdrawals"), "withdrawId"),
        &[
            ("amount", "amount"),
            ("fee_amount", "withdrawFee"),
            ("asset_native", "coin"),
            ("timestamp", "createTime"),
        ],
    );

    // Balances have no exchange id: wallet and coin.
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
    let spot = truth["balances"]["spot"].as_array().unwrap();
    let contract = truth["balances"]["contract"].as_array().unwrap();
    let funding = truth["balances"]["funding"].as_array().unwrap();
    let earn = truth["balances"]["earn"].as_array().unwrap();
    assert_eq!(
        stored.len(),
        unified.len() + spot.len() + contract.len() + funding.len() + earn.len(),
        "balances: {stored:?}"
    );
    // A classic account's wallets: spot (Bybit's own `free`), and contract as `futures`.
    for (wallet, coins) in [("spot", spot), ("futures", contract)] {
        for b in coins {
            let key = format!("{wallet}:{}", text(&b["coin"]));
            let rec = stored
                .get(&key)
                .unwrap_or_else(|| panic!("no balance {key}"));
            assert_eq!(&rec["raw"], b, "{key} raw");
            assert_eq!(
                text(&rec["total"]),
                text(&b["walletBalance"]),
                "{key} total"
            );
            assert_eq!(text(&rec["locked"]), text(&b["locked"]), "{key} locked");
            if wallet == "spot" {
                assert_eq!(text(&rec["free"]), text(&b["free"]), "{key} free");
            } else {
                assert_eq!(text(&rec["free"]), text(&b["walletBalance"]), "{key} free");
            }
        }
    }
    // The simulated account holds one Earn position per coin: each is its coin's balance.
    for p in earn {
        let key = format!("earn:{}", text(&p["coin"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(rec["raw"], Value::Array(vec![p.clone()]), "{key} raw");
        assert_eq!(text(&rec["total"]), text(&p["amount"]), "{key} total");
        assert_eq!(text(&rec["locked"]), text(&p["amount"]), "{key} locked");
    }
    for b in unified {
        let key = format!("unified:{}", text(&b["coin"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], b, "{key} raw");
        assert_eq!(
            text(&rec["total"]),
            text(&b["walletBalance"]),
            "{key} total"
        );
        assert_eq!(text(&rec["locked"]), text(&b["locked"]), "{key} locked");
    }
    for b in funding {
        let key = format!("funding:{}", text(&b["coin"]));
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], b, "{key} raw");
        assert_eq!(
            text(&rec["total"]),
            text(&b["walletBalance"]),
            "{key} total"
        );
        assert_eq!(
            text(&rec["free"]),
            text(&b["transferBalance"]),
            "{key} free"
        );
    }
}

/// Every closed candle of `symbol` in `interval` from `start` is stored, exactly.
fn assert_candles_exactly(
    daemon: &Daemon,
    sim: &Sim,
    start_ms: i64,
    timeframe: &str,
    interval: &str,
) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/klines?category=spot&symbol=BTCUSDT&interval={interval}&start={start_ms}",
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
        let open = text(&row[0]);
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {timeframe} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {timeframe} {open}");
        assert_eq!(rec["final"], true, "candle {timeframe} {open}");
        assert_eq!(text(&rec["close"]), text(&row[4]));
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

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    let sim = bybit_sim(&["--seed", "51"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = bybit_setup(&sim, API_SECRET, &days_ago(200), false, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1h", "60");
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1d", "D");

    // An asset no other venue lists is stored as received.
    let odd: Vec<Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .filter(|b| b["asset_native"] == "币安人生" && b["wallet"] == "unified")
        .collect();
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!(odd[0]["asset"], "币安人生");

    // Orders still open come from the open-orders endpoint and are stored as open.
    let open: Vec<Value> = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .collect();
    let truth_open = flat(&truth, "orders")
        .iter()
        .filter(|o| o["orderStatus"] == "New")
        .count();
    assert!(truth_open > 0);
    assert_eq!(open.len(), truth_open);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(stats["by_status"].get("403").is_none(), "{stats}");

    // `test` reports who the key belongs to and what it may do.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let shown = test.to_string();
    assert!(shown.contains(&text(&truth["user_id"])), "{test:#}");
    assert_eq!(test["can_withdraw"], true, "{test:#}");

    assert_no_secrets(&[&daemon.log(), &daemon.metrics(), &report.to_string()]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = bybit_sim(&["--seed", "52", "--trades", "600"]);
    let setup = bybit_setup(&sim, API_SECRET, &days_ago(200), false, STREAMS);
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
    for (key, count) in stats["by_endpoint_category"].as_object().unwrap() {
        // Open linear orders are asked for once per settle coin (USDT, USDC).
        let allowed = if key == "GET /v5/order/realtime linear" {
            2
        } else {
            1
        };
        assert!(
            count.as_u64().unwrap() <= allowed,
            "{key} was requested {count} times in a sync with nothing new: {stats}"
        );
    }
    for endpoint in [
        "GET /v5/account/transaction-log",
        "GET /v5/asset/deposit/query-record",
        "GET /v5/asset/withdraw/query-record",
    ] {
        let n = stats["by_endpoint"][endpoint].as_u64().unwrap_or(0);
        assert_eq!(n, 1, "{endpoint} requested {n} times: {stats}");
    }

    // New fills arrive: the next sync picks them up with one request per category.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint_category"]["GET /v5/execution/list spot"], 1,
        "{stats}"
    );
    let trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap();
    assert_eq!(trades["records"], 7, "{trades}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = bybit_sim(&["--seed", "53", "--trades", "50"]);
    let setup = bybit_setup(&sim, WRONG_SECRET, &days_ago(20), false, STREAMS);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("10004"),
            "{s}"
        );
    }
    assert!(sim.stats()["by_ret_code"]["10004"].as_u64().unwrap() > 0);
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn stale_timestamp_is_followed_by_default_and_a_clock_error_with_adjust_clock_off() {
    // The integration that opts out (`adjust_clock = false`) fails `clock`; the default
    // follows the exchange's clock (issue 9).
    // Bybit's clock runs a minute ahead: every timestamp we sign is outside the 5 s window.
    let sim = bybit_sim(&[
        "--seed",
        "54",
        "--trades",
        "50",
        "--clock-offset-ms",
        "60000",
    ]);
    let setup = bybit_setup(
        &sim,
        API_SECRET,
        &days_ago(20),
        false,
        &format!("{STREAMS}[options]\nadjust_clock = false\n"),
    );
    setup.integration(
        "bybit-adjusted",
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
    assert!(sim.stats()["by_ret_code"]["10002"].as_u64().unwrap() > 0);

    let report = daemon.sync_wait("bybit-adjusted");
    assert_all_ok(&report);
    let trades = daemon.records("bybit-adjusted", "trade");
    let truth = sim.truth();
    let since = start_ms_of(20);
    let expected = flat(&truth, "executions")
        .iter()
        .filter(|e| {
            e["execType"] == "Trade" && text(&e["execTime"]).parse::<i64>().unwrap() >= since
        })
        .count();
    assert_eq!(trades.len(), expected);
}

#[test]
fn the_per_uid_rate_limit_is_waited_out_and_the_sync_finishes() {
    // Three requests a second per endpoint, well below what the manifest's budget allows, so
    // the daemon's own pacing does not save us: only waiting for Bybit's reset time does.
    let sim = bybit_sim(&[
        "--seed",
        "55",
        "--trades",
        "300",
        "--history-days",
        "18",
        "--uid-limit",
        "3",
    ]);
    let setup = bybit_setup(&sim, API_SECRET, &days_ago(20), true, STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_ret_code"]["10006"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert!(stats["by_status"].get("403").is_none(), "banned: {stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn history_beyond_two_years_is_reported_unavailable_and_the_rest_covered() {
    let sim = bybit_sim(&["--seed", "56", "--trades", "50", "--history-days", "30"]);
    let streams = "[streams]\nledger = \"1h\"\ndeposits = \"1h\"\n";
    let setup = bybit_setup(&sim, API_SECRET, &days_ago(3 * 365), false, streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let start = start_ms_of(3 * 365);
    let reach = now_ms() - 730 * DAY_MS;
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    for name in ["ledger", "deposits"] {
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
        let to = unavailable[0]["to_ms"].as_i64().unwrap();
        assert!(
            (to - reach).abs() < DAY_MS,
            "unavailable ends at the reach: {partition:#}"
        );
        // Synced from there to now, without a gap.
        let mut synced: Vec<(i64, i64)> = partition["synced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["from_ms"].as_i64().unwrap(), r["to_ms"].as_i64().unwrap()))
            .collect();
        synced.sort_unstable();
        assert_eq!(synced[0].0, to, "{partition:#}");
        for w in synced.windows(2) {
            assert!(w[1].0 <= w[0].1, "a gap in {name} coverage: {partition:#}");
        }
        assert!(
            synced.last().unwrap().1 > now_ms() - DAY_MS,
            "{partition:#}"
        );
    }
    assert_eq!(
        sim.stats()["by_status"].as_object().unwrap().len(),
        1,
        "only 200s"
    );
}

#[test]
fn a_classic_accounts_spot_and_contract_wallets_are_stored_exactly() {
    let sim = bybit_sim(&["--seed", "58", "--classic", "--history-days", "30"]);
    let balances_only = "[streams]\nbalances = \"1h\"\n";
    let setup = bybit_setup(&sim, API_SECRET, &days_ago(40), false, balances_only);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let truth = sim.truth();
    let spot = truth["balances"]["spot"].as_array().unwrap();
    let contract = truth["balances"]["contract"].as_array().unwrap();
    assert!(truth["balances"]["unified"].as_array().unwrap().is_empty());
    assert!(spot.len() > 3 && !contract.is_empty(), "{truth:#}");
    assert!(
        spot.iter().any(|c| c["locked"] != "0"),
        "open orders lock spot coins"
    );
    let stored = daemon.records(INTEGRATION, "balance");
    let spot_stored = stored.iter().filter(|b| b["wallet"] == "spot").count();
    assert_eq!(spot_stored, spot.len(), "{stored:#?}");
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint"]["GET /v5/account/wallet-balance"], 2,
        "SPOT and CONTRACT: {stats}"
    );
    assert_eq!(
        stats["by_ret_code"],
        serde_json::json!({ "0": stats["requests_total"] }),
        "no request was refused: {stats}"
    );
    // The ground truth, wallet by wallet, with the other wallets of the account.
    let mut records = BTreeMap::new();
    for b in &stored {
        records.insert(
            format!("{}:{}", text(&b["wallet"]), text(&b["asset_native"])),
            b.clone(),
        );
    }
    for c in spot {
        let rec = &records[&format!("spot:{}", text(&c["coin"]))];
        assert_eq!(&rec["raw"], c);
        assert_eq!(text(&rec["free"]), text(&c["free"]));
        assert_eq!(text(&rec["locked"]), text(&c["locked"]));
        assert_eq!(text(&rec["total"]), text(&c["walletBalance"]));
    }
    for c in contract {
        let rec = &records[&format!("futures:{}", text(&c["coin"]))];
        assert_eq!(&rec["raw"], c);
        assert_eq!(text(&rec["total"]), text(&c["walletBalance"]));
    }
    let funding = truth["balances"]["funding"].as_array().unwrap().len();
    let earn = truth["balances"]["earn"].as_array().unwrap().len();
    assert_eq!(stored.len(), spot.len() + contract.len() + funding + earn);
}

#[test]
fn a_classic_accounts_ledger_is_its_contract_wallet_log_exactly() {
    // 30 days of 1,200 fills: the contract wallet logs more than one page (50) per 7-day window.
    let sim = bybit_sim(&["--seed", "57", "--classic", "--history-days", "30"]);
    let ledger_only = "[streams]\nledger = \"1h\"\n";
    let setup = bybit_setup(&sim, API_SECRET, &days_ago(40), false, ledger_only);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl_json(&["test", INTEGRATION]);
    assert!(test.to_string().contains("classic account"), "{test:#}");

    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let truth = sim.truth();
    let log = flat(&truth, "transaction_log");
    assert!(log.len() > 50, "one page only: {}", log.len());
    assert!(log.iter().all(|r| r["category"] != "spot"));
    compare(
        &daemon,
        "ledger",
        &keyed(log, "id"),
        &[
            ("amount", "change"),
            ("balance_after", "cashBalance"),
            ("asset_native", "currency"),
            ("timestamp", "transactionTime"),
        ],
    );
    let stats = sim.stats();
    assert!(
        stats["by_endpoint"]["GET /v5/account/transaction-log"].is_null(),
        "a classic account asked for the unified log: {stats}"
    );

    // Nothing new: one request to the contract log, nothing stored.
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let ledger = streams(&report)
        .iter()
        .find(|s| s["stream"] == "ledger")
        .unwrap()
        .clone();
    assert_eq!(ledger["records"], 0, "{ledger}");
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint"]["GET /v5/account/contract-transaction-log"], 1,
        "{stats}"
    );
}
