//! The BitMEX connector end to end: the real `exsyncd`, the real
//! `libexsync_plugin_bitmex.so`, `exsync-sim bitmex` on loopback.
//!
//! The simulator's data ends now, so every test computes its integration's `start` from
//! today's date.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "bitmex-main";
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const WRONG_SECRET: &str = "e2eWRONGbitmexSECRETq1w2e3r4t5y6u7i8o9p0AaSsDdFf";

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

/// Each currency's scale, as the simulator's `wallet/assets` lists them.
const SCALES: [(&str, u32); 3] = [("XBt", 8), ("USDt", 6), ("Gwei", 9)];

// ---------------------------------------------------------------------------------------
// Helpers.

/// Starts `exsync-sim bitmex` with the test credentials and `args`. The rate limits are
/// raised far above BitMEX's unless `args` set them: only the rate-limit tests are about
/// pacing.
fn bitmex_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    if !args.contains(&"--private-limit") {
        all.extend(["--private-limit", "100000", "--public-limit", "100000"]);
    }
    all.extend_from_slice(args);
    Sim::start("bitmex", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

/// An installation with the BitMEX plugin and one integration against `sim`.
fn bitmex_setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bitmex.so");
    setup.env("E2E_BITMEX_KEY", API_KEY);
    setup.env("E2E_BITMEX_SECRET", secret);
    setup.integration(INTEGRATION, &integration(&sim.url, start, budget, extra));
    setup
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "bitmex"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_BITMEX_KEY"
api_secret = "env:E2E_BITMEX_SECRET"
{extra}"#
    )
}

