//! The data path: one call per socket read runs a batch of commands against the shared
//! keyspace; the core writes their replies as RESP straight into the client's output (the
//! ring's send queue, see `uring.rs`, or a Buffer handed to a Node socket).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Buffer;
use napi::{Error, Result, Status};
use napi_derive::napi;
use shrike_keyspace::blocking::{Block, Unblock};
use shrike_keyspace::{Config, Keyspace, ReplySink, Session, Tx};
use smallvec::SmallVec;

use crate::transaction::{Held, HELD};

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
pub(crate) const FLAG_DISCARD: u32 = 4;
/// Batch flag: the client tracks the keys it reads (CLIENT TRACKING in default mode, the
/// OPTIN/OPTOUT and CLIENT CACHING rules already applied by the server).
const FLAG_TRACK: u32 = 128;
/// Batch flag: a blocking command in the batch may block the client (not in MULTI); the
/// batch then ends with it, and `lastBlock` says so.
const FLAG_MAY_BLOCK: u32 = 8;
/// Batch flag: the batch is part of the EXEC this thread holds (`execBegin`): it runs under
/// the held lock set and session (clock, effects, mail), whole (an EXEC's replies are never
/// cut short).
pub(crate) const FLAG_EXEC: u32 = 16;
/// With FLAG_EXEC: the EXEC ends with this batch (its locks go and its effects are handed
/// on as `execEnd` does), which saves the caller the call.
pub(crate) const FLAG_EXEC_END: u32 = 32;
/// Batch flag: the batch is a whole EXEC with no watched key and no TypeScript command: it
/// takes the union lock set of its commands itself, runs whole under it, and releases it.
const FLAG_UNIT: u32 = 64;

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
    LAST_BLOCK.with(|b| b.set(-1.0));
    if flags & FLAG_EXEC != 0 {
        return HELD.with(|h| {
            let mut h = h.borrow_mut();
            let held = h
                .as_mut()
                .ok_or_else(|| Error::new(Status::GenericFailure, "no EXEC in progress"))?;
            let sess = &mut held.sess;
            // SELECT inside MULTI changes the db of the commands after it.
            sess.db = db;
            sess.no_touch = flags & FLAG_NO_TOUCH != 0;
            sess.client = client;
            sess.track = flags & FLAG_TRACK != 0;
            let tx = &mut held.tx;
            let ran = run_commands(
                buf,
                cmds,
                flags,
                sess,
                sink,
                usize::MAX,
                big,
                Locks::Held(tx),
            );
            if flags & FLAG_EXEC_END != 0 {
                if let Some(Held { tx, mut sess }) = h.take() {
                    drop(tx);
                    after_unit_into(ks, &mut sess, sink);
                }
            }
            ran
        });
    }
    // Locking on this thread while it holds an EXEC's locks would wait on itself forever. An
    // EXEC left held is a bug; its locks go at once (other workers would wait on them too),
    // and this client is closed by the error.
    if let Some(Held { tx, mut sess }) = HELD.with(|h| h.borrow_mut().take()) {
        drop(tx);
        after_unit(ks, &mut sess);
        return Err(Error::new(
            Status::GenericFailure,
            "batch outside the EXEC in progress",
        ));
    }
    let mut sess = Session {
        db,
        now_ms: now_ms(),
        no_touch: flags & FLAG_NO_TOUCH != 0,
        track: flags & FLAG_TRACK != 0,
        client,
        worker: crate::mailbox::this_worker(),
        // A client already gone (client 0: the ring runs what it read) never blocks: no
        // one would ever end the block. Nor does an EXEC (Redis's CLIENT_DENY_BLOCKING).
        block: if flags & FLAG_MAY_BLOCK != 0 && flags & FLAG_UNIT == 0 && client != 0 {
            Block::Allow
        } else {
            Block::Deny
        },
        ..Session::default()
    };
    let ran = if flags & FLAG_UNIT != 0 {
        let (args, spans) = crate::transaction::parse_batch(buf, cmds)?;
        let mut tx = ks.lock_exec(
            spans
                .iter()
                .map(|&(op, from, to)| (op, args.get(from..to).unwrap_or_default())),
            std::iter::empty(),
        );
        let ran = run_commands(
            buf,
            cmds,
            flags,
            &mut sess,
            sink,
            usize::MAX,
            big,
            Locks::Held(&mut tx),
        );
        drop(tx);
        ran
    } else {
        run_commands(
            buf,
            cmds,
            flags,
            &mut sess,
            sink,
            limit,
            big,
            Locks::PerCommand(None),
        )
    };
    after_unit_into(ks, &mut sess, sink);
    ran
}

/// The locks the commands of a batch run under.
enum Locks<'a, 'ks> {
    /// An EXEC's, held for the whole unit.
    Held(&'a mut Tx<'ks>),
    /// Each command's own, kept for the next command while it needs the same one segment
    /// (`Keyspace::run_holding`).
    PerCommand(Option<Tx<'ks>>),
}

impl<'ks> Locks<'_, 'ks> {
    fn run(
        &mut self,
        ks: &'ks Keyspace,
        sess: &mut Session,
        op: u16,
        argv: &[&[u8]],
        out: &mut ReplySink,
    ) {
        match self {
            Locks::Held(tx) => ks.run_locked(tx, sess, op, argv, out),
            Locks::PerCommand(held) => ks.run_holding(held, sess, op, argv, out),
        }
    }

