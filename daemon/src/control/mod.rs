//! The control server: `exsyncctl`'s requests over the Unix socket.
//!
//! Speaks the protocol crate's newline-delimited JSON: a version handshake, then one request
//! per line answered by zero or more events and one final response. Each verb has its own
//! module with the same name as the request. A malformed line gets a `protocol` error and the
//! connection stays usable. Requests that change something (`sync`, `reload`, `credentials`,
//! `backup`, `pause`, `resume`, `prune`) are allowed only to root and the daemon's own user (checked with `SO_PEERCRED`);
//! reads to whoever can open the socket (mode 0660: the `exsync` group).

mod backup;
mod coverage;
mod credentials;
mod integrations;
mod pause;
mod plugins;
mod prune;
mod records;
mod reload;
mod resume;
mod status;
mod sync;
mod test;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use exsync_protocol::{
    decode, encode, ErrorInfo, Hello, Request, Response, MAX_LINE_BYTES, PROTOCOL_VERSION,
};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

use crate::daemon::Daemon;
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

/// Accepts connections until the task is aborted.
pub async fn serve(listener: UnixListener, daemon: Arc<Daemon>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let daemon = daemon.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, daemon).await {
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

/// Writes responses of one connection.
pub struct Responder {
    writer: OwnedWriteHalf,
}

impl Responder {
    pub async fn send(&mut self, response: &Response) -> std::io::Result<()> {
        self.writer.write_all(encode(response).as_bytes()).await
    }
}

fn protocol_error(message: impl Into<String>) -> Response {
    Response::Error(
        ErrorInfo::new("protocol", message).with_hint("upgrade exsyncctl to the daemon's version"),
    )
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

/// Whether the peer may change things: root or the daemon's own user.
fn may_change(stream: &UnixStream) -> bool {
    let me = unsafe { libc::geteuid() };
    match stream.peer_cred() {
        Ok(cred) => cred.uid() == 0 || cred.uid() == me,
        Err(_) => false,
    }
}

async fn connection(stream: UnixStream, daemon: Arc<Daemon>) -> std::io::Result<()> {
    let can_change = may_change(&stream);
    let (read, write) = stream.into_split();
    let mut lines = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE_BYTES));
    let mut out = Responder { writer: write };

    // Handshake.
    let hello = match lines.next().await {
        Some(Ok(line)) => decode::<Hello>(&line),
        _ => return Ok(()),
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
            return Ok(());
        }
        Err(e) => {
            out.send(&protocol_error(format!("expected a hello line first: {e}")))
                .await?;
            return Ok(());
        }
    }

    while let Some(line) = lines.next().await {
        let line = match line {
            Ok(l) => l,
            Err(LinesCodecError::MaxLineLengthExceeded) => {
                out.send(&protocol_error(format!(
                    "request line longer than {MAX_LINE_BYTES} bytes"
                )))
                .await?;
                continue;
            }
            Err(LinesCodecError::Io(e)) => return Err(e),
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
        if request.is_change() && !can_change {
            out.send(&failure(
                "denied",
                format!(
                    "`{}` changes the daemon's state; only root and the exsync user may do that",
                    request.verb()
                ),
                "run it as root (sudo) or as the exsync user",
            ))
            .await?;
            continue;
        }
        match request {
            Request::Status => out.send(&status::status(&daemon)).await?,
            Request::Plugins => out.send(&plugins::plugins(&daemon)).await?,
            Request::Integrations => out.send(&integrations::integrations(&daemon)).await?,
            Request::Test(r) => out.send(&test::test(&daemon, r).await).await?,
            Request::Sync(r) => sync::sync(&daemon, r, &mut out).await?,
            Request::Records(r) => records::records(&daemon, r, &mut out).await?,
            Request::Coverage(r) => out.send(&coverage::coverage(&daemon, r)).await?,
            Request::Reload(r) => reload::reload(&daemon, r, &mut out).await?,
            Request::CredentialsSet(r) => {
                let answer = credentials::credentials(&daemon, r, credentials::Action::Set).await;
                out.send(&answer).await?
            }
            Request::CredentialsRotate(r) => {
                let answer =
                    credentials::credentials(&daemon, r, credentials::Action::Rotate).await;
                out.send(&answer).await?
            }
            Request::Backup(r) => out.send(&backup::backup(&daemon, r).await).await?,
            Request::Pause(r) => out.send(&pause::pause(&daemon, r)).await?,
            Request::Resume(r) => out.send(&resume::resume(&daemon, r)).await?,
            Request::Prune(r) => out.send(&prune::prune(&daemon, r).await).await?,
        }
    }
    Ok(())
}
