//! Invoked when calling `exsyncctl pause NAME`.

use exsync_protocol::{PauseReport, PauseRequest, Response};

use super::{failure, find_integration};
use crate::daemon::Daemon;
use crate::policy;

/// Pauses an integration: its scheduled syncs stop (a sync running now finishes) until
/// `exsyncctl resume`. Kept in the store, so a restart keeps it.
pub fn pause(daemon: &Daemon, request: PauseRequest) -> Response {
    let it = match find_integration(daemon, &request.integration) {
        Ok(it) => it,
        Err(response) => return response,
    };
    match policy::pause(&daemon.store, it.name()) {
        Ok(changed) => Response::Pause(PauseReport {
            integration: it.name().to_owned(),
            changed,
            paused: policy::paused(
                &it.config.policy,
                &it.config.file,
                &policy::state(&daemon.store, it.name()),
            ),
        }),
        Err(e) => failure(
            "internal",
            format!("while pausing {}: {e}", it.name()),
            "see the daemon log",
        ),
    }
}
