//! The control protocol between `exsyncd` and `exsyncctl`.
//!
//! # Protocol
//!
//! Newline-delimited JSON over a Unix socket (default `/run/exsync/exsyncd.sock`):
//!
//! 1. Connect to the socket.
//! 2. Send a [`Hello`] line with [`PROTOCOL_VERSION`].
//! 3. Receive the daemon's [`Hello`], or a [`Response::Error`] of kind `protocol` when the
//!    versions do not match (the daemon then closes the connection).
//! 4. Send one [`Request`] per line.
//! 5. Receive zero or more non-final responses ([`Response::Progress`],
//!    [`Response::RecordBatch`]), then exactly one final response
//!    ([`Response::is_final`]). Go to 4, or close.
//!
//! A line longer than [`MAX_LINE_BYTES`] or one that is not a valid message gets a
//! [`Response::Error`] of kind `protocol`; the connection stays usable.
//!
//! Every verb has one name end to end: `Request::Sync(SyncRequest)` is handled by the daemon's
//! `control/sync.rs`, sent by ctl's `commands/sync.rs` and tested in `tests/.../sync.rs`.

mod client;
mod message;

pub use client::{Client, ClientError};
pub use message::*;

/// Bumped on any incompatible change to the messages.
/// 2: [`CandleRow`] amounts are integers with per-batch scales, no longer decimal strings.
pub const PROTOCOL_VERSION: u32 = 2;

/// The longest line either side accepts.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Encodes one message as a line (with its trailing newline).
pub fn encode<T: serde::Serialize>(message: &T) -> String {
    let mut line = serde_json::to_string(message).expect("protocol messages always serialize");
    line.push('\n');
    line
}

/// Decodes one line (with or without its newline).
pub fn decode<T: serde::de::DeserializeOwned>(line: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(line.trim_end_matches(['\n', '\r']))
}

/// Decodes one response line. A [`CandleBatch`], the one bulky response, is read straight
/// into its struct: the tagged-enum route first buffers the whole line as untyped content,
/// which costs time and cannot hold the batch's 128-bit amounts.
pub fn decode_response(line: &str) -> Result<Response, serde_json::Error> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.starts_with(r#"{"type":"candle_batch","#) {
        return serde_json::from_str(line).map(Response::CandleBatch);
    }
    serde_json::from_str(line)
}

