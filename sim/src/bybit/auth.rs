//! Signature, API-key and timestamp checks of the Bybit simulator.
//!
//! Bybit v5 signs `timestamp + api_key + recv_window + payload`, the payload being the query
//! string exactly as sent (GET) or the body (POST), with HMAC-SHA256 in lower-case hex. Nothing
//! is decoded, re-encoded or re-ordered here: a client that signs anything other than the bytes
//! it sends fails, as it does on Bybit. A request is on time when
//! `server_time - recv_window <= timestamp < server_time + 1000`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bybit's default `recv_window`, in ms.
pub const DEFAULT_RECV_WINDOW: i64 = 5_000;
/// How far ahead of the server's clock a timestamp may be, in ms.
pub const MAX_AHEAD_MS: i64 = 1_000;

/// A rejected request: HTTP status, `retCode`, `retMsg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: i64,
    pub msg: String,
}

impl Rejection {
    fn new(status: u16, code: i64, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
        }
    }
}

/// `hex(HMAC_SHA256(secret, timestamp + key + recv_window + payload))`.
pub fn sign(secret: &str, timestamp: &str, key: &str, recv_window: &str, payload: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(key.as_bytes());
    mac.update(recv_window.as_bytes());
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The authentication headers of one request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthHeaders<'a> {
    pub api_key: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub sign: Option<&'a str>,
    pub recv_window: Option<&'a str>,
}

/// Checks key, timestamp and signature, in Bybit's order.
pub fn check(
    h: &AuthHeaders<'_>,
    api_key: &str,
    secret: &str,
    payload: &str,
    server_time: i64,
) -> Result<(), Rejection> {
    let (Some(key), Some(ts_text), Some(sign_sent)) = (h.api_key, h.timestamp, h.sign) else {
        return Err(Rejection::new(
            401,
            10003,
            "API key is invalid. Check whether the key and domain are matched, there are 4 env: \
             mainnet, testnet, mainnet-demo, testnet-demo",
        ));
    };
    if key != api_key {
        return Err(Rejection::new(
            401,
            10003,
            "API key is invalid. Check whether the key and domain are matched, there are 4 env: \
             mainnet, testnet, mainnet-demo, testnet-demo",
        ));
    }
    let recv_text = h.recv_window.unwrap_or("5000");
    let recv_window = recv_text
        .parse::<i64>()
        .map_err(|_| Rejection::new(200, 10001, "Request parameter error: recv_window"))?;
    let timestamp = ts_text
        .parse::<i64>()
        .map_err(|_| Rejection::new(200, 10001, "Request parameter error: timestamp"))?;
    if timestamp < server_time - recv_window || timestamp >= server_time + MAX_AHEAD_MS {
        return Err(Rejection::new(
            200,
            10002,
            format!(
                "invalid request, please check your server timestamp or recv_window param. \
                 req_timestamp[{timestamp}],server_timestamp[{server_time}],recv_window[{recv_window}]"
            ),
        ));
    }
    let expected = sign(secret, ts_text, key, recv_text, payload);
    if !expected.eq_ignore_ascii_case(sign_sent) {
        return Err(Rejection::new(
            401,
            10004,
            "Error sign, please check your signature generation algorithm.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_of_the_exchange_notes() {
        // ccxt 4.5.90 signs GET /v5/account/wallet-balance?accountType=UNIFIED with key KEY,
        // secret SECRET, timestamp 1700000000000 and recv_window 5000 to this value.
        assert_eq!(
            sign(
                "SECRET",
                "1700000000000",
                "KEY",
                "5000",
                "accountType=UNIFIED"
            ),
            "a70ff7f728155cade2f1a2927ba9ec687ee775994c30a5d763b6c16558a801f4"
        );
    }

    #[test]
    fn order_of_checks_and_timing_rule() {
        let sig = sign("S", "10000", "K", "5000", "a=1");
        let h = AuthHeaders {
            api_key: Some("K"),
            timestamp: Some("10000"),
            sign: Some(&sig),
            recv_window: Some("5000"),
        };
        assert!(check(&h, "K", "S", "a=1", 15_000).is_ok());
        assert!(check(&h, "K", "S", "a=1", 9_001).is_ok());
        assert_eq!(check(&h, "K", "S", "a=1", 15_001).unwrap_err().code, 10002);
        assert_eq!(check(&h, "K", "S", "a=1", 9_000).unwrap_err().code, 10002);
        assert_eq!(check(&h, "K", "S", "a=2", 10_000).unwrap_err().code, 10004);
        assert_eq!(check(&h, "X", "S", "a=1", 10_000).unwrap_err().code, 10003);
        assert_eq!(
            check(&AuthHeaders::default(), "K", "S", "", 0)
                .unwrap_err()
                .status,
            401
        );
    }
}
