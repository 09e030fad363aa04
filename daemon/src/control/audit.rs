//! Invoked when calling `exsyncctl audit [--since DURATION|DATE]`.

use exsync_protocol::{AuditReport, AuditRequest, Response};

use super::failure;
use crate::audit;
use crate::daemon::Daemon;

pub async fn audit(daemon: &Daemon, request: AuditRequest) -> Response {
    let store = daemon.store.clone();
    let read = tokio::task::spawn_blocking(move || audit::entries(&store, request.since_ms)).await;
    match read {
        Ok(Ok(entries)) => Response::Audit(AuditReport { entries }),
        Ok(Err(e)) => failure(
            "internal",
            format!("while reading the audit log: {e}"),
            "see the daemon log",
        ),
        Err(e) => failure(
            "internal",
            format!("the task reading the audit log failed: {e}"),
            "see the daemon log",
        ),
    }
}
