//! Authentication of the Coinbase simulator: the CDP API key's JWT, ES256 or EdDSA, checked
//! as Coinbase documents it.
//!
//! `Authorization: Bearer <header>.<payload>.<signature>`, each part base64url without
//! padding. The header's `alg` must be the one of the key's kind (`ES256` for an ECDSA P-256
//! key, `EdDSA` for an Ed25519 key), name the key in `kid` and carry a `nonce` not seen
//! before; the payload's `sub` must be the key name, its `iss` `cdp` or `coinbase-cloud`, its
//! `uri` `"<METHOD> <host><path>"` (no query string) for this very request, and the server's
//! time must lie in `[nbf, exp)`, a span of at most 120 s. The signature is over
//! `header "." payload`: ECDSA P-256 / SHA-256 as raw `r‖s` (RFC 7518), or the 64-byte
//! Ed25519 signature (RFC 8037, RFC 8032), verified with the key's public key. Any failure is
//! Coinbase's bare `401 Unauthorized`.
//!
//! unconfirmed: that Coinbase checks an EdDSA token's claims exactly as an ES256 token's;
//! its key documentation describes one claim set and its SDKs sign both kinds with it.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

pub use crate::encoding::base64url_decode;
use p256::ecdsa::signature::Verifier;
use serde_json::Value;

/// The key the simulated account accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `organizations/{org_id}/apiKeys/{key_id}`.
    pub key_name: String,
    pub public_key: PublicKey,
}

/// The public half of a CDP key: its kind fixes the `alg` its tokens must carry.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// ECDSA P-256: `ES256` tokens.
    Es256(p256::ecdsa::VerifyingKey),
    /// Ed25519: `EdDSA` tokens.
    EdDsa(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// The JWT `alg` of tokens signed with this key's private half.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Es256(_) => "ES256",
            PublicKey::EdDsa(_) => "EdDSA",
        }
    }

    /// Checks `signature` over `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Refusal> {
        match self {
            PublicKey::Es256(key) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| "the ES256 signature is not 64 bytes r‖s")?;
                key.verify(message, &sig)
            }
            PublicKey::EdDsa(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| "the EdDSA signature is not 64 bytes")?;
                key.verify_strict(message, &sig)
            }
        }
        .map_err(|_| "the signature does not verify with the key's public key".into())
    }
}

impl Credentials {
    /// Reads the public key from an SPKI PEM (`BEGIN PUBLIC KEY`) of a P-256 or an Ed25519
    /// key; an Ed25519 key may also be given as the standard base64 of its 32 bytes.
    pub fn from_pem(key_name: &str, public_key_pem: &str) -> Result<Credentials, String> {
        // One trait (pkcs8 0.10) decodes both kinds of key.
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        let text = public_key_pem.trim().replace("\\n", "\n");
        let public_key = if text.contains("-----BEGIN") {
            match p256::PublicKey::from_public_key_pem(&text) {
                Ok(key) => PublicKey::Es256(p256::ecdsa::VerifyingKey::from(key)),
                Err(p256_err) => ed25519_dalek::VerifyingKey::from_public_key_pem(&text)
                    .map(PublicKey::EdDsa)
                    .map_err(|ed_err| {
                        format!(
                            "the public key is neither a P-256 SPKI PEM ({p256_err}) nor an \
                             Ed25519 one ({ed_err})"
                        )
                    })?,
            }
        } else {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&text)
                .map_err(|e| format!("the public key is not a PEM and not base64: {e}"))?;
            let raw: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                format!(
                    "the public key is not a PEM and not the 32 bytes of an Ed25519 key ({} bytes)",
                    bytes.len()
                )
            })?;
            PublicKey::EdDsa(
                ed25519_dalek::VerifyingKey::from_bytes(&raw)
                    .map_err(|e| format!("the Ed25519 public key is not a curve point: {e}"))?,
            )
        };
        Ok(Credentials {
            key_name: key_name.to_owned(),
            public_key,
        })
    }
}

