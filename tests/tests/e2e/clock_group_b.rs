//! Clock skew of minutes (issue 9), group B: BitMEX, Crypto.com, FalconX, Copper, Coinbase
//! Prime and Gemini (group A, the exchanges with a plain time endpoint, is `clock_group_a`):
//! the `clock` error, then automatic correction from the exchange's server time.
//!
//! The failure story: an exchange whose clock ran a few minutes off ours refused every signed
//! request (a timestamp, an expiry or a nonce outside its window) until an operator fixed the
//! host's clock, or forever where the host's clock was right and the exchange's was not.
//!
//! Every simulator's clock is moved by the shared exchange-fault layer (`clock_skew_ms`): its
//! window checks, its time endpoint and its `Date` headers together. Where a simulator's time
//! source is made to lie, the layer answers in its place: a time endpoint that tells our own
//! time, or a refusal whose `Date` (the server's clock as every HTTP server tells it, written
//! by the HTTP stack itself here) tells our own time.

use std::collections::BTreeMap;

use exsync_e2e::daemon::{Daemon, Setup};
use exsync_e2e::dates::{days_ago, now_ms};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::{http, streams, text};
use serde_json::{json, Value};

/// One connector of group B as the clock test drives it.
struct BClock {
    exchange: &'static str,
    plugin: &'static str,
    sim: &'static str,
    sim_args: Vec<&'static str>,
    /// Credential environment variables (registered as secrets).
    env: Vec<(&'static str, &'static str)>,
    /// The integration file less `enabled`: exchange, base URL, start, credentials, streams.
    body: fn(&str) -> String,
    /// The exchange-fault settings that make the exchange's time source lie (say our own
    /// time) while its clock runs ten minutes ahead.
    lie: fn(&Sim) -> Value,
    /// What the plugin logs when the exchange refuses our time and it follows the exchange's.
    followed: &'static str,
}

const B_FALCONX_KEY: &str = "e2eFALCONXkeyR5t8Y1u4I7o0P3a6S9d2F5g8H1j4K7";
const B_FALCONX_PASSPHRASE: &str = "e2eFALCONXpassphraseW3e6R9t2Y5";
const B_FALCONX_SECRET: &str = "ZTJlRkFMQ09OWHNlY3JldFE5dzhFN3I2VDV5NFUzaTJPMXAw";
const B_COPPER_KEY: &str = "e2eCOPPERapiKEY3c9a7f1d5e2b8a4c6d0e9f1a3b5c7d9e";
const B_COPPER_SECRET: &str = "e2eCOPPERapiSECRETm4N8b6V2c9X3z7L1k5J0h2G8f4D6s1";
const B_PRIME_ACCESS_KEY: &str = "e2ePRIMEaccessKEY7f3a9c1d5e8b2a4c6d8e0f1a3b5c7d9e";
const B_PRIME_PASSPHRASE: &str = "e2ePRIMEpassphraseQ4w7E2r9T5y1";
const B_PRIME_SIGNING_KEY: &str = "e2ePRIMEsigningKEYm3N8b5V2c7X4z9L1k6J0h3G8f4D2s7A4";
const B_PRIME_PORTFOLIO: &str = "0c6f8a2e-4d1b-4e7a-9b3c-5a8d2f6e1c90";

/// Five minutes: far outside every window of group B (30 s to 60 s).
const B_SKEW_MS: i64 = 300_000;
/// Ten minutes, for the lying time source.
const B_LIE_SKEW_MS: i64 = 600_000;

/// Every record kind an account stream stores.
const B_KINDS: [&str; 6] = [
    "balance",
    "trade",
    "order",
    "deposit",
    "withdrawal",
    "ledger",
];

const B_STREAMS: &str = "[streams]\nbalances = \"1h\"\ntrades = \"1h\"\norders = \"1h\"\n\
                         deposits = \"1h\"\nwithdrawals = \"1h\"\nledger = \"1h\"\n";

/// A time-source lie answered by the fault layer on every request whose path contains
/// `path`: `status` with `body`, while the simulator's clock runs ten minutes ahead.
fn b_refusal(path: &str, status: u16, body: Value) -> Value {
    json!({
        "path": path,
        "fault": {"kind": "status", "status": status, "body": body.to_string()},
        "clock_skew_ms": B_LIE_SKEW_MS,
    })
}

