//! The conformance checker (issue 11): `exsync-plugin-check` passes every connector of this
//! repository against its simulator, and fails a broken build, a plugin built against another
//! major API version and a file that is no plugin, each with a message that says why.
//!
//! Each case runs the real checker binary on the real `.so`, against `exsync-sim` on loopback
//! with the same simulated account (credentials, limits raised) the connector's own e2e file
//! uses. Build the checker first: `cargo build -p exsync-plugin-check`.
//!
//! The rest of the plugin kit is here too: the template (`new-plugin.sh` and
//! `exsyncctl plugin new` write the same crate, which builds and passes) and ABI evolution
//! (plugins built against plugin-api 1.0.0 as published, `tests/fixtures/`, and against a
//! 1.1 with an appended method load and sync in today's daemon). Those crates build in the
//! workspace's target directory ([`shared_target`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use exsync_e2e::bins::target_bin;
use exsync_e2e::dates::days_ago;
use exsync_e2e::probe;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

/// One connector's checker run: its simulator and what the checker is told.
struct Case<'a> {
    plugin: &'a str,
    sim: &'a str,
    sim_args: &'a [&'a str],
    /// Appended to the simulator's URL to make the base URL (`/exchange/v1`).
    base_path: &'a str,
    credentials: &'a [(&'a str, &'a str)],
    options: &'a [(&'a str, &'a str)],
    start: String,
    candles: Option<(&'a str, &'a str)>,
}

/// What one run of the checker printed, and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_checker(args: &[String]) -> Run {
    let out = Command::new(target_bin("exsync-plugin-check"))
        .args(args)
        .output()
        .expect("running exsync-plugin-check");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The checks of a `--json` report, by name: (result, detail).
