//! Clients blocked on keys (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX,
//! BZMPOP), across workers: Redis 7.2's `blocked.c` with the registry in the keyspace, so
//! that a push on any worker serves a client blocked on any other.
//!
//! - A blocking command that finds every key empty registers its client here (`wait`) while
//!   it still holds the keys' segment locks, so no push can slip in between the check and the
//!   registration; it writes no reply, and the session says it blocked (`Session::blocked`).
//! - A write that creates a list or sorted set records the key as ready (keys.rs); after the
//!   command, the writing thread serves (`serve_ready`, Redis's `handleClientsBlockedOnKeys`):
//!   for each ready key, the clients blocked on it in the order they blocked, each by running
//!   its command again in `Block::Serve` mode under that command's locks. A reply ends the
//!   block: it goes to the client's worker as `kind::REPLY` mail.
//! - Timeouts, CLIENT UNBLOCK and disconnects end a block through `unblock`.
//!
//! Invariant: a waiter leaves the registry only while its command's segment locks are held
//! (serve and `unblock` both take them first), so a pop is never served to a client whose
//! block also timed out. The registry lock is always taken last and never held while waiting
//! for a segment lock.

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;

use parking_lot::Mutex;
use smallvec::SmallVec;

use crate::cmd::Ctx;
use crate::entry::Kind;
use crate::error::KsError;
use crate::keys::{Keys, LookupFlags};
use crate::mailbox::{kind, Mail};
use crate::reply::{Mode, ReplySink};
use crate::{Keyspace, Session};

/// Whether a command may block (`Session::block`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Block {
    /// It may not (MULTI/EXEC, scripts, replay): an empty key answers as a timeout would, as
    /// Redis answers under CLIENT_DENY_BLOCKING.
    #[default]
    Deny,
    /// A client's own command: it may block.
    Allow,
    /// A blocked command run again for a ready key: with data it replies, without it writes
    /// nothing and stays blocked.
    Serve,
}

/// How a block ends when no push served it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblock {
    /// The timeout passed, or CLIENT UNBLOCK id TIMEOUT: the timeout reply.
    Timeout,
    /// CLIENT UNBLOCK id ERROR: the -UNBLOCKED error.
    Error,
    /// The client is gone: nothing is sent.
    Drop,
}

/// One blocked client's command, owned, to run again when a key it waits on is ready.
#[derive(Debug)]
struct Waiter {
    /// Tells a block from a later one of the same client.
    seq: u64,
    worker: u32,
    db: u32,
    op: u16,
    argv: Vec<Box<[u8]>>,
    /// Where its keys are in `argv`.
    keys: Range<usize>,
    /// The type it waits for (Redis's `btype`): a key of another type does not serve it.
    kind: Kind,
    /// The protocol its reply is written in.
    mode: Mode,
}

/// What serving needs of a waiter, copied out so the registry lock is not held meanwhile.
struct Pick {
    client: u64,
    seq: u64,
    op: u16,
    argv: Vec<Box<[u8]>>,
}

/// Per key of one db: the clients blocked on it, first blocked first (client, seq).
type Queues = HashMap<Box<[u8]>, VecDeque<(u64, u64)>>;

#[derive(Debug, Default)]
struct Inner {
    /// Per db, the queues of its keys.
    queues: HashMap<u32, Queues>,
    /// Per blocked client (CLIENT ID), its command.
    waiters: HashMap<u64, Waiter>,
    next_seq: u64,
}

impl Inner {
    fn add(&mut self, client: u64, mut w: Waiter) {
        self.next_seq += 1;
        w.seq = self.next_seq;
        let db = self.queues.entry(w.db).or_default();
        for (i, key) in w.argv[w.keys.clone()].iter().enumerate() {
            // A key named twice blocks once (Redis's bstate.keys is a dict).
            if w.argv[w.keys.start..w.keys.start + i].contains(key) {
                continue;
            }
            db.entry(key.clone())
                .or_default()
                .push_back((client, w.seq));
        }
        self.waiters.insert(client, w);
    }

    fn remove(&mut self, client: u64) -> Option<Waiter> {
        let w = self.waiters.remove(&client)?;
        if let Some(db) = self.queues.get_mut(&w.db) {
            for key in &w.argv[w.keys.clone()] {
                if let Some(q) = db.get_mut(&**key) {
                    q.retain(|(c, _)| *c != client);
                    if q.is_empty() {
                        db.remove(&**key);
                    }
                }
            }
            if db.is_empty() {
                self.queues.remove(&w.db);
            }
        }
        Some(w)
    }

