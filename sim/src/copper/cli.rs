//! The `exsync-sim copper` and `exsync-sim copper-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{CopperSim, CopperSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

/// `exsync-sim copper`: serve the Copper simulator until killed.
#[derive(Debug, Args)]
pub struct CopperArgs {
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
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Requests allowed per window (Copper: 1,000 per 5 minutes per user and organization).
    #[arg(long, default_value_t = 1_000)]
    rate_limit: usize,
    #[arg(long, default_value_t = 300_000)]
    rate_window_ms: i64,
    /// Turn the rate limit off.
    #[arg(long)]
    no_rate_limit: bool,
    /// Fraction of API requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Fraction of API requests answered 200 with a truncated body.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
    #[command(flatten)]
    dataset: CopperDatasetArgs,
}

/// The organization: `exsync-sim copper-truth` prints it.
#[derive(Debug, Args)]
pub struct CopperDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value = "sim-organization-7d3f")]
    organization_id: String,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No order on or after this day (UTC); default now (to the minute).
    #[arg(long)]
    history_end: Option<String>,
    #[arg(long, default_value_t = 300)]
    trades: usize,
    #[arg(long, default_value_t = 30)]
    orders_extra: usize,
    #[arg(long, default_value_t = 3)]
    open_orders: usize,
    #[arg(long, default_value_t = 60)]
    deposits: usize,
    #[arg(long, default_value_t = 40)]
    withdrawals: usize,
    #[arg(long, default_value_t = 4)]
    pending_transfers: usize,
    /// Staking rewards and wallet messages.
    #[arg(long, default_value_t = 20)]
    other_orders: usize,
}

impl CopperDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let start = parse_date_ms(&self.history_start)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-start")?;
        let end = match &self.history_end {
            Some(d) => parse_date_ms(d)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms() / MINUTE_MS * MINUTE_MS,
        };
        anyhow::ensure!(
            end > start + 3 * 86_400_000,
            "--history-end must be at least three days after --history-start"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            organization_id: self.organization_id.clone(),
            history_start_ms: start,
            history_end_ms: end,
            trades: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            pending_transfers: self.pending_transfers,
            other_orders: self.other_orders,
        })
    }
}

/// Prints the ground truth of the organization as JSON.
pub fn print_truth(args: &CopperDatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL (the API
/// lives under `/platform` below it).
pub fn run(args: CopperArgs) -> anyhow::Result<()> {
    let config = CopperSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            requests: args.rate_limit.max(1),
            window_ms: args.rate_window_ms.max(1),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            malformed_rate: args.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = config.listen;
    crate::serve::run(
        "copper",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { CopperSim::new(config).serve(listener).await },
    )
}
