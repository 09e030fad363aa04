//! The `exsync-sim` command: runs an exchange simulator, or prints its ground truth.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use exsync_sim::binance::{
    render, BinanceSim, BinanceSimConfig, Dataset, DatasetConfig, FaultConfig, LimitConfig,
};
use exsync_sim::time::parse_date_ms;

#[derive(Debug, Parser)]
#[command(
    name = "exsync-sim",
    version,
    about = "Exchange simulators for exsync end-to-end tests."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the B2C2 simulator until killed.
    B2c2(exsync_sim::b2c2::cli::B2c2Args),
    /// Print the B2C2 simulator's ground truth as JSON and exit.
    B2c2Truth(exsync_sim::b2c2::cli::B2c2DatasetArgs),
    /// Serve the Binance simulator until killed.
    Binance(BinanceArgs),
    /// Print the Binance simulator's ground truth as JSON and exit.
    BinanceTruth(DatasetArgs),
    /// Serve the BitMEX simulator until killed.
    Bitmex(exsync_sim::bitmex::cli::BitmexArgs),
    /// Print the BitMEX simulator's ground truth as JSON and exit.
    BitmexTruth(exsync_sim::bitmex::cli::BitmexTruthArgs),
    /// Serve the Bitget simulator until killed.
    Bitget(exsync_sim::bitget::cli::BitgetArgs),
    /// Print the Bitget simulator's ground truth as JSON and exit.
    BitgetTruth(exsync_sim::bitget::cli::BitgetTruthArgs),
    /// Serve the Bybit simulator until killed.
    Bybit(exsync_sim::bybit::cli::BybitArgs),
    /// Print the Bybit simulator's ground truth as JSON and exit.
    BybitTruth(exsync_sim::bybit::cli::BybitTruthArgs),
    /// Serve the Bitfinex simulator until killed.
    Bitfinex(exsync_sim::bitfinex::cli::BitfinexArgs),
    /// Print the Bitfinex simulator's ground truth as JSON and exit.
    BitfinexTruth(exsync_sim::bitfinex::cli::BitfinexDatasetArgs),
    /// Serve the FalconX simulator until killed.
    Falconx(exsync_sim::falconx::cli::FalconxArgs),
    /// Print the FalconX simulator's ground truth as JSON and exit.
    FalconxTruth(exsync_sim::falconx::cli::FalconxDatasetArgs),
    /// Serve the Coinbase Prime simulator until killed.
    CoinbasePrime(exsync_sim::coinbase_prime::cli::CoinbasePrimeArgs),
    /// Print the Coinbase Prime simulator's ground truth as JSON and exit.
    CoinbasePrimeTruth(exsync_sim::coinbase_prime::cli::CoinbasePrimeDatasetArgs),
    /// Serve the Copper simulator until killed.
    Copper(exsync_sim::copper::cli::CopperArgs),
    /// Print the Copper simulator's ground truth as JSON and exit.
    CopperTruth(exsync_sim::copper::cli::CopperDatasetArgs),
    /// Serve the Kraken simulator until killed.
    Kraken(exsync_sim::kraken::cli::KrakenArgs),
    /// Print the Kraken simulator's ground truth as JSON and exit.
    KrakenTruth(exsync_sim::kraken::cli::KrakenDatasetArgs),
    /// Serve the OKX simulator until killed.
    Okx(exsync_sim::okx::OkxArgs),
    /// Print the OKX simulator's ground truth as JSON and exit.
    OkxTruth(exsync_sim::okx::OkxDatasetArgs),
    /// Serve the KuCoin simulator until killed.
    Kucoin(exsync_sim::kucoin::KucoinArgs),
    /// Print the KuCoin simulator's ground truth as JSON and exit.
    KucoinTruth(exsync_sim::kucoin::KucoinDatasetArgs),
    /// Serve the Coinbase Exchange simulator until killed.
    CoinbaseExchange(exsync_sim::coinbase_exchange::cli::CoinbaseExchangeArgs),
    /// Print the Coinbase Exchange simulator's ground truth as JSON and exit.
    CoinbaseExchangeTruth(exsync_sim::coinbase_exchange::cli::CoinbaseExchangeTruthArgs),
    /// Serve the Deribit simulator until killed.
    Deribit(exsync_sim::deribit::cli::DeribitArgs),
    /// Print the Deribit simulator's ground truth as JSON and exit.
    DeribitTruth(exsync_sim::deribit::cli::DeribitTruthArgs),
    /// Serve the Coinbase Advanced Trade simulator until killed.
    Coinbase(exsync_sim::coinbase::CoinbaseArgs),
    /// Print the Coinbase Advanced Trade simulator's ground truth as JSON and exit.
    CoinbaseTruth(exsync_sim::coinbase::CoinbaseDatasetArgs),
    /// Serve the Gemini simulator until killed.
    Gemini(exsync_sim::gemini::cli::GeminiArgs),
    /// Print the Gemini simulator's ground truth as JSON and exit.
    GeminiTruth(exsync_sim::gemini::cli::GeminiTruthArgs),
    /// Serve the Crypto.com Exchange simulator until killed.
    Cryptocom(exsync_sim::cryptocom::cli::CryptocomArgs),
    /// Print the Crypto.com Exchange simulator's ground truth as JSON and exit.
    CryptocomTruth(exsync_sim::cryptocom::cli::CryptocomDatasetArgs),
    /// Serve the Gate.io simulator until killed.
    Gateio(exsync_sim::gateio::cli::GateioArgs),
    /// Print the Gate.io simulator's ground truth as JSON and exit.
    GateioTruth(exsync_sim::gateio::cli::GateioTruthArgs),
}

