//! Checks of the systemd unit.
//!
//! The files under `systemd/` are checked with systemd's own tools (`systemd-analyze`,
//! `systemd-sysusers`, `systemd-tmpfiles`, from Debian's `systemd` package), never with a
//! reimplementation of their rules. The tools must be installed: a missing tool fails the
//! test, it does not skip it. Every check that reads a tool's output also runs it on a
//! deliberately broken copy, to prove that the output is read right and that a real mistake
//! fails the test.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use exsync_e2e::bins::target_bin;

const UNIT: &str = "exsyncd.service";
/// Where the unit starts the daemon once installed.
const INSTALLED_BIN: &str = "/usr/bin/exsyncd";
/// The highest `systemd-analyze security` exposure the unit may have ("OK" or better).
const MAX_EXPOSURE: f64 = 2.0;

/// The repository's `systemd/` directory.
fn systemd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("exsync-systemd")
        .tempdir()
        .expect("temp dir")
}

/// Runs one of systemd's tools; a tool that is not installed fails the test with what to do.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        // Plain output: no colours, no pager, no translations.
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                panic!(
                    "`{program}` is not installed. These tests check systemd/ with systemd's own \
                     tools and cannot pass without them: install the `systemd` package \
                     (Debian: `apt-get install systemd`)."
                )
            }
            panic!("running {program}: {e}")
        })
}

/// stdout and stderr together, for assertions and failure messages.
fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The repository's unit with `ExecStart=` pointed at the built daemon (`verify` checks that
/// the program exists and is executable), written to `dir/exsyncd.service`.
fn install_unit(dir: &Path) -> PathBuf {
    let bin = target_bin("exsyncd");
    let bin = bin.to_str().expect("the target directory's path is UTF-8");
    let original = read(&systemd_dir().join(UNIT));
    let mut exec_starts = 0;
    let rewritten: Vec<String> = original
        .lines()
        .map(|line| match line.strip_prefix("ExecStart=") {
            Some(command) => {
                exec_starts += 1;
                let args = command.strip_prefix(INSTALLED_BIN).unwrap_or_else(|| {
                    panic!("{UNIT}: ExecStart= must start {INSTALLED_BIN}, not {command:?}")
                });
                format!("ExecStart=\"{bin}\"{args}")
            }
            // `systemctl reload` runs the installed exsyncctl: point it at the built one.
            None => match line.strip_prefix("ExecReload=/usr/bin/exsyncctl") {
                Some(args) => format!("ExecReload=\"{}\"{args}", target_bin("exsyncctl").display()),
                None => line.to_owned(),
            },
        })
        .collect();
    assert_eq!(
        exec_starts, 1,
        "{UNIT} must have exactly one ExecStart= line"
    );
    let path = dir.join(UNIT);
    write(&path, &(rewritten.join("\n") + "\n"));
    path
}

/// Runs `systemd-analyze verify` on `unit`; returns its output and the lines that are about
/// the unit. systemd reports an unknown directive or an unparsable value as a warning
/// (`<file>:<line>: ... ignoring`) and still exits 0, so the exit status alone proves little.
fn verify(unit: &Path) -> (Output, Vec<String>) {
    let path = unit.to_str().expect("UTF-8 temp path");
    // --man=no: no man page look-ups for Documentation=. --recursive-errors=no: judge this
    // unit, not the host's units it is ordered after (network-online.target).
    let out = run(
        "systemd-analyze",
        &["verify", "--man=no", "--recursive-errors=no", path],
    );
    let problems = text(&out)
        .lines()
        .filter(|l| l.contains(path) || l.contains(UNIT))
        .map(str::to_owned)
        .collect();
    (out, problems)
}

