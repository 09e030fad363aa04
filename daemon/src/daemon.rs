//! The daemon's shared state and its lifecycle: start, serve, stop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use exsync_plugin_api::{ErrorKind, Stream};
use exsync_protocol::Problem;
use tokio_util::sync::CancellationToken;

use crate::config::{Overrides, Settings};
use crate::credentials::Vault;
use crate::events::{CredentialTooOld, MasterKeyWrong};
use crate::host::{now_ms, HostShared};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::supervisor::{self, error_info, Topology};
use crate::{control, engine, metrics, notify, plugins, reload, watch};

/// How long SIGTERM waits for pages in flight before giving up (systemd's stop timeout is
/// longer: `TimeoutStopSec=` in the unit).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// The daemon's memory of its streams at one moment: see [`Daemon::live_view`].
pub struct LiveView<'a> {
    running: std::sync::MutexGuard<'a, HashMap<String, Stream>>,
    next_runs: std::sync::MutexGuard<'a, HashMap<String, Vec<(Stream, i64)>>>,
    states: std::sync::MutexGuard<'a, HashMap<String, HashMap<String, crate::store::StreamState>>>,
}

impl LiveView<'_> {
    /// The stream `integration` is syncing now.
    pub fn running(&self, integration: &str) -> Option<Stream> {
        self.running.get(integration).copied()
    }

    /// When `stream` of `integration` is next due, UTC ms.
    pub fn next_run(&self, integration: &str, stream: Stream) -> Option<i64> {
        self.next_runs
            .get(integration)?
            .iter()
            .find(|(s, _)| *s == stream)
            .map(|(_, t)| *t)
    }

    /// The state of a stream, if known (see [`Daemon::load_stream_states`]).
    pub fn stream_state(
        &self,
        integration: &str,
        stream: &str,
    ) -> Option<&crate::store::StreamState> {
        self.states.get(integration)?.get(stream)
    }
}

/// Everything the control server, the engine and the metrics share.
pub struct Daemon {
    pub settings: Settings,
    /// The command line's settings: a reload reads `exsyncd.toml` again under them.
    pub overrides: Overrides,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub shared: Arc<HostShared>,
    pub topology: RwLock<Topology>,
    pub started_ms: i64,
    pub shutdown: CancellationToken,
    pub sync_slots: Arc<tokio::sync::Semaphore>,
    /// Integration → the stream it is syncing now.
    running: Mutex<HashMap<String, Stream>>,
    /// Integration → when each stream is next due.
    next_runs: Mutex<HashMap<String, Vec<(Stream, i64)>>>,
    /// Integration → stream → its state: every state written since the start (even one the
    /// store could not take, on a full disk), and those read from the store once. `exsyncctl
    /// status` and the scheduler read it here: no store read, and never a wait on a page
    /// commit (the lock is not held while the store writes). Nested, so a lookup by `&str`
    /// allocates nothing. A removed integration's entries stay until the daemon restarts (a
    /// few hundred bytes each).
    stream_states: Mutex<HashMap<String, HashMap<String, crate::store::StreamState>>>,
    /// Every plugin code version this process loaded (they all stay mapped).
    pub generations: Mutex<plugins::Generations>,
    /// One reload at a time: the watcher, SIGHUP and `exsyncctl reload` queue here.
    pub reload_lock: tokio::sync::Mutex<()>,
    /// The outcome of the last reload, for `exsyncctl status`.
    pub last_reload: Mutex<Option<exsync_protocol::ReloadReport>>,
    /// The scheduling tasks of every integration started since the start; shutdown waits for
    /// them.
    schedulers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Integrations a reload removed: shutdown also waits for their page in flight.
    stopping: Mutex<Vec<Arc<supervisor::Integration>>>,
    /// The quality report of every candle series, kept after every sync.
    pub candles: Mutex<crate::candles::CandleBook>,
    /// Each integration's encoded part of the last `status` answers.
    pub status_cache: Mutex<crate::control::status::StatusCache>,
}

impl Daemon {
    pub fn set_running(&self, integration: &str, stream: Option<Stream>) {
        {
            let mut r = self.running.lock().expect("running lock");
            match stream {
                Some(s) => r.insert(integration.to_owned(), s),
                None => r.remove(integration),
            };
        }
        self.store.touched(integration);
    }

