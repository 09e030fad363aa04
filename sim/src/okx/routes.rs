//! OKX's endpoints in the simulator: envelopes, parameters, pagination, rate limits.
//!
//! Every history list is served newest first, at most `limit` (≤ 100) records, paged with
//! `after=KEY` (records older than KEY) and `before=KEY` (newer). The key is `billId` for
//! fills and bills, `ordId` for orders, `ts` for deposits, withdrawals and candles. With
//! `before` alone, the records just after KEY are served (still newest first). Fills, orders
//! and bills older than 3 months are not served, as on OKX; nor are algo orders done more
//! than 3 months ago (by `cTime`). Algo orders page by `algoId` and need `ordType` (and, for
//! the history, `state` or `algoId`). The fiat order histories take `after` and `before` as
//! inclusive begin and end times (`cTime`), as OKX's documentation describes them.

use std::collections::{BTreeMap, VecDeque};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::auth::{self, AuthHeaders};
use super::data::{dec, Item, INSTRUMENTS, REACH_MS};
use super::{OkxError, SimState};
use crate::binance::json_response;
use crate::faults::malform;
use crate::prng::hash_parts;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// One OKX endpoint the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Time,
    AccountConfig,
    AccountBalance,
    AssetBalances,
    SavingsBalances,
    StakingOrdersActive,
    FillsHistory,
    OrdersArchive,
    OrdersPending,
    BillsArchive,
    AssetBillsHistory,
    DepositHistory,
    WithdrawalHistory,
    OrdersAlgoHistory,
    OrdersAlgoPending,
    FiatDepositHistory,
    FiatWithdrawalHistory,
    HistoryCandles,
    Instruments,
}

impl Endpoint {
    pub fn lookup(path: &str) -> Option<Endpoint> {
        use Endpoint::*;
        Some(match path {
            "/api/v5/public/time" => Time,
            "/api/v5/account/config" => AccountConfig,
            "/api/v5/account/balance" => AccountBalance,
            "/api/v5/asset/balances" => AssetBalances,
            "/api/v5/finance/savings/balances" => SavingsBalances,
            "/api/v5/finance/staking-defi/orders-active" => StakingOrdersActive,
            "/api/v5/trade/fills-history" => FillsHistory,
            "/api/v5/trade/orders-history-archive" => OrdersArchive,
            "/api/v5/trade/orders-pending" => OrdersPending,
            "/api/v5/account/bills-archive" => BillsArchive,
            "/api/v5/asset/bills-history" => AssetBillsHistory,
            "/api/v5/asset/deposit-history" => DepositHistory,
            "/api/v5/asset/withdrawal-history" => WithdrawalHistory,
            "/api/v5/trade/orders-algo-history" => OrdersAlgoHistory,
            "/api/v5/trade/orders-algo-pending" => OrdersAlgoPending,
            "/api/v5/fiat/deposit-order-history" => FiatDepositHistory,
            "/api/v5/fiat/withdrawal-order-history" => FiatWithdrawalHistory,
            "/api/v5/market/history-candles" => HistoryCandles,
            "/api/v5/public/instruments" => Instruments,
            _ => return None,
        })
    }

    pub fn private(self) -> bool {
        !matches!(
            self,
            Endpoint::Time | Endpoint::HistoryCandles | Endpoint::Instruments
        )
    }

    /// OKX's documented limit: requests per window (ms).
    pub fn limit(self) -> (u32, i64) {
        use Endpoint::*;
        match self {
            Time => (10, 2000),
            AccountConfig => (5, 2000),
            AccountBalance => (10, 2000),
            AssetBalances | SavingsBalances | DepositHistory | WithdrawalHistory => (6, 1000),
            // unconfirmed: OKX's figure for orders-active; 3 / s as the connector assumes.
            StakingOrdersActive => (3, 1000),
            FillsHistory => (10, 2000),
            OrdersArchive => (20, 2000),
            OrdersPending => (60, 2000),
            BillsArchive => (5, 2000),
            AssetBillsHistory => (1, 1000),
            OrdersAlgoHistory | OrdersAlgoPending => (20, 2000),
            FiatDepositHistory | FiatWithdrawalHistory => (3, 1000),
            HistoryCandles | Instruments => (20, 2000),
        }
    }

