//! Signing for the `okx` connector.
//!
//! OKX's v5 recipe ("REST Authentication"): `OK-ACCESS-SIGN` is the standard base64 of the
//! HMAC-SHA256, keyed with the secret key as UTF-8 bytes, of
//! `timestamp + METHOD + requestPath + body`, where `timestamp` is the `OK-ACCESS-TIMESTAMP`
//! value (ISO 8601 UTC with milliseconds, `2020-12-08T09:08:57.715Z`), `requestPath` is the
//! path with its `?query` for a GET, and `body` is the JSON body of a POST (empty for a GET).
//! The key, the timestamp and the passphrase (plain, as set when the key was created) travel
//! in their own headers.
//!
//! Pure: the caller supplies the time (its clock plus the server-time offset).

use std::fmt;

use exsync_plugin_api::signing::{base64_encode, hmac_sha256, Query};
use exsync_plugin_api::time::format_rfc3339_ms;

use crate::endpoints::{KEY_HEADER, PASSPHRASE_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one key, secret and passphrase.
#[derive(Clone)]
pub(crate) struct OkxSigner {
    api_key: String,
    secret: String,
    passphrase: String,
}

impl fmt::Debug for OkxSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OkxSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .finish()
    }
}

impl OkxSigner {
    pub(crate) fn new(api_key: &str, secret: &str, passphrase: &str) -> OkxSigner {
        OkxSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            passphrase: passphrase.to_owned(),
        }
    }

    /// `base64(HMAC_SHA256(secret, timestamp + method + request_path + body))`.
    pub(crate) fn signature(
        &self,
        timestamp: &str,
        method: &str,
        request_path: &str,
        body: &str,
    ) -> String {
        let prehash = prehash(timestamp, method, request_path, body);
        base64_encode(&hmac_sha256(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The four authentication headers of a request sent at `timestamp_ms` (OKX's clock).
    pub(crate) fn headers(
        &self,
        timestamp_ms: i64,
        method: &str,
        request_path: &str,
        body: &str,
    ) -> Vec<(&'static str, String)> {
        let timestamp = format_rfc3339_ms(timestamp_ms);
        let sign = self.signature(&timestamp, method, request_path, body);
        vec![
            (KEY_HEADER, self.api_key.clone()),
            (SIGN_HEADER, sign),
            (TIMESTAMP_HEADER, timestamp),
            (PASSPHRASE_HEADER, self.passphrase.clone()),
        ]
    }
}

/// The string OKX signs.
pub(crate) fn prehash(timestamp: &str, method: &str, request_path: &str, body: &str) -> String {
    format!(
        "{timestamp}{}{request_path}{body}",
        method.to_ascii_uppercase()
    )
}

/// A query string of `params` in order, each key and value percent-encoded. OKX signs the
/// query exactly as sent, so this one string is both signed and sent.
pub(crate) fn query(params: &[(&str, String)]) -> Query {
    let mut query = Query::new();
    for (key, value) in params {
        query.push(key, value);
    }
    query
}

/// OKX's clock: ours corrected by the (`server - local`) offset.
pub(crate) fn timestamp(local_now_ms: i64, server_offset_ms: i64) -> i64 {
    local_now_ms + server_offset_ms
}
