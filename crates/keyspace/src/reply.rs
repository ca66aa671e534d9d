//! The reply sink: every reply of a command that runs in the core is written here, once.
//!
//! A sink writes in one of three modes, chosen by whoever runs the command:
//! - RESP2 or RESP3: finished protocol bytes, appended straight to the buffer the connection
//!   sends from (the binding hands over the client's own output queue), so a value travels
//!   from the keyspace to the socket in one copy; a big shared value (`bulk_shared`) in none,
//!   when the sink splices: the queue then holds a reference to it at its place in the
//!   bytes. This is the only place that decides how the
//!   two protocols differ (null, map, set, push, double, boolean, verbatim, big number), as
//!   Redis's `addReplyNull`/`addReplyMapLen` do.
//! - Values: the same replies captured as typed values, for MULTI/EXEC, Lua's `redis.call`
//!   and tests, in a fixed little-endian format that `decode` reads back:
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
//! | `P`   | n:u32                            | array of the next n pairs     |
//! | `~`   | n:u32                            | set of the next n values      |
//! | `>`   | n:u32                            | push of the next n values     |
//! | `,`   | f64                              | double                        |
//! | `#`   | u8 (0/1)                         | boolean                       |
//! | `=`   | 3 format bytes, len:u32, bytes   | verbatim string               |
//! | `(`   | len:u32, digits                  | big number                    |
//!
//! An array of pairs (ZRANGE WITHSCORES, HRANDFIELD WITHVALUES) is one logical shape that the
//! protocols print differently (RESP2 flat, RESP3 nested), so values capture it as such and
//! `write_reply` prints it for whichever protocol replays it.
//!
//! The fixture `fixtures/replies.txt` at the repository root pins the RESP bytes of every kind
//! in both protocols; `@shrike/resp3`'s ReplyWriter is checked against the same file.

use crate::entry::RawStr;
use crate::error::KsError;
use crate::number::{DoubleBuf, HumanBuf, IntBuf};

/// Tag bytes of the captured-values format, one per value kind.
pub mod tag {
    /// Tag of a simple string.
    pub const SIMPLE: u8 = b'+';
    /// Tag of an error.
    pub const ERROR: u8 = b'-';
    /// Tag of an integer.
    pub const INT: u8 = b':';
    /// Tag of a bulk string.
    pub const BULK: u8 = b'$';
    /// Tag of a null.
    pub const NULL: u8 = b'_';
    /// Tag of a null array.
    pub const NULL_ARRAY: u8 = b'0';
    /// Tag of an array header.
    pub const ARRAY: u8 = b'*';
    /// Tag of a map header.
    pub const MAP: u8 = b'%';
    /// Tag of the header of an array of pairs.
    pub const PAIRS: u8 = b'P';
    /// Tag of a set header.
    pub const SET: u8 = b'~';
    /// Tag of a push header.
    pub const PUSH: u8 = b'>';
    /// Tag of a double.
    pub const DOUBLE: u8 = b',';
    /// Tag of a boolean.
    pub const BOOLEAN: u8 = b'#';
    /// Tag of a verbatim string.
    pub const VERBATIM: u8 = b'=';
    /// Tag of a big number.
    pub const BIG_NUMBER: u8 = b'(';
}

/// What a sink writes: protocol bytes for a client, or captured values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Typed values (see the module doc), for MULTI/EXEC, scripts and tests.
    Values,
    /// RESP2 bytes.
    Resp2,
    /// RESP3 bytes.
    Resp3,
}

/// Where replies go (format in the module doc). Handlers only ever see this type.
#[derive(Debug, Clone)]
pub struct ReplySink {
    buf: Vec<u8>,
    mode: Mode,
    /// Big values queued by reference (`bulk_shared`): each goes at its offset in `buf`.
    spliced: Vec<(usize, RawStr)>,
    /// Their bytes, in all.
    spliced_bytes: usize,
    /// Whoever sends `buf` also sends `spliced` (`resp_spliced`); other sinks copy.
    splicing: bool,
}

/// A value at least this long goes out by reference from a splicing sink: a 16 KiB copy
/// costs more than the extra iovec, a reference count and the bookkeeping.
pub const SPLICE_MIN: usize = 16 * 1024;

