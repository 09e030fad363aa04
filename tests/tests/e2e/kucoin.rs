//! KuCoin end to end: the real `exsyncd`, the real `kucoin` plugin `.so`, `exsync-sim kucoin`.
//!
//! The simulated account's history ends a day ago and starts 30 days before, so the plugin's
//! 7-day windows, the ledger's one-year reach and the candles all meet today's clock the way
//! they would on KuCoin.

use exsync_e2e::text;
use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{date_of, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

pub(crate) const PASSPHRASE: &str = "e2ePASSPHRASEkc7Lm2Nq4Rs6Tu8Vw0Xy";
const WRONG_SECRET: &str = "e2eWRONGkucoinSECRETa1b2c3d4e5f6g7h8i9j0";
pub(crate) const NAME: &str = "kucoin-main";
const DAY_MS: i64 = 86_400_000;
/// How far back the simulated history and the integration start: five 7-day windows.
const HISTORY_DAYS: i64 = 30;

const STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
[candles]
symbols = ["BTC/USDT", "ETH/BTC"]
timeframes = ["1h", "1d"]
interval = "1h"
"#;

/// The history start of every test: [`HISTORY_DAYS`] ago, on a day boundary.
fn history_start() -> String {
    date_of(now_ms() - HISTORY_DAYS * DAY_MS)
}

/// Starts `exsync-sim kucoin` with the test credentials, a history that ends a day ago, and
/// `args`.
pub(crate) fn start_sim(args: &[&str]) -> Sim {
    let start = history_start();
    let end = date_of(now_ms() - DAY_MS);
    let mut all = vec![
        "--api-key",
        API_KEY,
        "--api-secret",
        API_SECRET,
        "--passphrase",
        PASSPHRASE,
        "--history-start",
        &start,
        "--history-end",
        &end,
    ];
    all.extend_from_slice(args);
    Sim::start("kucoin", &all)
}

/// An installation with the KuCoin plugin and one integration against `sim`.
pub(crate) fn kucoin_setup(sim: &Sim, secret: &str, passphrase: &str, budget: bool) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_kucoin.so");
    setup.env("E2E_KUCOIN_KEY", API_KEY);
    setup.env("E2E_KUCOIN_SECRET", secret);
    setup.env("E2E_KUCOIN_PASSPHRASE", passphrase);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "kucoin"
base_url = "{}"
start = "{}"
budget = {budget}
[credentials]
api_key = "env:E2E_KUCOIN_KEY"
api_secret = "env:E2E_KUCOIN_SECRET"
passphrase = "env:E2E_KUCOIN_PASSPHRASE"
{STREAMS}"#,
            sim.url,
            history_start()
        ),
    );
    setup
}

pub(crate) fn assert_all_ok(report: &Value) {
    let streams = report["streams"]
        .as_array()
        .expect("sync report has streams");
    assert_eq!(streams.len(), 7, "every stream synced: {report}");
    for s in streams {
        assert_eq!(s["result"], "ok", "stream failed: {s}");
    }
}

/// Stored records of `kind` by id, none twice.
fn stored(daemon: &Daemon, kind: &str) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for r in daemon.records(NAME, kind) {
        let id = text(&r["id"]);
        assert!(
            map.insert(id.clone(), r).is_none(),
            "{kind} {id} stored twice"
        );
    }
    map
}

/// Asserts that `stored` is exactly `truth` (keyed as the plugin keys it), raw for raw, and
/// that `fields` of each record equal the raw fields named.
fn compare(
    kind: &str,
    stored: &BTreeMap<String, Value>,
    truth: Vec<(String, &Value)>,
    fields: &[(&str, &str)],
) {
    assert!(!truth.is_empty(), "the simulated account has no {kind}");
    for (id, raw) in &truth {
        let rec = stored
            .get(id)
            .unwrap_or_else(|| panic!("{kind} {id} missing ({} stored)", stored.len()));
        assert_eq!(&rec["raw"], *raw, "{kind} {id}: raw differs");
        for (field, raw_field) in fields {
            assert_eq!(
                text(&rec[*field]),
                text(&raw[*raw_field]),
                "{kind} {id}: {field}"
            );
        }
    }
    assert_eq!(
        stored.len(),
        truth.len(),
        "{kind}: stored {} of {}",
        stored.len(),
        truth.len()
    );
}

