//! Helpers for the host-fault tests: a seeded random source, a small filesystem that can fill
//! up and grow again, and the Kraken account compared by id and `raw`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::daemon::Daemon;
use crate::truth::assert_kind_exactly;

/// The environment variable that sets the seed of [`FaultRng`] (a run prints the one it used).
pub const SEED_VAR: &str = "EXSYNC_FAULTS_SEED";

/// A small seeded random source (SplitMix64): the same seed gives the same kill moments.
pub struct FaultRng(u64);

impl FaultRng {
    /// Seeded from [`SEED_VAR`] when set, else from the clock; prints the seed either way, so
    /// a failing run can be repeated.
    ///
    /// # Panics
    ///
    /// When [`SEED_VAR`] is set but is not a number.
    pub fn from_env(test: &str) -> FaultRng {
        let seed = match std::env::var(SEED_VAR) {
            Ok(s) => s
                .parse()
                .unwrap_or_else(|_| panic!("{SEED_VAR}={s:?} is not a number")),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock after 1970")
                .as_nanos() as u64,
        };
        eprintln!("{test}: seed {seed} (repeat with {SEED_VAR}={seed})");
        FaultRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `from..to`.
    pub fn below(&mut self, from: u64, to: u64) -> u64 {
        from + self.next_u64() % (to - from).max(1)
    }
}

/// A tmpfs of a chosen size mounted on a fresh directory, unmounted on drop. Its size can be
/// changed while files are open on it (`mount -o remount,size=`), which is how a test fills
/// a disk and then gives space back.
pub struct SmallFs {
    pub dir: tempfile::TempDir,
}

impl SmallFs {
    /// Mounts a tmpfs of `bytes` bytes.
    ///
    /// # Panics
    ///
    /// When the mount fails (not root, or no right to mount): the disk-full test then fails
    /// loudly rather than pass without having filled a disk.
    pub fn mount(bytes: u64) -> SmallFs {
        let dir = tempfile::Builder::new()
            .prefix("exsync-smallfs")
            .tempdir()
            .expect("temp dir");
        run_mount(&[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={bytes}"),
            "tmpfs",
            &dir.path().display().to_string(),
        ]);
        SmallFs { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// Changes the filesystem's size (space returns, or goes).
    pub fn resize(&self, bytes: u64) {
        run_mount(&[
            "-o",
            &format!("remount,size={bytes}"),
            &self.dir.path().display().to_string(),
        ]);
    }
}

fn run_mount(args: &[&str]) {
    let out = Command::new("mount")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running mount {args:?}: {e}"));
    assert!(
        out.status.success(),
        "mount {args:?} failed: this test needs a small filesystem (run it as root where \
         tmpfs can be mounted): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Asserts that integration `name` holds exactly the simulated Kraken account's trades,
/// orders, ledger entries, deposits and withdrawals (truth sections keyed by id; each stored
/// `raw` equal to the exchange's object) and one balance per asset.
pub fn assert_kraken_stored_exactly(daemon: &Daemon, name: &str, truth: &Value) {
    for (kind, section) in [
        ("trade", "trades"),
        ("order", "orders"),
        ("ledger", "ledger"),
        ("deposit", "deposits"),
        ("withdrawal", "withdrawals"),
    ] {
        let truth: Vec<(String, &Value)> = truth[section]
            .as_object()
            .unwrap_or_else(|| panic!("kraken truth has no {section}"))
            .iter()
            .map(|(id, raw)| (id.clone(), raw))
            .collect();
        assert_kind_exactly(daemon, name, kind, &truth, |_, _, _| {});
    }
    let balances = daemon.records(name, "balance");
    let truth_balances = truth["balances"].as_object().expect("kraken balances");
    assert_eq!(
        balances.len(),
        truth_balances.len(),
        "one balance per asset"
    );
    for b in &balances {
        let native = crate::text(&b["asset_native"]);
        assert_eq!(
            Some(&b["raw"]),
            truth_balances.get(&native),
            "balance {native}"
        );
    }
}
