//! Bad input (issue 9): size limits on what reaches the daemon, and the fuzzers' regressions.
//!
//! Failure story: the control server read a line of any length it was sent within a 1 MiB
//! limit, but after refusing an oversized line its reader ended the connection (the line
//! codec stops after an error), and an oversized hello line closed the connection without a
//! word; the HTTP host read every exchange response whole, so one huge body could exhaust the
//! daemon's memory. Now both are refused with a clear error, and nothing stored is lost.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use exsync_e2e::daemon::{binance_integration, Daemon, Setup, ALL_STREAMS};
use exsync_e2e::sim::{Sim, API_KEY, API_SECRET};
use exsync_e2e::truth::assert_stored_exactly;
use exsync_e2e::{assert_all_ok, assert_no_secrets, streams};
use serde_json::Value;

use exsync_protocol::{MAX_LINE_BYTES, PROTOCOL_VERSION};
/// `exsyncd::host::MAX_RESPONSE_BYTES`, the largest response body the host reads.
const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// A raw control connection: lines in, JSON lines out, no exsyncctl in between.
struct RawControl {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
}

impl RawControl {
    fn connect(socket: &Path) -> RawControl {
        let writer = UnixStream::connect(socket).expect("connect to the daemon's socket");
        writer
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let reader = BufReader::new(writer.try_clone().unwrap());
        RawControl { writer, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the socket");
    }

    /// Sends what the daemon may stop reading halfway (it closes after refusing a hello).
    fn send_unread(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
    }

    /// The next answer line, or `None` when the daemon closed the connection.
    fn answer(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self
            .reader
            .read_line(&mut line)
            .expect("read from the socket")
        {
            0 => None,
            _ => Some(serde_json::from_str(&line).expect("an answer line is JSON")),
        }
    }
}

/// The hello of this protocol version.
fn hello() -> Vec<u8> {
    format!("{{\"protocol\":{PROTOCOL_VERSION},\"agent\":\"e2e bad_input\"}}\n").into_bytes()
}

fn assert_refused_as_too_long(answer: &Value) {
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(answer["kind"], "protocol", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("longer than") && message.contains(&MAX_LINE_BYTES.to_string()),
        "{answer}"
    );
}

#[test]
fn an_oversized_control_line_is_refused_and_the_connection_stays_usable() {
    let setup = Setup::new();
    let daemon = Daemon::start(&setup);

    let mut control = RawControl::connect(&setup.socket());
    control.send(&hello());
    assert_eq!(control.answer().unwrap()["type"], "hello");

    // A request line twice the limit, then a good request on the same connection.
    let mut long = b"{\"command\":\"status\",\"pad\":\"".to_vec();
    long.resize(2 * MAX_LINE_BYTES, b'x');
    long.extend_from_slice(b"\"}\n");
    control.send(&long);
    control.send(b"{\"command\":\"status\"}\n");
    assert_refused_as_too_long(&control.answer().expect("an answer to the long line"));
    let status = control.answer().expect("the connection still answers");
    assert_eq!(status["type"], "status", "{status}");

    // Bytes that are not UTF-8: refused, and still the next line is read.
    control.send(b"\xff\xfe\n{\"command\":\"status\"}\n");
    let answer = control.answer().unwrap();
    assert_eq!(answer["kind"], "protocol", "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(control.answer().unwrap()["type"], "status");

    // An oversized first line gets the same error instead of a silent close.
    let mut control = RawControl::connect(&setup.socket());
    control.send_unread(&long);
    assert_refused_as_too_long(&control.answer().expect("an answer to the long hello"));
    assert!(control.answer().is_none(), "no handshake, no connection");

    // The daemon is fine: exsyncctl still talks to it.
    daemon.ctl_json(&["status"]);
}

#[test]
fn an_oversized_response_body_is_refused_as_a_bad_response_and_loses_nothing() {
    let sim = Sim::binance(&["--seed", "91", "--trades", "300"]);
    let mut setup = Setup::new();
    setup.env("E2E_BINANCE_KEY", API_KEY);
    setup.env("E2E_BINANCE_SECRET", API_SECRET);
    setup.integration("binance-main", &binance_integration(&sim.url, ALL_STREAMS));
    let daemon = Daemon::start(&setup);
    let report = daemon.sync_wait("binance-main");
    assert_all_ok(&report);
    let truth = sim.truth();
    assert_stored_exactly(&daemon, "binance-main", &truth);

    // Every answer one byte over the cap: every stream fails `bad_response`, naming the
    // path without its query (which carries the signature).
    sim.set_faults(serde_json::json!({"oversized_body_bytes": MAX_RESPONSE_BYTES + 1}));
    let report = daemon.sync_wait("binance-main");
    for s in streams(&report) {
        assert_eq!(s["result"], "failed", "{s}");
        assert_eq!(s["error"]["kind"], "bad_response", "{s}");
        let message = s["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("exceeds the limit of")
                && message.contains(&MAX_RESPONSE_BYTES.to_string()),
            "{s}"
        );
        assert!(
            message.contains("/api/v3/") || message.contains("/sapi/v1/"),
            "{s}"
        );
        assert!(!message.contains("signature"), "{s}");
    }
    assert_no_secrets(&[&daemon.log(), &report.to_string()]);
    assert_stored_exactly(&daemon, "binance-main", &truth);

    // Back to normal answers: the next sync completes.
    sim.set_faults(serde_json::json!({"oversized_body_bytes": 0}));
    assert_all_ok(&daemon.sync_wait("binance-main"));
    assert_stored_exactly(&daemon, "binance-main", &sim.truth());
}
