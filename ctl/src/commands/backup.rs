//! Invoked when calling `exsyncctl backup FILE`.
//!
//! The daemon writes the file (it holds the store and the master key): FILE is made absolute
//! here, must not exist, and must be in a directory the daemon's user may write.

use std::path::PathBuf;

use clap::Args;
use exsync_protocol::{BackupReport, BackupRequest, Request, Response};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::Exit;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The encrypted backup file to create (restore it with `exsyncd restore FILE`).
    pub file: PathBuf,
}

pub fn backup(ctx: &Context, args: &BackupArgs) -> Result<Exit, Failure> {
    let file = std::path::absolute(&args.file)?;
    let request = Request::Backup(BackupRequest {
        file: file.display().to_string(),
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Backup(report) => report,
        other => return Err(unexpected("backup", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

pub fn render(report: &BackupReport) -> String {
    format!(
        "backup written to {} ({} bytes, encrypted with the master key)\n",
        report.file, report.bytes
    )
}
