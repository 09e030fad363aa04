//! The host side of the plugin ABI: HTTP with a budget and retries, the clock, the log.
//!
//! A plugin's every request comes through [`HttpHost::http`]: the host refuses hosts the
//! manifest does not list, waits for the request budget, sends with timeouts, honours
//! `Retry-After` on 429, records bans (418) so a restart does not walk back into them, and
//! retries 5xx and network errors with exponential backoff and jitter. Whatever status comes
//! back last is handed to the plugin, which maps it to an error kind. Secret values never leave
//! this module in a log line or an error message.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use abi_stable_types::*;
use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, LogLevel};
use exsync_plugin_api::{PluginError, RateLimit, RateScope, ResetFormat};
use rand::Rng;

use crate::events::{HttpResponded, RateLimitWaited};
use crate::metrics::Metrics;
use crate::recording::Recording;
use crate::store::Store;

mod abi_stable_types {
    pub use exsync_plugin_api::abi_stable::std_types::{RResult, RStr, RString, RVec, Tuple2};
}

/// Attempts for one request that meets 429, 5xx or a network error.
const MAX_ATTEMPTS: u32 = 5;
/// A `Retry-After` longer than this is not waited out inside a sync: the request fails as
/// `rate_limited` and the next scheduled sync tries again.
const MAX_INLINE_RETRY_AFTER: Duration = Duration::from_secs(120);
/// First backoff for 5xx and network errors; doubles per attempt, plus up to 50% jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// A request that must not be resent (it carries a timestamp or nonce) and had to wait longer
/// than this for the budget is not sent: it would arrive stale (Binance's default receive
/// window is 5 s). The host answers status 0 and the plugin rebuilds it.
const STALE_AFTER: Duration = Duration::from_millis(1000);
/// Time limit of one connection attempt; the whole request's is `[http] request_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body the host reads. The biggest real page (1,000 trades or candles
/// with their raw JSON) is a few MiB; a body past this cap is a broken or hostile answer, and
/// reading it whole would let one response exhaust the daemon's memory.
pub const MAX_RESPONSE_BYTES: u64 = 64 << 20;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Replaces every secret value in a text with `****`.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Values shorter than 4 characters are not redacted: they would mangle ordinary text and
    /// no real credential is that short.
    pub fn new(values: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = values.into_iter().filter(|v| v.len() >= 4).collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "****");
            }
        }
        out
    }
}

/// A sliding-window request budget: at most `capacity` cost units in any `window`.
///
/// A sliding window (not a token bucket) because exchanges count in fixed windows whose
/// boundaries we do not know: a budget that never exceeds `capacity` in *any* window of that
/// length cannot exceed it in theirs. A request counts from its grant until a window after its
/// answer (for as long as it is in flight), so however late it reached the exchange, the
/// exchange's window that counted it cannot also count one that took its place: no safety
/// margin is needed, and the price is one round trip per window. Where the exchange says what
/// its window has left (`remaining_header`), that is a second bound until the window resets.
pub struct Budget {
    state: tokio::sync::Mutex<BudgetState>,
    /// Woken when spending leaves the budget early: an answer, a refund, a smaller count.
    freed: tokio::sync::Notify,
}

/// A request's claim on a [`Budget`]: settle it with [`Budget::answered`] or
/// [`Budget::refund`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant(u64);

/// What a response says about a budget's window, from the headers its manifest names.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Spent in the exchange's current window (`used_header`).
    pub used: Option<u32>,
    /// Left in the exchange's current window (`remaining_header`).
    pub remaining: Option<u32>,
    /// The exchange's size of the budget (`limit_header`).
    pub limit: Option<u32>,
    /// Until the exchange's window frees up (`reset_header`).
    pub reset: Option<Duration>,
}

struct Spend {
    id: u64,
    cost: u32,
    /// `None` while in flight.
    until: Option<Instant>,
}

/// The exchange's word on its window: no more than `left` until `until`.
#[derive(Debug, Clone, Copy)]
struct ServerView {
    left: u32,
    until: Instant,
    /// Our guess after a reset (the exchange's limit, until it says more), not its answer.
    guessed: bool,
}

struct BudgetState {
    capacity: u32,
    window: Duration,
    spent: Vec<Spend>,
    used: u32,
    next_id: u64,
    server: Option<ServerView>,
    /// The exchange's own size of the budget (`limit_header`): what a new window allows
    /// until its first answer says more.
    server_limit: Option<u32>,
    /// Sized by an integration's `[rate_limits]` rather than a manifest.
    sized_by_operator: bool,
    /// The exchange says what its window has left, and has not said it yet: one request at
    /// a time until it does, so a first burst cannot overrun a limit we do not know.
    awaiting_first_word: bool,
    /// Told to wait by the exchange (Retry-After) or banned until then.
    blocked_until: Option<Instant>,
    /// Consecutive 5xx answers or network errors: the backoff grows with them.
    failures: u32,
}

