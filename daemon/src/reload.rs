//! Reloads configuration and plugins while the daemon runs, the way Vector reloads its
//! topology: validate, diff, change only what changed, keep the running version of whatever
//! is refused.
//!
//! One reload reads everything again: `exsyncd.toml`, the plugin directory and every
//! integration file. The [`plan`] is made on the blocking pool and touches nothing that runs:
//! it loads new and replaced plugin files (from new content-addressed copies), parses every
//! integration file, and builds the connector of each new or changed integration. Only then
//! does [`apply`] swap the topology:
//!
//! - an added integration starts;
//! - a removed one is cancelled: its page in flight is committed, then it stops;
//! - a changed one (new settings, or a new build of its plugin) is cancelled the same way and
//!   its new instance starts on the same sync lock, so it begins only after that page, from
//!   the stored cursors;
//! - an unchanged one is not touched: its sync in flight continues;
//! - a file that does not parse, or whose integration cannot be built (unknown exchange, a
//!   stream or credential the plugin does not take, a credential that does not resolve, a
//!   connector that refuses the settings), changes nothing: the running version stays and
//!   the reason is in the report, the log, `exsyncctl status` and the metrics;
//! - a replaced plugin file that does not load leaves the old build serving; a removed one
//!   stops its integrations;
//! - settings of `exsyncd.toml` that only a start applies (paths, socket, metrics address,
//!   concurrency, log filter) are reported as "restart required" and not applied.
//!
//! What it leaves to others: watching the directories ([`crate::watch`]), SIGHUP
//! ([`crate::daemon`]) and `exsyncctl reload` ([`crate::control`]) all call [`reload`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use exsync_plugin_api::ErrorKind;
use exsync_protocol::{Problem, ReloadReport};

use crate::config::{self, IntegrationConfig, Settings};
use crate::daemon::Daemon;
use crate::events::{
    ConfigReloadFailed, ConfigReloaded, IntegrationReloaded, IntegrationStopped, PluginRemoved,
    PluginReplaced, RestartRequired,
};
use crate::host::now_ms;
use crate::plugins::{self, PluginEntry};
use crate::supervisor::{self, error_info, Integration};

/// What a reload will do, decided before anything running is touched.
struct Plan {
    report: ReloadReport,
    plugins: Vec<PluginEntry>,
    /// The integrations of the new topology: kept ones and new instances.
    integrations: BTreeMap<String, Arc<Integration>>,
    /// New instances to start (added and changed).
    start: Vec<Arc<Integration>>,
    /// Running instances to stop (removed and changed).
    stop: Vec<(Arc<Integration>, bool)>,
    /// Problems of the new topology that belong to no integration.
    problems: Vec<Problem>,
}

/// Reloads configuration and plugins now and returns what happened. Reloads run one at a
/// time; `trigger` says who asked (`watch`, `signal`, `ctl`). A reload the daemon starts by
/// itself (`watch`, `signal`) is written to the audit log here, with the daemon as who;
/// the control server audits the ones `exsyncctl reload` asks for.
pub async fn reload(daemon: &Arc<Daemon>, trigger: &str) -> ReloadReport {
    let report = reload_now(daemon, trigger).await;
    if trigger != "ctl" {
        let (result, message) = if report.failed() {
            let refused: Vec<&str> = report.errors.iter().map(|p| p.subject.as_str()).collect();
            ("failed", Some(format!("refused: {}", refused.join(", "))))
        } else {
            ("ok", None)
        };
        let entry = crate::audit::own_entry(trigger, "reload", result, message);
        crate::audit::record(daemon.store.clone(), &daemon.metrics, entry).await;
    }
    report
}

