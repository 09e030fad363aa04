//! The `falconx` connector: the pure modules wired to the host.
//!
//! Every request is a signed GET, rebuilt with a fresh timestamp and signature for every
//! attempt. FalconX has no server-time endpoint: its clock is read from the `Date` header of
//! its answers, which `check` reports and which tells a refused timestamp (`clock`) from a
//! refused key (`auth`). The only state of an instance is that clock's offset: timestamps are
//! signed on FalconX's clock, and a refused timestamp is followed by one new reading of the
//! offset (from the refusal's `Date`) and one retry; a second refusal is a `clock` error.

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::signing::Query;
use exsync_plugin_api::time::format_rfc3339_ms;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, Record, Stream,
};

use crate::config::FalconxConfig;
use crate::endpoints::{
    Endpoint, FalconxEndpoints, API_HOSTS, BUCKET_KEY, DEFAULT_BASE_URL, KEY_REQUESTS_PER_WINDOW,
    PLUGIN_ID, RATE_WINDOW_MS, WINDOW_MS,
};
use crate::pagination::{FalconxPager, DERIVATIVES_PARTITION};
use crate::parsing::{self, TransferView};
use crate::signing::{self, FalconxSigner};

/// The streams FalconX serves. No ledger (FalconX has no ledger endpoint) and no candles (an
/// RFQ venue publishes no market data).
const STREAMS: [Stream; 5] = [
    Stream::Balances,
    Stream::Trades,
    Stream::Orders,
    Stream::Deposits,
    Stream::Withdrawals,
];

/// One FalconX account, as an integration sees it.
pub struct FalconxConnector {
    /// FalconX's clock as ours sees it, from the `Date` of a refusal.
    clock: ServerClock,
    host: Host,
    config: FalconxConfig,
    endpoints: FalconxEndpoints,
    signer: FalconxSigner,
    pager: FalconxPager,
}

fn credential(name: &str, label: &str, secret: bool) -> CredentialField {
    CredentialField {
        name: name.into(),
        label: label.into(),
        secret,
        optional: false,
    }
}

fn unsupported(stream: Stream) -> PluginError {
    PluginError::unsupported(format!(
        "FalconX serves no {stream} stream (the falconx plugin offers balances, trades, orders, \
         deposits and withdrawals)"
    ))
}

