//! The Debian package (issue 10): `scripts/package.sh --test-build` packages the debug build
//! the tests run; this installs it into a scratch root with `dpkg -x`, checks its control
//! fields, conffiles, maintainer scripts and layout, then runs the *installed* `exsyncd`
//! with the *installed* plugins against the simulator and syncs with the installed
//! `exsyncctl`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use exsync_e2e::bins::target_dir;
use exsync_e2e::daemon::{binance_integration, wait_for, Setup};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::truth_counts;
use exsync_e2e::{assert_all_ok, assert_no_secrets};
use serde_json::Value;

/// The 18 connectors the package ships, and nothing else (no test fixture plugins).
const PLUGINS: [&str; 18] = [
    "b2c2",
    "binance",
    "bitfinex",
    "bitget",
    "bitmex",
    "bybit",
    "coinbase",
    "coinbase_exchange",
    "coinbase_prime",
    "copper",
    "cryptocom",
    "deribit",
    "falconx",
    "gateio",
    "gemini",
    "kraken",
    "kucoin",
    "okx",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_owned()
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The test package: the one `scripts/package.sh --test-build` made if it is newer than the
/// built binaries and plugins and the files that say what goes in it, else made now.
fn test_package() -> PathBuf {
    let dir = target_dir();
    let deb = dir
        .parent()
        .expect("the profile directory sits in the target directory")
        .join("debian/exsync-TEST-debug-build.deb");
    let newest_input = ["exsyncd".to_owned(), "exsyncctl".to_owned()]
        .into_iter()
        .chain(PLUGINS.iter().map(|p| format!("libexsync_plugin_{p}.so")))
        .map(|f| dir.join(f))
        .chain(
            [
                "daemon/Cargo.toml",
                "scripts/package.sh",
                "systemd/exsyncd.service",
                "systemd/debian/postinst",
                "systemd/debian/prerm",
                "systemd/debian/postrm",
            ]
            .map(|f| repo_root().join(f)),
        )
        .filter_map(|f| modified(&f))
        .max();
    if modified(&deb).is_some_and(|d| Some(d) > newest_input) {
        return deb;
    }
    let out = Command::new(repo_root().join("scripts/package.sh"))
        .arg("--test-build")
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .expect("running scripts/package.sh");
    assert!(
        out.status.success(),
        "scripts/package.sh --test-build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let path = PathBuf::from(printed.lines().last().expect("package.sh prints the path"));
    assert_eq!(path, deb, "package.sh made a package elsewhere");
    deb
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of a control field in `dpkg-deb --field` output.
fn field(deb: &Path, name: &str) -> String {
    run("dpkg-deb", &["--field", deb.to_str().unwrap(), name])
        .trim()
        .to_owned()
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_same_as_repo(root: &Path, installed: &str, repo: &str) {
    assert_eq!(
        read(root, installed),
        std::fs::read_to_string(repo_root().join(repo)).unwrap(),
        "{installed} differs from {repo}"
    );
}

#[test]
fn package_installs_the_daemon_ctl_plugins_and_unit_and_the_installed_daemon_syncs() {
    let started = std::time::Instant::now();
    let deb = test_package();
    eprintln!("package ready after {:?}", started.elapsed());
    let scratch = tempfile::Builder::new()
        .prefix("exsync-deb")
        .tempdir()
        .unwrap();
    let deb_s = deb.to_str().unwrap();

    // Control fields: clearly a test build, for this machine's architecture.
    let info = run("dpkg-deb", &["--info", deb_s]);
    assert_eq!(field(&deb, "Package"), "exsync", "{info}");
    let version = field(&deb, "Version");
    assert!(version.ends_with("-0test.debug"), "{version}");
    assert_eq!(
        field(&deb, "Architecture"),
        run("dpkg", &["--print-architecture"]).trim()
    );
    let depends = field(&deb, "Depends");
    assert!(
        depends.contains("libc6") && depends.contains("systemd"),
        "{depends}"
    );
    for name in ["Maintainer", "Description", "Section"] {
        assert!(!field(&deb, name).is_empty(), "no {name}: {info}");
    }

    // Conffiles and maintainer scripts.
    let control = scratch.path().join("DEBIAN");
    run("dpkg-deb", &["--control", deb_s, control.to_str().unwrap()]);
    let conffiles = read(&control, "conffiles");
    assert!(
        conffiles.lines().any(|l| l == "/etc/exsync/exsyncd.toml"),
        "{conffiles}"
    );
    let postinst = read(&control, "postinst");
    let sysusers = postinst
        .find("systemd-sysusers")
        .expect("postinst runs systemd-sysusers");
    let tmpfiles = postinst
        .find("systemd-tmpfiles")
        .expect("postinst runs systemd-tmpfiles");
    let helper = postinst
        .find("deb-systemd-helper")
        .expect("postinst runs deb-systemd-helper");
    assert!(sysusers < tmpfiles && tmpfiles < helper, "{postinst}");
    assert!(postinst.contains("exsyncd.service"), "{postinst}");
    assert!(!postinst.contains("#DEBHELPER#"), "{postinst}");
    for script in ["postinst", "prerm", "postrm"] {
        run("sh", &["-n", control.join(script).to_str().unwrap()]);
    }
    let prerm = read(&control, "prerm");
    assert!(prerm.contains("exsyncd.service"), "{prerm}");

    // Layout.
    let root = scratch.path().join("root");
    run("dpkg", &["-x", deb_s, root.to_str().unwrap()]);
    for bin in ["usr/bin/exsyncd", "usr/bin/exsyncctl"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(root.join(bin)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o755, "{bin}");
    }
    let plugins: BTreeSet<String> = std::fs::read_dir(root.join("usr/lib/exsync/plugins"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = PLUGINS
        .iter()
        .map(|p| format!("libexsync_plugin_{p}.so"))
        .collect();
    assert_eq!(plugins, expected);
    assert_same_as_repo(
        &root,
        "usr/lib/systemd/system/exsyncd.service",
        "systemd/exsyncd.service",
    );
    assert_same_as_repo(
        &root,
        "usr/lib/sysusers.d/exsyncd.conf",
        "systemd/exsyncd.sysusers",
    );
    assert_same_as_repo(
        &root,
        "usr/lib/tmpfiles.d/exsyncd.conf",
        "systemd/exsyncd.tmpfiles",
    );
    assert_same_as_repo(
        &root,
        "etc/exsync/exsyncd.toml",
        "systemd/exsyncd.toml.example",
    );
    assert_same_as_repo(
        &root,
        "usr/share/doc/exsync/examples/exsyncd.toml",
        "systemd/exsyncd.toml.example",
    );
    assert_same_as_repo(
        &root,
        "usr/share/doc/exsync/examples/integrations.d/binance-main.toml",
        "systemd/integrations.d/binance-main.toml.example",
    );
    assert_same_as_repo(
        &root,
        "usr/share/exsync/dashboards/exsync.json",
        "dashboards/exsync.json",
    );
    assert_same_as_repo(
        &root,
        "usr/share/exsync/prometheus/exsync-alerts.yml",
        "prometheus/exsync-alerts.yml",
    );
    let bash = read(&root, "usr/share/bash-completion/completions/exsyncctl");
    assert!(
        bash.contains("_exsyncctl") && bash.contains("reload"),
        "{bash}"
    );
    assert!(read(&root, "usr/share/zsh/vendor-completions/_exsyncctl").contains("#compdef"));
    assert!(
        read(&root, "usr/share/fish/vendor_completions.d/exsyncctl.fish")
            .contains("complete -c exsyncctl")
    );
    let man = run(
        "gzip",
        &[
            "-dc",
            root.join("usr/share/man/man1/exsyncctl.1.gz")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(man.contains(".TH") && man.contains("validate"), "{man}");

    // The installed daemon, with the installed plugins, syncs against the simulator.
    let sim = Sim::binance(&["--seed", "71", "--trades", "200", "--no-weight-limit"]);
    let setup = Setup::new();
    // Streams that sync in a few requests: the trade walk over every day since the start is
    // the sync tests' business; here the point is that the installed files work together.
    let streams = "[streams]\nbalances = \"1h\"\ndeposits = \"1h\"\nwithdrawals = \"1h\"\n";
    setup.integration("binance-main", &binance_integration(&sim.url, streams));
    eprintln!("layout checked after {:?}", started.elapsed());
    let daemon = Installed::start(&root, &setup);
    eprintln!("installed exsyncd answered after {:?}", started.elapsed());
    let plugins = daemon.ctl_json(&["plugins"]);
    let loaded = plugins
        .as_array()
        .or_else(|| plugins["plugins"].as_array())
        .expect("plugins lists plugins");
    assert_eq!(loaded.len(), PLUGINS.len(), "{plugins:#}");
    assert!(
        plugins.to_string().contains("usr/lib/exsync/plugins"),
        "{plugins:#}"
    );
    let report = daemon.ctl_json(&["sync", "binance-main", "--wait"]);
    assert_all_ok(&report);
    eprintln!("synced after {:?}", started.elapsed());
    let (_, _, truth_deposits, truth_withdrawals) = truth_counts(&sim.truth());
    assert!(truth_deposits > 0 && truth_withdrawals > 0);
    let deposits = daemon.ctl_json(&["records", "binance-main", "--kind", "deposit"]);
    assert_eq!(deposits.as_array().unwrap().len(), truth_deposits);
    let withdrawals = daemon.ctl_json(&["records", "binance-main", "--kind", "withdrawal"]);
    assert_eq!(withdrawals.as_array().unwrap().len(), truth_withdrawals);
    let balances = daemon.ctl_json(&["records", "binance-main", "--kind", "balance"]);
    assert!(!balances.as_array().unwrap().is_empty());
    let log = std::fs::read_to_string(setup.log_path()).unwrap_or_default();
    assert_no_secrets(&[&log, &report.to_string()]);
}

/// The installed `exsyncd`, started from the scratch root with the test's directories.
struct Installed {
    child: Child,
    ctl: PathBuf,
    socket: PathBuf,
}

impl Installed {
    fn start(root: &Path, setup: &Setup) -> Installed {
        let log = std::fs::File::create(setup.log_path()).unwrap();
        let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(root.join("usr/bin/exsyncd"))
            .arg("--config-dir")
            .arg(setup.config_dir())
            .arg("--state-dir")
            .arg(setup.state_dir())
            .arg("--plugin-dir")
            .arg(root.join("usr/lib/exsync/plugins"))
            .arg("--socket")
            .arg(setup.socket())
            .arg("--metrics-listen")
            .arg(format!("127.0.0.1:{metrics_port}"))
            .env("E2E_BINANCE_KEY", API_KEY)
            .env("E2E_BINANCE_SECRET", API_SECRET)
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting the installed exsyncd");
        let daemon = Installed {
            child,
            ctl: root.join("usr/bin/exsyncctl"),
            socket: setup.socket(),
        };
        wait_for("the installed exsyncd to answer", || {
            daemon.ctl(&["--json", "status"]).0.then_some(())
        });
        daemon
    }

    /// Runs the installed `exsyncctl`: whether it exited 0, and what it printed.
    fn ctl(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(&self.ctl)
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("running the installed exsyncctl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ctl_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = self.ctl(&all);
        assert!(ok, "exsyncctl {args:?}: {stdout}\n{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
