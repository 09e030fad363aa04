//! Invoked when calling `exsyncctl credentials set NAME` and `exsyncctl credentials rotate NAME`.
//!
//! Values never come from the command line (it shows in `ps` and shell history). On a
//! terminal each field is asked for with a prompt that does not echo the value; otherwise
//! standard input is read as `field=value` lines (`api_key=...`, `api_secret=...`; blank lines
//! and `#` comments skipped). The daemon tests the credentials against the exchange before it
//! stores them and answers with masked values (`abcd****mnop`) and the key's rights.

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};
use exsync_protocol::{
    CredentialField, CredentialsReport, CredentialsRequest, Request, Response, Secret,
};
use zeroize::Zeroizing;

use super::{ignore, print_report, unexpected, Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    pub command: CredentialsCommand,
}

#[derive(Subcommand, Debug)]
pub enum CredentialsCommand {
    /// Store an integration's credentials in the daemon's encrypted store, after testing them.
    Set(NameArg),
    /// Replace stored credentials with new ones; the old ones stay if the new ones fail the test.
    Rotate(NameArg),
}

#[derive(Args, Debug)]
pub struct NameArg {
    /// The integration (its file name in integrations.d/ without `.toml`); its file says
    /// `credentials = "store"`.
    pub name: String,
}

/// The fields asked for on a terminal when none is named: the roles DESIGN.md fixes.
const PROMPTED_FIELDS: &[&str] = &["api_key", "api_secret"];

pub fn credentials(ctx: &Context, args: &CredentialsArgs) -> Result<Exit, Failure> {
    let (name, rotate) = match &args.command {
        CredentialsCommand::Set(a) => (&a.name, false),
        CredentialsCommand::Rotate(a) => (&a.name, true),
    };
    let fields = read_fields()?;
    let request = CredentialsRequest {
        integration: name.clone(),
        fields,
    };
    let request = if rotate {
        Request::CredentialsRotate(request)
    } else {
        Request::CredentialsSet(request)
    };
    let report = match ctx.request(&request, ignore)? {
        Response::Credentials(report) => report,
        other => return Err(unexpected("credentials", &other)),
    };
    if !report.warnings.is_empty() {
        // Loud, and on stderr too, so it is seen even when stdout goes to a file or is JSON.
        let mut err = std::io::stderr().lock();
        for w in &report.warnings {
            let _ = writeln!(err, "WARNING: {w}");
        }
    }
    print_report(ctx, &report, render)?;
    Ok(Exit::Ok)
}

/// The fields from a no-echo prompt (terminal) or from `field=value` lines (anything else).
fn read_fields() -> Result<Vec<CredentialField>, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return prompt_fields();
    }
    let mut text = Zeroizing::new(String::new());
    std::io::Read::read_to_string(&mut stdin.lock(), &mut text).map_err(|e| {
        Failure::Daemon(usage(format!(
            "cannot read credentials from standard input: {e}"
        )))
    })?;
    parse_lines(&text).map_err(|m| Failure::Daemon(usage(m)))
}

fn usage(message: String) -> exsync_protocol::ErrorInfo {
    exsync_protocol::ErrorInfo::new("usage", message).with_hint(
        "give one field=value line per credential (api_key=..., api_secret=..., passphrase=...) on standard input",
    )
}

/// `field=value` lines. Errors name the line number, never its content.
pub fn parse_lines(text: &str) -> Result<Vec<CredentialField>, String> {
    let mut fields = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!(
                "line {} of standard input is not field=value",
                i + 1
            ));
        };
        let name = name.trim();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(format!(
                "line {}: the field name must be lower-case letters, digits and _",
                i + 1
            ));
        }
        fields.push(CredentialField {
            name: name.to_owned(),
            value: Secret::new(value.to_owned()),
        });
    }
    if fields.is_empty() {
        return Err("no field=value line on standard input".to_owned());
    }
    Ok(fields)
}

/// Asks for `api_key` and `api_secret`, then for further fields by name until an empty name.
fn prompt_fields() -> Result<Vec<CredentialField>, Failure> {
    let mut fields = Vec::new();
    let mut ask = |name: &str| -> Result<(), Failure> {
        let value = rpassword::prompt_password(format!("{name} (not echoed): "))
            .map_err(Failure::Output)?;
        if !value.is_empty() {
            fields.push(CredentialField {
                name: name.to_owned(),
                value: Secret::new(value),
            });
        }
        Ok(())
    };
    for name in PROMPTED_FIELDS {
        ask(name)?;
    }
    loop {
        eprint!("another field (passphrase, sub_account...; empty to finish): ");
        let mut name = String::new();
        std::io::stdin().lock().read_line(&mut name)?;
        let name = name.trim();
        if name.is_empty() {
            break;
        }
        ask(name)?;
    }
    Ok(fields)
}

/// Key/value lines: what was stored, masked, and what the key may do.
pub fn render(report: &CredentialsReport) -> String {
    let mut text = String::new();
    for w in &report.warnings {
        text.push_str(&format!("!!! WARNING: {w}\n"));
    }
    let mut table = Table::headless().empty_as("");
    table.row([
        "integration".to_owned(),
        format!("{} ({})", report.integration, report.exchange),
    ]);
    table.row([
        "credentials".to_owned(),
        format!(
            "{} (tested, encrypted) {}",
            report.action,
            output::time(report.set_ms)
        ),
    ]);
    table.row(["account", report.account.as_str()]);
    table.row(["can read", output::yes_no(report.can_read)]);
    table.row(["can trade", output::yes_no(report.can_trade)]);
    table.row(["can withdraw", output::yes_no(report.can_withdraw)]);
    for (i, (name, masked)) in report.credentials.iter().enumerate() {
        let label = if i == 0 { "fields" } else { "" };
        table.row([label.to_owned(), format!("{name} = {masked}")]);
    }
    text.push_str(&table.render());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_field_value_and_errors_never_quote_them() {
        let fields =
            parse_lines("# binance\napi_key=abc=def\r\n\n  api_secret = s3cr3t  \n").unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].name, "api_key");
        assert_eq!(fields[0].value.expose(), "abc=def");
        assert_eq!(fields[1].name, "api_secret");
        // Values are taken as given after the first `=` (a secret may end in spaces).
        assert_eq!(fields[1].value.expose(), " s3cr3t  ");
        let e = parse_lines("api_key=x\nhunter2\n").unwrap_err();
        assert_eq!(e, "line 2 of standard input is not field=value");
        let e = parse_lines("API KEY=hunter2\n").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_lines("\n# nothing\n").is_err());
    }

    #[test]
    fn the_report_warns_loudly_and_shows_masked_values() {
        let report = CredentialsReport {
            integration: "binance-main".into(),
            exchange: "binance".into(),
            action: "set".into(),
            account: "uid 1".into(),
            can_read: Some(true),
            can_trade: Some(false),
            can_withdraw: Some(true),
            credentials: vec![("api_key".into(), "abcd****mnop".into())],
            warnings: vec!["THIS KEY CAN WITHDRAW FUNDS.".into()],
            set_ms: 0,
        };
        let text = render(&report);
        assert!(
            text.starts_with("!!! WARNING: THIS KEY CAN WITHDRAW FUNDS.\n"),
            "{text}"
        );
        assert!(text.contains("can withdraw  yes"), "{text}");
        assert!(text.contains("api_key = abcd****mnop"), "{text}");
    }
}
