//! The `coinbase-prime` connector: the pure modules wired to the host.
//!
//! Every request is a signed GET scoped to the configured portfolio, rebuilt with a fresh
//! timestamp for every attempt. Prime has no server-time endpoint: its clock is read from the
//! `Date` header of its answers, which `check` reports and which tells a refused timestamp
//! (`clock`) from a refused key (`auth`). The only state of an instance is that clock's
//! offset: timestamps are signed on Prime's clock, and a refused timestamp is followed by one
//! new reading of the offset (from the refusal's `Date`) and one retry; a second refusal is a
//! `clock` error.

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::signing::Query;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, Host, HttpRequest,
    HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError, RateLimit, Record,
    Stream,
};

use crate::config::CoinbasePrimeConfig;
use crate::endpoints::{
    granularity, CoinbasePrimeEndpoints, Endpoint, API_HOSTS, BALANCE_TYPES, BUCKET_PORTFOLIO,
    DEFAULT_BASE_URL, DEPOSIT_TYPES, FCM_WALLET, PLUGIN_ID, PORTFOLIO_REQUESTS_PER_SECOND,
    RATE_WINDOW_MS, TIMEFRAMES, WITHDRAWAL_TYPES,
};
use crate::pagination::{self, CoinbasePrimePager};
use crate::parsing::{self, TransactionView};
use crate::signing::{self, CoinbasePrimeSigner};

/// One Coinbase Prime portfolio, as an integration sees it.
pub struct CoinbasePrimeConnector {
    /// Prime's clock as ours sees it, from the `Date` of a refusal.
    clock: ServerClock,
    host: Host,
    config: CoinbasePrimeConfig,
    endpoints: CoinbasePrimeEndpoints,
    signer: CoinbasePrimeSigner,
    pager: CoinbasePrimePager,
}

fn credential(name: &str, label: &str, secret: bool) -> CredentialField {
    CredentialField {
        name: name.into(),
        label: label.into(),
        secret,
        optional: false,
    }
}

