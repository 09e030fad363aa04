//! Invoked when calling `exsyncctl debug record NAME --dir DIR [--stream S]`.
//!
//! The daemon syncs the integration now and streams every request its plugin sent with the
//! answer it got, redacted (no credential value, signature, timestamp, nonce or
//! authentication header); this command writes each pair as it arrives to its own file in
//! DIR, `000001-GET-api_v3_account.json`, numbered in the order they were sent. DIR is the
//! replay directory of `exsync-plugin-check PLUGIN.so --replay DIR`, and safe to attach to a
//! bug report. DIR must be new or empty: nothing is overwritten. A failed sync still leaves
//! its recording (that is what a bug report needs) and makes the exit code 1, as does a failed
//! connection test (which runs first, recorded too).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use exsync_protocol::Response;
use exsync_protocol::{DebugRecordReport, DebugRecordRequest, ErrorInfo, RecordedPair, Request};

use super::{unexpected, Context, Failure};
use crate::Exit;

#[derive(Args, Debug)]
pub struct DebugArgs {
    #[command(subcommand)]
    pub command: DebugCommand,
}

#[derive(Subcommand, Debug)]
pub enum DebugCommand {
    /// Sync NAME now and save its redacted request/response pairs to DIR, the replay format
    /// of `exsync-plugin-check --replay DIR`.
    Record(DebugRecordArgs),
}

#[derive(Args, Debug)]
pub struct DebugRecordArgs {
    /// The integration to sync and record.
    pub name: String,
    /// Where to write the pairs: a new or empty directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Sync and record only this stream (default: all the integration's streams).
    #[arg(long)]
    pub stream: Option<String>,
}

pub fn debug(ctx: &Context, args: &DebugArgs) -> Result<Exit, Failure> {
    match &args.command {
        DebugCommand::Record(args) => debug_record(ctx, args),
    }
}

fn record_failure(kind: &str, message: String, hint: &str) -> Failure {
    Failure::Daemon(ErrorInfo::new(kind, message).with_hint(hint))
}

/// Creates `dir`, or accepts it when it exists and is empty.
fn prepare_dir(dir: &Path) -> Result<(), Failure> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(record_failure(
                    "usage",
                    format!("the recording directory {} is not empty", dir.display()),
                    "pass a new or empty --dir: a recording never overwrites files",
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| {
                record_failure(
                    "usage",
                    format!(
                        "while creating the recording directory {}: {e}",
                        dir.display()
                    ),
                    "pass a --dir you may write to",
                )
            })
        }
        Err(e) => Err(record_failure(
            "usage",
            format!(
                "while reading the recording directory {}: {e}",
                dir.display()
            ),
            "pass a new or empty --dir you may write to",
        )),
    }
}

/// `000001-GET-api_v3_myTrades.json`: the number orders the replay, the rest is for people.
fn file_name(n: u64, pair: &RecordedPair) -> String {
    let path = pair.request.path.split('?').next().unwrap_or_default();
    let slug: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(60)
        .collect();
    let method: String = pair
        .request
        .method
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect();
    format!("{n:06}-{method}-{slug}.json")
}

fn write_pair(dir: &Path, n: u64, pair: &RecordedPair) -> Result<(), Failure> {
    let path = dir.join(file_name(n, pair));
    let mut text = serde_json::to_string_pretty(pair)
        .map_err(|e| Failure::Protocol(format!("while encoding a recorded pair: {e}")))?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| {
        record_failure(
            "record",
            format!("while writing {}: {e}", path.display()),
            "free some space or pass another --dir; the sync itself went on",
        )
    })
}

pub fn debug_record(ctx: &Context, args: &DebugRecordArgs) -> Result<Exit, Failure> {
    prepare_dir(&args.dir)?;
    let request = Request::DebugRecord(DebugRecordRequest {
        integration: args.name.clone(),
        stream: args.stream.clone(),
    });
    let mut written = 0u64;
    let answer = ctx.request(&request, |event| {
        if let Response::DebugRecordPair(pair) = event {
            written += 1;
            write_pair(&args.dir, written, &pair)?;
        }
        Ok(())
    })?;
    let report = match answer {
        Response::DebugRecord(report) => report,
        other => return Err(unexpected("debug record", &other)),
    };
    let mut out = std::io::stdout().lock();
    if ctx.json {
        let mut value = serde_json::to_value(&report)
            .map_err(|e| Failure::Protocol(format!("while encoding the report: {e}")))?;
        value["dir"] = args.dir.display().to_string().into();
        value["written"] = written.into();
        crate::output::write_json(&mut out, &value)?;
    } else {
        out.write_all(render(&report, &args.dir, written, args.stream.as_deref()).as_bytes())?;
        out.flush()?;
    }
    Ok(if failed(&report) || written != report.pairs {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

/// Whether the connection test or a stream failed.
fn failed(report: &DebugRecordReport) -> bool {
    report.check_error.is_some() || report.sync.failed()
}

pub fn render(
    report: &DebugRecordReport,
    dir: &Path,
    written: u64,
    stream: Option<&str>,
) -> String {
    let mut text = match &report.check_error {
        None => "connection test: ok\n".to_owned(),
        Some(e) => format!("connection test failed:\n{}", super::error_lines(e)),
    };
    text.push_str(&super::sync::render(&report.sync, stream));
    text.push_str(&format!(
        "recorded {written} request/response pairs of {} in {} (redacted)\n",
        report.integration,
        dir.display()
    ));
    if written != report.pairs {
        text.push_str(&format!(
            "warning: the daemon sent {} pairs, {written} arrived\n",
            report.pairs
        ));
    }
    if failed(report) {
        text.push_str("the test or the sync failed: the recording holds the failing case\n");
    }
    text.push_str(&format!(
        "replay: exsync-plugin-check PLUGIN.so --replay {}\n",
        dir.display()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_sort_in_request_order_and_name_the_endpoint() {
        let mut pair = RecordedPair::default();
        pair.request.method = "GET".into();
        pair.request.path = "/api/v3/myTrades?symbol=BTCUSDT&signature=REDACTED".into();
        assert_eq!(file_name(7, &pair), "000007-GET-api_v3_myTrades.json");
        assert!(file_name(9, &pair) < file_name(10, &pair));
    }

    #[test]
    fn a_directory_with_files_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.json"), "{}").unwrap();
        let err = prepare_dir(dir.path()).unwrap_err();
        assert_eq!(err.exit(), Exit::Usage);
        assert!(err.render().contains("not empty"), "{}", err.render());
        assert!(dir.path().join("keep.json").exists());
        let fresh = dir.path().join("new/rec");
        prepare_dir(&fresh).unwrap();
        assert!(fresh.is_dir());
        prepare_dir(&fresh).unwrap();
    }
}
