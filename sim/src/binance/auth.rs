//! Signature, API-key and timestamp checks of the Binance simulator.
//!
//! Binance signs `totalParams`: the query string exactly as sent, concatenated with the body,
//! without the `signature` parameter. Nothing is decoded, re-encoded or re-ordered here: a
//! client that signs anything other than the bytes it sends fails, as it does on Binance.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ApiError;

/// Binance's default `recvWindow`, in ms.
pub const DEFAULT_RECV_WINDOW: i64 = 5_000;
/// The largest `recvWindow` Binance accepts, in ms.
pub const MAX_RECV_WINDOW: i64 = 60_000;
/// How far ahead of the server's clock a timestamp may be, in ms.
pub const MAX_AHEAD_MS: i64 = 1_000;

/// `hex(HMAC_SHA256(secret, payload))`.
pub fn sign(secret: &str, payload: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Splits the raw query into `totalParams` (without `signature`) and the signature value.
/// Returns `None` for the signature when the request has none.
pub fn split_signature(query: &str) -> (String, Option<&str>) {
    let mut kept: Vec<&str> = Vec::new();
    let mut signature = None;
    for part in query.split('&') {
        match part.strip_prefix("signature=") {
            Some(sig) if signature.is_none() => signature = Some(sig),
            _ => kept.push(part),
        }
    }
    (kept.join("&"), signature)
}

/// Whether `signature` is the HMAC of `total_params` (hex compared case-insensitively).
pub fn verify(secret: &str, total_params: &str, signature: &str) -> bool {
    let expected = sign(secret, total_params);
    expected.len() == signature.len() && expected.eq_ignore_ascii_case(signature)
}

/// Checks the `X-MBX-APIKEY` header against the configured key.
pub fn check_api_key(header: Option<&str>, configured: &str) -> Result<(), ApiError> {
    match header {
        Some(k) if k == configured => Ok(()),
        None | Some("") => Err(ApiError::unauthorized(-2014, "API-key format invalid.")),
        Some(k) if !k.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Err(ApiError::unauthorized(-2014, "API-key format invalid."))
        }
        Some(_) => Err(ApiError::unauthorized(
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        )),
    }
}

/// Binance's timing rule: `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`.
pub fn check_timestamp(timestamp: i64, recv_window: i64, server_time: i64) -> Result<(), ApiError> {
    if timestamp >= server_time + MAX_AHEAD_MS {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if server_time - timestamp > recv_window {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn binance_official_vector() {
        let params = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let sig = sign(SECRET, params);
        assert_eq!(
            sig,
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        assert!(verify(SECRET, params, &sig.to_uppercase()));
        let query = format!("{params}&signature={sig}");
        let (total, got) = split_signature(&query);
        assert_eq!(total, params);
        assert_eq!(got, Some(sig.as_str()));
        assert!(!verify(SECRET, &params.replace("LTCBTC", "LTCBTD"), &sig));
    }

    #[test]
    fn binance_official_vector_percent_encoded_symbol() {
        // The symbol "１２３４５６" (full-width digits), percent-encoded before signing.
        let params = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            sign(SECRET, params),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn timing_rule() {
        assert!(check_timestamp(10_000, 5_000, 15_000).is_ok());
        assert_eq!(
            check_timestamp(10_000, 5_000, 15_001).unwrap_err().code,
            -1021
        );
        assert!(check_timestamp(10_999, 5_000, 10_000).is_ok());
        assert_eq!(
            check_timestamp(11_000, 5_000, 10_000).unwrap_err().code,
            -1021
        );
    }

    #[test]
    fn api_key_errors() {
        assert!(check_api_key(Some("KEY"), "KEY").is_ok());
        assert_eq!(check_api_key(None, "KEY").unwrap_err().code, -2014);
        assert_eq!(check_api_key(Some("other"), "KEY").unwrap_err().code, -2015);
        assert_eq!(
            check_api_key(Some("bad key!"), "KEY").unwrap_err().code,
            -2014
        );
    }
}
