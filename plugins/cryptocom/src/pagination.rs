//! Pagination for the `cryptocom` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! Every history stream walks plugin-api's [`exsync_plugin_api::window::Walker`]:
//!
//! * trades, orders and the journal: `start_time`..`end_time` windows of at most 24 hours, in
//!   nanoseconds, answered newest first, at most 100 records a call. Inside a window the next
//!   page is the same window ending (exclusive) at the oldest record's nanosecond time, until a
//!   call returns fewer than the limit. The page token is that end time;
//! * deposits and withdrawals: `start_ts`..`end_ts` windows of 90 days in ms, paged by `page`
//!   (from 0) with `page_size` 200. The page token is the page number;
//! * staking rewards: `start_time`..`end_time` windows of 180 days in ms, both inclusive, at
//!   most 500 rewards a call. A full page's next page is the same window ending (inclusive)
//!   at the oldest reward's millisecond, which is read again (the store upserts by id). The
//!   page token is that end time.
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders, ledger | `{"phase":…,"from":T,"to":T?,"page":NS?,…}` | `start_time=from·10⁶&end_time=(NS or to·10⁶)&limit=100` |
//! | deposits, withdrawals | `{"phase":…,"from":T,"to":T?,"page":N?,…}` | `start_ts=from&end_ts=to-1&page_size=200&page=N` |
//! | staking rewards | `{"phase":…,"from":T,"to":T?,"page":MS?,…}` | `start_time=from&end_time=(MS or to-1)&limit=500` |
//! | candles | `{"start":T}` | `start_ts=T&end_ts=T+300·step-1&count=300` |
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight: the store upserts by id.

use exsync_plugin_api::time::{civil_from_days, days_from_civil};
use exsync_plugin_api::window::{
    candle_page, timeframe_ms, CandleCursor, Walker, WindowRequest, WindowRule,
};
use exsync_plugin_api::{Candle, Page, PluginError};
use serde_json::{Map, Value};

use crate::endpoints::{
    CANDLE_LIMIT, DAY_MS, DEFAULT_REWARD_OVERLAP_MS, DEFAULT_TRADE_OVERLAP_MS, HOUR_MS, NS_PER_MS,
    ORIGIN_MS, REWARD_WINDOW_MS, TRADE_WINDOW_MS, TRANSFER_WINDOW_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CryptocomPager {
    pub(crate) walker: Walker,
    pub(crate) transfer_overlap_ms: i64,
}

impl CryptocomPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> CryptocomPager {
        CryptocomPager {
            walker: Walker {
                start_ms,
                // unconfirmed: no documented lookback limit; the walk ends at the launch.
                reach_ms: None,
                margin_ms: 0,
                origin_ms: ORIGIN_MS,
            },
            transfer_overlap_ms,
        }
    }

    /// Trades, orders and the journal: 24-hour windows, five minutes re-read.
    pub(crate) fn trade_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRADE_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Deposits and withdrawals: 90-day windows, the configured overlap re-read.
    pub(crate) fn transfer_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRANSFER_WINDOW_MS,
            overlap_ms: self.transfer_overlap_ms,
        }
    }

    /// Staking rewards: 180-day windows, two days re-read.
    pub(crate) fn reward_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: REWARD_WINDOW_MS,
            overlap_ms: DEFAULT_REWARD_OVERLAP_MS,
        }
    }

    /// The candle cursor: stored, or the configured start, or the exchange's launch.
    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
    ) -> Result<CandleCursor, PluginError> {
        let first = self.walker.start_ms.unwrap_or(ORIGIN_MS).max(ORIGIN_MS);
        CandleCursor::read(cursor, first)
    }

    /// The page after a candle request for `[request.start, end]` returned `candles`.
    pub(crate) fn candles_page(
        &self,
        timeframe: &str,
        request: &CandleCursor,
        end: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candle_page(
            *request,
            end,
            candles,
            |open| next_open(timeframe, open),
            now,
        )
    }
}

/// `start_ts` and `end_ts` (inclusive) of a candle request from `request.start`: at most
/// [`CANDLE_LIMIT`] candles, never past now.
pub(crate) fn candles_range(timeframe: &str, request: &CandleCursor, now: i64) -> (i64, i64) {
    let span = step_ms(timeframe).saturating_mul(CANDLE_LIMIT as i64);
    let end = request.start.saturating_add(span - 1).min(now);
    (request.start, end.max(request.start))
}

/// The length of one candle of a unified `timeframe`; a month counts 31 days (an upper bound).
pub(crate) fn step_ms(timeframe: &str) -> i64 {
    match timeframe {
        "1M" => 31 * DAY_MS,
        other => timeframe_ms(other).unwrap_or(HOUR_MS),
    }
}

