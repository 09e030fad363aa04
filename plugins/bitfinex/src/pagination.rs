//! Pagination for the `bitfinex` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! Every history Bitfinex serves (trades, orders, movements, the ledger) takes `start` and
//! `end` (ms, both inclusive) and `limit`, and answers newest first. So every history stream
//! walks plugin-api's [`Walker`] windows (90 days wide, our choice: Bitfinex sets no widest
//! window; orders only two weeks back, as far as Bitfinex keeps them), and pages inside a
//! window by moving `end` back:
//!
//! 1. ask for `[from, end]` with `end` = the window's last ms;
//! 2. a full page (`limit` rows) means more may be older: the next page asks for
//!    `[from, oldest]`, `oldest` being the oldest time on this page, *inclusive*, so records
//!    sharing that millisecond are not skipped (the store upserts the ones seen twice); when
//!    the whole page shares one millisecond, the next asks up to the millisecond before
//!    (more than `limit` records in one millisecond would lose the rest);
//! 3. a short page ends the window.
//!
//! | stream | cursor | request body |
//! |---|---|---|
//! | trades, orders, ledger, deposits, withdrawals | `{"phase":…,"from":T,"to":T?,"page":"END"?,…}` | `{"start":from,"end":END or to-1,"limit":N}` |
//! | candles | `{"start":T}` | `candles/trade:TF:SYMBOL/hist?start=T&end=T+N·TF-1&limit=N&sort=1` |
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight.

use exsync_plugin_api::time::{civil_from_days, days_from_civil};
use exsync_plugin_api::window::{
    candle_page, timeframe_ms, CandleCursor, Walker, WindowRequest, WindowRule,
};
use exsync_plugin_api::{Candle, Page, PluginError};

use crate::endpoints::{
    CANDLES_LIMIT, DAY_MS, DEFAULT_TRADE_OVERLAP_MS, HISTORY_WINDOW_MS, ORDERS_LOOKBACK_MS,
    ORDERS_MARGIN_MS, ORIGIN_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitfinexPager {
    /// Trades, movements, the ledger: back to the configured start, or Bitfinex's beginning.
    pub(crate) walker: Walker,
    /// Orders: back to the configured start, but never beyond the two weeks Bitfinex keeps.
    pub(crate) orders_walker: Walker,
    /// How far back a caught-up deposit or withdrawal walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

impl BitfinexPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> BitfinexPager {
        BitfinexPager {
            walker: Walker {
                start_ms,
                reach_ms: None,
                margin_ms: 0,
                origin_ms: ORIGIN_MS,
            },
            orders_walker: Walker {
                start_ms,
                reach_ms: Some(ORDERS_LOOKBACK_MS),
                margin_ms: ORDERS_MARGIN_MS,
                origin_ms: ORIGIN_MS,
            },
            transfer_overlap_ms,
        }
    }

    /// Trades and the ledger: 90-day windows, five minutes re-read.
    pub(crate) fn trade_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: HISTORY_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Orders: one window is the whole two weeks Bitfinex keeps.
    pub(crate) fn orders_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: ORDERS_LOOKBACK_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Deposits and withdrawals: 90-day windows, the configured overlap re-read.
    pub(crate) fn transfer_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: HISTORY_WINDOW_MS,
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
        let first = self.walker.floor(now);
        CandleCursor::read(cursor, first)
    }

    /// `start` and `end` (inclusive) of a candles request from `request.start`: at most
    /// [`CANDLES_LIMIT`] candles, never past now.
    pub(crate) fn candles_range(tf: &str, request: &CandleCursor, now: i64) -> (i64, i64) {
        let span = approx_timeframe_ms(tf).saturating_mul(CANDLES_LIMIT as i64);
        let end = request.start.saturating_add(span - 1).min(now);
        (request.start, end.max(request.start))
    }

    /// The page after the candles of `[request.start, end]` came back as `candles`.
    pub(crate) fn candles_page(
        &self,
        tf: &str,
        request: &CandleCursor,
        end: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candle_page(*request, end, candles, |open| next_open(tf, open), now)
    }
}

/// The `end` of the request for `request`: the page token (the oldest time of the previous
/// page), else the window's last millisecond.
pub(crate) fn page_end(request: &WindowRequest) -> i64 {
    request
        .page()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or_else(|| request.last_ms())
}

/// The body parameters of one history request: `start`, `end` (both inclusive) and `limit`.
pub(crate) fn window_params(request: &WindowRequest, limit: usize) -> Vec<(&'static str, i64)> {
    vec![
        ("start", request.from()),
        ("end", page_end(request)),
        ("limit", limit as i64),
    ]
}

/// The page token after a page of `rows` rows (`limit` asked) whose oldest time is `oldest`:
/// `None` when the window has no more.
pub(crate) fn next_page(
    request: &WindowRequest,
    limit: usize,
    rows: usize,
    oldest: Option<i64>,
) -> Option<String> {
    if rows < limit {
        return None;
    }
    let end = page_end(request);
    let oldest = oldest?;
    let next = if oldest >= end { end - 1 } else { oldest };
    (next >= request.from()).then(|| next.to_string())
}

// ---------------------------------------------------------------------------------------
// Timeframe arithmetic of Bitfinex's candles (UTC; months open on the 1st).

/// The length of one candle of Bitfinex timeframe `tf`, in ms; a month counts 31 days (an
/// upper bound).
pub(crate) fn approx_timeframe_ms(tf: &str) -> i64 {
    match tf {
        "1M" => 31 * DAY_MS,
        other => timeframe_ms(&other.to_ascii_lowercase()).unwrap_or(DAY_MS),
    }
}

/// The open time of the candle after the one opening at `open`.
pub(crate) fn next_open(tf: &str, open: i64) -> i64 {
    if tf == "1M" {
        let (y, m, _) = civil_from_days(open.div_euclid(DAY_MS));
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        days_from_civil(y, m, 1) * DAY_MS
    } else {
        open + approx_timeframe_ms(tf)
    }
}

/// The candle partitions, `"{SYMBOL}:{timeframe}"`; symbols may hold a `:` themselves
/// (`tTESTBTC:TESTUSD`), timeframes never do.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}
