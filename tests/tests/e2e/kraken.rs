//! The `kraken` connector end to end: the real `exsyncd`, the real plugin `.so`, and
//! `exsync-sim kraken` on loopback. Full and incremental syncs against the ground truth, a
//! wrong private key, a nonce another client already used, restarts, and the call counter's
//! `EAPI:Rate limit exceeded`.

use exsync_e2e::truth::assert_kind_exactly;
use exsync_e2e::{assert_all_ok, assert_none_leaked, streams, text};
use std::collections::BTreeMap;
use std::time::Duration;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::http;
use exsync_e2e::sim::Sim;
use serde_json::Value;

/// The simulated account's API key and private key: distinctive, so a leak is found by a
/// plain search of every output.
const KEY: &str = "e2eKRAKENkeyA1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4aBcD";
const SECRET: &str =
    "uP9q/AYIed79I4K5A91M48K5H7YHsDB3u9OOngk3kdMOCZZ2fHpnHjgYWp/v/8vb7RW5xw7uCRebj90ncCEz8w==";
const WRONG_SECRET: &str =
    "Bk+RU2qMO55mjLro5QE2jaecRZn8nGoaeV1OmI3uPq2QR7p5gxPfGcfjmH+en5DLSdIjawJLWGp5nCAqQpdLWg==";
const NAME: &str = "kraken-main";

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
timeframes = ["1d", "4h"]
interval = "1h"
"#;

/// Starts `exsync-sim kraken` with the test credentials and `args`.
fn kraken_sim(args: &[&str]) -> Sim {
    let mut all = vec!["--api-key", KEY, "--api-secret", SECRET];
    all.extend_from_slice(args);
    Sim::start("kraken", &all)
}

/// An installation with the Kraken plugin and one integration against `sim`.
fn kraken_setup(sim: &Sim, secret: &str, extra: &str) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_kraken.so");
    setup.env("E2E_KRAKEN_KEY", KEY);
    setup.env("E2E_KRAKEN_SECRET", secret);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "kraken"
base_url = "{}"
start = "2024-01-01"
budget = false
[credentials]
api_key = "env:E2E_KRAKEN_KEY"
api_secret = "env:E2E_KRAKEN_SECRET"
{extra}"#,
            sim.url
        ),
    );
    setup
}

/// Adds `n` trades and waits until they are older than the whole second our clock estimate
/// of Kraken's can be in: a walk ends at a whole second of Kraken's time (read from `Time`,
/// which truncates to seconds, so up to a second behind), and what is newer is read by the
/// next walk.
fn append_trades_and_let_them_settle(sim: &Sim, n: u64) {
    sim.append_trades(n);
    std::thread::sleep(Duration::from_millis(2100));
}

fn assert_no_kraken_secrets(outputs: &[&str]) {
    assert_none_leaked(&[KEY, SECRET, WRONG_SECRET], outputs);
}

/// Kraken seconds (`1725832930.52911`) → ms, from the digits as the JSON shows them.
fn seconds_ms(v: &Value) -> i64 {
    let t = text(v);
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    let frac: String = frac.chars().chain("000".chars()).take(3).collect();
    int.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap()
}

/// The code the market uses, as the test knows Kraken's: an independent table.
fn common(native: &str) -> String {
    let base = native.split('.').next().unwrap();
    match base {
        "XXBT" | "XBT" => "BTC",
        "XETH" => "ETH",
        "ZUSD" => "USD",
        "ZEUR" => "EUR",
        other => other,
    }
    .to_owned()
}

