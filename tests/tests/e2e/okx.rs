//! The OKX connector end to end: the real `exsyncd`, the real `libexsync_plugin_okx.so`,
//! `exsync-sim okx` on loopback. Full sync against the ground truth, incremental sync by
//! request counts, wrong secret, clock skew, demo trading and OKX's 429s.

use exsync_e2e::truth::stored_by_id;
use exsync_e2e::{assert_all_ok, assert_none_leaked, streams, text};
use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::sim::Sim;
use serde_json::Value;

/// The simulated account's credentials: distinctive, so a leak is found by a plain search.
const KEY: &str = "e2eOKXkey7f3a9c1e-5b2d-4e8f-a6c0-91d4b7e2f3a8";
const SECRET: &str = "e2eOKXsecretD41D8CD98F00B204E9800998ECF8427E";
const PASSPHRASE: &str = "e2eOKXpassphraseZq7Wm";
const WRONG_SECRET: &str = "e2eOKXwrongSecretAAAABBBBCCCCDDDDEEEEFFFF0000";
const NAME: &str = "okx-main";

const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

const CANDLES: &str = r#"[candles]
symbols = ["BTC/USDT", "XYZ1/USDT"]
timeframes = ["1d"]
interval = "1h"
"#;

fn okx_sim(args: &[&str]) -> Sim {
    let mut all = vec![
        "--api-key",
        KEY,
        "--api-secret",
        SECRET,
        "--passphrase",
        PASSPHRASE,
    ];
    all.extend_from_slice(args);
    Sim::start("okx", &all)
}

/// An installation with the OKX plugin and one integration against `sim`.
fn okx_setup(sim: &Sim, secret: &str, head: &str, tail: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_okx.so");
    setup.env("E2E_OKX_KEY", KEY);
    setup.env("E2E_OKX_SECRET", secret);
    setup.env("E2E_OKX_PASSPHRASE", PASSPHRASE);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "okx"
base_url = "{}"
start = "2024-01-01"
{head}
[credentials]
api_key = "env:E2E_OKX_KEY"
api_secret = "env:E2E_OKX_SECRET"
passphrase = "env:E2E_OKX_PASSPHRASE"
{tail}"#,
            sim.url
        ),
    );
    setup
}

fn assert_no_okx_secrets(outputs: &[&str]) {
    assert_none_leaked(&[SECRET, PASSPHRASE, WRONG_SECRET], outputs);
}

fn stored(daemon: &Daemon, kind: &str) -> BTreeMap<String, Value> {
    stored_by_id(daemon, NAME, kind)
}

/// The records of `kind` are exactly `truth` (OKX objects keyed by `id_field`, ids prefixed
/// with `prefix`): same ids, same raw objects, and each `(field, raw field)` equal.
fn assert_kind_exactly(
    daemon: &Daemon,
    kind: &str,
    truth: &Value,
    id_field: &str,
    fields: &[(&str, &str)],
) {
    assert_lists_exactly(daemon, kind, &[(truth, "")], id_field, fields);
}