    pub fn path(self) -> &'static str {
        use Endpoint::*;
        match self {
            Time => "/api/v5/public/time",
            AccountConfig => "/api/v5/account/config",
            AccountBalance => "/api/v5/account/balance",
            AssetBalances => "/api/v5/asset/balances",
            SavingsBalances => "/api/v5/finance/savings/balances",
            StakingOrdersActive => "/api/v5/finance/staking-defi/orders-active",
            FillsHistory => "/api/v5/trade/fills-history",
            OrdersArchive => "/api/v5/trade/orders-history-archive",
            OrdersPending => "/api/v5/trade/orders-pending",
            BillsArchive => "/api/v5/account/bills-archive",
            AssetBillsHistory => "/api/v5/asset/bills-history",
            DepositHistory => "/api/v5/asset/deposit-history",
            WithdrawalHistory => "/api/v5/asset/withdrawal-history",
            OrdersAlgoHistory => "/api/v5/trade/orders-algo-history",
            OrdersAlgoPending => "/api/v5/trade/orders-algo-pending",
            FiatDepositHistory => "/api/v5/fiat/deposit-order-history",
            FiatWithdrawalHistory => "/api/v5/fiat/withdrawal-order-history",
            HistoryCandles => "/api/v5/market/history-candles",
            Instruments => "/api/v5/public/instruments",
        }
    }
}

/// Request times per endpoint within the current window.
#[derive(Debug, Default)]
pub struct Windows {
    seen: BTreeMap<Endpoint, VecDeque<i64>>,
}

impl Windows {
    /// Counts a request at `now`; false when it is over the limit (it is not counted then).
    pub fn admit(&mut self, endpoint: Endpoint, limit: u32, window_ms: i64, now: i64) -> bool {
        let q = self.seen.entry(endpoint).or_default();
        while q.front().is_some_and(|t| *t <= now - window_ms) {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// Decoded query parameters (the last of repeated names wins).
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    pub fn parse(raw: &str) -> Params {
        let map = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let d = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
                (d(k), d(v))
            })
            .collect();
        Params { map }
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    fn num(&self, name: &str) -> Result<Option<u64>, OkxError> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| OkxError::bad("51000", format!("Parameter {name} error")))
            })
            .transpose()
    }
    fn limit(&self) -> Result<usize, OkxError> {
        match self.num("limit")? {
            None => Ok(100),
            Some(n) if (1..=100).contains(&n) => Ok(n as usize),
            Some(_) => Err(OkxError::bad("51000", "Parameter limit error")),
        }
    }
}

/// What one request was and how it ended, for the statistics.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub endpoint: Option<Endpoint>,
    /// `instType=SPOT`, `instId=BTC-USDT bar=1Dutc`: what the request was split by.
    pub partition: Option<String>,
    pub status: u16,
    pub auth_failure: bool,
}

fn ok_body(data: Value) -> String {
    json!({ "code": "0", "msg": "", "data": data }).to_string()
}

/// Serves one API request.
pub async fn handle(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response<Body> {
    let (status, text, outcome) = answer(state, method, path, query, headers, body);
    let slow = state.faults.config().slow_ms;
    if slow > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(slow)).await;
    }
    state.stats.lock().expect("stats lock").record(&outcome);
    json_response(status, text, &[])
}

