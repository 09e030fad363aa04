//! Signing for the `coinbase` connector.
//!
//! A CDP API key is a key name (`organizations/{org_id}/apiKeys/{key_id}`, or a bare key id)
//! and a private key of one of two kinds, told apart by the key material:
//!
//! * ECDSA: an EC P-256 key as PEM; the JWT is ES256;
//! * Ed25519 (CDP's default for new keys): standard base64 of 64 bytes, the 32-byte seed then
//!   the 32-byte public key; the JWT is EdDSA (RFC 8037), whose signature is deterministic.
//!
//! Every request carries `Authorization: Bearer <jwt>`, a new JWT:
//!
//! * header `{"alg":"ES256"|"EdDSA","typ":"JWT","kid":<key name>,"nonce":<hex>}`;
//! * payload `{"aud":["retail_rest_api_proxy"],"iss":"coinbase-cloud","nbf":now,
//!   "exp":now+120,"sub":<key name>,"iat":now,"uri":"<METHOD> <host><path>"}`, times in
//!   Unix seconds, the `uri` without the query string;
//! * signature over `base64url_encode(header) "." base64url_encode(payload)`, base64url
//!   without padding: ES256 is ECDSA P-256 over SHA-256 with RFC 6979 deterministic nonces, as
//!   raw `r‖s` (64 bytes); EdDSA is the 64-byte Ed25519 signature (RFC 8032).
//!
//! unconfirmed: that Advanced Trade and the v2 API accept EdDSA JWTs with the same claims as
//! ES256 ones. Coinbase's SDKs (coinbase-advanced-py since 1.8.3) sign both kinds with one
//! claim set, but the Coinbase App key page still tells users to pick ECDSA.
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
    key: CoinbaseKey,
}

/// The private key of a CDP API key: its kind fixes the JWT's `alg`.
#[derive(Clone)]
enum CoinbaseKey {
    Es256(SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

/// The length of an Ed25519 CDP secret once base64-decoded: seed then public key.
const ED25519_SECRET_LEN: usize = 64;

impl std::fmt::Debug for CoinbaseSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoinbaseSigner")
            .field("key_name", &self.key_name)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CoinbaseSigner {
    /// Reads the private key, detecting its kind: a SEC1 (`BEGIN EC PRIVATE KEY`) or PKCS#8
    /// (`BEGIN PRIVATE KEY`) P-256 PEM is ECDSA; anything else must be an Ed25519 secret
    /// (base64 of seed and public key, whose halves must agree). The PEM line breaks may be
    /// real or written `\n`, as in the JSON file Coinbase hands out. The error never quotes
    /// the key.
    pub(crate) fn new(key_name: &str, private_key: &str) -> Result<CoinbaseSigner, PluginError> {
        let text = private_key.trim().replace("\\n", "\n");
        let key = if text.contains("-----BEGIN") {
            CoinbaseKey::Es256(SigningKey::from(p256_from_pem(&text)?))
        } else {
            CoinbaseKey::EdDsa(ed25519_from_base64(&text)?)
        };
        Ok(CoinbaseSigner {
            key_name: key_name.to_owned(),
            key,
        })
    }

    /// The JWT `alg` this key signs with.
    pub(crate) fn algorithm(&self) -> &'static str {
        match self.key {
            CoinbaseKey::Es256(_) => "ES256",
            CoinbaseKey::EdDsa(_) => "EdDSA",
        }
    }

    /// The verifying (public) key: SEC1-encoded and uncompressed for P-256, the 32 raw bytes
    /// for Ed25519.
    #[cfg(test)]
    pub(crate) fn public_key_sec1(&self) -> Vec<u8> {
        match &self.key {
            CoinbaseKey::Es256(key) => key
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec(),
            CoinbaseKey::EdDsa(key) => key.verifying_key().to_bytes().to_vec(),
        }
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
            r#"{{"alg":"{}","typ":"JWT","kid":{kid},"nonce":{}}}"#,
            self.algorithm(),
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
        let signature = match &self.key {
            CoinbaseKey::Es256(key) => {
                let signature: Signature = key.sign(input.as_bytes());
                signature.to_bytes().to_vec()
            }
            CoinbaseKey::EdDsa(key) => key.sign(input.as_bytes()).to_bytes().to_vec(),
        };
        format!("{input}.{}", base64url_encode(&signature))
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

fn p256_from_pem(pem: &str) -> Result<p256::SecretKey, PluginError> {
    if pem.contains("BEGIN EC PRIVATE KEY") {
        p256::SecretKey::from_sec1_pem(pem).map_err(|_| {
            PluginError::config(
                "credential `private_key` is not a valid P-256 EC private key (SEC1 PEM)",
            )
        })
    } else if pem.contains("BEGIN PRIVATE KEY") {
        use p256::pkcs8::DecodePrivateKey;
        p256::SecretKey::from_pkcs8_pem(pem).map_err(|_| {
            PluginError::config(
                "credential `private_key` is not a valid P-256 private key (PKCS#8 PEM)",
            )
        })
    } else {
        Err(PluginError::config(
            "credential `private_key` is a PEM but not a private key (`-----BEGIN EC PRIVATE \
             KEY-----`)",
        ))
    }
}

fn ed25519_from_base64(text: &str) -> Result<ed25519_dalek::SigningKey, PluginError> {
    let not_a_key = || {
        PluginError::config(
            "credential `private_key` is neither an ECDSA PEM (`-----BEGIN EC PRIVATE \
             KEY-----`) nor an Ed25519 secret (base64 of 64 bytes); legacy HMAC keys are not \
             supported",
        )
    };
    let bytes = exsync_plugin_api::signing::base64_decode(text).map_err(|_| not_a_key())?;
    if bytes.len() != ED25519_SECRET_LEN {
        return Err(not_a_key());
    }
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&bytes[..32]);
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    if key.verifying_key().as_bytes()[..] != bytes[32..] {
        return Err(PluginError::config(
            "credential `private_key` is not a valid Ed25519 secret: its public half does not \
             match its seed",
        ));
    }
    Ok(key)
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}
