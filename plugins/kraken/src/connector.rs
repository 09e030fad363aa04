//! Wiring for the `kraken` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the last nonce sent (nonces are the clock in µs and
//! never go back), the server-clock offset (measured once, lazily, with `Time`), and the
//! `AssetPairs` list (cached for an hour). Everything else is in the pure modules.

use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::signing::Query;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, Host, HttpRequest,
    Manifest, Page, PartitionContext, Permissions, PluginError, RateLimit, Stream,
};
use serde_json::Value;

use crate::config::{split_unified, KrakenConfig};
use crate::endpoints::{
    timeframe_ms, Endpoint, KrakenEndpoints, API_HOSTS, API_KEY_HEADER, API_SIGN_HEADER,
    ASSET_PAIRS_TTL_MS, BUCKET_PRIVATE, BUCKET_PUBLIC, DEFAULT_BASE_URL, FORM_CONTENT_TYPE,
    MINUTE_MS, PRIVATE_CAPACITY, PRIVATE_WINDOW_MS, PUBLIC_CAPACITY, PUBLIC_WINDOW_MS, TIMEFRAMES,
};
use crate::pagination::{self, KrakenPager, ORDERS_CLOSED, ORDERS_OPEN};
use crate::parsing::{self, Pairs};
use crate::signing::{self, KrakenSigner};

/// One configured connection to one Kraken spot account.
pub struct KrakenConnector {
    /// Kraken's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: KrakenConfig,
    endpoints: KrakenEndpoints,
    signer: KrakenSigner,
    pager: KrakenPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// The last nonce sent with this key by this instance.
    last_nonce: u64,
    /// `AssetPairs` and when it was fetched (our clock).
    pairs: Option<(i64, Arc<Pairs>)>,
}

