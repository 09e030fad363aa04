//! Signature, API-key, passphrase and timestamp checks of the Bitget simulator.
//!
//! Bitget signs `timestamp + METHOD + requestPath + ("?" + queryString) + body` with
//! HMAC-SHA256, base64. The query string is checked in its decoded form: each `key=value` of
//! the query as sent, percent-decoded, in the order sent (what Bitget's reference clients sign;
//! for ASCII parameters the same bytes as sent). A request is on time when its timestamp is
//! within 30 s of the server's clock.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::Sha256;

/// How far a timestamp may be from the server's clock, either way, in ms.
pub const TOLERANCE_MS: i64 = 30_000;

/// A rejected request: HTTP status, Bitget code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: &'static str,
    pub msg: String,
}

impl Rejection {
    fn new(status: u16, code: &'static str, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
        }
    }
}

/// `base64(HMAC_SHA256(secret, timestamp + method + path + ("?" + query) + body))`.
pub fn sign(
    secret: &str,
    timestamp: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &str,
) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(method.as_bytes());
    mac.update(path.as_bytes());
    if !query.is_empty() {
        mac.update(b"?");
        mac.update(query.as_bytes());
    }
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The query string as signed: every `key=value` percent-decoded, in the order sent.
pub fn signed_query(raw: &str) -> String {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|part| percent_decode_str(part).decode_utf8_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("&")
}

/// The authentication headers of one request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthHeaders<'a> {
    pub key: Option<&'a str>,
    pub sign: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub passphrase: Option<&'a str>,
}

/// The account's credentials.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    pub passphrase: &'a str,
}

/// Checks presence, timestamp, key, passphrase and signature, in that order.
pub fn check(
    h: &AuthHeaders<'_>,
    account: &Credentials<'_>,
    method: &str,
    path: &str,
    raw_query: &str,
    server_time: i64,
) -> Result<(), Rejection> {
    let Some(key) = h.key.filter(|k| !k.is_empty()) else {
        return Err(Rejection::new(400, "40001", "ACCESS_KEY cannot be empty"));
    };
    let Some(sign_sent) = h.sign.filter(|s| !s.is_empty()) else {
        return Err(Rejection::new(400, "40002", "ACCESS_SIGN cannot be empty"));
    };
    let Some(ts_text) = h.timestamp.filter(|t| !t.is_empty()) else {
        return Err(Rejection::new(
            400,
            "40003",
            "ACCESS_TIMESTAMP cannot be empty",
        ));
    };
    let Some(passphrase) = h.passphrase.filter(|p| !p.is_empty()) else {
        return Err(Rejection::new(
            400,
            "40011",
            "ACCESS_PASSPHRASE cannot be empty",
        ));
    };
    let timestamp = ts_text
        .parse::<i64>()
        .map_err(|_| Rejection::new(400, "40005", "Invalid ACCESS_TIMESTAMP"))?;
    if (timestamp - server_time).abs() > TOLERANCE_MS {
        return Err(Rejection::new(400, "40008", "Request timestamp expired"));
    }
    if key != account.key {
        return Err(Rejection::new(400, "40006", "Invalid ACCESS_KEY"));
    }
    if passphrase != account.passphrase {
        return Err(Rejection::new(400, "40012", "apikey/password is incorrect"));
    }
    let expected = sign(
        account.secret,
        ts_text,
        method,
        path,
        &signed_query(raw_query),
        "",
    );
    if expected != sign_sent {
        return Err(Rejection::new(400, "40009", "sign signature error"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_of_the_exchange_notes() {
        // ccxt 4.5.90 signs GET /api/v2/spot/account/assets with secret SECRET at clock
        // 1700000000000 to this value.
        assert_eq!(
            sign(
                "SECRET",
                "1700000000000",
                "GET",
                "/api/v2/spot/account/assets",
                "",
                ""
            ),
            "U2q5LF7sTrG2COzTmfbEjcRryVGf9Usyk0d73Ly6/Eo="
        );
    }

    #[test]
    fn order_of_checks_and_timing_rule() {
        let account = Credentials {
            key: "K",
            secret: "S",
            passphrase: "P",
        };
        let sig = sign("S", "100000", "GET", "/p", "a=1", "");
        let h = AuthHeaders {
            key: Some("K"),
            sign: Some(&sig),
            timestamp: Some("100000"),
            passphrase: Some("P"),
        };
        assert!(check(&h, &account, "GET", "/p", "a=1", 130_000).is_ok());
        assert!(check(&h, &account, "GET", "/p", "a=1", 70_000).is_ok());
        assert_eq!(
            check(&h, &account, "GET", "/p", "a=1", 130_001)
                .unwrap_err()
                .code,
            "40008"
        );
        assert_eq!(
            check(&h, &account, "GET", "/p", "a=2", 100_000)
                .unwrap_err()
                .code,
            "40009"
        );
        let wrong_pass = AuthHeaders {
            passphrase: Some("Q"),
            ..h
        };
        assert_eq!(
            check(&wrong_pass, &account, "GET", "/p", "a=1", 100_000)
                .unwrap_err()
                .code,
            "40012"
        );
        assert_eq!(
            check(&AuthHeaders::default(), &account, "GET", "/p", "", 0)
                .unwrap_err()
                .code,
            "40001"
        );
        // A percent-encoded value is checked decoded.
        let sig = sign("S", "100000", "GET", "/p", "coin=币", "");
        let h = AuthHeaders {
            sign: Some(&sig),
            ..h
        };
        assert!(check(&h, &account, "GET", "/p", "coin=%E5%B8%81", 100_000).is_ok());
    }
}
