//! The Coinbase Advanced Trade connector end to end: the real `exsyncd`, the real
//! `libexsync_plugin_coinbase.so`, `exsync-sim coinbase` on loopback. Full sync against the
//! ground truth (every stream), incremental sync by request counts, a wrong private key,
//! clock skew, Coinbase's 429s, and the missing sandbox.

use exsync_e2e::truth::stored_by_id;
use exsync_e2e::{assert_all_ok, streams, text};
use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::sim::Sim;
use serde_json::Value;

/// The simulated account's CDP key: made for these tests only.
const KEY_NAME: &str = "organizations/e2e0rg00-0000-4000-8000-000000000001/apiKeys/e2e0key0-0000-4000-8000-000000000002";
const PRIVATE_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIJ21pH2KHdENwpDLuCuMLFmGgDoRwcYB8ITuaA41zcLPoAoGCCqGSM49
AwEHoUQDQgAEXNm3JQ9Fe3ku/LmyysD9lBclmf1NksUAqzxEzIwX/U6wN/xDaqGe
gXF57vkrCkG+wniVF98G5tMWZUnOrj7G4Q==
-----END EC PRIVATE KEY-----
";
const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXNm3JQ9Fe3ku/LmyysD9lBclmf1N
ksUAqzxEzIwX/U6wN/xDaqGegXF57vkrCkG+wniVF98G5tMWZUnOrj7G4Q==
-----END PUBLIC KEY-----";
/// Another P-256 key: valid, but not the account's.
const WRONG_PRIVATE_KEY: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIE+vYKQ1vDNrXQ6ms2odhQZNe9z65dB3TPgmMYBfQ+wYoAoGCCqGSM49
AwEHoUQDQgAEMP4rOj1YUSJ88usaTX2NUJ9f+OTlECIkSbNyDwo3IbLR/7gicvau
DlLZWPsQQkGzH1WDrjEOBkS8/fDpoeZPtQ==
-----END EC PRIVATE KEY-----
";
/// An Ed25519 CDP key (Coinbase's default kind for new keys): made for these tests only. The
/// secret is Coinbase's format, the base64 of the 32-byte seed then the 32-byte public key.
const ED_KEY_NAME: &str = "organizations/e2e0rg00-0000-4000-8000-000000000001/apiKeys/e2e0key0-0000-4000-8000-000000000003";
const ED_PRIVATE_KEY: &str =
    "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8lQ7kv8QlVEUdq3INp223ckzZloRl43aFATuEGbKlVnQ==";
const ED_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0=
-----END PUBLIC KEY-----";
/// Another Ed25519 key: valid, but not the account's.
const WRONG_ED_PRIVATE_KEY: &str =
    "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp/NFLN/lW6VMZT/f7c7PYHcxWHWGnU4CUt8PhpkPuXzqg==";
/// The private keys, or their first lines, that must never appear in any output.
const SECRET_LINES: [&str; 4] = [
    "MHcCAQEEIJ21pH2KHdENwpDLuCuMLFmGgDoRwcYB8ITuaA41zcLPoAoGCCqGSM49",
    "MHcCAQEEIE+vYKQ1vDNrXQ6ms2odhQZNe9z65dB3TPgmMYBfQ+wYoAoGCCqGSM49",
    "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8",
    "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp",
];
const NAME: &str = "coinbase-main";
/// 2024-01-01 UTC, the integrations' start.
const START_MS: i64 = 1_704_067_200_000;

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
timeframes = ["1d"]
interval = "1h"
"#;

fn coinbase_sim(args: &[&str]) -> Sim {
    coinbase_sim_for_key(KEY_NAME, PUBLIC_KEY, args)
}

/// The simulator of an account whose CDP key is `key_name` with `public_key`.
fn coinbase_sim_for_key(key_name: &str, public_key: &str, args: &[&str]) -> Sim {
    let mut all = vec!["--key-name", key_name, "--public-key", public_key];
    all.extend_from_slice(args);
    Sim::start("coinbase", &all)
}

/// An installation with the Coinbase plugin and one integration against `sim`.
fn coinbase_setup(sim: &Sim, private_key: &str, head: &str, tail: &str) -> Setup {
    coinbase_setup_for_key(sim, KEY_NAME, private_key, head, tail)
}

