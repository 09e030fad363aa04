//! `exsyncctl status` reports what is broken while the rest keeps syncing.

use exsync_e2e::daemon::{binance_integration, Daemon, Setup, ALL_STREAMS};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};

fn problem<'a>(status: &'a serde_json::Value, subject_part: &str) -> &'a serde_json::Value {
    status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subject"].as_str().unwrap_or("").contains(subject_part))
        .unwrap_or_else(|| panic!("no problem about {subject_part}: {status:#}"))
}

#[test]
fn bad_plugin_broken_file_unknown_exchange_and_missing_credential_are_reported_while_the_rest_syncs(
) {
    let sim = Sim::binance(&["--seed", "21", "--trades", "300"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    std::fs::write(
        setup.plugin_dir().join("garbage.so"),
        b"this is not an ELF file",
    )
    .unwrap();
    std::fs::write(setup.plugin_dir().join("empty.so"), b"").unwrap();
    setup.integration("good", &binance_integration(&sim.url, ALL_STREAMS));
    setup.integration(
        "broken",
        "exchange = \"binance\"\n[streams\nbalances = \"1h\"\n",
    );
    setup.integration(
        "unknown",
        "exchange = \"kucoinx\"\n[streams]\nbalances = \"1h\"\n",
    );
    setup.integration(
        "nocred",
        &binance_integration(&sim.url, ALL_STREAMS)
            .replace("env:E2E_BINANCE_SECRET", "env:E2E_UNSET_SECRET_VAR"),
    );
    let daemon = Daemon::start(&setup);

    let status = daemon.status();
    let garbage = problem(&status, "garbage.so");
    assert_eq!(garbage["error"]["kind"], "plugin");
    assert!(
        garbage["error"]["message"]
            .as_str()
            .unwrap()
            .contains("open_failed"),
        "{garbage}"
    );
    problem(&status, "empty.so");
    let broken = problem(&status, "broken.toml");
    assert_eq!(broken["error"]["kind"], "config");
    let unknown = problem(&status, "integration unknown");
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown exchange `kucoinx`"),
        "{unknown}"
    );
    let nocred = problem(&status, "integration nocred");
    assert!(
        nocred["error"]["message"]
            .as_str()
            .unwrap()
            .contains("E2E_UNSET_SECRET_VAR is not set"),
        "{nocred}"
    );

    let plugins = daemon.ctl_json(&["plugins"]);
    let refused: Vec<&serde_json::Value> = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "refused")
        .collect();
    assert_eq!(refused.len(), 2, "{plugins:#}");
    assert!(plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == "binance" && p["state"] == "loaded"));

    // The text view says it too, for a person.
    let text = daemon.ctl(&["status"]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.contains("unknown exchange `kucoinx`"),
        "{}",
        text.stdout
    );

    // And the good integration syncs.
    let report = daemon.sync_wait("good");
    for s in report["streams"].as_array().unwrap() {
        assert_eq!(s["result"], "ok", "{s}");
    }
    assert!(!daemon.records("good", "trade").is_empty());
    // A broken one answers with its reason.
    let out = daemon.ctl(&["sync", "nocred", "--wait"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("E2E_UNSET_SECRET_VAR"),
        "{}",
        out.stderr
    );
}