fn assert_lists_exactly(
    daemon: &Daemon,
    kind: &str,
    lists: &[(&Value, &str)],
    id_field: &str,
    fields: &[(&str, &str)],
) {
    let truth: Vec<(String, &Value)> = lists
        .iter()
        .flat_map(|(list, prefix)| {
            list.as_array()
                .expect("a truth list")
                .iter()
                .map(move |t| (format!("{prefix}{}", text(&t[id_field])), t))
        })
        .collect();
    assert!(!truth.is_empty(), "the truth holds no {kind}");
    exsync_e2e::truth::assert_kind_exactly(daemon, NAME, kind, &truth, |id, rec, raw| {
        for (field, raw_field) in fields {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
    });
}

/// Everything OKX serves of the account is stored, digit for digit.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    assert_kind_exactly(
        daemon,
        "trade",
        &truth["fills"],
        "billId",
        &[
            ("symbol", "instId"),
            ("price", "fillPx"),
            ("amount", "fillSz"),
            ("order_id", "ordId"),
            ("timestamp", "ts"),
            ("fee_asset_native", "feeCcy"),
        ],
    );
    assert_orders_exactly(daemon, truth);
    assert_lists_exactly(
        daemon,
        "ledger",
        &[(&truth["bills"], ""), (&truth["funding_bills"], "funding:")],
        "billId",
        &[
            ("amount", "balChg"),
            ("balance_after", "bal"),
            ("asset_native", "ccy"),
        ],
    );
    assert_transfers_exactly(daemon, "deposit", &truth["deposits"], "depId", truth);
    assert_transfers_exactly(daemon, "withdrawal", &truth["withdrawals"], "wdId", truth);

    // Balances: one per (wallet, currency).
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
    let mut expected = 0;
    for (wallet, list, total, free, locked) in [
        ("trading", "trading", "cashBal", "availBal", "frozenBal"),
        ("funding", "funding", "bal", "availBal", "frozenBal"),
        ("earn", "savings", "amt", "", "amt"),
    ] {
        for b in truth["balances"][list].as_array().unwrap() {
            expected += 1;
            let key = format!("{wallet}:{}", text(&b["ccy"]));
            let rec = balances
                .get(&key)
                .unwrap_or_else(|| panic!("no balance stored for {key}"));
            assert_eq!(&rec["raw"], b, "{key} raw");
            assert_eq!(text(&rec["total"]), text(&b[total]), "{key} total");
            assert_eq!(text(&rec["locked"]), text(&b[locked]), "{key} locked");
            if !free.is_empty() {
                assert_eq!(text(&rec["free"]), text(&b[free]), "{key} free");
            }
        }
    }
    // On-chain Earn: one `staking` balance per invested currency, the sum of its active
    // orders' `investData` amounts, all locked, with those orders (as served) as `raw`.
    let mut staking: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for order in truth["staking_orders"].as_array().unwrap() {
        for invest in order["investData"].as_array().unwrap() {
            let entry = staking
                .entry(text(&invest["ccy"]))
                .or_insert_with(|| ("0".to_owned(), Vec::new()));
            entry.0 = sum(&entry.0, &text(&invest["amt"]));
            entry.1.push(order.clone());
        }
    }
    assert!(!staking.is_empty(), "the sim stakes something");
    for (ccy, (total, orders)) in &staking {
        expected += 1;
        let key = format!("staking:{ccy}");
        let rec = balances
            .get(&key)
            .unwrap_or_else(|| panic!("no balance stored for {key}"));
        assert_eq!(rec["raw"], Value::Array(orders.clone()), "{key} raw");
        assert_eq!(text(&rec["total"]), *total, "{key} total");
        assert_eq!(text(&rec["locked"]), *total, "{key} locked");
        assert_eq!(text(&rec["free"]), "0", "{key} free");
    }
    assert_eq!(
        balances.len(),
        expected,
        "balances: one per wallet and currency"
    );
}

/// Orders are exactly OKX's ordinary orders (ids `ordId`) and its algo orders (ids
/// `algo:<algoId>`, done within 3 months or pending), each with its fields from raw.
fn assert_orders_exactly(daemon: &Daemon, truth: &Value) {
    let ordinary = truth["orders"].as_array().expect("truth.orders");
    let algo = truth["algo_orders"].as_array().expect("truth.algo_orders");
    assert!(!algo.is_empty(), "the sim has algo orders");
    let mut all: Vec<(String, &Value)> = ordinary.iter().map(|o| (text(&o["ordId"]), o)).collect();
    all.extend(
        algo.iter()
            .map(|o| (format!("algo:{}", text(&o["algoId"])), o)),
    );
    exsync_e2e::truth::assert_kind_exactly(daemon, NAME, "order", &all, |id, rec, raw| {
        assert_eq!(text(&rec["symbol"]), text(&raw["instId"]), "order {id}");
        assert_eq!(text(&rec["timestamp"]), text(&raw["cTime"]), "order {id}");
        assert_eq!(text(&rec["side"]), text(&raw["side"]), "order {id}");
        if id.starts_with("algo:") {
            assert_eq!(text(&rec["type"]), text(&raw["ordType"]), "order {id}");
            assert_eq!(text(&rec["amount"]), text(&raw["sz"]), "order {id}");
            assert_eq!(rec["filled"], "0", "order {id}");
            let status = match raw["state"].as_str().unwrap() {
                "live" | "pause" => "open",
                "effective" => "closed",
                "canceled" => "canceled",
                "order_failed" => "rejected",
                other => panic!("order {id}: the sim serves state {other}"),
            };
            assert_eq!(rec["status"], status, "order {id}");
        } else {
            assert_eq!(text(&rec["filled"]), text(&raw["accFillSz"]), "order {id}");
        }
    });
}

