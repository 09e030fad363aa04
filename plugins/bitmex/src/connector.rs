//! Wiring for the `bitmex` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured by `check`, and when
//! BitMEX finds a request expired), the asset list (currency codes and scales) and the
//! instrument list, each cached for an hour, and the account's currencies for the
//! wallet-history partitions. Everything else is in the pure modules.

use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::window::{WindowRequest, WindowRule};
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, RateScope, Record, ResetFormat, Stream,
};

use crate::config::{split_unified, BitmexConfig};
use crate::endpoints::{
    bin_size_of, BitmexEndpoints, Endpoint, API_HOSTS, BUCKET_COUNT, BUCKET_PRIVATE, BUCKET_PUBLIC,
    DEFAULT_BASE_URL, EXECUTION_COUNT, MAX_LIMIT_WAIT_MS, MINUTE_WINDOW_MS, ORDER_COUNT,
    PRIVATE_PER_MINUTE, PUBLIC_PER_MINUTE, RATE_LIMIT_LIMIT_HEADER, RATE_LIMIT_REMAINING_HEADER,
    RATE_LIMIT_RESET_HEADER, REFERENCE_TTL_MS, RETRY_AFTER_HEADER, SANDBOX_BASE_URL, TIMEFRAMES,
    TRADE_WINDOW_MS, WALLET_HISTORY_COUNT,
};
use crate::pagination::{self, next_offset, window_params, BitmexPager};
use crate::parsing::{self, Assets, Markets, WalletKind};
use crate::signing::{self, BitmexSigner};

/// One configured connection to one BitMEX account.
pub struct BitmexConnector {
    /// BitMEX's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: BitmexConfig,
    endpoints: BitmexEndpoints,
    signer: BitmexSigner,
    pager: BitmexPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// The asset list and when it was fetched (our clock).
    assets: Option<(i64, Arc<Assets>)>,
    /// The instrument list and when it was fetched.
    markets: Option<(i64, Arc<Markets>)>,
    /// The account's currencies (from its margin accounts) and when they were read.
    currencies: Option<(i64, Vec<String>)>,
}

