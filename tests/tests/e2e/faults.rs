//! Faults of the host (issue 9): `kill -9` at random moments, plugins that panic, return
//! garbage or block forever, a disk that fills up, and a damaged store file at start.
//!
//! Failure story: one page is one redb transaction, so a crash loses at most the page in
//! flight and a restart resumes from the stored cursor. These tests kill, starve and break
//! the real daemon and check that the store still ends exactly equal to the exchange, that the
//! operator is told what happened, and that nothing is silently thrown away.

use std::time::{Duration, Instant};

use exsync_e2e::bins::target_bin;
use exsync_e2e::daemon::{binance_integration_with, integration, Daemon, Setup};
use exsync_e2e::faults::{assert_kraken_stored_exactly, FaultRng, SmallFs};
use exsync_e2e::probe;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_stored_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets};
use serde_json::Value;

/// The simulated Kraken account's keys (the same as the `kraken` tests use).
const KRAKEN_KEY: &str = "e2eKRAKENkeyA1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6S7t8U9v0W1x2Y3z4aBcD";
const KRAKEN_SECRET: &str =
    "uP9q/AYIed79I4K5A91M48K5H7YHsDB3u9OOngk3kdMOCZZ2fHpnHjgYWp/v/8vb7RW5xw7uCRebj90ncCEz8w==";

/// Every Binance account stream.
const BINANCE_STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
"#;

/// Every Kraken account stream: offsets (`ofs`) as cursors, unlike Binance's ids and windows.
const KRAKEN_STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
ledger = "1h"
"#;

/// How many times the daemon is killed in one run (issue 9 asks for at least 50).
const KILLS: usize = 50;

/// One installation with a Binance and a Kraken integration against their simulators.
fn two_exchange_setup(binance: &Sim, kraken: &Sim) -> Setup {
    let mut setup = Setup::new();
    setup.install_plugin("libexsync_plugin_kraken.so");
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.env("E2E_KRAKEN_KEY", KRAKEN_KEY);
    setup.env("E2E_KRAKEN_SECRET", KRAKEN_SECRET);
    setup.integration(
        "binance-main",
        &binance_integration_with(&binance.url, "2025-06-01", false, BINANCE_STREAMS),
    );
    setup.integration(
        "kraken-main",
        &format!(
            r#"exchange = "kraken"
base_url = "{}"
start = "2025-06-01"
budget = false
[credentials]
api_key = "env:E2E_KRAKEN_KEY"
api_secret = "env:E2E_KRAKEN_SECRET"
{KRAKEN_STREAMS}"#,
            kraken.url
        ),
    );
    setup
}

#[test]
fn kill_9_at_random_moments_then_restart_ends_exactly_at_the_ground_truth() {
    let mut rng = FaultRng::from_env("kill_9_at_random_moments");
    // Small accounts, slow answers: a sync spans many pages and many kill moments.
    let binance = Sim::binance(&[
        "--seed",
        "91",
        "--history-start",
        "2025-06-01",
        "--symbols",
        "12",
        "--traded-symbols",
        "4",
        "--trades",
        "2000",
        "--deposits",
        "20",
        "--withdrawals",
        "20",
        // Each restart is a new client with a fresh budget: the test is about kills, not
        // the weight limit (which, exceeded often enough, bans the address: its own test).
        "--no-weight-limit",
        "--slow-ms",
        "4",
    ]);
    let kraken = Sim::start(
        "kraken",
        &[
            "--api-key",
            KRAKEN_KEY,
            "--api-secret",
            KRAKEN_SECRET,
            "--seed",
            "92",
            "--no-rate-limit",
            "--history-start",
            "2025-06-01",
            "--trades",
            "500",
            "--slow-ms",
            "4",
        ],
    );
    let setup = two_exchange_setup(&binance, &kraken);
    let names = ["binance-main", "kraken-main"];

    let started = Instant::now();
    let mut mid_sync = 0;
    for _ in 0..KILLS {
        // New trades: every restart has pages to fetch, not only the first ones.
        binance.append_trades(rng.below(1, 40));
        kraken.append_trades(rng.below(1, 20));
        let mut daemon = Daemon::start(&setup);
        for name in names {
            let asked = daemon.ctl(&["sync", name]);
            assert_eq!(asked.code, 0, "sync {name}: {}", asked.stderr);
        }
        std::thread::sleep(Duration::from_millis(rng.below(0, 900)));
        let status = daemon.status();
        if names
            .iter()
            .any(|n| integration(&status, n).is_some_and(|i| i["state"] == "syncing"))
        {
            mid_sync += 1;
        }
        daemon.kill9();
    }
    let killing = started.elapsed();

    // Kraken's walk ends at a whole second of its clock: let the last trades settle.
    std::thread::sleep(Duration::from_millis(2100));
    let daemon = Daemon::start(&setup);
    for name in names {
        assert_all_ok(&daemon.sync_wait(name));
    }
    // A walk a kill left half done resumes within its window; what is newer is the next
    // walk's.
    assert_all_ok(&daemon.sync_wait("kraken-main"));
    assert_stored_exactly(&daemon, "binance-main", &binance.truth());
    assert_kraken_stored_exactly(&daemon, "kraken-main", &kraken.truth());

    eprintln!("{KILLS} kills in {killing:?}, {mid_sync} of them while a sync was running");
    // The kills landed in the middle of syncs, not only between them.
    assert!(
        mid_sync >= KILLS / 3,
        "only {mid_sync} of {KILLS} kills landed while a sync was running"
    );
    assert_no_secrets(&[&daemon.log()]);
}