/// Asserts that a truth section (objects keyed by id) is stored exactly, `raw` and the
/// fields named in `fields` (stored field, raw field) digit by digit.
fn compare(
    daemon: &Daemon,
    kind: &str,
    truth: &Value,
    fields: &[(&str, &str)],
) -> BTreeMap<String, Value> {
    let truth: Vec<(String, &Value)> = truth
        .as_object()
        .expect("truth section is an object")
        .iter()
        .map(|(id, raw)| (id.clone(), raw))
        .collect();
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

/// Asserts that the integration holds exactly the simulator's account.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    let trades = compare(
        daemon,
        "trade",
        &truth["trades"],
        &[
            ("symbol", "pair"),
            ("price", "price"),
            ("amount", "vol"),
            ("cost", "cost"),
            ("fee_amount", "fee"),
            ("order_id", "ordertxid"),
            ("side", "type"),
        ],
    );
    for t in trades.values() {
        assert_eq!(t["timestamp"], seconds_ms(&t["raw"]["time"]), "{t}");
        if t["symbol"] == "XXBTZUSD" {
            assert_eq!((&t["base"], &t["quote"]), (&"BTC".into(), &"USD".into()));
            assert_eq!(t["fee_asset_native"], "ZUSD");
        }
        let maker = t["raw"]["maker"].as_bool().unwrap();
        assert_eq!(t["liquidity"], if maker { "maker" } else { "taker" });
    }
    let orders = compare(
        daemon,
        "order",
        &truth["orders"],
        &[
            ("filled", "vol_exec"),
            ("amount", "vol"),
            ("status", "status"),
        ],
    );
    for o in orders.values() {
        assert_eq!(o["timestamp"], seconds_ms(&o["raw"]["opentm"]), "{o}");
        assert_eq!(o["symbol"], o["raw"]["descr"]["pair"]);
    }
    let ledger = compare(
        daemon,
        "ledger",
        &truth["ledger"],
        &[
            ("amount", "amount"),
            ("balance_after", "balance"),
            ("asset_native", "asset"),
            ("type", "type"),
            ("reference_id", "refid"),
        ],
    );
    for l in ledger.values() {
        assert_eq!(l["asset"], common(&text(&l["asset_native"])), "{l}");
        assert_eq!(l["timestamp"], seconds_ms(&l["raw"]["time"]), "{l}");
    }
    for (kind, section) in [("deposit", "deposits"), ("withdrawal", "withdrawals")] {
        let transfers = compare(
            daemon,
            kind,
            &truth[section],
            &[
                ("amount", "amount"),
                ("asset_native", "asset"),
                ("txid", "txid"),
            ],
        );
        for t in transfers.values() {
            let raw = &t["raw"];
            let expected = match (text(&raw["status"]).as_str(), raw["status-prop"].as_str()) {
                (_, Some("canceled")) => "canceled",
                ("Failure", _) => "failed",
                ("Success", None) => "ok",
                _ => "pending",
            };
            assert_eq!(t["status"], expected, "{t}");
            assert_eq!(t["timestamp"], raw["time"].as_i64().unwrap() * 1000);
        }
    }

    // Balances: one per BalanceEx key, in the spot or earn wallet.
    let balances: BTreeMap<String, Value> = daemon
        .records(NAME, "balance")
        .into_iter()
        .map(|b| (text(&b["asset_native"]), b))
        .collect();
    let truth_balances = truth["balances"].as_object().unwrap();
    assert_eq!(
        balances.len(),
        truth_balances.len(),
        "one balance per asset"
    );
    for (native, raw) in truth_balances {
        let b = balances
            .get(native)
            .unwrap_or_else(|| panic!("no balance for {native}"));
        assert_eq!(&b["raw"], raw, "{native}");
        assert_eq!(b["total"], raw["balance"], "{native}");
        assert_eq!(b["locked"], raw["hold_trade"], "{native}");
        assert_eq!(b["asset"], common(native), "{native}");
        let wallet = if native.contains('.') { "earn" } else { "spot" };
        assert_eq!(b["wallet"], wallet, "{native}");
    }
    assert!(balances.contains_key("KFEE"), "an unknown asset is stored");
}

