//! Invoked when calling `exsyncctl sync NAME [--stream S] [--wait]`.

use std::sync::Arc;

use exsync_protocol::{Response, SyncReport, SyncRequest};

use super::{failure, find_integration, refuse_while_shutting_down, requested_stream, Responder};
use crate::daemon::Daemon;
use crate::engine;
use crate::policy;

pub async fn sync(
    daemon: &Arc<Daemon>,
    request: SyncRequest,
    out: &mut Responder,
) -> std::io::Result<()> {
    let it = match find_integration(daemon, &request.integration) {
        Ok(it) => it,
        Err(response) => return out.send(&response).await,
    };
    if let Some(e) = &it.error {
        return out.send(&Response::Error(e.clone())).await;
    }
    let only = match requested_stream(
        &it,
        request.stream.as_deref(),
        "add the stream to the integration file's [streams] table",
    ) {
        Ok(only) => only,
        Err(response) => return out.send(&response).await,
    };
    let paused = policy::paused(
        &it.config.policy,
        &it.config.file,
        &policy::state(&daemon.store, it.name()),
    );
    if let (Some(p), false) = (&paused, request.force) {
        return out
            .send(&failure(
                "paused",
                format!("integration `{}` is paused: {}", it.name(), p.reason),
                &format!(
                    "{}; or sync once anyway with `exsyncctl sync {} --force`",
                    p.hint,
                    it.name()
                ),
            ))
            .await;
    }
    if let Some(busy) = refuse_while_shutting_down(daemon, "start the sync after the restart") {
        return out.send(&busy).await;
    }
    if !request.wait {
        tokio::spawn(engine::sync(
            daemon.clone(),
            it.clone(),
            only.into_iter().collect(),
            engine::Trigger::Manual,
            None,
        ));
        return out
            .send(&Response::Sync(SyncReport {
                integration: it.name().to_owned(),
                started: true,
                streams: Vec::new(),
            }))
            .await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The sync runs on its own task: a client that goes away does not stop it.
    let task = tokio::spawn(engine::sync(
        daemon.clone(),
        it.clone(),
        only.into_iter().collect(),
        engine::Trigger::Manual,
        Some(tx),
    ));
    let mut client_gone = false;
    while let Some(progress) = rx.recv().await {
        if !client_gone && out.send(&Response::Progress(progress)).await.is_err() {
            client_gone = true;
        }
    }
    match task.await {
        Ok(report) => out.send(&Response::Sync(report)).await,
        Err(e) => {
            out.send(&failure(
                "internal",
                format!("the sync task failed: {e}"),
                "see the daemon log",
            ))
            .await
        }
    }
}