/// [`coinbase_setup`] with the key named `key_name`.
fn coinbase_setup_for_key(
    sim: &Sim,
    key_name: &str,
    private_key: &str,
    head: &str,
    tail: &str,
) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_coinbase.so");
    setup.env("E2E_COINBASE_KEY_NAME", key_name);
    setup.env("E2E_COINBASE_PRIVATE_KEY", private_key);
    setup.integration(
        NAME,
        &format!(
            r#"exchange = "coinbase"
base_url = "{}"
start = "2024-01-01"
budget = true
{head}
[credentials]
api_key = "env:E2E_COINBASE_KEY_NAME"
api_secret = "env:E2E_COINBASE_PRIVATE_KEY"
{tail}"#,
            sim.url
        ),
    );
    setup
}

fn assert_no_coinbase_secrets(outputs: &[&str]) {
    for out in outputs {
        for secret in SECRET_LINES {
            assert!(
                !out.contains(secret),
                "a private key leaked into an output:\n{out}"
            );
        }
    }
}

/// `v["a"]["b"]` for `"a.b"`.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

fn stored(daemon: &Daemon, kind: &str) -> BTreeMap<String, Value> {
    stored_by_id(daemon, NAME, kind)
}

/// The records of `kind` are exactly `truth` (Coinbase objects keyed by `id_field`): same
/// ids, same raw objects, and each `(field, raw path)` equal; `transform` maps the raw value
/// before comparing (the absolute value of a transfer's signed amount).
fn assert_kind_exactly(
    daemon: &Daemon,
    kind: &str,
    truth: &Value,
    id_field: &str,
    fields: &[(&str, &str)],
    transform: fn(&str, String) -> String,
) {
    let truth: Vec<(String, &Value)> = truth
        .as_array()
        .expect("a truth list")
        .iter()
        .map(|t| (text(&t[id_field]), t))
        .collect();
    assert!(!truth.is_empty(), "the truth holds no {kind}");
    exsync_e2e::truth::assert_kind_exactly(daemon, NAME, kind, &truth, |id, rec, raw| {
        for (field, raw_path) in fields {
            assert_eq!(
                text(&rec[*field]),
                transform(field, text(at(raw, raw_path))),
                "{kind} {id}: {field} differs from raw {raw_path}"
            );
        }
    });
}

fn same(_: &str, v: String) -> String {
    v
}

fn unsigned_amount(field: &str, v: String) -> String {
    if field == "amount" {
        v.trim_start_matches('-').to_owned()
    } else {
        v
    }
}

