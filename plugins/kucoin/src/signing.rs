//! Signing for the `kucoin` connector.
//!
//! KuCoin's API key version 2 recipe: `KC-API-SIGN` is the base64 HMAC-SHA256, keyed with the
//! API secret, of `timestamp + METHOD + endpoint + body`, where `endpoint` is the path with its
//! `?query` (GET, DELETE) and `body` the JSON body (POST; empty for GET). The passphrase is not
//! sent as typed: `KC-API-PASSPHRASE` is the base64 HMAC-SHA256 of the passphrase under the same
//! secret. `KC-API-TIMESTAMP` is the ms timestamp signed; `KC-API-KEY-VERSION` is `2`.
//! ccxt's broker headers (`KC-API-PARTNER*`) are not ours and are never sent.
//!
//! Pure: the caller supplies the timestamp (its clock plus the server-time offset).

use std::fmt;

use exsync_plugin_api::signing::{base64_encode, hmac_sha256};

use crate::endpoints::{
    HEADER_KEY, HEADER_KEY_VERSION, HEADER_PASSPHRASE, HEADER_SIGN, HEADER_TIMESTAMP, KEY_VERSION,
};

/// Signs requests with one key, secret and passphrase.
#[derive(Clone)]
pub(crate) struct KucoinSigner {
    api_key: String,
    secret: String,
    /// Already HMAC'd: the value `KC-API-PASSPHRASE` carries.
    signed_passphrase: String,
}

impl fmt::Debug for KucoinSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KucoinSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .finish()
    }
}

impl KucoinSigner {
    pub(crate) fn new(api_key: &str, secret: &str, passphrase: &str) -> KucoinSigner {
        KucoinSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            signed_passphrase: sign_passphrase(secret, passphrase),
        }
    }

    /// `KC-API-SIGN` of one request.
    pub(crate) fn signature(
        &self,
        timestamp_ms: i64,
        method: &str,
        path_and_query: &str,
        body: &str,
    ) -> String {
        let prehash = prehash(timestamp_ms, method, path_and_query, body);
        base64_encode(&hmac_sha256(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// Every header of a signed request, in the order KuCoin's docs list them.
    pub(crate) fn headers(
        &self,
        timestamp_ms: i64,
        method: &str,
        path_and_query: &str,
        body: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            (HEADER_KEY, self.api_key.clone()),
            (
                HEADER_SIGN,
                self.signature(timestamp_ms, method, path_and_query, body),
            ),
            (HEADER_TIMESTAMP, timestamp_ms.to_string()),
            (HEADER_PASSPHRASE, self.signed_passphrase.clone()),
            (HEADER_KEY_VERSION, KEY_VERSION.to_owned()),
        ]
    }
}

/// The string KuCoin signs: `timestamp + METHOD + endpoint + body`.
pub(crate) fn prehash(timestamp_ms: i64, method: &str, path_and_query: &str, body: &str) -> String {
    format!(
        "{timestamp_ms}{}{path_and_query}{body}",
        method.to_ascii_uppercase()
    )
}

/// `KC-API-PASSPHRASE` for key version 2: base64 HMAC-SHA256 of the passphrase.
pub(crate) fn sign_passphrase(secret: &str, passphrase: &str) -> String {
    base64_encode(&hmac_sha256(secret.as_bytes(), passphrase.as_bytes()))
}

/// The timestamp to send: our clock corrected by KuCoin's (`server - local`) offset.
pub(crate) fn timestamp(local_now_ms: i64, server_offset_ms: i64) -> i64 {
    local_now_ms + server_offset_ms
}
