//! The control server: `exsyncctl`'s requests over the Unix socket.
//!
//! Speaks the protocol crate's newline-delimited JSON: a version handshake, then one request
//! per line answered by zero or more events and one final response. Each verb has its own
//! module with the same name as the request. A malformed line gets a `protocol` error and the
//! connection stays usable.
//!
//! Access ([`access`]): the socket is mode 0660 and group `socket_group` (default `exsync`).
//! Every request is checked against the peer's right (`SO_PEERCRED`): changes (`sync`,
//! `debug record`, `reload`, `credentials`, `backup`, `data download`, `data generate-sample`)
//! and credential access need root or the daemon's own user, reads need the socket group. A
//! refusal says which right was missing and who asked.
//!
//! Audit: this module decides, for every request at dispatch, whether it is audited
//! ([`Request::is_audited`]: every change and every credential access or use) or refused; such a
//! request is appended to the audit log ([`crate::audit`]) with who asked, what, when and the
//! result of its final answer, and gets a journal line. Handlers know nothing of it.

pub mod access;
mod audit;
mod backup;
mod coverage;
mod credentials;
mod data;
mod data_export;
mod data_generate_sample;
mod debug_record;
pub mod frame;
mod integrations;
mod pause;
mod plugins;
mod prune;
mod records;
mod reload;
mod resume;
pub mod status;
mod sync;
mod test;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use exsync_protocol::{
    decode, encode, AuditEntry, ErrorInfo, Hello, Request, Response, Right, MAX_LINE_BYTES,
    PROTOCOL_VERSION,
};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};

use self::access::{Access, Peer};
use self::frame::{next_frame, Frame, LineFramer};
use crate::daemon::Daemon;
use crate::events::ControlRequestAnswered;
use crate::host::now_ms;
use crate::supervisor::Integration;

/// Binds the socket (replacing a stale one) with mode 0660.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        // A live daemon answers; a stale socket file from a crash refuses.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another exsyncd is listening on this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Accepts connections until the task is aborted; `access` decides what each peer may do.
pub async fn serve(listener: UnixListener, daemon: Arc<Daemon>, access: Access) {
    let access = Arc::new(access);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let daemon = daemon.clone();
                let access = access.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, daemon, &access).await {
                        tracing::debug!(error = %e, "Control connection ended.");
                    }
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "Could not accept a control connection.");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Writes responses of one connection, and remembers how the last request ended.
pub struct Responder {
    writer: OwnedWriteHalf,
    /// The result of the last final answer sent: `ok`, `failed` or an error kind, with the
    /// error's message.
    outcome: Option<(String, Option<String>)>,
    /// The audit entry of the request being answered, if it is audited: written with the
    /// final answer's result before that answer goes out, so a client that saw its change
    /// acknowledged finds it in the audit log.
    audit: Option<(Arc<Daemon>, AuditEntry)>,
    /// The request being answered (verb, peer uid) and where its metric goes.
    answering: Option<(&'static str, u32, Arc<Daemon>)>,
}

impl Responder {
    /// Sends a final answer that succeeded, already encoded (`status`).
    pub async fn send_encoded(&mut self, line: &str) -> std::io::Result<()> {
        self.finish("ok".to_owned(), None).await;
        self.writer.write_all(line.as_bytes()).await
    }

    pub async fn send(&mut self, response: &Response) -> std::io::Result<()> {
        if response.is_final() {
            let (result, message) = outcome_of(response);
            self.finish(result, message).await;
        }
        self.writer.write_all(encode(response).as_bytes()).await
    }

