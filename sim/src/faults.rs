//! Fault injection shared by the simulators.
//!
//! Two layers. [`Faults`] is drawn by each simulator's own handler: 5xx answers, slow answers,
//! malformed bodies; every API request makes the same draws from one seeded generator, whatever
//! the rates, so a given seed and request sequence always fault the same requests.
//!
//! [`exchange_layer`] wraps every simulator's router and answers in the exchange's place, set
//! at runtime through `/__sim/exchange_faults`: a status (429 with or without `Retry-After`,
//! 418, 5xx, or a 200 with an error body such as Kraken's lockout), a stall, a connection reset
//! mid-body, a truncated or non-JSON body, a field renamed or removed (schema drift), an added
//! delay. It picks requests by path and position (`skip` matching requests, then fault
//! `count`), and counts what it saw, so a test can fault page 2 of a walk and bound retries.
//! It also skews the server's clock (`clock_skew_ms`, see [`crate::time::set_skew_ms`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::prng::SimRng;

/// Fail the next `count` API requests with `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailNext {
    pub count: u32,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    /// Fraction of requests answered 500, 502 or 503.
    pub error_rate: f64,
    /// Delay added to every API response.
    pub slow_ms: u64,
    /// Fraction of requests answered 200 with a truncated body.
    pub malformed_rate: f64,
    pub fail_next: Option<FailNext>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            slow_ms: 0,
            malformed_rate: 0.0,
            fail_next: None,
        }
    }
}

/// A change to the fault configuration: the fields given replace the current ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPatch {
    pub error_rate: Option<f64>,
    pub slow_ms: Option<u64>,
    pub malformed_rate: Option<f64>,
    pub fail_next: Option<FailNext>,
    /// Answer every successful API request with a body of this many bytes (spaces) instead
    /// of its JSON; 0 turns it off. Checks the host's response size cap. Honoured by the
    /// Binance simulator.
    pub oversized_body_bytes: Option<u64>,
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultDraw {
    pub error_status: Option<u16>,
    pub malformed: bool,
    pub slow_ms: u64,
}

#[derive(Debug)]
pub struct Faults {
    inner: Mutex<(FaultConfig, SimRng)>,
    /// [`FaultPatch::oversized_body_bytes`]; 0 when off. Kept apart from the draws, which it
    /// does not change.
    oversized_body_bytes: AtomicU64,
}

