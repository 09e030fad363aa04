//! The `coinbase_prime` connector end to end: the real `exsyncd`, the real plugin `.so`, and
//! `exsync-sim coinbase-prime` on loopback. Full and incremental syncs against the ground
//! truth, a wrong signing key, a stale timestamp, and Prime's 429.

use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_none_leaked, streams, text};
use std::collections::BTreeMap;
use std::time::Duration;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::http;
use exsync_e2e::sim::Sim;
use serde_json::Value;

/// The simulated portfolio's credentials: distinctive, so a leak is found by a plain search
/// of every output.
const ACCESS_KEY: &str = "e2ePRIMEaccessKEY7f3a9c1d5e8b2a4c6d8e0f1a3b5c7d9e";
const PASSPHRASE: &str = "e2ePRIMEpassphraseQ4w7E2r9T5y1";
const SIGNING_KEY: &str = "e2ePRIMEsigningKEYm3N8b5V2c7X4z9L1k6J0h3G8f5D2s7A4";
const WRONG_SIGNING_KEY: &str = "e2ePRIMEwrongSIGNINGkeyP0o9I8u7Y6t5R4e3W2q1Z0x9C8";
const PORTFOLIO: &str = "0c6f8a2e-4d1b-4e7a-9b3c-5a8d2f6e1c90";
const NAME: &str = "prime-main";

/// Every account stream; candles have their own table.
const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

const CANDLES: &str = r#"[candles]
symbols = ["BTC/USD", "ETH/BTC"]
timeframes = ["1d", "6h"]
interval = "1h"
"#;

/// Transaction types of the deposits and withdrawals streams, and those whose ledger amount
/// leaves the portfolio: the test's own table of Prime's words.
const DEPOSIT_TYPES: [&str; 4] = [
    "DEPOSIT",
    "INTERNAL_DEPOSIT",
    "SWEEP_DEPOSIT",
    "PROXY_DEPOSIT",
];
const WITHDRAWAL_TYPES: [&str; 4] = [
    "WITHDRAWAL",
    "INTERNAL_WITHDRAWAL",
    "SWEEP_WITHDRAWAL",
    "PROXY_WITHDRAWAL",
];
const OUTGOING_TYPES: [&str; 3] = ["WITHDRAWAL", "BILLING_WITHDRAWAL", "CONVERSION"];

/// Starts `exsync-sim coinbase-prime` with the test credentials and `args`.
fn prime_sim(args: &[&str]) -> Sim {
    let mut all = vec![
        "--access-key",
        ACCESS_KEY,
        "--passphrase",
        PASSPHRASE,
        "--signing-key",
        SIGNING_KEY,
        "--portfolio-id",
        PORTFOLIO,
    ];
    all.extend_from_slice(args);
    Sim::start("coinbase-prime", &all)
}

/// An installation with the Coinbase Prime plugin and one integration against `sim`.
fn prime_setup(sim: &Sim, signing_key: &str, budget: bool, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_coinbase_prime.so");
    setup.env("E2E_PRIME_ACCESS_KEY", ACCESS_KEY);
    setup.env("E2E_PRIME_PASSPHRASE", PASSPHRASE);
    setup.env("E2E_PRIME_SIGNING_KEY", signing_key);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "coinbase-prime"
base_url = "{}"
start = "2024-01-01"
budget = {budget}
[credentials]
portfolio_id = "{PORTFOLIO}"
api_key = "env:E2E_PRIME_ACCESS_KEY"
passphrase = "env:E2E_PRIME_PASSPHRASE"
api_secret = "env:E2E_PRIME_SIGNING_KEY"
[options]
page_limit = 100
{extra}"#,
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

fn assert_no_prime_secrets(outputs: &[&str]) {
    assert_none_leaked(
        &[ACCESS_KEY, PASSPHRASE, SIGNING_KEY, WRONG_SIGNING_KEY],
        outputs,
    );
}

/// `2024-03-05T10:11:12.345Z` → ms, read independently of the plugin.
fn ms(v: &Value) -> i64 {
    let t = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
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
        .map(|f| f.trim_end_matches('Z'))
        .map(|f| format!("{f:0<3}")[..3].parse::<i64>().unwrap())
        .unwrap_or(0);
    ((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 + n(17, 19) * 1000 + frac
}

/// Asserts that `truth` (Prime objects with an `id`) is stored exactly as `kind`: `raw`, and
/// the fields named in `fields` (stored field, raw field) digit by digit.
fn compare(
    daemon: &Daemon,
    kind: &str,
    truth: &[&Value],
    fields: &[(&str, &str)],
) -> BTreeMap<String, Value> {
    let truth: Vec<(String, &Value)> = truth.iter().map(|t| (text(&t["id"]), *t)).collect();
    assert_kind_exactly(daemon, NAME, kind, &truth, |id, rec, raw| {
        for (field, raw_field) in fields {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "{kind} {id}: {field} differs from raw {raw_field}"
            );
        }
    })
}

fn transfer_status(status: &str) -> &'static str {
    match status {
        "TRANSACTION_DONE" | "TRANSACTION_IMPORTED" => "ok",
        "TRANSACTION_CANCELLED" => "canceled",
        "TRANSACTION_FAILED" | "TRANSACTION_REJECTED" | "TRANSACTION_EXPIRED" => "failed",
        _ => "pending",
    }
}

fn of_types<'a>(truth: &'a Value, types: &[&str]) -> Vec<&'a Value> {
    truth["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| types.is_empty() || types.contains(&t["type"].as_str().unwrap()))
        .collect()
}