/// Deposits (or withdrawals) are exactly OKX's crypto ones (ids `id_field`) and its fiat
/// ones (ids `fiat:<ordId>`), amounts and fees digit for digit.
fn assert_transfers_exactly(
    daemon: &Daemon,
    kind: &str,
    crypto: &Value,
    id_field: &str,
    truth: &Value,
) {
    let fiat = &truth[if kind == "deposit" {
        "fiat_deposits"
    } else {
        "fiat_withdrawals"
    }];
    let fiat = fiat.as_array().expect("truth fiat list");
    assert!(!fiat.is_empty(), "the sim has fiat {kind}s");
    let mut all: Vec<(String, &Value)> = crypto
        .as_array()
        .expect("truth crypto list")
        .iter()
        .map(|t| (text(&t[id_field]), t))
        .collect();
    all.extend(
        fiat.iter()
            .map(|t| (format!("fiat:{}", text(&t["ordId"])), t)),
    );
    exsync_e2e::truth::assert_kind_exactly(daemon, NAME, kind, &all, |id, rec, raw| {
        assert_eq!(text(&rec["amount"]), text(&raw["amt"]), "{kind} {id}");
        assert_eq!(text(&rec["asset_native"]), text(&raw["ccy"]), "{kind} {id}");
        if id.starts_with("fiat:") {
            assert_eq!(text(&rec["timestamp"]), text(&raw["cTime"]), "{kind} {id}");
            assert_eq!(text(&rec["fee_amount"]), text(&raw["fee"]), "{kind} {id}");
            assert_eq!(
                text(&rec["network"]),
                text(&raw["paymentMethod"]),
                "{kind} {id}"
            );
            let status = match raw["state"].as_str().unwrap() {
                "completed" => "ok",
                "failed" => "failed",
                "canceled" => "canceled",
                _ => "pending",
            };
            assert_eq!(rec["status"], status, "{kind} {id}");
        } else if kind == "deposit" {
            assert_eq!(text(&rec["network"]), text(&raw["chain"]), "{kind} {id}");
        } else {
            assert_eq!(text(&rec["fee_amount"]), text(&raw["fee"]), "{kind} {id}");
        }
    });
}

/// `a + b` of two non-negative decimal strings, exact and at the larger scale (`"1.5" +
/// "0.25"` → `"1.75"`, `"1.50" + "1"` → `"2.50"`): the expected staking total without a float.
fn sum(a: &str, b: &str) -> String {
    let parse = |x: &str| -> (u128, usize) {
        let (int, frac) = x.split_once('.').unwrap_or((x, ""));
        (format!("{int}{frac}").parse().unwrap(), frac.len())
    };
    let ((ma, sa), (mb, sb)) = (parse(a), parse(b));
    let scale = sa.max(sb);
    let m = ma * 10u128.pow((scale - sa) as u32) + mb * 10u128.pow((scale - sb) as u32);
    if scale == 0 {
        return m.to_string();
    }
    let digits = format!("{m:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{int}.{frac}")
}

/// `a × b` of two non-negative decimal strings, every digit kept (`"1.5" × "0.01"` →
/// `"0.015"`): enough to check a stored cost without a float.
fn product(a: &str, b: &str) -> String {
    let parse = |x: &str| -> (u128, usize) {
        let (int, frac) = x.split_once('.').unwrap_or((x, ""));
        (format!("{int}{frac}").parse().unwrap(), frac.len())
    };
    let ((ma, sa), (mb, sb)) = (parse(a), parse(b));
    let (m, scale) = (ma * mb, sa + sb);
    if scale == 0 {
        return m.to_string();
    }
    let digits = format!("{m:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{int}.{frac}")
}

