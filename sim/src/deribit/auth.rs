//! Signature and key checks of the Deribit simulator.
//!
//! Deribit signs `Timestamp + "\n" + Nonce + "\n" + Data` with HMAC-SHA256 under the Client
//! Secret, in lower-case hex. For a request's `Authorization: deri-hmac-sha256
//! id=…,ts=…,sig=…,nonce=…` header, `Data` is `METHOD + "\n" + URI + "\n" + body + "\n"`, the URI
//! being the path and query string exactly as received; for `public/auth` with
//! `grant_type=client_signature`, `Data` is the `data` parameter. Nothing is decoded,
//! re-encoded or re-ordered here: a client that signs anything other than the bytes it sends
//! fails, as it does on Deribit.
//!
//! unconfirmed: how far a timestamp may stray from Deribit's clock (the simulator allows 60 s
//! either way) and whether Deribit refuses a nonce it has seen (the simulator does, within
//! that window).

use std::collections::HashSet;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signed timestamp may be from the server's clock, in ms.
pub const MAX_SKEW_MS: i64 = 60_000;

/// A refused request: Deribit's error code, message and `data.reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: i64,
    pub message: &'static str,
    pub reason: String,
}

fn reject(code: i64, message: &'static str, reason: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message,
        reason: reason.into(),
    }
}

/// `hex(HMAC_SHA256(secret, ts + "\n" + nonce + "\n" + data))`.
pub fn sign(secret: &str, timestamp: &str, nonce: &str, data: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(nonce.as_bytes());
    mac.update(b"\n");
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The fields of a `deri-hmac-sha256` header, as received.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HmacHeader<'a> {
    pub id: &'a str,
    pub ts: &'a str,
    pub sig: &'a str,
    pub nonce: &'a str,
}

/// Reads `deri-hmac-sha256 id=…,ts=…,sig=…,nonce=…`.
pub fn parse_header(value: &str) -> Option<HmacHeader<'_>> {
    let rest = value.strip_prefix("deri-hmac-sha256 ")?;
    let mut h = HmacHeader::default();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "id" => h.id = v,
            "ts" => h.ts = v,
            "sig" => h.sig = v,
            "nonce" => h.nonce = v,
            _ => {}
        }
    }
    (!h.id.is_empty() && !h.ts.is_empty() && !h.sig.is_empty() && !h.nonce.is_empty()).then_some(h)
}

/// Nonces seen recently, per timestamp: a repeat is refused.
#[derive(Debug, Default)]
pub struct Nonces {
    seen: Mutex<(i64, HashSet<(i64, String)>)>,
}

impl Nonces {
    /// Records `(ts, nonce)`; false when it was seen before.
    fn fresh(&self, ts: i64, nonce: &str, now: i64) -> bool {
        let mut guard = self.seen.lock().expect("nonces lock");
        let (pruned_at, set) = &mut *guard;
        if now - *pruned_at > MAX_SKEW_MS {
            set.retain(|(t, _)| *t >= now - 2 * MAX_SKEW_MS);
            *pruned_at = now;
        }
        set.insert((ts, nonce.to_owned()))
    }
}

/// Checks the key, the timestamp, the signature and the nonce of a signed request.
#[allow(clippy::too_many_arguments)]
pub fn check(
    header: Option<&str>,
    client_id: &str,
    secret: &str,
    method: &str,
    uri: &str,
    body: &str,
    now: i64,
    nonces: &Nonces,
) -> Result<(), Rejection> {
    let Some(value) = header else {
        return Err(reject(13009, "unauthorized", "no authorization"));
    };
    let h = parse_header(value)
        .ok_or_else(|| reject(13009, "unauthorized", "invalid authorization header"))?;
    let data = format!("{method}\n{uri}\n{body}\n");
    verify(
        client_id, secret, h.id, h.ts, h.nonce, h.sig, &data, now, nonces,
    )
}

/// The checks shared by the header and the `client_signature` grant.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    client_id: &str,
    secret: &str,
    id: &str,
    ts_text: &str,
    nonce: &str,
    sig: &str,
    data: &str,
    now: i64,
    nonces: &Nonces,
) -> Result<(), Rejection> {
    if id != client_id {
        return Err(reject(13004, "invalid_credentials", "client_id not found"));
    }
    let ts = ts_text
        .parse::<i64>()
        .map_err(|_| reject(13009, "unauthorized", "invalid timestamp"))?;
    if (ts - now).abs() > MAX_SKEW_MS {
        return Err(reject(
            13009,
            "unauthorized",
            format!("invalid timestamp: {ts} is more than {MAX_SKEW_MS} ms from {now}"),
        ));
    }
    if !sign(secret, ts_text, nonce, data).eq_ignore_ascii_case(sig) {
        return Err(reject(13009, "unauthorized", "invalid signature"));
    }
    if !nonces.fresh(ts, nonce, now) {
        return Err(reject(13009, "unauthorized", "nonce already used"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_client_signature_vector() {
        // Deribit's documentation: ClientSecret AMANDASECRECT, timestamp 1576074319000,
        // nonce 1iqt2wls, empty data.
        assert_eq!(
            sign("AMANDASECRECT", "1576074319000", "1iqt2wls", ""),
            "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
        );
    }

    #[test]
    fn reference_header_vector_and_checks() {
        let data = "GET\n/api/v2/private/get_account_summary?currency=BTC\n\n";
        let sig = sign("SECRET", "1700000000000", "1700000000000", data);
        assert_eq!(
            sig,
            "03fae3ba546ffb0fde1fc5a744d6bb9296d8b1e61e51c7e418e48673899e3b8a"
        );
        let header =
            format!("deri-hmac-sha256 id=KEY,ts=1700000000000,sig={sig},nonce=1700000000000");
        let uri = "/api/v2/private/get_account_summary?currency=BTC";
        let n = Nonces::default();
        let now = 1_700_000_000_500;
        assert_eq!(
            check(Some(&header), "KEY", "SECRET", "GET", uri, "", now, &n),
            Ok(())
        );
        let again = check(Some(&header), "KEY", "SECRET", "GET", uri, "", now, &n).unwrap_err();
        assert_eq!(again.reason, "nonce already used");
        let n = Nonces::default();
        let bad = check(Some(&header), "KEY", "OTHER", "GET", uri, "", now, &n).unwrap_err();
        assert_eq!(
            (bad.code, bad.reason.as_str()),
            (13009, "invalid signature")
        );
        let late = check(
            Some(&header),
            "KEY",
            "SECRET",
            "GET",
            uri,
            "",
            now + 61_000,
            &n,
        );
        assert!(late.unwrap_err().reason.contains("timestamp"));
        let who = check(Some(&header), "X", "SECRET", "GET", uri, "", now, &n).unwrap_err();
        assert_eq!(who.code, 13004);
        assert_eq!(
            check(None, "KEY", "S", "GET", uri, "", now, &n)
                .unwrap_err()
                .code,
            13009
        );
    }
}
