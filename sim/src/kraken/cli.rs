//! The `exsync-sim kraken` and `exsync-sim kraken-truth` subcommands.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;

use super::{DatasetConfig, FaultConfig, KrakenSim, KrakenSimConfig, LimitConfig};
use crate::time::parse_date_ms;

/// `exsync-sim kraken`: serve the Kraken simulator until killed.
#[derive(Debug, Args)]
pub struct KrakenArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    /// The private key, base64 (Kraken's form).
    #[arg(long)]
    api_secret: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// A nonce another client already used with this key: every nonce must be above it.
    #[arg(long, default_value_t = 0)]
    last_nonce: u64,
    /// The call counter's maximum (Kraken: 15 Starter, 20 Intermediate and Pro).
    #[arg(long, default_value_t = 20.0)]
    rate_limit_max: f64,
    /// How much the call counter decays per second (Kraken: 0.33, 0.5, 1).
    #[arg(long, default_value_t = 1.0)]
    rate_limit_decay: f64,
    /// A private method the key has no right to (`Ledgers`); repeat for more.
    #[arg(long = "deny-permission")]
    deny_permission: Vec<String>,
    /// Turn the call counter off.
    #[arg(long)]
    no_rate_limit: bool,
    /// Fraction of API requests answered 500/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
    #[command(flatten)]
    dataset: KrakenDatasetArgs,
}

/// The account: `exsync-sim kraken-truth` prints it.
#[derive(Debug, Args)]
pub struct KrakenDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No data on or after this day (UTC), so the truth does not depend on today's date.
    #[arg(long, default_value = "2026-06-01")]
    history_end: String,
    #[arg(long, default_value_t = 300)]
    trades: usize,
    /// Canceled and expired orders, beyond those owning the trades.
    #[arg(long, default_value_t = 40)]
    orders_extra: usize,
    #[arg(long, default_value_t = 3)]
    open_orders: usize,
    #[arg(long, default_value_t = 40)]
    deposits: usize,
    #[arg(long, default_value_t = 25)]
    withdrawals: usize,
    /// Earn rewards (ledger entries of the earn balances).
    #[arg(long, default_value_t = 30)]
    rewards: usize,
}

impl KrakenDatasetArgs {
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
            trades: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            rewards: self.rewards,
        })
    }
}

/// Prints the ground truth of the account as JSON.
pub fn print_truth(args: &KrakenDatasetArgs) -> anyhow::Result<()> {
    let ds = super::Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL.
pub fn run(args: KrakenArgs) -> anyhow::Result<()> {
    let config = KrakenSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            max: args.rate_limit_max,
            decay_per_s: args.rate_limit_decay.max(0.0),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
        last_nonce: args.last_nonce,
        denied: args.deny_permission,
    };
    let listen = config.listen;
    crate::serve::run("kraken", listen, None, move |listener| async move {
        KrakenSim::new(config).serve(listener).await
    })
}