#[derive(Debug, Args)]
struct BinanceArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    api_secret: String,
    /// Another account's `KEY:SECRET`, holding the same data with its own UID weight
    /// (repeatable).
    #[arg(long = "other-key", value_name = "KEY:SECRET")]
    other_keys: Vec<String>,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Plant candle faults in klines answers, comma separated: gap, spike, nan, ohlc,
    /// duplicate, zero-volume, or all. Each sits at a fixed place in every 50 candles.
    #[arg(long, default_value = "")]
    kline_faults: String,
    #[command(flatten)]
    dataset: DatasetArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    faults: FaultArgs,
}

#[derive(Debug, Args)]
struct DatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2024-01-01")]
    history_start: String,
    /// No data on or after this day (UTC), so the truth does not depend on today's date.
    #[arg(long, default_value = "2026-06-01")]
    history_end: String,
    #[arg(long, default_value_t = 60)]
    assets: usize,
    #[arg(long, default_value_t = 200)]
    symbols: usize,
    #[arg(long, default_value_t = 12)]
    traded_symbols: usize,
    #[arg(long, default_value_t = 5_000)]
    trades: usize,
    /// Orders without fills (canceled or expired), beyond those owning the trades.
    #[arg(long, default_value_t = 200)]
    orders_extra: usize,
    #[arg(long, default_value_t = 5)]
    open_orders: usize,
    #[arg(long, default_value_t = 300)]
    deposits: usize,
    #[arg(long, default_value_t = 150)]
    withdrawals: usize,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    can_withdraw: bool,
}

#[derive(Debug, Args)]
struct LimitArgs {
    /// REQUEST_WEIGHT of /api/* per window.
    #[arg(long, default_value_t = 6_000)]
    weight_limit: u64,
    /// IP weight of /sapi/* per window.
    #[arg(long, default_value_t = 12_000)]
    sapi_weight_limit: u64,
    /// UID weight of /sapi/* per window (withdraw history weighs 18000).
    #[arg(long, default_value_t = 180_000)]
    sapi_uid_weight_limit: u64,
    #[arg(long, default_value_t = 60_000)]
    weight_window_ms: i64,
    /// Turn every weight limit off.
    #[arg(long)]
    no_weight_limit: bool,
    /// Requests tolerated while told to back off before a 418 ban.
    #[arg(long, default_value_t = 3)]
    ban_after: u32,
    #[arg(long, default_value_t = 120)]
    ban_seconds: u64,
}

