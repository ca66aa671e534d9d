//! The data path: one call per socket read runs a batch of commands against the shared
//! keyspace; the core writes their replies as RESP straight into the client's output (the
//! ring's send queue, see `uring.rs`, or a Buffer handed to a Node socket).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Buffer;
use napi::{Error, Result, Status};
use napi_derive::napi;
use shrike_keyspace::blocking::{Block, Unblock};
use shrike_keyspace::{Config, Keyspace, ReplySink, Session};

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
    crate::alloc::tune();
    KEYSPACE.get_or_init(|| {
        Keyspace::new(Config {
            databases: databases as usize,
            segments: segments as usize,
        })
    });
    Keyspace::op_names().to_vec()
}

/// Batch flag: the client speaks RESP3.
pub(crate) const FLAG_RESP3: u32 = 2;
/// Batch flag: CLIENT REPLY OFF/SKIP is in force, so the replies are run and dropped.
const FLAG_DISCARD: u32 = 4;
/// Batch flag: a blocking command in the batch may block the client (not in MULTI); the
/// batch then ends with it, and `lastBlock` says so.
const FLAG_MAY_BLOCK: u32 = 8;

/// Bit set in a batch's result when the client's pending output passed the high-water mark:
/// the worker stops reading that client's input until the output drains.
pub(crate) const RESULT_OVER: u32 = 1 << 31;

/// Run a batch of commands in order against database `db` (Node-socket transport).
/// `cmds[..len]` holds, per command: op, argc, then argc (start, end) byte ranges into `buf`.
/// Returns their replies as RESP for the client's protocol (`flags`), in a Buffer that owns
/// the bytes the core wrote (no copy on the way to the socket). Stops after the command that
/// takes the replies past `limit` bytes; `lastBatchRan` then says how many ran.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn execute(
    client: f64,
    buf: &[u8],
    cmds: &[u32],
    len: u32,
    db: u32,
    flags: u32,
    limit: u32,
) -> Result<Buffer> {
    let cmds = cmds.get(..len as usize).ok_or_else(bad_batch)?;
    let mut sink = ReplySink::resp(Vec::new(), flags & FLAG_RESP3 != 0);
    let batch = Batch {
        buf,
        cmds,
        db,
        flags,
        client: client as u64,
    };
    let ran = run_batch(&batch, &mut sink, limit as usize, &mut None)?;
    LAST_RAN.with(|n| n.set(ran));
    Ok(sink.into_vec().into())
}

thread_local! {
    /// How many commands the last `execute` on this thread ran.
    static LAST_RAN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The timeout in ms of the block the last batch on this thread ended in, -1 for none.
    static LAST_BLOCK: std::cell::Cell<f64> = const { std::cell::Cell::new(-1.0) };
}

/// Whether the last batch run on this thread (either transport) ended with its client
/// blocked: the block's timeout in ms (0: none), or -1 when it did not block.
#[napi(catch_unwind)]
pub fn last_block() -> f64 {
    LAST_BLOCK.with(|b| b.get())
}

/// How many commands the last `execute` on this thread ran (all of them unless its replies
/// passed the limit).
#[napi(catch_unwind)]
pub fn last_batch_ran() -> u32 {
    LAST_RAN.with(|n| n.get())
}

/// A command's last (start, end) pair is this when the argument is `big`, a buffer the ring
/// received it into (uring.rs `big_arg_begin`), rather than a range of the batch's bytes.
pub(crate) const BIG_ARG_MARK: u32 = u32::MAX;

/// One client's batch of core commands: `cmds` holds, per command, op, argc, then argc
/// (start, end) ranges into `buf`.
pub(crate) struct Batch<'a> {
    pub buf: &'a [u8],
    pub cmds: &'a [u32],
    pub db: u32,
    pub flags: u32,
    /// The client's CLIENT ID.
    pub client: u64,
}

