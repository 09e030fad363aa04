//! Pagination for the `kraken` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and what it
//! returned in, the [`Page`] to store out. The cursors are small JSON objects:
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades, ledger, orders/`closed` | `{"start":S,"end":E?,"ofs":K}` | `start=S&end=E&ofs=K` (50 a page, newest first) |
//! | orders/`open` | none | `OpenOrders` (every open order at once) |
//! | deposits, withdrawals | `{"start":S,"end":E?,"cursor":C?,"pending":T?}` | `start=S&end=E&cursor=C\|true&limit=500` |
//! | candles | `{"start":T}` | `OHLC?pair=P&interval=I&since=T/1000` |
//!
//! Kraken's history queries take `start` (exclusive) and `end` (inclusive) in Unix seconds and
//! page with an offset, newest first. A walk fixes its `end` when it opens, so records that
//! arrive meanwhile cannot shift the offsets; once a walk has read its window to the last
//! page, the next walk starts where it ended (a minute before, to catch records Kraken shows
//! late). Every cursor names the next request completely,
//! so a crash between two pages repeats at most the page in flight: the store upserts by id.
//!
//! Why not `exsync_plugin_api::window::Walker`: Kraken's queries have no widest window and no
//! reach, so one offset walk over `(start, now]` reads any span, a first sync included, while
//! `Walker` cuts history into windows of a bounded width, newest first (one request or more
//! per window, where this walk needs one per 50 records). Given an unbounded width instead,
//! `Walker`'s re-read after a caught-up walk (at most a window less a day) is unbounded too,
//! losing [`PENDING_RECHECK_MS`] for transfers. The bounds are also whole seconds, `start`
//! exclusive and `end` inclusive, as the stored cursors hold them.

use exsync_plugin_api::window::{decode_cursor, encode_cursor};
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange, TransferStatus};
use serde::{Deserialize, Serialize};

use crate::endpoints::{
    OFFSET_PAGE_SIZE, OHLC_MAX_INTERVALS, TRANSFER_PAGE_LIMIT, WINDOW_OVERLAP_S,
};
use crate::parsing::{OffsetPage, TransferPage};

/// How far back a caught-up transfer walk re-reads at most to see a still-pending transfer
/// settle: real transfers settle within hours or days; one pending for longer than this stays
/// as last seen until a resync.
pub(crate) const PENDING_RECHECK_MS: i64 = 90 * 86_400_000;

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KrakenPager {
    /// The configured history start, UTC ms.
    pub(crate) start_ms: i64,
    /// How far back a caught-up transfer walk re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
}

/// A window walk of an offset-paged history: `(start, end]` in Unix seconds, at offset `ofs`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WindowCursor {
    /// Exclusive.
    pub(crate) start: i64,
    /// Inclusive; `None`: not opened yet, it is "now" when the walk opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) end: Option<i64>,
    #[serde(default)]
    pub(crate) ofs: usize,
}

impl WindowCursor {
    fn end(&self) -> i64 {
        self.end.unwrap_or(self.start)
    }

    /// The form parameters of the request.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("start", self.start.to_string()),
            ("end", self.end().to_string()),
            ("ofs", self.ofs.to_string()),
        ]
    }

    /// What the window covers in ms: every time `t` with `start < t <= end` seconds.
    fn covered(&self) -> TimeRange {
        TimeRange::new(self.start * 1000 + 1, self.end() * 1000 + 1)
    }
}

/// A walk of `DepositStatus` or `WithdrawStatus`: `(start, end]` seconds, Kraken's cursor in it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TransferCursor {
    pub(crate) start: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) end: Option<i64>,
    /// Kraken's `next_cursor` inside this window; `None` for its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<String>,
    /// The time (ms) of the oldest pending transfer seen in this walk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<i64>,
}

impl TransferCursor {
    fn end(&self) -> i64 {
        self.end.unwrap_or(self.start)
    }

    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("start", self.start.to_string()),
            ("end", self.end().to_string()),
            (
                "cursor",
                self.cursor.clone().unwrap_or_else(|| "true".to_owned()),
            ),
            ("limit", TRANSFER_PAGE_LIMIT.to_string()),
        ]
    }
}

