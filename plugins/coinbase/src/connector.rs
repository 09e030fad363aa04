//! Wiring for the `coinbase` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured once, lazily,
//! before the first signed request, and again after a 401, which is how Coinbase answers a
//! token whose time is off) and a request counter for JWT nonces. Everything else is in the
//! pure modules.

use std::sync::atomic::{AtomicU64, Ordering};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::signing::Query;
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, Host, HttpRequest,
    HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError, RateLimit, Stream,
};

use crate::config::CoinbaseConfig;
use crate::endpoints::{
    granularity, CoinbaseEndpoints, Endpoint, ACCOUNTS_LIMIT, API_HOSTS, DEFAULT_BASE_URL,
    FILLS_LIMIT, ORDERS_LIMIT, RATE_LIMITS, TIMEFRAMES, TRANSACTIONS_LIMIT,
};
use crate::pagination::{self, CoinbasePager, TransactionItem};
use crate::parsing::{self, Account, TransferKind};
use crate::signing::{self, CoinbaseSigner};

/// One configured connection to one Coinbase account.
pub struct CoinbaseConnector {
    host: Host,
    config: CoinbaseConfig,
    endpoints: CoinbaseEndpoints,
    signer: CoinbaseSigner,
    pager: CoinbasePager,
    requests: AtomicU64,
    /// Coinbase's clock as ours sees it.
    clock: ServerClock,
}

