//! MULTI/EXEC's hold on the keyspace. EXEC runs its queue in one synchronous JavaScript
//! turn: `execBegin` takes the union lock set of the queued core commands and the watched
//! keys and keeps it in a thread-local; the connection's core batches then run under it
//! (`FLAG_EXEC`, see `run_batch`) with the TypeScript commands of the queue in between;
//! `execEnd`, called in a `finally`, releases it and hands on what the unit recorded. No
//! other client's command can interleave: every other one needs one of the held locks, and
//! this thread runs nothing else until `execEnd`. A queue of core commands alone with keys
//! watched does all of that in one call on the ring (`ring_exec_watched`).

use std::cell::RefCell;

use napi::{Error, Result, Status};
use napi_derive::napi;
use shrike_keyspace::{KeyState, ReplySink, Session, Tx, WatchMark};
use smallvec::SmallVec;

use crate::batch::{
    after_unit, keyspace, now_ms, BIG_ARG_MARK, FLAG_EXEC, FLAG_EXEC_END, FLAG_RESP3,
};
use crate::ring_calls::{ring_execute, ring_send};

/// The lock set and session of the EXEC running on this thread.
pub(crate) struct Held {
    pub(crate) tx: Tx<'static>,
    /// One session for the whole unit: its clock is the time EXEC started (every command
    /// sees it, as in Redis), and its keyspace events, ready keys and mail are handed on
    /// once, when the unit ends.
    pub(crate) sess: Session,
}

thread_local! {
    /// The EXEC in progress on this worker thread, if any.
    pub(crate) static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Words per watched key in `execBegin`'s `watch`: db, start, end, version low and high
/// 32 bits, state.
const WATCH_WORDS: usize = 6;

/// WATCH: for each of the first `n` keys (`ranges` holds (start, end) pairs into `buf`) in
/// database `db`, write its version (low, high 32 bits) and state (`KeyState`) into `marks`,
/// three words per key (arrays JavaScript keeps, so a WATCH allocates nothing). Called from
/// JavaScript as `watchKeys` (hot_calls.rs).
pub(crate) fn watch_keys(
    db: u32,
    buf: &[u8],
    ranges: &[u32],
    n: u32,
    marks: &mut [u32],
) -> Result<()> {
    let ks = keyspace()?;
    let now = now_ms();
    let n = n as usize;
    let ranges = ranges.get(..2 * n).ok_or_else(bad_exec)?;
    let marks = marks.get_mut(..3 * n).ok_or_else(bad_exec)?;
    for (r, out) in ranges.chunks_exact(2).zip(marks.chunks_exact_mut(3)) {
        let key = key_at(buf, r)?;
        let m = ks.watch_key(db, key, now);
        out.copy_from_slice(&[m.version as u32, (m.version >> 32) as u32, m.state as u32]);
    }
    Ok(())
}

/// EXEC: lock what the queued core commands (`cmds[..len]` over `buf`, the batch layout)
/// and the watched keys (`watch[..watch_len]`, six words per key over `watch_buf`: db,
/// start, end, version low, high, state) touch, and check the watches under those locks.
/// Some(number of queued commands): the locks are held until `execEnd` and the queue may
/// run. None: a watched key changed, nothing is held, and EXEC answers a null array.
/// Called from JavaScript as `execBegin` (hot_calls.rs), and by `ring_exec_watched`.
pub(crate) fn exec_begin(
    buf: &[u8],
    cmds: &[u32],
    len: u32,
    watch_buf: &[u8],
    watch: &[u32],
    watch_len: u32,
) -> Result<Option<usize>> {
    let ks = keyspace()?;
    let cmds = cmds.get(..len as usize).ok_or_else(bad_exec)?;
    let watch = watch.get(..watch_len as usize).ok_or_else(bad_exec)?;
    let (args, spans) = parse_batch(buf, cmds)?;
    let mut keys: Vec<(u32, &[u8], WatchMark)> = Vec::with_capacity(watch.len() / WATCH_WORDS);
    for w in watch.chunks_exact(WATCH_WORDS) {
        let [db, start, end, lo, hi, state] = w else {
            return Err(bad_exec());
        };
        let key = key_at(watch_buf, &[*start, *end])?;
        let mark = WatchMark {
            version: u64::from(*lo) | (u64::from(*hi) << 32),
            state: KeyState::from_u8(*state as u8),
        };
        keys.push((*db, key, mark));
    }
    let now = now_ms();
    let mut tx = ks.lock_exec(
        spans
            .iter()
            .map(|&(op, from, to)| (op, args.get(from..to).unwrap_or_default())),
        keys.iter().map(|(_, k, _)| *k),
    );
    if !keys
        .iter()
        .all(|&(db, key, mark)| ks.watch_intact(&mut tx, db, key, mark, now))
    {
        return Ok(None);
    }
    let count = spans.len();
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if h.is_some() {
            return Err(Error::new(Status::GenericFailure, "EXEC inside EXEC"));
        }
        *h = Some(Held {
            tx,
            sess: Session {
                now_ms: now,
                worker: crate::mailbox::this_worker(),
                ..Session::default()
            },
        });
        Ok(Some(count))
    })
}

