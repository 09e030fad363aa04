//! Pagination for the `okx` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and the records
//! it returned in, the [`Page`] to store out.
//!
//! OKX's history endpoints answer newest first, 100 at a time, and page backwards with
//! `after=KEY` ("records earlier than KEY"): the key is a `billId` (fills, bills), an `ordId`
//! (orders) or a millisecond `ts` (deposits, withdrawals). Every such stream is a *walk*:
//! from the newest record down to the records an earlier walk already stored (`stop`), or to
//! the configured start, or to the end of what OKX serves. The next walk stops at the newest
//! key this one saw, lowered to just below the oldest record that was still pending (an open
//! order, an unfinished transfer) so that it is read again once settled.
//!
//! | stream | partition | cursor | request |
//! |---|---|---|---|
//! | trades | `instType` | walk over `billId` | `fills-history?instType=&after=&limit=100` |
//! | orders | `instType` | walk over `ordId`, then the open orders | `orders-history-archive`, then `orders-pending` |
//! | ledger | `trading`, `funding` | walk over `billId` | `bills-archive?after=&limit=100`, `asset/bills-history?pagingType=2&after=&limit=100` |
//! | deposits, withdrawals | `""` | walk over `ts` | `deposit-history?after=&limit=100` |
//! | candles | `instId:timeframe` | `{"start":T}` | `history-candles?instId=&bar=&before=T-1&after=T+100 bars` |
//!
//! Every cursor names the next request completely: a crash between two pages repeats at most
//! the page in flight, and the store upserts re-fetched records by id.

use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::PAGE_LIMIT;

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OkxPager {
    /// The configured history start, UTC ms.
    pub(crate) start_ms: i64,
}

/// Which list an orders walk is reading.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
    /// Completed orders (`orders-history-archive`); for other streams, their only list.
    #[default]
    History,
    /// Open orders (`orders-pending`), read after each history walk.
    Pending,
}

/// Where a newest-first walk is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WalkCursor {
    #[serde(default)]
    pub(crate) phase: Phase,
    /// The next page holds records older than this key (`after=`); `None`: the newest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<u64>,
    /// Records with keys up to this one were stored by an earlier walk: the walk ends there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<u64>,
    /// The newest key this walk has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) head: Option<u64>,
    /// When this walk began, on OKX's clock: the end of what it proves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started: Option<i64>,
    /// The oldest key of a record this walk saw still pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<u64>,
}

impl WalkCursor {
    /// The `after=` parameter, if any.
    pub(crate) fn after_param(&self) -> Option<(&'static str, String)> {
        self.after.map(|a| ("after", a.to_string()))
    }
}

/// How a stream's key orders its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// A unique id (`billId`, `ordId`): `after=id` excludes exactly the records seen.
    Id,
    /// A millisecond time (`ts`), shared by records of the same millisecond: the walk asks
    /// again from the oldest time seen, inclusive, so none of that millisecond is skipped.
    Time,
}

/// One record of a walk page, with its key and whether it may still change.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WalkItem {
    pub(crate) key: u64,
    pub(crate) record: Record,
    pub(crate) pending: bool,
}

/// The outcome of one walk page.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WalkStep {
    pub(crate) page: Page,
    /// True when the walk reached its end: nothing older is to be read.
    pub(crate) ended: bool,
}

/// The candles cursor: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

/// One candle request: open times in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesRequest {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl CandlesRequest {
    /// OKX's `before`/`after` are exclusive open times: `(start - 1, end)`.
    pub(crate) fn params(&self, inst_id: &str, bar: &str) -> Vec<(&'static str, String)> {
        vec![
            ("instId", inst_id.to_owned()),
            ("bar", bar.to_owned()),
            ("after", self.end.to_string()),
            ("before", (self.start - 1).to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ]
    }
}

