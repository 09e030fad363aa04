//! Signing helpers for plugin authors: keyed hashes, encodings and query strings.
//!
//! Pure functions only. Each exchange's recipe (what is signed, in what order, with which
//! clock) lives in its connector's `signing.rs`; these are the bricks.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Sha256, Sha384, Sha512};

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA384 of `message` under `key`.
pub fn hmac_sha384(key: &[u8], message: &[u8]) -> [u8; 48] {
    let mut mac = Hmac::<Sha384>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA512 of `message` under `key`.
pub fn hmac_sha512(key: &[u8], message: &[u8]) -> [u8; 64] {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// SHA-256 digest.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(data).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// URL-safe base64 without padding (RFC 7515 §2), as JWTs use it.
pub fn base64url_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Standard base64 with padding; an error names what could not be decoded.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, crate::PluginError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| crate::PluginError::config(format!("secret is not valid base64: {e}")))
}

/// Characters left as they are in a query component: RFC 3986 unreserved.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one query key or value (UTF-8, RFC 3986 unreserved set kept).
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, QUERY_COMPONENT).to_string()
}

/// A URL query string built in order, the way most exchanges sign it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    text: String,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    /// Appends `key=value`, both percent-encoded.
    pub fn push(&mut self, key: &str, value: impl AsRef<str>) -> &mut Query {
        if !self.text.is_empty() {
            self.text.push('&');
        }
        self.text.push_str(&encode_component(key));
        self.text.push('=');
        self.text.push_str(&encode_component(value.as_ref()));
        self
    }

    /// Appends `key=value` when there is a value.
    pub fn push_opt(&mut self, key: &str, value: Option<impl AsRef<str>>) -> &mut Query {
        if let Some(v) = value {
            self.push(key, v);
        }
        self
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    #[test]
    fn hmac_rfc4231_case_2() {
        let key = b"Jefe";
        let msg = b"what do ya want for nothing?";
        assert_eq!(
            hex(&hmac_sha256(key, msg)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha384(key, msg)),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
             8e2240ca5e69e2c78b3239ecfab21649"
        );
        assert_eq!(
            hex(&hmac_sha512(key, msg)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn query_encodes_non_ascii_like_binance_docs() {
        let mut q = Query::new();
        q.push("symbol", "１２３４５６").push("side", "BUY");
        assert_eq!(
            q.as_str(),
            "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY"
        );
    }

    #[test]
    fn base64url_has_no_padding_and_url_safe_digits() {
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_encode(b"f"), "Zg");
    }

    #[test]
    fn base64_round_trip_and_error() {
        assert_eq!(base64_decode(&base64_encode(b"abc")).unwrap(), b"abc");
        assert!(base64_decode("not base64!").is_err());
    }
}