impl Connector for FalconxConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(PLUGIN_ID, "FalconX", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            credential("api_key", "API Key", false),
            credential("api_secret", "Secret", true),
            credential("passphrase", "Passphrase", true),
        ];
        m.streams = STREAMS.to_vec();
        m.api_hosts = API_HOSTS.iter().map(|h| h.to_string()).collect();
        m.default_base_url = DEFAULT_BASE_URL.into();
        // No public sandbox: the host refuses `sandbox = true` without a base_url override,
        // and the connector refuses it with one.
        m.sandbox_base_url = None;
        m.rate_limits = vec![RateLimit {
            bucket: BUCKET_KEY.into(),
            capacity: KEY_REQUESTS_PER_WINDOW,
            window_ms: RATE_WINDOW_MS,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        }];
        // No documented lookback limit; the window is the connector's own (see endpoints).
        m.history = [
            Stream::Trades,
            Stream::Orders,
            Stream::Deposits,
            Stream::Withdrawals,
        ]
        .into_iter()
        .map(|stream| HistoryLimit {
            stream,
            max_lookback_ms: None,
            max_window_ms: Some(WINDOW_MS),
        })
        .collect();
        m.timeframes = Vec::new();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let config = FalconxConfig::from_connector_config(&config)?;
        Ok(FalconxConnector {
            endpoints: FalconxEndpoints::new(&config.base_url),
            signer: FalconxSigner::new(&config.api_key, &config.passphrase, &config.secret),
            pager: FalconxPager::new(config.start_ms),
            config,
            clock: ServerClock::new(),
            host,
        })
    }

    /// Reads the balances: the key works when FalconX answers them. FalconX's API does not
    /// tell a key's trade and withdraw rights.
    fn check(&self) -> Result<CheckReport, PluginError> {
        let what = "reading the balances to test the key";
        let (response, offset) = self.signed_response(&FalconxEndpoints::BALANCES, &[], what)?;
        let body = success(response, offset, what)?;
        let balances = parsing::parse_balances(&body, self.host.now_ms())?;
        let mut platforms: Vec<String> = balances
            .iter()
            .filter_map(|r| match r {
                Record::Balance(b) => Some(b.wallet.clone()),
                _ => None,
            })
            .collect();
        platforms.sort();
        platforms.dedup();
        Ok(CheckReport {
            account: format!(
                "FalconX account of integration {} (platforms: {})",
                self.config.integration,
                if platforms.is_empty() {
                    "none yet".to_owned()
                } else {
                    platforms.join(", ")
                }
            ),
            permissions: Permissions {
                read: Some(true),
                trade: None,
                withdraw: None,
            },
            clock_offset_ms: offset.map(|residual| residual + self.applied_offset()),
            notes: vec![
                "FalconX's API does not tell an API key's trade and withdraw rights, nor name \
                 the account; ask FalconX for a read-only key"
                    .into(),
            ],
        })
    }

    fn partitions(
        &self,
        stream: Stream,
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        // Every FalconX list is account-wide (all platforms unless one is named). Trades
        // come from two lists: executed quotes (`""`) and derivative trades.
        if stream == Stream::Trades {
            Ok(vec![String::new(), DERIVATIVES_PARTITION.to_owned()])
        } else if STREAMS.contains(&stream) {
            Ok(vec![String::new()])
        } else {
            Err(unsupported(stream))
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
            Stream::Trades if partition == DERIVATIVES_PARTITION => self.fetch_derivative_trades(),
            Stream::Trades | Stream::Orders | Stream::Deposits | Stream::Withdrawals => {
                self.fetch_window(stream, cursor)
            }
            other => Err(unsupported(other)),
        }
    }
}

