//! Signing for the `coinbase-prime` connector.
//!
//! Prime's recipe (REST API "Authentication"; the official Go SDK's `sign`):
//! `X-CB-ACCESS-SIGNATURE` is the standard base64 of HMAC-SHA256 keyed with the signing key
//! *as its UTF-8 bytes* (it is not base64-decoded first), over `timestamp + METHOD + path +
//! body`. The timestamp is whole Unix seconds and must be within 30 s of Prime's clock; the
//! path is the URL path *without* the query string; the body is empty for a GET. The access
//! key and the passphrase travel in plain headers.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{base64_encode, hmac_sha256};

use crate::endpoints::{ACCESS_KEY_HEADER, PASSPHRASE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one signing key, and carries the access key and passphrase.
#[derive(Clone)]
pub(crate) struct CoinbasePrimeSigner {
    access_key: String,
    passphrase: String,
    signing_key: String,
}

impl fmt::Debug for CoinbasePrimeSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoinbasePrimeSigner")
            .field("api_key", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

impl CoinbasePrimeSigner {
    pub(crate) fn new(
        access_key: &str,
        passphrase: &str,
        signing_key: &str,
    ) -> CoinbasePrimeSigner {
        CoinbasePrimeSigner {
            access_key: access_key.to_owned(),
            passphrase: passphrase.to_owned(),
            signing_key: signing_key.to_owned(),
        }
    }

    /// The message Prime signs: `timestamp + METHOD + path + body`.
    pub(crate) fn prehash(timestamp_s: i64, method: &str, path: &str, body: &str) -> String {
        format!("{timestamp_s}{method}{path}{body}")
    }

    /// Base64 HMAC-SHA256 of the prehash under the signing key's UTF-8 bytes.
    pub(crate) fn signature(
        &self,
        timestamp_s: i64,
        method: &str,
        path: &str,
        body: &str,
    ) -> String {
        base64_encode(&hmac_sha256(
            self.signing_key.as_bytes(),
            Self::prehash(timestamp_s, method, path, body).as_bytes(),
        ))
    }

    /// The four authentication headers of one request. `path` must not hold a query string.
    pub(crate) fn headers(
        &self,
        timestamp_s: i64,
        method: &str,
        path: &str,
        body: &str,
    ) -> Vec<(&'static str, String)> {
        debug_assert!(
            !path.contains('?'),
            "Prime signs the path without its query"
        );
        vec![
            (ACCESS_KEY_HEADER, self.access_key.clone()),
            (PASSPHRASE_HEADER, self.passphrase.clone()),
            (
                SIGNATURE_HEADER,
                self.signature(timestamp_s, method, path, body),
            ),
            (TIMESTAMP_HEADER, timestamp_s.to_string()),
        ]
    }
}

/// `X-CB-ACCESS-TIMESTAMP` for our clock: whole Unix seconds.
pub(crate) fn timestamp_s(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000)
}

/// The path of an absolute URL, without its query string: what Prime signs.
pub(crate) fn signed_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split_once('?').map_or(path, |(p, _)| p)
}
