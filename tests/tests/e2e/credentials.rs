//! `exsyncctl credentials set|rotate` and `backup`: credentials encrypted at rest (issue 7).
//!
//! Every test runs the real daemon with a real master key made by `exsyncd keygen`, feeds the
//! credentials to the real `exsyncctl` as `field=value` lines on standard input, and has the
//! Binance plugin test them against the simulator. The raw store and backup files are
//! searched for every secret used.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exsync_e2e::bins::target_bin;
use exsync_e2e::daemon::{integration, Ctl, Daemon, Setup, ALL_STREAMS, TIMEOUT};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_stored_exactly;
use exsync_e2e::{assert_all_ok, assert_none_leaked};
use serde_json::Value;

const NAME: &str = "binance-main";
/// A wrong secret of the same shape: the simulator refuses its signatures.
const BAD_SECRET: &str = "e2eBADSECRETq1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM1";

/// The integration file: Binance against the simulator, credentials from the store.
fn store_integration(sim: &Sim) -> String {
    format!(
        "exchange = \"binance\"\nbase_url = \"{}\"\nstart = \"2024-01-01\"\nbudget = false\ncredentials = \"store\"\n{ALL_STREAMS}",
        sim.url
    )
}

/// A new master key from `exsyncd keygen`, saved with `mode`.
fn keygen(path: &Path, mode: u32) {
    let out = Command::new(target_bin("exsyncd"))
        .arg("keygen")
        .output()
        .expect("running exsyncd keygen");
    assert!(out.status.success(), "keygen failed");
    let key = String::from_utf8(out.stdout).unwrap();
    assert_eq!(key.trim().len(), 64, "keygen prints 64 hex digits");
    std::fs::write(path, key).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Writes `exsyncd.toml` with `key_file` and `extra` settings.
fn daemon_toml(setup: &Setup, key: Option<&Path>, extra: &str) {
    let key_line = key.map_or(String::new(), |k| {
        format!("key_file = \"{}\"\n", k.display())
    });
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        format!("{key_line}{extra}"),
    )
    .unwrap();
}

/// An installation with a master key in `key.a`, an integration that keeps its credentials
/// in the store, and `extra` in exsyncd.toml.
fn key_setup(sim: &Sim, extra: &str) -> (Setup, PathBuf) {
    let setup = Setup::new();
    let key = setup.path().join("key.a");
    keygen(&key, 0o600);
    daemon_toml(&setup, Some(&key), extra);
    setup.integration(NAME, &store_integration(sim));
    (setup, key)
}

