//! `exsyncctl`: the operator's command line for `exsyncd`.
//!
//! # Brief overview
//!
//! `main` parses the command line (clap), hands the verb to its file in `commands/` and turns
//! the outcome into an exit code. Every command talks to the daemon through
//! `exsync_protocol::Client` only; `validate` runs `exsyncd --validate` instead. Output
//! formats live in `output.rs`.
//!
//! Exit codes (DESIGN.md, "Operator interface"): 0 ok, 1 the operation failed, 2 usage error,
//! 3 daemon unreachable.

mod commands;
mod output;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::Context;

/// Where the daemon listens unless `--socket` or `EXSYNC_SOCKET` say otherwise.
const DEFAULT_SOCKET: &str = "/run/exsync/exsyncd.sock";

/// The operator's command line for exsyncd.
#[derive(Parser, Debug)]
#[command(name = "exsyncctl", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// The daemon's control socket.
    #[arg(long, global = true, env = "EXSYNC_SOCKET", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Print the answer as JSON on stdout and nothing else there.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Daemon, plugins, integrations, last sync and error per stream, problems.
    Status,
    /// Loaded and refused plugins: id, version, API version, file, generation.
    Plugins,
    /// Configured integrations and their state; with NAME, one and its sync policies.
    Integrations(commands::integrations::IntegrationsArgs),
    /// Test an integration's connection: identity, key permissions, clock offset.
    Test(commands::test::TestArgs),
    /// Start a sync now; --wait shows progress and ends with the result.
    Sync(commands::sync::SyncArgs),
    /// Print stored records, oldest first.
    Records(commands::records::RecordsArgs),
    /// Per stream: synced ranges, ranges beyond the exchange's limit, failures.
    Coverage(commands::coverage::CoverageArgs),
    /// Read the configuration and plugin directories again and apply what changed.
    Reload(commands::reload::ReloadArgs),
    /// Check a configuration directory without a daemon.
    Validate(commands::validate::ValidateArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(commands::docs::CompletionsArgs),
    /// Print the manual page (roff) to stdout: `exsyncctl man | man -l -`.
    Man,
    /// Store or rotate an integration's credentials in the daemon's encrypted store.
    Credentials(commands::credentials::CredentialsArgs),
    /// Write an encrypted, consistent copy of the daemon's store to FILE.
    Backup(commands::backup::BackupArgs),
    /// The audit log: every change and credential access, and every refused request.
    Audit(commands::audit::AuditArgs),
    /// Candle series: data sources, list, info, quality report, download, export, sample.
    Data(commands::data::DataArgs),
    /// Pause an integration: no scheduled syncs until `resume` (kept across restarts).
    Pause(commands::pause::PauseArgs),
    /// Resume a paused integration (paused by `pause` or by `on_error = "pause"`).
    Resume(commands::resume::ResumeArgs),
    /// Remove records older than the integrations' retention (--dry-run: show what would go).
    Prune(commands::prune::PruneArgs),
    /// Debugging aids: `debug record NAME --dir DIR` saves a sync's redacted HTTP exchanges.
    Debug(commands::debug_record::DebugArgs),
    /// For plugin authors: `plugin new NAME` makes a connector crate from the template.
    Plugin(commands::plugin_new::PluginArgs),
}

/// How a run ended: the exit codes operators and scripts rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked.
    Ok = 0,
    /// The operation failed (an error answer, a failed stream, an invalid file).
    Failed = 1,
    /// The command line (or the request it made) was wrong.
    Usage = 2,
    /// The daemon could not be reached or refused to talk.
    Unreachable = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    let ctx = Context {
        socket: cli.socket,
        json: cli.json,
    };
    let result = match cli.command {
        Command::Status => commands::status::status(&ctx),
        Command::Plugins => commands::plugins::plugins(&ctx),
        Command::Integrations(args) => commands::integrations::integrations(&ctx, &args),
        Command::Test(args) => commands::test::test(&ctx, &args),
        Command::Sync(args) => commands::sync::sync(&ctx, &args),
        Command::Records(args) => commands::records::records(&ctx, &args),
        Command::Coverage(args) => commands::coverage::coverage(&ctx, &args),
        Command::Reload(args) => commands::reload::reload(&ctx, &args),
        Command::Validate(args) => commands::validate::validate(&ctx, &args),
        Command::Completions(args) => commands::docs::completions(Cli::command(), &args),
        Command::Man => commands::docs::man(Cli::command()),
        Command::Credentials(args) => commands::credentials::credentials(&ctx, &args),
        Command::Backup(args) => commands::backup::backup(&ctx, &args),
        Command::Audit(args) => commands::audit::audit(&ctx, &args),
        Command::Data(args) => commands::data::data(&ctx, &args),
        Command::Pause(args) => commands::pause::pause(&ctx, &args),
        Command::Resume(args) => commands::resume::resume(&ctx, &args),
        Command::Prune(args) => commands::prune::prune(&ctx, &args),
        Command::Debug(args) => commands::debug_record::debug(&ctx, &args),
        Command::Plugin(args) => commands::plugin_new::plugin(&args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(failure) => {
            let exit = failure.exit();
            let text = failure.render();
            if !text.is_empty() {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr.write_all(text.as_bytes());
            }
            exit.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_are_the_documented_numbers() {
        assert_eq!(Exit::Ok as u8, 0);
        assert_eq!(Exit::Failed as u8, 1);
        assert_eq!(Exit::Usage as u8, 2);
        assert_eq!(Exit::Unreachable as u8, 3);
    }

    #[test]
    fn unknown_record_kind_is_a_usage_error() {
        let err = Cli::try_parse_from(["exsyncctl", "records", "x", "--kind", "trades"])
            .expect_err("`trades` is a stream, not a kind");
        assert_eq!(err.exit_code(), 2);
        let ok = Cli::try_parse_from(["exsyncctl", "records", "x", "--kind", "trade"]);
        assert!(ok.is_ok());
    }

    #[test]
    fn socket_defaults_and_json_is_global() {
        let cli = Cli::try_parse_from(["exsyncctl", "status", "--json"]).unwrap();
        assert!(cli.json);
        if std::env::var_os("EXSYNC_SOCKET").is_none() {
            assert_eq!(cli.socket, PathBuf::from(DEFAULT_SOCKET));
        }
        let cli =
            Cli::try_parse_from(["exsyncctl", "--socket", "ctl-test.sock", "plugins"]).unwrap();
        assert_eq!(cli.socket, PathBuf::from("ctl-test.sock"));
    }
}