fn list(truth: &Value, key: &str) -> Vec<Value> {
    truth[key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.{key}"))
        .clone()
}

/// Asserts that the daemon holds exactly the simulator's account, every stream.
pub(crate) fn assert_stored_exactly(daemon: &Daemon, sim: &Sim) {
    let truth = sim.truth();

    // Classic and high-frequency fills alike.
    let mut trades = list(&truth, "trades");
    trades.extend(list(&truth, "hf_trades"));
    compare(
        "trade",
        &stored(daemon, "trade"),
        trades
            .iter()
            .map(|t| {
                (
                    format!(
                        "{}:{}:{}",
                        text(&t["symbol"]),
                        text(&t["tradeId"]),
                        text(&t["orderId"])
                    ),
                    t,
                )
            })
            .collect(),
        &[
            ("price", "price"),
            ("amount", "size"),
            ("cost", "funds"),
            ("fee_amount", "fee"),
            ("fee_asset_native", "feeCurrency"),
            ("timestamp", "createdAt"),
            ("order_id", "orderId"),
        ],
    );
    let mut orders = list(&truth, "orders");
    orders.extend(list(&truth, "hf_orders"));
    let stored_orders = stored(daemon, "order");
    compare(
        "order",
        &stored_orders,
        orders.iter().map(|o| (text(&o["id"]), o)).collect(),
        &[
            ("symbol", "symbol"),
            ("filled", "dealSize"),
            ("cost", "dealFunds"),
            ("timestamp", "createdAt"),
        ],
    );
    for o in &orders {
        let status = &stored_orders[&text(&o["id"])]["status"];
        // High-frequency orders say `active`, classic ones `isActive`.
        let expected = if o["isActive"] == true || o["active"] == true {
            "open"
        } else if o["cancelExist"] == true {
            "canceled"
        } else {
            "closed"
        };
        assert_eq!(status, expected, "order {}", o["id"]);
    }
    let withdrawals = list(&truth, "withdrawals");
    compare(
        "withdrawal",
        &stored(daemon, "withdrawal"),
        withdrawals.iter().map(|w| (text(&w["id"]), w)).collect(),
        &[
            ("amount", "amount"),
            ("fee_amount", "fee"),
            ("asset_native", "currency"),
            ("timestamp", "createdAt"),
        ],
    );
    let mut ledger = list(&truth, "ledger");
    ledger.extend(list(&truth, "hf_ledger"));
    let stored_ledger = stored(daemon, "ledger");
    compare(
        "ledger",
        &stored_ledger,
        ledger.iter().map(|l| (text(&l["id"]), l)).collect(),
        &[
            ("asset_native", "currency"),
            ("type", "bizType"),
            ("balance_after", "balance"),
            ("timestamp", "createdAt"),
        ],
    );
    for l in &ledger {
        let amount = text(&stored_ledger[&text(&l["id"])]["amount"]);
        let sign = if l["direction"] == "out" { "-" } else { "" };
        assert_eq!(
            amount,
            format!("{sign}{}", text(&l["amount"])),
            "ledger {}",
            l["id"]
        );
    }

    // Deposits have no KuCoin id: match them raw for raw.
    let deposits = list(&truth, "deposits");
    let stored_deposits = stored(daemon, "deposit");
    assert_eq!(stored_deposits.len(), deposits.len(), "deposits");
    let mut raws: Vec<String> = stored_deposits
        .values()
        .map(|d| d["raw"].to_string())
        .collect();
    let mut expected: Vec<String> = deposits.iter().map(Value::to_string).collect();
    raws.sort();
    expected.sort();
    assert_eq!(raws, expected, "deposits differ");
    for d in stored_deposits.values() {
        assert_eq!(d["amount"], d["raw"]["amount"]);
        assert_eq!(d["asset_native"], d["raw"]["currency"]);
    }

    // Balances: one per account type and currency, isolated symbol side, futures margin
    // currency and Earn currency (these two where the key may read them).
    let mut expected: Vec<(String, Value, String, String, String)> = Vec::new();
    for b in list(&truth, "balances") {
        let wallet = match b["type"].as_str().unwrap() {
            "main" => "funding",
            "trade" => "spot",
            "trade_hf" => "spot_hf",
            other => other,
        };
        let key = format!("{wallet}:{}", text(&b["currency"]));
        expected.push((
            key,
            b.clone(),
            text(&b["available"]),
            text(&b["holds"]),
            text(&b["balance"]),
        ));
    }
    for entry in list(&truth, "isolated") {
        for side in ["baseAsset", "quoteAsset"] {
            let a = &entry[side];
            let key = format!(
                "isolated_margin:{}:{}",
                text(&entry["symbol"]),
                text(&a["currency"])
            );
            expected.push((
                key,
                entry.clone(),
                text(&a["available"]),
                text(&a["hold"]),
                text(&a["total"]),
            ));
        }
    }
    let permission = text(&truth["permission"]);
    if permission.split(',').any(|p| p == "Futures") {
        for f in list(&truth, "futures") {
            let key = format!("futures:{}", text(&f["currency"]));
            expected.push((
                key,
                f.clone(),
                text(&f["availableBalance"]),
                String::new(),
                String::new(),
            ));
        }
    }
    if permission.split(',').any(|p| p == "Earn") {
        let mut by_currency: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for h in list(&truth, "earn") {
            by_currency.entry(text(&h["currency"])).or_default().push(h);
        }
        for (currency, items) in by_currency {
            expected.push((
                format!("earn:{currency}"),
                Value::Array(items),
                "0".into(),
                String::new(),
                String::new(),
            ));
        }
    }
    let stored_balances: BTreeMap<String, Value> = daemon
        .records(NAME, "balance")
        .into_iter()
        .map(|b| {
            (
                format!("{}:{}", text(&b["wallet"]), text(&b["asset_native"])),
                b,
            )
        })
        .collect();
    assert_eq!(
        stored_balances.len(),
        expected.len(),
        "balances: {:?}",
        stored_balances.keys().collect::<Vec<_>>()
    );
    for (key, raw, free, locked, total) in &expected {
        let rec = stored_balances
            .get(key)
            .unwrap_or_else(|| panic!("no balance {key}"));
        assert_eq!(&rec["raw"], raw, "{key}");
        assert_eq!(text(&rec["free"]), *free, "{key}");
        if !locked.is_empty() {
            assert_eq!(text(&rec["locked"]), *locked, "{key}");
            assert_eq!(text(&rec["total"]), *total, "{key}");
        }
    }
    assert!(
        stored_balances.contains_key("funding:NEWCOIN9")
            || stored_balances.contains_key("spot:NEWCOIN9"),
        "an unknown currency is kept"
    );
    if let Some(f) = stored_balances.get("futures:XBT") {
        assert_eq!(f["asset"], "BTC", "{f}");
    }

    // Candles: every closed candle since the start, exactly; at most the running one beyond.
    let candles = daemon.records(NAME, "candle");
    let start_s = exsync_start_ms() / 1000;
    let now_s = now_ms() / 1000;
    for (symbol, timeframe, kind) in [
        ("BTC-USDT", "1h", "1hour"),
        ("BTC-USDT", "1d", "1day"),
        ("ETH-BTC", "1h", "1hour"),
        ("ETH-BTC", "1d", "1day"),
    ] {
        let r = exsync_e2e::http::get(&format!(
            "{}/__sim/truth/candles?symbol={symbol}&type={kind}&startAt={start_s}&endAt={now_s}",
            sim.url
        ));
        let truth: Vec<Value> = r.json().as_array().unwrap().clone();
        let mine: BTreeMap<i64, &Value> = candles
            .iter()
            .filter(|c| c["symbol"] == symbol && c["timeframe"] == timeframe)
            .map(|c| (c["open_time"].as_i64().unwrap(), c))
            .collect();
        assert!(!truth.is_empty());
        for row in &truth {
            let t = text(&row[0]).parse::<i64>().unwrap() * 1000;
            let c = mine
                .get(&t)
                .unwrap_or_else(|| panic!("{symbol} {timeframe} {t} missing"));
            assert_eq!(&c["raw"], row);
            assert_eq!(c["final"], true);
            assert_eq!(
                (
                    text(&c["open"]),
                    text(&c["close"]),
                    text(&c["high"]),
                    text(&c["low"])
                ),
                (text(&row[1]), text(&row[2]), text(&row[3]), text(&row[4]))
            );
        }
        let finals = mine.values().filter(|c| c["final"] == true).count();
        assert_eq!(finals, truth.len(), "{symbol} {timeframe}: final candles");
        assert!(
            mine.len() <= truth.len() + 1,
            "{symbol} {timeframe}: extra candles"
        );
    }
}

/// The integration's start, as the daemon reads `start = "YYYY-MM-DD"`.
fn exsync_start_ms() -> i64 {
    (now_ms() - HISTORY_DAYS * DAY_MS).div_euclid(DAY_MS) * DAY_MS
}

fn assert_no_secrets(outputs: &[&str]) {
    exsync_e2e::assert_no_secrets(outputs);
    for out in outputs {
        assert!(!out.contains(PASSPHRASE), "the passphrase leaked:\n{out}");
    }
}

#[test]
fn full_sync_stores_exactly_the_ground_truth_and_test_reports_the_key() {
    let sim = start_sim(&["--seed", "51", "--permission", "General,Spot,Futures,Earn"]);
    let setup = kucoin_setup(&sim, API_SECRET, PASSPHRASE, false);
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, &sim);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(stats["by_status"].get("429").is_none(), "{stats}");
    // High-frequency fills are asked for the markets of held currencies only.
    let hf_symbols: Vec<&String> = stats["hf_fills_by_symbol"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert!(hf_symbols.iter().any(|s| *s == "BTC-USDT"), "{stats}");
    assert!(
        !hf_symbols
            .iter()
            .any(|s| ["DOGE-TRY", "SHIB-EUR", "PEPE-BRL"].contains(&s.as_str())),
        "{stats}"
    );

    let test = daemon.ctl_json(&["test", NAME]);
    assert_eq!(test["account"], text(&sim.truth()["uid"]), "{test:#}");
    assert_eq!(test["can_read"], true, "{test:#}");
    assert_eq!(test["can_trade"], true, "{test:#}");
    assert_eq!(test["can_withdraw"], false, "{test:#}");
    let notes = test["notes"].to_string();
    assert!(notes.contains("General, Spot, Futures, Earn"), "{notes}");
    assert!(
        notes.contains("high-frequency (trade_hf) account is open"),
        "{notes}"
    );
    assert!(notes.contains("its fills and orders per market"), "{notes}");
    let coverage = daemon.ctl(&["--json", "coverage", NAME]);
    assert_eq!(coverage.code, 0, "{}", coverage.stderr);
    assert_no_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.to_string(),
        &coverage.stdout,
    ]);
}

