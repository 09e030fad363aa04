//! The FalconX simulator: FalconX's REST API on loopback, over a generated account.
//!
//! `data` builds the account from a seed, `routes` serves FalconX's `/v1/balances`,
//! `/v1/derivatives`, `/v1/derivatives/margins`, `/v1/quotes` and `/v1/transfers` (checked
//! by `auth`, throttled by the key's token bucket, disturbed by the shared `faults`), and `admin` serves the `/__sim/` endpoints that tests
//! use to read the ground truth and steer the sim. `cli` holds the `exsync-sim falconx` and
//! `falconx-truth` subcommands. Every answer carries a `Date` header from the sim's clock
//! (the real clock plus `--clock-offset-ms`).
//!
//! Shares no code with the `falconx` connector it checks.

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
use serde::Serialize;
use tokio::net::TcpListener;

pub use crate::faults::{FaultConfig, FaultPatch};
pub use data::{Dataset, DatasetConfig};

use crate::faults::Faults;
use crate::prng::SimRng;
use crate::time::real_now_ms;

/// The key's request budget: a token bucket. FalconX publishes no fixed numbers (its
/// clients read them at run time from `GET /v1/rate_limit`); the sim's default, 10 a second
/// with bursts of 10, is its stand-in, above the connector's 8 a second.
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
            per_second: 10.0,
            burst: 10.0,
        }
    }
}

/// Everything the FalconX simulator needs to run.
#[derive(Debug, Clone)]
pub struct FalconxSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    pub passphrase: String,
    /// The secret as issued: base64.
    pub secret: String,
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
    /// `"GET /v1/quotes"` → count.
    pub by_endpoint: std::collections::BTreeMap<String, u64>,
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// Refused for the key, passphrase or signature.
    pub auth_failures: u64,
    /// Refused for the timestamp.
    pub clock_failures: u64,
    pub rate_limited: u64,
    /// Refused for a window wider than the sim allows.
    pub window_refusals: u64,
}

/// The key's token bucket.
#[derive(Debug, Default)]
pub struct Bucket {
    pub tokens: f64,
    pub at_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: FalconxSimConfig,
    pub data: RwLock<Dataset>,
    pub bucket: Mutex<Bucket>,
    pub faults: Faults,
    pub stats: Mutex<Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The FalconX simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct FalconxSim {
    state: Arc<SimState>,
}

impl FalconxSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: FalconxSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            quotes = data.quotes.len(),
            derivatives = data.derivatives.len(),
            transfers = data.transfers.len(),
            "FalconX data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            data: RwLock::new(data),
            bucket: Mutex::new(Bucket {
                tokens: config.limits.burst,
                at_ms: real_now_ms(),
            }),
            faults: Faults::new(config.faults.clone(), seed),
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

/// A JSON response with the server's `Date` and any extra headers.
pub(crate) fn json_response(
    status: u16,
    body: String,
    now_ms: i64,
    extra: &[(&str, String)],
) -> Response<Body> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json")
        .header("Date", crate::time::http_date(now_ms));
    for (name, value) in extra {
        builder = builder.header(*name, value.as_str());
    }
    builder
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
