//! Shrike's keyspace: the one process-wide Redis data store and the commands that run on it.
//!
//! Every worker thread of the server calls into the same `Keyspace` (it is `Sync`); the
//! TypeScript side owns connections, parsing, arity checks and RESP, and hands each command
//! here as an op id plus argv bytes. What lives where:
//!
//! - `lib.rs`: `Keyspace` (segments, locking per command, active expiry, INFO numbers),
//!   `Config`, `Session`.
//! - `slot.rs`: CRC16 hash slots with `{hash tags}`; a key's slot picks its segment.
//! - `segment.rs`: segments (one lock each, every db's keys of their slots) and `Tx`, the lock
//!   set of a command, taken in ascending order.
//! - `db.rs`: one db's table in one segment and its expiry index.
//! - `entry.rs`: the 8-byte `Entry` a table slot holds (a pointer to one allocation holding
//!   LRU/LFU clock, TTL if any, key and value) and the value kinds.
//! - `keys.rs`: `Keys`, the db as a command sees it: Redis's `lookupKey*`/`setKey`/`dbDelete`.
//! - `expiry.rs`: the per-segment-per-db index of volatile keys by time.
//! - `cmd/`: the op table (the only dispatch), the generated command spec (`spec.rs`), key
//!   extraction (`getkeys.rs`) and one file per Redis command group.
//! - `reply.rs`: reply values (never RESP); `error.rs`: every error text, once.
//! - `glob.rs`, `number.rs`: Redis's pattern matching and number parsing/printing.
//!
//! Nothing here knows about Node: `cargo test` runs it all. Time is injected
//! (`Session::now_ms`, `active_expire_cycle(now_ms)`), so expiry tests never sleep.
//!
//! Errors are a `Copy` enum carried up with `?`: the hot path builds no strings, and
//! a command fails with the same text whether it came from a client, MULTI/EXEC or a script.

#![warn(missing_docs)]

pub mod blocking;
mod cmd;
mod db;
pub mod encoding;
mod entry;
pub mod error;
mod expiry;
mod geo;
pub mod glob;
mod grisu;
mod hll;
mod keyloc;
mod keys;
mod lazyfree;
pub mod mailbox;
mod memory;
pub mod notify;
pub mod number;
mod pqsort;
pub mod pubsub;
pub mod reply;
mod segment;
pub mod slot;
pub mod tracking;
mod types;
mod watch;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use smallvec::SmallVec;

pub use cmd::Op;

/// The command spec as the core sees it (generated from Redis's JSON, like the TypeScript
/// table) and key extraction: COMMAND GETKEYS answers from here.
pub mod command_spec {
    pub use crate::cmd::getkeys::{
        command_get_keys, find, get_keys, BeginSearch, CommandSpec, FindKeys, KeyArgSpec, KeyRef,
        KeyRefs, NativeGetKeys,
    };
    pub use crate::cmd::spec::{acl, flag, key_flag, COMMANDS};
}
use cmd::{Ctx, Lock, OPS};
use db::{Db, KeyHasher};
pub use encoding::Limits;
pub use entry::{Kind, RawStr};
pub use error::KsError;
use keyloc::KeyMemo;
pub use notify::Effects;
pub use reply::{Reply, ReplySink};
use segment::SegmentCell;
pub use segment::{Retry, Tx};
pub use watch::{KeyState, WatchMark};

/// Keyspace settings fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Number of databases (Redis's `databases`, default 16).
    pub databases: usize,
    /// Number of lock segments; rounded up to a power of two in 1..=16384 (default 256).
    pub segments: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            databases: 16,
            segments: 256,
        }
    }
}

