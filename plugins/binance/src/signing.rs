//! Signing for the `binance` connector.
//!
//! Binance's HMAC recipe (request-security docs): `signature` is the lower-case hex
//! HMAC-SHA256, keyed with the secret key, of `totalParams`: the exact query string sent
//! (GET) with every value percent-encoded as UTF-8, `timestamp` included. The signature is
//! appended last, the API key travels in the `X-MBX-APIKEY` header.
//!
//! Pure: the caller supplies the timestamp (its clock plus the server-time offset).

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha256, Query};

/// Signs query strings with one secret key.
#[derive(Clone)]
pub(crate) struct BinanceSigner {
    secret: String,
}

impl fmt::Debug for BinanceSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceSigner")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl BinanceSigner {
    pub(crate) fn new(secret: &str) -> BinanceSigner {
        BinanceSigner {
            secret: secret.to_owned(),
        }
    }

    /// Lower-case hex HMAC-SHA256 of `total_params` under the secret key.
    pub(crate) fn signature(&self, total_params: &str) -> String {
        hex(&hmac_sha256(
            self.secret.as_bytes(),
            total_params.as_bytes(),
        ))
    }

    /// `query` followed by `&signature=<hex>`: the query string to send.
    pub(crate) fn sign(&self, query: &Query) -> String {
        let signature = self.signature(query.as_str());
        if query.is_empty() {
            format!("signature={signature}")
        } else {
            format!("{}&signature={signature}", query.as_str())
        }
    }

    /// The signed query string of a request: `params` in order (percent-encoded), then
    /// `recvWindow` and `timestamp`, then the signature.
    pub(crate) fn signed_query(
        &self,
        params: &[(&str, String)],
        recv_window_ms: u64,
        timestamp_ms: i64,
    ) -> String {
        self.sign(&unsigned_query(params, recv_window_ms, timestamp_ms))
    }
}

/// The query string that gets signed: `params`, `recvWindow`, `timestamp`.
pub(crate) fn unsigned_query(
    params: &[(&str, String)],
    recv_window_ms: u64,
    timestamp_ms: i64,
) -> Query {
    let mut query = plain_query(params);
    query.push("recvWindow", recv_window_ms.to_string());
    query.push("timestamp", timestamp_ms.to_string());
    query
}

/// A query string of `params` in order, each key and value percent-encoded.
pub(crate) fn plain_query(params: &[(&str, String)]) -> Query {
    let mut query = Query::new();
    for (key, value) in params {
        query.push(key, value);
    }
    query
}

/// The `timestamp` to send: our clock corrected by Binance's (`server - local`) offset.
pub(crate) fn timestamp(local_now_ms: i64, server_offset_ms: i64) -> i64 {
    local_now_ms + server_offset_ms
}
