use serde_json::json;

use super::*;
use crate::{ErrorKind, Side, Trade};

const NOW: i64 = 1_800_000_000_000;
const HOUR_MS: i64 = 3_600_000;
const REACH_MS: i64 = 730 * DAY_MS;
const MARGIN_MS: i64 = HOUR_MS;
const WEEK: WindowRule = WindowRule {
    window_ms: 7 * DAY_MS,
    overlap_ms: 5 * 60_000,
};

fn walker(start_ms: Option<i64>) -> Walker {
    Walker {
        start_ms,
        reach_ms: Some(REACH_MS),
        margin_ms: MARGIN_MS,
        origin_ms: 0,
    }
}

fn trade(time: i64) -> Record {
    Record::Trade(Trade {
        id: time.to_string(),
        order_id: None,
        timestamp: time,
        symbol: "BTCUSDT".into(),
        base: None,
        quote: None,
        side: Side::Buy,
        price: "1".into(),
        amount: "1".into(),
        cost: "1".into(),
        fee_asset: None,
        fee_asset_native: None,
        fee_amount: None,
        liquidity: None,
        raw: json!({}),
    })
}

/// Walks a stream to its end against `history` (record times), answering as an exchange
/// does: `[from, to)` newest first, `limit` per page with an offset token, refusing windows
/// over the maximum and starts beyond the reach. Returns the pages and the number of requests.
fn walk(
    w: &Walker,
    rule: WindowRule,
    cursor: &mut Option<String>,
    history: &[i64],
    limit: usize,
    now: i64,
) -> (Vec<Page>, usize) {
    let mut pages = Vec::new();
    for n in 1..=1000 {
        let req = w.request(rule, cursor.as_deref(), "trades", now).unwrap();
        let (lo, hi) = (req.from(), req.last_ms());
        assert!(hi - lo < rule.window_ms, "window wider than the rule");
        assert!(lo >= now - REACH_MS, "asked beyond the reach");
        let offset: usize = req.page().map_or(0, |c| c.parse().unwrap());
        let mut inside: Vec<i64> = history
            .iter()
            .copied()
            .filter(|t| (lo..=hi).contains(t))
            .collect();
        inside.sort_unstable_by(|a, b| b.cmp(a));
        let page: Vec<Record> = inside
            .iter()
            .skip(offset)
            .take(limit)
            .map(|&t| trade(t))
            .collect();
        let next = (offset + limit < inside.len()).then(|| (offset + limit).to_string());
        let last = w.is_last_page(rule, &req, next.is_some(), now);
        let page = w.page(rule, &req, page, next, None, now);
        assert_eq!(last, !page.more, "is_last_page agrees with the page");
        *cursor = page.next_cursor.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return (pages, n);
        }
    }
    panic!("the walk never ended");
}

fn times(pages: &[Page]) -> Vec<i64> {
    let mut v: Vec<i64> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(Record::timestamp))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn backfill_covers_start_to_now_in_windows_then_one_request_per_sync() {
    let start = NOW - 100 * DAY_MS;
    let w = walker(Some(start));
    let history: Vec<i64> = (0..500).map(|i| start + i * 4 * HOUR_MS + 17).collect();
    let mut cursor = None;
    let (pages, requests) = walk(&w, WEEK, &mut cursor, &history, 20, NOW);
    assert_eq!(times(&pages), history, "every record");
    assert!(
        requests > 15,
        "100 days is 15 windows, some paged: {requests}"
    );
    let mut covered: Vec<TimeRange> = pages.iter().filter_map(|p| p.covered).collect();
    covered.sort();
    assert_eq!(covered.first().unwrap().from_ms, start);
    assert_eq!(covered.last().unwrap().to_ms, NOW);
    for pair in covered.windows(2) {
        assert_eq!(pair[0].to_ms, pair[1].from_ms, "coverage has a gap");
    }
    assert!(pages.iter().all(|p| p.unavailable.is_none()));

    // An hour later, nothing new: one request, re-reading the overlap.
    let (pages, requests) = walk(&w, WEEK, &mut cursor, &history, 20, NOW + HOUR_MS);
    assert_eq!(requests, 1);
    let c = pages[0].covered.unwrap();
    assert!(c.from_ms <= NOW - WEEK.overlap_ms && c.to_ms == NOW + HOUR_MS);
    // New records in the next hour are found by the next sync.
    let mut more = history.clone();
    more.extend([NOW + HOUR_MS + 5, NOW + HOUR_MS + 6]);
    let (pages, requests) = walk(&w, WEEK, &mut cursor, &more, 20, NOW + 2 * HOUR_MS);
    assert_eq!(requests, 1);
    assert!(times(&pages).ends_with(&[NOW + HOUR_MS + 5, NOW + HOUR_MS + 6]));
    // Three weeks later: the forward walk takes as many windows as it needs.
    let (_, requests) = walk(&w, WEEK, &mut cursor, &more, 20, NOW + 21 * DAY_MS);
    assert_eq!(requests, 3);
}