/// Every closed daily candle since the start is stored as the sim renders it, and the
/// candle of today is stored unfinished.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim) {
    let stored = daemon.records(NAME, "candle");
    for inst_id in ["BTC-USDT", "XYZ1-USDT"] {
        let begin = 1_704_067_200_000i64; // 2024-01-01
        let r = exsync_e2e::http::get(&format!(
            "{}/__sim/truth/candles?instId={inst_id}&bar=1Dutc&begin={begin}",
            sim.url
        ));
        assert_eq!(r.status, 200, "{}", r.text());
        let truth = r.json();
        let truth = truth.as_array().unwrap();
        assert!(!truth.is_empty());
        let mine: Vec<&Value> = stored
            .iter()
            .filter(|c| c["symbol"] == inst_id && c["final"] == true)
            .collect();
        assert_eq!(mine.len(), truth.len(), "{inst_id}: closed candles");
        let by_open: BTreeMap<i64, &Value> = mine
            .iter()
            .map(|c| (c["open_time"].as_i64().unwrap(), *c))
            .collect();
        for row in truth {
            let open: i64 = row[0].as_str().unwrap().parse().unwrap();
            let c = by_open
                .get(&open)
                .unwrap_or_else(|| panic!("{inst_id}: no candle at {open}"));
            assert_eq!(&c["raw"], row);
            assert_eq!(c["close"], row[4]);
            assert_eq!(c["volume"], row[5]);
        }
        let open_now = stored
            .iter()
            .filter(|c| c["symbol"] == inst_id && c["final"] == false)
            .count();
        assert_eq!(open_now, 1, "{inst_id}: the unfinished candle of today");
    }
}

#[test]
fn product_keeps_every_digit() {
    assert_eq!(product("1.5", "0.01"), "0.015");
    assert_eq!(product("42000.5", "3"), "126001.5");
    assert_eq!(product("2", "3"), "6");
    assert_eq!(product("0.5", "0.2"), "0.10");
    assert_eq!(sum("1.5", "0.25"), "1.75");
    assert_eq!(sum("0", "2.50"), "2.50");
    assert_eq!(sum("3", "4"), "7");
}

#[test]
fn full_sync_stores_exactly_what_okx_serves_and_marks_what_lies_beyond_its_reach() {
    let sim = okx_sim(&["--seed", "51"]);
    let setup = okx_setup(
        &sim,
        SECRET,
        "budget = true",
        &format!("{STREAMS}{CANDLES}"),
    );
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert!(truth["beyond_reach"]["fills"].as_u64().unwrap() > 0);
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim);

    // A swap fill costs its contracts' value (BTC-USDT-SWAP: 0.01 BTC, ETH-USDT-SWAP: 0.1
    // ETH, as the sim's public/instruments says); a spot fill price × amount.
    let trades = stored(&daemon, "trade");
    let mut swaps = 0;
    for t in truth["fills"].as_array().unwrap() {
        let ct_val = match t["instId"].as_str().unwrap() {
            "BTC-USDT-SWAP" => "0.01",
            "ETH-USDT-SWAP" => "0.1",
            _ => "1",
        };
        swaps += usize::from(ct_val != "1");
        let px_sz = product(t["fillPx"].as_str().unwrap(), t["fillSz"].as_str().unwrap());
        let expected = if ct_val == "1" {
            px_sz
        } else {
            product(&px_sz, ct_val)
        };
        assert_eq!(trades[&text(&t["billId"])]["cost"], expected, "{t}");
    }
    assert!(swaps > 0, "the account traded swaps");

    // The live orders are open, and the algo orders not yet triggered; the rest are not.
    let orders = stored(&daemon, "order");
    let open = orders.values().filter(|o| o["status"] == "open").count();
    let algo_pending = truth["algo_orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["state"] == "live" || o["state"] == "pause")
        .count();
    assert_eq!(algo_pending, 6, "the sim's pending algo orders");
    assert_eq!(open, 4 + algo_pending, "the sim's four live orders");
    assert!(truth["beyond_reach"]["algo_orders"].as_u64().unwrap() > 0);

    // Fills, orders and bills older than OKX's 3 months are marked unavailable.
    let coverage = daemon.ctl_json(&["coverage", NAME]);
    for (stream, partition) in [
        ("trades", "SPOT"),
        ("orders", "SPOT"),
        ("orders", "algo:trigger"),
        ("ledger", "trading"),
    ] {
        let s = coverage["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stream"] == stream)
            .unwrap_or_else(|| panic!("no coverage of {stream}: {coverage:#}"));
        let spot = s["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partition"] == partition)
            .unwrap_or_else(|| panic!("no partition {partition} of {stream}: {s:#}"));
        let unavailable = spot["unavailable"].as_array().unwrap();
        assert_eq!(unavailable.len(), 1, "{stream}: {spot:#}");
        assert_eq!(unavailable[0]["from_ms"], 1_704_067_200_000i64, "{spot:#}");
        assert!(!spot["synced"].as_array().unwrap().is_empty(), "{spot:#}");
    }

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    let test = daemon.ctl_json(&["test", NAME]);
    assert!(
        text(&test).contains(truth["uid"].as_str().unwrap()),
        "the check names the uid: {test:#}"
    );
    assert_no_okx_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &text(&test),
    ]);
}

