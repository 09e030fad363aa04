//! Authentication of the Coinbase simulator: the CDP API key's ES256 JWT, checked as
//! Coinbase documents it.
//!
//! `Authorization: Bearer <header>.<payload>.<signature>`, each part base64url without
//! padding. The header must say `"alg":"ES256"`, name the key in `kid` and carry a `nonce`
//! not seen before; the payload's `sub` must be the key name, its `iss` `cdp` or
//! `coinbase-cloud`, its `uri` `"<METHOD> <host><path>"` (no query string) for this very
//! request, and the server's time must lie in `[nbf, exp)`, a span of at most 120 s. The
//! signature is ECDSA P-256 / SHA-256 over `header "." payload` as raw `r‖s`, verified with
//! the key's public key. Any failure is Coinbase's bare `401 Unauthorized`.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

pub use crate::encoding::base64url_decode;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

/// The key the simulated account accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `organizations/{org_id}/apiKeys/{key_id}`.
    pub key_name: String,
    pub public_key: VerifyingKey,
}

impl Credentials {
    /// Reads the public key from an SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn from_pem(key_name: &str, public_key_pem: &str) -> Result<Credentials, String> {
        use p256::pkcs8::DecodePublicKey;
        let pem = public_key_pem.trim().replace("\\n", "\n");
        let key = p256::PublicKey::from_public_key_pem(&pem)
            .map_err(|e| format!("the public key is not a P-256 SPKI PEM: {e}"))?;
        Ok(Credentials {
            key_name: key_name.to_owned(),
            public_key: VerifyingKey::from(key),
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
    if header["alg"] != "ES256" {
        return Err(format!("alg {} is not ES256", header["alg"]));
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
    let sig = Signature::from_slice(&signature).map_err(|_| "the signature is not 64 bytes r‖s")?;
    credentials
        .public_key
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| "the signature does not verify with the key's public key")?;
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
}
