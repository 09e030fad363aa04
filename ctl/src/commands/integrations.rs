//! Invoked when calling `exsyncctl integrations`.

use exsync_protocol::{IntegrationsReport, Request, Response};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

pub fn integrations(ctx: &Context) -> Result<Exit, Failure> {
    let report = match ctx.request(&Request::Integrations, ignore)? {
        Response::Integrations(report) => report,
        other => return Err(unexpected("integrations", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
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