fn checks(run: &Run) -> Vec<(String, String, String)> {
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "the --json report does not parse ({e}):\n{}\n{}",
            run.stdout, run.stderr
        )
    });
    report["checks"]
        .as_array()
        .expect("the report has checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["result"].as_str().unwrap_or_default().to_owned(),
                c["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Runs the checker on `case` against its simulator and asserts every check passed, every
/// offered stream was walked, and no credential value appears in the output.
fn assert_conforms(case: Case<'_>) {
    let sim = Sim::start(case.sim, case.sim_args);
    let mut args = vec![
        target_bin(case.plugin).display().to_string(),
        "--json".into(),
        "--sim-url".into(),
        format!("{}{}", sim.url, case.base_path),
        "--start".into(),
        case.start.clone(),
    ];
    for (k, v) in case.credentials {
        args.extend(["--credential".into(), format!("{k}={v}")]);
    }
    for (k, v) in case.options {
        args.extend(["--option".into(), format!("{k}={v}")]);
    }
    if let Some((symbol, timeframe)) = case.candles {
        args.extend([
            "--candle-symbol".into(),
            symbol.into(),
            "--timeframe".into(),
            timeframe.into(),
        ]);
    }
    let run = run_checker(&args);
    let checks = checks(&run);
    let failed: Vec<_> = checks.iter().filter(|c| c.1 != "pass").collect();
    assert!(
        failed.is_empty() && run.code == Some(0),
        "{} does not pass the checker (exit {:?}): {failed:#?}",
        case.plugin,
        run.code
    );
    for name in [
        "load",
        "manifest",
        "check",
        "error 401 -> auth",
        "error 429 -> rate_limited",
        "error 503 -> exchange_unavailable",
        "hosts",
        "panics",
    ] {
        assert!(
            checks.iter().any(|c| c.0 == name),
            "{}: no {name} check in {checks:#?}",
            case.plugin
        );
    }
    let walked = checks
        .iter()
        .filter(|c| c.0.starts_with("pagination "))
        .count();
    assert!(walked >= 3, "{}: only {walked} streams walked", case.plugin);
    let secrets: Vec<&str> = case
        .credentials
        .iter()
        .filter(|(k, _)| *k != "portfolio_id")
        .map(|(_, v)| *v)
        .collect();
    exsync_e2e::assert_none_leaked(&secrets, &[&run.stdout, &run.stderr]);
}

fn key_secret() -> [(&'static str, &'static str); 2] {
    [("api_key", API_KEY), ("api_secret", API_SECRET)]
}

#[test]
fn binance_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_binance.so",
        sim: "binance",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--seed",
            "111",
            "--trades",
            "300",
            "--no-weight-limit",
        ],
        base_path: "",
        credentials: &key_secret(),
        options: &[],
        start: "2024-01-01".into(),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn bybit_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_bybit.so",
        sim: "bybit",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--uid-limit",
            "10000",
        ],
        base_path: "",
        credentials: &key_secret(),
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn bitmex_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_bitmex.so",
        sim: "bitmex",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--private-limit",
            "100000",
            "--public-limit",
            "100000",
        ],
        base_path: "",
        credentials: &key_secret(),
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn bitget_conforms() {
    const PASSPHRASE: &str = "e2ePASSbitgetW7x8y9z0Q1w2e3";
    assert_conforms(Case {
        plugin: "libexsync_plugin_bitget.so",
        sim: "bitget",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--passphrase",
            PASSPHRASE,
            "--uid-limit",
            "10000",
            "--ip-limit",
            "1000000",
        ],
        base_path: "",
        credentials: &[
            ("api_key", API_KEY),
            ("api_secret", API_SECRET),
            ("passphrase", PASSPHRASE),
        ],
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn coinbase_prime_conforms() {
    const ACCESS_KEY: &str = "e2ePRIMEaccessKEY7f3a9c1d5e8b2a4c6d8e0f1a3b5c7d9e";
    const PASSPHRASE: &str = "e2ePRIMEpassphraseQ4w7E2r9T5y1";
    const SIGNING_KEY: &str = "e2ePRIMEsigningKEYm3N8b5V2c7X4z9L1k6J0h3G8f5D2s7A4";
    const PORTFOLIO: &str = "0c6f8a2e-4d1b-4e7a-9b3c-5a8d2f6e1c90";
    assert_conforms(Case {
        plugin: "libexsync_plugin_coinbase_prime.so",
        sim: "coinbase-prime",
        sim_args: &[
            "--access-key",
            ACCESS_KEY,
            "--passphrase",
            PASSPHRASE,
            "--signing-key",
            SIGNING_KEY,
            "--portfolio-id",
            PORTFOLIO,
        ],
        base_path: "",
        credentials: &[
            ("api_key", ACCESS_KEY),
            ("passphrase", PASSPHRASE),
            ("api_secret", SIGNING_KEY),
            ("portfolio_id", PORTFOLIO),
        ],
        options: &[("page_limit", "100")],
        start: "2024-01-01".into(),
        candles: Some(("BTC/USD", "1d")),
    });
}

#[test]
fn kraken_conforms() {
    const KEY: &str = "e2eKRAKENkeyA1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4aBcD";
    const SECRET: &str =
        "uP9q/AYIed79I4K5A91M48K5H7YHsDB3u9OOngk3kdMOCZZ2fHpnHjgYWp/v/8vb7RW5xw7uCRebj90ncCEz8w==";
    assert_conforms(Case {
        plugin: "libexsync_plugin_kraken.so",
        sim: "kraken",
        sim_args: &["--api-key", KEY, "--api-secret", SECRET],
        base_path: "",
        credentials: &[("api_key", KEY), ("api_secret", SECRET)],
        options: &[],
        start: "2024-01-01".into(),
        candles: Some(("BTC/USD", "1d")),
    });
}

#[test]
fn okx_conforms() {
    const KEY: &str = "e2eOKXkey7f3a9c1e-5b2d-4e8f-a6c0-91d4b7e2f3a8";
    const SECRET: &str = "e2eOKXsecretD41D8CD98F00B204E9800998ECF8427E";
    const PASSPHRASE: &str = "e2eOKXpassphraseZq7Wm";
    assert_conforms(Case {
        plugin: "libexsync_plugin_okx.so",
        sim: "okx",
        sim_args: &[
            "--api-key",
            KEY,
            "--api-secret",
            SECRET,
            "--passphrase",
            PASSPHRASE,
        ],
        base_path: "",
        credentials: &[
            ("api_key", KEY),
            ("api_secret", SECRET),
            ("passphrase", PASSPHRASE),
        ],
        options: &[],
        start: "2024-01-01".into(),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn kucoin_conforms() {
    const PASSPHRASE: &str = "e2ePASSPHRASEkc7Lm2Nq4Rs6Tu8Vw0Xy";
    let (start, end) = (days_ago(30), days_ago(1));
    assert_conforms(Case {
        plugin: "libexsync_plugin_kucoin.so",
        sim: "kucoin",
        sim_args: &[
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
        ],
        base_path: "",
        credentials: &[
            ("api_key", API_KEY),
            ("api_secret", API_SECRET),
            ("passphrase", PASSPHRASE),
        ],
        options: &[],
        start: start.clone(),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn coinbase_exchange_conforms() {
    const KEY: &str = "e2eCBXkey7f3a9c1d5e8b2046";
    const SECRET: &str =
        "ZTJlQ0JYc2VjcmV0LXE4WHYyTG1ONHBSN3NUMXVXM3laNWFCNmNEOWVGMGdIMmpLNGxNNm5QOA==";
    const PASSPHRASE: &str = "e2eCBXpassphraseQ7w8E9r0";
    assert_conforms(Case {
        plugin: "libexsync_plugin_coinbase_exchange.so",
        sim: "coinbase-exchange",
        sim_args: &[
            "--api-key",
            KEY,
            "--api-secret",
            SECRET,
            "--passphrase",
            PASSPHRASE,
            "--private-rate",
            "10000",
            "--private-burst",
            "10000",
        ],
        base_path: "",
        credentials: &[
            ("api_key", KEY),
            ("api_secret", SECRET),
            ("passphrase", PASSPHRASE),
        ],
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USD", "1d")),
    });
}

#[test]
fn coinbase_conforms() {
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
    assert_conforms(Case {
        plugin: "libexsync_plugin_coinbase.so",
        sim: "coinbase",
        sim_args: &["--key-name", KEY_NAME, "--public-key", PUBLIC_KEY],
        base_path: "",
        credentials: &[("api_key", KEY_NAME), ("api_secret", PRIVATE_KEY)],
        options: &[],
        start: "2024-01-01".into(),
        candles: Some(("BTC/USD", "1d")),
    });
}

#[test]
fn gemini_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_gemini.so",
        sim: "gemini",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--transfers-interval-ms",
            "0",
            "--private-per-minute",
            "100000",
            "--public-per-minute",
            "100000",
            // Gemini serves the ledger to master keys only, naming the account.
            "--master-key",
        ],
        base_path: "",
        credentials: &key_secret(),
        options: &[("account", "primary")],
        start: "2023-06-01".into(),
        candles: Some(("BTC/USD", "1d")),
    });
}

#[test]
fn cryptocom_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_cryptocom.so",
        sim: "cryptocom",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--no-rate-limit",
        ],
        base_path: "/exchange/v1",
        credentials: &key_secret(),
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn bitfinex_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_bitfinex.so",
        sim: "bitfinex",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--auth-per-minute",
            "100000",
            "--candles-per-minute",
            "100000",
        ],
        base_path: "",
        credentials: &key_secret(),
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USD", "1d")),
    });
}

