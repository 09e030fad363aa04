//! Pagination for the `okx` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and the records
//! it returned in, the [`Page`] to store out.
//!
//! OKX's history endpoints answer newest first, 100 at a time, and page backwards with
//! `after=KEY` ("records earlier than KEY"): the key is a `billId` (fills, bills), an `ordId`
//! (orders) or a millisecond `ts` (deposits, withdrawals). Every such stream is a
//! newest-first walk, [`exsync_plugin_api::walk`]'s: from the newest record down to the
//! newest key an earlier walk stored (`stop`), or to the oldest record it saw still pending
//! (an open order, an unfinished transfer: `hold`, read again once settled), or to the
//! configured start, or to the end of what OKX serves. This file only turns a page into the
//! next `after=` key.
//!
//! | stream | partition | cursor | request |
//! |---|---|---|---|
//! | trades | `instType` | walk over `billId` | `fills-history?instType=&after=&limit=100` |
//! | orders | `instType` | walk over `ordId`, then the open orders | `orders-history-archive`, then `orders-pending` |
//! | ledger | `trading`, `funding` | walk over `billId` | `bills-archive?after=&limit=100`, `asset/bills-history?pagingType=2&after=&limit=100` |
//! | orders | `algo:<ordType>` | a walk over `algoId` per state, then the pending ones | `orders-algo-history?ordType=&state=&after=&limit=100`, then `orders-algo-pending?ordType=&after=&limit=100` |
//! | deposits, withdrawals | `""` | walk over `ts` | `deposit-history?after=&limit=100` |
//! | deposits, withdrawals | `fiat` | walk over `cTime` | `fiat/deposit-order-history?before=&limit=100` (`before` inclusive) |
//! | candles | `instId:timeframe` | `{"start":T}` | `history-candles?instId=&bar=&before=T-1&after=T+100 bars` |
//!
//! Every cursor names the next request completely: a crash between two pages repeats at most
//! the page in flight, and the store upserts re-fetched records by id.

use exsync_plugin_api::walk::{self, KeyWalker};
use exsync_plugin_api::window::{candle_window_page, decode_cursor, encode_cursor, CandleCursor};
use exsync_plugin_api::{Candle, Page, PluginError, Record};
use serde::{Deserialize, Serialize};

use crate::endpoints::{ALGO_HISTORY_STATES, PAGE_LIMIT};

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

/// The cursor of a walk: which list, and where [`walk`]'s walk over it is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WalkCursor {
    #[serde(default)]
    pub(crate) phase: Phase,
    #[serde(flatten)]
    pub(crate) walk: walk::WalkCursor,
}

/// One page request of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WalkRequest {
    pub(crate) phase: Phase,
    pub(crate) walk: walk::WalkRequest,
}

impl WalkRequest {
    /// The key this page is asked after (`after=`); `None` for the newest page.
    pub(crate) fn after(&self) -> Option<u64> {
        self.walk.after().and_then(|a| a.parse().ok())
    }

    /// The `after=` parameter, if any.
    pub(crate) fn after_param(&self) -> Option<(&'static str, String)> {
        self.walk.after().map(|a| ("after", a.to_owned()))
    }

    /// The `before=` parameter of OKX's fiat order histories, whose `before` is an inclusive
    /// end time: the walk's exclusive key less one millisecond.
    pub(crate) fn inclusive_before_param(&self) -> Option<(&'static str, String)> {
        self.after()
            .map(|a| ("before", a.saturating_sub(1).to_string()))
    }
}

/// The cursor of an `algo:<ordType>` partition of the orders stream: one walk over
/// `orders-algo-history` per state in [`ALGO_HISTORY_STATES`] (OKX requires the state), one
/// after the other, then the pending list (`orders-algo-pending`). After the pending list,
/// every history walk also reads down to the oldest algo order seen pending, so that it
/// reads that order once it is done (`hold`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AlgoCursor {
    /// The list read next: the history walk of `ALGO_HISTORY_STATES[step]`, or past the
    /// last state the pending list.
    #[serde(default)]
    pub(crate) step: usize,
    /// The history walks, in `ALGO_HISTORY_STATES` order.
    #[serde(default)]
    pub(crate) history: Vec<walk::WalkCursor>,
    /// The pending list: its next `after=algoId`, and the oldest algoId seen pending so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) held: Option<i64>,
}