impl Faults {
    pub fn new(config: FaultConfig, seed: u64) -> Self {
        Self {
            inner: Mutex::new((config, SimRng::new(seed).fork("faults"))),
            oversized_body_bytes: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> FaultConfig {
        self.inner.lock().expect("faults lock").0.clone()
    }

    pub fn apply(&self, patch: FaultPatch) -> FaultConfig {
        let mut inner = self.inner.lock().expect("faults lock");
        let c = &mut inner.0;
        if let Some(v) = patch.error_rate {
            c.error_rate = v.clamp(0.0, 1.0);
        }
        if let Some(v) = patch.slow_ms {
            c.slow_ms = v;
        }
        if let Some(v) = patch.malformed_rate {
            c.malformed_rate = v.clamp(0.0, 1.0);
        }
        if let Some(v) = patch.fail_next {
            c.fail_next = (v.count > 0).then_some(v);
        }
        if let Some(v) = patch.oversized_body_bytes {
            self.oversized_body_bytes.store(v, Ordering::Relaxed);
        }
        c.clone()
    }

    /// Draws the faults of the next API request.
    pub fn draw(&self) -> FaultDraw {
        let mut inner = self.inner.lock().expect("faults lock");
        let (config, rng) = &mut *inner;
        let error_roll = rng.unit();
        let malformed_roll = rng.unit();
        let pick = rng.below(3);
        let mut draw = FaultDraw {
            slow_ms: config.slow_ms,
            ..FaultDraw::default()
        };
        if let Some(f) = &mut config.fail_next {
            draw.error_status = Some(f.status);
            f.count -= 1;
            if f.count == 0 {
                config.fail_next = None;
            }
        } else if error_roll < config.error_rate {
            draw.error_status = Some([500, 502, 503][pick as usize]);
        }
        draw.malformed = draw.error_status.is_none() && malformed_roll < config.malformed_rate;
        draw
    }
}

impl Faults {
    /// The size of the oversized body every successful answer is replaced with, if set.
    pub fn oversized_body(&self) -> Option<u64> {
        Some(self.oversized_body_bytes.load(Ordering::Relaxed)).filter(|n| *n > 0)
    }
}

/// A 200 body that no JSON parser accepts: the real body cut short.
pub fn malform(body: &str) -> String {
    let mut cut = body.len() / 2;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut < 2 {
        return "{\"code\":".to_string();
    }
    body[..cut].to_string()
}

/// What [`exchange_layer`] does to a picked request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExchangeFault {
    /// Answer `status` with `body` (default: a small JSON error) and, when given, a
    /// `Retry-After` of that many seconds. The request never reaches the simulator.
    Status {
        status: u16,
        #[serde(default)]
        retry_after_s: Option<u64>,
        #[serde(default)]
        body: Option<String>,
    },
    /// Send nothing for `ms` milliseconds, then the real answer.
    Stall { ms: u64 },
    /// Send the real status, headers and `Content-Length`, half the body, then close the
    /// connection.
    Reset,
    /// A 200 whose body is the real body cut in half.
    Truncate,
    /// A 200 whose body is not JSON at all (a proxy's HTML error page).
    Garbage,
    /// Every object key `field` in the JSON answer renamed to `rename_to`, or removed when
    /// that is absent: schema drift.
    Drift {
        field: String,
        #[serde(default)]
        rename_to: Option<String>,
    },
    /// The real answer, `ms` milliseconds late (not a fault: a slow walk a test can race).
    Delay { ms: u64 },
}

/// The settings of [`exchange_layer`]: which requests it picks and what it does to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeFaultConfig {
    /// Only API requests whose path contains this (empty: every API request).
    pub path: String,
    /// Only API requests whose path is `path` itself (BitMEX's time is `/api/v1`, which every
    /// BitMEX path contains).
    pub exact: bool,
    /// Matching requests let through untouched before the first faulted one.
    pub skip: u64,
    /// Matching requests faulted after the skipped ones (absent: every one).
    pub count: Option<u64>,
    /// Nothing when absent.
    pub fault: Option<ExchangeFault>,
    /// Milliseconds added to the server's clock (its time endpoint, its timestamp checks):
    /// clock skew against the client. Independent of `fault`.
    pub clock_skew_ms: i64,
}

/// What [`exchange_layer`] saw since it was last set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExchangeFaultStats {
    /// API requests whose path matched.
    pub matched: u64,
    /// Of those, the ones faulted (for a drift: the answers it changed).
    pub faulted: u64,
}

#[derive(Debug, Default)]
pub struct ExchangeFaults {
    inner: Mutex<(ExchangeFaultConfig, ExchangeFaultStats)>,
}

impl ExchangeFaults {
    /// Replaces the settings and starts the counts over.
    pub fn set(&self, config: ExchangeFaultConfig) {
        crate::time::set_skew_ms(config.clock_skew_ms);
        *self.inner.lock().expect("exchange faults lock") = (config, ExchangeFaultStats::default());
    }

    fn report(&self) -> Value {
        let inner = self.inner.lock().expect("exchange faults lock");
        serde_json::json!({ "config": inner.0, "stats": inner.1 })
    }

    /// Counts a request to `path` and picks its fault, if any.
    pub fn pick(&self, path: &str) -> Option<ExchangeFault> {
        let mut inner = self.inner.lock().expect("exchange faults lock");
        let (config, stats) = &mut *inner;
        let fault = config.fault.clone()?;
        let picked = if config.exact {
            path == config.path
        } else {
            path.contains(config.path.as_str())
        };
        if !picked {
            return None;
        }
        stats.matched += 1;
        let nth = stats.matched - 1;
        if nth < config.skip || config.count.is_some_and(|c| nth - config.skip >= c) {
            return None;
        }
        // A drift is counted when it changed an answer (see [`ExchangeFaults::drifted`]).
        if !matches!(fault, ExchangeFault::Drift { .. }) {
            stats.faulted += 1;
        }
        Some(fault)
    }

