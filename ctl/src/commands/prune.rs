//! Invoked when calling `exsyncctl prune [--dry-run] [NAME]`.
//!
//! Applies the integrations' `retention` now (the daemon also does it daily): records older
//! than their kind's age are removed, and with `raw` the raw JSON of older records is dropped.
//! `--dry-run` shows what would go and removes nothing.

use clap::Args;
use exsync_protocol::{PruneReport, PruneRequest, Request, Response};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Only this integration (default: all).
    pub name: Option<String>,
    /// Show what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn prune(ctx: &Context, args: &PruneArgs) -> Result<Exit, Failure> {
    let request = Request::Prune(PruneRequest {
        integration: args.name.clone(),
        dry_run: args.dry_run,
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Prune(report) => report,
        other => return Err(unexpected("prune", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

pub fn render(report: &PruneReport) -> String {
    if report.pruned.is_empty() {
        return "no retention configured: nothing to prune\n".to_owned();
    }
    let verb = if report.dry_run {
        "would prune"
    } else {
        "pruned"
    };
    let mut table = Table::new(&["integration", "kind", "older than", verb]);
    for p in &report.pruned {
        table.row([
            p.integration.clone(),
            p.kind.clone(),
            output::time(p.before_ms),
            output::count(p.records),
        ]);
    }
    let mut text = table.render();
    if report.dry_run {
        text.push_str("dry run: nothing was removed\n");
    }
    text
}