#[test]
fn deribit_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_deribit.so",
        sim: "deribit",
        sim_args: &["--api-key", API_KEY, "--api-secret", API_SECRET],
        base_path: "",
        credentials: &key_secret(),
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC-PERPETUAL", "1d")),
    });
}

#[test]
fn b2c2_conforms() {
    const TOKEN: &str = "e2eB2C2tokenf3a9c1d5e8b2a4c6d8e0f1a3b5c7d9";
    assert_conforms(Case {
        plugin: "libexsync_plugin_b2c2.so",
        sim: "b2c2",
        sim_args: &["--token", TOKEN],
        base_path: "",
        credentials: &[("api_key", TOKEN)],
        options: &[],
        start: "2024-01-01".into(),
        candles: None,
    });
}

#[test]
fn gateio_conforms() {
    assert_conforms(Case {
        plugin: "libexsync_plugin_gateio.so",
        sim: "gateio",
        sim_args: &[
            "--api-key",
            API_KEY,
            "--api-secret",
            API_SECRET,
            "--endpoint-limit",
            "100000",
        ],
        base_path: "",
        credentials: &key_secret(),
        options: &[],
        start: days_ago(60),
        candles: Some(("BTC/USDT", "1d")),
    });
}

#[test]
fn falconx_conforms() {
    const KEY: &str = "e2eFALCONXkeyR5t8Y1u4I7o0P3a6S9d2F5g8H1j4K7";
    const PASSPHRASE: &str = "e2eFALCONXpassphraseW3e6R9t2Y5";
    const SECRET: &str = "ZTJlRkFMQ09OWHNlY3JldFE5dzhFN3I2VDV5NFUzaTJPMXAw";
    assert_conforms(Case {
        plugin: "libexsync_plugin_falconx.so",
        sim: "falconx",
        sim_args: &[
            "--api-key",
            KEY,
            "--passphrase",
            PASSPHRASE,
            "--secret",
            SECRET,
        ],
        base_path: "",
        credentials: &[
            ("api_key", KEY),
            ("api_secret", SECRET),
            ("passphrase", PASSPHRASE),
        ],
        options: &[],
        start: "2024-01-01".into(),
        candles: None,
    });
}

