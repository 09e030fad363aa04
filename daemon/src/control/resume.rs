//! Invoked when calling `exsyncctl resume NAME`.

use exsync_protocol::{PauseReport, Response, ResumeRequest};

use super::{failure, find_integration};
use crate::daemon::Daemon;
use crate::policy;

/// Clears a pause set by `exsyncctl pause` or by `on_error = "pause"`, and the failures
/// counted. An integration with `enabled = false` in its file stays paused: the answer says so.
pub fn resume(daemon: &Daemon, request: ResumeRequest) -> Response {
    let it = match find_integration(daemon, &request.integration) {
        Ok(it) => it,
        Err(response) => return response,
    };
    match policy::resume(&daemon.store, it.name()) {
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
            format!("while resuming {}: {e}", it.name()),
            "see the daemon log",
        ),
    }
}
