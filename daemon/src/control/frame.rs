//! The control server's frame reader: request lines off the socket, each at most
//! [`MAX_LINE_BYTES`].
//!
//! Owns the bytes between the socket and the protocol's `decode`: it splits them into lines,
//! refuses a line over the limit as soon as it passes it (then skips the rest of that line
//! without keeping it), and tells a line that is not UTF-8 from a good one. Memory stays
//! bounded by the limit plus one read, whatever a peer sends. After a refused line the next
//! line is read as usual: one bad line costs one error answer, not the connection.
//! The splitting ([`LineFramer`]) is pure, so the fuzz targets drive it without a socket.

use exsync_protocol::MAX_LINE_BYTES;
use tokio::io::{AsyncRead, AsyncReadExt};

/// One unit read off the control socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete line, without its `\n` (nor a `\r` before it).
    Line(String),
    /// A line longer than the limit; its bytes are dropped up to the next newline.
    TooLong,
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Splits a byte stream into [`Frame`]s.
#[derive(Debug)]
pub struct LineFramer {
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    /// Inside a refused line: drop bytes up to its newline.
    discarding: bool,
    max: usize,
}

impl Default for LineFramer {
    fn default() -> Self {
        LineFramer::new(MAX_LINE_BYTES)
    }
}

impl LineFramer {
    /// A framer that refuses lines longer than `max` bytes.
    pub fn new(max: usize) -> LineFramer {
        LineFramer {
            buf: Vec::new(),
            scanned: 0,
            discarding: false,
            max,
        }
    }

    /// Appends bytes read off the socket.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame among the bytes appended so far, if any.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let newline = self.buf[self.scanned..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| self.scanned + i);
            match newline {
                Some(end) if self.discarding => {
                    self.buf.drain(..=end);
                    self.scanned = 0;
                    self.discarding = false;
                }
                Some(end) => {
                    let rest = self.buf.split_off(end + 1);
                    let mut line = std::mem::replace(&mut self.buf, rest);
                    self.scanned = 0;
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Some(Self::frame(line, self.max));
                }
                None if self.discarding => {
                    self.buf.clear();
                    self.scanned = 0;
                    return None;
                }
                None if self.buf.len() > self.max => {
                    self.buf.clear();
                    self.scanned = 0;
                    self.discarding = true;
                    return Some(Frame::TooLong);
                }
                None => {
                    self.scanned = self.buf.len();
                    return None;
                }
            }
        }
    }

    /// The last frame once the peer has closed its side: an unterminated last line counts.
    pub fn finish(&mut self) -> Option<Frame> {
        if let Some(frame) = self.next_frame() {
            return Some(frame);
        }
        self.scanned = 0;
        if self.discarding || self.buf.is_empty() {
            self.buf.clear();
            return None;
        }
        Some(Self::frame(std::mem::take(&mut self.buf), self.max))
    }

    fn frame(line: Vec<u8>, max: usize) -> Frame {
        if line.len() > max {
            return Frame::TooLong;
        }
        match String::from_utf8(line) {
            Ok(text) => Frame::Line(text),
            Err(e) => {
                // The line may carry credential values: wipe it before it is dropped.
                let mut bytes = e.into_bytes();
                zeroize::Zeroize::zeroize(&mut bytes);
                Frame::NotUtf8
            }
        }
    }
}

/// Reads the next frame from `read`; `None` once the peer has closed and every frame is out.
pub async fn next_frame(
    read: &mut (impl AsyncRead + Unpin),
    framer: &mut LineFramer,
) -> std::io::Result<Option<Frame>> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(frame) = framer.next_frame() {
            return Ok(Some(frame));
        }
        let n = read.read(&mut chunk).await?;
        if n == 0 {
            return Ok(framer.finish());
        }
        framer.extend(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut LineFramer, input: &[u8]) -> Vec<Frame> {
        framer.extend(input);
        std::iter::from_fn(|| framer.next_frame()).collect()
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let mut f = LineFramer::new(16);
        assert_eq!(
            frames(&mut f, b"a\r\nbc\n\nd"),
            vec![
                Frame::Line("a".into()),
                Frame::Line("bc".into()),
                Frame::Line(String::new())
            ]
        );
        assert_eq!(frames(&mut f, b"e\n"), vec![Frame::Line("de".into())]);
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn a_line_over_the_limit_is_refused_once_and_the_next_line_is_read() {
        let mut f = LineFramer::new(4);
        assert_eq!(frames(&mut f, b"abcde"), vec![Frame::TooLong]);
        // The rest of the long line is dropped, not kept.
        assert_eq!(frames(&mut f, &[b'x'; 100]), vec![]);
        assert!(f.buf.is_empty());
        assert_eq!(frames(&mut f, b"xx\nok\n"), vec![Frame::Line("ok".into())]);
        // Exactly the limit is fine, one more is not.
        assert_eq!(
            frames(&mut f, b"abcd\nabcde\nz\n"),
            vec![
                Frame::Line("abcd".into()),
                Frame::TooLong,
                Frame::Line("z".into())
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_its_own_frame_and_an_unterminated_last_line_counts() {
        let mut f = LineFramer::new(16);
        assert_eq!(
            frames(&mut f, b"\xff\xfe\nok\nlast"),
            vec![Frame::NotUtf8, Frame::Line("ok".into())]
        );
        assert_eq!(f.finish(), Some(Frame::Line("last".into())));
        assert_eq!(f.finish(), None);
    }
}
