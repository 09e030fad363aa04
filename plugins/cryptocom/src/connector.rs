//! Wiring for the `cryptocom` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the last nonce sent (so nonces strictly increase), the
//! offset of Crypto.com's clock and the instrument list (cached for an hour). Everything else
//! is in the pure modules.
//!
//! Crypto.com publishes no time endpoint: its clock is read from the `Date` header of a refusal
//! of our nonce (more than 60 s from its clock), and the request is signed again once with a
//! nonce on that clock; a second refusal is a `clock` error.

use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::window::{WindowRequest, WindowRule};
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, Stream,
};
use serde_json::{Map, Value};

use crate::config::{split_unified, CryptocomConfig};
use crate::endpoints::{
    timeframe_of, with_margin, CryptocomEndpoints, Endpoint, API_HOSTS, BUCKET_ORDERS,
    BUCKET_PRIVATE, BUCKET_PUBLIC, BUCKET_STAKING, BUCKET_TRADES, CANDLE_LIMIT, DEFAULT_BASE_URL,
    HISTORY_PER_SECOND, INSTRUMENTS_TTL_MS, NONCE_TOLERANCE_MS, ORDERS_LIMIT, PRIVATE_PER_WINDOW,
    PRIVATE_WINDOW_MS, PUBLIC_PER_SECOND, REWARDS_LIMIT, SANDBOX_BASE_URL, SECOND_MS,
    STAKING_PER_SECOND, TIMEFRAMES, TRADES_LIMIT, TRADE_WINDOW_MS, TRANSACTIONS_LIMIT,
    TRANSFER_PAGE_SIZE, TRANSFER_WINDOW_MS,
};
use crate::pagination::{self, CryptocomPager};
use crate::parsing::{self, ListPage, Markets};
use crate::signing::{self, CryptocomSigner};

/// The ledger partition of the transaction journal (`private/get-transactions`).
const LEDGER_JOURNAL: &str = "";
/// The ledger partition of staking rewards (`private/staking/get-reward-history`).
const LEDGER_STAKING_REWARDS: &str = "staking_rewards";

/// One configured connection to one Crypto.com Exchange account.
pub struct CryptocomConnector {
    host: Host,
    config: CryptocomConfig,
    endpoints: CryptocomEndpoints,
    signer: CryptocomSigner,
    pager: CryptocomPager,
    /// Crypto.com's clock as ours sees it, from the `Date` of a refused nonce.
    clock: ServerClock,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// The last nonce sent.
    last_nonce: i64,
    /// The instruments and when they were fetched (our clock).
    markets: Option<(i64, Arc<Markets>)>,
}

