//! Wiring for the `bitget` connector: [`Connector`] over the host's HTTP, clock and log.
//!
//! Owns the only state of an instance: the server-clock offset (measured by `check`, and when
//! Bitget rejects a timestamp), what the API key says about the account (cached once read),
//! whether the account is a unified trading account (asked once) and the spot symbol list
//! (cached for an hour). Everything else is in the pure modules.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use exsync_plugin_api::clock::ServerClock;
use exsync_plugin_api::window::{Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{
    CheckReport, Connector, ConnectorConfig, CredentialField, ErrorKind, HistoryLimit, Host,
    HttpRequest, HttpResponse, Manifest, Page, PartitionContext, Permissions, PluginError,
    RateLimit, RateScope, Record, Stream,
};
use serde_json::Value;

use crate::config::{split_unified, BitgetConfig};
use crate::endpoints::{
    granularity_of, BitgetEndpoints, Endpoint, MarginMode, ACCOUNT_PER_SECOND, API_HOSTS,
    BILLS_LIMIT, BILLS_WINDOW_MS, BUCKET_ACCOUNT, BUCKET_INFO, BUCKET_PUBLIC, BUCKET_TRADE,
    BUCKET_WALLET, BUCKET_WINDOW_MS, CANDLES_LIMIT, CROSSED, DEFAULT_BASE_URL, DEMO_HEADER,
    FILLS_LIMIT, FUTURES_LIMIT, FUTURES_PRODUCT_TYPES, FUTURES_WINDOW_MS, HISTORY_CANDLES_LIMIT,
    INFO_PER_SECOND, ISOLATED, MARGIN_LIMIT, ORDERS_LIMIT, PUBLIC_PER_SECOND, SANDBOX_BASE_URL,
    SYMBOLS_TTL_MS, TIMEFRAMES, TIMESTAMP_TOLERANCE_MS, TRADE_PER_SECOND, TRADE_REACH_MS,
    TRANSFER_LIMIT, TRANSFER_WINDOW_MS, UTA_CATEGORIES, UTA_LIMIT, UTA_PER_SECOND,
    WALLET_PER_SECOND,
};
use crate::endpoints::{BUCKET_UTA, BUCKET_UTA_WALLET, UTA_WALLET_PER_SECOND};
use crate::pagination::{
    self, next_page, next_uta_page, uta_window_params, window_params, BitgetPager,
};
use crate::parsing::{self, AccountInfo, ListPage, Markets};
use crate::signing::{self, BitgetSigner};

/// Bitget's codes for a timestamp it does not accept (expired, malformed, missing).
const TIMESTAMP_CODES: [&str; 3] = ["40008", "40005", "40004"];

/// One configured connection to one Bitget account.
pub struct BitgetConnector {
    /// Bitget's clock as ours sees it.
    clock: ServerClock,
    host: Host,
    config: BitgetConfig,
    endpoints: BitgetEndpoints,
    signer: BitgetSigner,
    pager: BitgetPager,
    state: Mutex<ConnectorState>,
}

#[derive(Default)]
struct ConnectorState {
    /// What `spot/account/info` said about the key.
    info: Option<AccountInfo>,
    /// The spot symbols and when they were fetched (our clock).
    markets: Option<(i64, Arc<Markets>)>,
    /// Whether the key belongs to a unified trading account (asked once per instance: an
    /// account's kind changes only when its owner upgrades it, and a restart asks again).
    uta: Option<bool>,
}

impl Connector for BitgetConnector {
    fn manifest() -> Manifest {
        let mut m = Manifest::new("bitget", "Bitget", env!("CARGO_PKG_VERSION"));
        let field = |name: &str, label: &str, secret: bool| CredentialField {
            name: name.into(),
            label: label.into(),
            secret,
            optional: false,
        };
        m.credentials = vec![
            field("api_key", "API Key", false),
            field("api_secret", "Secret Key", true),
            field("passphrase", "Passphrase", true),
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
            window_ms: BUCKET_WINDOW_MS,
            used_header: None,
            ban_statuses: Vec::new(),
            ..RateLimit::default()
        };
        m.rate_limits = vec![
            bucket(BUCKET_PUBLIC, PUBLIC_PER_SECOND),
            bucket(BUCKET_ACCOUNT, ACCOUNT_PER_SECOND),
            bucket(BUCKET_TRADE, TRADE_PER_SECOND),
            bucket(BUCKET_WALLET, WALLET_PER_SECOND),
            bucket(BUCKET_INFO, INFO_PER_SECOND),
            bucket(BUCKET_UTA, UTA_PER_SECOND),
            bucket(BUCKET_UTA_WALLET, UTA_WALLET_PER_SECOND),
        ];
        // Bitget counts private endpoints per account (UID), public ones per IP.
        for limit in &mut m.rate_limits {
            if limit.bucket != BUCKET_PUBLIC {
                limit.scope = RateScope::Key;
            }
        }
        let limit = |stream, lookback, window| HistoryLimit {
            stream,
            max_lookback_ms: lookback,
            max_window_ms: Some(window),
        };
        m.history = vec![
            // Spot fills and orders take 90-day windows, futures ones 7-day windows: the
            // narrower is declared.
            limit(Stream::Trades, Some(TRADE_REACH_MS), FUTURES_WINDOW_MS),
            limit(Stream::Orders, Some(TRADE_REACH_MS), FUTURES_WINDOW_MS),
            limit(Stream::Ledger, Some(TRADE_REACH_MS), BILLS_WINDOW_MS),
            limit(Stream::Deposits, None, TRANSFER_WINDOW_MS),
            limit(Stream::Withdrawals, None, TRANSFER_WINDOW_MS),
        ];
        m.timeframes = TIMEFRAMES.iter().map(|(t, _)| t.to_string()).collect();
        m
    }

    fn new(config: ConnectorConfig, host: Host) -> Result<Self, PluginError> {
        let bitget = BitgetConfig::from_connector_config(&config).map_err(|e| {
            e.context(format!(
                "while configuring integration {:?}",
                config.integration
            ))
        })?;
        Ok(BitgetConnector {
            host,
            endpoints: BitgetEndpoints::new(&bitget.base_url),
            signer: BitgetSigner::new(&bitget.api_key, &bitget.api_secret, &bitget.passphrase),
            pager: BitgetPager::new(bitget.start_ms, bitget.transfer_overlap_ms),
            config: bitget,
            clock: ServerClock::new(),
            state: Mutex::new(ConnectorState::default()),
        })
    }

    fn check(&self) -> Result<CheckReport, PluginError> {
        let offset = self.measure_offset()?;
        let info = self.fetch_account_info("checking the API key")?;
        let mut notes = vec![format!(
            "key authorities: {}",
            if info.authorities.is_empty() {
                "none listed".to_owned()
            } else {
                info.authorities.join(", ")
            }
        )];
        notes.push(if self.is_uta()? {
            "unified trading account: synced through the v3 API".to_owned()
        } else {
            "classic account: synced through the v2 API".to_owned()
        });
        if self.config.demo {
            notes.push("demo trading (paptrading: 1)".to_owned());
        }
        if self.config.adjust_clock && offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Bitget's; requests are signed with Bitget's \
                 time (option adjust_clock)",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
            ));
        } else if offset.abs() > 1000 {
            notes.push(format!(
                "this host's clock is {} ms {} Bitget's; signed requests fail once that passes \
                 {} ms",
                offset.abs(),
                if offset > 0 { "behind" } else { "ahead of" },
                TIMESTAMP_TOLERANCE_MS
            ));
        }
        Ok(CheckReport {
            account: info
                .user_id
                .clone()
                .unwrap_or_else(|| "bitget account".into()),
            permissions: Permissions {
                read: Some(true),
                trade: Some(info.can_trade),
                withdraw: Some(info.can_withdraw),
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
        if matches!(stream, Stream::Trades | Stream::Orders | Stream::Ledger) && self.is_uta()? {
            // The unified account lists every symbol of a category at once.
            return Ok(UTA_CATEGORIES.iter().map(|c| c.to_string()).collect());
        }
        match stream {
            Stream::Balances | Stream::Deposits | Stream::Withdrawals => Ok(vec![String::new()]),
            // The spot bills, the bills of each futures product type, and the cross margin
            // records where the account has a margin wallet.
            Stream::Ledger => {
                let mut parts = vec![SPOT.to_owned()];
                parts.extend(FUTURES_PRODUCT_TYPES.iter().map(|p| p.to_string()));
                let known = context.known.iter().any(|k| k == CROSSED_MARGIN);
                if known || !self.margin_coins()?.is_empty() {
                    parts.push(CROSSED_MARGIN.to_owned());
                }
                // Isolated margin records are asked for per symbol.
                let mut isolated: BTreeSet<String> = self
                    .isolated_symbols()?
                    .into_iter()
                    .map(|s| format!("{}{s}", ISOLATED.prefix))
                    .collect();
                isolated.extend(
                    context
                        .known
                        .iter()
                        .filter(|k| k.starts_with(ISOLATED.prefix))
                        .cloned(),
                );
                parts.extend(isolated);
                Ok(parts)
            }
            // Bitget's spot fills (and orders) are asked for per symbol: the symbols both of
            // whose coins the account holds or has touched, never every market. Futures fills
            // and orders are asked for per product type.
            Stream::Trades | Stream::Orders => {
                let markets = self.markets(true)?;
                let mut assets: BTreeSet<String> = context.assets.iter().cloned().collect();
                assets.extend(self.held_assets()?);
                let mut parts = trade_partitions(&markets, &assets, &context.known);
                // Cross margin: the symbols both of whose coins the margin wallet holds;
                // isolated margin: the symbols of the isolated wallets.
                let margin_coins = self.margin_coins()?;
                let cross = trade_partitions(&markets, &margin_coins, &[]);
                let isolated = self.isolated_symbols()?;
                let margin = cross
                    .iter()
                    .map(|s| format!("{}{s}", CROSSED.prefix))
                    .chain(isolated.iter().map(|s| format!("{}{s}", ISOLATED.prefix)));
                for part in margin {
                    if !parts.contains(&part) {
                        parts.push(part);
                    }
                }
                for product_type in FUTURES_PRODUCT_TYPES {
                    if !parts.iter().any(|p| p == product_type) {
                        parts.push(product_type.to_owned());
                    }
                }
                Ok(parts)
            }
            Stream::Candles => {
                if self.config.candles.is_empty() {
                    return Ok(Vec::new());
                }
                let markets = self.markets(false)?;
                let mut partitions = Vec::with_capacity(self.config.candles.len());
                for (unified, timeframe) in &self.config.candles {
                    let market = split_unified(unified)
                        .and_then(|(base, quote)| markets.find(base, quote))
                        .ok_or_else(|| {
                            PluginError::config(format!(
                                "candles symbol {unified:?} is not a Bitget spot market \
                                 (spot/public/symbols lists {} symbols)",
                                markets.len()
                            ))
                        })?;
                    partitions.push(format!("{}:{timeframe}", market.symbol));
                }
                Ok(partitions)
            }
            other => Err(PluginError::unsupported(format!(
                "the bitget plugin has no {other} stream"
            ))),
        }
    }

    fn fetch(
        &self,
        stream: Stream,
        partition: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        if matches!(
            stream,
            Stream::Balances | Stream::Trades | Stream::Orders | Stream::Ledger
        ) && self.is_uta()?
        {
            return match stream {
                Stream::Balances => self.fetch_uta_balances(),
                _ => self.fetch_uta(stream, partition, cursor),
            };
        }
        match stream {
            Stream::Balances => self.fetch_balances(),
            Stream::Trades | Stream::Orders if is_futures(partition) => {
                self.fetch_futures(stream, partition, cursor)
            }
            Stream::Trades | Stream::Orders if margin_of(partition).is_some() => {
                let (mode, symbol) = margin_of(partition).expect("checked");
                self.fetch_margin(mode, stream, symbol, cursor)
            }
            Stream::Trades => self.fetch_trades(partition, cursor),
            Stream::Orders => self.fetch_orders(partition, cursor),
            Stream::Ledger if is_futures(partition) => self.fetch_futures_bills(partition, cursor),
            Stream::Ledger if partition == CROSSED_MARGIN => {
                self.fetch_margin_records(&CROSSED, None, cursor)
            }
            Stream::Ledger if partition.starts_with(ISOLATED.prefix) => {
                let symbol = &partition[ISOLATED.prefix.len()..];
                self.fetch_margin_records(&ISOLATED, Some(symbol), cursor)
            }
            Stream::Ledger => self.fetch_ledger(cursor),
            Stream::Deposits | Stream::Withdrawals => self.fetch_transfers(stream, cursor),
            Stream::Candles => self.fetch_candles(partition, cursor),
            other => Err(PluginError::unsupported(format!(
                "the bitget plugin has no {other} stream"
            ))),
        }
    }
}

/// The ledger partition of the spot bills.
const SPOT: &str = "spot";
/// The ledger partition of the cross margin records.
const CROSSED_MARGIN: &str = "crossed-margin";
/// The margin mode and symbol of a margin trade or order partition (`crossed-margin:BTCUSDT`,
/// `isolated-margin:BTCUSDT`); the ids of their records carry the prefix too.
fn margin_of(partition: &str) -> Option<(&'static MarginMode, &str)> {
    [&CROSSED, &ISOLATED].into_iter().find_map(|mode| {
        partition
            .strip_prefix(mode.prefix)
            .map(|symbol| (mode, symbol))
    })
}

/// Whether a partition is a futures product type rather than a spot symbol.
fn is_futures(partition: &str) -> bool {
    FUTURES_PRODUCT_TYPES.contains(&partition)
}

/// The trade and order partitions: every spot symbol whose base and quote are both among
/// `assets`, and every partition already known.
pub(crate) fn trade_partitions(
    markets: &Markets,
    assets: &BTreeSet<String>,
    known: &[String],
) -> Vec<String> {
    let mut symbols: BTreeSet<String> = markets
        .iter()
        .filter(|m| assets.contains(&m.base) && assets.contains(&m.quote))
        .map(|m| m.symbol.clone())
        .collect();
    symbols.extend(known.iter().filter(|k| !k.is_empty()).cloned());
    symbols.into_iter().collect()
}

impl BitgetConnector {
    // -----------------------------------------------------------------------------------
    // Streams.

    fn fetch_balances(&self) -> Result<Page, PluginError> {
        let mut records = Vec::new();
        let as_of = self.server_now();
        let data = self.signed_get(
            &BitgetEndpoints::SPOT_ASSETS,
            &[],
            "fetching the spot wallet balance",
        )?;
        records.extend(parsing::parse_spot_assets(&data, as_of)?);
        if let Some(data) = self.optional_wallet(
            &BitgetEndpoints::FUNDING_ASSETS,
            &[],
            "fetching the funding wallet balance",
        )? {
            records.extend(parsing::parse_funding_assets(&data, as_of)?);
        }
        for product_type in FUTURES_PRODUCT_TYPES {
            let what = format!("fetching the {product_type} futures accounts");
            if let Some(data) = self.optional_wallet(
                &BitgetEndpoints::FUTURES_ACCOUNTS,
                &[("productType", product_type.to_owned())],
                &what,
            )? {
                records.extend(parsing::parse_futures_accounts(&data, as_of)?);
            }
        }
        if let Some(data) = self.optional_wallet(
            &BitgetEndpoints::MARGIN_ASSETS,
            &[],
            "fetching the cross margin wallet balance",
        )? {
            records.extend(parsing::parse_margin_assets(&data, as_of)?);
        }
        if let Some(data) = self.optional_wallet(
            &BitgetEndpoints::ISOLATED_ASSETS,
            &[],
            "fetching the isolated margin wallet balances",
        )? {
            records.extend(parsing::parse_isolated_assets(&data, as_of)?);
        }
        if let Some(data) = self.optional_wallet(
            &BitgetEndpoints::EARN_ASSETS,
            &[],
            "fetching the Earn holdings",
        )? {
            records.extend(parsing::parse_earn_assets(&data, as_of)?);
        }
        Ok(Page::done(records))
    }

    /// A wallet the key may not be allowed to read: a `permission` error is logged and the
    /// wallet left out, so the other wallets are still stored.
    fn optional_wallet(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Option<Value>, PluginError> {
        match self.signed_get(endpoint, params, what) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind == ErrorKind::PERMISSION => {
                self.host.warn(&format!(
                    "Wallet left out: the API key may not read it ({}: {}).",
                    self.config.integration, e.message
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn fetch_trades(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_symbol(symbol, Stream::Trades)?;
        let rule = self.pager.trade_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, "trades", now)?;
        let mut params = vec![("symbol", symbol.to_owned())];
        params.extend(window_params(&request, FILLS_LIMIT));
        let what = window_what("fills", Some(symbol), &request);
        let data = self.signed_get(&BitgetEndpoints::FILLS, &params, &what)?;
        let markets = self.markets(true)?;
        let page = parsing::parse_fills(&data, &markets).map_err(|e| e.context(&what))?;
        Ok(window_page(walker, rule, &request, page, FILLS_LIMIT, now))
    }

    fn fetch_orders(&self, symbol: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        require_symbol(symbol, Stream::Orders)?;
        let rule = self.pager.trade_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, "orders", now)?;
        let mut params = vec![("symbol", symbol.to_owned())];
        params.extend(window_params(&request, ORDERS_LIMIT));
        let what = window_what("history orders", Some(symbol), &request);
        let data = self.signed_get(&BitgetEndpoints::HISTORY_ORDERS, &params, &what)?;
        let markets = self.markets(true)?;
        let mut page = parsing::parse_orders(&data, &markets, "spot/trade/history-orders")
            .map_err(|e| e.context(&what))?;
        let more = next_page(&page.ids, ORDERS_LIMIT).is_some();
        if walker.is_last_page(rule, &request, more, now) {
            // The order history lists no order still open: those come from the
            // unfilled-orders endpoint, once per walk, and the next walk starts at the oldest.
            let open = self.all_pages(
                &BitgetEndpoints::UNFILLED_ORDERS,
                vec![("symbol", symbol.to_owned())],
                ORDERS_LIMIT,
                &format!("fetching the unfilled orders of {symbol}"),
                |data| parsing::parse_orders(data, &markets, "spot/trade/unfilled-orders"),
            )?;
            merge_open(&mut page, open);
        }
        Ok(window_page(walker, rule, &request, page, ORDERS_LIMIT, now))
    }

    fn fetch_ledger(&self, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.bills_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, "ledger", now)?;
        let params = window_params(&request, BILLS_LIMIT);
        let what = window_what("spot bills", None, &request);
        let data = self.signed_get(&BitgetEndpoints::BILLS, &params, &what)?;
        let page = parsing::parse_bills(&data).map_err(|e| e.context(&what))?;
        Ok(window_page(walker, rule, &request, page, BILLS_LIMIT, now))
    }

    /// Futures fills or orders of one product type; orders still open come from
    /// `orders-pending`, once per walk.
    fn fetch_futures(
        &self,
        stream: Stream,
        product_type: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let rule = self.pager.futures_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, stream.as_str(), now)?;
        let mut params = vec![("productType", product_type.to_owned())];
        params.extend(window_params(&request, FUTURES_LIMIT));
        let markets = self.markets(true)?;
        if stream == Stream::Trades {
            let what = window_what("futures fills", Some(product_type), &request);
            let data = self.signed_get(&BitgetEndpoints::FUTURES_FILLS, &params, &what)?;
            let page = parsing::parse_futures_fills(&data, &markets, product_type)
                .map_err(|e| e.context(&what))?;
            return Ok(window_page(
                walker,
                rule,
                &request,
                page,
                FUTURES_LIMIT,
                now,
            ));
        }
        let what = window_what("futures orders", Some(product_type), &request);
        let data = self.signed_get(&BitgetEndpoints::FUTURES_ORDERS, &params, &what)?;
        let mut page = parsing::parse_futures_orders(&data, &markets, product_type)
            .map_err(|e| e.context(&what))?;
        let more = next_page(&page.ids, FUTURES_LIMIT).is_some();
        if walker.is_last_page(rule, &request, more, now) {
            let open = self.all_pages(
                &BitgetEndpoints::FUTURES_PENDING,
                vec![("productType", product_type.to_owned())],
                FUTURES_LIMIT,
                &format!("fetching the open {product_type} orders"),
                |data| parsing::parse_futures_pending(data, &markets, product_type),
            )?;
            merge_open(&mut page, open);
        }
        Ok(window_page(
            walker,
            rule,
            &request,
            page,
            FUTURES_LIMIT,
            now,
        ))
    }

    /// Every page of a list without a window (orders open now), by `idLessThan`.
    fn all_pages(
        &self,
        endpoint: &Endpoint,
        base: Vec<(&'static str, String)>,
        limit: usize,
        what: &str,
        parse: impl Fn(&Value) -> Result<ListPage, PluginError>,
    ) -> Result<ListPage, PluginError> {
        let mut all = ListPage::default();
        let mut id_less_than: Option<String> = None;
        loop {
            let mut params = base.clone();
            params.push(("limit", limit.to_string()));
            if let Some(id) = &id_less_than {
                params.push(("idLessThan", id.clone()));
            }
            let data = self.signed_get(endpoint, &params, what)?;
            let page = parse(&data).map_err(|e| e.context(what))?;
            all.oldest_open = min_time(all.oldest_open, page.oldest_open);
            let next = next_page(&page.ids, limit);
            all.records.extend(page.records);
            match next {
                Some(next) if id_less_than.as_deref() != Some(next.as_str()) => {
                    id_less_than = Some(next)
                }
                _ => break,
            }
        }
        Ok(all)
    }

    fn fetch_futures_bills(
        &self,
        product_type: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let rule = self.pager.bills_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, "ledger", now)?;
        let mut params = vec![("productType", product_type.to_owned())];
        params.extend(window_params(&request, FUTURES_LIMIT));
        let what = window_what("futures bills", Some(product_type), &request);
        let data = self.signed_get(&BitgetEndpoints::FUTURES_BILLS, &params, &what)?;
        let page =
            parsing::parse_futures_bills(&data, product_type).map_err(|e| e.context(&what))?;
        Ok(window_page(
            walker,
            rule,
            &request,
            page,
            FUTURES_LIMIT,
            now,
        ))
    }

    /// Margin fills or orders of one symbol; orders still open come from the mode's
    /// `open-orders`, once per walk.
    fn fetch_margin(
        &self,
        mode: &MarginMode,
        stream: Stream,
        symbol: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        require_symbol(symbol, stream)?;
        let rule = self.pager.trade_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, stream.as_str(), now)?;
        let mut params = vec![("symbol", symbol.to_owned())];
        params.extend(window_params(&request, MARGIN_LIMIT));
        let markets = self.markets(true)?;
        let name = mode.name;
        if stream == Stream::Trades {
            let what = window_what(&format!("{name} margin fills"), Some(symbol), &request);
            let data = self.signed_get(&mode.fills, &params, &what)?;
            let page = parsing::parse_margin_fills(&data, &markets, symbol, mode.prefix)
                .map_err(|e| e.context(&what))?;
            return Ok(window_page(walker, rule, &request, page, MARGIN_LIMIT, now));
        }
        let what = window_what(&format!("{name} margin orders"), Some(symbol), &request);
        let data = self.signed_get(&mode.orders, &params, &what)?;
        let mut page = parsing::parse_margin_orders(&data, &markets, symbol, mode.prefix)
            .map_err(|e| e.context(&what))?;
        let more = next_page(&page.ids, MARGIN_LIMIT).is_some();
        if walker.is_last_page(rule, &request, more, now) {
            // Orders open now, once per walk: placed at most as far back as the walk reaches.
            let open = self.all_pages(
                &mode.open_orders,
                vec![
                    ("symbol", symbol.to_owned()),
                    ("startTime", walker.floor(now).to_string()),
                ],
                MARGIN_LIMIT,
                &format!("fetching the open {name} margin orders of {symbol}"),
                |data| parsing::parse_margin_orders(data, &markets, symbol, mode.prefix),
            )?;
            merge_open(&mut page, open);
        }
        Ok(window_page(walker, rule, &request, page, MARGIN_LIMIT, now))
    }

    /// The margin records of a mode: of the whole cross margin wallet, of one isolated symbol.
    fn fetch_margin_records(
        &self,
        mode: &MarginMode,
        symbol: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        let rule = self.pager.bills_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, "ledger", now)?;
        let mut params = Vec::new();
        if let Some(symbol) = symbol {
            params.push(("symbol", symbol.to_owned()));
        }
        params.extend(window_params(&request, MARGIN_LIMIT));
        let what = window_what(&format!("{} margin records", mode.name), symbol, &request);
        let data = self.signed_get(&mode.records, &params, &what)?;
        let partition = match symbol {
            Some(symbol) => format!("{}{symbol}", mode.prefix),
            None => CROSSED_MARGIN.to_owned(),
        };
        let page =
            parsing::parse_margin_records(&data, &partition).map_err(|e| e.context(&what))?;
        Ok(window_page(walker, rule, &request, page, MARGIN_LIMIT, now))
    }

    fn fetch_transfers(&self, stream: Stream, cursor: Option<&str>) -> Result<Page, PluginError> {
        let rule = self.pager.transfer_rule();
        let walker = &self.pager.transfers;
        let now = self.server_now();
        let request = walker.request(rule, cursor, stream.as_str(), now)?;
        let deposits = stream == Stream::Deposits;
        // A unified account has its own records: the same window and page size, paged by
        // `cursor` (the smallest `orderId` so far, as `idLessThan` is in v2).
        let uta = self.is_uta()?;
        let (endpoint, name) = match (uta, deposits) {
            (false, true) => (&BitgetEndpoints::DEPOSITS, "deposit records"),
            (false, false) => (&BitgetEndpoints::WITHDRAWALS, "withdrawal records"),
            (true, true) => (&BitgetEndpoints::UTA_DEPOSITS, "unified deposit records"),
            (true, false) => (
                &BitgetEndpoints::UTA_WITHDRAWALS,
                "unified withdrawal records",
            ),
        };
        let params = if uta {
            uta_window_params(&request, TRANSFER_LIMIT)
        } else {
            window_params(&request, TRANSFER_LIMIT)
        };
        let what = window_what(name, None, &request);
        let data = self.signed_get(endpoint, &params, &what)?;
        let page = match (uta, deposits) {
            (false, true) => parsing::parse_deposits(&data),
            (false, false) => parsing::parse_withdrawals(&data),
            (true, true) => parsing::parse_uta_deposits(&data),
            (true, false) => parsing::parse_uta_withdrawals(&data),
        }
        .map_err(|e| e.context(&what))?;
        Ok(window_page(
            walker,
            rule,
            &request,
            page,
            TRANSFER_LIMIT,
            now,
        ))
    }

    fn fetch_candles(&self, partition: &str, cursor: Option<&str>) -> Result<Page, PluginError> {
        let (symbol, timeframe, granularity) = pagination::split_candle_partition(partition)
            .and_then(|(s, tf)| granularity_of(tf).map(|g| (s, tf, g)))
            .ok_or_else(|| {
                PluginError::plugin(format!(
                    "candles partition {partition:?} is not \"SYMBOL:timeframe\" with a Bitget \
                     timeframe"
                ))
            })?;
        let now = self.server_now();
        let request = self.pager.candles_request(cursor, now)?;
        // Candles older than the `candles` endpoint serves come from `history-candles`: the
        // `limit` candles up to `endTime`, which the range ends at.
        let history = BitgetPager::candles_from_history(granularity, &request, now);
        let (endpoint, limit) = if history {
            (&BitgetEndpoints::HISTORY_CANDLES, HISTORY_CANDLES_LIMIT)
        } else {
            (&BitgetEndpoints::CANDLES, CANDLES_LIMIT)
        };
        let (start, end) = BitgetPager::candles_range(granularity, &request, limit, now);
        let mut params = vec![
            ("symbol", symbol.to_owned()),
            ("granularity", granularity.to_owned()),
        ];
        if !history {
            params.push(("startTime", start.to_string()));
        }
        params.push(("endTime", end.to_string()));
        params.push(("limit", limit.to_string()));
        let what = format!("fetching candles of {symbol} {timeframe} in [{start}, {end}]");
        let data = self.public_get(endpoint, &params, &what)?;
        let markets = self.markets(true)?;
        let candles = parsing::parse_candles(
            &data,
            symbol,
            timeframe,
            granularity,
            markets.get(symbol),
            now,
        )
        .map_err(|e| e.context(&what))?;
        Ok(self
            .pager
            .candles_page(granularity, &request, end, candles, now))
    }

    // -----------------------------------------------------------------------------------
    // The unified trading account.

    /// The unified account's coins and the funding wallet beside it.
    fn fetch_uta_balances(&self) -> Result<Page, PluginError> {
        let as_of = self.server_now();
        let data = self.signed_get(
            &BitgetEndpoints::UTA_ASSETS,
            &[],
            "fetching the unified account balance",
        )?;
        let mut records = parsing::parse_uta_assets(&data, as_of)?;
        if let Some(data) = self.optional_wallet(
            &BitgetEndpoints::UTA_FUNDING_ASSETS,
            &[],
            "fetching the funding wallet balance",
        )? {
            records.extend(parsing::parse_uta_funding_assets(&data, as_of)?);
        }
        Ok(Page::done(records))
    }

    /// Fills, orders or financial records of one category of the unified account; orders
    /// still open come from `unfilled-orders`, once per walk.
    fn fetch_uta(
        &self,
        stream: Stream,
        category: &str,
        cursor: Option<&str>,
    ) -> Result<Page, PluginError> {
        if !UTA_CATEGORIES.contains(&category) {
            return Err(PluginError::plugin(format!(
                "{stream} partition {category:?} is not a Bitget unified account category"
            )));
        }
        let rule = self.pager.uta_rule();
        let walker = &self.pager.recent;
        let now = self.server_now();
        let request = walker.request(rule, cursor, stream.as_str(), now)?;
        let mut params = vec![("category", category.to_owned())];
        params.extend(uta_window_params(&request, UTA_LIMIT));
        let markets = self.markets(true)?;
        let (endpoint, name) = match stream {
            Stream::Trades => (&BitgetEndpoints::UTA_FILLS, "unified account fills"),
            Stream::Orders => (
                &BitgetEndpoints::UTA_HISTORY_ORDERS,
                "unified account history orders",
            ),
            _ => (
                &BitgetEndpoints::UTA_FINANCIAL_RECORDS,
                "unified account financial records",
            ),
        };
        let what = window_what(name, Some(category), &request);
        let data = self.signed_get(endpoint, &params, &what)?;
        let mut page = match stream {
            Stream::Trades => parsing::parse_uta_fills(&data, &markets),
            Stream::Orders => parsing::parse_uta_orders(&data, &markets),
            _ => parsing::parse_uta_records(&data),
        }
        .map_err(|e| e.context(&what))?;
        let next = next_uta_page(page.ids.len(), page.cursor.as_deref(), UTA_LIMIT);
        if stream == Stream::Orders && walker.is_last_page(rule, &request, next.is_some(), now) {
            let open = self.all_uta_open_orders(category, &markets)?;
            merge_open(&mut page, open);
        }
        Ok(walker.page(rule, &request, page.records, next, page.oldest_open, now))
    }

    /// Every page of the unified account's orders open now in `category`, by `cursor`.
    fn all_uta_open_orders(
        &self,
        category: &str,
        markets: &Markets,
    ) -> Result<ListPage, PluginError> {
        let what = format!("fetching the open unified account orders of {category}");
        let mut all = ListPage::default();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![
                ("category", category.to_owned()),
                ("limit", UTA_LIMIT.to_string()),
            ];
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let data = self.signed_get(&BitgetEndpoints::UTA_UNFILLED_ORDERS, &params, &what)?;
            let page = parsing::parse_uta_orders(&data, markets).map_err(|e| e.context(&what))?;
            all.oldest_open = min_time(all.oldest_open, page.oldest_open);
            let next = next_uta_page(page.ids.len(), page.cursor.as_deref(), UTA_LIMIT);
            all.records.extend(page.records);
            match next {
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => break,
            }
        }
        Ok(all)
    }

    /// Whether the key belongs to a unified trading account: `GET /api/v3/account/settings`
    /// answers only for one. A refusal that says nothing about the account (key, clock, rate,
    /// outage) is passed on; any other refusal means a classic account (unconfirmed: the code
    /// Bitget answers a classic account's key with; a unified account key without the UTA
    /// management read permission is then taken for a classic one, and its v2 reads fail
    /// with `permission`).
    fn is_uta(&self) -> Result<bool, PluginError> {
        if let Some(uta) = self.state().uta {
            return Ok(uta);
        }
        let uta = match self.signed_get(
            &BitgetEndpoints::UTA_SETTINGS,
            &[],
            "asking whether the account is a unified trading account",
        ) {
            Ok(_) => true,
            Err(e)
                if [
                    ErrorKind::AUTH,
                    ErrorKind::CLOCK,
                    ErrorKind::RATE_LIMITED,
                    ErrorKind::BANNED,
                    ErrorKind::NETWORK,
                    ErrorKind::EXCHANGE_UNAVAILABLE,
                ]
                .contains(&e.kind) =>
            {
                return Err(e)
            }
            Err(_) => false,
        };
        self.state().uta = Some(uta);
        Ok(uta)
    }

    // -----------------------------------------------------------------------------------
    // Account and symbols.

    fn fetch_account_info(&self, what: &str) -> Result<AccountInfo, PluginError> {
        let data = self.signed_get(&BitgetEndpoints::ACCOUNT_INFO, &[], what)?;
        let info = parsing::parse_account_info(&data).map_err(|e| e.context(what))?;
        self.state().info = Some(info.clone());
        Ok(info)
    }

    /// The coins of the spot wallet, to choose trade symbols.
    fn held_assets(&self) -> Result<BTreeSet<String>, PluginError> {
        let data = self.signed_get(
            &BitgetEndpoints::SPOT_ASSETS,
            &[],
            "listing held coins to choose trade symbols",
        )?;
        Ok(parsing::parse_spot_assets(&data, 0)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Balance(b) => Some(b.asset_native),
                _ => None,
            })
            .collect())
    }

    /// The coins of the cross margin wallet; none when the key may not read it.
    fn margin_coins(&self) -> Result<BTreeSet<String>, PluginError> {
        let Some(data) = self.optional_wallet(
            &BitgetEndpoints::MARGIN_ASSETS,
            &[],
            "listing cross margin coins to choose margin symbols",
        )?
        else {
            return Ok(BTreeSet::new());
        };
        Ok(parsing::parse_margin_assets(&data, 0)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Balance(b) => Some(b.asset_native),
                _ => None,
            })
            .collect())
    }

    /// The symbols of the isolated margin wallets; none when the key may not read them.
    fn isolated_symbols(&self) -> Result<BTreeSet<String>, PluginError> {
        let Some(data) = self.optional_wallet(
            &BitgetEndpoints::ISOLATED_ASSETS,
            &[],
            "listing isolated margin symbols",
        )?
        else {
            return Ok(BTreeSet::new());
        };
        Ok(parsing::parse_isolated_assets(&data, 0)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Balance(b) => b.wallet.strip_prefix("isolated_margin:").map(str::to_owned),
                _ => None,
            })
            .collect())
    }

    /// The spot symbols: fetched at most once an hour per instance, or, when `any_age`
    /// (looking up a symbol's base and quote, which never change), whatever copy is cached.
    fn markets(&self, any_age: bool) -> Result<Arc<Markets>, PluginError> {
        let now = self.host.now_ms();
        if let Some((at, markets)) = &self.state().markets {
            if any_age || (now - at < SYMBOLS_TTL_MS && now >= *at) {
                return Ok(Arc::clone(markets));
            }
        }
        let data = self.public_get(
            &BitgetEndpoints::SYMBOLS,
            &[],
            "fetching the spot symbol list",
        )?;
        let markets = Arc::new(Markets::new(parsing::parse_symbols(&data)?));
        self.state().markets = Some((now, Arc::clone(&markets)));
        Ok(markets)
    }

    // -----------------------------------------------------------------------------------
    // Clock.

    fn state(&self) -> MutexGuard<'_, ConnectorState> {
        // A panic poisons the whole instance (the export glue refuses further calls), so a
        // poisoned lock is never seen by a live instance; take the data anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Measures Bitget's clock minus ours now with `GET /api/v2/public/time`, and keeps it.
    fn measure_offset(&self) -> Result<i64, PluginError> {
        self.clock.measure(&self.host, || {
            let data =
                self.public_get(&BitgetEndpoints::TIME, &[], "reading Bitget's server time")?;
            parsing::parse_server_time(&data)
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

    /// "Now" for windows and finality: our clock, corrected where we follow Bitget's.
    fn server_now(&self) -> i64 {
        signing::timestamp(self.host.now_ms(), self.applied_offset())
    }

    // -----------------------------------------------------------------------------------
    // HTTP.

    fn request(&self, endpoint: &Endpoint, query: &str) -> HttpRequest {
        let mut request =
            HttpRequest::get(self.endpoints.url(endpoint, query)).bucket(endpoint.bucket);
        if self.config.demo {
            request = request.header(DEMO_HEADER, "1");
        }
        request
    }

    /// An unsigned GET; the envelope's `data` of a successful answer. Errors say what was
    /// being done and name the endpoint.
    fn public_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Value, PluginError> {
        let what = &format!("{what} (GET {})", endpoint.path);
        let query = signing::query(params);
        let response = self
            .host
            .http(self.request(endpoint, &query.sent))
            .map_err(|e| e.context(format!("while {what}")))?;
        parsing::data(response.status, &response.body, what)
    }

    /// A signed GET. A rejected timestamp is retried once with Bitget's clock when
    /// `adjust_clock` is set, and is otherwise a `clock` error that tells the offset. A 429
    /// the host could not wait out is a `rate_limited` error; the engine asks again later.
    fn signed_get(
        &self,
        endpoint: &Endpoint,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Value, PluginError> {
        let what = &format!("{what} (GET {})", endpoint.path);
        let query = signing::query(params);
        let mut clock_retried = false;
        loop {
            let response = self.send_signed(endpoint, &query, what)?;
            let code = parsing::code(&response.body);
            if code
                .as_deref()
                .is_some_and(|c| TIMESTAMP_CODES.contains(&c))
            {
                let offset = self.measure_offset()?;
                if self.config.adjust_clock && !clock_retried {
                    clock_retried = true;
                    self.host.warn(&format!(
                        "Bitget rejected our timestamp while {what}; following its clock \
                         (offset {offset} ms) and retrying once ({}).",
                        self.config.integration
                    ));
                    continue;
                }
                let err = parsing::classify_error(response.status, &response.body, what);
                return Err(PluginError::clock(format!(
                    "{}; this host's clock is {} ms {} Bitget's (it accepts {} ms): {hint}",
                    err.message,
                    offset.abs(),
                    if offset >= 0 { "behind" } else { "ahead of" },
                    TIMESTAMP_TOLERANCE_MS,
                    hint = clock_hint(self.config.adjust_clock, "Bitget")
                )));
            }
            return parsing::data(response.status, &response.body, what);
        }
    }

    fn send_signed(
        &self,
        endpoint: &Endpoint,
        query: &signing::SignedQuery,
        what: &str,
    ) -> Result<HttpResponse, PluginError> {
        // Signed with a timestamp: rebuilt for every attempt, never resent as is.
        self.host
            .http_retrying(|| {
                let timestamp = signing::timestamp(self.host.now_ms(), self.applied_offset());
                let mut request = self.request(endpoint, &query.sent);
                for (name, value) in self.signer.headers(timestamp, endpoint.path, query) {
                    request = request.header(name, value);
                }
                Ok(request)
            })
            .map_err(|e| e.context(format!("while {what}")))
    }
}

/// What a `clock` error tells the operator to do. Following the exchange's clock
/// (`adjust_clock`, the default), a rejection that survives a fresh measurement means its
/// time endpoint and its signature check disagree: only the host's clock can be fixed.
fn clock_hint(adjust_clock: bool, exchange: &str) -> String {
    if adjust_clock {
        format!("synchronise it ({exchange} rejected us again after its clock was measured anew)")
    } else {
        "synchronise it, or set option adjust_clock = true".to_owned()
    }
}

/// Adds the orders open now to the last page of an order walk (replacing any the history
/// also listed); the next walk starts at the oldest of them.
fn merge_open(page: &mut ListPage, open: ListPage) {
    page.oldest_open = min_time(page.oldest_open, open.oldest_open);
    let ids: BTreeSet<String> = open.records.iter().map(|r| r.id()).collect();
    page.records.retain(|r| !ids.contains(&r.id()));
    page.records.extend(open.records);
}

fn min_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The page to store after `request` returned `page` (a full page has a next one).
fn window_page(
    walker: &Walker,
    rule: WindowRule,
    request: &WindowRequest,
    page: ListPage,
    limit: usize,
    now: i64,
) -> Page {
    let next = next_page(&page.ids, limit);
    walker.page(rule, request, page.records, next, page.oldest_open, now)
}

/// "fetching fills of BTCUSDT for [from, to)".
fn window_what(name: &str, symbol: Option<&str>, request: &WindowRequest) -> String {
    let page = if request.cursor.page.is_some() {
        " (a further page)"
    } else {
        ""
    };
    match symbol {
        Some(s) => format!(
            "fetching {name} of {s} for [{}, {}){page}",
            request.from(),
            request.to()
        ),
        None => format!(
            "fetching {name} for [{}, {}){page}",
            request.from(),
            request.to()
        ),
    }
}

fn require_symbol(symbol: &str, stream: Stream) -> Result<(), PluginError> {
    if symbol.is_empty() || symbol.contains(char::is_whitespace) {
        Err(PluginError::plugin(format!(
            "{stream} partition {symbol:?} is not a Bitget spot symbol"
        )))
    } else {
        Ok(())
    }
}
