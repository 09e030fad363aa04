//! Finds the workspace's built binaries and plugins.
//!
//! `env!("CARGO_BIN_EXE_<name>")` only exists for binaries of the test's own package; ours
//! come from other packages of the workspace, so they are found next to the test binary:
//! cargo puts test binaries in `<target>/<profile>/deps/` and the workspace's binaries and
//! cdylibs in `<target>/<profile>/`.

use std::path::PathBuf;

/// The directory holding the workspace's built binaries (`<target>/<profile>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running test binary");
    let mut dir = exe
        .parent()
        .expect("the test binary has a parent directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// The built file `name` (`exsyncd`, `exsyncctl`, `libexsync_plugin_binance.so`) of the
/// workspace, in the same profile as the running test. Panics if it has not been built.
pub fn target_bin(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.is_file(),
        "{} not found: run `cargo build --workspace` first (with the same profile as the tests)",
        path.display()
    );
    path
}