#[test]
fn second_sync_asks_one_page_per_partition_and_then_picks_up_exactly_the_new_fills() {
    let sim = okx_sim(&["--seed", "52", "--fills", "300"]);
    let setup = okx_setup(
        &sim,
        SECRET,
        "budget = true",
        &format!("{STREAMS}{CANDLES}"),
    );
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));

    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
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
    for (key, count) in stats["by_endpoint_partition"].as_object().unwrap() {
        assert!(
            count.as_u64().unwrap() <= 1,
            "{key} was requested {count} times in a sync with nothing new: {stats}"
        );
    }
    for endpoint in [
        "GET /api/v5/account/bills-archive",
        "GET /api/v5/asset/bills-history",
        "GET /api/v5/asset/deposit-history",
        "GET /api/v5/asset/withdrawal-history",
        "GET /api/v5/fiat/deposit-order-history",
        "GET /api/v5/fiat/withdrawal-order-history",
        "GET /api/v5/account/balance",
        "GET /api/v5/finance/staking-defi/orders-active",
    ] {
        let n = stats["by_endpoint"][endpoint].as_u64().unwrap_or(0);
        assert_eq!(n, 1, "{endpoint} requested {n} times: {stats}");
    }

    // Every algo order type is walked once per history state, and once pending.
    for ord_type in [
        "conditional,oco",
        "trigger",
        "move_order_stop",
        "iceberg",
        "twap",
        "chase",
    ] {
        for state in ["effective", "canceled", "order_failed"] {
            let key =
                format!("GET /api/v5/trade/orders-algo-history ordType={ord_type} state={state}");
            assert_eq!(stats["by_endpoint_partition"][&key], 1, "{key}: {stats}");
        }
        let key = format!("GET /api/v5/trade/orders-algo-pending ordType={ord_type}");
        assert_eq!(stats["by_endpoint_partition"][&key], 1, "{key}: {stats}");
    }

    // New fills arrive and the two oldest pending algo orders trigger: the next sync reads
    // one page per partition (a few for the algo histories) and stores exactly them (the triggered ones closed, under the
    // same id).
    let mut pending: Vec<u64> = sim.truth()["algo_orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["state"] == "live" || o["state"] == "pause")
        .map(|o| text(&o["algoId"]).parse().unwrap())
        .collect();
    pending.sort_unstable();
    let oldest_pending: Vec<String> = pending
        .iter()
        .take(2)
        .map(|k| format!("algo:{k}"))
        .collect();
    assert_eq!(oldest_pending.len(), 2);
    sim.append_trades(6);
    let r = exsync_e2e::http::post(
        &format!("{}/__sim/append", sim.url),
        r#"{"trigger_algo":2}"#,
    );
    assert_eq!(r.status, 200, "trigger: {}", r.text());
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let new_trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap()["records"]
        .as_u64()
        .unwrap();
    assert!(new_trades >= 6, "{report}");
    let stats = sim.stats();
    for (key, count) in stats["by_endpoint_partition"].as_object().unwrap() {
        // A triggered algo order moves into the history of its state: the walk reads that
        // history back down to the oldest order that was pending, which takes more than one
        // page when more than a page of newer orders sits above it. Bounded, not one.
        let limit = if key.contains("orders-algo-history") {
            3
        } else {
            1
        };
        assert!(
            count.as_u64().unwrap() <= limit,
            "{key}: {count} requests: {stats}"
        );
    }
    assert_stored_exactly(&daemon, &sim.truth());
    let orders = stored(&daemon, "order");
    for id in &oldest_pending {
        assert_eq!(orders[id]["status"], "closed", "{id} triggered");
    }
}

