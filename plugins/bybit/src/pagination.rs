//! Pagination for the `bybit` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! Every history Bybit serves (executions, orders, the transaction log, deposits, withdrawals)
//! has the same shape: a `startTime`..`endTime` window of at most 7 days (30 for transfers),
//! reaching back at most two years, paged inside by Bybit's opaque `nextPageCursor`. So every
//! history stream walks the same window cursor, plugin-api's
//! [`exsync_plugin_api::window::Walker`]:
//!
//! 1. *back*: windows from now back to the configured start (or the two-year limit, whichever
//!    is later), each read to its last page; a start beyond the limit is reported
//!    `unavailable`;
//! 2. *forward*: once caught up, each sync walks windows from where the last one stopped (less an
//!    overlap, or from the oldest record still open or pending) up to now.
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, orders, ledger, deposits, withdrawals | `{"phase":"back"\|"forward","from":T,"to":T?,"page":C?,"head":T?,"open":T?}` | `startTime=from&endTime=to-1&limit=N&cursor=C` |
//! | candles | `{"start":T}` | `kline?start=T&end=T+N·interval-1&limit=N` |
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight: the store upserts by id, re-fetched records cost nothing.

use exsync_plugin_api::time::{civil_from_days, days_from_civil};
use exsync_plugin_api::window::{candle_page, CandleCursor, Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{Candle, Page, PluginError};

use crate::endpoints::{
    DAY_MS, DEFAULT_TRADE_OVERLAP_MS, HISTORY_LIMIT_MS, HISTORY_MARGIN_MS, KLINE_LIMIT, MINUTE_MS,
    TRADE_WINDOW_MS, TRANSFER_WINDOW_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BybitPager {
    /// The history walk: the configured start, Bybit's two-year reach.
    pub(crate) walker: Walker,
    /// How far back a caught-up deposit or withdrawal walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

impl BybitPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> BybitPager {
        BybitPager {
            walker: Walker {
                start_ms,
                reach_ms: Some(HISTORY_LIMIT_MS),
                margin_ms: HISTORY_MARGIN_MS,
                origin_ms: 0,
            },
            transfer_overlap_ms,
        }
    }

    /// Executions, orders and the transaction log: 7-day windows, five minutes re-read.
    pub(crate) fn trade_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRADE_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Deposits and withdrawals: 30-day windows, the configured overlap re-read.
    pub(crate) fn transfer_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRANSFER_WINDOW_MS,
            overlap_ms: self.transfer_overlap_ms,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        now: i64,
    ) -> Result<CandleCursor, PluginError> {
        let first = self
            .walker
            .start_ms
            .unwrap_or(now - HISTORY_LIMIT_MS)
            .max(0);
        CandleCursor::read(cursor, first)
    }

    /// `start` and `end` (inclusive) of a kline request from `request.start`: at most
    /// [`KLINE_LIMIT`] candles, never past now.
    pub(crate) fn candles_range(interval: &str, request: &CandleCursor, now: i64) -> (i64, i64) {
        let span = approx_interval_ms(interval).saturating_mul(KLINE_LIMIT as i64);
        let end = request.start.saturating_add(span - 1).min(now);
        (request.start, end.max(request.start))
    }

    /// The page after `kline` for `[request.start, end]` returned `candles` (in any order).
    pub(crate) fn candles_page(
        &self,
        interval: &str,
        request: &CandleCursor,
        end: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candle_page(
            *request,
            end,
            candles,
            |open| next_open(interval, open),
            now,
        )
    }
}

/// `startTime`, `endTime` (inclusive, so `to - 1`), `limit` and `cursor` when paging on.
pub(crate) fn window_params(request: &WindowRequest, limit: usize) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("startTime", request.from().to_string()),
        ("endTime", request.last_ms().to_string()),
        ("limit", limit.to_string()),
    ];
    if let Some(page) = request.page() {
        params.push(("cursor", page.to_owned()));
    }
    params
}

// ---------------------------------------------------------------------------------------
// Interval arithmetic of Bybit's klines (UTC; weeks open on Monday, months on the 1st).

/// The length of one candle of `interval`, in ms; a month counts 31 days (an upper bound).
pub(crate) fn approx_interval_ms(interval: &str) -> i64 {
    match interval {
        "D" => DAY_MS,
        "W" => 7 * DAY_MS,
        "M" => 31 * DAY_MS,
        minutes => minutes.parse::<i64>().map_or(DAY_MS, |m| m * MINUTE_MS),
    }
}

/// The open time of the candle after the one opening at `open`.
pub(crate) fn next_open(interval: &str, open: i64) -> i64 {
    if interval == "M" {
        let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        days_from_civil(y, m, 1) * DAY_MS
    } else {
        open + approx_interval_ms(interval)
    }
}

/// The candle partitions, `"{SYMBOL}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}