    /// Counts a picked drift that renamed or removed a field.
    fn drifted(&self) {
        self.inner.lock().expect("exchange faults lock").1.faulted += 1;
    }
}

/// The admin path of [`exchange_layer`]: `GET` shows settings and counts, `POST` sets them
/// (a JSON [`ExchangeFaultConfig`]; `{}` switches faults off) and starts the counts over.
pub const EXCHANGE_FAULTS_PATH: &str = "/__sim/exchange_faults";

/// Wraps a simulator's router in the shared exchange-fault layer (see the module docs).
pub fn exchange_layer(router: Router) -> Router {
    let faults = Arc::new(ExchangeFaults::default());
    router.layer(axum::middleware::from_fn_with_state(
        faults,
        exchange_faults,
    ))
}

async fn exchange_faults(
    State(faults): State<Arc<ExchangeFaults>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == EXCHANGE_FAULTS_PATH {
        return admin(&faults, request).await;
    }
    if path.starts_with("/__sim/") {
        return next.run(request).await;
    }
    let Some(fault) = faults.pick(&path) else {
        return next.run(request).await;
    };
    tracing::info!(path, ?fault, "Exchange fault injected.");
    match fault {
        ExchangeFault::Status {
            status,
            retry_after_s,
            body,
        } => {
            let body = body.unwrap_or_else(|| {
                serde_json::json!({ "error": format!("simulated status {status}") }).to_string()
            });
            let mut response = json_answer(status, body);
            if let Some(s) = retry_after_s {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            response
        }
        ExchangeFault::Stall { ms } | ExchangeFault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
        ExchangeFault::Reset => {
            let (mut parts, body) = next.run(request).await.into_parts();
            let bytes = read_body(body).await;
            let half = bytes.slice(..bytes.len() / 2);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            let stream = futures_util::stream::unfold(Some(half), |left| async move {
                match left {
                    Some(half) => Some((Ok::<Bytes, std::io::Error>(half), None)),
                    None => {
                        // Let the half reach the client before the connection drops.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionReset,
                                "simulated connection reset mid-body",
                            )),
                            None,
                        ))
                    }
                }
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        ExchangeFault::Truncate => {
            let (parts, body) = next.run(request).await.into_parts();
            let text = String::from_utf8_lossy(&read_body(body).await).into_owned();
            with_body(parts, 200, malform(&text))
        }
        ExchangeFault::Garbage => {
            let mut response = Response::new(Body::from(
                "<html><head><title>502 Bad Gateway</title></head><body>upstream</body></html>",
            ));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            response
        }
        ExchangeFault::Drift { field, rename_to } => {
            let (parts, body) = next.run(request).await.into_parts();
            let bytes = read_body(body).await;
            let status = parts.status.as_u16();
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(mut json) => {
                    if drift(&mut json, &field, rename_to.as_deref()) {
                        faults.drifted();
                    }
                    with_body(parts, status, json.to_string())
                }
                Err(_) => with_body(parts, status, String::from_utf8_lossy(&bytes).into_owned()),
            }
        }
    }
}

async fn admin(faults: &ExchangeFaults, request: Request) -> Response {
    if request.method() == axum::http::Method::GET {
        return json_answer(200, faults.report().to_string());
    }
    if request.method() != axum::http::Method::POST {
        return json_answer(405, r#"{"error":"GET or POST"}"#.to_owned());
    }
    let body = read_body(request.into_body()).await;
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        "{}".as_bytes()
    } else {
        &body[..]
    };
    match serde_json::from_slice::<ExchangeFaultConfig>(text) {
        Ok(config) => {
            tracing::info!(?config, "Exchange faults set.");
            faults.set(config);
            json_answer(200, faults.report().to_string())
        }
        Err(e) => json_answer(
            400,
            serde_json::json!({ "error": format!("while reading the exchange faults: {e}") })
                .to_string(),
        ),
    }
}

async fn read_body(body: Body) -> Bytes {
    axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
}

