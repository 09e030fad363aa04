//! Pagination for the `binance` connector.
//!
//! Pure: a stored cursor (and the clock) in, the next request out; a request and the records
//! it returned in, the [`Page`] to store out. The cursors are small JSON objects:
//!
//! | stream | cursor | request |
//! |---|---|---|
//! | trades | `{"from_id":N}` | `myTrades?symbol=S&fromId=N&limit=1000` |
//! | orders | `{"from_id":N,"open":M?}` | `allOrders?symbol=S&orderId=N&limit=1000` |
//! | deposits, withdrawals | plugin-api's window cursor, `{"phase":"back"\|"forward","from":T,"to":T?,"page":"K"?,"head":T?,"open":T?}` | `startTime=from&endTime=to-1&offset=K&limit=1000` |
//! | candles | `{"start":T}` | `klines?symbol=S&interval=I&startTime=T&limit=1000` |
//!
//! Every cursor names the next request completely, so a crash between two pages repeats at
//! most the page in flight: the store upserts by id, re-fetched records cost nothing.

use std::collections::BTreeSet;

use exsync_plugin_api::window::{decode_cursor, encode_cursor, Walker, WindowRequest, WindowRule};
use exsync_plugin_api::{Page, PluginError, Record, TimeRange, TransferStatus};
use serde::{Deserialize, Serialize};

use crate::config::split_unified;
use crate::endpoints::{
    ALL_ORDERS_LIMIT, KLINES_LIMIT, MY_TRADES_LIMIT, TRANSFERS_LIMIT, TRANSFER_MAX_WINDOW_MS,
};
use crate::parsing::{Markets, ParsedCandle, RawTrade};

/// Turns cursors into requests and responses into pages, for one integration.

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BinancePager {
    /// The configured history start, UTC ms.
    pub(crate) start_ms: i64,
    /// How far back a caught-up transfer sync re-reads at least.
    pub(crate) transfer_overlap_ms: i64,
    /// Whether an orders walk comes back for the oldest order still open (`poll_open_orders`).
    pub(crate) poll_open_orders: bool,
}

// ---------------------------------------------------------------------------------------
// Trades: walk trade ids upwards.

/// The trades cursor: the next `fromId`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TradesCursor {
    pub(crate) from_id: u64,
}

/// The orders cursor: the next `orderId`, and the oldest open order seen since the walk
/// (re)started, to which the walk returns once caught up.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrdersCursor {
    pub(crate) from_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<u64>,
}

/// The query parameters of a deposit or withdrawal window request: Binance's `endTime` is
/// inclusive (`to - 1`), and the page token is the offset into the window.
pub(crate) fn transfer_params(request: &WindowRequest) -> Vec<(&'static str, String)> {
    vec![
        ("startTime", request.from().to_string()),
        ("endTime", request.last_ms().to_string()),
        ("offset", transfer_offset(request).to_string()),
        ("limit", TRANSFERS_LIMIT.to_string()),
    ]
}

/// The offset into the window a transfer request asks at.
pub(crate) fn transfer_offset(request: &WindowRequest) -> usize {
    request.page().and_then(|p| p.parse().ok()).unwrap_or(0)
}

/// A page's cursor, coverage and whether more follows.
struct Walk {
    next_cursor: Option<String>,
    covered: Option<TimeRange>,
    more: bool,
}

/// [`Page`]'s JSON form with records of any `raw`: field for field what encoding a `Page`
/// writes.
#[derive(Serialize)]
struct PageJson<R> {
    records: Vec<Record<R>>,
    next_cursor: Option<String>,
    covered: Option<TimeRange>,
    unavailable: Option<TimeRange>,
    more: bool,
}

/// The candles cursor: the open time to ask from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CandlesCursor {
    pub(crate) start: i64,
}