impl Connector for KrakenConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("kraken", "Kraken", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "Private Key".into(),
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
        m.sandbox_base_url = None;
        m.rate_limits = vec![
            RateLimit {
                bucket: BUCKET_PRIVATE.into(),
                capacity: PRIVATE_CAPACITY,
                window_ms: PRIVATE_WINDOW_MS,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            },
            RateLimit {
                bucket: BUCKET_PUBLIC.into(),
                capacity: PUBLIC_CAPACITY,
                window_ms: PUBLIC_WINDOW_MS,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            },
        ];
        // Kraken's account histories reach back to the account's opening, in windows of any
        // width: no limit to declare. OHLC serves the last 720 intervals of each timeframe
        // (12 h of 1m candles, 720 days of 1d ones); a `HistoryLimit` is per stream, not per
        // timeframe, so that limit is not declared here: the candles pager marks what lies
        // beyond it `unavailable`, partition by partition.
        m.history = Vec::new();
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let context = || format!("while configuring integration {:?}", config.integration);
        let kraken =
            KrakenConfig::from_connector_config(&config).map_err(|e| e.context(context()))?;
        let signer = KrakenSigner::new(&kraken.api_secret).map_err(|e| e.context(context()))?;
        Ok(KrakenConnector {
            host,
            endpoints: KrakenEndpoints::new(&kraken.base_url),
            signer,
            pager: KrakenPager {
                start_ms: kraken.start_ms,
                transfer_overlap_ms: kraken.transfer_overlap_ms,
            },
            config: kraken,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let result = self.private(
            &KrakenEndpoints::BALANCE_EX,
            &[],
            "checking the key with BalanceEx",
        )?;
        let balances = parsing::parse_balance_ex(result, self.host.now_ms())?;
        let mut notes = vec![format!("BalanceEx lists {} balances", balances.len())];
        // Kraken tells a key's rights only by refusing a call: probe each query the streams
        // need, over an empty one-second window (7 units of the call counter in all).
        let now_s = self.server_now()?.div_euclid(1000);
        let window = [
            ("start", (now_s - 1).to_string()),
            ("end", now_s.to_string()),
        ];
        let mut read = true;
        for (endpoint, right) in [
            (&KrakenEndpoints::OPEN_ORDERS, "Query Open Orders & Trades"),
            (
                &KrakenEndpoints::CLOSED_ORDERS,
                "Query Closed Orders & Trades",
            ),
            (&KrakenEndpoints::LEDGERS, "Query Ledger Entries"),
            (
                &KrakenEndpoints::DEPOSIT_STATUS,
                "Query Funds (funding history)",
            ),
        ] {
            let params: &[(&str, String)] = if endpoint.name == "OpenOrders" {
                &[]
            } else {
                &window
            };
            let what = format!(
                "checking the key's {right} permission with {}",
                endpoint.name
            );
            match self.private(endpoint, params, &what) {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::PERMISSION => {
                    read = false;
                    notes.push(format!("the key lacks {right}: {}", e.message));
                }
                Err(e) => notes.push(format!("{} not checked: {}", right, e.message)),
            }
        }
        notes.push(
            "Kraken's REST API tells neither the account id nor whether the key may trade or \
             withdraw"
                .into(),
        );
        // The key as `exsyncctl` masks it: its first and last four characters.
        let chars: Vec<char> = self.config.api_key.chars().collect();
        let shown = if chars.len() > 8 {
            let head: String = chars[..4].iter().collect();
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("{head}…{tail}")
        } else {
            "****".to_owned()
        };
        Ok(CheckReport {
            account: format!("Kraken account of API key {shown}"),
            permissions: Permissions {
                read: Some(read),
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
        _context: &PartitionContext,
    ) -> Result<Vec<String>, PluginError> {
        // Kraken's histories are account-wide (not per pair or asset): one partition each.
        match stream {
            Stream::Balances
            | Stream::Trades
            | Stream::Ledger
            | Stream::Deposits
            | Stream::Withdrawals => Ok(vec![String::new()]),
            Stream::Orders if self.config.poll_open_orders => {
                Ok(vec![ORDERS_CLOSED.to_owned(), ORDERS_OPEN.to_owned()])
            }
            Stream::Orders => Ok(vec![ORDERS_CLOSED.to_owned()]),
            Stream::Candles => self.candle_partitions(),
            other => Err(PluginError::unsupported(format!(
                "the kraken plugin has no {other} stream"
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
            Stream::Trades => self.fetch_trades(cursor),
            Stream::Ledger => self.fetch_ledger(cursor),
            Stream::Orders if partition == ORDERS_OPEN => self.fetch_open_orders(),
            Stream::Orders if partition == ORDERS_CLOSED => self.fetch_closed_orders(cursor),
            Stream::Orders => Err(PluginError::plugin(format!(
                "orders partition {partition:?} is neither {ORDERS_CLOSED:?} nor {ORDERS_OPEN:?}"
            ))),
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the kraken plugin has no {other} stream"
            ))),
        }
    }
}

impl KrakenConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let result = self.private(
            &KrakenEndpoints::BALANCE_EX,
            &[],
            "fetching the balances (BalanceEx)",
        )?;
        Ok(Page::done(parsing::parse_balance_ex(result, as_of)?))
    }

    fn fetch_trades(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self
            .pager
            .window_request(cursor, "trades", self.server_now()?)?;
        let what = window_what("TradesHistory", &request);
        let result = self.private(&KrakenEndpoints::TRADES_HISTORY, &request.params(), &what)?;
        let pairs = self.known_pairs()?;
        let page = parsing::parse_trades_history(result, &pairs)?;
        Ok(self.pager.window_page(&request, page, true))
    }

    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self
            .pager
            .window_request(cursor, "ledger", self.server_now()?)?;
        let what = window_what("Ledgers", &request);
        let result = self.private(&KrakenEndpoints::LEDGERS, &request.params(), &what)?;
        let page = parsing::parse_ledgers(result)?;
        Ok(self.pager.window_page(&request, page, true))
    }

    fn fetch_closed_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self
            .pager
            .window_request(cursor, "orders", self.server_now()?)?;
        let what = window_what("ClosedOrders (by close time)", &request);
        let mut params = request.params();
        params.push(("closetime", "close".to_owned()));
        let result = self.private(&KrakenEndpoints::CLOSED_ORDERS, &params, &what)?;
        let pairs = self.known_pairs()?;
        let page = parsing::parse_orders(result, "ClosedOrders", "closed", &pairs)?;
        // Windows run by close time: an order opened before the start but closed after it
        // belongs to the history too.
        Ok(self.pager.window_page(&request, page, false))
    }

    fn fetch_open_orders(&self) -> Result<Page, PluginError> {
        let result = self.private(
            &KrakenEndpoints::OPEN_ORDERS,
            &[],
            "fetching the open orders (OpenOrders)",
        )?;
        let pairs = self.known_pairs()?;
        let page = parsing::parse_orders(result, "OpenOrders", "open", &pairs)?;
        // A snapshot: read whole at every sync; a closed order is then in the closed walk.
        Ok(Page::done(page.records))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (endpoint, deposits) = if stream == Stream::Deposits {
            (&KrakenEndpoints::DEPOSIT_STATUS, true)
        } else {
            (&KrakenEndpoints::WITHDRAW_STATUS, false)
        };
        let request = self
            .pager
            .transfer_request(cursor, stream.as_str(), self.server_now()?)?;
        let what = format!(
            "fetching {} for ({}, {}] s{}",
            endpoint.name,
            request.start,
            request.end.unwrap_or(request.start),
            if request.cursor.is_some() {
                " (a later page)"
            } else {
                ""
            }
        );
        let result = self.private(endpoint, &request.params(), &what)?;
        let page = parsing::parse_transfers(result, endpoint.name, deposits)?;
        Ok(self.pager.transfer_page(&request, page))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (pair, timeframe, interval_ms) = pagination::split_candle_partition(partition)
            .and_then(|(p, tf)| timeframe_ms(tf).map(|ms| (p, tf, ms)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"PAIR:timeframe\" with a Kraken \
                     OHLC interval"
                ))
            })?;
        let now = self.server_now()?;
        let request = self.pager.candles_request(cursor, interval_ms, now)?;
        let mut query = Query::new();
        query
            .push("pair", pair)
            .push("interval", (interval_ms / MINUTE_MS).to_string())
            .push("since", request.since_seconds().to_string());
        let what = format!(
            "fetching OHLC for {pair} {timeframe} since {}",
            request.since_seconds()
        );
        let result = self.public(&KrakenEndpoints::OHLC, query.as_str(), &what)?;
        let pairs = self.known_pairs()?;
        let candles = parsing::parse_ohlc(result, timeframe, interval_ms, &pairs, now)
            .map_err(|e| e.context(format!("for {pair} {timeframe}")))?;
        Ok(self.pager.candles_page(&request, candles, interval_ms))
    }

    fn candle_partitions(&self) -> Result<Vec<String>, PluginError> {
        if self.config.candles.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = self.pairs()?;
        let mut partitions = Vec::with_capacity(self.config.candles.len());
        for (unified, timeframe) in &self.config.candles {
            let pair = split_unified(unified)
                .and_then(|(base, quote)| pairs.find(base, quote))
                .ok_or_else(|| {
                    PluginError::config(format!(
                        "candles symbol {unified:?} is not a Kraken spot pair (AssetPairs lists \
                         {} pairs)",
                        pairs.len()
                    ))
                })?;
            partitions.push(format!("{}:{timeframe}", pair.altname));
        }
        Ok(partitions)
    }

    // -----------------------------------------------------------------------------------
    // Pairs and clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `AssetPairs`, fetched at most once an hour per instance.
    fn pairs(&self) -> Result<Arc<Pairs>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, pairs)) = &self.state().pairs {
            if now - at < ASSET_PAIRS_TTL_MS && now >= *at {
                return Ok(Arc::clone(pairs));
            }
        }
        self.fetch_pairs(now)
    }

    /// `AssetPairs` for naming a pair's assets, which never change: any cached copy will do.
    fn known_pairs(&self) -> Result<Arc<Pairs>, PluginError> {
        if let Some((_, pairs)) = &self.state().pairs {
            return Ok(Arc::clone(pairs));
        }
        self.fetch_pairs(self.host.now_ms())
    }

    fn fetch_pairs(&self, now: i64) -> Result<Arc<Pairs>, PluginError> {
        let result = self.public(
            &KrakenEndpoints::ASSET_PAIRS,
            "",
            "fetching AssetPairs (the pair list)",
        )?;
        let pairs = Arc::new(parsing::parse_asset_pairs(result)?);
        self.state().pairs = Some((now, Arc::clone(&pairs)));
        Ok(pairs)
    }

    /// Kraken's clock minus ours, measured on first use.
    fn offset(&self) -> Result<i64, PluginError> {
        self.clock.offset(&self.host, || self.server_time())
    }

    /// Measures the offset now and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || self.server_time())
    }

    /// Kraken's time, from `Time`.
    fn server_time(&self) -> Result<i64, PluginError> {
        let result = self.public(&KrakenEndpoints::TIME, "", "reading Kraken's server time")?;
        parsing::parse_time(result)
    }

    /// Kraken's "now": our clock corrected by the offset.
    fn server_now(&self) -> Result<i64, PluginError> {
        Ok(self.host.now_ms() + self.offset()?)
    }

    fn next_nonce(&self) -> u64 {
        let mut state = self.state();
        let nonce = signing::next_nonce(self.host.now_ms(), state.last_nonce);
        state.last_nonce = nonce;
        nonce
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET; the `result` of the answer, else the mapped error.
    fn public(&self, endpoint: &Endpoint, query: &str, what: &str) -> Result<Value, PluginError> {
        debug_assert!(!endpoint.private, "{} is private", endpoint.name);
        let request = HttpRequest::get(self.endpoints.url(endpoint, query))
            .cost(endpoint.cost)
            .bucket(endpoint.bucket);
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        if !response.is_success() {
            return Err(parsing::classify_status(
                response.status,
                &response.body,
                what,
            ));
        }
        parsing::result(&response.body, endpoint.name, what)
    }

    /// A signed POST with a fresh nonce; the `result` of the answer, else the mapped error.
    ///
    /// A rejected nonce is tried once more with a new one (it is then above anything this
    /// instance sent); a second rejection is a `clock` error. A rate-limit answer is a
    /// `rate_limited` error: Kraken sends it with status 200 and no `Retry-After`, so the
    /// host cannot wait it out; the engine waits and asks for the same page again.
    fn private(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Value, PluginError> {
        debug_assert!(endpoint.private, "{} is public", endpoint.name);
        let url = self.endpoints.url(endpoint, "");
        let mut retried = false;
        loop {
            // Carries a nonce: rebuilt and re-signed for every attempt, never resent as is.
            let response = self
                .host
                .http_retrying(|| {
                    let nonce = self.next_nonce();
                    let body = signing::post_data(nonce, params);
                    let signature = self
                        .signer
                        .signature(endpoint.path, &nonce.to_string(), &body);
                    Ok(HttpRequest::post(url.as_str())
                        .header(API_KEY_HEADER, self.config.api_key.as_str())
                        .header(API_SIGN_HEADER, signature)
                        .header("Content-Type", FORM_CONTENT_TYPE)
                        .body(body)
                        .cost(endpoint.cost)
                        .bucket(endpoint.bucket))
                })
                .map_err(|e| e.context(format!("while {what}")))?;
            if !response.is_success() {
                return Err(parsing::classify_status(
                    response.status,
                    &response.body,
                    what,
                ));
            }
            if !retried && parsing::is_invalid_nonce(&parsing::error_words(&response.body)) {
                retried = true;
                self.host.warn(&format!(
                    "Kraken rejected our nonce while {what}; trying once more with a new one \
                     ({}).",
                    self.config.integration
                ));
                continue;
            }
            return parsing::result(&response.body, endpoint.name, what);
        }
    }
}

/// "fetching TradesHistory for (S, E] s at offset K".
fn window_what(name: &str, request: &pagination::WindowCursor) -> String {
    format!(
        "fetching {name} for ({}, {}] s at offset {}",
        request.start,
        request.end.unwrap_or(request.start),
        request.ofs
    )
}