/// Per-client state the core needs; owned by the caller (the TS connection), passed per call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The SELECTed database.
    pub db: u32,
    /// The command's clock, Unix ms (Redis's `commandTimeSnapshot`).
    pub now_ms: i64,
    /// CLIENT NO-TOUCH: reads leave the LRU/LFU clock alone (except TOUCH).
    pub no_touch: bool,
    /// What the session's commands did that others must hear of (keyspace events, ready
    /// keys); the caller drains it.
    pub fx: Effects,
    /// The client running the commands (its CLIENT ID; 0 for none, e.g. AOF replay).
    pub client: u64,
    /// The worker that owns the client (its mailbox index).
    pub worker: u32,
    /// Mail for other clients the commands produced, posted when the unit ends.
    pub outbox: mailbox::Outbox,
    /// The client tracks keys it reads (CLIENT TRACKING, default mode, with OPTIN/OPTOUT
    /// and CLIENT CACHING deciding for this unit): read-only commands remember their keys.
    pub track: bool,
    /// Whether a blocking command may block (only a client's own commands, outside
    /// MULTI/EXEC and scripts, may).
    pub block: blocking::Block,
    /// Set when a command blocked the client: its timeout in ms (0: none). The caller stops
    /// the client's pipeline until the block ends.
    pub blocked: Option<i64>,
}

impl Session {
    /// A session on db 0 at time `now_ms`.
    pub fn new(now_ms: i64) -> Session {
        Session {
            db: 0,
            now_ms,
            no_touch: false,
            fx: Effects::default(),
            client: 0,
            worker: 0,
            outbox: mailbox::Outbox::default(),
            track: false,
            block: blocking::Block::Deny,
            blocked: None,
        }
    }
}

/// INFO keyspace numbers of one non-empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbInfo {
    /// Database index.
    pub db: u32,
    /// Keys, including expired ones not yet deleted (as Redis counts them).
    pub keys: u64,
    /// Keys with a TTL (INFO's `expires`).
    pub expires: u64,
    /// Mean remaining TTL of the keys with one, in ms (INFO's `avg_ttl`).
    pub avg_ttl_ms: u64,
}

/// INFO stats counters of the keyspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Keys deleted because their TTL passed (lazily or by the active cycle).
    pub expired_keys: u64,
    /// Reads that found their key.
    pub keyspace_hits: u64,
    /// Reads that did not.
    pub keyspace_misses: u64,
}

/// One process-wide keyspace, shared by every worker thread (it is Sync).
pub struct Keyspace {
    cells: Box<[SegmentCell]>,
    seg_mask: usize,
    databases: usize,
    /// Seeded randomly at creation; fixes table hashing and SCAN order for the process.
    hasher: KeyHasher,
    /// maxmemory-policy is an LFU one: the access clock holds LFU data (OBJECT FREQ works).
    lfu: AtomicBool,
    /// Where the next active expiry cycle starts, so successive cycles cover all segments.
    expire_cursor: AtomicUsize,
    /// Which keyspace events are recorded, and whether ready keys are.
    listeners: notify::Listeners,
    /// When small collections leave their compact encodings.
    encodings: encoding::Encodings,
    /// Every worker's mailbox (cross-worker pushes, wakeups).
    pub mail: mailbox::Mailboxes,
    /// Client-side caching: who tracks, and who read which key.
    pub tracking: tracking::Tracking,
    /// Clients blocked on keys, of every worker.
    blocking: blocking::Registry,
    /// Every client's pub/sub subscriptions, on every worker.
    pub pubsub: pubsub::Registry,
}

impl std::fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyspace")
            .field("segments", &self.cells.len())
            .field("databases", &self.databases)
            .finish_non_exhaustive()
    }
}

impl Keyspace {
    /// An empty keyspace.
    pub fn new(cfg: Config) -> Keyspace {
        let databases = cfg.databases.max(1);
        let segments = cfg.segments.clamp(1, slot::SLOTS).next_power_of_two();
        let hasher = KeyHasher::default();
        let cells: Box<[SegmentCell]> = (0..segments)
            .map(|i| {
                let seed = db::key_hash(&hasher, &i.to_le_bytes());
                SegmentCell::new(databases, seed, segments)
            })
            .collect();
        Keyspace {
            cells,
            seg_mask: segments - 1,
            databases,
            hasher,
            lfu: AtomicBool::new(false),
            expire_cursor: AtomicUsize::new(0),
            listeners: notify::Listeners::default(),
            encodings: encoding::Encodings::default(),
            mail: mailbox::Mailboxes::default(),
            tracking: tracking::Tracking::new(segments),
            blocking: blocking::Registry::default(),
            pubsub: pubsub::Registry::default(),
        }
    }

    /// Record keyspace events of the classes in `flags` (`notify` bits, as
    /// `notify-keyspace-events` sets them; see `notify::flags_from_letters`).
    pub fn set_notify_flags(&self, flags: u32) {
        self.listeners.set_flags(flags);
    }

