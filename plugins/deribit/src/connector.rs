//! Wiring for the `deribit` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured by `check`, and when
//! Deribit rejects a timestamp), the nonce counter, and the account's currencies (read once
//! per instance from the account summaries). Everything else is in the pure modules.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::window::{WindowRequest, WindowRule};
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, PluginError, RateLimit, Record,
    Stream,
};
use serde_json::value::RawValue;

use crate::config::DeribitConfig;
use crate::endpoints::{
    resolution_of, DeribitEndpoints, Endpoint, API_HOSTS, AUTHORIZATION_HEADER, BUCKET_PRIVATE,
    BUCKET_PUBLIC, BUCKET_TRANSACTION_LOG, DEFAULT_BASE_URL, HISTORY_LIMIT_MS, LOG_COUNT,
    MAX_RECENT_PAGES, ORDERS_COUNT, RECENT_TRADES_MS, REQUESTS_PER_SECOND, SANDBOX_BASE_URL,
    SECOND_MS, TIMEFRAMES, TRADES_COUNT, TRANSACTION_LOG_PER_SECOND, TRANSFERS_COUNT, WINDOW_MS,
};
use crate::pagination::{self, DeribitPager, ListPage};
use crate::parsing::{self, Account};
use crate::signing::{self, DeribitSigner};

/// One configured connection to one Deribit account.
pub struct DeribitConnector {
    /// Deribit's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: DeribitConfig,
    endpoints: DeribitEndpoints,
    signer: DeribitSigner,
    pager: DeribitPager,
    /// Requests signed by this instance: the tail of each nonce.
    signed: AtomicU64,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// What the account summaries said, read once.
    account: Option<Account>,
}

impl Connector for DeribitConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("deribit", "Deribit", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "Client ID".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "Client Secret".into(),
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
        let bucket = |name: &str, capacity| RateLimit {
            bucket: name.into(),
            capacity,
            window_ms: SECOND_MS,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        };
        m.rate_limits = vec![
            bucket(BUCKET_PRIVATE, REQUESTS_PER_SECOND),
            bucket(BUCKET_PUBLIC, REQUESTS_PER_SECOND),
            bucket(BUCKET_TRANSACTION_LOG, TRANSACTION_LOG_PER_SECOND),
        ];
        let limit = |stream, window| HistoryLimit {
            stream,
            max_lookback_ms: HISTORY_LIMIT_MS,
            max_window_ms: window,
        };
        m.history = vec![
            limit(Stream::Trades, Some(WINDOW_MS)),
            limit(Stream::Ledger, Some(WINDOW_MS)),
            limit(Stream::Orders, None),
            limit(Stream::Deposits, None),
            limit(Stream::Withdrawals, None),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let deribit = DeribitConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(DeribitConnector {
            host,
            endpoints: DeribitEndpoints::new(&deribit.base_url),
            signer: DeribitSigner::new(&deribit.api_key, &deribit.api_secret),
            pager: DeribitPager::new(deribit.start_ms, deribit.transfer_overlap_ms),
            config: deribit,
            clock: ServerClock::new(),
            signed: AtomicU64::new(0),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let scope = self.fetch_scope()?;
        let (account, _) = self.fetch_account("checking the account")?;
        let mut notes = vec![
            format!("scope: {}", scope.text),
            format!("currencies: {}", account.currencies.join(", ")),
        ];
        if self.config.adjust_clock && offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Deribit's; requests are signed with Deribit's \
                 time (option adjust_clock)",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
            ));
        } else if offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Deribit's; signed requests fail once that grows",
                offset.abs(),
                if offset >= 0 { "behind" } else { "ahead of" }
            ));
        }
        let name = match (&account.username, &account.id) {
            (Some(u), Some(id)) => format!("{u} (id {id})"),
            (Some(u), None) => u.clone(),
            (None, Some(id)) => format!("id {id}"),
            (None, None) => "unknown".to_owned(),
        };
        Ok(CheckReport {
            account: name,
            permissions: scope.permissions,
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
            Stream::Balances => Ok(vec![String::new()]),
            // Everything Deribit keeps is per currency: the account's own, as its summaries
            // list them, and any partition already synced (a currency since emptied). Every
            // currency of the account is walked, so a spot pair's trades are found whichever
            // of its two currencies Deribit files them under (the store upserts a repeat).
            // unconfirmed: whether that is the base or the quote currency.
            Stream::Trades
            | Stream::Orders
            | Stream::Deposits
            | Stream::Withdrawals
            | Stream::Ledger => {
                let mut parts: BTreeSet<String> = self.account()?.currencies.into_iter().collect();
                parts.extend(context.known.iter().filter(|k| !k.is_empty()).cloned());
                Ok(parts.into_iter().collect())
            }
            Stream::Candles => Ok(self
                .config
                .candles
                .iter()
                .map(|(instrument, timeframe)| format!("{instrument}:{timeframe}"))
                .collect()),
            other => Err(PluginError::unsupported(format!(
                "the deribit plugin has no {other} stream"
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
            Stream::Trades => self.fetch_trades(currency(partition, stream)?, cursor),
            Stream::Ledger => self.fetch_ledger(currency(partition, stream)?, cursor),
            Stream::Orders => self.fetch_orders(currency(partition, stream)?, cursor),
            Stream::Deposits | Stream::Withdrawals => {
                self.fetch_transfers(stream, currency(partition, stream)?, cursor)
            }
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the deribit plugin has no {other} stream"
            ))),
        }
    }
}