    fn queue(&self, db: u32, key: &[u8]) -> Option<&VecDeque<(u64, u64)>> {
        self.queues.get(&db)?.get(key)
    }

    fn is(&self, client: u64, seq: u64) -> Option<&Waiter> {
        self.waiters.get(&client).filter(|w| w.seq == seq)
    }

    fn pick(&self, client: u64, seq: u64) -> Option<Pick> {
        let w = self.is(client, seq)?;
        Some(Pick {
            client,
            seq,
            op: w.op,
            argv: w.argv.clone(),
        })
    }
}

/// The blocked clients of every worker; part of the keyspace, so every thread reaches it.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

/// INFO's numbers about blocked clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockedInfo {
    /// Clients blocked on keys (INFO `blocked_clients`).
    pub clients: u64,
    /// Keys with at least one client blocked on them (INFO `total_blocking_keys`).
    pub keys: u64,
}

/// Redis's `getTimeoutFromObjectOrReply(.., UNIT_SECONDS)`: fractional seconds to whole ms,
/// rounded up; 0 waits forever.
pub(crate) fn parse_timeout(arg: &[u8]) -> Result<i64, KsError> {
    let secs = match crate::number::parse_f64(arg) {
        Some(secs) => secs,
        None => long_double_only(arg).ok_or(KsError::TimeoutNotFloat)?,
    };
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(KsError::TimeoutOutOfRange);
    }
    if ms < 0.0 {
        return Err(KsError::TimeoutNegative);
    }
    Ok(ms as i64)
}

/// A number Redis reads as a `long double` but a double cannot hold (1e400, 1e-400): its
/// value as far as a timeout cares (infinite, or the smallest step above or below 0).
fn long_double_only(arg: &[u8]) -> Option<f64> {
    let v: f64 = std::str::from_utf8(arg).ok()?.parse().ok()?;
    let negative = arg.first() == Some(&b'-');
    if v.is_infinite() {
        Some(v)
    } else if v == 0.0 && arg.iter().any(|b| (b'1'..=b'9').contains(b)) {
        // Past a double's smallest, within a long double's: a tiny non-zero timeout.
        Some(if negative {
            -f64::MIN_POSITIVE
        } else {
            f64::MIN_POSITIVE
        })
    } else {
        None
    }
}

/// A blocking command found nothing to pop in `argv[keys]` (which wait for `kind`): block
/// the client when its session may, and say whether the command is done (blocked, or being
/// served and still without data). False means blocking is denied: the caller replies as a
/// timeout would (Redis's CLIENT_DENY_BLOCKING replies).
pub(crate) fn wait(
    ctx: &mut Ctx<'_, '_>,
    op: crate::cmd::Op,
    argv: &[&[u8]],
    keys: Range<usize>,
    kind: Kind,
    timeout_ms: i64,
) -> bool {
    match ctx.sess.block {
        Block::Deny => false,
        Block::Serve => true,
        Block::Allow => {
            let w = Waiter {
                seq: 0,
                worker: ctx.sess.worker,
                db: ctx.sess.db,
                op: op as u16,
                argv: argv.iter().map(|a| Box::from(*a)).collect(),
                keys,
                kind,
                mode: ctx.out.mode(),
            };
            // Still under the keys' locks: a push to them runs after this, and sees us.
            let n = {
                let mut inner = ctx.ks.blocking.inner.lock();
                inner.add(ctx.sess.client, w);
                inner.waiters.len()
            };
            ctx.ks.listeners.set_blocked(n);
            ctx.sess.blocked = Some(timeout_ms);
            true
        }
    }
}

/// SWAPDB swapped dbs `a` and `b` (its locks still held): every key a client blocks on in
/// either that now exists is ready (Redis's `scanDatabaseForReadyKeys`).
pub(crate) fn swapped(ctx: &mut Ctx<'_, '_>, a: usize, b: usize) {
    for db in [a, b] {
        let blocked: Vec<Box<[u8]>> = {
            let inner = ctx.ks.blocking.inner.lock();
            match inner.queues.get(&(db as u32)) {
                Some(q) => q.keys().cloned().collect(),
                None => continue,
            }
        };
        for key in blocked {
            let (mut keys, _) = ctx.split();
            if kind_of(&mut keys.with_db(db), &key).is_some() {
                ctx.sess.fx.ready.push((db as u32, key.into_vec()));
            }
        }
    }
}

