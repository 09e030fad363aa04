//! Readiness, clean stop, and what ctl says when nobody listens.

use exsync_e2e::daemon::{ctl, Daemon, Setup};

#[test]
fn ready_then_sigterm_stops_cleanly_and_ctl_says_unreachable() {
    let setup = Setup::new();
    let mut daemon = Daemon::start(&setup);
    let status = daemon.status();
    assert_eq!(status["daemon"]["pid"], daemon.pid());
    let socket = daemon.socket.clone();
    let mode = std::fs::metadata(&socket)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .unwrap();
    assert_eq!(mode, 0o660);

    let exit = daemon.terminate();
    assert!(exit.success(), "exsyncd exited with {exit}");
    assert!(!socket.exists(), "the socket is removed on stop");
    let log = daemon.log();
    assert!(log.contains("exsyncd stopped."), "{log}");

    let out = ctl(&socket, &["status"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot reach exsyncd"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_malformed_control_line_gets_a_protocol_error_and_the_connection_survives() {
    use std::io::{BufRead, BufReader, Write};
    let setup = Setup::new();
    let daemon = Daemon::start(&setup);
    let stream = std::os::unix::net::UnixStream::connect(&daemon.socket).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    let hello = format!(
        "{{\"protocol\":{},\"agent\":\"e2e\"}}\n",
        exsync_protocol::PROTOCOL_VERSION
    );
    writer.write_all(hello.as_bytes()).unwrap();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("\"hello\""), "{line}");
    for bad in ["not json\n", "{\"command\":\"explode\"}\n"] {
        writer.write_all(bad.as_bytes()).unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains("\"protocol\""), "{line}");
    }
    writer.write_all(b"{\"command\":\"plugins\"}\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("\"binance\""), "{line}");

    // A client of another protocol version is refused at the handshake.
    let stream = std::os::unix::net::UnixStream::connect(&daemon.socket).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    writer
        .write_all(b"{\"protocol\":99,\"agent\":\"future\"}\n")
        .unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains("protocol 99"), "{line}");
}
