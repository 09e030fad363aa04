//! Endpoints of the Gate.io simulator: APIv4 paths, parameters, windows, pages and limits.

use axum::http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, AuthHeaders, Rejection, Signed};
use super::data::{candle, contracts_of, interval_seconds, Dataset, DELIVERY_CONTRACTS, PAIRS};
use super::SimState;
use crate::faults::malform;
use crate::time::DAY_MS;

/// The widest `to - from` of a history list: 30 days.
pub const MAX_WINDOW_S: i64 = 30 * DAY_MS / 1000;
/// Without `from`, a history list starts this long before `to` (unconfirmed: Gate's default).
pub const DEFAULT_SPAN_S: i64 = 7 * DAY_MS / 1000;
/// At most this many candlesticks per request.
pub const MAX_CANDLES: i64 = 1000;

/// The Gate endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Time,
    Candlesticks,
    AccountDetail,
    SpotAccounts,
    MarginAccounts,
    CrossMarginAccounts,
    UnifiedMode,
    UnifiedAccounts,
    FuturesAccounts(&'static str),
    DeliveryAccounts(&'static str),
    OptionsAccounts,
    EarnLends,
    MyTrades,
    Orders,
    OpenOrders,
    AccountBook,
    Deposits,
    Withdrawals,
    MarginAccountBook,
    OptionsAccountBook,
    DeliveryAccountBook(&'static str),
    DeliveryContracts(&'static str),
    DeliveryTrades(&'static str),
    DeliveryOrders(&'static str),
    OptionsPositions,
    OptionsTrades,
    OptionsOrders,
    FuturesContracts(&'static str),
    FuturesTrades(&'static str),
    FuturesOrders(&'static str),
    FuturesAccountBook(&'static str),
}

impl Endpoint {
    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method != Method::GET {
            return None;
        }
        Some(match path.strip_prefix("/api/v4")? {
            "/spot/time" => Endpoint::Time,
            "/spot/candlesticks" => Endpoint::Candlesticks,
            "/account/detail" => Endpoint::AccountDetail,
            "/spot/accounts" => Endpoint::SpotAccounts,
            "/margin/accounts" => Endpoint::MarginAccounts,
            "/margin/cross/accounts" => Endpoint::CrossMarginAccounts,
            "/unified/unified_mode" => Endpoint::UnifiedMode,
            "/unified/accounts" => Endpoint::UnifiedAccounts,
            "/futures/usdt/accounts" => Endpoint::FuturesAccounts("usdt"),
            "/futures/btc/accounts" => Endpoint::FuturesAccounts("btc"),
            "/delivery/usdt/accounts" => Endpoint::DeliveryAccounts("usdt"),
            "/delivery/btc/accounts" => Endpoint::DeliveryAccounts("btc"),
            "/options/accounts" => Endpoint::OptionsAccounts,
            "/earn/uni/lends" => Endpoint::EarnLends,
            "/spot/my_trades" => Endpoint::MyTrades,
            "/spot/orders" => Endpoint::Orders,
            "/spot/open_orders" => Endpoint::OpenOrders,
            "/spot/account_book" => Endpoint::AccountBook,
            "/wallet/deposits" => Endpoint::Deposits,
            "/wallet/withdrawals" => Endpoint::Withdrawals,
            "/margin/account_book" => Endpoint::MarginAccountBook,
            "/options/account_book" => Endpoint::OptionsAccountBook,
            "/delivery/usdt/account_book" => Endpoint::DeliveryAccountBook("usdt"),
            "/delivery/btc/account_book" => Endpoint::DeliveryAccountBook("btc"),
            "/delivery/usdt/contracts" => Endpoint::DeliveryContracts("usdt"),
            "/delivery/usdt/my_trades" => Endpoint::DeliveryTrades("usdt"),
            "/delivery/usdt/orders" => Endpoint::DeliveryOrders("usdt"),
            "/options/positions" => Endpoint::OptionsPositions,
            "/options/my_trades" => Endpoint::OptionsTrades,
            "/options/orders" => Endpoint::OptionsOrders,
            "/futures/usdt/contracts" => Endpoint::FuturesContracts("usdt"),
            "/futures/usdt/my_trades_timerange" => Endpoint::FuturesTrades("usdt"),
            "/futures/usdt/orders_timerange" => Endpoint::FuturesOrders("usdt"),
            "/futures/usdt/account_book" => Endpoint::FuturesAccountBook("usdt"),
            "/futures/btc/contracts" => Endpoint::FuturesContracts("btc"),
            "/futures/btc/my_trades_timerange" => Endpoint::FuturesTrades("btc"),
            "/futures/btc/orders_timerange" => Endpoint::FuturesOrders("btc"),
            "/futures/btc/account_book" => Endpoint::FuturesAccountBook("btc"),
            _ => return None,
        })
    }

    pub fn signed(self) -> bool {
        !matches!(
            self,
            Endpoint::Time
                | Endpoint::Candlesticks
                | Endpoint::FuturesContracts(_)
                | Endpoint::DeliveryContracts(_)
        )
    }

    /// "GET /api/v4/spot/my_trades", the key of the request statistics and limits.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Time => "GET /api/v4/spot/time",
            Endpoint::Candlesticks => "GET /api/v4/spot/candlesticks",
            Endpoint::AccountDetail => "GET /api/v4/account/detail",
            Endpoint::SpotAccounts => "GET /api/v4/spot/accounts",
            Endpoint::MarginAccounts => "GET /api/v4/margin/accounts",
            Endpoint::CrossMarginAccounts => "GET /api/v4/margin/cross/accounts",
            Endpoint::UnifiedMode => "GET /api/v4/unified/unified_mode",
            Endpoint::UnifiedAccounts => "GET /api/v4/unified/accounts",
            Endpoint::FuturesAccounts("btc") => "GET /api/v4/futures/btc/accounts",
            Endpoint::FuturesAccounts(_) => "GET /api/v4/futures/usdt/accounts",
            Endpoint::DeliveryAccounts("btc") => "GET /api/v4/delivery/btc/accounts",
            Endpoint::DeliveryAccounts(_) => "GET /api/v4/delivery/usdt/accounts",
            Endpoint::OptionsAccounts => "GET /api/v4/options/accounts",
            Endpoint::EarnLends => "GET /api/v4/earn/uni/lends",
            Endpoint::MyTrades => "GET /api/v4/spot/my_trades",
            Endpoint::Orders => "GET /api/v4/spot/orders",
            Endpoint::OpenOrders => "GET /api/v4/spot/open_orders",
            Endpoint::AccountBook => "GET /api/v4/spot/account_book",
            Endpoint::Deposits => "GET /api/v4/wallet/deposits",
            Endpoint::Withdrawals => "GET /api/v4/wallet/withdrawals",
            Endpoint::MarginAccountBook => "GET /api/v4/margin/account_book",
            Endpoint::OptionsAccountBook => "GET /api/v4/options/account_book",
            Endpoint::DeliveryAccountBook("btc") => "GET /api/v4/delivery/btc/account_book",
            Endpoint::DeliveryAccountBook(_) => "GET /api/v4/delivery/usdt/account_book",
            Endpoint::DeliveryContracts(_) => "GET /api/v4/delivery/usdt/contracts",
            Endpoint::DeliveryTrades(_) => "GET /api/v4/delivery/usdt/my_trades",
            Endpoint::DeliveryOrders(_) => "GET /api/v4/delivery/usdt/orders",
            Endpoint::OptionsPositions => "GET /api/v4/options/positions",
            Endpoint::OptionsTrades => "GET /api/v4/options/my_trades",
            Endpoint::OptionsOrders => "GET /api/v4/options/orders",
            Endpoint::FuturesContracts("btc") => "GET /api/v4/futures/btc/contracts",
            Endpoint::FuturesContracts(_) => "GET /api/v4/futures/usdt/contracts",
            Endpoint::FuturesTrades("btc") => "GET /api/v4/futures/btc/my_trades_timerange",
            Endpoint::FuturesTrades(_) => "GET /api/v4/futures/usdt/my_trades_timerange",
            Endpoint::FuturesOrders("btc") => "GET /api/v4/futures/btc/orders_timerange",
            Endpoint::FuturesOrders(_) => "GET /api/v4/futures/usdt/orders_timerange",
            Endpoint::FuturesAccountBook("btc") => "GET /api/v4/futures/btc/account_book",
            Endpoint::FuturesAccountBook(_) => "GET /api/v4/futures/usdt/account_book",
        }
    }
}

/// A request error: HTTP status, Gate's `label` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub label: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn param(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            label: "INVALID_PARAM_VALUE",
            message: message.into(),
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        Self {
            status: r.status,
            label: r.label,
            message: r.message,
        }
    }
}

/// Gate's error body.
pub fn error_body(label: &str, message: &str) -> String {
    json!({ "label": label, "message": message }).to_string()
}

/// Decoded query parameters, in the order sent.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl Params {
    pub fn parse(raw: &str) -> Params {
        Params {
            pairs: raw
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|part| {
                    let (k, v) = part.split_once('=').unwrap_or((part, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::param(format!("invalid {name}: {v}")))
            })
            .transpose()
    }

    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.opt_i64("limit")? {
            None => Ok(default),
            Some(v) if v < 1 || v as usize > max => Err(ApiError::param(format!(
                "limit must be between 1 and {max}"
            ))),
            Some(v) => Ok(v as usize),
        }
    }

    /// `from` and `to` in seconds, inclusive: `to` defaults to now, `from` to seven days
    /// before `to`; at most 30 days apart.
    fn window(&self, now_ms: i64) -> Result<(i64, i64), ApiError> {
        let to = self.opt_i64("to")?.unwrap_or(now_ms / 1000);
        let from = self.opt_i64("from")?.unwrap_or(to - DEFAULT_SPAN_S);
        if from > to {
            return Err(ApiError::param("from must not be later than to"));
        }
        if to - from > MAX_WINDOW_S {
            return Err(ApiError::param(
                "time range between from and to cannot exceed 30 days",
            ));
        }
        Ok((from, to))
    }
}

/// What one request did, for the statistics.
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    pub status: u16,
    pub label: Option<&'static str>,
}

/// One answer: status, body, extra headers.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
}

/// Serves one Gate API request.
pub async fn serve(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (Answer, Outcome) {
    let now = state.now_ms();
    let Some(endpoint) = Endpoint::lookup(method, path) else {
        let answer = Answer {
            status: 404,
            body: error_body("NOT_FOUND", "Not Found"),
            headers: Vec::new(),
            content_type: "application/json",
        };
        let outcome = Outcome {
            endpoint: None,
            status: 404,
            label: Some("NOT_FOUND"),
        };
        return (answer, outcome);
    };
    let params = Params::parse(query);
    let mut outcome = Outcome {
        endpoint: Some(endpoint),
        status: 200,
        label: None,
    };
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    if let Some(status) = fault.error_status {
        outcome.status = status;
        outcome.label = Some("SERVER_ERROR");
        let answer = Answer {
            status,
            body: error_body("SERVER_ERROR", "Internal server error"),
            headers: Vec::new(),
            content_type: "application/json",
        };
        return (answer, outcome);
    }

    let mut extra = Vec::new();
    let checked = if endpoint.signed() {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth_headers = AuthHeaders {
            key: header("KEY"),
            timestamp: header("Timestamp"),
            sign: header("SIGN"),
        };
        let request = Signed {
            method: method.as_str(),
            path,
            query,
            body,
        };
        auth::check(
            &auth_headers,
            &request,
            &state.config.api_key,
            &state.config.api_secret,
            now,
        )
        .map_err(ApiError::from)
    } else {
        Ok(())
    };
    let result = checked.and_then(|()| {
        let admission = state.limits.admit(endpoint.name(), now);
        extra.push((
            "X-Gate-RateLimit-Requests-Remain",
            admission.remaining.to_string(),
        ));
        extra.push(("X-Gate-RateLimit-Limit", admission.limit.to_string()));
        extra.push((
            "X-Gate-RateLimit-Reset-Timestamp",
            admission.reset_ms.to_string(),
        ));
        if admission.allowed {
            dispatch(state, endpoint, &params, now)
        } else {
            tracing::debug!(endpoint = endpoint.name(), "Endpoint limit passed, 429.");
            Err(ApiError {
                status: 429,
                label: "TOO_MANY_REQUESTS",
                message: "Request Rate limit Exceeded".into(),
            })
        }
    });
    let (status, body) = match result {
        Ok(v) => {
            let body = v.to_string();
            if fault.malformed {
                (200, malform(&body))
            } else {
                (200, body)
            }
        }
        Err(e) => {
            outcome.label = Some(e.label);
            (e.status, error_body(e.label, &e.message))
        }
    };
    outcome.status = status;
    let answer = Answer {
        status,
        body,
        headers: extra,
        content_type: "application/json",
    };
    (answer, outcome)
}

fn dispatch(state: &SimState, endpoint: Endpoint, p: &Params, now: i64) -> Result<Value, ApiError> {
    let ds = state.data.read().expect("data lock");
    let absent = || ApiError {
        status: 400,
        label: "USER_NOT_FOUND",
        message: "please transfer funds first to create the account".into(),
    };
    match endpoint {
        Endpoint::Time => Ok(json!({ "server_time": now })),
        Endpoint::Candlesticks => candlesticks(&ds, p, now),
        Endpoint::AccountDetail => Ok(json!({
            "user_id": ds.user_id,
            "ip_whitelist": [],
            "currency_pairs": [],
            "key": { "mode": 1 },
            "tier": 2,
        })),
        Endpoint::SpotAccounts => Ok(Value::Array(ds.spot.clone())),
        Endpoint::MarginAccounts => Ok(Value::Array(ds.margin.clone())),
        Endpoint::CrossMarginAccounts => Ok(json!({
            "user_id": ds.user_id,
            "locked": false,
            "balances": ds.cross_margin,
            "total": "0",
            "borrowed": "0",
            "interest": "0",
            "risk": "9.99",
        })),
        Endpoint::UnifiedMode => Ok(json!({
            "mode": ds.config.unified_mode,
            "settings": {
                "usdt_futures": ds.config.unified_mode != "classic",
                "spot_hedge": false,
                "use_funding": false,
                "options": false,
            },
        })),
        Endpoint::UnifiedAccounts => Ok(json!({
            "user_id": ds.user_id,
            "refresh_time": now,
            "locked": false,
            "balances": ds.unified,
            "total": "0",
            "borrowed": "0",
            "leverage": "3",
            "spot_hedge": false,
        })),
        Endpoint::FuturesAccounts(settle) => ds.futures.get(settle).cloned().ok_or_else(absent),
        Endpoint::DeliveryAccounts(settle) => ds.delivery.get(settle).cloned().ok_or_else(absent),
        Endpoint::OptionsAccounts => ds.options.clone().ok_or_else(absent),
        Endpoint::EarnLends => Ok(Value::Array(ds.earn.clone())),
        Endpoint::MyTrades => {
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 1000)?;
            let pair = p.get("currency_pair");
            let items = in_window(&ds.trades, from, to, |v| {
                pair.is_none_or(|pair| v["currency_pair"] == pair)
            });
            by_page(items, p, limit)
        }
        Endpoint::Orders => {
            let status = p.get("status").unwrap_or("open");
            let pair = p.get("currency_pair");
            let limit = p.limit(100, 1000)?;
            match status {
                "finished" => {}
                "open" if pair.is_some() => {}
                "open" => {
                    return Err(ApiError {
                        status: 400,
                        label: "MISSING_REQUIRED_PARAM",
                        message: "currency_pair is required for open orders".into(),
                    })
                }
                other => return Err(ApiError::param(format!("invalid status: {other}"))),
            }
            let (from, to) = p.window(now)?;
            let items = in_window(&ds.orders, from, to, |o| {
                let open = o["status"] == "open";
                (status == "open") == open && pair.is_none_or(|pair| o["currency_pair"] == pair)
            });
            by_page(items, p, limit)
        }
        Endpoint::OpenOrders => {
            let limit = p.limit(100, 100)?;
            let page = p.opt_i64("page")?.unwrap_or(1).max(1) as usize;
            let mut out = Vec::new();
            for (pair, _) in PAIRS {
                let mut orders: Vec<&Value> = ds
                    .orders
                    .iter()
                    .map(|(_, o)| o)
                    .filter(|o| o["status"] == "open" && o["currency_pair"] == pair)
                    .collect();
                orders.reverse();
                let total = orders.len();
                let slice: Vec<Value> = orders
                    .into_iter()
                    .skip((page - 1) * limit)
                    .take(limit)
                    .cloned()
                    .collect();
                if !slice.is_empty() {
                    out.push(json!({ "currency_pair": pair, "total": total, "orders": slice }));
                }
            }
            Ok(Value::Array(out))
        }
        Endpoint::AccountBook => {
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 1000)?;
            let currency = p.get("currency");
            let items = in_window(&ds.account_book, from, to, |e| {
                currency.is_none_or(|c| e["currency"] == c)
            });
            by_page(items, p, limit)
        }
        Endpoint::OptionsAccountBook => {
            // unconfirmed: the options account book's widest window and largest page.
            if ds.options.is_none() {
                return Err(absent());
            }
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 1000)?;
            let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
            let kind = p.get("type");
            let items = in_window(&ds.options_book, from, to, |e| {
                kind.is_none_or(|k| e["type"] == k)
            });
            Ok(Value::Array(
                items.into_iter().skip(offset).take(limit).collect(),
            ))
        }
        Endpoint::DeliveryAccountBook(settle) => {
            // Gate documents `from`, `to`, `limit` and `type` here, no `page` nor `offset`
            // (they are ignored, as any unknown parameter). unconfirmed: the widest window
            // (30 days as the futures book) and the largest page (1000).
            if !ds.delivery.contains_key(settle) {
                return Err(absent());
            }
            let book = ds
                .delivery_books
                .get(settle)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 1000)?;
            let kind = p.get("type");
            let items = in_window(book, from, to, |e| kind.is_none_or(|k| e["type"] == k));
            Ok(Value::Array(items.into_iter().take(limit).collect()))
        }
        Endpoint::DeliveryContracts(_) => Ok(Value::Array(
            DELIVERY_CONTRACTS
                .iter()
                .map(|(name, multiplier, reference)| {
                    json!({
                        "name": name,
                        "underlying": name.rsplit_once('_').map_or(*name, |(u, _)| u),
                        "cycle": "QUARTERLY",
                        "type": "direct",
                        "quanto_multiplier": multiplier,
                        "mark_price": super::data::dec(*reference),
                        "settle_price": "0",
                        "order_size_min": 1,
                        "in_delisting": false,
                    })
                })
                .collect(),
        )),
        Endpoint::DeliveryTrades(settle) => {
            // Gate documents `contract`, `order`, `limit`, `offset`, `last_id` and
            // `count_total` here, no time window: newest first, `last_id` the id of the last
            // record of the previous page. unconfirmed: that `last_id` lists the fills older
            // than it, and the largest page (1000 as the futures lists).
            if !ds.delivery.contains_key(settle) {
                return Err(absent());
            }
            let fills = ds
                .delivery_trades
                .get(settle)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            delivery_fills(fills, p).map(Value::Array)
        }
        Endpoint::DeliveryOrders(settle) => {
            // Gate documents `status` (required: `open` or `finished`), `contract`, `limit`,
            // `offset`, `last_id` and `count_total` here, no time window: newest first.
            // unconfirmed: that `last_id` lists the orders older than it, and the largest
            // page (1000 as the futures lists). Not simulated: Gate drops an order cancelled
            // without a fill 10 minutes after (the data set has none).
            if !ds.delivery.contains_key(settle) {
                return Err(absent());
            }
            let status = required_status(p)?;
            let orders = ds
                .delivery_orders
                .get(settle)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let limit = p.limit(100, 1000)?;
            let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
            let last_id = p.opt_i64("last_id")?;
            let contract = p.get("contract");
            let mut items: Vec<&Value> = orders
                .iter()
                .map(|(_, v)| v)
                .filter(|v| {
                    v["status"] == status
                        && last_id.is_none_or(|l| v["id"].as_i64().is_some_and(|id| id < l))
                        && contract.is_none_or(|c| v["contract"] == c)
                })
                .collect();
            items.sort_by_key(|v| std::cmp::Reverse(v["id"].as_i64()));
            Ok(Value::Array(
                items
                    .into_iter()
                    .skip(offset)
                    .take(limit)
                    .cloned()
                    .collect(),
            ))
        }
        Endpoint::OptionsPositions => {
            // `underlying` is optional: without it, every position.
            if ds.options.is_none() {
                return Err(absent());
            }
            let underlying = p.get("underlying");
            Ok(Value::Array(
                ds.options_positions
                    .iter()
                    .filter(|v| underlying.is_none_or(|u| v["underlying"] == u))
                    .cloned()
                    .collect(),
            ))
        }
        Endpoint::OptionsTrades => {
            // Gate requires `underlying`; `contract`, `from`, `to`, `offset` and `limit` are
            // optional. unconfirmed: the widest window (30 days as the other lists) and the
            // largest page (1000).
            if ds.options.is_none() {
                return Err(absent());
            }
            let underlying = p.get("underlying").ok_or_else(|| ApiError {
                status: 400,
                label: "MISSING_REQUIRED_PARAM",
                message: "underlying is required".into(),
            })?;
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 1000)?;
            let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
            let contract = p.get("contract");
            let fills = ds
                .options_trades
                .get(underlying)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let items = in_window(fills, from, to, |v| {
                contract.is_none_or(|c| v["contract"] == c)
            });
            Ok(Value::Array(
                items.into_iter().skip(offset).take(limit).collect(),
            ))
        }
        Endpoint::OptionsOrders => {
            // Gate requires `status`; `underlying`, `contract`, `from`, `to`, `offset` and
            // `limit` are optional. unconfirmed: the widest window (30 days), the largest
            // page (1000), and that open orders are listed whatever their age unless a window
            // is asked for.
            if ds.options.is_none() {
                return Err(absent());
            }
            let status = required_status(p)?;
            let window = if status == "open" && p.get("from").is_none() && p.get("to").is_none() {
                (i64::MIN, i64::MAX)
            } else {
                p.window(now)?
            };
            let limit = p.limit(100, 1000)?;
            let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
            let underlying = p.get("underlying");
            let contract = p.get("contract");
            let items = in_window(&ds.options_orders, window.0, window.1, |v| {
                v["status"] == status
                    && contract.is_none_or(|c| v["contract"] == c)
                    && underlying.is_none_or(|u| {
                        v["contract"]
                            .as_str()
                            .is_some_and(|c| c.split('-').next() == Some(u))
                    })
            });
            Ok(Value::Array(
                items.into_iter().skip(offset).take(limit).collect(),
            ))
        }
        Endpoint::MarginAccountBook => {
            // unconfirmed: the margin account book's widest window and largest page.
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 500)?;
            let currency = p.get("currency");
            let pair = p.get("currency_pair");
            let items = in_window(&ds.margin_book, from, to, |e| {
                currency.is_none_or(|c| e["currency"] == c)
                    && pair.is_none_or(|c| e["currency_pair"] == c)
            });
            by_page(items, p, limit)
        }
        Endpoint::FuturesContracts(settle) => Ok(Value::Array(
            contracts_of(settle)
                .iter()
                .map(|(name, multiplier, reference)| {
                    json!({
                        "name": name,
                        "type": if *multiplier == "0" { "inverse" } else { "direct" },
                        "quanto_multiplier": multiplier,
                        "leverage_min": "1",
                        "leverage_max": "100",
                        "mark_price": super::data::dec(*reference),
                        "order_size_min": 1,
                        "in_delisting": false,
                    })
                })
                .collect(),
        )),
        Endpoint::FuturesTrades(settle)
        | Endpoint::FuturesOrders(settle)
        | Endpoint::FuturesAccountBook(settle) => {
            let history = ds.futures_history.get(settle).ok_or_else(absent)?;
            // unconfirmed: the futures histories' widest window; 30 days as the spot ones.
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 1000)?;
            let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
            let contract = p.get("contract");
            let list = match endpoint {
                Endpoint::FuturesTrades(_) => &history.trades,
                Endpoint::FuturesOrders(_) => &history.orders,
                _ => &history.account_book,
            };
            let items = in_window(list, from, to, |v| {
                contract.is_none_or(|c| v["contract"] == c)
            });
            Ok(Value::Array(
                items.into_iter().skip(offset).take(limit).collect(),
            ))
        }
        Endpoint::Deposits | Endpoint::Withdrawals => {
            let (from, to) = p.window(now)?;
            let limit = p.limit(100, 500)?;
            let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
            let currency = p.get("currency");
            let list = if endpoint == Endpoint::Deposits {
                &ds.deposits
            } else {
                &ds.withdrawals
            };
            let items = in_window(list, from, to, |t| {
                currency.is_none_or(|c| t["currency"] == c)
            });
            Ok(Value::Array(
                items.into_iter().skip(offset).take(limit).collect(),
            ))
        }
    }
}