#[test]
fn a_start_beyond_the_reach_is_reported_unavailable() {
    let start = NOW - 1000 * DAY_MS;
    let mut cursor = None;
    let (pages, requests) = walk(&walker(Some(start)), WEEK, &mut cursor, &[], 50, NOW);
    assert_eq!(requests, 105, "730 days in 7-day windows");
    let reach = NOW - REACH_MS + MARGIN_MS;
    let unavailable: Vec<TimeRange> = pages.iter().filter_map(|p| p.unavailable).collect();
    assert_eq!(unavailable, vec![TimeRange::new(start, reach)]);
    // No start configured: as far as the exchange reaches, nothing reported missing.
    let mut cursor = None;
    let (pages, _) = walk(&walker(None), WEEK, &mut cursor, &[], 50, NOW);
    assert!(pages.iter().all(|p| p.unavailable.is_none()));
    let oldest = pages.iter().filter_map(|p| p.covered).map(|c| c.from_ms);
    assert_eq!(oldest.min(), Some(reach));
}

#[test]
fn without_a_reach_the_walk_ends_at_the_origin() {
    let w = Walker {
        start_ms: None,
        reach_ms: None,
        margin_ms: 0,
        origin_ms: NOW - 30 * DAY_MS,
    };
    let mut cursor = None;
    let (pages, requests) = walk(&w, WEEK, &mut cursor, &[NOW - 29 * DAY_MS], 50, NOW);
    assert_eq!(requests, 5, "30 days in 7-day windows");
    assert_eq!(times(&pages), vec![NOW - 29 * DAY_MS]);
}

#[test]
fn records_before_the_start_are_dropped() {
    let start = NOW - 3 * DAY_MS;
    let mut cursor = None;
    let history = [start - 1, start, NOW - 1];
    let (pages, _) = walk(&walker(Some(start)), WEEK, &mut cursor, &history, 50, NOW);
    assert_eq!(times(&pages), vec![start, NOW - 1]);
}

#[test]
fn open_orders_and_pending_transfers_are_read_again() {
    let w = walker(Some(NOW - 10 * DAY_MS));
    let req = WindowRequest {
        cursor: WindowCursor {
            phase: Phase::Forward,
            from: NOW - DAY_MS,
            to: Some(NOW),
            page: None,
            head: None,
            open: None,
        },
    };
    let page = w.page(WEEK, &req, Vec::new(), None, Some(NOW - 3 * HOUR_MS), NOW);
    let next: WindowCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.phase, Phase::Forward);
    assert_eq!(next.from, NOW - 3 * HOUR_MS, "resumes at the open order");
    // An order open for weeks is not read again forever: at most a window less a day back.
    let page = w.page(WEEK, &req, Vec::new(), None, Some(NOW - 9 * DAY_MS), NOW);
    let next: WindowCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.from, NOW - 6 * DAY_MS);
    // A one-day window re-reads at most half a day, so the next sync is still one request.
    let day = WindowRule {
        window_ms: DAY_MS,
        overlap_ms: 5 * 60_000,
    };
    let page = w.page(day, &req, Vec::new(), None, Some(NOW - 9 * DAY_MS), NOW);
    let next: WindowCursor = serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next.from, NOW - DAY_MS / 2);
}

#[test]
fn the_first_request_is_the_newest_window_and_a_page_token_is_kept() {
    let w = walker(Some(NOW - 10 * DAY_MS));
    let first = w.request(WEEK, None, "deposits", NOW).unwrap();
    assert_eq!((first.from(), first.to()), (NOW - 7 * DAY_MS, NOW));
    assert_eq!(first.last_ms(), NOW - 1, "inclusive end");
    assert_eq!(first.page(), None);
    let page = w.page(
        WEEK,
        &first,
        vec![trade(NOW - 5)],
        Some("abc".into()),
        None,
        NOW,
    );
    assert!(
        page.more && page.covered.is_none(),
        "a window is covered on its last page"
    );
    let second = w
        .request(WEEK, page.next_cursor.as_deref(), "deposits", NOW + 10)
        .unwrap();
    assert_eq!((second.from(), second.to()), (first.from(), first.to()));
    assert_eq!(second.page(), Some("abc"));
}

