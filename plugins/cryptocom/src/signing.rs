//! Signing for the `cryptocom` connector.
//!
//! Crypto.com Exchange v1 ("Digital Signature" in the v1 docs): every private call is a POST
//! whose JSON body is `{"id", "method", "params", "api_key", "sig", "nonce"}`. The string
//! signed is `method + id + api_key + params_string + nonce`, where `params_string` is the
//! parameters with their keys sorted, each key followed by its value, no separators; a list
//! contributes each element in turn (an object element recursing the same way), to a depth of
//! three; empty parameters give "". `sig` is the lower-case hex HMAC-SHA256 of that string
//! keyed with the secret. The nonce is the time in ms and must lie within 60 s of the
//! exchange's clock; the id is any integer the answer echoes (we send the nonce, as ccxt does).
//!
//! Pure: the caller supplies the nonce.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha256};
use serde_json::{Map, Value};

/// How deep the exchange's `params_to_str` recurses into lists.
const MAX_LEVEL: usize = 3;

/// Signs requests with one key pair.
#[derive(Clone)]
pub(crate) struct CryptocomSigner {
    api_key: String,
    secret: String,
}

impl fmt::Debug for CryptocomSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptocomSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl CryptocomSigner {
    pub(crate) fn new(api_key: &str, secret: &str) -> CryptocomSigner {
        CryptocomSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// The string the exchange signs: `method + id + api_key + params_string + nonce`.
    pub(crate) fn prehash(
        &self,
        method: &str,
        id: i64,
        params: &Map<String, Value>,
        nonce: i64,
    ) -> String {
        format!(
            "{method}{id}{}{}{nonce}",
            self.api_key,
            params_to_string(params, 0)
        )
    }

    /// Lower-case hex HMAC-SHA256 of the prehash under the secret.
    pub(crate) fn signature(
        &self,
        method: &str,
        id: i64,
        params: &Map<String, Value>,
        nonce: i64,
    ) -> String {
        let prehash = self.prehash(method, id, params, nonce);
        hex(&hmac_sha256(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The JSON body of a private call, signed.
    pub(crate) fn body(
        &self,
        method: &str,
        id: i64,
        params: &Map<String, Value>,
        nonce: i64,
    ) -> String {
        let body = serde_json::json!({
            "id": id,
            "method": method,
            "params": params,
            "api_key": self.api_key,
            "sig": self.signature(method, id, params, nonce),
            "nonce": nonce,
        });
        body.to_string()
    }
}

/// The exchange's `params_to_str`: keys sorted, `key + value` concatenated; a list adds its
/// elements one after the other (objects recursing), up to [`MAX_LEVEL`].
pub(crate) fn params_to_string(params: &Map<String, Value>, level: usize) -> String {
    let mut out = String::new();
    let mut keys: Vec<&String> = params.keys().collect();
    keys.sort();
    for key in keys {
        out.push_str(key);
        match &params[key.as_str()] {
            Value::Array(items) => {
                for item in items {
                    out.push_str(&element_to_string(item, level + 1));
                }
            }
            other => out.push_str(&scalar_to_string(other)),
        }
    }
    out
}

fn element_to_string(value: &Value, level: usize) -> String {
    match value {
        Value::Object(map) if level < MAX_LEVEL => params_to_string(map, level),
        other => scalar_to_string(other),
    }
}

/// A value as the exchange's reference code prints it: a string as is, a number in its
/// JSON form, `null`. unconfirmed: booleans and nested objects (we never send either).
fn scalar_to_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// The nonce to send: our clock, corrected by the kept (`server - local`) offset, and never
/// below the last one sent (`last`), so two calls in the same millisecond still differ.
pub(crate) fn next_nonce(local_now_ms: i64, offset_ms: i64, last: i64) -> i64 {
    (local_now_ms + offset_ms).max(last + 1)
}