    /// Let a command's kept lock go, before work that may lock segments itself.
    fn release(&mut self) {
        if let Locks::PerCommand(held) = self {
            *held = None;
        }
    }
}

/// The loop of `run_batch`: each command under `locks` (or through `run_owned` for a big
/// argument), until the sink holds more than `limit` bytes or the client blocks.
#[allow(clippy::too_many_arguments)]
fn run_commands<'ks>(
    buf: &[u8],
    cmds: &[u32],
    flags: u32,
    sess: &mut Session,
    sink: &mut ReplySink,
    limit: usize,
    big: &mut Option<Vec<u8>>,
    mut locks: Locks<'_, 'ks>,
) -> Result<u32> {
    let ks: &'ks Keyspace = keyspace()?;
    // An EXEC holds its locks until it ends (serving now would lock again), and Redis serves
    // what it pushed after the whole transaction anyway: `after_unit` does.
    let in_unit = flags & (FLAG_EXEC | FLAG_UNIT) != 0;
    let discard = flags & FLAG_DISCARD != 0;
    let mut mark = sink.len();
    // On the stack for the usual command: a heap vector here was an allocation and a free
    // per batch, one per request at -P 1.
    let mut argv: SmallVec<[&[u8]; 8]> = SmallVec::new();
    let mut i = 0usize;
    let mut ran = 0u32;
    let mut clock = crate::clock::now();
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
            // An EXEC's queue holds copies of its requests, never a big argument.
            Some(_) if in_unit => return Err(bad_batch()),
            Some(last) => {
                locks.release();
                crate::stats::timed(op, sink, &mut clock, |out| {
                    ks.run_owned(sess, op, &argv, last, out)
                })
            }
            None => crate::stats::timed(op, sink, &mut clock, |out| {
                locks.run(ks, sess, op, &argv, out)
            }),
        }
        ran += 1;
        if let Some(timeout_ms) = sess.blocked {
            // The client waits: nothing after its blocking command runs until it is served.
            LAST_BLOCK.with(|b| b.set(timeout_ms as f64));
            break;
        }
        // Redis serves blocked clients after every command (processCommand ->
        // handleClientsBlockedOnKeys), so a pipelined LPUSH + LLEN sees the served pop.
        // Work between commands (serving, pushes) is no command's time: the clock restarts.
        let mut between = false;
        if !in_unit && !sess.fx.ready.is_empty() {
            locks.release();
            ks.serve_ready(sess);
            between = true;
        }
        if discard {
            sink.truncate(mark);
        }
        // Invalidations of the client's own reads and its own pushes follow the command's
        // reply, even under CLIENT REPLY OFF (Redis's CLIENT_PUSHING, afterCommand); inside
        // an EXEC they wait for the end of the unit, as Redis holds them until EXEC's reply.
        if !in_unit && !sess.fx.tracking.is_empty() {
            locks.release();
            ks.tracking.deliver(
                &mut sess.fx.tracking,
                sess.client,
                Some(sink),
                &mut sess.outbox,
            );
            mark = sink.len();
            between = true;
        }
        if !in_unit && (!sess.fx.events.is_empty() || !sess.outbox.is_empty()) {
            locks.release();
            after_command(ks, sess, sink, mailed);
            mark = sink.len();
            between = true;
        }
        if between {
            clock = crate::clock::now();
        }
        if !discard && sink.out_len() > limit {
            break;
        }
    }
    Ok(ran)
}

/// What every unit of work (a batch, an EXEC) hands on when it ends, its locks released:
/// the clients blocked on keys it made ready are served (an EXEC's pushes as a whole, as
/// Redis serves them after the transaction), tracking invalidations go out, its keyspace
/// events (the served commands' too) are published to their subscribers, then the mail its
/// commands produced for other clients is posted.
pub(crate) fn after_unit(ks: &Keyspace, sess: &mut Session) {
    ks.serve_ready(sess);
    // What is still owed (serving blocked clients writes too; an EXEC's) reaches even the
    // writer by mail, after the unit.
    ks.tracking
        .deliver(&mut sess.fx.tracking, sess.client, None, &mut sess.outbox);
    ks.publish_events(&sess.fx, &mut sess.outbox);
    ks.mail.deliver(&mut sess.outbox);
    sess.fx.clear();
}

/// `after_unit` for a unit whose client's output is `sink`: the pushes for the client itself
/// are written there, right after the unit's replies (an EXEC's reply: Redis joins its
/// pending pushes once EXEC is done), rather than mailed to itself behind whatever it sent
/// next.
pub(crate) fn after_unit_into(ks: &Keyspace, sess: &mut Session, sink: &mut ReplySink) {
    ks.serve_ready(sess);
    ks.tracking.deliver(
        &mut sess.fx.tracking,
        sess.client,
        Some(sink),
        &mut sess.outbox,
    );
    ks.publish_events(&sess.fx, &mut sess.outbox);
    sess.fx.events.clear();
    if sess.client != 0 {
        for m in sess.outbox.take_pushes_for(sess.client, 0) {
            sink.push_resp(&m.bytes);
        }
    }
    after_unit(ks, sess);
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
