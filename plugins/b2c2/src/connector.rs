//! The `b2c2` connector: the pure modules wired to the host.
//!
//! Every request is a GET with the token header; B2C2 signs nothing, so the host may resend
//! a request as it is. B2C2 has no server-time endpoint: its clock is read from the `Date`
//! header of its answers, which `check` reports.

use exsync_plugin_api::signing::Query;
use exsync_plugin_api::window::Walker;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, HistoryLimit, Host, HttpRequest,
    HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError, RateLimit, Stream,
};

use crate::config::B2c2Config;
use crate::endpoints::{
    B2c2Endpoints, Endpoint, API_HOSTS, B2C2_ORIGIN_MS, BUCKET_TOKEN, DEFAULT_BASE_URL, PLUGIN_ID,
    RATE_WINDOW_MS, SANDBOX_BASE_URL, TOKEN_REQUESTS_PER_SECOND, WALLET, WINDOW_MS,
};
use crate::pagination::B2c2Pager;
use crate::parsing::{self, ListPage};
use crate::signing::B2c2Signer;

/// The streams B2C2 offers: no deposits endpoint, no candles.
pub(crate) const STREAMS: [Stream; 5] = [
    Stream::Balances,
    Stream::Trades,
    Stream::Orders,
    Stream::Withdrawals,
    Stream::Ledger,
];

/// Parses one page of a history list.
type ListParser = fn(&[u8]) -> Result<ListPage, PluginError>;

/// One B2C2 account, as an integration sees it.
pub struct B2c2Connector {
    host: Host,
    config: B2c2Config,
    endpoints: B2c2Endpoints,
    signer: B2c2Signer,
    pager: B2c2Pager,
}

impl Connector for B2c2Connector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(PLUGIN_ID, "B2C2", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![CredentialField {
            name: "api_key".into(),
            label: "API Token".into(),
            secret: true,
            optional: false,
        }];
        m.streams = STREAMS.to_vec();
        m.api_hosts = API_HOSTS.iter().map(|h| h.to_string()).collect();
        m.default_base_url = DEFAULT_BASE_URL.into();
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        m.rate_limits = vec![RateLimit {
            bucket: BUCKET_TOKEN.into(),
            capacity: TOKEN_REQUESTS_PER_SECOND,
            window_ms: RATE_WINDOW_MS,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        }];
        // B2C2 documents no lookback limit; the window is the width the plugin narrows its
        // offset pages to (see `endpoints::WINDOW_MS`).
        m.history = STREAMS
            .iter()
            .filter(|s| **s != Stream::Balances)
            .map(|s| HistoryLimit {
                stream: *s,
                max_lookback_ms: None,
                max_window_ms: Some(WINDOW_MS),
            })
            .collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let config = B2c2Config::from_connector_config(&config)?;
        Ok(B2c2Connector {
            endpoints: B2c2Endpoints::new(&config.base_url),
            signer: B2c2Signer::new(&config.token),
            pager: B2c2Pager {
                walker: Walker {
                    start_ms: config.start_ms,
                    reach_ms: None,
                    margin_ms: 0,
                    origin_ms: B2C2_ORIGIN_MS,
                },
                page_limit: config.page_limit,
            },
            config,
            host,
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let what = "reading the account info (GET /account_info/)";
        let (response, offset) = self.get(&B2c2Endpoints::ACCOUNT_INFO, &[], what)?;
        let body = success(response, what)?;
        let info = parsing::parse_account_info(&body)?;
        let mut account = if self.config.sandbox {
            "B2C2 UAT account".to_owned()
        } else {
            "B2C2 account".to_owned()
        };
        if let (Some(risk), Some(max)) = (&info.risk_exposure, &info.max_risk_exposure) {
            account.push_str(&format!(" (risk exposure {risk} of {max})"));
        }
        Ok(CheckReport {
            account,
            permissions: Permissions {
                read: Some(true),
                trade: None,
                withdraw: None,
            },
            clock_offset_ms: offset,
            notes: vec![
                "B2C2's API does not tell a token's rights; the token was accepted for reading"
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
            // Every B2C2 list is account-wide: nothing to split.
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
            Stream::Trades | Stream::Orders | Stream::Withdrawals | Stream::Ledger => {
                self.fetch_list(stream, cursor)
            }
            other => Err(unsupported(other)),
        }
    }
}

fn unsupported(stream: Stream) -> PluginError {
    PluginError::unsupported(format!(
        "B2C2 has no {stream} stream (it offers balances, trades, orders, withdrawals and the \
         ledger; deposits are ledger transfers, and it publishes no candles)"
    ))
}

impl B2c2Connector {
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let what = "fetching the balances (GET /balance/)";
        let (response, _) = self.get(&B2c2Endpoints::BALANCE, &[], what)?;
        let body = success(response, what)?;
        Ok(Page::done(parsing::parse_balances(
            &body,
            WALLET,
            self.host.now_ms(),
        )?))
    }

    /// One offset page of one window of a history list.
    fn fetch_list(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.host.now_ms();
        let request = self.pager.request(cursor, stream.as_str(), now)?;
        let offset = self.pager.offset(&request, stream.as_str())?;
        let (endpoint, parse): (&Endpoint, ListParser) = match stream {
            Stream::Trades => (&B2c2Endpoints::TRADE, parsing::parse_trades),
            Stream::Orders => (&B2c2Endpoints::ORDER, parsing::parse_orders),
            Stream::Withdrawals => (&B2c2Endpoints::WITHDRAWAL, parsing::parse_withdrawals),
            _ => (&B2c2Endpoints::LEDGER, parsing::parse_ledger),
        };
        let what = format!(
            "fetching {stream} ({}) created in [{}, {}) at offset {offset}",
            endpoint.name,
            exsync_plugin_api::time::format_rfc3339_ms(request.from()),
            exsync_plugin_api::time::format_rfc3339_ms(request.to()),
        );
        let (response, _) = self.get(endpoint, &self.pager.params(&request, offset), &what)?;
        let body = success(response, &what)?;
        let list = parse(&body).map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.pager.page(
            &request,
            offset,
            list.returned,
            list.records,
            list.open,
            now,
        ))
    }

    /// A GET with the token header, and B2C2's clock against ours from the `Date` header.
    fn get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<(HttpResponse, Option<i64>), PluginError> {
        let mut query = Query::new();
        for (key, value) in params {
            query.push(key, value);
        }
        let mut request = HttpRequest::get(self.endpoints.url(endpoint, query.as_str()))
            .bucket(BUCKET_TOKEN)
            .header("Accept", "application/json");
        for (name, value) in self.signer.headers() {
            request = request.header(name, value);
        }
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        let received = self.host.now_ms();
        let offset = response
            .header("date")
            .and_then(parsing::parse_http_date)
            .map(|server| server - received);
        Ok((response, offset))
    }
}

/// The body of a 2xx answer; otherwise B2C2's error, mapped to its kind.
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
