//! The Binance simulator: Binance's spot and wallet REST API on loopback, over a generated account.
//!
//! `data` builds the account from a seed, `render` prints it as Binance does, `routes` serves the
//! Binance endpoints (checked by `auth`, counted by `limits`, disturbed by `faults`), and `admin`
//! serves the `/__sim/` endpoints that tests use to read the ground truth and steer the sim.

pub mod admin;
pub mod auth;
pub mod data;
pub mod klines;
pub mod limits;
pub mod render;
pub mod routes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use tokio::net::TcpListener;

pub use crate::faults::{FailNext, FaultConfig, FaultPatch};
pub use data::{Dataset, DatasetConfig};
pub use limits::LimitConfig;

use crate::prng::SimRng;
use crate::time::real_now_ms;

/// Everything the Binance simulator needs to run.
#[derive(Debug, Clone)]
pub struct BinanceSimConfig {
    pub listen: SocketAddr,
    pub api_key: String,
    pub api_secret: String,
    /// More `(key, secret)` pairs, each another account holding the same data: each counts
    /// its own UID weight.
    pub other_keys: Vec<(String, String)>,
    pub dataset: DatasetConfig,
    pub limits: LimitConfig,
    pub faults: FaultConfig,
    /// Added to the real clock to make the server's time.
    pub clock_offset_ms: i64,
    /// Candle faults planted in `klines` answers (none by default).
    pub kline_faults: klines::KlineFaults,
}

impl BinanceSimConfig {
    /// Defaults everywhere, on an ephemeral loopback port, with these credentials.
    pub fn new(api_key: &str, api_secret: &str) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: api_key.to_string(),
            api_secret: api_secret.to_string(),
            other_keys: Vec::new(),
            dataset: DatasetConfig::default(),
            limits: LimitConfig::default(),
            faults: FaultConfig::default(),
            clock_offset_ms: 0,
            kline_faults: klines::KlineFaults::default(),
        }
    }
}

impl BinanceSimConfig {
    /// The secret of an API key this simulator knows.
    pub fn secret_of(&self, key: &str) -> Option<&str> {
        std::iter::once((&self.api_key, &self.api_secret))
            .chain(self.other_keys.iter().map(|(k, s)| (k, s)))
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, s)| s.as_str())
    }
}

/// A Binance error answer: HTTP status plus Binance's `{"code":…,"msg":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: i64,
    pub msg: String,
}

impl ApiError {
    pub fn new(status: u16, code: i64, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
        }
    }
    /// HTTP 400, Binance's status for request errors.
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self::new(400, code, msg)
    }
    /// HTTP 401, Binance's status for API-key errors.
    pub fn unauthorized(code: i64, msg: impl Into<String>) -> Self {
        Self::new(401, code, msg)
    }
    pub fn body(&self) -> String {
        let mut out = format!("{{\"code\":{},\"msg\":", self.code);
        render::string(&mut out, &self.msg);
        out.push('}');
        out
    }
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    pub config: BinanceSimConfig,
    pub data: RwLock<Dataset>,
    pub limits: limits::Limits,
    pub faults: crate::faults::Faults,
    pub stats: Mutex<admin::Stats>,
    pub append_rng: Mutex<SimRng>,
}

impl SimState {
    /// The server's clock: the real clock plus the configured offset.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.config.clock_offset_ms
    }
}

/// The Binance simulator: build it, then serve it or spawn it.
#[derive(Debug, Clone)]
pub struct BinanceSim {
    state: Arc<SimState>,
}

impl BinanceSim {
    /// Generates the data set and prepares the server.
    pub fn new(config: BinanceSimConfig) -> Self {
        let started = std::time::Instant::now();
        let data = Dataset::generate(&config.dataset);
        tracing::info!(
            trades = data.total_trades(),
            symbols = data.symbols.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Data set generated."
        );
        let seed = config.dataset.seed;
        let state = SimState {
            limits: limits::Limits::new(config.limits.clone()),
            faults: crate::faults::Faults::new(config.faults.clone(), seed),
            stats: Mutex::new(admin::Stats::default()),
            append_rng: Mutex::new(SimRng::new(seed).fork("append")),
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

/// A simulator running on its own thread and runtime; dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    sim: BinanceSim,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn sim(&self) -> &BinanceSim {
        &self.sim
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts a simulator on a background thread; returns its address and the handle that owns it.
pub fn spawn(config: BinanceSimConfig) -> anyhow::Result<(SocketAddr, SimHandle)> {
    let listen = config.listen;
    let sim = BinanceSim::new(config);
    let std_listener = std::net::TcpListener::bind(listen)
        .with_context(|| format!("Failed to bind the Binance simulator on {listen}"))?;
    std_listener
        .set_nonblocking(true)
        .context("Failed to make the simulator's listener non-blocking")?;
    let addr = std_listener
        .local_addr()
        .context("Failed to read the simulator's listening address")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("Failed to build the simulator's runtime")?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = sim.clone();
    let thread = std::thread::Builder::new()
        .name("exsync-sim-binance".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(std_listener) {
                    Ok(l) => l,
                    Err(err) => {
                        tracing::error!(%err, "Failed to register the simulator's listener.");
                        return;
                    }
                };
                tokio::select! {
                    res = served.serve(listener) => {
                        if let Err(err) = res {
                            tracing::error!(%err, "Simulator server stopped.");
                        }
                    }
                    _ = rx => {}
                }
            });
            runtime.shutdown_timeout(std::time::Duration::from_millis(500));
        })
        .context("Failed to start the simulator's thread")?;
    Ok((
        addr,
        SimHandle {
            addr,
            sim,
            shutdown: Some(tx),
            thread: Some(thread),
        },
    ))
}

/// Builds a JSON response with extra headers.
pub(crate) fn json_response(
    status: u16,
    body: String,
    headers: &[(&str, String)],
) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json;charset=UTF-8");
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
    routes::handle(&state, peer, &method, &path, &query, &headers, &body).await
}
