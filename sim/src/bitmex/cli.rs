//! The `exsync-sim bitmex` and `exsync-sim bitmex-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{admin, BitmexSim, BitmexSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct BitmexArgs {
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
    dataset: BitmexDatasetArgs,
    #[command(flatten)]
    limits: BitmexLimitArgs,
    #[command(flatten)]
    faults: BitmexFaultArgs,
}

#[derive(Debug, Args)]
pub struct BitmexDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute).
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 180)]
    history_days: i64,
    /// Executions of type Trade (each with its filled order).
    #[arg(long, default_value_t = 1_500)]
    trades: usize,
    /// Orders without fills (cancelled, rejected, expired).
    #[arg(long, default_value_t = 80)]
    orders_extra: usize,
    #[arg(long, default_value_t = 5)]
    open_orders: usize,
    /// Deposits per currency.
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    /// Withdrawals per currency.
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// Transfers per currency.
    #[arg(long, default_value_t = 10)]
    transfers: usize,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    can_withdraw: bool,
}

#[derive(Debug, Args)]
pub struct BitmexLimitArgs {
    /// Signed requests per minute per key (BitMEX: 120), as a token bucket.
    #[arg(long, default_value_t = 120)]
    private_limit: u32,
    /// Unauthenticated requests per minute per IP (BitMEX: 30).
    #[arg(long, default_value_t = 30)]
    public_limit: u32,
    /// How long the buckets take to refill completely, in ms (BitMEX: a minute).
    #[arg(long, default_value_t = 60_000)]
    limit_window_ms: i64,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct BitmexFaultArgs {
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

/// `exsync-sim bitmex-truth`: the data-set arguments and the key the truth names.
#[derive(Debug, Args)]
pub struct BitmexTruthArgs {
    #[arg(long, default_value = "KEY")]
    api_key: String,
    #[command(flatten)]
    dataset: BitmexDatasetArgs,
}

impl BitmexDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            (1..=3650).contains(&self.history_days),
            "--history-days must be 1 to 3650"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            end_ms,
            days: self.history_days,
            executions: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            transfers: self.transfers,
            can_trade: self.can_trade,
            can_withdraw: self.can_withdraw,
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &BitmexTruthArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.dataset.to_config()?);
    let out = admin::truth(&ds, &args.api_key, real_now_ms()).to_string();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first line on stdout names its URL.
pub fn run(args: BitmexArgs) -> anyhow::Result<()> {
    let config = BitmexSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            private_limit: args.limits.private_limit.max(1),
            public_limit: args.limits.public_limit.max(1),
            window_ms: args.limits.limit_window_ms.max(1),
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
        "bitmex",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { BitmexSim::new(config).serve(listener).await },
    )
}
