//! Helpers for the end-to-end tests: start the simulator and the daemon, run exsyncctl,
//! compare the store with the ground truth.

pub mod bins;
pub mod control;
pub mod daemon;
pub mod dates;
pub mod faults;
pub mod http;
pub mod probe;
pub mod secrets;
pub mod sim;
pub mod truth;

/// Asserts that no credential of the simulated account appears in any of `outputs`.
pub fn assert_no_secrets(outputs: &[&str]) {
    assert_none_leaked(&[sim::API_KEY, sim::API_SECRET], outputs);
}

/// The per-stream results of a `sync --json` report.
pub fn streams(report: &serde_json::Value) -> &Vec<serde_json::Value> {
    report["streams"]
        .as_array()
        .unwrap_or_else(|| panic!("sync report has no streams: {report}"))
}

/// Asserts that a sync report has streams and that every one of them is `ok`.
pub fn assert_all_ok(report: &serde_json::Value) {
    assert!(!streams(report).is_empty(), "no stream synced: {report}");
    for s in streams(report) {
        assert_eq!(s["result"], "ok", "stream failed: {s}");
    }
}

/// A JSON value as the text an exchange wrote it: a string's content, anything else's JSON.
pub fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Asserts that none of `secrets` appears in any of `outputs`.
pub fn assert_none_leaked(secrets: &[&str], outputs: &[&str]) {
    for out in outputs {
        for secret in secrets {
            assert!(
                !out.contains(secret),
                "a credential leaked into an output:\n{out}"
            );
        }
    }
}