fn json_answer(status: u16, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The answer of `parts` (headers kept, `Content-Length` dropped) with another status and body.
fn with_body(mut parts: axum::http::response::Parts, status: u16, body: String) -> Response {
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.status = StatusCode::from_u16(status).unwrap_or(parts.status);
    Response::from_parts(parts, Body::from(body))
}

/// Renames (or, without `rename_to`, removes) every object key `field` in `json`; whether
/// there was one.
pub fn drift(json: &mut Value, field: &str, rename_to: Option<&str>) -> bool {
    let mut changed = false;
    match json {
        Value::Object(map) => {
            if let Some(v) = map.remove(field) {
                changed = true;
                if let Some(to) = rename_to {
                    map.insert(to.to_owned(), v);
                }
            }
            for v in map.values_mut() {
                changed |= drift(v, field, rename_to);
            }
        }
        Value::Array(list) => {
            for v in list {
                changed |= drift(v, field, rename_to);
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_faults_pick_by_path_and_position() {
        let f = ExchangeFaults::default();
        assert_eq!(f.pick("/api/v3/myTrades"), None, "nothing set");
        f.set(ExchangeFaultConfig {
            path: "myTrades".into(),
            skip: 1,
            count: Some(2),
            fault: Some(ExchangeFault::Truncate),
            ..ExchangeFaultConfig::default()
        });
        let picks: Vec<bool> = ["/api/v3/myTrades", "/api/v3/account", "/api/v3/myTrades"]
            .iter()
            .chain(&["/api/v3/myTrades", "/api/v3/myTrades"])
            .map(|p| f.pick(p).is_some())
            .collect();
        assert_eq!(picks, [false, false, true, true, false]);
        let report = f.report();
        assert_eq!(report["stats"]["matched"], 4);
        assert_eq!(report["stats"]["faulted"], 2);
    }

    #[test]
    fn an_exact_path_picks_that_path_only() {
        let f = ExchangeFaults::default();
        f.set(ExchangeFaultConfig {
            path: "/api/v1".into(),
            exact: true,
            fault: Some(ExchangeFault::Truncate),
            ..ExchangeFaultConfig::default()
        });
        assert!(f.pick("/api/v1").is_some());
        assert!(f.pick("/api/v1/user").is_none());
    }

    #[test]
    fn drift_renames_or_removes_every_occurrence() {
        let mut v = serde_json::json!({"list": [{"id": 1, "x": {"id": 2}}], "id": 3});
        assert!(drift(&mut v, "id", Some("tradeId")));
        assert_eq!(
            v,
            serde_json::json!({"list": [{"tradeId": 1, "x": {"tradeId": 2}}], "tradeId": 3})
        );
        assert!(drift(&mut v, "tradeId", None));
        assert_eq!(v, serde_json::json!({"list": [{"x": {}}]}));
        assert!(!drift(&mut v, "tradeId", None));
    }

    #[test]
    fn draws_are_deterministic() {
        let cfg = FaultConfig {
            error_rate: 0.3,
            malformed_rate: 0.3,
            ..FaultConfig::default()
        };
        let a = Faults::new(cfg.clone(), 9);
        let b = Faults::new(cfg, 9);
        let da: Vec<FaultDraw> = (0..100).map(|_| a.draw()).collect();
        let db: Vec<FaultDraw> = (0..100).map(|_| b.draw()).collect();
        assert_eq!(da, db);
        assert!(da.iter().any(|d| d.error_status.is_some()));
        assert!(da.iter().any(|d| d.malformed));
        assert!(da.iter().any(|d| *d == FaultDraw::default()));
    }

    #[test]
    fn fail_next_counts_down() {
        let f = Faults::new(FaultConfig::default(), 1);
        f.apply(FaultPatch {
            fail_next: Some(FailNext {
                count: 2,
                status: 503,
            }),
            ..FaultPatch::default()
        });
        assert_eq!(f.draw().error_status, Some(503));
        assert_eq!(f.draw().error_status, Some(503));
        assert_eq!(f.draw().error_status, None);
        assert!(f.config().fail_next.is_none());
    }

    #[test]
    fn malformed_is_not_json() {
        let body = "[{\"a\":1},{\"b\":2}]";
        assert!(serde_json::from_str::<serde_json::Value>(&malform(body)).is_err());
        assert!(serde_json::from_str::<serde_json::Value>(&malform("[]")).is_err());
    }
}
