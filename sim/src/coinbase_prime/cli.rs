//! The `exsync-sim coinbase-prime` and `exsync-sim coinbase-prime-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;

use super::{CoinbasePrimeSim, CoinbasePrimeSimConfig, DatasetConfig, FaultConfig, LimitConfig};
use crate::time::parse_date_ms;

/// `exsync-sim coinbase-prime`: serve the Coinbase Prime simulator until killed.
#[derive(Debug, Args)]
pub struct CoinbasePrimeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    access_key: String,
    #[arg(long)]
    passphrase: String,
    /// The signing key, used as its UTF-8 bytes (Prime's form).
    #[arg(long)]
    signing_key: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Requests a second the portfolio's token bucket refills (Prime: 25).
    #[arg(long, default_value_t = 25.0)]
    rate_limit_rps: f64,
    /// The bucket's size (Prime: bursts of 50).
    #[arg(long, default_value_t = 50.0)]
    rate_limit_burst: f64,
    /// Turn the rate limit off.
    #[arg(long)]
    no_rate_limit: bool,
    /// Fraction of API requests answered 500/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
    #[command(flatten)]
    dataset: CoinbasePrimeDatasetArgs,
}

/// The portfolio: `exsync-sim coinbase-prime-truth` prints it.
#[derive(Debug, Args)]
pub struct CoinbasePrimeDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value = "6b9e7d5c-1f2a-4b3c-8d4e-5f6a7b8c9d0e")]
    portfolio_id: String,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No data on or after this day (UTC), so the truth does not depend on today's date.
    #[arg(long, default_value = "2026-06-01")]
    history_end: String,
    #[arg(long, default_value_t = 400)]
    fills: usize,
    /// Canceled and expired orders, beyond those owning the fills.
    #[arg(long, default_value_t = 40)]
    orders_extra: usize,
    #[arg(long, default_value_t = 3)]
    open_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// Rewards, conversions, billing and staking transactions.
    #[arg(long, default_value_t = 20)]
    other_transactions: usize,
}

impl CoinbasePrimeDatasetArgs {
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
            portfolio_id: self.portfolio_id.clone(),
            history_start_ms: start,
            history_end_ms: end,
            fills: self.fills,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            other_transactions: self.other_transactions,
        })
    }
}

/// Prints the ground truth of the portfolio as JSON.
pub fn print_truth(args: &CoinbasePrimeDatasetArgs) -> anyhow::Result<()> {
    let ds = super::Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL.
pub fn run(args: CoinbasePrimeArgs) -> anyhow::Result<()> {
    let config = CoinbasePrimeSimConfig {
        listen: args.listen,
        access_key: args.access_key,
        passphrase: args.passphrase,
        signing_key: args.signing_key,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            per_second: args.rate_limit_rps.max(0.0),
            burst: args.rate_limit_burst.max(1.0),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = config.listen;
    crate::serve::run("coinbase-prime", listen, None, move |listener| async move {
        CoinbasePrimeSim::new(config).serve(listener).await
    })
}