/// The type of `key` now, with no effect on it (Redis's LOOKUP_NOEFFECTS).
fn kind_of(keys: &mut Keys<'_, '_>, key: &[u8]) -> Option<Kind> {
    keys.lookup(
        key,
        LookupFlags {
            touch: false,
            stats: false,
            notify: false,
        },
    )
    .map(|e| e.kind())
}

impl Keyspace {
    /// Serve the clients blocked on the keys `sess`'s commands made ready (Redis's
    /// `handleClientsBlockedOnKeys`), holding no locks when called. Replies go to the
    /// served clients' workers through `sess.outbox`; the served commands' keyspace events
    /// join `sess.fx`. A served BLMOVE's push makes its destination ready in turn.
    pub fn serve_ready(&self, sess: &mut Session) {
        if sess.fx.ready.is_empty() {
            return;
        }
        let mut ready: VecDeque<(u32, Vec<u8>)> = sess.fx.ready.drain(..).collect();
        while let Some((db, key)) = ready.pop_front() {
            // A key still waiting its turn is served once (Redis's ready_keys is a dict).
            if ready.iter().any(|(d, k)| *d == db && *k == key) {
                continue;
            }
            self.serve_key(db, &key, sess, &mut ready);
        }
    }

    /// Serve the clients blocked on `key` of `db`, first blocked first, while it holds the
    /// type they wait for; at most as many as were blocked when it started.
    fn serve_key(
        &self,
        db: u32,
        key: &[u8],
        sess: &mut Session,
        ready: &mut VecDeque<(u32, Vec<u8>)>,
    ) {
        let mut budget = self
            .blocking
            .inner
            .lock()
            .queue(db, key)
            .map_or(0, VecDeque::len);
        // Waiters at the head this round passed over (they wait for another type).
        let mut skip = 0;
        while budget > 0 {
            budget -= 1;
            let pick = {
                let inner = self.blocking.inner.lock();
                let Some(&(client, seq)) = inner.queue(db, key).and_then(|q| q.get(skip)) else {
                    return;
                };
                inner.pick(client, seq)
            };
            let Some(pick) = pick else {
                continue;
            };
            let argv: SmallVec<[&[u8]; 8]> = pick.argv.iter().map(|a| &**a).collect();
            let mut tx = self.lock_command(pick.op, &argv);
            // Under its locks now: still blocked (not timed out, not unblocked)?
            let (worker, wait_kind, mode) = {
                let inner = self.blocking.inner.lock();
                match inner.is(pick.client, pick.seq) {
                    Some(w) => (w.worker, w.kind, w.mode),
                    None => continue,
                }
            };
            let mut served = Session {
                db,
                now_ms: sess.now_ms,
                client: pick.client,
                worker,
                block: Block::Serve,
                ..Session::default()
            };
            let kind = kind_of(
                &mut Keys {
                    tx: &mut tx,
                    ks: self,
                    db: db as usize,
                    now_ms: sess.now_ms,
                    touch: false,
                    fx: &mut served.fx,
                },
                key,
            );
            match kind {
                None => return,
                Some(k) if k != wait_kind => {
                    skip += 1;
                    continue;
                }
                Some(_) => {}
            }
            let mut out = ReplySink::of_mode(mode);
            self.run_locked(&mut tx, &mut served, pick.op, &argv, &mut out);
            if out.is_empty() {
                // Nothing for it after all: it stays blocked where it was.
                skip += 1;
                continue;
            }
            let n = {
                let mut inner = self.blocking.inner.lock();
                inner.remove(pick.client);
                inner.waiters.len()
            };
            self.listeners.set_blocked(n);
            drop(tx);
            sess.outbox.push(
                worker,
                Mail {
                    kind: kind::REPLY,
                    client: pick.client,
                    bytes: Arc::from(out.into_vec()),
                },
            );
            sess.fx.events.append(&mut served.fx.events);
            ready.extend(served.fx.ready.drain(..));
        }
    }