/// Two answers whose resets are closer than this speak of the same exchange window: more
/// than the spread of answer times within one window, less than the shortest window.
const SAME_WINDOW: Duration = Duration::from_millis(250);

impl BudgetState {
    fn prune(&mut self, now: Instant) {
        let before = self.spent.len();
        let mut freed = 0;
        self.spent.retain(|s| match s.until {
            Some(t) if t <= now => {
                freed += s.cost;
                false
            }
            _ => true,
        });
        if self.spent.len() != before {
            self.used -= freed;
        }
        if self.server.is_some_and(|v| v.until <= now) {
            // A new window: until an answer speaks of it, spend no more than it allows.
            let in_flight = self.in_flight_except(Grant(0));
            self.server = self.server_limit.map(|limit| ServerView {
                left: limit.saturating_sub(in_flight),
                until: now + self.window,
                guessed: true,
            });
        }
    }

    /// How long until `cost` may fit, if answered spending alone can make room; `None` when
    /// requests in flight must be answered first.
    fn room_in(&self, cost: u32, now: Instant) -> Option<Duration> {
        let mut answered: Vec<(Instant, u32)> = self
            .spent
            .iter()
            .filter_map(|s| s.until.map(|t| (t, s.cost)))
            .collect();
        answered.sort_unstable_by_key(|&(t, _)| t);
        let mut used = self.used;
        for (t, c) in answered {
            used -= c;
            if used + cost <= self.capacity {
                return Some(t.saturating_duration_since(now));
            }
        }
        None
    }

    fn in_flight_except(&self, grant: Grant) -> u32 {
        self.spent
            .iter()
            .filter(|s| s.until.is_none() && s.id != grant.0)
            .map(|s| s.cost)
            .sum()
    }
}

impl Budget {
    pub fn new(capacity: u32, window: Duration) -> Budget {
        Budget {
            state: tokio::sync::Mutex::new(BudgetState {
                capacity: capacity.max(1),
                window,
                spent: Vec::new(),
                used: 0,
                next_id: 1,
                server: None,
                server_limit: None,
                sized_by_operator: false,
                awaiting_first_word: false,
                blocked_until: None,
                failures: 0,
            }),
            freed: tokio::sync::Notify::new(),
        }
    }

    /// The exchange tells what its window has left (`remaining_header`): until its first
    /// answer does, requests go one at a time.
    pub async fn await_first_word(&self) {
        let mut st = self.state.lock().await;
        if st.server.is_none() && st.server_limit.is_none() {
            st.awaiting_first_word = true;
        }
    }

    /// Sizes the budget as an integration sees it: an operator's `[rate_limits]` size wins
    /// over a manifest's, and among sizes of the same origin the lowest rate wins (several
    /// integrations share one budget; until the daemon restarts).
    pub async fn size(&self, capacity: u32, window: Duration, by_operator: bool) {
        let mut st = self.state.lock().await;
        let ours = u128::from(st.capacity) * window.as_millis();
        let theirs = u128::from(capacity) * st.window.as_millis();
        let adopt = match (by_operator, st.sized_by_operator) {
            (true, false) => true,
            (false, true) => false,
            _ => theirs < ours,
        };
        if adopt {
            st.capacity = capacity.max(1);
            st.window = window;
            st.sized_by_operator = by_operator;
        }
    }