#[test]
fn wrong_secret_is_auth_and_a_demo_key_needs_sandbox() {
    let sim = okx_sim(&["--seed", "53", "--fills", "20"]);
    let setup = okx_setup(&sim, WRONG_SECRET, "budget = true", STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    assert!(
        test.stderr.contains("50113"),
        "OKX's code is shown: {}",
        test.stderr
    );
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    assert_no_okx_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.stderr,
    ]);
    drop(daemon);

    // Demo-trading keys: refused without `sandbox = true` (OKX's 50101), accepted with it.
    let demo = okx_sim(&["--seed", "54", "--fills", "20", "--demo"]);
    let setup = okx_setup(
        &demo,
        SECRET,
        "budget = true",
        "[streams]\nbalances = \"1h\"\n",
    );
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(NAME);
    assert_eq!(streams(&report)[0]["error"]["kind"], "auth", "{report}");
    assert!(report.to_string().contains("50101"), "{report}");
    drop(daemon);
    let setup = okx_setup(
        &demo,
        SECRET,
        "budget = true\nsandbox = true",
        "[streams]\nbalances = \"1h\"\n",
    );
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert!(!daemon.records(NAME, "balance").is_empty());
}

#[test]
fn sub_account_name_requires_a_sub_account_key_and_the_check_reports_rights() {
    let tail = "[streams]\nbalances = \"1h\"\n";
    // A sub-account's key, with a key that may also withdraw.
    let sub = okx_sim(&[
        "--seed",
        "57",
        "--fills",
        "10",
        "--sub-account",
        "--perm",
        "read_only,withdraw",
    ]);
    let mut setup = okx_setup(&sub, SECRET, "budget = true", tail);
    setup.env_public("E2E_OKX_SUB", "desk-1");
    let file = setup
        .config_dir()
        .join("integrations.d")
        .join(format!("{NAME}.toml"));
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "[credentials]\n",
            "[credentials]\nsub_account = \"env:E2E_OKX_SUB\"\n",
        ),
    )
    .unwrap();
    let daemon = Daemon::start(&setup);
    let report = daemon.ctl_json(&["test", NAME]);
    // The sub-account name is not secret: shown whole; the secret ones masked.
    let shown = report.to_string();
    let uid = sub.truth()["uid"].as_str().unwrap().to_owned();
    assert!(
        shown.contains(&format!("uid {uid} (sub-account desk-1")),
        "{report:#}"
    );
    let credentials = report["credentials"].to_string();
    assert!(credentials.contains("desk-1"), "{credentials}");
    assert!(!credentials.contains(SECRET), "{credentials}");
    assert_eq!(report["can_withdraw"], true, "{report:#}");
    assert_eq!(report["can_trade"], false, "{report:#}");
    drop(daemon);

    // The same name with the main account's key is a configuration error.
    let main = okx_sim(&["--seed", "58", "--fills", "10"]);
    let mut setup = okx_setup(&main, SECRET, "budget = true", tail);
    setup.env_public("E2E_OKX_SUB", "desk-1");
    let file = setup
        .config_dir()
        .join("integrations.d")
        .join(format!("{NAME}.toml"));
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "[credentials]\n",
            "[credentials]\nsub_account = \"env:E2E_OKX_SUB\"\n",
        ),
    )
    .unwrap();
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("config"), "{}", test.stderr);
    assert!(test.stderr.contains("main account"), "{}", test.stderr);
}

#[test]
fn clock_skew_is_corrected_within_the_limit_and_a_clock_error_beyond_it() {
    // OKX's clock 45 s ahead: uncorrected timestamps would be refused (30 s window); the
    // plugin measures the offset and corrects it, by default (up to 15 min, issue 9).
    let sim = okx_sim(&[
        "--seed",
        "55",
        "--fills",
        "40",
        "--clock-offset-ms",
        "45000",
    ]);
    let setup = okx_setup(&sim, SECRET, "budget = true", STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_stored_exactly(&daemon, &sim.truth());
    drop(daemon);

    // With a limit of 30 s (OKX's own window) the same skew is the operator's to fix.
    let setup = okx_setup(
        &sim,
        SECRET,
        "budget = true",
        &format!("{STREAMS}[options]\nmax_clock_offset_ms = 30000\n"),
    );
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("clock"), "{}", test.stderr);
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "clock", "{s}");
        assert!(
            s["error"]["hint"].as_str().unwrap().contains("clock"),
            "{s}"
        );
    }
}

