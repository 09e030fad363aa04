//! The `exsync-sim bybit` and `exsync-sim bybit-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{render, BybitSim, BybitSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig};
use crate::time::{parse_date_ms, real_now_ms, MINUTE_MS};

#[derive(Debug, Args)]
pub struct BybitArgs {
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
    dataset: BybitDatasetArgs,
    #[command(flatten)]
    limits: BybitLimitArgs,
    #[command(flatten)]
    faults: BybitFaultArgs,
}

#[derive(Debug, Args)]
pub struct BybitDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute), because
    /// Bybit serves two years of history, and orders closed without a fill for a day only.
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 180)]
    history_days: i64,
    /// Executions of type Trade.
    #[arg(long, default_value_t = 1_200)]
    trades: usize,
    /// Orders without fills (cancelled, rejected, deactivated).
    #[arg(long, default_value_t = 60)]
    orders_extra: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// Funding fees of perpetuals (executions of type Funding).
    #[arg(long, default_value_t = 12)]
    funding_fees: usize,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_withdraw: bool,
    /// A classic (non-unified) account: its ledger is the contract wallet's transaction log.
    #[arg(long)]
    classic: bool,
}

#[derive(Debug, Args)]
pub struct BybitLimitArgs {
    /// Requests per second per endpoint for the account (Bybit: 10 for most reads).
    #[arg(long, default_value_t = 10)]
    uid_limit: u32,
    /// Requests per IP per window before a 403 ban (Bybit: 600 per 5 s).
    #[arg(long, default_value_t = 600)]
    ip_limit: u32,
    #[arg(long, default_value_t = 5_000)]
    ip_window_ms: i64,
    #[arg(long, default_value_t = 600)]
    ip_ban_seconds: i64,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
}

#[derive(Debug, Args)]
pub struct BybitFaultArgs {
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

/// `exsync-sim bybit-truth`: the data-set arguments and the key the truth names.
#[derive(Debug, Args)]
pub struct BybitTruthArgs {
    #[arg(long, default_value = "KEY")]
    api_key: String,
    #[command(flatten)]
    dataset: BybitDatasetArgs,
}

impl BybitDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(MINUTE_MS) * MINUTE_MS,
        };
        anyhow::ensure!(
            (1..=720).contains(&self.history_days),
            "--history-days must be 1 to 720: Bybit serves two years"
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
            funding_fees: self.funding_fees,
            can_trade: self.can_trade,
            can_withdraw: self.can_withdraw,
            classic: self.classic,
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &BybitTruthArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.dataset.to_config()?);
    let out = render::truth(&ds, &args.api_key).to_string();
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first line on stdout names its URL.
pub fn run(args: BybitArgs) -> anyhow::Result<()> {
    let config = BybitSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_rate_limit,
            ip_limit: args.limits.ip_limit.max(1),
            ip_window_ms: args.limits.ip_window_ms.max(1),
            ip_ban_ms: args.limits.ip_ban_seconds.max(0) * 1000,
            uid_limit: args.limits.uid_limit.max(1),
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
        "bybit",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { BybitSim::new(config).serve(listener).await },
    )
}
