//! Invoked when calling `exsyncctl prune [--dry-run] [NAME]`.

use std::sync::Arc;

use exsync_protocol::{PruneReport, PruneRequest, Response};

use super::{failure, find_integration};
use crate::daemon::Daemon;
use crate::host::now_ms;
use crate::prune;

/// Applies `retention` now, to one integration or all; a dry run counts and removes nothing.
pub async fn prune(daemon: &Arc<Daemon>, request: PruneRequest) -> Response {
    let integrations = match &request.integration {
        Some(name) => match find_integration(daemon, name) {
            Ok(it) => vec![it],
            Err(response) => return response,
        },
        None => daemon
            .topology
            .read()
            .expect("topology lock")
            .integrations
            .values()
            .cloned()
            .collect(),
    };
    let (d, dry_run) = (daemon.clone(), request.dry_run);
    let done = tokio::task::spawn_blocking(move || {
        let now = now_ms();
        let mut pruned = Vec::new();
        for it in &integrations {
            pruned
                .extend(prune::prune(&d, it, now, dry_run).map_err(|e| (it.name().to_owned(), e))?);
        }
        Ok::<_, (String, String)>(pruned)
    })
    .await;
    match done {
        Ok(Ok(pruned)) => Response::Prune(PruneReport { dry_run, pruned }),
        Ok(Err((name, e))) => failure(
            "internal",
            format!("while pruning the records of {name}: {e}"),
            "see the daemon log",
        ),
        Err(e) => failure(
            "internal",
            format!("the prune task failed: {e}"),
            "see the daemon log",
        ),
    }
}