#[test]
fn unit_passes_systemd_analyze_verify() {
    let dir = tempdir();
    let unit = install_unit(dir.path());
    let (out, problems) = verify(&unit);
    assert!(
        out.status.success() && problems.is_empty(),
        "systemd-analyze verify rejects {UNIT} ({}):\n{}",
        out.status,
        text(&out)
    );

    // The same check must fail on real mistakes, or it checks nothing.
    let good = read(&unit);
    let breakages = [
        (
            "a misspelled directive",
            "ProtectSystem=strict",
            "ProtectSytem=strict",
        ),
        (
            "an invalid value",
            "Restart=on-failure",
            "Restart=sometimes",
        ),
        (
            "an invalid mode",
            "RuntimeDirectoryMode=0750",
            "RuntimeDirectoryMode=0759",
        ),
        ("an unknown section", "[Service]", "[Servce]"),
    ];
    for (what, from, to) in breakages {
        assert!(
            good.lines().any(|l| l == from),
            "{UNIT} no longer has the line {from:?}: update this test"
        );
        let broken_dir = tempdir();
        let broken = broken_dir.path().join(UNIT);
        let broken_text: String = good
            .lines()
            .map(|l| if l == from { to } else { l })
            .map(|l| format!("{l}\n"))
            .collect();
        write(&broken, &broken_text);
        let (out, problems) = verify(&broken);
        assert!(
            !out.status.success() || !problems.is_empty(),
            "systemd-analyze verify did not notice {what} ({to:?}):\n{}",
            text(&out)
        );
    }
}

/// Runs `systemd-analyze security --offline` on `unit`; returns the exposure and the output.
fn exposure(unit: &Path) -> (f64, Output) {
    let path = unit.to_str().expect("UTF-8 temp path");
    // --threshold is in tenths: the command also fails on its own above MAX_EXPOSURE.
    let threshold = format!("--threshold={}", (MAX_EXPOSURE * 10.0).round());
    let out = run(
        "systemd-analyze",
        &["security", "--offline=true", "--no-pager", &threshold, path],
    );
    let all = text(&out);
    // "→ Overall exposure level for exsyncd.service: 1.1 OK 🙂"
    let marker = format!("Overall exposure level for {UNIT}:");
    let level = all
        .lines()
        .find_map(|l| l.split_once(&marker))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no exposure level in the output of systemd-analyze:\n{all}"));
    (level, out)
}

