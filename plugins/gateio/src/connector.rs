//! Wiring for the `gateio` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured by `check`, and when
//! Gate rejects a timestamp) and the futures contracts' multipliers (read once, again when a
//! contract is missing). Everything else is in the pure modules.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::window::{WindowRequest, WindowRule};
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, Record, Stream,
};
use serde_json::Value;

use crate::config::GateioConfig;
use crate::endpoints::{
    delivery_of_partition, futures_of_partition, interval_of, DeliveryEndpoints, Endpoint,
    FuturesEndpoints, GateioEndpoints, ACCOUNT_BOOK_LIMIT, API_HOSTS, BUCKET_ACCOUNTS,
    BUCKET_FUTURES, BUCKET_PUBLIC, BUCKET_SPOT, BUCKET_WALLET, DEFAULT_BASE_URL,
    DELIVERY_BOOK_LIMIT, DELIVERY_ORDERS_LIMIT, DELIVERY_TRADES_LIMIT, FUTURES, FUTURES_LIMIT,
    LIMIT_RESET_HEADER, MARGIN_BOOK_LIMIT, MAX_CLOCK_GAP_MS, MAX_LIMIT_WAIT_MS, MY_TRADES_LIMIT,
    OPEN_ORDERS_LIMIT, OPTIONS_BOOK_LIMIT, OPTIONS_LIMIT, ORDERS_LIMIT, PARTITION_DELIVERY_PREFIX,
    PARTITION_FUTURES_PREFIX, PARTITION_MARGIN, PARTITION_OPTIONS,
    PARTITION_OPTIONS_UNDERLYING_PREFIX, PARTITION_SPOT, PER_WINDOW, SANDBOX_BASE_URL, TIMEFRAMES,
    TRANSFER_LIMIT, WINDOW_30_DAYS_MS, WINDOW_MS,
};
use crate::pagination::{self, floor_second, window_params, GateioPager, Paging};
use crate::parsing::{self, AccountDetail, Contracts, ListPage};
use crate::signing::{self, GateioSigner};

/// Gate's label for a timestamp too far from its clock.
const REQUEST_EXPIRED: &str = "REQUEST_EXPIRED";
/// How long what `has_kind` learnt is trusted: an account kind opened since is found within
/// the hour.
const KINDS_TTL_MS: i64 = 3_600_000;
/// How long the underlyings of the options positions are trusted: the engine lists a
/// stream's partitions again after syncing them (to catch new ones), which this spares a
/// second request; a position opened since is seen at the next listing after it.
const UNDERLYINGS_TTL_MS: i64 = 300_000;
/// Gate's label for a rate limit passed.
const TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";

/// One configured connection to one Gate.io account.
pub struct GateioConnector {
    /// Gate's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: GateioConfig,
    endpoints: GateioEndpoints,
    signer: GateioSigner,
    pager: GateioPager,
    /// Futures contracts per settle currency, once read.
    contracts: Mutex<BTreeMap<&'static str, Arc<Contracts>>>,
    /// Whether the account has an account kind (by its endpoint's path), and when that was
    /// read (our clock): partitions ask at most hourly.
    kinds: Mutex<BTreeMap<&'static str, (i64, bool)>>,
    /// The underlyings of the options positions, and when they were read (our clock).
    underlyings: Mutex<Option<(i64, Vec<String>)>>,
}