    pub fn running(&self, integration: &str) -> Option<Stream> {
        self.running
            .lock()
            .expect("running lock")
            .get(integration)
            .copied()
    }

    /// The state of a stream: the last one written, else the stored one.
    pub fn stream_state(&self, integration: &str, stream: &str) -> crate::store::StreamState {
        let known = self
            .stream_states
            .lock()
            .expect("stream states lock")
            .get(integration)
            .and_then(|streams| streams.get(stream))
            .cloned();
        if let Some(state) = known {
            return state;
        }
        // Read without the lock: a write that lands meanwhile wins over what was read.
        let stored = self
            .store
            .stream_state(integration, stream)
            .unwrap_or_default();
        self.stream_states
            .lock()
            .expect("stream states lock")
            .entry(integration.to_owned())
            .or_default()
            .entry(stream.to_owned())
            .or_insert(stored)
            .clone()
    }

    /// Records the state of a stream, then stores it; when the store refuses it (a full
    /// disk), the recorded state stands in for it until a later write succeeds.
    pub fn set_stream_state(
        &self,
        integration: &str,
        stream: &str,
        state: &crate::store::StreamState,
    ) {
        self.stream_states
            .lock()
            .expect("stream states lock")
            .entry(integration.to_owned())
            .or_default()
            .insert(stream.to_owned(), state.clone());
        if let Err(e) = self.store.set_stream_state(integration, stream, state) {
            tracing::error!(error = %e, "Could not record the stream state.");
        }
    }