impl Connector for CryptocomConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(
            "cryptocom",
            "Crypto.com Exchange",
            env!("CARGO_PKG_VERSION"),
        );
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "Secret Key".into(),
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
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        let bucket = |name: &str, capacity, window_ms| RateLimit {
            bucket: name.into(),
            capacity,
            window_ms: with_margin(window_ms),
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        };
        m.rate_limits = vec![
            bucket(BUCKET_PUBLIC, PUBLIC_PER_SECOND, SECOND_MS),
            bucket(BUCKET_TRADES, HISTORY_PER_SECOND, SECOND_MS),
            bucket(BUCKET_ORDERS, HISTORY_PER_SECOND, SECOND_MS),
            bucket(BUCKET_PRIVATE, PRIVATE_PER_WINDOW, PRIVATE_WINDOW_MS),
            bucket(BUCKET_STAKING, STAKING_PER_SECOND, SECOND_MS),
        ];
        let limit = |stream, window| HistoryLimit {
            stream,
            max_lookback_ms: None,
            max_window_ms: Some(window),
        };
        m.history = vec![
            limit(Stream::Trades, TRADE_WINDOW_MS),
            limit(Stream::Orders, TRADE_WINDOW_MS),
            limit(Stream::Ledger, TRADE_WINDOW_MS),
            limit(Stream::Deposits, TRANSFER_WINDOW_MS),
            limit(Stream::Withdrawals, TRANSFER_WINDOW_MS),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let cc = CryptocomConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(CryptocomConnector {
            host,
            endpoints: CryptocomEndpoints::new(&cc.base_url),
            signer: CryptocomSigner::new(&cc.api_key, &cc.api_secret),
            pager: CryptocomPager::new(cc.start_ms, cc.transfer_overlap_ms),
            config: cc,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let result = self.signed_post(
            &CryptocomEndpoints::ACCOUNTS,
            Map::new(),
            "checking the API key (private/get-accounts)",
        )?;
        let account = parsing::parse_account(&result)?;
        Ok(CheckReport {
            account,
            // Crypto.com does not say what a key may do; it read the account, so it may read.
            permissions: Permissions {
                read: Some(true),
                trade: None,
                withdraw: None,
            },
            clock_offset_ms: self.clock.known(),
            notes: vec![format!(
                "Crypto.com publishes no server time: its clock is read from the Date header of \
                 a refused nonce (more than {} s off), and followed",
                NONCE_TOLERANCE_MS / 1000
            )],
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        match stream {
            // Every history method answers for all instruments and currencies at once.
            Stream::Balances
            | Stream::Trades
            | Stream::Orders
            | Stream::Deposits
            | Stream::Withdrawals => Ok(vec![String::new()]),
            // The journal, and staking rewards (which it does not list) walked apart.
            Stream::Ledger => {
                let mut partitions = vec![LEDGER_JOURNAL.to_owned()];
                if self.config.staking {
                    partitions.push(LEDGER_STAKING_REWARDS.to_owned());
                }
                Ok(partitions)
            }
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let markets = self.markets(false)?;
                let mut partitions = Vec::with_capacity(self.config.candles.len());
                for (unified, timeframe) in &self.config.candles {
                    let market = split_unified(unified)
                        .and_then(|(base, quote)| markets.find_spot(base, quote))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "candles symbol {unified:?} is not a Crypto.com spot pair \
                                 (public/get-instruments lists {} instruments)",
                                markets.len()
                            ))
                        })?;
                    partitions.push(format!("{}:{timeframe}", market.symbol));
                }
                Ok(partitions)
            }
            other => Err(PluginError::unsupported(format!(
                "the cryptocom plugin has no {other} stream"
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
            Stream::Ledger => match partition {
                LEDGER_JOURNAL => self.fetch_ledger(cursor),
                LEDGER_STAKING_REWARDS => self.fetch_staking_rewards(cursor),
                other => Err(PluginError::plugin(format!(
                    "ledger partition {other:?} is neither the journal (\"\") nor \
                     {LEDGER_STAKING_REWARDS:?}"
                ))),
            },
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the cryptocom plugin has no {other} stream"
            ))),
        }
    }
}