impl Connector for GateioConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("gateio", "Gate.io", env!("CARGO_PKG_VERSION"));
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
        // Every answer says what the endpoint's window has left, its allowance, and when it
        // frees up (Gate's clock, ms).
        let bucket = |name: &str| {
            RateLimit::new(name, PER_WINDOW, WINDOW_MS).with_remaining_headers(
                crate::endpoints::LIMIT_REMAINING_HEADER,
                Some(crate::endpoints::LIMIT_HEADER),
                Some((
                    LIMIT_RESET_HEADER,
                    exsync_plugin_api::ResetFormat::EpochMillis,
                )),
            )
        };
        m.rate_limits = vec![
            bucket(BUCKET_PUBLIC),
            bucket(BUCKET_SPOT),
            bucket(BUCKET_WALLET),
            bucket(BUCKET_ACCOUNTS),
            bucket(BUCKET_FUTURES),
        ];
        let limit = |stream| HistoryLimit {
            stream,
            // unconfirmed: Gate documents no maximum lookback for these.
            max_lookback_ms: None,
            max_window_ms: Some(WINDOW_30_DAYS_MS),
        };
        m.history = vec![
            limit(Stream::Trades),
            limit(Stream::Orders),
            limit(Stream::Ledger),
            limit(Stream::Deposits),
            limit(Stream::Withdrawals),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let gate = GateioConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(GateioConnector {
            host,
            endpoints: GateioEndpoints::new(&gate.base_url),
            signer: GateioSigner::new(&gate.api_key, &gate.api_secret),
            pager: GateioPager::new(gate.start_ms, gate.transfer_overlap_ms),
            config: gate,
            clock: ServerClock::new(),
            contracts: Mutex::new(BTreeMap::new()),
            kinds: Mutex::new(BTreeMap::new()),
            underlyings: Mutex::new(None),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let detail = self.account_detail()?;
        let mut notes = vec![match detail.mode {
            Some(2) => "portfolio-margin (unified) account".to_owned(),
            Some(1) => "classic account".to_owned(),
            _ => "account mode not reported".to_owned(),
        }];
        // Gate's APIv4 does not tell a key's permissions; a read that succeeds proves `read`.
        notes.push("Gate does not report the key's trade and withdraw permissions".to_owned());
        if self.config.adjust_clock && offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Gate's; requests are signed with Gate's \
                 time (option adjust_clock)",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
            ));
        } else if offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Gate's; signed requests fail once that passes 60 s",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
            ));
        }
        Ok(CheckReport {
            account: detail
                .user_id
                .clone()
                .unwrap_or_else(|| "gateio account".into()),
            permissions: Permissions {
                read: Some(true),
                trade: None,
                withdraw: None,
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
            // Gate's wallet histories are account-wide: one partition.
            Stream::Balances | Stream::Deposits | Stream::Withdrawals => Ok(vec![String::new()]),
            // Trades, orders and the ledger are kept per account kind: spot (all pairs at
            // once, margin trades and orders included), futures per settle currency where
            // the account has that futures account, and for the ledger the isolated-margin
            // book where it has margin accounts.
            Stream::Trades | Stream::Orders | Stream::Ledger => {
                let mut parts = vec![PARTITION_SPOT.to_owned()];
                for futures in &FUTURES {
                    let partition = format!("{PARTITION_FUTURES_PREFIX}{}", futures.settle);
                    let what = format!("looking for a {}-settled futures account", futures.settle);
                    if context.known.contains(&partition)
                        || self.has_kind(&futures.accounts, &what, |_| true)?
                    {
                        parts.push(partition);
                    }
                }
                if stream == Stream::Ledger
                    && (context.known.iter().any(|k| k == PARTITION_MARGIN)
                        || self.has_kind(
                            &GateioEndpoints::MARGIN_ACCOUNTS,
                            "looking for isolated margin accounts",
                            |body| body.as_array().is_some_and(|a| !a.is_empty()),
                        )?)
                {
                    parts.push(PARTITION_MARGIN.to_owned());
                }
                // Options: the account book and the orders (every underlying at once) where
                // the account has an options account; the trades per underlying it holds.
                let has_options = stream != Stream::Trades
                    && (context.known.iter().any(|k| k == PARTITION_OPTIONS)
                        || self.has_kind(
                            &GateioEndpoints::OPTIONS_ACCOUNTS,
                            "looking for an options account",
                            |_| true,
                        )?);
                if has_options {
                    parts.push(PARTITION_OPTIONS.to_owned());
                }
                if stream == Stream::Trades {
                    parts.extend(self.options_trade_partitions(context)?);
                }
                // Delivery: the account book, the trades and the orders.
                for (settle, accounts) in GateioEndpoints::DELIVERY_ACCOUNTS {
                    let partition = format!("{PARTITION_DELIVERY_PREFIX}{settle}");
                    let what = format!("looking for a {settle}-settled delivery account");
                    if context.known.contains(&partition)
                        || self.has_kind(&accounts, &what, |_| true)?
                    {
                        parts.push(partition);
                    }
                }
                Ok(parts)
            }
            Stream::Candles => Ok(self
                .config
                .candles
                .iter()
                .map(|(pair, timeframe)| format!("{pair}:{timeframe}"))
                .collect()),
            other => Err(PluginError::unsupported(format!(
                "the gateio plugin has no {other} stream"
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
            Stream::Trades | Stream::Orders | Stream::Ledger
                if futures_of_partition(partition).is_some() =>
            {
                let futures = futures_of_partition(partition).expect("checked by the guard");
                self.fetch_futures(futures, stream, cursor)
            }
            Stream::Ledger if partition == PARTITION_MARGIN => self.fetch_margin_ledger(cursor),
            Stream::Ledger if partition == PARTITION_OPTIONS => self.fetch_options_ledger(cursor),
            Stream::Ledger if partition.starts_with(PARTITION_DELIVERY_PREFIX) => {
                self.fetch_delivery_ledger(partition, cursor)
            }
            Stream::Trades if delivery_of_partition(partition).is_some() => {
                let delivery = delivery_of_partition(partition).expect("checked by the guard");
                self.fetch_delivery_trades(delivery, cursor)
            }
            Stream::Orders if delivery_of_partition(partition).is_some() => {
                let delivery = delivery_of_partition(partition).expect("checked by the guard");
                self.fetch_delivery_orders(delivery, cursor)
            }
            Stream::Orders if partition == PARTITION_OPTIONS => self.fetch_options_orders(cursor),
            Stream::Trades
                if partition
                    .strip_prefix(PARTITION_OPTIONS_UNDERLYING_PREFIX)
                    .is_some_and(|u| !u.is_empty()) =>
            {
                let underlying = &partition[PARTITION_OPTIONS_UNDERLYING_PREFIX.len()..];
                self.fetch_options_trades(underlying, cursor)
            }
            Stream::Trades | Stream::Orders | Stream::Ledger
                if partition != PARTITION_SPOT && !partition.is_empty() =>
            {
                Err(PluginError::plugin(format!(
                    "{stream} partition {partition:?} is not {PARTITION_SPOT:?}, \
                     \"futures:usdt\", \"futures:btc\" or \"delivery:usdt\", (ledger only) \
                     {PARTITION_MARGIN:?}, (ledger and orders) {PARTITION_OPTIONS:?}, or \
                     (trades only) \"options:UNDERLYING\""
                )))
            }
            Stream::Trades => self.fetch_trades(cursor),
            Stream::Orders => self.fetch_orders(cursor),
            Stream::Ledger => self.fetch_ledger(cursor),
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the gateio plugin has no {other} stream"
            ))),
        }
    }
}

