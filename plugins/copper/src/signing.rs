//! Signing for the `copper` connector.
//!
//! Copper's recipe (developer.copper.co, "Authentication"): `X-Signature` is the lowercase
//! hex of HMAC-SHA256 keyed with the API secret's UTF-8 bytes over
//! `X-Timestamp + METHOD + path + body`. The timestamp is Unix **milliseconds**; the path is
//! the URL's path *including* the `/platform` prefix *and* the query string
//! (`/platform/orders?limit=1000`); the body is empty for a GET. The key travels as
//! `Authorization: ApiKey <key>`.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha256};

use crate::endpoints::{AUTHORIZATION_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one API secret, and carries the API key.
#[derive(Clone)]
pub(crate) struct CopperSigner {
    api_key: String,
    api_secret: String,
}

impl fmt::Debug for CopperSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopperSigner")
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

impl CopperSigner {
    pub(crate) fn new(api_key: &str, api_secret: &str) -> CopperSigner {
        CopperSigner {
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
        }
    }

    /// The message Copper signs: `timestamp + METHOD + path?query + body`.
    pub(crate) fn prehash(timestamp_ms: i64, method: &str, path: &str, body: &str) -> String {
        format!("{timestamp_ms}{method}{path}{body}")
    }

    /// Hex HMAC-SHA256 of the prehash under the secret's UTF-8 bytes.
    pub(crate) fn signature(
        &self,
        timestamp_ms: i64,
        method: &str,
        path: &str,
        body: &str,
    ) -> String {
        hex(&hmac_sha256(
            self.api_secret.as_bytes(),
            Self::prehash(timestamp_ms, method, path, body).as_bytes(),
        ))
    }

    /// The authentication headers of one request. `path` holds the query string, if any.
    pub(crate) fn headers(
        &self,
        timestamp_ms: i64,
        method: &str,
        path: &str,
        body: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            (AUTHORIZATION_HEADER, format!("ApiKey {}", self.api_key)),
            (TIMESTAMP_HEADER, timestamp_ms.to_string()),
            (
                SIGNATURE_HEADER,
                self.signature(timestamp_ms, method, path, body),
            ),
        ]
    }
}

/// The path of an absolute URL *with* its query string: what Copper signs.
pub(crate) fn signed_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/", |i| &rest[i..])
}
