//! Invoked when calling `exsyncctl validate`.
//!
//! Works without a daemon: runs `exsyncd --validate --config-dir DIR` (the daemon's own
//! parser, so ctl never disagrees with it) and reads the `ValidateReport` it prints as JSON.
//! Exit 0 when every file is valid, 1 when one is not, 2 when exsyncd cannot be run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Args;
use exsync_protocol::ValidateReport;

use super::{Context, Failure};
use crate::output::{self, Table};
use crate::Exit;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The configuration directory (holding exsyncd.toml and integrations.d/).
    pub dir: PathBuf,
    /// Check exchanges against the plugins in this directory.
    #[arg(long)]
    pub plugin_dir: Option<PathBuf>,
    /// The exsyncd binary to run (default: next to exsyncctl, else on PATH).
    #[arg(long, env = "EXSYNCD")]
    pub exsyncd: Option<PathBuf>,
}

pub fn validate(ctx: &Context, args: &ValidateArgs) -> Result<Exit, Failure> {
    let program = find_exsyncd(args.exsyncd.as_deref());
    let report = run_exsyncd(&program, args)?;
    let mut out = std::io::stdout().lock();
    if ctx.json {
        output::write_json(&mut out, &report)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
        out.flush()?;
    }
    Ok(if report.ok() { Exit::Ok } else { Exit::Failed })
}

/// `--exsyncd`/`EXSYNCD` if given, else `exsyncd` beside this executable, else from PATH.
pub fn find_exsyncd(given: Option<&Path>) -> PathBuf {
    if let Some(path) = given {
        return path.to_owned();
    }
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("exsyncd"));
    match beside {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("exsyncd"),
    }
}

fn run_exsyncd(program: &Path, args: &ValidateArgs) -> Result<ValidateReport, Failure> {
    let failure = |reason: String| Failure::Exsyncd {
        program: program.display().to_string(),
        reason,
    };
    let mut command = Command::new(program);
    command.arg("--validate").arg("--config-dir").arg(&args.dir);
    if let Some(plugin_dir) = &args.plugin_dir {
        command.arg("--plugin-dir").arg(plugin_dir);
    }
    let run = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| failure(e.to_string()))?;
    // exsyncd exits non-zero when a file is invalid and still prints the report: the report,
    // not the status, decides.
    serde_json::from_slice(&run.stdout).map_err(|e| {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let said = stderr.trim();
        let said = if said.is_empty() {
            String::new()
        } else {
            format!("; it said: {said}")
        };
        failure(format!(
            "it printed no validation report ({}: {e}){said}",
            run.status
        ))
    })
}

/// One line per file, OK or INVALID with the error and its hint below.
pub fn render(report: &ValidateReport) -> String {
    let mut table = Table::headless().empty_as("");
    for file in &report.files {
        let name = match &file.integration {
            Some(integration) => format!("{} ({integration})", file.file),
            None => file.file.clone(),
        };
        match &file.error {
            None => table.row(["OK".to_owned(), name]),
            Some(e) => {
                table.row(["INVALID".to_owned(), name]);
                table.row([String::new(), format!("{}: {}", e.kind, e.message)]);
                if let Some(hint) = &e.hint {
                    table.row([String::new(), format!("hint: {hint}")]);
                }
            }
        }
    }
    let invalid = report.files.iter().filter(|f| f.error.is_some()).count();
    let summary = match (report.files.len(), invalid) {
        (0, _) => format!("{}: no configuration files found\n", report.config_dir),
        (n, 0) => format!("{}: all {n} files valid\n", report.config_dir),
        (n, bad) => format!("{}: {bad} of {n} files invalid\n", report.config_dir),
    };
    table.render() + &summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use exsync_protocol::{ErrorInfo, FileCheck};

    #[test]
    fn validate_lists_files_with_errors_and_hints() {
        let report = ValidateReport {
            config_dir: "conf".into(),
            files: vec![
                FileCheck {
                    file: "exsyncd.toml".into(),
                    integration: None,
                    error: None,
                },
                FileCheck {
                    file: "integrations.d/bad.toml".into(),
                    integration: Some("bad".into()),
                    error: Some(
                        ErrorInfo::new("config", "unknown stream `trade`")
                            .with_hint("streams are plural: `trades`"),
                    ),
                },
            ],
        };
        assert!(!report.ok());
        assert_eq!(
            render(&report),
            "OK       exsyncd.toml\n\
             INVALID  integrations.d/bad.toml (bad)\n\
             \x20        config: unknown stream `trade`\n\
             \x20        hint: streams are plural: `trades`\n\
             conf: 1 of 2 files invalid\n"
        );
    }

    #[test]
    fn an_explicit_exsyncd_wins() {
        assert_eq!(
            find_exsyncd(Some(Path::new("bin/exsyncd"))),
            PathBuf::from("bin/exsyncd")
        );
    }
}
