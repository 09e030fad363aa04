//! Sync-failure notifications: a JSON POST to an integration's webhook when a stream starts
//! failing and when it recovers.
//!
//! Owns the `[notify]` table of an integration file ([`NotifyConfig`], checked by
//! [`NotifyConfig::parse`]), the payload ([`Notification`]) and its delivery ([`deliver`]).
//! The engine decides *when* (a stream's first failure after a success, and its first success
//! after a failure, read from the persisted stream state, so retries and restarts notify
//! nothing twice); this module only sends. Delivery runs on its own task with bounded retries:
//! a slow or dead webhook never delays a sync. Payloads carry the redacted error message and
//! never a credential; the URL itself may carry a token, so logs show it through
//! [`redacted_url`] only.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;

use crate::events::{NotificationFailed, NotificationSent};
use crate::metrics::Metrics;

/// Pauses between attempts at one notification: four attempts within about half a minute.
/// Long enough to ride out a receiver's restart, short enough that a dead webhook holds no
/// more than a few small tasks.
const RETRY_PAUSES: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(20),
];
/// One attempt's deadline (connect, send, answer): a webhook answers at once or not at all.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which transitions are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The stream failed after a success (or on its first attempt).
    Failure,
    /// The stream synced after a failure.
    Recovery,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Failure => "failure",
            Transition::Recovery => "recovery",
        }
    }
}

/// An integration's `[notify]` table, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// The URL as written (it may carry a token: never log it, see [`redacted_url`]).
    pub webhook: String,
    pub on_failure: bool,
    pub on_recovery: bool,
}

impl NotifyConfig {
    /// Checks `webhook` and `on`. Errors show the URL redacted.
    pub fn parse(webhook: &str, on: Option<&[String]>) -> Result<NotifyConfig, String> {
        let shown = redacted_url(webhook);
        let lower = webhook.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(|| {
                format!("[notify] webhook {shown:?} must be an http:// or https:// URL")
            })?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || webhook.chars().any(char::is_whitespace) {
            return Err(format!(
                "[notify] webhook {shown:?} must be an http:// or https:// URL with a host"
            ));
        }
        let (mut on_failure, mut on_recovery) = (true, true);
        if let Some(on) = on {
            on_failure = false;
            on_recovery = false;
            for word in on {
                match word.as_str() {
                    "failure" => on_failure = true,
                    "recovery" => on_recovery = true,
                    other => {
                        return Err(format!(
                        "[notify] on: unknown event {other:?} (known: \"failure\", \"recovery\")"
                    ))
                    }
                }
            }
            if on.is_empty() {
                return Err(
                    "[notify] on is empty: name \"failure\", \"recovery\" or both, or remove the [notify] table"
                        .into(),
                );
            }
        }
        Ok(NotifyConfig {
            webhook: webhook.to_owned(),
            on_failure,
            on_recovery,
        })
    }

    /// Whether this transition is sent.
    pub fn wants(&self, t: Transition) -> bool {
        match t {
            Transition::Failure => self.on_failure,
            Transition::Recovery => self.on_recovery,
        }
    }
}

/// The URL as it may be shown: user info replaced by `***`, and the whole query (where tokens
/// usually sit) replaced by `***`. Scheme, host, port and path stay, so an operator can tell
/// which webhook is meant.
pub fn redacted_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_owned(),
    };
    let tail = tail.split('#').next().unwrap_or_default();
    let tail = match tail.find('?') {
        Some(q) => format!("{}?***", &tail[..q]),
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

/// `text` with every URL in it (a word with `://`) shown as [`redacted_url`] shows it.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |i| i + 1);
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '`')
            .map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..start]);
        out.push_str(&redacted_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The JSON body of one notification. Every text in it is already redacted.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// `failure` or `recovery`.
    pub event: Transition,
    pub integration: String,
    pub exchange: String,
    pub stream: String,
    /// The error kind of the failure (for a recovery: of the failure it recovers from).
    pub error_kind: Option<String>,
    /// The error message, redacted.
    pub message: Option<String>,
    /// What the operator can do about it.
    pub hint: Option<String>,
    /// When this happened, UTC milliseconds.
    pub at_ms: i64,
    /// For a recovery: when the stream last failed, UTC milliseconds.
    pub last_failure_ms: Option<i64>,
    /// When the stream last synced before this event, UTC milliseconds.
    pub last_success_ms: Option<i64>,
}