    /// Reads from the store, once, the state of each of `wanted` (integration, stream) not
    /// known here yet, so that a [`LiveView`] taken next knows them all.
    pub fn load_stream_states<'a>(&self, wanted: impl Iterator<Item = (&'a str, &'a str)>) {
        let missing: Vec<(String, String)> = {
            let states = self.stream_states.lock().expect("stream states lock");
            wanted
                .filter(|(i, s)| states.get(*i).and_then(|m| m.get(*s)).is_none())
                .map(|(i, s)| (i.to_owned(), s.to_owned()))
                .collect()
        };
        for (integration, stream) in missing {
            self.stream_state(&integration, &stream);
        }
    }

    /// The running streams, next runs and stream states at one moment, each lock taken once
    /// (`status` of a thousand integrations took three locks per stream, and contended with
    /// every sync). Hold it only while building an answer: a sync task that records a state
    /// waits for it. Taken in one order (running, next runs, states); nothing else holds two
    /// of these locks at once.
    pub fn live_view(&self) -> LiveView<'_> {
        LiveView {
            running: self.running.lock().expect("running lock"),
            next_runs: self.next_runs.lock().expect("next runs lock"),
            states: self.stream_states.lock().expect("stream states lock"),
        }
    }

    pub fn set_next_runs(&self, integration: &str, due: Vec<(Stream, i64)>) {
        self.next_runs
            .lock()
            .expect("next runs lock")
            .insert(integration.to_owned(), due);
        self.store.touched(integration);
    }

    pub fn next_run(&self, integration: &str, stream: Stream) -> Option<i64> {
        let runs = self.next_runs.lock().expect("next runs lock");
        runs.get(integration)?
            .iter()
            .find(|(s, _)| *s == stream)
            .map(|(_, t)| *t)
    }

    /// The one-line summary systemd shows (`STATUS=`) in `systemctl status exsyncd`.
    pub fn status_line(&self) -> String {
        let (total, broken, problems) = {
            let topo = self.topology.read().expect("topology lock");
            (
                topo.integrations.len(),
                topo.broken(),
                topo.all_problems().len(),
            )
        };
        let syncing = self.running.lock().expect("running lock").len();
        let mut line = format!(
            "{} of {total} integration{} ready, {syncing} syncing",
            total - broken,
            if total == 1 { "" } else { "s" }
        );
        if problems > 0 {
            line.push_str(&format!(
                "; {problems} problem{} (exsyncctl status)",
                if problems == 1 { "" } else { "s" }
            ));
        }
        line
    }

    pub fn problems(&self) -> Vec<Problem> {
        self.topology.read().expect("topology lock").all_problems()
    }

    /// Starts the scheduling loop of an integration.
    pub fn start_scheduler(self: &Arc<Self>, it: Arc<supervisor::Integration>) {
        let task = tokio::spawn(engine::schedule(self.clone(), it));
        let mut tasks = self.schedulers.lock().expect("schedulers lock");
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Keeps a removed integration until its page in flight is committed.
    pub fn stopping(&self, it: Arc<supervisor::Integration>) {
        let mut stopping = self.stopping.lock().expect("stopping lock");
        stopping.retain(|i| i.sync_lock.try_lock().is_err());
        stopping.push(it);
    }

    /// Sets the credential age gauges; warns about credentials not yet warned about that are
    /// older than `credential_max_age`.
    pub fn update_credential_ages(&self, warned: &mut std::collections::HashSet<(String, i64)>) {
        let now = now_ms();
        let max_age = self.settings.credential_max_age;
        for (integration, set_ms) in self.shared.vault.stamps() {
            let age = Duration::from_millis(now.saturating_sub(set_ms).max(0) as u64);
            self.metrics
                .credential_age
                .with_label_values(&[&integration])
                .set(age.as_secs() as i64);
            if age > max_age && warned.insert((integration.clone(), set_ms)) {
                CredentialTooOld {
                    integration: &integration,
                    age,
                    max_age,
                }
                .emit();
            }
        }
    }

    /// Sets the gauges that describe the whole topology.
    pub fn update_gauges(&self) {
        let topo = self.topology.read().expect("topology lock");
        let m = &self.metrics;
        m.plugins_loaded
            .set(topo.plugins.iter().filter(|p| p.library.is_some()).count() as i64);
        m.plugin_generations.set(
            self.generations
                .lock()
                .expect("generations lock")
                .resident() as i64,
        );
        let problems = topo.all_problems();
        m.config_problems.set(problems.len() as i64);
        m.plugins_refused.set(
            problems
                .iter()
                .filter(|p| p.subject.starts_with("plugin "))
                .count() as i64,
        );
        let broken = topo.broken() as i64;
        m.integrations.with_label_values(&["broken"]).set(broken);
        m.integrations
            .with_label_values(&["ready"])
            .set(topo.integrations.len() as i64 - broken);
        // Rebuilt whole: a removed integration or stream leaves no stale interval behind.
        m.sync_interval.reset();
        for it in topo.integrations.values() {
            for (stream, every) in &it.streams {
                m.sync_interval
                    .with_label_values(&[it.name(), it.exchange(), stream.as_str()])
                    .set(every.as_secs_f64());
            }
        }
    }
}

/// How often the credential age gauge is refreshed. Ages are counted in days; a minute is
/// plenty, and cheap (one small read transaction).
const CREDENTIAL_AGE_REFRESH: Duration = Duration::from_secs(60);

/// Keeps `exsync_credential_age_seconds` current and warns once per integration (per process)
/// when stored credentials pass `credential_max_age`.
/// `warned` holds what the first update, made before `READY=1`, already warned about.
async fn watch_credential_ages(
    daemon: Arc<Daemon>,
    mut warned: std::collections::HashSet<(String, i64)>,
) {
    loop {
        tokio::time::sleep(CREDENTIAL_AGE_REFRESH).await;
        daemon.update_credential_ages(&mut warned);
    }
}

/// Sends `READY=1`, `STOPPING=1`... when started by systemd.
fn notify(state: &str) {
    if let Err(e) = notify::notify(state) {
        tracing::warn!(error = %e, "Could not notify the service manager.");
    }
}

