//! The OKX simulator: OKX's v5 REST API (account, asset, trade, market) on loopback, over a
//! generated account.
//!
//! `data` builds the account from a seed, `auth` checks key, passphrase, timestamp and
//! signature as OKX does, `routes` serves OKX's endpoints with its envelopes, pagination and
//! per-endpoint rate limits, and `admin` serves the `/__sim/` endpoints that tests use to
//! read the ground truth and steer the sim. Faults (5xx, slow, malformed answers) are the
//! Binance simulator's fault injector, with OKX's error bodies.

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

/// An OKX error answer: HTTP status plus OKX's `{"code":"…","msg":"…","data":[]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkxError {
    pub status: u16,
    pub code: String,
    pub msg: String,
}

impl OkxError {
    pub fn new(status: u16, code: &str, msg: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            msg: msg.into(),
        }
    }
    /// HTTP 401, OKX's status for authentication errors.
    pub fn unauthorized(code: &str, msg: impl Into<String>) -> Self {
        Self::new(401, code, msg)
    }
    /// HTTP 400, OKX's status for parameter errors.
    pub fn bad(code: &str, msg: impl Into<String>) -> Self {
        Self::new(400, code, msg)
    }
    pub fn body(&self) -> String {
        serde_json::json!({ "code": self.code, "msg": self.msg, "data": [] }).to_string()
    }
}

/// Rate limits: OKX's own per endpoint, or one override for all.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    pub enabled: bool,
    /// Requests per window for every endpoint, instead of OKX's per-endpoint numbers.
    pub override_limit: Option<u32>,
    pub override_window_ms: Option<i64>,
}

/// Everything the OKX simulator needs to run.
#[derive(Debug, Clone)]
pub struct OkxSimConfig {
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
    pub config: OkxSimConfig,
    pub data: RwLock<Dataset>,
    pub limits: Mutex<routes::Windows>,
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
pub fn router(config: OkxSimConfig) -> Router {
    let data = Dataset::generate(&config.dataset);
    let seed = config.dataset.seed;
    let state = SimState {
        data: RwLock::new(data),
        limits: Mutex::new(routes::Windows::default()),
        faults: Faults::new(config.faults.clone(), seed),
        stats: Mutex::new(admin::Stats::default()),
        append_rng: Mutex::new(SimRng::new(seed).fork("okx-append")),
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
// The `exsync-sim okx` and `exsync-sim okx-truth` subcommands.

/// `exsync-sim okx`: serve the OKX simulator until killed.
#[derive(Debug, Args)]
pub struct OkxArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    api_secret: String,
    #[arg(long)]
    passphrase: String,
    /// The keys are demo-trading keys: requests must carry `x-simulated-trading: 1`.
    #[arg(long)]
    demo: bool,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    #[command(flatten)]
    dataset: OkxDatasetArgs,
    /// Every endpoint allows this many requests per window instead of OKX's own limits.
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

/// The generated account; `exsync-sim okx-truth` takes the same arguments.
#[derive(Debug, Args)]
pub struct OkxDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The data set's "now", UTC ms (default: the real clock at start). Everything is before
    /// it; the truth printed for an anchor is the account a sim started at that anchor holds.
    #[arg(long)]
    anchor_ms: Option<i64>,
    /// Fills within OKX's 3-month reach (about).
    #[arg(long, default_value_t = 450)]
    fills: usize,
    /// Fills older than 3 months: held, never served.
    #[arg(long, default_value_t = 30)]
    old_fills: usize,
    #[arg(long, default_value_t = 60)]
    orders_extra: usize,
    #[arg(long, default_value_t = 4)]
    open_orders: usize,
    #[arg(long, default_value_t = 150)]
    deposits: usize,
    #[arg(long, default_value_t = 80)]
    withdrawals: usize,
    /// Algo orders done within OKX's 3-month reach (about 10% more lie beyond it).
    #[arg(long, default_value_t = 160)]
    algo_orders: usize,
    /// Algo orders not yet triggered.
    #[arg(long, default_value_t = 6)]
    algo_pending: usize,
    #[arg(long, default_value_t = 40)]
    fiat_deposits: usize,
    #[arg(long, default_value_t = 25)]
    fiat_withdrawals: usize,
    /// `acctLv` of `account/config` (1 spot mode … 4 portfolio margin).
    #[arg(long, default_value = "2")]
    acct_lv: String,
    /// `perm` of `account/config`.
    #[arg(long, default_value = "read_only,trade")]
    perm: String,
    /// The key belongs to a sub-account (`mainUid` differs from `uid`).
    #[arg(long)]
    sub_account: bool,
}

impl OkxDatasetArgs {
    fn to_config(&self, clock_offset_ms: i64) -> DatasetConfig {
        DatasetConfig {
            seed: self.seed,
            anchor_ms: self
                .anchor_ms
                .unwrap_or_else(|| real_now_ms() + clock_offset_ms),
            fills: self.fills,
            old_fills: self.old_fills,
            orders_extra: self.orders_extra,
            open_orders: self.open_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            algo_orders: self.algo_orders,
            algo_pending: self.algo_pending,
            fiat_deposits: self.fiat_deposits,
            fiat_withdrawals: self.fiat_withdrawals,
            acct_lv: self.acct_lv.clone(),
            perm: self.perm.clone(),
            sub_account: self.sub_account,
        }
    }
}

/// Prints the ground truth of the data set as JSON.
pub fn print_truth(args: &OkxDatasetArgs) -> anyhow::Result<()> {
    let config = args.to_config(0);
    let ds = Dataset::generate(&config);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth(config.anchor_ms))
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// Serves the simulator until interrupted; the first stdout line names its URL.
pub fn run(args: OkxArgs) -> anyhow::Result<()> {
    let config = OkxSimConfig {
        credentials: auth::Credentials {
            api_key: args.api_key,
            api_secret: args.api_secret,
            passphrase: args.passphrase,
            demo: args.demo,
        },
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
        "okx",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { axum::serve(listener, router(config)).await },
    )
}