fn b_connectors() -> Vec<BClock> {
    vec![
        BClock {
            exchange: "bitmex",
            plugin: "libexsync_plugin_bitmex.so",
            sim: "bitmex",
            sim_args: vec![
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--seed",
                "931",
                "--trades",
                "120",
                "--private-limit",
                "100000",
                "--public-limit",
                "100000",
            ],
            env: vec![
                ("E2E_BITMEX_KEY", API_KEY),
                ("E2E_BITMEX_SECRET", API_SECRET),
            ],
            body: |url| {
                format!(
                    "exchange = \"bitmex\"\nbase_url = \"{url}\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_BITMEX_KEY\"\napi_secret = \"env:E2E_BITMEX_SECRET\"\n\
                     {B_STREAMS}",
                    days_ago(200)
                )
            },
            // BitMEX's time (`GET /api/v1`) tells our own.
            followed: "BitMEX found our request expired",
            lie: |_| {
                json!({
                    "path": "/api/v1",
                    "exact": true,
                    "fault": {"kind": "status", "status": 200, "body": json!({
                        "name": "BitMEX API", "version": "1.2.0", "timestamp": now_ms(),
                    }).to_string()},
                    "clock_skew_ms": B_LIE_SKEW_MS,
                })
            },
        },
        BClock {
            exchange: "cryptocom",
            plugin: "libexsync_plugin_cryptocom.so",
            sim: "cryptocom",
            sim_args: vec![
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--seed",
                "932",
                "--trades",
                "120",
                "--history-days",
                "10",
                "--no-rate-limit",
            ],
            env: vec![
                ("E2E_CRYPTOCOM_KEY", API_KEY),
                ("E2E_CRYPTOCOM_SECRET", API_SECRET),
            ],
            body: |url| {
                format!(
                    "exchange = \"cryptocom\"\nbase_url = \"{url}/exchange/v1\"\nstart = \"{}\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_CRYPTOCOM_KEY\"\napi_secret = \"env:E2E_CRYPTOCOM_SECRET\"\n\
                     {B_STREAMS}",
                    days_ago(12)
                )
            },
            followed: "Crypto.com refused our nonce",
            lie: |_| {
                b_refusal(
                    "private/",
                    401,
                    json!({"id": 1, "method": "private/get-trades", "code": 40102,
                        "message": "INVALID_NONCE: Nonce value differs by more than 60 seconds from server"}),
                )
            },
        },
        BClock {
            exchange: "falconx",
            plugin: "libexsync_plugin_falconx.so",
            sim: "falconx",
            sim_args: vec![
                "--api-key",
                B_FALCONX_KEY,
                "--passphrase",
                B_FALCONX_PASSPHRASE,
                "--secret",
                B_FALCONX_SECRET,
                "--seed",
                "933",
                "--quotes",
                "150",
                "--no-rate-limit",
            ],
            env: vec![
                ("E2E_FALCONX_KEY", B_FALCONX_KEY),
                ("E2E_FALCONX_PASSPHRASE", B_FALCONX_PASSPHRASE),
                ("E2E_FALCONX_SECRET", B_FALCONX_SECRET),
            ],
            body: |url| {
                format!(
                    "exchange = \"falconx\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_FALCONX_KEY\"\napi_secret = \"env:E2E_FALCONX_SECRET\"\n\
                     passphrase = \"env:E2E_FALCONX_PASSPHRASE\"\n\
                     [streams]\nbalances = \"1h\"\ntrades = \"1h\"\norders = \"1h\"\n\
                     deposits = \"1h\"\nwithdrawals = \"1h\"\n"
                )
            },
            followed: "FalconX refused our timestamp",
            lie: |_| {
                b_refusal(
                    "",
                    401,
                    json!({"status": "failure", "error": {"code": "INVALID_TIMESTAMP",
                        "reason": "Request timestamp expired"}}),
                )
            },
        },
        BClock {
            exchange: "copper",
            plugin: "libexsync_plugin_copper.so",
            sim: "copper",
            sim_args: vec![
                "--api-key",
                B_COPPER_KEY,
                "--api-secret",
                B_COPPER_SECRET,
                "--organization-id",
                "e2e-copper-org-5b1e",
                "--seed",
                "934",
                "--trades",
                "120",
                "--no-rate-limit",
            ],
            env: vec![
                ("E2E_COPPER_KEY", B_COPPER_KEY),
                ("E2E_COPPER_SECRET", B_COPPER_SECRET),
            ],
            body: |url| {
                format!(
                    "exchange = \"copper\"\nbase_url = \"{url}/platform\"\nstart = \"2024-01-01\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_COPPER_KEY\"\napi_secret = \"env:E2E_COPPER_SECRET\"\n\
                     [options]\npage_limit = 50\n{B_STREAMS}"
                )
            },
            followed: "Copper refused our timestamp",
            lie: |_| {
                b_refusal(
                    "",
                    401,
                    json!({"error": "unauthorized",
                        "message": "Request timestamp is outside of the allowed window"}),
                )
            },
        },
        BClock {
            exchange: "coinbase-prime",
            plugin: "libexsync_plugin_coinbase_prime.so",
            sim: "coinbase-prime",
            sim_args: vec![
                "--access-key",
                B_PRIME_ACCESS_KEY,
                "--passphrase",
                B_PRIME_PASSPHRASE,
                "--signing-key",
                B_PRIME_SIGNING_KEY,
                "--portfolio-id",
                B_PRIME_PORTFOLIO,
                "--seed",
                "935",
                "--fills",
                "150",
                "--no-rate-limit",
            ],
            env: vec![
                ("E2E_PRIME_ACCESS_KEY", B_PRIME_ACCESS_KEY),
                ("E2E_PRIME_PASSPHRASE", B_PRIME_PASSPHRASE),
                ("E2E_PRIME_SIGNING_KEY", B_PRIME_SIGNING_KEY),
            ],
            body: |url| {
                format!(
                    "exchange = \"coinbase-prime\"\nbase_url = \"{url}\"\nstart = \"2024-01-01\"\nbudget = false\n\
                     [credentials]\nportfolio_id = \"{B_PRIME_PORTFOLIO}\"\napi_key = \"env:E2E_PRIME_ACCESS_KEY\"\n\
                     passphrase = \"env:E2E_PRIME_PASSPHRASE\"\napi_secret = \"env:E2E_PRIME_SIGNING_KEY\"\n\
                     [options]\npage_limit = 100\n{B_STREAMS}"
                )
            },
            followed: "Coinbase Prime refused our timestamp",
            lie: |_| b_refusal("", 401, json!({"message": "request timestamp expired"})),
        },
        BClock {
            exchange: "gemini",
            plugin: "libexsync_plugin_gemini.so",
            sim: "gemini",
            sim_args: vec![
                "--api-key",
                API_KEY,
                "--api-secret",
                API_SECRET,
                "--seed",
                "936",
                "--trades",
                "120",
                "--transfers-interval-ms",
                "0",
                "--private-per-minute",
                "100000",
                "--public-per-minute",
                "100000",
                // The key takes time-based nonces: within 30 s of Gemini's clock.
                "--time-nonce",
            ],
            env: vec![
                ("E2E_GEMINI_KEY", API_KEY),
                ("E2E_GEMINI_SECRET", API_SECRET),
            ],
            body: |url| {
                format!(
                    "exchange = \"gemini\"\nbase_url = \"{url}\"\nstart = \"2023-06-01\"\nbudget = false\n\
                     [credentials]\napi_key = \"env:E2E_GEMINI_KEY\"\napi_secret = \"env:E2E_GEMINI_SECRET\"\n\
                     [streams]\nbalances = \"1h\"\ntrades = \"1h\"\norders = \"1h\"\n\
                     deposits = \"1h\"\nwithdrawals = \"1h\"\n"
                )
            },
            // Gemini's clock is read off the Date of `/v1/symbols`: the layer answers it with the
            // real list under a Date of our own time.
            followed: "Gemini rejected our nonce",
            lie: |sim| {
                let symbols = http::get(&format!("{}/v1/symbols", sim.url));
                assert_eq!(symbols.status, 200, "{}", symbols.text());
                json!({
                    "path": "/v1/symbols",
                    "fault": {"kind": "status", "status": 200, "body": symbols.text()},
                    "clock_skew_ms": B_LIE_SKEW_MS,
                })
            },
        },
    ]
}

