//! Reply values: what a command answers, as typed values in one append-only byte buffer.
//!
//! Commands never write RESP. The binding's `resp.rs` turns these values into RESP2 or RESP3 and
//! alone decides how the two differ (null, map, set, double, boolean), as Redis's `addReplyNull`
//! does. The format is fixed and little-endian:
//!
//! | tag   | payload                          | value                         |
//! |-------|----------------------------------|-------------------------------|
//! | `+`   | len:u32, bytes                   | simple string                 |
//! | `-`   | len:u32, bytes                   | error, prefix included        |
//! | `:`   | i64                              | integer                       |
//! | `$`   | len:u32, bytes                   | bulk string                   |
//! | `_`   |                                  | null (RESP2 `$-1`)            |
//! | `0`   |                                  | null array (RESP2 `*-1`)      |
//! | `*`   | n:u32                            | array of the next n values    |
//! | `%`   | n:u32                            | map of the next n pairs       |
//! | `~`   | n:u32                            | set of the next n values      |
//! | `,`   | f64                              | double                        |
//! | `#`   | u8 (0/1)                         | boolean                       |
//! | `=`   | 3 format bytes, len:u32, bytes   | verbatim string               |
//!
//! `decode` reads values back; tests use it, and so may the binding's.

use crate::error::KsError;

/// Tag bytes of the reply format, one per value kind.
pub mod tag {
    /// Tag of a simple string.
    pub const SIMPLE: u8 = b'+';
    /// Tag of a error.
    pub const ERROR: u8 = b'-';
    /// Tag of a integer.
    pub const INT: u8 = b':';
    /// Tag of a bulk string.
    pub const BULK: u8 = b'$';
    /// Tag of a null.
    pub const NULL: u8 = b'_';
    /// Tag of a null array.
    pub const NULL_ARRAY: u8 = b'0';
    /// Tag of a array header.
    pub const ARRAY: u8 = b'*';
    /// Tag of a map header.
    pub const MAP: u8 = b'%';
    /// Tag of a set header.
    pub const SET: u8 = b'~';
    /// Tag of a double.
    pub const DOUBLE: u8 = b',';
    /// Tag of a boolean.
    pub const BOOLEAN: u8 = b'#';
    /// Tag of a verbatim string.
    pub const VERBATIM: u8 = b'=';
}

/// An append-only buffer of reply values (format in the module doc).
#[derive(Debug, Default, Clone)]
pub struct ReplySink {
    buf: Vec<u8>,
}

impl ReplySink {
    /// An empty buffer.
    pub fn new() -> ReplySink {
        ReplySink { buf: Vec::new() }
    }

