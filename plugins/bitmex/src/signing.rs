//! Signing for the `bitmex` connector.
//!
//! BitMEX's recipe ("API Key Usage" in its docs): the string signed is
//! `VERB + path + expires + body`, where the path starts at `/api/v1` and carries the query
//! string exactly as sent, `expires` is a Unix time in seconds after which BitMEX refuses the
//! request, and the body is the JSON sent (empty for a GET). `api-signature` is its lower-case
//! hex HMAC-SHA256 keyed with the secret; the key and expiry travel in `api-key` and
//! `api-expires`. No nonce: a request may be sent any number of times until it expires.
//!
//! Pure: the caller supplies the expiry.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha256, Query};

use crate::endpoints::{API_KEY_HEADER, EXPIRES_HEADER, SIGNATURE_HEADER};

/// Signs requests with one key pair.
#[derive(Clone)]
pub(crate) struct BitmexSigner {
    api_key: String,
    secret: String,
}

impl fmt::Debug for BitmexSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitmexSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl BitmexSigner {
    pub(crate) fn new(api_key: &str, secret: &str) -> BitmexSigner {
        BitmexSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// The string BitMEX signs: `VERB + path_and_query + expires + body`.
    pub(crate) fn prehash(method: &str, path_and_query: &str, expires: i64, body: &str) -> String {
        format!("{method}{path_and_query}{expires}{body}")
    }

    /// Lower-case hex HMAC-SHA256 of the prehash under the secret.
    pub(crate) fn signature(
        &self,
        method: &str,
        path_and_query: &str,
        expires: i64,
        body: &str,
    ) -> String {
        let prehash = Self::prehash(method, path_and_query, expires, body);
        hex(&hmac_sha256(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The three authentication headers of a request.
    pub(crate) fn headers(
        &self,
        method: &str,
        path_and_query: &str,
        expires: i64,
        body: &str,
    ) -> [(&'static str, String); 3] {
        [
            (API_KEY_HEADER, self.api_key.clone()),
            (EXPIRES_HEADER, expires.to_string()),
            (
                SIGNATURE_HEADER,
                self.signature(method, path_and_query, expires, body),
            ),
        ]
    }
}

/// The `api-expires` of a request signed at `now_ms` (BitMEX's clock as we know it): whole
/// seconds, `after_s` from now.
pub(crate) fn expires(now_ms: i64, after_s: i64) -> i64 {
    now_ms.div_euclid(1000) + after_s
}

/// A query string of `params` in order, each key and value percent-encoded. It is signed
/// exactly as sent.
pub(crate) fn query(params: &[(&str, String)]) -> Query {
    let mut query = Query::new();
    for (key, value) in params {
        query.push(key, value);
    }
    query
}
