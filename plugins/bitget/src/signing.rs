//! Signing for the `bitget` connector.
//!
//! Bitget's recipe ("Signature" in the API docs): the string signed is
//! `timestamp + METHOD + requestPath + ("?" + queryString if there is one) + body`, the
//! timestamp in ms; `ACCESS-SIGN` is its base64 HMAC-SHA256 keyed with the secret. Key,
//! timestamp and passphrase (in plain text) travel in `ACCESS-KEY`, `ACCESS-TIMESTAMP` and
//! `ACCESS-PASSPHRASE`. The query string is signed as its decoded `key=value` pairs joined
//! by `&` (what Bitget checks, and what its reference clients sign) and sent percent-encoded;
//! for the ASCII parameters this connector sends the two are the same bytes.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{base64_encode, hmac_sha256, Query};

use crate::endpoints::{KEY_HEADER, PASSPHRASE_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one key, secret and passphrase.
#[derive(Clone)]
pub(crate) struct BitgetSigner {
    api_key: String,
    secret: String,
    passphrase: String,
}

impl fmt::Debug for BitgetSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitgetSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .finish()
    }
}

/// The query of one request: as sent (percent-encoded) and as signed (decoded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SignedQuery {
    pub(crate) sent: String,
    pub(crate) signed: String,
}

impl BitgetSigner {
    pub(crate) fn new(api_key: &str, secret: &str, passphrase: &str) -> BitgetSigner {
        BitgetSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            passphrase: passphrase.to_owned(),
        }
    }

    /// The string Bitget signs.
    pub(crate) fn prehash(
        timestamp_ms: i64,
        method: &str,
        path: &str,
        signed_query: &str,
        body: &str,
    ) -> String {
        if signed_query.is_empty() {
            format!("{timestamp_ms}{method}{path}{body}")
        } else {
            format!("{timestamp_ms}{method}{path}?{signed_query}{body}")
        }
    }

    /// Base64 HMAC-SHA256 of the prehash under the secret.
    pub(crate) fn signature(
        &self,
        timestamp_ms: i64,
        method: &str,
        path: &str,
        signed_query: &str,
        body: &str,
    ) -> String {
        let prehash = Self::prehash(timestamp_ms, method, path, signed_query, body);
        base64_encode(&hmac_sha256(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The four authentication headers of a GET of `path` with `query`.
    pub(crate) fn headers(
        &self,
        timestamp_ms: i64,
        path: &str,
        query: &SignedQuery,
    ) -> [(&'static str, String); 4] {
        [
            (KEY_HEADER, self.api_key.clone()),
            (
                SIGN_HEADER,
                self.signature(timestamp_ms, "GET", path, &query.signed, ""),
            ),
            (TIMESTAMP_HEADER, timestamp_ms.to_string()),
            (PASSPHRASE_HEADER, self.passphrase.clone()),
        ]
    }
}

/// The query of `params`, in order: percent-encoded to send, decoded to sign.
pub(crate) fn query(params: &[(&str, String)]) -> SignedQuery {
    let mut sent = Query::new();
    let mut signed = String::new();
    for (key, value) in params {
        sent.push(key, value);
        if !signed.is_empty() {
            signed.push('&');
        }
        signed.push_str(key);
        signed.push('=');
        signed.push_str(value);
    }
    SignedQuery {
        sent: sent.as_str().to_owned(),
        signed,
    }
}

/// The timestamp to send: our clock, corrected by Bitget's (`server - local`) offset when the
/// integration asks for it.
pub(crate) fn timestamp(local_now_ms: i64, offset_ms: i64) -> i64 {
    local_now_ms + offset_ms
}
