//! Signing for the `gemini` connector.
//!
//! Gemini's recipe (REST documentation, "Private API invocation"): every private call is a
//! POST whose parameters travel as a JSON payload `{"request": "/v1/<path>", "nonce": N, …}`;
//! `X-GEMINI-PAYLOAD` is the payload in standard base64, `X-GEMINI-SIGNATURE` the lower-case
//! hex of `HMAC-SHA384(key = the API secret as UTF-8, message = the base64 payload)`, and the
//! key travels in `X-GEMINI-APIKEY`. The body is empty. Whitespace in the payload is allowed:
//! the signature covers exactly the base64 text sent.
//!
//! Nonces must strictly increase per API key, across restarts too. The plugin cannot keep a
//! file, so the nonce is the host clock in milliseconds (what Gemini recommends, and what a
//! key set to time-based nonces requires: within 30 s of Gemini's clock), never less than the
//! last one plus one. Within a process it never goes back; a restarted process starts from a
//! clock past every nonce the previous one used, since the rate limit (600 a minute) keeps
//! the counter from running ahead of the clock.
//!
//! Pure: the caller supplies the clock and the last nonce.

use std::fmt;

use exsync_plugin_api::signing::{base64_encode, hex, hmac_sha384};
use serde_json::Value;

/// Signs payloads with one API secret.
#[derive(Clone)]
pub(crate) struct GeminiSigner {
    secret: Vec<u8>,
}

impl fmt::Debug for GeminiSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiSigner")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl GeminiSigner {
    pub(crate) fn new(api_secret: &str) -> GeminiSigner {
        GeminiSigner {
            secret: api_secret.as_bytes().to_vec(),
        }
    }

    /// `X-GEMINI-SIGNATURE` of an `X-GEMINI-PAYLOAD` value.
    pub(crate) fn signature(&self, payload_base64: &str) -> String {
        hex(&hmac_sha384(&self.secret, payload_base64.as_bytes()))
    }

    /// The three headers of a call: key, payload and signature.
    pub(crate) fn headers(&self, api_key: &str, payload_json: &str) -> [(&'static str, String); 3] {
        let payload = base64_encode(payload_json.as_bytes());
        let signature = self.signature(&payload);
        [
            (crate::endpoints::API_KEY_HEADER, api_key.to_owned()),
            (crate::endpoints::PAYLOAD_HEADER, payload),
            (crate::endpoints::SIGNATURE_HEADER, signature),
        ]
    }
}

/// The payload JSON of a call to `path`: `request`, then `nonce` (a string, as ccxt sends
/// it), then `params` in order. Compact, with keys in this order, so one call always signs the
/// same bytes.
pub(crate) fn payload(path: &str, nonce: u64, params: &[(&str, Value)]) -> String {
    let mut text = String::with_capacity(64);
    text.push_str("{\"request\":");
    text.push_str(&Value::from(path).to_string());
    text.push_str(",\"nonce\":");
    text.push_str(&Value::from(nonce.to_string()).to_string());
    for (key, value) in params {
        text.push(',');
        text.push_str(&Value::from(*key).to_string());
        text.push(':');
        text.push_str(&value.to_string());
    }
    text.push('}');
    text
}

/// The next nonce: the clock in ms, but always above `last`.
pub(crate) fn next_nonce(now_ms: i64, last: u64) -> u64 {
    let clock = u64::try_from(now_ms).unwrap_or(0);
    clock.max(last.saturating_add(1))
}