#[test]
fn copper_conforms() {
    const KEY: &str = "e2eCOPPERapiKEY3c9a7f1d5e2b8a4c6d0e9f1a3b5c7d9e";
    const SECRET: &str = "e2eCOPPERapiSECRETm4N8b6V2c9X3z7L1k5J0h2G8f4D6s1";
    const ORGANIZATION: &str = "e2e-copper-org-5b1e";
    assert_conforms(Case {
        plugin: "libexsync_plugin_copper.so",
        sim: "copper",
        sim_args: &[
            "--api-key",
            KEY,
            "--api-secret",
            SECRET,
            "--organization-id",
            ORGANIZATION,
        ],
        base_path: "/platform",
        credentials: &[("api_key", KEY), ("api_secret", SECRET)],
        options: &[],
        start: "2024-01-01".into(),
        candles: None,
    });
}

/// Writes `bytes` as a file named `name` in a fresh temporary directory.
fn plugin_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("writing a test plugin file");
    path.display().to_string()
}

/// The line of the text report for check `name`.
fn line<'a>(run: &'a Run, name: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no {name} line in:\n{}", run.stdout))
}

#[test]
fn a_build_that_panics_fails_with_the_panic_caught_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin_file(&dir, probe::FILE, &probe::build("9.9.9-panic"));
    let run = run_checker(&[path]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let load = line(&run, "load");
    assert!(load.starts_with("FAIL"), "{load}");
    assert!(
        load.contains("plugin panicked while building the manifest")
            && load.contains("broken on purpose"),
        "{load}"
    );
    let panics = line(&run, "panics");
    assert!(
        panics.starts_with("FAIL") && panics.contains("caught at the boundary"),
        "{panics}"
    );
}

#[test]
fn a_file_that_is_no_plugin_fails_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin_file(
        &dir,
        "libnot_a_plugin.so",
        b"#!/bin/sh\necho not a library\n",
    );
    let run = run_checker(&[path]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let load = line(&run, "load");
    assert!(
        load.starts_with("FAIL") && load.contains("cannot open the library"),
        "{load}"
    );
    assert!(
        run.stdout.contains("FAILED: 1 of 1 checks"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_plugin_built_against_another_major_api_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin_file(&dir, probe::FILE, &probe::build_for_api("1.0.0", "2.0.0"));
    let run = run_checker(&[path, "--json".into()]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let checks = checks(&run);
    let (_, result, detail) = &checks[0];
    assert_eq!(result, "fail", "{checks:?}");
    assert!(
        detail.contains("incompatible plugin API version")
            && detail.contains("2.0.0")
            && detail.contains("1.1.0"),
        "{detail}"
    );
}

#[test]
fn a_replay_without_the_answers_the_plugin_asks_for_fails_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001.json"),
        r#"{"request": {"method": "GET", "path": "/nothing/the/plugin/asks/for"},
            "response": {"status": 200, "body": {}}}"#,
    )
    .unwrap();
    let run = run_checker(&[
        target_bin("libexsync_plugin_b2c2.so").display().to_string(),
        "--replay".into(),
        dir.path().display().to_string(),
    ]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let replay = line(&run, "replay");
    assert!(
        replay.starts_with("FAIL") && replay.contains("had no recorded answer: GET /"),
        "{replay}"
    );
    // The checks that need no exchange still ran and passed.
    for name in ["manifest", "hosts", "panics"] {
        assert!(line(&run, name).starts_with("PASS"), "{}", run.stdout);
    }
}

#[test]
fn usage_errors_exit_2() {
    let run = run_checker(&["--sim-url".into()]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    let run = run_checker(&[
        "x.so".into(),
        "--credential".into(),
        "no-equals-sign".into(),
    ]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("is not NAME=VALUE"), "{}", run.stderr);
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a simulator made from the template (`--listen`, `--api-key`, `--api-secret`) and
/// reads the URL it prints first. Dropping the `Child` stops it.
fn start_template_sim(binary: &Path, key: &str, secret: &str, what: &str) -> (Child, String) {
    let mut sim = Child(
        Command::new(binary)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--api-key",
                key,
                "--api-secret",
                secret,
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}")),
    );
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sim.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{what} printed no URL: {line:?}"))
        .to_owned();
    (sim, url)
}

/// Where the out-of-workspace crates these tests build (template copies, the ABI fixtures)
/// put their artifacts: the workspace's own target directory. Their dependencies (abi_stable
/// and the rest, the same versions through the same Cargo.lock) are built there already, so
/// each crate compiles only itself: seconds, where a directory of their own costs a cold
/// build of abi_stable (measured: 2 min 11 s wall, 31 s CPU on a busy 2-core machine, 242 MB).
/// Cargo's lock on the directory serialises these builds; names differ, so nothing clashes.
fn shared_target() -> PathBuf {
    exsync_e2e::bins::target_dir()
        .parent()
        .expect("the profile directory has a parent")
        .to_path_buf()
}

/// Runs `cmd` and asserts it succeeded, showing its output if not.
fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_template_makes_a_crate_that_builds_passes_its_tests_and_the_checker() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/template/new-plugin.sh");
    let refused = std::env::temp_dir().join(format!("exsync-kit-refused-{}", std::process::id()));
    let bad = Command::new("sh")
        .arg(&script)
        .arg("Kit")
        .arg(&refused)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "an upper-case name is refused");
    assert!(!refused.exists());

    let (key, secret) = ("kitcheckKEY5f3a9c1d", "kitcheckSECRETq8w7e6r5");
    let (plugin, sim, url, dir) = patched_template("kitcheck", &[], key, secret);
    // The generated crate's own unit tests, the signing vector among them.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .args(["test", "--offline", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(plugin.parent().unwrap().parent().unwrap())
            .env("CARGO_INCREMENTAL", "0"),
        "cargo test of the generated crate",
    );
    let run = run_checker(&[
        plugin.display().to_string(),
        "--json".into(),
        "--sim-url".into(),
        url,
        "--credential".into(),
        format!("api_key={key}"),
        "--credential".into(),
        format!("api_secret={secret}"),
    ]);
    let checks = checks(&run);
    assert_eq!(run.code, Some(0), "{checks:#?}");
    assert!(
        checks.iter().all(|c| c.1 == "pass"),
        "the generated plugin fails a check: {checks:#?}"
    );
    let ledger = checks
        .iter()
        .find(|c| c.0 == "pagination ledger")
        .expect("the ledger was walked");
    assert!(ledger.2.contains("250 records"), "{ledger:?}");
    drop(sim);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// ABI evolution: a plugin built against a later 1.x of the interface crate, whose