/// Everything Coinbase serves of the account is stored, digit for digit.
fn assert_stored_exactly(daemon: &Daemon, truth: &Value) {
    assert_kind_exactly(
        daemon,
        "trade",
        &truth["fills"],
        "entry_id",
        &[
            ("symbol", "product_id"),
            ("price", "price"),
            ("amount", "size"),
            ("order_id", "order_id"),
            ("fee_amount", "commission"),
        ],
        same,
    );
    assert_kind_exactly(
        daemon,
        "order",
        &truth["orders"],
        "order_id",
        &[
            ("symbol", "product_id"),
            ("filled", "filled_size"),
            ("cost", "filled_value"),
        ],
        same,
    );
    for kind in ["deposit", "withdrawal"] {
        assert_kind_exactly(
            daemon,
            kind,
            &truth[format!("{kind}s").as_str()],
            "id",
            &[
                ("amount", "amount.amount"),
                ("asset_native", "amount.currency"),
            ],
            unsigned_amount,
        );
    }
    assert_kind_exactly(
        daemon,
        "ledger",
        &truth["ledger"],
        "id",
        &[
            ("amount", "amount.amount"),
            ("asset_native", "amount.currency"),
            ("type", "type"),
        ],
        same,
    );

    // Balances: one per wallet, several per currency, and one per asset of each perpetuals
    // (INTX) portfolio (whose raw objects have no wallet `uuid`).
    let (wallets, intx): (Vec<Value>, Vec<Value>) = daemon
        .records(NAME, "balance")
        .into_iter()
        .partition(|b| b["raw"]["uuid"].is_string());
    assert_intx_balances_exactly(&intx, truth);
    let balances: BTreeMap<String, Value> = wallets
        .into_iter()
        .map(|b| (text(&b["raw"]["uuid"]), b))
        .collect();
    let accounts = truth["accounts"].as_array().unwrap();
    assert_eq!(balances.len(), accounts.len(), "balances: one per wallet");
    for a in accounts {
        let uuid = text(&a["uuid"]);
        let rec = balances
            .get(&uuid)
            .unwrap_or_else(|| panic!("no balance stored for wallet {uuid}"));
        let mut raw = rec["raw"].clone();
        let summary = raw
            .as_object_mut()
            .and_then(|o| o.remove("cfm_balance_summary"));
        assert_eq!(&raw, a, "{uuid} raw");
        if a["platform"] == "ACCOUNT_PLATFORM_CFM_CONSUMER" {
            // The futures wallet carries the futures balance summary, and its numbers.
            let summary = summary.expect("the futures wallet carries its balance summary");
            assert_eq!(summary, truth["cfm_balance_summary"]["balance_summary"]);
            let total = text(at(&summary, "cfm_usd_balance.value"));
            let hold = text(at(&summary, "total_open_orders_hold_amount.value"));
            assert_eq!(text(&rec["total"]), total, "{uuid} total");
            assert_eq!(text(&rec["locked"]), hold, "{uuid} locked");
            // Free is the rest: the sim's summary is the wallet's available + hold, so free
            // stays the wallet's available (checked below).
        } else {
            assert!(
                summary.is_none(),
                "{uuid}: only the futures wallet has a summary"
            );
        }
        assert_eq!(
            text(&rec["free"]),
            text(at(a, "available_balance.value")),
            "{uuid} free"
        );
        assert_eq!(
            text(&rec["locked"]),
            text(at(a, "hold.value")),
            "{uuid} locked"
        );
        assert_eq!(
            text(&rec["asset_native"]),
            text(&a["currency"]),
            "{uuid} currency"
        );
        let wallet = text(&rec["wallet"]);
        let expected = match (
            a["name"].as_str().unwrap(),
            a["platform"].as_str().unwrap(),
            a["type"].as_str().unwrap(),
        ) {
            (_, "ACCOUNT_PLATFORM_CFM_CONSUMER", _) => "futures",
            (_, _, "ACCOUNT_TYPE_VAULT") => "vault",
            (name, _, _) if name.starts_with("Staked ") => "earn",
            _ => "spot",
        };
        assert_eq!(wallet, expected, "{uuid} ({})", a["name"]);
    }
    assert!(
        balances.values().any(|b| b["asset_native"] == "ZKQ"),
        "the unknown asset is stored"
    );
}

