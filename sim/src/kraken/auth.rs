//! Key, signature and nonce checks of the Kraken simulator.
//!
//! Kraken signs the exact bytes of the POST body: `API-Sign` must be the base64 of
//! `HMAC-SHA512(base64decode(private key), URI path + SHA256(nonce + body))`. Nothing is
//! decoded, re-encoded or re-ordered before checking: a client that signs other bytes than it
//! sends fails, as it does on Kraken. The nonce must be above the last one accepted for the
//! key, or the call fails with `EAPI:Invalid nonce` (a call refused for its key or signature
//! does not use up its nonce).

pub use crate::encoding::{base64_decode, base64_encode};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256, Sha512};

/// Kraken's answer to an unknown key, a missing or wrong signature.
pub const INVALID_KEY: &str = "EAPI:Invalid key";
pub const INVALID_NONCE: &str = "EAPI:Invalid nonce";
pub const INVALID_ARGUMENTS: &str = "EGeneral:Invalid arguments";

/// `API-Sign` of a call, for a decoded private key.
pub fn sign(key: &[u8], uri_path: &str, nonce: &str, body: &str) -> String {
    let mut sha = Sha256::new();
    sha.update(nonce.as_bytes());
    sha.update(body.as_bytes());
    let digest = sha.finalize();
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(uri_path.as_bytes());
    mac.update(&digest);
    base64_encode(&mac.finalize().into_bytes())
}

/// Whether `signature` is the signature of the call (compared as the exact base64 text).
pub fn verify(key: &[u8], uri_path: &str, nonce: &str, body: &str, signature: &str) -> bool {
    sign(key, uri_path, nonce, body) == signature
}

/// A form body's fields, percent-decoded, in order.
pub fn parse_form(body: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    if body.is_empty() {
        return Some(out);
    }
    for part in body.split('&') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        };
        out.push((decode(k)?, decode(v)?));
    }
    Some(out)
}

/// The nonce of a call as Kraken reads it: an unsigned 64-bit integer.
pub fn parse_nonce(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Kraken's "Spot REST authentication" guide.
    #[test]
    fn kraken_official_vector() {
        let key = base64_decode(
            "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
        )
        .unwrap();
        let body =
            "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
        let sig = sign(&key, "/0/private/AddOrder", "1616492376594", body);
        assert_eq!(
            sig,
            "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
        );
        assert!(verify(
            &key,
            "/0/private/AddOrder",
            "1616492376594",
            body,
            &sig
        ));
        assert!(!verify(
            &key,
            "/0/private/AddOrdex",
            "1616492376594",
            body,
            &sig
        ));
    }

    #[test]
    fn forms_and_nonces() {
        let f = parse_form("nonce=5&start=1%2B2&cursor=true").unwrap();
        assert_eq!(f[1], ("start".into(), "1+2".into()));
        assert_eq!(parse_nonce("17"), Some(17));
        assert_eq!(parse_nonce("-1"), None);
        assert_eq!(parse_nonce(""), None);
    }
}
