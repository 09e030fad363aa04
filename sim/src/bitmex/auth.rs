//! Signature, API-key and expiry checks of the BitMEX simulator.
//!
//! BitMEX signs `VERB + path + expires + body`, the path starting at `/api/v1` with the query
//! string exactly as sent, `expires` in Unix seconds; `api-signature` is the lower-case hex
//! HMAC-SHA256 of it under the secret. Nothing is decoded, re-encoded or re-ordered here: a
//! client that signs anything other than the bytes it sends fails, as it does on BitMEX. A
//! request is refused once its `expires` is in the past on the server's clock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A rejected request: HTTP status, BitMEX's error name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub name: &'static str,
    pub message: String,
}

impl Rejection {
    fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            status: 401,
            name: "HTTPError",
            message: message.into(),
        }
    }
}

/// `hex(HMAC_SHA256(secret, verb + path_and_query + expires + body))`.
pub fn sign(secret: &str, verb: &str, path_and_query: &str, expires: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(verb.as_bytes());
    mac.update(path_and_query.as_bytes());
    mac.update(expires.as_bytes());
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The authentication headers of one request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthHeaders<'a> {
    pub api_key: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Checks key, expiry and signature, in BitMEX's order.
pub fn check(
    h: &AuthHeaders<'_>,
    api_key: &str,
    secret: &str,
    verb: &str,
    path_and_query: &str,
    body: &str,
    server_time_ms: i64,
) -> Result<(), Rejection> {
    let Some(key) = h.api_key else {
        return Err(Rejection::unauthorized("Missing API key."));
    };
    if key != api_key {
        return Err(Rejection::unauthorized("Invalid API Key."));
    }
    let (Some(expires_text), Some(signature)) = (h.expires, h.signature) else {
        return Err(Rejection::unauthorized(
            "Missing api-expires or api-signature header.",
        ));
    };
    let expires = expires_text.parse::<i64>().map_err(|_| Rejection {
        status: 400,
        name: "HTTPError",
        message: "Invalid api-expires header.".into(),
    })?;
    let now_s = server_time_ms.div_euclid(1000);
    if expires < now_s {
        return Err(Rejection::unauthorized(format!(
            "This request has expired - `expires` is in the past. Current time: {now_s}"
        )));
    }
    let expected = sign(secret, verb, path_and_query, expires_text, body);
    if !expected.eq_ignore_ascii_case(signature) {
        return Err(Rejection::unauthorized("Signature not valid."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO";

    #[test]
    fn official_vectors_of_the_api_key_usage_page() {
        assert_eq!(
            sign(SECRET, "GET", "/api/v1/instrument", "1518064236", ""),
            "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00"
        );
        assert_eq!(
            sign(
                SECRET,
                "GET",
                "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
                "1518064237",
                ""
            ),
            "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f"
        );
        assert_eq!(
            sign(
                SECRET,
                "POST",
                "/api/v1/order",
                "1518064238",
                r#"{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}"#
            ),
            "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b"
        );
    }

    #[test]
    fn order_of_checks_and_expiry() {
        let sig = sign("S", "GET", "/api/v1/user", "100", "");
        let h = AuthHeaders {
            api_key: Some("K"),
            expires: Some("100"),
            signature: Some(&sig),
        };
        assert!(check(&h, "K", "S", "GET", "/api/v1/user", "", 100_999).is_ok());
        let late = check(&h, "K", "S", "GET", "/api/v1/user", "", 101_000).unwrap_err();
        assert!(late.message.contains("expired"), "{late:?}");
        let bad = check(&h, "K", "S", "GET", "/api/v1/user?x=1", "", 0).unwrap_err();
        assert_eq!(bad.message, "Signature not valid.");
        let other = check(&h, "X", "S", "GET", "/api/v1/user", "", 0).unwrap_err();
        assert_eq!(
            (other.status, other.message.as_str()),
            (401, "Invalid API Key.")
        );
        assert_eq!(
            check(&AuthHeaders::default(), "K", "S", "GET", "/", "", 0)
                .unwrap_err()
                .status,
            401
        );
    }
}