impl Connector for CoinbaseConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new(
            "coinbase",
            "Coinbase Advanced Trade",
            env!("CARGO_PKG_VERSION"),
        );
        m.credentials = vec![
            CredentialField {
                name: "api_key".into(),
                label: "API key name (organizations/{org_id}/apiKeys/{key_id})".into(),
                secret: false,
                optional: false,
            },
            CredentialField {
                name: "api_secret".into(),
                label: "Private key (EC P-256 PEM, or Ed25519 secret in base64)".into(),
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
        // No sandbox with accounts: `sandbox = true` is an `unsupported` error.
        m.sandbox_base_url = None;
        m.rate_limits = RATE_LIMITS
            .iter()
            .map(|(bucket, capacity, window_ms)| RateLimit {
                bucket: (*bucket).into(),
                capacity: *capacity,
                window_ms: *window_ms,
                used_header: None,
                ban_statuses: Vec::new(),
                ..RateLimit::default()
            })
            .collect();
        // Coinbase documents no lookback limit for fills, orders or transactions, and no
        // time window for them (cursor pages); candles come 300 bars per request, whatever
        // the bar, so no window in ms fits every timeframe.
        m.history = Vec::new();
        m.timeframes = TIMEFRAMES.iter().map(|(n, _, _)| n.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let doing = || format!("while configuring integration {:?}", config.integration);
        let cb = CoinbaseConfig::from_connector_config(&config).map_err(|e| e.context(doing()))?;
        let signer = CoinbaseSigner::new(&cb.api_key_name, &cb.private_key)
            .map_err(|e| e.context(doing()))?;
        Ok(CoinbaseConnector {
            host,
            endpoints: CoinbaseEndpoints::new(&cb.base_url),
            signer,
            pager: CoinbasePager {
                start_ms: cb.start_ms,
                unavailable: cb.unavailable,
            },
            config: cb,
            requests: AtomicU64::new(0),
            clock: ServerClock::new(),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let body = self.signed_get(
            &CoinbaseEndpoints::KEY_PERMISSIONS,
            CoinbaseEndpoints::KEY_PERMISSIONS.path,
            &[],
            "reading the API key's permissions",
        )?;
        let perms = parsing::parse_key_permissions(&body)?;
        let mut notes = vec![format!("portfolio type {}", perms.portfolio_type)];
        if !perms.can_view {
            notes.push("the key lacks the \"view\" permission: nothing can be synced".into());
        }
        Ok(CheckReport {
            account: format!("portfolio {}", perms.portfolio_uuid),
            permissions: Permissions {
                read: Some(perms.can_view),
                trade: Some(perms.can_trade),
                withdraw: Some(perms.can_transfer),
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
            Stream::Balances | Stream::Trades | Stream::Orders => Ok(vec![String::new()]),
            Stream::Deposits | Stream::Withdrawals | Stream::Ledger => {
                // The wallets that hold something, that the account is known to have touched,
                // or that were synced before: never every currency Coinbase lists.
                let accounts = self.accounts()?;
                let mut parts: Vec<String> = accounts
                    .iter()
                    .filter(|a| {
                        a.holds_something()
                            || context.assets.contains(&a.currency)
                            || context.known.contains(&a.uuid)
                    })
                    .map(|a| a.uuid.clone())
                    .collect();
                for known in &context.known {
                    if !known.is_empty() && !parts.contains(known) {
                        parts.push(known.clone());
                    }
                }
                Ok(parts)
            }
            Stream::Candles => Ok(pagination::candle_partitions(&self.config.candles)),
            other => Err(PluginError::unsupported(format!(
                "the coinbase plugin has no {other} stream"
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
            Stream::Trades => self.fetch_fills(cursor),
            Stream::Orders => self.fetch_orders(cursor),
            Stream::Deposits | Stream::Withdrawals | Stream::Ledger => {
                self.fetch_transactions(stream, partition, cursor)
            }
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the coinbase plugin has no {other} stream"
            ))),
        }
    }
}

impl CoinbaseConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    /// Every wallet, in one snapshot.
    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.host.now_ms();
        let accounts = self.accounts()?;
        let mut balances = parsing::balances(&accounts, as_of)?;
        // Only an account with a futures (CFM) wallet has a futures balance summary.
        if accounts
            .iter()
            .any(|a| a.raw["platform"] == "ACCOUNT_PLATFORM_CFM_CONSUMER")
        {
            let what = "reading the futures (CFM) balance summary";
            let body = self.signed_get(
                &CoinbaseEndpoints::CFM_BALANCE_SUMMARY,
                CoinbaseEndpoints::CFM_BALANCE_SUMMARY.path,
                &[],
                what,
            )?;
            let summary = parsing::parse_cfm_balance_summary(&body)
                .map_err(|e| e.context(format!("while {what}")))?;
            parsing::apply_cfm_balance_summary(&mut balances, &summary, as_of)?;
        }
        // Perpetuals (INTX) portfolios, each with its collateral balances. A key Coinbase
        // refuses them (scoped to another portfolio) still syncs every other wallet.
        let portfolios = match self.intx_portfolios() {
            Ok(portfolios) => portfolios,
            Err(e) if e.kind == ErrorKind::PERMISSION => {
                self.host.warn(&format!(
                    "No perpetuals (INTX) balances: Coinbase refuses this key the portfolio \
                     list ({}: {}).",
                    self.config.integration, e.message
                ));
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        for portfolio in portfolios {
            let what = format!(
                "reading the perpetuals (INTX) balances of portfolio {}",
                portfolio.uuid
            );
            let body = self.signed_get(
                &CoinbaseEndpoints::INTX_BALANCES,
                &CoinbaseEndpoints::intx_balances_path(&portfolio.uuid),
                &[],
                &what,
            )?;
            parsing::append_intx_balances(&mut balances, &portfolio.uuid, &body, as_of)
                .map_err(|e| e.context(format!("while {what}")))?;
        }
        Ok(Page::done(balances))
    }

    /// The account's perpetuals (INTX) portfolios that are not deleted.
    /// unconfirmed: that a key scoped to the default portfolio sees the INTX portfolios in
    /// this list and may read their balances; Coinbase scopes each CDP key to one portfolio
    /// "unless otherwise noted".
    fn intx_portfolios(&self) -> Result<Vec<parsing::Portfolio>, PluginError> {
        let what = "listing the perpetuals (INTX) portfolios";
        let body = self.signed_get(
            &CoinbaseEndpoints::PORTFOLIOS,
            CoinbaseEndpoints::PORTFOLIOS.path,
            &[("portfolio_type", "INTX".to_owned())],
            what,
        )?;
        let portfolios =
            parsing::parse_portfolios(&body).map_err(|e| e.context(format!("while {what}")))?;
        Ok(portfolios
            .into_iter()
            .filter(|p| p.kind == "INTX" && !p.deleted)
            .collect())
    }

    /// Every wallet of `/api/v3/brokerage/accounts`, all pages.
    fn accounts(&self) -> Result<Vec<Account>, PluginError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("limit", ACCOUNTS_LIMIT.to_string())];
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let what = format!(
                "listing the accounts (wallets), page {}",
                all.len() / ACCOUNTS_LIMIT + 1
            );
            let body = self.signed_get(
                &CoinbaseEndpoints::ACCOUNTS,
                CoinbaseEndpoints::ACCOUNTS.path,
                &params,
                &what,
            )?;
            let (accounts, next) =
                parsing::parse_accounts(&body).map_err(|e| e.context(format!("while {what}")))?;
            let empty = accounts.is_empty();
            all.extend(accounts);
            match next {
                Some(n) if !empty && cursor.as_ref() != Some(&n) => cursor = Some(n),
                _ => return Ok(all),
            }
        }
    }

    fn fetch_fills(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let walk = self.pager.since_request(cursor, "trades", now)?;
        let mut params = vec![
            (
                "start_sequence_timestamp",
                exsync_plugin_api::time::format_rfc3339_ms(walk.since),
            ),
            ("limit", FILLS_LIMIT.to_string()),
        ];
        if let Some(page) = walk.page() {
            params.push(("cursor", page.to_owned()));
        }
        let what = format!(
            "fetching fills since {}{}",
            exsync_plugin_api::time::format_rfc3339_ms(walk.since),
            walk.page()
                .map_or(String::new(), |p| format!(" (cursor {p})"))
        );
        let body = self.signed_get(
            &CoinbaseEndpoints::FILLS,
            CoinbaseEndpoints::FILLS.path,
            &params,
            &what,
        )?;
        let (items, next) =
            parsing::parse_fills(&body).map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.pager.since_page(&walk, items, next))
    }

    /// Orders of every status created since the walk's start, newest first, then the open
    /// orders of any age; the next walk starts at the oldest order that was still open, so
    /// its later state is read again.
    fn fetch_orders(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let now = self.server_now()?;
        let walk = self.pager.since_request(cursor, "orders", now)?;
        let since = exsync_plugin_api::time::format_rfc3339_ms(walk.since);
        let mut params = if walk.open {
            vec![("order_status", "OPEN".to_owned())]
        } else {
            vec![("start_date", since.clone())]
        };
        params.push(("limit", ORDERS_LIMIT.to_string()));
        if let Some(page) = walk.page() {
            params.push(("cursor", page.to_owned()));
        }
        let what = format!(
            "fetching {}{}",
            if walk.open {
                "the open orders".to_owned()
            } else {
                format!("orders created since {since}")
            },
            walk.page()
                .map_or(String::new(), |p| format!(" (cursor {p})"))
        );
        let body = self.signed_get(
            &CoinbaseEndpoints::ORDERS,
            CoinbaseEndpoints::ORDERS.path,
            &params,
            &what,
        )?;
        let (items, next) =
            parsing::parse_orders(&body).map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.pager.orders_page(&walk, items, next))
    }

    /// One wallet's transactions: all of them for the ledger, the deposits or withdrawals
    /// among them for those streams.
    fn fetch_transactions(
        &self,
        stream: Stream,
        account: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        if account.is_empty()
            || !account
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(PluginError::plugin(format!(
                "{stream} partition {account:?} is not a Coinbase wallet uuid"
            )));
        }
        let now = self.server_now()?;
        let walk = self
            .pager
            .transactions_request(cursor, stream.as_str(), now)?;
        let mut params = vec![("limit", TRANSACTIONS_LIMIT.to_string())];
        if let Some(after) = walk.after() {
            params.push(("starting_after", after.to_owned()));
        }
        let what = format!(
            "fetching the transactions of wallet {account}{}",
            walk.after()
                .map_or(String::new(), |a| format!(" after {a}"))
        );
        let path = CoinbaseEndpoints::transactions_path(account);
        let body = self.signed_get(&CoinbaseEndpoints::TRANSACTIONS, &path, &params, &what)?;
        let (raws, next) =
            parsing::parse_transactions(&body).map_err(|e| e.context(format!("while {what}")))?;
        let mut items = Vec::with_capacity(raws.len());
        for raw in raws {
            let kind = parsing::transfer_kind(&raw);
            let keep = match stream {
                Stream::Deposits => kind == TransferKind::Deposit,
                Stream::Withdrawals => kind == TransferKind::Withdrawal,
                _ => true,
            };
            let keyed = if stream == Stream::Ledger {
                parsing::parse_ledger_entry(raw)
            } else {
                parsing::parse_transfer(raw, kind)
            }
            .map_err(|e| e.context(format!("while {what}")))?;
            items.push(TransactionItem {
                key_ms: keyed.key_ms,
                id: keyed.record.id(),
                pending: keyed.pending && keep,
                record: keep.then_some(keyed.record),
            });
        }
        Ok(self.pager.transactions_page(&walk, items, next))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (product, timeframe, (gran, bar_ms)) = pagination::split_candle_partition(partition)
            .and_then(|(p, t)| granularity(t).map(|g| (p, t, g)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"PRODUCT-ID:timeframe\" with a Coinbase granularity"
                ))
            })?;
        let request = self.pager.candles_request(cursor, bar_ms)?;
        let what = format!(
            "fetching {timeframe} candles of {product} from {}",
            exsync_plugin_api::time::format_rfc3339_s(request.start)
        );
        let path = CoinbaseEndpoints::candles_path(product);
        let query = signing_query(&request.params(gran));
        let response = self
            .host
            .http(
                HttpRequest::get(self.endpoints.url(&path, query.as_str()))
                    .bucket(CoinbaseEndpoints::CANDLES.bucket),
            )
            .map_err(|e| e.context(format!("while {what}")))?;
        let body = parsing::success(response.status, response.body, &what)?;
        let now = self.server_now()?;
        let candles = parsing::parse_candles(&body, product, timeframe, bar_ms, now)
            .map_err(|e| e.context(format!("while {what}")))?;
        Ok(self.pager.candles_page(&request, candles, bar_ms, now))
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn offset(&self) -> Result<i64, PluginError> {
        match self.clock.known() {
            Some(offset) => Ok(offset),
            None => self.measure_offset(),
        }
    }

    /// Measures the offset now with `GET /api/v3/brokerage/time`; an offset beyond
    /// `max_clock_offset_ms` is a `clock` error.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        let offset = self.clock.measure(&self.host, || {
            let what = "reading Coinbase's server time";
            let response = self
                .host
                .http(
                    HttpRequest::get(self.endpoints.url(CoinbaseEndpoints::TIME.path, ""))
                        .bucket(CoinbaseEndpoints::TIME.bucket),
                )
                .map_err(|e| e.context(format!("while {what}")))?;
            let body = parsing::success(response.status, response.body, what)?;
            parsing::parse_server_time(&body)
        })?;
        if offset.abs() > self.config.max_clock_offset_ms {
            self.clock.forget();
            return Err(PluginError::clock(format!(
                "this host's clock is {} ms {} Coinbase's, more than the {} ms the connector \
                 corrects (option `max_clock_offset_ms`); Coinbase refuses tokens whose time is off",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
                self.config.max_clock_offset_ms
            )));
        }
        Ok(offset)
    }

    fn server_now(&self) -> Result<i64, PluginError> {
        Ok(self.host.now_ms() + self.offset()?)
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    /// A signed GET. A 401 may mean a bad key or a token whose time Coinbase refuses: the
    /// clock is measured again (a `clock` error if it is now off) and the request sent once
    /// more; a second 401 is an `auth` error.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        path: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let query = signing_query(params);
        let offset = self.offset()?;
        let mut response = self.send_signed(endpoint, path, query.as_str(), offset, what)?;
        if response.status == 401 {
            let offset = self
                .measure_offset()
                .map_err(|e| e.context(format!("while {what}")))?;
            self.host.warn(&format!(
                "Coinbase answered 401 while {what}; the clock is within bounds ({offset} ms), \
                 sending once more ({}).",
                self.config.integration
            ));
            response = self.send_signed(endpoint, path, query.as_str(), offset, what)?;
        }
        parsing::success(response.status, response.body, what)
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        path: &str,
        query: &str,
        offset: i64,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        debug_assert!(endpoint.signed);
        // A new token per attempt: rebuilt for every send, never resent as is.
        self.host
            .http_retrying(|| {
                let now_ms = self.host.now_ms();
                let counter = self.requests.fetch_add(1, Ordering::Relaxed);
                // The counter's address tells this instance from others in the process.
                let instance = &self.requests as *const AtomicU64 as u64;
                let nonce = signing::nonce(&self.config.api_key_name, instance, now_ms, counter);
                let now_s = (now_ms + offset).div_euclid(1000);
                let auth =
                    self.signer
                        .authorization("GET", self.endpoints.host(), path, now_s, &nonce);
                Ok(HttpRequest::get(self.endpoints.url(path, query))
                    .bucket(endpoint.bucket)
                    .header("Authorization", auth)
                    .header("Accept", "application/json"))
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

fn signing_query(params: &[(&str, String)]) -> Query {
    let mut q = Query::new();
    for (k, v) in params {
        q.push(k, v);
    }
    q
}