/// Final candles stored for one partition equal the simulator's rows.
fn assert_candles(daemon: &Daemon, sim: &Sim, pair: &str, minutes: i64, timeframe: &str) {
    let r = http::get(&format!(
        "{}/__sim/truth/ohlc?pair={pair}&interval={minutes}",
        sim.url
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    let truth = r.json();
    let (key, rows) = truth
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| *k != "last")
        .unwrap();
    let stored: BTreeMap<i64, Value> = daemon
        .records(NAME, "candle")
        .into_iter()
        .filter(|c| c["symbol"] == key.as_str() && c["timeframe"] == timeframe)
        .map(|c| (c["open_time"].as_i64().unwrap(), c))
        .collect();
    let rows = rows.as_array().unwrap();
    // The last row is still open: it moves with the clock.
    let closed = &rows[..rows.len() - 1];
    assert!(
        closed.len() >= 700,
        "{key} {timeframe}: {} rows",
        closed.len()
    );
    for row in closed {
        let open_ms = row[0].as_i64().unwrap() * 1000;
        let c = stored
            .get(&open_ms)
            .unwrap_or_else(|| panic!("{key} {timeframe} candle {open_ms} missing"));
        assert_eq!(&c["raw"], row, "{key} {timeframe} {open_ms}");
        assert_eq!(c["final"], true);
        assert_eq!(c["close"], row[4]);
        assert_eq!(c["volume"], row[6]);
    }
    assert!(
        stored.len() <= rows.len(),
        "{key} {timeframe}: more candles stored than Kraken serves"
    );
}

#[test]
fn kraken_full_sync_stores_exactly_the_ground_truth() {
    let sim = kraken_sim(&["--seed", "51", "--no-rate-limit"]);
    let setup = kraken_setup(&sim, SECRET, &format!("{STREAMS}{CANDLES}"));
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl_json(&["test", NAME]);
    assert!(
        test.to_string().contains("Kraken account of API key"),
        "{test:#}"
    );
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_eq!(streams(&report).len(), 7, "{report}");
    let truth = sim.truth();
    assert!(truth["trades"].as_object().unwrap().len() >= 300);
    assert_stored_exactly(&daemon, &truth);
    assert_candles(&daemon, &sim, "XBTUSD", 1440, "1d");
    assert_candles(&daemon, &sim, "ETHXBT", 240, "4h");

    // 720 four-hour candles reach 120 days back: the rest of 2024.. is beyond Kraken's reach.
    let coverage = daemon.ctl_json(&["coverage", NAME]);
    let candles = coverage["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"] == "candles")
        .expect("candles coverage");
    let four_hours = candles["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partition"] == "ETHXBT:4h")
        .expect("ETHXBT:4h coverage");
    let unavailable = four_hours["unavailable"].as_array().unwrap();
    assert_eq!(unavailable.len(), 1, "{four_hours}");
    assert_eq!(unavailable[0]["from_ms"], 1_704_067_200_000_i64);

    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert_eq!(stats["nonce_failures"], 0, "{stats}");
    assert_no_kraken_secrets(&[&daemon.log(), &daemon.metrics(), &report.to_string()]);
}

#[test]
fn kraken_second_sync_fetches_only_what_is_new() {
    let sim = kraken_sim(&["--seed", "52", "--no-rate-limit"]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
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
    for endpoint in [
        "BalanceEx",
        "TradesHistory",
        "Ledgers",
        "ClosedOrders",
        "OpenOrders",
        "DepositStatus",
        "WithdrawStatus",
    ] {
        let n = stats["by_endpoint"][format!("POST /0/private/{endpoint}")]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(n, 1, "{endpoint} requested {n} times: {stats}");
    }

    // New trades arrive: the next sync reads one page of each history and stores them.
    append_trades_and_let_them_settle(&sim, 7);
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap();
    assert_eq!(trades["records"], 7, "{trades}");
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint"]["POST /0/private/TradesHistory"], 1,
        "{stats}"
    );
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn kraken_wrong_private_key_is_an_auth_error_and_never_shown() {
    let sim = kraken_sim(&["--seed", "53", "--trades", "20", "--no-rate-limit"]);
    let setup = kraken_setup(&sim, WRONG_SECRET, STREAMS);
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap()
                .contains("EAPI:Invalid key"),
            "{s}"
        );
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    assert_no_kraken_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &test.stdout,
        &test.stderr,
        &report.to_string(),
    ]);
}

#[test]
fn kraken_nonce_taken_by_another_client_is_a_clock_error() {
    // Another client used this key with microsecond nonces ten days ahead of our clock.
    let ahead = (exsync_now_ms() + 10 * 86_400_000) * 1000;
    let last = ahead.to_string();
    let sim = kraken_sim(&["--seed", "54", "--trades", "20", "--last-nonce", &last]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "clock", "{s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains("nonce"),
            "{s}"
        );
    }
    // One retry with a fresh nonce per refused call, then the stream stops: no hammering.
    let stats = sim.stats();
    let refused = stats["nonce_failures"].as_u64().unwrap();
    assert!(refused > 0 && refused <= 2 * 6, "{stats}");
}

