//! Builds of the `probe` test connector (`tests/plugins/probe`) under any version string.
//!
//! The probe keeps its version in a fixed-size marker in its data (`EXSYNC-PROBE-BUILD:1.0.0`,
//! NUL-padded) and reads it at run time. A copy of the built file with those bytes changed is
//! the same code under another version: what a new build of a connector looks like to the
//! daemon (another file content, another manifest version). A version ending in `-panic` is a
//! build whose `manifest()` panics: one that fails to load.

use crate::bins::target_bin;

/// The built probe plugin's file name.
pub const FILE: &str = "libexsync_plugin_probe.so";

const MARKER: &[u8] = b"EXSYNC-PROBE-BUILD:";
/// The marker's whole size, version included (`BUILD` in the probe's source).
const SLOT: usize = 40;

/// The probe library as built, with its version string set to `version`.
///
/// # Panics
///
/// If the probe is not built, its marker is not found exactly once, or `version` does not fit.
pub fn build(version: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(target_bin(FILE)).expect("reading the built probe plugin");
    let at: Vec<usize> = bytes
        .windows(MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == MARKER)
        .filter(|(i, _)| bytes.get(i + MARKER.len()).is_some_and(|b| *b != 0))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        at.len(),
        1,
        "the probe's build marker must occur exactly once"
    );
    let room = SLOT - MARKER.len();
    assert!(version.len() < room, "version {version:?} does not fit");
    let slot = &mut bytes[at[0] + MARKER.len()..at[0] + SLOT];
    slot.fill(0);
    slot[..version.len()].copy_from_slice(version.as_bytes());
    bytes
}
