//! The `exsync-sim bitfinex` and `exsync-sim bitfinex-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{
    admin, BitfinexSim, BitfinexSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig,
};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct BitfinexArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    api_secret: String,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    #[command(flatten)]
    dataset: BitfinexDatasetArgs,
    #[command(flatten)]
    limits: BitfinexLimitArgs,
    #[command(flatten)]
    faults: BitfinexFaultArgs,
}

#[derive(Debug, Args)]
pub struct BitfinexDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute), because
    /// the order history reaches two weeks back from now.
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 180)]
    history_days: i64,
    #[arg(long, default_value_t = 3_000)]
    trades: usize,
    /// Closed and cancelled orders of the last two weeks.
    #[arg(long, default_value_t = 150)]
    orders: usize,
    #[arg(long, default_value_t = 4)]
    active_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    #[arg(long, default_value_t = 500)]
    ledgers: usize,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    can_withdraw: bool,
}

#[derive(Debug, Args)]
pub struct BitfinexLimitArgs {
    /// Calls a minute per IP to one authenticated endpoint (Bitfinex: 90 for most).
    #[arg(long, default_value_t = 90)]
    auth_per_minute: u32,
    /// Calls a minute per IP to the candles endpoint.
    #[arg(long, default_value_t = 30)]
    candles_per_minute: u32,
    /// Seconds an IP that passed a limit stays blocked (Bitfinex: 60).
    #[arg(long, default_value_t = 60)]
    block_seconds: i64,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct BitfinexFaultArgs {
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

impl BitfinexDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            (14..=3650).contains(&self.history_days),
            "--history-days must be 14 to 3650"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            end_ms,
            days: self.history_days,
            trades: self.trades,
            orders: self.orders,
            active_orders: self.active_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            ledgers: self.ledgers,
            can_trade: self.can_trade,
            can_withdraw: self.can_withdraw,
        })
    }
}

/// Prints the ground truth of the data set (as served now) as JSON.
pub fn print_truth(args: &BitfinexDatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let out = admin::truth(&ds, real_now_ms());
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first line on stdout names its URL.
pub fn run(args: BitfinexArgs) -> anyhow::Result<()> {
    let config = BitfinexSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            auth_per_minute: args.limits.auth_per_minute.max(1),
            candles_per_minute: args.limits.candles_per_minute.max(1),
            block_ms: args.limits.block_seconds.max(0) * 1000,
        },
        faults: FaultConfig {
            error_rate: args.faults.error_rate.clamp(0.0, 1.0),
            slow_ms: args.faults.slow_ms,
            malformed_rate: args.faults.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
    };
    let listen = config.listen;
    crate::serve::run(
        "bitfinex",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { BitfinexSim::new(config).serve(listener).await },
    )
}