/// Nonces seen recently: a token replayed is refused.
#[derive(Debug, Default)]
pub struct Nonces {
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

/// How many nonces are remembered.
const NONCES_KEPT: usize = 100_000;

impl Nonces {
    /// True when `nonce` is new (and now remembered).
    pub fn fresh(&self, nonce: &str) -> bool {
        let mut guard = self.seen.lock().expect("nonces lock");
        let (set, order) = &mut *guard;
        if !set.insert(nonce.to_owned()) {
            return false;
        }
        order.push_back(nonce.to_owned());
        if order.len() > NONCES_KEPT {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }
}

/// Why a token was refused (logged by the sim, never sent: Coinbase says only
/// `Unauthorized`).
pub type Refusal = String;

/// Checks the `Authorization` header of `METHOD host path` at server time `now_s`.
pub fn verify(
    credentials: &Credentials,
    nonces: &Nonces,
    authorization: Option<&str>,
    method: &str,
    host: &str,
    path: &str,
    now_s: i64,
) -> Result<(), Refusal> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or("no `Authorization: Bearer` header")?;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not three dot-separated parts".into());
    };
    let header: Value =
        serde_json::from_slice(&base64url_decode(h).ok_or("header is not base64url")?)
            .map_err(|e| format!("header is not JSON: {e}"))?;
    let payload: Value =
        serde_json::from_slice(&base64url_decode(p).ok_or("payload is not base64url")?)
            .map_err(|e| format!("payload is not JSON: {e}"))?;
    let signature = base64url_decode(s).ok_or("signature is not base64url")?;
    let alg = credentials.public_key.algorithm();
    if header["alg"] != alg {
        return Err(format!("alg {} is not {alg}, the key's", header["alg"]));
    }
    if header["kid"] != credentials.key_name.as_str() {
        return Err("kid is not the key name".into());
    }
    if payload["sub"] != credentials.key_name.as_str() {
        return Err("sub is not the key name".into());
    }
    if !matches!(payload["iss"].as_str(), Some("cdp" | "coinbase-cloud")) {
        return Err(format!(
            "iss {} is neither cdp nor coinbase-cloud",
            payload["iss"]
        ));
    }
    let expected_uri = format!("{method} {host}{path}");
    if payload["uri"] != expected_uri.as_str() {
        return Err(format!("uri {} is not {expected_uri:?}", payload["uri"]));
    }
    let (Some(nbf), Some(exp)) = (payload["nbf"].as_i64(), payload["exp"].as_i64()) else {
        return Err("nbf or exp is not an integer".into());
    };
    if exp - nbf > 120 || exp <= nbf {
        return Err(format!("the token lives {} s; at most 120 s", exp - nbf));
    }
    if now_s < nbf || now_s >= exp {
        return Err(format!(
            "server time {now_s} is outside [nbf {nbf}, exp {exp})"
        ));
    }
    credentials
        .public_key
        .verify(format!("{h}.{p}").as_bytes(), &signature)?;
    let nonce = header["nonce"].as_str().ok_or("no nonce in the header")?;
    if !nonces.fresh(nonce) {
        return Err("the nonce was used before".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_NAME: &str = "organizations/e2e0rg00-0000-4000-8000-000000000001/apiKeys/e2e0key0-0000-4000-8000-000000000002";
    const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXNm3JQ9Fe3ku/LmyysD9lBclmf1N
ksUAqzxEzIwX/U6wN/xDaqGegXF57vkrCkG+wniVF98G5tMWZUnOrj7G4Q==
-----END PUBLIC KEY-----";
    /// Signed outside this code base (Python `cryptography`, RFC 6979) for
    /// `GET api.coinbase.com/api/v3/brokerage/accounts`, `nbf` 1700000000.
    const TOKEN: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im9yZ2FuaXphdGlvbnMvZTJlMHJnMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxL2FwaUtleXMvZTJlMGtleTAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAyIiwibm9uY2UiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiJ9.eyJhdWQiOlsicmV0YWlsX3Jlc3RfYXBpX3Byb3h5Il0sImlzcyI6ImNvaW5iYXNlLWNsb3VkIiwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAxMjAsInN1YiI6Im9yZ2FuaXphdGlvbnMvZTJlMHJnMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxL2FwaUtleXMvZTJlMGtleTAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAyIiwiaWF0IjoxNzAwMDAwMDAwLCJ1cmkiOiJHRVQgYXBpLmNvaW5iYXNlLmNvbS9hcGkvdjMvYnJva2VyYWdlL2FjY291bnRzIn0.EyqgeYeI1Q4uw-yGNSOeAJv4owCiMZmb7HoYbB8PPy5xj9JS4XN414aSKtaQoQo65ZPA_LWfSmQB7ERzYugJYQ";

    fn check(
        token: &str,
        host: &str,
        path: &str,
        now_s: i64,
        nonces: &Nonces,
    ) -> Result<(), Refusal> {
        let creds = Credentials::from_pem(KEY_NAME, PUBLIC_KEY).unwrap();
        verify(
            &creds,
            nonces,
            Some(&format!("Bearer {token}")),
            "GET",
            host,
            path,
            now_s,
        )
    }

    #[test]
    fn an_independently_signed_token_passes_once_and_only_for_its_request_and_time() {
        let path = "/api/v3/brokerage/accounts";
        let host = "api.coinbase.com";
        assert!(check(TOKEN, host, path, 1_700_000_000, &Nonces::default()).is_ok());
        assert!(check(TOKEN, host, path, 1_700_000_119, &Nonces::default()).is_ok());
        let late = check(TOKEN, host, path, 1_700_000_120, &Nonces::default()).unwrap_err();
        assert!(late.contains("outside"), "{late}");
        let early = check(TOKEN, host, path, 1_699_999_999, &Nonces::default()).unwrap_err();
        assert!(early.contains("outside"), "{early}");
        assert!(check(
            TOKEN,
            "127.0.0.1:1",
            path,
            1_700_000_000,
            &Nonces::default()
        )
        .unwrap_err()
        .contains("uri"));
        assert!(check(
            TOKEN,
            host,
            "/v2/accounts",
            1_700_000_000,
            &Nonces::default()
        )
        .unwrap_err()
        .contains("uri"));
        let nonces = Nonces::default();
        assert!(check(TOKEN, host, path, 1_700_000_001, &nonces).is_ok());
        assert!(check(TOKEN, host, path, 1_700_000_002, &nonces)
            .unwrap_err()
            .contains("nonce"));
        // One signature byte changed (the first character of the signature part).
        let cut = TOKEN.rfind('.').unwrap() + 1;
        let first = &TOKEN[cut..=cut];
        let forged = format!(
            "{}{}{}",
            &TOKEN[..cut],
            if first == "A" { "B" } else { "A" },
            &TOKEN[cut + 1..]
        );
        assert!(
            check(&forged, host, path, 1_700_000_000, &Nonces::default())
                .unwrap_err()
                .contains("signature")
        );
        // Another key name.
        let other = Credentials::from_pem("organizations/x/apiKeys/y", PUBLIC_KEY).unwrap();
        let e = verify(
            &other,
            &Nonces::default(),
            Some(&format!("Bearer {TOKEN}")),
            "GET",
            host,
            path,
            1_700_000_000,
        )
        .unwrap_err();
        assert!(e.contains("kid"), "{e}");
        assert!(verify(&other, &Nonces::default(), None, "GET", host, path, 1).is_err());
    }

    const ED_KEY_NAME: &str = "organizations/e2e0rg00-0000-4000-8000-000000000001/apiKeys/e2e0key0-0000-4000-8000-000000000003";
    const ED_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0=
-----END PUBLIC KEY-----";
    /// The same key's 32 public bytes, standard base64.
    const ED_PUBLIC_RAW: &str = "JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0=";
    /// Signed outside this code base (Python `cryptography`, Ed25519) for
    /// `GET api.coinbase.com/api/v3/brokerage/accounts`, `nbf` 1700000000, `iss` `cdp`.
    const ED_TOKEN: &str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Im9yZ2FuaXphdGlvbnMvZTJlMHJnMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxL2FwaUtleXMvZTJlMGtleTAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAzIiwibm9uY2UiOiJmZWRjYmE5ODc2NTQzMjEwZmVkY2JhOTg3NjU0MzIxMCJ9.eyJhdWQiOlsicmV0YWlsX3Jlc3RfYXBpX3Byb3h5Il0sImlzcyI6ImNkcCIsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMTIwLCJzdWIiOiJvcmdhbml6YXRpb25zL2UyZTByZzAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMS9hcGlLZXlzL2UyZTBrZXkwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMyIsImlhdCI6MTcwMDAwMDAwMCwidXJpIjoiR0VUIGFwaS5jb2luYmFzZS5jb20vYXBpL3YzL2Jyb2tlcmFnZS9hY2NvdW50cyJ9.YiVYV2oqG8fqjJ1Bi_1vojkp3-4nzszwxoSakWVeIsarzfPMZ2tQjnjb7ntHR0u-43WXWInPa2xzeYiYkJN9Dw";

    fn check_ed(creds: &Credentials, token: &str, now_s: i64) -> Result<(), Refusal> {
        verify(
            creds,
            &Nonces::default(),
            Some(&format!("Bearer {token}")),
            "GET",
            "api.coinbase.com",
            "/api/v3/brokerage/accounts",
            now_s,
        )
    }

    #[test]
    fn an_independently_signed_eddsa_token_passes_with_the_ed25519_key_only() {
        let pem = Credentials::from_pem(ED_KEY_NAME, ED_PUBLIC_KEY).unwrap();
        let raw = Credentials::from_pem(ED_KEY_NAME, ED_PUBLIC_RAW).unwrap();
        assert_eq!(pem.public_key.algorithm(), "EdDSA");
        assert!(check_ed(&pem, ED_TOKEN, 1_700_000_000).is_ok());
        assert!(check_ed(&raw, ED_TOKEN, 1_700_000_060).is_ok());
        let late = check_ed(&pem, ED_TOKEN, 1_700_000_120).unwrap_err();
        assert!(late.contains("outside"), "{late}");
        // One signature character changed.
        let cut = ED_TOKEN.rfind('.').unwrap() + 1;
        let first = &ED_TOKEN[cut..=cut];
        let forged = format!(
            "{}{}{}",
            &ED_TOKEN[..cut],
            if first == "A" { "B" } else { "A" },
            &ED_TOKEN[cut + 1..]
        );
        let e = check_ed(&pem, &forged, 1_700_000_000).unwrap_err();
        assert!(e.contains("signature"), "{e}");
        // An EdDSA token for an ECDSA key, and an ES256 token for an Ed25519 key.
        let ecdsa = Credentials::from_pem(ED_KEY_NAME, PUBLIC_KEY).unwrap();
        let e = check_ed(&ecdsa, ED_TOKEN, 1_700_000_000).unwrap_err();
        assert!(e.contains("alg"), "{e}");
        let ed_named_as_es = Credentials::from_pem(KEY_NAME, ED_PUBLIC_KEY).unwrap();
        let e = check_ed(&ed_named_as_es, TOKEN, 1_700_000_000).unwrap_err();
        assert!(e.contains("alg"), "{e}");
        // Another Ed25519 key.
        let other = Credentials::from_pem(
            ED_KEY_NAME,
            "MCowBQYDK2VwAyEAzRSzf5VulTGU/3+3Oz2B3MVh1hp1OAlLfD4aZD7l86o=",
        );
        assert!(
            other.is_err(),
            "a PEM body without its armour is not base64 of 32 bytes"
        );
        let other =
            Credentials::from_pem(ED_KEY_NAME, "zRSzf5VulTGU/3+3Oz2B3MVh1hp1OAlLfD4aZD7l86o=")
                .unwrap();
        let e = check_ed(&other, ED_TOKEN, 1_700_000_000).unwrap_err();
        assert!(e.contains("signature"), "{e}");
        assert!(Credentials::from_pem(ED_KEY_NAME, "AAAA").is_err());
    }
}
