//! Signing for the `template` connector.
//!
//! Pure: no clock, no I/O. The signature is the hex HMAC-SHA256, keyed with the API secret,
//! of `timestamp + method + path_and_query`. Replace it with the exchange's own recipe and
//! its published test vector (`tests.rs`).

use exsync_plugin_api::signing::{hex, hmac_sha256};

/// The headers of a signed request.
pub(crate) fn headers(
    api_key: &str,
    api_secret: &str,
    timestamp_ms: i64,
    method: &str,
    path_and_query: &str,
) -> Vec<(String, String)> {
    let payload = format!("{timestamp_ms}{method}{path_and_query}");
    let signature = hex(&hmac_sha256(api_secret.as_bytes(), payload.as_bytes()));
    vec![
        ("x-template-key".into(), api_key.into()),
        ("x-template-ts".into(), timestamp_ms.to_string()),
        ("x-template-sign".into(), signature),
    ]
}