/// The open time of the candle after the one opening at `open` (months open on the 1st).
pub(crate) fn next_open(timeframe: &str, open: i64) -> i64 {
    if timeframe == "1M" {
        let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        days_from_civil(y, m, 1) * DAY_MS
    } else {
        open + step_ms(timeframe)
    }
}

/// `start_time`, `end_time` (nanoseconds, as strings: they pass 2⁵³) and `limit` of a trade,
/// order or journal request.
pub(crate) fn ns_window_params(request: &WindowRequest, limit: usize) -> Map<String, Value> {
    let end_ns = request
        .page()
        .map(str::to_owned)
        .unwrap_or_else(|| (request.to() * NS_PER_MS).to_string());
    let mut params = Map::new();
    params.insert(
        "start_time".into(),
        Value::String((request.from() * NS_PER_MS).to_string()),
    );
    params.insert("end_time".into(), Value::String(end_ns));
    params.insert("limit".into(), Value::from(limit));
    params
}

/// The token of the next page of a nanosecond window: the oldest time seen (the next call's
/// exclusive end) when the call returned a full page, else none. An oldest time at or past
/// the window's current end (an answer outside what was asked) ends the window rather than
/// asking for the same page forever.
pub(crate) fn next_ns_page(
    request: &WindowRequest,
    oldest_ns: Option<i64>,
    returned: usize,
    limit: usize,
) -> Option<String> {
    let end_ns = request
        .page()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(request.to() * NS_PER_MS);
    match oldest_ns {
        Some(ns) if returned >= limit && ns < end_ns => Some(ns.to_string()),
        _ => None,
    }
}

/// `start_time`, `end_time` (ms, both inclusive) and `limit` of a staking-reward request.
pub(crate) fn reward_params(
    request: &WindowRequest,
    limit: usize,
) -> Result<Map<String, Value>, PluginError> {
    let end = reward_end(request)?;
    let mut params = Map::new();
    params.insert("start_time".into(), Value::from(request.from()));
    params.insert("end_time".into(), Value::from(end));
    params.insert("limit".into(), Value::from(limit));
    Ok(params)
}

/// The inclusive end of a staking-reward request: its page token, or the window's last ms.
fn reward_end(request: &WindowRequest) -> Result<i64, PluginError> {
    match request.page() {
        None => Ok(request.last_ms()),
        Some(p) => p.parse::<i64>().map_err(|_| {
            PluginError::plugin(format!(
                "the stored staking-reward page {p:?} is not a time; resync the stream"
            ))
        }),
    }
}

/// The token of the next staking-reward page: when the call returned a full page, the oldest
/// time seen, the next call's inclusive end (its rewards are read again). A full page all at
/// the end asked for moves the end a millisecond back instead, so the walk always advances.
/// unconfirmed: the order of the answer. We take the rewards to be the newest `limit` of the
/// range, as every other Crypto.com history answers; the oldest time among them is used
/// whatever their order.
pub(crate) fn next_reward_page(
    request: &WindowRequest,
    oldest_ms: Option<i64>,
    returned: usize,
    limit: usize,
) -> Option<String> {
    let end = reward_end(request).unwrap_or_else(|_| request.last_ms());
    let oldest = oldest_ms.filter(|_| returned >= limit)?;
    let next = if oldest < end { oldest } else { end - 1 };
    (next >= request.from()).then(|| next.to_string())
}

/// `start_ts`, `end_ts` (ms, inclusive), `page_size` and `page` of a transfer request.
pub(crate) fn transfer_params(
    request: &WindowRequest,
    page_size: usize,
) -> Result<(Map<String, Value>, u64), PluginError> {
    let page = match request.page() {
        None => 0,
        Some(p) => p.parse::<u64>().map_err(|_| {
            PluginError::plugin(format!(
                "the stored transfer page {p:?} is not a page number; resync the stream"
            ))
        })?,
    };
    let mut params = Map::new();
    params.insert("start_ts".into(), Value::from(request.from()));
    params.insert("end_ts".into(), Value::from(request.last_ms()));
    params.insert("page_size".into(), Value::from(page_size));
    params.insert("page".into(), Value::from(page));
    Ok((params, page))
}

/// The token of the next transfer page: `page + 1` when this one was full.
pub(crate) fn next_transfer_page(page: u64, returned: usize, page_size: usize) -> Option<String> {
    (returned >= page_size).then(|| (page + 1).to_string())
}

/// The candle partitions, `"{INSTRUMENT}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}
