//! `exsyncctl debug record NAME --dir DIR` (issue 11): a real sync's request/response pairs,
//! saved so that an author or a user can hand a failing case to
//! `exsync-plugin-check --replay DIR` or to a bug report without leaking secrets.
//!
//! The daemon talks to the simulator through a tap of this test's (a loopback TCP relay that
//! keeps a copy of every byte the daemon sent), so the test knows every signature that went
//! over the wire and can assert that none of them, nor the key or the secret, is anywhere in
//! DIR; then the checker replays DIR against the same plugin and passes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use exsync_e2e::bins::target_bin;
use exsync_e2e::daemon::{binance_integration, Daemon, Setup};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use serde_json::Value;

/// A loopback relay to `upstream` that keeps what clients sent (requests, headers, bodies).
struct Tap {
    url: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Tap {
    /// Listens on a free loopback port; each connection is relayed to `upstream`
    /// (`http://127.0.0.1:PORT`) by two threads that end with it.
    fn start(upstream: &str) -> Tap {
        let target = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let copy = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut s_read, mut c_write) = (server, client);
                let copy = copy.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        copy.lock().unwrap().extend_from_slice(&buf[..n]);
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Tap { url, sent }
    }

    /// Everything the daemon sent through the tap, as text.
    fn sent(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

/// The values of query parameter `name` (`signature=`) in `text`.
fn param_values(text: &str, name: &str) -> Vec<String> {
    let needle = format!("{name}=");
    text.match_indices(&needle)
        .map(|(i, _)| {
            text[i + needle.len()..]
                .split(['&', ' ', '\r', '\n'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// The values of header `name` (case-insensitive) in the raw requests of `text`.
fn header_values(text: &str, name: &str) -> Vec<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    text.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_owned())
        .collect()
}

/// Every file of `dir` with its text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut all: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect();
    all.sort();
    all
}

/// Asserts that none of `secrets` appears in any file of `dir`.
fn assert_dir_holds_none_of(dir: &Path, secrets: &[String]) {
    for (path, text) in files(dir) {
        for secret in secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{} holds a secret value ({}...)",
                path.display(),
                &secret[..secret.len().min(6)]
            );
        }
    }
}

/// Runs `exsync-plugin-check PLUGIN --replay DIR --json ARGS` and asserts that every check
/// passed, the replay check among them.
fn assert_replay_passes(plugin: &str, dir: &Path, args: &[&str]) {
    let out = Command::new(target_bin("exsync-plugin-check"))
        .arg(target_bin(plugin))
        .arg("--replay")
        .arg(dir)
        .arg("--json")
        .args(args)
        .output()
        .expect("running exsync-plugin-check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "the checker printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<&Value> = checks.iter().filter(|c| c["result"] != "pass").collect();
    assert!(
        out.status.code() == Some(0) && failed.is_empty(),
        "{plugin} does not replay its recording (exit {:?}): {failed:#?}",
        out.status.code()
    );
    assert!(
        checks.iter().any(|c| c["name"] == "replay"),
        "no replay check: {report}"
    );
}

/// Runs `debug record NAME --dir DIR` (`--json`) and asserts it ended well; returns the
/// report.
fn record(daemon: &Daemon, name: &str, dir: &Path) -> Value {
    let out = daemon.ctl(&[
        "--json",
        "debug",
        "record",
        name,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.code, 0,
        "debug record {name} failed: {}\n{}",
        out.stdout, out.stderr
    );
    let report = out.json();
    exsync_e2e::assert_all_ok(&report["sync"]);
    let pairs = report["pairs"].as_u64().unwrap();
    assert!(pairs > 5, "too few pairs recorded: {report}");
    assert_eq!(report["written"], pairs, "{report}");
    assert_eq!(files(dir).len() as u64, pairs);
    report
}

#[test]
fn a_recorded_binance_sync_holds_no_secret_and_replays_in_the_checker() {
    let sim = Sim::binance(&["--seed", "71", "--trades", "300", "--no-weight-limit"]);
    let tap = Tap::start(&sim.url);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration(
        "binance-main",
        &binance_integration(
            &tap.url,
            "[streams]\nbalances = \"1h\"\ntrades = \"1h\"\ndeposits = \"1h\"\n",
        ),
    );
    let daemon = Daemon::start(&setup);
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("binance-rec");
    record(&daemon, "binance-main", &dir);

    // Every signature the daemon sent, the key and the secret: none is in DIR.
    let wire = tap.sent();
    let signatures = param_values(&wire, "signature");
    assert!(signatures.len() > 5, "the tap saw no signed request");
    let mut secrets = vec![API_KEY.to_owned(), API_SECRET.to_owned()];
    secrets.extend(signatures);
    assert_dir_holds_none_of(&dir, &secrets);
    // What stays tells pages apart; what was signed reads REDACTED.
    let (_, first_trades) = files(&dir)
        .into_iter()
        .find(|(p, _)| p.to_string_lossy().contains("myTrades"))
        .expect("a myTrades pair");
    let pair: Value = serde_json::from_str(&first_trades).unwrap();
    let path = pair["request"]["path"].as_str().unwrap();
    assert!(
        path.contains("symbol=") && path.contains("signature=REDACTED"),
        "{path}"
    );
    assert!(path.contains("timestamp=REDACTED"), "{path}");
    assert_eq!(pair["request"]["headers"]["x-mbx-apikey"], "REDACTED");
    // The sync stored what it would have without the recording.
    let truth = sim.truth();
    let trades: usize = truth["trades"]
        .as_object()
        .unwrap()
        .values()
        .map(|l| l.as_array().unwrap().len())
        .sum();
    assert_eq!(daemon.records("binance-main", "trade").len(), trades);

    assert_replay_passes(
        "libexsync_plugin_binance.so",
        &dir,
        &[
            "--start",
            "2024-01-01",
            "--stream",
            "balances",
            "--stream",
            "trades",
            "--stream",
            "deposits",
        ],
    );
}

/// The Kraken simulator's account (as `kraken.rs` has it).
const KRAKEN_KEY: &str = "e2eKRAKENkeyA1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4aBcD";
const KRAKEN_SECRET: &str =
    "uP9q/AYIed79I4K5A91M48K5H7YHsDB3u9OOngk3kdMOCZZ2fHpnHjgYWp/v/8vb7RW5xw7uCRebj90ncCEz8w==";

#[test]
fn a_recorded_kraken_sync_holds_no_secret_and_replays_in_the_checker() {
    let sim = Sim::start(
        "kraken",
        &["--api-key", KRAKEN_KEY, "--api-secret", KRAKEN_SECRET],
    );
    let tap = Tap::start(&sim.url);
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_kraken.so");
    setup.env("E2E_KRAKEN_KEY", KRAKEN_KEY);
    setup.env("E2E_KRAKEN_SECRET", KRAKEN_SECRET);
    setup.integration(
        "kraken-main",
        &format!(
            r#"exchange = "kraken"
base_url = "{}"
start = "2024-01-01"
budget = false
[credentials]
api_key = "env:E2E_KRAKEN_KEY"
api_secret = "env:E2E_KRAKEN_SECRET"
[streams]
balances = "1h"
trades = "1h"
ledger = "1h"
"#,
            tap.url
        ),
    );
    let daemon = Daemon::start(&setup);
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("kraken-rec");
    record(&daemon, "kraken-main", &dir);

    // Kraken signs in the API-Sign header and puts a nonce in every private POST body.
    let wire = tap.sent();
    let signatures = header_values(&wire, "API-Sign");
    assert!(signatures.len() > 3, "the tap saw no signed request");
    let mut secrets = vec![KRAKEN_KEY.to_owned(), KRAKEN_SECRET.to_owned()];
    secrets.extend(signatures);
    assert_dir_holds_none_of(&dir, &secrets);
    let ledgers = files(&dir)
        .into_iter()
        .find(|(p, _)| p.to_string_lossy().contains("Ledgers"))
        .expect("a Ledgers pair");
    let pair: Value = serde_json::from_str(&ledgers.1).unwrap();
    assert_eq!(pair["request"]["method"], "POST");
    assert_eq!(pair["request"]["headers"]["api-sign"], "REDACTED");
    let body = pair["request"]["body"].as_str().unwrap();
    assert!(body.contains("nonce=REDACTED"), "{body}");

    // The checker has no Kraken secret: any base64 key signs (the replay checks no signature).
    assert_replay_passes(
        "libexsync_plugin_kraken.so",
        &dir,
        &[
            "--start",
            "2024-01-01",
            "--credential",
            "api_key=replay-key",
            "--credential",
            "api_secret=cmVwbGF5LXNlY3JldC1ub3QtYS1yZWFsLW9uZQ==",
            "--stream",
            "balances",
            "--stream",
            "trades",
            "--stream",
            "ledger",
        ],
    );
}

#[test]
fn a_directory_with_files_is_refused_and_an_unknown_integration_named() {
    let sim = Sim::binance(&["--seed", "72", "--trades", "10"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration(
        "binance-main",
        &binance_integration(&sim.url, "[streams]\nbalances = \"1h\"\n"),
    );
    let daemon = Daemon::start(&setup);
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(scratch.path().join("notes.txt"), "mine").unwrap();
    let dir = scratch.path().to_str().unwrap();

    // A directory that holds anything is refused before the daemon is asked: nothing lost.
    let out = daemon.ctl(&["debug", "record", "binance-main", "--dir", dir]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("not empty"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(scratch.path().join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 1);

    let fresh = scratch.path().join("rec");
    let out = daemon.ctl(&["debug", "record", "nope", "--dir", fresh.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("nope"), "{}", out.stderr);
    let out = daemon.ctl(&[
        "debug",
        "record",
        "binance-main",
        "--dir",
        fresh.to_str().unwrap(),
        "--stream",
        "ledger",
    ]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("no stream `ledger`"), "{}", out.stderr);
    // And the audit log names the verb and who asked.
    let audit = daemon.ctl_json(&["audit"]);
    assert!(
        audit.to_string().contains("debug record"),
        "debug record is not audited: {audit}"
    );
}
