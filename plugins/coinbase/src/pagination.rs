//! Pagination for the `coinbase` connector.
//!
//! Pure: cursors in, requests out; responses in, pages out.
//!
//! | stream | partition | walk | request |
//! |---|---|---|---|
//! | trades | `""` | newest first from now back to `since`, by Coinbase's `cursor` | `orders/historical/fills?start_sequence_timestamp=since&limit=100&cursor=` |
//! | orders | `""` | the same, `since` below the oldest order still open; then the open orders | `orders/historical/batch?start_date=since&limit=100&cursor=`, then `…?order_status=OPEN&limit=100&cursor=` |
//! | deposits, withdrawals, ledger | wallet uuid | newest first by `starting_after` until older than `stop` | `/v2/accounts/{uuid}/transactions?limit=100&starting_after=` |
//! | candles | `PRODUCT-ID:timeframe` | windows of 300 bars upwards | `market/products/{id}/candles?start=&end=&granularity=` |
//!
//! Every walk is [`exsync_plugin_api::walk`]'s newest-first walk by time keys: it ends at the
//! newest record the previous walk saw (the records of that instant told apart by id), or
//! lower, at the oldest record that may still change (an open order, a pending
//! transaction). For fills and orders that floor is also Coinbase's own lower bound
//! (`since`). Every cursor names the next request completely: a crash repeats at most the
//! page in flight.

use exsync_plugin_api::walk::{KeyWalker, WalkCursor, WalkItem, WalkRequest};
use exsync_plugin_api::window::{candle_window_page, decode_cursor, encode_cursor, CandleCursor};
use exsync_plugin_api::{Candle, Page, PluginError, Record, TimeRange};
use serde::{Deserialize, Serialize};

use crate::endpoints::CANDLES_PER_REQUEST;

/// Turns cursors into requests and responses into pages, for one integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoinbasePager {
    /// The history start, UTC ms (never before Coinbase's).
    pub(crate) start_ms: i64,
    /// The part of the configured history Coinbase cannot hold (before it opened), if any.
    pub(crate) unavailable: Option<TimeRange>,
}

/// Where a fills or orders walk is: [`walk`]'s cursor, and whether it is reading the open
/// orders (`order_status=OPEN`, any age), which follow every orders history walk.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SinceCursor {
    #[serde(flatten)]
    pub(crate) walk: WalkCursor,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) open: bool,
}

/// One request of a fills or orders walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SinceRequest {
    /// The walk reads records at or after this time (UTC ms): its floor, not before the
    /// start.
    pub(crate) since: i64,
    pub(crate) open: bool,
    pub(crate) walk: WalkRequest,
}

impl SinceRequest {
    /// Coinbase's cursor of this page; `None`: the newest page.
    pub(crate) fn page(&self) -> Option<&str> {
        self.walk.after()
    }
}

/// One transaction of a page: its time, id, whether it may change, and its record if the
/// stream keeps it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TransactionItem {
    pub(crate) key_ms: i64,
    pub(crate) id: String,
    pub(crate) pending: bool,
    pub(crate) record: Option<Record>,
}

/// One candle request: open times in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesRequest {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl CandlesRequest {
    /// Coinbase's `start` and `end` are inclusive Unix seconds: `[start, end - 1 s]`.
    pub(crate) fn params(&self, granularity: &str) -> Vec<(&'static str, String)> {
        vec![
            ("start", (self.start / 1000).to_string()),
            ("end", ((self.end - 1000) / 1000).to_string()),
            ("granularity", granularity.to_owned()),
        ]
    }
}

impl CoinbasePager {
    /// The walk every history stream takes: time keys, from the history start; what the
    /// configuration asks for before Coinbase opened is unavailable.
    fn walker(&self) -> KeyWalker {
        match self.unavailable {
            Some(before) => KeyWalker::new(before.from_ms).with_origin(self.start_ms),
            None => KeyWalker::new(self.start_ms),
        }
    }

    /// The fills or orders walk a stored cursor stands for at `now`.
    pub(crate) fn since_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<SinceRequest, PluginError> {
        let cursor: SinceCursor = decode_cursor(cursor, stream)?.unwrap_or_default();
        let walk = self.walker().resume(cursor.walk, now);
        let since = walk
            .cursor
            .floor()
            .map_or(self.start_ms, |f| f.max(self.start_ms));
        Ok(SinceRequest {
            since,
            open: cursor.open,
            walk,
        })
    }