/// Masks a credential for display: `abcd****mnop`; short values show no character at all.
pub fn mask_secret(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 12 {
        return "****".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_shows_four_and_four_of_long_values_only() {
        assert_eq!(mask_secret("abcdefghijklmnop"), "abcd****mnop");
        assert_eq!(mask_secret("short"), "****");
        assert_eq!(mask_secret(""), "****");
    }

    #[test]
    fn request_lines_round_trip() {
        let req = Request::Sync(SyncRequest {
            integration: "binance-main".into(),
            stream: Some("trades".into()),
            wait: true,
            force: false,
        });
        let line = encode(&req);
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        let back: Request = decode(&line).unwrap();
        assert_eq!(back, req);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["command"], "sync");
    }

    #[test]
    fn secrets_travel_plain_but_never_debug_print() {
        let req = Request::CredentialsSet(CredentialsRequest {
            integration: "binance-main".into(),
            fields: vec![CredentialField {
                name: "api_secret".into(),
                value: Secret::new("s3cr3t-value".into()),
            }],
        });
        assert!(!format!("{req:?}").contains("s3cr3t-value"));
        let back: Request = decode(&encode(&req)).unwrap();
        assert_eq!(back, req);
        assert!(req.is_change() && req.touches_credentials());
        assert!(!Request::Status.touches_credentials());
        let backup = Request::Backup(BackupRequest { file: "/b".into() });
        assert!(backup.is_change() && backup.touches_credentials());
    }

    #[test]
    fn changes_need_the_change_right_and_are_audited_reads_need_read() {
        let sync = Request::Sync(SyncRequest {
            integration: "binance-main".into(),
            stream: Some("trades".into()),
            wait: false,
            force: false,
        });
        assert_eq!(sync.needs(), Right::Change);
        assert!(sync.is_audited());
        assert_eq!(sync.target().as_deref(), Some("binance-main/trades"));
        let reload = Request::Reload(ReloadRequest::default());
        assert_eq!((reload.needs(), reload.is_audited()), (Right::Change, true));
        for read in [
            Request::Status,
            Request::Plugins,
            Request::Integrations,
            Request::Audit(AuditRequest::default()),
            Request::Coverage(CoverageRequest {
                integration: "x".into(),
            }),
        ] {
            assert_eq!(read.needs(), Right::Read, "{read:?}");
            assert!(!read.is_audited(), "{read:?}");
            assert!(!read.touches_credentials(), "{read:?}");
        }
        let test = Request::Test(TestRequest {
            integration: "x".into(),
        });
        assert_eq!((test.needs(), test.is_audited()), (Right::Change, true));
        assert!(Right::None < Right::Read && Right::Read < Right::Change);
        let line = encode(&Request::Audit(AuditRequest { since_ms: Some(5) }));
        assert_eq!(line, "{\"command\":\"audit\",\"since_ms\":5}\n");
    }

    #[test]
    fn final_and_non_final_responses() {
        assert!(!Response::Progress(SyncProgress::default()).is_final());
        assert!(!Response::RecordBatch(RecordBatch { records: vec![] }).is_final());
        assert!(!Response::CandleBatch(CandleBatch::default()).is_final());
        assert!(Response::DataExport(DataExportReport::default()).is_final());
        assert!(Request::DataGenerateSample(DataGenerateSampleRequest::default()).is_change());
        assert!(!Request::DataExport(DataExportRequest::default()).is_change());
        assert!(Response::Error(ErrorResponse::new("usage", "bad")).is_final());
    }

    #[test]
    fn debug_record_is_an_audited_change_whose_pairs_are_not_final() {
        let req = Request::DebugRecord(DebugRecordRequest {
            integration: "binance-main".into(),
            stream: Some("trades".into()),
        });
        assert_eq!((req.needs(), req.is_audited()), (Right::Change, true));
        assert_eq!(req.verb(), "debug record");
        assert_eq!(req.target().as_deref(), Some("binance-main/trades"));
        assert_eq!(decode::<Request>(&encode(&req)).unwrap(), req);
        assert!(!Response::DebugRecordPair(RecordedPair::default()).is_final());
        assert!(Response::DebugRecord(DebugRecordReport::default()).is_final());
        // A pair reads as the replay format: request {method, path}, response {status,
        // headers, body}; the body a string, empty request parts left out.
        let pair = RecordedPair {
            request: RecordedRequest {
                method: "GET".into(),
                path: "/api/v3/account?timestamp=REDACTED".into(),
                ..RecordedRequest::default()
            },
            response: RecordedResponse {
                status: 200,
                headers: Default::default(),
                body: "{\"a\":1.10}".into(),
            },
        };
        assert_eq!(
            serde_json::to_string(&pair).unwrap(),
            r#"{"request":{"method":"GET","path":"/api/v3/account?timestamp=REDACTED"},"response":{"status":200,"headers":{},"body":"{\"a\":1.10}"}}"#
        );
    }

    #[test]
    fn candle_rows_carry_38_digit_amounts_exactly() {
        let max = 10i128.pow(38) - 1;
        let batch = Response::CandleBatch(CandleBatch {
            exchange: "binance".into(),
            scales: [2, 2, 2, 2, 18],
            rows: vec![
                CandleRow(1_700_000_000_000, 4_200_050, 0, -1, max, -max, true),
                CandleRow(-1, 1, 2, 3, 4, 5, false),
            ],
            ..Default::default()
        });
        let line = encode(&batch);
        assert!(line.contains("[1700000000000,4200050,0,-1,"), "{line}");
        let back = decode_response(&line).unwrap();
        assert_eq!(back, batch);
    }
}
