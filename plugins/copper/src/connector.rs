//! The `copper` connector: the pure modules wired to the host.
//!
//! Every request is a signed GET, rebuilt with a fresh millisecond timestamp for every
//! attempt. Copper documents no server-time endpoint: its clock is read from the `Date`
//! header of its answers, which `check` reports and which tells a refused timestamp
//! (`clock`) from a refused key (`auth`). The only state of an instance is that clock's
//! offset: timestamps are signed on Copper's clock, and a refused timestamp is followed by one
//! new reading of the offset (from the refusal's `Date`) and one retry; a second refusal is a
//! `clock` error.

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::signing::Query;
use exsync_plugin_api::time::format_rfc3339_s;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, RateScope, Stream,
};

use crate::config::CopperConfig;
use crate::endpoints::{
    CopperEndpoints, Endpoint, API_HOSTS, BUCKET_USER, DEFAULT_BASE_URL, DEPOSIT_ORDER_TYPES,
    ORDERS_WINDOW_MS, PLUGIN_ID, RATE_WINDOW_MS, SANDBOX_BASE_URL, TRADE_ORDER_TYPES,
    USER_REQUESTS_PER_WINDOW, WITHDRAWAL_ORDER_TYPES,
};
use crate::pagination::CopperPager;
use crate::parsing::{self, OrderView};
use crate::signing::{self, CopperSigner};

/// Pages of wallets one balances sync reads at most (a million wallets at 1000 a page): a
/// guard against a server that keeps answering full pages.
const MAX_WALLET_PAGES: usize = 1_000;

/// The streams Copper offers: no candles, it has no market data.
const STREAMS: [Stream; 6] = [
    Stream::Balances,
    Stream::Trades,
    Stream::Orders,
    Stream::Deposits,
    Stream::Withdrawals,
    Stream::Ledger,
];

/// One Copper organization, as an integration sees it.
pub struct CopperConnector {
    /// Copper's clock as ours sees it, from the `Date` of a refusal.
    clock: ServerClock,
    host: Host,
    config: CopperConfig,
    endpoints: CopperEndpoints,
    signer: CopperSigner,
    pager: CopperPager,
}

fn credential(name: &str, label: &str, secret: bool) -> CredentialField {
    CredentialField {
        name: name.into(),
        label: label.into(),
        secret,
        optional: false,
    }
}

