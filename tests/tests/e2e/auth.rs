//! A wrong secret is an `auth` error everywhere an operator looks, and no secret leaks.

use exsync_e2e::assert_no_secrets;
use exsync_e2e::daemon::{binance_integration, Daemon, Setup, ALL_STREAMS};
use exsync_e2e::sim::{Sim, API_KEY};

const WRONG_SECRET: &str = "e2eWRONGsecretQ1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKk";

#[test]
fn wrong_secret_is_an_auth_error_in_ctl_logs_and_metrics_and_never_shown() {
    let sim = Sim::binance(&["--seed", "31", "--trades", "100"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", WRONG_SECRET);
    setup.integration("binance-main", &binance_integration(&sim.url, ALL_STREAMS));
    let daemon = Daemon::start(&setup);

    let test = daemon.ctl(&["test", "binance-main"]);
    assert_eq!(test.code, 1, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stderr.contains("auth"), "{}", test.stderr);

    let sync = daemon.ctl(&["sync", "binance-main", "--wait"]);
    assert_eq!(sync.code, 1, "{}\n{}", sync.stdout, sync.stderr);
    assert!(sync.stdout.contains("auth"), "{}", sync.stdout);
    let json = daemon.sync_wait("binance-main");
    for s in json["streams"].as_array().unwrap() {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "auth", "{s}");
        assert!(s["error"]["hint"].as_str().unwrap().contains("secret"));
    }
    let status = daemon.status();
    assert_eq!(status["integrations"][0]["state"], "failing", "{status:#}");

    let metrics = daemon.metrics();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("exsync_sync_failures_total") && l.contains("reason=\"auth\"")),
        "{metrics}"
    );
    let log = daemon.log();
    assert!(
        log.contains("reason=\"auth\"") || log.contains("reason=auth"),
        "{log}"
    );
    assert!(sim.stats()["auth_failures"].as_u64().unwrap() > 0);

    let status_text = daemon.ctl(&["status"]).stdout;
    let integrations = daemon.ctl(&["integrations"]).stdout;
    let outputs = [
        &log,
        &metrics,
        &test.stdout,
        &test.stderr,
        &sync.stdout,
        &sync.stderr,
        &status_text,
        &integrations,
    ];
    assert_no_secrets(&outputs.map(|s| s.as_str()));
    for out in outputs {
        assert!(!out.contains(WRONG_SECRET), "the wrong secret leaked");
    }
}

#[test]
fn test_shows_identity_and_masked_credentials() {
    let sim = Sim::binance(&["--seed", "32", "--trades", "10", "--can-withdraw", "false"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", exsync_e2e::sim::API_SECRET);
    setup.integration("binance-main", &binance_integration(&sim.url, ALL_STREAMS));
    let daemon = Daemon::start(&setup);
    let report = daemon.ctl_json(&["test", "binance-main"]);
    assert_eq!(report["can_withdraw"], false, "{report:#}");
    assert_eq!(report["can_read"], true, "{report:#}");
    let creds = report["credentials"].as_array().unwrap();
    let key = creds.iter().find(|c| c[0] == "api_key").unwrap();
    assert_eq!(
        key[1],
        format!("{}****{}", &API_KEY[..4], &API_KEY[API_KEY.len() - 4..])
    );
    let text = daemon.ctl(&["test", "binance-main"]);
    assert_eq!(text.code, 0);
    assert_no_secrets(&[&text.stdout, &report.to_string(), &daemon.log()]);
}
