//! The checker's side of `HostIo`: HTTP to a simulator or a replay directory, the clock, the
//! log, and the same host refusal as `exsyncd`'s.
//!
//! Like the daemon's host it refuses any request whose `host:port` the integration may not
//! call: the `base_url` override's alone when one is given, else the manifest's `api_hosts`
//! and the host of its default base URL. Unlike the daemon it neither paces nor retries: the
//! simulator runs with its limits raised, and what a plugin does with a 429 is one of the
//! things checked.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use exsync_plugin_api::abi::{AbiHttpRequest, AbiHttpResponse, HostIo, LogLevel};
use exsync_plugin_api::abi_stable::std_types::{RResult, RStr, RVec, Tuple2};
use exsync_plugin_api::PluginError;

use crate::http::{self, url_host};
use crate::replay::Replay;

/// Where requests go.
#[derive(Clone)]
pub enum Transport {
    /// Plain HTTP to the request's URL (a simulator or the checker's status server).
    Live,
    /// Answered from recorded pairs.
    Replay(Arc<Replay>),
}

/// What the plugin did through the host, for the report.
#[derive(Default)]
pub struct Journal {
    pub requests: u64,
    /// `host:port` values the plugin tried to call and was refused.
    pub refused: Vec<String>,
    /// Requests the replay directory had no answer for (`METHOD /path`).
    pub unmatched: Vec<String>,
    /// Every log line and error message the plugin produced, to look for secrets in.
    pub texts: Vec<String>,
}

#[derive(Clone)]
pub struct CheckHost {
    allowed: Arc<Vec<String>>,
    transport: Transport,
    journal: Arc<Mutex<Journal>>,
}

impl CheckHost {
    pub fn new(allowed: Vec<String>, transport: Transport, journal: Arc<Mutex<Journal>>) -> Self {
        CheckHost {
            allowed: Arc::new(allowed),
            transport,
            journal,
        }
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, req: &AbiHttpRequest) -> Result<http::Response, PluginError> {
        let url = req.url.as_str();
        let shown = url.split('?').next().unwrap_or(url);
        let host = url_host(url)
            .ok_or_else(|| PluginError::plugin(format!("request URL {shown} is not http(s)")))?;
        if !self.allowed.contains(&host) {
            self.journal().refused.push(host.clone());
            return Err(PluginError::plugin(format!(
                "refused a request to {host}: not among the hosts this integration may call ({})",
                self.allowed.join(", ")
            )));
        }
        self.journal().requests += 1;
        match &self.transport {
            Transport::Live => {
                let headers: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|Tuple2(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                http::send(req.method.as_str(), url, &headers, &req.body).map_err(|e| {
                    PluginError::network(format!(
                        "while sending {} {shown}: {e}",
                        req.method.as_str()
                    ))
                })
            }
            Transport::Replay(replay) => match replay.answer(req.method.as_str(), url) {
                Some((response, _source)) => Ok(response),
                None => {
                    let path = http::url_path(url);
                    let path = path.split('?').next().unwrap_or(path);
                    self.journal()
                        .unmatched
                        .push(format!("{} {path}", req.method.as_str()));
                    Ok(http::Response {
                        status: 404,
                        headers: vec![("content-type".into(), "text/plain".into())],
                        body: b"exsync-plugin-check: no recorded answer for this request".to_vec(),
                    })
                }
            },
        }
    }
}

impl HostIo for CheckHost {
    fn http(&self, request: AbiHttpRequest) -> RResult<AbiHttpResponse, PluginError> {
        match self.send(&request) {
            Ok(r) => RResult::ROk(AbiHttpResponse {
                status: r.status,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(n, v)| Tuple2(n.into(), v.into()))
                    .collect::<RVec<_>>(),
                body: RVec::from(r.body),
            }),
            Err(e) => RResult::RErr(e),
        }
    }

    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    fn log(&self, _level: LogLevel, message: RStr<'_>) {
        self.journal().texts.push(message.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::StatusServer;
    use exsync_plugin_api::abi_stable::std_types::RString;
    use exsync_plugin_api::ErrorKind;

    fn get(url: &str) -> AbiHttpRequest {
        AbiHttpRequest {
            method: RString::from("GET"),
            url: RString::from(url),
            headers: RVec::new(),
            body: RVec::new(),
            cost: 1,
            bucket: RString::new(),
            resend: true,
        }
    }

    #[test]
    fn a_request_to_an_undeclared_host_is_refused_unsent_and_reported() {
        let server = StatusServer::start(200, "application/json", "{}").unwrap();
        let allowed = url_host(&server.url).unwrap();
        let journal = Arc::new(Mutex::new(Journal::default()));
        let host = CheckHost::new(vec![allowed], Transport::Live, journal.clone());

        let ok = host.http(get(&format!("{}/v1/x", server.url)));
        assert!(matches!(ok, RResult::ROk(ref r) if r.status == 200));

        let refused = host.http(get("http://api.elsewhere.example/v1/x?secret=1"));
        let RResult::RErr(e) = refused else {
            panic!("an undeclared host was called")
        };
        assert_eq!(e.kind, ErrorKind::PLUGIN);
        assert!(
            e.message
                .contains("refused a request to api.elsewhere.example"),
            "{e}"
        );
        let j = journal.lock().unwrap();
        assert_eq!(j.requests, 1, "the refused request was not sent");
        assert_eq!(j.refused, vec!["api.elsewhere.example".to_owned()]);
    }
}
