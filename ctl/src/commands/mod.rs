//! The subcommands, one file per verb, and what they share: the connection and the failures.
//!
//! Each `commands/<verb>.rs` sends `Request::<Verb>`, prints the answer (a table, or JSON with
//! `--json`) and says how the run ended ([`Exit`]). A command that cannot finish returns a
//! [`Failure`]; `main` prints it on stderr and exits with [`Failure::exit`].

pub mod audit;
pub mod backup;
pub mod coverage;
pub mod credentials;
pub mod data;
pub mod data_export;
pub mod debug_record;
pub mod docs;
pub mod integrations;
pub mod pause;
pub mod plugin_new;
pub mod plugins;
pub mod prune;
pub mod records;
pub mod reload;
pub mod resume;
pub mod status;
pub mod sync;
pub mod test;
pub mod validate;

use std::io;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use exsync_protocol::{encode, Client, ClientError, ErrorInfo, Request, Response};

use crate::Exit;

/// What every command knows: where the daemon is and how to print.
#[derive(Clone, Debug)]
pub struct Context {
    pub socket: PathBuf,
    /// `--json`: stdout holds the answer's payload as JSON and nothing else.
    pub json: bool,
}

impl Context {
    /// Connects and shakes hands.
    pub fn connect(&self) -> Result<Client, Failure> {
        let agent = concat!("exsyncctl ", env!("CARGO_PKG_VERSION"));
        Client::connect(&self.socket, agent).map_err(|e| self.client_failure(e))
    }

    /// Sends `request` and returns the final answer. Non-final answers (progress, record
    /// batches) go to `on_event` as they arrive; an `Err` from it stops reading and closes the
    /// connection. An error answer becomes [`Failure::Daemon`].
    pub fn request(
        &self,
        request: &Request,
        mut on_event: impl FnMut(Response) -> Result<(), Failure>,
    ) -> Result<Response, Failure> {
        let mut client = self.connect()?;
        let mut line = encode(request);
        let sent = client.send_raw(&line);
        // The line may carry credential values (`credentials set`): wipe it once sent.
        zeroize::Zeroize::zeroize(&mut line);
        sent.map_err(|e| self.client_failure(e))?;
        loop {
            let response = client.read_response().map_err(|e| self.client_failure(e))?;
            match response {
                Response::Error(error) => return Err(Failure::Daemon(error)),
                response if response.is_final() => return Ok(response),
                response => on_event(response)?,
            }
        }
    }

    fn client_failure(&self, error: ClientError) -> Failure {
        let socket = self.socket.clone();
        match error {
            ClientError::Unreachable { source, .. } => Failure::Unreachable {
                socket,
                permission: source.kind() == io::ErrorKind::PermissionDenied,
                reason: source.to_string(),
            },
            ClientError::Io { doing, source, .. } => Failure::Unreachable {
                socket,
                permission: false,
                reason: format!("{doing}: {source}"),
            },
            ClientError::Closed | ClientError::Handshake(_) => Failure::Unreachable {
                socket,
                permission: false,
                reason: error.to_string(),
            },
            ClientError::Malformed { .. } => Failure::Protocol(error.to_string()),
        }
    }
}

/// Why a command could not finish.
#[derive(Debug)]
pub enum Failure {
    /// No daemon at the socket, no permission to it, a refused handshake, or a connection
    /// that broke before the answer was complete.
    Unreachable {
        socket: PathBuf,
        permission: bool,
        reason: String,
    },
    /// The daemon answered with an error.
    Daemon(ErrorInfo),
    /// The daemon sent something this client does not understand or did not ask for.
    Protocol(String),
    /// `exsyncd` could not be run, or printed no report (`validate`).
    Exsyncd { program: String, reason: String },
    /// Writing our own output failed.
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        Failure::Output(error)
    }
}

/// What to try when the daemon cannot be reached.
pub const UNREACHABLE_HINT: &str =
    "is exsyncd running? check `systemctl status exsyncd` and the --socket/EXSYNC_SOCKET path";

/// What to try when the socket exists but we may not open it.
pub const PERMISSION_HINT: &str =
    "the socket is open to root and the `exsync` group: run as a member of `exsync` or with sudo";

impl Failure {
    /// The exit code this failure ends the run with.
    pub fn exit(&self) -> Exit {
        match self {
            Failure::Unreachable { .. } => Exit::Unreachable,
            Failure::Daemon(error) if error.kind == "usage" => Exit::Usage,
            Failure::Daemon(_) | Failure::Protocol(_) => Exit::Failed,
            Failure::Exsyncd { .. } => Exit::Usage,
            // `exsyncctl records ... | head`: the reader has what it wanted.
            Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Ok,
            Failure::Output(_) => Exit::Failed,
        }
    }

