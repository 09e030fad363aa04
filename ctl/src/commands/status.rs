//! Invoked when calling `exsyncctl status`.
//!
//! A report, not a check: it exits 0 whenever the daemon answers, problems or not.

use std::io::Write;

use exsync_protocol::{IntegrationInfo, Request, Response, StatusReport};

use super::{ignore, now_ms, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

pub fn status(ctx: &Context) -> Result<Exit, Failure> {
    let report = match ctx.request(&Request::Status, ignore)? {
        Response::Status(report) => report,
        other => return Err(unexpected("status", &other)),
    };
    let mut out = std::io::stdout().lock();
    if ctx.json {
        output::write_json(&mut out, &report)?;
    } else {
        out.write_all(render(&report, now_ms()).as_bytes())?;
        out.flush()?;
    }
    Ok(Exit::Ok)
}

/// The whole report as text, ages taken relative to `now_ms`.
pub fn render(report: &StatusReport, now_ms: i64) -> String {
    let d = &report.daemon;
    let mut daemon = Table::headless();
    let uptime = output::duration_ms(now_ms.saturating_sub(d.started_ms).max(0) as u64);
    daemon.row([
        "daemon".to_owned(),
        format!(
            "exsyncd {} (protocol {}), pid {}, up {uptime} since {}",
            d.version,
            d.protocol,
            d.pid,
            output::time(d.started_ms)
        ),
    ]);
    daemon.row(["socket", &d.socket]);
    daemon.row(["metrics", &d.metrics_listen]);
    daemon.row(["config dir", &d.config_dir]);
    daemon.row(["state dir", &d.state_dir]);
    daemon.row(["plugin dir", &d.plugin_dir]);
    daemon.row(["reloaded".to_owned(), last_reload(report, now_ms)]);
    let mut text = daemon.render();

    text.push_str("\nPLUGINS\n");
    if report.plugins.is_empty() {
        text.push_str("  none\n");
    } else {
        let mut plugins = Table::new(&["file", "id", "version", "state", "reason"]).indent(2);
        for p in &report.plugins {
            plugins.row([
                p.file.clone(),
                p.id.clone().unwrap_or_default(),
                p.version.clone().unwrap_or_default(),
                p.state.clone(),
                p.error
                    .as_ref()
                    .map(|e| format!("{}: {}", e.kind, e.message))
                    .unwrap_or_default(),
            ]);
        }
        text.push_str(&plugins.render());
    }

    text.push_str("\nINTEGRATIONS\n");
    if report.integrations.is_empty() {
        text.push_str("  none\n");
    }
    for integration in &report.integrations {
        text.push_str(&render_integration(integration, now_ms));
    }

    if report.problems.is_empty() {
        text.push_str("\nPROBLEMS\n  none\n");
    } else {
        text.push_str(&format!("\nPROBLEMS ({})\n", report.problems.len()));
        for problem in &report.problems {
            let e = &problem.error;
            text.push_str(&format!(
                "  {}\n    {}: {}\n",
                problem.subject, e.kind, e.message
            ));
            if let Some(hint) = &e.hint {
                text.push_str(&format!("    hint: {hint}\n"));
            }
        }
    }
    text
}

/// `ok 3m ago (...)`, `failed ...: 2 refused (see PROBLEMS)`, or `none since the start`.
fn last_reload(report: &StatusReport, now_ms: i64) -> String {
    match &report.last_reload {
        None => "none since the start".to_owned(),
        Some(r) if r.errors.is_empty() => {
            format!(
                "{} {} ({})",
                r.result,
                output::age(r.at_ms, now_ms),
                r.trigger
            )
        }
        Some(r) => format!(
            "{} {} ({}): {} refused, the running version of each stays (see PROBLEMS)",
            r.result,
            output::age(r.at_ms, now_ms),
            r.trigger,
            r.errors.len()
        ),
    }
}

fn render_integration(integration: &IntegrationInfo, now_ms: i64) -> String {
    let mut text = format!(
        "  {} ({}): {}\n",
        integration.name, integration.exchange, integration.state
    );
    if let Some(e) = &integration.error {
        text.push_str(&format!("    error: {}: {}\n", e.kind, e.message));
        if let Some(hint) = &e.hint {
            text.push_str(&format!("    hint: {hint}\n"));
        }
    }
    if let Some(c) = &integration.credentials {
        let stored = match c.set_ms {
            Some(set_ms) => format!(
                "in the store, set {} (max age {})",
                output::age(set_ms, now_ms),
                output::interval(c.max_age_s)
            ),
            None => "in the store: none set".to_owned(),
        };
        text.push_str(&format!(
            "    credentials: {stored}
"
        ));
        if let Some(w) = &c.warning {
            text.push_str(&format!(
                "    WARNING: {w}
"
            ));
        }
    }
    if integration.streams.is_empty() {
        return text;
    }
    let mut streams = Table::new(&[
        "stream",
        "state",
        "last success",
        "next run",
        "records",
        "last error",
    ])
    .indent(4);
    for s in &integration.streams {
        streams.row([
            s.stream.clone(),
            s.state.clone(),
            output::when(s.last_success_ms, now_ms),
            output::when(s.next_run_ms, now_ms),
            output::count(s.records),
            output::error_cell(s.last_error.as_ref()),
        ]);
    }
    text.push_str(&streams.render());
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{DaemonInfo, ErrorInfo, PluginInfo, Problem, StreamStatus};

    const NOW: i64 = 1_795_323_844_000; // 2026-11-22T05:04:04Z

    #[test]
    fn status_lists_daemon_plugins_streams_and_problems() {
        let report = StatusReport {
            daemon: DaemonInfo {
                version: "0.1.0".into(),
                protocol: 1,
                pid: 4242,
                started_ms: NOW - 3 * 3_600_000 - 12 * 60_000,
                socket: "exsyncd.sock".into(),
                metrics_listen: "127.0.0.1:9464".into(),
                ..DaemonInfo::default()
            },
            plugins: vec![PluginInfo {
                file: "libexsync_plugin_old.so".into(),
                state: "refused".into(),
                error: Some(ErrorInfo::new("plugin", "ABI 0.9 is not 1.x")),
                ..PluginInfo::default()
            }],
            integrations: vec![IntegrationInfo {
                name: "binance-main".into(),
                exchange: "binance".into(),
                state: "failing".into(),
                streams: vec![StreamStatus {
                    stream: "trades".into(),
                    interval_s: 3600,
                    state: "idle".into(),
                    last_success_ms: Some(NOW - 180_000),
                    next_run_ms: Some(NOW + 57 * 60_000),
                    last_error: Some(ErrorInfo::new("rate_limited", "429 from /api/v3/myTrades")),
                    records: 12_345,
                    ..StreamStatus::default()
                }],
                ..IntegrationInfo::default()
            }],
            problems: vec![Problem {
                subject: "integrations.d/bad.toml".into(),
                error: ErrorInfo::new("config", "missing field `exchange`")
                    .with_hint("name the plugin id in `exchange`"),
            }],
            last_reload: None,
        };
        let text = render(&report, NOW);
        assert!(
            text.contains("exsyncd 0.1.0 (protocol 1), pid 4242, up 3h 12m"),
            "{text}"
        );
        assert!(text.contains("metrics     127.0.0.1:9464"), "{text}");
        assert!(
            text.contains("refused  plugin: ABI 0.9 is not 1.x"),
            "{text}"
        );
        assert!(text.contains("binance-main (binance): failing"), "{text}");
        assert!(text.contains("3m ago (2026-11-22T05:01:04Z)"), "{text}");
        assert!(text.contains("in 57m (2026-11-22T06:01:04Z)"), "{text}");
        assert!(text.contains("12,345"), "{text}");
        assert!(
            text.contains("rate_limited: 429 from /api/v3/myTrades"),
            "{text}"
        );
        assert!(text.contains(
            "PROBLEMS (1)\n  integrations.d/bad.toml\n    config: missing field `exchange`\n    \
             hint: name the plugin id in `exchange`\n"
        ));
    }

    #[test]
    fn empty_status_says_none() {
        let text = render(&StatusReport::default(), NOW);
        assert!(text.contains("PLUGINS\n  none\n"));
        assert!(text.contains("INTEGRATIONS\n  none\n"));
        assert!(text.contains("PROBLEMS\n  none\n"));
    }
}
