//! Key, passphrase, timestamp and signature checks of the FalconX simulator.
//!
//! FalconX signs `timestamp + METHOD + path_url + body`, where `path_url` is the request's
//! path *with* `?query` exactly as sent, with HMAC-SHA256 keyed by the base64-decoded
//! secret, and sends the standard base64 of it in `FX-ACCESS-SIGN`. The timestamp is Unix
//! seconds as a decimal fraction (`1700000000.123`) in `FX-ACCESS-TIMESTAMP`; the sim accepts
//! it within 30 s of its clock (FalconX documents no tolerance). The signature is compared
//! as the exact base64 text.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use crate::encoding::base64_encode;

/// How far a request's timestamp may be from the server's clock.
pub const TIMESTAMP_TOLERANCE_MS: i64 = 30_000;

/// Why a request was refused; each is a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or unknown key, wrong passphrase or signature.
    Unauthorized,
    /// A timestamp that is not decimal seconds or is more than 30 s off.
    Timestamp,
}

impl Refusal {
    /// The sim's `error.code` and `error.reason` for it.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Unauthorized => (
                "INVALID_API_KEY",
                "Invalid API key, signature or passphrase",
            ),
            Refusal::Timestamp => ("INVALID_TIMESTAMP", "Request timestamp expired"),
        }
    }
}

/// `FX-ACCESS-SIGN` of a request; `None` when the secret is not base64.
pub fn sign(
    secret_b64: &str,
    timestamp: &str,
    method: &str,
    path_url: &str,
    body: &[u8],
) -> Option<String> {
    let key = crate::encoding::base64_decode(secret_b64)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(timestamp.as_bytes());
    mac.update(method.as_bytes());
    mac.update(path_url.as_bytes());
    mac.update(body);
    Some(base64_encode(&mac.finalize().into_bytes()))
}

/// Decimal seconds (`1700000000`, `1700000000.5`, `1700000000.123456`) → ms.
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = int.parse().ok()?;
    let mut ms = 0;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += i64::from(b - b'0') * 10i64.pow(2 - i as u32);
    }
    Some(seconds * 1000 + ms)
}

/// What a request carried, as the checks need it.
pub struct Presented<'a> {
    pub api_key: Option<&'a str>,
    pub passphrase: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub timestamp: Option<&'a str>,
}

/// The credentials the simulated account accepts.
pub struct Expected<'a> {
    pub api_key: &'a str,
    pub passphrase: &'a str,
    pub secret: &'a str,
}

/// Checks a request: key, passphrase, timestamp, signature.
pub fn check(
    expected: &Expected<'_>,
    presented: &Presented<'_>,
    method: &str,
    path_url: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<(), Refusal> {
    if presented.api_key != Some(expected.api_key) {
        return Err(Refusal::Unauthorized);
    }
    if presented.passphrase != Some(expected.passphrase) {
        return Err(Refusal::Unauthorized);
    }
    let timestamp = presented.timestamp.unwrap_or("");
    let Some(ms) = parse_timestamp_ms(timestamp) else {
        return Err(Refusal::Timestamp);
    };
    if (now_ms - ms).abs() > TIMESTAMP_TOLERANCE_MS {
        return Err(Refusal::Timestamp);
    }
    let good = sign(expected.secret, timestamp, method, path_url, body);
    if good.is_none() || presented.signature != good.as_deref() {
        return Err(Refusal::Unauthorized);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    /// EXCHANGES.md's reference value: ts `1700000000.0`, `GET /v1/balances`.
    #[test]
    fn reference_vector() {
        assert_eq!(
            sign(SECRET, "1700000000.0", "GET", "/v1/balances", b"").as_deref(),
            Some("Lh3lxY4qI9Zhrrt52JGm+YY2dd5k0twu1E8BYziSd0g=")
        );
    }

    #[test]
    fn timestamps_are_decimal_seconds() {
        assert_eq!(parse_timestamp_ms("1700000000.0"), Some(1_700_000_000_000));
        assert_eq!(
            parse_timestamp_ms("1700000000.123456"),
            Some(1_700_000_000_123)
        );
        assert_eq!(parse_timestamp_ms("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_timestamp_ms("-1"), None);
        assert_eq!(parse_timestamp_ms("1e9"), None);
    }

    #[test]
    fn checks_key_passphrase_timestamp_and_signature() {
        let expected = Expected {
            api_key: "K",
            passphrase: "P",
            secret: SECRET,
        };
        let now = 1_700_000_000_000;
        let sig = sign(SECRET, "1700000000.0", "GET", "/v1/quotes?a=1", b"").unwrap();
        let ok = Presented {
            api_key: Some("K"),
            passphrase: Some("P"),
            signature: Some(&sig),
            timestamp: Some("1700000000.0"),
        };
        assert_eq!(
            check(&expected, &ok, "GET", "/v1/quotes?a=1", b"", now),
            Ok(())
        );
        assert_eq!(
            check(&expected, &ok, "GET", "/v1/quotes?a=2", b"", now),
            Err(Refusal::Unauthorized),
            "the query is signed"
        );
        assert_eq!(
            check(&expected, &ok, "GET", "/v1/quotes?a=1", b"", now + 31_000),
            Err(Refusal::Timestamp)
        );
        let wrong = Presented {
            passphrase: Some("Q"),
            ..ok
        };
        assert_eq!(
            check(&expected, &wrong, "GET", "/v1/quotes?a=1", b"", now),
            Err(Refusal::Unauthorized)
        );
    }
}