    /// An empty buffer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> ReplySink {
        ReplySink {
            buf: Vec::with_capacity(n),
        }
    }

    /// The encoded values so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The encoded values, handing over the allocation.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    /// Forget every value, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when no value has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drop everything written after byte `len` (used to undo a partial reply).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    fn put_len(&mut self, n: usize) {
        // Redis caps bulk strings at proto-max-bulk-len (512 MB) and every count here is far
        // below u32::MAX, so saturating only guards against a bug, never a real reply.
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn tagged_bytes(&mut self, t: u8, s: &[u8]) {
        self.buf.reserve(5 + s.len());
        self.buf.push(t);
        self.put_len(s.len());
        self.buf.extend_from_slice(s);
    }

    /// A simple string (`+OK`).
    pub fn simple(&mut self, s: &[u8]) {
        self.tagged_bytes(tag::SIMPLE, s);
    }

    /// An error: either a `KsError` or a full text such as `b"ERR syntax error"`.
    pub fn error<E: AsRef<[u8]> + ?Sized>(&mut self, e: &E) {
        self.tagged_bytes(tag::ERROR, e.as_ref());
    }

    /// The reply of a failed command, echoing the client's argument when the error does
    /// (with `\r`/`\n` replaced by spaces, as Redis's `addReplyErrorLength` does).
    pub fn command_error(&mut self, e: KsError, argv: &[&[u8]]) {
        let echoed = e.echoed_arg().and_then(|i| argv.get(i)).copied();
        match echoed {
            None => self.error(&e),
            Some(arg) => {
                let text = e.text().as_bytes();
                self.buf.push(tag::ERROR);
                self.put_len(text.len() + arg.len());
                self.buf.extend_from_slice(text);
                self.buf.extend(
                    arg.iter()
                        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
                );
            }
        }
    }

    /// An integer.
    pub fn int(&mut self, v: i64) {
        self.buf.push(tag::INT);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A bulk string.
    pub fn bulk(&mut self, s: &[u8]) {
        self.tagged_bytes(tag::BULK, s);
    }

    /// A bulk string holding the decimal form of `v` (`addReplyBulkLongLong`).
    pub fn bulk_int(&mut self, v: i64) {
        let mut tmp = crate::number::IntBuf::new();
        self.bulk(tmp.format(v));
    }

    /// A null bulk (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        self.buf.push(tag::NULL);
    }

    /// A null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        self.buf.push(tag::NULL_ARRAY);
    }

    /// The header of an array of `n` values.
    pub fn array(&mut self, n: usize) {
        self.buf.push(tag::ARRAY);
        self.put_len(n);
    }

    /// The header of a map of `n` key/value pairs (RESP2 sees a flat array of 2n).
    pub fn map(&mut self, n: usize) {
        self.buf.push(tag::MAP);
        self.put_len(n);
    }

    /// The header of a set of `n` values (RESP2 sees an array).
    pub fn set(&mut self, n: usize) {
        self.buf.push(tag::SET);
        self.put_len(n);
    }

    /// A double.
    pub fn double(&mut self, v: f64) {
        self.buf.push(tag::DOUBLE);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A boolean (RESP2 sees `:1`/`:0`).
    pub fn boolean(&mut self, v: bool) {
        self.buf.push(tag::BOOLEAN);
        self.buf.push(u8::from(v));
    }

    /// A verbatim string with its 3-byte format (`txt`, `mkd`).
    pub fn verbatim(&mut self, format: [u8; 3], s: &[u8]) {
        self.buf.reserve(8 + s.len());
        self.buf.push(tag::VERBATIM);
        self.buf.extend_from_slice(&format);
        self.put_len(s.len());
        self.buf.extend_from_slice(s);
    }

    /// Start an array whose length is known only after its items are written; returns the
    /// position to pass to `array_end` (Redis's `addReplyDeferredLen`).
    pub fn array_start(&mut self) -> usize {
        let pos = self.buf.len();
        self.buf.push(tag::ARRAY);
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        pos
    }

    /// Set the item count of the array started at `pos`.
    pub fn array_end(&mut self, pos: usize, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
        if let Some(slot) = self.buf.get_mut(pos + 1..pos + 5) {
            slot.copy_from_slice(&n);
        }
    }
}

/// One decoded reply value (see `decode`).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A simple string.
    Simple(Vec<u8>),
    /// An error, prefix included.
    Error(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// A null bulk.
    Null,
    /// A null array.
    NullArray,
    /// An array.
    Array(Vec<Reply>),
    /// A map, as key/value pairs.
    Map(Vec<(Reply, Reply)>),
    /// A set.
    Set(Vec<Reply>),
    /// A double.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// A verbatim string and its format.
    Verbatim([u8; 3], Vec<u8>),
}

impl Reply {
    /// A bulk reply of `s`, for comparisons in tests.
    pub fn bulk(s: &[u8]) -> Reply {
        Reply::Bulk(s.to_vec())
    }

    /// A simple-string reply of `s`.
    pub fn simple(s: &str) -> Reply {
        Reply::Simple(s.as_bytes().to_vec())
    }

    /// An error reply of `s`.
    pub fn error(s: &str) -> Reply {
        Reply::Error(s.as_bytes().to_vec())
    }
}

/// Why `decode` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset of the value that could not be read.
    pub at: usize,
}

/// Decode every value in `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Vec<Reply>, DecodeError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < bytes.len() {
        out.push(decode_one(bytes, &mut pos)?);
    }
    Ok(out)
}

fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], DecodeError> {
    let at = *pos;
    let s = bytes
        .get(at..at.checked_add(n).ok_or(DecodeError { at })?)
        .ok_or(DecodeError { at })?;
    *pos += n;
    Ok(s)
}

fn take_u32(bytes: &[u8], pos: &mut usize) -> Result<usize, DecodeError> {
    let at = *pos;
    let s = take(bytes, pos, 4)?;
    let arr: [u8; 4] = s.try_into().map_err(|_| DecodeError { at })?;
    Ok(u32::from_le_bytes(arr) as usize)
}

fn take_8(bytes: &[u8], pos: &mut usize) -> Result<[u8; 8], DecodeError> {
    let at = *pos;
    take(bytes, pos, 8)?
        .try_into()
        .map_err(|_| DecodeError { at })
}