/// The `status` Gate requires of its futures-shaped order lists: `open` or `finished`.
fn required_status(p: &Params) -> Result<&'static str, ApiError> {
    match p.get("status") {
        Some("open") => Ok("open"),
        Some("finished") => Ok("finished"),
        Some(other) => Err(ApiError::param(format!("invalid status: {other}"))),
        None => Err(ApiError {
            status: 400,
            label: "MISSING_REQUIRED_PARAM",
            message: "status is required".into(),
        }),
    }
}

/// A page of delivery fills (`fills` oldest first): newest first, older than `last_id`,
/// then `offset` skipped and `limit` taken.
fn delivery_fills(fills: &[(i64, Value)], p: &Params) -> Result<Vec<Value>, ApiError> {
    let limit = p.limit(100, 1000)?;
    let offset = p.opt_i64("offset")?.unwrap_or(0).max(0) as usize;
    let last_id = p.opt_i64("last_id")?;
    let contract = p.get("contract");
    let order = p.get("order");
    Ok(fills
        .iter()
        .rev()
        .map(|(_, v)| v)
        .filter(|v| {
            last_id.is_none_or(|l| v["id"].as_i64().is_some_and(|id| id < l))
                && contract.is_none_or(|c| v["contract"] == c)
                && order.is_none_or(|o| v["order_id"] == o)
        })
        .skip(offset)
        .take(limit)
        .cloned()
        .collect())
}

