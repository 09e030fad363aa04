//! Endpoints of the Bitget simulator: Bitget's v2 paths and the unified trading account's v3
//! paths, their parameters, windows, pages and limits.

use axum::http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, AuthHeaders, Credentials, Rejection};
use super::data::{Dataset, Margin};
use super::render::{self, Granularity};
use super::SimState;
use crate::faults::malform;
use crate::time::DAY_MS;

/// Fills, orders and bills are served for the last 90 days.
pub const RECENT_REACH_MS: i64 = 90 * DAY_MS;
/// The widest fill, order, deposit and withdrawal window.
pub const WINDOW_MS: i64 = 90 * DAY_MS;
/// The widest futures fill and order window.
pub const FUTURES_WINDOW_MS: i64 = 7 * DAY_MS;
/// The widest bills window (unconfirmed in Bitget's docs; the connector assumes the same).
pub const BILLS_WINDOW_MS: i64 = 30 * DAY_MS;
/// The widest unified account fill, order and financial record window.
pub const UTA_WINDOW_MS: i64 = 30 * DAY_MS;
/// The unified account's categories.
pub const UTA_CATEGORIES: [&str; 5] = [
    "SPOT",
    "MARGIN",
    "USDT-FUTURES",
    "COIN-FUTURES",
    "USDC-FUTURES",
];

/// The Bitget endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Time,
    Symbols,
    Candles,
    HistoryCandles,
    AccountInfo,
    SpotAssets,
    FundingAssets,
    FuturesAccounts,
    MarginAssets,
    IsolatedAssets,
    EarnAssets,
    Fills,
    HistoryOrders,
    UnfilledOrders,
    Bills,
    Deposits,
    Withdrawals,
    FuturesFills,
    FuturesOrders,
    FuturesBills,
    FuturesPending,
    MarginRecords,
    MarginFills,
    MarginOrders,
    MarginOpenOrders,
    IsolatedFills,
    IsolatedOrders,
    IsolatedOpenOrders,
    IsolatedRecords,
    UtaSettings,
    UtaAssets,
    UtaFundingAssets,
    UtaFills,
    UtaHistoryOrders,
    UtaUnfilledOrders,
    UtaRecords,
    UtaDeposits,
    UtaWithdrawals,
}

