//! Walking an exchange's history in time windows: the shape most exchanges share.
//!
//! Most exchanges serve trades, orders, transfers and their ledger as `start..end` windows of
//! a bounded width, reaching back a bounded time, paged inside a window by a token of their
//! own (an opaque cursor, an id, an offset). A [`Walker`] turns that into exsync's
//! cursor-and-page loop, so a connector only names its request parameters and parses the
//! answer:
//!
//! 1. *back*: windows from now back to the configured start (or the exchange's reach,
//!    whichever is later), each read to its last page; what the configuration asks for beyond
//!    the reach is reported [`Page::unavailable`];
//! 2. *forward*: once caught up, each sync walks windows from where the last one stopped (less
//!    an overlap, or from the oldest record still open or pending) up to now.
//!
//! The cursor, a [`WindowCursor`] as JSON, names the next request completely, so a crash
//! between two pages repeats at most the page in flight (the store upserts by id).
//!
//! ```
//! use exsync_plugin_api::window::{Walker, WindowRule};
//!
//! const DAY: i64 = 86_400_000;
//! let walker = Walker { start_ms: None, reach_ms: Some(730 * DAY), margin_ms: 3_600_000, origin_ms: 0 };
//! let rule = WindowRule { window_ms: 7 * DAY, overlap_ms: 300_000 };
//! let now = 1_800_000_000_000;
//! let request = walker.request(rule, None, "trades", now).unwrap();
//! assert_eq!((request.from(), request.to()), (now - 7 * DAY, now));
//! // Ask the exchange for [request.from(), request.to()), then:
//! let page = walker.page(rule, &request, Vec::new(), None, None, now);
//! assert!(page.more, "six more windows back to the reach");
//! ```
//!
//! Candles walk forward by open time instead: see [`CandleCursor`], [`candle_page`] and
//! [`candle_window_page`].

use serde::{Deserialize, Serialize};

use crate::{Candle, Page, PluginError, Record, TimeRange};

const DAY_MS: i64 = 86_400_000;

/// How far back one integration's history walks go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walker {
    /// The configured history start, UTC ms; `None`: as far back as the exchange serves.
    pub start_ms: Option<i64>,
    /// How far back from now the exchange serves history; `None`: all of it since
    /// `origin_ms`.
    pub reach_ms: Option<i64>,
    /// Kept inside the reach, for the difference between our clock and the exchange's.
    pub margin_ms: i64,
    /// The earliest time the exchange has data for (its launch): where a walk with neither a
    /// start nor a reach ends.
    pub origin_ms: i64,
}

/// The window rules of one history stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowRule {
    /// The widest `end - start` the exchange accepts.
    pub window_ms: i64,
    /// How far back a caught-up walk reads again, at least: records the exchange publishes
    /// late (a trade settling, a deposit confirming) are found by the next sync.
    pub overlap_ms: i64,
}

/// Where a history walk is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Backfill: windows from now back to the start.
    Back,
    /// Caught up once: windows from a resume point forward to now.
    Forward,
}

/// The cursor of a history stream: one window `[from, to)` and the exchange's page token in
/// it. Stored as JSON: `{"phase":"back"|"forward","from":T,"to":T?,"page":P?,"head":T?,"open":T?}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WindowCursor {
    pub phase: Phase,
    pub from: i64,
    /// `None`: not opened yet; it ends at `min(from + window, now)` when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// The exchange's token for the next page inside the window; `None` for its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Backfill only: the `to` of the first (newest) window, where the forward walk resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<i64>,
    /// The time of the oldest record still open (an order) or pending (a transfer) seen in
    /// this walk: the next walk starts there, to see it settle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<i64>,
}

/// One history request: the cursor it serves, with its window opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowRequest {
    pub cursor: WindowCursor,
}

impl WindowRequest {
    /// Start of the window, inclusive, UTC ms.
    pub fn from(&self) -> i64 {
        self.cursor.from
    }
    /// End of the window, exclusive, UTC ms.
    pub fn to(&self) -> i64 {
        self.cursor.to.unwrap_or(self.cursor.from + 1)
    }
    /// End of the window, inclusive (`to - 1`), for exchanges whose `endTime` is inclusive.
    pub fn last_ms(&self) -> i64 {
        self.to() - 1
    }
    /// The exchange's page token inside the window; `None` for the window's first page.
    pub fn page(&self) -> Option<&str> {
        self.cursor.page.as_deref()
    }
}

