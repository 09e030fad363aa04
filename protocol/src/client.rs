//! A blocking client: connect, shake hands, send a request, read its responses.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{decode_response, encode, Hello, Request, Response, PROTOCOL_VERSION};

/// Why talking to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket is missing or refuses connections: the daemon is not running there.
    #[error("cannot reach exsyncd at {path}: {source}")]
    Unreachable { path: PathBuf, source: io::Error },
    #[error("I/O error while {doing} on {path}: {source}")]
    Io {
        path: PathBuf,
        doing: &'static str,
        source: io::Error,
    },
    #[error("the daemon sent a message this client cannot read ({message}): {line}")]
    Malformed { message: String, line: String },
    #[error("the daemon closed the connection before answering")]
    Closed,
    #[error("the daemon refused the handshake: {0}")]
    Handshake(String),
}

/// One connection to the daemon.
pub struct Client {
    path: PathBuf,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// The daemon's hello.
    pub daemon: Hello,
}

impl Client {
    /// Connects and performs the version handshake.
    pub fn connect(path: &Path, agent: &str) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Unreachable {
            path: path.to_owned(),
            source,
        })?;
        let io_err = |doing, source| ClientError::Io {
            path: path.to_owned(),
            doing,
            source,
        };
        let writer = stream
            .try_clone()
            .map_err(|e| io_err("cloning the socket", e))?;
        let mut client = Client {
            path: path.to_owned(),
            reader: BufReader::new(stream),
            writer,
            daemon: Hello {
                protocol: 0,
                agent: String::new(),
            },
        };
        client.send_line(&encode(&Hello {
            protocol: PROTOCOL_VERSION,
            agent: agent.to_owned(),
        }))?;
        match client.read_response()? {
            Response::Hello(hello) => client.daemon = hello,
            Response::Error(e) => return Err(ClientError::Handshake(e.message)),
            other => {
                return Err(ClientError::Handshake(format!(
                    "unexpected answer {other:?}"
                )))
            }
        }
        Ok(client)
    }

    /// Limits how long one read may wait (none by default: a sync can take hours).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.reader.get_ref().set_read_timeout(timeout)
    }

    fn send_line(&mut self, line: &str) -> Result<(), ClientError> {
        self.writer
            .write_all(line.as_bytes())
            .map_err(|source| ClientError::Io {
                path: self.path.clone(),
                doing: "sending a request",
                source,
            })
    }

    /// Reads the next response line.
    pub fn read_response(&mut self) -> Result<Response, ClientError> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|source| ClientError::Io {
                path: self.path.clone(),
                doing: "reading a response",
                source,
            })?;
        if n == 0 {
            return Err(ClientError::Closed);
        }
        decode_response(&line).map_err(|e| ClientError::Malformed {
            message: e.to_string(),
            line,
        })
    }

    /// Sends `request`, hands every non-final response to `on_event`, returns the final one.
    pub fn request(
        &mut self,
        request: &Request,
        mut on_event: impl FnMut(Response),
    ) -> Result<Response, ClientError> {
        self.send_line(&encode(request))?;
        loop {
            let response = self.read_response()?;
            if response.is_final() {
                return Ok(response);
            }
            on_event(response);
        }
    }

    /// Sends a raw line (for tests of malformed input).
    pub fn send_raw(&mut self, line: &str) -> Result<(), ClientError> {
        self.send_line(line)
    }
}
