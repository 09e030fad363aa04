//! Runs the real `exsyncctl` binary against a fake daemon started by each test.
//!
//! The fake speaks the protocol crate's messages over a std `UnixListener` with canned answers,
//! so these tests check what operators and scripts see: stdout, stderr and exit codes
//! (0 ok, 1 failed, 2 usage, 3 unreachable). The real daemon is tested end to end in `tests/`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;

use exsync_protocol::*;
use serde_json::{json, Value};
use tempfile::TempDir;

/// A fake `exsyncd` listening on a socket in its own temporary directory.
struct FakeDaemon {
    dir: TempDir,
}

impl FakeDaemon {
    /// Answers every request from [`canned`]; `refuse` makes it refuse the handshake instead.
    fn start(refuse: bool) -> FakeDaemon {
        let dir = TempDir::new().unwrap();
        let listener = UnixListener::bind(dir.path().join("exsyncd.sock")).unwrap();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                thread::spawn(move || serve(stream, refuse));
            }
        });
        FakeDaemon { dir }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("exsyncd.sock")
    }
}

fn serve(stream: UnixStream, refuse: bool) {
    let mut writer = stream.try_clone().unwrap();
    let mut lines = BufReader::new(stream).lines();
    let Some(Ok(hello)) = lines.next() else {
        return;
    };
    let hello: Hello = decode(&hello).unwrap();
    assert!(hello.agent.starts_with("exsyncctl "), "{hello:?}");
    if refuse {
        let refusal = ErrorResponse::new("protocol", "protocol version 1 is not supported");
        writer
            .write_all(encode(&Response::Error(refusal)).as_bytes())
            .unwrap();
        return;
    }
    let ours = Hello {
        protocol: PROTOCOL_VERSION,
        agent: "exsyncd fake".into(),
    };
    writer
        .write_all(encode(&Response::Hello(ours)).as_bytes())
        .unwrap();
    for line in lines {
        let Ok(line) = line else { return };
        let request: Request = decode(&line).unwrap();
        for response in canned(&request) {
            if writer.write_all(encode(&response).as_bytes()).is_err() {
                return;
            }
        }
    }
}

const NOW_ISH: i64 = 1_795_323_664_000; // 2026-11-22T05:01:04Z

fn canned(request: &Request) -> Vec<Response> {
    match request {
        Request::Status => vec![Response::Status(StatusReport {
            daemon: DaemonInfo {
                version: "0.1.0".into(),
                protocol: PROTOCOL_VERSION,
                pid: 4242,
                started_ms: NOW_ISH,
                socket: "exsyncd.sock".into(),
                metrics_listen: "127.0.0.1:9464".into(),
                ..DaemonInfo::default()
            },
            plugins: vec![],
            integrations: vec![IntegrationInfo {
                name: "binance-main".into(),
                exchange: "binance".into(),
                state: "ready".into(),
                streams: vec![StreamStatus {
                    stream: "trades".into(),
                    interval_s: 3600,
                    state: "idle".into(),
                    last_success_ms: Some(NOW_ISH),
                    records: 1234,
                    ..StreamStatus::default()
                }],
                ..IntegrationInfo::default()
            }],
            problems: vec![Problem {
                subject: "integrations.d/bad.toml".into(),
                error: ErrorInfo::new("config", "missing field `exchange`")
                    .with_hint("name the plugin id in `exchange`"),
            }],
            last_reload: None,
        })],
        Request::Sync(sync) => {
            let progress = |done, records| {
                Response::Progress(SyncProgress {
                    integration: sync.integration.clone(),
                    stream: "trades".into(),
                    partition: "BTCUSDT".into(),
                    partitions_done: done,
                    partitions_total: 2,
                    records,
                    pages: done,
                })
            };
            let streams = if sync.wait {
                vec![
                    StreamSyncResult {
                        stream: "balances".into(),
                        result: "ok".into(),
                        records: 3,
                        pages: 1,
                        partitions: 1,
                        duration_ms: 420,
                        error: None,
                    },
                    StreamSyncResult {
                        stream: "trades".into(),
                        result: "failed".into(),
                        records: 500,
                        pages: 1,
                        partitions: 2,
                        duration_ms: 1500,
                        error: Some(
                            ErrorInfo::new("rate_limited", "429 Too Many Requests")
                                .with_hint("lower the request rate or wait"),
                        ),
                    },
                ]
            } else {
                vec![]
            };
            let report = Response::Sync(SyncReport {
                integration: sync.integration.clone(),
                started: true,
                streams,
            });
            if sync.wait {
                vec![progress(1, 500), progress(2, 500), report]
            } else {
                vec![report]
            }
        }
        Request::Test(test) => vec![Response::Error(
            ErrorInfo::new("auth", format!("{}: API key rejected", test.integration))
                .with_hint("check api_key and api_secret"),
        )],
        Request::Records(records) if records.integration == "nobody" => {
            vec![Response::Error(ErrorInfo::new(
                "not_found",
                "no integration `nobody`",
            ))]
        }
        Request::Records(_) => {
            let trade = |id: u32, asset: &str| {
                json!({"id": id.to_string(), "timestamp": NOW_ISH, "symbol": "BTCUSDT",
                       "base": "BTC", "quote": asset, "side": "buy", "price": "1,5",
                       "amount": "1", "cost": "1.5", "raw": {"note": "a \"quoted\"\nline"}})
            };
            vec![
                Response::RecordBatch(RecordBatch {
                    records: vec![trade(1, "USDT"), trade(2, "ÜSD")],
                }),
                Response::RecordBatch(RecordBatch { records: vec![] }),
                Response::RecordBatch(RecordBatch {
                    records: vec![trade(3, "USDT")],
                }),
                Response::RecordsEnd(RecordsEnd { count: 3 }),
            ]
        }
        Request::Reload(r) if !r.wait => vec![Response::Reload(ReloadReport {
            result: "queued".into(),
            ..ReloadReport::default()
        })],
        Request::Reload(_) => vec![Response::Reload(ReloadReport {
            result: "failed".into(),
            trigger: "ctl".into(),
            unchanged: vec!["binance-main".into()],
            errors: vec![Problem {
                subject: "integrations.d/binance-main.toml".into(),
                error: ErrorInfo::new("config", "unknown stream `trade`"),
            }],
            ..ReloadReport::default()
        })],
        _ => vec![Response::Error(ErrorInfo::new("internal", "not canned"))],
    }
}

