//! Wiring for the `binance` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured once, lazily, before
//! the first signed request, and again after a `-1021` timestamp rejection) and the
//! `exchangeInfo` symbol list (cached for an hour). Everything else is in the pure modules.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, HistoryLimit, Host, HttpRequest,
    HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError, RateLimit, Record,
    Stream,
};

use crate::config::BinanceConfig;
use crate::endpoints::{
    BinanceEndpoints, Endpoint, API_HOSTS, API_KEY_HEADER, BAN_STATUS, BUCKET_IP, BUCKET_SAPI,
    BUCKET_SAPI_UID, DEFAULT_BASE_URL, EXCHANGE_INFO_TTL_MS, IP_USED_HEADER, IP_WEIGHT_PER_MINUTE,
    RATE_WINDOW_MS, SANDBOX_BASE_URL, SAPI_UID_USED_HEADER, SAPI_UID_WEIGHT_PER_MINUTE,
    SAPI_USED_HEADER, SAPI_WEIGHT_PER_MINUTE, TIMEFRAMES, TRADES_MAX_WINDOW_MS,
    TRANSFER_MAX_WINDOW_MS,
};
use crate::pagination::{self, BinancePager};
use crate::parsing::{self, Markets};
use crate::signing::{self, BinanceSigner};

/// Binance's "Timestamp for this request is outside of the recvWindow".
const INVALID_TIMESTAMP: i64 = -1021;
/// Binance's "Invalid symbol".
const INVALID_SYMBOL: i64 = -1121;

/// One configured connection to one Binance spot account.
pub struct BinanceConnector {
    /// Binance's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: BinanceConfig,
    endpoints: BinanceEndpoints,
    signer: BinanceSigner,
    pager: BinancePager,
    sandbox: bool,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// `exchangeInfo` and when it was fetched (our clock).
    markets: Option<(i64, Arc<Markets>)>,
}