#[test]
fn unit_scores_at_most_2_0_on_systemd_analyze_security() {
    let dir = tempdir();
    let unit = install_unit(dir.path());
    let (level, out) = exposure(&unit);
    let exposed: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with('✗'))
        .collect();
    assert!(
        level <= MAX_EXPOSURE && out.status.success(),
        "{UNIT} has exposure {level} (at most {MAX_EXPOSURE} allowed; {}); still exposed:\n{}\n\n{}",
        out.status,
        exposed.join("\n"),
        text(&out)
    );

    // The parsing above must see a worse unit as worse.
    let good = read(&unit);
    let from = "NoNewPrivileges=yes";
    assert!(
        good.lines().any(|l| l == from),
        "{UNIT} no longer has {from:?}: update this test"
    );
    let weak_dir = tempdir();
    let weak = weak_dir.path().join(UNIT);
    let stripped: String = good
        .lines()
        .filter(|l| !l.starts_with("SystemCallFilter=") && !l.starts_with("Protect"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(&weak, &stripped);
    let (weak_level, weak_out) = exposure(&weak);
    assert!(
        weak_level > level && weak_level > MAX_EXPOSURE && !weak_out.status.success(),
        "without its sandbox the unit should score worse than {level} and over the threshold, \
         got {weak_level} ({}):\n{}",
        weak_out.status,
        text(&weak_out)
    );
}

/// `path` as an absolute path string: `systemd-sysusers` and `systemd-tmpfiles` take a
/// relative argument for a name to look up in their configuration directories.
fn abs(path: &Path) -> String {
    let path =
        std::fs::canonicalize(path).unwrap_or_else(|e| panic!("resolving {}: {e}", path.display()));
    path.to_str().expect("UTF-8 path").to_owned()
}

#[test]
fn sysusers_file_creates_the_exsync_user_and_group() {
    let root = tempdir();
    let root_arg = format!("--root={}", abs(root.path()));
    let file = abs(&systemd_dir().join("exsyncd.sysusers"));
    // --dry-run: parse and plan, write nothing (not even under --root).
    let out = run("systemd-sysusers", &["--dry-run", &root_arg, &file]);
    let all = text(&out);
    assert!(
        out.status.success(),
        "systemd-sysusers rejects exsyncd.sysusers ({}):\n{all}",
        out.status
    );
    assert!(
        all.contains("Creating group 'exsync'") && all.contains("Creating user 'exsync'"),
        "exsyncd.sysusers should create the user and the group exsync:\n{all}"
    );
    assert!(
        !all.lines().any(|l| l.starts_with(&format!("{file}:"))),
        "systemd-sysusers warns about exsyncd.sysusers:\n{all}"
    );
    let written: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
    assert!(
        written.is_empty(),
        "--dry-run wrote into the root: {written:?}"
    );

    // A broken line must fail the same way.
    let broken_dir = tempdir();
    let broken = broken_dir.path().join("broken.sysusers");
    write(
        &broken,
        &read(Path::new(&file)).replace("u      exsync", "u      ex!sync"),
    );
    let out = run("systemd-sysusers", &["--dry-run", &root_arg, &abs(&broken)]);
    assert!(
        !out.status.success(),
        "systemd-sysusers accepted an invalid user name:\n{}",
        text(&out)
    );
}

/// The gid of `name` in a `/etc/group` file.
fn gid_of(group_file: &Path, name: &str) -> u32 {
    read(group_file)
        .lines()
        .find_map(|l| {
            let fields: Vec<&str> = l.split(':').collect();
            (fields.first() == Some(&name)).then(|| fields[2].parse().expect("numeric gid"))
        })
        .unwrap_or_else(|| panic!("no group {name} in {}", group_file.display()))
}

#[test]
fn tmpfiles_file_creates_the_config_dirs_for_the_exsync_group() {
    let root = tempdir();
    let root_path = abs(root.path());
    let root_arg = format!("--root={root_path}");
    std::fs::create_dir(root.path().join("etc")).unwrap();
    // The group comes from exsyncd.sysusers, applied to the temporary root only.
    let sysusers = abs(&systemd_dir().join("exsyncd.sysusers"));
    let out = run("systemd-sysusers", &[&root_arg, &sysusers]);
    assert!(
        out.status.success(),
        "systemd-sysusers --root failed:\n{}",
        text(&out)
    );
    let gid = gid_of(&root.path().join("etc/group"), "exsync");

    let file = abs(&systemd_dir().join("exsyncd.tmpfiles"));
    let out = run("systemd-tmpfiles", &[&root_arg, "--create", &file]);
    let all = text(&out);
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    if is_root {
        assert!(
            out.status.success() && all.trim().is_empty(),
            "systemd-tmpfiles rejects exsyncd.tmpfiles ({}):\n{all}",
            out.status
        );
    } else {
        // Without root only the chown fails: everything was parsed, every name resolved (an
        // unknown group is "Failed to resolve group"), every directory created.
        let other: Vec<&str> = all
            .lines()
            .filter(|l| !(l.starts_with("fchownat()") && l.ends_with("Operation not permitted")))
            .collect();
        assert!(
            other.is_empty(),
            "systemd-tmpfiles rejects exsyncd.tmpfiles:\n{all}"
        );
    }
    for dir in ["etc/exsync", "etc/exsync/integrations.d"] {
        let meta = std::fs::metadata(root.path().join(dir))
            .unwrap_or_else(|e| panic!("{dir} was not created: {e}\n{all}"));
        assert!(meta.is_dir(), "{dir} is not a directory");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o750, "mode of {dir}");
        if is_root {
            assert_eq!(
                (meta.uid(), meta.gid()),
                (0, gid),
                "owner of {dir} (root:exsync)"
            );
        }
    }
}