impl DeribitConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// The `margin` balance of every currency, then the open positions of each (the
    /// `futures` and `options` wallets).
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let (account, mut records) = self.fetch_account("fetching the account summaries")?;
        for currency in &account.currencies {
            let as_of = self.server_now();
            let what = format!("fetching the {currency} positions");
            // No `kind`: positions of every kind.
            let params = [("currency", currency.clone())];
            records.extend(
                self.call(&DeribitEndpoints::POSITIONS, &params, &what, |r| {
                    parsing::parse_positions(r, as_of)
                })?,
            );
        }
        Ok(Page::done(records))
    }

    /// Trades of `currency`, windows walked with `historical=true`. Deribit serves a trade
    /// there only after a short indexing delay, and keeps the last 24 hours apart (without
    /// `historical`): the last page of every walk adds those recent trades, so a sync right
    /// after a fill still stores it.
    fn fetch_trades(&self, currency: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.window_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(rule, cursor, "trades", now)?;
        let start = pagination::trade_page_start(&request)?;
        let what = window_what("trades", currency, &request);
        let (mut records, has_more, last) =
            self.user_trades(currency, start, request.last_ms(), true, &what)?;
        let next = pagination::next_trade_page(start, last, has_more);
        if self
            .pager
            .walker
            .is_last_page(rule, &request, next.is_some(), now)
        {
            let from = request.from().max(now - RECENT_TRADES_MS);
            let mut page_start = from;
            for _ in 0..MAX_RECENT_PAGES {
                let what = format!("fetching recent {currency} trades from {page_start}");
                let (recent, more, last) =
                    self.user_trades(currency, page_start, now, false, &what)?;
                let ids: BTreeSet<String> = records.iter().map(Record::id).collect();
                records.extend(recent.into_iter().filter(|r| !ids.contains(&r.id())));
                match pagination::next_trade_page(page_start, last, more) {
                    Some(p) => page_start = p.parse().unwrap_or(now),
                    None => break,
                }
            }
        }
        Ok(self.window_page(rule, &request, records, next, now))
    }

    /// One page of `get_user_trades_by_currency_and_time`, oldest first.
    fn user_trades(
        &self,
        currency: &str,
        start: i64,
        end: i64,
        historical: bool,
        what: &str,
    ) -> Result<(Vec<Record>, bool, Option<i64>), PluginError> {
        let params = [
            ("currency", currency.to_owned()),
            ("kind", "any".to_owned()),
            ("start_timestamp", start.to_string()),
            ("end_timestamp", end.to_string()),
            ("count", TRADES_COUNT.to_string()),
            ("sorting", "asc".to_owned()),
            ("historical", historical.to_string()),
        ];
        self.call(
            &DeribitEndpoints::USER_TRADES,
            &params,
            what,
            parsing::parse_user_trades,
        )
    }

    fn fetch_ledger(&self, currency: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.window_rule();
        let now = self.server_now();
        let request = self.pager.walker.request(rule, cursor, "ledger", now)?;
        let mut params = vec![
            ("currency", currency.to_owned()),
            ("start_timestamp", request.from().to_string()),
            ("end_timestamp", request.last_ms().to_string()),
            ("count", LOG_COUNT.to_string()),
        ];
        if let Some(page) = request.page() {
            params.push(("continuation", page.to_owned()));
        }
        let what = window_what("the transaction log", currency, &request);
        let (records, continuation) = self.call(
            &DeribitEndpoints::TRANSACTION_LOG,
            &params,
            &what,
            parsing::parse_transaction_log,
        )?;
        Ok(self.window_page(rule, &request, records, continuation, now))
    }

    fn window_page(
        &self,
        rule: WindowRule,
        request: &WindowRequest,
        records: Vec<Record>,
        next_page: Option<String>,
        now: i64,
    ) -> Page {
        self.pager
            .walker
            .page(rule, request, records, next_page, None, now)
    }

    /// The order history (`historical=true`), newest first, walked by offset until it
    /// reaches what the last walk saw. The walk's last page adds the orders Deribit keeps
    /// apart: those closed in the last 30 minutes (without `historical`) and those open now
    /// (which no history lists).
    fn fetch_orders(&self, currency: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self.pager.offset_request(cursor, "orders")?;
        let now = self.server_now();
        let what = format!(
            "fetching the {currency} order history at offset {}",
            request.offset
        );
        let mut page = self.order_history(currency, request.offset, true, &what)?;
        if self.pager.offset_done(&request, &page, ORDERS_COUNT) {
            let mut extra = Vec::new();
            let mut offset = 0;
            for _ in 0..MAX_RECENT_PAGES {
                let what =
                    format!("fetching the recent {currency} order history at offset {offset}");
                let recent = self.order_history(currency, offset, false, &what)?;
                let len = recent.len;
                extra.extend(recent.records);
                if len < ORDERS_COUNT {
                    break;
                }
                offset += len;
            }
            let what = format!("fetching the open {currency} orders");
            let open = self.call(
                &DeribitEndpoints::OPEN_ORDERS,
                &[
                    ("currency", currency.to_owned()),
                    ("kind", "any".to_owned()),
                ],
                &what,
                parsing::parse_orders,
            )?;
            extra.extend(open.records);
            // The newest state of an order wins: open, then recent, then historical.
            let mut by_id: BTreeMap<String, Record> = BTreeMap::new();
            for r in page.records.drain(..).chain(extra) {
                by_id.insert(r.id(), r);
            }
            page.records = by_id.into_values().collect();
        }
        Ok(self.pager.offset_page(&request, page, ORDERS_COUNT, now))
    }

    /// One page of `get_order_history_by_currency`, newest first. Orders still open never
    /// hold the resume point back: they are fetched again every walk.
    fn order_history(
        &self,
        currency: &str,
        offset: usize,
        historical: bool,
        what: &str,
    ) -> Result<ListPage, PluginError> {
        let params = [
            ("currency", currency.to_owned()),
            ("kind", "any".to_owned()),
            ("count", ORDERS_COUNT.to_string()),
            ("offset", offset.to_string()),
            ("include_unfilled", "true".to_owned()),
            ("historical", historical.to_string()),
        ];
        let mut page = self.call(
            &DeribitEndpoints::ORDER_HISTORY,
            &params,
            what,
            parsing::parse_orders,
        )?;
        page.open = None;
        Ok(page)
    }

    fn fetch_transfers(
        &self,
        stream: Stream,
        currency: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let request = self.pager.offset_request(cursor, stream.as_str())?;
        let now = self.server_now();
        let params = [
            ("currency", currency.to_owned()),
            ("count", TRANSFERS_COUNT.to_string()),
            ("offset", request.offset.to_string()),
        ];
        let page: ListPage = if stream == Stream::Deposits {
            let what = format!("fetching {currency} deposits at offset {}", request.offset);
            self.call(
                &DeribitEndpoints::DEPOSITS,
                &params,
                &what,
                parsing::parse_deposits,
            )?
        } else {
            let what = format!(
                "fetching {currency} withdrawals at offset {}",
                request.offset
            );
            self.call(
                &DeribitEndpoints::WITHDRAWALS,
                &params,
                &what,
                parsing::parse_withdrawals,
            )?
        };
        Ok(self.pager.offset_page(&request, page, TRANSFERS_COUNT, now))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (instrument, timeframe, resolution) = pagination::split_candle_partition(partition)
            .and_then(|(s, tf)| resolution_of(tf).map(|r| (s, tf, r)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"INSTRUMENT:timeframe\" with a \
                     Deribit resolution"
                ))
            })?;
        let step = pagination::resolution_ms(resolution);
        let now = self.server_now();
        let request = self.pager.candles_request(cursor)?;
        let (start, end) = DeribitPager::candles_range(step, &request, now);
        let params = [
            ("instrument_name", instrument.to_owned()),
            ("start_timestamp", start.to_string()),
            ("end_timestamp", end.to_string()),
            ("resolution", resolution.to_owned()),
        ];
        let what = format!("fetching {instrument} {timeframe} candles in [{start}, {end}]");
        let candles = self
            .call(&DeribitEndpoints::CHART, &params, &what, |r| {
                parsing::parse_chart(r, instrument, timeframe, step, now)
            })
            .map_err(|e| {
                // Deribit refuses the parameters of an instrument it does not list: that is
                // the integration's `[candles]` symbol, not this plugin.
                if e.kind == ErrorKind::PLUGIN {
                    PluginError::config(format!(
                        "{}; is {instrument:?} a Deribit instrument (\"BTC/USDT\" for a spot \
                         pair, \"BTC-PERPETUAL\" as Deribit names others)?",
                        e.message
                    ))
                } else {
                    e
                }
            })?;
        Ok(self.pager.candles_page(step, &request, end, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // Account.

    /// The account's currencies, read once per instance.
    fn account(&self) -> Result<Account, PluginError> {
        if let Some(account) = &self.state().account {
            return Ok(account.clone());
        }
        Ok(self.fetch_account("reading the account's currencies")?.0)
    }

    fn fetch_account(&self, what: &str) -> Result<(Account, Vec<Record>), PluginError> {
        let as_of = self.server_now();
        let (account, records) = self.call(
            &DeribitEndpoints::ACCOUNT_SUMMARIES,
            &[("extended", "true".to_owned())],
            what,
            |r| parsing::parse_account_summaries(r, as_of),
        )?;
        self.state().account = Some(account.clone());
        Ok((account, records))
    }

    /// `public/auth` with the `client_signature` grant: proves the key pair and names its
    /// scope (no other method tells a read-only key its scope). The tokens it answers with
    /// are not kept: every request is signed on its own. Only `check` asks, so an operator's
    /// tests open few of the sessions Deribit counts per key.
    /// unconfirmed: whether such a token, never used, counts against that limit at all.
    fn fetch_scope(&self) -> Result<parsing::Scope, PluginError> {
        let what = "checking the key (public/auth, client_signature)";
        let endpoint = DeribitEndpoints::AUTH;
        let response = self
            .host
            .http_retrying(|| {
                let ts = self.timestamp();
                let nonce = self.next_nonce(ts);
                let query = self.signer.client_signature_query(ts, &nonce);
                Ok(
                    HttpRequest::get(self.endpoints.url(&endpoint, query.as_str()))
                        .bucket(endpoint.bucket),
                )
            })
            .map_err(|e| e.context(format!("while {what}")))?;
        self.answer(&endpoint, response, what, parsing::parse_auth_scope)
            .map_err(|e| {
                if e.kind != ErrorKind::CLOCK {
                    return e;
                }
                let offset = self.clock.known().unwrap_or(0);
                PluginError::clock(format!(
                    "{}; this host's clock is {} ms {} Deribit's: {hint}",
                    e.message,
                    offset.abs(),
                    if offset >= 0 { "behind" } else { "ahead of" },
                    hint = clock_hint(self.config.adjust_clock)
                ))
            })
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Measures Deribit's clock minus ours now with `public/get_time`, and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || {
            self.call(
                &DeribitEndpoints::TIME,
                &[],
                "reading Deribit's server time",
                parsing::parse_server_time,
            )
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

    /// "Now" for windows and finality: our clock, corrected where we follow Deribit's.
    fn server_now(&self) -> i64 {
        signing::timestamp(self.host.now_ms(), self.applied_offset())
    }

    fn timestamp(&self) -> i64 {
        self.server_now()
    }

    fn next_nonce(&self, timestamp_ms: i64) -> String {
        signing::nonce(timestamp_ms, self.signed.fetch_add(1, Ordering::Relaxed))
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// Calls `endpoint` with `params` and parses its `result` with `parse`. A rejected
    /// timestamp is retried once with Deribit's clock when `adjust_clock` is set, and is
    /// otherwise a `clock` error that tells the offset.
    fn call<T>(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
        parse: impl Fn(&RawValue) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        let query = signing::query(params);
        let mut clock_retried = false;
        loop {
            let response = self.send(endpoint, query.as_str(), what)?;
            if endpoint.signed && !response.is_success() {
                let err = parsing::classify_error(response.status, &response.body, what);
                if err.kind == ErrorKind::CLOCK {
                    let offset = self.measure_offset()?;
                    if self.config.adjust_clock && !clock_retried {
                        clock_retried = true;
                        self.host.warn(&format!(
                            "Deribit rejected our timestamp while {what}; following its clock \
                             (offset {offset} ms) and retrying once ({}).",
                            self.config.integration
                        ));
                        continue;
                    }
                    return Err(PluginError::clock(format!(
                        "{}; this host's clock is {} ms {} Deribit's: {hint}",
                        err.message,
                        offset.abs(),
                        if offset >= 0 { "behind" } else { "ahead of" },
                        hint = clock_hint(self.config.adjust_clock)
                    )));
                }
            }
            return self.answer(endpoint, response, what, &parse);
        }
    }

    /// The parsed `result` of an answer, or the error it stands for.
    fn answer<T>(
        &self,
        endpoint: &Endpoint,
        response: HttpResponse,
        what: &str,
        parse: impl Fn(&RawValue) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        if parsing::error_code(&response.body) == Some(parsing::TOO_MANY_REQUESTS) {
            // The host already waited and retried; the engine tries the page again later.
            let err = parsing::classify_error(response.status, &response.body, what);
            return Err(PluginError::new(
                ErrorKind::RATE_LIMITED,
                format!(
                    "{}; Deribit's credit pool for {} is empty",
                    err.message, endpoint.method
                ),
            ));
        }
        let result = parsing::result(response.status, &response.body, what)?;
        parse(result).map_err(|e| e.context(format!("while {what}")))
    }

    fn send(
        &self,
        endpoint: &Endpoint,
        query: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let url = self.endpoints.url(endpoint, query);
        if !endpoint.signed {
            let request = HttpRequest::get(url).bucket(endpoint.bucket);
            return self
                .host
                .http(request)
                .map_err(|e| e.context(format!("while {what}")));
        }
        // Signed with a timestamp and a nonce: rebuilt for every attempt, never resent as is.
        let uri = self.endpoints.uri(endpoint, query);
        self.host
            .http_retrying(|| {
                let ts = self.timestamp();
                let nonce = self.next_nonce(ts);
                let authorization = self.signer.authorization(ts, &nonce, "GET", &uri, "");
                Ok(HttpRequest::get(url.clone())
                    .bucket(endpoint.bucket)
                    .header(AUTHORIZATION_HEADER, authorization))
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

/// What a `clock` error tells the operator to do. Following the exchange's clock
/// (`adjust_clock`, the default), a rejection that survives a fresh measurement means its
/// time endpoint and its signature check disagree: only the host's clock can be fixed.
fn clock_hint(adjust_clock: bool) -> String {
    if adjust_clock {
        "synchronise it (Deribit rejected us again after its clock was measured anew)".to_owned()
    } else {
        "synchronise it, or set option adjust_clock = true".to_owned()
    }
}

/// The currency a per-currency partition names.
fn currency(partition: &str, stream: Stream) -> Result<&str, PluginError> {
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(PluginError::plugin(format!(
            "{stream} partition {partition:?} is not a Deribit currency"
        )));
    }
    Ok(partition)
}

/// "fetching trades (BTC) for [from, to)".
fn window_what(name: &str, currency: &str, request: &WindowRequest) -> String {
    let page = if request.cursor.page.is_some() {
        " (a further page)"
    } else {
        ""
    };
    format!(
        "fetching {name} ({currency}) for [{}, {}){page}",
        request.from(),
        request.to()
    )
}
