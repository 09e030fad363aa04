//! The `exsync-sim b2c2` and `exsync-sim b2c2-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;

use super::{B2c2Sim, B2c2SimConfig, Dataset, DatasetConfig, LimitConfig};
use crate::faults::FaultConfig;
use crate::time::parse_date_ms;

/// `exsync-sim b2c2`: serve the B2C2 simulator until killed.
#[derive(Debug, Args)]
pub struct B2c2Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The API token the account accepts (`Authorization: Token <token>`).
    #[arg(long)]
    token: String,
    /// Milliseconds added to the real clock to make the server's time (`Date` header).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Requests a second the token's bucket refills.
    #[arg(long, default_value_t = 10.0)]
    rate_limit_rps: f64,
    /// The bucket's size.
    #[arg(long, default_value_t = 20.0)]
    rate_limit_burst: f64,
    /// Turn the rate limit off.
    #[arg(long)]
    no_rate_limit: bool,
    /// The biggest list offset served; beyond it error 1102.
    #[arg(long, default_value_t = 5000)]
    max_offset: usize,
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
    dataset: B2c2DatasetArgs,
}

/// The account: `exsync-sim b2c2-truth` prints it.
#[derive(Debug, Args)]
pub struct B2c2DatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No data on or after this day (UTC), so the truth does not depend on today's date.
    #[arg(long, default_value = "2026-06-01")]
    history_end: String,
    #[arg(long, default_value_t = 300)]
    orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 30)]
    withdrawals: usize,
    #[arg(long, default_value_t = 3)]
    pending_withdrawals: usize,
}

impl B2c2DatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let start = parse_date_ms(&self.history_start)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-start")?;
        let end = parse_date_ms(&self.history_end)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-end")?;
        anyhow::ensure!(end > start, "--history-end must be after --history-start");
        Ok(DatasetConfig {
            seed: self.seed,
            history_start_ms: start,
            history_end_ms: end,
            orders: self.orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            pending_withdrawals: self.pending_withdrawals.min(self.withdrawals),
        })
    }
}

/// Prints the ground truth of the account as JSON.
pub fn print_truth(args: &B2c2DatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL.
pub fn run(args: B2c2Args) -> anyhow::Result<()> {
    let config = B2c2SimConfig {
        listen: args.listen,
        token: args.token,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            per_second: args.rate_limit_rps.max(0.0),
            burst: args.rate_limit_burst.max(1.0),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            malformed_rate: args.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
        max_offset: args.max_offset,
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = config.listen;
    crate::serve::run("b2c2", listen, None, move |listener| async move {
        B2c2Sim::new(config).serve(listener).await
    })
}