    /// What goes to stderr: `error: …` then `hint: …`.
    pub fn render(&self) -> String {
        match self {
            Failure::Unreachable {
                socket,
                permission,
                reason,
            } => {
                let hint = if *permission {
                    PERMISSION_HINT
                } else {
                    UNREACHABLE_HINT
                };
                format!(
                    "error: cannot reach exsyncd at {}: {reason}\nhint: {hint}\n",
                    socket.display()
                )
            }
            Failure::Daemon(error) => error_lines(error),
            Failure::Protocol(message) => format!(
                "error: protocol: {message}\nhint: exsyncctl and exsyncd may be of different \
                 versions; compare `exsyncctl --version` with `exsyncctl status`\n"
            ),
            Failure::Exsyncd { program, reason } => format!(
                "error: cannot run exsyncd ({program}): {reason}\nhint: pass --exsyncd PATH or \
                 set EXSYNCD, or install exsyncd next to exsyncctl or on PATH\n"
            ),
            Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => String::new(),
            Failure::Output(e) => format!("error: cannot write output: {e}\n"),
        }
    }
}

/// `error: <kind>: <message>` and, when the daemon gave one, `hint: <hint>`.
pub fn error_lines(error: &ErrorInfo) -> String {
    let mut text = format!("error: {}: {}\n", error.kind, error.message);
    if let Some(hint) = &error.hint {
        text.push_str(&format!("hint: {hint}\n"));
    }
    text
}

/// The failure for an answer of the wrong type.
pub fn unexpected(expected: &str, got: &Response) -> Failure {
    let got = serde_json::to_value(got)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    Failure::Protocol(format!("expected a `{expected}` answer, got `{got}`"))
}

/// A non-final answer that a command does not expect is skipped, not fatal.
pub fn ignore(_: Response) -> Result<(), Failure> {
    Ok(())
}

/// Now, UTC ms (for ages and uptimes).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Prints a report on stdout: as JSON with `--json`, else as `render` lays it out for people.
pub fn print_report<T: serde::Serialize>(
    ctx: &Context,
    report: &T,
    render: impl FnOnce(&T) -> String,
) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if ctx.json {
        crate::output::write_json(&mut out, report)?;
    } else {
        out.write_all(render(report).as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable(permission: bool) -> Failure {
        Failure::Unreachable {
            socket: PathBuf::from("exsyncd.sock"),
            permission,
            reason: "No such file or directory (os error 2)".into(),
        }
    }

    #[test]
    fn exit_codes_follow_the_failure() {
        assert_eq!(unreachable(false).exit(), Exit::Unreachable);
        assert_eq!(
            Failure::Daemon(ErrorInfo::new("auth", "bad key")).exit(),
            Exit::Failed
        );
        assert_eq!(
            Failure::Daemon(ErrorInfo::new("not_found", "x")).exit(),
            Exit::Failed
        );
        assert_eq!(
            Failure::Daemon(ErrorInfo::new("denied", "x")).exit(),
            Exit::Failed
        );
        assert_eq!(
            Failure::Daemon(ErrorInfo::new("usage", "x")).exit(),
            Exit::Usage
        );
        assert_eq!(Failure::Protocol("x".into()).exit(), Exit::Failed);
        let no_exsyncd = Failure::Exsyncd {
            program: "exsyncd".into(),
            reason: "x".into(),
        };
        assert_eq!(no_exsyncd.exit(), Exit::Usage);
        let pipe = Failure::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(pipe.exit(), Exit::Ok);
        assert_eq!(pipe.render(), "");
        assert_eq!(
            Failure::Output(io::Error::other("disk full")).exit(),
            Exit::Failed
        );
    }

    #[test]
    fn client_errors_that_mean_no_daemon_exit_3() {
        let ctx = Context {
            socket: PathBuf::from("exsyncd.sock"),
            json: false,
        };
        let io_err = || io::Error::from(io::ErrorKind::ConnectionRefused);
        for error in [
            ClientError::Unreachable {
                path: ctx.socket.clone(),
                source: io_err(),
            },
            ClientError::Io {
                path: ctx.socket.clone(),
                doing: "reading a response",
                source: io_err(),
            },
            ClientError::Closed,
            ClientError::Handshake("protocol version 2 not supported".into()),
        ] {
            assert_eq!(ctx.client_failure(error).exit(), Exit::Unreachable);
        }
        let malformed = ClientError::Malformed {
            message: "eof".into(),
            line: "{".into(),
        };
        assert_eq!(ctx.client_failure(malformed).exit(), Exit::Failed);
        let denied = ClientError::Unreachable {
            path: ctx.socket.clone(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(ctx
            .client_failure(denied)
            .render()
            .contains("`exsync` group"));
    }

    #[test]
    fn failures_render_error_then_hint() {
        assert_eq!(
            unreachable(false).render(),
            format!(
                "error: cannot reach exsyncd at exsyncd.sock: No such file or directory (os error \
                 2)\nhint: {UNREACHABLE_HINT}\n"
            )
        );
        let auth = ErrorInfo::new("auth", "invalid API key").with_hint("check the key");
        assert_eq!(
            Failure::Daemon(auth).render(),
            "error: auth: invalid API key\nhint: check the key\n"
        );
        assert_eq!(
            error_lines(&ErrorInfo::new("busy", "a sync runs")),
            "error: busy: a sync runs\n"
        );
    }
}
