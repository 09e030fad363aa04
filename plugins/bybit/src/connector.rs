//! Wiring for the `bybit` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured by `check`, and when
//! Bybit rejects a timestamp), what the API key says about the account (unified or classic,
//! cached once read) and the instrument lists per category (cached for an hour). Everything
//! else is in the pure modules.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, RateScope, Record, ResetFormat, Stream,
};
use serde_json::Value;

use crate::config::{split_unified, BybitConfig};
use crate::endpoints::{
    interval_of, BybitEndpoints, Endpoint, ACCOUNT_PER_SECOND, API_HOSTS, ASSET_PER_SECOND,
    BAN_STATUS, BUCKET_ACCOUNT, BUCKET_ASSET, BUCKET_PUBLIC, BUCKET_TRADE, CATEGORIES,
    DEFAULT_BASE_URL, EARN_CATEGORIES, EXECUTION_LIMIT, HISTORY_LIMIT_MS, INSTRUMENTS_LIMIT,
    INSTRUMENTS_TTL_MS, KLINE_LIMIT, LIMIT_HEADER, LIMIT_RESET_HEADER, LIMIT_STATUS_HEADER,
    LINEAR_SETTLE_COINS, MAX_LIMIT_WAIT_MS, OPEN_ORDERS_LIMIT, ORDER_HISTORY_LIMIT,
    PUBLIC_PER_WINDOW, PUBLIC_WINDOW_MS, SANDBOX_BASE_URL, SECOND_MS, TIMEFRAMES, TRADE_PER_SECOND,
    TRADE_WINDOW_MS, TRANSACTION_LOG_LIMIT, TRANSFER_LIMIT, TRANSFER_WINDOW_MS,
};
use crate::pagination::{self, window_params, BybitPager};
use crate::parsing::{self, ApiKeyInfo, ListPage, Markets};
use crate::signing::{self, BybitSigner};
use exsync_plugin_api::window::{WindowRequest, WindowRule};

/// Bybit's "the request time exceeds the time window range".
const INVALID_TIMESTAMP: i64 = 10002;
/// Bybit's "Too many visits! Exceeded the API Rate Limit" (per UID and endpoint).
const TOO_MANY_VISITS: i64 = 10006;

/// One configured connection to one Bybit account.
pub struct BybitConnector {
    /// Bybit's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: BybitConfig,
    endpoints: BybitEndpoints,
    signer: BybitSigner,
    pager: BybitPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// What `query-api` said about the key.
    key: Option<ApiKeyInfo>,
    /// Instruments per category and when they were fetched (our clock).
    markets: BTreeMap<String, (i64, Arc<Markets>)>,
}