impl Default for ReplySink {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes reserved in front of a deferred RESP array for its header (`*` + 20 digits + CRLF).
const DEFERRED_HEADER: usize = 23;

impl ReplySink {
    /// An empty sink capturing values.
    pub fn new() -> ReplySink {
        ReplySink::of(Vec::new(), Mode::Values)
    }

    /// An empty value-capturing sink with room for `n` bytes.
    pub fn with_capacity(n: usize) -> ReplySink {
        ReplySink::of(Vec::with_capacity(n), Mode::Values)
    }

    /// A sink that appends RESP3 (`resp3`) or RESP2 to `buf`, keeping what it holds.
    pub fn resp(buf: Vec<u8>, resp3: bool) -> ReplySink {
        ReplySink::of(buf, if resp3 { Mode::Resp3 } else { Mode::Resp2 })
    }

    /// A sink like `resp` whose big values go out by reference (`bulk_shared`), each at its
    /// offset in the bytes, continuing `spliced` (what `into_parts` handed over before).
    pub fn resp_spliced(buf: Vec<u8>, resp3: bool, spliced: Vec<(usize, RawStr)>) -> ReplySink {
        let mut s = ReplySink::resp(buf, resp3);
        s.spliced_bytes = spliced.iter().map(|(_, v)| v.len()).sum();
        s.spliced = spliced;
        s.splicing = true;
        s
    }

    fn of(buf: Vec<u8>, mode: Mode) -> ReplySink {
        ReplySink {
            buf,
            mode,
            spliced: Vec::new(),
            spliced_bytes: 0,
            splicing: false,
        }
    }

    /// An empty sink writing in `mode` (a reply for another client, in its protocol).
    pub fn of_mode(mode: Mode) -> ReplySink {
        ReplySink::of(Vec::new(), mode)
    }

    /// The sink's mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Everything written so far, but the values queued by reference (`bulk_shared`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The written bytes, handing over the allocation (values queued by reference copied
    /// into place: only a splicing sink has any, and its owner takes `into_parts`).
    pub fn into_vec(self) -> Vec<u8> {
        if self.spliced.is_empty() {
            return self.buf;
        }
        let mut out = Vec::with_capacity(self.out_len());
        let mut from = 0;
        for (at, v) in &self.spliced {
            out.extend_from_slice(self.buf.get(from..*at).unwrap_or_default());
            out.extend_from_slice(v);
            from = *at;
        }
        out.extend_from_slice(self.buf.get(from..).unwrap_or_default());
        out
    }

    /// The written bytes and the values queued by reference, each with its offset in them.
    pub fn into_parts(self) -> (Vec<u8>, Vec<(usize, RawStr)>) {
        (self.buf, self.spliced)
    }

    /// Bytes of output so far, values queued by reference included.
    pub fn out_len(&self) -> usize {
        self.buf.len() + self.spliced_bytes
    }

    /// Forget everything written, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.spliced.clear();
        self.spliced_bytes = 0;
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drop everything written after byte `len` (used to undo a partial reply).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        while let Some((at, v)) = self.spliced.last() {
            if *at < len {
                break;
            }
            self.spliced_bytes -= v.len();
            self.spliced.pop();
        }
    }