/// One page request of an algo orders partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AlgoRequest {
    pub(crate) cursor: AlgoCursor,
    /// The history walk's state and request; `None`: the pending list.
    pub(crate) history: Option<(&'static str, walk::WalkRequest)>,
}

impl AlgoRequest {
    /// The `after=algoId` of this page, if any.
    pub(crate) fn after(&self) -> Option<&str> {
        match &self.history {
            Some((_, walk)) => walk.after(),
            None => self.cursor.after.as_deref(),
        }
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
    ) -> Result<WalkRequest, PluginError> {
        let cursor: WalkCursor = decode_cursor(cursor, stream)?.unwrap_or_default();
        Ok(WalkRequest {
            phase: cursor.phase,
            walk: KeyWalker::new(self.start_ms).resume(cursor.walk, now),
        })
    }

    /// The page after one request of `walk` returned `items` (newest first): a page of
    /// `PAGE_LIMIT` asks for the next, after its oldest key (for time keys, after the
    /// millisecond after it, so that none of its millisecond is skipped, unless the page is
    /// all one millisecond).
    ///
    /// `reach_from` is the oldest time OKX serves for this stream (now less its history
    /// limit), if it has one: the part of `[start, reach_from)` is marked unavailable.
    pub(crate) fn walk_page(
        &self,
        walk: &WalkRequest,
        items: Vec<WalkItem>,
        kind: KeyKind,
        reach_from: Option<i64>,
    ) -> Page {
        let full = items.len() >= PAGE_LIMIT;
        let min_key = items.iter().map(|i| i.key).min();
        let max_key = items.iter().map(|i| i.key).max();
        let next = match (kind, min_key, max_key) {
            (KeyKind::Id, Some(min), _) => Some(min),
            (KeyKind::Time, Some(min), Some(max)) if min == max => Some(min),
            (KeyKind::Time, Some(min), _) => Some(min + 1),
            _ => None,
        };
        let mut walker = KeyWalker::new(self.start_ms);
        if kind == KeyKind::Id {
            walker = walker.with_unique_keys();
        }
        if let Some(from) = reach_from {
            walker = walker.with_reach(walk.walk.top() - from);
        }
        let items = items
            .into_iter()
            .map(|i| walk::WalkItem::new(key(i.key), i.record).held(i.pending))
            .collect();
        let mut page = walker.page(
            &walk.walk,
            items,
            next.filter(|_| full).map(|k| k.to_string()),
        );
        page.next_cursor = page.next_cursor.map(|c| with_phase(&c, walk.phase));
        page
    }