/// An integer in `currency`'s smallest unit as the exact decimal the connector must store.
fn scaled(units: &Value, currency: &str) -> String {
    let scale = SCALES
        .iter()
        .find(|(c, _)| *c == currency)
        .unwrap_or_else(|| panic!("no scale for {currency}"))
        .1 as usize;
    let n = units
        .as_i64()
        .unwrap_or_else(|| panic!("{units} is not an integer"));
    let digits = format!("{:0>width$}", n.unsigned_abs(), width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{int}.{frac}")
}

fn keyed(items: &[Value], id: &str) -> Vec<(String, Value)> {
    items.iter().map(|v| (text(&v[id]), v.clone())).collect()
}

fn compare(
    daemon: &Daemon,
    name: &str,
    kind: &str,
    truth: &[(String, Value)],
    mut check: impl FnMut(&str, &Value, &Value),
) {
    let truth: Vec<(String, &Value)> = truth.iter().map(|(id, raw)| (id.clone(), raw)).collect();
    assert_kind_exactly(daemon, name, kind, &truth, |id, rec, raw| {
        check(id, rec, raw)
    });
}

/// Every wallet-history row of the truth, of every currency, oldest first per currency.
fn wallet_rows(truth: &Value) -> Vec<Value> {
    truth["wallet_history"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|rows| rows.as_array().unwrap().clone())
        .collect()
}

/// Asserts that integration `name` holds exactly the simulator's account, every stream, for
/// records at or after `since`.
fn assert_stored_exactly(daemon: &Daemon, name: &str, truth: &Value) {
    let executions: Vec<Value> = truth["executions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["execType"] == "Trade")
        .cloned()
        .collect();
    assert!(!executions.is_empty());
    compare(
        daemon,
        name,
        "trade",
        &keyed(&executions, "execID"),
        |id, rec, raw| {
            for (field, raw_field) in [
                ("symbol", "symbol"),
                ("order_id", "orderID"),
                ("price", "lastPx"),
            ] {
                assert_eq!(
                    text(&rec[field]),
                    text(&raw[raw_field]),
                    "trade {id} {field}"
                );
            }
            let settle = match raw["settlCurrency"].as_str().unwrap() {
                "" => "USDt",
                c => c,
            };
            assert_eq!(text(&rec["fee_asset_native"]), settle, "trade {id}");
            assert_eq!(
                text(&rec["fee_amount"]),
                scaled(&raw["execComm"], settle),
                "trade {id} fee"
            );
            let cost = scaled(&raw["execCost"], settle);
            assert_eq!(
                text(&rec["cost"]),
                cost.trim_start_matches('-'),
                "trade {id} cost"
            );
            if raw["symbol"] == "XBT_USDT" {
                // Spot quantities are satoshis: the amount is in BTC.
                assert_eq!(
                    text(&rec["amount"]),
                    scaled(&raw["lastQty"], "XBt"),
                    "trade {id}"
                );
                assert_eq!(
                    (rec["base"].as_str(), rec["quote"].as_str()),
                    (Some("BTC"), Some("USDT"))
                );
            } else if raw["symbol"] != "ETH_USDT" {
                assert_eq!(
                    text(&rec["amount"]),
                    text(&raw["lastQty"]),
                    "trade {id} contracts"
                );
            }
        },
    );
    let orders = truth["orders"].as_array().unwrap();
    compare(
        daemon,
        name,
        "order",
        &keyed(orders, "orderID"),
        |id, rec, raw| {
            assert_eq!(text(&rec["symbol"]), text(&raw["symbol"]), "order {id}");
            assert_eq!(text(&rec["price"]), text(&raw["price"]), "order {id}");
            let open = raw["ordStatus"] == "New";
            assert_eq!(rec["status"] == "open", open, "order {id} status");
        },
    );
    let rows = wallet_rows(truth);
    compare(
        daemon,
        name,
        "ledger",
        &keyed(&rows, "transactID"),
        |id, rec, raw| {
            let currency = raw["currency"].as_str().unwrap();
            assert_eq!(text(&rec["asset_native"]), currency, "ledger {id}");
            assert_eq!(
                text(&rec["amount"]),
                scaled(&raw["amount"], currency),
                "ledger {id}"
            );
            assert_eq!(
                text(&rec["type"]),
                text(&raw["transactType"]),
                "ledger {id}"
            );
            if !raw["walletBalance"].is_null() {
                assert_eq!(
                    text(&rec["balance_after"]),
                    scaled(&raw["walletBalance"], currency),
                    "ledger {id}"
                );
            }
        },
    );
    for (kind, ty) in [("deposit", "Deposit"), ("withdrawal", "Withdrawal")] {
        let of_type: Vec<Value> = rows
            .iter()
            .filter(|r| r["transactType"] == ty)
            .cloned()
            .collect();
        assert!(!of_type.is_empty(), "no {ty} in the truth");
        compare(
            daemon,
            name,
            kind,
            &keyed(&of_type, "transactID"),
            |id, rec, raw| {
                let currency = raw["currency"].as_str().unwrap();
                let amount = scaled(&raw["amount"], currency);
                assert_eq!(
                    text(&rec["amount"]),
                    amount.trim_start_matches('-'),
                    "{kind} {id}"
                );
                assert_eq!(text(&rec["txid"]), text(&raw["tx"]), "{kind} {id}");
                let status = if raw["transactStatus"] == "Pending" {
                    "pending"
                } else {
                    "ok"
                };
                assert_eq!(rec["status"], status, "{kind} {id}");
            },
        );
    }
    // Balances: one margin account per currency.
    let stored: BTreeMap<String, Value> = daemon
        .records(name, "balance")
        .into_iter()
        .map(|b| {
            (
                format!("{}:{}", text(&b["wallet"]), text(&b["asset_native"])),
                b,
            )
        })
        .collect();
    let margins = truth["margins"].as_array().unwrap();
    let staking = truth["staking"].as_array().unwrap();
    assert!(!staking.is_empty());
    assert_eq!(
        stored.len(),
        margins.len() + staking.len(),
        "balances: {stored:?}"
    );
    for s in staking {
        let currency = s["currency"].as_str().unwrap();
        let rec = &stored[&format!("earn:{currency}")];
        assert_eq!(&rec["raw"], s, "earn {currency}");
        assert_eq!(
            text(&rec["total"]),
            scaled(&s["amount"], currency),
            "earn {currency}"
        );
        assert_eq!(text(&rec["locked"]), text(&rec["total"]), "earn {currency}");
    }
    for m in margins {
        let currency = m["currency"].as_str().unwrap();
        let rec = &stored[&format!("margin:{currency}")];
        assert_eq!(
            text(&rec["total"]),
            scaled(&m["walletBalance"], currency),
            "{currency}"
        );
        assert_eq!(
            text(&rec["free"]),
            scaled(&m["withdrawableMargin"], currency),
            "{currency}"
        );
        assert_eq!(
            rec["raw"]["walletBalance"], m["walletBalance"],
            "{currency} raw"
        );
    }
    assert_eq!(stored["margin:XBt"]["asset"], "BTC");
    assert_eq!(stored["margin:Gwei"]["asset"], "ETH");
}

/// Every closed candle of `XBT_USDT` in `bin` from `start_ms` is stored, exactly.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim, start_ms: i64, timeframe: &str, bin_ms: i64) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/bucketed?symbol=XBT_USDT&binSize={timeframe}&start={start_ms}",
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
    let mut last_open = 0;
    for row in truth {
        let close = parse_close(row["timestamp"].as_str().unwrap());
        let open = close - bin_ms;
        last_open = open;
        // The truth may hold a bin that closed after the sync ended.
        let Some(rec) = stored.get(&open) else {
            assert!(
                close > now_ms() - 5 * 60_000,
                "candle {timeframe} {open} missing"
            );
            continue;
        };
        assert_eq!(&rec["raw"], row, "candle {timeframe} {open}");
        assert_eq!(text(&rec["close"]), text(&row["close"]));
        assert_eq!(rec["base"], "BTC");
    }
    assert!(
        stored.keys().all(|open| *open <= last_open),
        "{timeframe}: a bin not in the truth"
    );
}

/// `2024-01-02T03:00:00.000Z` → ms.
fn parse_close(iso: &str) -> i64 {
    let (date, time) = iso.trim_end_matches('Z').split_once('T').unwrap();
    let mut d = date.split('-').map(|p| p.parse::<i64>().unwrap());
    let (y, m, day) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    let mut t = time.split([':', '.']).map(|p| p.parse::<i64>().unwrap());
    let (h, min) = (t.next().unwrap(), t.next().unwrap());
    // days_from_civil
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * DAY_MS + h * HOUR_MS + min * 60_000
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    let sim = bitmex_sim(&["--seed", "61", "--can-withdraw", "true"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = bitmex_setup(&sim, API_SECRET, &days_ago(200), false, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, INTEGRATION, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1h", HOUR_MS);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1d", DAY_MS);

    // The unrealised-PnL line on top of the XBt wallet history is not a ledger entry.
    let ledger = daemon.records(INTEGRATION, "ledger");
    assert!(ledger.iter().all(|l| l["type"] != "UnrealisedPNL"));

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    // The wallet history was read per currency, found from the account's margin accounts.
    for currency in ["XBt", "USDt", "Gwei"] {
        let key = format!("GET /api/v1/user/walletHistory {currency}");
        assert!(
            stats["by_endpoint_currency"][&key].as_u64().unwrap_or(0) >= 3,
            "{stats}"
        );
    }

    // `test` reports who the key belongs to and what it may do.
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
    let sim = bitmex_sim(&["--seed", "62", "--trades", "1200"]);
    let setup = bitmex_setup(&sim, API_SECRET, &days_ago(200), false, STREAMS);
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
    for endpoint in ["GET /api/v1/execution/tradeHistory", "GET /api/v1/order"] {
        let n = stats["by_endpoint"][endpoint].as_u64().unwrap_or(0);
        assert_eq!(n, 1, "{endpoint} requested {n} times: {stats}");
    }
    // Deposits, withdrawals and the ledger each read one page of each currency.
    for (key, count) in stats["by_endpoint_currency"].as_object().unwrap() {
        assert_eq!(count, 3, "{key}: {stats}");
    }

    // New fills arrive: the next sync picks them up with one request.
    sim.append_trades(7);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint"]["GET /api/v1/execution/tradeHistory"], 1,
        "{stats}"
    );
    let trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap();
    assert_eq!(trades["records"], 7, "{trades}");
    assert_stored_exactly(&daemon, INTEGRATION, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = bitmex_sim(&["--seed", "63", "--trades", "50"]);
    let setup = bitmex_setup(&sim, WRONG_SECRET, &days_ago(20), false, STREAMS);
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
                .contains("Signature not valid"),
            "{s}"
        );
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn expired_requests_follow_bitmexs_clock_unless_the_integration_turns_adjust_clock_off() {
    // BitMEX's clock runs two minutes ahead: every request we sign on our clock has expired on
    // arrival.
    let sim = bitmex_sim(&[
        "--seed",
        "64",
        "--trades",
        "50",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = bitmex_setup(
        &sim,
        API_SECRET,
        &days_ago(20),
        false,
        &format!("{STREAMS}[options]\nadjust_clock = false\n"),
    );
    setup.integration(
        "bitmex-adjusted",
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

    let report = daemon.sync_wait("bitmex-adjusted");
    assert_all_ok(&report);
    let trades = daemon.records("bitmex-adjusted", "trade");
    let since = start_ms_of(20);
    let expected = sim.truth()["executions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["execType"] == "Trade"
                && parse_close(e["transactTime"].as_str().unwrap()) >= since - 60_000
        })
        .count();
    assert!(expected > 0);
    // Times in the truth are rounded down to the minute here: a trade in the minute of the
    // start may fall either side.
    assert!(
        trades.len() <= expected && trades.len() + 5 >= expected,
        "{} of {expected}",
        trades.len()
    );
}

#[test]
fn the_request_budget_keeps_a_sync_under_bitmexs_limit() {
    // BitMEX's own limits (120 signed and 30 public requests a minute): the manifest's
    // budget keeps a sync under them, so the simulator never answers 429.
    let sim = bitmex_sim(&[
        "--seed",
        "65",
        "--trades",
        "600",
        "--history-days",
        "30",
        "--private-limit",
        "120",
        "--public-limit",
        "30",
    ]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = bitmex_setup(&sim, API_SECRET, &days_ago(32), true, &extra);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    assert_stored_exactly(&daemon, INTEGRATION, &sim.truth());
}

#[test]
fn a_429_is_waited_out_and_the_sync_finishes() {
    // Four signed requests per two seconds, and the daemon's pacing off (with it, BitMEX's
    // x-ratelimit-remaining would keep the sync under the limit: `rate_budgets`): only
    // honouring BitMEX's Retry-After saves us.
    let sim = bitmex_sim(&[
        "--seed",
        "66",
        "--trades",
        "300",
        "--history-days",
        "18",
        "--private-limit",
        "4",
        "--public-limit",
        "1000",
        "--limit-window-ms",
        "2000",
    ]);
    let setup = bitmex_setup(&sim, API_SECRET, &days_ago(20), false, STREAMS);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert_stored_exactly(&daemon, INTEGRATION, &sim.truth());
}

#[test]
fn failing_answers_are_retried_and_a_malformed_one_is_a_bad_response() {
    let sim = bitmex_sim(&["--seed", "67", "--trades", "100", "--history-days", "20"]);
    let setup = bitmex_setup(&sim, API_SECRET, &days_ago(21), false, STREAMS);
    let daemon = Daemon::start(&setup);

    // Three 503s in a row ("overloaded"): the requests are sent again, nothing is lost.
    sim.set_faults(serde_json::json!({ "fail_next": { "count": 3, "status": 503 } }));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_eq!(sim.stats()["by_status"]["503"], 3);
    assert_stored_exactly(&daemon, INTEGRATION, &sim.truth());

    // Every answer cut short: each stream fails `bad_response`, saying what it was parsing.
    sim.set_faults(serde_json::json!({ "malformed_rate": 1.0 }));
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("parsing"),
            "{s}"
        );
    }
    assert_no_secrets(&[&daemon.log(), &report.to_string()]);
}

#[test]
fn coverage_reaches_the_start_for_every_stream_and_currency() {
    let sim = bitmex_sim(&["--seed", "68", "--trades", "200", "--history-days", "40"]);
    let setup = bitmex_setup(&sim, API_SECRET, &days_ago(100), false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let start = start_ms_of(100);
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    for name in ["trades", "orders", "ledger", "deposits", "withdrawals"] {
        let stream = coverage["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == name)
            .unwrap_or_else(|| panic!("no {name} coverage: {coverage:#}"));
        let partitions = stream["partitions"].as_array().unwrap();
        let expected = if matches!(name, "trades" | "orders") {
            1
        } else {
            3
        };
        assert_eq!(partitions.len(), expected, "{name}: {stream:#}");
        for partition in partitions {
            // BitMEX keeps all history: nothing is unavailable.
            let unavailable = partition["unavailable"].as_array().map_or(0, Vec::len);
            assert_eq!(unavailable, 0, "{partition:#}");
            let mut synced: Vec<(i64, i64)> = partition["synced"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r["from_ms"].as_i64().unwrap(), r["to_ms"].as_i64().unwrap()))
                .collect();
            synced.sort_unstable();
            assert!(synced[0].0 <= start, "{name} starts late: {partition:#}");
            for w in synced.windows(2) {
                assert!(w[1].0 <= w[0].1, "a gap in {name} coverage: {partition:#}");
            }
            assert!(
                synced.last().unwrap().1 > now_ms() - HOUR_MS,
                "{partition:#}"
            );
        }
    }
}
