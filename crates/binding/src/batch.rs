//! The data path: one call per socket read runs a batch of commands against the shared
//! keyspace and returns their replies as one buffer of reply values (see keyspace `reply.rs`).

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Buffer;
use napi::{Error, Result, Status};
use napi_derive::napi;
use shrike_keyspace::{Config, Keyspace, ReplyBuf, Session};

use crate::resp;

/// The one keyspace of the process, created by the first worker that calls `initKeyspace`
/// and shared by all of them (workers share no JS state, only this).
static KEYSPACE: OnceLock<Keyspace> = OnceLock::new();

/// Batch flag: the client ran CLIENT NO-TOUCH, so reads leave LRU/LFU alone.
const FLAG_NO_TOUCH: u32 = 1;

pub(crate) fn keyspace() -> Result<&'static Keyspace> {
    KEYSPACE
        .get()
        .ok_or_else(|| Error::new(Status::GenericFailure, "keyspace not initialised"))
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Create the process-wide keyspace if no worker has yet (later calls keep the first one).
/// Returns the names of the commands the core executes; index = op id for `execute`.
#[napi(catch_unwind)]
pub fn init_keyspace(databases: u32, segments: u32) -> Vec<&'static str> {
    KEYSPACE.get_or_init(|| {
        Keyspace::new(Config {
            databases: databases as usize,
            segments: segments as usize,
        })
    });
    Keyspace::op_names().to_vec()
}

/// Batch flag: the client speaks RESP3.
const FLAG_RESP3: u32 = 2;

thread_local! {
    /// The last batch's reply values, then their RESP; the RESP stays here when it did not
    /// fit the caller's buffer (see `fetchReplies`).
    static REPLIES: RefCell<(ReplyBuf, Vec<u8>)> = RefCell::new((ReplyBuf::new(), Vec::new()));
}

/// Run a batch of commands in order against database `db`.
/// `cmds[..len]` holds, per command: op, argc, then argc (start, end) byte ranges into `buf`.
/// Their replies, as RESP for the client's protocol (`flags`), go into `out` when they fit;
/// returns their length either way. When it exceeds `out`, `fetchReplies` hands them over.
/// Reusing the caller's buffer keeps a Buffer allocation (and its GC) off every call.
#[napi(catch_unwind)]
pub fn execute(
    buf: &[u8],
    cmds: &[u32],
    len: u32,
    db: u32,
    flags: u32,
    mut out: Buffer,
) -> Result<u32> {
    let cmds = cmds.get(..len as usize).ok_or_else(bad_batch)?;
    REPLIES.with(|r| {
        let (values, resp) = &mut *r.borrow_mut();
        values.clear();
        resp.clear();
        run_batch(buf, cmds, db, flags, values)?;
        resp::encode(values.as_bytes(), flags & FLAG_RESP3 != 0, resp)
            .map_err(|_| Error::new(Status::GenericFailure, "core wrote a malformed reply"))?;
        let n = resp.len();
        if let Some(dst) = out.get_mut(..n) {
            dst.copy_from_slice(resp);
            resp.clear();
        }
        Ok(n as u32)
    })
}

/// The replies of the last `execute` on this thread that did not fit its buffer.
#[napi(catch_unwind)]
pub fn fetch_replies() -> Buffer {
    REPLIES.with(|r| std::mem::take(&mut r.borrow_mut().1).into())
}

fn run_batch(buf: &[u8], cmds: &[u32], db: u32, flags: u32, out: &mut ReplyBuf) -> Result<()> {
    let ks = keyspace()?;
    let mut sess = Session {
        db,
        now_ms: now_ms(),
        no_touch: flags & FLAG_NO_TOUCH != 0,
    };
    let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
    let mut i = 0usize;
    while i < cmds.len() {
        let (op, argc) = match (cmds.get(i), cmds.get(i + 1)) {
            (Some(&op), Some(&argc)) => (op, argc as usize),
            _ => return Err(bad_batch()),
        };
        i += 2;
        let ranges = cmds.get(i..i + 2 * argc).ok_or_else(bad_batch)?;
        i += 2 * argc;
        argv.clear();
        for r in ranges.chunks_exact(2) {
            let (start, end) = match r {
                [s, e] => (*s as usize, *e as usize),
                _ => return Err(bad_batch()),
            };
            argv.push(buf.get(start..end).ok_or_else(bad_batch)?);
        }
        let op = u16::try_from(op).map_err(|_| bad_batch())?;
        crate::stats::timed(op, out, |out| ks.run(&mut sess, op, &argv, out));
    }
    Ok(())
}

fn bad_batch() -> Error {
    Error::new(Status::InvalidArg, "malformed command batch")
}