    /// The page after one request of `walk` returned `items` (newest first) and Coinbase's
    /// `next` cursor.
    pub(crate) fn since_page(
        &self,
        walk: &SinceRequest,
        items: Vec<crate::parsing::Keyed>,
        next: Option<String>,
    ) -> Page {
        let items = items
            .into_iter()
            .map(|k| WalkItem::at(k.key_ms, k.key_ms, k.record).held(k.pending))
            .collect();
        self.walker().page(&walk.walk, items, next)
    }

    /// The orders page after one request of `walk`: the history walk (every status, created
    /// since `since`), then the open orders of any age.
    ///
    /// When the history walk ends, the open orders are read next (`more`); when they are
    /// read, the next history walk reads down to the oldest of them again, so that it reads
    /// each again once it has completed.
    pub(crate) fn orders_page(
        &self,
        walk: &SinceRequest,
        items: Vec<crate::parsing::Keyed>,
        next: Option<String>,
    ) -> Page {
        if !walk.open {
            let mut page = self.since_page(walk, items, next);
            if !page.more {
                let walk = page
                    .next_cursor
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok())
                    .unwrap_or_default();
                page.next_cursor = Some(encode_cursor(&SinceCursor { walk, open: true }));
                page.more = true;
            }
            return page;
        }
        let c = &walk.walk.cursor;
        let oldest_open = items.iter().filter(|i| i.pending).map(|i| i.key_ms).min();
        let records: Vec<Record> = items.into_iter().map(|i| i.record).collect();
        let mut cursor = SinceCursor {
            walk: c.clone(),
            open: true,
        };
        if let Some(oldest) = oldest_open {
            cursor.walk.held = Some(c.held.map_or(oldest, |h| h.min(oldest)));
        }
        if next.is_some() && next != c.after && !records.is_empty() {
            cursor.walk.after = next;
            return Page {
                records,
                next_cursor: Some(encode_cursor(&cursor)),
                more: true,
                ..Page::default()
            };
        }
        if let Some(held) = cursor.walk.held {
            cursor.walk.hold_at(held);
        }
        (cursor.walk.after, cursor.walk.top, cursor.walk.held) = (None, None, None);
        cursor.open = false;
        Page {
            records,
            next_cursor: Some(encode_cursor(&cursor)),
            ..Page::default()
        }
    }

    /// The transactions walk a stored cursor stands for at `now`.
    pub(crate) fn transactions_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WalkRequest, PluginError> {
        self.walker().request(cursor, stream, now)
    }

    /// The page after one request of `walk` returned `items` (newest first) and the next
    /// page's `starting_after`.
    pub(crate) fn transactions_page(
        &self,
        walk: &WalkRequest,
        items: Vec<TransactionItem>,
        next: Option<String>,
    ) -> Page {
        let items = items
            .into_iter()
            .map(|i| {
                match i.record {
                    Some(r) => WalkItem::at(i.key_ms, i.key_ms, r),
                    None => WalkItem::other(i.key_ms, i.key_ms, i.id),
                }
                .held(i.pending)
            })
            .collect();
        self.walker().page(walk, items, next)
    }

    /// The candle window a stored cursor stands for.
    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        bar_ms: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let c = CandleCursor::read(cursor, self.start_ms.div_euclid(bar_ms) * bar_ms)?;
        Ok(CandlesRequest {
            start: c.start,
            end: c.start + bar_ms * CANDLES_PER_REQUEST,
        })
    }

    /// The page after `request` returned `candles` (any order) at `now` (Coinbase's clock).
    ///
    /// [`candle_window_page`]: a window of 300 bars is one whole answer, and Coinbase leaves out
    /// the buckets without trades. The next window starts at the first unfinished candle
    /// (fetched again and replaced), else at the end of a window wholly in the past, else
    /// after the last candle.
    pub(crate) fn candles_page(
        &self,
        request: &CandlesRequest,
        mut candles: Vec<Candle>,
        bar_ms: i64,
        now: i64,
    ) -> Page {
        candles.retain(|c| c.open_time >= request.start && c.open_time < request.end);
        let cursor = CandleCursor {
            start: request.start,
        };
        candle_window_page(cursor, request.end, candles, |t| t + bar_ms, now)
    }
}

/// The candle partitions, `"{product_id}:{timeframe}"`: Coinbase's product id is
/// `BASE-QUOTE`.
pub(crate) fn candle_partitions(candles: &[(String, String)]) -> Vec<String> {
    candles
        .iter()
        .map(|(unified, timeframe)| format!("{}:{timeframe}", unified.replace('/', "-")))
        .collect()
}

/// `"BTC-USD:1h"` → `("BTC-USD", "1h")`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (product, timeframe) = partition.rsplit_once(':')?;
    (!product.is_empty() && !timeframe.is_empty()).then_some((product, timeframe))
}
