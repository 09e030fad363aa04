//! The Gate.io connector end to end: the real `exsyncd`, the real `libexsync_plugin_gateio.so`,
//! `exsync-sim gateio` on loopback.
//!
//! The simulator's data ends now, so every test computes its integration's `start` from
//! today's date.

use std::collections::BTreeMap;

use exsync_e2e::assert_no_secrets;
use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, streams, text};
use serde_json::Value;

const INTEGRATION: &str = "gateio-main";
const DAY_MS: i64 = 86_400_000;
const WRONG_SECRET: &str = "e2eWRONGgateioSECRETq1w2e3r4t5y6u7i8o9p0AaSsDdFf";

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

/// Starts `exsync-sim gateio` with the test credentials and `args`. The per-endpoint limit is
/// raised far above Gate's unless `args` set it: only the rate-limit test is about pacing.
fn gateio_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", API_KEY, "--api-secret", API_SECRET];
    if !args.contains(&"--endpoint-limit") {
        all.extend(["--endpoint-limit", "100000"]);
    }
    all.extend_from_slice(args);
    Sim::start("gateio", &all)
}

fn start_ms_of(days: i64) -> i64 {
    (now_ms() - days * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

/// An installation with the Gate.io plugin and one integration against `sim`.
fn gateio_setup(sim: &Sim, secret: &str, start: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_gateio.so");
    setup.env("E2E_GATEIO_KEY", API_KEY);
    setup.env("E2E_GATEIO_SECRET", secret);
    setup.integration(INTEGRATION, &integration(&sim.url, start, budget, extra));
    setup
}

fn integration(url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "gateio"
base_url = "{url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_GATEIO_KEY"
api_secret = "env:E2E_GATEIO_SECRET"
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

fn keyed(truth: &Value, key: &str, id: &str) -> Vec<(String, Value)> {
    truth[key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.{key}"))
        .iter()
        .map(|v| (text(&v[id]), v.clone()))
        .collect()
}

/// Gate's millisecond time strings carry a fraction: `"1700000000123.456"`.
fn whole_ms(v: &Value) -> String {
    text(v).split('.').next().unwrap().to_owned()
}

/// Every settle currency's `list` (`trades`, `orders`, `account_book`) of the futures
/// history, keyed `futures:{settle}:{id}`.
fn futures_items(truth: &Value, list: &str, id: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (settle, history) in truth["futures_history"].as_object().unwrap() {
        for v in history[list].as_array().unwrap() {
            out.push((format!("futures:{settle}:{}", text(&v[id])), v.clone()));
        }
    }
    out
}

/// Every settle currency's delivery fills, keyed `delivery:{settle}:{id}`.
fn delivery_trades(truth: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (settle, fills) in truth["delivery_trades"].as_object().unwrap() {
        for v in fills.as_array().unwrap() {
            out.push((format!("delivery:{settle}:{}", text(&v["id"])), v.clone()));
        }
    }
    assert!(!out.is_empty(), "the simulator has delivery fills");
    out
}

/// Every settle currency's delivery orders, keyed `delivery:{settle}:{id}`.
fn delivery_orders(truth: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (settle, orders) in truth["delivery_orders"].as_object().unwrap() {
        for v in orders.as_array().unwrap() {
            out.push((format!("delivery:{settle}:{}", text(&v["id"])), v.clone()));
        }
    }
    assert!(!out.is_empty(), "the simulator has delivery orders");
    out
}

/// Every underlying's options fills, keyed `options:{id}`.
fn options_trades(truth: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for fills in truth["options_trades"].as_object().unwrap().values() {
        for v in fills.as_array().unwrap() {
            out.push((format!("options:{}", text(&v["id"])), v.clone()));
        }
    }
    assert!(!out.is_empty(), "the simulator has options fills");
    out
}

/// `n` times the decimal string `price`, exactly.
fn times(n: i64, price: &str) -> String {
    let (whole, frac) = price.split_once('.').unwrap_or((price, ""));
    let mantissa: i64 = format!("{whole}{frac}").parse().unwrap();
    scaled(n * mantissa, frac.len() as u32)
}

/// `n` over `10^places` as an exact decimal string without trailing zeros.
fn scaled(n: i64, places: u32) -> String {
    let unit = 10i64.pow(places);
    let (whole, frac) = (n / unit, n % unit);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = places as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// `truth[key]` keyed by `id` prefixed with `prefix` (margin ids carry their account).
fn prefixed(truth: &Value, key: &str, id: &str, prefix: &str) -> Vec<(String, Value)> {
    keyed(truth, key, id)
        .into_iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v))
        .collect()
}

/// Asserts that the integration holds exactly the simulator's account, every stream: spot and
/// futures (USDT- and BTC-settled) trades and orders, delivery trades and orders, options
/// trades (every underlying held) and orders, the spot, margin, futures, options and delivery
/// account books, deposits, withdrawals, every wallet.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let spot_trades = keyed(truth, "trades", "id");
    let futures_trades = futures_items(truth, "trades", "trade_id");
    assert!(!spot_trades.is_empty() && !futures_trades.is_empty());
    let delivery = delivery_trades(truth);
    let mut trades = spot_trades.clone();
    trades.extend(futures_trades.clone());
    trades.extend(delivery.clone());
    trades.extend(options_trades(truth));
    let spot: std::collections::BTreeSet<&String> = spot_trades.iter().map(|(id, _)| id).collect();
    let stored = assert_kind_exactly(
        daemon,
        INTEGRATION,
        "trade",
        &trades
            .iter()
            .map(|(id, v)| (id.clone(), v))
            .collect::<Vec<_>>(),
        |id, rec, raw| {
            assert_eq!(text(&rec["price"]), text(&raw["price"]), "trade {id} price");
            assert_eq!(
                text(&rec["fee_amount"]),
                text(&raw["fee"]),
                "trade {id} fee"
            );
            if spot.contains(&id.to_owned()) {
                for (field, raw_field) in [
                    ("symbol", "currency_pair"),
                    ("order_id", "order_id"),
                    ("amount", "amount"),
                    ("fee_asset_native", "fee_currency"),
                    ("side", "side"),
                    ("liquidity", "role"),
                ] {
                    assert_eq!(
                        text(&rec[field]),
                        text(&raw[raw_field]),
                        "trade {id} {field}"
                    );
                }
                assert_eq!(
                    text(&rec["timestamp"]),
                    whole_ms(&raw["create_time_ms"]),
                    "trade {id} time"
                );
            } else if id.starts_with("options:") {
                // Options fills: the contract count as Gate gives it, the cost count times
                // the premium, no fee (Gate's options fill has none), order ids scoped alike.
                assert_eq!(rec["symbol"], raw["contract"], "trade {id}");
                let size = raw["size"].as_i64().unwrap();
                assert_eq!(
                    rec["side"],
                    if size < 0 { "sell" } else { "buy" },
                    "trade {id}"
                );
                assert_eq!(text(&rec["amount"]), size.abs().to_string(), "trade {id}");
                let cost = times(size.abs(), raw["price"].as_str().unwrap());
                assert_eq!(text(&rec["cost"]), cost, "trade {id}");
                assert_eq!(rec["quote"], "USDT", "trade {id}");
                assert!(rec["fee_amount"].is_null(), "trade {id}");
                assert_eq!(
                    text(&rec["order_id"]),
                    format!("options:{}", text(&raw["order_id"])),
                    "trade {id}"
                );
                assert_eq!(rec["liquidity"], raw["role"], "trade {id} liquidity");
                assert_eq!(
                    rec["timestamp"].as_i64().unwrap(),
                    seconds_ms(&raw["create_time"]),
                    "trade {id} time"
                );
            } else {
                assert_eq!(rec["symbol"], raw["contract"], "trade {id}");
                let sell = raw["size"].as_i64().unwrap() < 0;
                assert_eq!(rec["side"], if sell { "sell" } else { "buy" }, "trade {id}");
                let mut scope = id.split(':');
                let (kind, settle) = (scope.next().unwrap(), scope.next().unwrap());
                assert_eq!(
                    text(&rec["order_id"]),
                    format!("{kind}:{settle}:{}", text(&raw["order_id"])),
                    "trade {id}"
                );
                if kind == "delivery" {
                    // Contracts times the delivery contract's multiplier, exactly: 0.0001 BTC
                    // for BTC_USDT_20261225, 0.01 ETH for ETH_USDT_20261225.
                    let size = raw["size"].as_i64().unwrap().abs();
                    let places = if raw["contract"] == "BTC_USDT_20261225" {
                        4
                    } else {
                        2
                    };
                    assert_eq!(text(&rec["amount"]), scaled(size, places), "trade {id}");
                    assert_eq!(rec["liquidity"], raw["role"], "trade {id} liquidity");
                }
                assert_eq!(
                    text(&rec["fee_asset_native"]),
                    settle.to_uppercase(),
                    "trade {id}"
                );
                if settle == "btc" {
                    // An inverse contract is worth one USD: amount and cost count contracts.
                    let size = raw["size"].as_i64().unwrap().abs().to_string();
                    assert_eq!(text(&rec["amount"]), size, "trade {id}");
                    assert_eq!(text(&rec["cost"]), size, "trade {id}");
                }
                assert_eq!(
                    rec["timestamp"].as_i64().unwrap(),
                    seconds_ms(&raw["create_time"]),
                    "trade {id} time"
                );
            }
        },
    );
    // A futures amount is contracts times the contract's multiplier: 1 ETH_USDT contract is
    // 0.01 ETH, 1 BTC_USDT contract 0.0001 BTC.
    let (id, raw) = futures_trades
        .iter()
        .find(|(_, raw)| {
            raw["contract"] == "ETH_USDT" && raw["size"].as_i64().unwrap().abs() == 100
        })
        .or_else(|| {
            futures_trades
                .iter()
                .find(|(_, raw)| raw["contract"] == "ETH_USDT")
        })
        .unwrap();
    let size = raw["size"].as_i64().unwrap().abs();
    let amount: f64 = text(&stored[id]["amount"]).parse().unwrap();
    assert!(
        (amount - size as f64 / 100.0).abs() < 1e-9,
        "{id}: {amount} for {size} contracts"
    );

    let mut orders = keyed(truth, "orders", "id");
    orders.extend(futures_items(truth, "orders", "id"));
    orders.extend(delivery_orders(truth));
    orders.extend(prefixed(truth, "options_orders", "id", "options:"));
    let stored = assert_kind_exactly(
        daemon,
        INTEGRATION,
        "order",
        &orders
            .iter()
            .map(|(id, v)| (id.clone(), v))
            .collect::<Vec<_>>(),
        |id, rec, raw| {
            if ["futures:", "delivery:", "options:"]
                .iter()
                .any(|p| id.starts_with(p))
            {
                assert_eq!(rec["symbol"], raw["contract"], "order {id}");
                let (size, left) = (
                    raw["size"].as_i64().unwrap().abs(),
                    raw["left"].as_i64().unwrap_or(0).abs(),
                );
                if id.starts_with("options:") {
                    // Contract counts, as Gate gives them.
                    assert_eq!(text(&rec["amount"]), size.to_string(), "order {id}");
                    assert_eq!(
                        text(&rec["filled"]),
                        (size - left).to_string(),
                        "order {id}"
                    );
                }
                if id.starts_with("delivery:") {
                    // Contracts times the delivery contract's multiplier, exactly.
                    let places = if raw["contract"] == "BTC_USDT_20261225" {
                        4
                    } else {
                        2
                    };
                    assert_eq!(text(&rec["amount"]), scaled(size, places), "order {id}");
                    assert_eq!(
                        text(&rec["filled"]),
                        scaled(size - left, places),
                        "order {id}"
                    );
                }
                assert_eq!(
                    rec["timestamp"].as_i64().unwrap(),
                    seconds_ms(&raw["create_time"]),
                    "order {id} time"
                );
                let expected = match (raw["status"].as_str(), raw["finish_as"].as_str()) {
                    (Some("open"), _) => "open",
                    (_, Some("filled")) => "closed",
                    _ => "canceled",
                };
                assert_eq!(rec["status"], expected, "order {id}");
            } else {
                for (field, raw_field) in [
                    ("symbol", "currency_pair"),
                    ("filled", "filled_amount"),
                    ("amount", "amount"),
                    ("cost", "filled_total"),
                    ("timestamp", "create_time_ms"),
                    ("updated", "update_time_ms"),
                ] {
                    assert_eq!(
                        text(&rec[field]),
                        text(&raw[raw_field]),
                        "order {id} {field}"
                    );
                }
            }
        },
    );
    assert!(stored.values().any(|o| o["status"] == "canceled"));

    compare(
        daemon,
        "ledger",
        &{
            let mut entries = keyed(truth, "account_book", "id");
            entries.extend(futures_items(truth, "account_book", "id"));
            entries.extend(prefixed(truth, "margin_account_book", "id", "margin:"));
            entries.extend(options_entries(daemon, truth));
            entries.extend(delivery_items(truth));
            entries
        },
        &[
            ("amount", "change"),
            ("balance_after", "balance"),
            ("type", "type"),
        ],
    );
    compare(
        daemon,
        "deposit",
        &keyed(truth, "deposits", "id"),
        &[
            ("amount", "amount"),
            ("asset_native", "currency"),
            ("network", "chain"),
            ("txid", "txid"),
        ],
    );
    compare(
        daemon,
        "withdrawal",
        &keyed(truth, "withdrawals", "id"),
        &[
            ("amount", "amount"),
            ("fee_amount", "fee"),
            ("asset_native", "currency"),
            ("network", "chain"),
        ],
    );
    assert_balances_exactly(daemon, truth);
}

/// Every settle currency's delivery account book, keyed `delivery:{settle}:{id}`.
fn delivery_items(truth: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (settle, book) in truth["delivery_account_book"].as_object().unwrap() {
        for v in book.as_array().unwrap() {
            out.push((format!("delivery:{settle}:{}", text(&v["id"])), v.clone()));
        }
    }
    assert!(
        !out.is_empty(),
        "the simulator keeps a delivery account book"
    );
    out
}

/// The options account book's entries, keyed by the id the connector gave each: Gate gives
/// them none, so each truth entry is found by its raw object among the stored `options:`
/// entries (one missing fails here; one extra fails the exact comparison).
fn options_entries(daemon: &Daemon, truth: &Value) -> Vec<(String, Value)> {
    let stored: BTreeMap<String, String> = daemon
        .records(INTEGRATION, "ledger")
        .into_iter()
        .filter(|r| text(&r["id"]).starts_with("options:"))
        .map(|r| (r["raw"].to_string(), text(&r["id"])))
        .collect();
    let entries = truth["options_account_book"].as_array().unwrap();
    assert!(!entries.is_empty());
    entries
        .iter()
        .map(|e| {
            let id = stored
                .get(&e.to_string())
                .unwrap_or_else(|| panic!("options entry {e} not stored"));
            (id.clone(), e.clone())
        })
        .collect()
}

/// Gate's futures times: seconds with a fraction, as a JSON number, in ms.
fn seconds_ms(v: &Value) -> i64 {
    let t = text(v);
    let (s, frac) = t.split_once('.').unwrap_or((&t, ""));
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    s.parse::<i64>().unwrap() * 1000 + ms.parse::<i64>().unwrap()
}

/// Every wallet's balances: spot, isolated margin per pair, cross margin, futures, delivery,
/// options, Earn.
fn assert_balances_exactly(daemon: &Daemon, truth: &Value) {
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
    let get = |key: &str| {
        stored
            .get(key)
            .unwrap_or_else(|| panic!("no balance {key} in {:?}", stored.keys()))
    };
    let mut expected = 0;
    for b in truth["spot"].as_array().unwrap() {
        let rec = get(&format!("spot:{}", text(&b["currency"])));
        assert_eq!(&rec["raw"], b);
        assert_eq!(text(&rec["free"]), text(&b["available"]));
        assert_eq!(text(&rec["locked"]), text(&b["locked"]));
        expected += 1;
    }
    for m in truth["margin"].as_array().unwrap() {
        for side in ["base", "quote"] {
            let key = format!(
                "margin:{}:{}",
                text(&m["currency_pair"]),
                text(&m[side]["currency"])
            );
            let rec = get(&key);
            assert_eq!(&rec["raw"], m, "{key}");
            assert_eq!(text(&rec["free"]), text(&m[side]["available"]), "{key}");
            expected += 1;
        }
    }
    for (currency, raw) in truth["cross_margin"].as_object().unwrap() {
        let key = format!("cross_margin:{currency}");
        let rec = get(&key);
        assert_eq!(&rec["raw"], raw, "{key}");
        assert_eq!(text(&rec["free"]), text(&raw["available"]), "{key}");
        assert_eq!(text(&rec["locked"]), text(&raw["freeze"]), "{key}");
        expected += 1;
    }
    for (wallet, account) in [
        ("futures", &truth["futures"]["usdt"]),
        ("futures", &truth["futures"]["btc"]),
        ("delivery", &truth["delivery"]["usdt"]),
        ("options", &truth["options"]),
    ] {
        if account.is_null() {
            continue;
        }
        let key = format!("{wallet}:{}", text(&account["currency"]));
        let rec = get(&key);
        assert_eq!(&rec["raw"], account, "{key}");
        assert_eq!(text(&rec["total"]), text(&account["total"]), "{key}");
        assert_eq!(text(&rec["free"]), text(&account["available"]), "{key}");
        expected += 1;
    }
    for l in truth["earn"].as_array().unwrap() {
        let key = format!("earn:{}", text(&l["currency"]));
        let rec = get(&key);
        assert_eq!(&rec["raw"], l, "{key}");
        assert_eq!(text(&rec["total"]), text(&l["amount"]), "{key}");
        assert_eq!(text(&rec["locked"]), text(&l["frozen_amount"]), "{key}");
        expected += 1;
    }
    assert_eq!(stored.len(), expected, "balances: {:?}", stored.keys());
}

/// Every closed candle of BTC_USDT in `interval` from `start_ms` is stored, exactly.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim, start_ms: i64, interval: &str) {
    let r = exsync_e2e::http::get(&format!(
        "{}/__sim/truth/candles?currency_pair=BTC_USDT&interval={interval}&start={start_ms}",
        sim.url
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let truth = r.json();
    let truth = truth.as_array().unwrap();
    assert!(!truth.is_empty());
    let stored: BTreeMap<i64, Value> = daemon
        .records(INTEGRATION, "candle")
        .into_iter()
        .filter(|c| c["timeframe"] == interval)
        .map(|c| (c["open_time"].as_i64().unwrap(), c))
        .collect();
    for row in truth {
        let open = text(&row[0]).parse::<i64>().unwrap() * 1000;
        let rec = stored
            .get(&open)
            .unwrap_or_else(|| panic!("candle {interval} {open} missing"));
        assert_eq!(&rec["raw"], row, "candle {interval} {open}");
        assert_eq!(rec["final"], true, "candle {interval} {open}");
        assert_eq!(text(&rec["close"]), text(&row[2]));
        assert_eq!(text(&rec["open"]), text(&row[5]));
        assert_eq!(text(&rec["volume"]), text(&row[6]));
        assert_eq!(rec["base"], "BTC");
    }
    // Besides the closed ones, at most the candle still open.
    assert!(
        stored.len() == truth.len() || stored.len() == truth.len() + 1,
        "{interval}: stored {} candles, {} closed",
        stored.len(),
        truth.len()
    );
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn full_sync_stores_exactly_the_ground_truth() {
    // More delivery-book entries than one page holds in a 30-day window: the connector reads
    // on by narrowing `to`, as Gate documents neither page nor offset for that book.
    let sim = gateio_sim(&["--seed", "61", "--delivery-book", "4000"]);
    let extra = format!("{STREAMS}{CANDLES}");
    let setup = gateio_setup(&sim, API_SECRET, &days_ago(100), false, &extra);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    let delivery = stats["by_endpoint"]["GET /api/v4/delivery/usdt/account_book"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        delivery > 4,
        "100 days are four 30-day windows; some need a second page: {stats}"
    );
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim, start_ms_of(100), "1h");
    assert_candles_exactly(&daemon, &sim, start_ms_of(100), "1d");

    // A currency no other venue lists is stored as received.
    let odd: Vec<Value> = daemon
        .records(INTEGRATION, "balance")
        .into_iter()
        .filter(|b| b["asset_native"] == "狗狗币")
        .collect();
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!(odd[0]["asset"], "狗狗币");

    // Orders still open come from the open-orders endpoint and are stored as open.
    let open = daemon
        .records(INTEGRATION, "order")
        .into_iter()
        .filter(|o| o["status"] == "open")
        .count();
    let truth_open = truth["orders"]
        .as_array()
        .unwrap()
        .iter()
        .chain(futures_items(&truth, "orders", "id").iter().map(|(_, o)| o))
        .chain(delivery_orders(&truth).iter().map(|(_, o)| o))
        .chain(truth["options_orders"].as_array().unwrap())
        .filter(|o| o["status"] == "open")
        .count();
    assert!(
        truth_open > 5,
        "spot, futures, delivery and options orders open"
    );
    assert_eq!(open, truth_open);

    // Delivery orders walk back by `last_id` (more than one page of 1000 finished orders),
    // then read the open ones once; options trades are read per underlying held.
    let delivery_pages = stats["by_endpoint"]["GET /api/v4/delivery/usdt/orders"]
        .as_u64()
        .unwrap();
    assert!(
        delivery_orders(&truth).len() > 1000 && delivery_pages >= 3,
        "{stats}"
    );
    assert!(stats["by_endpoint"]["GET /api/v4/options/positions"].as_u64() >= Some(1));

    // Both settle currencies' futures were read.
    let trades = daemon.records(INTEGRATION, "trade");
    for settle in ["usdt", "btc"] {
        let prefix = format!("futures:{settle}:");
        assert!(
            trades.iter().any(|t| text(&t["id"]).starts_with(&prefix)),
            "no {settle}-settled futures trade"
        );
    }

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    // Histories were read in several 30-day windows and several pages.
    assert!(
        stats["by_endpoint"]["GET /api/v4/spot/account_book"]
            .as_u64()
            .unwrap()
            >= 8,
        "{stats}"
    );

    // `test` reports who the key belongs to.
    let test = daemon.ctl_json(&["test", INTEGRATION]);
    assert!(
        test.to_string().contains(&text(&truth["user_id"])),
        "{test:#}"
    );

    assert_no_secrets(&[&daemon.log(), &daemon.metrics(), &report.to_string()]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    // Without a BTC-settled futures account: looking for one is no request per sync either.
    let sim = gateio_sim(&[
        "--seed",
        "62",
        "--trades",
        "800",
        "--history-days",
        "40",
        "--no-btc-futures",
    ]);
    let setup = gateio_setup(&sim, API_SECRET, &days_ago(45), false, STREAMS);
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
    for (endpoint, count) in stats["by_endpoint"].as_object().unwrap() {
        // Delivery and options orders are listed by `status` on one path: the finished ones
        // down to the newest stored, then those open now. Options fills are read per
        // underlying (two here).
        let most = match endpoint.as_str() {
            "GET /api/v4/delivery/usdt/orders"
            | "GET /api/v4/options/orders"
            | "GET /api/v4/options/my_trades" => 2,
            _ => 1,
        };
        assert!(
            count.as_u64().unwrap() <= most,
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
        stats["by_endpoint"]["GET /api/v4/spot/my_trades"], 1,
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
fn open_delivery_and_options_orders_are_read_again_once_they_finish() {
    let sim = gateio_sim(&["--seed", "66", "--trades", "60", "--history-days", "20"]);
    let setup = gateio_setup(&sim, API_SECRET, &days_ago(25), false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    let open_ids = |daemon: &Daemon| -> Vec<String> {
        daemon
            .records(INTEGRATION, "order")
            .into_iter()
            .filter(|o| o["status"] == "open")
            .map(|o| text(&o["id"]))
            .filter(|id| id.starts_with("delivery:") || id.starts_with("options:"))
            .collect()
    };
    assert_eq!(
        open_ids(&daemon).len(),
        5,
        "three delivery and two options orders open"
    );

    // Every one of them fills; the next sync reads them again, finished, with their fills.
    let r = exsync_e2e::http::post(&format!("{}/__sim/fill-open", sim.url), "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["filled"], 5);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert!(open_ids(&daemon).is_empty(), "{:?}", open_ids(&daemon));
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn wrong_secret_is_an_auth_error_and_never_shown() {
    let sim = gateio_sim(&["--seed", "63", "--trades", "50"]);
    let setup = gateio_setup(&sim, WRONG_SECRET, &days_ago(20), false, STREAMS);
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
                .contains("INVALID_SIGNATURE"),
            "{s}"
        );
    }
    assert!(
        sim.stats()["by_label"]["INVALID_SIGNATURE"]
            .as_u64()
            .unwrap()
            > 0
    );
    let log = daemon.log();
    assert_no_secrets(&[&log, &report.to_string(), &test.stdout, &test.stderr]);
    assert!(!log.contains(WRONG_SECRET), "the wrong secret leaked");
}

#[test]
fn stale_timestamp_is_followed_by_default_and_a_clock_error_with_adjust_clock_off() {
    // The integration that opts out (`adjust_clock = false`) fails `clock`; the default
    // follows the exchange's clock (issue 9).
    // Gate's clock runs two minutes ahead: every timestamp we sign is outside its 60 s.
    let sim = gateio_sim(&[
        "--seed",
        "64",
        "--trades",
        "50",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = gateio_setup(
        &sim,
        API_SECRET,
        &days_ago(20),
        false,
        &format!("{STREAMS}[options]\nadjust_clock = false\n"),
    );
    setup.integration(
        "gateio-adjusted",
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
    assert!(sim.stats()["by_label"]["REQUEST_EXPIRED"].as_u64().unwrap() > 0);

    let report = daemon.sync_wait("gateio-adjusted");
    assert_all_ok(&report);
    let trades = daemon.records("gateio-adjusted", "trade");
    let truth = sim.truth();
    let since = start_ms_of(20);
    let spot = truth["trades"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| whole_ms(&t["create_time_ms"]).parse::<i64>().unwrap() >= since)
        .count();
    let futures = futures_items(&truth, "trades", "trade_id")
        .iter()
        .filter(|(_, t)| seconds_ms(&t["create_time"]) >= since)
        .count();
    let delivery = delivery_trades(&truth)
        .iter()
        .filter(|(_, t)| seconds_ms(&t["create_time"]) >= since)
        .count();
    let options = options_trades(&truth)
        .iter()
        .filter(|(_, t)| seconds_ms(&t["create_time"]) >= since)
        .count();
    let expected = spot + futures + delivery + options;
    assert_eq!(trades.len(), expected);
}

#[test]
fn the_endpoint_rate_limit_is_waited_out_and_the_sync_finishes() {
    // Two requests per endpoint in three seconds, and the daemon's pacing off (with it, Gate's
    // X-Gate-RateLimit-Requests-Remain would keep the sync under the limit: `rate_budgets`):
    // only waiting out Gate's 429s saves us.
    let sim = gateio_sim(&[
        "--seed",
        "65",
        "--trades",
        "2500",
        "--history-days",
        "25",
        "--endpoint-limit",
        "2",
        "--limit-window-ms",
        "3000",
    ]);
    let setup = gateio_setup(&sim, API_SECRET, &days_ago(27), false, STREAMS);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(INTEGRATION);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn server_errors_are_retried_and_a_malformed_answer_is_a_bad_response() {
    let sim = gateio_sim(&["--seed", "66", "--trades", "200", "--history-days", "20"]);
    let setup = gateio_setup(&sim, API_SECRET, &days_ago(21), false, STREAMS);
    let daemon = Daemon::start(&setup);

    // The next three answers are 503s: retried, the sync completes, nothing is missing.
    sim.set_faults(serde_json::json!({"fail_next": {"count": 3, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_eq!(sim.stats()["by_status"]["503"], 3);
    assert_stored_exactly(&daemon, &sim.truth());

    // Every answer cut short: each stream fails as bad_response, saying what it was doing.
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

    // Healed: the next sync is whole again.
    sim.set_faults(serde_json::json!({"malformed_rate": 0.0}));
    assert_all_ok(&daemon.sync_wait(INTEGRATION));
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn a_unified_account_is_one_unified_wallet_beside_the_contract_wallets() {
    let sim = gateio_sim(&[
        "--seed",
        "67",
        "--trades",
        "50",
        "--unified-mode",
        "multi_currency",
    ]);
    let streams = "[streams]\nbalances = \"1h\"\n";
    let setup = gateio_setup(&sim, API_SECRET, &days_ago(10), false, streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(INTEGRATION));

    let truth = sim.truth();
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
    let unified = truth["unified"].as_object().unwrap();
    assert!(!unified.is_empty());
    for (currency, raw) in unified {
        let rec = stored
            .get(&format!("unified:{currency}"))
            .unwrap_or_else(|| panic!("no unified {currency} in {:?}", stored.keys()));
        assert_eq!(&rec["raw"], raw, "{currency}");
        assert_eq!(text(&rec["free"]), text(&raw["available"]), "{currency}");
        assert_eq!(text(&rec["locked"]), text(&raw["freeze"]), "{currency}");
    }
    assert!(
        !stored
            .keys()
            .any(|k| k.starts_with("spot:") || k.starts_with("margin:")),
        "spot and margin balances are the unified wallet's: {:?}",
        stored.keys()
    );
    // The contract and Earn wallets are still read.
    for wallet in ["futures:USDT", "delivery:USDT", "options:USDT", "earn:USDT"] {
        assert!(stored.contains_key(wallet), "{wallet}: {:?}", stored.keys());
    }
}