    /// End `client`'s block without data (`how`): false when it is not blocked (never was,
    /// or a push already served it and its reply is on the way). Unless dropped, the reply
    /// goes to its worker as `kind::REPLY` mail.
    pub fn unblock(&self, client: u64, how: Unblock) -> bool {
        loop {
            let pick = {
                let inner = self.blocking.inner.lock();
                let Some(w) = inner.waiters.get(&client) else {
                    return false;
                };
                inner.pick(client, w.seq)
            };
            let Some(pick) = pick else {
                return false;
            };
            let argv: SmallVec<[&[u8]; 8]> = pick.argv.iter().map(|a| &**a).collect();
            let tx = self.lock_command(pick.op, &argv);
            let (gone, n) = {
                let mut inner = self.blocking.inner.lock();
                if inner.is(client, pick.seq).is_none() {
                    // Served and blocked again meanwhile: look again.
                    drop(inner);
                    drop(tx);
                    continue;
                }
                let gone = inner.remove(client);
                (gone, inner.waiters.len())
            };
            self.listeners.set_blocked(n);
            drop(tx);
            let Some(w) = gone else {
                return false;
            };
            let mut out = ReplySink::of_mode(w.mode);
            match how {
                Unblock::Drop => return true,
                // Redis's replyToBlockedClientTimedOut: a null array for every key type.
                Unblock::Timeout => out.null_array(),
                Unblock::Error => out.error(&KsError::Unblocked),
            }
            self.mail.post(
                w.worker as usize,
                Mail {
                    kind: kind::REPLY,
                    client,
                    bytes: Arc::from(out.into_vec()),
                },
            );
            return true;
        }
    }

