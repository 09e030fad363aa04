//! The Coinbase Exchange simulator: Coinbase Exchange's REST API on loopback, over a
//! generated profile.
//!
//! `data` builds the profile from a seed and renders it as Coinbase does, `routes` serves
//! the REST endpoints (authenticated as Coinbase documents, limited per profile and per IP,
//! disturbed by faults), `admin` serves the `/__sim/` endpoints tests use to read the ground
//! truth and steer the sim, and `cli` holds the `exsync-sim coinbase-exchange` and
//! `coinbase-exchange-truth` subcommands. Shares no code with the connector it checks.

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

pub use data::{Dataset, DatasetConfig};

use crate::time::real_now_ms;

/// Rate limits, as Coinbase documents them: requests per second and bursts.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    pub enabled: bool,
    /// Private endpoints, per profile: 15 a second, bursts to 30.
    pub private_rate: f64,
    pub private_burst: f64,
    /// `/fills`, per profile, in a bucket of its own: 10 a second, bursts to 20.
    pub fills_rate: f64,
    pub fills_burst: f64,
    /// Public endpoints, per IP: 10 a second, bursts to 15.
    pub public_rate: f64,
    pub public_burst: f64,
}

/// Faults to inject.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Fraction of API requests answered 503.
    #[serde(default)]
    pub error_rate: f64,
    /// Delay added to every API response, in ms.
    #[serde(default)]
    pub slow_ms: u64,
    /// The next this many API requests are answered 503.
    #[serde(default)]
    pub fail_next: u64,
}

/// Everything the simulator needs to run.
#[derive(Debug, Clone)]
pub struct CoinbaseExchangeSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    /// The base64 secret, as Coinbase hands it out.
    pub api_secret: String,
    pub passphrase: String,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: CoinbaseExchangeSimConfig,
    pub data: RwLock<Dataset>,
    pub faults: Mutex<(FaultConfig, u64)>,
    pub stats: Mutex<admin::Stats>,
    /// Token buckets: name → (tokens, last refill ms).
    pub buckets: Mutex<HashMap<String, (f64, i64)>>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The simulator: build it, then serve it.
#[derive(Debug, Clone)]
pub struct CoinbaseExchangeSim {
    state: Arc<SimState>,
}

impl CoinbaseExchangeSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: CoinbaseExchangeSimConfig) -> Self {
        let data = Dataset::generate(&config.dataset);
        tracing::info!(orders = data.orders.len(), "Data set generated.");
        let state = SimState {
            faults: Mutex::new((config.faults.clone(), config.dataset.seed)),
            stats: Mutex::new(admin::Stats::default()),
            buckets: Mutex::new(HashMap::new()),
            data: RwLock::new(data),
            config,
        };
        Self {
            state: Arc::new(state),
        }
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

/// Builds a JSON response with extra headers.
pub(crate) fn response(status: u16, body: String, headers: &[(&str, String)]) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json; charset=utf-8");
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    b.body(Body::from(body))
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
    let slow = state.faults.lock().expect("faults lock").0.slow_ms;
    if slow > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(slow)).await;
    }
    let answer = routes::serve(&state, peer, &method, &path, &query, &headers, &body);
    state.stats.lock().expect("stats lock").record(&answer);
    response(answer.status, answer.body, &answer.headers)
}

/// Standard base64 (RFC 4648, padded), as Coinbase encodes secrets and signatures.
pub mod b64 {
    pub use crate::encoding::{base64_decode as decode, base64_encode as encode};
}