impl Connector for BinanceConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("binance", "Binance", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "Secret Key".into(),
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
            Stream::Candles,
        ];
        m.api_hosts = API_HOSTS.iter().map(|h| h.to_string()).collect();
        m.default_base_url = DEFAULT_BASE_URL.into();
        m.sandbox_base_url = Some(SANDBOX_BASE_URL.into());
        // Request weight is counted per IP; the SAPI UID weight per account, so every
        // integration on one key shares it and two keys never do.
        m.rate_limits = vec![
            RateLimit::new(BUCKET_IP, IP_WEIGHT_PER_MINUTE, RATE_WINDOW_MS)
                .with_used_header(IP_USED_HEADER)
                .with_ban_statuses(&[BAN_STATUS]),
            RateLimit::new(BUCKET_SAPI, SAPI_WEIGHT_PER_MINUTE, RATE_WINDOW_MS)
                .with_used_header(SAPI_USED_HEADER)
                .with_ban_statuses(&[BAN_STATUS]),
            RateLimit::new(BUCKET_SAPI_UID, SAPI_UID_WEIGHT_PER_MINUTE, RATE_WINDOW_MS)
                .per_key()
                .with_used_header(SAPI_UID_USED_HEADER)
                .with_ban_statuses(&[BAN_STATUS]),
        ];
        let window = |stream, ms| HistoryLimit {
            stream,
            max_lookback_ms: None,
            max_window_ms: Some(ms),
        };
        m.history = vec![
            window(Stream::Trades, TRADES_MAX_WINDOW_MS),
            window(Stream::Orders, TRADES_MAX_WINDOW_MS),
            window(Stream::Deposits, TRANSFER_MAX_WINDOW_MS),
            window(Stream::Withdrawals, TRANSFER_MAX_WINDOW_MS),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|t| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let binance = BinanceConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(BinanceConnector {
            host,
            endpoints: BinanceEndpoints::new(&binance.base_url),
            signer: BinanceSigner::new(&binance.api_secret),
            pager: BinancePager {
                start_ms: binance.start_ms,
                transfer_overlap_ms: binance.transfer_overlap_ms,
                poll_open_orders: binance.poll_open_orders,
            },
            sandbox: config.sandbox,
            config: binance,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let body = self.signed_get(&BinanceEndpoints::ACCOUNT, &[], "checking the account")?;
        let account = parsing::parse_account(&body, self.host.now_ms())?;
        let mut permissions = Permissions {
            read: Some(true),
            trade: account.can_trade,
            withdraw: account.can_withdraw,
        };
        let mut notes = Vec::new();
        if self.sandbox {
            notes.push("sandbox: Binance's spot testnet has no /sapi key restrictions".into());
        } else {
            match self
                .signed_get(
                    &BinanceEndpoints::API_RESTRICTIONS,
                    &[],
                    "reading the key's restrictions",
                )
                .and_then(|body| parsing::parse_api_restrictions(&body))
            {
                Ok(r) => {
                    permissions.read = r.enable_reading.or(permissions.read);
                    permissions.trade = r.enable_spot_and_margin_trading.or(permissions.trade);
                    permissions.withdraw = r.enable_withdrawals.or(permissions.withdraw);
                }
                Err(e) => notes.push(format!(
                    "key permissions from /api/v3/account only ({}: {})",
                    e.kind, e.message
                )),
            }
        }
        Ok(CheckReport {
            account: account.uid.unwrap_or_else(|| "binance account".into()),
            permissions,
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
            Stream::Balances | Stream::Deposits | Stream::Withdrawals => Ok(vec![String::new()]),
            Stream::Trades | Stream::Orders => {
                let markets = self.markets()?;
                let assets: BTreeSet<String> = if context.assets.is_empty() {
                    self.held_assets()?
                } else {
                    context.assets.iter().cloned().collect()
                };
                Ok(pagination::trade_partitions(
                    &markets,
                    &assets,
                    &context.known,
                ))
            }
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let markets = self.markets()?;
                pagination::candle_partitions(&markets, &self.config.candles)
            }
            other => Err(unsupported(other)),
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
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(unsupported(other)),
        }
    }

    /// Trade pages, the bulk of a history, are written straight from Binance's bytes.
    fn fetch_json(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<String, PluginError> {
        match stream {
            Stream::Trades => self.fetch_trades_json(partition, cursor),
            _ => encode_page(&self.fetch(stream, partition, cursor)?),
        }
    }
}

fn encode_page(page: &Page) -> Result<String, PluginError> {
    serde_json::to_string(page)
        .map_err(|e| PluginError::plugin(format!("while encoding the page: {e}")))
}

fn unsupported(stream: Stream) -> PluginError {
    match stream {
        Stream::Ledger => PluginError::unsupported(
            "Binance spot has no ledger endpoint; its history is trades, orders, deposits and \
             withdrawals",
        ),
        other => PluginError::unsupported(format!("the binance plugin has no {other} stream")),
    }
}

impl BinanceConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let body = self.signed_get(
            &BinanceEndpoints::ACCOUNT,
            &[],
            "fetching the spot balances",
        )?;
        let account = parsing::parse_account(&body, as_of)?;
        Ok(Page::done(account.balances))
    }

    fn fetch_trades(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_symbol(symbol, Stream::Trades)?;
        let request = self.pager.trades_request(cursor)?;
        let what = format!(
            "fetching myTrades for {symbol} from trade id {}",
            request.from_id
        );
        let params = BinancePager::trades_params(symbol, &request);
        let Some(body) = self.signed_get_symbol(&BinanceEndpoints::MY_TRADES, &params, &what)?
        else {
            return Ok(self.delisted(symbol, cursor));
        };
        let markets = self.known_markets()?;
        let records = parsing::parse_my_trades(&body, markets.get(symbol))
            .map_err(|e| e.context(format!("for {symbol}")))?;
        Ok(self
            .pager
            .trades_page(&request, records, self.server_now()?))
    }

    /// [`Self::fetch_trades`] as JSON, each record's `raw` copied as Binance sent it.
    fn fetch_trades_json(&self, symbol: &str, cursor: Option<&str>) -> Result<String, PluginError> {
        require_symbol(symbol, Stream::Trades)?;
        let request = self.pager.trades_request(cursor)?;
        let what = format!(
            "fetching myTrades for {symbol} from trade id {}",
            request.from_id
        );
        let params = BinancePager::trades_params(symbol, &request);
        let Some(body) = self.signed_get_symbol(&BinanceEndpoints::MY_TRADES, &params, &what)?
        else {
            return encode_page(&self.delisted(symbol, cursor));
        };
        let markets = self.known_markets()?;
        let trades = parsing::parse_my_trades_raw(&body, markets.get(symbol))
            .map_err(|e| e.context(format!("for {symbol}")))?;
        self.pager
            .trades_page_json(&request, trades, self.server_now()?)
    }

    fn fetch_orders(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_symbol(symbol, Stream::Orders)?;
        let request = self.pager.orders_request(cursor)?;
        let what = format!(
            "fetching allOrders for {symbol} from order id {}",
            request.from_id
        );
        let params = BinancePager::orders_params(symbol, &request);
        let Some(body) = self.signed_get_symbol(&BinanceEndpoints::ALL_ORDERS, &params, &what)?
        else {
            return Ok(self.delisted(symbol, cursor));
        };
        let markets = self.known_markets()?;
        let records = parsing::parse_all_orders(&body, markets.get(symbol))
            .map_err(|e| e.context(format!("for {symbol}")))?;
        Ok(self
            .pager
            .orders_page(&request, records, self.server_now()?))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        if self.sandbox {
            return Err(PluginError::unsupported(format!(
                "Binance's spot testnet has no {stream} history (no /sapi wallet endpoints)"
            )));
        }
        let endpoint = if stream == Stream::Deposits {
            &BinanceEndpoints::DEPOSIT_HISTORY
        } else {
            &BinanceEndpoints::WITHDRAW_HISTORY
        };
        let now = self.server_now()?;
        let request = self.pager.transfer_request(cursor, stream.as_str(), now)?;
        let what = format!(
            "fetching {} for [{}, {}) at offset {}",
            endpoint.name,
            request.from(),
            request.to(),
            pagination::transfer_offset(&request)
        );
        let body = self.signed_get(endpoint, &pagination::transfer_params(&request), &what)?;
        let records = if stream == Stream::Deposits {
            parsing::parse_deposits(&body)?
        } else {
            parsing::parse_withdrawals(&body)?
        };
        Ok(self.pager.transfer_page(&request, records, now))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe) = pagination::split_candle_partition(partition)
            .filter(|(_, tf)| TIMEFRAMES.contains(tf))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"SYMBOL:interval\" with a Binance \
                     interval"
                ))
            })?;
        let request = self.pager.candles_request(cursor)?;
        let params = BinancePager::candles_params(symbol, timeframe, &request);
        let what = format!(
            "fetching klines for {symbol} {timeframe} from {}",
            request.start
        );
        let body = self.public_get(&BinanceEndpoints::KLINES, &params, &what)?;
        let markets = self.known_markets()?;
        let now = self.server_now()?;
        let candles = parsing::parse_klines(&body, symbol, timeframe, markets.get(symbol), now)?;
        Ok(self.pager.candles_page(&request, candles))
    }

    /// The page for a symbol Binance no longer knows (delisted after its cursor was made):
    /// nothing new, the cursor kept.
    fn delisted(&self, symbol: &str, cursor: Option<&str>) -> Page {
        self.host.warn(&format!(
            "Binance answers \"invalid symbol\" for {symbol}: delisted; keeping its history and \
             cursor ({}).",
            self.config.integration
        ));
        Page {
            next_cursor: cursor.map(str::to_owned),
            ..Page::default()
        }
    }

    // -----------------------------------------------------------------------------------
    // Symbols.

    /// `exchangeInfo`, fetched at most once an hour per instance.
    fn markets(&self) -> Result<Arc<Markets>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, markets)) = &self.state().markets {
            if now - at < EXCHANGE_INFO_TTL_MS && now >= *at {
                return Ok(Arc::clone(markets));
            }
        }
        self.fetch_markets(now)
    }

    /// `exchangeInfo` for looking up a symbol's base and quote, which never change: any
    /// cached copy will do, however old.
    fn known_markets(&self) -> Result<Arc<Markets>, PluginError> {
        if let Some((_, markets)) = &self.state().markets {
            return Ok(Arc::clone(markets));
        }
        self.fetch_markets(self.host.now_ms())
    }

    fn fetch_markets(&self, now: i64) -> Result<Arc<Markets>, PluginError> {
        let body = self.public_get(
            &BinanceEndpoints::EXCHANGE_INFO,
            &[],
            "fetching exchangeInfo (the symbol list)",
        )?;
        let markets = Arc::new(Markets::new(parsing::parse_exchange_info(&body)?));
        self.state().markets = Some((now, Arc::clone(&markets)));
        Ok(markets)
    }

    /// Assets with a non-zero spot balance, for a first sync that knows no assets yet.
    fn held_assets(&self) -> Result<BTreeSet<String>, PluginError> {
        let body = self.signed_get(
            &BinanceEndpoints::ACCOUNT,
            &[],
            "listing held assets to choose trade symbols",
        )?;
        let account = parsing::parse_account(&body, self.host.now_ms())?;
        Ok(account
            .balances
            .into_iter()
            .filter_map(|r| match r {
                Record::Balance(b) if !exsync_plugin_api::decimal::is_zero(&b.total) => {
                    Some(b.asset_native)
                }
                _ => None,
            })
            .collect())
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Binance's clock minus ours, measured on first use.
    fn offset(&self) -> Result<i64, PluginError> {
        self.clock.offset(&self.host, || self.server_time())
    }

    /// Measures the offset now and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || self.server_time())
    }

    /// Binance's time, from `GET /api/v3/time`.
    fn server_time(&self) -> Result<i64, PluginError> {
        let body = self.public_get(
            &BinanceEndpoints::TIME,
            &[],
            "reading Binance's server time",
        )?;
        parsing::parse_server_time(&body)
    }

    /// Binance's "now": our clock corrected by the offset.
    fn server_now(&self) -> Result<i64, PluginError> {
        Ok(signing::timestamp(self.host.now_ms(), self.offset()?))
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// One GET of `endpoint` with `query`.
    fn request(&self, endpoint: &Endpoint, query: &str) -> HttpRequest {
        let mut request = HttpRequest::get(self.endpoints.url(endpoint, query))
            .cost(endpoint.weight)
            .bucket(endpoint.bucket);
        if endpoint.signed {
            request = request.header(API_KEY_HEADER, self.config.api_key.as_str());
        }
        request
    }

    /// Sends one unsigned GET (the host may resend it as is); a transport failure says what
    /// was being done.
    fn send(
        &self,
        endpoint: &Endpoint,
        query: &str,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        self.host
            .http(self.request(endpoint, query))
            .map_err(|e| e.context(format!("while {what}")))
    }

    /// An unsigned GET; the body of a 2xx answer, else the mapped error.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let response = self.send(endpoint, signing::plain_query(params).as_str(), what)?;
        success(response, what)
    }

    /// A signed GET, retried once with a fresh clock offset if Binance rejects the
    /// timestamp (`-1021`); a second rejection is a `clock` error.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let response = self.signed_response(endpoint, params, what)?;
        success(response, what)
    }

    /// Like [`Self::signed_get`], but `None` when Binance answers "invalid symbol".
    fn signed_get_symbol(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Option<Vec<u8>>, PluginError> {
        let response = self.signed_response(endpoint, params, what)?;
        if !response.is_success() && parsing::error_code(&response.body) == Some(INVALID_SYMBOL) {
            return Ok(None);
        }
        success(response, what).map(Some)
    }

    fn signed_response(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let offset = self.offset()?;
        let response = self.send_signed(endpoint, params, offset, what)?;
        if response.is_success() || parsing::error_code(&response.body) != Some(INVALID_TIMESTAMP) {
            return Ok(response);
        }
        self.host.warn(&format!(
            "Binance rejected our timestamp while {what}; measuring the clock offset again \
             and retrying once ({}).",
            self.config.integration
        ));
        let offset = self.measure_offset()?;
        self.send_signed(endpoint, params, offset, what)
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        offset: i64,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        // Signed with a timestamp: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let timestamp = signing::timestamp(self.host.now_ms(), offset);
                let query = self
                    .signer
                    .signed_query(params, self.config.recv_window_ms, timestamp);
                Ok(self.request(endpoint, &query))
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

/// The body of a 2xx answer; otherwise Binance's error, mapped to its kind.
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

fn require_symbol(symbol: &str, stream: Stream) -> Result<(), PluginError> {
    // Binance lists non-ASCII symbols too; the query builder percent-encodes them.
    if symbol.is_empty() || symbol.contains(|c: char| c == ':' || c.is_whitespace()) {
        return Err(PluginError::plugin(format!(
            "{stream} partition {symbol:?} is not a Binance symbol"
        )));
    }
    Ok(())
}