/// The items whose time falls in `[from, to]` seconds (inclusive), newest first.
fn in_window(
    list: &[(i64, Value)],
    from: i64,
    to: i64,
    keep: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let mut out: Vec<Value> = list
        .iter()
        .filter(|(t, v)| {
            let s = t.div_euclid(1000);
            s >= from && s <= to && keep(v)
        })
        .map(|(_, v)| v.clone())
        .collect();
    out.reverse();
    out
}

/// Page `page` (from 1) of `limit` items.
fn by_page(items: Vec<Value>, p: &Params, limit: usize) -> Result<Value, ApiError> {
    let page = p.opt_i64("page")?.unwrap_or(1);
    if page < 1 {
        return Err(ApiError::param("page must be at least 1"));
    }
    Ok(Value::Array(
        items
            .into_iter()
            .skip((page as usize - 1) * limit)
            .take(limit)
            .collect(),
    ))
}

/// `GET /spot/candlesticks`: candles opening in `[from, to]` (seconds), oldest first, at
/// most 1000 of them; without `from`, the last `limit` (default 100) up to `to`.
fn candlesticks(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let pair = p
        .get("currency_pair")
        .ok_or_else(|| ApiError::param("currency_pair is required"))?;
    let reference = PAIRS
        .iter()
        .find(|(name, _)| *name == pair)
        .map(|(_, r)| *r)
        .ok_or_else(|| ApiError {
            status: 400,
            label: "INVALID_CURRENCY_PAIR",
            message: format!("Invalid currency pair {pair}"),
        })?;
    let interval = p.get("interval").unwrap_or("30m");
    let step = interval_seconds(interval)
        .ok_or_else(|| ApiError::param(format!("invalid interval: {interval}")))?;
    let now_s = now.div_euclid(1000);
    let to = p.opt_i64("to")?.unwrap_or(now_s).min(now_s);
    let from = match p.opt_i64("from")? {
        Some(from) => {
            if p.get("limit").is_some() {
                return Err(ApiError::param(
                    "limit cannot be used together with from and to",
                ));
            }
            from
        }
        None => to - (p.limit(100, 1000)? as i64 - 1) * step,
    };
    let first = from.div_euclid(step) * step + if from.rem_euclid(step) == 0 { 0 } else { step };
    if to >= first && (to - first) / step + 1 > MAX_CANDLES {
        return Err(ApiError::param(
            "Candlestick too long ago. Maximum 1000 points are allowed per request",
        ));
    }
    let mut rows = Vec::new();
    let mut t = first;
    while t <= to {
        rows.push(candle(ds.config.seed, pair, reference, interval, t, now));
        t += step;
    }
    Ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_at_most_30_days() {
        let p = Params::parse("from=0&to=2592000");
        assert_eq!(p.window(0).unwrap(), (0, 2_592_000));
        let p = Params::parse("from=0&to=2592001");
        assert_eq!(p.window(0).unwrap_err().label, "INVALID_PARAM_VALUE");
        let p = Params::parse("to=1000000");
        assert_eq!(
            p.window(0).unwrap(),
            (1_000_000 - DEFAULT_SPAN_S, 1_000_000)
        );
    }

    #[test]
    fn the_delivery_book_is_newest_first_up_to_limit_without_offset() {
        let lookup = |path: &str| Endpoint::lookup(&Method::GET, path);
        assert_eq!(
            lookup("/api/v4/delivery/usdt/account_book"),
            Some(Endpoint::DeliveryAccountBook("usdt"))
        );
        let list = vec![
            (1_000_000, json!({"id": "1"})),
            (2_000_000, json!({"id": "2"})),
            (2_000_500, json!({"id": "3"})),
        ];
        let items: Vec<Value> = in_window(&list, 1_000, 2_000, |_| true);
        let ids: Vec<&str> = items.iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["3", "2", "1"], "newest first, `to` inclusive");
    }

    #[test]
    fn delivery_fills_are_newest_first_older_than_last_id() {
        let lookup = |path: &str| Endpoint::lookup(&Method::GET, path);
        assert_eq!(
            lookup("/api/v4/delivery/usdt/my_trades"),
            Some(Endpoint::DeliveryTrades("usdt"))
        );
        assert!(Endpoint::DeliveryTrades("usdt").signed());
        assert!(!Endpoint::DeliveryContracts("usdt").signed());
        let fills: Vec<(i64, Value)> = (1..=5)
            .map(|i| (i * 1000, json!({"id": i, "contract": "BTC_USDT_20261225"})))
            .collect();
        let ids = |q: &str| -> Vec<i64> {
            delivery_fills(&fills, &Params::parse(q))
                .unwrap()
                .iter()
                .map(|v| v["id"].as_i64().unwrap())
                .collect()
        };
        assert_eq!(ids("limit=2"), [5, 4]);
        assert_eq!(ids("limit=2&last_id=4"), [3, 2]);
        assert_eq!(ids("limit=2&offset=1&last_id=4"), [2, 1]);
        assert_eq!(ids("contract=ETH_USDT_20261225"), Vec::<i64>::new());
        let err = delivery_fills(&fills, &Params::parse("limit=1001")).unwrap_err();
        assert_eq!(err.label, "INVALID_PARAM_VALUE");
    }

    fn sim_state() -> std::sync::Arc<SimState> {
        let sim = super::super::GateioSim::new(super::super::GateioSimConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            api_key: "k".into(),
            api_secret: "s".into(),
            dataset: super::super::DatasetConfig {
                seed: 3,
                end_ms: 1_800_000_000_000,
                days: 60,
                trades: 50,
                orders_extra: 5,
                open_orders: 2,
                deposits: 3,
                withdrawals: 3,
                futures_trades: 20,
                btc_futures: false,
                delivery_book: 300,
                options_trades: 40,
                unified_mode: "classic".into(),
            },
            limits: Default::default(),
            faults: Default::default(),
            clock_offset_ms: 0,
        });
        sim.state().clone()
    }

    fn ids(v: &Value) -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect()
    }

    #[test]
    fn delivery_orders_need_a_status_and_page_newest_first_by_last_id() {
        let state = sim_state();
        let now = 1_800_000_000_000;
        let get = |q: &str| {
            dispatch(
                &state,
                Endpoint::DeliveryOrders("usdt"),
                &Params::parse(q),
                now,
            )
        };
        assert_eq!(get("limit=10").unwrap_err().label, "MISSING_REQUIRED_PARAM");
        assert_eq!(get("status=done").unwrap_err().label, "INVALID_PARAM_VALUE");
        let first = ids(&get("status=finished&limit=5").unwrap());
        assert_eq!(first.len(), 5);
        assert!(first.windows(2).all(|w| w[0] > w[1]), "newest first");
        let next = ids(&get(&format!("status=finished&limit=5&last_id={}", first[4])).unwrap());
        assert!(next[0] < first[4], "older than last_id");
        let open = get("status=open").unwrap();
        assert_eq!(open.as_array().unwrap().len(), 3);
        assert!(open
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "open"));
        assert_eq!(
            get("status=finished&limit=1001").unwrap_err().label,
            "INVALID_PARAM_VALUE"
        );
    }

    #[test]
    fn options_trades_need_an_underlying_and_orders_a_status() {
        let state = sim_state();
        let now = 1_800_000_000_000;
        let get = |e, q: &str| dispatch(&state, e, &Params::parse(q), now);
        let from = now / 1000 - 29 * 86_400;
        let window = format!("from={from}&to={}", now / 1000);
        let err = get(Endpoint::OptionsTrades, &window).unwrap_err();
        assert_eq!(err.label, "MISSING_REQUIRED_PARAM");
        let btc = get(
            Endpoint::OptionsTrades,
            &format!("underlying=BTC_USDT&{window}"),
        )
        .unwrap();
        let btc = btc.as_array().unwrap();
        assert!(!btc.is_empty());
        assert!(btc
            .iter()
            .all(|t| t["contract"].as_str().unwrap().starts_with("BTC_USDT-")));
        let wide = format!(
            "underlying=BTC_USDT&from={}&to={}",
            from - 2 * 86_400,
            now / 1000
        );
        assert_eq!(
            get(Endpoint::OptionsTrades, &wide).unwrap_err().label,
            "INVALID_PARAM_VALUE",
            "at most 30 days"
        );
        let err = get(Endpoint::OptionsOrders, &window).unwrap_err();
        assert_eq!(err.label, "MISSING_REQUIRED_PARAM");
        let open = get(Endpoint::OptionsOrders, "status=open").unwrap();
        assert_eq!(open.as_array().unwrap().len(), 2);
        let eth = get(
            Endpoint::OptionsOrders,
            &format!("status=finished&underlying=ETH_USDT&{window}"),
        )
        .unwrap();
        assert!(eth
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["contract"].as_str().unwrap().starts_with("ETH_USDT-")));
        let positions = get(Endpoint::OptionsPositions, "").unwrap();
        let underlyings: std::collections::BTreeSet<&str> = positions
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["underlying"].as_str().unwrap())
            .collect();
        assert_eq!(
            underlyings.into_iter().collect::<Vec<_>>(),
            ["BTC_USDT", "ETH_USDT"]
        );
    }
}
