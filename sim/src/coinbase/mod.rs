//! The Coinbase Advanced Trade simulator: Advanced Trade (v3) and Coinbase App (v2) REST
//! endpoints on loopback, over a generated account.
//!
//! `data` builds the account from a seed, `auth` checks the CDP key's ES256 or EdDSA JWT as
//! Coinbase does (signature with the key's public key, `kid`, `sub`, `uri`, `nbf`/`exp`, nonce),
//! `routes` serves Coinbase's endpoints with their envelopes, pagination and rate limits, and
//! `admin` serves the `/__sim/` endpoints that tests use to read the ground truth and steer
//! the sim. Faults (5xx, slow, malformed answers) are the Binance simulator's fault injector,
//! with Coinbase's error bodies.

pub mod admin;
pub mod auth;
pub mod data;
pub mod routes;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use axum::Router;
use clap::Args;

pub use data::{Dataset, DatasetConfig};

use crate::faults::{FaultConfig, Faults};
use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Rate limits: Coinbase's own, or one override for the private endpoints.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    pub enabled: bool,
    /// Requests per window for the private (v3 and v2) endpoints instead of Coinbase's.
    pub override_limit: Option<u32>,
    pub override_window_ms: Option<i64>,
}

/// Everything the simulator needs to run.
#[derive(Debug, Clone)]
pub struct CoinbaseSimConfig {
    pub credentials: auth::Credentials,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: CoinbaseSimConfig,
    pub data: RwLock<Dataset>,
    pub limits: Mutex<routes::Windows>,
    pub nonces: auth::Nonces,
    pub faults: Faults,
    pub stats: Mutex<admin::Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// Builds the state and the HTTP application: every path goes through one handler.
pub fn router(config: CoinbaseSimConfig) -> Router {
    let data = Dataset::generate(&config.dataset);
    let seed = config.dataset.seed;
    let state = SimState {
        data: RwLock::new(data),
        limits: Mutex::new(routes::Windows::default()),
        nonces: auth::Nonces::default(),
        faults: Faults::new(config.faults.clone(), seed),
        stats: Mutex::new(admin::Stats::default()),
        append_rng: Mutex::new(SimRng::new(seed).fork("coinbase-append")),
        config,
    };
    crate::faults::exchange_layer(Router::new().fallback(handle).with_state(Arc::new(state)))
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    if path.starts_with("/__sim/") {
        return admin::handle(&state, &method, &path, &query, &body);
    }
    routes::handle(&state, &method, &path, &query, &headers, &body).await
}

// ---------------------------------------------------------------------------------------
// The `exsync-sim coinbase` and `exsync-sim coinbase-truth` subcommands.

/// `exsync-sim coinbase`: serve the Coinbase simulator until killed.
#[derive(Debug, Args)]
pub struct CoinbaseArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The CDP API key name, `organizations/{org_id}/apiKeys/{key_id}`.
    #[arg(long)]
    key_name: String,
    /// The key's public key: SPKI PEM of a P-256 or Ed25519 key (`\n` may stand for line
    /// breaks), or the standard base64 of an Ed25519 key's 32 bytes.
    #[arg(long, allow_hyphen_values = true)]
    public_key: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    #[command(flatten)]
    dataset: CoinbaseDatasetArgs,
    /// The private endpoints allow this many requests per window instead of Coinbase's.
    #[arg(long)]
    rate_limit: Option<u32>,
    #[arg(long)]
    rate_window_ms: Option<i64>,
    /// Turn every rate limit off.
    #[arg(long)]
    no_rate_limit: bool,
    /// Fraction of API requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every API response, in ms.
    #[arg(long, default_value_t = 0)]
    slow_ms: u64,
}

/// The generated account; `exsync-sim coinbase-truth` takes the same arguments.
#[derive(Debug, Args)]
pub struct CoinbaseDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The data set's "now", UTC ms (default: the real clock at start).
    #[arg(long)]
    anchor_ms: Option<i64>,
    /// Days of history before the anchor.
    #[arg(long, default_value_t = 400)]
    days: i64,
    #[arg(long, default_value_t = 220)]
    orders: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    /// Transactions per currency wallet, about.
    #[arg(long, default_value_t = 60)]
    transactions: usize,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    can_trade: bool,
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    can_transfer: bool,
    /// Perpetuals (INTX) portfolios of the account, each with its collateral balances.
    #[arg(long, default_value_t = 1)]
    intx_portfolios: usize,
    /// The key may not list the portfolios (403 `PERMISSION_DENIED`).
    #[arg(long)]
    portfolios_forbidden: bool,
}

impl CoinbaseDatasetArgs {
    fn to_config(&self, clock_offset_ms: i64) -> DatasetConfig {
        DatasetConfig {
            seed: self.seed,
            anchor_ms: self
                .anchor_ms
                .unwrap_or_else(|| real_now_ms() + clock_offset_ms),
            days: self.days.max(1),
            orders: self.orders,
            open_orders: self.open_orders,
            transactions: self.transactions,
            can_trade: self.can_trade,
            can_transfer: self.can_transfer,
            intx_portfolios: self.intx_portfolios,
            portfolios_forbidden: self.portfolios_forbidden,
        }
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &CoinbaseDatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config(0));
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL.
pub fn run(args: CoinbaseArgs) -> anyhow::Result<()> {
    let credentials = auth::Credentials::from_pem(&args.key_name, &args.public_key)
        .map_err(anyhow::Error::msg)
        .context("Failed to read --public-key")?;
    let config = CoinbaseSimConfig {
        credentials,
        dataset: args.dataset.to_config(args.clock_offset_ms),
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            override_limit: args.rate_limit,
            override_window_ms: args.rate_window_ms,
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            ..FaultConfig::default()
        },
        clock_offset_ms: args.clock_offset_ms,
    };
    let listen = args.listen;
    crate::serve::run(
        "coinbase",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { axum::serve(listener, router(config)).await },
    )
}
