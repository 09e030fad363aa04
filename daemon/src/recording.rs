//! Recordings of an integration's HTTP exchanges, for `exsyncctl debug record`.
//!
//! While a [`Recording`] is registered for an integration ([`crate::host::HostShared`]), its
//! host hands every request it sent and the answer it got to [`Recording::save`], which
//! redacts the pair and passes it on as a [`RecordedPair`]: the replay format of
//! `exsync-plugin-check --replay DIR`. The control handler (`control/debug_record.rs`) streams
//! the pairs to `exsyncctl`, which writes them; nothing here touches a file.
//!
//! Redaction, so a recording can go into a bug report:
//!
//! * every credential value of the integration, wherever it appears (path, headers, bodies),
//!   becomes `****` (the host's [`Redactor`]);
//! * query and form-body parameters that carry a signature, a key, a passphrase, a timestamp or
//!   a nonce ([`is_secret_param`]) read `REDACTED`: the replay matches requests on method, path
//!   and the other parameters, which tell pages apart;
//! * request headers other than a few plain ones ([`PLAIN_HEADERS`]) read `REDACTED`: those
//!   carry API keys, signatures, passphrases and signed payloads under every exchange's own
//!   name (`X-MBX-APIKEY`, `API-Sign`, `OK-ACCESS-PASSPHRASE`, `Authorization`...);
//! * JSON request bodies lose the values of the same fields; response headers that set
//!   cookies are dropped.

use std::collections::BTreeMap;

use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse};
use exsync_protocol::{RecordedPair, RecordedRequest, RecordedResponse};
use tokio::sync::mpsc;

use crate::host::Redactor;

/// What replaces a redacted parameter or header value.
pub const REDACTED: &str = "REDACTED";

/// Request headers kept as sent: none of them carries a credential.
const PLAIN_HEADERS: [&str; 4] = ["accept", "content-type", "content-length", "user-agent"];

/// One running recording: redacted pairs go to the receiver [`Recording::new`] returned.
#[derive(Debug)]
pub struct Recording {
    pairs: mpsc::UnboundedSender<RecordedPair>,
}

impl Recording {
    pub fn new() -> (Recording, mpsc::UnboundedReceiver<RecordedPair>) {
        let (pairs, rx) = mpsc::unbounded_channel();
        (Recording { pairs }, rx)
    }

    /// Redacts one sent request and its answer with `redactor` and passes the pair on. A
    /// recording whose receiver is gone drops it.
    pub fn save(&self, redactor: &Redactor, request: &AbiHttpRequest, response: &AbiHttpResponse) {
        let _ = self.pairs.send(redact_pair(redactor, request, response));
    }
}

/// Whether a query, form or JSON parameter carries a signature, a credential, a timestamp or
/// a nonce, by its name (case, `_` and `-` ignored): `signature`, `sign`, `api_key`,
/// `passphrase`, `timestamp`, `nonce` and names ending so. Paging parameters (`fromId`,
/// `cursor`, `after`, `ofs`) never match.
pub fn is_secret_param(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const EXACT: [&str; 8] = [
        "sig",
        "ts",
        "key",
        "token",
        "accesstoken",
        "password",
        "secret",
        "otp",
    ];
    const ENDS: [&str; 7] = [
        "sign",
        "signature",
        "apikey",
        "accesskey",
        "passphrase",
        "timestamp",
        "nonce",
    ];
    EXACT.contains(&n.as_str()) || ENDS.iter().any(|e| n.ends_with(e))
}

