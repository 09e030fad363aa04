//! Pagination for the `bybit` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out.
//!
//! Every history Bybit serves (executions, orders, the transaction log, deposits, withdrawals)
//! has the same shape: a `startTime`..`endTime` window of at most 7 days (30 for transfers),
//! reaching back at most two years, paged inside by Bybit's opaque `nextPageCursor`. So every
//! history stream walks the same [`WindowCursor`]:
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
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::{
    DAY_MS, DEFAULT_TRADE_OVERLAP_MS, HISTORY_LIMIT_MS, HISTORY_MARGIN_MS, KLINE_LIMIT, MINUTE_MS,
    TRADE_WINDOW_MS, TRANSFER_WINDOW_MS,
};

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BybitPager {
    /// The configured history start, UTC ms; `None`: as far back as Bybit serves.
    pub(crate) start_ms: Option<i64>,
    /// How far back a caught-up deposit or withdrawal walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

/// The window rules of one history stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowKind {
    /// The widest `endTime - startTime` Bybit accepts.
    pub(crate) window_ms: i64,
    /// How far back a caught-up walk reads again, at least.
    pub(crate) overlap_ms: i64,
}

/// Where a history walk is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
    /// Backfill: windows from now back to the start.
    Back,
    /// Caught up once: windows from a resume point forward to now.
    Forward,
}

/// The cursor of a history stream: one window `[from, to)` and Bybit's page cursor in it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct WindowCursor {
    pub(crate) phase: Phase,
    pub(crate) from: i64,
    /// `None`: not opened yet; it ends at `min(from + window, now)` when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) to: Option<i64>,
    /// Bybit's `nextPageCursor` inside the window; `None` for its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) page: Option<String>,
    /// Backfill only: the `to` of the first (newest) window, where the forward walk resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) head: Option<i64>,
    /// The time of the oldest record still open (an order) or pending (a transfer) seen in
    /// this walk: the next walk starts there, to see it settle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<i64>,
}

/// One history request: the cursor it serves, with its window opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WindowRequest {
    pub(crate) cursor: WindowCursor,
}

impl WindowRequest {
    pub(crate) fn from(&self) -> i64 {
        self.cursor.from
    }
    /// Exclusive end of the window.
    pub(crate) fn to(&self) -> i64 {
        self.cursor.to.unwrap_or(self.cursor.from + 1)
    }
    /// `startTime`, `endTime` (inclusive, so `to - 1`), `limit` and `cursor` when paging on.
    pub(crate) fn params(&self, limit: usize) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("startTime", self.from().to_string()),
            ("endTime", (self.to() - 1).to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(page) = &self.cursor.page {
            params.push(("cursor", page.clone()));
        }
        params
    }
}

/// The candles cursor: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

impl BybitPager {
    /// Executions, orders and the transaction log: 7-day windows, five minutes re-read.
    pub(crate) fn trade_kind(&self) -> WindowKind {
        WindowKind {
            window_ms: TRADE_WINDOW_MS,
            overlap_ms: DEFAULT_TRADE_OVERLAP_MS,
        }
    }

    /// Deposits and withdrawals: 30-day windows, the configured overlap re-read.
    pub(crate) fn transfer_kind(&self) -> WindowKind {
        WindowKind {
            window_ms: TRANSFER_WINDOW_MS,
            overlap_ms: self.transfer_overlap_ms,
        }
    }

    /// The oldest time a request at `now` may ask for: the configured start, but never beyond
    /// Bybit's two-year reach (less a margin for the clocks' difference).
    pub(crate) fn floor(&self, now: i64) -> i64 {
        let reach = now - HISTORY_LIMIT_MS + HISTORY_MARGIN_MS;
        self.start_ms.map_or(reach, |s| s.max(reach))
    }