/// Runs `exsyncctl ARGS` with the socket given on the command line and a clean environment.
fn exsyncctl(socket: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_exsyncctl"));
    command
        .env_remove("EXSYNC_SOCKET")
        .env_remove("EXSYNCD")
        .arg("--socket")
        .arg(socket);
    command.args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn status_prints_a_report_and_exits_0_despite_problems() {
    let daemon = FakeDaemon::start(false);
    let out = exsyncctl(&daemon.socket(), &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "exsyncd 0.1.0 (protocol {PROTOCOL_VERSION}), pid 4242"
        )),
        "{text}"
    );
    assert!(text.contains("binance-main (binance): ready"), "{text}");
    assert!(text.contains("ago (2026-11-22T05:01:04Z)"), "{text}");
    assert!(text.contains("PROBLEMS (1)"), "{text}");
    assert!(
        text.contains("hint: name the plugin id in `exchange`"),
        "{text}"
    );

    let out = exsyncctl(&daemon.socket(), &["--json", "status"]);
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["daemon"]["pid"], 4242);
    assert_eq!(json["problems"][0]["error"]["kind"], "config");
}

#[test]
fn sync_wait_reports_the_failed_stream_and_exits_1() {
    let daemon = FakeDaemon::start(false);
    let out = exsyncctl(&daemon.socket(), &["sync", "binance-main", "--wait"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    // No progress output when stdout is not a terminal: the table is all there is.
    assert!(text.starts_with("STREAM "), "{text}");
    assert!(
        text.contains("rate_limited: 429 Too Many Requests"),
        "{text}"
    );
    assert!(text.contains("lower the request rate or wait"), "{text}");
    assert!(
        text.contains("binance-main: 1 of 2 streams failed, 503 records stored"),
        "{text}"
    );

    let out = exsyncctl(
        &daemon.socket(),
        &["sync", "binance-main", "--wait", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_str(&stdout(&out)).expect("only the report on stdout");
    assert_eq!(json["streams"][1]["result"], "failed");
    assert_eq!(json["streams"][1]["error"]["kind"], "rate_limited");

    let out = exsyncctl(
        &daemon.socket(),
        &["sync", "binance-main", "--stream", "trades"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "sync of binance-main started (stream trades)\n"
    );
}

#[test]
fn error_answers_go_to_stderr_with_a_hint_and_exit_1() {
    let daemon = FakeDaemon::start(false);
    for args in [
        &["test", "binance-main"][..],
        &["--json", "test", "binance-main"],
    ] {
        let out = exsyncctl(&daemon.socket(), args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            "error: auth: binance-main: API key rejected\nhint: check api_key and api_secret\n"
        );
    }
}

#[test]
fn records_stream_as_json_and_csv() {
    let daemon = FakeDaemon::start(false);
    let out = exsyncctl(
        &daemon.socket(),
        &["records", "b", "--kind", "trade", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(json[1]["quote"], "ÜSD");

    let out = exsyncctl(
        &daemon.socket(),
        &["records", "b", "--kind", "trade", "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("id,order_id,timestamp,symbol,"), "{text}");
    assert!(text.contains(
        "2,,1795323664000,BTCUSDT,BTC,ÜSD,buy,\"1,5\",1,1.5,,,,,\"{\"\"note\"\":\"\"a \\\"\"quoted\\\"\"\\nline\"\"}\"\n"
    ), "{text}");

    let out = exsyncctl(
        &daemon.socket(),
        &["records", "nobody", "--kind", "trade", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "no half array when nothing was sent");
    assert!(stderr(&out).starts_with("error: not_found: no integration `nobody`"));
}

#[test]
fn no_daemon_or_a_refused_handshake_exits_3() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nobody-listens.sock");
    let out = exsyncctl(&missing, &["status"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: cannot reach exsyncd at {}: ",
            missing.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: is exsyncd running? check `systemctl status exsyncd`"),
        "{err}"
    );
    assert_eq!(stdout(&out), "");

    let refusing = FakeDaemon::start(true);
    let out = exsyncctl(&refusing.socket(), &["plugins"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("refused the handshake"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_usage_exits_2_before_connecting() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nobody-listens.sock");
    for args in [
        &["records", "b", "--kind", "trades"][..],
        &["records", "b"],
        &["frobnicate"],
        &["sync"],
    ] {
        let out = exsyncctl(&missing, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

/// Writes a fake `exsyncd` that prints a validation report naming the directory it was given.
fn fake_exsyncd(dir: &Path, valid: bool) -> PathBuf {
    let error = if valid {
        "null".to_owned()
    } else {
        r#"{"kind":"config","message":"unknown stream `trade`","hint":"streams are plural"}"#
            .to_owned()
    };
    let script = format!(
        "#!/bin/sh\n\
         [ \"$1\" = --validate ] && [ \"$2\" = --config-dir ] || exit 64\n\
         printf '%s' '{{\"config_dir\":\"'\"$3\"'\",\"files\":[{{\"file\":\"exsyncd.toml\"}},\
         {{\"file\":\"integrations.d/b.toml\",\"integration\":\"b\",\"error\":{error}}}]}}'\n\
         exit {}\n",
        if valid { 0 } else { 1 }
    );
    let path = dir.join(if valid { "exsyncd-ok" } else { "exsyncd-bad" });
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn validate_runs_exsyncd_and_exits_by_the_report() {
    let dir = TempDir::new().unwrap();
    let socket = dir.path().join("unused.sock");
    let ok = fake_exsyncd(dir.path(), true);
    let out = exsyncctl(
        &socket,
        &["validate", "conf", "--exsyncd", ok.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "OK  exsyncd.toml\nOK  integrations.d/b.toml (b)\nconf: all 2 files valid\n"
    );

    let bad = fake_exsyncd(dir.path(), false);
    let out = exsyncctl(
        &socket,
        &[
            "--json",
            "validate",
            "conf",
            "--exsyncd",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["files"][1]["error"]["kind"], "config");

    let missing = dir.path().join("no-exsyncd-here");
    let out = exsyncctl(
        &socket,
        &["validate", "conf", "--exsyncd", missing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: cannot run exsyncd ("),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reload_wait_exits_1_when_something_was_refused_and_plain_reload_0() {
    let daemon = FakeDaemon::start(false);
    let out = exsyncctl(&daemon.socket(), &["reload", "--wait"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("reload failed"), "{text}");
    assert!(
        text.contains(
            "refused integrations.d/binance-main.toml\n    config: unknown stream `trade`"
        ),
        "{text}"
    );
    let out = exsyncctl(&daemon.socket(), &["--json", "reload", "--wait"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["result"], "failed");

    let out = exsyncctl(&daemon.socket(), &["reload"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("reload queued"));
}