/// `a + b` and `a - b` of two decimal strings, exactly, at the larger scale.
fn decimal_sum(a: &str, b: &str, sign: i128) -> String {
    let parse = |t: &str| -> (i128, usize) {
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        (format!("{int}{frac}").parse().unwrap(), frac.len())
    };
    let ((ma, sa), (mb, sb)) = (parse(a), parse(b));
    let scale = sa.max(sb);
    let v = ma * 10i128.pow((scale - sa) as u32) + sign * mb * 10i128.pow((scale - sb) as u32);
    let digits = format!("{:0>width$}", v.abs(), width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    let sign = if v < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// The perpetuals (INTX) balances are exactly the sim's: one record per asset of each
/// portfolio, the first portfolio's in the `perpetuals` wallet and a later one's in
/// `perpetuals:<portfolio uuid>`, total = quantity, locked = hold + transfer_hold, free = the
/// rest, raw = Coinbase's balance object (plus its portfolio's uuid).
fn assert_intx_balances_exactly(stored: &[Value], truth: &Value) {
    let portfolios = truth["intx_portfolios"]
        .as_array()
        .expect("INTX portfolios");
    let expected: usize = portfolios
        .iter()
        .map(|p| p["balances"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        stored.len(),
        expected,
        "one record per INTX asset: {stored:#?}"
    );
    for (i, p) in portfolios.iter().enumerate() {
        let uuid = text(&p["uuid"]);
        for b in p["balances"].as_array().unwrap() {
            let asset = text(&b["asset"]["asset_name"]);
            let rec = stored
                .iter()
                .find(|r| r["raw"]["portfolio_uuid"] == uuid && r["asset_native"] == asset)
                .unwrap_or_else(|| panic!("no {asset} balance of INTX portfolio {uuid}"));
            let wallet = if i == 0 {
                "perpetuals".to_owned()
            } else {
                format!("perpetuals:{uuid}")
            };
            assert_eq!(text(&rec["wallet"]), wallet, "{rec:#}");
            let mut raw = rec["raw"].clone();
            raw.as_object_mut().unwrap().remove("portfolio_uuid");
            assert_eq!(&raw, b, "{uuid} {asset} raw");
            let quantity = text(&b["quantity"]);
            let locked = decimal_sum(&text(&b["hold"]), &text(&b["transfer_hold"]), 1);
            assert_eq!(text(&rec["total"]), quantity, "{uuid} {asset} total");
            assert_eq!(text(&rec["locked"]), locked, "{uuid} {asset} locked");
            assert_eq!(
                text(&rec["free"]),
                decimal_sum(&quantity, &locked, -1),
                "{uuid} {asset} free"
            );
        }
    }
}

/// Every closed daily candle since the start is stored as the sim renders it, and today's
/// candle is stored unfinished.
fn assert_candles_exactly(daemon: &Daemon, sim: &Sim) {
    let stored = daemon.records(NAME, "candle");
    for product in ["BTC-USD", "ETH-BTC"] {
        let r = exsync_e2e::http::get(&format!(
            "{}/__sim/truth/candles?product_id={product}&granularity=ONE_DAY&begin={START_MS}",
            sim.url
        ));
        assert_eq!(r.status, 200, "{}", r.text());
        let truth = r.json();
        let truth = truth.as_array().unwrap();
        assert!(truth.len() > 300, "more than one window of candles");
        let mine: BTreeMap<i64, &Value> = stored
            .iter()
            .filter(|c| c["symbol"] == product && c["final"] == true)
            .map(|c| (c["open_time"].as_i64().unwrap(), c))
            .collect();
        assert_eq!(mine.len(), truth.len(), "{product}: closed candles");
        for row in truth {
            let open: i64 = row["start"].as_str().unwrap().parse::<i64>().unwrap() * 1000;
            let c = mine
                .get(&open)
                .unwrap_or_else(|| panic!("{product}: no candle at {open}"));
            assert_eq!(&c["raw"], row);
            assert_eq!(c["close"], row["close"]);
            assert_eq!(c["low"], row["low"]);
        }
        let open_now = stored
            .iter()
            .filter(|c| c["symbol"] == product && c["final"] == false)
            .count();
        assert_eq!(open_now, 1, "{product}: today's unfinished candle");
    }
}

#[test]
fn full_sync_stores_exactly_what_coinbase_serves() {
    let sim = coinbase_sim(&["--seed", "61", "--can-transfer", "true"]);
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", &format!("{STREAMS}{CANDLES}"));
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    assert_candles_exactly(&daemon, &sim);
    assert_eq!(truth["intx_portfolios"].as_array().unwrap().len(), 1);
    assert!(
        daemon
            .records(NAME, "balance")
            .iter()
            .any(|b| b["wallet"] == "perpetuals" && b["asset_native"] == "USDC"),
        "the perpetuals portfolio's USDC collateral is stored"
    );

    // The walks really paged: more fills and orders than one page holds.
    assert!(truth["fills"].as_array().unwrap().len() > 100);
    let stats = sim.stats();
    assert!(
        stats["by_endpoint"]["GET /api/v3/brokerage/orders/historical/fills"]
            .as_u64()
            .unwrap()
            > 1,
        "{stats}"
    );
    assert_eq!(stats["auth_failures"], 0, "{stats}");

    // Open orders are open, the rest are not.
    let orders = stored(&daemon, "order");
    assert_eq!(orders.values().filter(|o| o["status"] == "open").count(), 4);

    let test = daemon.ctl_json(&["test", NAME]);
    let shown = text(&test);
    assert!(
        shown.contains(truth["portfolio_uuid"].as_str().unwrap()),
        "the check names the portfolio: {test:#}"
    );
    assert_eq!(test["can_withdraw"], true, "{test:#}");
    assert_eq!(test["can_trade"], false, "{test:#}");
    assert_no_coinbase_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &shown,
    ]);
}

#[test]
fn second_sync_asks_one_page_per_partition_and_then_picks_up_exactly_the_new_fills() {
    let sim = coinbase_sim(&["--seed", "62"]);
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", &format!("{STREAMS}{CANDLES}"));
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));

    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let stats = sim.stats();
    // Fills: one page; orders: one page of history and one of open orders.
    for (endpoint, expected) in [
        ("GET /api/v3/brokerage/orders/historical/fills", 1),
        ("GET /api/v3/brokerage/orders/historical/batch", 2),
    ] {
        let n = stats["by_endpoint"][endpoint].as_u64().unwrap_or(0);
        assert_eq!(
            n, expected,
            "{endpoint} requested {n} times in a sync with nothing new: {stats}"
        );
    }
    for (key, count) in stats["by_endpoint_partition"].as_object().unwrap() {
        // One request per wallet for each of deposits, withdrawals and the ledger; one per
        // candle series.
        let most = if key.contains("/transactions") { 3 } else { 1 };
        assert!(
            count.as_u64().unwrap() <= most,
            "{key} was requested {count} times: {stats}"
        );
    }
    for s in streams(&report) {
        if s["stream"] == "trades" {
            // The walk reads again the fills of its newest instant, nothing older.
            assert!(s["records"].as_u64().unwrap() <= 3, "{s}");
        }
    }

    sim.append_trades(5);
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let stats = sim.stats();
    assert_eq!(
        stats["by_endpoint"]["GET /api/v3/brokerage/orders/historical/fills"], 1,
        "{stats}"
    );
    let new_trades = streams(&report)
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap()["records"]
        .as_u64()
        .unwrap();
    assert!(new_trades >= 5, "{report}");
    assert_stored_exactly(&daemon, &sim.truth());
}