/// `exsyncctl --json credentials VERB NAME` with `lines` on standard input.
fn credentials(daemon: &Daemon, verb: &str, lines: &str) -> Ctl {
    let mut child = Command::new(target_bin("exsyncctl"))
        .arg("--socket")
        .arg(&daemon.socket)
        .args(["--json", "credentials", verb, NAME])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running exsyncctl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Ctl {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn good_lines() -> String {
    format!("api_key={API_KEY}\napi_secret={API_SECRET}\n")
}

/// `exsyncctl credentials set` with the simulator's credentials; expects success.
fn set_good(daemon: &Daemon) -> Value {
    let out = credentials(daemon, "set", &good_lines());
    assert_eq!(out.code, 0, "set failed: {}\n{}", out.stdout, out.stderr);
    out.json()
}

/// When the stored credentials were set, as `status` shows it.
fn set_ms(daemon: &Daemon) -> Option<i64> {
    let status = daemon.status();
    let it = integration(&status, NAME).expect("integration in status");
    it["credentials"]["set_ms"].as_i64()
}

/// Whether `needle` occurs in the raw bytes of `file`.
fn file_contains(file: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn store_file(setup: &Setup) -> PathBuf {
    setup.state_dir().join("exsync.redb")
}

/// Runs `exsyncd` expecting it to exit by itself (a refused start); returns its exit code and
/// everything it printed.
fn start_refused(setup: &Setup, envs: &[(&str, &str)]) -> (i32, String) {
    let log = setup.path().join("refused.log");
    let mut cmd = Command::new(target_bin("exsyncd"));
    cmd.arg("--config-dir")
        .arg(setup.config_dir())
        .arg("--state-dir")
        .arg(setup.state_dir())
        .arg("--plugin-dir")
        .arg(setup.plugin_dir())
        .arg("--socket")
        .arg(setup.socket())
        .arg("--metrics-listen")
        .arg("127.0.0.1:0")
        .env_remove("EXSYNC_KEY_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("starting exsyncd");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("exsyncd started although it should have refused to");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

#[test]
fn set_from_stdin_lines_then_sync_equals_the_truth_and_the_store_holds_no_secret_bytes() {
    let sim = Sim::binance(&["--seed", "31", "--trades", "600", "--can-withdraw", "false"]);
    let (setup, _key) = key_setup(&sim, "");
    let mut daemon = Daemon::start(&setup);

    // Before any are set, the integration cannot run and says what to do.
    let status = daemon.status();
    let it = integration(&status, NAME).unwrap();
    assert_eq!(it["state"], "broken", "{it}");
    assert!(
        it["credentials"]["warning"]
            .as_str()
            .unwrap()
            .contains("credentials set"),
        "{it}"
    );

    let report = set_good(&daemon);
    assert_eq!(report["action"], "set");
    assert_eq!(report["can_withdraw"], false);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0, "{report}");
    // ctl shows the values masked: four characters each end.
    assert_eq!(
        report["credentials"],
        serde_json::json!([["api_key", "e2eK****6nP8"], ["api_secret", "e2eS****4dC3"]])
    );

    let sync = daemon.sync_wait(NAME);
    assert_all_ok(&sync);
    assert_stored_exactly(&daemon, NAME, &sim.truth());

    let metrics = daemon.metrics();
    let age = daemon
        .metric(&format!(
            "exsync_credential_age_seconds{{integration=\"{NAME}\"}}"
        ))
        .unwrap_or_else(|| panic!("no credential age metric:\n{metrics}"));
    assert!((0.0..60.0).contains(&age), "age {age}");
    assert!(set_ms(&daemon).is_some());

    // `status` in text shows where the credentials are, never their values.
    let text = daemon.ctl(&["status"]).stdout;
    assert!(text.contains("credentials: in the store, set"), "{text}");
    let outputs = [
        daemon.log(),
        metrics,
        text,
        report.to_string(),
        sync.to_string(),
    ];
    let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    assert_none_leaked(&[API_KEY, API_SECRET], &outputs);

    daemon.terminate();
    let store = store_file(&setup);
    assert!(std::fs::metadata(&store).unwrap().len() > 0);
    // The store holds the synced records in the clear, and the credentials only sealed.
    assert!(file_contains(&store, "binance-main"));
    for secret in [API_KEY, API_SECRET] {
        assert!(
            !file_contains(&store, secret),
            "a secret is in the raw store file"
        );
    }
}

#[test]
fn wrong_master_key_is_refused_and_nothing_is_overwritten() {
    let sim = Sim::binance(&["--seed", "32", "--trades", "100", "--can-withdraw", "false"]);
    let (setup, key_a) = key_setup(&sim, "");
    let mut daemon = Daemon::start(&setup);
    set_good(&daemon);
    let first = set_ms(&daemon).unwrap();
    daemon.terminate();

    let key_b = setup.path().join("key.b");
    keygen(&key_b, 0o600);
    daemon_toml(&setup, Some(&key_b), "");
    let mut daemon = Daemon::start(&setup);
    let status = daemon.status();
    let it = integration(&status, NAME).unwrap();
    assert_eq!(it["state"], "broken", "{it}");
    let message = it["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("key.b") && message.contains("not the key"),
        "{message}"
    );
    assert!(
        daemon.log().contains("Wrong master key"),
        "{}",
        daemon.log()
    );
    // Nothing that needs a secret starts: no request reached the exchange's signed endpoints.
    assert_eq!(sim.stats()["auth_failures"], 0);

    // Neither set nor backup writes anything under the wrong key.
    let out = credentials(&daemon, "set", &good_lines());
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("not the key"), "{}", out.stderr);
    let backup = setup.path().join("wrong.bak");
    let out = daemon.ctl(&["backup", backup.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!backup.exists());
    assert_eq!(set_ms(&daemon), Some(first));
    daemon.terminate();

    // The right key opens the same credentials as before, and syncs.
    daemon_toml(&setup, Some(&key_a), "");
    let daemon = Daemon::start(&setup);
    assert_eq!(set_ms(&daemon), Some(first));
    assert_all_ok(&daemon.sync_wait(NAME));
}

#[test]
fn key_files_others_may_read_and_stored_credentials_without_a_key_stop_the_start() {
    let sim = Sim::binance(&["--seed", "33", "--trades", "50", "--can-withdraw", "false"]);
    let (setup, key) = key_setup(&sim, "");
    for mode in [0o640, 0o604] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let (code, log) = start_refused(&setup, &[]);
        assert_ne!(code, 0);
        assert!(
            log.contains(&key.display().to_string()) && log.contains(&format!("{mode:04o}")),
            "mode {mode:o}: {log}"
        );
    }
    // The same rule for a key named by EXSYNC_KEY_FILE.
    daemon_toml(&setup, None, "");
    let (code, log) = start_refused(&setup, &[("EXSYNC_KEY_FILE", key.to_str().unwrap())]);
    assert_ne!(code, 0);
    assert!(log.contains("0604"), "{log}");

    // A private key named by EXSYNC_KEY_FILE works.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut with_env = Setup::new();
    with_env.env("EXSYNC_KEY_FILE", key.to_str().unwrap());
    with_env.integration(NAME, &store_integration(&sim));
    let mut daemon = Daemon::start(&with_env);
    set_good(&daemon);
    daemon.terminate();

    // Stored credentials, no key configured: the daemon does not start.
    let (code, log) = start_refused(&with_env, &[]);
    assert_ne!(code, 0);
    assert!(log.contains("no master key") && log.contains(NAME), "{log}");
}

#[test]
fn rotate_tests_new_credentials_first_and_a_failure_keeps_the_old_ones() {
    let sim = Sim::binance(&["--seed", "34", "--trades", "100", "--can-withdraw", "false"]);
    let (setup, _key) = key_setup(&sim, "");
    let daemon = Daemon::start(&setup);

    // Nothing to rotate yet.
    let out = credentials(&daemon, "rotate", &good_lines());
    assert_eq!(out.code, 1, "{}", out.stderr);
    set_good(&daemon);
    let first = set_ms(&daemon).unwrap();

    let bad = format!("api_key={API_KEY}\napi_secret={BAD_SECRET}\n");
    let out = credentials(&daemon, "rotate", &bad);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("error: auth:"), "{}", out.stderr);
    assert!(out.stderr.contains("the old ones stay"), "{}", out.stderr);
    // Bad input: a field the plugin does not take, a missing one, a line that is no field.
    for (lines, says) in [
        (format!("{}passphrase=x1\n", good_lines()), "`passphrase`"),
        (format!("api_key={API_KEY}\n"), "`api_secret`"),
        (format!("api_key={API_KEY}\n{API_SECRET}\n"), "line 2"),
    ] {
        let out = credentials(&daemon, "rotate", &lines);
        assert_eq!(out.code, 2, "{lines:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
        assert_none_leaked(&[API_SECRET], &[&out.stderr, &out.stdout]);
    }
    assert_eq!(
        set_ms(&daemon),
        Some(first),
        "a refused rotate changed the store"
    );
    assert_all_ok(&daemon.sync_wait(NAME));

    std::thread::sleep(Duration::from_millis(5));
    let out = credentials(&daemon, "rotate", &good_lines());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["action"], "rotated");
    assert!(set_ms(&daemon).unwrap() > first);
    assert_all_ok(&daemon.sync_wait(NAME));
    assert_none_leaked(
        &[API_KEY, API_SECRET, BAD_SECRET],
        &[&daemon.log(), &daemon.metrics()],
    );
}

#[test]
fn a_key_that_can_withdraw_is_warned_about_or_refused() {
    // The simulated key can withdraw (Binance's apiRestrictions says enableWithdrawals).
    let sim = Sim::binance(&["--seed", "35", "--trades", "50"]);
    let (setup, _key) = key_setup(&sim, "");
    let daemon = Daemon::start(&setup);
    let out = credentials(&daemon, "set", &good_lines());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    assert_eq!(report["can_withdraw"], true);
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("CAN WITHDRAW"),
        "{report}"
    );
    assert!(
        out.stderr.contains("WARNING: THIS KEY CAN WITHDRAW FUNDS"),
        "{}",
        out.stderr
    );
    assert!(
        daemon.log().contains("can WITHDRAW funds"),
        "{}",
        daemon.log()
    );
    drop(daemon);

    let (setup, _key) = key_setup(&sim, "refuse_withdraw_keys = true\n");
    let daemon = Daemon::start(&setup);
    let out = credentials(&daemon, "set", &good_lines());
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("error: permission:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("refuse_withdraw_keys"),
        "{}",
        out.stderr
    );
    assert_eq!(set_ms(&daemon), None, "a refused key was stored");
}

#[test]
fn credential_age_is_exported_and_warned_about_past_credential_max_age() {
    let sim = Sim::binance(&["--seed", "36", "--trades", "50", "--can-withdraw", "false"]);
    let (setup, _key) = key_setup(&sim, "credential_max_age = \"1s\"\n");
    let mut daemon = Daemon::start(&setup);
    set_good(&daemon);
    std::thread::sleep(Duration::from_millis(2100));
    let status = daemon.status();
    let creds = &integration(&status, NAME).unwrap()["credentials"];
    assert_eq!(creds["max_age_s"], 1);
    assert!(creds["age_s"].as_u64().unwrap() >= 2, "{creds}");
    assert!(
        creds["warning"]
            .as_str()
            .unwrap()
            .contains("older than credential_max_age"),
        "{creds}"
    );
    assert!(daemon
        .ctl(&["status"])
        .stdout
        .contains("WARNING: credentials are"));
    daemon.terminate();

    // At start the age is exported and the warning logged.
    let daemon = Daemon::start(&setup);
    let age = daemon
        .metric(&format!(
            "exsync_credential_age_seconds{{integration=\"{NAME}\"}}"
        ))
        .expect("credential age metric");
    assert!(age >= 2.0, "age {age}");
    assert!(
        daemon.log().contains("older than credential_max_age"),
        "{}",
        daemon.log()
    );
}

#[test]
fn backup_is_encrypted_and_restore_round_trips_it() {
    let sim = Sim::binance(&["--seed", "37", "--trades", "300", "--can-withdraw", "false"]);
    let (setup, _key) = key_setup(&sim, "");
    let mut daemon = Daemon::start(&setup);
    set_good(&daemon);
    assert_all_ok(&daemon.sync_wait(NAME));
    let first = set_ms(&daemon).unwrap();

    let backup = setup.path().join("exsync.bak");
    let out = daemon.ctl(&["--json", "backup", backup.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json()["bytes"].as_u64(),
        Some(std::fs::metadata(&backup).unwrap().len())
    );
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Encrypted as a whole: neither a secret nor the records' text is readable.
    for needle in [API_KEY, API_SECRET, NAME, "\"timestamp\""] {
        assert!(
            !file_contains(&backup, needle),
            "{needle} is readable in the backup"
        );
    }
    // A second backup to the same file is refused, and the first stays.
    let out = daemon.ctl(&["backup", backup.to_str().unwrap()]);
    assert_eq!(out.code, 1);

    let restore = |force: bool| {
        let mut cmd = Command::new(target_bin("exsyncd"));
        cmd.arg("--config-dir")
            .arg(setup.config_dir())
            .arg("--state-dir")
            .arg(setup.state_dir())
            .arg("restore")
            .arg(&backup)
            .env_remove("EXSYNC_KEY_FILE")
            .env_remove("CREDENTIALS_DIRECTORY");
        if force {
            cmd.arg("--force");
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Never under a running daemon, even with --force.
    let (code, err) = restore(true);
    assert_ne!(code, 0);
    assert!(err.contains("in use"), "{err}");
    daemon.terminate();

    // An existing store only with --force.
    let (code, err) = restore(false);
    assert_ne!(code, 0);
    assert!(err.contains("--force"), "{err}");

    // Into an empty state directory: everything comes back.
    std::fs::remove_file(store_file(&setup)).unwrap();
    let (code, err) = restore(false);
    assert_eq!(code, 0, "{err}");
    let daemon = Daemon::start(&setup);
    assert_eq!(set_ms(&daemon), Some(first));
    assert_stored_exactly(&daemon, NAME, &sim.truth());
    assert_all_ok(&daemon.sync_wait(NAME));
    drop(daemon);
    let (code, err) = restore(true);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_systemd_credential_is_the_first_key_source_and_the_unit_loads_it() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd/exsyncd.service"),
    )
    .unwrap();
    assert!(
        unit.lines()
            .any(|l| l.starts_with("LoadCredential=exsync.key:/")),
        "the unit does not load the master key as the credential exsync.key"
    );

    let sim = Sim::binance(&["--seed", "38", "--trades", "50", "--can-withdraw", "false"]);
    let (mut setup, _key_a) = key_setup(&sim, "");
    // What systemd makes of LoadCredential=: a private directory named by the environment.
    let dir = setup.path().join("credentials");
    std::fs::create_dir(&dir).unwrap();
    keygen(&dir.join("exsync.key"), 0o400);
    setup.env("CREDENTIALS_DIRECTORY", dir.to_str().unwrap());
    let mut daemon = Daemon::start(&setup);
    set_good(&daemon);
    assert_all_ok(&daemon.sync_wait(NAME));
    daemon.terminate();

    // The credential's key sealed them, not key_file's: without it, key_file's key is wrong.
    setup.env.retain(|(k, _)| k != "CREDENTIALS_DIRECTORY");
    let daemon = Daemon::start(&setup);
    let status = daemon.status();
    let it = integration(&status, NAME).unwrap();
    assert_eq!(it["state"], "broken", "{it}");
    assert!(
        it["error"]["message"].as_str().unwrap().contains("key.a"),
        "{it}"
    );
}
