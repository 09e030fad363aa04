//! Wiring for the `gemini` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the last nonce sent, the symbol list (cached for an
//! hour), the markets this account trades (read off its currencies) and the offset of
//! Gemini's clock. Everything else is in the pure modules.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, Record, Stream,
};
use serde_json::Value;

use crate::config::{split_unified, GeminiConfig};
use crate::endpoints::{
    time_frame, Endpoint, GeminiEndpoints, API_HOSTS, BUCKET_PRIVATE, BUCKET_PUBLIC,
    BUCKET_TRANSFERS, DEFAULT_BASE_URL, ORDERS_LIMIT, PRIVATE_CONTENT_TYPE, PRIVATE_PER_WINDOW,
    PRIVATE_WINDOW_MS, PUBLIC_PER_WINDOW, PUBLIC_WINDOW_MS, SANDBOX_BASE_URL, SYMBOLS_TTL_MS,
    TIMEFRAMES, TRADES_LIMIT, TRANSACTIONS_LIMIT, TRANSFERS_LIMIT, TRANSFERS_PER_WINDOW,
    TRANSFERS_WINDOW_MS,
};
use crate::pagination::{self, Batch, GeminiPager, SinceCursor};
use crate::parsing::{self, Markets};
use crate::signing::{self, GeminiSigner};

/// One configured connection to one Gemini account.
pub struct GeminiConnector {
    host: Host,
    config: GeminiConfig,
    endpoints: GeminiEndpoints,
    signer: GeminiSigner,
    pager: GeminiPager,
    /// Gemini's clock as ours sees it, from the `Date` of its answers.
    clock: ServerClock,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    last_nonce: u64,
    /// `/v1/symbols` and when it was fetched (our clock).
    symbols: Option<(i64, Arc<Vec<String>>)>,
    /// The markets this account trades, from its currencies.
    markets: Option<Arc<Markets>>,
}

