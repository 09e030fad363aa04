//! Authentication of the KuCoin simulator, as KuCoin documents it for API key version 2.
//!
//! A private request carries `KC-API-KEY`, `KC-API-SIGN`, `KC-API-TIMESTAMP`,
//! `KC-API-PASSPHRASE` and `KC-API-KEY-VERSION`. The sign is the base64 HMAC-SHA256, under the
//! secret, of `timestamp + METHOD + path?query + body`; for version 2 the passphrase is the
//! base64 HMAC-SHA256 of the passphrase under the secret (version 1 sent it in plain). The
//! timestamp must be within 5 s of the server's clock. Failures answer HTTP 401 with KuCoin's
//! code: 400001 missing header, 400002 timestamp, 400003 unknown key, 400004 passphrase,
//! 400005 signature. Written here from the documentation, not shared with the connector.

pub use crate::encoding::base64_encode as base64;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from the server's clock.
pub const TIMESTAMP_TOLERANCE_MS: i64 = 5_000;

/// A KuCoin error answer: HTTP status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KucoinError {
    pub status: u16,
    pub code: &'static str,
    pub msg: String,
}

impl KucoinError {
    pub fn new(status: u16, code: &'static str, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
        }
    }
    pub fn body(&self) -> String {
        serde_json::json!({"code": self.code, "msg": self.msg}).to_string()
    }
    /// `400100`: KuCoin's answer to a bad parameter.
    pub fn param(msg: impl Into<String>) -> Self {
        Self::new(400, "400100", msg)
    }
}

/// base64(HMAC-SHA256(key, message)).
pub fn hmac_b64(key: &str, message: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// Checks a private request; `Ok` or KuCoin's error.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    headers: &HeaderMap,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    api_key: &str,
    secret: &str,
    passphrase: &str,
    now: i64,
) -> Result<(), KucoinError> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(key), Some(sign), Some(ts), Some(pass)) = (
        get("KC-API-KEY"),
        get("KC-API-SIGN"),
        get("KC-API-TIMESTAMP"),
        get("KC-API-PASSPHRASE"),
    ) else {
        return Err(KucoinError::new(
            401,
            "400001",
            "Please check the header of your request for KC-API-KEY, KC-API-SIGN, \
             KC-API-TIMESTAMP, KC-API-PASSPHRASE",
        ));
    };
    let timestamp: i64 = ts
        .parse()
        .map_err(|_| KucoinError::new(401, "400002", "Invalid KC-API-TIMESTAMP"))?;
    if (timestamp - now).abs() > TIMESTAMP_TOLERANCE_MS {
        return Err(KucoinError::new(
            401,
            "400002",
            "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds",
        ));
    }
    if key != api_key {
        return Err(KucoinError::new(401, "400003", "KC-API-KEY not exists"));
    }
    let expected_pass = match get("KC-API-KEY-VERSION") {
        Some("2") | Some("3") => hmac_b64(secret, passphrase),
        _ => passphrase.to_owned(),
    };
    if pass != expected_pass {
        return Err(KucoinError::new(401, "400004", "Invalid KC-API-PASSPHRASE"));
    }
    let endpoint = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let prehash = format!("{ts}{method}{endpoint}{}", String::from_utf8_lossy(body));
    if sign != hmac_b64(secret, &prehash) {
        return Err(KucoinError::new(401, "400005", "Invalid KC-API-SIGN"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_reference_request_and_refuses_each_wrong_part() {
        let mut h = HeaderMap::new();
        h.insert("KC-API-KEY", "KEY".parse().unwrap());
        h.insert(
            "KC-API-SIGN",
            "6vZjYQcvo70NlWFDo5UCXLhVMOlAZaYD3La5U25LAcE="
                .parse()
                .unwrap(),
        );
        h.insert("KC-API-TIMESTAMP", "1700000000000".parse().unwrap());
        h.insert(
            "KC-API-PASSPHRASE",
            "XsQ24ttA8VeFKMJTD/5At/KjtZdthnwU2kGrM1vv978="
                .parse()
                .unwrap(),
        );
        h.insert("KC-API-KEY-VERSION", "2".parse().unwrap());
        let check = |h: &HeaderMap, secret: &str, now: i64| {
            verify(
                h,
                "GET",
                "/api/v1/accounts",
                "",
                b"",
                "KEY",
                secret,
                "PASSPHRASE",
                now,
            )
            .map_err(|e| e.code)
        };
        assert_eq!(check(&h, "SECRET", 1_700_000_001_000), Ok(()));
        assert_eq!(check(&h, "SECRET", 1_700_000_006_000), Err("400002"));
        assert_eq!(check(&h, "OTHER", 1_700_000_000_000), Err("400004"));
        let mut v1 = h.clone();
        v1.insert("KC-API-KEY-VERSION", "1".parse().unwrap());
        assert_eq!(check(&v1, "SECRET", 1_700_000_000_000), Err("400004"));
        let mut k = h.clone();
        k.insert("KC-API-KEY", "NOPE".parse().unwrap());
        assert_eq!(check(&k, "SECRET", 1_700_000_000_000), Err("400003"));
        let r = verify(
            &h,
            "GET",
            "/api/v1/accounts",
            "type=trade",
            b"",
            "KEY",
            "SECRET",
            "PASSPHRASE",
            1_700_000_000_000,
        );
        assert_eq!(r.map_err(|e| e.code), Err("400005"));
        h.remove("KC-API-SIGN");
        assert_eq!(check(&h, "SECRET", 1_700_000_000_000), Err("400001"));
    }
}
