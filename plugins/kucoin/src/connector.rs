//! Wiring for the `kucoin` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset, measured once, lazily, before
//! the first signed request, and again after a `400002` timestamp rejection. Everything else
//! is in the pure modules.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, Record, ResetFormat, Stream,
};

use crate::config::KucoinConfig;
use crate::endpoints::{
    timeframe, Endpoint, KucoinEndpoints, API_HOSTS, CLASSIC_HISTORY_FLOOR_MS, DEFAULT_BASE_URL,
    EARN_QUOTA, FUTURES_CURRENCIES, FUTURES_QUOTA, HF_FILLS_LIMIT, HF_LEDGER_LIMIT,
    HF_ORDERS_LIMIT, LEDGER_LOOKBACK_MS, LIMIT_HEADER, MANAGEMENT_QUOTA, MAX_RATE_LIMIT_WAIT_MS,
    PAGE_SIZE, POOL_EARN, POOL_FUTURES, POOL_MANAGEMENT, POOL_PUBLIC, POOL_SPOT, PUBLIC_QUOTA,
    QUOTA_WINDOW_MS, REMAINING_HEADER, RESET_HEADER, SETTLE_OVERLAP_MS, SPOT_QUOTA, SYMBOLS_TTL_MS,
    TIMEFRAMES, WINDOW_MS,
};
use crate::pagination::{self, KucoinPager, WalkRules, WindowRequest};
use crate::parsing::{self, Market, Paged};
use crate::signing::{self, KucoinSigner};

/// KuCoin's "Invalid KC-API-TIMESTAMP".
const INVALID_TIMESTAMP: &str = "400002";

/// One configured connection to one KuCoin account.
pub struct KucoinConnector {
    /// KuCoin's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: KucoinConfig,
    endpoints: KucoinEndpoints,
    signer: KucoinSigner,
    pager: KucoinPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// Whether a high-frequency account is open, and when that was asked (our clock).
    hf_open: Option<(i64, bool)>,
    /// `GET /api/v2/symbols` and when it was fetched (our clock).
    markets: Option<(i64, Arc<Vec<Market>>)>,
}