impl CryptocomConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let result = self.signed_post(
            &CryptocomEndpoints::USER_BALANCE,
            Map::new(),
            "fetching the unified wallet balance",
        )?;
        let mut records = parsing::parse_user_balance(&result, as_of)?;
        if self.config.staking {
            let as_of = self.host.now_ms();
            match self.signed_post(
                &CryptocomEndpoints::STAKING_POSITION,
                Map::new(),
                "fetching the staking positions",
            ) {
                Ok(result) => records.extend(parsing::parse_staking_positions(&result, as_of)?),
                // A key or account without staking has no `earn` wallet to report.
                Err(e) if e.kind == ErrorKind::PERMISSION => self.host.warn(&format!(
                    "No earn balances: the account or key may not read staking positions \
                     ({}: {}).",
                    self.config.integration, e.message
                )),
                Err(e) => return Err(e),
            }
        }
        if self.config.subaccounts {
            let as_of = self.host.now_ms();
            match self.signed_post(
                &CryptocomEndpoints::SUBACCOUNT_BALANCES,
                Map::new(),
                "fetching the sub-accounts' balances",
            ) {
                Ok(result) => records.extend(parsing::parse_subaccount_balances(&result, as_of)?),
                // Only the master account's key may read its sub-accounts.
                // unconfirmed: which code a sub-account's key gets; one mapped to `permission`
                // is taken as "no sub-accounts to read", any other fails the sync.
                Err(e) if e.kind == ErrorKind::PERMISSION => self.host.warn(&format!(
                    "No sub-account balances: the key may not read them, is it the master \
                     account's? ({}: {}).",
                    self.config.integration, e.message
                )),
                Err(e) => return Err(e),
            }
        }
        Ok(Page::done(records))
    }

    fn fetch_staking_rewards(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.reward_rule();
        let now = self.host.now_ms();
        let request = self
            .pager
            .walker
            .request(rule, cursor, "ledger (staking rewards)", now)?;
        let what = window_what("staking rewards", &request);
        let params = pagination::reward_params(&request, REWARDS_LIMIT)?;
        let result = self.signed_post(&CryptocomEndpoints::STAKING_REWARDS, params, &what)?;
        let page = parsing::parse_staking_rewards(&result)
            .map_err(|e| e.context(format!("while {what}")))?;
        let next =
            pagination::next_reward_page(&request, page.oldest_ms, page.returned, REWARDS_LIMIT);
        Ok(self
            .pager
            .walker
            .page(rule, &request, page.records, next, None, now))
    }

    fn fetch_trades(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.host.now_ms();
        let request = self.pager.walker.request(rule, cursor, "trades", now)?;
        let what = window_what("trades", &request);
        let params = pagination::ns_window_params(&request, TRADES_LIMIT);
        let result = self.signed_post(&CryptocomEndpoints::TRADES, params, &what)?;
        let markets = self.markets_for(&instruments_in(&result))?;
        let page = parsing::parse_trades(&result, &markets)
            .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.ns_window_page(rule, &request, page, TRADES_LIMIT, now))
    }

    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.host.now_ms();
        let request = self.pager.walker.request(rule, cursor, "orders", now)?;
        let what = window_what("order history", &request);
        let params = pagination::ns_window_params(&request, ORDERS_LIMIT);
        let result = self.signed_post(&CryptocomEndpoints::ORDER_HISTORY, params, &what)?;
        let markets = self.markets_for(&instruments_in(&result))?;
        let ep = CryptocomEndpoints::ORDER_HISTORY.method;
        let mut page = parsing::parse_orders(&result, &markets, ep)
            .map_err(|e| e.context(format!("while {what}")))?;
        let next = pagination::next_ns_page(&request, page.oldest_ns, page.returned, ORDERS_LIMIT);
        // Without polling open orders (`poll_open_orders = false`), the walk ends unread.
        if self.config.poll_open_orders
            && self
                .pager
                .walker
                .is_last_page(rule, &request, next.is_some(), now)
        {
            // The order history lists finished orders only: those still open come from
            // `private/get-open-orders`, once per walk; the next walk starts at the oldest.
            let what = "fetching the open orders";
            let result = self.signed_post(&CryptocomEndpoints::OPEN_ORDERS, Map::new(), what)?;
            let open =
                parsing::parse_orders(&result, &markets, CryptocomEndpoints::OPEN_ORDERS.method)
                    .map_err(|e| e.context(format!("while {what}")))?;
            page.oldest_open = match (page.oldest_open, open.oldest_open) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let ids: std::collections::BTreeSet<String> =
                open.records.iter().map(|r| r.id()).collect();
            page.records.retain(|r| !ids.contains(&r.id()));
            page.records.extend(open.records);
        }
        Ok(self
            .pager
            .walker
            .page(rule, &request, page.records, next, page.oldest_open, now))
    }

    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.host.now_ms();
        let request = self.pager.walker.request(rule, cursor, "ledger", now)?;
        let what = window_what("the transaction journal", &request);
        let params = pagination::ns_window_params(&request, TRANSACTIONS_LIMIT);
        let result = self.signed_post(&CryptocomEndpoints::TRANSACTIONS, params, &what)?;
        let page =
            parsing::parse_transactions(&result).map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.ns_window_page(rule, &request, page, TRANSACTIONS_LIMIT, now))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.transfer_rule();
        let now = self.host.now_ms();
        let request = self
            .pager
            .walker
            .request(rule, cursor, stream.as_str(), now)?;
        let (endpoint, name) = if stream == Stream::Deposits {
            (&CryptocomEndpoints::DEPOSITS, "deposit history")
        } else {
            (&CryptocomEndpoints::WITHDRAWALS, "withdrawal history")
        };
        let what = window_what(name, &request);
        let (params, page_no) = pagination::transfer_params(&request, TRANSFER_PAGE_SIZE)?;
        let result = self.signed_post(endpoint, params, &what)?;
        let page = if stream == Stream::Deposits {
            parsing::parse_deposits(&result)
        } else {
            parsing::parse_withdrawals(&result)
        }
        .map_err(|e| e.context(format!("while {what}")))?;
        let next = pagination::next_transfer_page(page_no, page.returned, TRANSFER_PAGE_SIZE);
        Ok(self
            .pager
            .walker
            .page(rule, &request, page.records, next, page.oldest_open, now))
    }

    fn ns_window_page(
        &self,
        rule: WindowRule,
        request: &WindowRequest,
        page: ListPage,
        limit: usize,
        now: i64,
    ) -> Page {
        let next = pagination::next_ns_page(request, page.oldest_ns, page.returned, limit);
        self.pager
            .walker
            .page(rule, request, page.records, next, page.oldest_open, now)
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe, native) = pagination::split_candle_partition(partition)
            .and_then(|(s, tf)| timeframe_of(tf).map(|n| (s, tf, n)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"INSTRUMENT:timeframe\" with a \
                     Crypto.com timeframe"
                ))
            })?;
        let now = self.host.now_ms();
        let request = self.pager.candles_request(cursor)?;
        let (start, end) = pagination::candles_range(timeframe, &request, now);
        let query = exsync_plugin_api::signing::Query::new()
            .push("instrument_name", symbol)
            .push("timeframe", native)
            .push("count", CANDLE_LIMIT.to_string())
            .push("start_ts", start.to_string())
            .push("end_ts", end.to_string())
            .as_str()
            .to_owned();
        let what = format!("fetching candles for {symbol} {timeframe} in [{start}, {end}]");
        let endpoint = &CryptocomEndpoints::CANDLESTICK;
        let http = HttpRequest::get(self.endpoints.url(endpoint, &query)).bucket(endpoint.bucket);
        let response = self
            .host
            .http(http)
            .map_err(|e| e.context(format!("while {what}")))?;
        let result = parsing::result(response.status, &response.body, &what)?;
        let markets = self.markets(true)?;
        let candles = parsing::parse_candles(&result, symbol, timeframe, markets.get(symbol), now)
            .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self
            .pager
            .candles_page(timeframe, &request, end, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // Instruments.

    /// The instruments: fetched at most once an hour per instance, or, when `any_age`
    /// (looking up a symbol's base and quote, which never change), whatever copy is cached.
    fn markets(&self, any_age: bool) -> Result<Arc<Markets>, PluginError> {
        self.markets_with(any_age, &[])
    }

    /// The cached instruments to look `symbols` up in, fetched again (at most hourly) when one
    /// of them is missing: listed since.
    fn markets_for(&self, symbols: &[&str]) -> Result<Arc<Markets>, PluginError> {
        self.markets_with(true, symbols)
    }

    fn markets_with(&self, any_age: bool, symbols: &[&str]) -> Result<Arc<Markets>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, markets)) = &self.state().markets {
            let fresh = now - at < INSTRUMENTS_TTL_MS && now >= *at;
            let complete = symbols.iter().all(|s| markets.get(s).is_some());
            if fresh || (any_age && complete) {
                return Ok(Arc::clone(markets));
            }
        }
        let endpoint = &CryptocomEndpoints::INSTRUMENTS;
        let what = "fetching the instrument list (public/get-instruments)";
        let http = HttpRequest::get(self.endpoints.url(endpoint, "")).bucket(endpoint.bucket);
        let response = self
            .host
            .http(http)
            .map_err(|e| e.context(format!("while {what}")))?;
        let result = parsing::result(response.status, &response.body, what)?;
        let markets = Arc::new(Markets::new(parsing::parse_instruments(&result)?));
        self.state().markets = Some((now, Arc::clone(&markets)));
        Ok(markets)
    }

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// A signed POST of `endpoint` with `params`; the `result` of a successful answer. A
    /// rate-limit answer is a `rate_limited` error the engine waits out before asking for
    /// the page again. A refused nonce is followed by one reading of Crypto.com's clock (the
    /// refusal's `Date`) and one retry with a nonce on it; a second refusal is a `clock` error.
    fn signed_post(
        &self,
        endpoint: &Endpoint,
        params: Map<String, Value>,
        what: &str,
    ) -> Result<Value, PluginError> {
        let response = self.send_signed(endpoint, &params, what)?;
        let server = response.header("date").and_then(parsing::parse_http_date);
        let response = match (refused_nonce(&response), server) {
            (true, Some(server)) => {
                let offset = self.clock.measure(&self.host, || Ok(server))?;
                self.host.warn(&format!(
                    "Crypto.com refused our nonce while {what}; following its clock (its Date \
                     header, {offset} ms from ours) and retrying once ({}).",
                    self.config.integration
                ));
                self.send_signed(endpoint, &params, what)?
            }
            _ => response,
        };
        if refused_nonce(&response) {
            let err = parsing::classify_error(response.status, &response.body, what);
            return Err(PluginError::clock(format!(
                "{}; the exchange accepts nonces within {} s of its clock{}: synchronise this \
                 host's clock (NTP)",
                err.message,
                NONCE_TOLERANCE_MS / 1000,
                match self.clock.known() {
                    Some(offset) => format!(
                        ", which its Date header put {offset} ms from ours and which we followed"
                    ),
                    None => String::new(),
                }
            )));
        }
        parsing::result(response.status, &response.body, what)
    }

    /// One signed POST, its nonce on Crypto.com's clock as last read (ours before any reading).
    fn send_signed(
        &self,
        endpoint: &Endpoint,
        params: &Map<String, Value>,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let url = self.endpoints.url(endpoint, "");
        let offset = self.clock.known().unwrap_or(0);
        // Signed with a nonce: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let nonce = {
                    let mut state = self.state();
                    let nonce = signing::next_nonce(self.host.now_ms(), offset, state.last_nonce);
                    state.last_nonce = nonce;
                    nonce
                };
                let body = self.signer.body(endpoint.method, nonce, params, nonce);
                Ok(HttpRequest::post(url.clone())
                    .bucket(endpoint.bucket)
                    .header("Content-Type", "application/json")
                    .body(body))
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

/// Whether Crypto.com refused the nonce (`10007 INVALID_NONCE`, `40102`: more than 60 s from
/// its clock).
fn refused_nonce(response: &HttpResponse) -> bool {
    matches!(parsing::error_code(&response.body), Some(10007 | 40102))
}

/// The `instrument_name`s of a list answer, to look their base and quote up.
fn instruments_in(result: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = result["data"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|r| r["instrument_name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    names.sort_unstable();
    names.dedup();
    names
}

/// "fetching trades for [from, to)".
fn window_what(name: &str, request: &WindowRequest) -> String {
    let page = if request.cursor.page.is_some() {
        " (a further page)"
    } else {
        ""
    };
    format!(
        "fetching {name} for [{}, {}){page}",
        request.from(),
        request.to()
    )
}
