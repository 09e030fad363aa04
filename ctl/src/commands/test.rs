//! Invoked when calling `exsyncctl test`.
//!
//! Credentials arrive masked by the daemon (`abcd****mnop`) and are printed as given.

use clap::Args;
use exsync_protocol::{Request, Response, TestReport, TestRequest};

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The integration (its file name in integrations.d/ without `.toml`).
    pub name: String,
}

pub fn test(ctx: &Context, args: &TestArgs) -> Result<Exit, Failure> {
    let request = Request::Test(TestRequest {
        integration: args.name.clone(),
    });
    let report = match ctx.request(&request, ignore)? {
        Response::Test(report) => report,
        other => return Err(unexpected("test", &other)),
    };
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

fn or_none(value: &str) -> &str {
    if value.is_empty() {
        output::NONE
    } else {
        value
    }
}

/// Key/value lines: identity, rights, clock, credentials, notes.
pub fn render(report: &TestReport) -> String {
    // Continuation lines of credentials and notes leave the label blank.
    let mut table = Table::headless().empty_as("");
    table.row([
        "integration".to_owned(),
        format!("{} ({})", report.integration, report.exchange),
    ]);
    table.row(["account", or_none(&report.account)]);
    table.row(["can read", output::yes_no(report.can_read)]);
    table.row(["can trade", output::yes_no(report.can_trade)]);
    table.row(["can withdraw", output::yes_no(report.can_withdraw)]);
    table.row([
        "clock offset".to_owned(),
        report
            .clock_offset_ms
            .map_or_else(|| "unknown".to_owned(), output::offset_ms),
    ]);
    for (i, (name, masked)) in report.credentials.iter().enumerate() {
        let label = if i == 0 { "credentials" } else { "" };
        table.row([label.to_owned(), format!("{name} = {masked}")]);
    }
    for (i, note) in report.notes.iter().enumerate() {
        let label = if i == 0 { "notes" } else { "" };
        table.row([label, note.as_str()]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_report_prints_masked_credentials_as_given() {
        let report = TestReport {
            integration: "binance-main".into(),
            exchange: "binance".into(),
            account: "uid 123456789".into(),
            can_read: Some(true),
            can_trade: Some(false),
            can_withdraw: None,
            clock_offset_ms: Some(-1234),
            credentials: vec![
                ("api_key".into(), "abcd****mnop".into()),
                ("api_secret".into(), "****".into()),
            ],
            notes: vec!["IP restriction: none".into()],
        };
        assert_eq!(
            render(&report),
            "integration   binance-main (binance)\n\
             account       uid 123456789\n\
             can read      yes\n\
             can trade     no\n\
             can withdraw  unknown\n\
             clock offset  -1.234s\n\
             credentials   api_key = abcd****mnop\n\
             \x20             api_secret = ****\n\
             notes         IP restriction: none\n"
        );
    }
}