impl Connector for KucoinConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("kucoin", "KuCoin", env!("CARGO_PKG_VERSION"));
        let field = |name: &str, label: &str, secret: bool| CredentialField {
            name: name.into(),
            label: label.into(),
            secret,
            optional: false,
        };
        m.credentials = vec![
            field("api_key", "API Key", false),
            field("api_secret", "API Secret", true),
            field("passphrase", "API Passphrase", true),
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
        // Every answer says what the pool has left and when it refills. The private pools
        // are counted per account (UID); the public one per IP.
        let pool = |bucket: &str, capacity| {
            let limit = RateLimit::new(bucket, capacity, QUOTA_WINDOW_MS).with_remaining_headers(
                REMAINING_HEADER,
                Some(LIMIT_HEADER),
                Some((RESET_HEADER, ResetFormat::MillisLeft)),
            );
            if bucket == POOL_PUBLIC {
                limit
            } else {
                limit.per_key()
            }
        };
        m.rate_limits = vec![
            pool(POOL_SPOT, SPOT_QUOTA),
            pool(POOL_MANAGEMENT, MANAGEMENT_QUOTA),
            pool(POOL_PUBLIC, PUBLIC_QUOTA),
            pool(POOL_FUTURES, FUTURES_QUOTA),
            pool(POOL_EARN, EARN_QUOTA),
        ];
        let limit = |stream, lookback| HistoryLimit {
            stream,
            max_lookback_ms: lookback,
            max_window_ms: Some(WINDOW_MS),
        };
        m.history = vec![
            limit(Stream::Trades, None),
            limit(Stream::Orders, None),
            limit(Stream::Deposits, None),
            limit(Stream::Withdrawals, None),
            limit(Stream::Ledger, Some(LEDGER_LOOKBACK_MS)),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let kucoin = KucoinConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(KucoinConnector {
            host,
            endpoints: KucoinEndpoints::new(&kucoin.base_url),
            signer: KucoinSigner::new(&kucoin.api_key, &kucoin.api_secret, &kucoin.passphrase),
            pager: KucoinPager {
                start_ms: kucoin.start_ms,
            },
            config: kucoin,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let body = self.signed_get(&KucoinEndpoints::API_KEY_INFO, &[], "checking the API key")?;
        let info = parsing::parse_api_key_info(&body)?;
        let mut notes = vec![format!("key permissions: {}", info.permissions.join(", "))];
        if let Some(sub) = &info.sub_name {
            notes.push(format!("sub-account {sub}"));
        }
        if info.is_master == Some(false) && info.sub_name.is_none() {
            notes.push("a sub-account key".into());
        }
        // A high-frequency account's fills and orders are read per market (`hf:SYMBOL`
        // partitions), its ledger in the `hf` ledger partition: say so.
        match self
            .signed_get(
                &KucoinEndpoints::HF_OPENED,
                &[],
                "asking whether a high-frequency account is open",
            )
            .and_then(|body| parsing::parse_hf_opened(&body))
        {
            Ok(true) => notes.push(
                "a high-frequency (trade_hf) account is open: its balances and ledger are \
                 synced, its fills and orders per market of the currencies the account holds \
                 or has touched"
                    .into(),
            ),
            Ok(false) => {}
            Err(e) => notes.push(format!(
                "could not tell whether a high-frequency account is open ({}: {})",
                e.kind, e.message
            )),
        }
        Ok(CheckReport {
            account: info.uid.clone().unwrap_or_else(|| "kucoin account".into()),
            permissions: Permissions {
                read: Some(info.can("General")),
                trade: Some(info.can("Spot") || info.can("Margin") || info.can("Futures")),
                withdraw: Some(info.can("Withdrawal")),
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
            // The classic fills and orders answer for every symbol at once; the
            // high-frequency account's need one symbol per request: those symbols come from
            // what the account holds.
            Stream::Trades | Stream::Orders => {
                let hf_open = self.hf_open()?;
                let markets = if hf_open {
                    self.markets()?
                } else {
                    Arc::new(Vec::new())
                };
                let assets: BTreeSet<String> = if !hf_open {
                    BTreeSet::new()
                } else if context.assets.is_empty() {
                    self.held_assets()?
                } else {
                    context.assets.iter().cloned().collect()
                };
                Ok(pagination::trade_partitions(
                    &markets,
                    &assets,
                    &context.known,
                    hf_open,
                ))
            }
            // The classic ledger, and the high-frequency account's where it has one.
            Stream::Ledger => Ok(pagination::ledger_partitions(
                &context.known,
                self.hf_open()?,
            )),
            // KuCoin's classic history endpoints answer for every symbol and currency at once
            // (`symbol` and `currency` are optional filters): one partition each.
            Stream::Balances | Stream::Deposits | Stream::Withdrawals => Ok(vec![String::new()]),
            Stream::Candles => Ok(pagination::candle_partitions(&self.config.candles)),
            other => Err(PluginError::unsupported(format!(
                "the kucoin plugin has no {other} stream"
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
            Stream::Trades => match partition.strip_prefix(pagination::HF_PREFIX) {
                Some(symbol) => self.fetch_hf_fills(symbol, cursor),
                None => self.fetch_window(stream, cursor),
            },
            Stream::Orders => match partition.strip_prefix(pagination::HF_PREFIX) {
                Some(symbol) => self.fetch_hf_orders(symbol, cursor),
                None => self.fetch_window(stream, cursor),
            },
            Stream::Deposits | Stream::Withdrawals => self.fetch_window(stream, cursor),
            Stream::Ledger if partition == pagination::HF_LEDGER => self.fetch_hf_ledger(cursor),
            Stream::Ledger => self.fetch_window(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the kucoin plugin has no {other} stream"
            ))),
        }
    }
}

impl KucoinConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// Every wallet, one snapshot: the account types `GET /api/v1/accounts` lists (main,
    /// trade, trade_hf, margin), isolated margin per symbol, futures per margin currency and
    /// Earn holdings per currency. One of the last three that the key may not read (KuCoin's
    /// 400007: no Margin, Futures or Earn permission) or the account has not opened (a
    /// parameter error) is left out with a warning; any other failure fails the snapshot.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.server_now()?;
        let body = self.signed_get(&KucoinEndpoints::ACCOUNTS, &[], "fetching the balances")?;
        let mut records = parsing::parse_accounts(&body, as_of)?;
        let isolated = self
            .signed_get(
                &KucoinEndpoints::ISOLATED_ACCOUNTS,
                &[],
                "fetching the isolated margin balances",
            )
            .and_then(|body| parsing::parse_isolated(&body, as_of));
        records.extend(self.readable(isolated)?.into_iter().flatten());
        for currency in FUTURES_CURRENCIES {
            let what = format!("fetching the futures balance in {currency}");
            let futures = self
                .signed_get(
                    &KucoinEndpoints::FUTURES_OVERVIEW,
                    &[("currency", currency.to_owned())],
                    &what,
                )
                .and_then(|body| parsing::parse_futures_overview(&body, as_of));
            records.extend(self.readable(futures)?.into_iter().flatten());
        }
        let mut page = 1;
        let mut holdings = Vec::new();
        loop {
            let what = format!("fetching the Earn holdings (page {page})");
            let body = self.signed_get(
                &KucoinEndpoints::EARN_HOLDINGS,
                &[
                    ("currentPage", page.to_string()),
                    ("pageSize", PAGE_SIZE.to_string()),
                ],
                &what,
            );
            let parsed = match self.readable(body.and_then(|b| parsing::parse_earn_page(&b)))? {
                Some(p) => p,
                None => break,
            };
            holdings.extend(parsed.0);
            if page >= parsed.1 {
                break;
            }
            page += 1;
        }
        records.extend(parsing::earn_balances(holdings, as_of)?);
        Ok(Page::done(records))
    }

    /// `Some` of a wallet's result, `None` where the key may not read that wallet.
    fn readable<T>(&self, result: Result<T, PluginError>) -> Result<Option<T>, PluginError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::PERMISSION || e.kind == ErrorKind::CONFIG => {
                self.host.warn(&format!(
                    "Leaving a wallet out of the balances ({}): {}",
                    self.config.integration, e.message
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The walk rules of a windowed stream at `now`.
    fn rules(&self, stream: Stream, now: i64) -> WalkRules {
        match stream {
            Stream::Ledger => WalkRules {
                floor_ms: now - LEDGER_LOOKBACK_MS,
                overlap_ms: SETTLE_OVERLAP_MS,
            },
            Stream::Deposits | Stream::Withdrawals => WalkRules {
                floor_ms: CLASSIC_HISTORY_FLOOR_MS,
                overlap_ms: self.config.transfer_overlap_ms,
            },
            _ => WalkRules {
                floor_ms: CLASSIC_HISTORY_FLOOR_MS,
                overlap_ms: SETTLE_OVERLAP_MS,
            },
        }
    }

    /// One page of a windowed history stream.
    fn fetch_window(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let rules = self.rules(stream, now);
        let request = self
            .pager
            .window_request(cursor, stream.as_str(), rules, now)?;
        let endpoint = match stream {
            Stream::Trades => &KucoinEndpoints::FILLS,
            Stream::Orders => &KucoinEndpoints::ORDERS,
            Stream::Deposits => &KucoinEndpoints::DEPOSITS,
            Stream::Withdrawals => &KucoinEndpoints::WITHDRAWALS,
            _ => &KucoinEndpoints::LEDGERS,
        };
        if let Some(order_id) = request.settling() {
            let path = KucoinEndpoints::order_path(order_id);
            let what = format!(
                "fetching order {order_id}, no longer active ({})",
                KucoinEndpoints::ORDER.name
            );
            let body = self.signed_get_path(&KucoinEndpoints::ORDER, &path, &what)?;
            let record = parsing::parse_order(&body)?;
            let paged = Paged {
                records: vec![record],
                total_page: 1,
                next_last_id: None,
            };
            return Ok(self
                .pager
                .window_page(&request, paged, None, rules, true, now));
        }
        let (params, what) = window_params(endpoint, stream, &request);
        let body = self.signed_get(endpoint, &params, &what)?;
        let (paged, pending): (Paged, Option<i64>) = match stream {
            Stream::Trades => (parsing::parse_fills(&body)?, None),
            // Orders that stay active are followed by id, not by a pending time.
            Stream::Orders => (parsing::parse_orders(&body)?.0, None),
            Stream::Deposits => parsing::parse_deposits(&body)?,
            Stream::Withdrawals => parsing::parse_withdrawals(&body)?,
            _ => (parsing::parse_ledger(&body)?, None),
        };
        Ok(self.pager.window_page(
            &request,
            paged,
            pending,
            rules,
            stream == Stream::Orders,
            now,
        ))
    }

    /// One page of the high-frequency account's fills of `symbol`: 7-day windows, `lastId`
    /// pages within each.
    fn fetch_hf_fills(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_symbol(symbol)?;
        let now = self.server_now()?;
        let rules = self.rules(Stream::Trades, now);
        let request = self.pager.window_request(cursor, "trades", rules, now)?;
        let what = format!(
            "fetching the high-frequency fills of {symbol} ({}) for [{}, {}){}",
            KucoinEndpoints::HF_FILLS.name,
            request.from(),
            request.to(),
            request
                .cursor
                .last_id
                .as_deref()
                .map(|id| format!(" below id {id}"))
                .unwrap_or_default()
        );
        let body = self.signed_get(
            &KucoinEndpoints::HF_FILLS,
            &request.hf_params(symbol),
            &what,
        )?;
        let paged = parsing::parse_hf_fills(&body, HF_FILLS_LIMIT)
            .map_err(|e| e.context(format!("for {symbol}")))?;
        Ok(self
            .pager
            .window_page(&request, paged, None, rules, false, now))
    }

    /// One page of the high-frequency account's orders of `symbol`: done orders in windows
    /// (`lastId` pages), then the active ones, then, one by one, those active last time and
    /// no longer.
    fn fetch_hf_orders(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_symbol(symbol)?;
        let now = self.server_now()?;
        let rules = self.rules(Stream::Orders, now);
        let request = self.pager.window_request(cursor, "orders", rules, now)?;
        let paged = if let Some(order_id) = request.settling() {
            let path = KucoinEndpoints::hf_order_path(order_id, symbol);
            let what = format!(
                "fetching high-frequency order {order_id} of {symbol}, no longer active ({})",
                KucoinEndpoints::HF_ORDER.name
            );
            let body = self.signed_get_path(&KucoinEndpoints::HF_ORDER, &path, &what)?;
            Paged {
                records: vec![parsing::parse_order(&body)?],
                total_page: 1,
                next_last_id: None,
            }
        } else if request.is_active_orders() {
            let what = format!(
                "fetching the active high-frequency orders of {symbol} ({})",
                KucoinEndpoints::HF_ORDERS_ACTIVE.name
            );
            let body = self.signed_get(
                &KucoinEndpoints::HF_ORDERS_ACTIVE,
                &[("symbol", symbol.to_owned())],
                &what,
            )?;
            parsing::parse_hf_orders_active(&body)?
        } else {
            let what = format!(
                "fetching the done high-frequency orders of {symbol} ({}) for [{}, {}){}",
                KucoinEndpoints::HF_ORDERS_DONE.name,
                request.from(),
                request.to(),
                request
                    .cursor
                    .last_id
                    .as_deref()
                    .map(|id| format!(" below id {id}"))
                    .unwrap_or_default()
            );
            let mut params = vec![("symbol", symbol.to_owned())];
            params.extend(request.last_id_params(HF_ORDERS_LIMIT));
            let body = self.signed_get(&KucoinEndpoints::HF_ORDERS_DONE, &params, &what)?;
            parsing::parse_hf_orders_done(&body, HF_ORDERS_LIMIT)?
        };
        Ok(self
            .pager
            .window_page(&request, paged, None, rules, true, now))
    }

    /// One page of the high-frequency account's ledger: windows, `lastId` pages within each.
    fn fetch_hf_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let rules = self.rules(Stream::Ledger, now);
        let request = self.pager.window_request(cursor, "ledger", rules, now)?;
        let what = format!(
            "fetching the high-frequency ledger ({}) for [{}, {}){}",
            KucoinEndpoints::HF_LEDGERS.name,
            request.from(),
            request.to(),
            request
                .cursor
                .last_id
                .as_deref()
                .map(|id| format!(" below id {id}"))
                .unwrap_or_default()
        );
        let params = request.last_id_params(HF_LEDGER_LIMIT);
        let body = self.signed_get(&KucoinEndpoints::HF_LEDGERS, &params, &what)?;
        let paged = parsing::parse_hf_ledger(&body, HF_LEDGER_LIMIT)?;
        Ok(self
            .pager
            .window_page(&request, paged, None, rules, false, now))
    }

    /// Whether the account has a high-frequency account (asked at most once an hour).
    fn hf_open(&self) -> Result<bool, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, open)) = self.state().hf_open {
            if now >= at && now - at < SYMBOLS_TTL_MS {
                return Ok(open);
            }
        }
        let body = self.signed_get(
            &KucoinEndpoints::HF_OPENED,
            &[],
            "asking whether a high-frequency account is open",
        )?;
        let open = parsing::parse_hf_opened(&body)?;
        self.state().hf_open = Some((now, open));
        Ok(open)
    }

    /// `GET /api/v2/symbols`, fetched at most once an hour per instance.
    fn markets(&self) -> Result<Arc<Vec<Market>>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, markets)) = &self.state().markets {
            if now >= *at && now - at < SYMBOLS_TTL_MS {
                return Ok(Arc::clone(markets));
            }
        }
        let body = self.public_get(&KucoinEndpoints::SYMBOLS, &[], "fetching the market list")?;
        let markets = Arc::new(parsing::parse_symbols(&body)?);
        self.state().markets = Some((now, Arc::clone(&markets)));
        Ok(markets)
    }

    /// Currencies with a non-zero balance in any account, for a first sync that knows no
    /// assets yet.
    fn held_assets(&self) -> Result<BTreeSet<String>, PluginError> {
        let body = self.signed_get(
            &KucoinEndpoints::ACCOUNTS,
            &[],
            "listing held currencies to choose the high-frequency symbols",
        )?;
        Ok(parsing::parse_accounts(&body, 0)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Balance(b) if !exsync_plugin_api::decimal::is_zero(&b.total) => {
                    Some(b.asset_native)
                }
                _ => None,
            })
            .collect())
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, tf, (kucoin_type, step)) = pagination::split_candle_partition(partition)
            .and_then(|(symbol, tf)| Some((symbol, tf, timeframe(tf)?)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"BASE-QUOTE:timeframe\" with a \
                     KuCoin candle type"
                ))
            })?;
        let request = self.pager.candles_request(cursor, step)?;
        let params = pagination::candles_params(symbol, kucoin_type, &request, step);
        let what = format!(
            "fetching {} for {symbol} {kucoin_type} from {}",
            KucoinEndpoints::CANDLES.name,
            request.start
        );
        let body = self.public_get(&KucoinEndpoints::CANDLES, &params, &what)?;
        let now = self.server_now()?;
        let candles = parsing::parse_candles(&body, symbol, tf, step, now)?;
        Ok(self.pager.candles_page(&request, step, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// KuCoin's clock minus ours, measured on first use.
    fn offset(&self) -> Result<i64, PluginError> {
        self.clock.offset(&self.host, || self.server_time())
    }

    /// Measures the offset now and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || self.server_time())
    }

    /// KuCoin's time, from `GET /api/v1/timestamp`.
    fn server_time(&self) -> Result<i64, PluginError> {
        let body = self.public_get(
            &KucoinEndpoints::TIMESTAMP,
            &[],
            "reading KuCoin's server time",
        )?;
        parsing::parse_timestamp(&body)
    }

    /// KuCoin's "now": our clock corrected by the offset.
    fn server_now(&self) -> Result<i64, PluginError> {
        Ok(signing::timestamp(self.host.now_ms(), self.offset()?))
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    fn request(&self, endpoint: &Endpoint, path_and_query: &str) -> HttpRequest {
        HttpRequest::get(self.endpoints.url(endpoint, path_and_query))
            .cost(endpoint.weight)
            .bucket(endpoint.pool)
    }

    /// An unsigned GET; the body of a success, else the mapped error.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let path = KucoinEndpoints::path_and_query(endpoint, query(params).as_str());
        let response = self.obeying_rate_limit(what, || {
            self.host
                .http(self.request(endpoint, &path))
                .map_err(|e| e.context(format!("while {what}")))
        })?;
        success(response, what)
    }

    /// A signed GET, sent again once with a fresh clock offset if KuCoin rejects the
    /// timestamp; a second rejection is a `clock` error.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let path = KucoinEndpoints::path_and_query(endpoint, query(params).as_str());
        self.signed_get_path(endpoint, &path, what)
    }

    /// A signed GET of `path` (with its query) on `endpoint`'s host and pool.
    fn signed_get_path(
        &self,
        endpoint: &Endpoint,
        path: &str,
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let offset = self.offset()?;
        let response = self.send_signed(endpoint, path, offset, what)?;
        if response.is_success()
            || parsing::error_code(&response.body).as_deref() != Some(INVALID_TIMESTAMP)
        {
            return success(response, what);
        }
        self.host.warn(&format!(
            "KuCoin rejected our timestamp while {what}; measuring the clock offset again \
             and retrying once ({}).",
            self.config.integration
        ));
        let offset = self.measure_offset()?;
        let response = self.send_signed(endpoint, path, offset, what)?;
        success(response, what).map_err(|e| again_after_measuring(e, "KuCoin", offset))
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        path: &str,
        offset: i64,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        self.obeying_rate_limit(what, || {
            // Signed with a timestamp: rebuilt for every attempt, never resent as is.
            self.host
                .http_retrying(|| {
                    let timestamp = signing::timestamp(self.host.now_ms(), offset);
                    let mut request = self.request(endpoint, path);
                    for (name, value) in self.signer.headers(timestamp, "GET", path, "") {
                        request = request.header(name, value);
                    }
                    Ok(request)
                })
                .map_err(|e| e.context(format!("while {what}")))
        })
    }

    /// Sends with `send` until the answer is not a 429, for as long as KuCoin's
    /// `gw-ratelimit-reset` says the pool needs (at most [`MAX_RATE_LIMIT_WAIT_MS`]).
    ///
    /// The plugin has no way to sleep: the pause between tries is the host's, which blocks
    /// the pool's budget after every 429 (it honours `Retry-After`, which KuCoin does not
    /// send, and otherwise backs off). A pool still exhausted after that is `rate_limited`.
    fn obeying_rate_limit(
        &self,
        what: &str,
        mut send: impl FnMut() -> Result<HttpResponse, PluginError>,
    ) -> Result<HttpResponse, PluginError> {
        let started = self.host.now_ms();
        loop {
            let response = send()?;
            if response.status != 429 {
                return Ok(response);
            }
            let reset_ms = response
                .header(RESET_HEADER)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(QUOTA_WINDOW_MS as i64);
            let waited = self.host.now_ms() - started;
            if waited + reset_ms > MAX_RATE_LIMIT_WAIT_MS {
                return Err(PluginError::new(
                    ErrorKind::RATE_LIMITED,
                    format!(
                        "while {what}: KuCoin's rate limit (HTTP 429) still holds after {} s, \
                         resetting in {reset_ms} ms; the next scheduled sync continues",
                        waited / 1000
                    ),
                ));
            }
            self.host.debug(&format!(
                "KuCoin answered 429 while {what}; the pool resets in {reset_ms} ms."
            ));
        }
    }
}