#[test]
fn okx_rate_limit_answers_are_waited_out_and_the_sync_completes() {
    // Every endpoint allows 2 requests per second: far below OKX's, so the daemon's own
    // (OKX-sized) budget does not prevent the sim's 429s; only backing off on them does.
    let sim = okx_sim(&[
        "--seed",
        "56",
        "--fills",
        "200",
        "--rate-limit",
        "2",
        "--rate-window-ms",
        "1000",
    ]);
    // The streams with the most pages: fills and the trading account's bills.
    let streams = "[streams]\ntrades = \"1h\"\nledger = \"1h\"\n";
    let setup = okx_setup(&sim, SECRET, "budget = true", streams);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert!(
        stats["by_status"]["429"].as_u64().unwrap_or(0) > 0,
        "the test never hit the limit: {stats}"
    );
    let truth = sim.truth();
    assert_kind_exactly(
        &daemon,
        "trade",
        &truth["fills"],
        "billId",
        &[("price", "fillPx")],
    );
    assert_lists_exactly(
        &daemon,
        "ledger",
        &[(&truth["bills"], ""), (&truth["funding_bills"], "funding:")],
        "billId",
        &[("amount", "balChg")],
    );
}

#[test]
fn kill_9_in_the_middle_of_a_walk_then_restart_completes_exactly() {
    // Slow answers keep the walks going long enough to be killed in the middle of one.
    let sim = okx_sim(&["--seed", "59", "--fills", "1500", "--slow-ms", "150"]);
    let setup = okx_setup(
        &sim,
        SECRET,
        "budget = true",
        "[streams]\ntrades = \"1h\"\n",
    );
    let mut daemon = Daemon::start(&setup);
    let started = daemon.ctl(&["sync", NAME]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let at_kill = exsync_e2e::daemon::wait_for("some fills to be stored", || {
        let n = daemon.records(NAME, "trade").len();
        (n >= 100).then_some(n)
    });
    daemon.kill9();
    let all = sim.truth()["fills"].as_array().unwrap().len();
    assert!(
        at_kill < all,
        "the sync ended before the kill ({at_kill} of {all} fills)"
    );

    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let truth = sim.truth();
    assert_kind_exactly(
        &daemon,
        "trade",
        &truth["fills"],
        "billId",
        &[("price", "fillPx")],
    );
}

#[test]
fn algo_orders_and_fiat_transfers_are_walked_page_by_page_to_exactly_the_truth() {
    // Enough algo orders and fiat orders that every list takes several pages of 100.
    let sim = okx_sim(&[
        "--seed",
        "60",
        "--fills",
        "30",
        "--algo-orders",
        "1500",
        "--algo-pending",
        "700",
        "--fiat-deposits",
        "260",
        "--fiat-withdrawals",
        "210",
    ]);
    let streams = "[streams]\norders = \"1h\"\ndeposits = \"1h\"\nwithdrawals = \"1h\"\n";
    let setup = okx_setup(&sim, SECRET, "budget = true", streams);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let truth = sim.truth();
    assert_orders_exactly(&daemon, &truth);
    assert_transfers_exactly(&daemon, "deposit", &truth["deposits"], "depId", &truth);
    assert_transfers_exactly(&daemon, "withdrawal", &truth["withdrawals"], "wdId", &truth);

    let stats = sim.stats();
    let count = |key: &str| stats["by_endpoint"][key].as_u64().unwrap_or(0);
    assert!(
        count("GET /api/v5/fiat/deposit-order-history") >= 3,
        "260 fiat deposits in pages of 100: {stats}"
    );
    assert!(
        count("GET /api/v5/fiat/withdrawal-order-history") >= 3,
        "{stats}"
    );
    assert!(
        count("GET /api/v5/trade/orders-algo-pending") > 6,
        "700 pending algo orders over six types need more than a page each: {stats}"
    );
    let effective = stats["by_endpoint_partition"]
        ["GET /api/v5/trade/orders-algo-history ordType=conditional,oco state=effective"]
        .as_u64()
        .unwrap_or(0);
    assert!(effective >= 2, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(
        stats["by_status"]["400"].as_u64().unwrap_or(0),
        0,
        "no request was refused: {stats}"
    );
}
