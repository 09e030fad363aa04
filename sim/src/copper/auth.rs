//! API key, timestamp and signature checks of the Copper simulator.
//!
//! Copper signs `X-Timestamp + METHOD + path + body`, where the path includes the `/platform`
//! prefix and the query string exactly as sent, with HMAC-SHA256 keyed by the API secret's
//! UTF-8 bytes, and sends the lowercase hex of it in `X-Signature`. The key travels as
//! `Authorization: ApiKey <key>`; the timestamp is Unix milliseconds. Copper documents no
//! timestamp tolerance; the sim refuses one more than 30 s off (its own choice), so a client
//! with a wrong clock is told so. The signature is compared as the exact hex text.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from the server's clock.
pub const TIMESTAMP_TOLERANCE_MS: i64 = 30_000;

/// Why a request was refused; each is a 401 with Copper's `{"error", "message"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or unknown API key, or a wrong signature.
    Unauthorized,
    /// A timestamp that is not milliseconds or is more than 30 s off.
    Timestamp,
}

impl Refusal {
    /// Copper's error code and message *(the wording is the sim's; the status is Copper's)*.
    pub fn body(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Unauthorized => ("unauthorized", "Invalid API key or signature"),
            Refusal::Timestamp => (
                "unauthorized",
                "Request timestamp is outside of the allowed window",
            ),
        }
    }
}

/// `X-Signature` of a request.
pub fn sign(
    secret: &str,
    timestamp: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.as_bytes());
    mac.update(method.as_bytes());
    mac.update(path_and_query.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// What a request carried.
pub struct Presented<'a> {
    pub authorization: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Checks a request: key, timestamp, signature.
pub fn check(
    api_key: &str,
    api_secret: &str,
    presented: &Presented<'_>,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<(), Refusal> {
    let key = presented
        .authorization
        .and_then(|a| a.strip_prefix("ApiKey "));
    if key != Some(api_key) {
        return Err(Refusal::Unauthorized);
    }
    let timestamp = presented.timestamp.unwrap_or("");
    let ms: i64 = match timestamp.parse() {
        Ok(ms) if timestamp.bytes().all(|b| b.is_ascii_digit()) => ms,
        _ => return Err(Refusal::Timestamp),
    };
    if (now_ms - ms).abs() > TIMESTAMP_TOLERANCE_MS {
        return Err(Refusal::Timestamp);
    }
    let expected = sign(api_secret, timestamp, method, path_and_query, body);
    if presented.signature != Some(expected.as_str()) {
        return Err(Refusal::Unauthorized);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_of_the_exchange_notes() {
        // EXCHANGES.md, Copper: secret SECRET, ts 1700000000000, GET /platform/wallets?limit=1000.
        assert_eq!(
            sign(
                "SECRET",
                "1700000000000",
                "GET",
                "/platform/wallets?limit=1000",
                b""
            ),
            "2d31be1e88adf1ccbdc13b1db2c49f4f30a9b2ae70ce4900a9034e8c65199ac7"
        );
    }
}