impl Connector for CopperConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(PLUGIN_ID, "Copper", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            credential("api_key", "API Key", false),
            credential("api_secret", "API Secret", true),
        ];
        m.streams = STREAMS.to_vec();
        m.api_hosts = API_HOSTS.iter().map(|h| h.to_string()).collect();
        m.default_base_url = DEFAULT_BASE_URL.into();
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        m.rate_limits = vec![RateLimit {
            bucket: BUCKET_USER.into(),
            capacity: USER_REQUESTS_PER_WINDOW,
            window_ms: RATE_WINDOW_MS,
            used_header: None,
            ban_statuses: Vec::new(),
            // Copper counts these per (user, organisation): per key.
            scope: RateScope::Key,
            ..RateLimit::default()
        }];
        // No documented lookback limit; the window is this plugin's, over Copper's orders list.
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
            max_window_ms: Some(ORDERS_WINDOW_MS),
        })
        .collect();
        m.timeframes = Vec::new();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let config = CopperConfig::from_connector_config(&config)?;
        Ok(CopperConnector {
            endpoints: CopperEndpoints::new(&config.base_url),
            signer: CopperSigner::new(&config.api_key, &config.api_secret),
            pager: CopperPager::new(config.start_ms, config.page_limit),
            config,
            clock: ServerClock::new(),
            host,
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let what = "listing the portfolios the API key sees";
        let (response, offset) = self.signed_response(&CopperEndpoints::PORTFOLIOS, &[], what)?;
        let body = success(response, offset, what)?;
        let portfolios = parsing::parse_portfolios(&body)?;
        let organization = portfolios
            .iter()
            .find_map(|p| p.organization_id.clone())
            .unwrap_or_else(|| "?".into());
        let names: Vec<String> = portfolios
            .iter()
            .map(|p| format!("{:?} ({}, {})", p.name, p.portfolio_type, p.id))
            .collect();
        Ok(CheckReport {
            account: format!(
                "Copper organization {organization}: {} portfolio(s): {}",
                portfolios.len(),
                names.join(", ")
            ),
            permissions: Permissions {
                read: Some(true),
                trade: None,
                withdraw: None,
            },
            clock_offset_ms: offset.map(|residual| residual + self.applied_offset()),
            notes: vec![
                "Copper's API does not tell an API key's trade and withdraw rights; give \
                 exsync a read-only key"
                    .into(),
            ],
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        if STREAMS.contains(&stream) {
            // Copper's lists are organization-wide (every portfolio the key sees): nothing to
            // split by portfolio, currency or symbol.
            Ok(vec![String::new()])
        } else {
            Err(unsupported(stream))
        }
    }

    fn fetch(
        &self,
        stream: Stream,
        _partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        match stream {
            Stream::Balances => self.fetch_balances(),
            Stream::Trades => {
                self.fetch_orders(stream, OrderView::Trades, &TRADE_ORDER_TYPES, cursor)
            }
            Stream::Orders => {
                self.fetch_orders(stream, OrderView::Orders, &TRADE_ORDER_TYPES, cursor)
            }
            Stream::Deposits => {
                self.fetch_orders(stream, OrderView::Deposits, &DEPOSIT_ORDER_TYPES, cursor)
            }
            Stream::Withdrawals => self.fetch_orders(
                stream,
                OrderView::Withdrawals,
                &WITHDRAWAL_ORDER_TYPES,
                cursor,
            ),
            Stream::Ledger => self.fetch_orders(stream, OrderView::Ledger, &[], cursor),
            other => Err(unsupported(other)),
        }
    }
}

fn unsupported(stream: Stream) -> PluginError {
    PluginError::unsupported(format!(
        "the copper plugin has no {stream} stream (Copper publishes no market data)"
    ))
}

impl CopperConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// Every wallet page, in one go: balances are a snapshot.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let mut records = Vec::new();
        let mut offset = 0;
        for _ in 0..MAX_WALLET_PAGES {
            let what = format!("fetching wallets from offset {offset}");
            let body = self.signed_get(
                &CopperEndpoints::WALLETS,
                &[
                    ("limit", self.config.page_limit.to_string()),
                    ("offset", offset.to_string()),
                ],
                &what,
            )?;
            let page = parsing::parse_wallets(&body, self.host.now_ms())
                .map_err(|e| e.context(format!("at offset {offset}")))?;
            records.extend(page.records);
            if page.count < self.config.page_limit {
                return Ok(Page::done(records));
            }
            offset += page.count;
        }
        Err(PluginError::bad_response(format!(
            "while fetching wallets: Copper kept answering full pages past offset {offset}"
        )))
    }

    /// One page of an orders walk.
    fn fetch_orders(
        &self,
        stream: Stream,
        view: OrderView,
        order_types: &[&str],
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let now = self.host.now_ms();
        let request = self.pager.orders_request(cursor, stream.as_str(), now)?;
        let params = self.pager.orders_params(&request, order_types)?;
        let what = format!(
            "fetching {stream} (Get Orders{}) created from {} to {}, offset {}",
            if order_types.is_empty() {
                String::new()
            } else {
                format!(" of types {}", order_types.join(","))
            },
            format_rfc3339_s(request.from()),
            format_rfc3339_s(request.to()),
            request.page().unwrap_or("0"),
        );
        let body = self.signed_get(&CopperEndpoints::ORDERS, &params, &what)?;
        let page = parsing::parse_orders(&body, view).map_err(|e| e.context(&what))?;
        Ok(self.pager.orders_page(&request, page, self.host.now_ms()))
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// A signed GET; the body of a 2xx answer, else Copper's error mapped to its kind.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let (response, offset) = self.signed_response(endpoint, params, what)?;
        success(response, offset, what)
    }

    /// Sends a signed GET (a fresh timestamp and signature for every attempt) on Copper's
    /// clock as last read, and how far Copper's clock (the answer's `Date`) still is from
    /// that. A refused timestamp is followed by one new reading of the clock from the
    /// refusal's `Date` and one retry.
    fn signed_response(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<(HttpResponse, Option<i64>), PluginError> {
        let mut query = Query::new();
        for (key, value) in params {
            query.push(key, value);
        }
        let url = self.endpoints.url(endpoint, query.as_str());
        let path = signing::signed_path(&url).to_owned();
        let (response, server) = self.send_signed(&url, &path, what)?;
        let residual = self.residual(server);
        let refused = !response.is_success()
            && parsing::classify_error(response.status, &response.body, residual, what).kind
                == ErrorKind::CLOCK;
        let Some(server) = server.filter(|_| refused) else {
            return Ok((response, residual));
        };
        let offset = self.clock.measure(&self.host, || Ok(server))?;
        self.host.warn(&format!(
            "Copper refused our timestamp while {what}; following its clock (its Date header, \
             {offset} ms from ours) and retrying once ({}).",
            self.config.integration
        ));
        let (response, server) = self.send_signed(&url, &path, what)?;
        Ok((response, self.residual(server)))
    }

    /// One signed GET, and Copper's time when it answered (its `Date`).
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
                let timestamp = self.host.now_ms() + offset;
                let mut request = HttpRequest::get(url.to_owned())
                    .bucket(BUCKET_USER)
                    .header("Accept", "application/json")
                    .header("Content-Type", "application/json");
                for (name, value) in self.signer.headers(timestamp, "GET", path, "") {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))?;
        let server = response.header("date").and_then(parsing::parse_http_date);
        Ok((response, server))
    }

    /// The offset our timestamps carry: Copper's clock minus ours as last read, else none.
    fn applied_offset(&self) -> i64 {
        self.clock.known().unwrap_or(0)
    }

    /// How far Copper's clock at `server` is from the one our timestamps follow.
    fn residual(&self, server: Option<i64>) -> Option<i64> {
        let received = self.host.now_ms() + self.applied_offset();
        server.map(|server| server - received)
    }
}

/// The body of a 2xx answer; otherwise Copper's error, mapped to its kind.
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
