//! A minimal blocking HTTP/1.1 client and a one-status server, both plain HTTP on loopback.
//!
//! The checker talks only to a simulated exchange on this machine, so it needs neither TLS nor
//! connection reuse: one connection per request, `Connection: close`, the body read to the
//! end (by `Content-Length`, chunked, or until close). This keeps a second HTTP stack and an
//! async runtime out of a tool meant to run in a plugin author's CI.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long one request may take to answer: generous, for a simulator on a loaded machine.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A response, whatever its status. Header names are lower case.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The `host:port` of an `http://` or `https://` URL, lower case: what the daemon compares
/// with the hosts an integration may call.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    Some(authority.to_ascii_lowercase())
}

/// The path and query of a URL (`/api/v3/account?x=1`).
pub fn url_path(url: &str) -> &str {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => "/",
    }
}

/// Sends one request to an `http://` URL and reads the whole response.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<Response> {
    if !url.starts_with("http://") {
        return Err(io::Error::other(format!(
            "only plain http:// URLs are supported (a simulator on loopback), not {}",
            url.split('?').next().unwrap_or(url)
        )));
    }
    let authority = url_host(url).ok_or_else(|| io::Error::other("URL without a host"))?;
    let mut stream = TcpStream::connect(&authority)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        url_path(url),
        body.len()
    );
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("host")
            || name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("connection")
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> io::Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("the response has no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let bad = || io::Error::other("bad chunked encoding");
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| bad())?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or_else(bad)?);
        data = data.get(size + 2..).ok_or_else(bad)?;
    }
}

/// A loopback server that answers every request with one fixed status and body: how the
/// checker sees what a plugin makes of a 401, a 429 or a 503.
pub struct StatusServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    stop: Arc<AtomicBool>,
}

impl StatusServer {
    pub fn start(status: u16, content_type: &str, body: &str) -> io::Result<StatusServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let stop = Arc::new(AtomicBool::new(false));
        let answer = format!(
            "HTTP/1.1 {status} Checker\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let flag = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = answer_one(conn, answer.as_bytes());
            }
        });
        Ok(StatusServer { url, stop })
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so it sees the flag.
        if let Some(host) = url_host(&self.url) {
            let _ = TcpStream::connect(host);
        }
    }
}

/// Reads one request (head and `Content-Length` body) and writes the fixed answer.
fn answer_one(conn: TcpStream, answer: &[u8]) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut conn = reader.into_inner();
    conn.write_all(answer)?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_server_answers_its_status_to_any_request() {
        let server = StatusServer::start(429, "application/json", "{\"x\":1}").unwrap();
        let r = send(
            "POST",
            &format!("{}/any/path?a=1", server.url),
            &[],
            b"body",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (429, &b"{\"x\":1}"[..]));
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse_response(raw).unwrap();
        assert_eq!(r.body, b"abcde");
    }

    #[test]
    fn hosts_keep_their_port_and_drop_user_info() {
        assert_eq!(
            url_host("http://u@127.0.0.1:8080/x?y").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(url_path("http://h/a/b?c=1"), "/a/b?c=1");
        assert_eq!(url_host("ftp://h"), None);
    }
}
