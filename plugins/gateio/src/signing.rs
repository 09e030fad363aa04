//! Signing for the `gateio` connector.
//!
//! Gate's APIv4 recipe ("Authentication" in the APIv4 docs): the string signed is
//!
//! ```text
//! METHOD \n /api/v4/path \n query_string \n hex(SHA512(body)) \n timestamp
//! ```
//!
//! where the query string is exactly as sent (empty when there is none), the body's hash is
//! that of the empty string for a GET, and the timestamp is in whole seconds. `SIGN` is the
//! lower-case hex HMAC-SHA512 of it under the secret; `KEY` and `Timestamp` travel beside it.
//! Gate accepts a request whose timestamp is within 60 s of its clock. No nonce: nothing has to
//! increase from one request to the next, so nothing survives a restart.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha512, Query};
use sha2::{Digest, Sha512};

use crate::endpoints::{KEY_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one key pair.
#[derive(Clone)]
pub(crate) struct GateioSigner {
    api_key: String,
    secret: String,
}

impl fmt::Debug for GateioSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateioSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Lower-case hex SHA-512 of `body` (Gate's `HexEncode(SHA512(payload))`).
pub(crate) fn body_hash(body: &[u8]) -> String {
    hex(&Sha512::digest(body))
}

impl GateioSigner {
    pub(crate) fn new(api_key: &str, secret: &str) -> GateioSigner {
        GateioSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// The string Gate signs.
    pub(crate) fn prehash(
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        timestamp_s: i64,
    ) -> String {
        format!(
            "{method}\n{path}\n{query}\n{}\n{timestamp_s}",
            body_hash(body)
        )
    }

    /// Lower-case hex HMAC-SHA512 of the prehash under the secret.
    pub(crate) fn signature(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        timestamp_s: i64,
    ) -> String {
        let prehash = Self::prehash(method, path, query, body, timestamp_s);
        hex(&hmac_sha512(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The three authentication headers of a GET of `path` (with `/api/v4`) and `query`.
    pub(crate) fn headers(
        &self,
        path: &str,
        query: &str,
        timestamp_s: i64,
    ) -> [(&'static str, String); 3] {
        [
            (KEY_HEADER, self.api_key.clone()),
            (TIMESTAMP_HEADER, timestamp_s.to_string()),
            (
                SIGN_HEADER,
                self.signature("GET", path, query, b"", timestamp_s),
            ),
        ]
    }
}

/// A query string of `params` in order, each key and value percent-encoded. It is signed
/// exactly as sent. (Every value this connector sends is plain ASCII letters, digits and `_`,
/// which percent-encoding leaves as they are, so the raw and the encoded query are the same.)
pub(crate) fn query(params: &[(&str, String)]) -> Query {
    let mut query = Query::new();
    for (key, value) in params {
        query.push(key, value);
    }
    query
}

/// The timestamp to send, in seconds: our clock, corrected by Gate's (`server - local`) offset
/// when the integration asks for it.
pub(crate) fn timestamp_s(local_now_ms: i64, offset_ms: i64) -> i64 {
    (local_now_ms + offset_ms).div_euclid(1000)
}
