//! A simulator skeleton for the `template` exchange: real HTTP on loopback, signatures
//! checked as the exchange checks them, a deterministic account.
//!
//! Run `exsync-sim-template --listen 127.0.0.1:0 --api-key K --api-secret S`; it prints
//! `listening on http://ADDR` first, then serves until killed. Point
//! `exsync-plugin-check --sim-url` at it. It shares no code with the connector: a simulator
//! that reused the connector's signing would check nothing. Grow it with the exchange's
//! real answers (captured, with secrets removed) and its faults.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

struct Account {
    api_key: String,
    api_secret: String,
    /// Ledger entries `L000001`..: this many.
    entries: u64,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let listen = arg(&args, "--listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let account = Arc::new(Account {
        api_key: arg(&args, "--api-key").expect("--api-key is required"),
        api_secret: arg(&args, "--api-secret").expect("--api-secret is required"),
        entries: arg(&args, "--entries")
            .map(|n| n.parse().expect("--entries is a number"))
            .unwrap_or(250),
    });
    let listener = TcpListener::bind(&listen).expect("binding the listen address");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("the bound address")
    );
    for conn in listener.incoming().flatten() {
        let account = account.clone();
        std::thread::spawn(move || {
            let _ = serve(conn, &account);
        });
    }
}

/// Header names (lower case) and values.
type Headers = Vec<(String, String)>;

/// One request: `(method, path_and_query, headers)`.
fn read_request(conn: &TcpStream) -> std::io::Result<(String, String, Headers)> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            let (n, v) = (n.trim().to_ascii_lowercase(), v.trim().to_owned());
            if n == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((n, v));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((method, target, headers))
}

fn serve(mut conn: TcpStream, account: &Account) -> std::io::Result<()> {
    let (method, target, headers) = read_request(&conn)?;
    let (status, body) = answer(account, &method, &target, &headers);
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Checks the signature as the exchange does: hex HMAC-SHA256 of `ts + method + target`.
fn signed(account: &Account, method: &str, target: &str, headers: &[(String, String)]) -> bool {
    if header(headers, "x-template-key") != account.api_key {
        return false;
    }
    let payload = format!("{}{method}{target}", header(headers, "x-template-ts"));
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(account.api_secret.as_bytes()) else {
        return false;
    };
    mac.update(payload.as_bytes());
    let Ok(given) = hex::decode(header(headers, "x-template-sign")) else {
        return false;
    };
    mac.verify_slice(&given).is_ok()
}

fn query<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    target
        .split_once('?')?
        .1
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn answer(
    account: &Account,
    method: &str,
    target: &str,
    headers: &[(String, String)],
) -> (u16, String) {
    if !signed(account, method, target, headers) {
        return (401, r#"{"error":"invalid key or signature"}"#.into());
    }
    let path = target.split('?').next().unwrap_or(target);
    match (method, path) {
        ("GET", "/v1/account") => (200, r#"{"account":"template-sim"}"#.into()),
        ("GET", "/v1/balances") => (
            200,
            r#"[{"asset":"BTC","free":"1.5","locked":"0.25","total":"1.75"},{"asset":"USDT","free":"1000","locked":"0","total":"1000"}]"#.into(),
        ),
        ("GET", "/v1/ledger") => {
            let after: u64 = query(target, "after")
                .and_then(|a| a.trim_start_matches('L').parse().ok())
                .unwrap_or(0);
            let limit: u64 = query(target, "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(100)
                .clamp(1, 100);
            let last = (after + limit).min(account.entries);
            let entries: Vec<String> = (after + 1..=last)
                .map(|n| {
                    let sign = if n % 3 == 0 { "-" } else { "" };
                    format!(
                        r#"{{"id":"L{n:06}","time":{},"asset":"BTC","amount":"{sign}0.{n:08}","type":"{}"}}"#,
                        1_700_000_000_000 + n as i64 * 60_000,
                        if sign.is_empty() { "deposit" } else { "fee" }
                    )
                })
                .collect();
            let more = last < account.entries;
            (
                200,
                format!(r#"{{"entries":[{}],"more":{more}}}"#, entries.join(",")),
            )
        }
        _ => (404, r#"{"error":"no such endpoint"}"#.into()),
    }
}
