//! Signing for the `coinbase` connector.
//!
//! A CDP API key is a key name (`organizations/{org_id}/apiKeys/{key_id}`) and an EC P-256
//! private key. Every request carries `Authorization: Bearer <jwt>`, a new ES256 JWT:
//!
//! * header `{"alg":"ES256","typ":"JWT","kid":<key name>,"nonce":<hex>}`;
//! * payload `{"aud":["retail_rest_api_proxy"],"iss":"coinbase-cloud","nbf":now,
//!   "exp":now+120,"sub":<key name>,"iat":now,"uri":"<METHOD> <host><path>"}`, times in
//!   Unix seconds, the `uri` without the query string;
//! * signature: ECDSA P-256 over SHA-256 of `base64url_encode(header) "." base64url_encode(payload)`,
//!   with RFC 6979 deterministic nonces, as raw `r‖s` (64 bytes), base64url without padding.
//!
//! Pure: the time and the nonce are arguments.
//!
//! [`legacy_hmac_signature`] is the retired HMAC scheme (`CB-ACCESS-SIGN`), kept with its
//! reference vector for recognising such keys; the connector accepts CDP keys only.

#[cfg(test)]
use exsync_plugin_api::signing::hmac_sha256;
use exsync_plugin_api::signing::{base64url_encode, hex, sha256};
use exsync_plugin_api::PluginError;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

use crate::endpoints::{JWT_AUDIENCE, JWT_ISSUER, JWT_LIFETIME_S};

/// Signs requests for one CDP API key.
#[derive(Clone)]
pub(crate) struct CoinbaseSigner {
    key_name: String,
    key: SigningKey,
}

impl std::fmt::Debug for CoinbaseSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoinbaseSigner")
            .field("key_name", &self.key_name)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CoinbaseSigner {
    /// Reads the private key: a SEC1 (`BEGIN EC PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE
    /// KEY`) PEM. The line breaks may be real or written `\n`, as in the JSON file Coinbase
    /// hands out. The error never quotes the key.
    pub(crate) fn new(
        key_name: &str,
        private_key_pem: &str,
    ) -> Result<CoinbaseSigner, PluginError> {
        let pem = private_key_pem.trim().replace("\\n", "\n");
        let key = if pem.contains("BEGIN EC PRIVATE KEY") {
            p256::SecretKey::from_sec1_pem(&pem).map_err(|_| {
                PluginError::config(
                    "credential `private_key` is not a valid P-256 EC private key (SEC1 PEM); \
                     Ed25519 CDP keys are not supported, create an ECDSA key",
                )
            })?
        } else if pem.contains("BEGIN PRIVATE KEY") {
            use p256::pkcs8::DecodePrivateKey;
            p256::SecretKey::from_pkcs8_pem(&pem).map_err(|_| {
                PluginError::config(
                    "credential `private_key` is not a valid P-256 private key (PKCS#8 PEM)",
                )
            })?
        } else {
            return Err(PluginError::config(
                "credential `private_key` is not a PEM private key (`-----BEGIN EC PRIVATE \
                 KEY-----`); legacy HMAC keys and Ed25519 keys are not supported",
            ));
        };
        Ok(CoinbaseSigner {
            key_name: key_name.to_owned(),
            key: SigningKey::from(key),
        })
    }

    /// The verifying (public) key, SEC1-encoded and uncompressed.
    #[cfg(test)]
    pub(crate) fn public_key_sec1(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// The JWT for `METHOD host path` at `now_s` (Unix seconds) with `nonce`.
    pub(crate) fn jwt(
        &self,
        method: &str,
        host: &str,
        path: &str,
        now_s: i64,
        nonce: &str,
    ) -> String {
        let path = path.split('?').next().unwrap_or(path);
        let kid = json_string(&self.key_name);
        let header = format!(
            r#"{{"alg":"ES256","typ":"JWT","kid":{kid},"nonce":{}}}"#,
            json_string(nonce)
        );
        let payload = format!(
            r#"{{"aud":[{}],"iss":{},"nbf":{now_s},"exp":{},"sub":{kid},"iat":{now_s},"uri":{}}}"#,
            json_string(JWT_AUDIENCE),
            json_string(JWT_ISSUER),
            now_s + JWT_LIFETIME_S,
            json_string(&format!("{method} {host}{path}")),
        );
        let input = format!(
            "{}.{}",
            base64url_encode(header.as_bytes()),
            base64url_encode(payload.as_bytes())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", base64url_encode(&signature.to_bytes()))
    }

    /// The `Authorization` header value.
    pub(crate) fn authorization(
        &self,
        method: &str,
        host: &str,
        path: &str,
        now_s: i64,
        nonce: &str,
    ) -> String {
        format!("Bearer {}", self.jwt(method, host, path, now_s, nonce))
    }
}

/// A JWT nonce: 32 hex digits that differ for every request of an instance (`counter`),
/// between instances of one process (`instance`) and between restarts (`now_ms`). Coinbase
/// asks only that nonces be unique; they need not be secret, since the ECDSA nonce comes
/// from RFC 6979.
pub(crate) fn nonce(key_name: &str, instance: u64, now_ms: i64, counter: u64) -> String {
    let digest = sha256(format!("{key_name}\n{instance}\n{now_ms}\n{counter}").as_bytes());
    hex(&digest[..16])
}

/// `hex(HMAC_SHA256(secret, timestamp + METHOD + path + body))`: the retired HMAC key
/// scheme. The path has no query string for v3 requests. Only its reference vector uses
/// it: the connector takes CDP keys.
#[cfg(test)]
pub(crate) fn legacy_hmac_signature(
    secret: &str,
    timestamp_s: i64,
    method: &str,
    path: &str,
    body: &str,
) -> String {
    hex(&hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_s}{method}{path}{body}").as_bytes(),
    ))
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}