async fn reload_now(daemon: &Arc<Daemon>, trigger: &str) -> ReloadReport {
    let _one_at_a_time = daemon.reload_lock.lock().await;
    let started = Instant::now();
    if daemon.shutdown.is_cancelled() {
        let mut report = ReloadReport {
            result: "failed".into(),
            trigger: trigger.to_owned(),
            ..Default::default()
        };
        report.errors.push(Problem {
            subject: "reload".into(),
            error: exsync_protocol::ErrorInfo::new("busy", "the daemon is shutting down"),
        });
        return report;
    }
    let planner = daemon.clone();
    let planned = tokio::task::spawn_blocking(move || plan(&planner)).await;
    let mut plan = match planned {
        Ok(p) => p,
        Err(e) => {
            // A panic while planning touched nothing that runs.
            let mut report = ReloadReport {
                result: "failed".into(),
                trigger: trigger.to_owned(),
                at_ms: now_ms(),
                ..Default::default()
            };
            report.errors.push(Problem {
                subject: "reload".into(),
                error: error_info(
                    ErrorKind::PLUGIN,
                    format!("while planning the reload: the task failed: {e}"),
                ),
            });
            ConfigReloadFailed { report: &report }.emit(&daemon.metrics);
            *daemon.last_reload.lock().expect("last reload lock") = Some(report.clone());
            return report;
        }
    };
    plan.report.trigger = trigger.to_owned();
    let mut report = apply(daemon, plan);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.at_ms = now_ms();
    if report.errors.is_empty() {
        report.result = "ok".into();
        ConfigReloaded { report: &report }.emit(&daemon.metrics);
    } else {
        report.result = "failed".into();
        ConfigReloadFailed { report: &report }.emit(&daemon.metrics);
    }
    *daemon.last_reload.lock().expect("last reload lock") = Some(report.clone());
    report
}

/// Swaps the planned topology in, stops what goes and starts what comes.
fn apply(daemon: &Arc<Daemon>, plan: Plan) -> ReloadReport {
    {
        let mut topo = daemon.topology.write().expect("topology lock");
        topo.plugins = plan.plugins;
        topo.integrations = plan.integrations;
        topo.problems = plan.problems;
    }
    for (old, removed) in plan.stop {
        old.stop.cancel();
        if removed {
            IntegrationReloaded {
                integration: old.name(),
                action: "stopping",
            }
            .emit(&daemon.metrics);
            daemon.stopping(old.clone());
            let metrics = daemon.metrics.clone();
            tokio::spawn(async move {
                let _last_page = old.sync_lock.lock().await;
                IntegrationStopped {
                    integration: old.name(),
                }
                .emit(&metrics);
            });
        }
    }
    for it in plan.start {
        daemon.start_scheduler(it);
    }
    daemon.update_gauges();
    plan.report
}