impl Endpoint {
    pub const ALL: [Endpoint; 38] = [
        Endpoint::Time,
        Endpoint::Symbols,
        Endpoint::Candles,
        Endpoint::HistoryCandles,
        Endpoint::AccountInfo,
        Endpoint::SpotAssets,
        Endpoint::FundingAssets,
        Endpoint::FuturesAccounts,
        Endpoint::MarginAssets,
        Endpoint::IsolatedAssets,
        Endpoint::EarnAssets,
        Endpoint::Fills,
        Endpoint::HistoryOrders,
        Endpoint::UnfilledOrders,
        Endpoint::Bills,
        Endpoint::Deposits,
        Endpoint::Withdrawals,
        Endpoint::FuturesFills,
        Endpoint::FuturesOrders,
        Endpoint::FuturesBills,
        Endpoint::FuturesPending,
        Endpoint::MarginRecords,
        Endpoint::MarginFills,
        Endpoint::MarginOrders,
        Endpoint::MarginOpenOrders,
        Endpoint::IsolatedFills,
        Endpoint::IsolatedOrders,
        Endpoint::IsolatedOpenOrders,
        Endpoint::IsolatedRecords,
        Endpoint::UtaSettings,
        Endpoint::UtaAssets,
        Endpoint::UtaFundingAssets,
        Endpoint::UtaFills,
        Endpoint::UtaHistoryOrders,
        Endpoint::UtaUnfilledOrders,
        Endpoint::UtaRecords,
        Endpoint::UtaDeposits,
        Endpoint::UtaWithdrawals,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Time => "/api/v2/public/time",
            Endpoint::Symbols => "/api/v2/spot/public/symbols",
            Endpoint::Candles => "/api/v2/spot/market/candles",
            Endpoint::HistoryCandles => "/api/v2/spot/market/history-candles",
            Endpoint::AccountInfo => "/api/v2/spot/account/info",
            Endpoint::SpotAssets => "/api/v2/spot/account/assets",
            Endpoint::FundingAssets => "/api/v2/account/funding-assets",
            Endpoint::FuturesAccounts => "/api/v2/mix/account/accounts",
            Endpoint::MarginAssets => "/api/v2/margin/crossed/account/assets",
            Endpoint::IsolatedAssets => "/api/v2/margin/isolated/account/assets",
            Endpoint::EarnAssets => "/api/v2/earn/account/assets",
            Endpoint::Fills => "/api/v2/spot/trade/fills",
            Endpoint::HistoryOrders => "/api/v2/spot/trade/history-orders",
            Endpoint::UnfilledOrders => "/api/v2/spot/trade/unfilled-orders",
            Endpoint::Bills => "/api/v2/spot/account/bills",
            Endpoint::Deposits => "/api/v2/spot/wallet/deposit-records",
            Endpoint::Withdrawals => "/api/v2/spot/wallet/withdrawal-records",
            Endpoint::FuturesFills => "/api/v2/mix/order/fill-history",
            Endpoint::FuturesOrders => "/api/v2/mix/order/orders-history",
            Endpoint::FuturesBills => "/api/v2/mix/account/bill",
            Endpoint::FuturesPending => "/api/v2/mix/order/orders-pending",
            Endpoint::MarginRecords => "/api/v2/margin/crossed/financial-records",
            Endpoint::MarginFills => "/api/v2/margin/crossed/fills",
            Endpoint::MarginOrders => "/api/v2/margin/crossed/history-orders",
            Endpoint::MarginOpenOrders => "/api/v2/margin/crossed/open-orders",
            Endpoint::IsolatedFills => "/api/v2/margin/isolated/fills",
            Endpoint::IsolatedOrders => "/api/v2/margin/isolated/history-orders",
            Endpoint::IsolatedOpenOrders => "/api/v2/margin/isolated/open-orders",
            Endpoint::IsolatedRecords => "/api/v2/margin/isolated/financial-records",
            Endpoint::UtaSettings => "/api/v3/account/settings",
            Endpoint::UtaAssets => "/api/v3/account/assets",
            Endpoint::UtaFundingAssets => "/api/v3/account/funding-assets",
            Endpoint::UtaFills => "/api/v3/trade/fills",
            Endpoint::UtaHistoryOrders => "/api/v3/trade/history-orders",
            Endpoint::UtaUnfilledOrders => "/api/v3/trade/unfilled-orders",
            Endpoint::UtaRecords => "/api/v3/account/financial-records",
            Endpoint::UtaDeposits => "/api/v3/account/deposit-records",
            // Bitget's spelling.
            Endpoint::UtaWithdrawals => "/api/v3/account/withdrawl-records",
        }
    }

    pub fn lookup(method: &Method, path: &str) -> Option<Endpoint> {
        if method != Method::GET {
            return None;
        }
        Endpoint::ALL.into_iter().find(|e| e.path() == path)
    }

    pub fn signed(self) -> bool {
        !matches!(
            self,
            Endpoint::Time | Endpoint::Symbols | Endpoint::Candles | Endpoint::HistoryCandles
        )
    }

    /// Requests per second Bitget allows (per UID; per IP for public endpoints).
    pub fn per_second(self) -> u32 {
        match self {
            Endpoint::Time | Endpoint::Symbols | Endpoint::Candles | Endpoint::HistoryCandles => 20,
            Endpoint::AccountInfo => 1,
            Endpoint::HistoryOrders | Endpoint::UnfilledOrders => 20,
            Endpoint::UtaDeposits | Endpoint::UtaWithdrawals => 10,
            e if e.unified() => 20,
            _ => 10,
        }
    }

    /// Served for unified trading accounts only.
    pub fn unified(self) -> bool {
        self.path().starts_with("/api/v3/")
    }

    /// Served for classic accounts only: every v2 account endpoint but the account info (time,
    /// symbols, candles and account info serve both kinds; unconfirmed for unified accounts:
    /// the account info).
    pub fn classic_only(self) -> bool {
        !self.unified()
            && !matches!(
                self,
                Endpoint::Time
                    | Endpoint::Symbols
                    | Endpoint::Candles
                    | Endpoint::HistoryCandles
                    | Endpoint::AccountInfo
            )
    }

    /// "GET /api/v2/spot/trade/fills", the key of the request statistics.
    pub fn name(self) -> String {
        format!("GET {}", self.path())
    }
}

/// A request error: an HTTP status, Bitget's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub msg: String,
}

impl ApiError {
    pub fn params(msg: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "40017",
            msg: msg.into(),
        }
    }
    fn missing(name: &str) -> Self {
        Self {
            status: 400,
            code: "40019",
            msg: format!("Parameter {name} cannot be empty"),
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        Self {
            status: r.status,
            code: r.code,
            msg: r.msg,
        }
    }
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
                    .map_err(|_| ApiError::params(format!("Parameter {name} is invalid")))
            })
            .transpose()
    }

    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.opt_i64("limit")? {
            None => Ok(default),
            Some(v) if v < 1 || v as usize > max => Err(ApiError::params(format!(
                "Parameter limit must be from 1 to {max}"
            ))),
            Some(v) => Ok(v as usize),
        }
    }
}

/// What one request did, for the statistics.
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    pub symbol: Option<String>,
    pub status: u16,
    pub code: Option<String>,
}

/// One answer: status, body, content type.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
}

