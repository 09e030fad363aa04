//! Starts the real `exsyncd` binary in a temporary directory and drives it with the real
//! `exsyncctl`.
//!
//! Every secret handed to a daemon here is registered with [`crate::secrets`], and every log,
//! ctl output and `/metrics` body seen here is checked against all of them.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bins::target_bin;
use crate::http;
use crate::secrets;

/// One timeout for every `wait_for_*`: generous, because CI machines are slow.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A temporary installation: config, state and plugin directories, socket and log.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Setup {
    /// An installation with the Binance plugin in its plugin directory.
    pub fn new() -> Setup {
        let dir = tempfile::Builder::new()
            .prefix("exsync-e2e")
            .tempdir()
            .expect("temp dir");
        for sub in ["config/integrations.d", "state", "plugins"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("creating test dirs");
        }
        let setup = Setup {
            dir,
            env: Vec::new(),
        };
        setup.install_plugin("libexsync_plugin_binance.so");
        setup
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn config_dir(&self) -> PathBuf {
        self.path().join("config")
    }
    pub fn plugin_dir(&self) -> PathBuf {
        self.path().join("plugins")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.path().join("state")
    }
    pub fn socket(&self) -> PathBuf {
        self.path().join("exsyncd.sock")
    }
    pub fn log_path(&self) -> PathBuf {
        self.path().join("exsyncd.log")
    }

    /// Copies a built plugin into the plugin directory.
    pub fn install_plugin(&self, file: &str) {
        std::fs::copy(target_bin(file), self.plugin_dir().join(file))
            .unwrap_or_else(|e| panic!("copying plugin {file}: {e}"));
    }

    /// Writes `integrations.d/NAME.toml` (registering credentials written inline in it).
    pub fn integration(&self, name: &str, toml: &str) {
        secrets::register_inline_credentials(name, toml);
        std::fs::write(
            self.config_dir()
                .join("integrations.d")
                .join(format!("{name}.toml")),
            toml,
        )
        .expect("writing an integration file");
    }

    /// Path of `integrations.d/NAME.toml`.
    pub fn integration_path(&self, name: &str) -> PathBuf {
        self.config_dir()
            .join("integrations.d")
            .join(format!("{name}.toml"))
    }

    /// Saves `integrations.d/NAME.toml` the way editors do: writes a temporary file beside it
    /// and renames it over the old one.
    pub fn integration_renamed_over(&self, name: &str, toml: &str) {
        secrets::register_inline_credentials(name, toml);
        let tmp = self
            .config_dir()
            .join("integrations.d")
            .join(format!(".{name}.toml.swp"));
        std::fs::write(&tmp, toml).expect("writing a temporary integration file");
        std::fs::rename(&tmp, self.integration_path(name))
            .expect("renaming over an integration file");
    }

    /// Deletes `integrations.d/NAME.toml`.
    pub fn remove_integration(&self, name: &str) {
        std::fs::remove_file(self.integration_path(name)).expect("removing an integration file");
    }

    /// Deletes a plugin file from the plugin directory.
    pub fn remove_plugin(&self, file: &str) {
        std::fs::remove_file(self.plugin_dir().join(file)).expect("removing a plugin file");
    }

    /// Replaces a plugin file with `bytes` the way installers do: a temporary file renamed
    /// over it.
    pub fn replace_plugin(&self, file: &str, bytes: &[u8]) {
        let tmp = self.plugin_dir().join(format!(".{file}.tmp"));
        std::fs::write(&tmp, bytes).expect("writing a plugin file");
        std::fs::rename(&tmp, self.plugin_dir().join(file)).expect("renaming a plugin file");
    }

    /// Sets an environment variable for the daemon that holds a credential (`env:`): its
    /// value is registered as a secret, which no output may show.
    pub fn env(&mut self, key: &str, value: &str) {
        secrets::register(&format!("env {key}"), value);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Sets an environment variable for the daemon whose value is no secret (a sub-account
    /// name, a setting): outputs may show it.
    pub fn env_public(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Writes a credential file (for `file:PATH`) in the installation, mode 0600, registers
    /// its content as a secret and returns its path.
    pub fn secret_file(&self, file: &str, value: &str) -> PathBuf {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        secrets::register(&format!("file {file}"), value);
        let path = self.path().join(file);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .unwrap_or_else(|e| panic!("writing the credential file {file}: {e}"));
        f.write_all(value.as_bytes())
            .unwrap_or_else(|e| panic!("writing the credential file {file}: {e}"));
        path
    }
}

impl Default for Setup {
    fn default() -> Self {
        Self::new()
    }
}

/// An integration file for the Binance plugin against a simulator, with the request budget
/// off: these tests check what is stored; pacing has its own test and benchmark.
pub fn binance_integration(sim_url: &str, extra: &str) -> String {
    binance_integration_with(sim_url, "2024-01-01", false, extra)
}

/// An integration file with a chosen history start and budget.
pub fn binance_integration_with(sim_url: &str, start: &str, budget: bool, extra: &str) -> String {
    format!(
        r#"exchange = "binance"
base_url = "{sim_url}"
start = "{start}"
budget = {budget}
[credentials]
api_key = "env:E2E_BINANCE_KEY"
api_secret = "env:E2E_BINANCE_SECRET"
{extra}"#
    )
}

/// The usual streams, on intervals long enough that the scheduler stays out of the way.
pub const ALL_STREAMS: &str = r#"[streams]
balances = "1h"
trades = "1h"
orders = "1h"
deposits = "1h"
withdrawals = "1h"
"#;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `exsyncd`.
pub struct Daemon {
    child: Option<Child>,
    pub socket: PathBuf,
    pub metrics_url: String,
    pub log_path: PathBuf,
}

/// What `exsyncctl` did.
pub struct Ctl {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ctl {
    fn from(output: Output) -> Ctl {
        Ctl {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "ctl printed no JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Daemon {
    /// Starts `exsyncd` and waits for `READY=1` on a fake `NOTIFY_SOCKET`. The metrics port
    /// is one the kernel just handed out and took back: when another test's process took it
    /// meanwhile (the daemon exits with "Address already in use"), it starts again on another.
    pub fn start(setup: &Setup) -> Daemon {
        for _ in 0..5 {
            match Daemon::try_start(setup) {
                Ok(daemon) => return daemon,
                Err(log) if log.contains("Address already in use") => continue,
                Err(log) => {
                    panic!("exsyncd exited before READY=1; its log (secrets redacted):\n{log}")
                }
            }
        }
        panic!("exsyncd found its metrics port taken five times in a row");
    }

    /// One start: the daemon, or what it logged before it exited.
    fn try_start(setup: &Setup) -> Result<Daemon, String> {
        let notify_path = setup
            .path()
            .join(format!("notify-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&notify_path);
        let notify = UnixDatagram::bind(&notify_path).expect("binding the notify socket");
        notify
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let port = free_port();
        let logged_before = std::fs::metadata(setup.log_path()).map_or(0, |m| m.len() as usize);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(setup.log_path())
            .unwrap();
        let mut cmd = Command::new(target_bin("exsyncd"));
        cmd.arg("--config-dir")
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
            .env("RUST_LOG", "info,exsyncd=debug")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null());
        for (k, v) in &setup.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting exsyncd");
        let started = Instant::now();
        let mut buf = [0u8; 256];
        let n = loop {
            match notify.recv(&mut buf) {
                Ok(n) => break n,
                Err(e) => {
                    let log = || {
                        let all = std::fs::read_to_string(setup.log_path()).unwrap_or_default();
                        secrets::redact(all.get(logged_before..).unwrap_or(&all))
                    };
                    if let Ok(Some(_)) = child.try_wait() {
                        let _ = std::fs::remove_file(&notify_path);
                        return Err(log());
                    }
                    if started.elapsed() > TIMEOUT {
                        panic!(
                            "exsyncd did not send READY=1 within {TIMEOUT:?} ({e}); log \
                             (secrets redacted):\n{}",
                            log()
                        );
                    }
                }
            }
        };
        assert!(
            buf[..n].starts_with(b"READY=1"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        let _ = std::fs::remove_file(&notify_path);
        Ok(Daemon {
            child: Some(child),
            socket: setup.socket(),
            metrics_url: format!("http://127.0.0.1:{port}/metrics"),
            log_path: setup.log_path(),
        })
    }

    /// Runs `exsyncctl --socket S ARGS...`.
    pub fn ctl(&self, args: &[&str]) -> Ctl {
        ctl(&self.socket, args)
    }

    /// Runs `exsyncctl --socket S ARGS...` as another user: `as_user`'s uid, primary gid and
    /// supplementary groups (the tests run as root, which may become anyone).
    pub fn ctl_as(&self, as_user: &OtherUser, args: &[&str]) -> Ctl {
        let mut cmd = Command::new(target_bin("exsyncctl"));
        cmd.arg("--socket").arg(&self.socket).args(args);
        as_user.apply(&mut cmd);
        run_ctl(cmd, args)
    }

    /// Runs `exsyncctl --json ...` and expects exit 0.
    pub fn ctl_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ctl(&all);
        assert_eq!(
            out.code, 0,
            "exsyncctl {args:?} failed: {}\n{}",
            out.stdout, out.stderr
        );
        out.json()
    }

    /// `exsyncctl --json sync NAME --wait`, whatever its exit code.
    pub fn sync_wait(&self, name: &str) -> Value {
        self.ctl(&["--json", "sync", name, "--wait"]).json()
    }

    /// `exsyncctl --json records NAME --kind KIND` as an array.
    pub fn records(&self, name: &str, kind: &str) -> Vec<Value> {
        match self.ctl_json(&["records", name, "--kind", kind]) {
            Value::Array(v) => v,
            other => panic!("records is not an array: {other}"),
        }
    }

    /// `exsyncctl --json reload --wait`, whatever its exit code.
    pub fn reload_wait(&self) -> Ctl {
        self.ctl(&["--json", "reload", "--wait"])
    }

    /// Sends SIGHUP (reload).
    pub fn hup(&self) {
        unsafe {
            libc::kill(self.pid() as i32, libc::SIGHUP);
        }
    }

    /// Polls `exsyncctl status` until `check` accepts it; returns it and how long it took.
    /// Each look is [`Daemon::status`]: checked against the integrations built afresh.
    pub fn wait_for_status(
        &self,
        what: &str,
        mut check: impl FnMut(&Value) -> bool,
    ) -> (Value, Duration) {
        let started = Instant::now();
        let status = wait_for(what, || {
            let status = self.status();
            check(&status).then_some(status)
        });
        (status, started.elapsed())
    }

    /// `exsyncctl --json status`, its integrations checked against `exsyncctl --json
    /// integrations`. The daemon keeps each integration's part of the `status` answer encoded
    /// and builds it again only when its inputs changed; `integrations` builds every part
    /// afresh. Asked status, integrations, status: when nothing changed between the two
    /// statuses (they are equal), the integrations between them must be equal too, or a kept
    /// part was stale. When something did change (a sync ran), it asks again.
    pub fn status(&self) -> Value {
        for _ in 0..20 {
            let before = self.ctl_json(&["status"]);
            let fresh = self.ctl_json(&["integrations"]);
            let after = self.ctl_json(&["status"]);
            if before["integrations"] != after["integrations"] {
                continue;
            }
            assert_eq!(
                after["integrations"], fresh["integrations"],
                "status shows a stale integration: status (left) differs from integrations (right)"
            );
            return after;
        }
        // Always changing (syncs every second): unchecked this time.
        self.ctl_json(&["status"])
    }

    /// The value of a metric line (`name{labels}` exactly as exported), if exported.
    pub fn metric(&self, series: &str) -> Option<f64> {
        self.metrics()
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    /// The `/metrics` body, checked for secrets.
    pub fn metrics(&self) -> String {
        let body = http::get(&self.metrics_url).text();
        secrets::check(&format!("the /metrics body of {}", self.metrics_url), &body);
        body
    }

    /// The daemon's log so far, checked for secrets.
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        secrets::check(
            &format!("the exsyncd log {}", self.log_path.display()),
            &log,
        );
        log
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("daemon running");
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = c.try_wait().expect("waiting for exsyncd") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("exsyncd did not stop within {TIMEOUT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    /// Stops the daemon, then checks its whole log for secrets.
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        secrets::check_in_drop(
            &format!(
                "the exsyncd log {} (checked as the daemon stopped)",
                self.log_path.display()
            ),
            &log,
        );
    }
}

/// Runs `exsyncctl --socket S ARGS...` with no daemon assumptions; its output is checked for
/// secrets.
pub fn ctl(socket: &Path, args: &[&str]) -> Ctl {
    let mut cmd = Command::new(target_bin("exsyncctl"));
    cmd.arg("--socket").arg(socket).args(args);
    run_ctl(cmd, args)
}

/// Runs a prepared `exsyncctl` command (another user, another binary path) with stdin closed
/// and checks its output for secrets. `args` name the run in a leak report.
pub fn run_ctl(mut cmd: Command, args: &[&str]) -> Ctl {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("running exsyncctl");
    let ctl = Ctl::from(out);
    secrets::check(
        &format!("the stdout of `exsyncctl {}`", args.join(" ")),
        &ctl.stdout,
    );
    secrets::check(
        &format!("the stderr of `exsyncctl {}`", args.join(" ")),
        &ctl.stderr,
    );
    ctl
}

/// A user other than the one running the tests, to run `exsyncctl` as.
#[derive(Clone, Debug)]
pub struct OtherUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl OtherUser {
    /// Makes `cmd` run as this user: supplementary groups, then gid, then uid, in the child
    /// between fork and exec (std's `CommandExt::groups` is not stable).
    pub fn apply(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        let (uid, gid, groups) = (self.uid, self.gid, self.groups.clone());
        // Safety: the closure only makes async-signal-safe system calls (setgroups, setgid,
        // setuid) on memory allocated before the fork.
        unsafe {
            cmd.pre_exec(move || {
                let ok = libc::setgroups(groups.len(), groups.as_ptr()) == 0
                    && libc::setgid(gid) == 0
                    && libc::setuid(uid) == 0;
                if ok {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
}

/// `n` ids (from 61000 up) that no user and no group of this machine uses, for
/// [`OtherUser`]s and socket groups made up by a test.
pub fn unused_ids(n: usize) -> Vec<u32> {
    let mut used = std::collections::BTreeSet::new();
    for file in ["/etc/passwd", "/etc/group"] {
        for line in std::fs::read_to_string(file).unwrap_or_default().lines() {
            let mut fields = line.split(':');
            if let Some(id) = fields.nth(2).and_then(|f| f.parse::<u32>().ok()) {
                used.insert(id);
            }
            if let Some(id) = fields.next().and_then(|f| f.parse::<u32>().ok()) {
                used.insert(id);
            }
        }
    }
    (61000..).filter(|id| !used.contains(id)).take(n).collect()
}

/// Polls `check` until it returns `Some`, or panics after [`TIMEOUT`].
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The integration called `name` in a `status --json` report.
pub fn integration<'a>(status: &'a Value, name: &str) -> Option<&'a Value> {
    status["integrations"]
        .as_array()?
        .iter()
        .find(|i| i["name"] == name)
}

/// Whether a `status --json` report lists a problem whose subject contains `subject_part`.
pub fn has_problem(status: &Value, subject_part: &str) -> bool {
    status["problems"].as_array().is_some_and(|ps| {
        ps.iter()
            .any(|p| p["subject"].as_str().unwrap_or("").contains(subject_part))
    })
}
