//! Invoked when calling `exsyncctl status`.

use exsync_protocol::{DaemonInfo, Response, StatusReport, PROTOCOL_VERSION};

use super::integrations::{integration_info, StoreSnapshot};
use crate::daemon::Daemon;
use crate::supervisor::plugin_infos;

pub fn status(daemon: &Daemon) -> Response {
    let s = &daemon.settings;
    let stored = StoreSnapshot::read(&daemon.store);
    let topo = daemon.topology.read().expect("topology lock");
    Response::Status(StatusReport {
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
        integrations: topo
            .integrations
            .values()
            .map(|it| integration_info(daemon, it, &stored))
            .collect(),
        problems: topo.all_problems(),
        last_reload: daemon
            .last_reload
            .lock()
            .expect("last reload lock")
            .clone()
            .map(Box::new),
    })
}