impl OkxPager {
    /// The walk a stored cursor stands for at `now` (OKX's clock); no cursor: a first walk.
    pub(crate) fn walk_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WalkCursor, PluginError> {
        let mut walk: WalkCursor = decode_cursor(cursor, stream)?.unwrap_or_default();
        walk.started.get_or_insert(now);
        Ok(walk)
    }

    /// The page after one request of `walk` returned `items` (newest first).
    ///
    /// `reach_from` is the oldest time OKX serves for this stream (now less its history
    /// limit), if it has one: the part of `[start, reach_from)` is marked unavailable.
    pub(crate) fn walk_page(
        &self,
        walk: &WalkCursor,
        items: Vec<WalkItem>,
        kind: KeyKind,
        reach_from: Option<i64>,
    ) -> WalkStep {
        let started = walk.started.unwrap_or(self.start_ms);
        let full = items.len() >= PAGE_LIMIT;
        let min_key = items.iter().map(|i| i.key).min();
        let max_key = items.iter().map(|i| i.key).max();
        let oldest = items.iter().map(|i| i.record.timestamp()).min();
        let head = max_opt(walk.head, max_key);
        let reached_stop = matches!((walk.stop, min_key), (Some(s), Some(k)) if k <= s);
        let reached_start = oldest.is_some_and(|t| t < self.start_ms);
        let kept: Vec<WalkItem> = items
            .into_iter()
            .filter(|i| walk.stop.is_none_or(|s| i.key > s))
            .filter(|i| i.record.timestamp() >= self.start_ms)
            .collect();
        let pending = min_opt(
            walk.pending,
            kept.iter().filter(|i| i.pending).map(|i| i.key).min(),
        );
        let records: Vec<Record> = kept.into_iter().map(|i| i.record).collect();
        let next_after = match (kind, min_key, max_key) {
            (KeyKind::Id, Some(min), _) => Some(min),
            // A page of one millisecond cannot be split by time: step past it.
            (KeyKind::Time, Some(min), Some(max)) if min == max => Some(min),
            (KeyKind::Time, Some(min), _) => Some(min + 1),
            _ => None,
        };
        let ended = !full || reached_stop || reached_start || next_after == walk.after;
        if !ended {
            let next = WalkCursor {
                after: next_after,
                head,
                pending,
                ..*walk
            };
            return WalkStep {
                page: Page {
                    records,
                    next_cursor: Some(encode_cursor(&next)),
                    covered: oldest
                        .map(|t| TimeRange::new(t.max(self.start_ms), started))
                        .filter(|r| !r.is_empty()),
                    unavailable: None,
                    more: true,
                },
                ended: false,
            };
        }
        // The next walk stops at what this one reached, less a millisecond for time keys
        // (a later record may share the newest millisecond), and below anything pending.
        let reached = match kind {
            KeyKind::Id => head,
            KeyKind::Time => head.map(|h| h.saturating_sub(1)),
        };
        let stop = max_opt(reached, walk.stop);
        let stop = match pending {
            Some(p) => Some(stop.map_or(p.saturating_sub(1), |s| s.min(p.saturating_sub(1)))),
            None => stop,
        };
        let next = WalkCursor {
            phase: walk.phase,
            after: None,
            stop,
            head: None,
            started: None,
            pending: None,
        };
        let from = reach_from.map_or(self.start_ms, |r| r.max(self.start_ms));
        WalkStep {
            page: Page {
                records,
                next_cursor: Some(encode_cursor(&next)),
                covered: Some(TimeRange::new(from, started)).filter(|r| !r.is_empty()),
                unavailable: reach_from
                    .map(|r| TimeRange::new(self.start_ms, r))
                    .filter(|r| !r.is_empty()),
                more: false,
            },
            ended: true,
        }
    }