/// The candles cursor: the open time (ms) to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

/// One OHLC request: `since` in seconds, and what the exchange cannot serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesRequest {
    /// Where this fetch starts (ms): the cursor, or the oldest interval Kraken still serves.
    pub(crate) from: i64,
    /// `[cursor, oldest served)`, when the cursor lies beyond Kraken's 720 intervals.
    pub(crate) unavailable: Option<TimeRange>,
}

impl CandlesRequest {
    pub(crate) fn since_seconds(&self) -> i64 {
        self.from.div_euclid(1000)
    }
}

impl KrakenPager {
    fn first_start_seconds(&self) -> i64 {
        // Exclusive: one second before the start keeps a record at the start itself.
        self.start_ms.div_euclid(1000) - 1
    }

    // -----------------------------------------------------------------------------------
    // Offset-paged histories.

    /// The request a window cursor stands for at server time `now_ms`. No cursor: the whole
    /// history from the configured start to now.
    pub(crate) fn window_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now_ms: i64,
    ) -> Result<WindowCursor, PluginError> {
        let cursor = decode_cursor::<WindowCursor>(cursor, stream)?.unwrap_or(WindowCursor {
            start: self.first_start_seconds(),
            end: None,
            ofs: 0,
        });
        let end = cursor
            .end
            .unwrap_or_else(|| now_ms.div_euclid(1000).max(cursor.start));
        Ok(WindowCursor {
            end: Some(end),
            ..cursor
        })
    }

    /// The page after `request` returned `page` (newest first).
    ///
    /// A full page with more to come (`ofs + 50 < count`) means the next offset of the same
    /// window; nothing is proven yet. Otherwise the window is done: it is covered, and the
    /// next walk opens [`WINDOW_OVERLAP_S`] before its end. With `drop_before_start`, records before the configured
    /// start are dropped (the first window starts a second early).
    pub(crate) fn window_page(
        &self,
        request: &WindowCursor,
        page: OffsetPage,
        drop_before_start: bool,
    ) -> Page {
        let read = request.ofs + page.len;
        let more = page.len >= OFFSET_PAGE_SIZE && page.count.is_none_or(|c| (read as u64) < c);
        let records = if drop_before_start {
            self.since_start(page.records)
        } else {
            page.records
        };
        if more {
            return Page {
                records,
                next_cursor: Some(encode_cursor(&WindowCursor {
                    ofs: read,
                    ..*request
                })),
                covered: None,
                unavailable: None,
                more: true,
            };
        }
        let next = WindowCursor {
            start: (request.end() - WINDOW_OVERLAP_S).max(self.first_start_seconds()),
            end: None,
            ofs: 0,
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            covered: Some(request.covered()).filter(|c| !c.is_empty()),
            unavailable: None,
            more: false,
        }
    }

    // -----------------------------------------------------------------------------------
    // Deposits and withdrawals.

    /// The request a transfer cursor stands for at server time `now_ms`.
    pub(crate) fn transfer_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now_ms: i64,
    ) -> Result<TransferCursor, PluginError> {
        let cursor = decode_cursor::<TransferCursor>(cursor, stream)?.unwrap_or(TransferCursor {
            start: self.first_start_seconds(),
            end: None,
            cursor: None,
            pending: None,
        });
        let end = cursor
            .end
            .unwrap_or_else(|| now_ms.div_euclid(1000).max(cursor.start));
        Ok(TransferCursor {
            end: Some(end),
            ..cursor
        })
    }

    /// The page after `request` returned `page` (newest first, Kraken's cursor inside).
    ///
    /// While Kraken hands out a `next_cursor` the walk follows it. Then the window is covered,
    /// and the next walk opens `transfer_overlap` before its end, or at the oldest transfer
    /// still pending (no more than [`PENDING_RECHECK_MS`] back): transfers change state.
    pub(crate) fn transfer_page(&self, request: &TransferCursor, page: TransferPage) -> Page {
        let pending_here = page
            .records
            .iter()
            .filter(|r| {
                matches!(r, Record::Deposit(t) | Record::Withdrawal(t)
                    if t.status == TransferStatus::Pending)
            })
            .map(Record::timestamp)
            .min();
        let pending = min_opt(request.pending, pending_here);
        let records = self.since_start(page.records);
        if let Some(next) = page.next_cursor {
            return Page {
                records,
                next_cursor: Some(encode_cursor(&TransferCursor {
                    cursor: Some(next),
                    pending,
                    ..request.clone()
                })),
                covered: None,
                unavailable: None,
                more: true,
            };
        }
        let end = request.end();
        let end_ms = end * 1000;
        let resume_ms = pending
            .map(|p| p - 1000)
            .unwrap_or(i64::MAX)
            .min(end_ms - self.transfer_overlap_ms)
            .max(end_ms - PENDING_RECHECK_MS);
        let resume = resume_ms
            .div_euclid(1000)
            .max(self.first_start_seconds())
            .min(end);
        Page {
            records,
            next_cursor: Some(encode_cursor(&TransferCursor {
                start: resume,
                end: None,
                cursor: None,
                pending: None,
            })),
            covered: Some(TimeRange::new(request.start * 1000 + 1, end_ms + 1))
                .filter(|c| !c.is_empty()),
            unavailable: None,
            more: false,
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles.

    /// The OHLC request for a candles cursor in a timeframe of `interval_ms`, at server time
    /// `now_ms`. Kraken serves only the last 720 intervals (the current one included): a
    /// cursor older than that starts at the oldest one served, and what lies before is
    /// `unavailable`.
    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        interval_ms: i64,
        now_ms: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let start = decode_cursor::<CandlesCursor>(cursor, "candles")?
            .map(|c| c.start)
            .unwrap_or_else(|| floor_to(self.start_ms, interval_ms));
        let oldest_served = floor_to(now_ms, interval_ms) - (OHLC_MAX_INTERVALS - 1) * interval_ms;
        if start < oldest_served {
            Ok(CandlesRequest {
                from: oldest_served,
                unavailable: Some(TimeRange::new(start, oldest_served)),
            })
        } else {
            Ok(CandlesRequest {
                from: start,
                unavailable: None,
            })
        }
    }

    /// The page after `request` returned `candles` (ascending; the last one still open).
    ///
    /// One request returns every candle from `since` to now (at most 720), so a candles
    /// partition is always caught up after one page. The next sync starts at the first
    /// unfinished candle (fetched again and replaced), or after the last one.
    pub(crate) fn candles_page(
        &self,
        request: &CandlesRequest,
        candles: Vec<Candle>,
        interval_ms: i64,
    ) -> Page {
        let first_open = candles.iter().find(|c| !c.is_final).map(|c| c.open_time);
        let after_last = candles.iter().map(|c| c.open_time + interval_ms).max();
        let next = first_open
            .or(after_last)
            .unwrap_or(request.from)
            .max(request.from);
        let records = candles
            .into_iter()
            .filter(|c| c.open_time >= request.from)
            .map(Record::Candle)
            .collect();
        Page {
            records,
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next })),
            covered: Some(TimeRange::new(request.from, next)).filter(|r| !r.is_empty()),
            unavailable: request.unavailable.filter(|r| !r.is_empty()),
            more: false,
        }
    }

    fn since_start(&self, records: Vec<Record>) -> Vec<Record> {
        records
            .into_iter()
            .filter(|r| r.timestamp() >= self.start_ms)
            .collect()
    }
}

/// `"XBTUSD:1h"` → `("XBTUSD", "1h")`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (pair, timeframe) = partition.rsplit_once(':')?;
    (!pair.is_empty() && !timeframe.is_empty()).then_some((pair, timeframe))
}

/// The partitions of the orders stream: closed orders walk time windows, open orders are
/// read whole.
pub(crate) const ORDERS_CLOSED: &str = "closed";
pub(crate) const ORDERS_OPEN: &str = "open";

fn floor_to(t: i64, step: i64) -> i64 {
    t - t.rem_euclid(step)
}

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