impl Walker {
    /// The oldest time a request at `now` may ask for: the configured start, but never beyond
    /// the exchange's reach (less the margin) nor before its origin.
    pub fn floor(&self, now: i64) -> i64 {
        let reach = match self.reach_ms {
            Some(reach) => (now - reach + self.margin_ms).max(self.origin_ms),
            None => self.origin_ms,
        };
        self.start_ms.map_or(reach, |s| s.max(reach))
    }

    /// The request a stored cursor stands for at `now`. No cursor: the newest window of the
    /// backfill, `[max(floor, now - window), now)`. `stream` names the stream in the error
    /// for a cursor this walker cannot read.
    pub fn request(
        &self,
        rule: WindowRule,
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
                    from: floor.max(to - rule.window_ms),
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
            None => (from + rule.window_ms).min(now).max(from + 1),
        };
        Ok(WindowRequest {
            cursor: WindowCursor {
                from,
                to: Some(to),
                ..cursor
            },
        })
    }

    /// Whether the answer to `request` ends the walk until the next sync, given whether the
    /// exchange said the window holds another page: the last page of the oldest backfill
    /// window, or of the newest forward one. Known before the page is built, so a connector
    /// can, say, add the open orders to the last page only.
    pub fn is_last_page(
        &self,
        rule: WindowRule,
        request: &WindowRequest,
        has_next_page: bool,
        now: i64,
    ) -> bool {
        if has_next_page {
            return false;
        }
        let (from, to) = (request.from(), request.to());
        match request.cursor.phase {
            Phase::Back => from <= self.floor(now),
            Phase::Forward => !(to - from >= rule.window_ms && to < now),
        }
    }

    /// The page after `request` returned `records` and the exchange's token for the next page
    /// of the window (`None` or empty when the window has no more). `open_here`: the time of
    /// the oldest record of this page still open or pending. Records before the configured
    /// start are dropped.
    pub fn page(
        &self,
        rule: WindowRule,
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
                    from: floor.max(from - rule.window_ms),
                    to: Some(from),
                    page: None,
                    head: c.head,
                    open,
                },
                true,
            ),
            Phase::Back => {
                // Backfill done. What the integration asks for beyond the reach is
                // unavailable; the next sync walks forward from before the head.
                if let Some(start) = self.start_ms.filter(|s| *s < from) {
                    unavailable = Some(TimeRange::new(start, from));
                }
                (
                    self.resume_forward(rule, open, c.head.unwrap_or(to), now),
                    false,
                )
            }
            Phase::Forward if to - from >= rule.window_ms && to < now => (
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
            Phase::Forward => (self.resume_forward(rule, open, to, now), false),
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            covered,
            unavailable,
            more,
        }
    }

    /// Caught up at `reached`: the next walk starts at the oldest open record seen, or the
    /// overlap before `reached`, whichever is older, but no further back than a window less a
    /// day (less half a window for windows of two days or less) before `reached`, so a sync
    /// soon after this one makes one request per stream however old an order still open is
    /// (such an order is read again once it closes within the re-read span, else it stays as
    /// last seen until a resync); and never beyond the reach.
    fn resume_forward(
        &self,
        rule: WindowRule,
        open: Option<i64>,
        reached: i64,
        now: i64,
    ) -> WindowCursor {
        let spare = DAY_MS.min(rule.window_ms / 2);
        let from = open
            .unwrap_or(i64::MAX)
            .min(reached - rule.overlap_ms)
            .max(reached - (rule.window_ms - spare))
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

    /// `records` without those before the configured start.
    pub fn since_start(&self, records: Vec<Record>) -> Vec<Record> {
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
// Candles: open times upwards; the unfinished candle is fetched again.

/// The cursor of a candle stream: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CandleCursor {
    pub start: i64,
}

impl CandleCursor {
    /// The stored cursor, or `first` (the configured start, or as far back as the exchange
    /// serves) when there is none.
    pub fn read(cursor: Option<&str>, first: i64) -> Result<CandleCursor, PluginError> {
        Ok(decode_cursor(cursor, "candles")?.unwrap_or(CandleCursor { start: first }))
    }
}

/// The page after a candle request for `[request.start, end]` (end inclusive) returned
/// `candles`, in any order. `next_open` gives the open time of the candle after one (its
/// timeframe's step; months are not all equal).
///
/// The next request starts at the first unfinished candle (it is fetched again and
/// replaced), else after the last candle, else after `end` when the range was empty but lies
/// in the past (before the market opened). More follows while the range ended before now and
/// every candle in it was final.
pub fn candle_page(
    request: CandleCursor,
    end: i64,
    mut candles: Vec<Candle>,
    next_open: impl Fn(i64) -> i64,
    now: i64,
) -> Page {
    candles.sort_by_key(|c| c.open_time);
    candles.dedup_by_key(|c| c.open_time);
    let first_open = candles.iter().find(|c| !c.is_final).map(|c| c.open_time);
    let after_last = candles.last().map(|c| next_open(c.open_time));
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
        next_cursor: Some(encode_cursor(&CandleCursor { start: next })),
        covered: Some(TimeRange::new(request.start, next)).filter(|r| !r.is_empty()),
        unavailable: None,
        more: !caught_up && first_open.is_none() && next > request.start,
    }
}

