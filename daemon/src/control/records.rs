//! Invoked when calling `exsyncctl records NAME --kind KIND`.

use std::sync::Arc;

use exsync_plugin_api::RecordKind;
use exsync_protocol::{RecordBatch, RecordsEnd, RecordsRequest, Response, SAMPLE_EXCHANGE};

use super::{failure, find_integration, Responder};
use crate::daemon::Daemon;

/// Records per batch line: big enough to stream fast, small enough to keep lines short.
const BATCH: usize = 500;

pub async fn records(
    daemon: &Arc<Daemon>,
    request: RecordsRequest,
    out: &mut Responder,
) -> std::io::Result<()> {
    // The synthetic sample (`data generate-sample`) is stored like an integration that no
    // file configures; its candles say `"synthetic": true` in `raw`.
    let name = match find_integration(daemon, &request.integration) {
        Ok(it) => it.name().to_owned(),
        Err(_) if request.integration == SAMPLE_EXCHANGE => SAMPLE_EXCHANGE.to_owned(),
        Err(response) => return out.send(&response).await,
    };
    let Some(kind) = RecordKind::from_name(&request.kind) else {
        return out
            .send(&failure(
                "usage",
                format!("unknown record kind `{}`", request.kind),
                "kinds: balance, trade, order, deposit, withdrawal, ledger, candle",
            ))
            .await;
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<serde_json::Value>>(4);
    let store = daemon.store.clone();
    let limit = request.limit.unwrap_or(u64::MAX);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let mut count = 0u64;
        let mut bad = None;
        store.for_each_record(&name, kind.as_str(), |json| {
            if count >= limit {
                return false;
            }
            match serde_json::from_slice(json) {
                Ok(v) => batch.push(v),
                Err(e) => {
                    bad = Some(e.to_string());
                    return false;
                }
            }
            count += 1;
            if batch.len() == BATCH && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                return false;
            }
            true
        })?;
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        Ok::<_, crate::store::StoreError>((count, bad))
    });
    while let Some(records) = rx.recv().await {
        out.send(&Response::RecordBatch(RecordBatch { records }))
            .await?;
    }
    match reader.await {
        Ok(Ok((count, None))) => out.send(&Response::RecordsEnd(RecordsEnd { count })).await,
        Ok(Ok((_, Some(e)))) => {
            out.send(&failure(
                "internal",
                format!("a stored record is not JSON: {e}"),
                "the store may be damaged",
            ))
            .await
        }
        Ok(Err(e)) => {
            out.send(&failure("internal", e.to_string(), "see the daemon log"))
                .await
        }
        Err(e) => {
            out.send(&failure(
                "internal",
                format!("reading records failed: {e}"),
                "see the daemon log",
            ))
            .await
        }
    }
}