fn answer(
    state: &SimState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> (u16, String, Outcome) {
    let params = Params::parse(query);
    let endpoint = Endpoint::lookup(path);
    let mut outcome = Outcome {
        endpoint,
        partition: endpoint.and_then(|e| partition_label(e, &params)),
        status: 200,
        auth_failure: false,
    };
    let fail = |mut outcome: Outcome, e: OkxError| {
        outcome.status = e.status;
        (e.status, e.body(), outcome)
    };
    let Some(endpoint) = endpoint else {
        return fail(outcome, OkxError::new(404, "404", "Not Found"));
    };
    if method != Method::GET {
        return fail(
            outcome,
            OkxError::new(405, "50115", "Invalid request method."),
        );
    }
    let now = state.now_ms();
    if endpoint.private() {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth_headers = AuthHeaders {
            key: header("ok-access-key"),
            sign: header("ok-access-sign"),
            timestamp: header("ok-access-timestamp"),
            passphrase: header("ok-access-passphrase"),
            simulated: header("x-simulated-trading"),
        };
        let request_path = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let body_text = String::from_utf8_lossy(body);
        if let Err(e) = auth::check(
            &state.config.credentials,
            &auth_headers,
            method.as_str(),
            &request_path,
            &body_text,
            now,
        ) {
            outcome.auth_failure = true;
            return fail(outcome, e);
        }
    }
    let limits = &state.config.limits;
    if limits.enabled {
        let (limit, window) = endpoint.limit();
        let limit = limits.override_limit.unwrap_or(limit);
        let window = limits.override_window_ms.unwrap_or(window);
        if !state
            .limits
            .lock()
            .expect("limits lock")
            .admit(endpoint, limit, window, now)
        {
            return fail(
                outcome,
                OkxError::new(
                    429,
                    "50011",
                    "Rate limit reached. Please refer to API documentation and throttle \
                     requests accordingly.",
                ),
            );
        }
    }
    let draw = state.faults.draw();
    if let Some(status) = draw.error_status {
        let e = match status {
            429 => OkxError::new(429, "50011", "Too Many Requests"),
            503 => OkxError::new(
                503,
                "50001",
                "Service temporarily unavailable. Please try again later.",
            ),
            _ => OkxError::new(status, "50026", "System error. Try again later."),
        };
        return fail(outcome, e);
    }
    match serve(state, endpoint, &params, now) {
        Ok(data) => {
            let text = ok_body(data);
            let text = if draw.malformed { malform(&text) } else { text };
            (200, text, outcome)
        }
        Err(e) => fail(outcome, e),
    }
}

fn partition_label(endpoint: Endpoint, p: &Params) -> Option<String> {
    match endpoint {
        Endpoint::FillsHistory | Endpoint::OrdersArchive | Endpoint::OrdersPending => {
            Some(format!("instType={}", p.get("instType").unwrap_or("")))
        }
        Endpoint::OrdersAlgoHistory => Some(format!(
            "ordType={} state={}",
            p.get("ordType").unwrap_or(""),
            p.get("state").unwrap_or("")
        )),
        Endpoint::OrdersAlgoPending => Some(format!("ordType={}", p.get("ordType").unwrap_or(""))),
        Endpoint::HistoryCandles => Some(format!(
            "instId={} bar={}",
            p.get("instId").unwrap_or(""),
            p.get("bar").unwrap_or("1m")
        )),
        _ => None,
    }
}

fn serve(state: &SimState, endpoint: Endpoint, p: &Params, now: i64) -> Result<Value, OkxError> {
    let ds = state.data.read().expect("data lock");
    let reach = now - REACH_MS;
    let inst_type = p.get("instType");
    let page = |items: &[Item], keep: &dyn Fn(&Item) -> bool| -> Result<Value, OkxError> {
        Ok(Value::Array(newest_first(
            items,
            keep,
            p.num("after")?,
            p.num("before")?,
            p.limit()?,
        )))
    };
    let require_inst_type = || -> Result<&str, OkxError> {
        inst_type.ok_or_else(|| OkxError::bad("50014", "Parameter instType can not be empty."))
    };
    match endpoint {
        Endpoint::Time => Ok(json!([{ "ts": now.to_string() }])),
        Endpoint::AccountConfig => Ok(json!([{
            "uid": ds.uid, "mainUid": ds.main_uid, "acctLv": ds.config.acct_lv,
            "posMode": "net_mode", "autoLoan": false, "greeksType": "PA", "level": "Lv1",
            "levelTmp": "", "ctIsoMode": "automatic", "mgnIsoMode": "automatic",
            "spotOffsetType": "", "roleType": "0", "traderInsts": [], "spotRoleType": "0",
            "spotTraderInsts": [], "opAuth": "0", "kycLv": "2", "label": "exsync e2e",
            "ip": "", "perm": ds.config.perm, "liquidationGear": "-1",
            "enableSpotBorrow": false, "spotBorrowAutoRepay": false, "type": "0",
        }])),
        Endpoint::AccountBalance => Ok(json!([ds.trading_balance])),
        Endpoint::AssetBalances => Ok(Value::Array(ds.funding_balances.clone())),
        Endpoint::SavingsBalances => Ok(Value::Array(ds.savings_balances.clone())),
        // Unpaginated: every active order, narrowed by OKX's optional filters.
        Endpoint::StakingOrdersActive => {
            let filter = |o: &&Value, name: &str| p.get(name).is_none_or(|v| o[name] == v);
            Ok(Value::Array(
                ds.staking_orders
                    .iter()
                    .filter(|o| {
                        ["productId", "protocolType", "ccy", "state"]
                            .iter()
                            .all(|name| filter(o, name))
                    })
                    .cloned()
                    .collect(),
            ))
        }
        Endpoint::FillsHistory => {
            let t = require_inst_type()?;
            let inst_id = p.get("instId");
            page(&ds.fills, &|i| {
                i.inst_type == t
                    && i.ts >= reach
                    && inst_id.is_none_or(|id| i.value["instId"] == id)
            })
        }
        Endpoint::OrdersArchive => {
            let t = require_inst_type()?;
            page(&ds.orders, &|i| i.inst_type == t && i.ts >= reach)
        }
        Endpoint::OrdersPending => page(&ds.open_orders, &|i| {
            inst_type.is_none_or(|t| i.inst_type == t)
        }),
        Endpoint::BillsArchive => {
            let ccy = p.get("ccy");
            page(&ds.bills, &|i| {
                i.ts >= reach && ccy.is_none_or(|c| i.value["ccy"] == c)
            })
        }
        Endpoint::AssetBillsHistory => {
            // pagingType 1 (the default) pages by ts, 2 by billId.
            let ccy = p.get("ccy");
            let keep =
                |i: &Item| i.ts >= FUNDING_BILLS_FROM_MS && ccy.is_none_or(|c| i.value["ccy"] == c);
            match p.get("pagingType").unwrap_or("1") {
                "2" => page(&ds.funding_bills, &keep),
                "1" => {
                    let by_ts: Vec<Item> = ds
                        .funding_bills
                        .iter()
                        .map(|i| Item {
                            key: i.ts as u64,
                            ..i.clone()
                        })
                        .collect();
                    page(&by_ts, &keep)
                }
                _ => Err(OkxError::bad("51000", "Parameter pagingType error")),
            }
        }
        Endpoint::DepositHistory | Endpoint::WithdrawalHistory => {
            let ccy = p.get("ccy");
            let items = if endpoint == Endpoint::DepositHistory {
                &ds.deposits
            } else {
                &ds.withdrawals
            };
            page(items, &|i| ccy.is_none_or(|c| i.value["ccy"] == c))
        }
        Endpoint::OrdersAlgoHistory | Endpoint::OrdersAlgoPending => {
            let types = algo_ord_types(p)?;
            let history = endpoint == Endpoint::OrdersAlgoHistory;
            let state = p.get("state");
            let algo_id = p.get("algoId");
            if history {
                if state.is_none() && algo_id.is_none() {
                    return Err(OkxError::bad("50014", "Parameter state can not be empty."));
                }
                if state.is_some_and(|s| !["effective", "canceled", "order_failed"].contains(&s)) {
                    return Err(OkxError::bad("51000", "Parameter state error"));
                }
            }
            if inst_type.is_some_and(|t| !["SPOT", "SWAP", "FUTURES", "MARGIN"].contains(&t)) {
                return Err(OkxError::bad("51000", "Parameter instType error"));
            }
            let inst_id = p.get("instId");
            let items = if history {
                &ds.algo_orders
            } else {
                &ds.algo_pending
            };
            page(items, &|i| {
                (!history || i.ts >= reach)
                    && types.iter().any(|t| i.value["ordType"] == *t)
                    && state.is_none_or(|s| i.value["state"] == s)
                    && algo_id.is_none_or(|a| i.value["algoId"] == a)
                    && inst_type.is_none_or(|t| i.inst_type == t)
                    && inst_id.is_none_or(|id| i.value["instId"] == id)
            })
        }
        Endpoint::FiatDepositHistory | Endpoint::FiatWithdrawalHistory => {
            let items = if endpoint == Endpoint::FiatDepositHistory {
                &ds.fiat_deposits
            } else {
                &ds.fiat_withdrawals
            };
            let ccy = p.get("ccy");
            let method = p.get("paymentMethod");
            let state = p.get("state");
            // Inclusive begin (`after`) and end (`before`) times, newest first.
            let (begin, end) = (p.num("after")?, p.num("before")?);
            let limit = p.limit()?;
            Ok(Value::Array(
                items
                    .iter()
                    .rev()
                    .filter(|i| begin.is_none_or(|b| i.key >= b) && end.is_none_or(|e| i.key <= e))
                    .filter(|i| {
                        ccy.is_none_or(|c| i.value["ccy"] == c)
                            && method.is_none_or(|m| i.value["paymentMethod"] == m)
                            && state.is_none_or(|s| i.value["state"] == s)
                    })
                    .take(limit)
                    .map(|i| i.value.clone())
                    .collect(),
            ))
        }
        Endpoint::HistoryCandles => candles(ds.config.seed, p, now),
        Endpoint::Instruments => {
            let t = require_inst_type()?;
            Ok(Value::Array(
                INSTRUMENTS
                    .iter()
                    .filter(|i| i.inst_type == t)
                    .map(|i| {
                        let (ct_val, ct_val_ccy, settle) = match i.inst_type {
                            "SPOT" => ("", "", ""),
                            _ => (contract_value(i.inst_id), i.base, i.quote),
                        };
                        json!({
                            "instType": i.inst_type, "instId": i.inst_id,
                            "instFamily": if i.inst_type == "SPOT" { String::new() } else { format!("{}-{}", i.base, i.quote) },
                            "baseCcy": if i.inst_type == "SPOT" { i.base } else { "" },
                            "quoteCcy": if i.inst_type == "SPOT" { i.quote } else { "" },
                            "settleCcy": settle, "ctVal": ct_val, "ctMult": if ct_val.is_empty() { "" } else { "1" },
                            "ctValCcy": ct_val_ccy, "ctType": if ct_val.is_empty() { "" } else { "linear" },
                            "listTime": i.listed_ms.to_string(), "state": "live",
                            "tickSz": dec(1, i.px_scale), "lotSz": "1", "minSz": "1",
                        })
                    })
                    .collect(),
            ))
        }
    }
}

/// The algo order types of a request's `ordType` (required): one type, or `conditional` and
/// `oco` together, comma-separated.
fn algo_ord_types(p: &Params) -> Result<Vec<&str>, OkxError> {
    const TYPES: [&str; 7] = [
        "conditional",
        "oco",
        "chase",
        "trigger",
        "move_order_stop",
        "iceberg",
        "twap",
    ];
    let raw = p
        .get("ordType")
        .ok_or_else(|| OkxError::bad("50014", "Parameter ordType can not be empty."))?;
    let types: Vec<&str> = raw.split(',').collect();
    let known = types.iter().all(|t| TYPES.contains(t));
    let combinable = types.len() == 1 || types.iter().all(|t| ["conditional", "oco"].contains(t));
    if known && combinable {
        Ok(types)
    } else {
        Err(OkxError::bad("51000", "Parameter ordType error"))
    }
}

/// A swap's contract value, in its base currency.
pub fn contract_value(inst_id: &str) -> &'static str {
    match inst_id {
        "BTC-USDT-SWAP" => "0.01",
        _ => "0.1",
    }
}

