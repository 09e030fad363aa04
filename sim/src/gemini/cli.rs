//! The `exsync-sim gemini` and `exsync-sim gemini-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{Dataset, DatasetConfig, FaultConfig, GeminiSim, GeminiSimConfig, LimitConfig};
use crate::time::parse_date_ms;

#[derive(Debug, Args)]
pub struct GeminiArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    api_secret: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Refuse nonces more than 30 s from the server's time.
    #[arg(long)]
    time_nonce: bool,
    /// Answer the staking balances with `MissingRole`.
    #[arg(long)]
    deny_staking: bool,
    /// The key is master-scoped: calls name the account `primary`; `transactions` is served.
    #[arg(long)]
    master_key: bool,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Public requests per minute (Gemini: 120).
    #[arg(long, default_value_t = 120)]
    public_per_minute: usize,
    /// Private requests per minute (Gemini: 600).
    #[arg(long, default_value_t = 600)]
    private_per_minute: usize,
    /// At most one `transfers` request in this many ms (Gemini: 5000; 0 turns it off).
    #[arg(long, default_value_t = 5_000)]
    transfers_interval_ms: i64,
    /// Fraction of API requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
    /// Fraction of API requests answered 200 with a truncated body.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    #[command(flatten)]
    dataset: GeminiTruthArgs,
}

#[derive(Debug, Args)]
pub struct GeminiTruthArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No data on or after this day (UTC), so the truth does not depend on today's date.
    #[arg(long, default_value = "2026-06-01")]
    history_end: String,
    #[arg(long, default_value_t = 1_500)]
    trades: usize,
    #[arg(long, default_value_t = 60)]
    orders_extra: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    #[arg(long, default_value_t = 60)]
    deposits: usize,
    #[arg(long, default_value_t = 30)]
    withdrawals: usize,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    auditor: bool,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    trader: bool,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    fund_manager: bool,
}

impl GeminiTruthArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let start = parse_date_ms(&self.history_start)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-start")?;
        let end = parse_date_ms(&self.history_end)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-end")?;
        anyhow::ensure!(
            end - start > 2 * 86_400_000,
            "--history-end must be more than two days after --history-start"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            history_start_ms: start,
            history_end_ms: end,
            trades: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            auditor: self.auditor,
            trader: self.trader,
            fund_manager: self.fund_manager,
        })
    }
}

/// Prints the ground truth of the data set the same arguments would serve.
pub fn print_truth(args: &GeminiTruthArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until Ctrl-C.
pub fn run(args: GeminiArgs) -> anyhow::Result<()> {
    let config = GeminiSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            public_per_minute: args.public_per_minute.max(1),
            private_per_minute: args.private_per_minute.max(1),
            transfers_interval_ms: args.transfers_interval_ms.max(0),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            malformed_rate: args.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
        time_nonce: args.time_nonce,
        deny_staking: args.deny_staking,
        master_key: args.master_key,
    };
    let listen = config.listen;
    crate::serve::run(
        "gemini",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { GeminiSim::new(config).serve(listener).await },
    )
}