// `ConnectorAbi` has one more method appended, loads and syncs in today's daemon.

/// Copies `plugin-api` into `fixture/plugin-api` as version 1.2.0 with a method appended to
/// `ConnectorAbi` (after `last_prefix_field`, with a default body, as a 1.x release may), and
/// makes `fixture` a workspace holding it and `member` with this workspace's dependency table.
fn future_api_workspace(repo: &std::path::Path, fixture: &std::path::Path, member: &str) {
    let api = fixture.join("plugin-api");
    std::fs::create_dir_all(api.join("src")).unwrap();
    for entry in std::fs::read_dir(repo.join("plugin-api/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, api.join("src").join(path.file_name().unwrap())).unwrap();
        }
    }
    for dir in ["walk", "window"] {
        let from = repo.join("plugin-api/src").join(dir);
        if from.is_dir() {
            std::fs::create_dir_all(api.join("src").join(dir)).unwrap();
            for entry in std::fs::read_dir(&from).unwrap() {
                let path = entry.unwrap().path();
                std::fs::copy(
                    &path,
                    api.join("src").join(dir).join(path.file_name().unwrap()),
                )
                .unwrap();
            }
        }
    }
    std::fs::copy(repo.join("plugin-api/README.md"), api.join("README.md")).unwrap();
    let manifest = std::fs::read_to_string(repo.join("plugin-api/Cargo.toml")).unwrap();
    assert!(manifest.contains("version = \"1.1.0\""), "{manifest}");
    std::fs::write(
        api.join("Cargo.toml"),
        manifest.replacen("version = \"1.1.0\"", "version = \"1.2.0\"", 1),
    )
    .unwrap();
    let abi_path = api.join("src/abi.rs");
    let abi = std::fs::read_to_string(&abi_path).unwrap();
    let anchor =
        "    ) -> RResult<RString, PluginError>;\n}\n\n/// An owned, type-erased [`ConnectorAbi`].";
    assert!(
        abi.contains(anchor),
        "ConnectorAbi no longer ends with fetch"
    );
    std::fs::write(
        &abi_path,
        abi.replace(
            anchor,
            "    ) -> RResult<RString, PluginError>;\n\n    /// Appended in 1.1.\n    fn describe(&self) -> RString {\n        RString::from(\"1.1\")\n    }\n}\n\n/// An owned, type-erased [`ConnectorAbi`].",
        ),
    )
    .unwrap();

    // The workspace: this repository's package and dependency tables, the copy as the API.
    let root = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    let tables = &root[root.find("[workspace.package]").unwrap()..root.find("[profile").unwrap()];
    std::fs::write(
        fixture.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [\"plugin-api\", \"{member}\"]\n\n{tables}"
        ),
    )
    .unwrap();
    std::fs::copy(repo.join("Cargo.lock"), fixture.join("Cargo.lock")).unwrap();
}