/// Decode the value at `*pos`, advancing `pos` past it.
pub fn decode_one(bytes: &[u8], pos: &mut usize) -> Result<Reply, DecodeError> {
    let at = *pos;
    let t = *bytes.get(at).ok_or(DecodeError { at })?;
    *pos += 1;
    let v = match t {
        tag::SIMPLE | tag::ERROR | tag::BULK => {
            let n = take_u32(bytes, pos)?;
            let s = take(bytes, pos, n)?.to_vec();
            match t {
                tag::SIMPLE => Reply::Simple(s),
                tag::ERROR => Reply::Error(s),
                _ => Reply::Bulk(s),
            }
        }
        tag::INT => Reply::Int(i64::from_le_bytes(take_8(bytes, pos)?)),
        tag::DOUBLE => Reply::Double(f64::from_le_bytes(take_8(bytes, pos)?)),
        tag::NULL => Reply::Null,
        tag::NULL_ARRAY => Reply::NullArray,
        tag::BOOLEAN => Reply::Bool(take(bytes, pos, 1)? != [0]),
        tag::ARRAY | tag::SET => {
            let n = take_u32(bytes, pos)?;
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                items.push(decode_one(bytes, pos)?);
            }
            if t == tag::ARRAY {
                Reply::Array(items)
            } else {
                Reply::Set(items)
            }
        }
        tag::MAP => {
            let n = take_u32(bytes, pos)?;
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let k = decode_one(bytes, pos)?;
                let v = decode_one(bytes, pos)?;
                items.push((k, v));
            }
            Reply::Map(items)
        }
        tag::VERBATIM => {
            let f = take(bytes, pos, 3)?;
            let format = [f[0], f[1], f[2]];
            let n = take_u32(bytes, pos)?;
            Reply::Verbatim(format, take(bytes, pos, n)?.to_vec())
        }
        _ => return Err(DecodeError { at }),
    };
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let mut r = ReplySink::new();
        r.simple(b"OK");
        r.error(&KsError::Syntax);
        r.error(b"ERR custom");
        r.int(-42);
        r.bulk(b"a\r\nb");
        r.null();
        r.null_array();
        r.array(2);
        r.int(1);
        r.bulk(b"");
        r.map(1);
        r.bulk(b"k");
        r.double(1.5);
        r.set(1);
        r.boolean(true);
        r.verbatim(*b"txt", b"hello");
        r.bulk_int(-7);
        let v = decode(r.as_bytes()).unwrap();
        assert_eq!(
            v,
            vec![
                Reply::simple("OK"),
                Reply::error("ERR syntax error"),
                Reply::error("ERR custom"),
                Reply::Int(-42),
                Reply::bulk(b"a\r\nb"),
                Reply::Null,
                Reply::NullArray,
                Reply::Array(vec![Reply::Int(1), Reply::bulk(b"")]),
                Reply::Map(vec![(Reply::bulk(b"k"), Reply::Double(1.5))]),
                Reply::Set(vec![Reply::Bool(true)]),
                Reply::Verbatim(*b"txt", b"hello".to_vec()),
                Reply::bulk(b"-7"),
            ]
        );
    }

    #[test]
    fn wire_format_is_little_endian_and_fixed() {
        let mut r = ReplySink::new();
        r.bulk(b"ab");
        r.int(1);
        assert_eq!(
            r.as_bytes(),
            &[b'$', 2, 0, 0, 0, b'a', b'b', b':', 1, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn deferred_array_patches_its_count() {
        let mut r = ReplySink::new();
        let pos = r.array_start();
        r.bulk(b"x");
        r.bulk(b"y");
        r.array_end(pos, 2);
        assert_eq!(
            decode(r.as_bytes()).unwrap(),
            vec![Reply::Array(vec![Reply::bulk(b"x"), Reply::bulk(b"y")])]
        );
    }

    #[test]
    fn echoed_error_argument_cannot_break_framing() {
        let mut r = ReplySink::new();
        let argv: [&[u8]; 4] = [b"expire", b"k", b"10", b"a\r\nb"];
        r.command_error(KsError::UnsupportedOption(3), &argv);
        assert_eq!(
            decode(r.as_bytes()).unwrap(),
            vec![Reply::error("ERR Unsupported option a  b")]
        );
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let mut r = ReplySink::new();
        r.array(3);
        r.bulk(b"abc");
        let bytes = r.as_bytes();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err() || cut == 0);
        }
        assert!(decode(b"?").is_err());
    }
}
