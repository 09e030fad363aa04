//! Fuzz inputs replayed as ordinary tests. Not part of the plugin interface: the repository's
//! connectors and the daemon call it from their `fuzz_seeds_and_regressions_replay` tests.

use std::path::Path;

/// Feeds every file in `FUZZ_DIR/corpus/TARGET/` (the target's seeds) and
/// `FUZZ_DIR/regressions/TARGET/` (the crashes its fuzzer found, minimised) to `entry`, the
/// function the fuzz target calls, without libFuzzer. Panics naming each input that panics,
/// and when the target has no seed at all (a wrong path would otherwise pass silently).
pub fn replay_fuzz_inputs(fuzz_dir: &Path, target: &str, entry: fn(&[u8])) {
    let (mut inputs, mut panics) = (0, Vec::new());
    for dir in ["corpus", "regressions"] {
        let Ok(files) = std::fs::read_dir(fuzz_dir.join(dir).join(target)) else {
            continue;
        };
        for file in files {
            let path = file.expect("a fuzz input").path();
            let data = std::fs::read(&path).expect("read a fuzz input");
            inputs += 1;
            if std::panic::catch_unwind(|| entry(&data)).is_err() {
                panics.push(path.display().to_string());
            }
        }
    }
    assert!(inputs > 0, "no seed in fuzz/corpus/{target}");
    assert!(panics.is_empty(), "inputs that panic: {panics:?}");
}
