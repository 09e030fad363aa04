//! Key, passphrase, timestamp and signature checks of the OKX simulator.
//!
//! OKX signs `timestamp + METHOD + requestPath + body`: the `OK-ACCESS-TIMESTAMP` header
//! exactly as sent, the method in capitals, the path with the query string exactly as sent,
//! and the raw body. `OK-ACCESS-SIGN` is the standard base64 of the HMAC-SHA256 under the
//! secret key. Nothing is decoded or re-encoded here: a client that signs anything other than
//! the bytes it sends fails, as it does on OKX.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::OkxError;
pub use crate::encoding::base64_encode as base64;
use crate::time::days_from_civil;

/// OKX refuses a timestamp more than 30 s away from its clock.
pub const TIMESTAMP_WINDOW_MS: i64 = 30_000;

/// The credentials one simulated account accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: String,
    pub passphrase: String,
    /// Demo-trading keys: requests must carry `x-simulated-trading: 1`; live keys must not.
    pub demo: bool,
}

/// The authentication headers of one request, as received.
#[derive(Debug, Clone, Default)]
pub struct AuthHeaders<'a> {
    pub key: Option<&'a str>,
    pub sign: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub passphrase: Option<&'a str>,
    pub simulated: Option<&'a str>,
}

/// `base64(HMAC_SHA256(secret, prehash))`.
pub fn sign(secret: &str, prehash: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(prehash.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// `2020-12-08T09:08:57.715Z` → ms. OKX requires this ISO 8601 form with milliseconds, UTC.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = &text[r];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

/// Checks one private request the way OKX does, in OKX's order; `Ok` or OKX's error.
pub fn check(
    creds: &Credentials,
    headers: &AuthHeaders<'_>,
    method: &str,
    request_path: &str,
    body: &str,
    server_now: i64,
) -> Result<(), OkxError> {
    let key = headers.key.filter(|k| !k.is_empty()).ok_or_else(|| {
        OkxError::unauthorized("50103", "Request header \"OK-ACCESS-KEY\" cannot be empty.")
    })?;
    let passphrase = headers
        .passphrase
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            OkxError::unauthorized(
                "50104",
                "Request header \"OK-ACCESS-PASSPHRASE\" cannot be empty.",
            )
        })?;
    let signature = headers.sign.filter(|s| !s.is_empty()).ok_or_else(|| {
        OkxError::unauthorized(
            "50106",
            "Request header \"OK-ACCESS-SIGN\" cannot be empty.",
        )
    })?;
    let ts_text = headers.timestamp.filter(|t| !t.is_empty()).ok_or_else(|| {
        OkxError::unauthorized(
            "50107",
            "Request header \"OK-ACCESS-TIMESTAMP\" cannot be empty.",
        )
    })?;
    let ts = parse_timestamp(ts_text)
        .ok_or_else(|| OkxError::unauthorized("50112", "Invalid OK-ACCESS-TIMESTAMP"))?;
    if (server_now - ts).abs() > TIMESTAMP_WINDOW_MS {
        return Err(OkxError::unauthorized("50102", "Timestamp request expired"));
    }
    if key != creds.api_key {
        return Err(OkxError::unauthorized("50111", "Invalid OK-ACCESS-KEY"));
    }
    let simulated = headers.simulated == Some("1");
    if simulated != creds.demo {
        return Err(OkxError::unauthorized(
            "50101",
            "APIKey does not match current environment.",
        ));
    }
    if passphrase != creds.passphrase {
        return Err(OkxError::unauthorized(
            "50105",
            "Request header \"OK-ACCESS-PASSPHRASE\" incorrect.",
        ));
    }
    let prehash = format!("{ts_text}{method}{request_path}{body}");
    if sign(&creds.api_secret, &prehash) != signature {
        return Err(OkxError::unauthorized("50113", "Invalid Sign"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_of_exchanges_md() {
        // ccxt's request for GET /api/v5/account/balance at 2023-11-14T22:13:20.000Z.
        assert_eq!(
            sign(
                "SECRET",
                "2023-11-14T22:13:20.000ZGET/api/v5/account/balance"
            ),
            "ved9V2fZobUsJ2/NoZbY1PhG4OCE5Fxc/WdF+WzVDsc="
        );
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20.000Z"),
            Some(1_700_000_000_000)
        );
    }

    #[test]
    fn timestamps_must_be_iso_with_milliseconds() {
        assert_eq!(
            parse_timestamp("2020-12-08T09:08:57.715Z"),
            Some(1_607_418_537_715)
        );
        assert!(parse_timestamp("2020-12-08T09:08:57Z").is_none());
        assert!(parse_timestamp("1607418537715").is_none());
        assert!(parse_timestamp("2020-12-08 09:08:57.715Z").is_none());
    }

    #[test]
    fn checks_in_okx_order() {
        let creds = Credentials {
            api_key: "K".into(),
            api_secret: "S".into(),
            passphrase: "P".into(),
            demo: false,
        };
        let ts = "2023-11-14T22:13:20.000Z";
        let now = 1_700_000_000_000;
        let good = sign("S", &format!("{ts}GET/api/v5/account/config"));
        let h = AuthHeaders {
            key: Some("K"),
            sign: Some(&good),
            timestamp: Some(ts),
            passphrase: Some("P"),
            simulated: None,
        };
        assert!(check(&creds, &h, "GET", "/api/v5/account/config", "", now).is_ok());
        let code = |h: &AuthHeaders<'_>, now: i64| {
            check(&creds, h, "GET", "/api/v5/account/config", "", now)
                .unwrap_err()
                .code
        };
        assert_eq!(code(&h, now + 30_001), "50102");
        assert_eq!(
            code(
                &AuthHeaders {
                    key: Some("X"),
                    ..h.clone()
                },
                now
            ),
            "50111"
        );
        assert_eq!(
            code(
                &AuthHeaders {
                    passphrase: Some("X"),
                    ..h.clone()
                },
                now
            ),
            "50105"
        );
        assert_eq!(
            code(
                &AuthHeaders {
                    sign: Some("AAAA"),
                    ..h.clone()
                },
                now
            ),
            "50113"
        );
        assert_eq!(
            code(
                &AuthHeaders {
                    simulated: Some("1"),
                    ..h.clone()
                },
                now
            ),
            "50101"
        );
        assert_eq!(
            code(
                &AuthHeaders {
                    key: None,
                    ..h.clone()
                },
                now
            ),
            "50103"
        );
    }
}
