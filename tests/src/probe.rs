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

/// Replaces every occurrence of `from` in `bytes` by `to` (same length), at least one.
fn patch_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len(), "a patch keeps the file's layout");
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert!(
        !at.is_empty(),
        "{:?} not found in the probe build",
        String::from_utf8_lossy(from)
    );
    for i in at {
        bytes[i..i + to.len()].copy_from_slice(to);
    }
}

/// The probe under `version`, claiming to be built against plugin API `api_version` (same
/// length as `1.0.0`): abi_stable's root-module version strings follow the module's name
/// (`exsync_plugin`) in the library's data. What a plugin built against another major
/// version of `exsync-plugin-api` looks like to the daemon.
pub fn build_for_api(version: &str, api_version: &str) -> Vec<u8> {
    let mut bytes = build(version);
    let from = format!("exsync_plugin{PLUGIN_API_VERSION}");
    let to = format!("exsync_plugin{api_version}");
    patch_all(&mut bytes, from.as_bytes(), to.as_bytes());
    bytes
}

/// The probe under `version`, with the same API version number but another layout of the
/// root module: its second field is named `neu` instead of `new` in the type layout
/// abi_stable compares at load time. What a plugin built from a changed copy of the
/// interface crate, without a version bump, looks like to the daemon.
pub fn build_with_other_layout(version: &str) -> Vec<u8> {
    let mut bytes = build(version);
    patch_all(
        &mut bytes,
        b"manifest;new;config,host,ConnectorMod",
        b"manifest;neu;config,host,ConnectorMod",
    );
    bytes
}

/// The `exsync-plugin-api` version the probe is built against (`plugin-api/Cargo.toml`); a
/// bump makes [`build_for_api`] fail loudly until this follows.
const PLUGIN_API_VERSION: &str = "1.1.0";