/// Reads configuration and plugins and decides what changes. Touches nothing that runs.
fn plan(daemon: &Arc<Daemon>) -> Plan {
    let mut report = ReloadReport::default();
    let mut problems = Vec::new();
    let (old_plugins, old_integrations) = {
        let topo = daemon.topology.read().expect("topology lock");
        (topo.plugins.clone(), topo.integrations.clone())
    };

    // 1. exsyncd.toml: only what a start applies can change there.
    let settings_file = daemon.settings.config_dir.join("exsyncd.toml");
    match Settings::load(&daemon.settings.config_dir, daemon.overrides.clone()) {
        Ok(new) => {
            for setting in restart_required(&daemon.settings, &new) {
                RestartRequired { setting: &setting }.emit(&daemon.metrics);
                problems.push(Problem {
                    subject: settings_file.display().to_string(),
                    error: error_info(
                        ErrorKind::CONFIG,
                        format!("{setting}: changed; restart required to apply it"),
                    )
                    .with_hint("restart exsyncd (systemctl restart exsyncd) to apply it"),
                });
                report.restart_required.push(setting);
            }
        }
        Err(e) => {
            let problem = Problem {
                subject: e.file.clone(),
                error: error_info(
                    ErrorKind::CONFIG,
                    format!("not applied, the running settings stay: {}", e.message),
                ),
            };
            problems.push(problem.clone());
            report.errors.push(problem);
        }
    }

    // 2. Plugins.
    let plugins = plan_plugins(daemon, &old_plugins, &mut report, &mut problems);
    let removed_ids: BTreeSet<String> = old_plugins
        .iter()
        .filter(|p| p.library.is_some())
        .filter_map(|p| p.info.id.clone())
        .filter(|id| supervisor::plugin_for(&plugins, id).is_none())
        .collect();

    // 3. Integrations.
    let dir = daemon.settings.integrations_dir();
    let mut parsed: BTreeMap<String, Result<IntegrationConfig, Problem>> = BTreeMap::new();
    match config::integration_files(&dir) {
        Ok(files) => {
            for file in files {
                let name = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let result = config::load_integration(&file).map_err(|e| Problem {
                    subject: e.file.clone(),
                    error: error_info(ErrorKind::CONFIG, e.message),
                });
                parsed.insert(name, result);
            }
        }
        Err(e) => {
            // Nothing is known about the files: keep every integration as it runs.
            let problem = Problem {
                subject: e.file.clone(),
                error: error_info(
                    ErrorKind::CONFIG,
                    format!(
                        "not applied, every integration keeps running: {}",
                        e.message
                    ),
                ),
            };
            problems.push(problem.clone());
            report.errors.push(problem);
            report.unchanged = old_integrations.keys().cloned().collect();
            problems.extend(supervisor::plugin_problems(&plugins));
            return Plan {
                report,
                plugins,
                integrations: old_integrations,
                start: Vec::new(),
                stop: Vec::new(),
                problems,
            };
        }
    }

    // 4. Data sources: integrations named `data:NAME`, diffed the same way.
    let datasources_dir = daemon.settings.datasources_dir();
    match config::integration_files(&datasources_dir) {
        Ok(files) => {
            for file in files {
                let stem = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                let name = format!("{}{stem}", config::DATASOURCE_PREFIX);
                let result = config::load_datasource(&file).map_err(|e| Problem {
                    subject: e.file.clone(),
                    error: error_info(ErrorKind::CONFIG, e.message),
                });
                parsed.insert(name, result);
            }
        }
        Err(e) => {
            // Nothing is known about the data sources: keep every one as it runs.
            let problem = Problem {
                subject: e.file.clone(),
                error: error_info(
                    ErrorKind::CONFIG,
                    format!(
                        "not applied, every data source keeps running: {}",
                        e.message
                    ),
                ),
            };
            problems.push(problem.clone());
            report.errors.push(problem);
            for (name, old) in &old_integrations {
                if name.starts_with(config::DATASOURCE_PREFIX) {
                    parsed.insert(name.clone(), Ok(old.config.clone()));
                }
            }
        }
    }

    let mut integrations = BTreeMap::new();
    let mut start = Vec::new();
    let mut stop = Vec::new();
    for (name, old) in &old_integrations {
        if !parsed.contains_key(name) {
            report.removed.push(name.clone());
            stop.push((old.clone(), true));
        }
    }
    for (name, result) in parsed {
        let old = old_integrations.get(&name);
        let cfg = match result {
            Ok(cfg) => cfg,
            Err(problem) => {
                refuse(&name, old, problem, &mut report, &mut problems);
                if let Some(old) = old {
                    integrations.insert(name, old.clone());
                }
                continue;
            }
        };
        let plugin_sha =
            supervisor::plugin_for(&plugins, &cfg.exchange).map(|p| p.info.sha256.clone());
        if let Some(old) = old {
            // Stored credentials that were set or rotated since it started restart it too.
            let stamp = if cfg.credentials_in_store {
                daemon.shared.vault.stamp(&name)
            } else {
                None
            };
            if old.config == cfg
                && old.error.is_none()
                && old.plugin_sha == plugin_sha
                && old.credential_stamp == stamp
                && old.file_stamp == config::file_credentials_digest(&cfg)
                // An instance abandoned inside a hung plugin call is replaced by a new one.
                && !old.plugin_hung.load(std::sync::atomic::Ordering::Acquire)
            {
                report.unchanged.push(name.clone());
                integrations.insert(name, old.clone());
                continue;
            }
        }
        let mut new = supervisor::prepare_integration(
            cfg,
            &plugins,
            &daemon.shared,
            daemon.shutdown.child_token(),
        );
        if let (Some(o), Some(e)) = (old, &new.error) {
            let same =
                o.config == new.config && o.error.as_ref().is_some_and(|x| x.message == e.message);
            if same {
                // Broken before, broken now for the same reason: nothing to say again.
                report.unchanged.push(name.clone());
                integrations.insert(name, o.clone());
                continue;
            }
        }
        let old_works = old.is_some_and(|o| o.error.is_none());
        let plugin_gone = removed_ids.contains(&new.config.exchange);
        if let Some(e) = &new.error {
            if old_works && !plugin_gone {
                let problem = Problem {
                    subject: new.config.file.display().to_string(),
                    error: e.clone(),
                };
                refuse(&name, old, problem, &mut report, &mut problems);
                integrations.insert(name, old.expect("old works").clone());
                continue;
            }
            if old.is_none() {
                let problem = Problem {
                    subject: new.config.file.display().to_string(),
                    error: e.clone(),
                };
                refuse(&name, None, problem, &mut report, &mut problems);
                continue;
            }
            // A broken integration stays broken (with today's reason), and one whose plugin
            // left the plugin directory stops: that is what the operator asked for.
        }
        if let Some(old) = old {
            new.sync_lock = old.sync_lock.clone();
            stop.push((old.clone(), false));
            report.changed.push(name.clone());
        } else {
            report.added.push(name.clone());
        }
        let new = Arc::new(new);
        if new.error.is_none() {
            IntegrationReloaded {
                integration: &name,
                action: if old.is_some() {
                    "restarted"
                } else {
                    "started"
                },
            }
            .emit(&daemon.metrics);
        } else if let Some(e) = &new.error {
            crate::events::IntegrationBroken {
                integration: &name,
                kind: &e.kind,
                message: &e.message,
            }
            .emit(&daemon.metrics);
        }
        start.push(new.clone());
        integrations.insert(name, new);
    }
    problems.extend(supervisor::plugin_problems(&plugins));
    Plan {
        report,
        plugins,
        integrations,
        start,
        stop,
        problems,
    }
}

