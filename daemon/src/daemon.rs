//! The daemon's shared state and its lifecycle: start, serve, stop.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use exsync_plugin_api::{ErrorKind, Stream};
use exsync_protocol::Problem;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::host::{now_ms, HostShared};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::supervisor::{self, error_info, Topology};
use crate::{control, engine, metrics, notify, plugins};

/// How long SIGTERM waits for pages in flight before giving up (systemd's stop timeout is
/// longer: `TimeoutStopSec=` in the unit).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// Everything the control server, the engine and the metrics share.
pub struct Daemon {
    pub settings: Settings,
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
}

impl Daemon {
    pub fn set_running(&self, integration: &str, stream: Option<Stream>) {
        let mut r = self.running.lock().expect("running lock");
        match stream {
            Some(s) => r.insert(integration.to_owned(), s),
            None => r.remove(integration),
        };
    }

    pub fn running(&self, integration: &str) -> Option<Stream> {
        self.running
            .lock()
            .expect("running lock")
            .get(integration)
            .copied()
    }

    pub fn set_next_runs(&self, integration: &str, due: Vec<(Stream, i64)>) {
        self.next_runs
            .lock()
            .expect("next runs lock")
            .insert(integration.to_owned(), due);
    }

    pub fn next_run(&self, integration: &str, stream: Stream) -> Option<i64> {
        let runs = self.next_runs.lock().expect("next runs lock");
        runs.get(integration)?
            .iter()
            .find(|(s, _)| *s == stream)
            .map(|(_, t)| *t)
    }

    pub fn problems(&self) -> Vec<Problem> {
        self.topology.read().expect("topology lock").all_problems()
    }

    fn update_gauges(&self) {
        let topo = self.topology.read().expect("topology lock");
        let m = &self.metrics;
        m.config_problems.set(topo.all_problems().len() as i64);
        let broken = topo
            .integrations
            .values()
            .filter(|i| i.error.is_some())
            .count() as i64;
        m.integrations.with_label_values(&["broken"]).set(broken);
        m.integrations
            .with_label_values(&["ready"])
            .set(topo.integrations.len() as i64 - broken);
    }
}

/// Sends `READY=1`, `STOPPING=1`... when started by systemd.
fn notify(state: &str) {
    if let Err(e) = notify::notify(state) {
        tracing::warn!(error = %e, "Could not notify the service manager.");
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
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
    let metrics = Arc::new(Metrics::new());
    metrics
        .build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION"), exsync_plugin_api::API_VERSION])
        .set(1);
    let shared = Arc::new(HostShared::new(
        tokio::runtime::Handle::current(),
        metrics.clone(),
        store.clone(),
    ));

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
    let (configs, config_problems) = supervisor::load_integrations(&settings.integrations_dir());
    problems.extend(config_problems);
    let mut integrations = std::collections::BTreeMap::new();
    for cfg in configs {
        let it = supervisor::build_integration(cfg, &plugin_entries, &shared);
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

    let daemon = Arc::new(Daemon {
        sync_slots: Arc::new(tokio::sync::Semaphore::new(settings.max_concurrent_syncs)),
        settings,
        store,
        metrics: metrics.clone(),
        shared,
        topology: RwLock::new(Topology {
            plugins: plugin_entries,
            integrations,
            problems,
        }),
        started_ms: now_ms(),
        shutdown: CancellationToken::new(),
        running: Mutex::new(HashMap::new()),
        next_runs: Mutex::new(HashMap::new()),
    });
    daemon.update_gauges();

    let metrics_task = tokio::spawn(metrics::serve(metrics_listener, metrics.clone()));
    let control_task = tokio::spawn(control::serve(control_listener, daemon.clone()));
    let mut schedulers = Vec::new();
    for it in daemon
        .topology
        .read()
        .expect("topology lock")
        .integrations
        .values()
    {
        schedulers.push(tokio::spawn(engine::schedule(daemon.clone(), it.clone())));
    }

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
    notify("READY=1");

    wait_for_signal().await;
    tracing::info!("Stopping: finishing the pages in flight.");
    notify("STOPPING=1");
    daemon.shutdown.cancel();
    // Running syncs hold their integration's lock until their page is committed.
    let drain = async {
        for s in schedulers {
            let _ = s.await;
        }
        let integrations: Vec<_> = daemon
            .topology
            .read()
            .expect("topology lock")
            .integrations
            .values()
            .cloned()
            .collect();
        for it in integrations {
            let _ = it.sync_lock.lock().await;
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!("Pages still in flight after the grace period; stopping anyway.");
    }
    if let Err(e) = daemon.store.flush() {
        tracing::error!(error = %e, "Could not flush the store at shutdown; the last second of pages will be fetched again.");
    }
    control_task.abort();
    metrics_task.abort();
    let _ = std::fs::remove_file(&daemon.settings.socket);
    tracing::info!("exsyncd stopped.");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