/// Serves one Bitget API request.
pub async fn serve(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
) -> (Answer, Outcome) {
    let now = state.now_ms();
    let Some(endpoint) = Endpoint::lookup(method, path) else {
        let answer = Answer {
            status: 404,
            body: render::error("40404", "Request URL NOT FOUND", now),
            content_type: "application/json",
        };
        let outcome = Outcome {
            endpoint: None,
            symbol: None,
            status: 404,
            code: Some("40404".into()),
        };
        return (answer, outcome);
    };
    let params = Params::parse(query);
    let mut outcome = Outcome {
        endpoint: Some(endpoint),
        symbol: params
            .get("symbol")
            .or(params.get("productType"))
            .map(str::to_owned),
        status: 200,
        code: None,
    };
    let fault = state.faults.draw();
    if fault.slow_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(fault.slow_ms)).await;
    }
    if let Some(status) = fault.error_status {
        outcome.status = status;
        let answer = Answer {
            status,
            body: render::error("40015", "System is abnormal, please try again later", now),
            content_type: "application/json",
        };
        return (answer, outcome);
    }

    let result = if endpoint.signed() {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth_headers = AuthHeaders {
            key: header("ACCESS-KEY"),
            sign: header("ACCESS-SIGN"),
            timestamp: header("ACCESS-TIMESTAMP"),
            passphrase: header("ACCESS-PASSPHRASE"),
        };
        let account = Credentials {
            key: &state.config.api_key,
            secret: &state.config.api_secret,
            passphrase: &state.config.passphrase,
        };
        match auth::check(&auth_headers, &account, "GET", path, query, now) {
            Err(r) => Err(ApiError::from(r)),
            Ok(()) => admit_then(state, endpoint, &params, now),
        }
    } else {
        admit_then(state, endpoint, &params, now)
    };
    let (status, body) = match result {
        Ok(v) => {
            outcome.code = Some("00000".into());
            let body = render::ok(v, now);
            if fault.malformed {
                (200, malform(&body))
            } else {
                (200, body)
            }
        }
        Err(e) => {
            outcome.code = Some(e.code.to_owned());
            (e.status, render::error(e.code, &e.msg, now))
        }
    };
    outcome.status = status;
    let answer = Answer {
        status,
        body,
        content_type: "application/json",
    };
    (answer, outcome)
}

fn admit_then(
    state: &SimState,
    endpoint: Endpoint,
    p: &Params,
    now: i64,
) -> Result<Value, ApiError> {
    if !state
        .limits
        .admit(endpoint.path(), endpoint.per_second(), now)
    {
        tracing::debug!(endpoint = endpoint.path(), "Rate limit passed, 429.");
        return Err(ApiError {
            status: 429,
            code: "429",
            msg: "Too Many Requests".into(),
        });
    }
    dispatch(state, endpoint, p, now)
}

fn dispatch(state: &SimState, endpoint: Endpoint, p: &Params, now: i64) -> Result<Value, ApiError> {
    let ds = state.data.read().expect("data lock");
    // The other kind of account's endpoints refuse (unconfirmed: the code and message Bitget
    // answers with).
    if endpoint.unified() && !ds.config.uta {
        return Err(ApiError {
            status: 400,
            code: "40099",
            msg: "The account is not a unified trading account".into(),
        });
    }
    if endpoint.classic_only() && ds.config.uta {
        return Err(ApiError {
            status: 400,
            code: "40099",
            msg: "The account is a unified trading account".into(),
        });
    }
    match endpoint {
        Endpoint::Time => Ok(json!({ "serverTime": now.to_string() })),
        Endpoint::Symbols => Ok(Value::Array(
            ds.symbols
                .iter()
                .filter(|s| p.get("symbol").is_none_or(|x| x == s.symbol))
                .map(render::symbol)
                .collect(),
        )),
        Endpoint::Candles => candles(&ds, p, now),
        Endpoint::HistoryCandles => history_candles(&ds, p, now),
        Endpoint::AccountInfo => Ok(render::account_info(&ds)),
        Endpoint::SpotAssets => Ok(Value::Array(
            ds.spot
                .iter()
                .filter(|h| p.get("coin").is_none_or(|c| c == h.coin))
                .map(render::spot_asset)
                .collect(),
        )),
        Endpoint::FundingAssets => Ok(Value::Array(
            ds.funding.iter().map(render::funding_asset).collect(),
        )),
        Endpoint::FuturesAccounts => {
            let product_type = p
                .get("productType")
                .ok_or_else(|| ApiError::missing("productType"))?;
            if !matches!(
                product_type,
                "USDT-FUTURES" | "USDC-FUTURES" | "COIN-FUTURES"
            ) {
                return Err(ApiError::params("Parameter productType is invalid"));
            }
            Ok(Value::Array(
                ds.futures
                    .iter()
                    .filter(|a| a.product_type == product_type)
                    .map(render::futures_account)
                    .collect(),
            ))
        }
        Endpoint::MarginAssets => Ok(Value::Array(
            ds.margin.iter().map(render::margin_asset).collect(),
        )),
        Endpoint::IsolatedAssets => Ok(Value::Array(
            ds.isolated
                .iter()
                .filter(|(s, _)| p.get("symbol").is_none_or(|x| x == *s))
                .map(|(s, h)| render::isolated_asset(s, h))
                .collect(),
        )),
        Endpoint::EarnAssets => Ok(Value::Array(
            ds.earn.iter().map(render::earn_asset).collect(),
        )),
        Endpoint::Fills => fills(&ds, p, now),
        Endpoint::HistoryOrders => history_orders(&ds, p, now),
        Endpoint::UnfilledOrders => unfilled_orders(&ds, p),
        Endpoint::Bills => bills(&ds, p, now),
        Endpoint::Deposits => transfers(&ds, p, now, true),
        Endpoint::Withdrawals => transfers(&ds, p, now, false),
        Endpoint::FuturesFills => futures(&ds, p, now, FuturesList::Fills),
        Endpoint::FuturesOrders => futures(&ds, p, now, FuturesList::Orders),
        Endpoint::FuturesBills => futures(&ds, p, now, FuturesList::Bills),
        Endpoint::FuturesPending => futures(&ds, p, now, FuturesList::Pending),
        Endpoint::MarginRecords => margin_records(&ds, p, now, Margin::Cross),
        Endpoint::MarginFills => margin_lists(&ds, p, now, Margin::Cross, MarginList::Fills),
        Endpoint::MarginOrders => margin_lists(&ds, p, now, Margin::Cross, MarginList::History),
        Endpoint::MarginOpenOrders => margin_lists(&ds, p, now, Margin::Cross, MarginList::Open),
        Endpoint::IsolatedRecords => margin_records(&ds, p, now, Margin::Isolated),
        Endpoint::IsolatedFills => margin_lists(&ds, p, now, Margin::Isolated, MarginList::Fills),
        Endpoint::IsolatedOrders => {
            margin_lists(&ds, p, now, Margin::Isolated, MarginList::History)
        }
        Endpoint::IsolatedOpenOrders => {
            margin_lists(&ds, p, now, Margin::Isolated, MarginList::Open)
        }
        Endpoint::UtaSettings => Ok(render::uta_settings()),
        Endpoint::UtaAssets => Ok(render::uta_assets(&ds)),
        Endpoint::UtaFundingAssets => Ok(Value::Array(
            ds.funding
                .iter()
                .filter(|h| p.get("coin").is_none_or(|c| c == h.coin))
                .map(render::uta_funding_asset)
                .collect(),
        )),
        Endpoint::UtaFills => uta_list(&ds, p, now, UtaList::Fills),
        Endpoint::UtaHistoryOrders => uta_list(&ds, p, now, UtaList::History),
        Endpoint::UtaUnfilledOrders => uta_list(&ds, p, now, UtaList::Open),
        Endpoint::UtaRecords => uta_list(&ds, p, now, UtaList::Records),
        Endpoint::UtaDeposits => uta_transfers(&ds, p, now, true),
        Endpoint::UtaWithdrawals => uta_transfers(&ds, p, now, false),
    }
}