/// The page after a candle request for the window `[request.start, end)` (end exclusive)
/// returned `candles`, in any order, for exchanges whose window is exactly one answer (never
/// cut at a row limit) and that leave out the buckets without trades. `next_open` gives the
/// open time of the candle after one.
///
/// The next window starts at the first unfinished candle (it is fetched again and replaced);
/// else, when the window lies wholly in the past, at its end, however many of its last
/// buckets were left out; else after the last candle. More follows while the window lies in
/// the past and every candle in it was final. Where an answer may be cut at a limit, use
/// [`candle_page`].
pub fn candle_window_page(
    request: CandleCursor,
    end: i64,
    mut candles: Vec<Candle>,
    next_open: impl Fn(i64) -> i64,
    now: i64,
) -> Page {
    candles.sort_by_key(|c| c.open_time);
    candles.dedup_by_key(|c| c.open_time);
    let first_open = candles.iter().find(|c| !c.is_final).map(|c| c.open_time);
    let after_last = candles.last().map(|c| next_open(c.open_time));
    let past = end <= now;
    let next = match (first_open, after_last) {
        (Some(open), _) => open,
        (None, _) if past => end,
        (None, Some(after)) => after,
        (None, None) => request.start,
    }
    .max(request.start);
    Page {
        records: candles.into_iter().map(Record::Candle).collect(),
        next_cursor: Some(encode_cursor(&CandleCursor { start: next })),
        covered: Some(TimeRange::new(request.start, next)).filter(|r| !r.is_empty()),
        unavailable: None,
        more: past && first_open.is_none() && next > request.start,
    }
}

/// The length of one candle of the common timeframe names (`1m 3m 5m 15m 30m 1h 2h 4h 6h 8h
/// 12h 1d 3d 1w`), in ms; `None` for any other (months have no fixed length).
pub fn timeframe_ms(timeframe: &str) -> Option<i64> {
    let (count, unit) = timeframe.split_at(timeframe.len().checked_sub(1)?);
    let count: i64 = count.parse().ok().filter(|n| *n > 0)?;
    let unit_ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        _ => return None,
    };
    Some(count * unit_ms)
}

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A cursor as the JSON the engine stores.
pub fn encode_cursor<T: Serialize>(cursor: &T) -> String {
    serde_json::to_string(cursor).expect("cursor structs always serialize")
}

/// A stored cursor read back; `None` when there is none. A cursor this plugin version cannot
/// read is a `plugin` error naming the stream and saying how to start over.
pub fn decode_cursor<T: for<'de> Deserialize<'de>>(
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

#[cfg(test)]
mod tests;
