//! Invoked when calling `exsyncctl integrations`.

use std::collections::HashMap;

use exsync_protocol::{CredentialAge, IntegrationInfo, IntegrationsReport, Response, StreamStatus};

use crate::daemon::{Daemon, LiveView};
use crate::host::now_ms;
use crate::policy;
use crate::store::Store;
use crate::supervisor::{Integration, Topology};

/// What `status` and `integrations` show from the store, read once for every integration:
/// one read transaction per table, not one per stream (a thousand integrations made that
/// thousands per `status`). Stream states come from the daemon's memory.
#[derive(Default)]
pub struct StoreSnapshot {
    /// Integration → kind → count: looked up by `&str` without allocating.
    record_counts: HashMap<String, HashMap<String, u64>>,
    policy_states: HashMap<String, Vec<u8>>,
}

impl StoreSnapshot {
    pub fn read(store: &Store) -> StoreSnapshot {
        let record_counts = store.record_counts().unwrap_or_else(|e| {
            tracing::error!(error = %e, "Could not read the record counts.");
            HashMap::new()
        });
        let policy_states = store.policy_states().unwrap_or_else(|e| {
            tracing::error!(error = %e, "Could not read the policy states.");
            HashMap::new()
        });
        StoreSnapshot {
            record_counts,
            policy_states,
        }
    }

    /// The same, of `integrations` only: a few point reads instead of two whole tables.
    pub fn read_of<'a>(
        store: &Store,
        integrations: impl Iterator<Item = &'a str>,
    ) -> StoreSnapshot {
        let mut snapshot = StoreSnapshot::default();
        for name in integrations {
            match store.record_counts_of(name) {
                Ok(counts) => {
                    snapshot.record_counts.insert(name.to_owned(), counts);
                }
                Err(e) => tracing::error!(error = %e, "Could not read the record counts."),
            }
            match store.policy_state(name) {
                Ok(Some(bytes)) => {
                    snapshot.policy_states.insert(name.to_owned(), bytes);
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "Could not read the policy state."),
            }
        }
        snapshot
    }

    fn record_count(&self, integration: &str, kind: &str) -> u64 {
        self.record_counts
            .get(integration)
            .and_then(|kinds| kinds.get(kind))
            .copied()
            .unwrap_or(0)
    }

    fn policy_state(&self, integration: &str) -> policy::PolicyState {
        self.policy_states
            .get(integration)
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or_default()
    }
}

/// The state of one integration, as `status` and `integrations` show it; `stored` is the
/// store's part, read once for all integrations shown.
pub fn integration_info(
    daemon: &Daemon,
    it: &Integration,
    stored: &StoreSnapshot,
    live: &LiveView,
) -> IntegrationInfo {
    let running = live.running(it.name());
    let mut streams = Vec::with_capacity(it.streams.len() + it.unsupported.len());
    let mut failing = false;
    for (stream, interval) in &it.streams {
        let state = live
            .stream_state(it.name(), stream.as_str())
            .cloned()
            .unwrap_or_default();
        failing |= state.last_error.is_some();
        streams.push(StreamStatus {
            stream: stream.as_str().to_owned(),
            interval_s: interval.as_secs(),
            state: if running == Some(*stream) {
                "running"
            } else {
                "idle"
            }
            .to_owned(),
            last_success_ms: state.last_success_ms,
            last_attempt_ms: state.last_attempt_ms,
            next_run_ms: live.next_run(it.name(), *stream),
            last_error: state.last_error,
            records: stored.record_count(it.name(), stream.record_kind().as_str()),
        });
    }
    for (stream, error) in &it.unsupported {
        streams.push(StreamStatus {
            stream: stream.as_str().to_owned(),
            state: "unsupported".into(),
            last_error: Some(error.clone()),
            ..Default::default()
        });
    }
    let policy_state = stored.policy_state(it.name());
    let paused = policy::paused(&it.config.policy, &it.config.file, &policy_state);
    let shortest = it.streams.iter().map(|(_, i)| *i).min().unwrap_or_default();
    let state = if it.error.is_some() {
        "broken"
    } else if running.is_some() {
        "syncing"
    } else if paused.is_some() {
        "paused"
    } else if failing {
        "failing"
    } else {
        "ready"
    };
    IntegrationInfo {
        name: it.name().to_owned(),
        exchange: it.exchange().to_owned(),
        file: it.config.file.display().to_string(),
        state: state.to_owned(),
        base_url: it.base_url.clone(),
        error: it.error.clone(),
        streams,
        credentials: it
            .config
            .credentials_in_store
            .then(|| credential_age(daemon, it.name())),
        policy: Some(exsync_protocol::PolicyInfo {
            history: {
                let mut lines = policy::history_lines(it.config.since, &it.config.stream_since);
                if let Some(days) = it.config.candle_history_days {
                    lines.push(("candles".into(), format!("{days} days back (history_days)")));
                }
                lines
            },
            retention: it.config.retention.shown.clone(),
            filters: policy::filter_lines(&it.config.keep),
            fetches: it.config.fetch.lines(),
            primary_currency: it.config.primary_currency.clone(),
            primary_currency_warning: it.config.primary_currency.as_deref().and_then(|c| {
                policy::primary_currency_warning(
                    c,
                    &daemon.store.assets(it.name()).unwrap_or_default(),
                )
            }),
            ..policy::info(&it.config.policy, &policy_state, now_ms(), shortest)
        }),
        paused,
    }
}

/// The age of an integration's stored credentials, and a warning when they need attention.
fn credential_age(daemon: &Daemon, name: &str) -> CredentialAge {
    let max_age = daemon.settings.credential_max_age;
    let set_ms = daemon.shared.vault.stamp(name);
    let age_s = set_ms.map(|t| (now_ms().saturating_sub(t).max(0) / 1000) as u64);
    let warning = match (set_ms, age_s) {
        (None, _) => Some(format!(
            "no credentials stored: run `exsyncctl credentials set {name}`"
        )),
        (Some(_), Some(age)) if age > max_age.as_secs() => Some(format!(
            "credentials are {} days old, older than credential_max_age ({} days): rotate them with `exsyncctl credentials rotate {name}`",
            age / 86_400,
            max_age.as_secs() / 86_400
        )),
        _ => daemon.shared.vault.unusable().filter(|_| set_ms.is_some()),
    };
    CredentialAge {
        set_ms,
        age_s,
        max_age_s: max_age.as_secs(),
        warning,
    }
}

pub fn integrations(daemon: &Daemon) -> Response {
    let stored = StoreSnapshot::read(&daemon.store);
    let topo = daemon.topology.read().expect("topology lock");
    daemon.load_stream_states(shown_streams(&topo));
    let live = daemon.live_view();
    let integrations = topo
        .integrations
        .values()
        .map(|it| integration_info(daemon, it, &stored, &live))
        .collect();
    Response::Integrations(IntegrationsReport { integrations })
}

/// Every (integration, stream) `status` and `integrations` show a state of.
pub fn shown_streams(topo: &Topology) -> impl Iterator<Item = (&str, &str)> {
    topo.integrations
        .values()
        .flat_map(|it| it.streams.iter().map(move |(s, _)| (it.name(), s.as_str())))
}