impl BinancePager {
    /// The `fromId` to ask for: the cursor's, or 0 (Binance then answers from the oldest).
    pub(crate) fn trades_request(&self, cursor: Option<&str>) -> Result<TradesCursor, PluginError> {
        Ok(decode_cursor(cursor, "trades")?.unwrap_or(TradesCursor { from_id: 0 }))
    }

    pub(crate) fn trades_params(
        symbol: &str,
        request: &TradesCursor,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("symbol", symbol.to_owned()),
            ("fromId", request.from_id.to_string()),
            ("limit", MY_TRADES_LIMIT.to_string()),
        ]
    }

    /// The page after `myTrades` from `request.from_id` returned `records` (ascending ids).
    ///
    /// A full page means more may follow; then only `[start, last trade time)` is proven
    /// (a later trade can share the last one's millisecond). A short page means caught up:
    /// `[start, now)`. Trades before the configured start are dropped.
    pub(crate) fn trades_page(
        &self,
        request: &TradesCursor,
        records: Vec<Record>,
        now: i64,
    ) -> Page {
        let last_id = records.iter().filter_map(|r| raw_u64(r, "id")).max();
        let last_time = records.iter().map(Record::timestamp).max();
        let walk = self.trades_walk(request, records.len(), last_id, last_time, now);
        Page {
            records: self.since_start(records),
            next_cursor: walk.next_cursor,
            covered: walk.covered,
            unavailable: None,
            more: walk.more,
        }
    }

    /// [`Self::trades_page`] written as the JSON page `fetch` would return, each `raw` as
    /// Binance sent it.
    pub(crate) fn trades_page_json(
        &self,
        request: &TradesCursor,
        trades: Vec<RawTrade<'_>>,
        now: i64,
    ) -> Result<String, PluginError> {
        let last_id = trades.iter().map(|t| t.trade_id).max();
        let last_time = trades.iter().map(|t| t.record.timestamp()).max();
        let walk = self.trades_walk(request, trades.len(), last_id, last_time, now);
        let page = PageJson {
            records: trades
                .into_iter()
                .map(|t| t.record)
                .filter(|r| r.timestamp() >= self.start_ms)
                .collect(),
            next_cursor: walk.next_cursor,
            covered: walk.covered,
            unavailable: None,
            more: walk.more,
        };
        serde_json::to_string(&page)
            .map_err(|e| PluginError::plugin(format!("while encoding a trades page: {e}")))
    }

    /// Where a trade walk goes after a page of `count` trades ending at `last_id`.
    fn trades_walk(
        &self,
        request: &TradesCursor,
        count: usize,
        last_id: Option<u64>,
        last_time: Option<i64>,
        now: i64,
    ) -> Walk {
        let full = count >= MY_TRADES_LIMIT;
        let next = TradesCursor {
            from_id: last_id.map_or(request.from_id, |id| id + 1),
        };
        let covered = match (full, last_time) {
            (true, Some(t)) => TimeRange::new(self.start_ms, t),
            _ => TimeRange::new(self.start_ms, now),
        };
        Walk {
            next_cursor: Some(encode_cursor(&next)),
            covered: Some(covered).filter(|c| !c.is_empty()),
            more: full,
        }
    }

    // -----------------------------------------------------------------------------------
    // Orders: walk order ids upwards, and come back for orders still open.

    pub(crate) fn orders_request(&self, cursor: Option<&str>) -> Result<OrdersCursor, PluginError> {
        Ok(decode_cursor(cursor, "orders")?.unwrap_or(OrdersCursor {
            from_id: 0,
            open: None,
        }))
    }

    pub(crate) fn orders_params(
        symbol: &str,
        request: &OrdersCursor,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("symbol", symbol.to_owned()),
            ("orderId", request.from_id.to_string()),
            ("limit", ALL_ORDERS_LIMIT.to_string()),
        ]
    }

    /// The page after `allOrders` from `request.from_id` returned `records` (ascending ids).
    ///
    /// While pages are full the walk goes on from the last id + 1, remembering the oldest
    /// order still open. Once caught up, the next sync starts again at that open order (it
    /// will change state), or after the last order when none is open.
    pub(crate) fn orders_page(
        &self,
        request: &OrdersCursor,
        records: Vec<Record>,
        now: i64,
    ) -> Page {
        let full = records.len() >= ALL_ORDERS_LIMIT;
        let last_id = records.iter().filter_map(|r| raw_u64(r, "orderId")).max();
        let last_time = records.iter().map(Record::timestamp).max();
        let open_here = records
            .iter()
            .filter(|r| matches!(r, Record::Order(o) if o.status == exsync_plugin_api::OrderStatus::Open))
            .filter_map(|r| raw_u64(r, "orderId"))
            .min();
        // Without polling open orders, the walk never comes back for them.
        let open = min_opt(request.open, open_here).filter(|_| self.poll_open_orders);
        let after_last = last_id.map_or(request.from_id, |id| id + 1);
        let (next, covered) = match (full, last_time) {
            (true, Some(t)) => (
                OrdersCursor {
                    from_id: after_last,
                    open,
                },
                TimeRange::new(self.start_ms, t),
            ),
            _ => (
                OrdersCursor {
                    from_id: open.unwrap_or(after_last),
                    open: None,
                },
                TimeRange::new(self.start_ms, now),
            ),
        };
        Page {
            records: self.since_start(records),
            next_cursor: Some(encode_cursor(&next)),
            covered: Some(covered).filter(|c| !c.is_empty()),
            unavailable: None,
            more: full,
        }
    }

    // -----------------------------------------------------------------------------------
    // Deposits and withdrawals: 90-day windows, back to the start, then forward.

    /// The walk of deposits and withdrawals: from the configured start, as far back as that.
    fn transfer_walker(&self) -> Walker {
        Walker {
            start_ms: Some(self.start_ms),
            reach_ms: None,
            margin_ms: 0,
            origin_ms: self.start_ms,
        }
    }

    /// 90-day windows; the configured overlap re-read once caught up.
    fn transfer_rule(&self) -> WindowRule {
        WindowRule {
            window_ms: TRANSFER_MAX_WINDOW_MS,
            overlap_ms: self.transfer_overlap_ms,
        }
    }

    /// The request a transfer cursor stands for at `now`. No cursor: the newest window of
    /// the backfill, `[max(start, now - 90 d), now)`.
    pub(crate) fn transfer_request(
        &self,
        cursor: Option<&str>,
        stream: &str,
        now: i64,
    ) -> Result<WindowRequest, PluginError> {
        self.transfer_walker()
            .request(self.transfer_rule(), cursor, stream, now)
    }

    /// The page after a transfer window request returned `records` (Binance: newest first,
    /// a full page when the window may hold more). The next walk starts at the oldest
    /// pending transfer seen, or the overlap before where this one stopped, but no more than
    /// 89 days back (a window less a day): a sync within a day of this one makes one request per
    /// stream, however old a transfer stuck in "pending" is.
    pub(crate) fn transfer_page(
        &self,
        request: &WindowRequest,
        records: Vec<Record>,
        now: i64,
    ) -> Page {
        let pending_here = records
            .iter()
            .filter(|r| matches!(r, Record::Deposit(t) | Record::Withdrawal(t) if t.status == TransferStatus::Pending))
            .map(Record::timestamp)
            .min();
        let next_page = (records.len() >= TRANSFERS_LIMIT)
            .then(|| (transfer_offset(request) + records.len()).to_string());
        self.transfer_walker().page(
            self.transfer_rule(),
            request,
            records,
            next_page,
            pending_here,
            now,
        )
    }

    // -----------------------------------------------------------------------------------
    // Candles: open times upwards; the unfinished candle is fetched again.

    pub(crate) fn candles_request(
        &self,
        cursor: Option<&str>,
    ) -> Result<CandlesCursor, PluginError> {
        Ok(decode_cursor(cursor, "candles")?.unwrap_or(CandlesCursor {
            start: self.start_ms,
        }))
    }

    pub(crate) fn candles_params(
        symbol: &str,
        timeframe: &str,
        request: &CandlesCursor,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("symbol", symbol.to_owned()),
            ("interval", timeframe.to_owned()),
            ("startTime", request.start.to_string()),
            ("limit", KLINES_LIMIT.to_string()),
        ]
    }

    /// The page after `klines` from `request.start` returned `candles` (ascending).
    ///
    /// The next request starts at the first unfinished candle (it is fetched again and
    /// replaced), or after the last one when all are final. More follows while pages are
    /// full of final candles.
    pub(crate) fn candles_page(&self, request: &CandlesCursor, candles: Vec<ParsedCandle>) -> Page {
        let full = candles.len() >= KLINES_LIMIT;
        let first_open = candles
            .iter()
            .find(|c| !c.candle.is_final)
            .map(|c| c.candle.open_time);
        let after_last = candles.iter().map(|c| c.close_time + 1).max();
        let next = first_open
            .or(after_last)
            .unwrap_or(request.start)
            .max(request.start);
        Page {
            records: candles
                .into_iter()
                .map(|c| Record::Candle(c.candle))
                .collect(),
            next_cursor: Some(encode_cursor(&CandlesCursor { start: next })),
            covered: Some(TimeRange::new(request.start, next)).filter(|r| !r.is_empty()),
            unavailable: None,
            more: full && first_open.is_none(),
        }
    }

    fn since_start(&self, records: Vec<Record>) -> Vec<Record> {
        records
            .into_iter()
            .filter(|r| r.timestamp() >= self.start_ms)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Symbol loops.

/// The symbols whose trades and orders are synced: every market whose base or quote asset
/// the account is known to hold or have touched, plus the partitions that already have a
/// cursor (kept even once delisted). Sorted, without duplicates. Never every market blindly.
pub(crate) fn trade_partitions(
    markets: &Markets,
    assets: &BTreeSet<String>,
    known: &[String],
) -> Vec<String> {
    let mut symbols: BTreeSet<String> = markets
        .iter()
        .filter(|m| assets.contains(&m.base) || assets.contains(&m.quote))
        .map(|m| m.symbol.clone())
        .collect();
    symbols.extend(known.iter().filter(|k| !k.is_empty()).cloned());
    symbols.into_iter().collect()
}

/// The candle partitions, `"{NATIVE}:{timeframe}"`, of `(unified symbol, timeframe)` pairs;
/// a symbol Binance does not list is a `config` error naming it.
pub(crate) fn candle_partitions(
    markets: &Markets,
    candles: &[(String, String)],
) -> Result<Vec<String>, PluginError> {
    let mut partitions = Vec::with_capacity(candles.len());
    for (unified, timeframe) in candles {
        let market = split_unified(unified)
            .and_then(|(base, quote)| markets.find(base, quote))
            .ok_or_else(|| {
                PluginError::config(format!(
                    "candles symbol {unified:?} is not a Binance spot market (exchangeInfo \
                     lists {} symbols)",
                    markets.len()
                ))
            })?;
        partitions.push(format!("{}:{timeframe}", market.symbol));
    }
    Ok(partitions)
}

/// `"BTCUSDT:1h"` → `("BTCUSDT", "1h")`.
pub(crate) fn split_candle_partition(partition: &str) -> Option<(&str, &str)> {
    let (symbol, timeframe) = partition.rsplit_once(':')?;
    (!symbol.is_empty() && !timeframe.is_empty()).then_some((symbol, timeframe))
}

fn min_opt<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A numeric field of a record's raw object (`id`, `orderId`).
fn raw_u64(record: &Record, field: &str) -> Option<u64> {
    let raw = match record {
        Record::Trade(t) => &t.raw,
        Record::Order(o) => &o.raw,
        _ => return None,
    };
    raw.get(field).and_then(serde_json::Value::as_u64)
}
