//! Invoked when calling `exsyncctl coverage NAME`.

use exsync_protocol::{
    CoverageReport, CoverageRequest, PartitionCoverage, Response, StreamCoverage,
};

use super::{failure, find_integration};
use crate::daemon::Daemon;
use crate::host::now_ms;

pub fn coverage(daemon: &Daemon, request: CoverageRequest) -> Response {
    let it = match find_integration(daemon, &request.integration) {
        Ok(it) => it,
        Err(response) => return response,
    };
    let mut streams = Vec::new();
    for (stream, _) in &it.streams {
        let name = stream.as_str();
        let partitions = match daemon.store.coverage(it.name(), name) {
            Ok(p) => p,
            Err(e) => return failure("internal", e.to_string(), "see the daemon log"),
        };
        let with_cursor = daemon
            .store
            .cursor_partitions(it.name(), name)
            .unwrap_or_default();
        let limit_from_ms = it
            .manifest
            .as_ref()
            .and_then(|m| m.history_limit(*stream))
            .and_then(|h| h.max_lookback_ms)
            .map(|lookback| now_ms() - lookback);
        streams.push(StreamCoverage {
            stream: name.to_owned(),
            // Candles with `history_days` go back that far, whatever the integration's start.
            start_ms: (*stream == exsync_plugin_api::Stream::Candles)
                .then(|| crate::config::candle_start(&it.config, now_ms()))
                .flatten()
                .or_else(|| {
                    crate::policy::stream_start(
                        it.config.since,
                        &it.config.stream_since,
                        *stream,
                        now_ms(),
                    )
                })
                .or_else(|| it.config.since.map(|s| s.at(now_ms()))),
            limit_from_ms,
            partitions: partitions
                .into_iter()
                .map(|(partition, c)| PartitionCoverage {
                    has_cursor: with_cursor.contains(&partition),
                    partition,
                    synced: c.synced,
                    unavailable: c.unavailable,
                    failed: c.failed,
                })
                .collect(),
        });
    }
    Response::Coverage(CoverageReport {
        integration: it.name().to_owned(),
        streams,
    })
}