/// `asset/bills-history` serves bills from 2021-02-01 on.
const FUNDING_BILLS_FROM_MS: i64 = 1_612_137_600_000;

/// `items` (sorted by key) that `keep` accepts, within `(before, after)`, newest first.
fn newest_first(
    items: &[Item],
    keep: &dyn Fn(&Item) -> bool,
    after: Option<u64>,
    before: Option<u64>,
    limit: usize,
) -> Vec<Value> {
    let in_range = |i: &&Item| after.is_none_or(|a| i.key < a) && before.is_none_or(|b| i.key > b);
    let chosen: Vec<&Item> = if before.is_some() && after.is_none() {
        let mut v: Vec<&Item> = items
            .iter()
            .filter(in_range)
            .filter(|i| keep(i))
            .take(limit)
            .collect();
        v.reverse();
        v
    } else {
        items
            .iter()
            .rev()
            .filter(in_range)
            .filter(|i| keep(i))
            .take(limit)
            .collect()
    };
    chosen.into_iter().map(|i| i.value.clone()).collect()
}

/// OKX's `bar` values the simulator serves, with their length; UTC bars only from 6 h up.
pub fn bar_ms(bar: &str) -> Option<i64> {
    Some(match bar {
        "1m" => MINUTE_MS,
        "3m" => 3 * MINUTE_MS,
        "5m" => 5 * MINUTE_MS,
        "15m" => 15 * MINUTE_MS,
        "30m" => 30 * MINUTE_MS,
        "1H" => HOUR_MS,
        "2H" => 2 * HOUR_MS,
        "4H" => 4 * HOUR_MS,
        "6Hutc" => 6 * HOUR_MS,
        "12Hutc" => 12 * HOUR_MS,
        "1Dutc" => DAY_MS,
        "2Dutc" => 2 * DAY_MS,
        "1Wutc" => 7 * DAY_MS,
        _ => return None,
    })
}

