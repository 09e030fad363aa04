//! Signing for the `falconx` connector.
//!
//! FalconX's recipe (docs.falconx.io "Authentication"; the official Python client's
//! `FXRfqAuth`, the same in `falconx-node`): `FX-ACCESS-SIGN` is the standard base64 of
//! HMAC-SHA256 keyed with the *base64-decoded* secret, over `timestamp + METHOD + path_url +
//! body`. The timestamp is Unix seconds as a decimal fraction (Python's `str(time.time())`,
//! e.g. `1700000000.123`), sent verbatim in `FX-ACCESS-TIMESTAMP`; `path_url` is the path
//! *with* its `?query` exactly as sent; the body is empty for a GET. The key and the
//! passphrase travel in plain headers.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{base64_encode, hmac_sha256};

use crate::endpoints::{KEY_HEADER, PASSPHRASE_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one secret, and carries the key and passphrase.
#[derive(Clone)]
pub(crate) struct FalconxSigner {
    api_key: String,
    passphrase: String,
    /// The secret, base64-decoded: the HMAC key.
    secret: Vec<u8>,
}

impl fmt::Debug for FalconxSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FalconxSigner")
            .field("api_key", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

impl FalconxSigner {
    /// `secret` is the decoded secret (see [`crate::config`]).
    pub(crate) fn new(api_key: &str, passphrase: &str, secret: &[u8]) -> FalconxSigner {
        FalconxSigner {
            api_key: api_key.to_owned(),
            passphrase: passphrase.to_owned(),
            secret: secret.to_vec(),
        }
    }

    /// The message FalconX signs: `timestamp + METHOD + path_url + body`.
    pub(crate) fn prehash(timestamp: &str, method: &str, path_url: &str, body: &str) -> String {
        format!("{timestamp}{method}{path_url}{body}")
    }

    /// Base64 HMAC-SHA256 of the prehash under the decoded secret.
    pub(crate) fn signature(
        &self,
        timestamp: &str,
        method: &str,
        path_url: &str,
        body: &str,
    ) -> String {
        base64_encode(&hmac_sha256(
            &self.secret,
            Self::prehash(timestamp, method, path_url, body).as_bytes(),
        ))
    }

    /// The four authentication headers of one request.
    pub(crate) fn headers(
        &self,
        timestamp: &str,
        method: &str,
        path_url: &str,
        body: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            (
                SIGN_HEADER,
                self.signature(timestamp, method, path_url, body),
            ),
            (TIMESTAMP_HEADER, timestamp.to_owned()),
            (KEY_HEADER, self.api_key.clone()),
            (PASSPHRASE_HEADER, self.passphrase.clone()),
        ]
    }
}

/// `FX-ACCESS-TIMESTAMP` for our clock: Unix seconds with three decimals (`1700000000.123`),
/// the form of Python's `str(time.time())` to the millisecond.
pub(crate) fn timestamp(now_ms: i64) -> String {
    format!("{}.{:03}", now_ms.div_euclid(1000), now_ms.rem_euclid(1000))
}
