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
//! A walk ends by setting the next walk's lower bound to the newest record it saw
//! (inclusive: a record of the same instant is read again and upserted), or lower, to the
//! oldest record that may still change (an open order, a pending transaction). Every cursor
//! names the next request completely: a crash repeats at most the page in flight.

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

/// Where a fills or orders walk is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SinceCursor {
    /// The walk reads records at or after this time (UTC ms).
    pub(crate) since: i64,
    /// Coinbase's cursor of the next page; `None`: the newest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) page: Option<String>,
    /// The newest key this walk has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) head: Option<i64>,
    /// The oldest key of a record this walk saw that may still change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<i64>,
    /// When this walk began, on Coinbase's clock: the end of what it proves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started: Option<i64>,
    /// Orders only: the walk is reading the open orders (`order_status=OPEN`, any age),
    /// which follows every history walk.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) open: bool,
}

/// Where a wallet's transactions walk is.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TransactionsCursor {
    /// Records older than this (UTC ms) were stored by an earlier walk: the walk ends there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<i64>,
    /// `starting_after` of the next page; `None`: the newest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) head: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started: Option<i64>,
}

/// One transaction of a page: its time, whether it may change, and its record if the
/// stream keeps it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TransactionItem {
    pub(crate) key_ms: i64,
    pub(crate) pending: bool,
    pub(crate) record: Option<Record>,
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
    /// The fills or orders walk a stored cursor stands for at `now`.
    pub(crate) fn since_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<SinceCursor, PluginError> {
        let mut walk = decode_cursor(cursor, stream)?.unwrap_or(SinceCursor {
            since: self.start_ms,
            ..SinceCursor::default()
        });
        walk.since = walk.since.max(self.start_ms);
        walk.started.get_or_insert(now);
        Ok(walk)
    }

    /// The page after one request of `walk` returned `items` (newest first) and Coinbase's
    /// `next` cursor.
    pub(crate) fn since_page(
        &self,
        walk: &SinceCursor,
        items: Vec<crate::parsing::Keyed>,
        next: Option<String>,
    ) -> Page {
        let started = walk.started.unwrap_or(walk.since);
        let oldest = items.iter().map(|i| i.key_ms).min();
        let head = max_opt(walk.head, items.iter().map(|i| i.key_ms).max());
        let pending = min_opt(
            walk.pending,
            items.iter().filter(|i| i.pending).map(|i| i.key_ms).min(),
        );
        let records: Vec<Record> = items.into_iter().map(|i| i.record).collect();
        let more = next.is_some() && next != walk.page && !records.is_empty();
        if more {
            let cursor = SinceCursor {
                page: next,
                head,
                pending,
                ..walk.clone()
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&cursor)),
                covered: oldest
                    .map(|t| TimeRange::new(t.max(walk.since), started))
                    .filter(|r| !r.is_empty()),
                unavailable: None,
                more: true,
            };
        }
        let reached = head.unwrap_or(walk.since);
        let since = pending.map_or(reached, |p| p.min(reached)).max(walk.since);
        Page {
            records,
            next_cursor: Some(encode_cursor(&SinceCursor {
                since,
                ..SinceCursor::default()
            })),
            covered: Some(TimeRange::new(walk.since, started)).filter(|r| !r.is_empty()),
            unavailable: self.unavailable,
            more: false,
        }
    }

    /// The orders page after one request of `walk`: the history walk (every status, created
    /// since `since`), then the open orders of any age.
    ///
    /// When the history walk ends, the open orders are read next (`more`); when they are
    /// read, the next history walk starts no later than the oldest of them, so that it
    /// reads each again once it has completed.
    pub(crate) fn orders_page(
        &self,
        walk: &SinceCursor,
        items: Vec<crate::parsing::Keyed>,
        next: Option<String>,
    ) -> Page {
        if !walk.open {
            let mut page = self.since_page(walk, items, next);
            if !page.more {
                let after: SinceCursor = page
                    .next_cursor
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok())
                    .unwrap_or_default();
                page.next_cursor = Some(encode_cursor(&SinceCursor {
                    open: true,
                    started: walk.started,
                    ..after
                }));
                page.more = true;
            }
            return page;
        }
        let oldest_open = items.iter().filter(|i| i.pending).map(|i| i.key_ms).min();
        let pending = min_opt(walk.pending, oldest_open);
        let records: Vec<Record> = items.into_iter().map(|i| i.record).collect();
        if next.is_some() && next != walk.page && !records.is_empty() {
            return Page {
                records,
                next_cursor: Some(encode_cursor(&SinceCursor {
                    page: next,
                    pending,
                    ..walk.clone()
                })),
                more: true,
                ..Page::default()
            };
        }
        let since = pending
            .map_or(walk.since, |p| p.min(walk.since))
            .max(self.start_ms);
        Page {
            records,
            next_cursor: Some(encode_cursor(&SinceCursor {
                since,
                ..SinceCursor::default()
            })),
            ..Page::default()
        }
    }

    /// The transactions walk a stored cursor stands for at `now`.
    pub(crate) fn transactions_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<TransactionsCursor, PluginError> {
        let mut walk: TransactionsCursor = decode_cursor(cursor, stream)?.unwrap_or_default();
        walk.started.get_or_insert(now);
        Ok(walk)
    }

    /// The page after one request of `walk` returned `items` (newest first) and the next
    /// page's `starting_after`.
    pub(crate) fn transactions_page(
        &self,
        walk: &TransactionsCursor,
        items: Vec<TransactionItem>,
        next: Option<String>,
    ) -> Page {
        let lower = walk.stop.unwrap_or(self.start_ms).max(self.start_ms);
        let started = walk.started.unwrap_or(lower);
        let oldest = items.iter().map(|i| i.key_ms).min();
        let head = max_opt(walk.head, items.iter().map(|i| i.key_ms).max());
        let pending = min_opt(
            walk.pending,
            items
                .iter()
                .filter(|i| i.pending && i.key_ms >= lower)
                .map(|i| i.key_ms)
                .min(),
        );
        let reached_stop = oldest.is_some_and(|t| t < lower);
        let records: Vec<Record> = items
            .into_iter()
            .filter(|i| i.key_ms >= lower)
            .filter_map(|i| i.record)
            .collect();
        let ended = next.is_none() || reached_stop || next == walk.after || oldest.is_none();
        if !ended {
            let cursor = TransactionsCursor {
                after: next,
                head,
                pending,
                ..walk.clone()
            };
            return Page {
                records,
                next_cursor: Some(encode_cursor(&cursor)),
                covered: oldest
                    .map(|t| TimeRange::new(t.max(lower), started))
                    .filter(|r| !r.is_empty()),
                unavailable: None,
                more: true,
            };
        }
        let reached = max_opt(head, walk.stop);
        let stop = match (reached, pending) {
            (Some(r), Some(p)) => Some(r.min(p)),
            (r, p) => r.or(p),
        };
        Page {
            records,
            next_cursor: Some(encode_cursor(&TransactionsCursor {
                stop,
                ..TransactionsCursor::default()
            })),
            covered: Some(TimeRange::new(lower, started)).filter(|r| !r.is_empty()),
            unavailable: self.unavailable,
            more: false,
        }
    }

    /// The candle window a stored cursor stands for.
    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
        bar_ms: i64,
    ) -> Result<CandlesRequest, PluginError> {
        let c = decode_cursor(cursor, "candles")?.unwrap_or(CandlesCursor {
            start: self.start_ms.div_euclid(bar_ms) * bar_ms,
        });
        Ok(CandlesRequest {
            start: c.start,
            end: c.start + bar_ms * CANDLES_PER_REQUEST,
        })
    }

    /// The page after `request` returned `candles` (any order) at `now` (Coinbase's clock).
    ///
    /// The next window starts at the first unfinished candle (fetched again and replaced),
    /// else after the last candle, else at the end of an empty window wholly in the past.
    /// More follows while the window is in the past and every candle in it is final.
    pub(crate) fn candles_page(
        &self,
        request: &CandlesRequest,
        mut candles: Vec<Candle>,
        bar_ms: i64,
        now: i64,
    ) -> Page {
        candles.retain(|c| c.open_time >= request.start && c.open_time < request.end);
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
