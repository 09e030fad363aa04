//! Unit tests for the newest-first key walk.

use super::*;
use crate::ErrorKind;

const START: i64 = 1_000_000;
const LIMIT: usize = 3;

/// One list entry: key, id, held.
type Entry = (i64, &'static str, bool);

/// The exchange: `list` newest first, `LIMIT` a page; the token is the position after the
/// page, given only after a full page.
fn serve(list: &[Entry], after: Option<&str>) -> (Vec<WalkItem>, Option<String>) {
    let mut sorted = list.to_vec();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(a.1)));
    let from: usize = after.map_or(0, |a| a.parse().unwrap());
    let page: Vec<WalkItem> = sorted
        .iter()
        .skip(from)
        .take(LIMIT)
        .map(|(k, id, held)| WalkItem::other(*k, *k, *id).held(*held))
        .map(|mut i| {
            i.record = Some(deposit(&i.id, i.time));
            i
        })
        .collect();
    let next = (page.len() == LIMIT).then(|| (from + LIMIT).to_string());
    (page, next)
}

fn deposit(id: &str, time: i64) -> Record {
    Record::Deposit(crate::Transfer {
        id: id.to_owned(),
        timestamp: time,
        asset: "BTC".into(),
        asset_native: "BTC".into(),
        amount: "1".into(),
        fee_asset: None,
        fee_amount: None,
        status: crate::TransferStatus::Ok,
        txid: None,
        address: None,
        tag: None,
        network: None,
        raw: serde_json::json!({}),
    })
}

/// One sync: pages until `more` is false, optionally crashing (dropping the page) once
/// before storing page `crash_at`. Returns (requests, ids stored, last page, cursor).
fn sync(
    walker: &KeyWalker,
    list: &[Entry],
    mut cursor: Option<String>,
    now: i64,
    crash_at: Option<usize>,
) -> (usize, Vec<String>, Page, Option<String>) {
    let mut requests = 0;
    let mut ids = Vec::new();
    loop {
        let request = walker.request(cursor.as_deref(), "deposits", now).unwrap();
        let (items, next) = serve(list, request.after());
        requests += 1;
        let page = walker.page(&request, items, next);
        if crash_at == Some(requests) {
            continue;
        }
        ids.extend(page.records.iter().map(Record::id));
        cursor.clone_from(&page.next_cursor);
        if !page.more {
            return (requests, ids, page, cursor);
        }
        assert!(requests < 100, "the walk does not end");
    }
}

fn cursor_of(page: &Page) -> WalkCursor {
    serde_json::from_str(page.next_cursor.as_deref().unwrap()).unwrap()
}

#[test]
fn a_first_walk_backfills_to_the_start_and_proves_it() {
    let walker = KeyWalker::new(START);
    let list: Vec<Entry> = vec![
        (START + 50, "e", false),
        (START + 40, "d", false),
        (START + 30, "c", false),
        (START + 20, "b", false),
        (START - 10, "a", false),
    ];
    let now = START + 100;
    let request = walker.request(None, "deposits", now).unwrap();
    let (items, next) = serve(&list, request.after());
    let page = walker.page(&request, items, next);
    assert!(page.more);
    assert_eq!(page.covered, Some(TimeRange::new(START + 31, now)));
    let (requests, ids, last, cursor) = sync(&walker, &list, None, now, None);
    assert_eq!(requests, 2);
    assert_eq!(
        ids,
        ["e", "d", "c", "b"],
        "the record before the start is dropped"
    );
    assert_eq!(last.covered, Some(TimeRange::new(START, now)));
    assert_eq!(last.unavailable, None);
    let c: WalkCursor = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        (c.after, c.stop, c.edge),
        (None, Some(START + 50), vec!["e".to_owned()])
    );
}

#[test]
fn an_incremental_walk_stops_at_the_last_newest_and_keeps_its_millisecond() {
    let walker = KeyWalker::new(START);
    let mut list: Vec<Entry> = (0..7)
        .map(|i| {
            (
                START + i * 10,
                ["a", "b", "c", "d", "e", "f", "g"][i as usize],
                false,
            )
        })
        .collect();
    let (_, _, _, cursor) = sync(&walker, &list, None, START + 100, None);
    // Nothing new: one request, nothing stored again.
    let (requests, ids, last, cursor) = sync(&walker, &list, cursor, START + 200, None);
    assert_eq!((requests, ids.len()), (1, 0));
    assert_eq!(last.covered, Some(TimeRange::new(START, START + 200)));
    // Two records sharing the newest millisecond, one newer: those alone are stored.
    list.extend([
        (START + 60, "g2", false),
        (START + 60, "g3", false),
        (START + 70, "h", false),
    ]);
    let (requests, ids, last, _) = sync(&walker, &list, cursor, START + 300, None);
    assert_eq!(
        requests, 2,
        "the first page ends inside the shared millisecond"
    );
    assert_eq!(ids, ["h", "g3", "g2"]);
    assert_eq!(cursor_of(&last).stop, Some(START + 70));
}