impl Connector for BybitConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("bybit", "Bybit", env!("CARGO_PKG_VERSION"));
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
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        let bucket = |name: &str, capacity, window_ms| RateLimit {
            bucket: name.into(),
            capacity,
            window_ms,
            used_header: None,
            ban_statuses: vec![BAN_STATUS],
            ..RateLimit::default()
        };
        m.rate_limits = vec![
            bucket(BUCKET_PUBLIC, PUBLIC_PER_WINDOW, PUBLIC_WINDOW_MS),
            bucket(BUCKET_TRADE, TRADE_PER_SECOND, SECOND_MS),
            bucket(BUCKET_ACCOUNT, ACCOUNT_PER_SECOND, SECOND_MS),
            bucket(BUCKET_ASSET, ASSET_PER_SECOND, SECOND_MS),
        ];
        // Bybit counts private endpoints per account (UID), public ones per IP, and tells in
        // every private answer what the endpoint has left (the reset is the answer's own time
        // unless the limit was passed).
        for limit in &mut m.rate_limits {
            if limit.bucket != BUCKET_PUBLIC {
                limit.scope = RateScope::Key;
                limit.remaining_header = Some(LIMIT_STATUS_HEADER.into());
                limit.limit_header = Some(LIMIT_HEADER.into());
                limit.reset_header = Some(LIMIT_RESET_HEADER.into());
                limit.reset_format = ResetFormat::EpochMillis;
            }
        }
        let limit = |stream, window| HistoryLimit {
            stream,
            max_lookback_ms: Some(HISTORY_LIMIT_MS),
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
        let bybit = BybitConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(BybitConnector {
            host,
            endpoints: BybitEndpoints::new(&bybit.base_url),
            signer: BybitSigner::new(&bybit.api_key, &bybit.api_secret),
            pager: BybitPager::new(bybit.start_ms, bybit.transfer_overlap_ms),
            config: bybit,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let key = self.fetch_key_info("checking the API key")?;
        let mut notes = vec![if key.unified {
            "unified trading account".to_owned()
        } else {
            "classic account (spot and derivatives wallets)".to_owned()
        }];
        if key.read_only {
            notes.push("the key is read-only".to_owned());
        }
        if self.config.adjust_clock && offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Bybit's; requests are signed with Bybit's \
                 time (option adjust_clock)",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
            ));
        } else if offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Bybit's; signed requests fail once that passes \
                 the receive window ({} ms)",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
                self.config.recv_window_ms
            ));
        }
        Ok(CheckReport {
            account: key
                .user_id
                .clone()
                .unwrap_or_else(|| "bybit account".into()),
            permissions: Permissions {
                read: Some(true),
                trade: Some(key.can_trade),
                withdraw: Some(key.can_withdraw),
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
            Stream::Balances | Stream::Deposits | Stream::Withdrawals | Stream::Ledger => {
                Ok(vec![String::new()])
            }
            // Bybit's execution and order histories are per product category, not per
            // symbol: four partitions cover every market the account ever traded.
            Stream::Trades | Stream::Orders => {
                let mut parts: Vec<String> = CATEGORIES.iter().map(|c| c.to_string()).collect();
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
                let category = self.config.candle_category.clone();
                let markets = self.markets(&category, false)?;
                let mut partitions = Vec::with_capacity(self.config.candles.len());
                for (unified, timeframe) in &self.config.candles {
                    let market = split_unified(unified)
                        .and_then(|(base, quote)| markets.find(base, quote))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "candles symbol {unified:?} is not a Bybit {category} market \
                                 (instruments-info lists {} symbols)",
                                markets.len()
                            ))
                        })?;
                    partitions.push(format!("{}:{timeframe}", market.symbol));
                }
                Ok(partitions)
            }
            other => Err(PluginError::unsupported(format!(
                "the bybit plugin has no {other} stream"
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
            Stream::Orders => self.fetch_orders(partition, cursor),
            Stream::Ledger => self.fetch_ledger(cursor),
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the bybit plugin has no {other} stream"
            ))),
        }
    }
}