#[test]
fn unreadable_cursor_is_a_plugin_error_naming_the_stream() {
    let err = walker(None)
        .request(WEEK, Some("{nope"), "ledger", NOW)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PLUGIN);
    assert!(err.message.contains("ledger"), "{}", err.message);
}

fn candle(open: i64, is_final: bool) -> Candle {
    Candle {
        symbol: "BTCUSDT".into(),
        base: None,
        quote: None,
        timeframe: "1h".into(),
        open_time: open,
        open: "1".into(),
        high: "1".into(),
        low: "1".into(),
        close: "1".into(),
        volume: "1".into(),
        is_final,
        raw: json!({}),
    }
}

#[test]
fn candles_walk_forward_and_refetch_the_unfinished_candle() {
    let step = |open: i64| open + HOUR_MS;
    let start = CandleCursor::read(None, NOW - 10 * HOUR_MS).unwrap();
    // A full range in the past, newest first: next starts after the last candle.
    let candles = (0..5)
        .rev()
        .map(|i| candle(start.start + i * HOUR_MS, true));
    let end = start.start + 5 * HOUR_MS - 1;
    let page = candle_page(start, end, candles.collect(), step, NOW);
    assert!(page.more);
    let next = CandleCursor::read(page.next_cursor.as_deref(), 0).unwrap();
    assert_eq!(next.start, start.start + 5 * HOUR_MS);
    assert_eq!(page.covered, Some(TimeRange::new(start.start, next.start)));
    // Up to now, the last candle still open: the next sync starts at it.
    let candles = (0..5).map(|i| candle(next.start + i * HOUR_MS, i < 4));
    let page = candle_page(next, NOW, candles.collect(), step, NOW);
    assert!(!page.more);
    let after = CandleCursor::read(page.next_cursor.as_deref(), 0).unwrap();
    assert_eq!(after.start, next.start + 4 * HOUR_MS);
    // An empty range in the past (before the market opened) is stepped over.
    let old = CandleCursor { start: 1000 };
    let page = candle_page(old, 1000 + HOUR_MS - 1, Vec::new(), step, NOW);
    assert!(page.more);
    let next = CandleCursor::read(page.next_cursor.as_deref(), 0).unwrap();
    assert_eq!(next.start, 1000 + HOUR_MS);
}

#[test]
fn timeframes_have_their_lengths() {
    assert_eq!(timeframe_ms("1m"), Some(60_000));
    assert_eq!(timeframe_ms("4h"), Some(4 * HOUR_MS));
    assert_eq!(timeframe_ms("1d"), Some(DAY_MS));
    assert_eq!(timeframe_ms("1w"), Some(7 * DAY_MS));
    for bad in ["", "m", "0m", "1M", "1y", "h1", "-1h"] {
        assert_eq!(timeframe_ms(bad), None, "{bad}");
    }
}

#[test]
fn candle_windows_of_one_answer_skip_the_buckets_left_out() {
    let step = |t: i64| t + HOUR_MS;
    let start = CandleCursor { start: 0 };
    let end = 100 * HOUR_MS;
    // A past window whose last buckets had no trades: on to its end.
    let page = candle_window_page(
        start,
        end,
        vec![candle(HOUR_MS, true), candle(0, true)],
        step,
        NOW,
    );
    assert!(page.more);
    assert_eq!(
        page.next_cursor.as_deref(),
        Some(format!("{{\"start\":{end}}}").as_str())
    );
    assert_eq!(page.records.len(), 2);
    // An empty past window (before the listing): skipped.
    assert!(candle_window_page(start, end, Vec::new(), step, NOW).more);
    // The window holding now: stop at the unfinished candle and fetch it again next time.
    let now = HOUR_MS + 5;
    let page = candle_window_page(
        start,
        end,
        vec![candle(HOUR_MS, false), candle(0, true)],
        step,
        now,
    );
    assert!(!page.more);
    assert_eq!(page.covered, Some(TimeRange::new(0, HOUR_MS)));
    // Caught up with every candle final: after the last one.
    let page = candle_window_page(start, end, vec![candle(0, true)], step, now);
    assert_eq!(
        (page.more, page.covered),
        (false, Some(TimeRange::new(0, HOUR_MS)))
    );
}
