//! Wiring for the `bitfinex` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the last nonce sent (nonces are the clock in µs and
//! never repeat, see [`crate::signing`]) and the pair list candle symbols are checked against
//! (cached for an hour). Everything else is in the pure modules.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::window::{Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, PluginError, RateLimit,
    RecordKind, Stream,
};

use crate::config::BitfinexConfig;
use crate::endpoints::{
    timeframe_of, BitfinexEndpoints, Endpoint, API_HOSTS, BLOCK_MS, BUCKETS, CANDLES_LIMIT,
    DEFAULT_BASE_URL, JSON_CONTENT_TYPE, LEDGERS_LIMIT, MINUTE_WINDOW_MS, MOVEMENTS_LIMIT,
    ORDERS_LIMIT, ORDERS_LOOKBACK_MS, PAIRS_TTL_MS, TIMEFRAMES, TRADES_LIMIT,
};
use crate::pagination::{self, next_page, window_params, BitfinexPager};
use crate::parsing::{self, ListPage};
use crate::signing::{self, BitfinexSigner};

/// Rebuilds of a request the host did not send because the budget made it wait.
const MAX_UNSENT: u32 = 100;
/// Attempts of one signed request; the host's own retry count (`Host::http_retrying`), which
/// plugin-api does not export: our loop stands in for it because Bitfinex answers a request
/// it refuses with a 5xx, which must not be retried.
const MAX_ATTEMPTS: u32 = 5;
/// The status the host answers for a no-resend request it did not send because it had to
/// wait (plugin-api's `NOT_SENT`, not exported).
const NOT_SENT: u16 = 0;

/// One configured connection to one Bitfinex account.
pub struct BitfinexConnector {
    host: Host,
    config: BitfinexConfig,
    endpoints: BitfinexEndpoints,
    signer: BitfinexSigner,
    pager: BitfinexPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// The last nonce sent with this key by this instance.
    last_nonce: u64,
    /// Every trading symbol Bitfinex lists, and when it was fetched (our clock).
    pairs: Option<(i64, Arc<BTreeSet<String>>)>,
}

/// One history request: which endpoint, which page size, how to read its rows.
struct History {
    endpoint: &'static Endpoint,
    name: &'static str,
    limit: usize,
    /// Extra body parameters after `start`, `end` and `limit`.
    extra: &'static [(&'static str, i64)],
}

impl Connector for BitfinexConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("bitfinex", "Bitfinex", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "API Secret".into(),
                secret: true,
                optional: false,
            },
        ];
        m.streams = vec![
            Stream::Balances,
            Stream::Trades,
            Stream::Orders,
            Stream::Deposits,
            Stream::Withdrawals,
            Stream::Ledger,
            Stream::Candles,
        ];
        m.api_hosts = API_HOSTS.iter().map(|h| h.to_string()).collect();
        m.default_base_url = DEFAULT_BASE_URL.into();
        m.sandbox_base_url = None;
        m.rate_limits = BUCKETS
            .iter()
            .map(|(bucket, capacity)| RateLimit {
                bucket: (*bucket).into(),
                capacity: *capacity,
                window_ms: MINUTE_WINDOW_MS,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            })
            .collect();
        // Bitfinex keeps trades, movements and the ledger for the account's life and sets no
        // widest window; orders it keeps two weeks.
        let unlimited = |stream| HistoryLimit {
            stream,
            max_lookback_ms: None,
            max_window_ms: None,
        };
        m.history = vec![
            unlimited(Stream::Trades),
            HistoryLimit {
                stream: Stream::Orders,
                max_lookback_ms: Some(ORDERS_LOOKBACK_MS),
                max_window_ms: Some(ORDERS_LOOKBACK_MS),
            },
            unlimited(Stream::Ledger),
            unlimited(Stream::Deposits),
            unlimited(Stream::Withdrawals),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let bitfinex = BitfinexConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(BitfinexConnector {
            host,
            endpoints: BitfinexEndpoints::new(&bitfinex.base_url),
            signer: BitfinexSigner::new(&bitfinex.api_key, &bitfinex.api_secret),
            pager: BitfinexPager::new(bitfinex.start_ms, bitfinex.transfer_overlap_ms),
            config: bitfinex,
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let body = self.signed_post(
            &BitfinexEndpoints::USER_INFO,
            &[],
            "checking the API key (user info)",
        )?;
        let account = parsing::parse_user_info(&body)?;
        let body = self.signed_post(
            &BitfinexEndpoints::PERMISSIONS,
            &[],
            "reading the API key's permissions",
        )?;
        let permissions = parsing::parse_permissions(&body)?;
        let mut notes = vec![
            "Bitfinex publishes no server time; nonces follow this host's clock in µs".to_owned(),
        ];
        if permissions.trade == Some(true) || permissions.withdraw == Some(true) {
            notes.push("the key may trade or withdraw; exsync needs read rights only".to_owned());
        }
        Ok(CheckReport {
            account,
            permissions,
            clock_offset_ms: None,
            notes,
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        match stream {
            // Bitfinex's histories are account-wide (every pair, every currency in one
            // call), so no stream needs a partition per symbol or currency.
            Stream::Balances
            | Stream::Trades
            | Stream::Orders
            | Stream::Deposits
            | Stream::Withdrawals
            | Stream::Ledger => Ok(vec![String::new()]),
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let pairs = self.pairs()?;
                let mut partitions = Vec::with_capacity(self.config.candles.len());
                for (symbol, timeframe) in &self.config.candles {
                    if !pairs.contains(symbol) {
                        return Err(PluginError::config(format!(
                            "candles symbol {symbol:?} is not a Bitfinex pair (the exchange \
                             and derivatives pair lists hold {} symbols)",
                            pairs.len()
                        )));
                    }
                    partitions.push(format!("{symbol}:{timeframe}"));
                }
                Ok(partitions)
            }
            other => Err(PluginError::unsupported(format!(
                "the bitfinex plugin has no {other} stream"
            ))),
        }
    }

    fn fetch(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        match stream {
            Stream::Balances => self.fetch_balances(),
            Stream::Trades => self.fetch_trades(cursor),
            Stream::Orders => self.fetch_orders(cursor),
            Stream::Ledger => self.fetch_ledger(cursor),
            Stream::Deposits | Stream::Withdrawals => self.fetch_movements(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the bitfinex plugin has no {other} stream"
            ))),
        }
    }
}