#[test]
fn incremental_sync_fetches_only_what_is_new() {
    let sim = start_sim(&["--seed", "52"]);
    let setup = kucoin_setup(&sim, API_SECRET, PASSPHRASE, false);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let trades_before = daemon.records(NAME, "trade").len();

    sim.reset_stats();
    // Five new orders, each filled in one to three fills, the oldest active order filled, and
    // two high-frequency fills.
    let appended =
        exsync_e2e::http::post(&format!("{}/__sim/append", sim.url), "{\"trades\":5}").json();
    let added = appended["appended"].as_u64().unwrap() as usize;
    assert!(added >= 8, "{appended}");
    assert_eq!(appended["completed_active"], true, "{appended}");
    assert_eq!(appended["canceled_hf_active"], true, "{appended}");
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, &sim);
    assert_eq!(daemon.records(NAME, "trade").len(), trades_before + added);

    let stats = sim.stats();
    let by = &stats["by_endpoint"];
    let n = |e: &str| by[e].as_u64().unwrap_or(0);
    // One window each for fills and the ledger (the last minute and what is new).
    assert_eq!(n("GET /api/v1/fills"), 1, "{stats}");
    assert_eq!(n("GET /api/v1/accounts/ledgers"), 1, "{stats}");
    assert_eq!(n("GET /api/v1/hf/accounts/ledgers"), 1, "{stats}");
    assert_eq!(n("GET /api/v1/accounts"), 1, "{stats}");
    assert!(n("GET /api/v1/hf/accounts/opened") <= 1, "{stats}");
    // Orders: the last window, the active list, and the one order no longer active, by id.
    assert_eq!(n("GET /api/v1/orders"), 2, "{stats}");
    assert_eq!(n("GET /api/v1/orders/{orderId}"), 1, "{stats}");
    // Deposits and withdrawals: back to the oldest pending one, within 30 days.
    assert!(n("GET /api/v1/deposits") <= 6, "{stats}");
    assert!(n("GET /api/v1/withdrawals") <= 6, "{stats}");
    // High-frequency fills: one request per symbol partition. Orders: per symbol partition
    // the last window and the active list, and the one canceled order by id.
    let hf = stats["hf_fills_by_symbol"].as_object().unwrap();
    assert!(hf.values().all(|n| n == 1), "{stats}");
    assert_eq!(n("GET /api/v1/hf/orders/done"), hf.len() as u64, "{stats}");
    assert_eq!(
        n("GET /api/v1/hf/orders/active"),
        hf.len() as u64,
        "{stats}"
    );
    assert_eq!(n("GET /api/v1/hf/orders/{orderId}"), 1, "{stats}");
    // Candles: the unfinished candle's request, per partition.
    assert!(n("GET /api/v1/market/candles") <= 4, "{stats}");
    assert!(
        stats["requests_total"].as_u64().unwrap() <= 32 + 3 * hf.len() as u64 + 2,
        "{stats}"
    );
}

