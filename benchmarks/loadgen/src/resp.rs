//! RESP framing for the load generator: encode requests, and find where each reply ends.
//!
//! Replies are never decoded into values: counting complete replies and telling errors apart
//! is all the measurement needs, and the cheaper the client, the less it skews latencies.

use std::io::Write;

/// The reply stream cannot be framed; the connection has to be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

/// One complete reply at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Bytes the reply takes, CRLFs included.
    pub len: usize,
    /// The reply is an error (`-ERR ...`, or a RESP3 blob error).
    pub error: bool,
}

/// Frames the first reply of `buf`: `Ok(None)` when it has not fully arrived yet.
///
/// Handles RESP2 (simple string, error, integer, bulk incl. `$-1`, arrays incl. `*-1`) and,
/// so a server answering RESP3 does not wedge the connection, RESP3's extra types too.
pub fn parse_reply(buf: &[u8]) -> Result<Option<Frame>, ProtocolError> {
    let mut pos = 0;
    // Values still to read: aggregates add their elements instead of recursing, so a deeply
    // nested reply cannot overflow the stack.
    let mut pending: u64 = 1;
    let mut error = false;
    while pending > 0 {
        let top = pos == 0;
        let Some(end) = find_crlf(buf, pos) else {
            return Ok(None);
        };
        let tag = buf[pos];
        let line = &buf[pos + 1..end];
        pos = end + 2;
        pending -= 1;
        match tag {
            b'+' | b':' | b'_' | b',' | b'#' | b'(' => {}
            b'-' => error |= top,
            b'$' | b'=' | b'!' => {
                let n = parse_len(line)?;
                if n >= 0 {
                    let n = n as usize;
                    if buf.len() < pos + n + 2 {
                        return Ok(None);
                    }
                    if &buf[pos + n..pos + n + 2] != b"\r\n" {
                        return Err(ProtocolError("bulk string not followed by CRLF"));
                    }
                    pos += n + 2;
                }
                error |= top && tag == b'!';
            }
            b'*' | b'~' | b'>' => pending += parse_count(line)?,
            b'%' => pending += 2 * parse_count(line)?,
            // An attribute map comes before the reply it annotates.
            b'|' => pending += 2 * parse_count(line)? + 1,
            _ => return Err(ProtocolError("unknown reply type")),
        }
    }
    Ok(Some(Frame { len: pos, error }))
}

/// Index of the `\r` of the first CRLF at or after `from`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rel = buf.get(from..)?.iter().position(|&b| b == b'\r')?;
    let at = from + rel;
    match buf.get(at + 1) {
        Some(b'\n') => Some(at),
        Some(_) => find_crlf(buf, at + 1),
        None => None,
    }
}

/// A bulk length: -1 (null) or a non-negative size.
fn parse_len(line: &[u8]) -> Result<i64, ProtocolError> {
    match parse_int(line) {
        Some(n) if n >= -1 => Ok(n),
        _ => Err(ProtocolError("bad bulk length")),
    }
}

/// An aggregate's element count; a null aggregate (`*-1`) has none.
fn parse_count(line: &[u8]) -> Result<u64, ProtocolError> {
    match parse_int(line) {
        Some(-1) => Ok(0),
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(ProtocolError("bad aggregate length")),
    }
}

fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if neg { -n } else { n })
}

/// Appends `args` to `out` as one RESP request (an array of bulk strings).
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "*{}\r\n", args.len());
    for a in args {
        let _ = write!(out, "${}\r\n", a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(s: &[u8]) -> Option<Frame> {
        parse_reply(s).unwrap()
    }

    #[test]
    fn simple_types() {
        assert_eq!(
            frame(b"+OK\r\n"),
            Some(Frame {
                len: 5,
                error: false
            })
        );
        assert_eq!(
            frame(b":-12\r\nrest"),
            Some(Frame {
                len: 6,
                error: false
            })
        );
        assert_eq!(
            frame(b"-ERR wrong type\r\n"),
            Some(Frame {
                len: 17,
                error: true
            })
        );
    }

    #[test]
    fn bulk_strings() {
        assert_eq!(
            frame(b"$3\r\nfoo\r\n"),
            Some(Frame {
                len: 9,
                error: false
            })
        );
        assert_eq!(
            frame(b"$-1\r\n"),
            Some(Frame {
                len: 5,
                error: false
            })
        );
        assert_eq!(
            frame(b"$0\r\n\r\n"),
            Some(Frame {
                len: 6,
                error: false
            })
        );
        // A CR or LF inside the payload is data, not a terminator.
        assert_eq!(
            frame(b"$4\r\na\r\nb\r\n"),
            Some(Frame {
                len: 10,
                error: false
            })
        );
        assert_eq!(
            parse_reply(b"$3\r\nfooXY"),
            Err(ProtocolError("bulk string not followed by CRLF"))
        );
    }

    #[test]
    fn arrays() {
        let r = b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n-ERR inner\r\n";
        assert_eq!(
            frame(r),
            Some(Frame {
                len: r.len(),
                error: false
            })
        );
        assert_eq!(
            frame(b"*-1\r\n"),
            Some(Frame {
                len: 5,
                error: false
            })
        );
        assert_eq!(
            frame(b"*0\r\n"),
            Some(Frame {
                len: 4,
                error: false
            })
        );
        let m = b"%1\r\n+k\r\n:1\r\n";
        assert_eq!(frame(m).map(|f| f.len), Some(m.len()));
    }

    #[test]
    fn incomplete_at_every_split() {
        let r: &[u8] = b"*2\r\n$5\r\nhello\r\n:42\r\n";
        for cut in 0..r.len() {
            assert_eq!(frame(&r[..cut]), None, "cut at {cut}");
        }
        assert_eq!(frame(r).map(|f| f.len), Some(r.len()));
    }

    #[test]
    fn consecutive_replies() {
        let mut buf: &[u8] = b"+OK\r\n$-1\r\n-ERR x\r\n$2\r\nhi\r\n";
        let mut errors = Vec::new();
        while let Some(f) = frame(buf) {
            errors.push(f.error);
            buf = &buf[f.len..];
        }
        assert_eq!(errors, [false, false, true, false]);
        assert!(buf.is_empty());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_reply(b"hello\r\n").is_err());
        assert!(parse_reply(b"$x\r\n").is_err());
        assert!(parse_reply(b"*-2\r\n").is_err());
    }

    #[test]
    fn encodes_requests() {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"SET", b"key:1", b"xy"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$2\r\nxy\r\n");
    }
}