#[test]
fn an_ed25519_key_signs_eddsa_tokens_the_sim_verifies_and_syncs_everything() {
    // The sim knows only the Ed25519 public key: every private request passes only with an
    // EdDSA token that verifies with it.
    let sim = coinbase_sim_for_key(
        ED_KEY_NAME,
        ED_PUBLIC_KEY,
        &[
            "--seed",
            "70",
            "--can-transfer",
            "true",
            "--orders",
            "150",
            "--intx-portfolios",
            "2",
        ],
    );
    let setup = coinbase_setup_for_key(&sim, ED_KEY_NAME, ED_PRIVATE_KEY, "", STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl_json(&["test", NAME]);
    assert_eq!(test["can_withdraw"], true, "{test:#}");
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, &sim.truth());
    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(
        stats["by_endpoint"]["GET /api/v3/brokerage/orders/historical/fills"]
            .as_u64()
            .unwrap()
            > 1,
        "{stats}"
    );
    assert_no_coinbase_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.to_string(),
    ]);
    drop(daemon);

    // Another Ed25519 key of the same name: its tokens do not verify.
    let setup = coinbase_setup_for_key(&sim, ED_KEY_NAME, WRONG_ED_PRIVATE_KEY, "", STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    // And the account's ECDSA key, under the Ed25519 key's name, signs ES256: refused too.
    drop(daemon);
    sim.reset_stats();
    let setup = coinbase_setup_for_key(&sim, ED_KEY_NAME, PRIVATE_KEY, "", STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    assert_no_coinbase_secrets(&[&daemon.log(), &test.stderr]);
}

#[test]
fn a_key_refused_the_portfolio_list_still_stores_every_wallet() {
    let sim = coinbase_sim(&["--seed", "71", "--orders", "20", "--portfolios-forbidden"]);
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", "[streams]\nbalances = \"1h\"\n");
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let truth = sim.truth();
    let stored = daemon.records(NAME, "balance");
    assert_eq!(
        stored.len(),
        truth["accounts"].as_array().unwrap().len(),
        "one balance per wallet, no perpetuals: {stored:#?}"
    );
    assert!(stored.iter().all(|b| b["wallet"] != "perpetuals"));
    let stats = sim.stats();
    assert_eq!(stats["by_status"]["403"], 1, "{stats}");
    assert!(
        stats["by_endpoint"]["GET /api/v3/brokerage/intx/balances/{portfolio_uuid}"].is_null(),
        "{stats}"
    );
    assert!(
        daemon.log().contains("No perpetuals (INTX) balances"),
        "the refusal is logged"
    );
}

