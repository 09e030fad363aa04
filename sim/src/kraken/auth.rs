//! Key, signature and nonce checks of the Kraken simulator.
//!
//! Kraken signs the exact bytes of the POST body: `API-Sign` must be the base64 of
//! `HMAC-SHA512(base64decode(private key), URI path + SHA256(nonce + body))`. Nothing is
//! decoded, re-encoded or re-ordered before checking: a client that signs other bytes than it
//! sends fails, as it does on Kraken. The nonce must be above the last one accepted for the
//! key, or the call fails with `EAPI:Invalid nonce` (a call refused for its key or signature
//! does not use up its nonce).

use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256, Sha512};

/// Kraken's answer to an unknown key, a missing or wrong signature.
pub const INVALID_KEY: &str = "EAPI:Invalid key";
pub const INVALID_NONCE: &str = "EAPI:Invalid nonce";
pub const INVALID_ARGUMENTS: &str = "EGeneral:Invalid arguments";

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding; `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'=' if i >= 2 => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => ALPHABET.iter().position(|&a| a == c)? as u32,
            };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

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
    fn base64_round_trips() {
        for n in 0..20 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert!(base64_decode("TW=E").is_none());
        assert!(base64_decode("abc").is_none());
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
