//! The Coinbase Prime simulator: Prime's REST API on loopback, over a generated portfolio.
//!
//! `data` builds the portfolio from a seed, `routes` serves Prime's portfolio endpoints
//! (checked by `auth`, throttled by the portfolio's token bucket, disturbed by the faults),
//! and `admin` serves the `/__sim/` endpoints that tests use to read the ground truth and
//! steer the sim. `cli` holds the `exsync-sim coinbase-prime` and `coinbase-prime-truth`
//! subcommands. Every answer carries a `Date` header from the sim's clock (the real clock
//! plus `--clock-offset-ms`), as Prime's do.
//!
//! Shares no code with the `coinbase_prime` connector it checks.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod data;
pub mod routes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use data::{Dataset, DatasetConfig};

use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Prime throttles each portfolio at 25 requests a second with bursts of 50 (a token bucket
/// here), answering 429 beyond that. (Its per-IP limit of 100 a second, with a 30 s
/// penalty, is not simulated.)
#[derive(Debug, Clone, PartialEq)]
pub struct LimitConfig {
    pub enabled: bool,
    pub per_second: f64,
    pub burst: f64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: 25.0,
            burst: 50.0,
        }
    }
}

/// Fail the next `count` API requests with `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailNext {
    pub count: u32,
    pub status: u16,
}

/// Injected faults: 5xx answers, slow answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    /// Fraction of API requests answered 500 or 503.
    pub error_rate: f64,
    /// Delay added to every API response, ms.
    pub slow_ms: u64,
    pub fail_next: Option<FailNext>,
}

/// A change to the faults: the fields given replace the current ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    pub error_rate: Option<f64>,
    pub slow_ms: Option<u64>,
    pub fail_next: Option<FailNext>,
}

/// Everything the Coinbase Prime simulator needs to run.
#[derive(Debug, Clone)]
pub struct CoinbasePrimeSimConfig {
    pub listen: SocketAddr,
    pub access_key: String,
    pub passphrase: String,
    pub signing_key: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
}

/// Request counters, as `GET /__sim/stats` serves them.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub requests_total: u64,
    /// `"GET /v1/portfolios/{portfolio_id}/fills"` → count.
    pub by_endpoint: std::collections::BTreeMap<String, u64>,
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// Refused for the key, passphrase or signature.
    pub auth_failures: u64,
    /// Refused for the timestamp.
    pub clock_failures: u64,
    pub rate_limited: u64,
}

/// The portfolio's token bucket.
#[derive(Debug, Default)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: CoinbasePrimeSimConfig,
    pub data: RwLock<Dataset>,
    pub bucket: Mutex<Bucket>,
    pub faults: Mutex<(FaultConfig, SimRng)>,
    pub stats: Mutex<Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The Coinbase Prime simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct CoinbasePrimeSim {
    state: Arc<SimState>,
}

impl CoinbasePrimeSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: CoinbasePrimeSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            fills = data.fills.len(),
            orders = data.orders.len(),
            transactions = data.transactions.len(),
            "Coinbase Prime data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            data: RwLock::new(data),
            bucket: Mutex::new(Bucket {
                tokens: config.limits.burst,
                at_ms: real_now_ms(),
            }),
            faults: Mutex::new((config.faults.clone(), SimRng::new(seed).fork("faults"))),
            stats: Mutex::new(Stats::default()),
            append_rng: Mutex::new(SimRng::new(seed).fork("append")),
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
        axum::serve(listener, self.router()).await
    }
}

/// A JSON response with the server's `Date`.
pub(crate) fn json_response(status: u16, body: String, now_ms: i64) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json")
        .header("Date", crate::time::http_date(now_ms))
        .body(Body::from(body))
        .expect("static headers and a string body make a valid response")
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
