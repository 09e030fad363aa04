//! Invoked when calling `exsyncctl plugins`.

use exsync_protocol::{PluginsReport, Response};

use crate::daemon::Daemon;
use crate::supervisor::plugin_infos;

pub fn plugins(daemon: &Daemon) -> Response {
    let topo = daemon.topology.read().expect("topology lock");
    Response::Plugins(PluginsReport {
        plugins: plugin_infos(&topo.plugins),
    })
}
