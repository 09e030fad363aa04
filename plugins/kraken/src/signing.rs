//! Signing for the `kraken` connector.
//!
//! Kraken's recipe (docs.kraken.com, "Spot REST authentication"): the POST body is a
//! URL-encoded form that starts with `nonce`; `API-Sign` is the base64 of
//! `HMAC-SHA512(key = base64decode(private key), message = URI path + SHA256(nonce + body))`,
//! where the SHA-256 is the raw 32-byte digest and the URI path is `/0/private/<Method>`. The
//! API key travels in `API-Key`.
//!
//! Nonces must strictly increase per API key, across restarts too. The plugin cannot keep a
//! file, so the nonce is the host clock in *microseconds*, and never less than the last one
//! plus one: within a process it never goes back, and a restarted process starts from a clock
//! that is past every nonce the previous one used (it would have had to send more than a
//! thousand requests a millisecond to get ahead of its clock).
//!
//! Pure: the caller supplies the clock and the last nonce.

use std::fmt;

use exsync_plugin_api::signing::{base64_decode, base64_encode, hmac_sha512, sha256, Query};
use exsync_plugin_api::PluginError;

/// Signs request bodies with one private key.
#[derive(Clone)]
pub(crate) struct KrakenSigner {
    /// The private key, base64-decoded.
    key: Vec<u8>,
}

impl fmt::Debug for KrakenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KrakenSigner")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl KrakenSigner {
    /// A signer for a base64 private key; a `config` error if it is not base64 (the message
    /// never shows the key).
    pub(crate) fn new(private_key_base64: &str) -> Result<KrakenSigner, PluginError> {
        let key = base64_decode(private_key_base64).map_err(|_| {
            PluginError::config(
                "credential `api_secret` (Kraken's private key) is not valid base64",
            )
        })?;
        if key.is_empty() {
            return Err(PluginError::config("credential `api_secret` is empty"));
        }
        Ok(KrakenSigner { key })
    }

    /// `API-Sign` for a call to `uri_path` with `nonce` and the exact body `post_data`.
    pub(crate) fn signature(&self, uri_path: &str, nonce: &str, post_data: &str) -> String {
        let mut inner = String::with_capacity(nonce.len() + post_data.len());
        inner.push_str(nonce);
        inner.push_str(post_data);
        let digest = sha256(inner.as_bytes());
        let mut message = Vec::with_capacity(uri_path.len() + digest.len());
        message.extend_from_slice(uri_path.as_bytes());
        message.extend_from_slice(&digest);
        base64_encode(&hmac_sha512(&self.key, &message))
    }
}

/// The body of a private call: `nonce` first, then `params` in order, percent-encoded.
pub(crate) fn post_data(nonce: u64, params: &[(&str, String)]) -> String {
    let mut query = Query::new();
    query.push("nonce", nonce.to_string());
    for (key, value) in params {
        query.push(key, value);
    }
    query.as_str().to_owned()
}

/// The next nonce: the clock in µs, but always above `last`.
pub(crate) fn next_nonce(now_ms: i64, last: u64) -> u64 {
    let clock = u64::try_from(now_ms).unwrap_or(0).saturating_mul(1000);
    clock.max(last.saturating_add(1))
}
