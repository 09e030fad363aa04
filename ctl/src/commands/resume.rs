//! Invoked when calling `exsyncctl resume NAME`.
//!
//! Clears a pause set by `exsyncctl pause` or by `on_error = "pause"`. An integration with
//! `enabled = false` in its file stays paused, and the answer says so (exit code 1).

use clap::Args;
use exsync_protocol::{Request, Response, ResumeRequest};

use super::{ignore, pause, print_report, unexpected, Context, Failure};
use crate::Exit;

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The integration to resume.
    pub name: String,
}

pub fn resume(ctx: &Context, args: &ResumeArgs) -> Result<Exit, Failure> {
    let request = Request::Resume(ResumeRequest {
        integration: args.name.clone(),
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Pause(report) => report,
        other => return Err(unexpected("resume", &other)),
    };
    print_report(ctx, &report, pause::render)?;
    Ok(if report.paused.is_some() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}