impl Connector for BitmexConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("bitmex", "BitMEX", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key ID".into(),
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
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        // Every answer says what the minute's window has left, its allowance and when it
        // refills (Unix seconds). unconfirmed: the status of BitMEX's IP ban; 403 also means
        // "access denied", so it is not declared a ban.
        let bucket = |name: &str, capacity| {
            RateLimit::new(name, capacity, MINUTE_WINDOW_MS).with_remaining_headers(
                RATE_LIMIT_REMAINING_HEADER,
                Some(RATE_LIMIT_LIMIT_HEADER),
                Some((RATE_LIMIT_RESET_HEADER, ResetFormat::EpochSeconds)),
            )
        };
        m.rate_limits = vec![
            bucket(BUCKET_PRIVATE, PRIVATE_PER_MINUTE),
            bucket(BUCKET_PUBLIC, PUBLIC_PER_MINUTE),
        ];
        // BitMEX counts private endpoints per account (UID), public ones per IP.
        for limit in &mut m.rate_limits {
            if limit.bucket != BUCKET_PUBLIC {
                limit.scope = RateScope::Key;
            }
        }
        // BitMEX keeps the whole history and limits no window; our windows are ours.
        let limit = |stream, window| HistoryLimit {
            stream,
            max_lookback_ms: None,
            max_window_ms: window,
        };
        m.history = vec![
            limit(Stream::Trades, Some(TRADE_WINDOW_MS)),
            limit(Stream::Orders, Some(TRADE_WINDOW_MS)),
            limit(Stream::Ledger, None),
            limit(Stream::Deposits, None),
            limit(Stream::Withdrawals, None),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let bitmex = BitmexConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(BitmexConnector {
            host,
            endpoints: BitmexEndpoints::new(&bitmex.base_url),
            signer: BitmexSigner::new(&bitmex.api_key, &bitmex.api_secret),
            pager: BitmexPager::new(bitmex.start_ms, bitmex.transfer_overlap_ms),
            config: bitmex,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let body = self.signed_get(&BitmexEndpoints::USER, &[], "checking the API key")?;
        let account = parsing::parse_user(&body)?;
        let mut notes = Vec::new();
        let permissions = match self.signed_get(
            &BitmexEndpoints::API_KEYS,
            &[],
            "reading the API key's permissions",
        ) {
            Ok(body) => parsing::parse_key_permissions(&body, &self.config.api_key)?,
            Err(e) if e.kind == ErrorKind::PLUGIN || e.kind == ErrorKind::PERMISSION => {
                notes.push(format!(
                    "BitMEX did not list the key's permissions ({})",
                    e.message
                ));
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = &permissions {
            if !p.can_trade && !p.can_withdraw {
                notes.push("the key is read-only".to_owned());
            }
        }
        if !self.config.adjust_clock && offset < -(self.config.expires_after_s * 1000) / 2 {
            notes.push(format!(
                "this host's clock is {} ms ahead of BitMEX's; signed requests fail once that \
                 passes their validity ({} s)",
                -offset, self.config.expires_after_s
            ));
        }
        if !self.config.adjust_clock && offset > (self.config.expires_after_s * 1000) / 2 {
            notes.push(format!(
                "this host's clock is {offset} ms behind BitMEX's; signed requests fail once \
                 that passes their validity ({} s)",
                self.config.expires_after_s
            ));
        }
        Ok(CheckReport {
            account,
            permissions: Permissions {
                read: Some(true),
                trade: permissions.as_ref().map(|p| p.can_trade),
                withdraw: permissions.as_ref().map(|p| p.can_withdraw),
            },
            clock_offset_ms: Some(offset),
            notes,
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        match stream {
            // Executions and orders of every symbol come from one account-wide list.
            Stream::Balances | Stream::Trades | Stream::Orders => Ok(vec![String::new()]),
            // The wallet history is per currency: the account's margin currencies, and any
            // currency it is known to have touched (a currency emptied and closed since).
            Stream::Deposits | Stream::Withdrawals | Stream::Ledger => {
                let assets = self.assets()?;
                let mut parts = self.account_currencies()?;
                for code in context.assets.iter().chain(&context.known) {
                    if assets.by_currency(code).is_some() && !parts.contains(code) {
                        parts.push(code.clone());
                    }
                }
                parts.sort();
                Ok(parts)
            }
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let markets = self.markets()?;
                let mut partitions = Vec::with_capacity(self.config.candles.len());
                for (unified, timeframe) in &self.config.candles {
                    let instrument = split_unified(unified)
                        .and_then(|(b, q)| markets.find(b, q, self.config.candle_type))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "candles symbol {unified:?} is not an active BitMEX {} market \
                                 (instrument/active lists {} symbols)",
                                self.candle_market_name(),
                                markets.len()
                            ))
                        })?;
                    partitions.push(format!("{}:{timeframe}", instrument.symbol));
                }
                Ok(partitions)
            }
            other => Err(PluginError::unsupported(format!(
                "the bitmex plugin has no {other} stream"
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
            Stream::Deposits => self.fetch_wallet(WalletKind::Deposits, partition, cursor),
            Stream::Withdrawals => self.fetch_wallet(WalletKind::Withdrawals, partition, cursor),
            Stream::Ledger => self.fetch_wallet(WalletKind::Ledger, partition, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the bitmex plugin has no {other} stream"
            ))),
        }
    }
}

impl BitmexConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let assets = self.assets()?;
        let as_of = self.server_now();
        let body = self.signed_get(
            &BitmexEndpoints::MARGIN,
            &[("currency", "all".to_owned())],
            "fetching the margin balances of every currency",
        )?;
        let mut records = parsing::parse_margin(&body, &assets, as_of)?;
        let currencies = parsing::margin_currencies(&body)?;
        self.state().currencies = Some((self.host.now_ms(), currencies.clone()));
        records.extend(self.earn_balances(&currencies, &assets)?);
        Ok(Page::done(records))
    }

    /// The `earn` wallet: what is staked, per currency of the account. A key or account
    /// BitMEX does not show staking to (403, 404) has no such wallet to report: that is
    /// logged, and the margin balances are still stored.
    fn earn_balances(
        &self,
        currencies: &[String],
        assets: &Assets,
    ) -> Result<Vec<Record>, PluginError> {
        let mut records = Vec::new();
        for currency in currencies {
            let as_of = self.server_now();
            let what = format!("fetching the staked {currency}");
            match self.signed_get(
                &BitmexEndpoints::STAKING,
                &[("currency", currency.clone())],
                &what,
            ) {
                Ok(body) => records.extend(parsing::parse_staking(&body, assets, as_of)?),
                Err(e) if e.kind == ErrorKind::PERMISSION || e.kind == ErrorKind::PLUGIN => {
                    self.host.warn(&format!(
                        "No earn balances: BitMEX does not show this key its staking ({}: {}).",
                        self.config.integration, e.message
                    ));
                    return Ok(Vec::new());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(records)
    }

    fn fetch_trades(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(rule, cursor, "trades", now)?;
        let what = window_what("executions", &request);
        let body = self.signed_get(
            &BitmexEndpoints::TRADE_HISTORY,
            &window_params(&request, EXECUTION_COUNT),
            &what,
        )?;
        let (assets, markets) = (self.assets()?, self.markets()?);
        let (records, rows) =
            parsing::parse_executions(&body, &markets, &assets).map_err(|e| e.context(&what))?;
        Ok(self.window_page(
            rule,
            &request,
            records,
            next_offset(&request, rows, EXECUTION_COUNT),
            now,
        ))
    }

    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(rule, cursor, "orders", now)?;
        let what = window_what("orders", &request);
        let body = self.signed_get(
            &BitmexEndpoints::ORDERS,
            &window_params(&request, ORDER_COUNT),
            &what,
        )?;
        let (assets, markets) = (self.assets()?, self.markets()?);
        let (records, rows) =
            parsing::parse_orders(&body, &markets, &assets).map_err(|e| e.context(&what))?;
        Ok(self.window_page(
            rule,
            &request,
            records,
            next_offset(&request, rows, ORDER_COUNT),
            now,
        ))
    }

    fn window_page(
        &self,
        rule: WindowRule,
        request: &WindowRequest,
        records: Vec<Record>,
        next_page: Option<String>,
        now: i64,
    ) -> Page {
        // Orders are listed by last update, so an open order is read again when it changes:
        // no open-order bookkeeping is needed.
        self.pager
            .walker
            .page(rule, request, records, next_page, None, now)
    }

    fn fetch_wallet(
        &self,
        kind: WalletKind,
        currency: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let assets = self.assets()?;
        if assets.by_currency(currency).is_none() {
            return Err(PluginError::plugin(format!(
                "wallet history partition {currency:?} is not a BitMEX currency (one of {})",
                assets.currencies().collect::<Vec<_>>().join(", ")
            )));
        }
        let now = self.server_now();
        let request = self.pager.wallet_request(cursor)?;
        let what = format!(
            "fetching the {currency} wallet history from offset {}",
            request.offset
        );
        let body = self.signed_get(
            &BitmexEndpoints::WALLET_HISTORY,
            &[
                ("currency", currency.to_owned()),
                ("count", WALLET_HISTORY_COUNT.to_string()),
                ("start", request.offset.to_string()),
            ],
            &what,
        )?;
        let page =
            parsing::parse_wallet_history(&body, kind, &assets).map_err(|e| e.context(&what))?;
        Ok(self.pager.wallet_page(&request, page, now))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe, bin_size) = pagination::split_candle_partition(partition)
            .and_then(|(s, tf)| bin_size_of(tf).map(|b| (s, tf, b)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"SYMBOL:timeframe\" with a BitMEX \
                     bin size"
                ))
            })?;
        let bin_ms = exsync_plugin_api::window::timeframe_ms(timeframe).ok_or_else(|| {
            PluginError::plugin(format!("timeframe {timeframe:?} has no fixed length"))
        })?;
        let now = self.server_now();
        let request = self.pager.candles_request(cursor, now)?;
        let (first_close, last_close) =
            BitmexPager::candles_range(bin_ms, &request, BUCKET_COUNT, now);
        let params = vec![
            ("binSize", bin_size.to_owned()),
            ("partial", "false".to_owned()),
            ("symbol", symbol.to_owned()),
            ("count", BUCKET_COUNT.to_string()),
            (
                "startTime",
                exsync_plugin_api::time::format_rfc3339_ms(first_close),
            ),
            (
                "endTime",
                exsync_plugin_api::time::format_rfc3339_ms(last_close),
            ),
            ("reverse", "false".to_owned()),
        ];
        let what = format!(
            "fetching {bin_size} bins of {symbol} closing in [{first_close}, {last_close}]"
        );
        let body = self.public_get(&BitmexEndpoints::BUCKETED, &params, &what)?;
        let (assets, markets) = (self.assets()?, self.markets()?);
        let candles =
            parsing::parse_bucketed(&body, timeframe, bin_ms, markets.get(symbol), &assets, now)
                .map_err(|e| e.context(&what))?;
        Ok(self
            .pager
            .candles_page(bin_ms, &request, last_close, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // Reference data.

    fn candle_market_name(&self) -> &'static str {
        if self.config.candle_type == crate::config::SPOT_TYPE {
            "spot"
        } else {
            "perpetual"
        }
    }

    /// Currency codes and scales, fetched at most once an hour per instance.
    fn assets(&self) -> Result<Arc<Assets>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, assets)) = &self.state().assets {
            if now >= *at && now - at < REFERENCE_TTL_MS {
                return Ok(Arc::clone(assets));
            }
        }
        let body = self.public_get(
            &BitmexEndpoints::ASSETS,
            &[],
            "fetching the asset list (currency scales)",
        )?;
        let assets = Arc::new(parsing::parse_assets(&body)?);
        self.state().assets = Some((now, Arc::clone(&assets)));
        Ok(assets)
    }

    /// Active instruments, fetched at most once an hour per instance.
    fn markets(&self) -> Result<Arc<Markets>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, markets)) = &self.state().markets {
            if now >= *at && now - at < REFERENCE_TTL_MS {
                return Ok(Arc::clone(markets));
            }
        }
        let body = self.public_get(
            &BitmexEndpoints::INSTRUMENTS,
            &[],
            "fetching the active instruments",
        )?;
        let markets = Arc::new(parsing::parse_instruments(&body)?);
        self.state().markets = Some((now, Arc::clone(&markets)));
        Ok(markets)
    }

    /// The currencies of the account's margin accounts, read at most once an hour (the
    /// balances stream refreshes them).
    fn account_currencies(&self) -> Result<Vec<String>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, currencies)) = &self.state().currencies {
            if now >= *at && now - at < REFERENCE_TTL_MS {
                return Ok(currencies.clone());
            }
        }
        let body = self.signed_get(
            &BitmexEndpoints::MARGIN,
            &[("currency", "all".to_owned())],
            "listing the account's currencies",
        )?;
        let currencies = parsing::margin_currencies(&body)?;
        self.state().currencies = Some((now, currencies.clone()));
        Ok(currencies)
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Measures BitMEX's clock minus ours now with `GET /api/v1`, and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || {
            let body =
                self.public_get(&BitmexEndpoints::ROOT, &[], "reading BitMEX's server time")?;
            parsing::parse_server_time(&body)
        })
    }

    /// The offset our expiries carry: the measured one with `adjust_clock`, else none.
    fn applied_offset(&self) -> i64 {
        if self.config.adjust_clock {
            self.clock.known().unwrap_or(0)
        } else {
            0
        }
    }

    /// "Now" for windows and finality: our clock, corrected where we follow BitMEX's.
    fn server_now(&self) -> i64 {
        self.host.now_ms() + self.applied_offset()
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET; the body of a successful answer.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let query = signing::query(params);
        let request =
            HttpRequest::get(self.endpoints.url(endpoint, query.as_str())).bucket(endpoint.bucket);
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        self.answer(endpoint, response, what)
    }

    /// A signed GET. An expired request (our clock behind BitMEX's) is retried once on
    /// BitMEX's clock, measured again, when `adjust_clock` is on (the default); a second expiry,
    /// or the first with `adjust_clock` off, is a `clock` error that tells the offset.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let query = signing::query(params);
        let path_and_query = BitmexEndpoints::path_and_query(endpoint, query.as_str());
        let url = self.endpoints.url(endpoint, query.as_str());
        let mut clock_retried = false;
        loop {
            let response = self
                .host
                .http_retrying(|| {
                    // Signed with an expiry: rebuilt for every attempt.
                    let expires = signing::expires(self.server_now(), self.config.expires_after_s);
                    let mut request = HttpRequest::get(url.clone()).bucket(endpoint.bucket);
                    for (name, value) in self.signer.headers("GET", &path_and_query, expires, "") {
                        request = request.header(name, value);
                    }
                    Ok(request)
                })
                .map_err(|e| e.context(format!("while {what}")))?;
            match self.answer(endpoint, response, what) {
                Err(e) if e.kind == ErrorKind::CLOCK => {
                    let offset = self.measure_offset()?;
                    if self.config.adjust_clock && !clock_retried {
                        clock_retried = true;
                        self.host.warn(&format!(
                            "BitMEX found our request expired while {what}; following its clock \
                             (offset {offset} ms) and retrying once ({}).",
                            self.config.integration
                        ));
                        continue;
                    }
                    if self.config.adjust_clock {
                        return Err(PluginError::clock(format!(
                            "{}, again on BitMEX's clock as its server time tells it ({offset} ms \
                             from ours): BitMEX's time endpoint disagrees with the clock it \
                             checks expiries against",
                            e.message
                        )));
                    }
                    return Err(PluginError::clock(format!(
                        "{}; this host's clock is {} ms {} BitMEX's (requests are valid {} s): \
                         synchronise it, or set option adjust_clock = true",
                        e.message,
                        offset.abs(),
                        if offset >= 0 { "behind" } else { "ahead of" },
                        self.config.expires_after_s
                    )));
                }
                other => return other,
            }
        }
    }

    /// The body of a successful answer; a 429 is a `rate_limited` error saying how long to
    /// wait (the engine waits, then asks for the page again); any other error is classified.
    fn answer(
        &self,
        endpoint: &Endpoint,
        response: HttpResponse,
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        if response.status == 429 {
            let err = parsing::classify_error(response.status, &response.body, what);
            let wait = limit_wait_ms(&response, self.server_now());
            return Err(PluginError::new(
                ErrorKind::RATE_LIMITED,
                format!(
                    "{}; BitMEX's limit for {} frees up in {wait} ms",
                    err.message, endpoint.path
                ),
            ));
        }
        parsing::checked(response.status, &response.body, what).map(<[u8]>::to_vec)
    }
}

/// How long to wait after a 429: `Retry-After` seconds, else until `x-ratelimit-reset` (Unix
/// seconds) on BitMEX's clock, within `[1 s, MAX_LIMIT_WAIT_MS]`.
pub(crate) fn limit_wait_ms(response: &HttpResponse, now_ms: i64) -> u64 {
    let retry_after = response
        .header(RETRY_AFTER_HEADER)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s * 1000);
    let reset = response
        .header(RATE_LIMIT_RESET_HEADER)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s * 1000 - now_ms);
    retry_after
        .or(reset)
        .unwrap_or(1000)
        .clamp(1000, MAX_LIMIT_WAIT_MS as i64) as u64
}

/// "fetching executions for [from, to)".
fn window_what(name: &str, request: &WindowRequest) -> String {
    let page = match request.page() {
        Some(offset) => format!(" from offset {offset}"),
        None => String::new(),
    };
    format!(
        "fetching {name} for [{}, {}){page}",
        request.from(),
        request.to()
    )
}