/// Records a refused integration file: the running version (if any) stays.
fn refuse(
    name: &str,
    old: Option<&Arc<Integration>>,
    mut problem: Problem,
    report: &mut ReloadReport,
    problems: &mut Vec<Problem>,
) {
    if old.is_some_and(|o| o.error.is_none()) {
        problem.error.message = format!(
            "change not applied, integration {name} keeps running with its previous settings: {}",
            problem.error.message
        );
    } else {
        problem.error.message = format!("not applied: {}", problem.error.message);
    }
    problems.push(problem.clone());
    report.errors.push(problem);
    if old.is_some() {
        report.unchanged.push(name.to_owned());
    }
}

/// The plugin directory again: unchanged files keep their loaded code, new and replaced
/// files are loaded from new copies, a replacement that fails to load keeps the old build.
fn plan_plugins(
    daemon: &Daemon,
    old: &[PluginEntry],
    report: &mut ReloadReport,
    problems: &mut Vec<Problem>,
) -> Vec<PluginEntry> {
    let dir = &daemon.settings.plugin_dir;
    let files = match plugins::plugin_files(dir) {
        Ok(f) => f,
        Err(e) => {
            let problem = Problem {
                subject: dir.display().to_string(),
                error: error_info(
                    ErrorKind::PLUGIN,
                    format!("cannot list the plugin directory, every plugin stays as loaded: {e}"),
                ),
            };
            problems.push(problem.clone());
            report.errors.push(problem);
            return old.to_vec();
        }
    };
    let copies = daemon.settings.state_dir.join("plugins");
    let shown = |f: &PathBuf| f.display().to_string();
    let mut entries: Vec<PluginEntry> = Vec::new();
    for file in &files {
        let previous = old.iter().find(|p| p.info.file == shown(file));
        if let Some(p) = previous {
            let same_stamp = p.stamp.is_some() && p.stamp == plugins::FileStamp::of(file);
            if same_stamp {
                entries.push(p.clone());
                continue;
            }
            let sha = plugins::file_sha256(file).unwrap_or_default();
            if !sha.is_empty() && p.info.sha256 == sha {
                entries.push(p.clone());
                continue;
            }
        }
        let entry = {
            let mut generations = daemon.generations.lock().expect("generations lock");
            plugins::load_file(file, Some(&copies), &mut generations, &daemon.metrics)
        };
        match (previous, entry.library.is_some()) {
            (Some(p), false) if p.library.is_some() => {
                // The new build is refused: the old one keeps serving.
                let why = entry
                    .info
                    .error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                let problem = Problem {
                    subject: format!("plugin {}", p.info.file),
                    error: error_info(
                        ErrorKind::PLUGIN,
                        format!(
                            "the new build was refused, version {} (generation {}) keeps serving: {why}",
                            p.info.version.as_deref().unwrap_or("?"),
                            p.info.generation
                        ),
                    ),
                };
                problems.push(problem.clone());
                report.errors.push(problem);
                entries.push(p.clone());
            }
            (Some(p), true) if p.library.is_some() => {
                PluginReplaced {
                    file: &entry.info.file,
                    id: entry.info.id.as_deref().unwrap_or_default(),
                    old_version: p.info.version.as_deref().unwrap_or_default(),
                    version: entry.info.version.as_deref().unwrap_or_default(),
                    generation: entry.info.generation,
                }
                .emit(&daemon.metrics);
                report.plugins_replaced.push(entry.info.file.clone());
                entries.push(entry);
            }
            (_, loaded) => {
                if loaded {
                    report.plugins_added.push(entry.info.file.clone());
                } else if previous.is_none_or(|p| p.info.sha256 != entry.info.sha256) {
                    // A new file that is no plugin: say so once, when it appears or changes.
                    let e = entry.info.error.clone().unwrap_or_default();
                    report.errors.push(Problem {
                        subject: format!("plugin {}", entry.info.file),
                        error: e,
                    });
                }
                entries.push(entry);
            }
        }
    }
    for p in old {
        if p.library.is_some() && !entries.iter().any(|e| e.info.file == p.info.file) {
            PluginRemoved {
                file: &p.info.file,
                id: p.info.id.as_deref().unwrap_or_default(),
            }
            .emit(&daemon.metrics);
            report.plugins_removed.push(p.info.file.clone());
        }
    }
    // Two files with one id: the first (by name) serves, as at the start.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for entry in &mut entries {
        let (Some(id), true) = (entry.info.id.clone(), entry.library.is_some()) else {
            continue;
        };
        if let Some(first) = seen.get(&id) {
            let message = format!("duplicate_id: plugin id `{id}` is already provided by {first}");
            entry.library = None;
            entry.info.state = "refused".into();
            entry.info.error = Some(error_info(ErrorKind::PLUGIN, message));
        } else {
            seen.insert(id, entry.info.file.clone());
        }
    }
    entries
}