/// Run the commands of a batch, writing their replies to `sink`, until one leaves the sink
/// holding more than `limit` bytes; returns how many ran. The rest stay with the caller,
/// which runs them once the client has read its replies. A command whose last argument is
/// `BIG_ARG_MARK` takes `big` (the keyspace may keep it as a value; else it is freed when
/// that command ends).
pub(crate) fn run_batch(
    batch: &Batch<'_>,
    sink: &mut ReplySink,
    limit: usize,
    big: &mut Option<Vec<u8>>,
) -> Result<u32> {
    let ks = keyspace()?;
    let Batch {
        buf,
        cmds,
        db,
        flags,
        client,
    } = *batch;
    let mut sess = Session {
        db,
        now_ms: now_ms(),
        no_touch: flags & FLAG_NO_TOUCH != 0,
        client,
        worker: crate::mailbox::this_worker(),
        // A client already gone (client 0: the ring runs what it read) never blocks: no
        // one would ever end the block.
        block: if flags & FLAG_MAY_BLOCK != 0 && client != 0 {
            Block::Allow
        } else {
            Block::Deny
        },
        ..Session::default()
    };
    LAST_BLOCK.with(|b| b.set(-1.0));
    let discard = flags & FLAG_DISCARD != 0;
    let mut mark = sink.len();
    let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
    let mut i = 0usize;
    let mut ran = 0u32;
    while i < cmds.len() {
        let (op, argc) = match (cmds.get(i), cmds.get(i + 1)) {
            (Some(&op), Some(&argc)) => (op, argc as usize),
            _ => return Err(bad_batch()),
        };
        i += 2;
        let ranges = cmds.get(i..i + 2 * argc).ok_or_else(bad_batch)?;
        i += 2 * argc;
        argv.clear();
        let (ranges, owned) = match ranges {
            [head @ .., BIG_ARG_MARK, BIG_ARG_MARK] => {
                (head, Some(big.take().ok_or_else(bad_batch)?))
            }
            _ => (ranges, None),
        };
        for r in ranges.chunks_exact(2) {
            let (start, end) = match r {
                [s, e] => (*s as usize, *e as usize),
                _ => return Err(bad_batch()),
            };
            argv.push(buf.get(start..end).ok_or_else(bad_batch)?);
        }
        let op = u16::try_from(op).map_err(|_| bad_batch())?;
        let mailed = sess.outbox.len();
        match owned {
            Some(last) => crate::stats::timed(op, sink, |out| {
                ks.run_owned(&mut sess, op, &argv, last, out)
            }),
            None => crate::stats::timed(op, sink, |out| ks.run(&mut sess, op, &argv, out)),
        }
        ran += 1;
        if let Some(timeout_ms) = sess.blocked {
            // The client waits: nothing after its blocking command runs until it is served.
            LAST_BLOCK.with(|b| b.set(timeout_ms as f64));
            break;
        }
        // Redis serves blocked clients after every command (processCommand ->
        // handleClientsBlockedOnKeys), so a pipelined LPUSH + LLEN sees the served pop.
        if !sess.fx.ready.is_empty() {
            ks.serve_ready(&mut sess);
        }
        if discard {
            sink.truncate(mark);
        }
        if !sess.fx.events.is_empty() || !sess.outbox.is_empty() {
            after_command(ks, &mut sess, sink, mailed);
            // Pushes are written under CLIENT REPLY OFF too (Redis's CLIENT_PUSHING).
            mark = sink.len();
        }
        if !discard && sink.len() > limit {
            break;
        }
    }
    after_unit(ks, &mut sess);
    Ok(ran)
}

/// What every unit of work (a batch, an EXEC) hands on when it ends, its locks released:
/// the clients blocked on keys it made ready are served (an EXEC's pushes as a whole, as
/// Redis serves them after the transaction), its keyspace events (the served commands'
/// too) are published to their subscribers, then the mail its commands produced for other
/// clients is posted.
pub(crate) fn after_unit(ks: &Keyspace, sess: &mut Session) {
    ks.serve_ready(sess);
    ks.publish_events(&sess.fx, &mut sess.outbox);
    ks.mail.deliver(&mut sess.outbox);
    sess.fx.clear();
}

/// What each command of a batch hands on at once: its keyspace events, published, and the
/// pushes among them meant for the client itself, written right after its reply. Redis 7.2
/// holds a client's own pushes until its command's reply is written
/// (`server.pending_push_messages`), so a RESP3 client subscribed to what it publishes or
/// writes reads the reply, then the message, then the next command's reply.
/// Only the mail the command added (from `mailed` on) is looked at: a batch of PUBLISHes
/// to many subscribers would otherwise scan its whole outbox once per command.
fn after_command(ks: &Keyspace, sess: &mut Session, sink: &mut ReplySink, mailed: usize) {
    ks.publish_events(&sess.fx, &mut sess.outbox);
    sess.fx.events.clear();
    if sess.client != 0 {
        for m in sess.outbox.take_pushes_for(sess.client, mailed) {
            sink.push_resp(&m.bytes);
        }
    }
}

/// End client `client`'s block without data: `how` 0 replies the timeout reply (a timeout,
/// CLIENT UNBLOCK id TIMEOUT), 1 the -UNBLOCKED error (CLIENT UNBLOCK id ERROR), 2 nothing
/// (it disconnected). The reply reaches its worker as REPLY mail. False when it was not
/// blocked (or a push served it first: that reply is on its way).
#[napi(catch_unwind)]
pub fn unblock_client(client: f64, how: u32) -> Result<bool> {
    let how = match how {
        0 => Unblock::Timeout,
        1 => Unblock::Error,
        _ => Unblock::Drop,
    };
    Ok(keyspace()?.unblock(client as u64, how))
}

/// `[blocked_clients, total_blocking_keys]` over every worker (INFO clients).
#[napi(catch_unwind)]
pub fn blocked_info() -> Result<Vec<f64>> {
    let info = keyspace()?.blocked_info();
    Ok(vec![info.clients as f64, info.keys as f64])
}

fn bad_batch() -> Error {
    Error::new(Status::InvalidArg, "malformed command batch")
}
