//! The `exsync-sim falconx` and `exsync-sim falconx-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;

use super::{DatasetConfig, FalconxSim, FalconxSimConfig, FaultConfig, LimitConfig};
use crate::time::parse_date_ms;

/// `exsync-sim falconx`: serve the FalconX simulator until killed.
#[derive(Debug, Args)]
pub struct FalconxArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    passphrase: String,
    /// The secret as FalconX issues it: standard base64.
    #[arg(long)]
    secret: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Requests a second the key's token bucket refills.
    #[arg(long, default_value_t = 10.0)]
    rate_limit_rps: f64,
    /// The bucket's size.
    #[arg(long, default_value_t = 10.0)]
    rate_limit_burst: f64,
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
    dataset: FalconxDatasetArgs,
}

/// The account: `exsync-sim falconx-truth` prints it.
#[derive(Debug, Args)]
pub struct FalconxDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No data on or after this day (UTC), so the truth does not depend on today's date.
    #[arg(long, default_value = "2026-06-01")]
    history_end: String,
    /// Filled executed quotes.
    #[arg(long, default_value_t = 400)]
    quotes: usize,
    /// Quotes placed as orders that did not fill.
    #[arg(long, default_value_t = 12)]
    unfilled_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// An account without derivatives: `/v1/derivatives` and `/v1/derivatives/margins`
    /// answer 403.
    #[arg(long)]
    no_derivatives: bool,
    /// Derivative trades (options, NDFs, swaps), for an account with derivatives.
    #[arg(long, default_value_t = 30)]
    derivative_trades: usize,
}

impl FalconxDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let start = parse_date_ms(&self.history_start)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-start")?;
        let end = parse_date_ms(&self.history_end)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-end")?;
        anyhow::ensure!(
            end > start + 3 * 86_400_000,
            "--history-end must be at least three days after --history-start"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            history_start_ms: start,
            history_end_ms: end,
            quotes: self.quotes,
            unfilled_orders: self.unfilled_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            derivatives: !self.no_derivatives,
            derivative_trades: self.derivative_trades,
        })
    }
}

/// Prints the ground truth of the account as JSON.
pub fn print_truth(args: &FalconxDatasetArgs) -> anyhow::Result<()> {
    let ds = super::Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL.
pub fn run(args: FalconxArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        crate::encoding::base64_decode(&args.secret).is_some(),
        "--secret must be standard base64, as FalconX issues secrets"
    );
    let config = FalconxSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        passphrase: args.passphrase,
        secret: args.secret,
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
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = config.listen;
    crate::serve::run("falconx", listen, None, move |listener| async move {
        FalconxSim::new(config).serve(listener).await
    })
}