/// The open time of the bar holding `t`. Weeks open on Monday (1970-01-05 was one).
pub fn bar_floor(t: i64, len: i64) -> i64 {
    let origin = if len == 7 * DAY_MS { 4 * DAY_MS } else { 0 };
    (t - origin).div_euclid(len) * len + origin
}

/// One candle row: `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, a pure function of
/// the seed, instrument, bar and open time (and of `now` for `confirm`).
pub fn candle_row(
    seed: u64,
    inst_id: &str,
    px: u64,
    scale: u32,
    len: i64,
    open: i64,
    now: i64,
) -> Value {
    let h = |n: u64| {
        hash_parts(&[
            seed,
            crate::prng::hash_str(inst_id),
            len as u64,
            open as u64,
            n,
        ])
    };
    let base = px as i128;
    let o = base * (950 + (h(1) % 100) as i128) / 1000;
    let c = base * (950 + (h(2) % 100) as i128) / 1000;
    let hi = o.max(c) + (h(3) % 50) as i128;
    let lo = (o.min(c) - (h(4) % 50) as i128).max(1);
    let vol = 1 + (h(5) % 10_000_000) as i128;
    let vol_quote = vol * c;
    let confirm = if open + len <= now { "1" } else { "0" };
    json!([
        open.to_string(),
        dec(o, scale),
        dec(hi, scale),
        dec(lo, scale),
        dec(c, scale),
        dec(vol, 4),
        dec(vol_quote, 4 + scale),
        dec(vol_quote, 4 + scale),
        confirm
    ])
}

