//! Wiring for the `coinbase-exchange` connector: [`Connector`] over the host's HTTP, clock
//! and log.
//!
//! Owns the only state of an instance: Coinbase's clock offset (measured when a timestamp is
//! rejected, and used for signing only with the `adjust_clock` option), and the `/products`
//! and `/accounts` lists (cached for an hour). Everything else is in the pure modules.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, Stream,
};

use crate::config::CoinbaseExchangeConfig;
use crate::endpoints::{
    granularity, request_path, CoinbaseExchangeEndpoints, Endpoint, AFTER_HEADER, API_HOSTS,
    BUCKET_FILLS, BUCKET_PRIVATE, BUCKET_PUBLIC, CANDLES_PER_REQUEST, DEFAULT_BASE_URL,
    FILLS_PER_SECOND, LIST_TTL_MS, PRIVATE_PER_SECOND, PUBLIC_PER_SECOND, RATE_WINDOW_MS,
    SANDBOX_BASE_URL, SECOND_MS, TIMEFRAMES,
};
use crate::pagination::{self, CoinbaseExchangePager};
use crate::parsing::{self, Account, Products};
use crate::signing::{self, CoinbaseExchangeSigner};

/// The manifest id. DESIGN names this connector `coinbase-exchange`, but the host's
/// manifest check admits only lowercase letters, digits and `_` in an id.
pub(crate) const PLUGIN_ID: &str = "coinbase-exchange";

/// Below this clock difference a rejected timestamp is blamed on a slow request and the
/// request is signed again once; Coinbase accepts 30 s, so a clock this close is not the cause.
const CLOCK_RETRY_MS: i64 = 5_000;

/// `/transfers` types that bring funds in: from outside, from another profile of the user.
const DEPOSIT_TYPES: [&str; 2] = ["deposit", "internal_deposit"];
/// `/transfers` types that take funds out.
const WITHDRAWAL_TYPES: [&str; 2] = ["withdraw", "internal_withdraw"];

/// One configured connection to one Coinbase Exchange profile.
pub struct CoinbaseExchangeConnector {
    /// Coinbase's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: CoinbaseExchangeConfig,
    endpoints: CoinbaseExchangeEndpoints,
    signer: CoinbaseExchangeSigner,
    pager: CoinbaseExchangePager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// `/products` and when it was fetched (our clock).
    products: Option<(i64, Arc<Products>)>,
    /// `/accounts` and when it was fetched (our clock).
    accounts: Option<(i64, Arc<Vec<Account>>)>,
}