#[test]
fn wrong_secret_or_passphrase_is_an_auth_error_and_never_shown() {
    let sim = start_sim(&["--seed", "53", "--orders", "20"]);
    for (secret, passphrase, code) in [
        (WRONG_SECRET, PASSPHRASE, "400004"),
        (API_SECRET, "e2eWRONGpassphrase", "400004"),
    ] {
        let setup = kucoin_setup(&sim, secret, passphrase, false);
        let daemon = Daemon::start(&setup);
        let test = daemon.ctl(&["test", NAME]);
        assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
        assert!(test.stderr.contains("auth"), "{}", test.stderr);
        let json = daemon.sync_wait(NAME);
        for s in json["streams"].as_array().unwrap() {
            if s["stream"] == "candles" {
                // Public: no key involved.
                assert_eq!(s["result"], "ok", "{s}");
                continue;
            }
            assert_eq!(s["result"], "failed", "{s}");
            assert_eq!(s["error"]["kind"], "auth", "{s}");
            assert!(
                s["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("KuCoin code 40000"),
                "{s}"
            );
        }
        // A wrong secret also makes the HMAC'd passphrase wrong: KuCoin checks that first.
        assert!(sim.stats()["by_code"][code].as_u64().unwrap_or(0) > 0);
        let log = daemon.log();
        for out in [&log, &test.stdout, &test.stderr, &json.to_string()] {
            assert!(!out.contains(WRONG_SECRET) && !out.contains("e2eWRONGpassphrase"));
        }
        assert_no_secrets(&[&log, &daemon.metrics()]);
    }
}

#[test]
fn a_skewed_server_clock_is_corrected_and_an_uncorrectable_one_is_a_clock_error() {
    // KuCoin's clock a minute ahead: the plugin measures the offset and signs in its time.
    let sim = start_sim(&[
        "--seed",
        "54",
        "--orders",
        "30",
        "--clock-offset-ms",
        "60000",
    ]);
    let setup = kucoin_setup(&sim, API_SECRET, PASSPHRASE, false);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl_json(&["test", NAME]);
    let offset = test["clock_offset_ms"].as_i64().unwrap();
    assert!((59_000..=61_000).contains(&offset), "{test:#}");
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_eq!(sim.stats()["by_code"]["400002"].as_u64().unwrap_or(0), 0);
    drop(daemon);

    // The server-time endpoint cannot be trusted: every timestamp is stale.
    let sim = start_sim(&[
        "--seed",
        "54",
        "--orders",
        "30",
        "--clock-offset-ms",
        "60000",
        "--stale-server-time",
    ]);
    let setup = kucoin_setup(&sim, API_SECRET, PASSPHRASE, false);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}", test.stdout);
    assert!(test.stderr.contains("clock"), "{}", test.stderr);
    let json = daemon.sync_wait(NAME);
    for s in json["streams"].as_array().unwrap() {
        if s["stream"] != "candles" {
            assert_eq!(s["error"]["kind"], "clock", "{s}");
            assert!(
                s["error"]["hint"].as_str().unwrap().contains("clock"),
                "{s}"
            );
        }
    }
    assert!(sim.stats()["by_code"]["400002"].as_u64().unwrap() > 0);
}

