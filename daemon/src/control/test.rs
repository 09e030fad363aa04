//! Invoked when calling `exsyncctl test NAME`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use exsync_protocol::{Response, TestReport, TestRequest};

use super::{failure, find_integration};
use crate::daemon::Daemon;
use crate::events::PluginCallTimedOut;
use crate::supervisor::error_info;

pub async fn test(daemon: &Arc<Daemon>, request: TestRequest) -> Response {
    let it = match find_integration(daemon, &request.integration) {
        Ok(it) => it,
        Err(response) => return response,
    };
    if let Some(e) = &it.error {
        return Response::Error(e.clone());
    }
    let Some(connector) = it.connector.clone() else {
        return failure(
            "internal",
            "integration has no connector",
            "see `exsyncctl status`",
        );
    };
    // The same bound as a sync's plugin calls: a plugin that hangs in `check()` (or an
    // instance already stuck in a sync's call, which holds the lock) answers `plugin` in time
    // instead of leaving `exsyncctl test` waiting for ever.
    let limit = daemon.settings.plugin_call_timeout;
    let abandoned = |what: &str| {
        error_info(
            exsync_plugin_api::ErrorKind::PLUGIN,
            format!(
                "the {} plugin did not answer within {}s {what}; its instance is abandoned: fix or replace the plugin, then reload to restart {}",
                it.exchange(),
                limit.as_secs(),
                it.name()
            ),
        )
    };
    if it.plugin_hung.load(Ordering::Acquire) {
        return Response::Error(abandoned("in an earlier call"));
    }
    let checking = tokio::task::spawn_blocking(move || {
        let handle = connector
            .lock()
            .map_err(|_| exsync_plugin_api::PluginError::plugin("connector lock poisoned"))?;
        handle.check().map_err(crate::taxonomy::from_plugin)
    });
    let Ok(checked) = tokio::time::timeout(limit, checking).await else {
        it.plugin_hung.store(true, Ordering::Release);
        let what = "testing the connection";
        PluginCallTimedOut {
            integration: it.name(),
            exchange: it.exchange(),
            call: "check",
            what,
            limit,
        }
        .emit(&daemon.metrics);
        return Response::Error(abandoned(&format!("while {what}")));
    };
    match checked {
        Ok(Ok(report)) => Response::Test(TestReport {
            integration: it.name().to_owned(),
            exchange: it.exchange().to_owned(),
            account: it.redactor.redact(&report.account),
            can_read: report.permissions.read,
            can_trade: report.permissions.trade,
            can_withdraw: report.permissions.withdraw,
            clock_offset_ms: report.clock_offset_ms,
            credentials: it.masked_credentials.clone(),
            notes: report.notes.iter().map(|n| it.redactor.redact(n)).collect(),
        }),
        Ok(Err(e)) => {
            tracing::warn!(
                integration = it.name(),
                reason = e.kind.as_str(),
                "Connection test failed: {}",
                it.redactor.redact(&e.message)
            );
            Response::Error(error_info(e.kind, it.redactor.redact(&e.message)))
        }
        Err(e) => failure(
            "internal",
            format!("the connection test task failed: {e}"),
            "see the daemon log",
        ),
    }
}
