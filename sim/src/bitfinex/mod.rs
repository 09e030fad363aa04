//! The Bitfinex simulator: Bitfinex's v2 REST API on loopback, over a generated account.
//!
//! `data` builds the account from a seed as Bitfinex's positional arrays, `routes` serves the
//! v2 endpoints (authenticated as Bitfinex documents, limited per endpoint, disturbed by
//! `faults`), `admin` serves the `/__sim/` endpoints that tests use to read the ground truth
//! and steer the sim, and `cli` holds the `exsync-sim bitfinex` and `bitfinex-truth`
//! subcommands.

pub mod admin;
pub mod cli;
pub mod data;
pub mod routes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use tokio::net::TcpListener;

pub use crate::faults::{FaultConfig, FaultPatch};
pub use data::{Dataset, DatasetConfig};

use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Bitfinex's rate limits as the simulator enforces them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitConfig {
    pub enabled: bool,
    /// Requests per minute to one authenticated endpoint (Bitfinex: 90 for most).
    pub auth_per_minute: u32,
    /// Requests per minute to the candles endpoint.
    pub candles_per_minute: u32,
    /// How long an IP that passed a limit is blocked (Bitfinex: 60 s).
    pub block_ms: i64,
}

/// Everything the Bitfinex simulator needs to run.
#[derive(Debug, Clone)]
pub struct BitfinexSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    pub api_secret: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: BitfinexSimConfig,
    pub data: RwLock<Dataset>,
    /// The last nonce accepted per API key.
    pub nonces: Mutex<HashMap<String, u64>>,
    /// Request times per (IP, endpoint) in the current minute, and blocks per IP.
    pub limits: Mutex<routes::LimitState>,
    pub faults: crate::faults::Faults,
    pub stats: Mutex<admin::Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock.
    pub fn now_ms(&self) -> i64 {
        real_now_ms()
    }
}

/// The Bitfinex simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct BitfinexSim {
    state: Arc<SimState>,
}

impl BitfinexSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: BitfinexSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            trades = data.trades.len(),
            orders = data.orders.len(),
            movements = data.movements.len(),
            ledgers = data.ledgers.len(),
            "Data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            faults: crate::faults::Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(admin::Stats::default()),
            append_rng: Mutex::new(SimRng::new(seed).fork("append")),
            nonces: Mutex::new(HashMap::new()),
            limits: Mutex::new(routes::LimitState::default()),
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

    /// The HTTP application: every path goes through one handler.
    pub fn router(&self) -> Router {
        crate::faults::exchange_layer(
            Router::new()
                .fallback(handle)
                .with_state(self.state.clone()),
        )
    }

    /// Serves on `listener` until the future is dropped.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let app = self.router();
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }
}

/// Builds a response with a content type and extra headers.
pub(crate) fn response(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(Body::from(body))
        .expect("static headers and a string body make a valid response")
}

async fn handle(
    State(state): State<Arc<SimState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let (answer, outcome) =
        routes::serve(&state, peer, &method, &path, &query, &headers, &body).await;
    state.stats.lock().expect("stats lock").record(&outcome);
    response(answer.status, answer.body)
}
