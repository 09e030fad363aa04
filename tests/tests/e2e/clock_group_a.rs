//! Clock skew of minutes (issue 9): the connectors whose exchange refuses a request signed
//! outside a time window correct their timestamps from the exchange's own server time, and
//! say `clock` (not `auth`) when even that does not help.
//!
//! Group A (group B, the rest, is `clock_group_b`): OKX, Bybit, Bitget, KuCoin, Gate.io, Coinbase Exchange and Deribit, all in one
//! daemon, each against its own simulator (the skew of the shared fault layer,
//! `/__sim/exchange_faults` `clock_skew_ms`, moves one simulator's whole clock: its time
//! endpoint and its signature checks together). Per connector, in parallel:
//!
//! 1. a `reference` integration and the `victim` sync in step; the reference is the account;
//! 2. the exchange's clock jumps five minutes ahead: the victim's next sync asks the time
//!    endpoint, succeeds, and stores exactly the reference; `exsyncctl test` shows the offset;
//! 3. the clock jumps to ten minutes ahead while the time endpoint answers an old reading (a
//!    time endpoint that lies): the sync fails `clock`, after a bounded number of readings;
//! 4. the time endpoint tells the truth again: the next sync completes, store still exact.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{date_of, days_ago, now_ms};
use exsync_e2e::http;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::{streams, text};
use serde_json::{json, Value};

/// One group-A connector as this test drives it.
struct AExchange {
    exchange: &'static str,
    plugin: &'static str,
    sim: &'static str,
    sim_args: Vec<String>,
    /// Credential environment variables (registered as secrets).
    env: Vec<(&'static str, &'static str)>,
    /// The integration file less `enabled` and the streams: exchange, base URL, start,
    /// credentials.
    head: fn(&str) -> String,
    /// The path of the exchange's server-time endpoint, as the simulator serves it.
    time_path: &'static str,
}

const A_OKX_KEY: &str = "e2eOKXkey7f3a9c1e-5b2d-4e8f-a6c0-91d4b7e2f3a8";
const A_OKX_SECRET: &str = "e2eOKXsecretD41D8CD98F00B204E9800998ECF8427E";
const A_OKX_PASSPHRASE: &str = "e2eOKXpassphraseZq7Wm";
const A_KUCOIN_PASSPHRASE: &str = "e2ePASSPHRASEkc7Lm2Nq4Rs6Tu8Vw0Xy";
const A_CBX_KEY: &str = "e2eCBXkey7f3a9c1d5e8b2046";
const A_CBX_SECRET: &str =
    "ZTJlQ0JYc2VjcmV0LXE4WHYyTG1ONHBSN3NUMXVXM3laNWFCNmNEOWVGMGdIMmpLNGxNNm5QOA==";
const A_CBX_PASSPHRASE: &str = "e2eCBXpassphraseQ7w8E9r0";
const A_BITGET_PASSPHRASE: &str = "e2ePASSbitgetW7x8y9z0Q1w2e3";

/// The trades stream only: every walk makes signed requests, and trades are what the
/// reference comparison checks record for record.
const A_STREAMS: &str = "[streams]\ntrades = \"1h\"\n";

/// Time-endpoint readings a sync may make while the endpoint lies: the plugin measures
/// again once per rejected request (the engine may ask for a failed page again).
const A_MAX_READINGS: u64 = 10;

