//! The `exsync-sim cryptocom` and `exsync-sim cryptocom-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{
    admin, CryptocomSim, CryptocomSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig,
};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct CryptocomArgs {
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
    #[command(flatten)]
    dataset: CryptocomDatasetArgs,
    #[command(flatten)]
    limits: CryptocomLimitArgs,
    #[command(flatten)]
    faults: CryptocomFaultArgs,
}

#[derive(Debug, Args)]
pub struct CryptocomDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute).
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 30)]
    history_days: i64,
    #[arg(long, default_value_t = 600)]
    trades: usize,
    /// Orders without fills (canceled, rejected, expired).
    #[arg(long, default_value_t = 60)]
    orders_extra: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// Staking rewards credited per staked currency and day.
    #[arg(long, default_value_t = 1)]
    rewards_per_day: usize,
}

#[derive(Debug, Args)]
pub struct CryptocomLimitArgs {
    /// `private/get-trades` and `private/get-order-history` requests per second (exchange: 1).
    #[arg(long, default_value_t = 1)]
    history_per_second: u32,
    /// Other private requests per method per 100 ms (exchange: 3).
    #[arg(long, default_value_t = 3)]
    private_per_100ms: u32,
    /// Public requests per method per second (exchange: 100).
    #[arg(long, default_value_t = 100)]
    public_per_second: u32,
    /// `private/staking/*` requests per method per second (exchange: 50).
    #[arg(long, default_value_t = 50)]
    staking_per_second: u32,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct CryptocomFaultArgs {
    /// Fraction of API requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
    /// Fraction of API requests answered 200 with a truncated body.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
}

impl CryptocomDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            (1..=3_000).contains(&self.history_days),
            "--history-days must be 1 to 3000"
        );
        // Two minutes apart at most: the CRO and SOL rewards of one slot are a minute apart.
        anyhow::ensure!(
            self.rewards_per_day <= 720,
            "--rewards-per-day must be 0 to 720"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            end_ms,
            days: self.history_days,
            trades: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            rewards_per_day: self.rewards_per_day,
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &CryptocomDatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let out = admin::truth(&ds).to_string();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first line on stdout names its URL.
pub fn run(args: CryptocomArgs) -> anyhow::Result<()> {
    let config = CryptocomSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            history_per_second: args.limits.history_per_second.max(1),
            private_per_100ms: args.limits.private_per_100ms.max(1),
            public_per_second: args.limits.public_per_second.max(1),
            staking_per_second: args.limits.staking_per_second.max(1),
        },
        faults: FaultConfig {
            error_rate: args.faults.error_rate.clamp(0.0, 1.0),
            slow_ms: args.faults.slow_ms,
            malformed_rate: args.faults.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = config.listen;
    crate::serve::run(
        "cryptocom",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { CryptocomSim::new(config).serve(listener).await },
    )
}
