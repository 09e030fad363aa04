//! The `exsync-sim gateio` and `exsync-sim gateio-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{admin, Dataset, DatasetConfig, FaultConfig, GateioSim, GateioSimConfig, LimitConfig};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct GateioArgs {
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
    dataset: GateioDatasetArgs,
    #[command(flatten)]
    limits: GateioLimitArgs,
    #[command(flatten)]
    faults: GateioFaultArgs,
}

#[derive(Debug, Args)]
pub struct GateioDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute).
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 90)]
    history_days: i64,
    /// Spot fills (in orders of one to three).
    #[arg(long, default_value_t = 3_000)]
    trades: usize,
    /// Orders cancelled without a fill.
    #[arg(long, default_value_t = 80)]
    orders_extra: usize,
    #[arg(long, default_value_t = 5)]
    open_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// USDT futures fills, at most (orders of one or two fills until they are used up); a
    /// third as many BTC-settled ones.
    #[arg(long, default_value_t = 300)]
    futures_trades: usize,
    /// Entries of the USDT delivery account book.
    #[arg(long, default_value_t = 300)]
    delivery_book: usize,
    /// Options fills, one order each, over two underlyings.
    #[arg(long, default_value_t = 120)]
    options_trades: usize,
    /// No BTC-settled futures account (Gate then answers that the user has none).
    #[arg(long)]
    no_btc_futures: bool,
    /// The account's mode: classic, single_currency, multi_currency or portfolio.
    #[arg(long, default_value = "classic")]
    unified_mode: String,
}

#[derive(Debug, Args)]
pub struct GateioLimitArgs {
    /// Requests per endpoint per window (Gate: 200 per 10 s for most reads).
    #[arg(long, default_value_t = 200)]
    endpoint_limit: u32,
    #[arg(long, default_value_t = 10_000)]
    limit_window_ms: i64,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct GateioFaultArgs {
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

/// `exsync-sim gateio-truth`: the data-set arguments.
#[derive(Debug, Args)]
pub struct GateioTruthArgs {
    #[command(flatten)]
    dataset: GateioDatasetArgs,
}

impl GateioDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            matches!(
                self.unified_mode.as_str(),
                "classic" | "single_currency" | "multi_currency" | "portfolio"
            ),
            "--unified-mode must be classic, single_currency, multi_currency or portfolio"
        );
        anyhow::ensure!(
            (1..=3650).contains(&self.history_days),
            "--history-days must be 1 to 3650"
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
            futures_trades: self.futures_trades,
            btc_futures: !self.no_btc_futures,
            delivery_book: self.delivery_book,
            options_trades: self.options_trades,
            unified_mode: self.unified_mode.clone(),
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &GateioTruthArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.dataset.to_config()?);
    let out = admin::truth(&ds).to_string();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first line on stdout names its URL.
pub fn run(args: GateioArgs) -> anyhow::Result<()> {
    let config = GateioSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            endpoint_limit: args.limits.endpoint_limit.max(1),
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
        "gateio",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { GateioSim::new(config).serve(listener).await },
    )
}