#[test]
fn kraken_nonces_keep_increasing_across_a_restart() {
    let sim = kraken_sim(&["--seed", "55", "--trades", "60", "--no-rate-limit"]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
    let mut daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    daemon.terminate();
    let daemon = Daemon::start(&setup);
    append_trades_and_let_them_settle(&sim, 3);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_eq!(sim.stats()["nonce_failures"], 0);
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn kraken_rate_limit_answers_are_waited_out_and_the_sync_completes() {
    // A call counter of 4 that drains 2 a second: a full sync needs about 15 at once.
    let sim = kraken_sim(&[
        "--seed",
        "56",
        "--trades",
        "60",
        "--orders-extra",
        "5",
        "--deposits",
        "10",
        "--withdrawals",
        "5",
        "--rewards",
        "5",
        "--rate-limit-max",
        "4",
        "--rate-limit-decay",
        "2",
    ]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
    let daemon = Daemon::start(&setup);
    // `EAPI:Rate limit exceeded` comes in a 200: the plugin reports `rate_limited`, the engine
    // waits and asks for the same page again, and the one sync completes.
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert!(
        stats["rate_limited"].as_u64().unwrap() > 0,
        "the test never hit the limit: {stats}"
    );
    assert!(stats["counter_max"].as_f64().unwrap() <= 4.0, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
    let metrics = daemon.metrics();
    assert!(
        metrics.lines().any(|l| l.starts_with(
            "exsync_rate_limit_wait_seconds_total{bucket=\"plugin\",exchange=\"kraken\"}"
        )),
        "{metrics}"
    );
    assert!(
        daemon.log().contains("waiting before asking again"),
        "{}",
        daemon.log()
    );
}

fn exsync_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn kraken_server_clock_offset_is_reported_and_windows_follow_krakens_clock() {
    // Kraken's clock 90 s ahead of ours: `Time` shows it, the windows end at Kraken's "now",
    // and nonces (which Kraken does not compare with its clock) are unaffected.
    let sim = kraken_sim(&[
        "--seed",
        "57",
        "--trades",
        "40",
        "--no-rate-limit",
        "--clock-offset-ms",
        "90000",
    ]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl_json(&["test", NAME]);
    let offset = test["clock_offset_ms"]
        .as_i64()
        .unwrap_or_else(|| panic!("no clock offset: {test:#}"));
    assert!((88_000..=91_000).contains(&offset), "{test:#}");
    assert_all_ok(&daemon.sync_wait(NAME));
    append_trades_and_let_them_settle(&sim, 2);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn kraken_server_errors_are_retried_with_fresh_nonces() {
    let sim = kraken_sim(&["--seed", "58", "--trades", "40", "--no-rate-limit"]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
    let daemon = Daemon::start(&setup);
    sim.set_faults(serde_json::json!({"fail_next": {"count": 2, "status": 503}}));
    assert_all_ok(&daemon.sync_wait(NAME));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["503"], 2, "{stats}");
    assert_eq!(stats["nonce_failures"], 0, "{stats}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn kraken_key_without_the_ledger_right_is_a_permission_error_on_that_stream_only() {
    let sim = kraken_sim(&[
        "--seed",
        "59",
        "--trades",
        "30",
        "--no-rate-limit",
        "--deny-permission",
        "Ledgers",
    ]);
    let setup = kraken_setup(&sim, SECRET, STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl_json(&["test", NAME]);
    assert_eq!(test["can_read"], false, "{test:#}");
    assert!(
        test.to_string().contains("lacks Query Ledger Entries"),
        "{test:#}"
    );
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        if s["stream"] == "ledger" {
            assert_eq!(s["result"], "failed", "{s}");
            assert_eq!(s["error"]["kind"], "permission", "{s}");
        } else {
            assert_eq!(s["result"], "ok", "{s}");
        }
    }
}