impl Connector for CoinbasePrimeConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(PLUGIN_ID, "Coinbase Prime", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            credential("portfolio_id", "Portfolio ID", false),
            credential("api_key", "Access Key", false),
            credential("passphrase", "Passphrase", true),
            credential("api_secret", "Signing Key", true),
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
        // No public sandbox: the host refuses `sandbox = true` without a base_url override,
        // and the connector refuses it with one.
        m.sandbox_base_url = None;
        m.rate_limits = vec![RateLimit {
            bucket: BUCKET_PORTFOLIO.into(),
            capacity: PORTFOLIO_REQUESTS_PER_SECOND,
            window_ms: RATE_WINDOW_MS,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        }];
        // Prime documents no lookback limit and no maximum time window for its lists: a walk
        // reaches back to the configured start in cursor pages.
        m.history = Vec::new();
        m.timeframes = TIMEFRAMES.iter().map(|t| t.0.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let config = CoinbasePrimeConfig::from_connector_config(&config)?;
        Ok(CoinbasePrimeConnector {
            endpoints: CoinbasePrimeEndpoints::new(&config.base_url, &config.portfolio_id),
            signer: CoinbasePrimeSigner::new(
                &config.access_key,
                &config.passphrase,
                &config.signing_key,
            ),
            pager: CoinbasePrimePager {
                start_ms: config.start_ms,
                page_limit: config.page_limit,
            },
            config,
            clock: ServerClock::new(),
            host,
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let what = format!("reading portfolio {}", self.config.portfolio_id);
        let (response, offset) =
            self.signed_response(&CoinbasePrimeEndpoints::PORTFOLIO, &[], &what)?;
        let body = success(response, offset, &what)?;
        let portfolio = parsing::parse_portfolio(&body)?;
        let mut account = format!(
            "Coinbase Prime portfolio {:?} ({})",
            portfolio.name, portfolio.id
        );
        if let Some(entity) = portfolio
            .entity_name
            .as_ref()
            .or(portfolio.entity_id.as_ref())
        {
            account.push_str(&format!(", entity {entity:?}"));
        }
        Ok(CheckReport {
            account,
            permissions: Permissions {
                read: Some(true),
                trade: None,
                withdraw: None,
            },
            clock_offset_ms: offset.map(|residual| residual + self.applied_offset()),
            notes: vec![
                "Coinbase Prime's REST API does not tell an API key's trade and withdraw rights; \
                 give exsync a read-only key"
                    .into(),
            ],
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        match stream {
            // Prime's histories are portfolio-wide lists: nothing to split by symbol.
            Stream::Balances
            | Stream::Trades
            | Stream::Orders
            | Stream::Deposits
            | Stream::Withdrawals
            | Stream::Ledger => Ok(vec![String::new()]),
            Stream::Candles => Ok(self
                .config
                .candles
                .iter()
                .map(|(product, tf)| pagination::candle_partition(product, tf))
                .collect()),
            other => Err(PluginError::unsupported(format!(
                "the coinbase-prime plugin has no {other} stream"
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
            Stream::Trades
            | Stream::Orders
            | Stream::Deposits
            | Stream::Withdrawals
            | Stream::Ledger => self.fetch_list(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the coinbase-prime plugin has no {other} stream"
            ))),
        }
    }
}

impl CoinbasePrimeConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// One request per balance type; every record says its wallet.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let mut records = Vec::new();
        for (balance_type, wallet) in BALANCE_TYPES {
            let what = format!(
                "fetching the {wallet} balances of portfolio {} (balance_type={balance_type})",
                self.config.portfolio_id
            );
            let body = self.signed_get(
                &CoinbasePrimeEndpoints::BALANCES,
                &[("balance_type", balance_type.to_owned())],
                &what,
            )?;
            records.extend(parsing::parse_balances(&body, wallet, self.host.now_ms())?);
        }
        records.extend(self.fetch_fcm_balance()?);
        Ok(Page::done(records))
    }

    /// The FCM (futures) balance of the portfolio's entity: the entity id from the portfolio,
    /// then its balance summary. Nothing when the portfolio names no entity, or when Prime
    /// answers 404 (the entity has no FCM account).
    ///
    /// unconfirmed: how Prime answers the balance summary of an entity without an FCM
    /// account; 404 is taken to mean "none", anything else fails the balances sync.
    fn fetch_fcm_balance(&self) -> Result<Vec<Record>, PluginError> {
        let what = format!(
            "reading the entity of portfolio {} for its futures balance",
            self.config.portfolio_id
        );
        let body = self.signed_get(&CoinbasePrimeEndpoints::PORTFOLIO, &[], &what)?;
        let Some(entity_id) = parsing::parse_portfolio(&body)?
            .entity_id
            .filter(|e| !e.is_empty())
        else {
            return Ok(Vec::new());
        };
        let what = format!("fetching the futures (FCM) balance of entity {entity_id}");
        let path = self
            .endpoints
            .entity_path(&CoinbasePrimeEndpoints::FCM_BALANCE, &entity_id);
        let (response, offset) = self.signed_response_at(&path, &[], &what)?;
        if response.status == 404 {
            return Ok(Vec::new());
        }
        let body = success(response, offset, &what)?;
        parsing::parse_fcm_balance(&body, FCM_WALLET, self.host.now_ms())
    }

    /// One page of a time-sorted list walk: fills, orders or transactions.
    fn fetch_list(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self.pager.walk_request(cursor, stream.as_str())?;
        // Without internal transfers, the `INTERNAL_*` types are not asked for.
        let internal = self.config.internal_transfers;
        let types = |list: &[&str]| -> Vec<(&'static str, String)> {
            list.iter()
                .filter(|t| internal || !t.starts_with("INTERNAL_"))
                .map(|t| ("types", t.to_string()))
                .collect()
        };
        let (endpoint, time_param, extra) = match stream {
            Stream::Trades => (&CoinbasePrimeEndpoints::FILLS, "start_date", Vec::new()),
            Stream::Orders => (&CoinbasePrimeEndpoints::ORDERS, "start_date", Vec::new()),
            Stream::Deposits => (
                &CoinbasePrimeEndpoints::TRANSACTIONS,
                "start_time",
                types(&DEPOSIT_TYPES),
            ),
            Stream::Withdrawals => (
                &CoinbasePrimeEndpoints::TRANSACTIONS,
                "start_time",
                types(&WITHDRAWAL_TYPES),
            ),
            _ => (
                &CoinbasePrimeEndpoints::TRANSACTIONS,
                "start_time",
                Vec::new(),
            ),
        };
        let params = self.pager.walk_params(&request, time_param, &extra);
        let what = format!(
            "fetching {stream} of portfolio {} ({}) from {}{}",
            self.config.portfolio_id,
            endpoint.name,
            exsync_plugin_api::time::format_rfc3339_ms(request.since),
            if request.cursor.is_some() {
                ", next page"
            } else {
                ""
            }
        );
        let body = self.signed_get(endpoint, &params, &what)?;
        let page = match stream {
            Stream::Trades => parsing::parse_fills(&body)?,
            Stream::Orders => parsing::parse_orders(&body)?,
            Stream::Deposits => parsing::parse_transactions(&body, TransactionView::Deposits)?,
            Stream::Withdrawals => {
                parsing::parse_transactions(&body, TransactionView::Withdrawals)?
            }
            _ => parsing::parse_transactions(&body, TransactionView::Ledger)?,
        };
        Ok(self.pager.walk_page(&request, page, self.host.now_ms()))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (product, timeframe, granularity, step) = pagination::split_candle_partition(partition)
            .and_then(|(p, tf)| granularity(tf).map(|(g, step)| (p, tf, g, step)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"PRODUCT:timeframe\" with a Coinbase \
                     Prime timeframe"
                ))
            })?;
        let now = self.host.now_ms();
        let request = self.pager.candles_request(cursor, step, now)?;
        let what = format!(
            "fetching {timeframe} candles of {product} from {}",
            exsync_plugin_api::time::format_rfc3339_s(request.start)
        );
        let body = self.signed_get(
            &CoinbasePrimeEndpoints::CANDLES,
            &request.params(product, granularity),
            &what,
        )?;
        let candles = parsing::parse_candles(&body, product, timeframe, step, self.host.now_ms())
            .map_err(|e| e.context(format!("for {product} {timeframe}")))?;
        Ok(self.pager.candles_page(&request, candles))
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// A signed GET; the body of a 2xx answer, else Prime's error mapped to its kind.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let (response, offset) = self.signed_response(endpoint, params, what)?;
        success(response, offset, what)
    }

    /// Sends a signed GET (a fresh timestamp and signature for every attempt) on Prime's
    /// clock as last read, and how far Prime's clock (the answer's `Date`) still is from that.
    /// A refused timestamp is followed by one new reading of the clock from the refusal's
    /// `Date` and one retry.
    fn signed_response(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<(HttpResponse, Option<i64>), PluginError> {
        self.signed_response_at(&self.endpoints.path(endpoint), params, what)
    }

    /// [`Self::signed_response`] for an already resolved path.
    fn signed_response_at(
        &self,
        path: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<(HttpResponse, Option<i64>), PluginError> {
        let mut query = Query::new();
        for (key, value) in params {
            query.push(key, value);
        }
        let url = self.endpoints.url_of(path, query.as_str());
        debug_assert_eq!(signing::signed_path(&url), path);
        let (response, server) = self.send_signed(&url, path, what)?;
        let residual = self.residual(server);
        let refused = !response.is_success()
            && parsing::classify_error(response.status, &response.body, residual, what).kind
                == ErrorKind::CLOCK;
        let Some(server) = server.filter(|_| refused) else {
            return Ok((response, residual));
        };
        let offset = self.clock.measure(&self.host, || Ok(server))?;
        self.host.warn(&format!(
            "Coinbase Prime refused our timestamp while {what}; following its clock (its Date \
             header, {offset} ms from ours) and retrying once ({}).",
            self.config.integration
        ));
        let (response, server) = self.send_signed(&url, path, what)?;
        Ok((response, self.residual(server)))
    }

    /// One signed GET, and Prime's time when it answered (its `Date`).
    fn send_signed(
        &self,
        url: &str,
        path: &str,
        what: &str,
    ) -> Result<(HttpResponse, Option<i64>), PluginError> {
        let offset = self.applied_offset();
        let response = self
            .host
            .http_retrying(|| {
                let timestamp = signing::timestamp_s(self.host.now_ms() + offset);
                let mut request = HttpRequest::get(url.to_owned())
                    .bucket(BUCKET_PORTFOLIO)
                    .header("Accept", "application/json");
                for (name, value) in self.signer.headers(timestamp, "GET", path, "") {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))?;
        let server = response.header("date").and_then(parsing::parse_http_date);
        Ok((response, server))
    }

    /// The offset our timestamps carry: Prime's clock minus ours as last read, else none.
    fn applied_offset(&self) -> i64 {
        self.clock.known().unwrap_or(0)
    }

    /// How far Prime's clock at `server` is from the one our timestamps follow.
    fn residual(&self, server: Option<i64>) -> Option<i64> {
        let received = self.host.now_ms() + self.applied_offset();
        server.map(|server| server - received)
    }
}

/// The body of a 2xx answer; otherwise Prime's error, mapped to its kind.
fn success(
    response: HttpResponse,
    offset: Option<i64>,
    what: &str,
) -> Result<Vec<u8>, PluginError> {
    if response.is_success() {
        Ok(response.body)
    } else {
        Err(parsing::classify_error(
            response.status,
            &response.body,
            offset,
            what,
        ))
    }
}
