//! The `exsync-sim coinbase-exchange` and `exsync-sim coinbase-exchange-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{
    admin, CoinbaseExchangeSim, CoinbaseExchangeSimConfig, Dataset, DatasetConfig, FaultConfig,
    LimitConfig,
};
use crate::time::{parse_date_ms, real_now_ms};

#[derive(Debug, Args)]
pub struct CoinbaseExchangeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    /// The API secret, base64 as Coinbase hands it out.
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
    dataset: CoinbaseExchangeDatasetArgs,
    /// Private requests per second per profile (Coinbase: 15, bursts to 30).
    #[arg(long, default_value_t = 15.0)]
    private_rate: f64,
    #[arg(long, default_value_t = 30.0)]
    private_burst: f64,
    /// `/fills` requests per second per profile (Coinbase: 10, bursts to 20).
    #[arg(long, default_value_t = 10.0)]
    fills_rate: f64,
    #[arg(long, default_value_t = 20.0)]
    fills_burst: f64,
    /// Public requests per second per IP (Coinbase: 10, bursts to 15).
    #[arg(long, default_value_t = 10.0)]
    public_rate: f64,
    #[arg(long, default_value_t = 15.0)]
    public_burst: f64,
    /// Turn every limit off.
    #[arg(long)]
    no_rate_limit: bool,
    /// Fraction of API requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
}

#[derive(Debug, Args)]
pub struct CoinbaseExchangeDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The end of the data (UTC, YYYY-MM-DD, midnight); default now (to the minute).
    #[arg(long)]
    history_end: Option<String>,
    /// Days of history before the end.
    #[arg(long, default_value_t = 120)]
    history_days: i64,
    /// Filled orders (one or two fills each).
    #[arg(long, default_value_t = 300)]
    orders: usize,
    /// Orders canceled without a fill.
    #[arg(long, default_value_t = 40)]
    canceled_orders: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    #[arg(long, default_value_t = 30)]
    deposits: usize,
    #[arg(long, default_value_t = 20)]
    withdrawals: usize,
}

/// `exsync-sim coinbase-exchange-truth`: the data-set arguments.
#[derive(Debug, Args)]
pub struct CoinbaseExchangeTruthArgs {
    #[command(flatten)]
    dataset: CoinbaseExchangeDatasetArgs,
}

impl CoinbaseExchangeDatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let end_ms = match &self.history_end {
            Some(day) => parse_date_ms(day)
                .map_err(anyhow::Error::msg)
                .context("Failed to read --history-end")?,
            None => real_now_ms().div_euclid(60_000) * 60_000,
        };
        anyhow::ensure!(
            (2..=3650).contains(&self.history_days),
            "--history-days must be 2 to 3650"
        );
        Ok(DatasetConfig {
            seed: self.seed,
            end_ms,
            days: self.history_days,
            orders: self.orders,
            canceled: self.canceled_orders,
            open_orders: self.open_orders,
            deposits: self.deposits.max(1),
            withdrawals: self.withdrawals.max(1),
        })
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &CoinbaseExchangeTruthArgs) -> anyhow::Result<()> {
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
pub fn run(args: CoinbaseExchangeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        super::b64::decode(&args.api_secret).is_some(),
        "--api-secret must be base64, as Coinbase Exchange secrets are"
    );
    let config = CoinbaseExchangeSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        passphrase: args.passphrase,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            private_rate: args.private_rate.max(0.01),
            private_burst: args.private_burst.max(1.0),
            fills_rate: args.fills_rate.max(0.01),
            fills_burst: args.fills_burst.max(1.0),
            public_rate: args.public_rate.max(0.01),
            public_burst: args.public_burst.max(1.0),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            fail_next: 0,
        },
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = config.listen;
    crate::serve::run(
        "coinbase-exchange",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { CoinbaseExchangeSim::new(config).serve(listener).await },
    )
}