/// A probe integration: `entries` ledger entries in pages of `page`, then `options`.
fn probe_integration(entries: u64, page: u64, options: &str) -> String {
    format!(
        "exchange = \"probe\"\n[streams]\nledger = \"1h\"\n[options]\nentries = {entries}\npage = {page}\n{options}"
    )
}

/// The result of the only stream of a `sync --json --wait` report.
fn only_stream(report: &Value) -> &Value {
    let streams = exsync_e2e::streams(report);
    assert_eq!(streams.len(), 1, "{report}");
    &streams[0]
}

#[test]
fn misbehaving_plugins_fail_their_own_integration_and_the_others_keep_syncing() {
    let setup = Setup::new();
    setup.install_plugin(probe::FILE);
    // A call that blocks is given up on after 3 s instead of the production quarter hour.
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        "plugin_call_timeout = \"3s\"\n",
    )
    .unwrap();
    setup.integration(
        "probe-good",
        &probe_integration(60, 10, "page_delay_ms = 20\n"),
    );
    // Each broken probe serves one good page (entries 0..10), then breaks.
    // (name, misbehave, error kind shown, text of the message, entries stored)
    let broken = [
        ("probe-panic", "panic", "plugin", "panicked", 10),
        ("probe-json", "invalid_json", "plugin", "invalid page", 10),
        // Amounts cross as exchange text: one that is not an exact decimal is what the
        // exchange sent (`bad_response`), and the page is refused whole.
        (
            "probe-decimal",
            "bad_decimal",
            "bad_response",
            "not an exact decimal",
            10,
        ),
        // The page that did not move the cursor is stored (its records are valid), then the
        // partition stops instead of asking for the same page forever.
        (
            "probe-stuck",
            "stuck_cursor",
            "plugin",
            "without moving its cursor",
            20,
        ),
        (
            "probe-block",
            "block",
            "plugin",
            "did not answer within 3s",
            10,
        ),
    ];
    for (name, misbehave, ..) in &broken {
        setup.integration(
            name,
            &probe_integration(
                30,
                10,
                &format!("misbehave = \"{misbehave}\"\nmisbehave_after = 10\n"),
            ),
        );
    }
    let mut daemon = Daemon::start(&setup);
    let pid = daemon.status()["daemon"]["pid"].clone();

    // The blocked call runs while the good integration syncs to the end.
    let asked = daemon.ctl(&["sync", "probe-block"]);
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    let good = daemon.sync_wait("probe-good");
    assert_all_ok(&good);
    assert_eq!(daemon.records("probe-good", "ledger").len(), 60);

    for (name, _, kind, text, stored) in &broken {
        let report = daemon.sync_wait(name);
        let stream = only_stream(&report);
        assert_eq!(stream["result"], "failed", "{name}: {report}");
        assert_eq!(stream["error"]["kind"], *kind, "{name}: {report}");
        let message = stream["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(text), "{name}: {message}");
        assert_eq!(
            daemon.records(name, "ledger").len(),
            *stored,
            "{name}: only whole good pages are stored"
        );
        let status = daemon.status();
        let it = integration(&status, name).expect("listed");
        assert_eq!(it["state"], "failing", "{name}: {it}");
        assert_eq!(
            it["streams"][0]["last_error"]["kind"], *kind,
            "{name}: {it}"
        );
    }

    // A panicked instance is poisoned, a blocked one abandoned: the next call is refused at
    // once, without waiting for the timeout again.
    for (name, text) in [("probe-panic", "poisoned"), ("probe-block", "earlier call")] {
        let started = Instant::now();
        let report = daemon.sync_wait(name);
        let stream = only_stream(&report);
        assert_eq!(stream["error"]["kind"], "plugin", "{name}: {report}");
        let message = stream["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(text), "{name}: {message}");
        assert!(started.elapsed() < Duration::from_secs(3), "{name}");
    }
    // The timed-out call was counted, once, and `exsyncctl test` on the abandoned instance
    // answers at once instead of waiting for the lock the blocked call holds.
    assert_eq!(
        daemon.metric(
            "exsync_plugin_call_timeouts_total{call=\"fetch\",exchange=\"probe\",integration=\"probe-block\"}"
        ),
        Some(1.0)
    );
    let started = Instant::now();
    let tested = daemon.ctl(&["test", "probe-block"]);
    assert_eq!(tested.code, 1, "{}{}", tested.stdout, tested.stderr);
    assert!(
        tested.stderr.contains("error: plugin:") && tested.stderr.contains("earlier call"),
        "{}",
        tested.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    // The good integration still syncs, in the same daemon process.
    setup.integration(
        "probe-good",
        &probe_integration(90, 10, "page_delay_ms = 20\n"),
    );
    let reload = daemon.reload_wait();
    assert_eq!(reload.code, 0, "{}{}", reload.stdout, reload.stderr);
    assert_all_ok(&daemon.sync_wait("probe-good"));
    assert_eq!(daemon.records("probe-good", "ledger").len(), 90);
    assert_eq!(daemon.status()["daemon"]["pid"], pid);
    let log = daemon.log();
    assert!(log.contains("probe told to panic"), "{log}");

    // It stops on SIGTERM although a thread is still blocked inside a plugin.
    let started = Instant::now();
    let exit = daemon.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_connection_test_whose_plugin_hangs_times_out_with_plugin() {
    let mut setup = Setup::new();
    setup.install_plugin(probe::FILE);
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        "plugin_call_timeout = \"30s\"\n",
    )
    .unwrap();
    // The variable overrides the file: the tests' way to a short bound.
    setup.env_public("EXSYNC_PLUGIN_CALL_TIMEOUT_SECS", "2");
    setup.integration(
        "probe-check",
        &probe_integration(10, 10, "misbehave = \"block_check\"\n"),
    );
    setup.integration("probe-good", &probe_integration(10, 10, ""));
    let daemon = Daemon::start(&setup);

    let started = Instant::now();
    let tested = daemon.ctl(&["test", "probe-check"]);
    let took = started.elapsed();
    assert_eq!(tested.code, 1, "{}{}", tested.stdout, tested.stderr);
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(20),
        "{took:?}"
    );
    assert!(
        tested.stderr.contains("error: plugin:")
            && tested
                .stderr
                .contains("did not answer within 2s while testing the connection"),
        "{}",
        tested.stderr
    );
    assert_eq!(
        daemon.metric(
            "exsync_plugin_call_timeouts_total{call=\"check\",exchange=\"probe\",integration=\"probe-check\"}"
        ),
        Some(1.0)
    );
    assert!(daemon
        .log()
        .contains("Plugin call timed out while testing the connection"));
    // Abandoned: the next test answers at once, and a sync is refused the same way.
    let started = Instant::now();
    let again = daemon.ctl(&["test", "probe-check"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("earlier call"), "{}", again.stderr);
    assert!(started.elapsed() < Duration::from_secs(2));
    let report = daemon.sync_wait("probe-check");
    assert_eq!(only_stream(&report)["error"]["kind"], "plugin", "{report}");
    // Other integrations are untouched.
    let good = daemon.ctl(&["test", "probe-good"]);
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    assert_all_ok(&daemon.sync_wait("probe-good"));
}

/// Runs `exsyncd` on `setup` expecting it to refuse to start; returns its exit code and what
/// it wrote.
fn start_expecting_failure(setup: &Setup) -> (Option<i32>, String) {
    let out = std::process::Command::new(target_bin("exsyncd"))
        .arg("--config-dir")
        .arg(setup.config_dir())
        .arg("--state-dir")
        .arg(setup.state_dir())
        .arg("--plugin-dir")
        .arg(setup.plugin_dir())
        .arg("--socket")
        .arg(setup.socket())
        .arg("--metrics-listen")
        .arg("127.0.0.1:0")
        .env_remove("NOTIFY_SOCKET")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running exsyncd");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn a_truncated_or_corrupted_store_is_reported_at_start_and_never_recreated() {
    let setup = Setup::new();
    setup.install_plugin(probe::FILE);
    setup.integration("probe-main", &probe_integration(300, 50, ""));
    let mut daemon = Daemon::start(&setup);
    assert_all_ok(&daemon.sync_wait("probe-main"));
    assert!(daemon.terminate().success());
    let store = setup.state_dir().join("exsync.redb");
    let good = std::fs::read(&store).expect("reading the store");

    let truncated = good[..good.len() / 2].to_vec();
    let mut garbled = good.clone();
    for b in &mut garbled[..512] {
        *b ^= 0x5a;
    }
    for (damage, bytes) in [("truncated", truncated), ("garbled", garbled)] {
        std::fs::write(&store, &bytes).expect("damaging the store");
        let (code, out) = start_expecting_failure(&setup);
        assert_eq!(
            code,
            Some(1),
            "{damage}: exsyncd started on a damaged store:\n{out}"
        );
        assert!(
            out.contains("Failed to open the store") && out.contains("exsync.redb"),
            "{damage}: the error names neither the store nor the file:\n{out}"
        );
        let after = std::fs::read(&store).expect("reading the store");
        assert!(
            after == bytes,
            "{damage}: the damaged store was changed: {} bytes, now {}, first change at {:?}",
            bytes.len(),
            after.len(),
            after.iter().zip(&bytes).position(|(a, b)| a != b)
        );
        let ctl = exsync_e2e::daemon::ctl(&setup.socket(), &["status"]);
        assert_eq!(ctl.code, 3, "{damage}: {}{}", ctl.stdout, ctl.stderr);
    }

    // The good file back: everything is there.
    std::fs::write(&store, &good).unwrap();
    let daemon = Daemon::start(&setup);
    assert_eq!(daemon.records("probe-main", "ledger").len(), 300);
}

#[test]
fn disk_full_during_a_sync_is_reported_and_the_sync_completes_when_space_returns() {
    let setup = Setup::new();
    setup.install_plugin(probe::FILE);
    // The daemon copies every plugin into its state directory.
    let plugins: u64 = std::fs::read_dir(setup.plugin_dir())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    // Room for the plugin copies and the store as created, not for the whole ledger.
    let fs = SmallFs::mount(plugins + 3 * 1024 * 1024);
    std::fs::remove_dir(setup.state_dir()).unwrap();
    std::os::unix::fs::symlink(fs.path(), setup.state_dir()).unwrap();
    setup.integration("probe-main", &probe_integration(20_000, 500, ""));
    let daemon = Daemon::start(&setup);

    let report = daemon.sync_wait("probe-main");
    let stream = only_stream(&report);
    assert_eq!(stream["result"], "failed", "{report}");
    // The store's failure, not the plugin's: its own kind and hint.
    assert_eq!(stream["error"]["kind"], "store", "{report}");
    assert!(
        stream["error"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("free space")),
        "{report}"
    );
    let message = stream["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("No space left on device") && message.contains("ledger"),
        "the error does not say the disk is full, while doing what: {message}"
    );
    let status = daemon.status();
    let it = integration(&status, "probe-main").expect("listed");
    assert_eq!(it["streams"][0]["last_error"]["message"], message, "{it}");
    assert_eq!(it["streams"][0]["last_error"]["kind"], "store", "{it}");
    assert_eq!(
        daemon.metric(
            "exsync_sync_failures_total{exchange=\"probe\",integration=\"probe-main\",reason=\"store\",stream=\"ledger\"}"
        ),
        Some(1.0)
    );
    assert!(daemon.log().contains("No space left on device"));
    let partial = daemon.records("probe-main", "ledger").len();
    assert!(partial < 20_000, "{partial}");
    assert_eq!(partial % 500, 0, "only whole pages are stored: {partial}");

    fs.resize(plugins + 64 * 1024 * 1024);
    let report = daemon.sync_wait("probe-main");
    assert_all_ok(&report);
    let stored = exsync_e2e::truth::stored_by_id(&daemon, "probe-main", "ledger");
    assert_eq!(stored.len(), 20_000);
    for i in 0..20_000 {
        assert!(stored.contains_key(&format!("L{i}")), "L{i} missing");
    }
}
