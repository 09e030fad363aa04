//! Invoked when calling `exsyncctl status`.
//!
//! The answer for a thousand integrations is about a megabyte of JSON, asked for by
//! dashboards and scripts every few seconds while every integration syncs. Building it whole
//! each time (read the record counts and policy states from the store, the stream states,
//! then format a thousand integrations) took about 8 ms of CPU. So each integration's part is
//! kept encoded ([`StatusCache`]) with what it was built from: the integration's identity
//! (a reload makes a new one), its change count in the store ([`Store::touched`]: records,
//! stream states, policy state, running stream, next runs) and, for a part that shows a
//! time (a credential's age, a sync window), the second. Only the parts whose inputs moved
//! are built again; the answer is those parts joined, byte for byte what encoding the whole
//! [`StatusReport`] gives (a test holds it to that).
//!
//! [`Store::touched`]: crate::store::Store::touched

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use exsync_protocol::{DaemonInfo, StatusReport, PROTOCOL_VERSION};

use super::integrations::{integration_info, shown_streams, StoreSnapshot};
use crate::daemon::Daemon;
use crate::host::now_ms;
use crate::supervisor::{plugin_infos, Integration, Topology};

/// Above this many parts to build, the store's counts and policy states are read in one
/// pass over their tables; below, per integration.
const BULK_READ_FROM: usize = 64;

/// The encoded part of each integration in the last `status` answers.
#[derive(Default)]
pub struct StatusCache {
    parts: HashMap<String, Part>,
}

struct Part {
    built_from: Inputs,
    json: String,
}

/// What an integration's part was built from; equal inputs, equal part.
struct Inputs {
    /// The `Integration` it shows: a reload replaces it with a new one. Weak, so a removed
    /// one is freed, but its address is not reused while the part is kept.
    integration: Weak<Integration>,
    /// Its change count in the store.
    changes: u64,
    /// The second it was built in, for a part that shows a time; else 0.
    second: i64,
}

impl Inputs {
    fn of(it: &Arc<Integration>, changes: u64, now_ms: i64) -> Inputs {
        let shows_time = it.config.credentials_in_store || !it.config.policy.windows.is_empty();
        Inputs {
            integration: Arc::downgrade(it),
            changes,
            second: if shows_time { now_ms / 1000 } else { 0 },
        }
    }

    fn same(&self, other: &Inputs) -> bool {
        Weak::ptr_eq(&self.integration, &other.integration)
            && self.changes == other.changes
            && self.second == other.second
    }
}

/// The `status` answer, encoded: one line of JSON.
pub fn status(daemon: &Daemon) -> String {
    let topo = daemon.topology.read().expect("topology lock");
    // The change counts first: a change made after this read is built next time.
    let changes = daemon
        .store
        .changes_of(topo.integrations.keys().map(String::as_str));
    let now = now_ms();
    let mut cache = daemon.status_cache.lock().expect("status cache lock");
    let stale: Vec<(&Arc<Integration>, Inputs)> = topo
        .integrations
        .values()
        .zip(&changes)
        .map(|(it, changes)| (it, Inputs::of(it, *changes, now)))
        .filter(|(it, inputs)| {
            cache
                .parts
                .get(it.name())
                .is_none_or(|part| !part.built_from.same(inputs))
        })
        .collect();
    if !stale.is_empty() {
        let stored = if stale.len() >= BULK_READ_FROM {
            StoreSnapshot::read(&daemon.store)
        } else {
            StoreSnapshot::read_of(&daemon.store, stale.iter().map(|(it, _)| it.name()))
        };
        daemon.load_stream_states(shown_streams(&topo));
        let live = daemon.live_view();
        for (it, inputs) in stale {
            let info = integration_info(daemon, it, &stored, &live);
            let json = serde_json::to_string(&info).expect("status parts serialize");
            cache.parts.insert(
                it.name().to_owned(),
                Part {
                    built_from: inputs,
                    json,
                },
            );
        }
    }
    if cache.parts.len() > topo.integrations.len() {
        cache
            .parts
            .retain(|name, _| topo.integrations.contains_key(name));
    }
    let mut report = report_without_integrations(daemon, &topo);
    let parts: Vec<&str> = topo
        .integrations
        .keys()
        .map(|name| cache.parts[name].json.as_str())
        .collect();
    report.integrations.clear();
    encode_with_parts(&report, &parts)
}

/// The report, its integrations left out.
fn report_without_integrations(daemon: &Daemon, topo: &Topology) -> StatusReport {
    let s = &daemon.settings;
    StatusReport {
        daemon: DaemonInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: PROTOCOL_VERSION,
            pid: std::process::id(),
            started_ms: daemon.started_ms,
            config_dir: s.config_dir.display().to_string(),
            state_dir: s.state_dir.display().to_string(),
            plugin_dir: s.plugin_dir.display().to_string(),
            socket: s.socket.display().to_string(),
            metrics_listen: s.metrics_listen.to_string(),
        },
        plugins: plugin_infos(&topo.plugins),
        integrations: Vec::new(),
        problems: topo.all_problems(),
        last_reload: daemon
            .last_reload
            .lock()
            .expect("last reload lock")
            .clone()
            .map(Box::new),
    }
}

/// `Response::Status(report)` encoded as the protocol encodes it, with `parts` (each an
/// encoded `IntegrationInfo`) as its integrations. The fields in [`StatusReport`]'s order.
fn encode_with_parts(report: &StatusReport, parts: &[&str]) -> String {
    fn json<T: serde::Serialize>(out: &mut Vec<u8>, value: &T) {
        serde_json::to_writer(out, value).expect("status fields serialize");
    }
    let size: usize = parts.iter().map(|p| p.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 4096);
    out.extend_from_slice(b"{\"type\":\"status\",\"daemon\":");
    json(&mut out, &report.daemon);
    out.extend_from_slice(b",\"plugins\":");
    json(&mut out, &report.plugins);
    out.extend_from_slice(b",\"integrations\":[");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(b"],\"problems\":");
    json(&mut out, &report.problems);
    out.extend_from_slice(b",\"last_reload\":");
    json(&mut out, &report.last_reload);
    out.extend_from_slice(b"}\n");
    String::from_utf8(out).expect("JSON is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{encode, ErrorInfo, IntegrationInfo, Problem, Response, StreamStatus};

    #[test]
    fn parts_joined_encode_exactly_as_the_whole_report() {
        let info = |name: &str| IntegrationInfo {
            name: name.into(),
            exchange: "binance".into(),
            file: format!("/etc/exsync/integrations.d/{name}.toml"),
            state: "failing".into(),
            streams: vec![StreamStatus {
                stream: "trades".into(),
                interval_s: 60,
                state: "idle".into(),
                last_success_ms: Some(1),
                last_error: Some(ErrorInfo::new("auth", "refused \"key\"\n")),
                records: 3,
                ..Default::default()
            }],
            ..Default::default()
        };
        for n in [0, 1, 3] {
            let mut report = StatusReport {
                problems: vec![Problem {
                    subject: "integration a".into(),
                    error: ErrorInfo::new("config", "bad"),
                }],
                ..Default::default()
            };
            let parts: Vec<String> = (0..n)
                .map(|i| serde_json::to_string(&info(&format!("i{i}"))).unwrap())
                .collect();
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let joined = encode_with_parts(&report, &refs);
            report.integrations = (0..n).map(|i| info(&format!("i{i}"))).collect();
            assert_eq!(joined, encode(&Response::Status(report)));
        }
    }
}