/// A high-frequency partition's symbol must be one: `hf:BASE-QUOTE`.
fn require_symbol(symbol: &str) -> Result<(), PluginError> {
    if symbol.is_empty() || symbol.contains(|c: char| c.is_whitespace() || c == ':') {
        return Err(PluginError::plugin(format!(
            "partition \"hf:{symbol}\" is not \"hf:BASE-QUOTE\""
        )));
    }
    Ok(())
}

/// The parameters and the "while doing what" of a windowed request.
fn window_params(
    endpoint: &Endpoint,
    stream: Stream,
    request: &WindowRequest,
) -> (Vec<(&'static str, String)>, String) {
    if request.is_active_orders() {
        let page = request.cursor.active_page.unwrap_or(1);
        return (
            vec![
                ("status", "active".to_owned()),
                ("currentPage", page.to_string()),
                ("pageSize", PAGE_SIZE.to_string()),
            ],
            format!(
                "fetching the active orders ({}, page {page})",
                endpoint.name
            ),
        );
    }
    let mut params = Vec::new();
    if stream == Stream::Orders {
        params.push(("status", "done".to_owned()));
    }
    params.extend(request.params());
    let what = format!(
        "fetching {stream} ({}) for [{}, {}) page {}",
        endpoint.name,
        request.from(),
        request.to(),
        request.page()
    );
    (params, what)
}

fn query(params: &[(&str, String)]) -> exsync_plugin_api::signing::Query {
    let mut q = exsync_plugin_api::signing::Query::new();
    for (k, v) in params {
        q.push(k, v);
    }
    q
}

/// A `clock` error met again right after measuring the exchange's clock says so: its time
/// endpoint and its signature check disagree, and only the host's clock can be fixed.
pub(crate) fn again_after_measuring(err: PluginError, exchange: &str, offset: i64) -> PluginError {
    if err.kind != ErrorKind::CLOCK {
        return err;
    }
    PluginError::clock(format!(
        "{}; {exchange} rejected our timestamp again after its clock was measured anew \
         ({offset} ms from ours): synchronise this host's clock",
        err.message
    ))
}

/// The body of a 2xx answer; otherwise KuCoin's error, mapped to its kind. (A 200 with an
/// error code in its envelope is mapped when the body is parsed.)
fn success(response: HttpResponse, what: &str) -> Result<Vec<u8>, PluginError> {
    if response.is_success() {
        Ok(response.body)
    } else {
        Err(parsing::classify_error(
            response.status,
            &response.body,
            what,
        ))
    }
}
