//! Invoked when calling `exsyncctl debug record NAME --dir DIR [--stream S]`.
//!
//! Registers a [`Recording`] for the integration's host, runs the connection test (what
//! `exsyncctl test` runs: `exsync-plugin-check` calls it too, so a replay needs its answers)
//! and a manual sync (also when the integration is paused: recording a failing case is the
//! point), and streams every redacted request/response pair as a non-final
//! [`Response::DebugRecordPair`]; the final [`Response::DebugRecord`] carries the count, the
//! test's error if it failed, and the sync's report. `exsyncctl` writes
//! the files: the daemon writes nothing outside its state directory. Requests a scheduled
//! sync of the same integration sends meanwhile are recorded too: they are its traffic.

use std::sync::Arc;

use exsync_protocol::{DebugRecordReport, DebugRecordRequest, RecordedPair, Response, TestRequest};

use super::{failure, find_integration, refuse_while_shutting_down, requested_stream, Responder};
use crate::daemon::Daemon;
use crate::engine;
use crate::events::RequestsRecorded;
use crate::recording::Recording;

/// Ends the recording however the handler ends.
struct Registered<'a> {
    daemon: &'a Daemon,
    integration: String,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.daemon.shared.stop_recording(&self.integration);
    }
}

/// Pairs sent to the client, and pairs lost once it went away.
#[derive(Default)]
struct Count {
    sent: u64,
    lost: u64,
}

impl Count {
    async fn forward(&mut self, pair: RecordedPair, out: &mut Responder) {
        if self.lost == 0 && out.send(&Response::DebugRecordPair(pair)).await.is_ok() {
            self.sent += 1;
        } else {
            self.lost += 1;
        }
    }
}

pub async fn debug_record(
    daemon: &Arc<Daemon>,
    request: DebugRecordRequest,
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
        "record one of the integration's streams, or all of them",
    ) {
        Ok(only) => only,
        Err(response) => return out.send(&response).await,
    };
    if let Some(busy) = refuse_while_shutting_down(daemon, "record after the restart") {
        return out.send(&busy).await;
    }
    let (recording, mut pairs) = Recording::new();
    if !daemon
        .shared
        .start_recording(it.name(), Arc::new(recording))
    {
        return out
            .send(&failure(
                "busy",
                format!("integration `{}` is being recorded already", it.name()),
                "wait for the other `exsyncctl debug record` to end",
            ))
            .await;
    }
    let registered = Registered {
        daemon,
        integration: it.name().to_owned(),
    };
    // A failed test does not stop the recording: the failing case is what it is for.
    let check = super::test::test(
        daemon,
        TestRequest {
            integration: it.name().to_owned(),
        },
    )
    .await;
    let check_error = match check {
        Response::Error(e) => Some(e),
        _ => None,
    };
    // The sync runs on its own task: a client that goes away does not stop it.
    let mut task = tokio::spawn(engine::sync(
        daemon.clone(),
        it.clone(),
        only.into_iter().collect(),
        engine::Trigger::Manual,
        None,
    ));
    let mut count = Count::default();
    let joined = loop {
        tokio::select! {
            Some(pair) = pairs.recv() => count.forward(pair, out).await,
            joined = &mut task => break joined,
        }
    };
    // The sync is over: what it sent is in the channel already.
    drop(registered);
    while let Ok(pair) = pairs.try_recv() {
        count.forward(pair, out).await;
    }
    let Count { sent, lost } = count;
    RequestsRecorded {
        integration: it.name(),
        pairs: sent,
        lost,
    }
    .emit(&daemon.metrics);
    match joined {
        Ok(report) => {
            out.send(&Response::DebugRecord(DebugRecordReport {
                integration: it.name().to_owned(),
                pairs: sent,
                check_error,
                sync: report,
            }))
            .await
        }
        Err(e) => {
            out.send(&failure(
                "internal",
                format!("the recorded sync's task failed: {e}"),
                "see the daemon log",
            ))
            .await
        }
    }
}
