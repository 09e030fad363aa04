//! Invoked when calling `exsyncctl sync`.
//!
//! Without `--wait` the daemon answers once the sync started. With `--wait` it streams
//! `Progress` events, shown as a spinner line on a terminal (nothing otherwise, and nothing
//! with `--json`), and ends with one result per stream. A failed stream makes the exit code 1.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use exsync_protocol::{Request, Response, SyncProgress, SyncReport, SyncRequest};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

/// How often the spinner moves while no event arrives.
const SPINNER_TICK: Duration = Duration::from_millis(120);

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The integration to sync.
    pub name: String,
    /// Sync only this stream (default: all the integration's streams).
    #[arg(long)]
    pub stream: Option<String>,
    /// Show progress and wait for the result.
    #[arg(long)]
    pub wait: bool,
    /// Sync even if the integration is paused (it stays paused).
    #[arg(long)]
    pub force: bool,
}

pub fn sync(ctx: &Context, args: &SyncArgs) -> Result<Exit, Failure> {
    let request = Request::Sync(SyncRequest {
        integration: args.name.clone(),
        stream: args.stream.clone(),
        wait: args.wait,
        force: args.force,
    });
    let bar = progress_bar(args.wait && !ctx.json && std::io::stdout().is_terminal());
    let answer = ctx.request(&request, |event| {
        if let Response::Progress(progress) = event {
            bar.set_message(progress_line(&progress));
        }
        Ok(())
    });
    bar.finish_and_clear();
    let report = match answer? {
        Response::Sync(report) => report,
        other => return Err(unexpected("sync", &other)),
    };
    let mut out = std::io::stdout().lock();
    if ctx.json {
        output::write_json(&mut out, &report)?;
    } else {
        out.write_all(render(&report, args.stream.as_deref()).as_bytes())?;
        out.flush()?;
    }
    let not_started = !report.started && report.streams.is_empty();
    Ok(if report.failed() || not_started {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
    let style = ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message("waiting for the first page");
    bar.enable_steady_tick(SPINNER_TICK);
    bar
}

/// `trades BTCUSDT  3/12 partitions  1,234 records  56 pages`
pub fn progress_line(p: &SyncProgress) -> String {
    let mut line = p.stream.clone();
    if !p.partition.is_empty() {
        line.push(' ');
        line.push_str(&p.partition);
    }
    format!(
        "{line}  {}/{} partitions  {} records  {} pages",
        p.partitions_done,
        p.partitions_total,
        output::count(p.records),
        output::count(p.pages)
    )
}

/// The answer as text: that it started, or one row per stream and a summary.
pub fn render(report: &SyncReport, stream: Option<&str>) -> String {
    let what = stream.map_or_else(|| "all streams".to_owned(), |s| format!("stream {s}"));
    if report.streams.is_empty() {
        return if report.started {
            format!("sync of {} started ({what})\n", report.integration)
        } else {
            format!("sync of {} did not start ({what})\n", report.integration)
        };
    }
    let mut table = Table::new(&[
        "stream",
        "result",
        "records",
        "pages",
        "partitions",
        "duration",
        "error",
        "hint",
    ]);
    for s in &report.streams {
        table.row([
            s.stream.clone(),
            s.result.clone(),
            output::count(s.records),
            output::count(s.pages),
            output::count(s.partitions),
            output::duration_ms(s.duration_ms),
            output::error_cell(s.error.as_ref()),
            s.error
                .as_ref()
                .and_then(|e| e.hint.clone())
                .unwrap_or_default(),
        ]);
    }
    let failed = report.streams.iter().filter(|s| s.result != "ok").count();
    let records: u64 = report.streams.iter().map(|s| s.records).sum();
    let total = report.streams.len();
    let summary = if failed == 0 {
        format!(
            "{}: {total} of {total} streams ok, {} records\n",
            report.integration,
            output::count(records)
        )
    } else {
        format!(
            "{}: {failed} of {total} streams failed, {} records stored\n",
            report.integration,
            output::count(records)
        )
    };
    table.render() + "\n" + &summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{ErrorInfo, StreamSyncResult};

    #[test]
    fn progress_line_names_stream_partition_and_counts() {
        let p = SyncProgress {
            integration: "binance-main".into(),
            stream: "trades".into(),
            partition: "BTCUSDT".into(),
            partitions_done: 3,
            partitions_total: 12,
            records: 1234,
            pages: 56,
        };
        assert_eq!(
            progress_line(&p),
            "trades BTCUSDT  3/12 partitions  1,234 records  56 pages"
        );
        let p = SyncProgress {
            stream: "balances".into(),
            partitions_total: 1,
            ..SyncProgress::default()
        };
        assert_eq!(
            progress_line(&p),
            "balances  0/1 partitions  0 records  0 pages"
        );
    }

    #[test]
    fn started_and_finished_syncs() {
        let started = SyncReport {
            integration: "b".into(),
            started: true,
            streams: vec![],
        };
        assert_eq!(render(&started, None), "sync of b started (all streams)\n");
        assert_eq!(
            render(&started, Some("trades")),
            "sync of b started (stream trades)\n"
        );
        let done = SyncReport {
            integration: "b".into(),
            started: true,
            streams: vec![
                StreamSyncResult {
                    stream: "balances".into(),
                    result: "ok".into(),
                    records: 12,
                    pages: 1,
                    partitions: 1,
                    duration_ms: 850,
                    error: None,
                },
                StreamSyncResult {
                    stream: "trades".into(),
                    result: "failed".into(),
                    records: 1000,
                    pages: 2,
                    partitions: 3,
                    duration_ms: 185_000,
                    error: Some(ErrorInfo::new("auth", "invalid key").with_hint("rotate the key")),
                },
            ],
        };
        assert!(done.failed());
        assert_eq!(
            render(&done, None),
            "STREAM    RESULT  RECORDS  PAGES  PARTITIONS  DURATION  ERROR              HINT\n\
             balances  ok      12       1      1           850ms     -                  -\n\
             trades    failed  1,000    2      3           3m 05s    auth: invalid key  rotate the key\n\
             \n\
             b: 1 of 2 streams failed, 1,012 records stored\n"
        );
    }
}