    /// The orders page after one request of `walk`: the history walk, then the open orders.
    ///
    /// When the history walk ends, the open orders are read next (`more`), from a cursor
    /// that keeps the history walk's stop. When they are read, the next history walk reads
    /// down to the oldest open order again, so that it reads that order once it completes.
    pub(crate) fn orders_page(
        &self,
        walk: &WalkRequest,
        items: Vec<WalkItem>,
        reach_from: Option<i64>,
    ) -> Page {
        match walk.phase {
            Phase::History => {
                let mut page = self.walk_page(walk, items, KeyKind::Id, reach_from);
                if !page.more {
                    page.next_cursor = page.next_cursor.map(|c| with_phase(&c, Phase::Pending));
                    page.more = true;
                }
                page
            }
            Phase::Pending => {
                let c = &walk.walk.cursor;
                let full = items.len() >= PAGE_LIMIT;
                let min_key = items.iter().map(|i| key(i.key)).min();
                let records: Vec<Record> = items.into_iter().map(|i| i.record).collect();
                let mut next = WalkCursor {
                    phase: Phase::Pending,
                    walk: c.clone(),
                };
                if let Some(min) = min_key {
                    next.walk.held = Some(c.held.map_or(min, |h| h.min(min)));
                }
                let after = min_key.map(|k| k.to_string());
                if full && after.is_some() && after != c.after {
                    next.walk.after = after;
                    return Page {
                        records,
                        next_cursor: Some(encode_cursor(&next)),
                        more: true,
                        ..Page::default()
                    };
                }
                if let Some(held) = next.walk.held {
                    next.walk.hold_at(held);
                }
                (next.walk.after, next.walk.top, next.walk.held) = (None, None, None);
                next.phase = Phase::History;
                Page {
                    records,
                    next_cursor: Some(encode_cursor(&next)),
                    ..Page::default()
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // Algo orders: a walk per history state, then the pending list.

    /// The request a stored `algo:` cursor stands for at `now` (OKX's clock).
    pub(crate) fn algo_request(
        &self,
        cursor: Option<&str>,
        now: i64,
    ) -> Result<AlgoRequest, PluginError> {
        let mut cursor: AlgoCursor = decode_cursor(cursor, "orders")?.unwrap_or_default();
        cursor
            .history
            .resize(ALGO_HISTORY_STATES.len(), walk::WalkCursor::default());
        if cursor.step > ALGO_HISTORY_STATES.len() {
            cursor.step = 0;
        }
        let history = ALGO_HISTORY_STATES.get(cursor.step).map(|state| {
            let walker = KeyWalker::new(self.start_ms).with_unique_keys();
            (
                *state,
                walker.resume(cursor.history[cursor.step].clone(), now),
            )
        });
        Ok(AlgoRequest { cursor, history })
    }

    /// The page after `request` returned `items` (newest first). A history walk that ends
    /// hands over to the next state's (or to the pending list) with `more`; the pending list
    /// ends the partition's sync and sets every history walk's `hold` to the oldest algo
    /// order it saw. `reach_from` is the oldest time OKX's history serves (now less 3
    /// months).
    pub(crate) fn algo_page(
        &self,
        request: &AlgoRequest,
        items: Vec<WalkItem>,
        reach_from: i64,
    ) -> Page {
        let mut next = request.cursor.clone();
        if let Some((_, walk)) = &request.history {
            let walk = WalkRequest {
                phase: Phase::History,
                walk: walk.clone(),
            };
            let mut page = self.walk_page(&walk, items, KeyKind::Id, Some(reach_from));
            let walked: WalkCursor = page
                .next_cursor
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default();
            next.history[next.step] = walked.walk;
            if !page.more {
                next.step += 1;
                page.more = true;
            }
            page.next_cursor = Some(encode_cursor(&next));
            return page;
        }
        let full = items.len() >= PAGE_LIMIT;
        let min_key = items.iter().map(|i| key(i.key)).min();
        let records: Vec<Record> = items.into_iter().map(|i| i.record).collect();
        if let Some(min) = min_key {
            next.held = Some(next.held.map_or(min, |h| h.min(min)));
        }
        let after = min_key.map(|k| k.to_string());
        if full && after.is_some() && after != request.cursor.after {
            next.after = after;
            return Page {
                records,
                next_cursor: Some(encode_cursor(&next)),
                more: true,
                ..Page::default()
            };
        }
        if let Some(held) = next.held {
            for walk in &mut next.history {
                walk.hold_at(held);
            }
        }
        (next.step, next.after, next.held) = (0, None, None);
        Page {
            records,
            next_cursor: Some(encode_cursor(&next)),
            ..Page::default()
        }
    }

    // -----------------------------------------------------------------------------------
    // Candles: windows of 100 bars upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        bar_ms: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let c = CandleCursor::read(cursor, self.start_ms)?;
        Ok(CandlesRequest {
            start: c.start,
            end: c.start + bar_ms * PAGE_LIMIT as i64,
        })
    }

    /// The page after `request` returned `candles` (any order) at `now` (OKX's clock).
    ///
    /// [`candle_window_page`]: a window of 100 bars is one whole answer, and OKX leaves out
    /// the buckets without trades. The next window starts at the first unfinished candle
    /// (fetched again and replaced), else at the end of a window wholly in the past, else
    /// after the last candle.
    pub(crate) fn candles_page(
        &self,
        request: &CandlesRequest,
        candles: Vec<Candle>,
        bar_ms: i64,
        now: i64,
    ) -> Page {
        let cursor = CandleCursor {
            start: request.start,
        };
        candle_window_page(cursor, request.end, candles, |t| t + bar_ms, now)
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

/// An OKX key as a walk key: ids and ms times both fit an `i64`.
fn key(k: u64) -> i64 {
    i64::try_from(k).unwrap_or(i64::MAX)
}

/// The shared walk's cursor `json` with the list `phase` to read next.
fn with_phase(json: &str, phase: Phase) -> String {
    let walk = serde_json::from_str(json).unwrap_or_default();
    encode_cursor(&WalkCursor { phase, walk })
}
