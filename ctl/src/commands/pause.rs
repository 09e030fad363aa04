//! Invoked when calling `exsyncctl pause NAME`.
//!
//! A paused integration runs no scheduled sync; `exsyncctl sync NAME` refuses unless given
//! `--force`. The pause is kept in the daemon's store: a restart keeps it. `resume` ends it.

use clap::Args;
use exsync_protocol::{PauseReport, PauseRequest, Request, Response};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::Exit;

#[derive(Args, Debug)]
pub struct PauseArgs {
    /// The integration to pause.
    pub name: String,
}

pub fn pause(ctx: &Context, args: &PauseArgs) -> Result<Exit, Failure> {
    let request = Request::Pause(PauseRequest {
        integration: args.name.clone(),
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Pause(report) => report,
        other => return Err(unexpected("pause", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

/// What `pause` and `resume` print: the state afterwards, and what would change it.
pub fn render(report: &PauseReport) -> String {
    let name = &report.integration;
    match &report.paused {
        Some(p) => {
            let already = if report.changed { "" } else { " (already)" };
            format!(
                "{name} is paused{already}: {}\nhint: {}\n",
                p.reason, p.hint
            )
        }
        None if report.changed => format!("{name} resumed: scheduled syncs run again\n"),
        None => format!("{name} is not paused\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::PauseInfo;

    #[test]
    fn pause_and_resume_say_the_state_and_the_way_out() {
        let paused = PauseReport {
            integration: "binance-main".into(),
            changed: true,
            paused: Some(PauseInfo {
                by: "ctl".into(),
                reason: "paused with `exsyncctl pause`".into(),
                hint: "`exsyncctl resume binance-main`".into(),
                since_ms: Some(1),
            }),
        };
        assert_eq!(
            render(&paused),
            "binance-main is paused: paused with `exsyncctl pause`\nhint: `exsyncctl resume binance-main`\n"
        );
        let resumed = PauseReport {
            integration: "binance-main".into(),
            changed: true,
            paused: None,
        };
        assert_eq!(
            render(&resumed),
            "binance-main resumed: scheduled syncs run again\n"
        );
    }
}