    /// The recorded keyspace event classes.
    pub fn notify_flags(&self) -> u32 {
        self.listeners.flags()
    }

    /// Hand on what a unit of work did that others must hear of: its keyspace events are
    /// published (as `notifyKeyspaceEvent` would have during the commands) into `out`.
    pub fn publish_events(&self, fx: &Effects, out: &mut mailbox::Outbox) {
        self.pubsub.notify(self.listeners.flags(), &fx.events, out);
    }

    /// Set the encoding limit named by its config name (`hash-max-listpack-entries`, or the
    /// old `ziplist` spelling); false when there is no such limit.
    pub fn set_encoding_limit(&self, name: &str, value: i64) -> bool {
        self.encodings.set(name, value)
    }

    /// The encoding limits now.
    pub fn encoding_limits(&self) -> Limits {
        self.encodings.snapshot()
    }

    /// The write version of `key`'s slot in database `db`: it changes whenever a command
    /// changes, deletes or expires a key of that slot, or flushes or swaps a db (what WATCH
    /// compares; other keys of the slot may change it too, which makes EXEC fail safe).
    pub fn key_version(&self, key: &[u8]) -> u64 {
        let slot = slot::key_hash_slot(key);
        self.cells[usize::from(slot) & self.seg_mask].version(slot)
    }

    /// Changes since the last save (INFO `rdb_changes_since_last_save`).
    pub fn changes(&self) -> u64 {
        self.cells
            .iter()
            .map(|c| c.changes.load(Ordering::Relaxed))
            .sum()
    }