impl Connector for GeminiConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("gemini", "Gemini", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key (account-scoped; the ledger needs a master-scoped key and \
                        options.account)"
                    .into(),
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
        // The ledger needs a master-scoped key: see the crate docs.
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
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        let bucket = |name: &str, capacity, window_ms| RateLimit {
            bucket: name.into(),
            capacity,
            window_ms,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        };
        m.rate_limits = vec![
            bucket(BUCKET_PUBLIC, PUBLIC_PER_WINDOW, PUBLIC_WINDOW_MS),
            bucket(BUCKET_PRIVATE, PRIVATE_PER_WINDOW, PRIVATE_WINDOW_MS),
            bucket(BUCKET_TRANSFERS, TRANSFERS_PER_WINDOW, TRANSFERS_WINDOW_MS),
        ];
        // Gemini keeps the whole history and has no windows: no lookback, no window limit.
        // The ledger's floor is a date (2022-08-01), not a lookback: its pages report what
        // lies before it as unavailable. unconfirmed: how far back `/v2/candles` reaches per
        // time frame (a fixed recent window; the connector reports what it does not serve as
        // unavailable).
        m.history = [
            Stream::Trades,
            Stream::Orders,
            Stream::Deposits,
            Stream::Withdrawals,
            Stream::Ledger,
        ]
        .into_iter()
        .map(|stream| HistoryLimit {
            stream,
            max_lookback_ms: None,
            max_window_ms: None,
        })
        .collect();
        m.timeframes = TIMEFRAMES.iter().map(|(t, _, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let gemini = GeminiConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(GeminiConnector {
            host,
            endpoints: GeminiEndpoints::new(&gemini.base_url),
            signer: GeminiSigner::new(&gemini.api_secret),
            pager: GeminiPager {
                start_ms: gemini.start_ms,
            },
            config: gemini,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let roles = parsing::parse_roles(&self.private(
            &GeminiEndpoints::ROLES,
            &[],
            "checking the API key's roles",
        )?)?;
        let mut notes = Vec::new();
        let account =
            match self.private(&GeminiEndpoints::ACCOUNT, &[], "reading the account's name") {
                Ok(v) => parsing::parse_account(&v)?,
                Err(e) if e.kind == ErrorKind::PERMISSION || e.kind == ErrorKind::PLUGIN => {
                    notes.push(format!("account name not shown: {}", e.message));
                    "gemini account".to_owned()
                }
                Err(e) => return Err(e),
            };
        let offset = self.clock.measure(&self.host, || self.server_time()).ok();
        if let Some(offset) = offset.filter(|o| o.abs() > 10_000) {
            notes.push(format!(
                "this host's clock is {} ms {} Gemini's; a key with time-based nonces refuses \
                 nonces 30 s off",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" }
            ));
        }
        notes.push(
            "Gemini has no server-time endpoint: the clock offset is read from its HTTP Date \
             header, to the second"
                .into(),
        );
        if roles.auditor && !roles.trader && !roles.fund_manager {
            notes.push("the key is an Auditor key (read-only)".into());
        }
        Ok(CheckReport {
            account,
            permissions: Permissions {
                read: Some(roles.auditor || roles.trader || roles.fund_manager),
                trade: Some(roles.trader),
                withdraw: Some(roles.fund_manager),
            },
            clock_offset_ms: offset,
            notes,
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        match stream {
            Stream::Balances
            | Stream::Orders
            | Stream::Deposits
            | Stream::Withdrawals
            | Stream::Ledger => Ok(vec![String::new()]),
            // Gemini's trade history is per symbol: the symbols this account's currencies
            // trade (its balances and what the host has seen), never every market.
            Stream::Trades => {
                let markets = self.account_markets(&context.assets)?;
                let mut parts = markets.symbols();
                for known in &context.known {
                    if !known.is_empty() && !parts.contains(known) {
                        parts.push(known.clone());
                    }
                }
                Ok(parts)
            }
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let symbols = self.symbols()?;
                let mut partitions = Vec::with_capacity(self.config.candles.len());
                for (unified, timeframe) in &self.config.candles {
                    let symbol = split_unified(unified)
                        .and_then(|(base, quote)| Markets::find(&symbols, base, quote))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "candles symbol {unified:?} is not a Gemini symbol (/v1/symbols \
                                 lists {})",
                                symbols.len()
                            ))
                        })?;
                    partitions.push(format!("{symbol}:{timeframe}"));
                }
                Ok(partitions)
            }
            other => Err(PluginError::unsupported(format!(
                "the gemini plugin has no {other} stream"
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
            Stream::Trades => self.fetch_trades(partition, cursor),
            Stream::Orders => self.fetch_orders(cursor),
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Ledger => self.fetch_ledger(cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the gemini plugin has no {other} stream"
            ))),
        }
    }
}

impl GeminiConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let spot = self.private(
            &GeminiEndpoints::BALANCES,
            &[],
            "fetching the exchange wallet balances",
        )?;
        let mut records = parsing::parse_balances(&spot, as_of)?;
        match self.private(
            &GeminiEndpoints::STAKING_BALANCES,
            &[],
            "fetching the staking balances",
        ) {
            Ok(staking) => records.extend(parsing::parse_staking_balances(&staking, as_of)?),
            Err(e) if e.kind == ErrorKind::PERMISSION => self.host.warn(&format!(
                "No staking balances: the API key may not read them ({}: {}).",
                self.config.integration, e.message
            )),
            Err(e) => return Err(e),
        }
        Ok(Page::done(records))
    }

    fn fetch_trades(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(PluginError::plugin(format!(
                "trades partition {symbol:?} is not a Gemini symbol"
            )));
        }
        let request = self.pager.request(cursor, "trades")?;
        let params = [
            ("symbol", Value::from(symbol)),
            ("timestamp", Value::from(request.since)),
            ("limit_trades", Value::from(TRADES_LIMIT)),
        ];
        let what = since_what("mytrades", Some(symbol), &request);
        let answer = self.private(&GeminiEndpoints::MY_TRADES, &params, &what)?;
        let markets = self.known_markets()?;
        let batch = parsing::parse_my_trades(&answer, symbol, &markets)
            .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self
            .pager
            .page(&request, batch, TRADES_LIMIT, self.host.now_ms()))
    }

    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self.pager.request(cursor, "orders")?;
        // unconfirmed: whether `orders/history` without `symbol` lists every symbol (its
        // documentation names `symbol` optional and shows a request without it).
        let params = [
            ("timestamp", Value::from(request.since)),
            ("limit_orders", Value::from(ORDERS_LIMIT)),
        ];
        let what = since_what("orders/history", None, &request);
        let answer = self.private(&GeminiEndpoints::ORDERS_HISTORY, &params, &what)?;
        let markets = self.known_markets()?;
        let mut batch = parsing::parse_orders(&answer, "orders/history", &markets)
            .map_err(|e| e.context(format!("while {what}")))?;
        if batch.rows < ORDERS_LIMIT {
            // The walk's last page: orders still active come from `orders`, once per walk,
            // and the next walk starts at the oldest of them to see it close.
            let what = "fetching the active orders (orders)";
            let answer = self.private(&GeminiEndpoints::ACTIVE_ORDERS, &[], what)?;
            let active = parsing::parse_orders(&answer, "orders", &markets)
                .map_err(|e| e.context(format!("while {what}")))?;
            merge_active(&mut batch, active);
        }
        Ok(self
            .pager
            .page(&request, batch, ORDERS_LIMIT, self.host.now_ms()))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let deposits = stream == Stream::Deposits;
        let request = self.pager.request(cursor, stream.as_str())?;
        let params = [
            ("timestamp", Value::from(request.since)),
            ("limit_transfers", Value::from(TRANSFERS_LIMIT)),
        ];
        let name = if deposits {
            "transfers (deposits)"
        } else {
            "transfers (withdrawals)"
        };
        let what = since_what(name, None, &request);
        let answer = self.private(&GeminiEndpoints::TRANSFERS, &params, &what)?;
        let batch = parsing::parse_transfers(&answer, deposits)
            .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self
            .pager
            .page(&request, batch, TRANSFERS_LIMIT, self.host.now_ms()))
    }

    /// The ledger: `transactions`, Gemini's record of the group's trades and transfers, read
    /// with a master-scoped key for the configured account.
    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let Some(account) = self.config.account.as_deref() else {
            return Err(PluginError::permission(format!(
                "integration {:?} has no `account` option, so its key is account-scoped, and \
                 Gemini serves the ledger (POST /v1/transactions) to master-scoped keys only \
                 (Trader, Fund Manager or Auditor role): use a master key and set \
                 options.account to the account's short name, or turn the ledger stream off",
                self.config.integration
            )));
        };
        let request = self.pager.ledger_request(cursor)?;
        let mut params = Vec::with_capacity(2);
        let what = match &request.token {
            Some(token) => {
                params.push(("limit", Value::from(TRANSACTIONS_LIMIT)));
                params.push(("continuation_token", Value::from(token.as_str())));
                format!(
                    "fetching transactions for {account} after {} (continuation)",
                    request.since
                )
            }
            None => {
                let nanos = request.since.saturating_mul(1_000_000);
                params.push(("timestamp_nanos", Value::from(nanos)));
                params.push(("limit", Value::from(TRANSACTIONS_LIMIT)));
                format!(
                    "fetching transactions for {account} since {}",
                    request.since
                )
            }
        };
        let answer = self
            .private(&GeminiEndpoints::TRANSACTIONS, &params, &what)
            .map_err(|e| {
                if e.kind == ErrorKind::PERMISSION {
                    PluginError::permission(format!(
                        "{}; the ledger needs a master-scoped API key with the Trader, Fund \
                         Manager or Auditor role",
                        e.message
                    ))
                } else {
                    e
                }
            })?;
        let markets = self.known_markets()?;
        let page = parsing::parse_transactions(&answer, account, &markets)
            .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self
            .pager
            .ledger_page(&request, page, TRANSACTIONS_LIMIT, self.host.now_ms()))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe, (word, frame_ms)) = pagination::split_candle_partition(partition)
            .and_then(|(s, tf)| time_frame(tf).map(|f| (s, tf, f)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"symbol:timeframe\" with a Gemini \
                     time frame"
                ))
            })?;
        let request = self.pager.candles_request(cursor, frame_ms)?;
        let what = format!("fetching candles for {symbol} {timeframe}");
        let response = self.public(
            &GeminiEndpoints::CANDLES,
            &format!("/{symbol}/{word}"),
            &what,
        )?;
        let now = self.host.now_ms();
        let base_quote = self
            .config
            .candles
            .iter()
            .filter_map(|(unified, _)| split_unified(unified))
            .find(|(b, q)| format!("{b}{q}").eq_ignore_ascii_case(symbol));
        let candles =
            parsing::parse_candles(&response.body, symbol, base_quote, timeframe, frame_ms, now)
                .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.pager.candles_page(&request, candles, frame_ms, now))
    }

    // -----------------------------------------------------------------------------------
    // Symbols, markets and clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `/v1/symbols`, fetched at most once an hour per instance.
    fn symbols(&self) -> Result<Arc<Vec<String>>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, symbols)) = &self.state().symbols {
            if now - at < SYMBOLS_TTL_MS && now >= *at {
                return Ok(Arc::clone(symbols));
            }
        }
        let response = self.public(&GeminiEndpoints::SYMBOLS, "", "fetching the symbol list")?;
        let value = parsing::answer(response.status, &response.body, "fetching the symbol list")?;
        let symbols = Arc::new(parsing::parse_symbols(&value)?);
        self.state().symbols = Some((now, Arc::clone(&symbols)));
        Ok(symbols)
    }

    /// The markets this account trades: the symbols whose base and quote are both among
    /// its currencies (its balances, and `assets` the host has seen).
    fn account_markets(&self, assets: &[String]) -> Result<Arc<Markets>, PluginError> {
        let balances = self.private(
            &GeminiEndpoints::BALANCES,
            &[],
            "reading the account's currencies (balances)",
        )?;
        let mut currencies: BTreeSet<String> = assets.iter().map(|a| a.to_uppercase()).collect();
        for record in parsing::parse_balances(&balances, self.host.now_ms())? {
            if let Record::Balance(b) = record {
                currencies.insert(b.asset_native.to_uppercase());
            }
        }
        let symbols = self.symbols()?;
        let markets = Arc::new(Markets::of_account(&symbols, &currencies));
        self.state().markets = Some(Arc::clone(&markets));
        Ok(markets)
    }

    /// The account's markets as last read, for naming a symbol's base and quote.
    fn known_markets(&self) -> Result<Arc<Markets>, PluginError> {
        if let Some(markets) = &self.state().markets {
            return Ok(Arc::clone(markets));
        }
        self.account_markets(&[])
    }

    /// Gemini's time, from the `Date` header of a public answer (whole seconds).
    fn server_time(&self) -> Result<i64, PluginError> {
        let response = self.public(&GeminiEndpoints::SYMBOLS, "", "reading Gemini's clock")?;
        response
            .header("date")
            .and_then(parsing::parse_http_date)
            .ok_or_else(|| {
                PluginError::bad_response(
                    "while reading Gemini's clock: its answer has no readable Date header \
                     (missing, or not an HTTP-date of a four-digit year)",
                )
            })
    }

    /// The next nonce: Gemini's time in ms as last read (our clock before any reading),
    /// above every nonce this instance sent.
    fn next_nonce(&self) -> u64 {
        let now = self.host.now_ms() + self.clock.known().unwrap_or(0);
        let mut state = self.state();
        let nonce = signing::next_nonce(now, state.last_nonce);
        state.last_nonce = nonce;
        nonce
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET of `endpoint` + `suffix`; the response if it is a success, else the
    /// mapped error.
    fn public(
        &self,
        endpoint: &Endpoint,
        suffix: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        debug_assert!(!endpoint.private, "{} is private", endpoint.path);
        let request =
            HttpRequest::get(self.endpoints.url(endpoint, suffix)).bucket(endpoint.bucket);
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        if !response.is_success() {
            return Err(parsing::classify_error(
                response.status,
                &response.body,
                what,
            ));
        }
        Ok(response)
    }

    /// A signed POST with a fresh nonce; the answer as JSON, else the mapped error.
    ///
    /// A rejected nonce is tried once more with a new one (above anything this instance
    /// sent, on Gemini's clock read again from its Date header); a second rejection is a
    /// `clock` error. A 429 is retried by the host with
    /// backoff; if it persists it is a `rate_limited` error the engine waits out.
    fn private(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, Value)],
        what: &str,
    ) -> Result<Value, PluginError> {
        debug_assert!(endpoint.private, "{} is public", endpoint.path);
        let url = self.endpoints.url(endpoint, "");
        let mut all: Vec<(&str, Value)> = params.to_vec();
        if let Some(account) = self
            .config
            .account
            .as_ref()
            .filter(|_| endpoint.per_account)
        {
            all.push(("account", Value::from(account.as_str())));
        }
        let mut retried = false;
        loop {
            // Carries a nonce: rebuilt and re-signed for every attempt, never resent as is.
            let response = self
                .host
                .http_retrying(|| {
                    let payload = signing::payload(endpoint.path, self.next_nonce(), &all);
                    let mut request = HttpRequest::post(url.as_str())
                        .header("Content-Type", PRIVATE_CONTENT_TYPE)
                        .header("Cache-Control", "no-cache")
                        .bucket(endpoint.bucket);
                    for (name, value) in self.signer.headers(&self.config.api_key, &payload) {
                        request = request.header(name, value);
                    }
                    Ok(request)
                })
                .map_err(|e| e.context(format!("while {what}")))?;
            if !retried
                && !response.is_success()
                && parsing::error_reason(&response.body).as_deref() == Some("InvalidNonce")
            {
                retried = true;
                // A key with time-based nonces refuses nonces 30 s off Gemini's clock: read
                // it again (its Date header) and take the next nonce on it.
                let offset = match self.clock.measure(&self.host, || self.server_time()) {
                    Ok(offset) => format!("{offset} ms from ours"),
                    Err(e) => format!("unread: {}", e.message),
                };
                self.host.warn(&format!(
                    "Gemini rejected our nonce while {what}; trying once more with a new one on \
                     its clock ({offset}) ({}).",
                    self.config.integration
                ));
                continue;
            }
            let result = parsing::answer(response.status, &response.body, what);
            return match result {
                Err(e) if e.kind == ErrorKind::CLOCK => Err(self.clock_error(e)),
                other => other,
            };
        }
    }

    /// A refused nonce, twice: with how far our clock is from Gemini's where it can be read
    /// (a key set to time-based nonces refuses nonces 30 s off its clock).
    fn clock_error(&self, e: PluginError) -> PluginError {
        match self.clock.measure(&self.host, || self.server_time()) {
            Ok(offset) => PluginError::clock(format!(
                "{}; this host's clock is {} ms {} Gemini's (read from its Date header): \
                 synchronise it (a key with time-based nonces allows 30 s)",
                e.message,
                offset.abs(),
                if offset >= 0 { "behind" } else { "ahead of" }
            )),
            Err(_) => e,
        }
    }
}

/// Adds the active orders to the last page of the order walk: one record per id (an order
/// listed by both is the active one), and the oldest active one as the walk's open record.
pub(crate) fn merge_active(batch: &mut Batch, active: Batch) {
    let ids: BTreeMap<String, ()> = active.records.iter().map(|r| (r.id(), ())).collect();
    batch.records.retain(|r| !ids.contains_key(&r.id()));
    batch.records.extend(active.records);
    batch.oldest_open = match (batch.oldest_open, active.oldest_open) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// "fetching mytrades for btcusd since T".
fn since_what(name: &str, symbol: Option<&str>, request: &SinceCursor) -> String {
    match symbol {
        Some(s) => format!("fetching {name} for {s} since {}", request.since),
        None => format!("fetching {name} since {}", request.since),
    }
}
