//! The `exsync-sim deribit` and `exsync-sim deribit-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{
    admin, Dataset, DatasetConfig, DeribitSim, DeribitSimConfig, FaultConfig, LimitConfig,
};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct DeribitArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The Client ID the account accepts.
    #[arg(long)]
    api_key: String,
    /// The Client Secret.
    #[arg(long)]
    api_secret: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    #[command(flatten)]
    dataset: DeribitDatasetArgs,
    #[command(flatten)]
    limits: DeribitLimitArgs,
    #[command(flatten)]
    faults: DeribitFaultArgs,
}

#[derive(Debug, Args)]
pub struct DeribitDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute), so the
    /// recent-history rules of Deribit (open orders, a week of trades) have data to act on.
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 120)]
    history_days: i64,
    #[arg(long, default_value_t = 1_500)]
    trades: usize,
    /// Orders cancelled without a fill.
    #[arg(long, default_value_t = 80)]
    orders_extra: usize,
    #[arg(long, default_value_t = 5)]
    open_orders: usize,
    #[arg(long, default_value_t = 60)]
    deposits: usize,
    #[arg(long, default_value_t = 30)]
    withdrawals: usize,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_withdraw: bool,
    /// The key's `wallet:read` scope (deposits and withdrawals).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_read_wallet: bool,
}

#[derive(Debug, Args)]
pub struct DeribitLimitArgs {
    /// Credits one request costs (Deribit: 500 outside the matching engine).
    #[arg(long, default_value_t = 500)]
    credit_cost: u64,
    /// Credits a pool holds at most (Deribit: 50,000).
    #[arg(long, default_value_t = 50_000)]
    max_credits: u64,
    /// Credits a pool gains per second (Deribit: 10,000).
    #[arg(long, default_value_t = 10_000)]
    refill_per_second: u64,
    /// `private/get_transaction_log` requests per second (Deribit: 1).
    #[arg(long, default_value_t = 1)]
    log_per_second: u64,
    /// `private/get_transaction_log` requests tolerated at once.
    #[arg(long, default_value_t = 2)]
    log_burst: u64,
    /// Turn the credit limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct DeribitFaultArgs {
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

/// `exsync-sim deribit-truth`: the data-set arguments.
#[derive(Debug, Args)]
pub struct DeribitTruthArgs {
    #[command(flatten)]
    dataset: DeribitDatasetArgs,
}

impl DeribitDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            (2..=3650).contains(&self.history_days),
            "--history-days must be 2 to 3650"
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
            can_trade: self.can_trade,
            can_withdraw: self.can_withdraw,
            can_read_wallet: self.can_read_wallet,
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &DeribitTruthArgs) -> anyhow::Result<()> {
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
pub fn run(args: DeribitArgs) -> anyhow::Result<()> {
    let config = DeribitSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            cost: args.limits.credit_cost.max(1),
            max_credits: args.limits.max_credits,
            refill_per_second: args.limits.refill_per_second,
            log_per_second: args.limits.log_per_second,
            log_burst: args.limits.log_burst,
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
        "deribit",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { DeribitSim::new(config).serve(listener).await },
    )
}
