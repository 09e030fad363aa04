//! Wiring for the `okx` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured once, lazily, before
//! the first signed request, and again after a `50102` timestamp rejection) and the account
//! level read from `account/config` (it decides which instrument types are walked).
//! Everything else is in the pure modules.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, HistoryLimit, Host, HttpRequest,
    HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError, RateLimit, RateScope,
    Stream,
};

use crate::config::OkxConfig;
use crate::endpoints::{
    bar, Endpoint, OkxEndpoints, ALGO_ORD_TYPES, ALGO_PARTITION_PREFIX, API_HOSTS,
    DEFAULT_BASE_URL, DEMO_HEADER, FUNDING_BILLS_FROM_MS, INSTRUMENTS_TTL_MS, INST_TYPES,
    LEDGER_FUNDING, LEDGER_TRADING, PAGE_LIMIT, SANDBOX_BASE_URL, THREE_MONTHS_MS, TIMEFRAMES,
    TIMESTAMP_WINDOW_MS, TRANSFERS_CRYPTO, TRANSFERS_FIAT,
};
use crate::pagination::{self, KeyKind, OkxPager, Phase};
use crate::parsing::{self, AccountConfig, Contracts};
use crate::signing::{self, OkxSigner};

/// OKX's "Timestamp request expired".
const TIMESTAMP_EXPIRED: &str = "50102";

/// One configured connection to one OKX account.
pub struct OkxConnector {
    /// OKX's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: OkxConfig,
    endpoints: OkxEndpoints,
    signer: OkxSigner,
    pager: OkxPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// `account/config`, read once per instance.
    account: Option<AccountConfig>,
    /// Contract values per instrument type, and when they were fetched (our clock).
    contracts: BTreeMap<String, (i64, Arc<Contracts>)>,
}