fn candles(seed: u64, p: &Params, now: i64) -> Result<Value, OkxError> {
    let inst_id = p
        .get("instId")
        .ok_or_else(|| OkxError::bad("50014", "Parameter instId can not be empty."))?;
    let ins = INSTRUMENTS
        .iter()
        .find(|i| i.inst_id == inst_id)
        .ok_or_else(|| OkxError::bad("51001", "Instrument ID does not exist."))?;
    let len = bar_ms(p.get("bar").unwrap_or("1m"))
        .ok_or_else(|| OkxError::bad("51000", "Parameter bar error"))?;
    let limit = p.limit()?;
    let after = p.num("after")?.map(|a| a as i64);
    let before = p.num("before")?.map(|b| b as i64);
    let mut first = bar_floor(ins.listed_ms, len);
    if first < ins.listed_ms {
        first += len;
    }
    let latest = bar_floor(now, len);
    let mut rows = Vec::new();
    if before.is_some() && after.is_none() {
        let mut t = bar_floor(before.unwrap_or(0), len);
        if t <= before.unwrap_or(0) {
            t += len;
        }
        t = t.max(first);
        while t <= latest && rows.len() < limit {
            rows.push(candle_row(seed, inst_id, ins.px, ins.px_scale, len, t, now));
            t += len;
        }
        rows.reverse();
    } else {
        let mut t = match after {
            Some(a) => bar_floor(a - 1, len),
            None => latest,
        }
        .min(latest);
        while t >= first && before.is_none_or(|b| t > b) && rows.len() < limit {
            rows.push(candle_row(seed, inst_id, ins.px, ins.px_scale, len, t, now));
            t -= len;
        }
    }
    Ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(keys: &[u64]) -> Vec<Item> {
        keys.iter()
            .map(|k| Item {
                key: *k,
                ts: *k as i64,
                inst_type: "SPOT".into(),
                value: json!({ "k": k }),
            })
            .collect()
    }

    fn keys(values: Vec<Value>) -> Vec<u64> {
        values.iter().map(|v| v["k"].as_u64().unwrap()).collect()
    }

    #[test]
    fn pages_newest_first_with_after_and_before() {
        let list = items(&[1, 2, 3, 4, 5, 6]);
        let all = |_: &Item| true;
        assert_eq!(
            keys(newest_first(&list, &all, None, None, 4)),
            vec![6, 5, 4, 3]
        );
        assert_eq!(
            keys(newest_first(&list, &all, Some(3), None, 4)),
            vec![2, 1]
        );
        assert_eq!(
            keys(newest_first(&list, &all, None, Some(2), 2)),
            vec![4, 3]
        );
        assert_eq!(
            keys(newest_first(&list, &all, Some(6), Some(2), 9)),
            vec![5, 4, 3]
        );
        let odd = |i: &Item| i.key % 2 == 1;
        assert_eq!(
            keys(newest_first(&list, &odd, None, None, 9)),
            vec![5, 3, 1]
        );
    }

    fn sim_state(anchor_ms: i64) -> SimState {
        use crate::faults::{FaultConfig, Faults};
        let config = super::super::OkxSimConfig {
            credentials: auth::Credentials {
                api_key: "k".into(),
                api_secret: "s".into(),
                passphrase: "p".into(),
                demo: false,
            },
            dataset: super::super::DatasetConfig {
                anchor_ms,
                ..Default::default()
            },
            limits: super::super::LimitConfig {
                enabled: false,
                override_limit: None,
                override_window_ms: None,
            },
            faults: FaultConfig::default(),
            clock_offset_ms: 0,
        };
        SimState {
            data: std::sync::RwLock::new(super::super::Dataset::generate(&config.dataset)),
            limits: std::sync::Mutex::new(Windows::default()),
            faults: Faults::new(config.faults.clone(), 1),
            stats: std::sync::Mutex::new(Default::default()),
            append_rng: std::sync::Mutex::new(crate::prng::SimRng::new(1)),
            config,
        }
    }

    fn list(state: &SimState, endpoint: Endpoint, query: &str, now: i64) -> Vec<Value> {
        let v = serve(state, endpoint, &Params::parse(query), now).unwrap();
        v.as_array().unwrap().clone()
    }

    #[test]
    fn algo_orders_need_an_order_type_and_a_state_and_page_by_algo_id() {
        let now = 1_800_000_000_000;
        let state = sim_state(now);
        let err = |endpoint, q: &str| serve(&state, endpoint, &Params::parse(q), now).unwrap_err();
        assert_eq!(err(Endpoint::OrdersAlgoPending, "").code, "50014");
        assert_eq!(
            err(Endpoint::OrdersAlgoHistory, "ordType=trigger").code,
            "50014"
        );
        assert_eq!(
            err(
                Endpoint::OrdersAlgoHistory,
                "ordType=trigger,twap&state=canceled"
            )
            .code,
            "51000",
            "only conditional and oco go together"
        );
        assert_eq!(
            err(Endpoint::OrdersAlgoHistory, "ordType=trigger&state=live").code,
            "51000"
        );
        let both = list(
            &state,
            Endpoint::OrdersAlgoHistory,
            "ordType=conditional%2Coco&state=effective&limit=5",
            now,
        );
        assert_eq!(both.len(), 5);
        let id = |v: &Value| v["algoId"].as_str().unwrap().parse::<u64>().unwrap();
        for w in both.windows(2) {
            assert!(id(&w[0]) > id(&w[1]), "newest first");
        }
        for o in &both {
            assert!(o["ordType"] == "conditional" || o["ordType"] == "oco");
            assert_eq!(o["state"], "effective");
        }
        let older = list(
            &state,
            Endpoint::OrdersAlgoHistory,
            &format!(
                "ordType=conditional%2Coco&state=effective&limit=5&after={}",
                id(&both[4])
            ),
            now,
        );
        assert!(older.iter().all(|o| id(o) < id(&both[4])));
        // Done more than 3 months ago: not served.
        let ds = state.data.read().unwrap();
        let old = ds
            .algo_orders
            .iter()
            .find(|i| i.ts < now - REACH_MS)
            .expect("an old algo order");
        let q = format!(
            "ordType={}&algoId={}",
            old.value["ordType"].as_str().unwrap(),
            old.key
        );
        drop(ds);
        assert!(list(&state, Endpoint::OrdersAlgoHistory, &q, now).is_empty());
        let pending = list(&state, Endpoint::OrdersAlgoPending, "ordType=trigger", now);
        assert!(pending
            .iter()
            .all(|o| o["state"] == "live" || o["state"] == "pause"));
    }

    #[test]
    fn fiat_orders_take_inclusive_begin_and_end_times_newest_first() {
        let now = 1_800_000_000_000;
        let state = sim_state(now);
        let all = list(&state, Endpoint::FiatDepositHistory, "", now);
        assert_eq!(all.len(), 40);
        let t = |v: &Value| v["cTime"].as_str().unwrap().parse::<u64>().unwrap();
        for w in all.windows(2) {
            assert!(t(&w[0]) >= t(&w[1]));
        }
        let end = t(&all[10]);
        let page = list(
            &state,
            Endpoint::FiatDepositHistory,
            &format!("before={end}&limit=3"),
            now,
        );
        assert_eq!(page[0], all[10], "the end time is inclusive");
        assert_eq!(page.len(), 3);
        let begin = t(&all[5]);
        let page = list(&state, Endpoint::FiatWithdrawalHistory, "limit=100", now);
        assert_eq!(page.len(), 25);
        let since = list(
            &state,
            Endpoint::FiatDepositHistory,
            &format!("after={begin}"),
            now,
        );
        assert_eq!(since.len(), 6, "the begin time is inclusive");
        assert_eq!(
            Endpoint::lookup("/api/v5/fiat/deposit-order-history"),
            Some(Endpoint::FiatDepositHistory)
        );
        assert_eq!(Endpoint::FiatDepositHistory.limit(), (3, 1000));
    }

    #[test]
    fn staking_orders_active_is_a_private_route() {
        let e = Endpoint::lookup("/api/v5/finance/staking-defi/orders-active").unwrap();
        assert_eq!(e, Endpoint::StakingOrdersActive);
        assert_eq!(Endpoint::lookup(e.path()), Some(e));
        assert!(e.private());
        assert_eq!(e.limit(), (3, 1000));
    }

    #[test]
    fn rate_window_slides() {
        let mut w = Windows::default();
        assert!(w.admit(Endpoint::FillsHistory, 2, 1000, 0));
        assert!(w.admit(Endpoint::FillsHistory, 2, 1000, 10));
        assert!(!w.admit(Endpoint::FillsHistory, 2, 1000, 999));
        assert!(
            w.admit(Endpoint::BillsArchive, 2, 1000, 999),
            "limits are per endpoint"
        );
        assert!(w.admit(Endpoint::FillsHistory, 2, 1000, 1000));
    }

    #[test]
    fn candles_are_aligned_final_when_closed_and_paged_by_open_time() {
        assert_eq!(bar_floor(DAY_MS + 5, DAY_MS), DAY_MS);
        // 1970-01-05 was a Monday: weekly bars open there.
        assert_eq!(bar_floor(10 * DAY_MS, 7 * DAY_MS), 4 * DAY_MS);
        let now = 1_800_000_000_000 + 5;
        let p = Params::parse("instId=BTC-USDT&bar=1H&limit=3");
        let rows = candles(1, &p, now).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        let open = |r: &Value| r[0].as_str().unwrap().parse::<i64>().unwrap();
        assert_eq!(open(&rows[0]), bar_floor(now, HOUR_MS));
        assert_eq!(rows[0][8], "0", "the current hour is not final");
        assert_eq!(rows[1][8], "1");
        assert_eq!(open(&rows[0]) - open(&rows[1]), HOUR_MS);
        let after = open(&rows[1]);
        let p = Params::parse(&format!(
            "instId=BTC-USDT&bar=1H&after={after}&before={}",
            after - 3 * HOUR_MS
        ));
        let older = candles(1, &p, now).unwrap();
        assert_eq!(
            older.as_array().unwrap().len(),
            2,
            "strictly between before and after"
        );
        let p = Params::parse("instId=NOPE-USDT&bar=1H");
        assert_eq!(candles(1, &p, now).unwrap_err().code, "51001");
        let p = Params::parse("instId=BTC-USDT&bar=7m");
        assert_eq!(candles(1, &p, now).unwrap_err().code, "51000");
    }
}