#[test]
fn the_rate_limit_answer_is_obeyed_and_the_sync_completes() {
    // Pools far below KuCoin's, refilled every second, and the daemon's budget off (with it
    // on, what each answer says is left prevents the 429s: see `rate_budgets`): waiting for
    // the reset is what completes the sync.
    let sim = start_sim(&[
        "--seed",
        "55",
        "--orders",
        "60",
        "--deposits",
        "20",
        "--withdrawals",
        "10",
        "--spot-quota",
        "60",
        "--management-quota",
        "100",
        "--public-quota",
        "30",
        "--quota-window-ms",
        "1000",
    ]);
    let setup = kucoin_setup(&sim, API_SECRET, PASSPHRASE, false);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let stats = sim.stats();
    let limited = stats["by_status"]["429"].as_u64().unwrap_or(0);
    assert!(limited > 0, "the test never hit the limit: {stats}");
    let total = stats["requests_total"].as_u64().unwrap();
    assert!(limited * 2 < total, "more 429s than answers: {stats}");
    assert_stored_exactly(&daemon, &sim);
}

#[test]
fn server_errors_are_retried_and_a_malformed_answer_is_a_bad_response() {
    let sim = start_sim(&["--seed", "56", "--orders", "30", "--hf-fills", "20"]);
    let setup = kucoin_setup(&sim, API_SECRET, PASSPHRASE, false);
    let daemon = Daemon::start(&setup);

    // The next three answers are 503s (KuCoin's `503000`): retried, the sync completes.
    sim.set_faults(serde_json::json!({"fail_next": {"count": 3, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_eq!(sim.stats()["by_status"]["503"], 3);
    assert_stored_exactly(&daemon, &sim);

    // Every answer cut short: each stream fails as bad_response, saying what it was doing.
    sim.set_faults(serde_json::json!({"malformed_rate": 1.0}));
    let report = daemon.sync_wait(NAME);
    for s in report["streams"].as_array().unwrap() {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("while "),
            "{s}"
        );
    }
}