impl Connector for OkxConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("okx", "OKX", env!("CARGO_PKG_VERSION"));
        let field = |name: &str, label: &str, secret: bool, optional: bool| CredentialField {
            name: name.into(),
            label: label.into(),
            secret,
            optional,
        };
        m.credentials = vec![
            field("api_key", "API key", false, false),
            field("api_secret", "Secret key", true, false),
            field("passphrase", "Passphrase", true, false),
            field("sub_account", "Sub-account name", false, true),
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
        m.rate_limits = OkxEndpoints::ALL
            .iter()
            .map(|e| RateLimit {
                bucket: e.bucket.into(),
                capacity: e.limit,
                window_ms: e.window_ms,
                used_header: None,
                ban_statuses: Vec::new(),
                // OKX counts signed endpoints per user id, public ones per IP.
                scope: if e.signed {
                    RateScope::Key
                } else {
                    RateScope::Host
                },
                ..RateLimit::default()
            })
            .collect();
        let limit = |stream, lookback: Option<i64>, window: Option<i64>| HistoryLimit {
            stream,
            max_lookback_ms: lookback,
            max_window_ms: window,
        };
        m.history = vec![
            limit(Stream::Trades, Some(THREE_MONTHS_MS), None),
            limit(Stream::Orders, Some(THREE_MONTHS_MS), None),
            // The ledger's trading bills reach 3 months, its funding bills back to
            // 2021-02-01: each partition marks its own unavailable range.
            limit(Stream::Ledger, None, None),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(n, _, _)| n.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let okx = OkxConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(OkxConnector {
            host,
            endpoints: OkxEndpoints::new(&okx.base_url),
            signer: OkxSigner::new(&okx.api_key, &okx.api_secret, &okx.passphrase),
            pager: OkxPager {
                start_ms: okx.start_ms,
            },
            config: okx,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        // Always asked again: a check tests the key as it is now.
        self.state().account = None;
        let account = self.account_config()?;
        let mut notes = vec![format!(
            "account level {} ({})",
            account.acct_lv,
            account_level_name(&account.acct_lv)
        )];
        if self.config.demo {
            notes.push("demo trading (x-simulated-trading: 1)".into());
        }
        if !account.label.is_empty() {
            notes.push(format!("API key label {:?}", account.label));
        }
        let identity = match (&self.config.sub_account, account.is_sub_account()) {
            (Some(sub), _) => format!(
                "uid {} (sub-account {sub} of {})",
                account.uid, account.main_uid
            ),
            (None, true) => format!(
                "uid {} (a sub-account of {})",
                account.uid, account.main_uid
            ),
            (None, false) => format!("uid {}", account.uid),
        };
        Ok(CheckReport {
            account: identity,
            permissions: Permissions {
                read: Some(account.can("read_only") || account.can("trade")),
                trade: Some(account.can("trade")),
                withdraw: Some(account.can("withdraw")),
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
            Stream::Balances => Ok(vec![String::new()]),
            Stream::Deposits | Stream::Withdrawals => {
                Ok(vec![TRANSFERS_CRYPTO.into(), TRANSFERS_FIAT.into()])
            }
            Stream::Ledger => Ok(vec![LEDGER_TRADING.into(), LEDGER_FUNDING.into()]),
            Stream::Trades | Stream::Orders => {
                let account = self.account_config()?;
                let mut parts: Vec<String> = inst_types(&account.acct_lv)
                    .iter()
                    .map(|t| t.to_string())
                    .collect();
                if stream == Stream::Orders {
                    parts.extend(ALGO_ORD_TYPES.iter().map(|t| algo_partition(t)));
                }
                for known in &context.known {
                    if !known.is_empty() && !parts.contains(known) {
                        parts.push(known.clone());
                    }
                }
                Ok(parts)
            }
            Stream::Candles => Ok(pagination::candle_partitions(&self.config.candles)),
            other => Err(PluginError::unsupported(format!(
                "the okx plugin has no {other} stream"
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
            Stream::Deposits | Stream::Withdrawals if partition == TRANSFERS_FIAT => {
                self.fetch_fiat_transfers(stream, cursor)
            }
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Ledger => self.fetch_ledger(partition, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the okx plugin has no {other} stream"
            ))),
        }
    }
}

/// The instrument types an account level can trade: spot mode (`1`) trades spot only.
fn inst_types(acct_lv: &str) -> &'static [&'static str] {
    match acct_lv {
        "1" => &INST_TYPES[..1],
        _ => &INST_TYPES,
    }
}

fn account_level_name(acct_lv: &str) -> &'static str {
    match acct_lv {
        "1" => "spot mode",
        "2" => "spot and futures mode",
        "3" => "multi-currency margin",
        "4" => "portfolio margin",
        _ => "unknown account mode",
    }
}

/// The orders partition of the algo orders of `ord_type`: `algo:trigger`.
fn algo_partition(ord_type: &str) -> String {
    format!("{ALGO_PARTITION_PREFIX}{ord_type}")
}

fn require_inst_type(partition: &str, stream: Stream) -> Result<(), PluginError> {
    if INST_TYPES.contains(&partition) {
        Ok(())
    } else {
        Err(PluginError::plugin(format!(
            "{stream} partition {partition:?} is not an OKX instrument type ({})",
            INST_TYPES.join(", ")
        )))
    }
}

impl OkxConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// The trading, funding, Simple Earn (savings) and On-chain Earn (staking) accounts, in
    /// one snapshot.
    ///
    /// Not synced: ETH staking (BETH), structured products and the trading bot
    /// sub-portfolios; their holdings are visible only through the funding bills that moved
    /// them.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let body = self.signed_get(
            &OkxEndpoints::ACCOUNT_BALANCE,
            &[],
            "fetching the trading account balance",
        )?;
        let mut records = parsing::parse_trading_balance(&body, as_of)?;
        let body = self.signed_get(
            &OkxEndpoints::ASSET_BALANCES,
            &[],
            "fetching the funding account balances",
        )?;
        records.extend(parsing::parse_funding_balances(&body, as_of)?);
        let body = self.signed_get(
            &OkxEndpoints::SAVINGS_BALANCES,
            &[],
            "fetching the Simple Earn (savings) balances",
        )?;
        records.extend(parsing::parse_savings_balances(&body, as_of)?);
        let body = self.signed_get(
            &OkxEndpoints::STAKING_ORDERS_ACTIVE,
            &[],
            "fetching the On-chain Earn (staking) orders",
        )?;
        records.extend(parsing::parse_staking_balances(&body, as_of)?);
        Ok(Page::done(records))
    }

    fn fetch_trades(&self, inst_type: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_inst_type(inst_type, Stream::Trades)?;
        let now = self.server_now()?;
        let walk = self.pager.walk_request(cursor, "trades", now)?;
        let mut params = vec![("instType", inst_type.to_owned())];
        params.extend(walk.after_param());
        params.push(("limit", PAGE_LIMIT.to_string()));
        let what = format!(
            "fetching fills-history for {inst_type} after bill {}",
            walk.after().map_or("(newest)".into(), |a| a.to_string())
        );
        let body = self.signed_get(&OkxEndpoints::FILLS_HISTORY, &params, &what)?;
        let contracts = self.contracts(inst_type)?;
        let items = parsing::parse_fills(&body, &contracts)
            .map_err(|e| e.context(format!("for {inst_type}")))?;
        Ok(self
            .pager
            .walk_page(&walk, items, KeyKind::Id, Some(now - THREE_MONTHS_MS)))
    }

    /// Completed orders of the last 3 months, then the open ones; in an `algo:` partition,
    /// the algo orders of one `ordType` ([`Self::fetch_algo_orders`]).
    fn fetch_orders(&self, inst_type: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        if let Some(ord_type) = inst_type.strip_prefix(ALGO_PARTITION_PREFIX) {
            return self.fetch_algo_orders(ord_type, cursor);
        }
        require_inst_type(inst_type, Stream::Orders)?;
        let now = self.server_now()?;
        let walk = self.pager.walk_request(cursor, "orders", now)?;
        if walk.phase == Phase::Pending && !self.config.poll_open_orders {
            // Open orders are not polled: the pending list ends at once, unread.
            return Ok(self
                .pager
                .orders_page(&walk, Vec::new(), Some(now - THREE_MONTHS_MS)));
        }
        let endpoint = match walk.phase {
            Phase::History => &OkxEndpoints::ORDERS_ARCHIVE,
            Phase::Pending => &OkxEndpoints::ORDERS_PENDING,
        };
        let mut params = vec![("instType", inst_type.to_owned())];
        params.extend(walk.after_param());
        params.push(("limit", PAGE_LIMIT.to_string()));
        let what = format!(
            "fetching {} for {inst_type} after order {}",
            endpoint.path.trim_start_matches("/api/v5/"),
            walk.after().map_or("(newest)".into(), |a| a.to_string())
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let contracts = self.contracts(inst_type)?;
        let items = parsing::parse_orders(
            &body,
            endpoint.path.trim_start_matches("/api/v5/"),
            &contracts,
        )
        .map_err(|e| e.context(format!("for {inst_type}")))?;
        Ok(self
            .pager
            .orders_page(&walk, items, Some(now - THREE_MONTHS_MS)))
    }

    /// Algo orders of one `ordType` (triggers, TP/SL, OCO, trailing, iceberg, TWAP, chase):
    /// those done in the last 3 months, one walk per state, then those not yet triggered.
    /// The ordinary orders they place once triggered are synced in the instrument types'
    /// partitions.
    fn fetch_algo_orders(&self, ord_type: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        if !ALGO_ORD_TYPES.contains(&ord_type) {
            return Err(PluginError::plugin(format!(
                "orders partition {:?} names no OKX algo order type ({})",
                algo_partition(ord_type),
                ALGO_ORD_TYPES.join(" | ")
            )));
        }
        let now = self.server_now()?;
        let request = self.pager.algo_request(cursor, now)?;
        if request.history.is_none() && !self.config.poll_open_orders {
            // Open orders are not polled: the pending list ends at once, unread.
            return Ok(self
                .pager
                .algo_page(&request, Vec::new(), now - THREE_MONTHS_MS));
        }
        let mut params = vec![("ordType", ord_type.to_owned())];
        let endpoint = match &request.history {
            Some((state, _)) => {
                params.push(("state", (*state).to_owned()));
                &OkxEndpoints::ORDERS_ALGO_HISTORY
            }
            None => &OkxEndpoints::ORDERS_ALGO_PENDING,
        };
        params.extend(request.after().map(|a| ("after", a.to_owned())));
        params.push(("limit", PAGE_LIMIT.to_string()));
        let name = endpoint.path.trim_start_matches("/api/v5/");
        let what = format!(
            "fetching {name} for {ord_type}{} after algo order {}",
            request
                .history
                .as_ref()
                .map_or(String::new(), |(state, _)| format!(" ({state})")),
            request.after().unwrap_or("(newest)")
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let items = parsing::parse_algo_orders(&body, name)
            .map_err(|e| e.context(format!("for {ord_type}")))?;
        Ok(self.pager.algo_page(&request, items, now - THREE_MONTHS_MS))
    }

    /// The trading account's bills (`bills-archive`, 3 months) or the funding account's
    /// (`asset/bills-history`, since 2021-02-01, paged by bill id).
    fn fetch_ledger(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let walk = self.pager.walk_request(cursor, "ledger", now)?;
        let (endpoint, reach_from, mut params) = match partition {
            LEDGER_TRADING => (
                &OkxEndpoints::BILLS_ARCHIVE,
                now - THREE_MONTHS_MS,
                Vec::new(),
            ),
            LEDGER_FUNDING => (
                &OkxEndpoints::ASSET_BILLS_HISTORY,
                FUNDING_BILLS_FROM_MS,
                vec![("pagingType", "2".to_owned())],
            ),
            other => {
                return Err(PluginError::plugin(format!(
                    "ledger partition {other:?} is neither {LEDGER_TRADING:?} nor \
                     {LEDGER_FUNDING:?}"
                )))
            }
        };
        params.extend(walk.after_param());
        params.push(("limit", PAGE_LIMIT.to_string()));
        let what = format!(
            "fetching {} after bill {}",
            endpoint.path.trim_start_matches("/api/v5/"),
            walk.after().map_or("(newest)".into(), |a| a.to_string())
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let items = if partition == LEDGER_TRADING {
            parsing::parse_bills(&body)?
        } else {
            parsing::parse_funding_bills(&body)?
        };
        Ok(self
            .pager
            .walk_page(&walk, items, KeyKind::Id, Some(reach_from)))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let walk = self.pager.walk_request(cursor, stream.as_str(), now)?;
        let endpoint = if stream == Stream::Deposits {
            &OkxEndpoints::DEPOSIT_HISTORY
        } else {
            &OkxEndpoints::WITHDRAWAL_HISTORY
        };
        let mut params: Vec<(&str, String)> = walk.after_param().into_iter().collect();
        params.push(("limit", PAGE_LIMIT.to_string()));
        let what = format!(
            "fetching {} before {}",
            endpoint.path.trim_start_matches("/api/v5/"),
            walk.after()
                .map_or("(newest)".into(), |a| format!("ts {a}"))
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let items = if stream == Stream::Deposits {
            parsing::parse_deposits(&body)?
        } else {
            parsing::parse_withdrawals(&body)?
        };
        // OKX documents no lookback limit for deposit and withdrawal history.
        Ok(self.pager.walk_page(&walk, items, KeyKind::Time, None))
    }

    /// Fiat (bank) deposits or withdrawals, newest first by creation time (`before=`,
    /// inclusive).
    fn fetch_fiat_transfers(
        &self,
        stream: Stream,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let deposits = stream == Stream::Deposits;
        let walk = self
            .pager
            .walk_request(cursor, &format!("{stream} (fiat)"), now)?;
        let endpoint = if deposits {
            &OkxEndpoints::FIAT_DEPOSIT_HISTORY
        } else {
            &OkxEndpoints::FIAT_WITHDRAWAL_HISTORY
        };
        let mut params: Vec<(&str, String)> = walk.inclusive_before_param().into_iter().collect();
        params.push(("limit", PAGE_LIMIT.to_string()));
        let name = endpoint.path.trim_start_matches("/api/v5/");
        let what = format!(
            "fetching {name} before {}",
            walk.after()
                .map_or("(newest)".into(), |a| format!("cTime {a}"))
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let items = parsing::parse_fiat_transfers(&body, name, deposits)?;
        // OKX documents no lookback limit for its fiat order histories.
        Ok(self.pager.walk_page(&walk, items, KeyKind::Time, None))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (inst_id, timeframe, (okx_bar, bar_ms)) = pagination::split_candle_partition(partition)
            .and_then(|(i, t)| bar(t).map(|b| (i, t, b)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"INST-ID:timeframe\" with an OKX bar"
                ))
            })?;
        let request = self.pager.candles_request(cursor, bar_ms)?;
        let what = format!(
            "fetching history-candles for {inst_id} {timeframe} from {}",
            exsync_plugin_api::time::format_rfc3339_s(request.start)
        );
        let body = self.public_get(
            &OkxEndpoints::HISTORY_CANDLES,
            &request.params(inst_id, okx_bar),
            &what,
        )?;
        let candles = parsing::parse_candles(&body, inst_id, timeframe)?;
        let now = self.server_now()?;
        Ok(self.pager.candles_page(&request, candles, bar_ms, now))
    }

    /// The contract values of `inst_type`'s live instruments (none for spot and margin),
    /// fetched at most once an hour per instance.
    fn contracts(&self, inst_type: &str) -> Result<Arc<Contracts>, PluginError> {
        if matches!(inst_type, "SPOT" | "MARGIN") {
            return Ok(Arc::new(Contracts::new()));
        }
        let now = self.host.now_ms();
        if let Some((at, contracts)) = self.state().contracts.get(inst_type) {
            if now >= *at && now - at < INSTRUMENTS_TTL_MS {
                return Ok(Arc::clone(contracts));
            }
        }
        let body = self.public_get(
            &OkxEndpoints::INSTRUMENTS,
            &[("instType", inst_type.to_owned())],
            &format!("fetching the {inst_type} instruments (contract values)"),
        )?;
        let contracts = Arc::new(parsing::parse_instruments(&body)?);
        self.state()
            .contracts
            .insert(inst_type.to_owned(), (now, Arc::clone(&contracts)));
        Ok(contracts)
    }

    // -----------------------------------------------------------------------------------
    // Account.

    /// `account/config`, read once per instance; a key of the wrong account is a `config`
    /// error.
    fn account_config(&self) -> Result<AccountConfig, PluginError> {
        if let Some(account) = &self.state().account {
            return Ok(account.clone());
        }
        let body = self.signed_get(
            &OkxEndpoints::ACCOUNT_CONFIG,
            &[],
            "reading the account configuration",
        )?;
        let account = parsing::parse_account_config(&body)?;
        if let Some(sub) = &self.config.sub_account {
            if !account.is_sub_account() {
                return Err(PluginError::config(format!(
                    "the integration names sub-account {sub:?}, but the API key belongs to the \
                     main account (uid {}); use a key created in that sub-account",
                    account.uid
                )));
            }
        }
        self.state().account = Some(account.clone());
        Ok(account)
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// OKX's clock minus ours, measured on first use.
    fn offset(&self) -> Result<i64, PluginError> {
        match self.clock.known() {
            Some(offset) => Ok(offset),
            None => self.measure_offset(),
        }
    }

    /// Measures the offset now with `GET /api/v5/public/time`; an offset beyond
    /// `max_clock_offset_ms` is a `clock` error.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        let offset = self.clock.measure(&self.host, || {
            let body = self.public_get(&OkxEndpoints::TIME, &[], "reading OKX's server time")?;
            parsing::parse_server_time(&body)
        })?;
        if offset.abs() > self.config.max_clock_offset_ms {
            self.clock.forget();
            return Err(PluginError::clock(format!(
                "this host's clock is {} ms {} OKX's, more than the {} ms the connector corrects \
                 (option `max_clock_offset_ms`)",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
                self.config.max_clock_offset_ms
            )));
        }
        Ok(offset)
    }

    /// OKX's "now": our clock corrected by the offset.
    fn server_now(&self) -> Result<i64, PluginError> {
        Ok(signing::timestamp(self.host.now_ms(), self.offset()?))
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    fn request(&self, endpoint: &Endpoint, request_path: &str) -> HttpRequest {
        let mut request = HttpRequest::get(self.endpoints.url(request_path))
            .cost(1)
            .bucket(endpoint.bucket);
        if self.config.demo {
            request = request.header(DEMO_HEADER, "1");
        }
        request
    }

    /// An unsigned GET (the host may resend it as is); the body of a success, else the
    /// mapped error.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let path = OkxEndpoints::request_path(endpoint, signing::query(params).as_str());
        let response = self
            .host
            .http(self.request(endpoint, &path))
            .map_err(|e| e.context(format!("while {what}")))?;
        parsing::success(response.status, response.body, what)
    }

    /// A signed GET, retried once with a freshly measured clock offset if OKX rejects the
    /// timestamp (`50102`); a second rejection is a `clock` error.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let path = OkxEndpoints::request_path(endpoint, signing::query(params).as_str());
        let offset = self.offset()?;
        let mut response = self.send_signed(endpoint, &path, offset, what)?;
        if parsing::error_code(&response.body).is_some_and(|(code, _)| code == TIMESTAMP_EXPIRED) {
            self.host.warn(&format!(
                "OKX rejected our timestamp while {what}; measuring the clock offset again and \
                 retrying once ({}).",
                self.config.integration
            ));
            let offset = self.measure_offset()?;
            response = self.send_signed(endpoint, &path, offset, what)?;
            if let Some((TIMESTAMP_EXPIRED, message)) = parsing::error_code(&response.body)
                .as_ref()
                .map(|(c, m)| (c.as_str(), m.as_str()))
            {
                return Err(PluginError::clock(format!(
                    "OKX rejected our timestamp while {what} ({TIMESTAMP_EXPIRED} {message}) \
                     again after its clock was measured anew ({offset} ms off; it accepts {} \
                     s): synchronise this host's clock",
                    TIMESTAMP_WINDOW_MS / 1000
                )));
            }
        }
        parsing::success(response.status, response.body, what)
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        request_path: &str,
        offset: i64,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        // Signed with a timestamp: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let timestamp = signing::timestamp(self.host.now_ms(), offset);
                let mut request = self.request(endpoint, request_path);
                for (name, value) in self.signer.headers(timestamp, "GET", request_path, "") {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}