    /// Lower-case command names, index == op id. Subcommands as "object|encoding".
    pub fn op_names() -> &'static [&'static str] {
        cmd::NAMES
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Number of lock segments.
    pub fn segments(&self) -> usize {
        self.cells.len()
    }

    /// Select LFU (true) or LRU (false, the default) access tracking, as maxmemory-policy
    /// does. As in Redis, keys keep their old clock bits until next accessed.
    pub fn set_lfu_policy(&self, lfu: bool) {
        self.lfu.store(lfu, Ordering::Relaxed);
    }

    pub(crate) fn lfu_policy(&self) -> bool {
        self.lfu.load(Ordering::Relaxed)
    }

    /// The segment of `key`.
    #[inline]
    pub(crate) fn segment_of(&self, key: &[u8]) -> usize {
        self.segment_of_slot(slot::key_hash_slot(key))
    }

    /// The segment of hash slot `slot`.
    #[inline]
    pub(crate) fn segment_of_slot(&self, slot: u16) -> usize {
        usize::from(slot) & self.seg_mask
    }

    /// Run one command atomically. `argv[0]` is the command name (already resolved to `op` by
    /// the caller, arity already checked by the caller against Redis's arity). Writes exactly
    /// one reply value to `out`.
    pub fn run(&self, sess: &mut Session, op: u16, argv: &[&[u8]], out: &mut ReplySink) {
        let mut tx = self.lock_command(op, argv);
        self.run_locked(&mut tx, sess, op, argv, out);
    }

    /// Run one command as `run` does, leaving its lock in `held` for the next one: a command
    /// whose one key lives in the segment `held` holds already runs under that lock, and
    /// where the key is the last one's, without hashing it again (a pipeline on one key, a
    /// queue or a counter, pays one lock and one hash per batch, not per command). `held`
    /// must be emptied before anything else may lock a segment on this thread (a lock is
    /// not reentrant).
    pub fn run_holding<'ks>(
        &'ks self,
        held: &mut Option<Tx<'ks>>,
        sess: &mut Session,
        op: u16,
        argv: &[&[u8]],
        out: &mut ReplySink,
    ) {
        let key = match OPS.get(usize::from(op)).map(|s| s.lock) {
            Some(Lock::Single(i)) => argv.get(usize::from(i)),
            _ => None,
        };
        let Some(key) = key else {
            *held = None;
            self.run(sess, op, argv, out);
            return;
        };
        if let Some(tx) = held.as_mut() {
            let seg = self.segment_of_slot(tx.memo.slot(key));
            if tx.holds_only(seg) {
                self.run_locked(tx, sess, op, argv, out);
                return;
            }
        }
        // Released before locking again (the memo, which located the key, is kept).
        let mut memo = held.take().map_or_else(KeyMemo::new, |tx| tx.memo);
        let seg = self.segment_of_slot(memo.slot(key));
        let tx = held.insert(self.lock_single(seg, memo));
        self.run_locked(tx, sess, op, argv, out);
    }

    /// Lock segment `seg` alone, for a key `memo` has located.
    fn lock_single(&self, seg: usize, memo: KeyMemo) -> Tx<'_> {
        let mut tx = Tx::lock_sorted(&self.cells, &[seg]);
        tx.memo = memo;
        tx
    }

    /// The locks one command needs: its keys' segments, every segment, or none for commands
    /// that visit segments one by one.
    pub fn lock_command(&self, op: u16, argv: &[&[u8]]) -> Tx<'_> {
        match OPS.get(usize::from(op)).map(|s| s.lock) {
            // One key, the common case: no key extraction, no sorting, no set to build.
            Some(Lock::Single(i)) => match argv.get(usize::from(i)) {
                Some(key) => {
                    let mut memo = KeyMemo::new();
                    let seg = self.segment_of_slot(memo.slot(key));
                    self.lock_single(seg, memo)
                }
                None => Tx::none(&self.cells),
            },
            Some(Lock::Keys) => self.lock_commands(std::iter::once((op, argv))),
            Some(Lock::Sort) if cmd::sort::reads_other_keys(argv) => Tx::lock_all(&self.cells),
            Some(Lock::Sort) => self.lock_commands(std::iter::once((op, argv))),
            Some(Lock::All) => Tx::lock_all(&self.cells),
            Some(Lock::None | Lock::Iter) | None => Tx::none(&self.cells),
        }
    }

    /// The locks a group of commands needs to run as one unit (MULTI/EXEC, scripts): the
    /// union of their keys' segments (as COMMAND GETKEYS finds them), or everything when one
    /// of them spans the db.
    pub fn lock_commands<'a>(
        &self,
        cmds: impl IntoIterator<Item = (u16, &'a [&'a [u8]])>,
    ) -> Tx<'_> {
        self.lock_exec(cmds, std::iter::empty())
    }

    /// Run `unit` (a script, say) under a lock set that starts as the segments of `keys` and
    /// grows as `unit` meets other keys (`Keyspace::grow`). When growing could deadlock,
    /// `grow` says `Retry`: `unit` returns it before it has written anything, and runs again
    /// holding the larger set. Never locks more than the segments the unit touches.
    pub fn run_unit<'ks, R>(
        &'ks self,
        keys: &[&[u8]],
        mut unit: impl FnMut(&mut Tx<'ks>) -> Result<R, Retry>,
    ) -> R {
        let mut segs: SmallVec<[usize; 8]> = keys.iter().map(|k| self.segment_of(k)).collect();
        loop {
            segs.sort_unstable();
            segs.dedup();
            let mut tx = Tx::lock_sorted(&self.cells, &segs);
            match unit(&mut tx) {
                Ok(r) => return r,
                Err(Retry(seg)) => {
                    // Keep what the unit grew into too, so the next round needs fewer tries.
                    segs.extend(tx.held_segments());
                    segs.push(seg);
                }
            }
        }
    }

    /// Make `tx` hold the segment of `key`: at once when it can do so safely, or `Retry`
    /// (see `run_unit`).
    pub fn grow(&self, tx: &mut Tx<'_>, key: &[u8]) -> Result<(), Retry> {
        tx.grow(self.segment_of(key))
    }

    /// Lock every segment (for a unit of work that will touch keys it cannot name upfront).
    pub fn lock_all(&self) -> Tx<'_> {
        Tx::lock_all(&self.cells)
    }

    /// Run one command under locks the caller already holds (`lock_command`/`lock_commands`).
    /// The command's keys must be covered by `tx`, or this panics rather than break atomicity.
    pub fn run_locked<'ks>(
        &'ks self,
        tx: &mut Tx<'ks>,
        sess: &mut Session,
        op: u16,
        argv: &[&[u8]],
        out: &mut ReplySink,
    ) {
        let handler = OPS.get(usize::from(op)).map(|s| s.handler);
        let ran = self.run_checked(tx, sess, op, argv.len(), out, |ctx| match handler {
            Some(h) => h(ctx, argv),
            None => Ok(()),
        });
        if let Err(e) = ran {
            out.command_error(e, op_name(op), argv);
        }
        if sess.track {
            self.remember_keys(sess, op, argv);
        }
    }

    /// `trackingRememberKeys`, after a command of a tracking client ran (its locks still
    /// held, so a write to these keys cannot slip in between): a read-only command's keys
    /// are remembered as read by the client, whether it succeeded or not, as in Redis.
    fn remember_keys(&self, sess: &mut Session, op: u16, argv: &[&[u8]]) {
        use command_spec::flag;
        let Some(spec) = OPS.get(usize::from(op)).map(|s| s.spec()) else {
            return;
        };
        // Shard channels count as keys for the command table, not for caching.
        if spec.flags & flag::READONLY == 0 || spec.flags & flag::PUBSUB != 0 {
            return;
        }
        for k in cmd::getkeys::get_keys(spec, argv) {
            if let Some(key) = argv.get(k.pos) {
                let reader = (sess.client, sess.worker);
                self.tracking
                    .remember(self.segment_of(key), key, reader, &mut sess.fx.tracking);
            }
        }
    }

    /// `run` for a command whose last argument the caller owns as a buffer (a big argument
    /// received straight into it by the server's ring); `head` is argv without it. A
    /// SET-family command whose value it is keeps the buffer as the value, with no copy;
    /// any other command borrows it. Unless kept, it is freed when the command ends.
    pub fn run_owned(
        &self,
        sess: &mut Session,
        op: u16,
        head: &[&[u8]],
        last: Vec<u8>,
        out: &mut ReplySink,
    ) {
        let mut last = Some(last);
        let mut tx = self.lock_command(op, &with_last(head, &last));
        let Some(op_id) = Op::from_id(op) else {
            out.error(b"ERR unknown command");
            return;
        };
        let ran = self.run_checked(&mut tx, sess, op, head.len() + 1, out, |ctx| {
            cmd::run_owned(ctx, op_id, head, &mut last)
        });
        if let Err(e) = ran {
            // A command that fails has kept nothing, so its argv is whole for the error text.
            out.command_error(e, op_name(op), &with_last(head, &last));
        }
        if sess.track {
            self.remember_keys(sess, op, &with_last(head, &last));
        }
    }

    /// The checks every command passes (known op, arity, db index), then `handler` in the
    /// command's context. Its error comes back for the caller to reply with, anything it
    /// wrote before failing dropped, as in Redis.
    fn run_checked<'ks>(
        &'ks self,
        tx: &mut Tx<'ks>,
        sess: &mut Session,
        op: u16,
        argc: usize,
        out: &mut ReplySink,
        handler: impl FnOnce(&mut Ctx<'_, 'ks>) -> Result<(), KsError>,
    ) -> Result<(), KsError> {
        let Some(row) = OPS.get(usize::from(op)) else {
            out.error(b"ERR unknown command");
            return Ok(());
        };
        if !row.arity_ok(argc) {
            // Only a caller bug gets here: the TS dispatcher checks arity first.
            return Err(KsError::WrongArgCount);
        }
        if sess.db as usize >= self.databases {
            out.error(&KsError::DbIndexOutOfRange);
            return Ok(());
        }
        let mark = out.len();
        let events = sess.fx.events.len();
        let mut ctx = Ctx {
            ks: self,
            tx,
            sess,
            out,
            touch: true,
        };
        ctx.touch = !ctx.sess.no_touch || op == Op::Touch as u16;
        handler(&mut ctx).inspect_err(|_| {
            ctx.out.truncate(mark);
            debug_assert_eq!(ctx.sess.fx.events.len(), events, "a failed command wrote");
        })
    }

    /// One bounded step of active expiry: removes expired keys, at most `max_keys`, returns
    /// how many; their `expired` events go to `fx`. Each lock is held for at most a small
    /// batch of deletions, so workers wait microseconds, never the whole cycle.
    pub fn active_expire_cycle(&self, now_ms: i64, max_keys: usize, fx: &mut Effects) -> usize {
        // Keys deleted per lock hold: bounds how long one worker can wait on the cycle.
        const BATCH: usize = 64;
        let n = self.cells.len();
        let start = self.expire_cursor.fetch_add(1, Ordering::Relaxed) % n;
        let mut removed = 0;
        for i in 0..n {
            if removed >= max_keys {
                break;
            }
            let s = (start + i) % n;
            let cell = &self.cells[s];
            loop {
                let budget = BATCH.min(max_keys - removed);
                let mut seg = cell.lock.lock();
                let mut got = 0;
                for (i, db) in seg.dbs.iter_mut().enumerate() {
                    if got >= budget {
                        break;
                    }
                    got += db.expire_due(now_ms, budget - got, &self.hasher, |e| {
                        keys::expired(self, cell, fx, i, e.key());
                        lazyfree::drop_entry(e);
                    });
                }
                drop(seg);
                removed += got;
                if got < budget || removed >= max_keys {
                    break;
                }
            }
        }
        removed
    }

    /// One bounded step of active hash field expiry (Redis 7.4's field pass of
    /// `activeExpireCycle`): deletes fields past their TTL, at most `max_fields`, and
    /// returns how many. Each hash that loses fields publishes `hexpired` (and `del` when it
    /// empties, which deletes the key). A lock is held for at most a few hashes at a time.
    pub fn active_expire_fields(&self, now_ms: i64, max_fields: usize, fx: &mut Effects) -> usize {
        // Hashes visited per lock hold, and fields deleted per hash per hold.
        const KEYS_PER_HOLD: usize = 16;
        const FIELDS_PER_HASH: usize = 64;
        let mut removed = 0;
        for cell in self.cells.iter() {
            for db_i in 0..self.databases {
                let mut pending = cell.lock.lock().dbs[db_i].hfe_take();
                // Rounds over the hashes that may still have due fields, one lock hold per
                // few hashes, until they are done or the budget is spent.
                while !pending.is_empty() {
                    let mut again = Vec::new();
                    let mut rest = pending.chunks(KEYS_PER_HOLD);
                    for chunk in rest.by_ref() {
                        let mut seg = cell.lock.lock();
                        let db = &mut seg.dbs[db_i];
                        for key in chunk {
                            let budget = FIELDS_PER_HASH.min(max_fields - removed);
                            let h = db::key_hash(&self.hasher, key);
                            let Some(hash) = db
                                .find_mut(h, key)
                                .and_then(|e| e.typed_mut::<types::hash::Hash>().ok())
                            else {
                                continue;
                            };
                            let got = hash.expire_fields(now_ms, budget, |_| {});
                            let empty = hash.len() == 0;
                            if !empty && hash.has_field_ttls() {
                                if got == budget {
                                    again.push(key.clone());
                                } else {
                                    db.hfe_register(key);
                                }
                            }
                            if got > 0 {
                                removed += got;
                                cell.bump_version(slot::key_hash_slot(key));
                                segment::SegmentCell::bump(&cell.changes);
                                self.tracking.invalidate(
                                    self.segment_of(key),
                                    key,
                                    &mut fx.tracking,
                                );
                                keys::record(self, fx, db_i, cmd::hash::HEXPIRED, key);
                                if empty {
                                    if let Some(gone) = db.remove(h, key, &self.hasher) {
                                        lazyfree::drop_entry(gone);
                                    }
                                    keys::record(self, fx, db_i, notify::DEL, key);
                                }
                            }
                        }
                        drop(seg);
                        if removed >= max_fields {
                            break;
                        }
                    }
                    // What this step does not finish stays registered for the next one.
                    let left: Vec<Box<[u8]>> = rest.flatten().cloned().collect();
                    if removed >= max_fields {
                        let mut seg = cell.lock.lock();
                        for key in again.iter().chain(left.iter()) {
                            seg.dbs[db_i].hfe_register(key);
                        }
                        return removed;
                    }
                    pending = again;
                }
            }
        }
        removed
    }

    /// Per-db key counts for INFO keyspace: (db, keys, keys_with_expiry, avg_ttl_ms) for
    /// non-empty dbs. Segments are read one at a time, so the numbers are a close snapshot,
    /// as INFO's are.
    pub fn keyspace_info(&self, now_ms: i64) -> Vec<DbInfo> {
        let mut keys = vec![0u64; self.databases];
        let mut vol = vec![0u64; self.databases];
        let mut sum = vec![0i128; self.databases];
        for cell in self.cells.iter() {
            let seg = cell.lock.lock();
            for (i, db) in seg.dbs.iter().enumerate() {
                keys[i] += db.len() as u64;
                vol[i] += db.volatile_len() as u64;
                sum[i] += db.expire_sum_ms();
            }
        }
        (0..self.databases)
            .filter(|&i| keys[i] > 0)
            .map(|i| {
                let avg_ttl_ms = if vol[i] > 0 {
                    let avg_at = sum[i] / i128::from(vol[i]);
                    u64::try_from((avg_at - i128::from(now_ms)).max(0)).unwrap_or(u64::MAX)
                } else {
                    0
                };
                DbInfo {
                    db: i as u32,
                    keys: keys[i],
                    expires: vol[i],
                    avg_ttl_ms,
                }
            })
            .collect()
    }

    /// Counters for INFO stats: expired_keys, keyspace_hits, keyspace_misses.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        for c in self.cells.iter() {
            s.expired_keys += c.expired.load(Ordering::Relaxed);
            s.keyspace_hits += c.hits.load(Ordering::Relaxed);
            s.keyspace_misses += c.misses.load(Ordering::Relaxed);
        }
        s
    }

    /// Zero the INFO stats counters (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        for c in self.cells.iter() {
            // Under the lock every counting command holds (`SegmentCell::bump`).
            let _held = c.lock.lock();
            c.expired.store(0, Ordering::Relaxed);
            c.hits.store(0, Ordering::Relaxed);
            c.misses.store(0, Ordering::Relaxed);
        }
    }

    /// Total keys in database `db` (0 when out of range).
    pub fn dbsize(&self, db: usize) -> u64 {
        if db >= self.databases {
            return 0;
        }
        self.cells
            .iter()
            .map(|c| c.lock.lock().dbs[db].len() as u64)
            .sum()
    }
}