#[test]
fn wrong_private_key_is_auth_and_never_shown() {
    let sim = coinbase_sim(&["--seed", "63", "--orders", "20"]);
    let setup = coinbase_setup(&sim, WRONG_PRIVATE_KEY, "", STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);
    assert!(
        test.stderr.contains("401"),
        "Coinbase's status is shown: {}",
        test.stderr
    );
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
    }
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);
    assert!(daemon.records(NAME, "trade").is_empty());
    assert_no_coinbase_secrets(&[
        &daemon.log(),
        &daemon.metrics(),
        &report.to_string(),
        &test.stderr,
    ]);
}

#[test]
fn clock_skew_is_corrected_within_the_limit_and_a_clock_error_beyond_it() {
    // Coinbase's clock 90 s behind ours: uncorrected tokens would not be valid yet (nbf in
    // the server's future); the plugin reads Coinbase's time and stamps tokens with it.
    let sim = coinbase_sim(&[
        "--seed",
        "64",
        "--orders",
        "60",
        "--clock-offset-ms",
        "-90000",
        "--intx-portfolios",
        "0",
    ]);
    let setup = coinbase_setup(
        &sim,
        PRIVATE_KEY,
        "",
        &format!("{STREAMS}[options]\nmax_clock_offset_ms = 120000\n"),
    );
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_stored_exactly(&daemon, &sim.truth());
    let stats = sim.stats();
    assert_eq!(stats["auth_failures"], 0);
    // Without perpetuals portfolios, the list is read and no portfolio's balances are.
    assert_eq!(
        stats["by_endpoint"]["GET /api/v3/brokerage/portfolios"], 1,
        "{stats}"
    );
    assert!(
        stats["by_endpoint"]["GET /api/v3/brokerage/intx/balances/{portfolio_uuid}"].is_null(),
        "{stats}"
    );
    drop(daemon);

    // With the default limit (30 s) the same skew is the operator's to fix.
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", STREAMS);
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("clock"), "{}", test.stderr);
    let report = daemon.sync_wait(NAME);
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "clock", "{s}");
    }
}

#[test]
fn coinbase_rate_limit_answers_are_waited_out_and_the_sync_completes() {
    // The private endpoints allow 3 requests per second: far below Coinbase's 30, so the
    // daemon's own (Coinbase-sized) budget does not prevent the sim's 429s; only backing off
    // on them does.
    let sim = coinbase_sim(&[
        "--seed",
        "65",
        "--rate-limit",
        "3",
        "--rate-window-ms",
        "1000",
    ]);
    let setup = coinbase_setup(
        &sim,
        PRIVATE_KEY,
        "",
        "[streams]\ntrades = \"1h\"\nledger = \"1h\"\n",
    );
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
        "entry_id",
        &[("price", "price")],
        same,
    );
    assert_kind_exactly(
        &daemon,
        "ledger",
        &truth["ledger"],
        "id",
        &[("amount", "amount.amount")],
        same,
    );
}

