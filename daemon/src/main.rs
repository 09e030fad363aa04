//! The `exsyncd` binary: parses flags, sets up logging, runs the daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use exsyncd::config::{Overrides, Settings, DEFAULT_CONFIG_DIR};

/// Keeps a complete, exact, local copy of exchange accounts.
#[derive(Parser, Debug)]
#[command(name = "exsyncd", version)]
struct Args {
    /// Directory holding exsyncd.toml and integrations.d/.
    #[arg(long, global = true, value_name = "DIR", default_value = DEFAULT_CONFIG_DIR)]
    config_dir: PathBuf,
    /// Where the store and the plugin copies live [default: /var/lib/exsync].
    #[arg(long, global = true, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Directory of connector plugins (*.so) [default: /usr/lib/exsync/plugins].
    #[arg(long, value_name = "DIR")]
    plugin_dir: Option<PathBuf>,
    /// Control socket [default: /run/exsync/exsyncd.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Address of the Prometheus endpoint [default: 127.0.0.1:9464].
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Check the configuration directory against the plugins, print a JSON report, and exit
    /// (0: valid, 1: invalid). Used by `exsyncctl validate`.
    #[arg(long)]
    validate: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a new random master key (64 hex digits) on stdout. Save it to a file of mode 0600
    /// and name it with LoadCredential=exsync.key:FILE, key_file, or EXSYNC_KEY_FILE.
    Keygen,
    /// Replace the store with an encrypted backup made by `exsyncctl backup` (exsyncd must be
    /// stopped; the master key must be the one the backup was made with).
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace an existing store.
        #[arg(long)]
        force: bool,
    },
}

/// `exsyncd keygen`
fn keygen() -> ExitCode {
    let key = exsyncd::credentials::generate_key();
    println!("{}", key.as_str());
    ExitCode::SUCCESS
}

/// `exsyncd restore FILE [--force]`
fn restore(settings: &Settings, file: &std::path::Path, force: bool) -> ExitCode {
    let run = || -> anyhow::Result<()> {
        let path = exsyncd::credentials::locate_key(settings.key_file.as_deref()).ok_or_else(|| {
            anyhow::anyhow!("no master key is configured (systemd credential exsync.key, key_file in exsyncd.toml, or EXSYNC_KEY_FILE): a backup opens only with its key")
        })?;
        let key = exsyncd::credentials::load_key(&path)?;
        std::fs::create_dir_all(&settings.state_dir)?;
        exsyncd::backup::restore(file, &key, &settings.state_dir.join("exsync.redb"), force)
    };
    match run() {
        Ok(()) => {
            println!(
                "restored {} into {}",
                file.display(),
                settings.state_dir.join("exsync.redb").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("exsyncd: restore failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Caps glibc's malloc arenas. By default every thread that allocates may get its own arena
/// (up to 8 per core), each keeping the freed pages of the largest page it ever held; the
/// blocking threads that fetch and commit pages take turns, so a long sync grew one such
/// arena per thread. Two arenas keep the pipeline's two threads apart and RSS flat.
fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    cap_malloc_arenas();
    let args = Args::parse();
    if matches!(args.command, Some(Command::Keygen)) {
        return keygen();
    }
    if args.validate {
        let metrics = exsyncd::metrics::Metrics::new();
        let report =
            exsyncd::supervisor::validate(&args.config_dir, args.plugin_dir.as_deref(), &metrics);
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
        return if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let overrides = Overrides {
        state_dir: args.state_dir,
        plugin_dir: args.plugin_dir,
        socket: args.socket,
        metrics_listen: args.metrics_listen,
    };
    let settings = match Settings::load(&args.config_dir, overrides.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("exsyncd: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Restore { file, force }) = &args.command {
        return restore(&settings, file, *force);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("exsyncd")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("exsyncd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(exsyncd::daemon::run(settings, overrides));
    // A plugin call that never returned (the engine gave up on it) still holds a thread of the
    // blocking pool: wait a little for the rest (the store closes cleanly), not for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("exsyncd failed: {e:#}");
            eprintln!("exsyncd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
