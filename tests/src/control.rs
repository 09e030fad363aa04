//! A control-protocol client of its own, for timing the daemon's answers: `exsyncctl`'s wall
//! time is mostly its own start, so load tests time the socket round trip instead.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One connection to `exsyncd`'s control socket, past the version handshake.
pub struct ControlClient {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
}

impl ControlClient {
    /// Connects and says hello (this build's protocol version).
    pub fn connect(socket: &Path) -> ControlClient {
        let writer = UnixStream::connect(socket)
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", socket.display()));
        let reader = BufReader::new(writer.try_clone().expect("cloning the control socket"));
        let mut client = ControlClient { writer, reader };
        let hello = client.round_trip(&format!(
            r#"{{"protocol":{},"agent":"exsync-e2e"}}"#,
            exsync_protocol::PROTOCOL_VERSION
        ));
        assert_eq!(hello["type"], "hello", "{hello}");
        client
    }

    /// Sends one request line and reads the answer line.
    pub fn round_trip(&mut self, request: &str) -> Value {
        self.writer
            .write_all(format!("{request}\n").as_bytes())
            .expect("writing a control request");
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("reading a control answer");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("control answer ({e}): {line}"))
    }

    /// `status`, and how long the daemon took to answer it (request written to the last byte
    /// of the answer read; parsing not counted).
    pub fn timed_status(&mut self) -> (Value, Duration) {
        let started = Instant::now();
        self.writer
            .write_all(b"{\"command\":\"status\"}\n")
            .expect("writing a status request");
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("reading the status answer");
        let took = started.elapsed();
        let status =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("status answer ({e}): {line}"));
        (status, took)
    }
}

/// The `p`th percentile (0 to 100) of `samples` (nearest rank).
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
