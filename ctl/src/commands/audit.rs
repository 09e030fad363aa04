//! Invoked when calling `exsyncctl audit [--since DURATION|DATE]`.
//!
//! Prints the daemon's append-only audit log, oldest first: every change and every credential
//! access made through the control socket (refused ones too) and every reload the daemon
//! started by itself, with who (uid, pid, user), what (verb, target), when and the result.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use exsync_protocol::{AuditReport, AuditRequest, Request, Response};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only entries since then: a duration back from now (`30m`, `2h`, `7d`) or a UTC date or
    /// time (`2026-12-01`, `2026-12-01T08:00:00Z`).
    #[arg(long, value_name = "DURATION|DATE", value_parser = parse_since)]
    pub since: Option<i64>,
}

pub fn audit(ctx: &Context, args: &AuditArgs) -> Result<Exit, Failure> {
    let request = Request::Audit(AuditRequest {
        since_ms: args.since,
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Audit(report) => report,
        other => return Err(unexpected("audit", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

/// `--since`: a duration back from now, or a UTC date (midnight) or time, as UTC ms.
pub fn parse_since(text: &str) -> Result<i64, String> {
    parse_since_at(text, SystemTime::now())
}

fn parse_since_at(text: &str, now: SystemTime) -> Result<i64, String> {
    let text = text.trim();
    let ms = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    };
    if let Ok(d) = humantime::parse_duration(text) {
        return Ok(ms(now.checked_sub(d).unwrap_or(UNIX_EPOCH)));
    }
    let is_date = text.len() == 10 && text.chars().all(|c| c.is_ascii_digit() || c == '-');
    let full = if is_date {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    humantime::parse_rfc3339_weak(&full)
        .or_else(|_| humantime::parse_rfc3339(&full))
        .map(ms)
        .map_err(|_| {
            format!(
                "{text:?} is neither a duration (30m, 2h, 7d) nor a UTC date or time \
                 (2026-12-01, 2026-12-01T08:00:00Z)"
            )
        })
}

/// One row per entry, oldest first.
pub fn render(report: &AuditReport) -> String {
    if report.entries.is_empty() {
        return "no audit entries\n".to_owned();
    }
    let mut table = Table::new(&[
        "seq", "time", "origin", "uid", "user", "pid", "verb", "target", "result", "message",
    ]);
    for e in &report.entries {
        table.row([
            e.seq.to_string(),
            output::time(e.at_ms),
            e.origin.clone(),
            e.uid.to_string(),
            e.user.clone().unwrap_or_default(),
            e.pid.to_string(),
            e.verb.clone(),
            e.target.clone().unwrap_or_default(),
            e.result.clone(),
            e.message.clone().unwrap_or_default(),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::AuditEntry;
    use std::time::Duration;

    #[test]
    fn since_takes_durations_dates_and_times() {
        let now = UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        let now_ms = 1_765_000_000_000;
        assert_eq!(parse_since_at("2h", now), Ok(now_ms - 7_200_000));
        assert_eq!(parse_since_at("7d", now), Ok(now_ms - 7 * 86_400_000));
        assert_eq!(parse_since_at("2026-12-01", now), Ok(1_796_083_200_000));
        assert_eq!(
            parse_since_at("2026-12-01T08:00:00Z", now),
            Ok(1_796_083_200_000 + 8 * 3_600_000)
        );
        let err = parse_since_at("yesterday", now).unwrap_err();
        assert!(err.contains("neither a duration"), "{err}");
    }

    #[test]
    fn audit_table_shows_who_what_when_result() {
        let report = AuditReport {
            entries: vec![AuditEntry {
                seq: 7,
                at_ms: 1_796_083_200_000,
                origin: "ctl".into(),
                uid: 61001,
                pid: 4242,
                user: None,
                verb: "sync".into(),
                target: Some("binance-main".into()),
                result: "denied".into(),
                message: Some("needs change".into()),
            }],
        };
        let text = render(&report);
        assert!(text.starts_with("SEQ"), "{text}");
        for part in [
            "7",
            "2026-12-01T00:00:00Z",
            "61001",
            "4242",
            "sync",
            "binance-main",
            "denied",
            "needs change",
        ] {
            assert!(text.contains(part), "{part} missing: {text}");
        }
        assert!(render(&AuditReport::default()).contains("no audit entries"));
    }
}