impl Connector for CoinbaseExchangeConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(PLUGIN_ID, "Coinbase Exchange", env!("CARGO_PKG_VERSION"));
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API Key".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "API Secret (base64)".into(),
                secret: true,
                optional: false,
            },
            CredentialField {
                name: "passphrase".into(),
                label: "Passphrase".into(),
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
        m.rate_limits = vec![
            RateLimit {
                bucket: BUCKET_PRIVATE.into(),
                capacity: PRIVATE_PER_SECOND,
                window_ms: RATE_WINDOW_MS,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            },
            RateLimit {
                bucket: BUCKET_FILLS.into(),
                capacity: FILLS_PER_SECOND,
                window_ms: RATE_WINDOW_MS,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            },
            RateLimit {
                bucket: BUCKET_PUBLIC.into(),
                capacity: PUBLIC_PER_SECOND,
                window_ms: RATE_WINDOW_MS,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            },
        ];
        // History reaches back to the launch for every stream; only candles come in windows.
        let smallest = TIMEFRAMES.iter().map(|(_, s)| *s).min().unwrap_or(60);
        m.history = vec![HistoryLimit {
            stream: Stream::Candles,
            max_lookback_ms: None,
            max_window_ms: Some(CANDLES_PER_REQUEST * smallest * SECOND_MS),
        }];
        for stream in [
            Stream::Trades,
            Stream::Orders,
            Stream::Deposits,
            Stream::Withdrawals,
            Stream::Ledger,
        ] {
            m.history.push(HistoryLimit {
                stream,
                max_lookback_ms: None,
                max_window_ms: None,
            });
        }
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let cb = CoinbaseExchangeConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        let signer = CoinbaseExchangeSigner::new(&cb.api_key, &cb.api_secret, &cb.passphrase)
            .map_err(|e| {
                e.context(format!(
                    "while configuring integration {:?}",
                    config.integration
                ))
            })?;
        Ok(CoinbaseExchangeConnector {
            host,
            endpoints: CoinbaseExchangeEndpoints::new(&cb.base_url),
            signer,
            pager: CoinbaseExchangePager {
                start_ms: cb.start_ms,
            },
            config: cb,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let accounts = self.fetch_accounts("checking the key with /accounts")?;
        let profile = accounts.iter().find_map(|a| a.profile_id.clone());
        let mut notes = vec![
            "Coinbase Exchange does not tell an API key's permissions; reading works".to_owned(),
        ];
        let mut account = profile
            .clone()
            .unwrap_or_else(|| "coinbase exchange profile".to_owned());
        match self
            .signed_get(
                &CoinbaseExchangeEndpoints::PROFILES,
                "",
                &[],
                "reading the profiles",
            )
            .and_then(|r| parsing::parse_profiles(&r.body))
        {
            Ok(parsing::Profiles { profiles, user_id }) => {
                if let Some((_, label)) =
                    profiles.iter().find(|(id, _)| Some(id) == profile.as_ref())
                {
                    account = format!("profile {label}");
                }
                if let Some(user) = user_id {
                    account = format!("{account}, user {user}");
                }
            }
            Err(e) => notes.push(format!("profile name unknown ({}: {})", e.kind, e.message)),
        }
        Ok(CheckReport {
            account,
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
            Stream::Balances | Stream::Orders => Ok(vec![String::new()]),
            // One walk per transfer type: from outside, and from the user's other profiles.
            // Without internal transfers, the `internal_*` types are left out.
            Stream::Deposits | Stream::Withdrawals => {
                let types = if stream == Stream::Deposits {
                    &DEPOSIT_TYPES
                } else {
                    &WITHDRAWAL_TYPES
                };
                Ok(types
                    .iter()
                    .filter(|t| self.config.internal_transfers || !t.starts_with("internal_"))
                    .map(|t| t.to_string())
                    .collect())
            }
            Stream::Trades => {
                let products = self.products()?;
                let assets = self.touched_assets(context)?;
                Ok(pagination::trade_partitions(
                    &products,
                    &assets,
                    &context.known,
                ))
            }
            Stream::Ledger => {
                let accounts = self.accounts()?;
                let assets = self.touched_assets(context)?;
                Ok(pagination::ledger_partitions(
                    &accounts,
                    &assets,
                    &context.known,
                ))
            }
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let products = self.products()?;
                let mut out = Vec::new();
                for (product, timeframe) in &self.config.candles {
                    if products.get(product).is_none() {
                        return Err(PluginError::config(format!(
                            "candles product {product} is not listed by Coinbase Exchange \
                             (/products lists {} products)",
                            products.len()
                        )));
                    }
                    out.push(format!("{product}:{timeframe}"));
                }
                Ok(out)
            }
            other => Err(PluginError::unsupported(format!(
                "the coinbase-exchange plugin has no {other} stream"
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
            Stream::Trades => self.fetch_fills(partition, cursor),
            Stream::Orders => self.fetch_orders(cursor),
            Stream::Deposits | Stream::Withdrawals => {
                self.fetch_transfers(stream, partition, cursor)
            }
            Stream::Ledger => self.fetch_ledger(partition, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the coinbase-exchange plugin has no {other} stream"
            ))),
        }
    }
}

impl CoinbaseExchangeConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let response = self.signed_get(
            &CoinbaseExchangeEndpoints::ACCOUNTS,
            "",
            &[],
            "fetching the balances (/accounts)",
        )?;
        let (accounts, balances) = parsing::parse_accounts(&response.body, as_of)?;
        self.state().accounts = Some((as_of, Arc::new(accounts)));
        Ok(Page::done(balances))
    }

    fn fetch_fills(&self, product: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        if product.is_empty() || product.contains(char::is_whitespace) {
            return Err(PluginError::plugin(format!(
                "trades partition {product:?} is not a Coinbase product id"
            )));
        }
        let request = self
            .pager
            .walk_request(cursor, "trades", self.server_now())?;
        let mut params = vec![("product_id", product.to_owned())];
        params.extend(request.params());
        let what = format!(
            "fetching fills of {product} ({})",
            describe(request.after())
        );
        let response = self.signed_get(&CoinbaseExchangeEndpoints::FILLS, "", &params, &what)?;
        let products = self.known_products()?;
        let records = parsing::parse_fills(&response.body, &products)
            .map_err(|e| e.context(format!("for {product}")))?;
        Ok(self
            .pager
            .walk_page(&request, records, after_header(&response), |_| false))
    }

    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let request = self
            .pager
            .walk_request(cursor, "orders", self.server_now())?;
        let mut params = vec![("status", "all".to_owned())];
        params.extend(request.params());
        let what = format!("fetching orders ({})", describe(request.after()));
        let response = self.signed_get(&CoinbaseExchangeEndpoints::ORDERS, "", &params, &what)?;
        let products = self.known_products()?;
        let records = parsing::parse_orders(&response.body, &products)?;
        // Without polling open orders, the walk holds at none of them.
        let poll_open = self.config.poll_open_orders;
        Ok(self
            .pager
            .walk_page(&request, records, after_header(&response), |r| {
                poll_open && parsing::is_open_order(r)
            }))
    }

    fn fetch_transfers(
        &self,
        stream: Stream,
        kind: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let withdrawals = stream == Stream::Withdrawals;
        let types = if withdrawals {
            &WITHDRAWAL_TYPES
        } else {
            &DEPOSIT_TYPES
        };
        if !types.contains(&kind) {
            return Err(PluginError::plugin(format!(
                "{stream} partition {kind:?} is not one of the transfer types {types:?}"
            )));
        }
        let request = self
            .pager
            .walk_request(cursor, stream.as_str(), self.server_now())?;
        let mut params = vec![("type", kind.to_owned())];
        params.extend(request.params());
        let what = format!(
            "fetching {stream} (/transfers?type={kind}, {})",
            describe(request.after())
        );
        let response =
            self.signed_get(&CoinbaseExchangeEndpoints::TRANSFERS, "", &params, &what)?;
        let currencies: BTreeMap<String, String> = self
            .accounts()?
            .iter()
            .map(|a| (a.id.clone(), a.currency.clone()))
            .collect();
        let records = parsing::parse_transfers(&response.body, withdrawals, &currencies)?;
        Ok(self.pager.walk_page(
            &request,
            records,
            after_header(&response),
            parsing::is_pending_transfer,
        ))
    }

    fn fetch_ledger(&self, currency: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let account = self
            .accounts()?
            .iter()
            .find(|a| a.currency == currency)
            .cloned()
            .ok_or_else(|| {
                PluginError::config(format!(
                    "the profile has no {currency} account any more; its ledger cannot be read"
                ))
            })?;
        let request = self
            .pager
            .walk_request(cursor, "ledger", self.server_now())?;
        // Without a start_date Coinbase serves one day of ledger only.
        let mut params = vec![(
            "start_date",
            exsync_plugin_api::time::format_rfc3339_s(self.pager.reach_start()),
        )];
        params.extend(request.params());
        let what = format!(
            "fetching the {currency} ledger (account {}, {})",
            account.id,
            describe(request.after())
        );
        let response = self.signed_get(
            &CoinbaseExchangeEndpoints::LEDGER,
            &account.id,
            &params,
            &what,
        )?;
        let records = parsing::parse_ledger(&response.body, currency)?;
        Ok(self
            .pager
            .walk_page(&request, records, after_header(&response), |_| false))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (product, timeframe, granularity_s) = pagination::split_candle_partition(partition)
            .and_then(|(p, tf)| granularity(tf).map(|g| (p, tf, g)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"PRODUCT:timeframe\" with a \
                     Coinbase Exchange granularity"
                ))
            })?;
        let now = self.server_now();
        let request = self.pager.candles_request(cursor, granularity_s, now)?;
        let what = format!(
            "fetching {timeframe} candles of {product} from {}",
            exsync_plugin_api::time::format_rfc3339_s(request.start)
        );
        let response = self.public_get(
            &CoinbaseExchangeEndpoints::CANDLES,
            product,
            &request.params(),
            &what,
        )?;
        let products = self.known_products()?;
        let candles = parsing::parse_candles(
            &response.body,
            product,
            timeframe,
            granularity_s,
            products.get(product),
            now,
        )?;
        Ok(self.pager.candles_page(&request, candles))
    }

    // -----------------------------------------------------------------------------------
    // Lists.

    /// Assets the account touched: the host's list, and every account with a balance.
    fn touched_assets(&self, context: &PartitionContext) -> Result<BTreeSet<String>, PluginError> {
        let mut assets: BTreeSet<String> = context.assets.iter().cloned().collect();
        assets.extend(
            self.accounts()?
                .iter()
                .filter(|a| a.funded)
                .map(|a| a.currency.clone()),
        );
        Ok(assets)
    }

    /// `/products`, fetched at most once an hour per instance.
    fn products(&self) -> Result<Arc<Products>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, products)) = &self.state().products {
            if now >= *at && now - at < LIST_TTL_MS {
                return Ok(Arc::clone(products));
            }
        }
        self.fetch_products(now)
    }

    /// `/products` for looking up a product's currencies, which never change: any cached
    /// copy will do.
    fn known_products(&self) -> Result<Arc<Products>, PluginError> {
        if let Some((_, products)) = &self.state().products {
            return Ok(Arc::clone(products));
        }
        self.fetch_products(self.host.now_ms())
    }

    fn fetch_products(&self, now: i64) -> Result<Arc<Products>, PluginError> {
        let response = self.public_get(
            &CoinbaseExchangeEndpoints::PRODUCTS,
            "",
            &[],
            "fetching the product list (/products)",
        )?;
        let products = Arc::new(Products::new(parsing::parse_products(&response.body)?));
        self.state().products = Some((now, Arc::clone(&products)));
        Ok(products)
    }

    /// `/accounts`, fetched at most once an hour per instance (a balances sync refreshes it).
    fn accounts(&self) -> Result<Arc<Vec<Account>>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, accounts)) = &self.state().accounts {
            if now >= *at && now - at < LIST_TTL_MS {
                return Ok(Arc::clone(accounts));
            }
        }
        self.fetch_accounts("listing the profile's accounts")
    }

    fn fetch_accounts(&self, what: &str) -> Result<Arc<Vec<Account>>, PluginError> {
        let now = self.host.now_ms();
        let response = self.signed_get(&CoinbaseExchangeEndpoints::ACCOUNTS, "", &[], what)?;
        let (accounts, _) = parsing::parse_accounts(&response.body, now)?;
        let accounts = Arc::new(accounts);
        self.state().accounts = Some((now, Arc::clone(&accounts)));
        Ok(accounts)
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The offset used for signing: Coinbase's (measured once) with `adjust_clock`, else 0.
    fn signing_offset(&self) -> Result<i64, PluginError> {
        if !self.config.adjust_clock {
            return Ok(0);
        }
        self.clock.offset(&self.host, || self.server_time())
    }

    /// Measures Coinbase's clock minus ours now with `GET /time`, and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || self.server_time())
    }

    fn server_time(&self) -> Result<i64, PluginError> {
        let response = self.public_get(
            &CoinbaseExchangeEndpoints::TIME,
            "",
            &[],
            "reading Coinbase Exchange's server time",
        )?;
        parsing::parse_server_time(&response.body)
    }

    /// Coinbase's "now" as we sign it.
    fn server_now(&self) -> i64 {
        let offset = if self.config.adjust_clock {
            self.clock.known().unwrap_or(0)
        } else {
            0
        };
        self.host.now_ms() + offset
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// An unsigned GET of `endpoint` (path parameter `parameter`); a 2xx answer, else the
    /// mapped error.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        parameter: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let path = request_path(&endpoint.path_with(parameter), &query(params));
        let request = HttpRequest::get(self.endpoints.url(&path)).bucket(endpoint.bucket);
        let response = self
            .host
            .http(request)
            .map_err(|e| e.context(format!("while {what}")))?;
        success(response, what)
    }

    /// A signed GET. A rejected timestamp is measured against Coinbase's clock: with
    /// `adjust_clock` the request is signed again with Coinbase's time, once; without it the
    /// answer is a `clock` error saying by how much our clock is off.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        parameter: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        let path = request_path(&endpoint.path_with(parameter), &query(params));
        let offset = self.signing_offset()?;
        let response = self.send_signed(endpoint, &path, offset, what)?;
        if response.is_success() || !parsing::is_timestamp_error(response.status, &response.body) {
            return success(response, what);
        }
        let measured = self.measure_offset()?;
        if !self.config.adjust_clock && measured.abs() < CLOCK_RETRY_MS {
            // Our clock agrees with Coinbase's: the request was slow, not the clock. Once more.
            let response = self.send_signed(endpoint, &path, 0, what)?;
            if response.is_success()
                || !parsing::is_timestamp_error(response.status, &response.body)
            {
                return success(response, what);
            }
        }
        if !self.config.adjust_clock {
            let direction = if measured > 0 { "behind" } else { "ahead of" };
            return Err(PluginError::clock(format!(
                "Coinbase Exchange rejected our timestamp ({}) while {what}: this host's clock \
                 is {} ms {direction} Coinbase's (it accepts 30 s); synchronise the clock, or \
                 set option adjust_clock = true to sign with Coinbase's time",
                parsing::error_message(&response.body).unwrap_or_default(),
                measured.abs()
            )));
        }
        self.host.warn(&format!(
            "Coinbase Exchange rejected our timestamp while {what}; signing again with its \
             clock ({} ms off) ({}).",
            measured, self.config.integration
        ));
        let response = self.send_signed(endpoint, &path, measured, what)?;
        success(response, what).map_err(|e| again_after_measuring(e, "Coinbase", measured))
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        path: &str,
        offset: i64,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        // Signed with a timestamp: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let timestamp = signing::timestamp(self.host.now_ms() + offset);
                let mut request =
                    HttpRequest::get(self.endpoints.url(path)).bucket(endpoint.bucket);
                for (name, value) in self.signer.headers(&timestamp, "GET", path, "") {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

/// The query string of `params`, in order, percent-encoded.
fn query(params: &[(&str, String)]) -> String {
    let mut q = exsync_plugin_api::signing::Query::new();
    for (k, v) in params {
        q.push(k, v);
    }
    q.as_str().to_owned()
}

/// The `CB-AFTER` header, if it names a cursor.
fn after_header(response: &HttpResponse) -> Option<String> {
    response
        .header(AFTER_HEADER)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn describe(after: Option<&str>) -> String {
    match after {
        Some(a) => format!("after cursor {a}"),
        None => "newest page".to_owned(),
    }
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

/// A 2xx answer; otherwise Coinbase's error, mapped to its kind.
fn success(response: HttpResponse, what: &str) -> Result<HttpResponse, PluginError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(parsing::classify_error(
            response.status,
            &response.body,
            what,
        ))
    }
}