/// The client every webhook shares: no cookies, no redirects (a redirect could send the
/// payload somewhere the operator did not name).
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("exsyncd/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("building the webhook HTTP client")
    })
}

/// Sends `n` to `config`'s webhook on a task of its own, if `config` wants this transition.
/// Returns at once; the outcome is an event (log and `exsync_notifications_total`).
pub fn deliver(config: &NotifyConfig, n: Notification, metrics: &Arc<Metrics>) {
    if !config.wants(n.event) {
        return;
    }
    let url = config.webhook.clone();
    let metrics = metrics.clone();
    tokio::spawn(async move {
        let body = serde_json::to_vec(&n).expect("a notification serialises");
        let shown = redacted_url(&url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = client()
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let problem = match outcome {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("the webhook answered {}", r.status().as_u16())),
                // Without the URL: reqwest's message would carry it whole.
                Err(e) => Some(describe(&e)),
            };
            let Some(problem) = problem else {
                NotificationSent {
                    event: n.event.as_str(),
                    integration: &n.integration,
                    stream: &n.stream,
                    url: &shown,
                    attempt,
                }
                .emit(&metrics);
                return;
            };
            let pause = RETRY_PAUSES.get(attempt as usize - 1).copied();
            NotificationFailed {
                event: n.event.as_str(),
                integration: &n.integration,
                stream: &n.stream,
                url: &shown,
                attempt,
                problem: &problem,
                retry_in: pause,
            }
            .emit(&metrics);
            match pause {
                Some(p) => tokio::time::sleep(p).await,
                None => return,
            }
        }
    });
}

/// What went wrong with a request, without its URL.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(s) = source {
        deepest = Some(s.to_string());
        source = s.source();
    }
    match deepest {
        Some(d) => format!("{what}: {d}"),
        None => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_user_info_or_query() {
        assert_eq!(
            redacted_url("https://bob:hunter22@hooks.example/x/y?token=abc#f"),
            "https://***@hooks.example/x/y?***"
        );
        assert_eq!(
            redacted_url("http://127.0.0.1:8080/hook"),
            "http://127.0.0.1:8080/hook"
        );
        assert_eq!(
            redacted_url("https://h.example?key=s3cr3t"),
            "https://h.example?***"
        );
    }

    #[test]
    fn urls_in_text_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_urls(r#"1 | webhook = "https://u:pw@h.example/x?token=abc" bad"#),
            r#"1 | webhook = "https://***@h.example/x?***" bad"#
        );
        assert_eq!(redact_urls("no url here"), "no url here");
        assert_eq!(
            redact_urls("a http://h/p?k=v and ftp://x@y"),
            "a http://h/p?*** and ftp://***@y"
        );
    }

    #[test]
    fn only_http_and_https_with_a_host_and_known_events() {
        let ok = NotifyConfig::parse("https://h.example/hook", None).unwrap();
        assert!(ok.on_failure && ok.on_recovery);
        let only = NotifyConfig::parse("http://h.example/", Some(&["recovery".into()])).unwrap();
        assert!(!only.wants(Transition::Failure) && only.wants(Transition::Recovery));
        for bad in [
            "ftp://h.example/",
            "h.example/hook",
            "https:///path",
            "file:///etc/passwd",
        ] {
            assert!(NotifyConfig::parse(bad, None).is_err(), "{bad}");
        }
        let e = NotifyConfig::parse("ftp://u:pw123456@h.example/?token=t0k3n", None).unwrap_err();
        assert!(!e.contains("pw123456") && !e.contains("t0k3n"), "{e}");
        let e = NotifyConfig::parse("https://h.example/", Some(&["success".into()])).unwrap_err();
        assert!(e.contains("success"), "{e}");
        assert!(NotifyConfig::parse("https://h.example/", Some(&[])).is_err());
    }
}