#[test]
fn a_plugin_built_against_a_later_1x_with_an_appended_method_syncs_in_todays_daemon() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let work = exsync_e2e::bins::target_dir()
        .parent()
        .unwrap()
        .join("plugin-template");
    let fixture = work.join(format!("abi-1.1-{}", std::process::id()));
    let target = shared_target();
    let _ = std::fs::remove_dir_all(&fixture);
    std::fs::create_dir_all(&fixture).unwrap();
    future_api_workspace(&repo, &fixture, "later");

    // The plugin: the template, a member of the fixture workspace, against the 1.1 copy.
    run_ok(
        Command::new("sh")
            .arg(repo.join("examples/template/new-plugin.sh"))
            .arg("later")
            .arg(fixture.join("later")),
        "new-plugin.sh later",
    );
    let plugin_manifest = fixture.join("later/Cargo.toml");
    let text = std::fs::read_to_string(&plugin_manifest).unwrap();
    let api_line = text
        .lines()
        .find(|l| l.starts_with("exsync-plugin-api"))
        .unwrap()
        .to_owned();
    let text = text.replace("\n[workspace]\n", "\n").replace(
        &api_line,
        "exsync-plugin-api = { path = \"../plugin-api\" }",
    );
    std::fs::write(&plugin_manifest, text).unwrap();
    std::fs::remove_file(fixture.join("later/Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .args([
                "build",
                "--offline",
                "-p",
                "exsync-plugin-later",
                "--manifest-path",
            ])
            .arg(fixture.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env("CARGO_INCREMENTAL", "0"),
        "cargo build of the plugin against plugin-api 1.2.0",
    );
    let built = std::fs::read(target.join("debug/libexsync_plugin_later.so")).unwrap();
    let marker = b"exsync_plugin1.2.0";
    assert!(
        built.windows(marker.len()).any(|w| w == marker),
        "the fixture plugin does not carry API version 1.2.0"
    );

    // Today's exsyncd (API 1.1.0) loads it and syncs it against its simulator.
    let (key, secret) = ("laterKEY7d2c9e4f1a", "laterSECRETm5n8b2v4c7");
    let (sim, url) = start_template_sim(
        &target.join("debug/exsync-sim-later"),
        key,
        secret,
        "the fixture's simulator",
    );
    let mut setup = exsync_e2e::daemon::Setup::new();
    setup.replace_plugin("libexsync_plugin_later.so", &built);
    setup.env("E2E_LATER_KEY", key);
    setup.env("E2E_LATER_SECRET", secret);
    setup.integration(
        "later-main",
        &format!(
            r#"exchange = "later"
base_url = "{url}"
[credentials]
api_key = "env:E2E_LATER_KEY"
api_secret = "env:E2E_LATER_SECRET"
[streams]
balances = "1h"
ledger = "1h"
"#
        ),
    );
    let daemon = exsync_e2e::daemon::Daemon::start(&setup);
    let plugins = daemon.ctl_json(&["plugins"]);
    assert!(
        plugins.to_string().contains("later"),
        "the 1.1 plugin is not loaded: {plugins}"
    );
    let report = daemon.sync_wait("later-main");
    exsync_e2e::assert_all_ok(&report);
    assert_eq!(daemon.records("later-main", "ledger").len(), 250);
    assert_eq!(daemon.records("later-main", "balance").len(), 2);
    drop(sim);
    std::fs::remove_dir_all(&fixture).unwrap();
}

// ---------------------------------------------------------------------------------------
// ABI evolution: a plugin built against plugin-api 1.0.0 as published (the copy vendored by
// scripts/vendor-plugin-api.sh in tests/fixtures/plugin-api-1.0.0) loads, syncs and passes
// the checker in today's daemon.