/// Asserts that the integration holds exactly the simulator's portfolio.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let fills: Vec<&Value> = truth["fills"].as_array().unwrap().iter().collect();
    let trades = compare(
        daemon,
        "trade",
        &fills,
        &[
            ("symbol", "product_id"),
            ("price", "price"),
            ("amount", "filled_quantity"),
            ("cost", "filled_value"),
            ("fee_amount", "commission"),
            ("order_id", "order_id"),
        ],
    );
    for t in trades.values() {
        let raw = &t["raw"];
        assert_eq!(t["timestamp"], ms(&raw["time"]), "{t}");
        assert_eq!(t["side"], text(&raw["side"]).to_lowercase(), "{t}");
        let (base, quote) = text(&raw["product_id"])
            .split_once('-')
            .map(|(b, q)| (b.to_owned(), q.to_owned()))
            .unwrap();
        assert_eq!((text(&t["base"]), text(&t["quote"])), (base, quote.clone()));
        assert_eq!(text(&t["fee_asset_native"]), quote, "{t}");
    }
    let orders: Vec<&Value> = truth["orders"].as_array().unwrap().iter().collect();
    let orders = compare(
        daemon,
        "order",
        &orders,
        &[("symbol", "product_id"), ("filled", "filled_quantity")],
    );
    for o in orders.values() {
        let raw = &o["raw"];
        assert_eq!(o["timestamp"], ms(&raw["created_at"]), "{o}");
        let status = match raw["status"].as_str().unwrap() {
            "FILLED" => "closed",
            "CANCELLED" => "canceled",
            "EXPIRED" => "expired",
            _ => "open",
        };
        assert_eq!(o["status"], status, "{o}");
        assert_eq!(o["type"], text(&raw["type"]).to_lowercase(), "{o}");
    }
    for (kind, types) in [("deposit", DEPOSIT_TYPES), ("withdrawal", WITHDRAWAL_TYPES)] {
        let transfers = compare(
            daemon,
            kind,
            &of_types(truth, &types),
            &[("amount", "amount"), ("asset_native", "symbol")],
        );
        for t in transfers.values() {
            let raw = &t["raw"];
            assert_eq!(t["timestamp"], ms(&raw["created_at"]), "{t}");
            assert_eq!(
                t["status"],
                transfer_status(raw["status"].as_str().unwrap())
            );
            let txid = raw["blockchain_ids"].as_array().unwrap().first();
            assert_eq!(t["txid"], txid.cloned().unwrap_or(Value::Null), "{t}");
        }
    }
    let ledger = compare(
        daemon,
        "ledger",
        &of_types(truth, &[]),
        &[
            ("asset_native", "symbol"),
            ("reference_id", "transaction_id"),
        ],
    );
    for l in ledger.values() {
        let raw = &l["raw"];
        let amount = text(&raw["amount"]);
        let signed = if OUTGOING_TYPES.contains(&raw["type"].as_str().unwrap()) {
            format!("-{amount}")
        } else {
            amount
        };
        assert_eq!(text(&l["amount"]), signed, "{l}");
        assert_eq!(l["type"], text(&raw["type"]).to_lowercase());
        assert_eq!(l["timestamp"], ms(&raw["created_at"]), "{l}");
    }
    assert!(
        ledger.values().any(|l| l["asset_native"] == "PRMX"),
        "an unknown asset is stored"
    );

    // Balances: one per (balance type, asset), each saying its wallet.
    let balances: BTreeMap<(String, String), Value> = daemon
        .records(NAME, "balance")
        .into_iter()
        .map(|b| ((text(&b["wallet"]), text(&b["asset_native"])), b))
        .collect();
    let mut expected = 0;
    for (balance_type, wallet) in [
        ("TRADING_BALANCES", "trading"),
        ("VAULT_BALANCES", "vault"),
        ("PRIME_CUSTODY_BALANCES", "prime_custody"),
    ] {
        for raw in truth["balances"][balance_type].as_array().unwrap() {
            expected += 1;
            let key = (wallet.to_owned(), text(&raw["symbol"]));
            let b = balances
                .get(&key)
                .unwrap_or_else(|| panic!("no balance for {key:?}"));
            assert_eq!(&b["raw"], raw, "{key:?}");
            assert_eq!(b["total"], raw["amount"], "{key:?}");
            assert_eq!(b["locked"], raw["holds"], "{key:?}");
        }
    }
    // The entity's FCM (futures) balance: one USD balance, the summary as its raw.
    expected += 1;
    let fcm = &truth["fcm_balance"];
    let b = balances
        .get(&("futures".to_owned(), "USD".to_owned()))
        .expect("no futures balance");
    assert_eq!(&b["raw"], fcm);
    assert_eq!(b["total"], fcm["cfm_usd_balance"]);
    assert_eq!(b["free"], fcm["cfm_usd_balance"]);
    assert_eq!(b["locked"], "0");
    assert_eq!(balances.len(), expected, "one balance per wallet and asset");
    assert!(balances.contains_key(&("vault".into(), "PRMX".into())));
}

