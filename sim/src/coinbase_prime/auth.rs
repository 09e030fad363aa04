//! Access key, passphrase, timestamp and signature checks of the Coinbase Prime simulator.
//!
//! Prime signs `timestamp + METHOD + path + body`, where the path has no query string, with
//! HMAC-SHA256 keyed by the signing key's UTF-8 bytes (not base64-decoded), and sends the
//! standard base64 of it in `X-CB-ACCESS-SIGNATURE`. The timestamp is whole Unix seconds in
//! `X-CB-ACCESS-TIMESTAMP` and must be within 30 s of the server's clock. The signature is
//! compared as the exact base64 text: a client that signs other bytes than it sends fails,
//! as it does on Prime.

pub use crate::encoding::base64_encode;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from the server's clock.
pub const TIMESTAMP_TOLERANCE_S: i64 = 30;

/// Why a request was refused; each is a 401 with Prime's `{"message": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or unknown access key, wrong passphrase or signature.
    Unauthorized,
    /// A timestamp that is not whole seconds or is more than 30 s off.
    Timestamp,
}

impl Refusal {
    /// Prime's message for it *(the wording is unverified; the status is Prime's)*.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Unauthorized => "Unauthorized",
            Refusal::Timestamp => "request timestamp expired",
        }
    }
}

/// `X-CB-ACCESS-SIGNATURE` of a request.
pub fn sign(signing_key: &str, timestamp: &str, method: &str, path: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(signing_key.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.as_bytes());
    mac.update(method.as_bytes());
    mac.update(path.as_bytes());
    mac.update(body);
    base64_encode(&mac.finalize().into_bytes())
}

/// What a request carried, as the checks need it.
pub struct Presented<'a> {
    pub access_key: Option<&'a str>,
    pub passphrase: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub timestamp: Option<&'a str>,
}

/// The credentials the simulated portfolio accepts.
pub struct Expected<'a> {
    pub access_key: &'a str,
    pub passphrase: &'a str,
    pub signing_key: &'a str,
}

/// Checks a request in the order Prime does: key, passphrase, timestamp, signature.
pub fn check(
    expected: &Expected<'_>,
    presented: &Presented<'_>,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<(), Refusal> {
    if presented.access_key != Some(expected.access_key) {
        return Err(Refusal::Unauthorized);
    }
    if presented.passphrase != Some(expected.passphrase) {
        return Err(Refusal::Unauthorized);
    }
    let timestamp = presented.timestamp.unwrap_or("");
    let seconds: i64 = match timestamp.parse() {
        Ok(s) if timestamp.bytes().all(|b| b.is_ascii_digit()) => s,
        _ => return Err(Refusal::Timestamp),
    };
    if (now_ms.div_euclid(1000) - seconds).abs() > TIMESTAMP_TOLERANCE_S {
        return Err(Refusal::Timestamp);
    }
    let good = sign(expected.signing_key, timestamp, method, path, body);
    if presented.signature != Some(good.as_str()) {
        return Err(Refusal::Unauthorized);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EXCHANGES.md's reference value: key `SIGNINGKEY`, ts 1700000000, `GET
    /// /v1/portfolios/PORTFOLIO_ID/balances`.
    #[test]
    fn reference_vector() {
        assert_eq!(
            sign(
                "SIGNINGKEY",
                "1700000000",
                "GET",
                "/v1/portfolios/PORTFOLIO_ID/balances",
                b""
            ),
            "jnxAYuoFviWaVHcfC2zQ09LZNwP99NorNgdbVpyPfgA="
        );
        assert_eq!(base64_encode(b"Ma"), "TWE=");
    }

    #[test]
    fn checks_in_primes_order() {
        let expected = Expected {
            access_key: "K",
            passphrase: "P",
            signing_key: "S",
        };
        let now = 1_700_000_000_000;
        let sig = sign("S", "1700000000", "GET", "/v1/x", b"");
        let ok = Presented {
            access_key: Some("K"),
            passphrase: Some("P"),
            signature: Some(&sig),
            timestamp: Some("1700000000"),
        };
        assert_eq!(check(&expected, &ok, "GET", "/v1/x", b"", now), Ok(()));
        let late = now + 31_000;
        assert_eq!(
            check(&expected, &ok, "GET", "/v1/x", b"", late),
            Err(Refusal::Timestamp)
        );
        assert_eq!(
            check(&expected, &ok, "GET", "/v1/y", b"", now),
            Err(Refusal::Unauthorized)
        );
        let wrong_pass = Presented {
            passphrase: Some("Q"),
            ..ok
        };
        assert_eq!(
            check(&expected, &wrong_pass, "GET", "/v1/x", b"", now),
            Err(Refusal::Unauthorized)
        );
    }
}
