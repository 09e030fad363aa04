//! Entry points of the fuzz targets (`fuzz/`) and their regression test: text the daemon
//! parses from outside, fed to the same code that parses it in service.
//!
//! Not part of the daemon's interface. Each entry takes arbitrary bytes, drops the results and
//! checks only what must hold for any input: no panic, bounded memory, and for the control
//! protocol that a request decoded once decodes again to itself.

use std::path::PathBuf;
use std::sync::OnceLock;

use exsync_protocol::{decode, encode, Hello, Request};

use crate::config::{self, Overrides, Settings};
use crate::control::frame::{Frame, LineFramer};

/// A scratch configuration directory of this process, made once.
fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("exsync-fuzz-config-{}", std::process::id()));
        for sub in ["integrations.d", config::DATASOURCES_DIR] {
            std::fs::create_dir_all(dir.join(sub)).expect("make the fuzz scratch directory");
        }
        dir
    })
}

/// Parses `data` as `exsyncd.toml`, as an integration file and as a data source file, with
/// the loaders the daemon and `exsyncctl validate` use.
pub fn config(data: &[u8]) {
    let dir = scratch_dir();
    let daemon_file = dir.join("exsyncd.toml");
    let integration = dir.join("integrations.d").join("fuzz.toml");
    let datasource = dir.join(config::DATASOURCES_DIR).join("fuzz.toml");
    for path in [&daemon_file, &integration, &datasource] {
        std::fs::write(path, data).expect("write the fuzz input");
    }
    let _ = Settings::load(dir, Overrides::default());
    let _ = config::load_integration(&integration);
    let _ = config::load_datasource(&datasource);
    let text = String::from_utf8_lossy(data);
    let _ = config::parse_start(&text);
    let _ = config::parse_interval(&text);
}

/// Reads `data` as bytes off the control socket: split into lines by the daemon's frame reader
/// (with the real limit and with a small one, fed in pieces of the sizes real reads have), each
/// line decoded as a hello and as a request.
pub fn control(data: &[u8]) {
    for (max, piece) in [(exsync_protocol::MAX_LINE_BYTES, 8192), (64, 7)] {
        let mut framer = LineFramer::new(max);
        let mut frames = Vec::new();
        for chunk in data.chunks(piece) {
            framer.extend(chunk);
            frames.extend(std::iter::from_fn(|| framer.next_frame()));
        }
        frames.extend(framer.finish());
        for frame in frames {
            if let Frame::Line(line) = frame {
                assert!(line.len() <= max, "a line over the limit came through");
                let _ = decode::<Hello>(&line);
                if let Ok(request) = decode::<Request>(&line) {
                    let again: Request =
                        decode(&encode(&request)).expect("an encoded request decodes");
                    assert_eq!(
                        again, request,
                        "a request changed on its way through encode"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Replays the target's seeds (`fuzz/corpus/TARGET/`) and the crashes it found
    /// (`fuzz/regressions/TARGET/`) through its entry point, without libFuzzer.
    fn replay(target: &str, entry: fn(&[u8])) {
        let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        exsync_plugin_api::fuzzing::replay_fuzz_inputs(&fuzz, target, entry);
    }

    #[test]
    fn config_fuzz_seeds_and_regressions_replay() {
        replay("config", super::config);
    }

    #[test]
    fn control_fuzz_seeds_and_regressions_replay() {
        replay("control", super::control);
    }
}