fn a_args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn a_exchanges() -> Vec<AExchange> {
    let kucoin_start = date_of(now_ms() - 30 * 86_400_000);
    let kucoin_end = date_of(now_ms() - 86_400_000);
    vec![
        AExchange {
            exchange: "okx",
            plugin: "libexsync_plugin_okx.so",
            sim: "okx",
            sim_args: a_args(&[
                "--api-key",
                A_OKX_KEY,
                "--api-secret",
                A_OKX_SECRET,
                "--passphrase",
                A_OKX_PASSPHRASE,
                "--seed",
                "931",
                "--fills",
                "40",
                "--no-rate-limit",
            ]),
            env: vec![
                ("E2E_OKX_KEY", A_OKX_KEY),
                ("E2E_OKX_SECRET", A_OKX_SECRET),
                ("E2E_OKX_PASSPHRASE", A_OKX_PASSPHRASE),
            ],
            head: |url| {
                format!(
                    "exchange = \"okx\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_OKX_KEY\"\napi_secret = \"env:E2E_OKX_SECRET\"\n\
                     passphrase = \"env:E2E_OKX_PASSPHRASE\"\n"
                )
            },
            time_path: "/api/v5/public/time",
        },
        AExchange {
            exchange: "bybit",
            plugin: "libexsync_plugin_bybit.so",
            sim: "bybit",
            sim_args: a_args(&[
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--seed",
                "932",
                "--trades",
                "40",
                "--no-rate-limit",
            ]),
            env: vec![("E2E_BYBIT_KEY", API_KEY), ("E2E_BYBIT_SECRET", API_SECRET)],
            head: |url| {
                format!(
                    "exchange = \"bybit\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_BYBIT_KEY\"\napi_secret = \"env:E2E_BYBIT_SECRET\"\n",
                    days_ago(30)
                )
            },
            time_path: "/v5/market/time",
        },
        AExchange {
            exchange: "bitget",
            plugin: "libexsync_plugin_bitget.so",
            sim: "bitget",
            sim_args: a_args(&[
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--passphrase",
                A_BITGET_PASSPHRASE,
                "--seed",
                "933",
                "--trades",
                "40",
                "--no-rate-limit",
            ]),
            env: vec![
                ("E2E_BITGET_KEY", API_KEY),
                ("E2E_BITGET_SECRET", API_SECRET),
                ("E2E_BITGET_PASSPHRASE", A_BITGET_PASSPHRASE),
            ],
            head: |url| {
                format!(
                    "exchange = \"bitget\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_BITGET_KEY\"\napi_secret = \"env:E2E_BITGET_SECRET\"\n\
                     passphrase = \"env:E2E_BITGET_PASSPHRASE\"\n",
                    days_ago(30)
                )
            },
            time_path: "/api/v2/public/time",
        },
        AExchange {
            exchange: "kucoin",
            plugin: "libexsync_plugin_kucoin.so",
            sim: "kucoin",
            sim_args: {
                let mut args = a_args(&[
                    "--api-key",
                    API_KEY,
                    "--api-secret",
                    API_SECRET,
                    "--passphrase",
                    A_KUCOIN_PASSPHRASE,
                    "--seed",
                    "934",
                    "--orders",
                    "20",
                    "--hf-fills",
                    "10",
                    "--no-rate-limit",
                    "--history-start",
                ]);
                args.extend([kucoin_start, "--history-end".to_owned(), kucoin_end]);
                args
            },
            env: vec![
                ("E2E_KUCOIN_KEY", API_KEY),
                ("E2E_KUCOIN_SECRET", API_SECRET),
                ("E2E_KUCOIN_PASSPHRASE", A_KUCOIN_PASSPHRASE),
            ],
            head: |url| {
                format!(
                    "exchange = \"kucoin\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_KUCOIN_KEY\"\napi_secret = \"env:E2E_KUCOIN_SECRET\"\n\
                     passphrase = \"env:E2E_KUCOIN_PASSPHRASE\"\n",
                    date_of(now_ms() - 30 * 86_400_000)
                )
            },
            time_path: "/api/v1/timestamp",
        },
        AExchange {
            exchange: "gateio",
            plugin: "libexsync_plugin_gateio.so",
            sim: "gateio",
            sim_args: a_args(&[
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--seed",
                "935",
                "--trades",
                "40",
                "--endpoint-limit",
                "100000",
            ]),
            env: vec![
                ("E2E_GATEIO_KEY", API_KEY),
                ("E2E_GATEIO_SECRET", API_SECRET),
            ],
            head: |url| {
                format!(
                    "exchange = \"gateio\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_GATEIO_KEY\"\napi_secret = \"env:E2E_GATEIO_SECRET\"\n",
                    days_ago(40)
                )
            },
            time_path: "/api/v4/spot/time",
        },
        AExchange {
            exchange: "coinbase-exchange",
            plugin: "libexsync_plugin_coinbase_exchange.so",
            sim: "coinbase-exchange",
            sim_args: a_args(&[
                "--api-key",
                A_CBX_KEY,
                "--api-secret",
                A_CBX_SECRET,
                "--passphrase",
                A_CBX_PASSPHRASE,
                "--seed",
                "936",
                "--orders",
                "20",
                "--no-rate-limit",
            ]),
            env: vec![
                ("E2E_CBX_KEY", A_CBX_KEY),
                ("E2E_CBX_SECRET", A_CBX_SECRET),
                ("E2E_CBX_PASSPHRASE", A_CBX_PASSPHRASE),
            ],
            head: |url| {
                format!(
                    "exchange = \"coinbase-exchange\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_CBX_KEY\"\napi_secret = \"env:E2E_CBX_SECRET\"\n\
                     passphrase = \"env:E2E_CBX_PASSPHRASE\"\n",
                    days_ago(200)
                )
            },
            time_path: "/time",
        },
        AExchange {
            exchange: "deribit",
            plugin: "libexsync_plugin_deribit.so",
            sim: "deribit",
            sim_args: a_args(&[
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--seed",
                "937",
                "--trades",
                "40",
            ]),
            env: vec![
                ("E2E_DERIBIT_ID", API_KEY),
                ("E2E_DERIBIT_SECRET", API_SECRET),
            ],
            head: |url| {
                format!(
                    "exchange = \"deribit\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_DERIBIT_ID\"\napi_secret = \"env:E2E_DERIBIT_SECRET\"\n",
                    days_ago(130)
                )
            },
            time_path: "/api/v2/public/get_time",
        },
    ]
}