/// `a=1&signature=f0&b=2` with secret parameters' values replaced; other parameters and
/// the order unchanged.
fn redact_params(text: &str) -> String {
    text.split('&')
        .map(|part| match part.split_once('=') {
            Some((name, _)) if is_secret_param(&percent_decode(name)) => {
                format!("{name}={REDACTED}")
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A query component's name with `%XX` escapes decoded (for the name test only: names are
/// ASCII in every exchange's API).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path and query of a URL (`/api/v3/account?x=1`), without scheme and host.
fn path_and_query(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => match rest.find('?') {
            Some(i) => &rest[i..],
            None => "/",
        },
    }
}

/// A JSON value with the values of secret-named fields replaced, at any depth.
fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_param(k) {
                    *v = serde_json::Value::String(REDACTED.into());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(list) => list.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// A request body with its secret parameters redacted: JSON by field, a form by parameter.
fn redact_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(body) {
            redact_json(&mut json);
            return json.to_string();
        }
    }
    if body.contains('=') && !body.contains(char::is_whitespace) {
        return redact_params(body);
    }
    body.to_owned()
}

/// The redacted pair of one sent request and its answer.
pub fn redact_pair(
    redactor: &Redactor,
    request: &AbiHttpRequest,
    response: &AbiHttpResponse,
) -> RecordedPair {
    let path = path_and_query(request.url.as_str());
    let path = match path.split_once('?') {
        Some((p, q)) => format!("{p}?{}", redact_params(q)),
        None => path.to_owned(),
    };
    let headers = request
        .headers
        .iter()
        .map(|h| {
            let name = h.0.as_str().to_ascii_lowercase();
            let value = if PLAIN_HEADERS.contains(&name.as_str()) {
                redactor.redact(h.1.as_str())
            } else {
                REDACTED.to_owned()
            };
            (name, value)
        })
        .collect();
    let body = String::from_utf8_lossy(request.body.as_slice());
    let response_headers: BTreeMap<String, String> = response
        .headers
        .iter()
        .map(|h| (h.0.as_str().to_ascii_lowercase(), h.1.as_str()))
        .filter(|(name, _)| name != "set-cookie")
        .map(|(name, value)| (name, redactor.redact(value)))
        .collect();
    RecordedPair {
        request: RecordedRequest {
            method: request.method.as_str().to_ascii_uppercase(),
            path: redactor.redact(&path),
            headers,
            body: redactor.redact(&redact_body(&body)),
        },
        response: RecordedResponse {
            status: response.status,
            headers: response_headers,
            body: redactor.redact(&String::from_utf8_lossy(response.body.as_slice())),
        },
    }
}

#[cfg(test)]
mod tests {
    use exsync_plugin_api::abi_stable::std_types::{RVec, Tuple2};

    use super::*;

    fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> AbiHttpRequest {
        AbiHttpRequest {
            method: method.into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| Tuple2((*n).into(), (*v).into()))
                .collect(),
            body: RVec::from(body.as_bytes().to_vec()),
            cost: 1,
            bucket: "".into(),
            resend: false,
        }
    }

    fn response(body: &str) -> AbiHttpResponse {
        AbiHttpResponse {
            status: 200,
            headers: RVec::from(vec![
                Tuple2("Content-Type".into(), "application/json".into()),
                Tuple2("Set-Cookie".into(), "session=abc".into()),
            ]),
            body: RVec::from(body.as_bytes().to_vec()),
        }
    }

    #[test]
    fn signatures_timestamps_and_keys_are_redacted_paging_parameters_kept() {
        let redactor = Redactor::new(["myKEYvalue123".to_owned(), "mySECRETvalue".to_owned()]);
        let pair = redact_pair(
            &redactor,
            &request(
                "get",
                "http://127.0.0.1:9/api/v3/myTrades?symbol=BTCUSDT&fromId=7&timestamp=1700000000000&signature=ab12",
                &[("X-MBX-APIKEY", "myKEYvalue123"), ("Accept", "application/json")],
                "",
            ),
            &response(r#"{"echo":"myKEYvalue123","price":1.10}"#),
        );
        assert_eq!(pair.request.method, "GET");
        assert_eq!(
            pair.request.path,
            "/api/v3/myTrades?symbol=BTCUSDT&fromId=7&timestamp=REDACTED&signature=REDACTED"
        );
        assert_eq!(pair.request.headers["x-mbx-apikey"], REDACTED);
        assert_eq!(pair.request.headers["accept"], "application/json");
        // The body keeps its bytes (1.10 stays 1.10) but not the key.
        assert_eq!(pair.response.body, r#"{"echo":"****","price":1.10}"#);
        assert!(!pair.response.headers.contains_key("set-cookie"));
        let text = serde_json::to_string(&pair).unwrap();
        assert!(
            !text.contains("myKEYvalue123") && !text.contains("ab12"),
            "{text}"
        );
    }

    #[test]
    fn form_and_json_bodies_lose_nonces_and_signatures() {
        let redactor = Redactor::default();
        assert_eq!(
            redact_body("nonce=1700000000000123&ofs=50&type=all"),
            "nonce=REDACTED&ofs=50&type=all"
        );
        assert_eq!(
            redact_body(r#"{"request":"/v1/mytrades","nonce":"17","limit_trades":50}"#),
            r#"{"limit_trades":50,"nonce":"REDACTED","request":"/v1/mytrades"}"#
        );
        let pair = redact_pair(
            &redactor,
            &request(
                "POST",
                "https://api.kraken.com/0/private/Ledgers",
                &[("API-Key", "k"), ("API-Sign", "s")],
                "nonce=5&ofs=0",
            ),
            &response("{}"),
        );
        assert_eq!(pair.request.path, "/0/private/Ledgers");
        assert_eq!(pair.request.body, "nonce=REDACTED&ofs=0");
        assert_eq!(pair.request.headers["api-sign"], REDACTED);
    }

    #[test]
    fn secret_parameter_names() {
        for name in [
            "signature",
            "sign",
            "api_key",
            "apiKey",
            "X-BAPI-SIGN",
            "passphrase",
            "timestamp",
            "recv%5Ftimestamp",
            "nonce",
            "key",
        ] {
            assert!(is_secret_param(&percent_decode(name)), "{name}");
        }
        for name in [
            "symbol",
            "fromId",
            "cursor",
            "after",
            "limit",
            "ofs",
            "recvWindow",
        ] {
            assert!(!is_secret_param(name), "{name}");
        }
    }
}