#[test]
fn sandbox_is_unsupported() {
    let sim = coinbase_sim(&["--seed", "66", "--orders", "5"]);
    let setup = coinbase_setup(
        &sim,
        PRIVATE_KEY,
        "sandbox = true",
        "[streams]\nbalances = \"1h\"\n",
    );
    let daemon = Daemon::start(&setup);
    let test = daemon.ctl(&["test", NAME]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(
        test.stderr.contains("unsupported") || test.stderr.contains("sandbox"),
        "{}",
        test.stderr
    );
    assert_eq!(sim.stats()["requests_total"], 0, "nothing was sent");
}

#[test]
fn orders_that_fill_and_transactions_that_complete_after_a_sync_are_read_again() {
    let sim = coinbase_sim(&["--seed", "67"]);
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", STREAMS);
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let truth = sim.truth();
    let pending = truth["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "pending")
        .count();
    assert!(pending > 0, "the account has pending transactions");
    assert_eq!(
        stored(&daemon, "order")
            .values()
            .filter(|o| o["status"] == "open")
            .count(),
        4
    );

    // The open orders fill, the pending transactions complete, three deposits arrive.
    let r = exsync_e2e::http::post(
        &format!("{}/__sim/append", sim.url),
        r#"{"fill_open_orders":true,"complete_pending":true,"deposits":3}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["orders_filled"], 4, "{}", r.text());
    sim.reset_stats();
    let report = daemon.sync_wait(NAME);
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, &truth);
    let orders = stored(&daemon, "order");
    assert_eq!(orders.values().filter(|o| o["status"] == "open").count(), 0);
    let ledger = stored(&daemon, "ledger");
    assert!(ledger.values().all(|t| t["raw"]["status"] == "completed"));
    let stats = sim.stats();
    for (endpoint, expected) in [
        ("GET /api/v3/brokerage/orders/historical/fills", 1),
        ("GET /api/v3/brokerage/orders/historical/batch", 2),
    ] {
        assert_eq!(
            stats["by_endpoint"][endpoint], expected,
            "{endpoint}: {stats}"
        );
    }
}

#[test]
fn history_before_coinbase_opened_is_marked_unavailable() {
    let sim = coinbase_sim(&["--seed", "68", "--orders", "30"]);
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", "[streams]\ntrades = \"1h\"\n");
    let file = setup
        .config_dir()
        .join("integrations.d")
        .join(format!("{NAME}.toml"));
    let toml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        toml.replace("start = \"2024-01-01\"", "start = \"2011-01-01\""),
    )
    .unwrap();
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let coverage = daemon.ctl_json(&["coverage", NAME]);
    let trades = coverage["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stream"] == "trades")
        .unwrap_or_else(|| panic!("no coverage of trades: {coverage:#}"));
    let part = &trades["partitions"][0];
    let unavailable = part["unavailable"].as_array().unwrap();
    assert_eq!(unavailable.len(), 1, "{part:#}");
    assert_eq!(unavailable[0]["from_ms"], 1_293_840_000_000i64, "{part:#}"); // 2011-01-01
    assert_eq!(unavailable[0]["to_ms"], 1_325_376_000_000i64, "{part:#}"); // 2012-01-01
    let synced = part["synced"].as_array().unwrap();
    assert_eq!(synced[0]["from_ms"], 1_325_376_000_000i64, "{part:#}");
    assert_eq!(
        stored(&daemon, "trade").len(),
        sim.truth()["fills"].as_array().unwrap().len()
    );
}

#[test]
fn kill_9_in_the_middle_of_a_walk_then_restart_completes_exactly() {
    // Slow answers keep the fills walk going long enough to be killed in the middle of it.
    let sim = coinbase_sim(&["--seed", "69", "--orders", "1500", "--slow-ms", "100"]);
    let setup = coinbase_setup(&sim, PRIVATE_KEY, "", "[streams]\ntrades = \"1h\"\n");
    let mut daemon = Daemon::start(&setup);
    let started = daemon.ctl(&["sync", NAME]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let at_kill = exsync_e2e::daemon::wait_for("some fills to be stored", || {
        let n = daemon.records(NAME, "trade").len();
        (n >= 300).then_some(n)
    });
    daemon.kill9();
    let all = sim.truth()["fills"].as_array().unwrap().len();
    assert!(
        at_kill < all,
        "the sync ended before the kill ({at_kill} of {all} fills)"
    );

    sim.reset_stats();
    let daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait(NAME));
    let truth = sim.truth();
    assert_kind_exactly(
        &daemon,
        "trade",
        &truth["fills"],
        "entry_id",
        &[("price", "price")],
        same,
    );
    // The walk resumed from its cursor: it did not read every page again.
    let pages = sim.stats()["by_endpoint"]["GET /api/v3/brokerage/orders/historical/fills"]
        .as_u64()
        .unwrap();
    let all_pages = all.div_ceil(100) as u64;
    assert!(
        pages < all_pages,
        "{pages} pages read after the restart, {all_pages} in all"
    );
}