    /// The orders page after one request of `walk`: the history walk, then the open orders.
    ///
    /// When the history walk ends, the open orders are read next (`more`), from a cursor
    /// that keeps the history walk's stop. When they are read, the next history walk stops
    /// below the oldest open order, so that it reads that order again once it completes.
    pub(crate) fn orders_page(
        &self,
        walk: &WalkCursor,
        items: Vec<WalkItem>,
        reach_from: Option<i64>,
    ) -> Page {
        match walk.phase {
            Phase::History => {
                let mut step = self.walk_page(walk, items, KeyKind::Id, reach_from);
                if step.ended {
                    let after: WalkCursor = step
                        .page
                        .next_cursor
                        .as_deref()
                        .and_then(|c| serde_json::from_str(c).ok())
                        .unwrap_or_default();
                    let next = WalkCursor {
                        phase: Phase::Pending,
                        started: walk.started,
                        ..after
                    };
                    step.page.next_cursor = Some(encode_cursor(&next));
                    step.page.more = true;
                }
                step.page
            }
            Phase::Pending => {
                let full = items.len() >= PAGE_LIMIT;
                let min_key = items.iter().map(|i| i.key).min();
                let pending = min_opt(walk.pending, min_key);
                let records: Vec<Record> = items.into_iter().map(|i| i.record).collect();
                if full && min_key.is_some() && min_key != walk.after {
                    let next = WalkCursor {
                        after: min_key,
                        pending,
                        ..*walk
                    };
                    return Page {
                        records,
                        next_cursor: Some(encode_cursor(&next)),
                        more: true,
                        ..Page::default()
                    };
                }
                let stop = match (walk.stop, pending) {
                    (Some(s), Some(p)) => Some(s.min(p.saturating_sub(1))),
                    (None, Some(p)) => Some(p.saturating_sub(1)),
                    (s, None) => s,
                };
                let next = WalkCursor {
                    phase: Phase::History,
                    stop,
                    ..WalkCursor::default()
                };
                Page {
                    records,
                    next_cursor: Some(encode_cursor(&next)),
                    ..Page::default()
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: windows of 100 bars upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        bar_ms: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let c = decode_cursor(cursor, "candles")?.unwrap_or(CandlesCursor {
            start: self.start_ms,
        });
        Ok(CandlesRequest {
            start: c.start,
            end: c.start + bar_ms * PAGE_LIMIT as i64,
        })
    }

    /// The page after `request` returned `candles` (any order) at `now` (OKX's clock).
    ///
    /// The next window starts at the first unfinished candle (fetched again and replaced),
    /// else after the last candle, else at the end of an empty window that lies wholly in the
    /// past. More follows while the window is in the past and every candle in it is final.
    pub(crate) fn candles_page(
        &self,
        request: &CandlesRequest,
        mut candles: Vec<Candle>,
        bar_ms: i64,
        now: i64,
    ) -> Page {
        candles.sort_by_key(|c| c.open_time);
        let first_open = candles.iter().find(|c| !c.is_final).map(|c| c.open_time);
        let after_last = candles.last().map(|c| c.open_time + bar_ms);
        let window_past = request.end <= now;
        let next = match (first_open, after_last) {
            (Some(open), _) => open,
            (None, _) if window_past => request.end,
            (None, Some(after)) => after,
            (None, None) => request.start,
        }
        .max(request.start);
        Page {
            records: candles.into_iter().map(Record::Candle).collect(),
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next })),
            covered: Some(TimeRange::new(request.start, next)).filter(|r| !r.is_empty()),
            unavailable: None,
            more: window_past && first_open.is_none() && next > request.start,
        }
    }
}

/// The candle partitions, `"{instId}:{timeframe}"`, of `(unified symbol, timeframe)` pairs:
/// OKX's spot instrument id is `BASE-QUOTE`.
pub(crate) fn candle_partitions(candles: &[(String, String)]) -> Vec<String> {
    candles
        .iter()
        .map(|(unified, timeframe)| format!("{}:{timeframe}", unified.replace('/', "-")))
        .collect()
}

/// `"BTC-USDT:1h"` → `("BTC-USDT", "1h")`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (inst_id, timeframe) = partition.rsplit_once(':')?;
    (!inst_id.is_empty() && !timeframe.is_empty()).then_some((inst_id, timeframe))
}

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
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