    /// Waits until `cost` fits (when `pace` is on) and no block is in force; returns the
    /// grant, the wait and its cause, or, when a block lasts longer than
    /// [`MAX_INLINE_RETRY_AFTER`], how long it has left.
    pub async fn acquire(
        &self,
        cost: u32,
        pace: bool,
    ) -> Result<(Grant, Duration, &'static str), Duration> {
        let start = Instant::now();
        let mut cause = "budget";
        loop {
            let freed = self.freed.notified();
            let mut st = self.state.lock().await;
            let now = Instant::now();
            if let Some(until) = st.blocked_until {
                if until > now {
                    drop(st);
                    if until - now > MAX_INLINE_RETRY_AFTER {
                        return Err(until - now);
                    }
                    cause = "retry_after";
                    tokio::time::sleep(until - now).await;
                    continue;
                }
                st.blocked_until = None;
            }
            if !pace {
                return Ok((Grant(0), start.elapsed(), cause));
            }
            let cost = cost.min(st.capacity);
            st.prune(now);
            let one_at_a_time = st.awaiting_first_word && st.in_flight_except(Grant(0)) > 0;
            let window_fits = st.used + cost <= st.capacity && !one_at_a_time;
            let server_fits = st.server.is_none_or(|v| cost <= v.left);
            if window_fits && server_fits {
                let id = st.next_id;
                st.next_id += 1;
                st.spent.push(Spend {
                    id,
                    cost,
                    until: None,
                });
                st.used += cost;
                if let Some(v) = st.server.as_mut() {
                    v.left -= cost;
                }
                return Ok((Grant(id), start.elapsed(), cause));
            }
            // Wait for whichever bound holds us longer; an answer may free room sooner.
            let mut wait = Duration::ZERO;
            let mut on_answers = false;
            if one_at_a_time {
                on_answers = true;
            } else if !window_fits {
                match st.room_in(cost, now) {
                    Some(d) => wait = wait.max(d),
                    None => on_answers = true,
                }
            }
            if let Some(v) = st.server.filter(|_| !server_fits) {
                wait = wait.max(v.until.saturating_duration_since(now));
            }
            let window = st.window;
            drop(st);
            let sleep = if on_answers && wait.is_zero() {
                window
            } else {
                wait
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep + Duration::from_millis(1)) => {}
                _ = freed, if on_answers => {}
            }
        }
    }

    /// The answer to a granted request came back (or it failed on the way: the exchange may
    /// have counted it): it counts for one more window from now.
    pub async fn answered(&self, grant: Grant) {
        let mut st = self.state.lock().await;
        let until = Instant::now() + st.window;
        if let Some(s) = st.spent.iter_mut().find(|s| s.id == grant.0) {
            s.until = Some(until);
        }
        drop(st);
        self.freed.notify_waiters();
    }

    /// Gives back a grant whose request was not sent.
    pub async fn refund(&self, grant: Grant) {
        let mut st = self.state.lock().await;
        if let Some(i) = st.spent.iter().position(|s| s.id == grant.0) {
            let s = st.spent.swap_remove(i);
            st.used -= s.cost;
            if let Some(v) = st.server.as_mut() {
                v.left += s.cost;
            }
        }
        drop(st);
        self.freed.notify_waiters();
    }

    /// What the exchange said about its window in the answer to `grant`: it is trusted
    /// where it is stricter than our own count (someone else shares the key or address).
    pub async fn observe(&self, grant: Grant, usage: Usage) {
        let mut st = self.state.lock().await;
        let now = Instant::now();
        if let Some(limit) = usage.limit.filter(|&l| l > 0) {
            st.server_limit = Some(limit);
        }
        if let Some(server_used) = usage.used {
            if server_used > st.used {
                let extra = server_used - st.used;
                let id = st.next_id;
                st.next_id += 1;
                let until = Some(now + st.window);
                st.spent.push(Spend {
                    id,
                    cost: extra,
                    until,
                });
                st.used += extra;
            }
        }
        if let Some(remaining) = usage.remaining {
            st.awaiting_first_word = false;
            // Requests still in flight may not be in the exchange's count yet.
            let left = remaining.saturating_sub(st.in_flight_except(grant));
            let until = now + usage.reset.unwrap_or(st.window).min(st.window);
            let answer = ServerView {
                left,
                until,
                guessed: false,
            };
            st.server = Some(match st.server.filter(|v| v.until > now) {
                Some(v) if !v.guessed && until <= v.until + SAME_WINDOW => ServerView {
                    left: left.min(v.left),
                    until: until.max(v.until),
                    guessed: false,
                },
                // A later window, or the first answer about this one.
                _ => answer,
            });
        }
    }

    /// Notes a 5xx, a network error or a 429 without `Retry-After`; every request of this
    /// budget pauses for the returned backoff, which doubles with each consecutive failure.
    pub async fn fail(&self) -> Duration {
        let mut st = self.state.lock().await;
        st.failures = (st.failures + 1).min(16);
        let pause = backoff(st.failures);
        let until = Instant::now() + pause;
        if st.blocked_until.is_none_or(|b| b < until) {
            st.blocked_until = Some(until);
        }
        pause
    }

    /// Notes an answer that was not a failure: the backoff starts over.
    pub async fn succeed(&self) {
        self.state.lock().await.failures = 0;
    }

    /// Blocks every request of this budget until `until`.
    pub async fn block_until(&self, until: Instant) {
        let mut st = self.state.lock().await;
        if st.blocked_until.is_none_or(|b| b < until) {
            st.blocked_until = Some(until);
        }
    }
}