    /// The request a history cursor stands for at `now`. No cursor: the newest window of the
    /// backfill, `[max(floor, now - window), now)`.
    pub(crate) fn window_request(
        &self,
        kind: WindowKind,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WindowRequest, PluginError> {
        let floor = self.floor(now);
        let cursor = match decode_cursor::<WindowCursor>(cursor, stream)? {
            Some(c) => c,
            None => {
                let to = now.max(floor + 1);
                WindowCursor {
                    phase: Phase::Back,
                    from: floor.max(to - kind.window_ms),
                    to: Some(to),
                    page: None,
                    head: Some(to),
                    open: None,
                }
            }
        };
        // A forward walk whose start fell out of reach in the meantime starts at the reach.
        let from = if cursor.to.is_none() {
            cursor.from.max(floor)
        } else {
            cursor.from
        };
        let to = match cursor.to {
            Some(to) => to,
            None => (from + kind.window_ms).min(now).max(from + 1),
        };
        Ok(WindowRequest {
            cursor: WindowCursor {
                from,
                to: Some(to),
                ..cursor
            },
        })
    }

    /// Whether the answer to `request` (with Bybit's `next_page`) ends the walk until the
    /// next sync: the last page of the oldest backfill window, or of the newest forward one.
    pub(crate) fn is_last_page(
        &self,
        kind: WindowKind,
        request: &WindowRequest,
        next_page: Option<&str>,
        now: i64,
    ) -> bool {
        if next_page.is_some_and(|p| !p.is_empty()) {
            return false;
        }
        let (from, to) = (request.from(), request.to());
        match request.cursor.phase {
            Phase::Back => from <= self.floor(now),
            Phase::Forward => !(to - from >= kind.window_ms && to < now),
        }
    }

    /// The page after a window request returned `records` and Bybit's `next_page` cursor
    /// (empty when the window has no more). `open_here`: the time of the oldest record of
    /// this page that is still open or pending.
    pub(crate) fn window_page(
        &self,
        kind: WindowKind,
        request: &WindowRequest,
        records: Vec<Record>,
        next_page: Option<String>,
        open_here: Option<i64>,
        now: i64,
    ) -> Page {
        let c = &request.cursor;
        let (from, to) = (request.from(), request.to());
        let open = min_opt(c.open, open_here);
        let records = self.since_start(records);
        if let Some(page) = next_page.filter(|p| !p.is_empty()) {
            // The window holds more: its next page.
            let next = WindowCursor {
                page: Some(page),
                open,
                ..c.clone()
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&next)),
                covered: None,
                unavailable: None,
                more: true,
            };
        }
        let floor = self.floor(now);
        let covered = Some(TimeRange::new(from, to)).filter(|r| !r.is_empty());
        let mut unavailable = None;
        let (next, more) = match c.phase {
            Phase::Back if from > floor => (
                WindowCursor {
                    phase: Phase::Back,
                    from: floor.max(from - kind.window_ms),
                    to: Some(from),
                    page: None,
                    head: c.head,
                    open,
                },
                true,
            ),
            Phase::Back => {
                // Backfill done. What the integration asks for beyond Bybit's reach is
                // unavailable; the next sync walks forward from before the head.
                if let Some(start) = self.start_ms.filter(|s| *s < from) {
                    unavailable = Some(TimeRange::new(start, from));
                }
                (
                    self.resume_forward(kind, open, c.head.unwrap_or(to), now),
                    false,
                )
            }
            Phase::Forward if to - from >= kind.window_ms && to < now => (
                WindowCursor {
                    phase: Phase::Forward,
                    from: to,
                    to: None,
                    page: None,
                    head: None,
                    open,
                },
                true,
            ),
            Phase::Forward => (self.resume_forward(kind, open, to, now), false),
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            covered,
            unavailable,
            more,
        }
    }

    /// Caught up at `reached`: the next walk starts at the oldest open record seen, or
    /// `overlap` before `reached`, whichever is older, but no more than a window less a day
    /// before `reached` (so a sync within a day of this one makes one request per stream,
    /// however old an order still open is: such an order is read again once it closes
    /// within the re-read span, else it stays as last seen until a resync), and never beyond
    /// Bybit's reach.
    fn resume_forward(
        &self,
        kind: WindowKind,
        open: Option<i64>,
        reached: i64,
        now: i64,
    ) -> WindowCursor {
        let from = open
            .unwrap_or(i64::MAX)
            .min(reached - kind.overlap_ms)
            .max(reached - (kind.window_ms - DAY_MS))
            .max(self.floor(now));
        WindowCursor {
            phase: Phase::Forward,
            from,
            to: None,
            page: None,
            head: None,
            open: None,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        now: i64,
    ) -> Result<CandlesCursor, PluginError> {
        Ok(decode_cursor(cursor, "candles")?.unwrap_or(CandlesCursor {
            start: self.start_ms.unwrap_or(now - HISTORY_LIMIT_MS),
        }))
    }

    /// `start` and `end` (inclusive) of a kline request from `request.start`: at most
    /// [`KLINE_LIMIT`] candles, never past now.
    pub(crate) fn candles_range(interval: &str, request: &CandlesCursor, now: i64) -> (i64, i64) {
        let span = approx_interval_ms(interval).saturating_mul(KLINE_LIMIT as i64);
        let end = request.start.saturating_add(span - 1).min(now);
        (request.start, end.max(request.start))
    }

    /// The page after `kline` for `[request.start, end]` returned `candles` (in any order).
    ///
    /// The next request starts at the first unfinished candle (it is fetched again and
    /// replaced), or after the last one, or after `end` when the range was empty but lies in
    /// the past (before the market opened). More follows while the range ended before now and
    /// every candle was final.
    pub(crate) fn candles_page(
        &self,
        interval: &str,
        request: &CandlesCursor,
        end: i64,
        mut candles: Vec<Candle>,
        now: i64,
    ) -> Page {
        candles.sort_by_key(|c| c.open_time);
        let first_open = candles.iter().find(|c| !c.is_final).map(|c| c.open_time);
        let after_last = candles.last().map(|c| next_open(interval, c.open_time));
        let caught_up = end >= now;
        let next = match (first_open, after_last) {
            (Some(open), _) => open,
            (None, Some(after)) => after,
            (None, None) if !caught_up => end + 1,
            (None, None) => request.start,
        }
        .max(request.start);
        Page {
            records: candles.into_iter().map(Record::Candle).collect(),
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next })),
            covered: Some(TimeRange::new(request.start, next)).filter(|r| !r.is_empty()),
            unavailable: None,
            more: !caught_up && first_open.is_none(),
        }
    }

    fn since_start(&self, records: Vec<Record>) -> Vec<Record> {
        match self.start_ms {
            None => records,
            Some(start) => records
                .into_iter()
                .filter(|r| r.timestamp() >= start)
                .collect(),
        }
    }
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

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The candle partitions, `"{SYMBOL}:{timeframe}"`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}

pub(crate) fn encode_cursor<T: Serialize>(cursor: &T) -> String {
    serde_json::to_string(cursor).expect("cursor structs always serialize")
}

pub(crate) fn decode_cursor<T: for<'de> Deserialize<'de>>(
    cursor: Option<&str>,
    stream: &str,
) -> Result<Option<T>, PluginError> {
    match cursor {
        None => Ok(None),
        Some(text) => serde_json::from_str(text).map(Some).map_err(|e| {
            PluginError::plugin(format!(
                "while reading the stored {stream} cursor {text:?}: {e}; it was not written by \
                 this plugin version (resync the stream to start over)"
            ))
        }),
    }
}
