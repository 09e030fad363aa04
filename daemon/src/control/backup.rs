//! Invoked when calling `exsyncctl backup FILE`.

use std::path::PathBuf;
use std::sync::Arc;

use exsync_protocol::{BackupReport, BackupRequest, Response};

use super::failure;
use crate::daemon::Daemon;
use crate::host::now_ms;

pub async fn backup(daemon: &Arc<Daemon>, request: BackupRequest) -> Response {
    let file = PathBuf::from(&request.file);
    if let Some(why) = daemon.shared.vault.unusable() {
        return failure(
            "config",
            format!("cannot write an encrypted backup: {why}"),
            "configure the master key (exsyncd keygen), then restart exsyncd",
        );
    }
    let d = daemon.clone();
    let target = file.clone();
    let written = tokio::task::spawn_blocking(move || {
        let key = d.shared.vault.key().map_err(anyhow::Error::msg)?;
        crate::backup::write_backup(&d.store, key, &target, &d.settings.state_dir)
    })
    .await;
    match written {
        Ok(Ok(bytes)) => {
            tracing::info!(file = %file.display(), bytes, "Backup written (encrypted).");
            Response::Backup(BackupReport {
                file: request.file,
                bytes,
                at_ms: now_ms(),
            })
        }
        Ok(Err(e)) => {
            tracing::warn!(file = %file.display(), "Backup failed: {e:#}");
            failure(
                "internal",
                format!("{e:#}"),
                "name a new file in a directory exsyncd may write",
            )
        }
        Err(e) => failure(
            "internal",
            format!("the backup task failed: {e}"),
            "see the daemon log",
        ),
    }
}