/// What an integration stored: `(kind, id) -> raw`, the exchange's object as received; a
/// balance by asset and wallet, its amounts (its raw object carries the time it was read).
fn b_stored(daemon: &Daemon, name: &str) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for kind in B_KINDS {
        for r in daemon.records(name, kind) {
            let (id, value) = if kind == "balance" {
                (
                    format!("{}|{}", text(&r["asset_native"]), text(&r["wallet"])),
                    json!([r["free"], r["locked"], r["total"]]),
                )
            } else {
                (text(&r["id"]), r["raw"].clone())
            };
            let key = (kind.to_owned(), id);
            assert!(
                out.insert(key.clone(), value).is_none(),
                "{name}: {key:?} stored twice"
            );
        }
    }
    out
}

/// Asserts that `got` holds exactly the records of `want`, naming the first that differ.
fn b_assert_same(
    got: &BTreeMap<(String, String), Value>,
    want: &BTreeMap<(String, String), Value>,
    what: &str,
) {
    let differing: Vec<&(String, String)> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .chain(got.keys().filter(|k| !want.contains_key(*k)))
        .collect();
    assert!(
        differing.is_empty(),
        "{what}: {} of {} records differ or are missing or extra, e.g. {:?}",
        differing.len(),
        want.len(),
        &differing[..differing.len().min(5)]
    );
}

