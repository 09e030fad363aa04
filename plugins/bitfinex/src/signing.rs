//! Signing for the `bitfinex` connector.
//!
//! Bitfinex's v2 recipe ("Authenticated endpoints" in the REST docs): every authenticated
//! call is a POST with a JSON body (`{}` when there are no parameters); the string signed is
//! `"/api" + path + nonce + body`, where the path is the URL path (`/v2/auth/r/wallets`) and
//! the body the exact bytes sent; `bfx-signature` is its lower-case hex HMAC-SHA384 keyed
//! with the API secret. The nonce and the key travel in `bfx-nonce` and `bfx-apikey`.
//!
//! Nonces must strictly increase per API key, across restarts too. A plugin keeps no file, so
//! the nonce is the host clock in *microseconds*, and never less than the last one plus one:
//! within a process it never goes back, and a restarted process starts from a clock that is
//! past every nonce the previous one used (it would have had to send more than a thousand
//! requests a millisecond to get ahead of its clock). Microseconds stay far below the largest
//! nonce Bitfinex takes (2^53 - 1), and above any millisecond nonce a key used before.
//!
//! Pure: the caller supplies the clock and the last nonce.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha384};

use crate::endpoints::{API_KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER};

/// Signs requests with one key pair.
#[derive(Clone)]
pub(crate) struct BitfinexSigner {
    api_key: String,
    secret: String,
}

impl fmt::Debug for BitfinexSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitfinexSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl BitfinexSigner {
    pub(crate) fn new(api_key: &str, secret: &str) -> BitfinexSigner {
        BitfinexSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// The string Bitfinex signs: `signature_path + nonce + body`, the signature path being
    /// `/api/v2/...`.
    pub(crate) fn prehash(signature_path: &str, nonce: &str, body: &str) -> String {
        format!("{signature_path}{nonce}{body}")
    }

    /// Lower-case hex HMAC-SHA384 of the prehash under the secret.
    pub(crate) fn signature(&self, signature_path: &str, nonce: &str, body: &str) -> String {
        let prehash = Self::prehash(signature_path, nonce, body);
        hex(&hmac_sha384(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The three authentication headers of a call to `signature_path` with `body`.
    pub(crate) fn headers(
        &self,
        signature_path: &str,
        nonce: u64,
        body: &str,
    ) -> [(&'static str, String); 3] {
        let nonce = nonce.to_string();
        [
            (NONCE_HEADER, nonce.clone()),
            (API_KEY_HEADER, self.api_key.clone()),
            (
                SIGNATURE_HEADER,
                self.signature(signature_path, &nonce, body),
            ),
        ]
    }
}

/// The JSON body of an authenticated call: `params` in order, integer values; `{}` when
/// there are none. It is signed exactly as sent.
pub(crate) fn body(params: &[(&str, i64)]) -> String {
    let fields: Vec<String> = params
        .iter()
        .map(|(key, value)| format!("{}:{value}", serde_json::Value::from(*key)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// The next nonce: the clock in µs, but always above `last`.
pub(crate) fn next_nonce(now_ms: i64, last: u64) -> u64 {
    let clock = u64::try_from(now_ms).unwrap_or(0).saturating_mul(1000);
    clock.max(last.saturating_add(1))
}
