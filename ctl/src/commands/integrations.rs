//! Invoked when calling `exsyncctl integrations [NAME]`.
//!
//! Without NAME: one row per integration. With NAME: that integration alone, with its sync
//! policies as the daemon applies them (pause, windows, jitter, failures). The daemon answers
//! with every integration; the filter is applied here.

use clap::Args;
use exsync_protocol::{ErrorInfo, IntegrationInfo, IntegrationsReport, Request, Response};

use super::{ignore, now_ms, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct IntegrationsArgs {
    /// Show only this integration, with its sync policies.
    pub name: Option<String>,
}

pub fn integrations(ctx: &Context, args: &IntegrationsArgs) -> Result<Exit, Failure> {
    let mut report = match ctx.request(&Request::Integrations, ignore)? {
        Response::Integrations(report) => report,
        other => return Err(unexpected("integrations", &other)),
    };
    let Some(name) = &args.name else {
        print_report(ctx, &report, render)?;
        return Ok(Exit::Ok);
    };
    let names: Vec<String> = report.integrations.iter().map(|i| i.name.clone()).collect();
    report.integrations.retain(|i| &i.name == name);
    if report.integrations.is_empty() {
        return Err(Failure::Daemon(
            ErrorInfo::new(
                "not_found",
                format!(
                    "no integration named `{name}` (configured: {})",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
            .with_hint("integration names are the file names in integrations.d, without .toml"),
        ));
    }
    print_report(ctx, &report, |r| {
        let mut text = render(r);
        for i in &r.integrations {
            text.push('\n');
            text.push_str(&policy_lines(i, now_ms()));
        }
        text
    })?;
    Ok(Exit::Ok)
}

/// The sync policies of one integration, a line each, indented two spaces (also under each
/// integration in `status`).
pub fn policy_lines(i: &IntegrationInfo, now_ms: i64) -> String {
    let mut text = String::new();
    if let Some(p) = &i.paused {
        let since = p
            .since_ms
            .map(|t| format!(" since {}", output::age(t, now_ms)))
            .unwrap_or_default();
        text.push_str(&format!(
            "  paused{since}: {}\n  hint: {}\n",
            p.reason, p.hint
        ));
    }
    let Some(p) = &i.policy else {
        return text;
    };
    if !p.sync_windows.is_empty() {
        let next = match p.next_window_ms {
            Some(t) => format!("closed, next opens {}", output::time(t)),
            None => "open now".to_owned(),
        };
        text.push_str(&format!(
            "  sync windows: {} ({next})\n",
            p.sync_windows.join(", ")
        ));
    }
    if !p.retention.is_empty() {
        let kept: Vec<String> = p
            .retention
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        text.push_str(&format!("  retention: {}\n", kept.join(", ")));
    }
    for (stream, filter) in &p.filters {
        text.push_str(&format!("  keeps ({stream}): {filter}\n"));
    }
    for (stream, fetch) in &p.fetches {
        text.push_str(&format!("  fetches ({stream}): {fetch}\n"));
    }
    if let Some(c) = &p.primary_currency {
        text.push_str(&format!("  primary currency: {c}\n"));
    }
    if let Some(w) = &p.primary_currency_warning {
        text.push_str(&format!("  WARNING: {w}\n"));
    }
    for (what, since) in &p.history {
        text.push_str(&format!("  history ({what}): {since}\n"));
    }
    text.push_str(&format!(
        "  jitter: up to {}\n",
        output::duration_ms(p.jitter_ms)
    ));
    let bound = p
        .max_consecutive_failures
        .map(|n| format!(" after {n} failed syncs in a row"))
        .unwrap_or_default();
    text.push_str(&format!(
        "  on error: {}{bound} ({} in a row now)\n",
        p.on_error, p.consecutive_failures
    ));
    text
}

/// One row per integration; the hints of broken ones below the table.
pub fn render(report: &IntegrationsReport) -> String {
    if report.integrations.is_empty() {
        return "no integrations configured\n".to_owned();
    }
    let mut table = Table::new(&["name", "exchange", "state", "base url", "streams", "error"]);
    let mut hints = String::new();
    for i in &report.integrations {
        let streams: Vec<String> = i
            .streams
            .iter()
            .map(|s| format!("{} {}", s.stream, output::interval(s.interval_s)))
            .collect();
        table.row([
            i.name.clone(),
            i.exchange.clone(),
            i.state.clone(),
            i.base_url.clone().unwrap_or_default(),
            streams.join(", "),
            output::error_cell(i.error.as_ref()),
        ]);
        if let Some(hint) = i.error.as_ref().and_then(|e| e.hint.as_ref()) {
            hints.push_str(&format!("{}: hint: {hint}\n", i.name));
        }
    }
    let mut text = table.render();
    if !hints.is_empty() {
        text.push('\n');
        text.push_str(&hints);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{ErrorInfo, IntegrationInfo, StreamStatus};

    #[test]
    fn integrations_show_streams_with_intervals_and_hints() {
        let stream = |name: &str, interval_s| StreamStatus {
            stream: name.into(),
            interval_s,
            ..StreamStatus::default()
        };
        let report = IntegrationsReport {
            integrations: vec![
                IntegrationInfo {
                    name: "binance-main".into(),
                    exchange: "binance".into(),
                    state: "ready".into(),
                    base_url: Some("http://127.0.0.1:8080".into()),
                    streams: vec![stream("balances", 900), stream("trades", 3600)],
                    ..IntegrationInfo::default()
                },
                IntegrationInfo {
                    name: "kraken".into(),
                    exchange: "kraken".into(),
                    state: "broken".into(),
                    error: Some(
                        ErrorInfo::new("config", "no plugin `kraken`")
                            .with_hint("install the plugin"),
                    ),
                    ..IntegrationInfo::default()
                },
            ],
        };
        assert_eq!(
            render(&report),
            "NAME          EXCHANGE  STATE   BASE URL               STREAMS                  ERROR\n\
             binance-main  binance   ready   http://127.0.0.1:8080  balances 15m, trades 1h  -\n\
             kraken        kraken    broken  -                      -                        \
             config: no plugin `kraken`\n\
             \n\
             kraken: hint: install the plugin\n"
        );
    }
}