/// `sync NAME --force --wait --json`.
fn b_sync(daemon: &Daemon, name: &str) -> Value {
    daemon
        .ctl(&["--json", "sync", name, "--force", "--wait"])
        .json()
}

fn b_assert_all_ok(report: &Value, what: &str) {
    assert!(!streams(report).is_empty(), "{what}: no stream: {report}");
    for s in streams(report) {
        assert_eq!(s["result"], "ok", "{what}: stream failed: {s}");
    }
}

/// One connector's story on the shared daemon: a fault-free reference, then the victim five
/// minutes behind the exchange (corrected), behind a lying time source (`clock`), and
/// corrected again; the victim's store ends equal to the reference's.
fn b_story(daemon: &Daemon, c: &BClock, sim: &Sim) {
    let exchange = c.exchange;
    let victim = format!("{exchange}-victim");
    let reference = format!("{exchange}-reference");
    b_assert_all_ok(
        &b_sync(daemon, &reference),
        &format!("{exchange} reference"),
    );
    let want = b_stored(daemon, &reference);
    assert!(
        want.keys().any(|(k, _)| k == "trade"),
        "{exchange}: the reference stored no trade"
    );

    // The exchange's clock five minutes ahead: the first signed request is refused, the
    // plugin reads the exchange's clock and signs on it.
    sim.set_exchange_faults(json!({"clock_skew_ms": B_SKEW_MS}));
    b_assert_all_ok(
        &b_sync(daemon, &victim),
        &format!("{exchange} 5 minutes ahead"),
    );
    b_assert_same(
        &b_stored(daemon, &victim),
        &want,
        &format!("{exchange}: 5 minutes ahead"),
    );
    let log = daemon.log();
    assert!(
        log.lines()
            .any(|l| l.contains(c.followed) && l.contains(victim.as_str())),
        "{exchange}: the plugin never followed the exchange's clock"
    );

    // Ten minutes ahead, and the time source says we are in step: reading it again does not
    // help, and the sync fails `clock`, not `auth`.
    sim.set_exchange_faults((c.lie)(sim));
    let report = b_sync(daemon, &victim);
    let failed: Vec<&Value> = streams(&report)
        .iter()
        .filter(|s| s["result"] == "failed")
        .collect();
    assert!(
        !failed.is_empty(),
        "{exchange} behind a lying clock: {report}"
    );
    for s in &failed {
        assert_eq!(s["error"]["kind"], "clock", "{exchange}: {s}");
    }
    let stats = sim.exchange_fault_stats();
    assert!(
        stats["faulted"].as_u64().unwrap_or(0) > 0,
        "{exchange}: the lie was never told: {stats}"
    );

    // The time source tells the truth again: the next sync reads it and completes.
    sim.set_exchange_faults(json!({"clock_skew_ms": B_LIE_SKEW_MS}));
    b_assert_all_ok(&b_sync(daemon, &victim), &format!("{exchange} corrected"));
    b_assert_same(
        &b_stored(daemon, &victim),
        &want,
        &format!("{exchange}: corrected"),
    );
    sim.set_exchange_faults(json!({}));
}

#[test]
fn group_b_clock_skew_is_corrected_from_each_exchanges_server_time() {
    let connectors = b_connectors();
    let sims: Vec<Sim> = connectors
        .iter()
        .map(|c| Sim::start(c.sim, &c.sim_args))
        .collect();
    let mut setup = Setup::new();
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        "max_concurrent_syncs = 12\n",
    )
    .expect("writing exsyncd.toml");
    for (c, sim) in connectors.iter().zip(&sims) {
        setup.install_plugin(c.plugin);
        for (k, v) in &c.env {
            setup.env(k, v);
        }
        for role in ["victim", "reference"] {
            setup.integration(
                &format!("{}-{role}", c.exchange),
                &format!("enabled = false\n{}", (c.body)(&sim.url)),
            );
        }
    }
    let daemon = Daemon::start(&setup);
    // One story per connector, all at once on the one daemon.
    std::thread::scope(|s| {
        for (c, sim) in connectors.iter().zip(&sims) {
            let daemon = &daemon;
            s.spawn(move || b_story(daemon, c, sim));
        }
    });
}
