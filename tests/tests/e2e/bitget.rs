//! The Bitget connector end to end: the real `exsyncd`, the real `libexsync_plugin_bitget.so`,
//! `exsync-sim bitget` on loopback.
//!
//! Bitget serves fills, orders and bills of the last 90 days only, so the simulator's data
//! ends today and every test computes its integration's `start` from today's date.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, assert_none_leaked, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "bitget-main";
const DAY_MS: i64 = 86_400_000;
/// The passphrase of the simulated account: distinctive, so a leak is found by a search.
const PASSPHRASE: &str = "e2ePASSbitgetW7x8y9z0Q1w2e3";
const WRONG_SECRET: &str = "e2eWRONGbitgetSECRETq1w2e3r4t5y6u7i8o9p0";
const WRONG_PASSPHRASE: &str = "e2eWRONGbitgetPASSa1s2d3";

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

/// Starts `exsync-sim bitget` with the test credentials and `args`. The per-endpoint limit is
/// raised far above Bitget's unless `args` set it: only the rate-limit tests are about pacing.
fn bitget_sim(args: &[&str]) -> Sim {
    let mut all = vec![
        "--api-key",
        API_KEY,
        "--api-secret",
        API_SECRET,
        "--passphrase",
        PASSPHRASE,
    ];
    // `--uid-limit-documented` (a flag of this helper only): keep Bitget's own limits.
    let documented = args.contains(&"--uid-limit-documented");
    if !args.contains(&"--uid-limit") && !documented {
        all.extend(["--uid-limit", "10000", "--ip-limit", "1000000"]);
    }
    all.extend(args.iter().filter(|a| **a != "--uid-limit-documented"));
    Sim::start("bitget", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

/// An installation with the Bitget plugin and one integration against `sim`.
fn bitget_setup(sim: &Sim, secret: &str, passphrase: &str, start: &str, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bitget.so");
    setup.env("E2E_BITGET_KEY", API_KEY);
    setup.env("E2E_BITGET_SECRET", secret);
    setup.env("E2E_BITGET_PASSPHRASE", passphrase);
    setup.integration(INTEGRATION, &integration(&sim.url, start, false, extra));
    setup
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "bitget"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_BITGET_KEY"
api_secret = "env:E2E_BITGET_SECRET"
passphrase = "env:E2E_BITGET_PASSPHRASE"
{extra}"#
    )
}

fn assert_nothing_leaked(outputs: &[&str]) {
    assert_no_secrets(outputs);
    assert_none_leaked(&[PASSPHRASE], outputs);
}

/// A text amount without its sign (Bitget writes fees negative; they are stored positive).
fn unsigned(v: &Value) -> String {
    text(v).trim_start_matches('-').to_owned()
}

/// Asserts that the stored records of `kind` are exactly `truth` (`(id, raw)`), with the
/// `fields` of each raw object (stored field, raw field) equal digit for digit.
fn compare(
    daemon: &Daemon,
    kind: &str,
    truth: &[(String, Value)],
    fields: impl Fn(&Value) -> Vec<(&'static str, &'static str)>,
) {
    let truth: Vec<(String, &Value)> = truth.iter().map(|(id, raw)| (id.clone(), raw)).collect();
    assert_kind_exactly(daemon, INTEGRATION, kind, &truth, |id, rec, raw| {
        for (field, raw_field) in fields(raw) {
            assert_eq!(
                text(&rec[field]),
                text(&raw[raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
    });
}

/// The futures records of the truth, `(product type:id, raw)`.
fn futures_keyed(truth: &Value, key: &str, id: &str) -> Vec<(String, Value)> {
    truth[key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.{key}"))
        .iter()
        .map(|v| {
            (
                format!("{}:{}", text(&v["product_type"]), text(&v["raw"][id])),
                v["raw"].clone(),
            )
        })
        .collect()
}

fn keyed(truth: &Value, key: &str, id: &str) -> Vec<(String, Value)> {
    truth[key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.{key}"))
        .iter()
        .map(|v| (text(&v[id]), v.clone()))
        .collect()
}

/// Asserts that the integration holds exactly the simulator's account, every stream.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let mut fills = keyed(truth, "fills", "tradeId");
    assert!(!fills.is_empty());
    let futures = futures_keyed(truth, "futures_fills", "tradeId");
    assert!(!futures.is_empty());
    fills.extend(futures);
    let margin = keyed(truth, "margin_fills", "tradeId");
    assert!(!margin.is_empty());
    fills.extend(
        margin
            .into_iter()
            .map(|(id, raw)| (format!("crossed-margin:{id}"), raw)),
    );
    let isolated = keyed(truth, "isolated_fills", "tradeId");
    assert!(!isolated.is_empty());
    fills.extend(
        isolated
            .into_iter()
            .map(|(id, raw)| (format!("isolated-margin:{id}"), raw)),
    );
    compare(daemon, "trade", &fills, |raw| {
        if raw.get("priceAvg").is_some() {
            // Margin fills name no symbol: asked for per symbol.
            let mut fields = vec![
                ("price", "priceAvg"),
                ("amount", "size"),
                ("cost", "amount"),
                ("timestamp", "cTime"),
            ];
            if raw.get("symbol").is_some() {
                fields.push(("symbol", "symbol"));
            }
            fields
        } else {
            vec![
                ("symbol", "symbol"),
                ("price", "price"),
                ("amount", "baseVolume"),
                ("cost", "quoteVolume"),
                ("timestamp", "cTime"),
            ]
        }
    });
    let stored = daemon.records(INTEGRATION, "trade");
    for (id, raw) in &fills {
        let rec = stored.iter().find(|r| text(&r["id"]) == *id).unwrap();
        let fee = match &raw["feeDetail"] {
            Value::Array(list) => &list[0],
            one => one,
        };
        assert_eq!(
            text(&rec["fee_amount"]),
            unsigned(&fee["totalFee"]),
            "trade {id} fee"
        );
        assert_eq!(rec["fee_asset_native"], fee["feeCoin"]);
        assert_eq!(text(&rec["liquidity"]), text(&raw["tradeScope"]));
        let order = text(&rec["order_id"]);
        assert!(order.ends_with(&text(&raw["orderId"])), "trade {id} order");
    }
    let mut orders = keyed(truth, "orders", "orderId");
    orders.extend(futures_keyed(truth, "futures_orders", "orderId"));
    let margin = keyed(truth, "margin_orders", "orderId");
    assert!(!margin.is_empty());
    orders.extend(
        margin
            .into_iter()
            .map(|(id, raw)| (format!("crossed-margin:{id}"), raw)),
    );
    let isolated = keyed(truth, "isolated_orders", "orderId");
    assert!(!isolated.is_empty());
    orders.extend(
        isolated
            .into_iter()
            .map(|(id, raw)| (format!("isolated-margin:{id}"), raw)),
    );
    compare(daemon, "order", &orders, |raw| {
        let filled = if raw.get("fillQuantity").is_some() {
            "fillQuantity"
        } else {
            "baseVolume"
        };
        vec![
            ("symbol", "symbol"),
            ("filled", filled),
            ("amount", "size"),
            ("timestamp", "cTime"),
            ("updated", "uTime"),
        ]
    });
    let mut bills = keyed(truth, "bills", "billId");
    bills.extend(futures_keyed(truth, "futures_bills", "billId"));
    let margin = keyed(truth, "margin_records", "marginId");
    assert!(!margin.is_empty());
    bills.extend(
        margin
            .into_iter()
            .map(|(id, raw)| (format!("crossed-margin:{id}"), raw)),
    );
    let isolated = truth["isolated_records"].as_array().unwrap();
    assert!(!isolated.is_empty());
    bills.extend(isolated.iter().map(|raw| {
        let id = format!(
            "isolated-margin:{}:{}",
            text(&raw["symbol"]),
            text(&raw["marginId"])
        );
        (id, raw.clone())
    }));
    compare(daemon, "ledger", &bills, |raw| {
        let amount = if raw.get("size").is_some() {
            "size"
        } else {
            "amount"
        };
        let time = if raw.get("marginId").is_some() {
            "uTime"
        } else {
            "cTime"
        };
        vec![
            ("amount", amount),
            ("balance_after", "balance"),
            ("asset_native", "coin"),
            ("timestamp", time),
        ]
    });
    compare(
        daemon,
        "deposit",
        &keyed(truth, "deposits", "orderId"),
        |_| {
            vec![
                ("amount", "size"),
                ("asset_native", "coin"),
                ("timestamp", "cTime"),
                ("network", "chain"),
            ]
        },
    );
    compare(
        daemon,
        "withdrawal",
        &keyed(truth, "withdrawals", "orderId"),
        |_| {
            vec![
                ("amount", "size"),
                ("fee_amount", "fee"),
                ("asset_native", "coin"),
                ("timestamp", "cTime"),
            ]
        },
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
    let wallets = [
        ("spot", "coin"),
        ("funding", "coin"),
        ("futures", "marginCoin"),
        ("margin", "coin"),
        ("earn", "coin"),
    ];
    let mut expected = 0;
    for (wallet, coin_field) in wallets {
        let list = truth["balances"][wallet].as_array().unwrap();
        assert!(!list.is_empty(), "no {wallet} balances in the truth");
        expected += list.len();
        for b in list {
            let key = format!("{wallet}:{}", text(&b[coin_field]));
            let rec = stored
                .get(&key)
                .unwrap_or_else(|| panic!("no balance {key}: {stored:?}"));
            assert_eq!(&rec["raw"], b, "{key} raw");
            let field = |f: &str| text(&b[f]);
            match wallet {
                "spot" | "funding" | "futures" => {
                    assert_eq!(text(&rec["free"]), field("available"), "{key} free")
                }
                "margin" => assert_eq!(text(&rec["total"]), field("totalAmount"), "{key} total"),
                _ => assert_eq!(text(&rec["total"]), field("amount"), "{key} total"),
            }
        }
    }
    // Isolated margin: one wallet per symbol.
    let isolated = truth["balances"]["isolated_margin"].as_array().unwrap();
    assert!(!isolated.is_empty());
    expected += isolated.len();
    for b in isolated {
        let key = format!(
            "isolated_margin:{}:{}",
            text(&b["symbol"]),
            text(&b["coin"])
        );
        let rec = stored
            .get(&key)
            .unwrap_or_else(|| panic!("no balance {key}: {stored:?}"));
        assert_eq!(&rec["raw"], b, "{key} raw");
        assert_eq!(text(&rec["total"]), text(&b["totalAmount"]), "{key} total");
    }
    assert_eq!(stored.len(), expected, "balances: {stored:?}");
}

/// Every closed candle of BTCUSDT in `granularity` from `start` is stored, exactly.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim, start_ms: i64, timeframe: &str, g: &str) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/klines?symbol=BTCUSDT&granularity={g}&start={start_ms}",
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

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    let sim = bitget_sim(&["--seed", "61"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = bitget_setup(&sim, API_SECRET, PASSPHRASE, &days_ago(200), &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1h", "1h");
    assert_candles_exactly(&daemon, &sim, start_ms_of(200), "1d", "1Dutc");

    // A coin no other venue lists is stored as received.
    let odd: Vec<Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .filter(|b| b["asset_native"] == "币安人生" && b["wallet"] == "spot")
        .collect();
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!(odd[0]["asset"], "币安人生");

    // Orders still open come from the unfilled-orders (spot), open-orders (margin) and
    // orders-pending (futures) endpoints and are stored as open.
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let spot_open = truth["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "live")
        .count();
    let margin_open = ["margin_orders", "isolated_orders"]
        .iter()
        .flat_map(|k| truth[*k].as_array().unwrap())
        .filter(|o| o["status"] == "live")
        .count();
    let futures_open = truth["futures_orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["raw"]["status"] == "live")
        .count();
    assert!(spot_open > 0 && margin_open > 0 && futures_open > 0);
    let truth_open = spot_open + margin_open + futures_open;
    assert_eq!(open, truth_open);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    // Bills walk 30-day windows with pages inside; fills of a busy symbol take pages too.
    let bills = stats["by_endpoint"]["GET /api/v2/spot/account/bills"]
        .as_u64()
        .unwrap();
    assert!(bills > 3, "{stats}");
    let btc = stats["by_endpoint_symbol"]["GET /api/v2/spot/trade/fills BTCUSDT"]
        .as_u64()
        .unwrap();
    assert!(btc >= 2, "{stats}");
    // Hourly candles older than the candles endpoint serves came from history-candles.
    assert!(
        stats["by_endpoint"]["GET /api/v2/spot/market/history-candles"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{stats}"
    );
    // Fills are asked for per symbol, never for a symbol the account never touched.
    assert!(
        stats["by_endpoint_symbol"]
            .get("GET /api/v2/spot/trade/fills DOGEUSDT")
            .is_none(),
        "{stats}"
    );

    // `test` reports who the key belongs to and what it may do.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    let shown = test.to_string();
    assert!(shown.contains(&text(&truth["user_id"])), "{test:#}");
    assert_eq!(test["can_withdraw"], true, "{test:#}");

    assert_nothing_leaked(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &shown,
    ]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = bitget_sim(&["--seed", "62", "--trades", "400"]);
    let setup = bitget_setup(&sim, API_SECRET, PASSPHRASE, &days_ago(200), STREAMS);
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
    for (key, count) in stats["by_endpoint_symbol"].as_object().unwrap() {
        assert!(
            count.as_u64().unwrap() <= 1,
            "{key} was requested {count} times in a sync with nothing new: {stats}"
        );
    }
    for endpoint in [
        "GET /api/v2/spot/account/bills",
        "GET /api/v2/spot/wallet/deposit-records",
        "GET /api/v2/spot/wallet/withdrawal-records",
    ] {
        let n = stats["by_endpoint"][endpoint].as_u64().unwrap_or(0);
        assert_eq!(n, 1, "{endpoint} requested {n} times: {stats}");
    }

    // New fills arrive: the next sync picks them up with one request per symbol.
    sim.append_trades(6);
    sim.reset_stats();
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint_symbol"]["GET /api/v2/spot/trade/fills BTCUSDT"], 1,
        "{stats}"
    );
    let trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap();
    assert_eq!(trades["records"], 6, "{trades}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_or_passphrase_is_an_auth_error_and_never_shown() {
    let sim = bitget_sim(&["--seed", "63", "--trades", "50"]);
    let mut setup = bitget_setup(&sim, WRONG_SECRET, PASSPHRASE, &days_ago(20), STREAMS);
    setup.env("E2E_BITGET_WRONG_PASS", WRONG_PASSPHRASE);
    setup.env("E2E_BITGET_GOOD_SECRET", API_SECRET);
    setup.integration(
        "bitget-pass",
        &format!(
            r#"exchange = "bitget"
base_url = "{}"
start = "{}"
[credentials]
api_key = "env:E2E_BITGET_KEY"
api_secret = "env:E2E_BITGET_GOOD_SECRET"
passphrase = "env:E2E_BITGET_WRONG_PASS"
{STREAMS}"#,
            sim.url,
            days_ago(20)
        ),
    );
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", INTEGRATION]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("40009"),
            "{s}"
        );
    }
    let pass_report = daemon.sync_wait("bitget-pass");
    for s in streams(&pass_report) {
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("40012"),
            "{s}"
        );
    }
    let stats = sim.stats();
    assert!(stats["by_code"]["40009"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["by_code"]["40012"].as_u64().unwrap() > 0, "{stats}");
    let log = daemon.log();
    let outputs = [
        log.as_str(),
        &report.to_string(),
        &pass_report.to_string(),
        &test.stdout,
        &test.stderr,
    ];
    assert_nothing_leaked(&outputs);
    assert_none_leaked(&[WRONG_SECRET, WRONG_PASSPHRASE], &outputs);
}

#[test]
fn stale_timestamp_is_followed_by_default_and_a_clock_error_with_adjust_clock_off() {
    // The integration that opts out (`adjust_clock = false`) fails `clock`; the default
    // follows the exchange's clock (issue 9).
    // Bitget's clock runs two minutes ahead: every timestamp we sign is outside its 30 s.
    let sim = bitget_sim(&[
        "--seed",
        "64",
        "--trades",
        "50",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = bitget_setup(
        &sim,
        API_SECRET,
        PASSPHRASE,
        &days_ago(20),
        &format!("{STREAMS}[options]\nadjust_clock = false\n"),
    );
    setup.integration(
        "bitget-adjusted",
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
    assert!(sim.stats()["by_code"]["40008"].as_u64().unwrap() > 0);

    let report = daemon.sync_wait("bitget-adjusted");
    assert_all_ok(&report);
    let since = start_ms_of(20);
    let truth = sim.truth();
    let recent = |f: &Value| text(&f["cTime"]).parse::<i64>().unwrap() >= since;
    let spot = truth["fills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| recent(f));
    let margin = ["margin_fills", "isolated_fills"]
        .iter()
        .flat_map(|k| truth[*k].as_array().unwrap())
        .filter(|f| recent(f));
    let futures = truth["futures_fills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| recent(&f["raw"]));
    let expected = spot.count() + margin.count() + futures.count();
    assert_eq!(daemon.records("bitget-adjusted", "trade").len(), expected);
}

#[test]
fn the_manifest_budget_keeps_a_sync_under_bitgets_documented_limits() {
    assert_budget_suffices(&[]);
}

#[test]
fn the_manifest_budget_keeps_a_unified_account_sync_under_bitgets_documented_limits() {
    assert_budget_suffices(&["--uta"]);
}

/// The sim enforces Bitget's own per-endpoint limits (1 to 20 a second): with the daemon
/// pacing requests by the manifest's buckets, no request is refused.
fn assert_budget_suffices(extra: &[&str]) {
    let mut args = vec![
        "--seed",
        "68",
        "--trades",
        "300",
        "--trade-days",
        "30",
        "--uid-limit-documented",
    ];
    args.extend(extra);
    let sim = bitget_sim(&args);
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bitget.so");
    setup.env("E2E_BITGET_KEY", API_KEY);
    setup.env("E2E_BITGET_SECRET", API_SECRET);
    setup.env("E2E_BITGET_PASSPHRASE", PASSPHRASE);
    setup.integration(
        INTEGRATION,
        &integration(&sim.url, &days_ago(40), true, STREAMS),
    );
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let stats = sim.stats();
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    assert!(stats["requests_total"].as_u64().unwrap() > 30, "{stats}");
}

#[test]
fn the_per_endpoint_rate_limit_is_waited_out_and_the_sync_finishes() {
    // Three requests a second per endpoint, below what the manifest's budget allows, so the
    // daemon's own pacing does not save us: only waiting out Bitget's 429s does.
    let sim = bitget_sim(&[
        "--seed",
        "65",
        "--trades",
        "300",
        "--trade-days",
        "20",
        "--history-days",
        "20",
        "--uid-limit",
        "3",
    ]);
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_bitget.so");
    setup.env("E2E_BITGET_KEY", API_KEY);
    setup.env("E2E_BITGET_SECRET", API_SECRET);
    setup.env("E2E_BITGET_PASSPHRASE", PASSPHRASE);
    setup.integration(
        INTEGRATION,
        &integration(&sim.url, &days_ago(25), true, STREAMS),
    );
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_code"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn server_errors_are_retried_and_a_truncated_answer_is_a_bad_response_naming_the_endpoint() {
    let sim = bitget_sim(&["--seed", "67", "--trades", "60"]);
    let setup = bitget_setup(&sim, API_SECRET, PASSPHRASE, &days_ago(30), STREAMS);
    let daemon = Daemon::start(&setup);

    sim.set_faults(serde_json::json!({"fail_next": {"count": 3, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_eq!(sim.stats()["by_status"]["503"], 3);

    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(INTEGRATION);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("GET /api/v2/"),
            "{s}"
        );
    }
    sim.set_faults(serde_json::json!({"malformed_rate": 0.0}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_nothing_leaked(&[&daemon.log(), &report.to_string()]);
}

#[test]
fn history_beyond_90_days_is_reported_unavailable_and_transfers_are_covered() {
    let sim = bitget_sim(&["--seed", "66", "--trades", "50", "--history-days", "300"]);
    let streams = "[streams]\nledger = \"1h\"\ndeposits = \"1h\"\n";
    let setup = bitget_setup(&sim, API_SECRET, PASSPHRASE, &days_ago(365), streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let start = start_ms_of(365);
    let reach = now_ms() - 90 * DAY_MS;
    let coverage = daemon.ctl_json(&["coverage", INTEGRATION]);
    let partition = |name: &str, part: &str| {
        coverage["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == name)
            .unwrap_or_else(|| panic!("no {name} coverage: {coverage:#}"))["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partition"] == part)
            .unwrap_or_else(|| panic!("no {name} {part:?} coverage: {coverage:#}"))
            .clone()
    };
    let ledger = partition("ledger", "spot");
    let unavailable = ledger["unavailable"].as_array().unwrap();
    assert_eq!(unavailable.len(), 1, "{ledger:#}");
    assert_eq!(unavailable[0]["from_ms"], start, "{ledger:#}");
    let to = unavailable[0]["to_ms"].as_i64().unwrap();
    assert!((to - reach).abs() < DAY_MS, "{ledger:#}");

    // Deposits have no reach: synced from the start to now, without a gap.
    let deposits = partition("deposits", "");
    assert!(
        deposits["unavailable"]
            .as_array()
            .is_none_or(|u| u.is_empty()),
        "{deposits:#}"
    );
    let mut synced: Vec<(i64, i64)> = deposits["synced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["from_ms"].as_i64().unwrap(), r["to_ms"].as_i64().unwrap()))
        .collect();
    synced.sort_unstable();
    assert_eq!(synced[0].0, start, "{deposits:#}");
    for w in synced.windows(2) {
        assert!(w[1].0 <= w[0].1, "a gap in deposit coverage: {deposits:#}");
    }
    let truth = sim.truth();
    assert_eq!(
        daemon.records(INTEGRATION, "deposit").len(),
        truth["deposits"].as_array().unwrap().len()
    );
    // Only 200s, but for the one probe that tells a classic account from a unified one.
    let stats = sim.stats();
    let refused = stats["by_status"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(status, _)| *status != "200")
        .map(|(_, n)| n.as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(
        refused,
        stats["by_endpoint"]["GET /api/v3/account/settings"]
            .as_u64()
            .unwrap_or(0),
        "only 200s but the account kind probe: {stats:#}"
    );
    assert!(refused <= 1, "the account kind is asked once: {stats:#}");
}

/// The unified account's records of `kind` in the truth, `(stored id, raw)`.
fn uta_keyed(truth: &Value, kind: &str) -> Vec<(String, Value)> {
    truth["uta"][kind]
        .as_array()
        .unwrap_or_else(|| panic!("truth.uta.{kind}"))
        .iter()
        .map(|v| (text(&v["id"]), v["raw"].clone()))
        .collect()
}

/// Asserts that the integration holds exactly the simulator's unified account.
fn assert_uta_stored_exactly(daemon: &Daemon, truth: &Value) {
    let fills = uta_keyed(truth, "fills");
    for category in [
        "SPOT",
        "MARGIN",
        "USDT-FUTURES",
        "COIN-FUTURES",
        "USDC-FUTURES",
    ] {
        assert!(
            fills.iter().any(|(_, f)| f["category"] == category),
            "no {category} fills in the truth"
        );
    }
    compare(daemon, "trade", &fills, |_| {
        vec![
            ("symbol", "symbol"),
            ("price", "execPrice"),
            ("amount", "execQty"),
            ("cost", "execValue"),
            ("timestamp", "createdTime"),
            ("liquidity", "tradeScope"),
        ]
    });
    let stored = daemon.records(INTEGRATION, "trade");
    for (id, raw) in &fills {
        let rec = stored.iter().find(|r| text(&r["id"]) == *id).unwrap();
        let fee = &raw["feeDetail"][0];
        assert_eq!(
            text(&rec["fee_amount"]),
            unsigned(&fee["fee"]),
            "trade {id} fee"
        );
        assert_eq!(rec["fee_asset_native"], fee["feeCoin"]);
        assert!(text(&rec["order_id"]).ends_with(&text(&raw["orderId"])));
    }

    let orders = uta_keyed(truth, "orders");
    compare(daemon, "order", &orders, |_| {
        vec![
            ("symbol", "symbol"),
            ("amount", "qty"),
            ("filled", "cumExecQty"),
            ("timestamp", "createdTime"),
        ]
    });
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let truth_open = orders
        .iter()
        .filter(|(_, o)| matches!(o["orderStatus"].as_str(), Some("live" | "partially_filled")))
        .count();
    assert!(truth_open > 0);
    assert_eq!(open, truth_open);

    let records = uta_keyed(truth, "records");
    compare(daemon, "ledger", &records, |_| {
        vec![
            ("amount", "amount"),
            ("asset_native", "coin"),
            ("balance_after", "balance"),
            ("timestamp", "ts"),
        ]
    });

    // Deposits and withdrawals from the unified account's own records.
    compare(
        daemon,
        "deposit",
        &keyed(&truth["uta"], "deposits", "orderId"),
        |_| {
            vec![
                ("amount", "size"),
                ("asset_native", "coin"),
                ("timestamp", "createdTime"),
                ("network", "chain"),
            ]
        },
    );
    compare(
        daemon,
        "withdrawal",
        &keyed(&truth["uta"], "withdrawals", "orderId"),
        |_| {
            vec![
                ("amount", "size"),
                ("fee_amount", "fee"),
                ("asset_native", "coin"),
                ("timestamp", "createdTime"),
            ]
        },
    );

    // Balances: the unified wallet and the funding wallet beside it, nothing classic.
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
    let mut expected = 0;
    for wallet in ["unified", "funding"] {
        let list = truth["uta"]["balances"][wallet].as_array().unwrap();
        assert!(!list.is_empty(), "no {wallet} balances in the truth");
        expected += list.len();
        for b in list {
            let key = format!("{wallet}:{}", text(&b["coin"]));
            let rec = stored
                .get(&key)
                .unwrap_or_else(|| panic!("no balance {key}: {stored:?}"));
            assert_eq!(&rec["raw"], b, "{key} raw");
            assert_eq!(text(&rec["total"]), text(&b["balance"]), "{key} total");
            assert_eq!(text(&rec["free"]), text(&b["available"]), "{key} free");
        }
    }
    assert_eq!(stored.len(), expected, "balances: {stored:?}");
}

#[test]
fn unified_account_full_sync_stores_exactly_the_ground_truth() {
    let sim = bitget_sim(&["--seed", "62", "--uta"]);
    let setup = bitget_setup(&sim, API_SECRET, PASSPHRASE, &days_ago(200), STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_eq!(truth["account"], "unified");
    assert_uta_stored_exactly(&daemon, &truth);

    // The classic endpoints were never asked (the sim refuses them for a unified account),
    // and the unified ones were.
    let stats = sim.stats();
    let requests = stats["by_endpoint"].as_object().unwrap();
    assert!(
        !requests.keys().any(|k| k.contains("/api/v2/spot/trade/")
            || k.contains("/api/v2/spot/wallet/")
            || k.contains("/api/v2/mix/")
            || k.contains("/api/v2/margin/")),
        "{requests:?}"
    );
    assert!(requests.keys().any(|k| k.contains("/api/v3/trade/fills")));
    assert!(requests
        .keys()
        .any(|k| k.contains("/api/v3/account/withdrawl-records")));

    // A second sync reads only what is new and stores the same.
    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    assert_uta_stored_exactly(&daemon, &sim.truth());
}
