//! Invoked when calling `exsyncctl reload [--wait]`.
//!
//! Asks the daemon to read its configuration and plugin directories again, as SIGHUP does.
//! Without `--wait` it returns once the reload is queued. With `--wait` it prints what changed
//! and what was refused, and exits 1 when anything was refused, so `ExecReload=` in the unit
//! tells systemd that the reload failed.

use std::io::Write;

use clap::Args;
use exsync_protocol::{ReloadReport, ReloadRequest, Request, Response};

use super::{ignore, unexpected, Context, Failure};
use crate::output;
use crate::Exit;

#[derive(Args, Debug)]
pub struct ReloadArgs {
    /// Wait until the reload is applied; exit 1 if anything was refused.
    #[arg(long)]
    pub wait: bool,
}

pub fn reload(ctx: &Context, args: &ReloadArgs) -> Result<Exit, Failure> {
    let request = Request::Reload(ReloadRequest { wait: args.wait });
    let report = match ctx.request(&request, ignore)? {
        Response::Reload(report) => report,
        other => return Err(unexpected("reload", &other)),
    };
    let mut out = std::io::stdout().lock();
    if ctx.json {
        output::write_json(&mut out, &report)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
        out.flush()?;
    }
    Ok(if report.failed() {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

/// One line for the outcome, one per kind of change, then each refusal with its reason.
pub fn render(report: &ReloadReport) -> String {
    if report.result == "queued" {
        return "reload queued; `exsyncctl status` shows its outcome\n".to_owned();
    }
    let mut text = format!(
        "reload {} in {}\n",
        report.result,
        output::duration_ms(report.duration_ms)
    );
    for (what, names) in [
        ("integrations added", &report.added),
        ("integrations removed", &report.removed),
        ("integrations changed", &report.changed),
        ("plugins added", &report.plugins_added),
        ("plugins replaced", &report.plugins_replaced),
        ("plugins removed", &report.plugins_removed),
        ("restart required", &report.restart_required),
    ] {
        if !names.is_empty() {
            text.push_str(&format!("  {what}: {}\n", names.join(", ")));
        }
    }
    if !report.unchanged.is_empty() {
        text.push_str(&format!(
            "  integrations unchanged: {}\n",
            report.unchanged.len()
        ));
    }
    for p in &report.errors {
        text.push_str(&format!(
            "  refused {}\n    {}: {}\n",
            p.subject, p.error.kind, p.error.message
        ));
        if let Some(hint) = &p.error.hint {
            text.push_str(&format!("    hint: {hint}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{ErrorInfo, Problem};

    #[test]
    fn reload_lists_changes_and_refusals() {
        let report = ReloadReport {
            result: "failed".into(),
            duration_ms: 12,
            added: vec!["kraken-main".into()],
            unchanged: vec!["a".into(), "b".into()],
            errors: vec![Problem {
                subject: "integrations.d/bad.toml".into(),
                error: ErrorInfo::new("config", "unknown stream `trade`"),
            }],
            ..Default::default()
        };
        let text = render(&report);
        assert!(text.starts_with("reload failed in "), "{text}");
        assert!(
            text.contains("  integrations added: kraken-main\n"),
            "{text}"
        );
        assert!(text.contains("  integrations unchanged: 2\n"), "{text}");
        assert!(
            text.contains(
                "  refused integrations.d/bad.toml\n    config: unknown stream `trade`\n"
            ),
            "{text}"
        );
        assert!(report.failed());
    }
}