/// The integration names of one exchange: its reference and its victim.
fn a_names(exchange: &AExchange) -> (String, String) {
    (
        format!("a-{}-reference", exchange.exchange),
        format!("a-{}-victim", exchange.exchange),
    )
}

/// `sync NAME --force --wait --json`.
fn a_sync(daemon: &Daemon, name: &str) -> Value {
    daemon
        .ctl(&["--json", "sync", name, "--force", "--wait"])
        .json()
}

fn a_assert_ok(report: &Value, what: &str) {
    assert!(!streams(report).is_empty(), "{what}: no stream: {report}");
    for s in streams(report) {
        assert_eq!(s["result"], "ok", "{what}: stream failed: {s}");
    }
}

/// The trades an integration stored: id -> the exchange's object as received.
fn a_trades(daemon: &Daemon, name: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for r in daemon.records(name, "trade") {
        let id = text(&r["id"]);
        assert!(
            out.insert(id.clone(), r["raw"].clone()).is_none(),
            "{name}: trade {id} stored twice"
        );
    }
    out
}

/// What the exchange-fault layer counted on the time endpoint since it was last set.
fn a_readings(sim: &Sim) -> u64 {
    sim.exchange_fault_stats()["matched"]
        .as_u64()
        .expect("matched")
}

/// Steps 2 to 4 of the module doc for one exchange, its daemon already holding the
/// reference's account.
fn a_skew_then_lie_then_recover(daemon: &Daemon, exchange: &AExchange, sim: &Sim) {
    let what = exchange.exchange;
    let (reference, victim) = a_names(exchange);
    let account = a_trades(daemon, &reference);
    assert!(!account.is_empty(), "{what}: the account has no trades");

    // The exchange's clock jumps five minutes ahead. The delay of 0 ms only counts the
    // readings of its time endpoint.
    let time = json!({"path": exchange.time_path, "fault": {"kind": "delay", "ms": 0}});
    let mut skewed = time.clone();
    skewed["clock_skew_ms"] = json!(300_000);
    sim.set_exchange_faults(skewed);
    let report = a_sync(daemon, &victim);
    a_assert_ok(&report, &format!("{what} five minutes ahead"));
    let readings = a_readings(sim);
    eprintln!("{what}: five minutes ahead, corrected after {readings} reading(s)");
    assert!(
        (1..=2).contains(&readings),
        "{what}: {readings} readings of the server time: {report}"
    );
    assert_eq!(
        a_trades(daemon, &victim),
        account,
        "{what}: the store after the corrected sync"
    );
    // `exsyncctl test` shows the operator the offset measured.
    let test = daemon.ctl_json(&["test", &victim]);
    let offset = test["clock_offset_ms"].as_i64().unwrap_or(i64::MAX);
    assert!(
        (offset - 300_000).abs() <= 5_000,
        "{what}: test shows an offset of {offset} ms: {test:#}"
    );

    // Its time endpoint lies (an in-step reading, ten minutes behind its signature check):
    // the measured offset does not help, and the sync fails `clock`, not `auth`.
    sim.set_exchange_faults(json!({}));
    let in_step = http::get(&format!("{}{}", sim.url, exchange.time_path));
    assert_eq!(in_step.status, 200, "{what}: {}", in_step.text());
    sim.set_exchange_faults(json!({
        "path": exchange.time_path,
        "fault": {"kind": "status", "status": 200, "body": in_step.text()},
        "clock_skew_ms": 600_000,
    }));
    let report = a_sync(daemon, &victim);
    let failed: Vec<&Value> = streams(&report)
        .iter()
        .filter(|s| s["result"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{what}: nothing failed: {report}");
    for s in &failed {
        assert_eq!(s["error"]["kind"], "clock", "{what}: {s}");
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("while "),
            "{what}: the error does not say what was being done: {s}"
        );
        assert!(
            s["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("measured anew"),
            "{what}: the error does not say the clock was measured again: {s}"
        );
    }
    let readings = a_readings(sim);
    eprintln!(
        "{what}: lying time endpoint, {} stream(s) failed `clock` after {readings} reading(s): {}",
        failed.len(),
        failed[0]["error"]["message"]
    );
    assert!(
        (1..=A_MAX_READINGS).contains(&readings),
        "{what}: {readings} readings of the lying server time: {report}"
    );
    assert_eq!(
        a_trades(daemon, &victim),
        account,
        "{what}: the failed sync changed the store"
    );

    // The endpoint tells the truth again: the next sync measures and completes.
    let mut truthful = time;
    truthful["clock_skew_ms"] = json!(600_000);
    sim.set_exchange_faults(truthful);
    let report = a_sync(daemon, &victim);
    a_assert_ok(&report, &format!("{what} corrected"));
    assert!(a_readings(sim) >= 1, "{what}: no new reading: {report}");
    assert_eq!(
        a_trades(daemon, &victim),
        account,
        "{what}: the store after the recovery"
    );
    sim.set_exchange_faults(json!({}));
}

#[test]
fn group_a_clock_skew_is_corrected_from_the_exchanges_server_time() {
    let exchanges = a_exchanges();
    let sims: Vec<Sim> = exchanges
        .iter()
        .map(|e| {
            let args: Vec<&str> = e.sim_args.iter().map(String::as_str).collect();
            Sim::start(e.sim, &args)
        })
        .collect();
    let mut setup = Setup::new();
    for (exchange, sim) in exchanges.iter().zip(&sims) {
        setup.install_plugin(exchange.plugin);
        for (k, v) in &exchange.env {
            setup.env(k, v);
        }
        let (reference, victim) = a_names(exchange);
        for name in [reference, victim] {
            setup.integration(
                &name,
                &format!("enabled = false\n{}{A_STREAMS}", (exchange.head)(&sim.url)),
            );
        }
    }
    let daemon = Daemon::start(&setup);

    std::thread::scope(|s| {
        for (exchange, sim) in exchanges.iter().zip(&sims) {
            let daemon = &daemon;
            s.spawn(move || {
                let (reference, victim) = a_names(exchange);
                a_assert_ok(
                    &a_sync(daemon, &reference),
                    &format!("{} reference", exchange.exchange),
                );
                a_assert_ok(
                    &a_sync(daemon, &victim),
                    &format!("{} in step", exchange.exchange),
                );
                a_skew_then_lie_then_recover(daemon, exchange, sim);
            });
        }
    });
}
