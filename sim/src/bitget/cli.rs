//! The `exsync-sim bitget` and `exsync-sim bitget-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{render, BitgetSim, BitgetSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct BitgetArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    api_secret: String,
    #[arg(long)]
    passphrase: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    #[command(flatten)]
    dataset: BitgetDatasetArgs,
    #[command(flatten)]
    limits: BitgetLimitArgs,
    #[command(flatten)]
    faults: BitgetFaultArgs,
}

#[derive(Debug, Args)]
pub struct BitgetDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute), because
    /// Bitget serves fills, orders and bills of the last 90 days only.
    #[arg(long)]
    history_end: Option<String>,
    /// Days of deposits and withdrawals before the end.
    #[arg(long, default_value_t = 200)]
    history_days: i64,
    /// Days of fills, orders and bills before the end (1 to 89).
    #[arg(long, default_value_t = 80)]
    trade_days: i64,
    /// Fills (of filled orders).
    #[arg(long, default_value_t = 900)]
    trades: usize,
    /// Orders cancelled without a fill.
    #[arg(long, default_value_t = 60)]
    orders_extra: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    #[arg(long, default_value_t = 60)]
    deposits: usize,
    #[arg(long, default_value_t = 40)]
    withdrawals: usize,
    /// Futures fills (each with its order and fee bill).
    #[arg(long, default_value_t = 150)]
    futures_trades: usize,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_withdraw: bool,
    /// A unified trading account (`/api/v3`) instead of a classic one.
    #[arg(long)]
    uta: bool,
}

#[derive(Debug, Args)]
pub struct BitgetLimitArgs {
    /// Requests per second per endpoint for every endpoint (default: each endpoint's documented
    /// limit, 1 to 20).
    #[arg(long)]
    uid_limit: Option<u32>,
    /// Requests per minute per IP (Bitget: 6000).
    #[arg(long, default_value_t = 6_000)]
    ip_limit: u32,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct BitgetFaultArgs {
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

/// `exsync-sim bitget-truth`: the data-set arguments.
#[derive(Debug, Args)]
pub struct BitgetTruthArgs {
    #[command(flatten)]
    dataset: BitgetDatasetArgs,
}

impl BitgetDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            (1..=89).contains(&self.trade_days),
            "--trade-days must be 1 to 89: Bitget serves 90 days of fills, orders and bills"
        );
        anyhow::ensure!(self.history_days >= 1, "--history-days must be at least 1");
        Ok(DatasetConfig {
            seed: self.seed,
            end_ms,
            days: self.history_days,
            trade_days: self.trade_days,
            fills: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            futures_fills: self.futures_trades,
            can_trade: self.can_trade,
            can_withdraw: self.can_withdraw,
            uta: self.uta,
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &BitgetTruthArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.dataset.to_config()?);
    let out = render::truth(&ds).to_string();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first line on stdout names its URL.
pub fn run(args: BitgetArgs) -> anyhow::Result<()> {
    let config = BitgetSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        passphrase: args.passphrase,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            endpoint_limit: args.limits.uid_limit.map(|l| l.max(1)),
            ip_per_minute: args.limits.ip_limit.max(1),
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
        "bitget",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { BitgetSim::new(config).serve(listener).await },
    )
}