/// The spec name of op `op`, which errors that name their command print.
fn op_name(op: u16) -> &'static str {
    OPS.get(usize::from(op)).map_or("", |s| s.name)
}

/// argv from `head` and an owned last argument, borrowed (empty once the command kept it).
pub(crate) fn with_last<'a>(
    head: &[&'a [u8]],
    last: &'a Option<Vec<u8>>,
) -> SmallVec<[&'a [u8]; 8]> {
    let mut argv: SmallVec<[&[u8]; 8]> = head.iter().copied().collect();
    argv.push(last.as_deref().unwrap_or_default());
    argv
}

/// Free the tables FLUSHDB/FLUSHALL ASYNC took out, on a thread of their own, as Redis's
/// lazyfree does: the command returns at once and workers never pay for the deallocation.
pub(crate) fn drop_in_background(dbs: Vec<Db>) {
    if dbs.iter().all(|d| d.len() == 0) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("shrike-lazyfree".into())
        .spawn(move || drop(dbs));
    // If no thread can be started the closure (and the tables) come back in the error and
    // are freed here, synchronously: slower, never wrong.
    drop(spawned);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspace_is_sync_and_send() {
        fn check<T: Send + Sync>() {}
        check::<Keyspace>();
    }

    #[test]
    fn config_rounds_segments() {
        let ks = Keyspace::new(Config {
            databases: 0,
            segments: 100,
        });
        assert_eq!(ks.segments(), 128);
        assert_eq!(ks.databases(), 1);
        let ks = Keyspace::new(Config {
            databases: 16,
            segments: 1 << 20,
        });
        assert_eq!(ks.segments(), 16384);
    }

    #[test]
    fn op_names_are_unique_lower_case_and_match_ids() {
        let names = Keyspace::op_names();
        let mut seen = std::collections::HashSet::new();
        for (i, n) in names.iter().enumerate() {
            assert!(seen.insert(*n), "duplicate {n}");
            assert_eq!(n.to_lowercase(), *n);
            assert_eq!(Op::from_id(i as u16).map(Op::name), Some(*n));
            assert_eq!(Op::from_name(n).map(|o| o as usize), Some(i));
        }
        assert_eq!(Op::Get.name(), "get");
    }
}
