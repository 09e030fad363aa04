//! Sync-failure notifications (issue 10): an integration's `[notify]` webhook gets one JSON
//! POST when a stream starts failing and one when it recovers, never one per retry, never a
//! secret; a webhook that refuses a delivery gets it again, and syncs never wait for it.
//!
//! The webhook is a loopback HTTP receiver written here; it answers 503 to the very first
//! request, so the retry path runs too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exsync_e2e::daemon::{wait_for, Daemon, Setup};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::{assert_no_secrets, streams};
use serde_json::Value;

const WRONG_SECRET: &str = "e2eWRONGnotifyQ1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKk";
/// Carried in the webhook URL's query: it reaches the receiver, never a log.
const HOOK_TOKEN: &str = "hookTOKEN7f3a9c2e";

/// One request the receiver took: the request line and the body as JSON.
#[derive(Clone, Debug)]
struct Received {
    request_line: String,
    body: Value,
}

/// A loopback webhook. Answers 503 to its first request and 200 to every later one.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the webhook receiver");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let seen = got.clone();
        std::thread::spawn(move || {
            let mut requests = 0;
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                requests += 1;
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let status = if requests == 1 {
                    "503 Service Unavailable"
                } else {
                    seen.lock().unwrap().push(Received {
                        request_line: request_line.trim_end().to_owned(),
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    });
                    "200 OK"
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Receiver { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` notifications of `event` have arrived; returns them.
    fn wait_for(&self, event: &str, n: usize) -> Vec<Received> {
        wait_for(&format!("{n} {event} notifications"), || {
            let of: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.body["event"] == event)
                .collect();
            (of.len() >= n).then_some(of)
        })
    }
}

fn integration_toml(sim_url: &str, secret_file: &std::path::Path, webhook: &str) -> String {
    format!(
        r#"exchange = "binance"
base_url = "{sim_url}"
start = "2024-01-01"
budget = false
[credentials]
api_key = "env:E2E_BINANCE_KEY"
api_secret = "file:{}"
[streams]
balances = "1h"
deposits = "1h"
[notify]
webhook = "{webhook}"
on = ["failure", "recovery"]
"#,
        secret_file.display()
    )
}

#[test]
fn a_failing_stream_notifies_once_and_its_recovery_once_without_secrets() {
    let sim = Sim::binance(&["--seed", "41", "--trades", "10"]);
    let receiver = Receiver::start();
    let webhook = format!("{}?token={HOOK_TOKEN}", receiver.url);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    let wrong_file = setup.path().join("binance.secret");
    std::fs::write(&wrong_file, WRONG_SECRET).unwrap();
    setup.integration(
        "notified",
        &integration_toml(&sim.url, &wrong_file, &webhook),
    );
    let daemon = Daemon::start(&setup);

    // Fails: one failure notification per stream, however often it is retried.
    let sync = daemon.ctl(&["--json", "sync", "notified", "--wait"]);
    assert_eq!(sync.code, 1, "{}\n{}", sync.stdout, sync.stderr);
    let failures = receiver.wait_for("failure", 2);
    let again = daemon.ctl(&["--json", "sync", "notified", "--wait"]);
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    // The first delivery was refused (503) and retried; the retry's sent counter moves too.
    wait_for("the retried delivery to count", || {
        (daemon.metric("exsync_notifications_total{result=\"retried\"}") >= Some(1.0)
            && daemon.metric("exsync_notifications_total{result=\"sent\"}") >= Some(2.0))
        .then_some(())
    });
    // Room for a notification that should not come.
    std::thread::sleep(Duration::from_secs(2));
    let failures_now: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(|r| r.body["event"] == "failure")
        .collect();
    assert_eq!(failures_now.len(), 2, "{failures_now:#?}");
    let mut stream_names: Vec<&str> = failures
        .iter()
        .map(|r| r.body["stream"].as_str().unwrap())
        .collect();
    stream_names.sort();
    assert_eq!(stream_names, ["balances", "deposits"]);
    for f in &failures {
        let b = &f.body;
        assert_eq!(b["integration"], "notified", "{b}");
        assert_eq!(b["exchange"], "binance", "{b}");
        assert_eq!(b["error_kind"], "auth", "{b}");
        assert!(!b["message"].as_str().unwrap().is_empty(), "{b}");
        assert!(b["hint"].as_str().unwrap().contains("secret"), "{b}");
        assert!(b["at_ms"].as_i64().unwrap() > 1_600_000_000_000, "{b}");
        assert!(b["last_success_ms"].is_null(), "{b}");
        assert!(
            f.request_line
                .starts_with(&format!("POST /hook?token={HOOK_TOKEN} ")),
            "{}",
            f.request_line
        );
    }

    // Fixed: the operator writes the right secret to a new key file, points the integration
    // at it and reloads; the next sync recovers, and says so once per stream.
    let right_file = setup.path().join("binance-fixed.secret");
    std::fs::write(&right_file, API_SECRET).unwrap();
    setup.integration(
        "notified",
        &integration_toml(&sim.url, &right_file, &webhook),
    );
    let reload = daemon.reload_wait();
    assert_eq!(reload.code, 0, "{}\n{}", reload.stdout, reload.stderr);
    let report = daemon.sync_wait("notified");
    for s in streams(&report) {
        assert_eq!(s["result"], "ok", "{s}");
    }
    let recoveries = receiver.wait_for("recovery", 2);
    for r in &recoveries {
        let b = &r.body;
        assert_eq!(b["integration"], "notified", "{b}");
        assert_eq!(b["error_kind"], "auth", "{b}");
        assert!(b["last_failure_ms"].as_i64().unwrap() <= b["at_ms"].as_i64().unwrap());
    }
    // Synced again: nothing more to say.
    let report = daemon.sync_wait("notified");
    assert!(streams(&report).iter().all(|s| s["result"] == "ok"));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(receiver.received().len(), 4, "{:#?}", receiver.received());
    assert_eq!(
        daemon.metric("exsync_notifications_total{result=\"sent\"}"),
        Some(4.0)
    );

    let bodies: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    let log = daemon.log();
    let metrics = daemon.metrics();
    let mut outputs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    outputs.extend([log.as_str(), metrics.as_str()]);
    assert_no_secrets(&outputs);
    for out in &outputs {
        assert!(
            !out.contains(WRONG_SECRET),
            "the wrong secret leaked: {out}"
        );
    }
    assert!(log.contains("Notification sent."), "{log}");
    assert!(
        !log.contains(HOOK_TOKEN),
        "the webhook's token is in the log"
    );
}

#[test]
fn webhooks_must_be_http_and_are_shown_redacted() {
    let setup = Setup::new();
    let dir = setup.config_dir();
    setup.integration(
        "badhook",
        r#"exchange = "binance"
[credentials]
api_key = "env:K"
api_secret = "env:S"
[streams]
balances = "1h"
[notify]
webhook = "ftp://alice:pa55word99@hooks.invalid/x?token=t0k3n1234"
"#,
    );
    let out = exsync_e2e::daemon::ctl(
        &setup.socket(),
        &[
            "validate",
            dir.to_str().unwrap(),
            "--plugin-dir",
            setup.plugin_dir().to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("http:// or https://"), "{text}");
    assert!(text.contains("ftp://***@hooks.invalid/x?***"), "{text}");
    assert!(
        !text.contains("pa55word99") && !text.contains("t0k3n1234"),
        "{text}"
    );
}

#[test]
fn a_webhook_that_never_answers_delays_no_sync() {
    // Connections are queued by the kernel and never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let webhook = format!("http://{}/hook", silent.local_addr().unwrap());
    let sim = Sim::binance(&["--seed", "42", "--trades", "10"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    let wrong_file = setup.path().join("binance.secret");
    std::fs::write(&wrong_file, WRONG_SECRET).unwrap();
    setup.integration("silent", &integration_toml(&sim.url, &wrong_file, &webhook));
    let daemon = Daemon::start(&setup);

    let started = std::time::Instant::now();
    let sync = daemon.ctl(&["--json", "sync", "silent", "--wait"]);
    assert_eq!(sync.code, 1, "{}\n{}", sync.stdout, sync.stderr);
    let again = daemon.ctl(&["--json", "sync", "silent", "--wait"]);
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    // Two syncs, each of which notified a silent webhook: neither waited for its answer.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "syncs took {took:?}");
    // The attempt times out and is tried again later.
    wait_for("a timed-out delivery to be retried", || {
        (daemon.metric("exsync_notifications_total{result=\"retried\"}") >= Some(1.0)).then_some(())
    });
    assert_eq!(
        daemon.metric("exsync_notifications_total{result=\"sent\"}"),
        None
    );
    let log = daemon.log();
    assert!(
        log.contains("Notification not delivered, retrying"),
        "{log}"
    );
    drop(silent);
}