    /// Ends the request being answered with `result`: its audit entry and its metric.
    async fn finish(&mut self, result: String, message: Option<String>) {
        if let Some((daemon, mut entry)) = self.audit.take() {
            entry.result = result.clone();
            entry.message = message.clone();
            crate::audit::record(daemon.store.clone(), &daemon.metrics, entry).await;
        }
        if let Some((verb, uid, daemon)) = self.answering.take() {
            ControlRequestAnswered {
                verb,
                result: result.clone(),
                uid,
            }
            .emit(&daemon.metrics);
        }
        self.outcome = Some((result, message));
    }
}

/// How a final answer ends a request, for the audit log.
fn outcome_of(response: &Response) -> (String, Option<String>) {
    match response {
        Response::Error(e) => (e.kind.clone(), Some(e.message.clone())),
        Response::Sync(r) if r.failed() => {
            let failed: Vec<&str> = r
                .streams
                .iter()
                .filter(|s| s.result != "ok")
                .map(|s| s.stream.as_str())
                .collect();
            (
                "failed".into(),
                Some(format!("streams failed: {}", failed.join(", "))),
            )
        }
        Response::DebugRecord(r) if r.sync.failed() || r.check_error.is_some() => {
            let mut failed: Vec<&str> = r
                .sync
                .streams
                .iter()
                .filter(|s| s.result != "ok")
                .map(|s| s.stream.as_str())
                .collect();
            if r.check_error.is_some() {
                failed.insert(0, "connection test");
            }
            (
                "failed".into(),
                Some(format!(
                    "recorded {} pairs; failed: {}",
                    r.pairs,
                    failed.join(", ")
                )),
            )
        }
        Response::Reload(r) if r.failed() => (
            "failed".into(),
            Some(format!(
                "refused: {}",
                r.errors
                    .iter()
                    .map(|p| p.subject.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ),
        _ => ("ok".into(), None),
    }
}

fn protocol_error(message: impl Into<String>) -> Response {
    Response::Error(
        ErrorInfo::new("protocol", message).with_hint("upgrade exsyncctl to the daemon's version"),
    )
}

/// The `protocol` error answering a line the frame reader refused.
fn refused_line(frame: &Frame) -> Response {
    let message = match frame {
        Frame::TooLong => format!(
            "refused a request line longer than the limit of {MAX_LINE_BYTES} bytes; it was skipped up to its newline"
        ),
        _ => "refused a request line that is not UTF-8".to_owned(),
    };
    Response::Error(ErrorInfo::new("protocol", message).with_hint(
        "send one JSON request per line, UTF-8, each shorter than the limit (exsyncctl does)",
    ))
}

/// An error response of the control plane's own kinds.
pub fn failure(kind: &str, message: impl Into<String>, hint: &str) -> Response {
    Response::Error(ErrorInfo::new(kind, message).with_hint(hint))
}

/// Finds an integration by name or answers `not_found`.
#[allow(clippy::result_large_err)] // the error is the answer to send; not a hot path
pub fn find_integration(daemon: &Daemon, name: &str) -> Result<Arc<Integration>, Response> {
    let topo = daemon.topology.read().expect("topology lock");
    topo.integrations.get(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = topo.integrations.keys().map(String::as_str).collect();
        failure(
            "not_found",
            format!(
                "no integration named `{name}` (configured: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
            "integration names are the file names in integrations.d, without .toml",
        )
    })
}

/// `busy` while the daemon shuts down, for a verb that would start work; `hint` says when to
/// ask again.
pub fn refuse_while_shutting_down(daemon: &Daemon, hint: &str) -> Option<Response> {
    daemon
        .shutdown
        .is_cancelled()
        .then(|| failure("busy", "the daemon is shutting down", hint))
}

/// The one stream a request names (`None`: all of them), or `not_found` with the streams the
/// integration syncs and `hint`.
#[allow(clippy::result_large_err)] // the error is the answer to send; not a hot path
pub fn requested_stream(
    it: &Integration,
    name: Option<&str>,
    hint: &str,
) -> Result<Option<exsync_plugin_api::Stream>, Response> {
    let Some(name) = name else {
        return Ok(None);
    };
    match exsync_plugin_api::Stream::from_name(name) {
        Some(s) if it.streams.iter().any(|(x, _)| *x == s) => Ok(Some(s)),
        _ => {
            let configured: Vec<&str> = it.streams.iter().map(|(s, _)| s.as_str()).collect();
            Err(failure(
                "not_found",
                format!(
                    "integration `{}` syncs no stream `{name}` (it syncs: {})",
                    it.name(),
                    configured.join(", ")
                ),
                hint,
            ))
        }
    }
}

/// The refusal of a request the peer lacks the right for: which right, and who asked.
fn denied(request: &Request, needs: Right, has: Right, peer: &Peer, access: &Access) -> Response {
    let verb = request.verb();
    let what = match needs {
        Right::Change => "changes the daemon's state or touches credentials",
        _ => "reads the daemon's state",
    };
    let user = peer.user().map(|u| format!(" ({u})")).unwrap_or_default();
    failure(
        "denied",
        format!(
            "`{verb}` {what} and needs the `{}` right; uid {}{user}, pid {}, has {}: only {}              may do that",
            needs.as_str(),
            peer.uid,
            peer.pid,
            match has {
                Right::None => "no right".to_owned(),
                r => format!("only the `{}` right", r.as_str()),
            },
            access.who_may(needs),
        ),
        match needs {
            Right::Change => "run it as root (sudo) or as the exsync user",
            _ => "add the user to the socket's group (`exsync`), or run it as root (sudo)",
        },
    )
}

/// How long, and how many bytes, a refused client's unread input is read and dropped for.
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(2);
const DRAIN_AT_MOST: u64 = 4 * MAX_LINE_BYTES as u64;

/// Ends a connection whose handshake was refused, after its answer went out: the write half
/// is shut (the client reads the answer, then end of file), and what the client still sends
/// is read and dropped, within [`DRAIN_FOR`] and [`DRAIN_AT_MOST`]. Closing a Unix socket
/// with unread input would reset the connection instead, and a client could lose the answer
/// or see `ECONNRESET` where it expects the end.
async fn close_after_refusal(
    read: tokio::net::unix::OwnedReadHalf,
    mut writer: OwnedWriteHalf,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    writer.shutdown().await?;
    let mut rest = read.take(DRAIN_AT_MOST);
    let _ = tokio::time::timeout(
        DRAIN_FOR,
        tokio::io::copy(&mut rest, &mut tokio::io::sink()),
    )
    .await;
    Ok(())
}

async fn connection(
    stream: UnixStream,
    daemon: Arc<Daemon>,
    access: &Access,
) -> std::io::Result<()> {
    // A peer the kernel cannot name gets no right at all.
    let peer = Peer::of(&stream).unwrap_or(Peer {
        uid: u32::MAX,
        gid: u32::MAX,
        pid: 0,
        groups: Vec::new(),
    });
    let right = access.right(&peer);
    let (mut read, write) = stream.into_split();
    let mut framer = LineFramer::new(MAX_LINE_BYTES);
    let mut out = Responder {
        writer: write,
        outcome: None,
        audit: None,
        answering: None,
    };

    // Handshake.
    let hello = match next_frame(&mut read, &mut framer).await? {
        Some(Frame::Line(line)) => decode::<Hello>(&line),
        Some(bad) => {
            out.send(&refused_line(&bad)).await?;
            return close_after_refusal(read, out.writer).await;
        }
        None => return Ok(()),
    };
    match hello {
        Ok(h) if h.protocol == PROTOCOL_VERSION => {
            out.send(&Response::Hello(Hello {
                protocol: PROTOCOL_VERSION,
                agent: concat!("exsyncd ", env!("CARGO_PKG_VERSION")).to_owned(),
            }))
            .await?;
        }
        Ok(h) => {
            out.send(&protocol_error(format!(
                "client speaks control protocol {}, this exsyncd speaks {PROTOCOL_VERSION}",
                h.protocol
            )))
            .await?;
            return close_after_refusal(read, out.writer).await;
        }
        Err(e) => {
            out.send(&protocol_error(format!("expected a hello line first: {e}")))
                .await?;
            return close_after_refusal(read, out.writer).await;
        }
    }

    while let Some(frame) = next_frame(&mut read, &mut framer).await? {
        let line = match frame {
            Frame::Line(l) => l,
            bad => {
                out.send(&refused_line(&bad)).await?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let decoded = decode::<Request>(&line);
        // A credentials line's parse error could quote a value: say where, not what.
        let sensitive = line.contains("\"credentials_");
        // The line may carry credential values: wipe it as soon as it is decoded.
        let mut line = line;
        zeroize::Zeroize::zeroize(&mut line);
        let request = match decoded {
            Ok(r) => r,
            Err(e) => {
                let detail = if sensitive {
                    format!("{:?} error at column {}", e.classify(), e.column())
                } else {
                    e.to_string()
                };
                out.send(&protocol_error(format!("malformed request: {detail}")))
                    .await?;
                continue;
            }
        };
        tracing::debug!(verb = request.verb(), "Control request.");
        let verb = request.verb();
        let needs = request.needs();
        out.outcome = None;
        out.answering = Some((verb, peer.uid, daemon.clone()));
        out.audit = (request.is_audited() || right < needs).then(|| {
            let entry = AuditEntry {
                seq: 0,
                at_ms: now_ms(),
                origin: "ctl".into(),
                uid: peer.uid,
                pid: peer.pid,
                user: peer.user(),
                verb: verb.to_owned(),
                target: request.target(),
                result: String::new(),
                message: None,
            };
            (daemon.clone(), entry)
        });
        let sent = if right < needs {
            out.send(&denied(&request, needs, right, &peer, access))
                .await
        } else {
            dispatch(&daemon, request, &mut out).await
        };
        // A client that left before the final answer: the request ran (or runs on) anyway.
        let (result, message) = out.outcome.take().unwrap_or_else(|| {
            (
                "disconnected".to_owned(),
                Some("the client left before the final answer".to_owned()),
            )
        });
        if let Some((daemon, mut entry)) = out.audit.take() {
            entry.result = result.clone();
            entry.message = message;
            crate::audit::record(daemon.store.clone(), &daemon.metrics, entry).await;
        }
        if let Some((verb, uid, daemon)) = out.answering.take() {
            ControlRequestAnswered { verb, result, uid }.emit(&daemon.metrics);
        }
        sent?;
    }
    Ok(())
}

/// Hands a request the peer may make to its verb's module.
async fn dispatch(
    daemon: &Arc<Daemon>,
    request: Request,
    out: &mut Responder,
) -> std::io::Result<()> {
    match request {
        Request::Status => out.send_encoded(&status::status(daemon)).await,
        Request::Plugins => out.send(&plugins::plugins(daemon)).await,
        Request::Integrations => out.send(&integrations::integrations(daemon)).await,
        Request::Test(r) => out.send(&test::test(daemon, r).await).await,
        Request::Sync(r) => sync::sync(daemon, r, out).await,
        Request::Records(r) => records::records(daemon, r, out).await,
        Request::Coverage(r) => out.send(&coverage::coverage(daemon, r)).await,
        Request::Reload(r) => reload::reload(daemon, r, out).await,
        Request::Audit(r) => out.send(&audit::audit(daemon, r).await).await,
        Request::CredentialsSet(r) => {
            let answer = credentials::credentials(daemon, r, credentials::Action::Set).await;
            out.send(&answer).await
        }
        Request::CredentialsRotate(r) => {
            let answer = credentials::credentials(daemon, r, credentials::Action::Rotate).await;
            out.send(&answer).await
        }
        Request::Backup(r) => out.send(&backup::backup(daemon, r).await).await,
        Request::Pause(r) => out.send(&pause::pause(daemon, r)).await,
        Request::Resume(r) => out.send(&resume::resume(daemon, r)).await,
        Request::Prune(r) => out.send(&prune::prune(daemon, r).await).await,
        Request::DebugRecord(r) => debug_record::debug_record(daemon, r, out).await,
        Request::DataSources => out.send(&data::data_sources(daemon)).await,
        Request::DataList => out.send(&data::data_list(daemon).await).await,
        Request::DataInfo(r) => out.send(&data::data_info(daemon, r).await).await,
        Request::DataValidate(r) => out.send(&data::data_validate(daemon, r).await).await,
        Request::DataDownload(r) => data::data_download(daemon, r, out).await,
        Request::DataExport(r) => data_export::data_export(daemon, r, out).await,
        Request::DataGenerateSample(r) => {
            let response = data_generate_sample::data_generate_sample(daemon, r).await;
            out.send(&response).await
        }
    }
}
