//! Signature, API-key and timestamp checks of the Gate.io simulator.
//!
//! Gate APIv4 signs `METHOD\n/api/v4/path\nquery\nhex(SHA512(body))\ntimestamp` with
//! HMAC-SHA512 in lower-case hex (`SIGN`), the timestamp in seconds (`Timestamp`), beside the
//! key (`KEY`). The query string is taken exactly as sent: nothing is decoded, re-encoded or
//! re-ordered here, so a client that signs anything other than the bytes it sends fails. A
//! request is on time when its timestamp is within 60 s of the server's clock.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};

/// How far a timestamp may be from the server's clock, in seconds.
pub const MAX_GAP_S: i64 = 60;

/// A rejected request: HTTP status, Gate's `label` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub label: &'static str,
    pub message: String,
}

impl Rejection {
    fn new(status: u16, label: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            label,
            message: message.into(),
        }
    }
}

/// `hex(HMAC_SHA512(secret, METHOD\npath\nquery\nhex(SHA512(body))\ntimestamp))`.
pub fn sign(secret: &str, method: &str, path: &str, query: &str, body: &[u8], ts: &str) -> String {
    let body_hash = hex::encode(Sha512::digest(body));
    let payload = format!("{method}\n{path}\n{query}\n{body_hash}\n{ts}");
    let mut mac =
        Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The authentication headers of one request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthHeaders<'a> {
    pub key: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub sign: Option<&'a str>,
}

/// One request to check.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
}

/// Checks key, timestamp and signature, in Gate's order.
pub fn check(
    h: &AuthHeaders<'_>,
    request: &Signed<'_>,
    api_key: &str,
    secret: &str,
    server_ms: i64,
) -> Result<(), Rejection> {
    let (Some(key), Some(ts_text), Some(sign_sent)) = (h.key, h.timestamp, h.sign) else {
        return Err(Rejection::new(
            401,
            "MISSING_REQUIRED_HEADER",
            "Missing required header: KEY, Timestamp or SIGN",
        ));
    };
    if key != api_key {
        return Err(Rejection::new(401, "INVALID_KEY", "Invalid key provided"));
    }
    // Gate accepts a fractional timestamp too; the signature covers the text as sent.
    let ts = ts_text
        .split('.')
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| Rejection::new(401, "INVALID_SIGNATURE", "Invalid Timestamp header"))?;
    let server_s = server_ms.div_euclid(1000);
    if (ts - server_s).abs() > MAX_GAP_S {
        return Err(Rejection::new(
            401,
            "REQUEST_EXPIRED",
            format!("Request Timestamp {ts} is far from the server time {server_s}"),
        ));
    }
    let expected = sign(
        secret,
        request.method,
        request.path,
        request.query,
        request.body,
        ts_text,
    );
    if !expected.eq_ignore_ascii_case(sign_sent) {
        return Err(Rejection::new(
            401,
            "INVALID_SIGNATURE",
            "Signature mismatch",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_of_the_exchange_notes() {
        // ccxt 4.5.90 signs GET /api/v4/spot/accounts with secret SECRET at 1700000000 s.
        assert_eq!(
            sign(
                "SECRET",
                "GET",
                "/api/v4/spot/accounts",
                "",
                b"",
                "1700000000"
            ),
            "9ca4ecf0a17056c52e5715c76b1511dcc73b845105f8601ba96fec12a7b27a15\
             d5e476aac4ca96658fbbae96b88b05ec46faa484011c487f73888feb9305059a"
        );
    }

    #[test]
    fn order_of_checks_and_timing_rule() {
        let r = Signed {
            method: "GET",
            path: "/api/v4/spot/accounts",
            query: "a=1",
            body: b"",
        };
        let sig = sign("S", "GET", r.path, "a=1", b"", "1000");
        let h = AuthHeaders {
            key: Some("K"),
            timestamp: Some("1000"),
            sign: Some(&sig),
        };
        assert!(check(&h, &r, "K", "S", 1_000_000).is_ok());
        assert!(check(&h, &r, "K", "S", 1_060_999).is_ok());
        assert_eq!(
            check(&h, &r, "K", "S", 1_061_000).unwrap_err().label,
            "REQUEST_EXPIRED"
        );
        assert_eq!(
            check(&h, &r, "X", "S", 1_000_000).unwrap_err().label,
            "INVALID_KEY"
        );
        let other = Signed { query: "a=2", ..r };
        assert_eq!(
            check(&h, &other, "K", "S", 1_000_000).unwrap_err().label,
            "INVALID_SIGNATURE"
        );
        assert_eq!(
            check(&AuthHeaders::default(), &other, "K", "S", 0)
                .unwrap_err()
                .status,
            401
        );
    }
}
