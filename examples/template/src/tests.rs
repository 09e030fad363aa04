//! Unit tests for the `template` connector.

use crate::{pagination, parsing, signing};

/// The exchange's published signature example. Replace it with the exchange's own: a signer
/// that passes its own vector proves nothing.
#[test]
fn signing_matches_the_published_vector() {
    let headers = signing::headers(
        "vector-key",
        "vector-secret",
        1_700_000_000_000,
        "GET",
        "/v1/ledger?after=L5&limit=100",
    );
    let sign = headers
        .iter()
        .find(|(n, _)| n == "x-template-sign")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        sign,
        Some("dbe04c64e5a23110e7231845b300ff31f5dfee764fd0f5ec0502ac9065cccfc3")
    );
}

#[test]
fn the_ledger_cursor_is_the_last_id_stored() {
    assert_eq!(pagination::ledger_request(None), "/v1/ledger?limit=100");
    assert_eq!(
        pagination::ledger_request(Some("L5")),
        "/v1/ledger?after=L5&limit=100"
    );
    assert_eq!(
        pagination::next_cursor(None, Some("L5")).as_deref(),
        Some("L5")
    );
}

#[test]
fn ledger_amounts_stay_the_exchange_s_strings() {
    let body = br#"{"entries":[{"id":"L6","time":1700000000000,"asset":"BTC","amount":"-0.00000001","type":"fee"}],"more":false}"#;
    let (records, more) = parsing::ledger(body).unwrap();
    assert!(!more);
    assert_eq!(records[0].amounts(), vec![("amount", "-0.00000001")]);
    assert!(parsing::ledger(b"<html>").is_err());
}
