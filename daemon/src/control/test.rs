//! Invoked when calling `exsyncctl test NAME`.

use std::sync::Arc;

use exsync_protocol::{Response, TestReport, TestRequest};

use super::{failure, find_integration};
use crate::daemon::Daemon;
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
    let checked = tokio::task::spawn_blocking(move || {
        let handle = connector
            .lock()
            .map_err(|_| exsync_plugin_api::PluginError::plugin("connector lock poisoned"))?;
        handle.check()
    })
    .await;
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
