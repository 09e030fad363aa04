//! The plugin's handle on the host: HTTP, the clock and the log.

use abi_stable::std_types::{RResult, RString, RVec, Tuple2};
use serde::de::DeserializeOwned;

pub use crate::abi::LogLevel;
use crate::abi::{AbiHttpRequest, AbiHttpResponse, HostIoBox};
use crate::error::PluginError;

/// A request under construction.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub cost: u32,
    pub bucket: String,
    pub resend: bool,
}

/// Attempts [`Host::http_retrying`] makes before handing back a 429, a 5xx or a network error.
pub const MAX_ATTEMPTS: u32 = 5;
/// The status the host answers for a no-resend request it did not send because it had to wait.
pub const NOT_SENT: u16 = 0;
/// Rebuilds [`Host::http_retrying`] makes for requests the host did not send.
const MAX_UNSENT: u32 = 100;

impl HttpRequest {
    pub fn new(method: &str, url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: method.to_owned(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            cost: 1,
            bucket: String::new(),
            resend: true,
        }
    }
    pub fn get(url: impl Into<String>) -> HttpRequest {
        Self::new("GET", url)
    }
    pub fn post(url: impl Into<String>) -> HttpRequest {
        Self::new("POST", url)
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpRequest {
        self.body = body.into();
        self
    }
    /// What this request costs in its rate-limit bucket.
    pub fn cost(mut self, cost: u32) -> HttpRequest {
        self.cost = cost;
        self
    }
    pub fn bucket(mut self, bucket: &str) -> HttpRequest {
        self.bucket = bucket.to_owned();
        self
    }
    /// Marks a request that carries a timestamp or nonce: the host must not send it twice.
    /// Send it with [`Host::http_retrying`], which rebuilds it for each attempt.
    pub fn no_resend(mut self) -> HttpRequest {
        self.resend = false;
        self
    }
}

/// A response, whatever its status.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses the body as JSON; a failure is a `bad_response` error that says where.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, PluginError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PluginError::bad_response(format!(
                "while parsing the {what} response: {e} (body starts {:?})",
                self.body_excerpt()
            ))
        })
    }

    /// The first 200 characters of the body, for error messages.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(200).collect()
    }
}

/// The host, as a plugin sees it. Cheap to share: wrap it in an `Arc` if several parts of the
/// connector need it.
pub struct Host {
    io: HostIoBox,
}

impl Host {
    /// Wraps the host object handed to `new`. Only [`crate::export_connector!`] calls this.
    #[doc(hidden)]
    pub fn from_abi(io: HostIoBox) -> Host {
        Host { io }
    }

    /// Sends a request and waits for the response. The host applies the rate-limit budget and
    /// retries 429 and 5xx; whatever status comes back last is returned.
    pub fn http(&self, request: HttpRequest) -> Result<HttpResponse, PluginError> {
        let abi = AbiHttpRequest {
            method: request.method.into(),
            url: request.url.into(),
            headers: request
                .headers
                .into_iter()
                .map(|(n, v)| Tuple2(n.into(), v.into()))
                .collect(),
            body: RVec::from(request.body),
            cost: request.cost,
            bucket: request.bucket.into(),
            resend: request.resend,
        };
        match self.io.http(abi) {
            RResult::ROk(AbiHttpResponse {
                status,
                headers,
                body,
            }) => Ok(HttpResponse {
                status,
                headers: headers
                    .into_iter()
                    .map(|Tuple2(n, v)| (n.into(), v.into()))
                    .collect(),
                body: body.into(),
            }),
            RResult::RErr(e) => Err(e),
        }
    }

    /// Sends a request that must be rebuilt for every attempt (a fresh timestamp or nonce and
    /// signature): `build` is called once per attempt. A 429, a 5xx or a network error is tried
    /// again, up to [`MAX_ATTEMPTS`] times; the host waits out `Retry-After` and backs off before
    /// the next send. What comes back last is returned.
    pub fn http_retrying(
        &self,
        mut build: impl FnMut() -> Result<HttpRequest, PluginError>,
    ) -> Result<HttpResponse, PluginError> {
        let mut attempt = 0;
        let mut unsent = 0;
        loop {
            let response = self.http(build()?.no_resend());
            // Status 0: the host waited for the budget and did not send the now-stale request.
            if matches!(&response, Ok(r) if r.status == NOT_SENT) && unsent < MAX_UNSENT {
                unsent += 1;
                continue;
            }
            attempt += 1;
            let last = attempt >= MAX_ATTEMPTS;
            match response {
                Ok(r) if r.status == NOT_SENT => {
                    return Err(PluginError::new(
                        crate::ErrorKind::RATE_LIMITED,
                        "the request budget kept the request waiting too often; retrying at the next sync",
                    ))
                }
                Ok(r) if (r.status == 429 || r.status >= 500) && !last => continue,
                Err(e) if e.kind == crate::ErrorKind::NETWORK && !last => continue,
                other => return other,
            }
        }
    }

    /// UTC milliseconds, from the host's clock.
    pub fn now_ms(&self) -> i64 {
        self.io.now_ms()
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        self.io.log(level, message.into());
    }
    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message)
    }
    pub fn info(&self, message: &str) {
        self.log(LogLevel::Info, message)
    }
    pub fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, message)
    }
}

pub(crate) fn to_rstring(s: String) -> RString {
    RString::from(s)
}