/// Keeps systemd informed while the daemon runs: `STATUS=` when the summary changes, and
/// `WATCHDOG=1` at half of `WatchdogSec=` when the unit sets one. The ping comes from the
/// runtime that runs everything else, after taking the locks the control server and the
/// engine take: a wedged runtime or a stuck lock stops it, and systemd restarts the service.
async fn tell_service_manager(daemon: Arc<Daemon>) {
    let watchdog = notify::watchdog_ping_interval();
    let every = watchdog
        .unwrap_or(Duration::from_secs(5))
        .min(Duration::from_secs(5));
    let mut last = daemon.status_line();
    let mut warned = false;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let line = daemon.status_line();
        let mut message = Vec::new();
        if watchdog.is_some() {
            message.push("WATCHDOG=1".to_owned());
        }
        if line != last {
            message.push(format!("STATUS={line}"));
            last = line;
        }
        if !message.is_empty() {
            if let Err(e) = notify::notify(&message.join("\n")) {
                if !warned {
                    tracing::warn!(error = %e, "Could not notify the service manager (said once; later failures are silent).");
                    warned = true;
                }
            }
        }
    }
}

/// Runs the daemon until SIGTERM or SIGINT; SIGHUP reloads configuration and plugins.
/// `overrides` are the flags `settings` were loaded with (a reload applies them again).
pub async fn run(settings: Settings, overrides: Overrides) -> anyhow::Result<()> {
    // Before anything can tell the world we are here (the control socket, READY=1): a SIGHUP
    // that arrives early must reload, not kill the daemon with the default action.
    let signals = Signals::install().context("Failed to install the signal handlers")?;
    std::fs::create_dir_all(&settings.state_dir).with_context(|| {
        format!(
            "Failed to create the state directory {}",
            settings.state_dir.display()
        )
    })?;
    let store_path = settings.state_dir.join("exsync.redb");
    let store = Arc::new(
        Store::open(&store_path)
            .with_context(|| format!("Failed to open the store {}", store_path.display()))?,
    );
    // A key file others may read, or stored credentials without a key, stop the start here.
    // A wrong key does not: the daemon then runs everything that needs no stored secret.
    let vault = Arc::new(
        Vault::open(store.clone(), settings.key_file.as_deref())
            .context("Failed to open the credential vault")?,
    );
    if vault.key_is_wrong() {
        let message = vault.unusable().unwrap_or_default();
        MasterKeyWrong { message: &message }.emit();
    }
    let metrics = Arc::new(Metrics::new());
    metrics
        .build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION"), exsync_plugin_api::API_VERSION])
        .set(1);
    let shared = Arc::new(
        HostShared::new(
            tokio::runtime::Handle::current(),
            metrics.clone(),
            store.clone(),
            vault,
        )
        .with_http(settings.http),
    );

    // Plugins, then integrations: load failures become problems, never a failed start.
    let mut generations = plugins::Generations::default();
    let copies = settings.state_dir.join("plugins");
    let mut problems = Vec::new();
    let plugin_entries = match plugins::load_dir(
        &settings.plugin_dir,
        Some(&copies),
        &mut generations,
        &metrics,
    ) {
        Ok(p) => p,
        Err(message) => {
            tracing::error!("{message}");
            problems.push(Problem {
                subject: settings.plugin_dir.display().to_string(),
                error: error_info(ErrorKind::PLUGIN, message),
            });
            Vec::new()
        }
    };
    problems.extend(supervisor::plugin_problems(&plugin_entries));
    let (mut configs, config_problems) =
        supervisor::load_integrations(&settings.integrations_dir());
    problems.extend(config_problems);
    let (datasources, datasource_problems) =
        supervisor::load_datasources(&settings.datasources_dir());
    configs.extend(datasources);
    problems.extend(datasource_problems);
    let mut integrations = std::collections::BTreeMap::new();
    let shutdown = CancellationToken::new();
    for cfg in configs {
        let it =
            supervisor::build_integration(cfg, &plugin_entries, &shared, shutdown.child_token());
        integrations.insert(it.name().to_owned(), Arc::new(it));
    }

    let metrics_listener = metrics::bind(settings.metrics_listen)
        .await
        .with_context(|| {
            format!(
                "Failed to listen for metrics on {}",
                settings.metrics_listen
            )
        })?;
    let control_listener = control::bind(&settings.socket).with_context(|| {
        format!(
            "Failed to listen on the control socket {}",
            settings.socket.display()
        )
    })?;
    let access = control::access::apply_socket_group(&settings.socket, &settings.socket_group);

    let daemon = Arc::new(Daemon {
        sync_slots: Arc::new(tokio::sync::Semaphore::new(settings.max_concurrent_syncs)),
        settings,
        overrides,
        store,
        metrics: metrics.clone(),
        shared,
        topology: RwLock::new(Topology {
            plugins: plugin_entries,
            integrations,
            problems,
        }),
        started_ms: now_ms(),
        shutdown,
        running: Mutex::new(HashMap::new()),
        next_runs: Mutex::new(HashMap::new()),
        stream_states: Mutex::new(HashMap::new()),
        generations: Mutex::new(generations),
        reload_lock: tokio::sync::Mutex::new(()),
        last_reload: Mutex::new(None),
        schedulers: Mutex::new(Vec::new()),
        stopping: Mutex::new(Vec::new()),
        candles: Mutex::new(crate::candles::CandleBook::default()),
        status_cache: Mutex::new(Default::default()),
    });
    daemon.update_gauges();
    // Before any sync: the last quality reports and their gauges, as the store kept them.
    crate::quality_kept::restore(&daemon);

    let metrics_task = tokio::spawn(metrics::serve(metrics_listener, metrics.clone()));
    let control_task = tokio::spawn(control::serve(control_listener, daemon.clone(), access));
    let integrations: Vec<_> = daemon
        .topology
        .read()
        .expect("topology lock")
        .integrations
        .values()
        .cloned()
        .collect();
    for it in integrations {
        daemon.start_scheduler(it);
    }
    let watch_task = watch::spawn(daemon.clone());
    // Exported before READY=1: a scrape right after the start sees every credential's age.
    let mut warned = std::collections::HashSet::new();
    daemon.update_credential_ages(&mut warned);
    let age_task = tokio::spawn(watch_credential_ages(daemon.clone(), warned));

    let count = daemon
        .topology
        .read()
        .expect("topology lock")
        .integrations
        .len();
    tracing::info!(
        integrations = count,
        socket = %daemon.settings.socket.display(),
        metrics = %daemon.settings.metrics_listen,
        "exsyncd ready."
    );
    notify(&format!("READY=1\nSTATUS={}", daemon.status_line()));
    let service_task = tokio::spawn(tell_service_manager(daemon.clone()));

    signals.wait(&daemon).await;
    tracing::info!("Stopping: finishing the pages in flight.");
    service_task.abort();
    notify("STOPPING=1\nSTATUS=stopping: finishing the pages in flight");
    daemon.shutdown.cancel();
    if let Some(task) = watch_task {
        task.abort();
    }
    // Wait for a reload in progress, so no scheduler starts after this point.
    let reloading = daemon.reload_lock.lock().await;
    // Running syncs hold their integration's lock until their page is committed.
    let drain = async {
        let schedulers = std::mem::take(&mut *daemon.schedulers.lock().expect("schedulers lock"));
        for s in schedulers {
            let _ = s.await;
        }
        let mut integrations: Vec<_> = daemon
            .topology
            .read()
            .expect("topology lock")
            .integrations
            .values()
            .cloned()
            .collect();
        integrations.extend(daemon.stopping.lock().expect("stopping lock").drain(..));
        for it in integrations {
            let _ = it.sync_lock.lock().await;
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!("Pages still in flight after the grace period; stopping anyway.");
    }
    drop(reloading);
    control_task.abort();
    metrics_task.abort();
    age_task.abort();
    let _ = std::fs::remove_file(&daemon.settings.socket);
    tracing::info!("exsyncd stopped.");
    Ok(())
}

/// The signals exsyncd answers: SIGTERM and SIGINT stop it, SIGHUP reloads.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; from here on none of these signals has its default action.
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for SIGTERM or SIGINT; reloads on each SIGHUP meanwhile (one received before
    /// this is called is not lost: it reloads first).
    async fn wait(mut self, daemon: &Arc<Daemon>) {
        loop {
            tokio::select! {
                _ = self.term.recv() => return,
                _ = self.int.recv() => return,
                _ = self.hup.recv() => {
                    tracing::info!("SIGHUP: reloading configuration and plugins.");
                    let daemon = daemon.clone();
                    tokio::spawn(async move { reload::reload(&daemon, "signal").await });
                }
            }
        }
    }
}