#[test]
fn a_held_record_is_read_again_until_it_settles() {
    let walker = KeyWalker::new(START);
    let mut list: Vec<Entry> = vec![
        (START + 30, "c", false),
        (START + 20, "b", true),
        (START + 10, "a", false),
    ];
    let (_, _, last, cursor) = sync(&walker, &list, None, START + 100, None);
    let c = cursor_of(&last);
    assert_eq!((c.stop, c.hold), (Some(START + 30), Some(START + 20)));
    // Settled, with newer records past a full page: read again, and the one after it.
    list[1].2 = false;
    list.extend([
        (START + 40, "d", false),
        (START + 50, "e", false),
        (START + 60, "f", false),
    ]);
    let (requests, ids, last, _) = sync(&walker, &list, cursor, START + 200, None);
    assert_eq!(
        requests, 2,
        "a full page of new records does not end the walk before it"
    );
    assert_eq!(ids, ["f", "e", "d", "c", "b"]);
    let c = cursor_of(&last);
    assert_eq!((c.stop, c.hold), (Some(START + 60), None));
}

#[test]
fn a_crash_between_pages_repeats_at_most_the_page_in_flight() {
    let walker = KeyWalker::new(START);
    let list: Vec<Entry> = (0..8)
        .map(|i| {
            (
                START + i * 10,
                ["a", "b", "c", "d", "e", "f", "g", "h"][i as usize],
                false,
            )
        })
        .collect();
    let (_, clean, _, _) = sync(&walker, &list, None, START + 100, None);
    let (requests, ids, _, _) = sync(&walker, &list, None, START + 100, Some(2));
    assert_eq!(
        ids, clean,
        "the lost page is fetched again from the stored cursor"
    );
    assert_eq!(
        requests, 4,
        "one request more than the three a clean walk takes"
    );
}

#[test]
fn unique_keys_end_the_walk_at_the_last_newest_key() {
    let walker = KeyWalker::new(START).with_unique_keys();
    let list: Vec<Entry> = (1..=6)
        .map(|k| (k, ["a", "b", "c", "d", "e", "f"][k as usize - 1], false))
        .collect();
    // Keys are ids; the records' times are their keys here, all before the start: use 0.
    let walker = KeyWalker {
        start_ms: 0,
        ..walker
    };
    let (_, _, _, cursor) = sync(&walker, &list, None, 100, None);
    let mut list = list;
    list.extend([(7, "g", false), (8, "h", false)]);
    let (requests, ids, _, _) = sync(&walker, &list, cursor, 200, None);
    assert_eq!((requests, ids), (1, vec!["h".to_owned(), "g".to_owned()]));
}

#[test]
fn an_origin_or_a_reach_is_reported_unavailable() {
    let walker = KeyWalker::new(START).with_origin(START + 10);
    let request = walker.request(None, "trades", START + 100).unwrap();
    let page = walker.page(&request, Vec::new(), None);
    assert_eq!(page.covered, Some(TimeRange::new(START + 10, START + 100)));
    assert_eq!(page.unavailable, Some(TimeRange::new(START, START + 10)));
    let walker = KeyWalker::new(START).with_reach(50);
    let request = walker.request(None, "trades", START + 100).unwrap();
    let page = walker.page(&request, Vec::new(), None);
    assert_eq!(page.covered, Some(TimeRange::new(START + 50, START + 100)));
    assert_eq!(page.unavailable, Some(TimeRange::new(START, START + 50)));
}

#[test]
fn cursors_of_older_connectors_are_read() {
    // A walk in progress, OKX's names: a numeric `after`, `started`, `head`, `pending`.
    let c: WalkCursor =
        serde_json::from_str(r#"{"after":42,"stop":7,"head":90,"started":5,"pending":30}"#)
            .unwrap();
    assert_eq!(c.after.as_deref(), Some("42"));
    assert_eq!(
        (c.top, c.stop, c.newest, c.held),
        (Some(5), Some(7), Some(90), Some(30))
    );
    // Coinbase Advanced's `since` and `page`: the `since` time itself is read again.
    let c: WalkCursor = serde_json::from_str(r#"{"since":1000,"page":"p2"}"#).unwrap();
    assert_eq!((c.stop, c.after.as_deref()), (Some(1000), Some("p2")));
    let walker = KeyWalker::new(0);
    let request = walker.resume(
        WalkCursor {
            stop: Some(1000),
            ..WalkCursor::default()
        },
        5000,
    );
    let page = walker.page(&request, vec![WalkItem::other(1000, 1000, "x")], None);
    assert_eq!(page.records.len(), 0, "an entry this stream does not keep");
    assert_eq!(cursor_of(&page).edge, vec!["x".to_owned()]);
}

#[test]
fn an_unreadable_cursor_is_a_plugin_error_naming_the_stream() {
    let e = KeyWalker::new(0)
        .request(Some("{\"after\":"), "ledger", 0)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PLUGIN);
    assert!(e.message.contains("ledger"), "{}", e.message);
}