/// Bit set in `ring_exec_watched`'s result when a watched key had changed: EXEC answered
/// the null array and ran nothing.
const RESULT_WATCH_FAILED: u32 = 1 << 30;

/// A client's queue and watches for `ring_exec_watched`: the batch layout over `buf`, and
/// the watched keys as `exec_begin` takes them.
pub(crate) struct WatchedExec<'a> {
    pub buf: &'a [u8],
    pub cmds: &'a [u32],
    pub len: u32,
    pub db: u32,
    pub flags: u32,
    pub watch_buf: &'a [u8],
    pub watch: &'a [u32],
    pub watch_len: u32,
}

/// EXEC of a queue of core commands alone, with keys watched, on the ring in one call (it
/// was `execBegin` and then a batch): queue `pre[pre_start..pre_end]` (replies written in
/// JavaScript before EXEC's), take the locks and check the watches, then queue either the
/// null array, or the `*N` header and the queue's replies, run under those locks and
/// released after (`FLAG_EXEC_END`). Returns the batch's result, or RESULT_WATCH_FAILED.
/// Called from JavaScript as `ringExecWatched` (hot_calls.rs).
pub(crate) fn ring_exec_watched(
    slot: u32,
    gen: u32,
    pre: &[u8],
    pre_start: u32,
    pre_end: u32,
    exec: &WatchedExec<'_>,
) -> Result<u32> {
    let over = ring_send(slot, gen, pre, pre_start, pre_end)?;
    let begun = exec_begin(
        exec.buf,
        exec.cmds,
        exec.len,
        exec.watch_buf,
        exec.watch,
        exec.watch_len,
    )?;
    let resp3 = exec.flags & FLAG_RESP3 != 0;
    let Some(count) = begun else {
        let mut null = ReplySink::resp(Vec::with_capacity(8), resp3);
        null.null_array();
        let over = over | send_sink(slot, gen, &null)?;
        return Ok(over | RESULT_WATCH_FAILED);
    };
    let mut head = ReplySink::resp(Vec::with_capacity(16), resp3);
    head.array(count);
    let ran = send_sink(slot, gen, &head).and_then(|o| {
        let flags = exec.flags | FLAG_EXEC | FLAG_EXEC_END;
        let ran = ring_execute(slot, gen, exec.buf, exec.cmds, exec.len, exec.db, flags)?;
        Ok(ran | o)
    });
    // The batch releases the locks as it ends; a call that failed before it did must not
    // leave them held (every other worker would wait on them).
    if ran.is_err() {
        exec_end();
    }
    Ok(over | ran?)
}

/// Queue what `sink` holds for a client.
fn send_sink(slot: u32, gen: u32, sink: &ReplySink) -> Result<u32> {
    let bytes = sink.as_bytes();
    ring_send(slot, gen, bytes, 0, bytes.len() as u32)
}

/// The commands of a batch (`cmds` over `buf`, the batch layout): every command's arguments
/// in one vector, and per command its op and span there; on the stack for a typical EXEC.
pub(crate) type Parsed<'a> = (SmallVec<[&'a [u8]; 24]>, SmallVec<[(u16, usize, usize); 8]>);

/// Parse a batch into `Parsed`, for taking its lock set.
pub(crate) fn parse_batch<'a>(buf: &'a [u8], cmds: &[u32]) -> Result<Parsed<'a>> {
    let mut args: SmallVec<[&[u8]; 24]> = SmallVec::new();
    let mut spans: SmallVec<[(u16, usize, usize); 8]> = SmallVec::new();
    let mut i = 0usize;
    while i < cmds.len() {
        let (op, argc) = match (cmds.get(i), cmds.get(i + 1)) {
            (Some(&op), Some(&argc)) => (op, argc as usize),
            _ => return Err(bad_exec()),
        };
        let ranges = cmds.get(i + 2..i + 2 + 2 * argc).ok_or_else(bad_exec)?;
        i += 2 + 2 * argc;
        let from = args.len();
        for r in ranges.chunks_exact(2) {
            args.push(key_at(buf, r)?);
        }
        spans.push((u16::try_from(op).map_err(|_| bad_exec())?, from, args.len()));
    }
    Ok((args, spans))
}

/// End the EXEC begun by `execBegin` (a no-op when none is held): release its locks, then
/// hand on the keyspace events and ready keys its commands recorded.
#[napi(catch_unwind)]
pub fn exec_end() {
    let held = HELD.with(|h| h.borrow_mut().take());
    if let (Some(Held { tx, mut sess }), Ok(ks)) = (held, keyspace()) {
        drop(tx);
        after_unit(ks, &mut sess);
    }
}

fn key_at<'a>(buf: &'a [u8], r: &[u32]) -> Result<&'a [u8]> {
    match r {
        [BIG_ARG_MARK, BIG_ARG_MARK] => Err(bad_exec()),
        [s, e] => buf.get(*s as usize..*e as usize).ok_or_else(bad_exec),
        _ => Err(bad_exec()),
    }
}

fn bad_exec() -> Error {
    Error::new(Status::InvalidArg, "malformed transaction")
}
