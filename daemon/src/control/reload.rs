//! Invoked when calling `exsyncctl reload [--wait]`.

use std::sync::Arc;

use exsync_protocol::{ReloadReport, ReloadRequest, Response};

use super::Responder;
use crate::daemon::Daemon;
use crate::reload;

pub async fn reload(
    daemon: &Arc<Daemon>,
    request: ReloadRequest,
    out: &mut Responder,
) -> std::io::Result<()> {
    if !request.wait {
        let daemon = daemon.clone();
        tokio::spawn(async move { reload::reload(&daemon, "ctl").await });
        return out
            .send(&Response::Reload(ReloadReport {
                result: "queued".into(),
                trigger: "ctl".into(),
                ..Default::default()
            }))
            .await;
    }
    // On its own task: a client that goes away does not cut a reload in half.
    let task = {
        let daemon = daemon.clone();
        tokio::spawn(async move { reload::reload(&daemon, "ctl").await })
    };
    match task.await {
        Ok(report) => out.send(&Response::Reload(report)).await,
        Err(e) => {
            out.send(&super::failure(
                "internal",
                format!("the reload task failed: {e}"),
                "see the daemon log",
            ))
            .await
        }
    }
}