/// Final candles stored for one partition equal the simulator's, from the start to now.
fn assert_candles(daemon: &Daemon, sim: &Sim, product: &str, granularity: &str, timeframe: &str) {
    let r = http::get(&format!(
        "{}/__sim/truth/candles?product_id={product}&granularity={granularity}\
         &start_time=2024-01-01T00:00:00Z&end_time=2100-01-01T00:00:00Z",
        sim.url
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let truth = r.json();
    let rows = truth["candles"].as_array().unwrap();
    let stored: BTreeMap<i64, Value> = daemon
        .records(NAME, "candle")
        .into_iter()
        .filter(|c| c["symbol"] == product && c["timeframe"] == timeframe)
        .map(|c| (c["open_time"].as_i64().unwrap(), c))
        .collect();
    // Newest first; the newest is still open and moves with the clock.
    let closed = &rows[1..];
    assert!(
        closed.len() > 100,
        "{product} {timeframe}: {} rows",
        closed.len()
    );
    for row in closed {
        let open = ms(&row["timestamp"]);
        let c = stored
            .get(&open)
            .unwrap_or_else(|| panic!("{product} {timeframe} candle {open} missing"));
        assert_eq!(&c["raw"], row, "{product} {timeframe} {open}");
        assert_eq!(c["final"], true);
        assert_eq!(c["close"], row["close"]);
        assert_eq!(c["volume"], row["volume"]);
    }
    assert!(
        stored.len() <= rows.len(),
        "{product} {timeframe}: more candles than Prime serves"
    );
}

fn requests(stats: &Value, tail: &str) -> u64 {
    stats["by_endpoint"][format!("GET /v1/portfolios/{{portfolio_id}}{tail}")]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn coinbase_prime_full_sync_stores_exactly_the_ground_truth() {
    let sim = prime_sim(&["--seed", "61", "--no-rate-limit"]);
    let setup = prime_setup(&sim, SIGNING_KEY, false, &format!("{STREAMS}{CANDLES}"));
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl_json(&["test", NAME]);
    assert!(
        test.to_string().contains("Simulated Prime Portfolio"),
        "{test:#}"
    );
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(i64::MAX);
    assert!(offset.abs() <= 2_000, "{test:#}");
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(streams(&report).len(), 7, "{report}");
    let truth = sim.truth();
    assert!(truth["fills"].as_array().unwrap().len() >= 400);
    assert_stored_exactly(&daemon, &truth);
    assert_candles(&daemon, &sim, "BTC-USD", "ONE_DAY", "1d");
    assert_candles(&daemon, &sim, "ETH-BTC", "SIX_HOUR", "6h");

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["clock_failures"], 0, "{stats}");
    // 400 fills at 100 a page: the walk pages by cursor.
    assert!(requests(&stats, "/fills") >= 5, "{stats}");
    assert_no_prime_secrets(&[&daemon.log(), &daemon.metrics(), &report.to_string()]);
}

/// How many items of a list a walk resuming at its oldest unsettled item reads again.
fn from_oldest(items: &[Value], time: &str, unsettled: impl Fn(&Value) -> bool) -> usize {
    let oldest = items
        .iter()
        .filter(|i| unsettled(i))
        .map(|i| ms(&i[time]))
        .min();
    match oldest {
        Some(t) => items.iter().filter(|i| ms(&i[time]) >= t).count(),
        None => 0,
    }
}

#[test]
fn coinbase_prime_second_sync_fetches_only_what_is_new() {
    let sim = prime_sim(&["--seed", "62", "--no-rate-limit", "--fills", "150"]);
    let setup = prime_setup(&sim, SIGNING_KEY, false, STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));

    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let truth = sim.truth();
    // Settled history is not read again; open orders and pending transfers are, with what
    // follows them.
    let orders = truth["orders"].as_array().unwrap();
    let open = from_oldest(orders, "created_at", |o| o["status"] == "OPEN");
    let pending = |t: &Value| transfer_status(t["status"].as_str().unwrap()) == "pending";
    let deposits: Vec<Value> = of_types(&truth, &DEPOSIT_TYPES)
        .into_iter()
        .cloned()
        .collect();
    let all: Vec<Value> = of_types(&truth, &[]).into_iter().cloned().collect();
    let withdrawals: Vec<Value> = of_types(&truth, &WITHDRAWAL_TYPES)
        .into_iter()
        .cloned()
        .collect();
    let expected = [
        ("orders", open),
        ("deposits", from_oldest(&deposits, "created_at", pending)),
        (
            "withdrawals",
            from_oldest(&withdrawals, "created_at", pending),
        ),
        ("ledger", from_oldest(&all, "created_at", pending)),
    ];
    assert!(
        expected[0].1 > 0 && expected[1].1 > 0,
        "the sim has open and pending items"
    );
    // Nothing changed: the store counts no new or updated record.
    for name in ["trades", "orders", "deposits", "withdrawals", "ledger"] {
        assert_eq!(stream(&report, name)["records"], 0, "{name}: {report}");
    }
    let stats = sim.stats();
    let pages = |n: usize| (n.max(1) as u64).div_ceil(100);
    assert_eq!(requests(&stats, "/fills"), 1, "{stats}");
    assert_eq!(requests(&stats, "/orders"), pages(open), "{stats}");
    assert_eq!(stream(&report, "orders")["pages"], pages(open), "{report}");
    assert_eq!(requests(&stats, "/balances"), 3, "{stats}");
    assert_eq!(
        stats["by_endpoint"]["GET /v1/entities/{entity_id}/futures/balance_summary"], 1,
        "{stats}"
    );
    assert_eq!(
        requests(&stats, "/transactions"),
        pages(expected[1].1) + pages(expected[2].1) + pages(expected[3].1),
        "{stats}"
    );

    // New fills and deposits arrive: the next sync reads one page of each and stores them.
    let r = http::post(
        &format!("{}/__sim/append", sim.url),
        r#"{"fills": 7, "deposits": 2}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(stream(&report, "trades")["records"], 7, "{report}");
    assert_eq!(requests(&sim.stats(), "/fills"), 1);
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn coinbase_prime_wrong_signing_key_is_an_auth_error_and_never_shown() {
    let sim = prime_sim(&["--seed", "63", "--fills", "20", "--no-rate-limit"]);
    let setup = prime_setup(&sim, WRONG_SIGNING_KEY, false, STREAMS);
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
    assert_no_prime_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &test.stdout,
        &test.stderr,
        &report.to_string(),
    ]);
}

#[test]
fn coinbase_prime_stale_timestamp_is_corrected_from_the_date_header() {
    // Prime's clock two minutes ahead of ours: every timestamp we send is stale.
    let sim = prime_sim(&[
        "--seed",
        "64",
        "--fills",
        "20",
        "--no-rate-limit",
        "--clock-offset-ms",
        "120000",
    ]);
    let setup = prime_setup(&sim, SIGNING_KEY, false, STREAMS);
    let daemon = Daemon::start(&setup);
    // `test` is refused once, reads Prime's clock off the refusal's Date and retries on it.
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
fn coinbase_prime_rate_limit_answers_are_obeyed() {
    // A bucket of 4 that refills 4 a second, far below Prime's 25 that the daemon paces to.
    let sim = prime_sim(&[
        "--seed",
        "65",
        "--fills",
        "120",
        "--deposits",
        "10",
        "--withdrawals",
        "5",
        "--other-transactions",
        "4",
        "--rate-limit-rps",
        "4",
        "--rate-limit-burst",
        "4",
    ]);
    let setup = prime_setup(&sim, SIGNING_KEY, true, STREAMS);
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
        metrics.contains(
            "exsync_rate_limit_responses_total{exchange=\"coinbase-prime\",status=\"429\"}"
        ),
        "{metrics}"
    );
}

#[test]
fn coinbase_prime_server_errors_are_retried_with_fresh_signatures() {
    let sim = prime_sim(&["--seed", "66", "--fills", "40", "--no-rate-limit"]);
    let setup = prime_setup(&sim, SIGNING_KEY, false, STREAMS);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["clock_failures"], 0, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}