/// The unified account's deposit and withdrawal records: both times required, at most 90 days
/// apart (unconfirmed: Bitget's v3 docs give no maximum; v2's is kept), newest first, paged
/// by `cursor` (the smallest `orderId` so far), a plain list.
fn uta_transfers(ds: &Dataset, p: &Params, now: i64, deposits: bool) -> Result<Value, ApiError> {
    let limit = p.limit(20, 100)?;
    let (lo, hi) = window(p, WINDOW_MS, None, true, now)?;
    let rows = if deposits {
        &ds.deposits
    } else {
        &ds.withdrawals
    };
    let before = match p.get("cursor") {
        None => u64::MAX,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::params("Parameter cursor is invalid"))?,
    };
    let mut items: Vec<(u64, Value)> = rows
        .iter()
        .filter(|t| t.time >= lo && t.time <= hi && t.order_id < before)
        .filter(|t| p.get("coin").is_none_or(|c| c == t.coin))
        .map(|t| (t.order_id, render::uta_transfer(t, deposits)))
        .collect();
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    Ok(Value::Array(
        items.into_iter().take(limit).map(|(_, v)| v).collect(),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UtaList {
    Fills,
    /// `history-orders`: orders no longer open.
    History,
    /// `unfilled-orders`: orders open now.
    Open,
    Records,
}

/// The unified account's lists: `category` (required but for fills and open orders), 30-day
/// windows within the last 90 days (open orders: any time unless asked), newest first,
/// `limit` at most 100, paged by `cursor` (the id of the page's last record), wrapped as
/// `{"list": […], "cursor": …}`.
fn uta_list(ds: &Dataset, p: &Params, now: i64, list: UtaList) -> Result<Value, ApiError> {
    let category = p.get("category");
    if category.is_none() && matches!(list, UtaList::History | UtaList::Records) {
        return Err(ApiError::missing("category"));
    }
    if let Some(c) = category {
        if !UTA_CATEGORIES.contains(&c) {
            return Err(ApiError::params("Parameter category is invalid"));
        }
    }
    let limit = p.limit(100, 100)?;
    let (lo, hi) = if list == UtaList::Open {
        (
            p.opt_i64("startTime")?.unwrap_or(i64::MIN),
            p.opt_i64("endTime")?.unwrap_or(i64::MAX),
        )
    } else {
        window(p, UTA_WINDOW_MS, Some(RECENT_REACH_MS), false, now)?
    };
    let mut items: Vec<(u64, Value)> = match list {
        UtaList::Fills => render::uta_fills(ds)
            .into_iter()
            .filter(|(_, t, _)| (lo..=hi).contains(t))
            .map(|(id, _, v)| (id, v))
            .collect(),
        UtaList::History | UtaList::Open => render::uta_orders(ds)
            .into_iter()
            .filter(|(_, t, open, _)| (lo..=hi).contains(t) && *open == (list == UtaList::Open))
            .map(|(id, _, _, v)| (id, v))
            .collect(),
        UtaList::Records => render::uta_records(ds)
            .into_iter()
            .filter(|(_, t, _)| (lo..=hi).contains(t))
            .filter(|(_, _, v)| p.get("coin").is_none_or(|c| v["coin"] == c))
            .map(|(id, _, v)| (id, v))
            .collect(),
    };
    items.retain(|(_, v)| category.is_none_or(|c| v["category"] == c));
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    let before = match p.get("cursor") {
        None => u64::MAX,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::params("Parameter cursor is invalid"))?,
    };
    let page: Vec<(u64, Value)> = items
        .into_iter()
        .filter(|(id, _)| *id < before)
        .take(limit)
        .collect();
    let cursor = page
        .last()
        .map(|(id, _)| id.to_string())
        .unwrap_or_default();
    Ok(json!({
        "list": page.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "cursor": cursor,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarginList {
    Fills,
    /// `history-orders`: orders no longer open.
    History,
    /// `open-orders`: orders open now, placed since `startTime`.
    Open,
}

/// `margin/crossed/fills`, `history-orders` and `open-orders`: `symbol` and `startTime`
/// required, 90-day windows within the last 90 days (open orders: placed since `startTime`),
/// wrapped as `{"fills"|"orderList": […], "minId", "maxId"}`.
fn margin_lists(
    ds: &Dataset,
    p: &Params,
    now: i64,
    mode: Margin,
    list: MarginList,
) -> Result<Value, ApiError> {
    let symbol = symbol_of(ds, p, true)?;
    let start = p
        .opt_i64("startTime")?
        .ok_or_else(|| ApiError::missing("startTime"))?;
    let limit = p.limit(100, 100)?;
    let (lo, hi) = if list == MarginList::Open {
        (start, i64::MAX)
    } else {
        window(p, WINDOW_MS, Some(RECENT_REACH_MS), false, now)?
    };
    let items: Vec<(u64, Value)> = if list == MarginList::Fills {
        ds.fills
            .iter()
            .rev()
            .filter(|f| f.margin == mode && Some(f.symbol) == symbol && (lo..=hi).contains(&f.time))
            .map(|f| (f.trade_id, render::margin_fill(ds, f)))
            .collect()
    } else {
        let open = list == MarginList::Open;
        ds.orders
            .iter()
            .rev()
            .filter(|o| {
                o.margin == mode && Some(o.symbol) == symbol && (lo..=hi).contains(&o.created)
            })
            .filter(|o| matches!(o.status, "live" | "partially_filled") == open)
            .map(|o| (o.order_id, render::margin_order(ds, o)))
            .collect()
    };
    let fills = list == MarginList::Fills;
    let list = page(items, p, limit)?;
    let key = if fills { "tradeId" } else { "orderId" };
    let ids: Vec<Value> = list
        .as_array()
        .map(|l| l.iter().map(|v| v[key].clone()).collect())
        .unwrap_or_default();
    let (first, last) = (
        ids.first().cloned().unwrap_or(Value::Null),
        ids.last().cloned().unwrap_or(Value::Null),
    );
    Ok(if fills {
        json!({ "fills": list, "minId": last, "maxId": first })
    } else {
        json!({ "orderList": list, "maxId": first, "minId": last })
    })
}

/// `margin/crossed/financial-records` and `margin/isolated/financial-records` (which needs a
/// `symbol`): `startTime` required, 30-day windows within the last 90 days, wrapped as
/// `{"resultList": […], "maxId": …, "minId": …}`.
fn margin_records(ds: &Dataset, p: &Params, now: i64, mode: Margin) -> Result<Value, ApiError> {
    let symbol = if mode == Margin::Isolated {
        let s = symbol_of(ds, p, true)?.expect("required");
        Some(ds.symbols[s].symbol.as_str())
    } else {
        None
    };
    p.opt_i64("startTime")?
        .ok_or_else(|| ApiError::missing("startTime"))?;
    let limit = p.limit(100, 100)?;
    let (lo, hi) = window(p, BILLS_WINDOW_MS, Some(RECENT_REACH_MS), false, now)?;
    let items = ds
        .margin_records
        .iter()
        .rev()
        .filter(|r| r.symbol == symbol && (lo..=hi).contains(&r.time))
        .filter(|r| p.get("coin").is_none_or(|c| c == r.coin))
        .map(|r| (r.margin_id, render::margin_record(r)))
        .collect();
    let list = page(items, p, limit)?;
    let ids: Vec<Value> = list
        .as_array()
        .map(|l| l.iter().map(|v| v["marginId"].clone()).collect())
        .unwrap_or_default();
    Ok(json!({
        "resultList": list,
        "maxId": ids.first().cloned().unwrap_or(Value::Null),
        "minId": ids.last().cloned().unwrap_or(Value::Null),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FuturesList {
    Fills,
    Orders,
    Bills,
    /// `orders-pending`: the orders open now, no window.
    Pending,
}

/// `mix/order/fill-history`, `mix/order/orders-history`, `mix/account/bill`: per product type,
/// 7-day windows (30 for bills) within the last 90 days, wrapped as
/// `{"fillList"|"entrustedList"|"bills": […], "endId": …}`; an empty list is `null`.
fn futures(ds: &Dataset, p: &Params, now: i64, list: FuturesList) -> Result<Value, ApiError> {
    let product_type = p
        .get("productType")
        .ok_or_else(|| ApiError::missing("productType"))?;
    if !matches!(
        product_type,
        "USDT-FUTURES" | "USDC-FUTURES" | "COIN-FUTURES"
    ) {
        return Err(ApiError::params("Parameter productType is invalid"));
    }
    let limit = p.limit(100, 100)?;
    let max = if list == FuturesList::Bills {
        BILLS_WINDOW_MS
    } else {
        FUTURES_WINDOW_MS
    };
    let (lo, hi) = if list == FuturesList::Pending {
        (i64::MIN, i64::MAX)
    } else {
        window(p, max, Some(RECENT_REACH_MS), false, now)?
    };
    let mut items: Vec<(u64, Value)> = Vec::new();
    for f in ds
        .futures_fills
        .iter()
        .filter(|f| f.product_type == product_type)
    {
        match list {
            FuturesList::Fills if (lo..=hi).contains(&f.time) => {
                items.push((f.trade_id, render::futures_fill(f)))
            }
            FuturesList::Orders if (lo..=hi).contains(&(f.time - 1)) => {
                items.push((f.order_id, render::futures_order(f)))
            }
            FuturesList::Bills if (lo..=hi).contains(&f.time) => {
                items.push((f.bill_id, render::futures_bill(f)))
            }
            _ => {}
        }
    }
    if matches!(list, FuturesList::Orders | FuturesList::Pending) {
        let open = list == FuturesList::Pending;
        for c in ds.futures_cancels.iter().filter(|c| {
            c.product_type == product_type
                && (lo..=hi).contains(&c.created)
                && (c.status == "live") == open
        }) {
            items.push((c.order_id, render::futures_cancel(c)));
        }
    }
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    let page = page(items, p, limit)?;
    let end_id = page
        .as_array()
        .and_then(|l| l.last())
        .map(|v| {
            let key = match list {
                FuturesList::Fills => "tradeId",
                FuturesList::Orders | FuturesList::Pending => "orderId",
                FuturesList::Bills => "billId",
            };
            v[key].clone()
        })
        .unwrap_or(Value::Null);
    let field = match list {
        FuturesList::Fills => "fillList",
        FuturesList::Orders | FuturesList::Pending => "entrustedList",
        FuturesList::Bills => "bills",
    };
    let list = if page.as_array().is_some_and(Vec::is_empty) {
        Value::Null
    } else {
        page
    };
    Ok(json!({ field: list, "endId": end_id }))
}

/// The `[lo, hi]` window of a history query: at most `max_ms` wide; the last `max_ms` when no
/// time is sent (unless `required`); never beyond `reach_ms` when there is one.
fn window(
    p: &Params,
    max_ms: i64,
    reach_ms: Option<i64>,
    required: bool,
    now: i64,
) -> Result<(i64, i64), ApiError> {
    let (start, end) = (p.opt_i64("startTime")?, p.opt_i64("endTime")?);
    if required {
        start.ok_or_else(|| ApiError::missing("startTime"))?;
        end.ok_or_else(|| ApiError::missing("endTime"))?;
    }
    let (lo, hi) = match (start, end) {
        (Some(s), Some(e)) => {
            if e < s {
                return Err(ApiError::params("startTime must be less than endTime"));
            }
            if e - s > max_ms {
                return Err(ApiError::params(format!(
                    "The time range between startTime and endTime cannot exceed {} days",
                    max_ms / DAY_MS
                )));
            }
            (s, e)
        }
        (Some(s), None) => (s, s + max_ms),
        (None, Some(e)) => (e - max_ms, e),
        (None, None) => (now - max_ms, now),
    };
    if let Some(reach) = reach_ms {
        if lo < now - reach {
            return Err(ApiError::params(format!(
                "startTime can not be earlier than {} days ago",
                reach / DAY_MS
            )));
        }
    }
    Ok((lo, hi))
}

/// The page of `items` (`(id, object)`, newest first) after `idLessThan`.
fn page(items: Vec<(u64, Value)>, p: &Params, limit: usize) -> Result<Value, ApiError> {
    let before = match p.get("idLessThan") {
        None => u64::MAX,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::params("Parameter idLessThan is invalid"))?,
    };
    Ok(Value::Array(
        items
            .into_iter()
            .filter(|(id, _)| *id < before)
            .take(limit)
            .map(|(_, v)| v)
            .collect(),
    ))
}

fn symbol_of(ds: &Dataset, p: &Params, required: bool) -> Result<Option<usize>, ApiError> {
    match p.get("symbol") {
        None if required => Err(ApiError::missing("symbol")),
        None => Ok(None),
        Some(s) => ds
            .symbols
            .iter()
            .position(|x| x.symbol == s)
            .map(Some)
            .ok_or_else(|| ApiError {
                status: 400,
                code: "40034",
                msg: format!("Parameter {s} does not exist"),
            }),
    }
}

fn fills(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let symbol = symbol_of(ds, p, true)?;
    let limit = p.limit(100, 100)?;
    let (lo, hi) = window(p, WINDOW_MS, Some(RECENT_REACH_MS), false, now)?;
    let items = ds
        .fills
        .iter()
        .rev()
        .filter(|f| f.margin == Margin::Spot && Some(f.symbol) == symbol)
        .filter(|f| f.time >= lo && f.time <= hi)
        .filter(|f| p.get("orderId").is_none_or(|o| o == f.order_id.to_string()))
        .map(|f| (f.trade_id, render::fill(ds, f)))
        .collect();
    page(items, p, limit)
}

fn history_orders(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let symbol = symbol_of(ds, p, false)?;
    let limit = p.limit(100, 100)?;
    let (lo, hi) = window(p, WINDOW_MS, Some(RECENT_REACH_MS), false, now)?;
    let items = ds
        .orders
        .iter()
        .rev()
        .filter(|o| o.margin == Margin::Spot && !matches!(o.status, "live" | "partially_filled"))
        .filter(|o| symbol.is_none_or(|s| s == o.symbol))
        .filter(|o| o.created >= lo && o.created <= hi)
        .map(|o| (o.order_id, render::order(ds, o)))
        .collect();
    page(items, p, limit)
}

fn unfilled_orders(ds: &Dataset, p: &Params) -> Result<Value, ApiError> {
    let symbol = symbol_of(ds, p, false)?;
    let limit = p.limit(100, 100)?;
    let items = ds
        .orders
        .iter()
        .rev()
        .filter(|o| o.margin == Margin::Spot && matches!(o.status, "live" | "partially_filled"))
        .filter(|o| symbol.is_none_or(|s| s == o.symbol))
        .map(|o| (o.order_id, render::order(ds, o)))
        .collect();
    page(items, p, limit)
}

fn bills(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let limit = p.limit(100, 500)?;
    let (lo, hi) = window(p, BILLS_WINDOW_MS, Some(RECENT_REACH_MS), false, now)?;
    let items = ds
        .bills
        .iter()
        .rev()
        .filter(|b| b.time >= lo && b.time <= hi)
        .filter(|b| p.get("coin").is_none_or(|c| c == b.coin))
        .filter(|b| p.get("businessType").is_none_or(|t| t == b.business_type))
        .map(|b| (b.bill_id, render::bill(b)))
        .collect();
    page(items, p, limit)
}

fn transfers(ds: &Dataset, p: &Params, now: i64, deposits: bool) -> Result<Value, ApiError> {
    let limit = p.limit(100, 100)?;
    let (lo, hi) = window(p, WINDOW_MS, None, true, now)?;
    let rows = if deposits {
        &ds.deposits
    } else {
        &ds.withdrawals
    };
    let items = rows
        .iter()
        .rev()
        .filter(|t| t.time >= lo && t.time <= hi)
        .filter(|t| p.get("coin").is_none_or(|c| c == t.coin))
        .map(|t| {
            let v = if deposits {
                render::deposit(t)
            } else {
                render::withdrawal(t)
            };
            (t.order_id, v)
        })
        .collect();
    page(items, p, limit)
}

/// How far back `candles` serves a granularity (the rest is `history-candles`' ); `None`: all.
pub fn candles_reach_ms(granularity: &str) -> Option<i64> {
    let days = match granularity {
        "1min" | "3min" | "5min" => 30,
        "15min" => 52,
        "30min" => 62,
        "1h" => 83,
        "4h" => 240,
        "6Hutc" | "6h" => 360,
        _ => return None,
    };
    Some(days * DAY_MS)
}

fn candle_args(ds: &Dataset, p: &Params) -> Result<(usize, &'static str, Granularity), ApiError> {
    let symbol = symbol_of(ds, p, true)?.expect("required");
    let name = p
        .get("granularity")
        .ok_or_else(|| ApiError::missing("granularity"))?;
    let g = Granularity::parse(name)
        .ok_or_else(|| ApiError::params("Parameter granularity is invalid"))?;
    let name = GRANULARITY_NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("");
    Ok((symbol, name, g))
}

const GRANULARITY_NAMES: [&str; 18] = [
    "1min", "3min", "5min", "15min", "30min", "1h", "4h", "6Hutc", "12Hutc", "1Dutc", "3Dutc",
    "1Wutc", "1Mutc", "6h", "12h", "1day", "3day", "1week",
];

/// `candles`: at most `limit` (≤ 1000) of the latest candles in `[startTime, endTime]`,
/// within the granularity's reach only.
fn candles(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let (symbol, name, g) = candle_args(ds, p)?;
    let limit = p.limit(100, 1000)?;
    let end = p.opt_i64("endTime")?.unwrap_or(now).min(now);
    let reach = candles_reach_ms(name).map(|r| now - r);
    let start = match (p.opt_i64("startTime")?, reach) {
        (Some(s), Some(r)) => Some(s.max(r)),
        (s, r) => s.or(r),
    };
    let s = &ds.symbols[symbol];
    Ok(Value::Array(
        select_candles(g, start, end, limit)
            .into_iter()
            .map(|open| render::candle(ds.config.seed, s, g, open, now))
            .collect(),
    ))
}

/// `history-candles`: the latest `limit` (≤ 200) candles opening at or before `endTime`
/// (required).
fn history_candles(ds: &Dataset, p: &Params, now: i64) -> Result<Value, ApiError> {
    let (symbol, _, g) = candle_args(ds, p)?;
    let limit = p.limit(100, 200)?;
    let end = p
        .opt_i64("endTime")?
        .ok_or_else(|| ApiError::missing("endTime"))?
        .min(now);
    let s = &ds.symbols[symbol];
    Ok(Value::Array(
        select_candles(g, None, end, limit)
            .into_iter()
            .map(|open| render::candle(ds.config.seed, s, g, open, now))
            .collect(),
    ))
}

/// Open times Bitget returns: the latest `limit` candles opening in `[start, end]`, oldest
/// first.
pub fn select_candles(g: Granularity, start: Option<i64>, end: i64, limit: usize) -> Vec<i64> {
    let mut opens = Vec::new();
    let mut t = g.floor(end);
    while opens.len() < limit {
        if start.is_some_and(|s| t < s) {
            break;
        }
        opens.push(t);
        let prev = g.floor(t - 1);
        if prev >= t {
            break;
        }
        t = prev;
    }
    opens.reverse();
    opens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uta_dataset() -> Dataset {
        let mut config = crate::bitget::DatasetConfig::ending(1_000 * DAY_MS);
        config.uta = true;
        Dataset::generate(&config)
    }

    #[test]
    fn unified_ids_are_unique_per_kind() {
        let truth = render::truth(&uta_dataset());
        for kind in ["fills", "orders", "records"] {
            let list = truth["uta"][kind].as_array().unwrap();
            assert!(!list.is_empty(), "{kind}");
            let ids: std::collections::BTreeSet<&str> =
                list.iter().map(|v| v["id"].as_str().unwrap()).collect();
            assert_eq!(ids.len(), list.len(), "{kind}");
        }
    }

    #[test]
    fn unified_lists_page_by_cursor_in_30_day_windows() {
        let ds = uta_dataset();
        let now = 1_000 * DAY_MS;
        let p = Params::parse(&format!(
            "category=SPOT&startTime={}&endTime={}",
            now - 31 * DAY_MS,
            now
        ));
        assert!(uta_list(&ds, &p, now, UtaList::Fills)
            .unwrap_err()
            .msg
            .contains("30 days"));
        assert_eq!(
            uta_list(&ds, &Params::parse(""), now, UtaList::History)
                .unwrap_err()
                .code,
            "40019"
        );
        // Every spot fill of the last 30 days, 7 at a time, by cursor.
        let base = format!(
            "category=SPOT&startTime={}&endTime={}&limit=7",
            now - 30 * DAY_MS,
            now
        );
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let q = if cursor.is_empty() {
                base.clone()
            } else {
                format!("{base}&cursor={cursor}")
            };
            let v = uta_list(&ds, &Params::parse(&q), now, UtaList::Fills).unwrap();
            let list = v["list"].as_array().unwrap().clone();
            seen.extend(
                list.iter()
                    .map(|f| f["execId"].as_str().unwrap().to_owned()),
            );
            if list.len() < 7 {
                break;
            }
            cursor = v["cursor"].as_str().unwrap().to_owned();
        }
        let expected = ds
            .fills
            .iter()
            .filter(|f| f.margin == Margin::Spot && f.time >= now - 30 * DAY_MS && f.time <= now)
            .count();
        assert!(expected > 7);
        assert_eq!(seen.len(), expected);
    }

    #[test]
    fn candles_are_the_latest_in_range_oldest_first() {
        let g = Granularity::parse("1h").unwrap();
        let h = 3_600_000;
        assert_eq!(
            select_candles(g, Some(10 * h), 12 * h + 5, 1000),
            vec![10 * h, 11 * h, 12 * h]
        );
        assert_eq!(select_candles(g, None, 12 * h, 2), vec![11 * h, 12 * h]);
    }

    #[test]
    fn windows_follow_bitget_rules() {
        let now = 1_000 * DAY_MS;
        let p = Params::parse("startTime=0&endTime=1");
        assert!(window(&p, WINDOW_MS, Some(RECENT_REACH_MS), false, now)
            .unwrap_err()
            .msg
            .contains("90 days ago"));
        let p = Params::parse(&format!("startTime={}&endTime={}", now - 91 * DAY_MS, now));
        assert!(window(&p, WINDOW_MS, None, true, now)
            .unwrap_err()
            .msg
            .contains("cannot exceed 90 days"));
        assert_eq!(
            window(&Params::parse(""), WINDOW_MS, None, true, now)
                .unwrap_err()
                .code,
            "40019"
        );
    }

    #[test]
    fn pages_go_back_by_id() {
        let items: Vec<(u64, Value)> = (1..=5).rev().map(|i| (i, json!(i))).collect();
        let p = Params::parse("idLessThan=4");
        assert_eq!(page(items, &p, 2).unwrap(), json!([3, 2]));
    }
}