impl FalconxConnector {
    /// The balances of every platform, and the margin held for derivatives. An account
    /// without derivatives may be refused the margins (403, 404): it then has none.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let what = "fetching the balances of every platform";
        let body = self.signed_get(&FalconxEndpoints::BALANCES, &[], what)?;
        let mut records = parsing::parse_balances(&body, self.host.now_ms())?;
        let what = "fetching the margin held for derivatives";
        let (response, offset) =
            self.signed_response(&FalconxEndpoints::DERIVATIVES_MARGINS, &[], what)?;
        if matches!(response.status, 403 | 404) {
            self.host.info(&format!(
                "FalconX refused the derivatives margins (HTTP {}): the account has no \
                 derivatives margin to sync.",
                response.status
            ));
        } else {
            let body = success(response, offset, what)?;
            records.extend(parsing::parse_derivatives_margins(
                &body,
                self.host.now_ms(),
            )?);
        }
        Ok(Page::done(records))
    }

    /// Every derivative trade, read whole: the options become trades, other products are
    /// named in a warning (see `parsing::parse_derivative_trades`). An account without
    /// derivatives may be refused the list (403, 404): it then has no derivative trades.
    fn fetch_derivative_trades(&self) -> Result<Page, PluginError> {
        let what = "fetching the derivative trades (Get Derivatives)";
        let (response, offset) = self.signed_response(&FalconxEndpoints::DERIVATIVES, &[], what)?;
        if matches!(response.status, 403 | 404) {
            self.host.info(&format!(
                "FalconX refused the derivative trades (HTTP {}): the account has no \
                 derivative trades to sync.",
                response.status
            ));
            return Ok(self.pager.whole_page(Vec::new(), self.host.now_ms()));
        }
        let body = success(response, offset, what)?;
        let parsed = parsing::parse_derivative_trades(&body, Some(self.pager.start_ms()))
            .map_err(|e| e.context(format!("while {what}")))?;
        if !parsed.left_out.is_empty() {
            let names: Vec<String> = parsed
                .left_out
                .iter()
                .take(5)
                .map(|(id, product)| format!("{id} ({product})"))
                .collect();
            self.host.warn(&format!(
                "{} FalconX derivative trades are not options and are not synced: FalconX \
                 documents no price for them (e.g. {}).",
                parsed.left_out.len(),
                names.join(", ")
            ));
        }
        Ok(self.pager.whole_page(parsed.trades, self.host.now_ms()))
    }

    /// One time window of executed quotes or transfers.
    fn fetch_window(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.host.now_ms();
        let request = self.pager.request(cursor, stream.as_str(), now)?;
        let endpoint = match stream {
            Stream::Trades | Stream::Orders => &FalconxEndpoints::QUOTES,
            _ => &FalconxEndpoints::TRANSFERS,
        };
        let what = format!(
            "fetching {stream} ({}) from {} to {}",
            endpoint.name,
            format_rfc3339_ms(request.from()),
            format_rfc3339_ms(request.to())
        );
        let body = self.signed_get(endpoint, &FalconxPager::params(&request), &what)?;
        let records = match stream {
            Stream::Trades => parsing::parse_trades(&body),
            Stream::Orders => parsing::parse_orders(&body),
            Stream::Deposits => parsing::parse_transfers(&body, TransferView::Deposits),
            _ => parsing::parse_transfers(&body, TransferView::Withdrawals),
        }
        .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.pager.page(&request, records, self.host.now_ms()))
    }

    /// A signed GET; the body of a 2xx answer, else FalconX's error mapped to its kind.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let (response, offset) = self.signed_response(endpoint, params, what)?;
        success(response, offset, what)
    }

    /// Sends a signed GET (a fresh timestamp and signature for every attempt) on FalconX's
    /// clock as last read, and how far FalconX's clock (the answer's `Date`) still is from
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
        let path_url = FalconxEndpoints::path_url(endpoint, query.as_str());
        let (response, server) = self.send_signed(&url, &path_url, what)?;
        let residual = self.residual(server);
        let refused = !response.is_success()
            && parsing::classify_error(response.status, &response.body, residual, what).kind
                == ErrorKind::CLOCK;
        let Some(server) = server.filter(|_| refused) else {
            return Ok((response, residual));
        };
        let offset = self.clock.measure(&self.host, || Ok(server))?;
        self.host.warn(&format!(
            "FalconX refused our timestamp while {what}; following its clock (its Date header, \
             {offset} ms from ours) and retrying once ({}).",
            self.config.integration
        ));
        let (response, server) = self.send_signed(&url, &path_url, what)?;
        Ok((response, self.residual(server)))
    }

    /// One signed GET, and FalconX's time when it answered (its `Date`).
    fn send_signed(
        &self,
        url: &str,
        path_url: &str,
        what: &str,
    ) -> Result<(HttpResponse, Option<i64>), PluginError> {
        let offset = self.applied_offset();
        let response = self
            .host
            .http_retrying(|| {
                let timestamp = signing::timestamp(self.host.now_ms() + offset);
                let mut request = HttpRequest::get(url.to_owned())
                    .bucket(BUCKET_KEY)
                    .header("Content-Type", "application/json");
                for (name, value) in self.signer.headers(&timestamp, "GET", path_url, "") {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))?;
        let server = response.header("date").and_then(parsing::parse_http_date);
        Ok((response, server))
    }

    /// The offset our timestamps carry: FalconX's clock minus ours as last read, else none.
    fn applied_offset(&self) -> i64 {
        self.clock.known().unwrap_or(0)
    }

    /// How far FalconX's clock at `server` is from the one our timestamps follow.
    fn residual(&self, server: Option<i64>) -> Option<i64> {
        let received = self.host.now_ms() + self.applied_offset();
        server.map(|server| server - received)
    }
}

/// The body of a 2xx answer; otherwise FalconX's error, mapped to its kind.
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