#[test]
fn example_configuration_passes_exsyncd_validate() {
    let dir = tempdir();
    let config = dir.path().join("config");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(config.join("integrations.d")).unwrap();
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = "libexsync_plugin_binance.so";
    std::fs::copy(target_bin(plugin), plugins.join(plugin)).expect("copying the plugin");
    // Every commented-out key of the example, switched on, so each example value is checked.
    let example = read(&systemd_dir().join("exsyncd.toml.example"));
    let settings: String = example
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.contains(' ')) =>
            {
                format!("{rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    assert!(
        settings.contains("\nmax_concurrent_syncs = "),
        "keys not found in:\n{settings}"
    );
    write(&config.join("exsyncd.toml"), &settings);
    let integration = read(&systemd_dir().join("integrations.d/binance-main.toml.example"));
    write(
        &config.join("integrations.d/binance-main.toml"),
        &integration,
    );

    let out = Command::new(target_bin("exsyncd"))
        .arg("--validate")
        .arg("--config-dir")
        .arg(&config)
        .arg("--plugin-dir")
        .arg(&plugins)
        .output()
        .expect("running exsyncd --validate");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("exsyncd --validate printed no JSON ({e}):\n{}", text(&out)));
    assert!(
        out.status.success(),
        "the example configuration is invalid:\n{report:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["integration"].as_str())
        .collect();
    assert_eq!(
        checked,
        ["binance-main"],
        "integrations checked:\n{report:#}"
    );
}

/// The daemon speaks sd_notify as `Type=notify` with `WatchdogSec=` expects: `READY=1` with a
/// `STATUS=` summary, `WATCHDOG=1` at half of `$WATCHDOG_USEC`, and `STOPPING=1` on SIGTERM.
/// A fake `NOTIFY_SOCKET` stands in for systemd.
#[test]
fn notify_socket_sees_ready_status_watchdog_pings_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    use std::time::{Duration, Instant};

    let setup = exsync_e2e::daemon::Setup::new();
    setup.integration(
        "broken",
        "exchange = \"nonexistent\"\n[streams]\nledger = \"1h\"\n",
    );
    let notify_path = setup.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let log = std::fs::File::create(setup.log_path()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(target_bin("exsyncd"))
        .arg("--config-dir")
        .arg(setup.config_dir())
        .arg("--state-dir")
        .arg(setup.state_dir())
        .arg("--plugin-dir")
        .arg(setup.plugin_dir())
        .arg("--socket")
        .arg(setup.socket())
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("NOTIFY_SOCKET", &notify_path)
        // WatchdogSec=1s: a ping every half second.
        .env("WATCHDOG_USEC", "1000000")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let recv = || {
        let mut buf = [0u8; 1024];
        let n = notify.recv(&mut buf).unwrap_or_else(|e| {
            panic!(
                "no datagram from exsyncd ({e}); log:\n{}",
                std::fs::read_to_string(setup.log_path()).unwrap_or_default()
            )
        });
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };

    let ready = recv();
    let lines: Vec<&str> = ready.lines().collect();
    assert_eq!(lines[0], "READY=1", "{ready}");
    assert_eq!(
        lines[1], "STATUS=0 of 1 integration ready, 0 syncing; 1 problem (exsyncctl status)",
        "{ready}"
    );

    let started = Instant::now();
    let mut pings = 0;
    while pings < 4 {
        let message = recv();
        assert!(message.lines().any(|l| l == "WATCHDOG=1"), "{message}");
        pings += 1;
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(20),
        "4 pings at 500 ms took {took:?}"
    );

    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let stopping = loop {
        let message = recv();
        if message.contains("STOPPING=1") {
            break message;
        }
        assert!(message.contains("WATCHDOG=1"), "{message}");
    };
    assert!(
        stopping.starts_with("STOPPING=1\nSTATUS=stopping"),
        "{stopping}"
    );
    assert!(child.wait().unwrap().success());
}
