//! Signing for the `coinbase-exchange` connector.
//!
//! Coinbase Exchange's recipe (REST authentication docs): the prehash string is
//! `timestamp + METHOD + requestPath + body`, where `timestamp` is Unix seconds (the same
//! value sent in `CB-ACCESS-TIMESTAMP`), `METHOD` is upper case, `requestPath` is the path
//! with its query string (`/fills?product_id=BTC-USD`), and `body` is the JSON body or empty.
//! `CB-ACCESS-SIGN` is the base64 of the HMAC-SHA256 of the prehash, keyed with the
//! base64-*decoded* API secret. The passphrase travels in plain text in
//! `CB-ACCESS-PASSPHRASE`; it is not part of the signature.
//!
//! Pure: the caller supplies the timestamp.

use std::fmt;

use exsync_plugin_api::signing::{base64_decode, base64_encode, hmac_sha256};
use exsync_plugin_api::PluginError;

use crate::endpoints::{KEY_HEADER, PASSPHRASE_HEADER, SIGN_HEADER, TIMESTAMP_HEADER};

/// Signs requests with one decoded secret.
#[derive(Clone)]
pub(crate) struct CoinbaseExchangeSigner {
    key: String,
    secret: Vec<u8>,
    passphrase: String,
}

impl fmt::Debug for CoinbaseExchangeSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoinbaseExchangeSigner")
            .field("key", &"<redacted>")
            .field("secret", &"<redacted>")
            .field("passphrase", &"<redacted>")
            .finish()
    }
}

impl CoinbaseExchangeSigner {
    /// A signer for `key`; `secret` is the base64 text Coinbase hands out. A secret that is
    /// not base64 is a `config` error (its value is never shown).
    pub(crate) fn new(
        key: &str,
        secret: &str,
        passphrase: &str,
    ) -> Result<CoinbaseExchangeSigner, PluginError> {
        let secret = base64_decode(secret.trim()).map_err(|_| {
            PluginError::config(
                "credential `api_secret` is not base64 (Coinbase Exchange secrets are the \
                 base64 text shown when the key is created)",
            )
        })?;
        Ok(CoinbaseExchangeSigner {
            key: key.to_owned(),
            secret,
            passphrase: passphrase.to_owned(),
        })
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
        base64_encode(&hmac_sha256(&self.secret, prehash.as_bytes()))
    }

    /// The four authentication headers of one request.
    pub(crate) fn headers(
        &self,
        timestamp: &str,
        method: &str,
        request_path: &str,
        body: &str,
    ) -> [(&'static str, String); 4] {
        [
            (KEY_HEADER, self.key.clone()),
            (
                SIGN_HEADER,
                self.signature(timestamp, method, request_path, body),
            ),
            (TIMESTAMP_HEADER, timestamp.to_owned()),
            (PASSPHRASE_HEADER, self.passphrase.clone()),
        ]
    }
}

/// The string that is signed.
pub(crate) fn prehash(timestamp: &str, method: &str, request_path: &str, body: &str) -> String {
    format!(
        "{timestamp}{}{request_path}{body}",
        method.to_ascii_uppercase()
    )
}

/// `CB-ACCESS-TIMESTAMP` for a moment in ms: whole Unix seconds, as ccxt sends them.
pub(crate) fn timestamp(now_ms: i64) -> String {
    now_ms.div_euclid(1000).to_string()
}