#[derive(Debug, Args)]
struct FaultArgs {
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

impl DatasetArgs {
    fn to_config(&self) -> anyhow::Result<DatasetConfig> {
        let start = parse_date_ms(&self.history_start)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-start")?;
        let end = parse_date_ms(&self.history_end)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --history-end")?;
        anyhow::ensure!(end > start, "--history-end must be after --history-start");
        Ok(DatasetConfig {
            seed: self.seed,
            history_start_ms: start,
            history_end_ms: end,
            assets: self.assets,
            symbols: self.symbols,
            traded_symbols: self.traded_symbols,
            trades: self.trades,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            can_trade: self.can_trade,
            can_withdraw: self.can_withdraw,
        })
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::B2c2(args) => exsync_sim::b2c2::cli::run(args),
        Command::B2c2Truth(args) => exsync_sim::b2c2::cli::print_truth(&args),
        Command::Binance(args) => run_binance(args),
        Command::BinanceTruth(args) => print_truth(&args),
        Command::Bitmex(args) => exsync_sim::bitmex::cli::run(args),
        Command::BitmexTruth(args) => exsync_sim::bitmex::cli::print_truth(&args),
        Command::Bitget(args) => exsync_sim::bitget::cli::run(args),
        Command::BitgetTruth(args) => exsync_sim::bitget::cli::print_truth(&args),
        Command::Bybit(args) => exsync_sim::bybit::cli::run(args),
        Command::BybitTruth(args) => exsync_sim::bybit::cli::print_truth(&args),
        Command::Bitfinex(args) => exsync_sim::bitfinex::cli::run(args),
        Command::BitfinexTruth(args) => exsync_sim::bitfinex::cli::print_truth(&args),
        Command::Falconx(args) => exsync_sim::falconx::cli::run(args),
        Command::FalconxTruth(args) => exsync_sim::falconx::cli::print_truth(&args),
        Command::CoinbasePrime(args) => exsync_sim::coinbase_prime::cli::run(args),
        Command::CoinbasePrimeTruth(args) => exsync_sim::coinbase_prime::cli::print_truth(&args),
        Command::Copper(args) => exsync_sim::copper::cli::run(args),
        Command::CopperTruth(args) => exsync_sim::copper::cli::print_truth(&args),
        Command::Kraken(args) => exsync_sim::kraken::cli::run(args),
        Command::KrakenTruth(args) => exsync_sim::kraken::cli::print_truth(&args),
        Command::Okx(args) => exsync_sim::okx::run(args),
        Command::OkxTruth(args) => exsync_sim::okx::print_truth(&args),
        Command::Kucoin(args) => exsync_sim::kucoin::run(args),
        Command::KucoinTruth(args) => exsync_sim::kucoin::print_truth(&args),
        Command::CoinbaseExchange(args) => exsync_sim::coinbase_exchange::cli::run(args),
        Command::CoinbaseExchangeTruth(args) => {
            exsync_sim::coinbase_exchange::cli::print_truth(&args)
        }
        Command::Deribit(args) => exsync_sim::deribit::cli::run(args),
        Command::DeribitTruth(args) => exsync_sim::deribit::cli::print_truth(&args),
        Command::Coinbase(args) => exsync_sim::coinbase::run(args),
        Command::CoinbaseTruth(args) => exsync_sim::coinbase::print_truth(&args),
        Command::Gemini(args) => exsync_sim::gemini::cli::run(args),
        Command::GeminiTruth(args) => exsync_sim::gemini::cli::print_truth(&args),
        Command::Cryptocom(args) => exsync_sim::cryptocom::cli::run(args),
        Command::CryptocomTruth(args) => exsync_sim::cryptocom::cli::print_truth(&args),
        Command::Gateio(args) => exsync_sim::gateio::cli::run(args),
        Command::GateioTruth(args) => exsync_sim::gateio::cli::print_truth(&args),
    };
    if let Err(err) = result {
        eprintln!("exsync-sim: {err:#}");
        std::process::exit(1);
    }
}

fn print_truth(args: &DatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let mut out = String::new();
    render::truth(&mut out, &ds);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

fn run_binance(args: BinanceArgs) -> anyhow::Result<()> {
    let config = BinanceSimConfig {
        listen: args.listen,
        api_key: args.api_key,
        api_secret: args.api_secret,
        other_keys: args
            .other_keys
            .iter()
            .map(|pair| {
                pair.split_once(':')
                    .map(|(k, s)| (k.to_owned(), s.to_owned()))
                    .with_context(|| format!("--other-key {pair:?} is not KEY:SECRET"))
            })
            .collect::<anyhow::Result<_>>()?,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.limits.no_weight_limit,
            weight_limit: args.limits.weight_limit,
            sapi_weight_limit: args.limits.sapi_weight_limit,
            sapi_uid_weight_limit: args.limits.sapi_uid_weight_limit,
            window_ms: args.limits.weight_window_ms.max(1),
            ban_after: args.limits.ban_after,
            ban_seconds: args.limits.ban_seconds,
        },
        faults: FaultConfig {
            error_rate: args.faults.error_rate.clamp(0.0, 1.0),
            slow_ms: args.faults.slow_ms,
            malformed_rate: args.faults.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
        kline_faults: exsync_sim::binance::klines::KlineFaults::parse(&args.kline_faults)
            .map_err(anyhow::Error::msg)
            .context("Failed to read --kline-faults")?,
    };
    let listen = config.listen;
    exsync_sim::serve::run(
        "binance",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { BinanceSim::new(config).serve(listener).await },
    )
}
