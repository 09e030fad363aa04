//! The KuCoin simulator: KuCoin's classic spot and account REST API on loopback, over a
//! generated account.
//!
//! `data` builds the account from a seed, `routes` serves KuCoin's endpoints (checked by
//! `auth`, counted against the resource pools of `limits`, disturbed by faults) and the
//! `/__sim/` admin endpoints tests use to read the ground truth and steer the sim. It shares
//! no code with the `kucoin` connector it checks.

pub mod auth;
pub mod candles;
pub mod data;
pub mod limits;
pub mod routes;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use clap::Args;
use tokio::net::TcpListener;

pub use data::{Dataset, DatasetConfig};
pub use limits::LimitConfig;

use crate::binance::FaultConfig;
use crate::prng::SimRng;
use crate::time::{parse_date_ms, real_now_ms};

/// Everything the KuCoin simulator needs to run.
#[derive(Debug, Clone)]
pub struct KucoinSimConfig {
    pub api_key: String,
    pub api_secret: String,
    pub passphrase: String,
    /// The key's permissions, as `GET /api/v1/user/api-key` lists them.
    pub permission: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
    /// `GET /api/v1/timestamp` answers the real clock, not the server's: a client cannot
    /// correct its timestamps, as when a clock drifts faster than the client re-measures.
    pub stale_server_time: bool,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: KucoinSimConfig,
    pub data: RwLock<Dataset>,
    pub limits: limits::Limits,
    pub faults: crate::faults::Faults,
    pub stats: Mutex<routes::Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The KuCoin simulator.
#[derive(Debug, Clone)]
pub struct KucoinSim {
    state: Arc<SimState>,
}

impl KucoinSim {
    pub fn new(config: KucoinSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        let seed = config.dataset.seed;
        let state = SimState {
            limits: limits::Limits::new(config.limits.clone()),
            faults: crate::faults::Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(routes::Stats::default()),
            append_rng: Mutex::new(SimRng::new(seed).fork("kucoin-append")),
            data: RwLock::new(data),
            config,
        };
        Self {
            state: Arc::new(state),
        }
    }

    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    pub fn router(&self) -> Router {
        crate::faults::exchange_layer(
            Router::new()
                .fallback(handle)
                .with_state(self.state.clone()),
        )
    }

    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }
}

pub(crate) fn json_response(
    status: u16,
    body: String,
    headers: &[(&str, String)],
) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    b.body(Body::from(body))
        .expect("static headers and a string body make a valid response")
}

async fn handle(
    State(state): State<Arc<SimState>>,
    ConnectInfo(_peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    if path.starts_with("/__sim/") {
        return routes::admin(&state, &method, &path, &query, &body);
    }
    routes::handle(&state, &method, &path, &query, &headers, &body).await
}

// ---------------------------------------------------------------------------------------
// Command line: `exsync-sim kucoin` and `exsync-sim kucoin-truth`.

/// `exsync-sim kucoin`: serve until killed.
#[derive(Debug, Args)]
pub struct KucoinArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    #[arg(long)]
    api_secret: String,
    #[arg(long)]
    passphrase: String,
    /// The key's permissions, comma-separated, as KuCoin words them.
    #[arg(long, default_value = "General")]
    permission: String,
    /// Milliseconds added to the real clock to make the server's time.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset_ms: i64,
    /// `GET /api/v1/timestamp` answers the real clock, so the offset cannot be corrected.
    #[arg(long)]
    stale_server_time: bool,
    /// Also write the base URL to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    #[command(flatten)]
    dataset: KucoinDatasetArgs,
    /// Quota of the Spot pool per window.
    #[arg(long, default_value_t = 4000)]
    spot_quota: u64,
    /// Quota of the Management pool per window.
    #[arg(long, default_value_t = 2000)]
    management_quota: u64,
    /// Quota of the Public pool per window.
    #[arg(long, default_value_t = 2000)]
    public_quota: u64,
    #[arg(long, default_value_t = 30_000)]
    quota_window_ms: i64,
    /// Turn the quotas off.
    #[arg(long)]
    no_rate_limit: bool,
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

/// The generated account (`exsync-sim kucoin-truth` takes these alone).
#[derive(Debug, Args)]
pub struct KucoinDatasetArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the data (UTC).
    #[arg(long, default_value = "2026-01-01")]
    history_start: String,
    /// No data on or after this day (UTC).
    #[arg(long, default_value = "2026-05-01")]
    history_end: String,
    /// Done orders (each filled in 1 to 3 fills, or canceled).
    #[arg(long, default_value_t = 300)]
    orders: usize,
    #[arg(long, default_value_t = 4)]
    active_orders: usize,
    #[arg(long, default_value_t = 60)]
    deposits: usize,
    #[arg(long, default_value_t = 40)]
    withdrawals: usize,
    /// Fills of the high-frequency account.
    #[arg(long, default_value_t = 150)]
    hf_fills: usize,
}

impl KucoinDatasetArgs {
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
            orders: self.orders,
            active_orders: self.active_orders,
            deposits: self.deposits,
            withdrawals: self.withdrawals,
            hf_fills: self.hf_fills,
        })
    }
}

/// `exsync-sim kucoin-truth`: prints the ground truth as JSON.
pub fn print_truth(args: &KucoinDatasetArgs) -> anyhow::Result<()> {
    let ds = Dataset::generate(&args.to_config()?);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", ds.truth())
        .and_then(|()| stdout.flush())
        .context("Failed to write the ground truth to stdout")
}

/// `exsync-sim kucoin`: serves until killed; the first stdout line names the URL.
pub fn run(args: KucoinArgs) -> anyhow::Result<()> {
    let config = KucoinSimConfig {
        api_key: args.api_key,
        api_secret: args.api_secret,
        passphrase: args.passphrase,
        permission: args.permission,
        dataset: args.dataset.to_config()?,
        limits: LimitConfig {
            enabled: !args.no_rate_limit,
            spot: args.spot_quota,
            management: args.management_quota,
            public: args.public_quota,
            window_ms: args.quota_window_ms.max(1),
        },
        faults: FaultConfig {
            error_rate: args.error_rate.clamp(0.0, 1.0),
            slow_ms: args.slow_ms,
            malformed_rate: args.malformed_rate.clamp(0.0, 1.0),
            fail_next: None,
        },
        clock_offset_ms: args.clock_offset_ms,
        stale_server_time: args.stale_server_time,
    };
    let listen = args.listen;
    crate::serve::run(
        "kucoin",
        listen,
        args.port_file.as_deref(),
        move |listener| async move { KucoinSim::new(config).serve(listener).await },
    )
}
