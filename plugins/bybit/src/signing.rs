//! Signing for the `bybit` connector.
//!
//! Bybit's v5 HMAC recipe ("Authentication" in the v5 docs): the string signed is
//! `timestamp + api_key + recv_window + payload`, where the payload is the exact query string
//! sent (GET) or the JSON body (POST); `X-BAPI-SIGN` is its lower-case hex HMAC-SHA256 keyed
//! with the secret. The timestamp (ms), key and receive window travel in `X-BAPI-TIMESTAMP`,
//! `X-BAPI-API-KEY` and `X-BAPI-RECV-WINDOW`. Bybit accepts a request when
//! `server_time - recv_window <= timestamp < server_time + 1000`.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha256, Query};

use crate::endpoints::{API_KEY_HEADER, RECV_WINDOW_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one key pair.
#[derive(Clone)]
pub(crate) struct BybitSigner {
    api_key: String,
    secret: String,
}

impl fmt::Debug for BybitSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BybitSigner")
            .field("api_key", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl BybitSigner {
    pub(crate) fn new(api_key: &str, secret: &str) -> BybitSigner {
        BybitSigner {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// The string Bybit signs: `timestamp + api_key + recv_window + payload`.
    pub(crate) fn prehash(&self, timestamp_ms: i64, recv_window_ms: u64, payload: &str) -> String {
        format!("{timestamp_ms}{}{recv_window_ms}{payload}", self.api_key)
    }

    /// Lower-case hex HMAC-SHA256 of the prehash under the secret.
    pub(crate) fn signature(
        &self,
        timestamp_ms: i64,
        recv_window_ms: u64,
        payload: &str,
    ) -> String {
        let prehash = self.prehash(timestamp_ms, recv_window_ms, payload);
        hex(&hmac_sha256(self.secret.as_bytes(), prehash.as_bytes()))
    }

    /// The four authentication headers of a request whose query string (or body) is `payload`.
    pub(crate) fn headers(
        &self,
        timestamp_ms: i64,
        recv_window_ms: u64,
        payload: &str,
    ) -> [(&'static str, String); 4] {
        [
            (API_KEY_HEADER, self.api_key.clone()),
            (TIMESTAMP_HEADER, timestamp_ms.to_string()),
            (RECV_WINDOW_HEADER, recv_window_ms.to_string()),
            (
                SIGN_HEADER,
                self.signature(timestamp_ms, recv_window_ms, payload),
            ),
        ]
    }
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

/// The timestamp to send: our clock, corrected by Bybit's (`server - local`) offset when the
/// integration asks for it.
pub(crate) fn timestamp(local_now_ms: i64, offset_ms: i64) -> i64 {
    local_now_ms + offset_ms
}