#[test]
fn a_plugin_built_against_plugin_api_1_0_0_syncs_in_todays_daemon_and_passes_the_checker() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let target = shared_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .args(["build", "--offline", "--locked", "--manifest-path"])
            .arg(repo.join("tests/fixtures/plugin-1.0.0/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env("CARGO_INCREMENTAL", "0"),
        "cargo build of the fixture plugin against plugin-api 1.0.0",
    );
    let so = target.join("debug/libexsync_plugin_legacy.so");
    let built = std::fs::read(&so).unwrap();
    let marker = b"exsync_plugin1.0.0";
    assert!(
        built.windows(marker.len()).any(|w| w == marker),
        "the fixture plugin does not carry API version 1.0.0"
    );

    // Today's exsyncd loads it and syncs it against the Binance simulator.
    let sim = Sim::binance(&["--seed", "100", "--trades", "1200", "--no-weight-limit"]);
    let mut setup = exsync_e2e::daemon::Setup::new();
    setup.replace_plugin("libexsync_plugin_legacy.so", &built);
    setup.env("E2E_LEGACY_KEY", API_KEY);
    setup.env("E2E_LEGACY_SECRET", API_SECRET);
    setup.integration(
        "legacy-main",
        &format!(
            r#"exchange = "legacy"
base_url = "{}"
[credentials]
api_key = "env:E2E_LEGACY_KEY"
api_secret = "env:E2E_LEGACY_SECRET"
[streams]
balances = "1h"
trades = "1h"
[options]
symbols = ["BTCUSDT", "ETHUSDT"]
"#,
            sim.url
        ),
    );
    let daemon = exsync_e2e::daemon::Daemon::start(&setup);
    let plugins = daemon.ctl_json(&["plugins"]);
    assert!(
        plugins.to_string().contains("legacy"),
        "the 1.0.0 plugin is not loaded: {plugins}"
    );
    let report = daemon.sync_wait("legacy-main");
    exsync_e2e::assert_all_ok(&report);

    // Exactly the simulator's trades of both symbols and its balances, digit for digit.
    let truth = sim.truth();
    let mut want = Vec::new();
    for symbol in ["BTCUSDT", "ETHUSDT"] {
        for t in truth["trades"][symbol].as_array().unwrap() {
            want.push((
                format!("{symbol}:{}", exsync_e2e::text(&t["id"])),
                t.clone(),
            ));
        }
    }
    assert!(want.len() > 100, "too few trades to page: {}", want.len());
    let want: Vec<(String, &Value)> = want.iter().map(|(id, t)| (id.clone(), t)).collect();
    exsync_e2e::truth::assert_kind_exactly(
        &daemon,
        "legacy-main",
        "trade",
        &want,
        |id, rec, raw| {
            for (field, raw_field) in [("price", "price"), ("amount", "qty"), ("cost", "quoteQty")]
            {
                assert_eq!(
                    exsync_e2e::text(&rec[field]),
                    exsync_e2e::text(&raw[raw_field]),
                    "trade {id}: {field}"
                );
            }
        },
    );
    let balances = daemon.records("legacy-main", "balance");
    let truth_balances = truth["balances"].as_array().unwrap();
    assert_eq!(balances.len(), truth_balances.len());
    for b in truth_balances {
        let stored = balances
            .iter()
            .find(|r| r["asset_native"] == b["asset"])
            .unwrap_or_else(|| panic!("balance {b} not stored"));
        assert_eq!(stored["free"], b["free"], "{stored}");
        assert_eq!(stored["locked"], b["locked"], "{stored}");
    }
    exsync_e2e::assert_no_secrets(&[&daemon.log(), &report.to_string()]);
    drop(daemon);

    // And the checker, which loads it as the daemon does, passes it.
    let run = run_checker(&[
        so.display().to_string(),
        "--json".into(),
        "--sim-url".into(),
        sim.url.clone(),
        "--credential".into(),
        format!("api_key={API_KEY}"),
        "--credential".into(),
        format!("api_secret={API_SECRET}"),
    ]);
    let checks = checks(&run);
    assert!(
        run.code == Some(0) && checks.iter().all(|c| c.1 == "pass"),
        "the 1.0.0 plugin fails the checker (exit {:?}): {checks:#?}",
        run.code
    );
    assert!(
        checks.iter().any(|c| c.0 == "pagination trades"),
        "{checks:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// `exsyncctl plugin new`: the template from the tool operators already have.

/// Every file under `dir`, by its path relative to `dir`, with its bytes.
fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

#[test]
fn exsyncctl_plugin_new_writes_what_new_plugin_sh_writes_and_it_builds_and_passes_the_checker() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let work = exsync_e2e::bins::target_dir()
        .parent()
        .unwrap()
        .join("plugin-template");
    let ours = work.join(format!("ctl-kitnew-{}", std::process::id()));
    let theirs = work.join(format!("sh-kitnew-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ours);
    let _ = std::fs::remove_dir_all(&theirs);
    std::fs::create_dir_all(&work).unwrap();
    run_ok(
        Command::new(target_bin("exsyncctl"))
            .args(["plugin", "new", "kitnew", "--dir"])
            .arg(&ours)
            .arg("--api-path")
            .arg(repo.join("plugin-api")),
        "exsyncctl plugin new kitnew",
    );
    run_ok(
        Command::new("sh")
            .arg(repo.join("examples/template/new-plugin.sh"))
            .arg("kitnew")
            .arg(&theirs),
        "new-plugin.sh kitnew",
    );
    // The same crate, file for file: the embedded template has not drifted from the script's.
    let (a, b) = (tree(&ours), tree(&theirs));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "plugin new and new-plugin.sh write different files"
    );
    for (path, bytes) in &a {
        assert!(
            *bytes == b[path],
            "{} differs between plugin new and new-plugin.sh",
            path.display()
        );
    }
    // A second run into the same directory is refused and changes nothing.
    let again = Command::new(target_bin("exsyncctl"))
        .args(["plugin", "new", "kitnew", "--dir"])
        .arg(&ours)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(tree(&ours), a);

    // It builds and passes.
    let target = shared_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .args(["build", "--offline", "--manifest-path"])
            .arg(ours.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env("CARGO_INCREMENTAL", "0"),
        "cargo build of the crate plugin new made",
    );
    let (key, secret) = ("kitnewKEY4f8a2c6e9b", "kitnewSECRETq7w3e5r1t");
    let (sim, url) = start_template_sim(
        &target.join("debug/exsync-sim-kitnew"),
        key,
        secret,
        "the new crate's simulator",
    );
    let run = run_checker(&[
        target
            .join("debug/libexsync_plugin_kitnew.so")
            .display()
            .to_string(),
        "--json".into(),
        "--sim-url".into(),
        url,
        "--credential".into(),
        format!("api_key={key}"),
        "--credential".into(),
        format!("api_secret={secret}"),
    ]);
    let checks = checks(&run);
    assert!(
        run.code == Some(0) && checks.iter().all(|c| c.1 == "pass"),
        "the crate plugin new made fails the checker: {checks:#?}"
    );
    drop(sim);
    std::fs::remove_dir_all(&ours).unwrap();
    std::fs::remove_dir_all(&theirs).unwrap();
}

/// Generates a template copy named `name` in `plugin-template/`, applies `patches` (file,
/// from, to) to its sources, builds it, and starts its simulator. Returns the built plugin,
/// the simulator (killed on drop), its URL, and the copy's directory.
fn patched_template(
    name: &str,
    patches: &[(&str, &str, &str)],
    key: &str,
    secret: &str,
) -> (std::path::PathBuf, Child, String, std::path::PathBuf) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let work = exsync_e2e::bins::target_dir()
        .parent()
        .unwrap()
        .join("plugin-template");
    let dir = work.join(format!("{name}-{}", std::process::id()));
    let target = shared_target();
    let _ = std::fs::remove_dir_all(&dir);
    run_ok(
        Command::new("sh")
            .arg(repo.join("examples/template/new-plugin.sh"))
            .arg(name)
            .arg(&dir),
        &format!("new-plugin.sh {name}"),
    );
    for (file, from, to) in patches {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} no longer holds {from:?}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run_ok(
        Command::new(&cargo)
            .args(["build", "--offline", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env("CARGO_INCREMENTAL", "0"),
        &format!("cargo build of {name}"),
    );
    let (sim, url) = start_template_sim(
        &target.join(format!("debug/exsync-sim-{name}")),
        key,
        secret,
        "the generated simulator",
    );
    let plugin = target.join(format!("debug/libexsync_plugin_{name}.so"));
    (plugin, sim, url, dir)
}

#[test]
fn a_plugin_with_float_amounts_and_a_stuck_cursor_fails_with_both_reasons() {
    let (key, secret) = ("brokenKEY3f8a1c6d", "brokenSECRETz4x7c1v9");
    let (plugin, sim, url, dir) = patched_template(
        "broken",
        &[
            // Balances through f64: "1.75" survives, "1000" becomes "1e3".
            (
                "src/parsing.rs",
                r#"total: field(raw, "total", "balance")?.to_owned(),"#,
                r#"total: format!("{:e}", field(raw, "total", "balance")?.parse::<f64>().unwrap_or(0.0)),"#,
            ),
            // A ledger cursor that never moves past the first page.
            (
                "src/pagination.rs",
                "last_id.or_else(|| cursor.map(str::to_owned))",
                "cursor.map(str::to_owned).or(last_id)",
            ),
        ],
        key,
        secret,
    );
    let run = run_checker(&[
        plugin.display().to_string(),
        "--sim-url".into(),
        url,
        "--credential".into(),
        format!("api_key={key}"),
        "--credential".into(),
        format!("api_secret={secret}"),
    ]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let balances = line(&run, "pagination");
    assert!(
        balances.starts_with("FAIL")
            && balances.contains("balances")
            && balances.contains("total \"1.75e0\" is not an exact decimal"),
        "{}",
        run.stdout
    );
    let ledger = run
        .stdout
        .lines()
        .find(|l| l.contains("pagination ledger"))
        .unwrap();
    assert!(
        ledger.starts_with("FAIL") && ledger.contains("which page 1 already used"),
        "{ledger}"
    );
    // What did not break still passes.
    for name in ["manifest", "check", "hosts", "panics"] {
        assert!(line(&run, name).starts_with("PASS"), "{}", run.stdout);
    }
    drop(sim);
    std::fs::remove_dir_all(&dir).unwrap();
}