impl BitfinexConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let body = self.signed_post(&BitfinexEndpoints::WALLETS, &[], "fetching the wallets")?;
        Ok(Page::done(parsing::parse_wallets(&body, as_of)?))
    }

    fn fetch_trades(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let history = History {
            endpoint: &BitfinexEndpoints::TRADES,
            name: "trades",
            limit: TRADES_LIMIT,
            // Newest first, as the pages move `end` back.
            extra: &[("sort", -1)],
        };
        let rule = self.pager.trade_rule();
        let walker = self.pager.walker;
        let (request, page, now) =
            self.history(&walker, rule, &history, cursor, parsing::parse_trades)?;
        Ok(self.window_page(&walker, rule, &request, &history, page, now))
    }

    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let history = History {
            endpoint: &BitfinexEndpoints::LEDGERS,
            name: "ledger",
            limit: LEDGERS_LIMIT,
            extra: &[],
        };
        let rule = self.pager.trade_rule();
        let walker = self.pager.walker;
        let (request, page, now) =
            self.history(&walker, rule, &history, cursor, parsing::parse_ledgers)?;
        Ok(self.window_page(&walker, rule, &request, &history, page, now))
    }

    /// Deposits and withdrawals both come from the movements history: each stream walks it
    /// and keeps its own kind.
    fn fetch_movements(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (kind, name) = if stream == Stream::Deposits {
            (RecordKind::Deposit, "deposits")
        } else {
            (RecordKind::Withdrawal, "withdrawals")
        };
        let history = History {
            endpoint: &BitfinexEndpoints::MOVEMENTS,
            name,
            limit: MOVEMENTS_LIMIT,
            extra: &[],
        };
        let rule = self.pager.transfer_rule();
        let walker = self.pager.walker;
        let (request, page, now) = self.history(&walker, rule, &history, cursor, |body| {
            parsing::parse_movements(body, kind)
        })?;
        Ok(self.window_page(&walker, rule, &request, &history, page, now))
    }

    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let history = History {
            endpoint: &BitfinexEndpoints::ORDERS,
            name: "orders",
            limit: ORDERS_LIMIT,
            extra: &[],
        };
        let rule = self.pager.orders_rule();
        let walker = self.pager.orders_walker;
        let (request, mut page, now) = self.history(&walker, rule, &history, cursor, |body| {
            parsing::parse_orders(body, "auth/r/orders/hist")
        })?;
        let more = next_page(&request, history.limit, page.rows, page.oldest).is_some();
        // Without polling open orders (`poll_open_orders = false`), the walk ends unread.
        if self.config.poll_open_orders && walker.is_last_page(rule, &request, more, now) {
            // The order history lists closed and cancelled orders only: the open ones come
            // from the active-orders endpoint, once per walk, and the next walk starts at the
            // oldest of them.
            let body = self.signed_post(
                &BitfinexEndpoints::ACTIVE_ORDERS,
                &[],
                "fetching the active orders",
            )?;
            let open = parsing::parse_orders(&body, "auth/r/orders")
                .map_err(|e| e.context("fetching the active orders"))?;
            let ids: BTreeSet<String> = open.records.iter().map(|r| r.id()).collect();
            page.records.retain(|r| !ids.contains(&r.id()));
            page.records.extend(open.records);
            page.oldest_open = match (page.oldest_open, open.oldest_open) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(self.window_page(&walker, rule, &request, &history, page, now))
    }

    /// One page of a history: the request the cursor stands for, sent and parsed.
    fn history(
        &self,
        walker: &Walker,
        rule: WindowRule,
        history: &History,
        cursor: Option<&str>,
        parse: impl Fn(&[u8]) -> Result<ListPage, PluginError>,
    ) -> Result<(WindowRequest, ListPage, i64), PluginError> {
        let now = self.host.now_ms();
        let request = walker.request(rule, cursor, history.name, now)?;
        let mut params = window_params(&request, history.limit);
        params.extend_from_slice(history.extra);
        let what = window_what(history.endpoint, &request);
        let body = self.signed_post(history.endpoint, &params, &what)?;
        let page = parse(&body).map_err(|e| e.context(&what))?;
        Ok((request, page, now))
    }

    fn window_page(
        &self,
        walker: &Walker,
        rule: WindowRule,
        request: &WindowRequest,
        history: &History,
        page: ListPage,
        now: i64,
    ) -> Page {
        let next = next_page(request, history.limit, page.rows, page.oldest);
        walker.page(rule, request, page.records, next, page.oldest_open, now)
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe, tf) = pagination::split_candle_partition(partition)
            .and_then(|(s, t)| timeframe_of(t).map(|tf| (s, t, tf)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"SYMBOL:timeframe\" with a \
                     Bitfinex timeframe"
                ))
            })?;
        let now = self.host.now_ms();
        let request = self.pager.candles_request(cursor, now)?;
        let (start, end) = BitfinexPager::candles_range(tf, &request, now);
        let mut query = exsync_plugin_api::signing::Query::new();
        query
            .push("start", start.to_string())
            .push("end", end.to_string())
            .push("limit", CANDLES_LIMIT.to_string())
            .push("sort", "1");
        let url = self.endpoints.candles_url(tf, symbol, query.as_str());
        let what = format!("fetching {symbol} {timeframe} candles in [{start}, {end}]");
        let body = self.public_get(url, &BitfinexEndpoints::CANDLES, &what)?;
        let candles = parsing::parse_candles(&body, symbol, timeframe, tf, now)
            .map_err(|e| e.context(&what))?;
        Ok(self.pager.candles_page(tf, &request, end, candles, now))
    }

    /// Every trading symbol Bitfinex lists (spot and derivatives), fetched at most once an
    /// hour per instance.
    fn pairs(&self) -> Result<Arc<BTreeSet<String>>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, pairs)) = &self.state().pairs {
            if now >= *at && now - at < PAIRS_TTL_MS {
                return Ok(Arc::clone(pairs));
            }
        }
        let mut all = BTreeSet::new();
        for key in ["pub:list:pair:exchange", "pub:list:pair:futures"] {
            let what = format!("fetching the pair list {key}");
            let body = self.public_get(
                self.endpoints.conf_url(key),
                &BitfinexEndpoints::PAIRS,
                &what,
            )?;
            all.extend(parsing::parse_pairs(&body).map_err(|e| e.context(&what))?);
        }
        let pairs = Arc::new(all);
        self.state().pairs = Some((now, Arc::clone(&pairs)));
        Ok(pairs)
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET (the host retries 429s and 5xx); the body of a successful answer, else
    /// the mapped error.
    fn public_get(
        &self,
        url: String,
        endpoint: &Endpoint,
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        debug_assert!(!endpoint.signed, "{} is signed", endpoint.path);
        let response = self
            .host
            .http(HttpRequest::get(url).bucket(endpoint.bucket))
            .map_err(|e| e.context(format!("while {what}")))?;
        if !response.is_success() || parsing::error_of(&response.body).is_some() {
            return Err(parsing::classify_error(
                response.status,
                &response.body,
                what,
            ));
        }
        Ok(response.body)
    }

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_nonce(&self) -> u64 {
        let mut state = self.state();
        let nonce = signing::next_nonce(self.host.now_ms(), state.last_nonce);
        state.last_nonce = nonce;
        nonce
    }

    /// A signed POST of `params` as JSON; the body of a successful answer, else the mapped
    /// error. A refused nonce ("nonce: small": another client sent a larger one with this key)
    /// is tried once more with a new one; a second refusal is a `clock` error.
    fn signed_post(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, i64)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        debug_assert!(endpoint.signed, "{} is public", endpoint.path);
        let body = signing::body(params);
        let mut retried = false;
        loop {
            let response = self.send_signed(endpoint, &body, what)?;
            if response.is_success() && parsing::error_of(&response.body).is_none() {
                return Ok(response.body);
            }
            let err = parsing::classify_error(response.status, &response.body, what);
            if err.kind == ErrorKind::CLOCK {
                if !retried {
                    retried = true;
                    self.host.warn(&format!(
                        "Bitfinex refused our nonce while {what}; trying once more with a new \
                         one ({}).",
                        self.config.integration
                    ));
                    continue;
                }
                return Err(PluginError::clock(format!(
                    "{}; another client uses this API key with larger nonces (or this host's \
                     clock went back): give exsync a key of its own",
                    err.message
                )));
            }
            if err.kind == ErrorKind::RATE_LIMITED {
                return Err(PluginError::new(
                    ErrorKind::RATE_LIMITED,
                    format!(
                        "{}; Bitfinex blocks an IP that passes the limit of {} for {} s",
                        err.message,
                        endpoint.path,
                        BLOCK_MS / 1000
                    ),
                ));
            }
            return Err(err);
        }
    }

    /// Sends a signed request, rebuilt with a fresh nonce for every attempt. A 429, a network
    /// error or a 5xx that is not one of Bitfinex's answers to the request itself (Bitfinex
    /// sends "apikey: invalid" with status 500) is tried again, up to [`MAX_ATTEMPTS`] times;
    /// the host paces the attempts.
    fn send_signed(
        &self,
        endpoint: &Endpoint,
        body: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let url = self.endpoints.url(endpoint);
        let signature_path = BitfinexEndpoints::signature_path(endpoint);
        let mut attempt = 0;
        let mut unsent = 0;
        loop {
            let mut request = HttpRequest::post(url.as_str())
                .bucket(endpoint.bucket)
                .header("Content-Type", JSON_CONTENT_TYPE)
                .body(body.as_bytes().to_vec())
                .no_resend();
            for (name, value) in self
                .signer
                .headers(&signature_path, self.next_nonce(), body)
            {
                request = request.header(name, value);
            }
            let response = self.host.http(request);
            if matches!(&response, Ok(r) if r.status == NOT_SENT) && unsent < MAX_UNSENT {
                unsent += 1;
                continue;
            }
            attempt += 1;
            let last = attempt >= MAX_ATTEMPTS;
            match response {
                Ok(r) if r.status == NOT_SENT => {
                    return Err(PluginError::new(
                        ErrorKind::RATE_LIMITED,
                        format!(
                            "while {what}: the request budget of {} kept the request waiting \
                             too often; retrying at the next sync",
                            endpoint.path
                        ),
                    ))
                }
                Ok(r) if !last && is_retryable(&r) => continue,
                Err(e) if e.kind == ErrorKind::NETWORK && !last => continue,
                Ok(r) => return Ok(r),
                Err(e) => return Err(e.context(format!("while {what}"))),
            }
        }
    }
}

/// Whether an answer may come right when asked again: a 429, or a 5xx without one of
/// Bitfinex's coded error answers (a gateway's page, or an error without a code), or with one
/// that is about the platform (maintenance).
pub(crate) fn is_retryable(response: &HttpResponse) -> bool {
    if response.status == 429 {
        return true;
    }
    if response.status < 500 {
        return false;
    }
    match parsing::error_of(&response.body) {
        // Code 0: the answer names no Bitfinex error, so it says nothing about the request.
        Some((code, _)) if code != 0 => parsing::is_transient(code),
        _ => true,
    }
}

/// "fetching /v2/auth/r/trades/hist for [from, to)".
fn window_what(endpoint: &Endpoint, request: &WindowRequest) -> String {
    let page = match request.page() {
        Some(end) => format!(" up to {end}"),
        None => String::new(),
    };
    format!(
        "fetching {} for [{}, {}){page}",
        endpoint.path,
        request.from(),
        request.to()
    )
}