/// The settings that differ between the running daemon and `exsyncd.toml` now, as
/// `name: old -> new`. None of them can change while the daemon runs.
pub fn restart_required(running: &Settings, new: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name} {a:?} -> {b:?}"));
        }
    };
    check(
        "state_dir",
        running.state_dir.display().to_string(),
        new.state_dir.display().to_string(),
    );
    check(
        "plugin_dir",
        running.plugin_dir.display().to_string(),
        new.plugin_dir.display().to_string(),
    );
    check(
        "socket",
        running.socket.display().to_string(),
        new.socket.display().to_string(),
    );
    check(
        "metrics_listen",
        running.metrics_listen.to_string(),
        new.metrics_listen.to_string(),
    );
    check(
        "max_concurrent_syncs",
        running.max_concurrent_syncs.to_string(),
        new.max_concurrent_syncs.to_string(),
    );
    check("log", running.log.clone(), new.log.clone());
    check(
        "key_file",
        format!("{:?}", running.key_file),
        format!("{:?}", new.key_file),
    );
    check(
        "credential_max_age",
        humantime::format_duration(running.credential_max_age).to_string(),
        humantime::format_duration(new.credential_max_age).to_string(),
    );
    check(
        "refuse_withdraw_keys",
        running.refuse_withdraw_keys.to_string(),
        new.refuse_withdraw_keys.to_string(),
    );
    check(
        "socket_group",
        running.socket_group.clone(),
        new.socket_group.clone(),
    );
    check(
        "plugin_call_timeout",
        humantime::format_duration(running.plugin_call_timeout).to_string(),
        humantime::format_duration(new.plugin_call_timeout).to_string(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;

    #[test]
    fn settings_that_only_a_start_applies_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let running = Settings::load(dir.path(), Overrides::default()).unwrap();
        std::fs::write(
            dir.path().join("exsyncd.toml"),
            "socket = \"/elsewhere.sock\"\nmetrics_listen = \"127.0.0.1:1\"\n",
        )
        .unwrap();
        let new = Settings::load(dir.path(), Overrides::default()).unwrap();
        let changed = restart_required(&running, &new);
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert!(changed[0].starts_with("socket "), "{changed:?}");
        assert!(changed[1].starts_with("metrics_listen "), "{changed:?}");
        assert!(restart_required(&running, &running).is_empty());
    }
}