    /// Append RESP framed elsewhere (a pub/sub message for the client itself); a sink that
    /// captures values takes none, since the bytes are no reply value.
    pub fn push_resp(&mut self, bytes: &[u8]) {
        if self.mode != Mode::Values {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn put_len(&mut self, n: usize) {
        // Redis caps bulk strings at proto-max-bulk-len (512 MB) and every count here is far
        // below u32::MAX, so saturating only guards against a bug, never a real reply.
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    /// A RESP header line: type byte, decimal count, CRLF.
    fn header(&mut self, t: u8, n: usize) {
        let mut ib = IntBuf::new();
        let digits = ib.format(i64::try_from(n).unwrap_or(i64::MAX));
        self.buf.push(t);
        self.buf.extend_from_slice(digits);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn resp_bulk(&mut self, s: &[u8]) {
        self.buf.reserve(s.len() + 16);
        self.header(b'$', s.len());
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A simple-string-like line (`+`, `,`, `(`).
    fn resp_line(&mut self, t: u8, s: &[u8]) {
        self.buf.reserve(s.len() + 3);
        self.buf.push(t);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn tagged_bytes(&mut self, t: u8, s: &[u8]) {
        self.buf.reserve(5 + s.len());
        self.buf.push(t);
        self.put_len(s.len());
        self.buf.extend_from_slice(s);
    }

    /// An aggregate header: `n` items follow (a map counts pairs).
    fn aggregate(&mut self, t: u8, n: usize) {
        match (self.mode, t) {
            (Mode::Values, _) => {
                self.buf.push(t);
                self.put_len(n);
            }
            (Mode::Resp3, tag::PAIRS) => self.header(b'*', n),
            (Mode::Resp3, _) => self.header(t, n),
            (Mode::Resp2, tag::MAP | tag::PAIRS) => self.header(b'*', 2 * n),
            (Mode::Resp2, _) => self.header(b'*', n),
        }
    }

    /// A HELP subcommand's reply (Redis's addReplyHelp): its lines as simple strings.
    pub fn help(&mut self, lines: &[&str]) {
        self.array(lines.len());
        for line in lines {
            self.simple(line.as_bytes());
        }
    }

    /// A simple string (`+OK`).
    pub fn simple(&mut self, s: &[u8]) {
        match self.mode {
            Mode::Values => self.tagged_bytes(tag::SIMPLE, s),
            _ => self.resp_line(b'+', s),
        }
    }

    /// An error: either a `KsError` or a full text such as `b"ERR syntax error"`. CR and LF
    /// become spaces on the wire, so an error line can never break framing (as in Redis).
    pub fn error<E: AsRef<[u8]> + ?Sized>(&mut self, e: &E) {
        self.error_parts(&[e.as_ref()]);
    }

    fn error_parts(&mut self, parts: &[&[u8]]) {
        let clean = |b: &u8| if *b == b'\r' || *b == b'\n' { b' ' } else { *b };
        match self.mode {
            Mode::Values => {
                self.buf.push(tag::ERROR);
                self.put_len(parts.iter().map(|p| p.len()).sum());
            }
            _ => self.buf.push(b'-'),
        }
        for p in parts {
            self.buf.extend(p.iter().map(clean));
        }
        if self.mode != Mode::Values {
            self.buf.extend_from_slice(b"\r\n");
        }
    }

    /// The reply of a failed command `name` (its spec name, which the errors that name their
    /// command print), echoing the client's argument when the error does (with `\r`/`\n`
    /// replaced by spaces, as Redis's `addReplyErrorLength` does), or printing what the error
    /// formats itself (a geo position).
    pub fn command_error(&mut self, e: KsError, name: &str, argv: &[&[u8]]) {
        if let Some(tail) = e.names_command() {
            self.error_parts(&[e.text().as_bytes(), name.as_bytes(), tail.as_bytes()]);
            return;
        }
        let mut formatted = [0u8; 640];
        let n = e.formatted_tail(&mut formatted);
        if n > 0 {
            self.error_parts(&[e.text().as_bytes(), &formatted[..n]]);
            return;
        }
        let echoed = e.echoed_arg().and_then(|i| argv.get(i)).copied();
        self.error_parts(&[
            e.text().as_bytes(),
            echoed.unwrap_or_default(),
            e.echoed_suffix().as_bytes(),
        ]);
    }

    /// An integer.
    pub fn int(&mut self, v: i64) {
        match self.mode {
            Mode::Values => {
                self.buf.push(tag::INT);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            _ => {
                let mut ib = IntBuf::new();
                let digits = ib.format(v);
                self.buf.push(b':');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A bulk string.
    pub fn bulk(&mut self, s: &[u8]) {
        match self.mode {
            Mode::Values => self.tagged_bytes(tag::BULK, s),
            _ => self.resp_bulk(s),
        }
    }

    /// Whether `bulk_shared` sends a value of SPLICE_MIN bytes or more by reference.
    pub fn splices(&self) -> bool {
        self.splicing && self.mode != Mode::Values
    }

    /// A bulk string held by the keyspace: by reference when this sink splices and the
    /// value is big (the socket then sends it from where it is stored), else copied.
    pub fn bulk_shared(&mut self, v: &RawStr) {
        if !self.splices() || v.len() < SPLICE_MIN {
            self.bulk(v);
            return;
        }
        self.header(b'$', v.len());
        self.spliced.push((self.buf.len(), RawStr::clone(v)));
        self.spliced_bytes += v.len();
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `v` (`addReplyBulkLongLong`).
    pub fn bulk_int(&mut self, v: i64) {
        let mut tmp = IntBuf::new();
        self.bulk(tmp.format(v));
    }

    /// A null bulk (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        match self.mode {
            Mode::Values => self.buf.push(tag::NULL),
            Mode::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Mode::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// A null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        match self.mode {
            Mode::Values => self.buf.push(tag::NULL_ARRAY),
            Mode::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Mode::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The header of an array of `n` values.
    pub fn array(&mut self, n: usize) {
        self.aggregate(tag::ARRAY, n);
    }

    /// The header of a map of `n` key/value pairs (RESP2 sees a flat array of 2n).
    pub fn map(&mut self, n: usize) {
        self.aggregate(tag::MAP, n);
    }

    /// The header of an array of `n` field/value pairs, each started with `pair`: RESP3 sees
    /// `n` two-element arrays, RESP2 one flat array of 2n, as Redis 7.2's ZRANGE WITHSCORES,
    /// ZRANDMEMBER WITHSCORES and HRANDFIELD WITHVALUES reply; captured values keep the pairs.
    pub fn pairs(&mut self, n: usize) {
        self.aggregate(tag::PAIRS, n);
    }

    /// Start one pair of a `pairs` array.
    pub fn pair(&mut self) {
        if self.mode == Mode::Resp3 {
            self.header(b'*', 2);
        }
    }

    /// The header of `n` pairs when `paired` (see `pairs`), else of an array of `n` values:
    /// the reply of a command whose WITHSCORES/WITHVALUES option is `paired`.
    pub fn pairs_if(&mut self, n: usize, paired: bool) {
        if paired {
            self.pairs(n);
        } else {
            self.array(n);
        }
    }

    /// The header of a set of `n` values (RESP2 sees an array).
    pub fn set(&mut self, n: usize) {
        self.aggregate(tag::SET, n);
    }

    /// The header of a push message of `n` values (RESP2 sees an array).
    pub fn push(&mut self, n: usize) {
        self.aggregate(tag::PUSH, n);
    }

    /// A double, printed as Redis 7.2 prints it (RESP2 sees a bulk string).
    pub fn double(&mut self, v: f64) {
        match self.mode {
            Mode::Values => {
                self.buf.push(tag::DOUBLE);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Mode::Resp2 => self.resp_bulk(DoubleBuf::new().format(v)),
            Mode::Resp3 => self.resp_line(b',', DoubleBuf::new().format(v)),
        }
    }

    /// A double in Redis's human form (`addReplyHumanLongDouble`: GEOPOS, WITHCOORD):
    /// `%.17Lf` trimmed, as a RESP3 double or a RESP2 bulk string. Captured values keep
    /// the number (a double).
    pub fn human_double(&mut self, v: f64) {
        match self.mode {
            Mode::Values => {
                self.buf.push(tag::DOUBLE);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Mode::Resp2 => self.resp_bulk(HumanBuf::new().format(v)),
            Mode::Resp3 => self.resp_line(b',', HumanBuf::new().format(v)),
        }
    }

    /// One member of a `pairs_if(n, withscores)` array, with its score when `withscores`.
    pub fn scored(&mut self, member: &[u8], score: f64, withscores: bool) {
        if withscores {
            self.pair();
        }
        self.bulk(member);
        if withscores {
            self.double(score);
        }
    }

    /// A boolean (RESP2 sees `:1`/`:0`).
    pub fn boolean(&mut self, v: bool) {
        match self.mode {
            Mode::Values => {
                self.buf.push(tag::BOOLEAN);
                self.buf.push(u8::from(v));
            }
            Mode::Resp2 => self
                .buf
                .extend_from_slice(if v { b":1\r\n" } else { b":0\r\n" }),
            Mode::Resp3 => self
                .buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A verbatim string with its 3-byte format (`txt`, `mkd`); RESP2 sees a bulk string.
    pub fn verbatim(&mut self, format: [u8; 3], s: &[u8]) {
        match self.mode {
            Mode::Values => {
                self.buf.reserve(8 + s.len());
                self.buf.push(tag::VERBATIM);
                self.buf.extend_from_slice(&format);
                self.put_len(s.len());
                self.buf.extend_from_slice(s);
            }
            Mode::Resp2 => self.resp_bulk(s),
            Mode::Resp3 => {
                self.header(b'=', s.len() + 4);
                self.buf.extend_from_slice(&format);
                self.buf.push(b':');
                self.buf.extend_from_slice(s);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number given as its decimal digits (RESP2 sees a bulk string).
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.mode {
            Mode::Values => self.tagged_bytes(tag::BIG_NUMBER, digits),
            Mode::Resp2 => self.resp_bulk(digits),
            Mode::Resp3 => self.resp_line(b'(', digits),
        }
    }

    /// Start an array whose length is known only after its items are written; returns the
    /// position to pass to `array_end` (Redis's `addReplyDeferredLen`).
    pub fn array_start(&mut self) -> usize {
        let pos = self.buf.len();
        match self.mode {
            Mode::Values => {
                self.buf.push(tag::ARRAY);
                self.buf.extend_from_slice(&0u32.to_le_bytes());
            }
            // Room for the longest header; `array_end` moves the items back over what the
            // real header does not use.
            _ => self.buf.resize(pos + DEFERRED_HEADER, 0),
        }
        pos
    }

    /// Set the item count of the array started at `pos`.
    pub fn array_end(&mut self, pos: usize, n: usize) {
        if self.mode == Mode::Values {
            let n = u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
            if let Some(slot) = self.buf.get_mut(pos + 1..pos + 5) {
                slot.copy_from_slice(&n);
            }
            return;
        }
        let mut ib = IntBuf::new();
        let digits = ib.format(i64::try_from(n).unwrap_or(i64::MAX));
        let hlen = digits.len() + 3;
        let items = pos + DEFERRED_HEADER;
        if items > self.buf.len() {
            return;
        }
        self.buf.copy_within(items.., pos + hlen);
        let end = self.buf.len() - (DEFERRED_HEADER - hlen);
        self.buf.truncate(end);
        // Values queued by reference among the items moved back with them.
        for (at, _) in self.spliced.iter_mut().rev() {
            if *at < items {
                break;
            }
            *at -= DEFERRED_HEADER - hlen;
        }
        if let Some(h) = self.buf.get_mut(pos..pos + hlen) {
            h[0] = b'*';
            h[1..hlen - 2].copy_from_slice(digits);
            h[hlen - 2] = b'\r';
            h[hlen - 1] = b'\n';
        }
    }

    /// Write a captured value again, as its own writer would have (EXEC and scripts replay
    /// captured replies this way, in the client's protocol).
    pub fn write_reply(&mut self, r: &Reply) {
        match r {
            Reply::Simple(s) => self.simple(s),
            Reply::Error(s) => self.error(s),
            Reply::Int(v) => self.int(*v),
            Reply::Bulk(s) => self.bulk(s),
            Reply::Null => self.null(),
            Reply::NullArray => self.null_array(),
            Reply::Array(items) => self.write_items(tag::ARRAY, items),
            Reply::Set(items) => self.write_items(tag::SET, items),
            Reply::Push(items) => self.write_items(tag::PUSH, items),
            Reply::Map(kv) => self.write_pairs(tag::MAP, kv),
            Reply::Pairs(kv) => self.write_pairs(tag::PAIRS, kv),
            Reply::Double(v) => self.double(*v),
            Reply::Bool(v) => self.boolean(*v),
            Reply::Verbatim(format, s) => self.verbatim(*format, s),
            Reply::BigNumber(digits) => self.big_number(digits),
        }
    }

    fn write_items(&mut self, t: u8, items: &[Reply]) {
        self.aggregate(t, items.len());
        for item in items {
            self.write_reply(item);
        }
    }

    fn write_pairs(&mut self, t: u8, kv: &[(Reply, Reply)]) {
        self.aggregate(t, kv.len());
        for (k, v) in kv {
            if t == tag::PAIRS {
                self.pair();
            }
            self.write_reply(k);
            self.write_reply(v);
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
    /// An array of pairs (RESP2 flat, RESP3 nested).
    Pairs(Vec<(Reply, Reply)>),
    /// A set.
    Set(Vec<Reply>),
    /// A double.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// A verbatim string and its format.
    Verbatim([u8; 3], Vec<u8>),
    /// A push message.
    Push(Vec<Reply>),
    /// A big number's digits.
    BigNumber(Vec<u8>),
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
        tag::SIMPLE | tag::ERROR | tag::BULK | tag::BIG_NUMBER => {
            let n = take_u32(bytes, pos)?;
            let s = take(bytes, pos, n)?.to_vec();
            match t {
                tag::SIMPLE => Reply::Simple(s),
                tag::ERROR => Reply::Error(s),
                tag::BIG_NUMBER => Reply::BigNumber(s),
                _ => Reply::Bulk(s),
            }
        }
        tag::INT => Reply::Int(i64::from_le_bytes(take_8(bytes, pos)?)),
        tag::DOUBLE => Reply::Double(f64::from_le_bytes(take_8(bytes, pos)?)),
        tag::NULL => Reply::Null,
        tag::NULL_ARRAY => Reply::NullArray,
        tag::BOOLEAN => Reply::Bool(take(bytes, pos, 1)? != [0]),
        tag::ARRAY | tag::SET | tag::PUSH => {
            let n = take_u32(bytes, pos)?;
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                items.push(decode_one(bytes, pos)?);
            }
            match t {
                tag::ARRAY => Reply::Array(items),
                tag::SET => Reply::Set(items),
                _ => Reply::Push(items),
            }
        }
        tag::MAP | tag::PAIRS => {
            let n = take_u32(bytes, pos)?;
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let k = decode_one(bytes, pos)?;
                let v = decode_one(bytes, pos)?;
                items.push((k, v));
            }
            if t == tag::MAP {
                Reply::Map(items)
            } else {
                Reply::Pairs(items)
            }
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

    /// A splicing sink's bytes with its values put in place: what the socket sends.
    fn sent(r: ReplySink) -> Vec<u8> {
        r.into_vec()
    }

    #[test]
    fn big_shared_values_are_spliced_and_send_the_bytes_a_copy_would() {
        let big: RawStr = std::sync::Arc::new(vec![b'v'; SPLICE_MIN]);
        let small: RawStr = std::sync::Arc::new(b"s".to_vec());
        for resp3 in [false, true] {
            let mut copied = ReplySink::resp(b"+first\r\n".to_vec(), resp3);
            let mut spliced = ReplySink::resp_spliced(b"+first\r\n".to_vec(), resp3, Vec::new());
            for r in [&mut copied, &mut spliced] {
                let pos = r.array_start();
                r.bulk_shared(&big);
                r.bulk_shared(&small);
                r.array_end(pos, 2);
                r.bulk_shared(&big);
                let mark = r.len();
                r.bulk_shared(&big);
                r.truncate(mark);
                r.null();
            }
            assert_eq!(spliced.out_len(), copied.len());
            // Twice by reference (the third was undone), the small one copied; the array
            // header's patch moved the first reference with the bytes around it.
            assert_eq!(spliced.len(), copied.len() - 2 * SPLICE_MIN);
            let (bytes, refs) = spliced.clone().into_parts();
            assert_eq!(refs.len(), 2);
            assert_eq!(
                bytes.get(refs[0].0 - 8..refs[0].0),
                Some(&b"$16384\r\n"[..])
            );
            assert_eq!(std::sync::Arc::strong_count(&big), 5);
            assert_eq!(sent(spliced), copied.into_vec());
        }
        // A sink that captures values, or that does not splice, copies.
        let mut values = ReplySink::new();
        values.bulk_shared(&big);
        assert_eq!(values.out_len(), values.len());
        let mut plain = ReplySink::resp(Vec::new(), true);
        plain.bulk_shared(&big);
        assert_eq!(plain.out_len(), plain.len());
        assert_eq!(std::sync::Arc::strong_count(&big), 1);
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
        r.command_error(KsError::UnsupportedOption(3), "expire", &argv);
        assert_eq!(
            decode(r.as_bytes()).unwrap(),
            vec![Reply::error("ERR Unsupported option a  b")]
        );
    }

    #[test]
    fn human_doubles_and_geo_errors_on_the_wire() {
        for (resp3, want) in [
            (false, &b"$20\r\n13.36138933897018433\r\n$1\r\n0\r\n"[..]),
            (true, b",13.36138933897018433\r\n,0\r\n"),
        ] {
            let mut r = ReplySink::resp(Vec::new(), resp3);
            r.human_double(13.361389338970184);
            r.human_double(-0.0);
            assert_eq!(r.as_bytes(), want);
        }
        let mut r = ReplySink::resp(Vec::new(), false);
        let e = KsError::GeoInvalidLonLat {
            lon: 200f64.to_bits(),
            lat: 100f64.to_bits(),
        };
        r.command_error(e, "geoadd", &[b"geoadd"]);
        r.command_error(KsError::GeoNeedFrom, "geosearch", &[b"GEOsearch"]);
        assert_eq!(
            r.as_bytes(),
            &b"-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n\
               -ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOsearch\r\n"[..]
        );
    }

    #[test]
    fn errors_that_name_their_command_take_the_given_name() {
        let mut r = ReplySink::new();
        r.command_error(KsError::InvalidExpireTime, "psetex", &[]);
        r.command_error(KsError::WrongArgCount, "msetnx", &[]);
        assert_eq!(
            decode(r.as_bytes()).unwrap(),
            vec![
                Reply::error("ERR invalid expire time in 'psetex' command"),
                Reply::error("ERR wrong number of arguments for 'msetnx' command"),
            ]
        );
    }

    /// One reply of each kind, with the pair shapes of ZRANGE WITHSCORES and HRANDFIELD
    /// WITHVALUES.
    fn every_shape(r: &mut ReplySink) {
        r.simple(b"OK");
        r.error(&KsError::Syntax);
        r.int(-42);
        r.bulk(b"a\r\nb");
        r.null();
        r.null_array();
        r.pairs_if(2, true);
        r.scored(b"a", 1.5, true);
        r.scored(b"b", 2.0, true);
        r.pairs_if(1, false);
        r.scored(b"a", 1.5, false);
        r.pairs(1);
        r.pair();
        r.bulk(b"f");
        r.bulk(b"v");
        r.pairs(0);
        r.map(1);
        r.bulk(b"k");
        r.array(1);
        r.double(-0.5);
        r.set(1);
        r.boolean(false);
        r.push(1);
        r.bulk(b"p");
        r.verbatim(*b"txt", b"hello");
        r.big_number(b"123");
    }

    #[test]
    fn pairs_are_flat_in_resp2_and_nested_in_resp3() {
        for (resp3, want) in [
            (
                false,
                &b"*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n"[..],
            ),
            (
                true,
                b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n",
            ),
        ] {
            let mut r = ReplySink::resp(Vec::new(), resp3);
            r.pairs_if(2, true);
            r.scored(b"a", 1.5, true);
            r.scored(b"b", 2.0, true);
            assert_eq!(r.as_bytes(), want);
        }
        let mut r = ReplySink::new();
        r.pairs(1);
        r.pair();
        r.bulk(b"f");
        r.bulk(b"v");
        assert_eq!(
            decode(r.as_bytes()).unwrap(),
            vec![Reply::Pairs(vec![(Reply::bulk(b"f"), Reply::bulk(b"v"))])]
        );
    }

    #[test]
    fn captured_replies_replay_as_the_direct_writers_write() {
        let mut captured = ReplySink::new();
        every_shape(&mut captured);
        let values = decode(captured.as_bytes()).unwrap();
        for resp3 in [false, true] {
            let mut direct = ReplySink::resp(Vec::new(), resp3);
            every_shape(&mut direct);
            let mut replayed = ReplySink::resp(Vec::new(), resp3);
            for v in &values {
                replayed.write_reply(v);
            }
            assert_eq!(
                String::from_utf8_lossy(replayed.as_bytes()),
                String::from_utf8_lossy(direct.as_bytes()),
                "resp3 {resp3}"
            );
        }
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
