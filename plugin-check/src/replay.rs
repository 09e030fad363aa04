//! Replay directories: recorded request/response pairs that stand in for an exchange.
//!
//! A directory holds `*.json` files, read in file-name order; each holds one pair or an array
//! of pairs:
//!
//! ```json
//! {
//!   "request":  { "method": "GET", "path": "/api/v3/myTrades?symbol=BTCUSDT&fromId=0" },
//!   "response": { "status": 200, "headers": { "content-type": "application/json" },
//!                 "body": [ { "id": 1, "price": "100.5" } ] }
//! }
//! ```
//!
//! `body` is sent as is when it is a JSON string, and as its JSON text otherwise. A request is
//! answered by the pair with the same method and path whose query shares the most parameters
//! with it (signatures and timestamps differ on every run, so an exact match is not required);
//! among equal candidates the one used least often, then the first in file order, wins, so a
//! recorded paging sequence replays in order. A request nothing matches gets a 404 and is
//! reported.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::Value;

use crate::http::{url_path, Response};

#[derive(Deserialize)]
struct RecordedRequest {
    method: String,
    path: String,
}

#[derive(Deserialize)]
struct RecordedResponse {
    status: u16,
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
    #[serde(default)]
    body: Value,
}

#[derive(Deserialize)]
struct Pair {
    request: RecordedRequest,
    response: RecordedResponse,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PairFile {
    One(Pair),
    Many(Vec<Pair>),
}

struct Entry {
    method: String,
    path: String,
    query: BTreeSet<String>,
    response: Response,
    source: String,
}

/// The pairs of one replay directory, and how often each answered.
pub struct Replay {
    entries: Vec<Entry>,
    uses: Mutex<Vec<u32>>,
}

fn split(path_and_query: &str) -> (String, BTreeSet<String>) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    (path.to_owned(), params)
}

impl Replay {
    /// Reads every `*.json` file of `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Replay> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("while reading the replay directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut entries = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("while reading replay file {}", file.display()))?;
            let pairs = match serde_json::from_str::<PairFile>(&text).with_context(|| {
                format!(
                    "while parsing replay file {} (expected {{\"request\": {{\"method\", \"path\"}}, \"response\": {{\"status\", \"headers\", \"body\"}}}} or an array of those)",
                    file.display()
                )
            })? {
                PairFile::One(p) => vec![p],
                PairFile::Many(v) => v,
            };
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for pair in pairs {
                let (path, query) = split(url_path(&pair.request.path));
                let body = match pair.response.body {
                    Value::String(s) => s.into_bytes(),
                    Value::Null => Vec::new(),
                    other => other.to_string().into_bytes(),
                };
                let headers = pair
                    .response
                    .headers
                    .into_iter()
                    .map(|(n, v)| {
                        let v = v.as_str().map(str::to_owned).unwrap_or(v.to_string());
                        (n.to_ascii_lowercase(), v)
                    })
                    .collect();
                entries.push(Entry {
                    method: pair.request.method.to_ascii_uppercase(),
                    path,
                    query,
                    response: Response {
                        status: pair.response.status,
                        headers,
                        body,
                    },
                    source: name.clone(),
                });
            }
        }
        if entries.is_empty() {
            bail!(
                "the replay directory {} holds no request/response pairs (*.json files)",
                dir.display()
            );
        }
        let uses = Mutex::new(vec![0; entries.len()]);
        Ok(Replay { entries, uses })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The recorded answer to a request, or `None` when no pair has its method and path.
    pub fn answer(&self, method: &str, url: &str) -> Option<(Response, &str)> {
        let (path, query) = split(url_path(url));
        let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
        let best = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.method.eq_ignore_ascii_case(method) && e.path == path)
            .min_by_key(|(i, e)| {
                let shared = e.query.intersection(&query).count();
                (std::cmp::Reverse(shared), uses[*i], *i)
            })
            .map(|(i, _)| i)?;
        uses[best] += 1;
        let e = &self.entries[best];
        Some((
            Response {
                status: e.response.status,
                headers: e.response.headers.clone(),
                body: e.response.body.clone(),
            },
            &e.source,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "exsync-plugin-check-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn pages_replay_in_order_and_the_closest_query_wins() {
        let dir = scratch("order");
        write(
            &dir,
            "01.json",
            r#"[{"request":{"method":"GET","path":"/t?sym=A&page=1"},"response":{"status":200,"body":{"n":1}}},
                {"request":{"method":"GET","path":"/t?sym=A&page=2"},"response":{"status":200,"body":"two"}}]"#,
        );
        write(
            &dir,
            "02.json",
            r#"{"request":{"method":"GET","path":"/t?sym=B"},"response":{"status":401,"body":null}}"#,
        );
        let replay = Replay::load(&dir).unwrap();
        assert_eq!(replay.len(), 3);
        let body = |m: &str, u: &str| replay.answer(m, u).map(|(r, _)| (r.status, r.body));
        assert_eq!(
            body("GET", "http://x/t?sym=A&page=2&signature=zz"),
            Some((200, b"two".to_vec()))
        );
        assert_eq!(
            body("GET", "http://x/t?sym=A&page=1"),
            Some((200, b"{\"n\":1}".to_vec()))
        );
        assert_eq!(
            body("GET", "http://x/t?sym=B&ts=9"),
            Some((401, Vec::new()))
        );
        assert_eq!(body("POST", "http://x/t?sym=B"), None);
        assert_eq!(body("GET", "http://x/other"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_malformed_file_is_an_error_that_names_it() {
        let dir = scratch("bad");
        write(&dir, "broken.json", r#"{"request":{}}"#);
        let err = format!("{:#}", Replay::load(&dir).err().unwrap());
        assert!(err.contains("broken.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