impl BybitConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let key = self.key_info()?;
        let account_types: &[&str] = if key.unified {
            &["UNIFIED"]
        } else {
            &["SPOT", "CONTRACT"]
        };
        let mut records = Vec::new();
        for account_type in account_types {
            let what = format!("fetching the {account_type} wallet balance");
            let as_of = self.server_now();
            let (result, _) = self.signed_get(
                &BybitEndpoints::WALLET_BALANCE,
                &[("accountType", account_type.to_string())],
                &what,
            )?;
            records.extend(parsing::parse_wallet_balance(&result, as_of)?);
        }
        let as_of = self.server_now();
        let (result, _) = self.signed_get(
            &BybitEndpoints::FUNDING_BALANCE,
            &[("accountType", "FUND".to_owned())],
            "fetching the funding wallet balance",
        )?;
        records.extend(parsing::parse_funding_balance(&result, as_of)?);
        records.extend(self.earn_balances()?);
        Ok(Page::done(records))
    }

    /// The `earn` wallet: Bybit Earn positions of every category. A key without the "Earn"
    /// permission has no such wallet to report: that is logged, and the other wallets are
    /// still stored.
    fn earn_balances(&self) -> Result<Vec<Record>, PluginError> {
        let as_of = self.server_now();
        let mut results = Vec::new();
        for category in EARN_CATEGORIES {
            let what = format!("fetching the {category} Earn positions");
            match self.signed_get(
                &BybitEndpoints::EARN_POSITIONS,
                &[("category", category.to_owned())],
                &what,
            ) {
                Ok((result, _)) => results.push(result),
                Err(e) if e.kind == ErrorKind::PERMISSION => {
                    self.host.warn(&format!(
                        "No Earn balances: the API key lacks Bybit's Earn permission ({}: {}).",
                        self.config.integration, e.message
                    ));
                    return Ok(Vec::new());
                }
                Err(e) => return Err(e),
            }
        }
        parsing::parse_earn_positions(&results, as_of)
    }

    fn fetch_trades(&self, category: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_category(category, Stream::Trades)?;
        let kind = self.pager.trade_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(kind, cursor, "trades", now)?;
        let mut params = vec![("category", category.to_owned())];
        params.extend(window_params(&request, EXECUTION_LIMIT));
        let what = window_what("executions", Some(category), &request);
        let (result, _) = self.signed_get(&BybitEndpoints::EXECUTIONS, &params, &what)?;
        let markets = self.markets_for(category, true, &symbols_in(&result))?;
        let page = parsing::parse_executions(&result, &markets).map_err(|e| e.context(&what))?;
        Ok(self.window_page(kind, &request, page, now))
    }

    fn fetch_orders(&self, category: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_category(category, Stream::Orders)?;
        let kind = self.pager.trade_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(kind, cursor, "orders", now)?;
        let mut params = vec![("category", category.to_owned())];
        params.extend(window_params(&request, ORDER_HISTORY_LIMIT));
        let what = window_what("order history", Some(category), &request);
        let (result, _) = self.signed_get(&BybitEndpoints::ORDER_HISTORY, &params, &what)?;
        let markets = self.markets_for(category, true, &symbols_in(&result))?;
        let mut page =
            parsing::parse_order_history(&result, &markets).map_err(|e| e.context(&what))?;
        // Without polling open orders (`poll_open_orders = false`), the walk ends unread.
        if self.config.poll_open_orders
            && self
                .pager
                .walker
                .is_last_page(kind, &request, page.next_page.is_some(), now)
        {
            // A unified account's order history lists no order still open: those come from
            // the open-orders endpoint, once per walk, and the next walk starts at the oldest.
            let open = self.open_orders(category, &markets)?;
            page.oldest_open = match (page.oldest_open, open.oldest_open) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let ids: std::collections::BTreeSet<String> =
                open.records.iter().map(|r| r.id()).collect();
            page.records.retain(|r| !ids.contains(&r.id()));
            page.records.extend(open.records);
        }
        Ok(self.window_page(kind, &request, page, now))
    }

    /// Every order of `category` open now (`/v5/order/realtime`, all pages; linear orders per
    /// settle coin, as Bybit requires).
    fn open_orders(&self, category: &str, markets: &Markets) -> Result<ListPage, PluginError> {
        let settle_coins: &[&str] = if category == "linear" {
            &LINEAR_SETTLE_COINS
        } else {
            &[""]
        };
        let mut all = ListPage::default();
        for settle in settle_coins {
            let mut cursor: Option<String> = None;
            loop {
                let mut params = vec![("category", category.to_owned())];
                if !settle.is_empty() {
                    params.push(("settleCoin", settle.to_string()));
                }
                params.push(("openOnly", "0".to_owned()));
                params.push(("limit", OPEN_ORDERS_LIMIT.to_string()));
                if let Some(c) = &cursor {
                    params.push(("cursor", c.clone()));
                }
                let what = format!("fetching the open {category} orders {settle}");
                let (result, _) =
                    self.signed_get(&BybitEndpoints::OPEN_ORDERS, &params, what.trim_end())?;
                let page = parsing::parse_order_history(&result, markets)
                    .map_err(|e| e.context(what.trim_end()))?;
                all.oldest_open = match (all.oldest_open, page.oldest_open) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                all.records.extend(page.records);
                match page.next_page {
                    Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                    _ => break,
                }
            }
        }
        Ok(all)
    }

    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        // A unified account has one log for every wallet; a classic account has one per contract
        // wallet (`contract-transaction-log`) and none for its spot wallet (see the crate docs).
        let unified = self.key_info()?.unified;
        let kind = self.pager.trade_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(kind, cursor, "ledger", now)?;
        let mut params = Vec::new();
        if unified {
            params.push(("accountType", "UNIFIED".to_owned()));
        }
        params.extend(window_params(&request, TRANSACTION_LOG_LIMIT));
        let page = if unified {
            let what = window_what("the transaction log", None, &request);
            let (result, _) = self.signed_get(&BybitEndpoints::TRANSACTION_LOG, &params, &what)?;
            parsing::parse_transaction_log(&result).map_err(|e| e.context(&what))?
        } else {
            let what = window_what("the contract transaction log", None, &request);
            let (result, _) =
                self.signed_get(&BybitEndpoints::CONTRACT_TRANSACTION_LOG, &params, &what)?;
            parsing::parse_contract_transaction_log(&result).map_err(|e| e.context(&what))?
        };
        Ok(self.window_page(kind, &request, page, now))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let kind = self.pager.transfer_rule();
        let now = self.server_now();
        let request = self
            .pager
            .walker
            .request(kind, cursor, stream.as_str(), now)?;
        let (endpoint, mut params, name) = if stream == Stream::Deposits {
            (&BybitEndpoints::DEPOSITS, Vec::new(), "deposit records")
        } else {
            // withdrawType 2: on-chain and off-chain (internal) withdrawals alike.
            (
                &BybitEndpoints::WITHDRAWALS,
                vec![("withdrawType", "2".to_owned())],
                "withdrawal records",
            )
        };
        params.extend(window_params(&request, TRANSFER_LIMIT));
        let what = window_what(name, None, &request);
        let (result, _) = self.signed_get(endpoint, &params, &what)?;
        let page = if stream == Stream::Deposits {
            parsing::parse_deposits(&result)
        } else {
            parsing::parse_withdrawals(&result)
        }
        .map_err(|e| e.context(&what))?;
        Ok(self.window_page(kind, &request, page, now))
    }

    fn window_page(
        &self,
        kind: WindowRule,
        request: &WindowRequest,
        page: ListPage,
        now: i64,
    ) -> Page {
        self.pager.walker.page(
            kind,
            request,
            page.records,
            page.next_page,
            page.oldest_open,
            now,
        )
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe, interval) = pagination::split_candle_partition(partition)
            .and_then(|(s, tf)| interval_of(tf).map(|i| (s, tf, i)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"SYMBOL:timeframe\" with a Bybit \
                     timeframe"
                ))
            })?;
        let now = self.server_now();
        let request = self.pager.candles_request(cursor, now)?;
        let (start, end) = BybitPager::candles_range(interval, &request, now);
        let category = self.config.candle_category.clone();
        let params = vec![
            ("category", category.clone()),
            ("symbol", symbol.to_owned()),
            ("interval", interval.to_owned()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("limit", KLINE_LIMIT.to_string()),
        ];
        let what =
            format!("fetching {category} klines for {symbol} {timeframe} in [{start}, {end}]");
        let (result, _) = self.public_get(&BybitEndpoints::KLINE, &params, &what)?;
        let markets = self.markets(&category, true)?;
        let candles = parsing::parse_kline(
            &result,
            symbol,
            timeframe,
            interval,
            markets.get(symbol),
            now,
        )?;
        Ok(self
            .pager
            .candles_page(interval, &request, end, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // Account and instruments.

    /// What the key says about the account, read once per instance.
    fn key_info(&self) -> Result<ApiKeyInfo, PluginError> {
        if let Some(key) = &self.state().key {
            return Ok(key.clone());
        }
        self.fetch_key_info("reading the API key's account kind")
    }

    fn fetch_key_info(&self, what: &str) -> Result<ApiKeyInfo, PluginError> {
        let (result, _) = self.signed_get(&BybitEndpoints::QUERY_API, &[], what)?;
        let key = parsing::parse_api_key_info(&result)?;
        self.state().key = Some(key.clone());
        Ok(key)
    }

    /// The instruments of `category`: fetched at most once an hour per instance, or, when
    /// `any_age` (looking up a symbol's base and quote, which never change), whatever copy is
    /// cached unless it is an hour old and lacks `symbol` (listed since).
    fn markets(&self, category: &str, any_age: bool) -> Result<Arc<Markets>, PluginError> {
        self.markets_for(category, any_age, &[])
    }

    /// [`Self::markets`], fetched again (at most hourly) when one of `symbols` is missing.
    fn markets_for(
        &self,
        category: &str,
        any_age: bool,
        symbols: &[&str],
    ) -> Result<Arc<Markets>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, markets)) = self.state().markets.get(category) {
            let fresh = now - at < INSTRUMENTS_TTL_MS && now >= *at;
            let complete = symbols.iter().all(|s| markets.get(s).is_some());
            if fresh || (any_age && complete) {
                return Ok(Arc::clone(markets));
            }
        }
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![
                ("category", category.to_owned()),
                ("limit", INSTRUMENTS_LIMIT.to_string()),
            ];
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let what = format!("fetching the {category} instruments (symbol list)");
            let (result, _) = self.public_get(&BybitEndpoints::INSTRUMENTS, &params, &what)?;
            let (markets, next) = parsing::parse_instruments(&result)?;
            let got = markets.len();
            all.extend(markets);
            match next {
                Some(next) if got > 0 && cursor.as_deref() != Some(next.as_str()) => {
                    cursor = Some(next)
                }
                _ => break,
            }
        }
        let markets = Arc::new(Markets::new(all));
        self.state()
            .markets
            .insert(category.to_owned(), (now, Arc::clone(&markets)));
        Ok(markets)
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Measures Bybit's clock minus ours now with `GET /v5/market/time`, and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || {
            let (result, _) =
                self.public_get(&BybitEndpoints::TIME, &[], "reading Bybit's server time")?;
            parsing::parse_server_time(&result)
        })
    }

    /// The offset our timestamps carry: the measured one with `adjust_clock`, else none.
    fn applied_offset(&self) -> i64 {
        if self.config.adjust_clock {
            self.clock.known().unwrap_or(0)
        } else {
            0
        }
    }

    /// "Now" for windows and finality: our clock, corrected where we follow Bybit's.
    fn server_now(&self) -> i64 {
        signing::timestamp(self.host.now_ms(), self.applied_offset())
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET; the envelope's `result` and `time` of a successful answer.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<(Value, Option<i64>), PluginError> {
        let query = signing::query(params);
        let request =
            HttpRequest::get(self.endpoints.url(endpoint, query.as_str())).bucket(endpoint.bucket);
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        parsing::result(response.status, &response.body, what)
    }

    /// A signed GET. A per-UID limit (`retCode` 10006) is a `rate_limited` error the engine
    /// waits out before asking for the page again; a rejected timestamp (10002) is retried once with Bybit's clock
    /// when `adjust_clock` is set, and is otherwise a `clock` error that tells the offset.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<(Value, Option<i64>), PluginError> {
        let query = signing::query(params);
        let mut clock_retried = false;
        loop {
            let response = self.send_signed(endpoint, query.as_str(), what)?;
            match parsing::ret_code(&response.body) {
                Some((TOO_MANY_VISITS, time)) => {
                    // A plugin may not sleep: the engine waits and asks for the page again.
                    let wait = limit_wait_ms(&response, time);
                    let err = parsing::classify_error(response.status, &response.body, what);
                    return Err(PluginError::new(
                        ErrorKind::RATE_LIMITED,
                        format!(
                            "{}; Bybit's limit for {} resets in {wait} ms",
                            err.message, endpoint.path
                        ),
                    ));
                }
                Some((INVALID_TIMESTAMP, _)) => {
                    let offset = self.measure_offset()?;
                    if self.config.adjust_clock && !clock_retried {
                        clock_retried = true;
                        self.host.warn(&format!(
                            "Bybit rejected our timestamp while {what}; following its clock \
                             (offset {offset} ms) and retrying once ({}).",
                            self.config.integration
                        ));
                        continue;
                    }
                    let err = parsing::classify_error(response.status, &response.body, what);
                    return Err(PluginError::clock(format!(
                        "{}; this host's clock is {} ms {} Bybit's (receive window {} ms): {hint}",
                        err.message,
                        offset.abs(),
                        if offset >= 0 { "behind" } else { "ahead of" },
                        self.config.recv_window_ms,
                        hint = clock_hint(self.config.adjust_clock, "Bybit")
                    )));
                }
                _ => return parsing::result(response.status, &response.body, what),
            }
        }
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        query: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        // Signed with a timestamp: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let timestamp = signing::timestamp(self.host.now_ms(), self.applied_offset());
                let mut request =
                    HttpRequest::get(self.endpoints.url(endpoint, query)).bucket(endpoint.bucket);
                for (name, value) in
                    self.signer
                        .headers(timestamp, self.config.recv_window_ms, query)
                {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

/// How long to wait after a 10006 answer: until `X-Bapi-Limit-Reset-Timestamp`, counted on
/// Bybit's clock from the answer's `time`, within `[50 ms, MAX_LIMIT_WAIT_MS]`.
pub(crate) fn limit_wait_ms(response: &HttpResponse, server_time: Option<i64>) -> u64 {
    let reset = response
        .header(LIMIT_RESET_HEADER)
        .and_then(|v| v.trim().parse::<i64>().ok());
    let wait = match (reset, server_time) {
        (Some(reset), Some(now)) => reset - now,
        _ => 1000,
    };
    wait.clamp(50, MAX_LIMIT_WAIT_MS) as u64
}

/// What a `clock` error tells the operator to do. Following the exchange's clock
/// (`adjust_clock`, the default), a rejection that survives a fresh measurement means its
/// time endpoint and its signature check disagree: only the host's clock can be fixed.
fn clock_hint(adjust_clock: bool, exchange: &str) -> String {
    if adjust_clock {
        format!("synchronise it ({exchange} rejected us again after its clock was measured anew)")
    } else {
        "synchronise it, or set option adjust_clock = true".to_owned()
    }
}

/// The `symbol`s of a list answer, to look their base and quote up.
fn symbols_in(result: &Value) -> Vec<&str> {
    let mut symbols: Vec<&str> = result["list"]
        .as_array()
        .map(|l| l.iter().filter_map(|r| r["symbol"].as_str()).collect())
        .unwrap_or_default();
    symbols.sort_unstable();
    symbols.dedup();
    symbols
}

/// "fetching executions (spot) for [from, to)".
fn window_what(name: &str, category: Option<&str>, request: &WindowRequest) -> String {
    let page = if request.cursor.page.is_some() {
        " (a further page)"
    } else {
        ""
    };
    match category {
        Some(c) => format!(
            "fetching {name} ({c}) for [{}, {}){page}",
            request.from(),
            request.to()
        ),
        None => format!(
            "fetching {name} for [{}, {}){page}",
            request.from(),
            request.to()
        ),
    }
}

fn require_category(category: &str, stream: Stream) -> Result<(), PluginError> {
    if CATEGORIES.contains(&category) {
        Ok(())
    } else {
        Err(PluginError::plugin(format!(
            "{stream} partition {category:?} is not a Bybit product category (one of {})",
            CATEGORIES.join(", ")
        )))
    }
}