    /// Forget the blocks of worker `worker`'s clients (the worker died and restarts: its
    /// clients are gone).
    pub fn purge_blocked(&self, worker: u32) {
        let n = {
            let mut inner = self.blocking.inner.lock();
            let ids: Vec<u64> = inner
                .waiters
                .iter()
                .filter(|(_, w)| w.worker == worker)
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                inner.remove(id);
            }
            inner.waiters.len()
        };
        self.listeners.set_blocked(n);
    }

    /// Blocked clients and the keys they block on (INFO).
    pub fn blocked_info(&self) -> BlockedInfo {
        let inner = self.blocking.inner.lock();
        BlockedInfo {
            clients: inner.waiters.len() as u64,
            keys: inner.queues.values().map(|d| d.len() as u64).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Op;
    use crate::mailbox::Waker;
    use crate::Config;

    const T0: i64 = 1_700_000_000_000;

    struct NoWake;
    impl Waker for NoWake {
        fn wake(&self) {}
    }

    fn keyspace(workers: usize) -> Keyspace {
        let ks = Keyspace::new(Config::default());
        for w in 0..workers {
            ks.mail.register(w, Arc::new(NoWake));
        }
        ks
    }

    /// A client's session on `worker` that may block.
    fn client(id: u64, worker: u32) -> Session {
        Session {
            client: id,
            worker,
            block: Block::Allow,
            ..Session::new(T0)
        }
    }

    /// Run `line` as client `sess` (RESP2 bytes), serve what it made ready and post the mail,
    /// as the binding's batch does.
    fn run(ks: &Keyspace, sess: &mut Session, line: &str) -> String {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let op = Op::from_name(&line.split(' ').next().unwrap().to_lowercase()).unwrap();
        let mut out = ReplySink::resp(Vec::new(), false);
        sess.blocked = None;
        ks.run(sess, op as u16, &argv, &mut out);
        ks.serve_ready(sess);
        ks.mail.deliver(&mut sess.outbox);
        sess.fx.clear();
        String::from_utf8(out.into_vec()).unwrap()
    }

    /// Every REPLY mail of `worker`: (client, RESP2 text).
    fn replies(ks: &Keyspace, worker: usize) -> Vec<(u64, String)> {
        let mut got = Vec::new();
        ks.mail.take(worker, &mut got);
        got.into_iter()
            .filter(|m| m.kind == kind::REPLY)
            .map(|m| (m.client, String::from_utf8(m.bytes.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn timeouts_parse_as_redis_parses_them() {
        assert_eq!(parse_timeout(b"0"), Ok(0));
        assert_eq!(parse_timeout(b"0.1"), Ok(100));
        assert_eq!(parse_timeout(b"0.0001"), Ok(1));
        assert_eq!(parse_timeout(b"2"), Ok(2000));
        assert_eq!(parse_timeout(b"-1"), Err(KsError::TimeoutNegative));
        assert_eq!(parse_timeout(b"x"), Err(KsError::TimeoutNotFloat));
        assert_eq!(parse_timeout(b"inf"), Err(KsError::TimeoutOutOfRange));
        assert_eq!(parse_timeout(b"1e400"), Err(KsError::TimeoutOutOfRange));
        assert_eq!(parse_timeout(b"-1e400"), Err(KsError::TimeoutNegative));
        assert_eq!(parse_timeout(b"1e-400"), Ok(1));
        assert_eq!(parse_timeout(b"-1e-400"), Ok(0));
        assert_eq!(parse_timeout(b"nan"), Err(KsError::TimeoutNotFloat));
        assert_eq!(parse_timeout(b" 1"), Err(KsError::TimeoutNotFloat));
    }

    #[test]
    fn a_push_serves_a_client_blocked_on_another_worker() {
        let ks = keyspace(2);
        let mut a = client(1, 0);
        let mut b = client(2, 1);
        assert_eq!(run(&ks, &mut a, "blpop k 0"), "");
        assert_eq!(a.blocked, Some(0));
        assert_eq!(
            ks.blocked_info(),
            BlockedInfo {
                clients: 1,
                keys: 1
            }
        );
        assert_eq!(run(&ks, &mut b, "rpush k x y"), ":2\r\n");
        assert_eq!(
            replies(&ks, 0),
            [(1, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n".into())]
        );
        assert_eq!(run(&ks, &mut b, "llen k"), ":1\r\n");
        assert_eq!(ks.blocked_info(), BlockedInfo::default());
        // Nobody is blocked: a push records no ready key any more.
        assert!(!ks.listeners.any_blocked());
    }

    #[test]
    fn clients_blocked_on_one_key_are_served_first_come_first_served() {
        let ks = keyspace(2);
        let mut clients: Vec<Session> = (1..=5).map(|id| client(id, (id % 2) as u32)).collect();
        for c in &mut clients {
            assert_eq!(run(&ks, c, "brpop k 0"), "");
        }
        let mut p = client(99, 0);
        assert_eq!(run(&ks, &mut p, "lpush k a b c"), ":3\r\n");
        let mut got = replies(&ks, 0);
        got.extend(replies(&ks, 1));
        got.sort();
        assert_eq!(
            got,
            [
                (1, "*2\r\n$1\r\nk\r\n$1\r\na\r\n".into()),
                (2, "*2\r\n$1\r\nk\r\n$1\r\nb\r\n".into()),
                (3, "*2\r\n$1\r\nk\r\n$1\r\nc\r\n".into()),
            ]
        );
        assert_eq!(run(&ks, &mut p, "lpush k d"), ":1\r\n");
        assert_eq!(
            replies(&ks, 0),
            [(4, "*2\r\n$1\r\nk\r\n$1\r\nd\r\n".into())]
        );
        assert_eq!(ks.blocked_info().clients, 1);
    }

    #[test]
    fn a_served_blmove_serves_the_clients_blocked_on_its_destination() {
        let ks = keyspace(1);
        let mut a = client(1, 0);
        let mut b = client(2, 0);
        assert_eq!(run(&ks, &mut a, "blmove src dst right left 0"), "");
        assert_eq!(run(&ks, &mut b, "blpop dst 0"), "");
        let mut p = client(3, 0);
        run(&ks, &mut p, "rpush src v");
        assert_eq!(
            replies(&ks, 0),
            [
                (1, "$1\r\nv\r\n".into()),
                (2, "*2\r\n$3\r\ndst\r\n$1\r\nv\r\n".into())
            ]
        );
        assert_eq!(run(&ks, &mut p, "exists src dst"), ":0\r\n");
    }

    #[test]
    fn a_key_of_another_type_serves_nobody_and_keeps_the_order() {
        let ks = keyspace(1);
        let mut z = client(1, 0);
        let mut l = client(2, 0);
        assert_eq!(run(&ks, &mut z, "bzpopmin k 0"), "");
        assert_eq!(run(&ks, &mut l, "blpop k 0"), "");
        let mut p = client(3, 0);
        run(&ks, &mut p, "rpush k a");
        assert_eq!(
            replies(&ks, 0),
            [(2, "*2\r\n$1\r\nk\r\n$1\r\na\r\n".into())]
        );
        run(&ks, &mut p, "zadd k 1 m");
        assert_eq!(
            replies(&ks, 0),
            [(1, "*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n1\r\n".into())]
        );
    }

    #[test]
    fn unblock_replies_once_and_a_later_push_stays_in_the_list() {
        let ks = keyspace(1);
        let mut a = client(1, 0);
        let mut resp3 = ReplySink::resp(Vec::new(), true);
        let argv: Vec<&[u8]> = vec![b"blpop", b"k", b"0"];
        ks.run(&mut a, Op::BLPop as u16, &argv, &mut resp3);
        assert!(resp3.is_empty());
        assert!(ks.unblock(1, Unblock::Timeout));
        assert!(!ks.unblock(1, Unblock::Timeout));
        assert_eq!(replies(&ks, 0), [(1, "_\r\n".into())]);
        run(&ks, &mut a, "blpop k 0");
        assert!(ks.unblock(1, Unblock::Error));
        assert_eq!(
            replies(&ks, 0),
            [(
                1,
                "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".into()
            )]
        );
        run(&ks, &mut a, "blpop k 0");
        assert!(ks.unblock(1, Unblock::Drop));
        let mut p = client(2, 0);
        run(&ks, &mut p, "rpush k x");
        assert!(replies(&ks, 0).is_empty());
        assert_eq!(run(&ks, &mut p, "llen k"), ":1\r\n");
    }

    #[test]
    fn swapdb_serves_the_clients_blocked_on_keys_it_brings() {
        let ks = keyspace(1);
        let mut a = client(1, 0);
        a.db = 1;
        assert_eq!(run(&ks, &mut a, "blpop k 0"), "");
        let mut p = client(2, 0);
        run(&ks, &mut p, "rpush k v");
        assert!(replies(&ks, 0).is_empty(), "db 0's k is not db 1's");
        assert_eq!(run(&ks, &mut p, "swapdb 0 1"), "+OK\r\n");
        assert_eq!(
            replies(&ks, 0),
            [(1, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n".into())]
        );
        assert_eq!(run(&ks, &mut a, "exists k"), ":0\r\n");
    }

    #[test]
    fn a_restarted_workers_blocks_are_purged() {
        let ks = keyspace(2);
        run(&ks, &mut client(1, 0), "blpop k 0");
        run(&ks, &mut client(2, 1), "blpop k j 0");
        ks.purge_blocked(1);
        assert_eq!(
            ks.blocked_info(),
            BlockedInfo {
                clients: 1,
                keys: 1
            }
        );
    }

    #[test]
    fn denied_blocking_answers_as_a_timeout() {
        let ks = keyspace(1);
        let mut s = Session::new(T0);
        assert_eq!(run(&ks, &mut s, "blpop k 1"), "*-1\r\n");
        assert_eq!(run(&ks, &mut s, "blmove k d left left 1"), "$-1\r\n");
        assert_eq!(run(&ks, &mut s, "bzmpop 1 1 k min"), "*-1\r\n");
        assert_eq!(s.blocked, None);
        assert_eq!(ks.blocked_info(), BlockedInfo::default());
    }

    #[test]
    fn many_pushers_serve_many_blocked_clients_exactly_once() {
        let ks = Arc::new(keyspace(4));
        let keys = ["a", "b", "c", "d", "e"];
        for id in 1..=50u64 {
            let key = keys[(id % 5) as usize];
            let mut s = client(id, (id % 4) as u32);
            assert_eq!(run(&ks, &mut s, &format!("blpop {key} 0")), "");
        }
        let threads: Vec<_> = (0..5)
            .map(|t| {
                let ks = ks.clone();
                std::thread::spawn(move || {
                    let mut s = client(100 + t, 0);
                    for i in 0..10 {
                        let key = ["a", "b", "c", "d", "e"][((t + i) % 5) as usize];
                        run(&ks, &mut s, &format!("rpush {key} v{t}-{i}"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut served: Vec<(u64, String)> = (0..4).flat_map(|w| replies(&ks, w)).collect();
        served.sort();
        let ids: Vec<u64> = served.iter().map(|(c, _)| *c).collect();
        assert_eq!(ids, (1..=50).collect::<Vec<_>>());
        let mut values: Vec<&str> = served
            .iter()
            .map(|(_, r)| r.rsplit("\r\n").nth(1).unwrap())
            .collect();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), 50);
        assert_eq!(ks.blocked_info(), BlockedInfo::default());
    }
}
