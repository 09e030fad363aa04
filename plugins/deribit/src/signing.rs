//! Signing for the `deribit` connector.
//!
//! Deribit's "Authentication" section gives two recipes on one base:
//! `StringToSign = Timestamp + "\n" + Nonce + "\n" + Data` and
//! `Signature = HEX(HMAC-SHA256(ClientSecret, StringToSign))`, the timestamp in ms.
//!
//! * Per request (what we send with every private method): `Data` is
//!   `UPPERCASE(method) + "\n" + URI + "\n" + body + "\n"`, where the URI is the path with its
//!   query string exactly as sent and the body is empty for GET; the header is
//!   `Authorization: deri-hmac-sha256 id=ClientId,ts=Timestamp,sig=Signature,nonce=Nonce`.
//! * `public/auth` with `grant_type=client_signature` (what `check` sends, to read the key's
//!   scope): `Data` is the free `data` parameter, empty here.
//!
//! The nonce is ours to choose and must differ per request: the timestamp followed by a
//! three-digit per-instance counter, so it also grows across restarts (the clock does).
//!
//! Pure: the caller supplies the timestamp and the nonce.

use std::fmt;

use exsync_plugin_api::signing::{hex, hmac_sha256, Query};

use crate::endpoints::HMAC_SCHEME;

/// Signs requests with one Client ID and Client Secret.
#[derive(Clone)]
pub(crate) struct DeribitSigner {
    client_id: String,
    client_secret: String,
}

impl fmt::Debug for DeribitSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeribitSigner")
            .field("client_id", &"<redacted>")
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl DeribitSigner {
    pub(crate) fn new(client_id: &str, client_secret: &str) -> DeribitSigner {
        DeribitSigner {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
        }
    }

    /// `Timestamp + "\n" + Nonce + "\n" + Data`.
    pub(crate) fn string_to_sign(timestamp_ms: i64, nonce: &str, data: &str) -> String {
        format!("{timestamp_ms}\n{nonce}\n{data}")
    }

    /// `UPPERCASE(method) + "\n" + URI + "\n" + body + "\n"`.
    pub(crate) fn request_data(method: &str, uri: &str, body: &str) -> String {
        format!("{}\n{uri}\n{body}\n", method.to_ascii_uppercase())
    }

    /// Lower-case hex HMAC-SHA256 of the string to sign under the Client Secret.
    pub(crate) fn signature(&self, timestamp_ms: i64, nonce: &str, data: &str) -> String {
        let text = Self::string_to_sign(timestamp_ms, nonce, data);
        hex(&hmac_sha256(self.client_secret.as_bytes(), text.as_bytes()))
    }

    /// The `Authorization` header value of one request.
    pub(crate) fn authorization(
        &self,
        timestamp_ms: i64,
        nonce: &str,
        method: &str,
        uri: &str,
        body: &str,
    ) -> String {
        let sig = self.signature(timestamp_ms, nonce, &Self::request_data(method, uri, body));
        format!(
            "{HMAC_SCHEME} id={},ts={timestamp_ms},sig={sig},nonce={nonce}",
            self.client_id
        )
    }

    /// The query of `public/auth` with `grant_type=client_signature` and empty `data`.
    pub(crate) fn client_signature_query(&self, timestamp_ms: i64, nonce: &str) -> Query {
        let mut query = Query::new();
        query
            .push("grant_type", "client_signature")
            .push("client_id", &self.client_id)
            .push("timestamp", timestamp_ms.to_string())
            .push("signature", self.signature(timestamp_ms, nonce, ""))
            .push("nonce", nonce)
            .push("data", "");
        query
    }
}

/// The nonce of the `counter`-th request at `timestamp_ms`: the timestamp and three digits of
/// the counter, so nonces differ within one millisecond and grow with the clock.
pub(crate) fn nonce(timestamp_ms: i64, counter: u64) -> String {
    format!("{timestamp_ms}{:03}", counter % 1000)
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

/// The timestamp to send: our clock, corrected by Deribit's (`server - local`) offset when
/// the integration follows it.
pub(crate) fn timestamp(local_now_ms: i64, offset_ms: i64) -> i64 {
    local_now_ms + offset_ms
}
