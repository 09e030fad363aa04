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
    text.push_str(&render_health(report, now_ms));

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

/// One health word for a stream, worst first in [`HEALTH_ORDER`].
fn health(
    integration: &IntegrationInfo,
    s: &exsync_protocol::StreamStatus,
    now_ms: i64,
) -> &'static str {
    if integration.error.is_some() {
        return "broken";
    }
    if s.last_error.is_some() {
        return "failing";
    }
    if s.state == "running" {
        return "syncing";
    }
    match s.last_success_ms {
        None => "pending",
        // Three intervals (at least an hour) without a success: the alert rule's threshold.
        Some(t) if now_ms - t > (3 * s.interval_s as i64 * 1000).max(3_600_000) => "stale",
        Some(_) => "ok",
    }
}

/// Health words, worst first.
const HEALTH_ORDER: [&str; 6] = ["broken", "failing", "stale", "pending", "syncing", "ok"];

/// A table with one row per integration and stream and a health word, the worst and, among
/// equals, the longest without a success first: what needs a look is on top.
fn render_health(report: &StatusReport, now_ms: i64) -> String {
    let mut rows: Vec<(usize, i64, [String; 5])> = Vec::new();
    for i in &report.integrations {
        if i.streams.is_empty() {
            let word = if i.error.is_some() { "broken" } else { "ok" };
            let rank = HEALTH_ORDER.iter().position(|w| *w == word).unwrap_or(0);
            rows.push((
                rank,
                i64::MIN,
                [
                    i.name.clone(),
                    "-".into(),
                    word.into(),
                    "-".into(),
                    output::error_cell(i.error.as_ref()),
                ],
            ));
        }
        for s in &i.streams {
            let word = health(i, s, now_ms);
            let rank = HEALTH_ORDER.iter().position(|w| *w == word).unwrap_or(0);
            rows.push((
                rank,
                s.last_success_ms.unwrap_or(i64::MIN),
                [
                    i.name.clone(),
                    s.stream.clone(),
                    word.into(),
                    output::when(s.last_success_ms, now_ms),
                    output::error_cell(s.last_error.as_ref().or(i.error.as_ref())),
                ],
            ));
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let mut table =
        Table::new(&["integration", "stream", "health", "last success", "error"]).indent(2);
    for (_, _, row) in rows {
        table.row(row);
    }
    format!("\nHEALTH\n{}", table.render())
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
    if integration.paused.is_some()
        || integration
            .policy
            .as_ref()
            .is_some_and(|p| !p.sync_windows.is_empty())
    {
        // Indented under the integration: the pause and the next sync window.
        for line in super::integrations::policy_lines(integration, now_ms).lines() {
            if line.contains("paused") || line.contains("hint") || line.contains("sync windows") {
                text.push_str(&format!("  {line}\n"));
            }
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
    fn health_table_puts_the_worst_and_longest_failing_first() {
        let stream = |name: &str, success: Option<i64>, error: bool| StreamStatus {
            stream: name.into(),
            interval_s: 3600,
            state: "idle".into(),
            last_success_ms: success,
            last_error: error.then(|| ErrorInfo::new("auth", "invalid API key")),
            ..StreamStatus::default()
        };
        let report = StatusReport {
            integrations: vec![
                IntegrationInfo {
                    name: "a".into(),
                    exchange: "binance".into(),
                    state: "ready".into(),
                    streams: vec![
                        stream("balances", Some(NOW - 60_000), false),
                        stream("trades", Some(NOW - 60_000), true),
                        stream("orders", Some(NOW - 5 * 3_600_000), true),
                        stream("ledger", Some(NOW - 4 * 3_600_000), false),
                        stream("deposits", None, false),
                    ],
                    ..IntegrationInfo::default()
                },
                IntegrationInfo {
                    name: "b".into(),
                    exchange: "nope".into(),
                    state: "broken".into(),
                    error: Some(ErrorInfo::new("config", "unknown exchange `nope`")),
                    ..IntegrationInfo::default()
                },
            ],
            ..StatusReport::default()
        };
        let text = render(&report, NOW);
        let health = text.split("\nHEALTH\n").nth(1).unwrap();
        let words: Vec<(&str, &str)> = health
            .lines()
            .skip(1)
            .take(6)
            .map(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                (cells[1], cells[2])
            })
            .collect();
        assert_eq!(
            words,
            [
                ("-", "broken"),
                ("orders", "failing"),
                ("trades", "failing"),
                ("ledger", "stale"),
                ("deposits", "pending"),
                ("balances", "ok"),
            ],
            "{text}"
        );
    }

    #[test]
    fn empty_status_says_none() {
        let text = render(&StatusReport::default(), NOW);
        assert!(text.contains("PLUGINS\n  none\n"));
        assert!(text.contains("INTEGRATIONS\n  none\n"));
        assert!(text.contains("PROBLEMS\n  none\n"));
    }
}
