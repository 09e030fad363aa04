//! Pagination for the `deribit` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out. Everything is per currency (the partition).
//!
//! | stream | Deribit paging | our cursor |
//! |---|---|---|
//! | trades | `start_timestamp..end_timestamp`, `sorting=asc`, `has_more` | [`Walker`] windows; the page token is the timestamp the next page starts at |
//! | ledger | `start_timestamp..end_timestamp`, `continuation` | [`Walker`] windows; the page token is Deribit's continuation (unconfirmed: it is the id the next page starts at, newest first, as the simulator serves it; the connector only passes it back) |
//! | orders, deposits, withdrawals | `offset` + `count`, newest first, no time filter | [`OffsetCursor`]: offsets from 0 until the list reaches what the last walk saw (unconfirmed: the order history is sorted by last update, deposits by arrival, withdrawals by creation) |
//! | candles | `start_timestamp..end_timestamp` | [`CandleCursor`] |
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight: the store upserts by id, re-fetched records cost nothing.

use exsync_plugin_api::window::{
    candle_page, decode_cursor, encode_cursor, CandleCursor, Walker, WindowRequest, WindowRule,
};
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::{
    CANDLES_PER_REQUEST, DEFAULT_OVERLAP_MS, HISTORY_LIMIT_MS, MINUTE_MS, ORIGIN_MS, WINDOW_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeribitPager {
    /// The windowed walks: the configured start, back to Deribit's opening.
    pub(crate) walker: Walker,
    /// How far back a caught-up offset walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

/// Where an offset walk over a newest-first list is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OffsetCursor {
    /// The next `offset` to ask for.
    pub(crate) offset: usize,
    /// The walk stops at the first page reaching back before this time (the last walk's
    /// newest record less the overlap, or its oldest record still open); `None`: the first
    /// walk, which goes to the configured start or the end of the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<i64>,
    /// The newest time seen in this walk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newest: Option<i64>,
    /// The oldest time of a record still open or pending seen in this walk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<i64>,
}

/// What one page of a newest-first list held, in the list's own order key.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListPage {
    pub(crate) records: Vec<Record>,
    /// How many items the answer held (records may be fewer: unparsable ones are errors,
    /// but records before the start are dropped later).
    pub(crate) len: usize,
    /// The newest and oldest order keys of the page.
    pub(crate) newest: Option<i64>,
    pub(crate) oldest: Option<i64>,
    /// The time of the oldest item still open or pending.
    pub(crate) open: Option<i64>,
}

impl DeribitPager {
    pub(crate) fn new(start_ms: Option<i64>, transfer_overlap_ms: i64) -> DeribitPager {
        DeribitPager {
            walker: Walker {
                start_ms,
                reach_ms: HISTORY_LIMIT_MS,
                margin_ms: 0,
                origin_ms: ORIGIN_MS,
            },
            transfer_overlap_ms,
        }
    }

    /// Trades and the transaction log: month windows, five minutes re-read.
    pub(crate) fn window_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: WINDOW_MS,
            overlap_ms: DEFAULT_OVERLAP_MS,
        }
    }

    // -----------------------------------------------------------------------------------
    // Offset walks (orders, deposits, withdrawals).

    pub(crate) fn offset_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
    ) -> Result<OffsetCursor, PluginError> {
        Ok(decode_cursor::<OffsetCursor>(cursor, stream)?.unwrap_or_default())
    }

    /// Whether the walk ends with this page: the list ran out (a short page) or reached back
    /// before what the last walk saw, or before the configured start.
    pub(crate) fn offset_done(
        &self,
        request: &OffsetCursor,
        page: &ListPage,
        count: usize,
    ) -> bool {
        let floor = match (request.since, self.walker.start_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        page.len < count || matches!((page.oldest, floor), (Some(o), Some(f)) if o < f)
    }

    /// The page after `request` returned `page` (of at most `count` items) at `now`.
    pub(crate) fn offset_page(
        &self,
        request: &OffsetCursor,
        page: ListPage,
        count: usize,
        now: i64,
    ) -> Page {
        let newest = max_opt(request.newest, page.newest);
        let open = min_opt(request.open, page.open);
        let done = self.offset_done(request, &page, count);
        let records = self.walker.since_start(page.records);
        if !done {
            let next = OffsetCursor {
                offset: request.offset + page.len,
                since: request.since,
                newest,
                open,
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&next)),
                covered: None,
                unavailable: None,
                more: true,
            };
        }
        // Caught up: the next walk stops once it reaches back past the newest record seen
        // less the overlap, or the oldest still open, whichever is older.
        let since = match newest {
            Some(n) => Some(min_opt(Some(n - self.transfer_overlap_ms), open).unwrap_or(n)),
            None => request.since,
        };
        let from = request
            .since
            .or(self.walker.start_ms)
            .unwrap_or(self.walker.origin_ms);
        let next = OffsetCursor {
            offset: 0,
            since,
            newest: None,
            open: None,
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            covered: Some(TimeRange::new(from, now)).filter(|r| !r.is_empty()),
            unavailable: None,
            more: false,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
    ) -> Result<CandleCursor, PluginError> {
        let first = self.walker.start_ms.unwrap_or(ORIGIN_MS).max(0);
        CandleCursor::read(cursor, first)
    }

    /// `start_timestamp` and `end_timestamp` (inclusive) of a chart request: at most
    /// [`CANDLES_PER_REQUEST`] candles of `step_ms`, never past now.
    pub(crate) fn candles_range(step_ms: i64, request: &CandleCursor, now: i64) -> (i64, i64) {
        let span = step_ms.saturating_mul(CANDLES_PER_REQUEST);
        let end = request.start.saturating_add(span - 1).min(now);
        (request.start, end.max(request.start))
    }

    pub(crate) fn candles_page(
        &self,
        step_ms: i64,
        request: &CandleCursor,
        end: i64,
        candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candle_page(*request, end, candles, |open| open + step_ms, now)
    }
}

/// The page token of a trade window after a page of trades sorted oldest first: the time of
/// the last trade (it is asked for again, so trades sharing that millisecond are not lost;
/// the store upserts the repeats), one millisecond later when the page did not get past its
/// own start. `None` when Deribit said there is no more.
///
/// unconfirmed: that `sorting=asc` with `has_more` answers the *oldest* `count` trades from
/// `start_timestamp` (as the simulator does), so the next page starts where this one ended.
pub(crate) fn next_trade_page(
    page_start: i64,
    last_timestamp: Option<i64>,
    has_more: bool,
) -> Option<String> {
    if !has_more {
        return None;
    }
    let last = last_timestamp?;
    let next = if last <= page_start {
        page_start + 1
    } else {
        last
    };
    Some(next.to_string())
}

/// Where a trade request starts: the window's start, or the page token inside it.
pub(crate) fn trade_page_start(request: &WindowRequest) -> Result<i64, PluginError> {
    match request.page() {
        None => Ok(request.from()),
        Some(p) => p.parse::<i64>().map_err(|_| {
            PluginError::plugin(format!("trades cursor page {p:?} is not a timestamp"))
        }),
    }
}

/// The candle partitions, `"{INSTRUMENT}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}

/// The length of one candle of Deribit's `resolution` (minutes, or `1D`).
pub(crate) fn resolution_ms(resolution: &str) -> i64 {
    match resolution {
        "1D" => 1440 * MINUTE_MS,
        minutes => minutes.parse::<i64>().map_or(1440, |m| m) * MINUTE_MS,
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
