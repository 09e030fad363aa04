//! Signature, API-key and nonce checks of the Crypto.com simulator.
//!
//! The exchange signs `method + id + api_key + params_string + nonce` with HMAC-SHA256 in
//! lower-case hex, `params_string` being the parameters with sorted keys, each key followed
//! by its value, lists adding their elements (objects recursing) to a depth of three. The
//! nonce (ms) must be within 60 s of the server's clock. This is the simulator's own
//! implementation, written from the exchange's documentation, not the connector's.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// How far a nonce may be from the server's clock, in ms.
pub const NONCE_WINDOW_MS: i64 = 60_000;

/// A rejected request: HTTP status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: i64,
    pub msg: String,
}

fn reject(status: u16, code: i64, msg: &str) -> Rejection {
    Rejection {
        status,
        code,
        msg: msg.to_owned(),
    }
}

/// The documented `params_to_str(obj, level)`.
pub fn params_to_str(obj: &serde_json::Map<String, Value>, level: usize) -> String {
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    let mut out = String::new();
    for key in keys {
        out += key;
        match &obj[key.as_str()] {
            Value::Null => out += "null",
            Value::Array(list) => {
                for sub in list {
                    match sub {
                        Value::Object(m) if level + 1 < 3 => out += &params_to_str(m, level + 1),
                        other => out += &plain(other),
                    }
                }
            }
            other => out += &plain(other),
        }
    }
    out
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `hex(HMAC_SHA256(secret, method + id + key + params_string + nonce))`.
pub fn sign(secret: &str, method: &str, id: &str, key: &str, params: &str, nonce: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    for part in [method, id, key, params, nonce] {
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// A private request's body, checked: its `params` on success.
pub fn check(
    body: &[u8],
    method: &str,
    api_key: &str,
    secret: &str,
    server_time: i64,
) -> Result<serde_json::Map<String, Value>, Rejection> {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return Err(reject(
            400,
            40001,
            "BAD_REQUEST: the body is not a JSON object",
        ));
    };
    let int_text = |name: &str| match &req.get(name) {
        Some(Value::Number(n)) if n.is_i64() => Some(n.to_string()),
        Some(Value::String(s)) if s.parse::<i64>().is_ok() => Some(s.clone()),
        _ => None,
    };
    let (Some(id), Some(nonce)) = (int_text("id"), int_text("nonce")) else {
        return Err(reject(
            400,
            40001,
            "BAD_REQUEST: id and nonce must be integers",
        ));
    };
    if req.get("method").and_then(Value::as_str) != Some(method) {
        return Err(reject(
            400,
            40001,
            "BAD_REQUEST: method does not match the path",
        ));
    }
    let params = match req.get("params") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(reject(400, 40001, "BAD_REQUEST: params must be an object")),
    };
    let (Some(key), Some(sig)) = (
        req.get("api_key").and_then(Value::as_str),
        req.get("sig").and_then(Value::as_str),
    ) else {
        return Err(reject(
            401,
            40101,
            "UNAUTHORIZED: api_key and sig are required",
        ));
    };
    if key != api_key {
        return Err(reject(401, 40101, "UNAUTHORIZED: Authentication failure"));
    }
    let nonce_ms: i64 = nonce.parse().unwrap_or(0);
    if (nonce_ms - server_time).abs() > NONCE_WINDOW_MS {
        return Err(reject(
            401,
            40102,
            "INVALID_NONCE: Nonce value differs by more than 60 seconds from server",
        ));
    }
    let expected = sign(secret, method, &id, key, &params_to_str(&params, 0), &nonce);
    if !expected.eq_ignore_ascii_case(sig) {
        return Err(reject(401, 40101, "UNAUTHORIZED: Authentication failure"));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_of_the_exchange_notes() {
        // ccxt 4.5.90 signs private/user-balance with key KEY, secret SECRET and nonce (and
        // id) 1700000000000 to this value.
        assert_eq!(
            sign(
                "SECRET",
                "private/user-balance",
                "1700000000000",
                "KEY",
                "",
                "1700000000000"
            ),
            "bc6e7c63d0ea2cccd9d99d797f4f5231b6a775f3a4c18edb51b901012243fa2c"
        );
    }

    #[test]
    fn params_are_sorted_and_lists_flattened() {
        let p = serde_json::json!({"limit": 100, "b": "x", "a": [{"z": 1, "y": "2"}, "q"]});
        assert_eq!(params_to_str(p.as_object().unwrap(), 0), "ay2z1qbxlimit100");
    }

    #[test]
    fn order_of_checks() {
        let sig = sign("S", "private/x", "7", "K", "", "100000");
        let body = |key: &str, sig: &str, nonce: i64| {
            serde_json::json!({"id": 7, "method": "private/x", "params": {}, "api_key": key, "sig": sig, "nonce": nonce})
                .to_string()
        };
        assert!(check(
            body("K", &sig, 100_000).as_bytes(),
            "private/x",
            "K",
            "S",
            100_000
        )
        .is_ok());
        let err = check(
            body("X", &sig, 100_000).as_bytes(),
            "private/x",
            "K",
            "S",
            100_000,
        );
        assert_eq!(err.unwrap_err().code, 40101);
        let err = check(
            body("K", &sig, 100_000).as_bytes(),
            "private/x",
            "K",
            "S",
            200_000,
        );
        assert_eq!(err.unwrap_err().code, 40102);
        let err = check(
            body("K", "00", 100_000).as_bytes(),
            "private/x",
            "K",
            "S",
            100_000,
        );
        assert_eq!(err.unwrap_err().code, 40101);
    }
}