impl GateioConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// Every wallet: spot, isolated and cross margin (or, for a unified account, its `unified`
    /// wallet), perpetual futures per settle currency, delivery, options and Earn lending. A
    /// wallet the account never opened is skipped.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let mut records = Vec::new();
        let as_of = self.server_now();
        let body = self.signed_get(
            &GateioEndpoints::UNIFIED_MODE,
            &[],
            "reading the account's unified mode",
        )?;
        let mode = parsing::parse_unified_mode(&body)?;
        if mode == "classic" {
            let body = self.signed_get(
                &GateioEndpoints::SPOT_ACCOUNTS,
                &[],
                "fetching the spot accounts",
            )?;
            records.extend(parsing::parse_spot_accounts(&body, as_of)?);
            let body = self.signed_get(
                &GateioEndpoints::MARGIN_ACCOUNTS,
                &[],
                "fetching the isolated margin accounts",
            )?;
            records.extend(parsing::parse_margin_accounts(&body, as_of)?);
            let endpoint = GateioEndpoints::CROSS_MARGIN_ACCOUNTS;
            let what = "fetching the cross margin account";
            if let Some(body) = self.optional_account(&endpoint, what)? {
                records.extend(parsing::parse_balances_by_currency(
                    &body,
                    "cross_margin",
                    "margin/cross/accounts",
                    as_of,
                )?);
            }
        } else {
            // A unified account holds the spot and margin balances in one wallet.
            // unconfirmed: that `/spot/accounts` would repeat them (it is not read here).
            let body = self.signed_get(
                &GateioEndpoints::UNIFIED_ACCOUNTS,
                &[],
                &format!("fetching the unified account ({mode} mode)"),
            )?;
            records.extend(parsing::parse_balances_by_currency(
                &body,
                "unified",
                "unified/accounts",
                as_of,
            )?);
        }
        for FuturesEndpoints {
            settle,
            accounts: endpoint,
            ..
        } in FUTURES
        {
            let what = format!("fetching the {settle}-settled futures account");
            if let Some(body) = self.optional_account(&endpoint, &what)? {
                records.extend(parsing::parse_contract_account(
                    &body,
                    "futures",
                    endpoint.path,
                    as_of,
                )?);
            }
        }
        for (settle, endpoint) in GateioEndpoints::DELIVERY_ACCOUNTS {
            let what = format!("fetching the {settle}-settled delivery account");
            if let Some(body) = self.optional_account(&endpoint, &what)? {
                records.extend(parsing::parse_contract_account(
                    &body,
                    "delivery",
                    endpoint.path,
                    as_of,
                )?);
            }
        }
        let endpoint = GateioEndpoints::OPTIONS_ACCOUNTS;
        if let Some(body) = self.optional_account(&endpoint, "fetching the options account")? {
            records.extend(parsing::parse_contract_account(
                &body,
                "options",
                endpoint.path,
                as_of,
            )?);
        }
        let body = self.signed_get(
            &GateioEndpoints::EARN_LENDS,
            &[],
            "fetching the Earn lending positions",
        )?;
        records.extend(parsing::parse_uni_lends(&body, as_of)?);
        Ok(Page::done(records))
    }

    /// An account answer, or `None` where the account was never opened.
    fn optional_account(
        &self,
        endpoint: &Endpoint,
        what: &str,
    ) -> Result<Option<Value>, PluginError> {
        let response = self.send_signed_checked(endpoint, "", what)?;
        if parsing::is_account_absent(response.status, &response.body) {
            self.host.debug(&format!(
                "No such wallet while {what} ({}); skipped.",
                self.config.integration
            ));
            return Ok(None);
        }
        parsing::result(response.status, &response.body, what).map(Some)
    }

    fn fetch_trades(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "trades", now)?;
        let params = window_params(&request, Paging::Page, MY_TRADES_LIMIT);
        let what = window_what("spot trades", &request);
        let body = self.signed_get(&GateioEndpoints::MY_TRADES, &params, &what)?;
        let page = parsing::parse_my_trades(&body).map_err(|e| e.context(&what))?;
        Ok(self.window_page(rule, &request, Paging::Page, MY_TRADES_LIMIT, page, now))
    }

    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "orders", now)?;
        // unconfirmed: Gate documents `currency_pair` as required for open orders but optional
        // for finished ones; finished orders are read account-wide.
        let mut params = vec![("status", "finished".to_owned())];
        params.extend(window_params(&request, Paging::Page, ORDERS_LIMIT));
        let what = window_what("finished spot orders", &request);
        let body = self.signed_get(&GateioEndpoints::ORDERS, &params, &what)?;
        let mut page = parsing::parse_orders(&body).map_err(|e| e.context(&what))?;
        let has_next =
            pagination::next_page(&request, Paging::Page, page.returned, ORDERS_LIMIT).is_some();
        // Without polling open orders (`poll_open_orders = false`), the walk ends unread.
        if self.config.poll_open_orders
            && self
                .pager
                .walker
                .is_last_page(rule, &request, has_next, now)
        {
            // Finished orders are all the list serves: those still open come from the
            // open-orders endpoint, once per walk, and the next walk starts at the oldest.
            page.add_open(self.open_orders()?);
        }
        Ok(self.window_page(rule, &request, Paging::Page, ORDERS_LIMIT, page, now))
    }

    /// Every spot order open now (`/spot/open_orders`, all pages).
    fn open_orders(&self) -> Result<ListPage, PluginError> {
        let mut all = ListPage::default();
        for page in 1.. {
            let params = vec![
                ("page", page.to_string()),
                ("limit", OPEN_ORDERS_LIMIT.to_string()),
            ];
            let what = format!("fetching the open spot orders (page {page})");
            let body = self.signed_get(&GateioEndpoints::OPEN_ORDERS, &params, &what)?;
            let (got, full) = parsing::parse_open_orders(&body, OPEN_ORDERS_LIMIT)
                .map_err(|e| e.context(&what))?;
            all.oldest_open = match (all.oldest_open, got.oldest_open) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            all.records.extend(got.records);
            if !full {
                break;
            }
        }
        Ok(all)
    }

    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "ledger", now)?;
        // unconfirmed: ccxt sends `from` in ms here; Gate's docs say seconds, as everywhere.
        let params = window_params(&request, Paging::Page, ACCOUNT_BOOK_LIMIT);
        let what = window_what("the spot account book", &request);
        let body = self.signed_get(&GateioEndpoints::ACCOUNT_BOOK, &params, &what)?;
        let page = parsing::parse_account_book(&body).map_err(|e| e.context(&what))?;
        Ok(self.window_page(rule, &request, Paging::Page, ACCOUNT_BOOK_LIMIT, page, now))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.transfer_rule();
        let now = self.window_now();
        let request = self
            .pager
            .walker
            .request(rule, cursor, stream.as_str(), now)?;
        let deposits = stream == Stream::Deposits;
        let (endpoint, name) = if deposits {
            (&GateioEndpoints::DEPOSITS, "deposits")
        } else {
            (&GateioEndpoints::WITHDRAWALS, "withdrawals")
        };
        let params = window_params(&request, Paging::Offset, TRANSFER_LIMIT);
        let what = window_what(name, &request);
        let body = self.signed_get(endpoint, &params, &what)?;
        let page = parsing::parse_transfers(&body, deposits).map_err(|e| e.context(&what))?;
        Ok(self.window_page(rule, &request, Paging::Offset, TRANSFER_LIMIT, page, now))
    }

    /// Whether the account has the account kind `endpoint` answers for (it answers, and
    /// `holds` says so of the answer), asked at most once an hour per instance.
    fn has_kind(
        &self,
        endpoint: &Endpoint,
        what: &str,
        holds: impl Fn(&Value) -> bool,
    ) -> Result<bool, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, has)) = self.kinds_state().get(endpoint.path) {
            if (0..KINDS_TTL_MS).contains(&(now - at)) {
                return Ok(*has);
            }
        }
        let has = self
            .optional_account(endpoint, what)?
            .is_some_and(|b| holds(&b));
        self.kinds_state().insert(endpoint.path, (now, has));
        Ok(has)
    }

    fn kinds_state(&self) -> MutexGuard<'_, BTreeMap<&'static str, (i64, bool)>> {
        // As `contracts_state`: a poisoned lock is never seen by a live instance.
        self.kinds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The options account book: 30-day windows paged by `offset`.
    fn fetch_options_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "ledger", now)?;
        // unconfirmed: the options account book's widest window; 30 days as the others.
        let params = window_params(&request, Paging::Offset, OPTIONS_BOOK_LIMIT);
        let what = window_what("the options account book", &request);
        let body = self.signed_get(&GateioEndpoints::OPTIONS_ACCOUNT_BOOK, &params, &what)?;
        let page = parsing::parse_options_account_book(&body).map_err(|e| e.context(&what))?;
        Ok(self.window_page(
            rule,
            &request,
            Paging::Offset,
            OPTIONS_BOOK_LIMIT,
            page,
            now,
        ))
    }

    /// The delivery account book of partition `delivery:{settle}`: 30-day windows, a full page
    /// followed by the same window with `to` narrowed (Gate documents no page or offset here).
    fn fetch_delivery_ledger(
        &self,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let (settle, endpoint) = GateioEndpoints::DELIVERY_ACCOUNT_BOOK
            .iter()
            .find(|(settle, _)| partition.strip_prefix(PARTITION_DELIVERY_PREFIX) == Some(settle))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "ledger partition {partition:?} names no delivery settle currency Gate has"
                ))
            })?;
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "ledger", now)?;
        // unconfirmed: the delivery account book's widest window; 30 days as the futures one.
        let params = pagination::before_params(&request, DELIVERY_BOOK_LIMIT)?;
        let what = window_what(
            &format!("the delivery account book ({settle}-settled)"),
            &request,
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let page =
            parsing::parse_delivery_account_book(&body, settle).map_err(|e| e.context(&what))?;
        let oldest = page.records.iter().map(Record::timestamp).min();
        let next = pagination::next_before(&request, page.returned, DELIVERY_BOOK_LIMIT, oldest)
            .map_err(|e| e.context(&what))?;
        Ok(self
            .pager
            .walker
            .page(rule, &request, page.records, next, page.oldest_open, now))
    }

    /// The delivery trades of partition `delivery:{settle}`. Gate lists them newest first and
    /// pages by `last_id`, with no time window: one walk from the newest fill down to the
    /// newest one stored (the start, the first time), keyed by the trade id.
    /// unconfirmed: that the ids grow with time, that `last_id` returns the fills older than
    /// that id, and how far back the list reaches.
    fn fetch_delivery_trades(
        &self,
        delivery: &DeliveryEndpoints,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let settle = delivery.settle;
        let walker = self.pager.delivery_walker();
        let request = walker.request(cursor, "trades", self.window_now())?;
        let mut params = vec![("limit", DELIVERY_TRADES_LIMIT.to_string())];
        if let Some(last_id) = request.after() {
            params.push(("last_id", last_id.to_owned()));
        }
        let what = match request.after() {
            Some(last_id) => format!("delivery trades ({settle}-settled) before id {last_id}"),
            None => format!("delivery trades ({settle}-settled), the newest"),
        };
        let body = self.signed_get(&delivery.my_trades, &params, &what)?;
        let names = parsing::contracts_in(&body);
        let contracts = self.delivery_contracts(delivery, &names)?;
        let (page, keys) = parsing::parse_delivery_trades(&body, settle, &contracts)
            .map_err(|e| e.context(&what))?;
        Ok(pagination::delivery_page(
            &walker,
            &request,
            page,
            keys,
            DELIVERY_TRADES_LIMIT,
        ))
    }

    /// The delivery orders of partition `delivery:{settle}`. Gate lists them newest first by
    /// `status` (`open` or `finished`, required) and pages by `last_id`, with no time window:
    /// one walk of the finished orders from the newest down to the newest one stored (the
    /// start, the first time), keyed by the order id; its last page adds the orders open now,
    /// and the next walk reads down to the oldest of them again.
    /// unconfirmed: that order ids grow with time and that `last_id` lists the older orders.
    /// Gate drops an order cancelled without a fill from the list 10 minutes after: one that
    /// is cancelled between two syncs is never seen.
    fn fetch_delivery_orders(
        &self,
        delivery: &DeliveryEndpoints,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let settle = delivery.settle;
        let walker = self.pager.delivery_walker();
        let request = walker.request(cursor, "orders", self.window_now())?;
        let mut params = vec![
            ("status", "finished".to_owned()),
            ("limit", DELIVERY_ORDERS_LIMIT.to_string()),
        ];
        if let Some(last_id) = request.after() {
            params.push(("last_id", last_id.to_owned()));
        }
        let what = match request.after() {
            Some(last_id) => {
                format!("finished delivery orders ({settle}-settled) before id {last_id}")
            }
            None => format!("finished delivery orders ({settle}-settled), the newest"),
        };
        let body = self.signed_get(&delivery.orders, &params, &what)?;
        let contracts = self.delivery_contracts(delivery, &parsing::contracts_in(&body))?;
        let (page, keys) = parsing::parse_delivery_orders(&body, settle, &contracts)
            .map_err(|e| e.context(&what))?;
        let page = pagination::delivery_page(&walker, &request, page, keys, DELIVERY_ORDERS_LIMIT);
        if page.more {
            return Ok(page);
        }
        let (open, open_keys) = self.open_delivery_orders(delivery)?;
        pagination::with_open_orders(page, open, &open_keys)
    }

    /// Every delivery order of `delivery` open now (`status=open`, all pages by `last_id`),
    /// with their ids.
    fn open_delivery_orders(
        &self,
        delivery: &DeliveryEndpoints,
    ) -> Result<(Vec<Record>, Vec<i64>), PluginError> {
        let settle = delivery.settle;
        let (mut records, mut keys) = (Vec::new(), Vec::new());
        let mut last_id: Option<i64> = None;
        loop {
            let mut params = vec![
                ("status", "open".to_owned()),
                ("limit", DELIVERY_ORDERS_LIMIT.to_string()),
            ];
            if let Some(id) = last_id {
                params.push(("last_id", id.to_string()));
            }
            let what = format!("fetching the open delivery orders ({settle}-settled)");
            let body = self.signed_get(&delivery.orders, &params, &what)?;
            let contracts = self.delivery_contracts(delivery, &parsing::contracts_in(&body))?;
            let (page, page_keys) = parsing::parse_delivery_orders(&body, settle, &contracts)
                .map_err(|e| e.context(&what))?;
            let oldest = page_keys.iter().min().copied();
            let full = page.returned >= DELIVERY_ORDERS_LIMIT;
            records.extend(page.records);
            keys.extend(page_keys);
            match oldest {
                Some(oldest) if full && last_id.is_none_or(|l| oldest < l) => {
                    last_id = Some(oldest)
                }
                _ => break,
            }
        }
        Ok((records, keys))
    }

    /// The options-trade partitions: `options:{underlying}` for every underlying the account
    /// holds an options position on now (`GET /options/positions`), and every one synced
    /// before. Gate requires `underlying` for `GET /options/my_trades` and has no endpoint
    /// that lists the underlyings an account ever traded: one whose positions were all closed
    /// before the first sync is not found (see the crate doc).
    fn options_trade_partitions(
        &self,
        context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        let mut parts: Vec<String> = context
            .known
            .iter()
            .filter(|k| {
                k.strip_prefix(PARTITION_OPTIONS_UNDERLYING_PREFIX)
                    .is_some_and(|u| !u.is_empty())
            })
            .cloned()
            .collect();
        let what = "looking for an options account";
        if self.has_kind(&GateioEndpoints::OPTIONS_ACCOUNTS, what, |_| true)? {
            for underlying in self.options_underlyings()? {
                parts.push(format!("{PARTITION_OPTIONS_UNDERLYING_PREFIX}{underlying}"));
            }
        }
        parts.sort_unstable();
        parts.dedup();
        Ok(parts)
    }

    /// The underlyings of the options positions held now, read at most every
    /// [`UNDERLYINGS_TTL_MS`].
    fn options_underlyings(&self) -> Result<Vec<String>, PluginError> {
        let now = self.host.now_ms();
        let cached = self
            .underlyings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((at, underlyings)) = cached {
            if (0..UNDERLYINGS_TTL_MS).contains(&(now - at)) {
                return Ok(underlyings);
            }
        }
        let what = "listing the options positions (for their underlyings)";
        let body = self.signed_get(&GateioEndpoints::OPTIONS_POSITIONS, &[], what)?;
        let underlyings = parsing::parse_options_underlyings(&body).map_err(|e| e.context(what))?;
        // As `contracts_state`: a poisoned lock is never seen by a live instance.
        *self.underlyings.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((now, underlyings.clone()));
        Ok(underlyings)
    }

    /// The options trades of one underlying: 30-day windows paged by `offset`.
    fn fetch_options_trades(
        &self,
        underlying: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "trades", now)?;
        // unconfirmed: the options lists' widest window; 30 days as the futures ones.
        let mut params = vec![("underlying", underlying.to_owned())];
        params.extend(window_params(&request, Paging::Offset, OPTIONS_LIMIT));
        let what = window_what(&format!("options trades ({underlying})"), &request);
        let body = self.signed_get(&GateioEndpoints::OPTIONS_MY_TRADES, &params, &what)?;
        let page = parsing::parse_options_trades(&body).map_err(|e| e.context(&what))?;
        Ok(self.window_page(rule, &request, Paging::Offset, OPTIONS_LIMIT, page, now))
    }

    /// The options orders, every underlying at once: finished ones by 30-day windows paged by
    /// `offset`; the walk's last page adds those open now, and the next walk starts at the
    /// oldest of them.
    fn fetch_options_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "orders", now)?;
        let mut params = vec![("status", "finished".to_owned())];
        params.extend(window_params(&request, Paging::Offset, OPTIONS_LIMIT));
        let what = window_what("finished options orders", &request);
        let body = self.signed_get(&GateioEndpoints::OPTIONS_ORDERS, &params, &what)?;
        let mut page = parsing::parse_options_orders(&body).map_err(|e| e.context(&what))?;
        let has_next =
            pagination::next_page(&request, Paging::Offset, page.returned, OPTIONS_LIMIT).is_some();
        if self
            .pager
            .walker
            .is_last_page(rule, &request, has_next, now)
        {
            page.add_open(self.open_options_orders()?);
        }
        Ok(self.window_page(rule, &request, Paging::Offset, OPTIONS_LIMIT, page, now))
    }

    /// Every options order open now (`status=open`, no window, all pages by `offset`).
    fn open_options_orders(&self) -> Result<ListPage, PluginError> {
        let mut all = ListPage::default();
        let mut offset = 0;
        loop {
            let params = vec![
                ("status", "open".to_owned()),
                ("limit", OPTIONS_LIMIT.to_string()),
                ("offset", offset.to_string()),
            ];
            let what = format!("fetching the open options orders (offset {offset})");
            let body = self.signed_get(&GateioEndpoints::OPTIONS_ORDERS, &params, &what)?;
            let got = parsing::parse_options_orders(&body).map_err(|e| e.context(&what))?;
            all.oldest_open = match (all.oldest_open, got.oldest_open) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let full = got.returned >= OPTIONS_LIMIT;
            all.records.extend(got.records);
            if !full {
                break;
            }
            offset += OPTIONS_LIMIT;
        }
        Ok(all)
    }

    /// The contracts of `delivery`'s settle currency, read again when one of `names` is not
    /// known yet.
    fn delivery_contracts(
        &self,
        delivery: &DeliveryEndpoints,
        names: &[String],
    ) -> Result<Arc<Contracts>, PluginError> {
        let key = delivery.contracts.path;
        if let Some(c) = self.contracts_state().get(key) {
            if c.has_all(names.iter().map(String::as_str)) {
                return Ok(Arc::clone(c));
            }
        }
        let what = format!(
            "fetching the {}-settled delivery contracts",
            delivery.settle
        );
        let body = self.public_get(&delivery.contracts, &[], &what)?;
        let contracts = Arc::new(parsing::parse_contracts(&body).map_err(|e| e.context(&what))?);
        self.contracts_state().insert(key, Arc::clone(&contracts));
        Ok(contracts)
    }

    /// The isolated-margin account book: 30-day windows paged by `page`.
    fn fetch_margin_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self.pager.walker.request(rule, cursor, "ledger", now)?;
        // unconfirmed: the margin account book's widest window; 30 days as the spot one.
        let params = window_params(&request, Paging::Page, MARGIN_BOOK_LIMIT);
        let what = window_what("the margin account book", &request);
        let body = self.signed_get(&GateioEndpoints::MARGIN_ACCOUNT_BOOK, &params, &what)?;
        let page = parsing::parse_margin_account_book(&body).map_err(|e| e.context(&what))?;
        Ok(self.window_page(rule, &request, Paging::Page, MARGIN_BOOK_LIMIT, page, now))
    }

    /// Futures trades, orders or account book of one settle currency: 30-day windows paged by
    /// `offset`.
    fn fetch_futures(
        &self,
        futures: &FuturesEndpoints,
        stream: Stream,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let rule = self.pager.trade_rule();
        let now = self.window_now();
        let request = self
            .pager
            .walker
            .request(rule, cursor, stream.as_str(), now)?;
        let settle = futures.settle;
        let (endpoint, name) = match stream {
            Stream::Trades => (&futures.my_trades, "futures trades"),
            Stream::Orders => (&futures.orders, "futures orders"),
            _ => (&futures.account_book, "the futures account book"),
        };
        // unconfirmed: the futures histories' widest window; 30 days as the spot ones.
        // unconfirmed: that `orders_timerange` lists open orders beside finished ones (an open
        // one is read again by the next walk, which starts at the oldest still open).
        let params = window_params(&request, Paging::Offset, FUTURES_LIMIT);
        let what = window_what(&format!("{name} ({settle}-settled)"), &request);
        let body = self.signed_get(endpoint, &params, &what)?;
        let page = match stream {
            Stream::Ledger => parsing::parse_futures_account_book(&body, settle),
            _ => {
                let contracts = self.contracts(futures, &parsing::contracts_in(&body))?;
                if stream == Stream::Trades {
                    parsing::parse_futures_trades(&body, settle, &contracts)
                } else {
                    parsing::parse_futures_orders(&body, settle, &contracts)
                }
            }
        }
        .map_err(|e| e.context(&what))?;
        Ok(self.window_page(rule, &request, Paging::Offset, FUTURES_LIMIT, page, now))
    }

    /// The contracts of `futures`' settle currency, read again when one of `names` is not
    /// known yet.
    fn contracts(
        &self,
        futures: &FuturesEndpoints,
        names: &[String],
    ) -> Result<Arc<Contracts>, PluginError> {
        if let Some(c) = self.contracts_state().get(futures.settle) {
            if c.has_all(names.iter().map(String::as_str)) {
                return Ok(Arc::clone(c));
            }
        }
        let what = format!("fetching the {}-settled futures contracts", futures.settle);
        let body = self.public_get(&futures.contracts, &[], &what)?;
        let contracts = Arc::new(parsing::parse_contracts(&body).map_err(|e| e.context(&what))?);
        self.contracts_state()
            .insert(futures.settle, Arc::clone(&contracts));
        Ok(contracts)
    }

    fn contracts_state(&self) -> MutexGuard<'_, BTreeMap<&'static str, Arc<Contracts>>> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.contracts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn window_page(
        &self,
        rule: WindowRule,
        request: &WindowRequest,
        paging: Paging,
        limit: usize,
        page: ListPage,
        now: i64,
    ) -> Page {
        let next = pagination::next_page(request, paging, page.returned, limit);
        self.pager
            .walker
            .page(rule, request, page.records, next, page.oldest_open, now)
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (pair, timeframe, interval, interval_ms) =
            pagination::split_candle_partition(partition)
                .and_then(|(p, tf)| interval_of(tf).map(|i| (p, tf, i)))
                .and_then(|(p, tf, i)| pagination::interval_ms(i).map(|ms| (p, tf, i, ms)))
                .ok_or_else(|| {
                    PluginError::plugin(format!(
                        "candles partition {partition:?} is not \"PAIR:timeframe\" with a Gate \
                         timeframe"
                    ))
                })?;
        let now = self.server_now();
        let request = self.pager.candles_request(cursor, now)?;
        let (start, end) = GateioPager::candles_range(interval_ms, &request, now);
        let (from_s, to_s) = (start.div_euclid(1000), end.div_euclid(1000));
        // unconfirmed: whether Gate serves candles this far back for small intervals (some
        // sources say the last 10000 points only); a refusal is an error naming the request.
        let params = vec![
            ("currency_pair", pair.to_owned()),
            ("interval", interval.to_owned()),
            ("from", from_s.to_string()),
            ("to", to_s.to_string()),
        ];
        let what = format!("fetching {pair} {timeframe} candlesticks in [{from_s}, {to_s}] s");
        let body = self.public_get(&GateioEndpoints::CANDLESTICKS, &params, &what)?;
        let candles = parsing::parse_candlesticks(&body, pair, timeframe, interval_ms, now)
            .map_err(|e| e.context(&what))?;
        Ok(self
            .pager
            .candles_page(interval_ms, &request, end, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // Account and clock.

    fn account_detail(&self) -> Result<AccountDetail, PluginError> {
        let body = self.signed_get(
            &GateioEndpoints::ACCOUNT_DETAIL,
            &[],
            "checking the API key (account detail)",
        )?;
        parsing::parse_account_detail(&body)
    }

    /// Measures Gate's clock minus ours now with `GET /spot/time`, and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || {
            let body =
                self.public_get(&GateioEndpoints::TIME, &[], "reading Gate's server time")?;
            parsing::parse_server_time(&body)
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

    /// "Now" for finality: our clock, corrected where we follow Gate's.
    fn server_now(&self) -> i64 {
        self.host.now_ms() + self.applied_offset()
    }

    /// "Now" for history windows: [`Self::server_now`] floored to a whole second, as Gate's
    /// `from` and `to` are.
    fn window_now(&self) -> i64 {
        floor_second(self.server_now())
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET; the JSON of a successful answer.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Value, PluginError> {
        let query = signing::query(params);
        let request =
            HttpRequest::get(self.endpoints.url(endpoint, query.as_str())).bucket(endpoint.bucket);
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        if response.status == 429 {
            return Err(rate_limited(&response, endpoint, what));
        }
        parsing::result(response.status, &response.body, what)
    }

    /// A signed GET; the JSON of a successful answer.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Value, PluginError> {
        let query = signing::query(params);
        let response = self.send_signed_checked(endpoint, query.as_str(), what)?;
        parsing::result(response.status, &response.body, what)
    }

    /// A signed GET whose rate-limit and clock answers are dealt with: a 429 the host could
    /// not wait out is a `rate_limited` error with Gate's reset time (the engine waits and asks
    /// again); a rejected timestamp is retried once with Gate's clock when `adjust_clock` is
    /// set, and is otherwise a `clock` error that tells the offset. Any other answer is
    /// returned as it came.
    fn send_signed_checked(
        &self,
        endpoint: &Endpoint,
        query: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let mut clock_retried = false;
        loop {
            let response = self.send_signed(endpoint, query, what)?;
            let label = parsing::error_label(&response.body);
            if response.status == 429 || label.as_deref() == Some(TOO_MANY_REQUESTS) {
                return Err(rate_limited(&response, endpoint, what));
            }
            if label.as_deref() == Some(REQUEST_EXPIRED) {
                let offset = self.measure_offset()?;
                if self.config.adjust_clock && !clock_retried {
                    clock_retried = true;
                    self.host.warn(&format!(
                        "Gate rejected our timestamp while {what}; following its clock (offset \
                         {offset} ms) and retrying once ({}).",
                        self.config.integration
                    ));
                    continue;
                }
                let err = parsing::classify_error(response.status, &response.body, what);
                return Err(PluginError::clock(format!(
                    "{}; this host's clock is {} ms {} Gate's (Gate allows {} s): {hint}",
                    err.message,
                    offset.abs(),
                    if offset >= 0 { "behind" } else { "ahead of" },
                    MAX_CLOCK_GAP_MS / 1000,
                    hint = clock_hint(self.config.adjust_clock, "Gate")
                )));
            }
            return Ok(response);
        }
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        query: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let path = GateioEndpoints::full_path(endpoint);
        // Signed with a timestamp: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let timestamp = signing::timestamp_s(self.host.now_ms(), self.applied_offset());
                let mut request =
                    HttpRequest::get(self.endpoints.url(endpoint, query)).bucket(endpoint.bucket);
                for (name, value) in self.signer.headers(&path, query, timestamp) {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
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

/// The `rate_limited` error of a 429 answer, with how long Gate says to wait.
fn rate_limited(response: &HttpResponse, endpoint: &Endpoint, what: &str) -> PluginError {
    let err = parsing::classify_error(response.status, &response.body, what);
    let wait = limit_wait_ms(response, None);
    PluginError::new(
        ErrorKind::RATE_LIMITED,
        format!(
            "{}; Gate's limit for {} resets in {wait} ms",
            err.message, endpoint.path
        ),
    )
}

/// How long to wait after a 429: until `X-Gate-RateLimit-Reset-Timestamp` (Gate's clock, ms),
/// counted from `now` when known, within `[50 ms, MAX_LIMIT_WAIT_MS]`; a second without it.
pub(crate) fn limit_wait_ms(response: &HttpResponse, now: Option<i64>) -> u64 {
    let reset = response
        .header(LIMIT_RESET_HEADER)
        .and_then(|v| v.trim().parse::<i64>().ok());
    let wait = match (reset, now) {
        (Some(reset), Some(now)) => reset - now,
        _ => 1000,
    };
    wait.clamp(50, MAX_LIMIT_WAIT_MS) as u64
}

/// "fetching spot trades for [from, to)".
fn window_what(name: &str, request: &WindowRequest) -> String {
    let page = match request.page() {
        Some(p) => format!(" (page {p})"),
        None => String::new(),
    };
    format!(
        "fetching {name} for [{}, {}){page}",
        request.from(),
        request.to()
    )
}
