//! Helpers for the end-to-end tests: start the simulator and the daemon, run exsyncctl,
//! compare the store with the ground truth.

pub mod bins;
pub mod daemon;
pub mod http;
pub mod sim;
pub mod truth;

/// Asserts that no credential of the simulated account appears in any of `outputs`.
pub fn assert_no_secrets(outputs: &[&str]) {
    for out in outputs {
        for secret in [sim::API_KEY, sim::API_SECRET] {
            assert!(
                !out.contains(secret),
                "a credential leaked into an output:\n{out}"
            );
        }
    }
}
