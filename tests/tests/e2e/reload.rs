//! Hot reload of configuration and plugins (issue 6): integration files edited, added,
//! removed and broken while syncs run, including editors' rename-over saves; SIGHUP and
//! `exsyncctl reload --wait`; plugins dropped in, broken and removed. After every step
//! `exsyncctl status` tells the truth, and every sync that ran completes with exactly the
//! simulator's ground truth: nothing lost, nothing duplicated.

use std::time::Duration;

use exsync_e2e::daemon::{
    binance_integration, ctl, has_problem, integration, Daemon, Setup, ALL_STREAMS,
};
use exsync_e2e::probe;
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_stored_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, streams};

const BINANCE: &str = "libexsync_plugin_binance.so";

fn setup() -> Setup {
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup
}

fn state(status: &serde_json::Value, name: &str) -> String {
    integration(status, name)
        .map(|i| i["state"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

fn interval_s(status: &serde_json::Value, name: &str, stream: &str) -> Option<u64> {
    integration(status, name)?["streams"]
        .as_array()?
        .iter()
        .find(|s| s["stream"] == stream)?["interval_s"]
        .as_u64()
}

/// A sync report in which no stream failed (a reload may interrupt one after its page).
fn assert_none_failed(report: &serde_json::Value) {
    for s in streams(report) {
        assert!(
            s["result"] == "ok" || s["result"] == "interrupted",
            "stream failed: {s}"
        );
    }
}

fn print_latency(step: &str, took: Duration) {
    eprintln!("reload latency ({step}): {} ms", took.as_millis());
}

#[test]
fn integration_files_added_changed_broken_and_removed_while_syncs_run() {
    let sim = Sim::binance(&["--seed", "61", "--trades", "5000", "--slow-ms", "20"]);
    let setup = setup();
    let steady_toml = binance_integration(&sim.url, ALL_STREAMS);
    setup.integration("steady", &steady_toml);
    let daemon = Daemon::start(&setup);

    // A sync of `steady` runs through every reload below; none of them may touch it.
    let socket = daemon.socket.clone();
    let steady_sync =
        std::thread::spawn(move || ctl(&socket, &["--json", "sync", "steady", "--wait"]));
    daemon.wait_for_status("steady to sync", |s| state(s, "steady") == "syncing");

    // Added, saved the way editors save.
    setup.integration_renamed_over("added", &binance_integration(&sim.url, ALL_STREAMS));
    let (_, took) =
        daemon.wait_for_status("`added` to start", |s| integration(s, "added").is_some());
    print_latency("file added", took);

    // Changed while it syncs: it restarts with the new interval and keeps its cursors.
    let socket = daemon.socket.clone();
    let added_sync =
        std::thread::spawn(move || ctl(&socket, &["--json", "sync", "added", "--wait"]));
    daemon.wait_for_status("added to sync", |s| state(s, "added") == "syncing");
    let changed = binance_integration(
        &sim.url,
        &ALL_STREAMS.replace("trades = \"1h\"", "trades = \"2h\""),
    );
    setup.integration_renamed_over("added", &changed);
    let (_, took) = daemon.wait_for_status("`added` to take its new interval", |s| {
        interval_s(s, "added", "trades") == Some(7200)
    });
    print_latency("file changed", took);
    let interrupted = added_sync.join().unwrap();
    assert_none_failed(&interrupted.json());
    let report = daemon.sync_wait("added");
    assert_all_ok(&report);
    assert_stored_exactly(&daemon, "added", &sim.truth());

    // Broken in every way a file can be: nothing of it applies, `steady` keeps running.
    let broken = [
        (
            "exchange = \"binance\"\n[streams\n".to_owned(),
            "steady.toml",
        ),
        (
            steady_toml.replace("exchange = \"binance\"", "exchange = \"binancex\""),
            "unknown exchange",
        ),
        (
            steady_toml.replace("trades = \"1h\"", "trade = \"1h\""),
            "unknown stream",
        ),
        (
            steady_toml.replace("trades = \"1h\"", "trades = \"soon\""),
            "soon",
        ),
        (
            steady_toml.replace("env:E2E_BINANCE_SECRET", "env:E2E_RELOAD_UNSET"),
            "E2E_RELOAD_UNSET",
        ),
    ];
    for (toml, why) in &broken {
        setup.integration_renamed_over("steady", toml);
        let out = daemon.reload_wait();
        assert_eq!(out.code, 1, "a refused reload exits 1: {}", out.stdout);
        let report = out.json();
        assert_eq!(report["result"], "failed", "{report}");
        assert!(report.to_string().contains(why), "{why}: {report}");
        let status = daemon.status();
        assert!(has_problem(&status, "steady.toml"), "{status:#}");
        assert!(
            status
                .to_string()
                .contains("keeps running with its previous settings"),
            "{status:#}"
        );
        assert_ne!(state(&status, "steady"), "broken", "{status:#}");
        assert_eq!(status["last_reload"]["result"], "failed", "{status:#}");
    }
    assert_eq!(
        daemon.metric("exsync_config_last_reload_successful"),
        Some(0.0)
    );
    assert!(
        daemon
            .metric("exsync_config_reloads_total{result=\"failed\"}")
            .unwrap_or(0.0)
            >= broken.len() as f64
    );

    // Fixed again: the same settings as before, so `steady` is unchanged, not restarted.
    setup.integration_renamed_over("steady", &steady_toml);
    let out = daemon.reload_wait();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.json();
    assert!(
        report["unchanged"]
            .as_array()
            .unwrap()
            .contains(&"steady".into()),
        "{report}"
    );
    let status = daemon.status();
    assert!(!has_problem(&status, "steady.toml"), "{status:#}");
    assert_eq!(
        daemon.metric("exsync_config_last_reload_successful"),
        Some(1.0)
    );

    // Removed: it stops, and says so.
    setup.remove_integration("added");
    let (_, took) = daemon.wait_for_status("`added` to go", |s| integration(s, "added").is_none());
    print_latency("file removed", took);
    exsync_e2e::daemon::wait_for("the log to say `added` stopped", || {
        daemon.log().contains("Integration stopped.").then_some(())
    });

    // The sync that ran through it all was never interrupted and stored the exact truth.
    let steady_report = steady_sync.join().unwrap().json();
    assert_all_ok(&steady_report);
    assert_all_ok(&daemon.sync_wait("steady"));
    assert_stored_exactly(&daemon, "steady", &sim.truth());
    assert_no_secrets(&[&daemon.log(), &daemon.metrics()]);
}

#[test]
fn sighup_reloads_and_daemon_settings_need_a_restart() {
    let sim = Sim::binance(&["--seed", "62", "--trades", "200", "--no-weight-limit"]);
    let setup = setup();
    setup.integration("main", &binance_integration(&sim.url, ALL_STREAMS));
    let daemon = Daemon::start(&setup);

    daemon.hup();
    let (status, _) = daemon.wait_for_status("the SIGHUP reload", |s| {
        s["last_reload"]["trigger"] == "signal"
    });
    assert_eq!(status["last_reload"]["result"], "ok", "{status:#}");

    // The socket, the paths, the metrics address, concurrency: only a restart applies them.
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        "max_concurrent_syncs = 2\n",
    )
    .unwrap();
    let out = daemon.reload_wait();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let required = report["restart_required"].as_array().unwrap();
    assert!(
        required[0]
            .as_str()
            .unwrap()
            .starts_with("max_concurrent_syncs"),
        "{report}"
    );
    let status = daemon.status();
    assert!(has_problem(&status, "exsyncd.toml"), "{status:#}");
    assert!(
        status.to_string().contains("restart required"),
        "{status:#}"
    );

    // An invalid exsyncd.toml is refused as a whole; the integrations are not touched.
    std::fs::write(
        setup.config_dir().join("exsyncd.toml"),
        "max_concurrent = \n",
    )
    .unwrap();
    let out = daemon.reload_wait();
    assert_eq!(out.code, 1, "{}", out.stdout);
    let status = daemon.status();
    assert_ne!(state(&status, "main"), "broken", "{status:#}");
    assert!(has_problem(&status, "exsyncd.toml"), "{status:#}");
    std::fs::remove_file(setup.config_dir().join("exsyncd.toml")).unwrap();
    assert_eq!(daemon.reload_wait().code, 0);
    assert_all_ok(&daemon.sync_wait("main"));
    assert_stored_exactly(&daemon, "main", &sim.truth());
}

#[test]
fn a_config_directory_replaced_whole_is_applied() {
    // Kubernetes mounts a ConfigMap as `..data -> ..2026_12_07_03_00_00.1`, with every file
    // a symlink through `..data`; an update writes a new timestamped directory and renames a
    // new `..data` symlink over the old one.
    let sim = Sim::binance(&["--seed", "63", "--trades", "100"]);
    let setup = setup();
    let config = setup.config_dir();
    std::fs::remove_dir(config.join("integrations.d")).unwrap();
    let version = |n: u32, names: &[&str]| {
        let dir = config.join(format!("..2026_12_07_03_00_0{n}.1"));
        std::fs::create_dir_all(dir.join("integrations.d")).unwrap();
        for name in names {
            std::fs::write(
                dir.join("integrations.d").join(format!("{name}.toml")),
                binance_integration(&sim.url, ALL_STREAMS),
            )
            .unwrap();
        }
        let tmp = config.join("..data_tmp");
        std::os::unix::fs::symlink(dir.file_name().unwrap(), &tmp).unwrap();
        std::fs::rename(&tmp, config.join("..data")).unwrap();
    };
    version(1, &["first"]);
    std::os::unix::fs::symlink("..data/integrations.d", config.join("integrations.d")).unwrap();
    let daemon = Daemon::start(&setup);
    assert!(integration(&daemon.status(), "first").is_some());

    version(2, &["first", "second"]);
    let (_, took) = daemon.wait_for_status("`second` from the new ConfigMap", |s| {
        integration(s, "second").is_some()
    });
    print_latency("..data swapped", took);
    assert_all_ok(&daemon.sync_wait("second"));
    assert_stored_exactly(&daemon, "second", &sim.truth());
}

#[test]
fn plugins_dropped_in_broken_and_removed() {
    let sim = Sim::binance(&["--seed", "64", "--trades", "300"]);
    let setup = setup();
    setup.remove_plugin(BINANCE);
    setup.integration("main", &binance_integration(&sim.url, ALL_STREAMS));
    let daemon = Daemon::start(&setup);
    assert_eq!(state(&daemon.status(), "main"), "broken");

    // Dropped in: loaded, and its integration starts.
    setup.install_plugin(BINANCE);
    let (status, took) = daemon.wait_for_status("the binance plugin to start `main`", |s| {
        state(s, "main") != "broken" && !state(s, "main").is_empty()
    });
    print_latency("plugin dropped in", took);
    assert_eq!(status["plugins"][0]["generation"], 1, "{status:#}");
    assert_all_ok(&daemon.sync_wait("main"));

    // Replaced by a file that is no library: the loaded build keeps serving, and says why.
    setup.replace_plugin(BINANCE, b"\x7fELF but not really");
    let (status, _) = daemon.wait_for_status("the broken build to be refused", |s| {
        s.to_string().contains("keeps serving")
    });
    assert_eq!(status["plugins"][0]["state"], "loaded", "{status:#}");
    assert_ne!(state(&status, "main"), "broken");
    assert_all_ok(&daemon.sync_wait("main"));
    assert_eq!(
        daemon.metric("exsync_config_last_reload_successful"),
        Some(0.0)
    );

    // Removed: its integration stops, and status says why.
    setup.remove_plugin(BINANCE);
    let (status, took) = daemon.wait_for_status("`main` to stop", |s| state(s, "main") == "broken");
    print_latency("plugin removed", took);
    let main = integration(&status, "main").unwrap();
    assert!(
        main["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown exchange `binance`"),
        "{main}"
    );
    assert!(daemon.log().contains("Plugin removed"), "log");
    assert_eq!(daemon.metric("exsync_plugins_loaded"), Some(0.0));
    assert_eq!(
        daemon.metric("exsync_plugin_generations_resident"),
        Some(1.0)
    );
    assert_stored_exactly(&daemon, "main", &sim.truth());
}

#[test]
fn a_new_build_of_a_plugin_serves_new_syncs_and_a_broken_one_leaves_the_old_serving() {
    let setup = Setup::new();
    setup.remove_plugin(BINANCE);
    setup.replace_plugin(probe::FILE, &probe::build("1.0.0"));
    // 150 pages of 10 entries, each page 40 ms: a page is in flight when the build changes.
    setup.integration(
        "ledger",
        "exchange = \"probe\"\n[streams]\nledger = \"1h\"\n\
         [options]\nentries = 1500\npage = 10\npage_delay_ms = 40\n",
    );
    let daemon = Daemon::start(&setup);
    let socket = daemon.socket.clone();
    let first_sync =
        std::thread::spawn(move || ctl(&socket, &["--json", "sync", "ledger", "--wait"]));
    daemon.wait_for_status("some ledger pages", |s| {
        integration(s, "ledger").is_some_and(|i| i["streams"][0]["records"].as_u64() > Some(30))
    });

    // A new build: loaded from its own copy, generation 2; the integration restarts on it.
    setup.replace_plugin(probe::FILE, &probe::build("2.0.0"));
    let (status, took) = daemon.wait_for_status("build 2.0.0 to serve", |s| {
        s["plugins"][0]["version"] == "2.0.0"
    });
    print_latency("plugin replaced", took);
    assert_eq!(status["plugins"][0]["generation"], 2, "{status:#}");
    assert_none_failed(&first_sync.join().unwrap().json());
    assert_all_ok(&daemon.sync_wait("ledger"));
    let plugins = daemon.ctl_json(&["plugins"]);
    assert_eq!(plugins["plugins"][0]["version"], "2.0.0", "{plugins}");
    assert_eq!(plugins["plugins"][0]["generation"], 2, "{plugins}");
    assert_eq!(
        daemon.metric("exsync_plugin_generations_resident"),
        Some(2.0)
    );

    // Every entry exactly once; the first pages came from build 1, the rest from build 2.
    let assert_ledger_exact = |daemon: &Daemon| {
        let records = daemon.records("ledger", "ledger");
        let ids: std::collections::BTreeSet<String> = records
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(records.len(), 1500, "no entry lost or duplicated");
        assert_eq!(ids, (0..1500).map(|i| format!("L{i}")).collect());
        records
    };
    let records = assert_ledger_exact(&daemon);
    let built_by = |v: &str| records.iter().filter(|r| r["raw"]["build"] == v).count();
    assert!(built_by("1.0.0") > 0, "the pages before the swap stay");
    assert!(built_by("2.0.0") > 0, "new syncs run the new build");

    // A build that panics while loading: refused, build 2 keeps serving, and status says why.
    setup.replace_plugin(probe::FILE, &probe::build("3.0.0-panic"));
    let (status, _) = daemon.wait_for_status("the broken build to be refused", |s| {
        s.to_string().contains("keeps serving")
    });
    assert_eq!(status["plugins"][0]["version"], "2.0.0", "{status:#}");
    assert!(
        status.to_string().contains("broken on purpose"),
        "{status:#}"
    );
    assert_eq!(state(&status, "ledger"), "ready", "{status:#}");
    assert_all_ok(&daemon.sync_wait("ledger"));
    assert_ledger_exact(&daemon);
    let out = daemon.reload_wait();
    assert_eq!(
        out.code, 1,
        "a refused build fails the reload: {}",
        out.stdout
    );
}

/// A plugin built against another major version of the plugin API, or with another layout
/// of the ABI types under the same version, is refused with its reason: at start, nothing of
/// it runs and the daemon serves the rest; on reload, the build already loaded keeps serving.
#[test]
fn builds_for_another_api_version_or_layout_are_refused_at_start_and_on_reload() {
    let sim = Sim::binance(&["--seed", "65", "--trades", "50"]);
    let setup = setup();
    setup.replace_plugin(probe::FILE, &probe::build_for_api("1.0.0", "2.0.0"));
    setup.replace_plugin(
        "libexsync_plugin_probe_layout.so",
        &probe::build_with_other_layout("1.0.0"),
    );
    setup.integration("main", &binance_integration(&sim.url, ALL_STREAMS));
    setup.integration(
        "ledger",
        "exchange = \"probe\"\n[streams]\nledger = \"1h\"\n[options]\nentries = 30\npage = 10\n",
    );
    let daemon = Daemon::start(&setup);

    // At start: both refused, each with its own reason; binance serves.
    let plugins = daemon.ctl_json(&["plugins"]);
    let by_file = |plugins: &serde_json::Value, file: &str| {
        plugins["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["file"].as_str().unwrap().ends_with(file))
            .cloned()
            .unwrap_or_else(|| panic!("no plugin entry for {file}: {plugins:#}"))
    };
    let version = by_file(&plugins, probe::FILE);
    assert_eq!(version["state"], "refused", "{version:#}");
    let message = version["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("incompatible_version:") && message.contains("2.0.0"),
        "{version:#}"
    );
    let layout = by_file(&plugins, "libexsync_plugin_probe_layout.so");
    assert_eq!(layout["state"], "refused", "{layout:#}");
    assert!(
        layout["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("abi_mismatch:"),
        "{layout:#}"
    );
    assert_eq!(by_file(&plugins, BINANCE)["state"], "loaded", "{plugins:#}");
    let status = daemon.status();
    assert_eq!(state(&status, "ledger"), "broken", "{status:#}");
    assert_all_ok(&daemon.sync_wait("main"));
    assert!(
        daemon.log().contains("incompatible_version"),
        "the refusal is logged"
    );

    // On reload: a good build loads and serves; the bad builds dropped over it are refused
    // and it keeps serving.
    setup.remove_plugin("libexsync_plugin_probe_layout.so");
    setup.replace_plugin(probe::FILE, &probe::build("1.0.0"));
    daemon.wait_for_status("the good probe build to serve", |s| {
        state(s, "ledger") == "ready"
    });
    assert_all_ok(&daemon.sync_wait("ledger"));
    for (bytes, reason) in [
        (
            probe::build_for_api("2.0.0", "2.0.0"),
            "incompatible_version",
        ),
        (probe::build_with_other_layout("3.0.0"), "abi_mismatch"),
    ] {
        setup.replace_plugin(probe::FILE, &bytes);
        let (status, _) = daemon.wait_for_status(reason, |s| {
            s.to_string().contains("keeps serving") && s.to_string().contains(reason)
        });
        let probe_entry = by_file(&status, probe::FILE);
        assert_eq!(probe_entry["version"], "1.0.0", "{status:#}");
        assert_eq!(probe_entry["state"], "loaded", "{status:#}");
        assert_eq!(state(&status, "ledger"), "ready", "{status:#}");
        assert_all_ok(&daemon.sync_wait("ledger"));
        assert_eq!(daemon.records("ledger", "ledger").len(), 30);
        assert_eq!(
            daemon.reload_wait().code,
            1,
            "a refused build fails the reload"
        );
    }
    assert_stored_exactly(&daemon, "main", &sim.truth());
    assert_no_secrets(&[&daemon.log()]);
}

/// A secret rotated in its `file:` source (a new `/run/credentials` file, the integration file
/// untouched) is picked up by the next reload: the integration restarts with it.
#[test]
fn a_secret_rotated_in_its_file_is_applied_by_the_next_reload() {
    let sim = Sim::binance(&["--seed", "66", "--trades", "40"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    let secret = setup.secret_file("binance.secret", "e2eWRONGsecret0123456789abcdefWRONG");
    setup.integration(
        "main",
        &binance_integration(&sim.url, "[streams]\nbalances = \"1h\"\n").replace(
            "env:E2E_BINANCE_SECRET",
            &format!("file:{}", secret.display()),
        ),
    );
    let daemon = Daemon::start(&setup);
    let failed = daemon.sync_wait("main");
    assert_eq!(failed["streams"][0]["result"], "failed", "{failed}");
    assert_eq!(failed["streams"][0]["error"]["kind"], "auth", "{failed}");

    // Unchanged file, unchanged integration: a reload leaves it alone.
    let out = daemon.reload_wait();
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.json()["unchanged"].to_string().contains("main"),
        "{}",
        out.stdout
    );

    setup.secret_file("binance.secret", API_SECRET);
    let out = daemon.reload_wait();
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.json()["changed"].to_string().contains("main"),
        "{}",
        out.stdout
    );
    assert_all_ok(&daemon.sync_wait("main"));
    assert_no_secrets(&[&daemon.log()]);
}