/// The name a per-key budget goes by: a digest of the exchange and the API key, never the key.
/// Integrations with the same key share the budget; the digest cannot be turned back into it.
pub fn key_id(exchange: &str, api_key: &str) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"exsync rate budget\0");
    h.update(exchange.as_bytes());
    h.update(b"\0");
    h.update(api_key.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// Reads a reset header as the time left until the exchange's window frees up.
fn parse_reset(value: &str, format: ResetFormat) -> Option<Duration> {
    let v: i64 = value.trim().parse().ok()?;
    let ms = match format {
        ResetFormat::MillisLeft => v,
        ResetFormat::SecondsLeft => v.saturating_mul(1000),
        ResetFormat::EpochMillis => v - now_ms(),
        ResetFormat::EpochSeconds => v.saturating_mul(1000) - now_ms(),
    };
    Some(Duration::from_millis(ms.max(0) as u64))
}

/// What every integration's host shares: the runtime, budgets, metrics, the store.
pub struct HostShared {
    pub runtime: tokio::runtime::Handle,
    pub metrics: Arc<Metrics>,
    pub store: Arc<Store>,
    /// The master key and the sealed credentials (`credentials = "store"`).
    pub vault: Arc<crate::credentials::Vault>,
    budgets: Mutex<HashMap<String, Arc<Budget>>>,
    /// Integration → the `debug record` recording its host feeds.
    recordings: Mutex<HashMap<String, Arc<Recording>>>,
    /// `[http]`: one request's time limit, how long a ban without an end lasts.
    http: crate::config::HttpSettings,
    /// The HTTP clients every integration's host sends through, without and with the
    /// environment's proxy: one connection pool and one root certificate store for the
    /// daemon. One client per integration held, with a thousand integrations, a thousand
    /// pools (each keeping a connection and its file descriptor) and root stores.
    clients: Mutex<[Option<reqwest::Client>; 2]>,
}

/// Idle connections kept per exchange host, shared by every integration on that host: about
/// as many as sync at once on a large installation, so a sync rarely opens a new one.
const IDLE_CONNECTIONS_PER_HOST: usize = 32;

impl HostShared {
    pub fn new(
        runtime: tokio::runtime::Handle,
        metrics: Arc<Metrics>,
        store: Arc<Store>,
        vault: Arc<crate::credentials::Vault>,
    ) -> HostShared {
        HostShared {
            runtime,
            metrics,
            store,
            vault,
            budgets: Mutex::new(HashMap::new()),
            recordings: Mutex::new(HashMap::new()),
            http: crate::config::HttpSettings::default(),
            clients: Mutex::new([None, None]),
        }
    }

    /// Registers `recording` for `integration`'s requests; false when one is running already.
    pub fn start_recording(&self, integration: &str, recording: Arc<Recording>) -> bool {
        let mut map = self.recordings.lock().expect("recording map lock");
        if map.contains_key(integration) {
            return false;
        }
        map.insert(integration.to_owned(), recording);
        true
    }

    /// Ends `integration`'s recording: its host records nothing more.
    pub fn stop_recording(&self, integration: &str) {
        self.recordings
            .lock()
            .expect("recording map lock")
            .remove(integration);
    }

    fn recording(&self, integration: &str) -> Option<Arc<Recording>> {
        let map = self.recordings.lock().expect("recording map lock");
        map.get(integration).cloned()
    }

    /// Sets the `[http]` settings: request timeout, default ban.
    pub fn with_http(mut self, http: crate::config::HttpSettings) -> HostShared {
        self.http = http;
        self
    }

    /// Records that `exchange` banned this address on `host` (its API host, `host[:port]`)
    /// for `wait`, or for `[http] default_ban` when the exchange did not say: every request of
    /// every integration to that host is refused as `banned` until then, across restarts.
    /// A ban already recorded that ends later is kept. Returns when the ban ends (Unix ms).
    pub fn record_ban(&self, exchange: &str, host: &str, wait: Option<Duration>) -> i64 {
        let scope = ban_scope(exchange, host);
        let until = now_ms() + wait.unwrap_or(self.http.default_ban).as_millis() as i64;
        let kept = self
            .store
            .ban(&scope)
            .ok()
            .flatten()
            .filter(|t| *t >= until);
        if let Some(kept) = kept {
            return kept;
        }
        if let Err(e) = self.store.set_ban(&scope, until) {
            tracing::error!(error = %e, exchange, host, "Could not persist a ban.");
        }
        until
    }

    /// When the ban `exchange` put on this address on `host` ends (Unix ms), if one is in force.
    pub fn banned_until(&self, exchange: &str, host: &str) -> Option<i64> {
        let until = self.store.ban(&ban_scope(exchange, host)).ok().flatten()?;
        (until > now_ms()).then_some(until)
    }

    /// The shared HTTP client, with or without the environment's proxy settings.
    fn client(&self, use_proxy: bool) -> Result<reqwest::Client, PluginError> {
        let mut clients = self.clients.lock().expect("HTTP clients lock");
        let slot = &mut clients[usize::from(use_proxy)];
        if let Some(client) = slot {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(self.http.request_timeout)
            .user_agent(concat!("exsyncd/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_HOST);
        if !use_proxy {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| PluginError::config(format!("while building the HTTP client: {e}")))?;
        *slot = Some(client.clone());
        Ok(client)
    }

    /// The budget of a scope, shared by every integration in it: `exchange|host|bucket` for a
    /// bucket the exchange counts per address, `exchange|key:DIGEST|bucket` for one it counts
    /// per API key (see [`key_id`]).
    /// A manifest without rate limits still gets a budget: it carries Retry-After blocks and
    /// backoff, and never paces.
    fn budget(&self, scope: &str, limit: Option<&RateLimit>) -> Arc<Budget> {
        let mut map = self.budgets.lock().expect("budget map lock");
        map.entry(scope.to_owned())
            .or_insert_with(|| {
                Arc::new(match limit {
                    Some(l) => Budget::new(l.capacity, Duration::from_millis(l.window_ms)),
                    None => Budget::new(u32::MAX, Duration::from_secs(1)),
                })
            })
            .clone()
    }
}

/// The [`HostIo`] given to one integration's connector.
pub struct HttpHost {
    shared: Arc<HostShared>,
    client: reqwest::Client,
    integration: String,
    exchange: String,
    /// `host[:port]` the plugin may call.
    allowed_hosts: Vec<String>,
    rate_limits: Vec<RateLimit>,
    /// Pace requests with the manifest's budget (off only for benchmarks).
    pace: bool,
    redactor: Redactor,
    /// Names the per-key budgets of this integration's API key ([`key_id`]).
    key_id: String,
    /// Buckets the integration's `[rate_limits]` sized.
    overridden: Vec<String>,
}

/// What an [`HttpHost`] is built from.
pub struct HttpHostConfig {
    pub integration: String,
    pub exchange: String,
    pub allowed_hosts: Vec<String>,
    pub rate_limits: Vec<RateLimit>,
    /// The integration's `[rate_limits.BUCKET]` tables: a smaller budget than the manifest's
    /// (a key shared with another system, a scaled-down simulator).
    pub rate_limit_overrides: Vec<crate::config::RateLimitOverride>,
    pub pace: bool,
    pub redactor: Redactor,
    /// [`key_id`] of the integration's API key.
    pub key_id: String,
    /// Route through the environment's proxy settings (off for loopback simulators).
    pub use_proxy: bool,
}

impl HttpHost {
    pub fn new(shared: Arc<HostShared>, config: HttpHostConfig) -> Result<HttpHost, PluginError> {
        let client = shared.client(config.use_proxy)?;
        let mut rate_limits = config.rate_limits;
        for o in &config.rate_limit_overrides {
            let Some(limit) = rate_limits.iter_mut().find(|l| l.bucket == o.bucket) else {
                let known: Vec<&str> = rate_limits.iter().map(|l| l.bucket.as_str()).collect();
                return Err(PluginError::config(format!(
                    "while reading [rate_limits.{}]: the {} plugin has no such bucket (it has: {})",
                    o.bucket,
                    config.exchange,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            limit.capacity = o.capacity;
            limit.window_ms = o.window.as_millis() as u64;
        }
        let overridden = config
            .rate_limit_overrides
            .iter()
            .map(|o| o.bucket.clone())
            .collect();
        Ok(HttpHost {
            shared,
            client,
            integration: config.integration,
            exchange: config.exchange,
            allowed_hosts: config.allowed_hosts,
            rate_limits,
            pace: config.pace,
            redactor: config.redactor,
            key_id: config.key_id,
            overridden,
        })
    }

    fn err(&self, kind: fn(String) -> PluginError, text: String) -> PluginError {
        kind(self.redactor.redact(&text))
    }

    /// The request path for logs: no query string (it may carry signatures and keys).
    fn shown(url: &str) -> &str {
        url.split('?').next().unwrap_or(url)
    }

    async fn send(&self, req: AbiHttpRequest) -> Result<AbiHttpResponse, PluginError> {
        let url = req.url.as_str();
        let host = crate::config::url_host(url).ok_or_else(|| {
            self.err(
                PluginError::plugin,
                format!("request URL {} is not http(s)", Self::shown(url)),
            )
        })?;
        if !self.allowed_hosts.contains(&host) {
            return Err(self.err(
                PluginError::plugin,
                format!(
                    "refused a request to {host}: not among the hosts this integration may call ({})",
                    self.allowed_hosts.join(", ")
                ),
            ));
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            self.err(
                PluginError::plugin,
                format!("invalid HTTP method {:?}", req.method.as_str()),
            )
        })?;
        let limit = if req.bucket.is_empty() {
            self.rate_limits.first()
        } else {
            self.rate_limits
                .iter()
                .find(|r| r.bucket == req.bucket.as_str())
        };
        let bucket_name = limit.map(|l| l.bucket.as_str()).unwrap_or("default");
        let per_key = limit.is_some_and(|l| l.scope == RateScope::Key);
        let scope = if per_key {
            format!("{}|key:{}|{bucket_name}", self.exchange, self.key_id)
        } else {
            format!("{}|{host}|{bucket_name}", self.exchange)
        };
        let budget = self.shared.budget(&scope, limit);
        if let Some(l) = limit {
            let by_operator = self.overridden.contains(&l.bucket);
            budget
                .size(l.capacity, Duration::from_millis(l.window_ms), by_operator)
                .await;
            if l.remaining_header.is_some() {
                budget.await_first_word().await;
            }
        }
        let pace = self.pace && limit.is_some();

        let mut attempt = 0;
        loop {
            attempt += 1;
            // Another try is ours to make only for a request that may be sent twice.
            let may_retry = req.resend && attempt < MAX_ATTEMPTS;
            // A ban is on the address, whatever the bucket: no request to the host goes out.
            if let Some(until) = self.shared.banned_until(&self.exchange, &host) {
                return Err(PluginError::new(
                    exsync_plugin_api::ErrorKind::BANNED,
                    format!(
                        "{} banned this address for {} more seconds (refused a {bucket_name} request without sending it)",
                        self.exchange,
                        (until - now_ms() + 999) / 1000
                    ),
                ));
            }
            let (grant, waited, cause) = budget.acquire(req.cost, pace).await.map_err(|left| {
                PluginError::new(
                    exsync_plugin_api::ErrorKind::RATE_LIMITED,
                    format!(
                        "{} asked us to wait {} more seconds (on {bucket_name} requests); the next scheduled sync continues",
                        self.exchange,
                        left.as_secs()
                    ),
                )
            })?;
            RateLimitWaited {
                exchange: &self.exchange,
                bucket: bucket_name,
                waited,
                cause,
            }
            .emit(&self.shared.metrics);
            if !req.resend && waited > STALE_AFTER {
                budget.refund(grant).await;
                return Ok(AbiHttpResponse {
                    status: 0,
                    headers: RVec::new(),
                    body: RVec::new(),
                });
            }

            let mut builder = self.client.request(method.clone(), url);
            for Tuple2(name, value) in req.headers.iter() {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if !req.body.is_empty() {
                builder = builder.body(req.body.to_vec());
            }
            let started = Instant::now();
            let sent = match builder.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers: RVec<Tuple2<RString, RString>> = response
                        .headers()
                        .iter()
                        .map(|(n, v)| {
                            Tuple2(
                                n.as_str().into(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                            )
                        })
                        .collect();
                    match read_body(response, MAX_RESPONSE_BYTES).await {
                        Ok(body) => Ok((status, headers, body)),
                        Err(BodyError::Read(e)) => Err(e),
                        Err(BodyError::TooLarge { declared }) => {
                            HttpResponded {
                                exchange: &self.exchange,
                                status: &status.to_string(),
                                duration: started.elapsed(),
                            }
                            .emit(&self.shared.metrics);
                            // Sending it again brings the same body: no retry.
                            let size = declared
                                .map(|n| format!("of {n} bytes "))
                                .unwrap_or_default();
                            return Err(self.err(
                                PluginError::bad_response,
                                format!(
                                    "refused the response to {}: its body {size}exceeds the limit of {MAX_RESPONSE_BYTES} bytes",
                                    Self::shown(url)
                                ),
                            ));
                        }
                    }
                }
                Err(e) => Err(e),
            };
            budget.answered(grant).await;
            let (status, headers, body) = match sent {
                Ok(parts) => parts,
                Err(e) => {
                    HttpResponded {
                        exchange: &self.exchange,
                        status: "error",
                        duration: started.elapsed(),
                    }
                    .emit(&self.shared.metrics);
                    let text =
                        format!("while requesting {}: {}", Self::shown(url), error_chain(&e));
                    let pause = budget.fail().await;
                    if may_retry {
                        tracing::warn!(integration = %self.integration, attempt, "Request failed, retrying: {}", self.redactor.redact(&text));
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                    return Err(self.err(PluginError::network, text));
                }
            };
            let status_label = status.to_string();
            HttpResponded {
                exchange: &self.exchange,
                status: &status_label,
                duration: started.elapsed(),
            }
            .emit(&self.shared.metrics);

            let header = |name: &str| {
                headers
                    .iter()
                    .find(|Tuple2(n, _)| n.as_str().eq_ignore_ascii_case(name))
                    .map(|Tuple2(_, v)| v.as_str())
            };
            if let Some(l) = limit {
                let number = |name: &Option<String>| {
                    name.as_deref()
                        .and_then(header)
                        .and_then(|v| v.trim().parse::<u32>().ok())
                };
                let usage = Usage {
                    used: number(&l.used_header),
                    remaining: number(&l.remaining_header),
                    limit: number(&l.limit_header),
                    reset: l
                        .reset_header
                        .as_deref()
                        .and_then(header)
                        .and_then(|v| parse_reset(v, l.reset_format)),
                };
                if usage != Usage::default() {
                    budget.observe(grant, usage).await;
                }
            }
            let retry_after = header("retry-after").and_then(parse_retry_after);
            let is_ban = limit.is_some_and(|l| l.ban_statuses.contains(&status));
            let answer = AbiHttpResponse {
                status,
                headers: headers.clone(),
                body: RVec::from(body),
            };

            if is_ban {
                let until = self.shared.record_ban(&self.exchange, &host, retry_after);
                let wait = Duration::from_millis((until - now_ms()).max(0) as u64);
                budget.block_until(Instant::now() + wait).await;
                tracing::error!(
                    integration = %self.integration, exchange = %self.exchange, status,
                    seconds = wait.as_secs(), "Exchange banned us; every request to it waits the ban out."
                );
                return Ok(answer);
            }
            if status == 429 {
                // Every request of this budget waits, this one's retry included. Without a
                // Retry-After the pause grows with consecutive 429s across requests, so a
                // signed request the plugin rebuilds does not start over at the shortest one.
                let wait = match retry_after {
                    Some(wait) => {
                        budget.block_until(Instant::now() + wait).await;
                        wait
                    }
                    None => budget.fail().await,
                };
                if may_retry && wait <= MAX_INLINE_RETRY_AFTER {
                    continue;
                }
                return Ok(answer);
            }
            if status >= 500 {
                let pause = budget.fail().await;
                if may_retry {
                    tracing::warn!(integration = %self.integration, status, attempt, "Exchange answered with a server error, retrying.");
                    tokio::time::sleep(
                        retry_after
                            .filter(|d| *d <= MAX_INLINE_RETRY_AFTER)
                            .unwrap_or(pause),
                    )
                    .await;
                    continue;
                }
                return Ok(answer);
            }
            budget.succeed().await;
            return Ok(answer);
        }
    }
}

/// The store key of a ban: the exchange and its API host. One per address, not per bucket:
/// exchanges ban an address (Binance's 418) or a key (Kraken's lockout), never one endpoint.
fn ban_scope(exchange: &str, host: &str) -> String {
    format!("{exchange}|{host}")
}

/// Why a response body was not read.
#[derive(Debug)]
enum BodyError {
    Read(reqwest::Error),
    /// Over the cap: `declared` is the `Content-Length` when that alone gave it away.
    TooLarge {
        declared: Option<u64>,
    },
}

/// Reads a response body chunk by chunk, refusing it as soon as it passes `cap` bytes (at
/// once when its `Content-Length` says so), so an oversized body is never held whole.
async fn read_body(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, BodyError> {
    if let Some(n) = response.content_length().filter(|n| *n > cap) {
        return Err(BodyError::TooLarge { declared: Some(n) });
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(BodyError::TooLarge { declared: None });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `Retry-After` in seconds (the form exchanges use); HTTP dates are not worth the parser.
fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE * 2u32.saturating_pow(attempt.saturating_sub(1));
    let jitter = rand::thread_rng().gen_range(0.0..0.5);
    base.mul_f64(1.0 + jitter)
}

impl HostIo for HttpHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        // `exsyncctl debug record`: keep the request to pair it with its answer.
        let recording = self
            .shared
            .recording(&self.integration)
            .map(|r| (r, request.clone()));
        // Never let a panic of ours unwind into plugin code: that would abort the process.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.shared.runtime.block_on(self.send(request))
        }));
        // Answers the exchange gave; status 0 ("not sent, rebuild it") is not one.
        if let (Some((recording, sent)), Ok(Ok(answer))) = (&recording, &outcome) {
            if answer.status != 0 {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    recording.save(&self.redactor, sent, answer)
                }));
            }
        }
        match outcome {
            Ok(Ok(r)) => RResult::ROk(r),
            Ok(Err(e)) => RResult::RErr(e),
            Err(_) => RResult::RErr(PluginError::plugin(
                "the host panicked while sending a request",
            )),
        }
    }

    fn now_ms(&self) -> i64 {
        now_ms()
    }

    fn log(&self, level: LogLevel, message: RStr<'_>) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let text = self.redactor.redact(message.as_str());
            let integration = self.integration.as_str();
            match level {
                LogLevel::Error => tracing::error!(integration, plugin = %self.exchange, "{text}"),
                LogLevel::Warn => tracing::warn!(integration, plugin = %self.exchange, "{text}"),
                LogLevel::Info => tracing::info!(integration, plugin = %self.exchange, "{text}"),
                LogLevel::Debug => tracing::debug!(integration, plugin = %self.exchange, "{text}"),
                LogLevel::Trace => tracing::trace!(integration, plugin = %self.exchange, "{text}"),
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves one HTTP/1.1 answer with a chunked body of `chunks` chunks of 1 KiB on loopback.
    async fn chunked_server(chunks: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/big?signature=s3cr3t",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
            for _ in 0..chunks {
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        url
    }

    #[tokio::test]
    async fn read_body_refuses_a_chunked_body_past_the_cap_and_reads_one_within_it() {
        let client = reqwest::Client::new();
        let url = chunked_server(8).await;
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.content_length(), None, "the body must be chunked");
        match read_body(response, 4 * 1024).await {
            Err(BodyError::TooLarge { declared: None }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let url = chunked_server(4).await;
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(read_body(response, 4 * 1024).await.unwrap().len(), 4 * 1024);
    }

    #[test]
    fn redactor_replaces_every_secret_longest_first() {
        let r = Redactor::new(vec!["abcdefgh".into(), "abcd".into(), "xy".into()]);
        assert_eq!(
            r.redact("key=abcdefgh other=abcd short=xy"),
            "key=**** other=**** short=xy"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn budget_never_exceeds_capacity_in_any_window() {
        let b = Budget::new(10, Duration::from_secs(1));
        let start = Instant::now();
        let mut grants = Vec::new();
        for _ in 0..25 {
            let (grant, _, _) = b.acquire(2, true).await.unwrap();
            b.answered(grant).await;
            grants.push(start.elapsed());
        }
        // In any 1 s window at most 5 grants of cost 2.
        for (i, t) in grants.iter().enumerate() {
            let in_window = grants[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 5,
                "window starting {t:?} has {in_window} grants"
            );
        }
        // And it runs at full speed: 25 grants of 2 in a 10/s budget take 4 windows, not more.
        assert!(
            grants.last().unwrap() < &Duration::from_millis(4100),
            "{:?}",
            grants.last()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn block_until_holds_every_request() {
        let b = Budget::new(100, Duration::from_secs(60));
        b.block_until(Instant::now() + Duration::from_secs(3)).await;
        let (_, waited, cause) = b.acquire(1, false).await.unwrap();
        assert!(waited >= Duration::from_secs(3));
        assert_eq!(cause, "retry_after");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_counts_until_a_window_after_its_answer() {
        let b = Arc::new(Budget::new(1, Duration::from_secs(1)));
        let (slow, _, _) = b.acquire(1, true).await.unwrap();
        // Its answer takes 5 s: it may have reached the exchange at any moment until then.
        let answering = b.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            answering.answered(slow).await;
        });
        let (_, waited, _) = b.acquire(1, true).await.unwrap();
        assert!(
            waited >= Duration::from_secs(6) && waited < Duration::from_millis(6100),
            "the next request waits for the answer and a window after it: {waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_exchange_says_is_left_bounds_the_budget_until_its_reset() {
        let b = Budget::new(100, Duration::from_secs(30));
        let (g, _, _) = b.acquire(1, true).await.unwrap();
        b.answered(g).await;
        // Another client of the same key spent almost everything: 2 left, reset in 4 s.
        b.observe(
            g,
            Usage {
                remaining: Some(2),
                limit: Some(50),
                reset: Some(Duration::from_secs(4)),
                ..Usage::default()
            },
        )
        .await;
        let start = Instant::now();
        for _ in 0..2 {
            let (g, _, _) = b.acquire(1, true).await.unwrap();
            b.answered(g).await;
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        let (g, waited, _) = b.acquire(1, true).await.unwrap();
        b.answered(g).await;
        assert!(waited >= Duration::from_secs(4), "{waited:?}");
        // The new window allows the exchange's limit (50), not the manifest's (100), until an
        // answer speaks of it.
        let start = Instant::now();
        for _ in 0..49 {
            let (g, _, _) = b.acquire(1, true).await.unwrap();
            b.answered(g).await;
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        let (_, waited, _) = b.acquire(1, true).await.unwrap();
        assert!(waited >= Duration::from_secs(29), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_operator_size_then_the_lowest_rate_sizes_a_shared_budget() {
        let b = Budget::new(6000, Duration::from_secs(60));
        b.size(3000, Duration::from_secs(60), false).await;
        assert_eq!(b.state.lock().await.capacity, 3000, "the lower rate");
        b.size(6000, Duration::from_secs(60), false).await;
        assert_eq!(
            b.state.lock().await.capacity,
            3000,
            "a higher one changes nothing"
        );
        // An operator's size wins over any manifest's, even at a higher rate.
        b.size(1200, Duration::from_secs(10), true).await;
        b.size(3000, Duration::from_secs(60), false).await;
        let st = b.state.lock().await;
        assert_eq!((st.capacity, st.window), (1200, Duration::from_secs(10)));
    }

    #[test]
    fn key_ids_name_a_key_without_showing_it() {
        let key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
        let id = key_id("binance", key);
        assert_eq!(id.len(), 16);
        assert!(!key.contains(&id) && !id.contains(&key[..4]));
        assert_eq!(id, key_id("binance", key));
        assert_ne!(id, key_id("binance", "anotherKey"));
        assert_ne!(id, key_id("kucoin", key));
    }

    #[test]
    fn reset_headers_in_each_format() {
        assert_eq!(
            parse_reset("1500", ResetFormat::MillisLeft),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_reset("3", ResetFormat::SecondsLeft),
            Some(Duration::from_secs(3))
        );
        let soon = parse_reset(&(now_ms() + 2000).to_string(), ResetFormat::EpochMillis).unwrap();
        assert!(soon > Duration::from_millis(1000) && soon <= Duration::from_millis(2000));
        assert_eq!(
            parse_reset("1", ResetFormat::EpochSeconds),
            Some(Duration::ZERO),
            "a past reset is now"
        );
        assert_eq!(parse_reset("soon", ResetFormat::MillisLeft), None);
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
