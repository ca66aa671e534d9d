//! Client-side caching: Redis's `tracking.c`, shared by every worker.
//!
//! Which clients track (`CLIENT TRACKING on`, with their protocol, REDIRECT, BCAST and NOLOOP)
//! is registered here by the server, which also checks the options and answers CLIENT
//! TRACKINGINFO. Default mode remembers, per key, the clients that read it (the keys of
//! read-only commands a tracking client runs: `remember`); a write forgets the key's
//! clients and owes each an invalidation (`invalidate`). BCAST mode keeps prefixes and
//! their clients instead; every written key is checked against them when the unit of work
//! ends, and each prefix's clients get one message with that unit's keys under it (Redis
//! batches per event-loop turn). FLUSHDB and FLUSHALL owe every tracking client a null.
//!
//! Both halves run under the key's segment lock (the tracking table is sharded by segment,
//! so a read that records a key and a write that invalidates it are ordered as the commands
//! are), and only collect what is owed into the unit's `Invalidations`: messages are made
//! and posted when the unit ends (`deliver`), as pushes through the mailboxes. With no
//! tracking client, a write pays one relaxed atomic load.
//!
//! What is not here: the CLIENT TRACKING option checks and replies (the server's), and the
//! delivery of redirected messages, which depends on the state of the redirect client
//! (protocol, Pub/Sub mode, existence) that its worker knows: they go there as
//! `MAIL_REDIRECT` mail.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use smallvec::SmallVec;

use crate::mailbox::{kind, Mail, Outbox};
use crate::reply::ReplySink;

/// Mail kind of an invalidation for a client whose tracking redirects elsewhere, sent to the
/// worker of the redirect client (`Mail::client`). Its bytes are the tracking client's id
/// (8 bytes, little-endian) then the message's value in RESP (the array of keys, or the
/// null of the tracking client's protocol); that worker frames it for the redirect client
/// as Redis's `sendTrackingMessage` does, or reports the redirect broken.
pub const MAIL_REDIRECT: u32 = kind::SERVER + 8;

/// Redis 7.2's default `tracking-table-max-keys`.
pub const DEFAULT_MAX_KEYS: usize = 1_000_000;

/// A client that read a key: its CLIENT ID and its worker.
type Reader = (u64, u32);

/// One shard of the tracking table: key -> the clients that read it.
type Shard = Mutex<HashMap<Box<[u8]>, SmallVec<[Reader; 2]>>>;

/// How one client tracks (what CLIENT TRACKING on set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mode {
    /// The worker that owns the client.
    pub worker: u32,
    /// The client speaks RESP3 (it can take pushes itself).
    pub resp3: bool,
    /// REDIRECT target's CLIENT ID, 0 for none.
    pub redirect: u64,
    /// The worker that owns the redirect target.
    pub redirect_worker: u32,
    /// BCAST mode.
    pub bcast: bool,
    /// NOLOOP: the client's own writes do not invalidate it.
    pub noloop: bool,
}

#[derive(Debug)]
struct Client {
    mode: Mode,
    /// Invalidations could not reach the redirect client (TRACKINGINFO `broken_redirect`).
    broken: bool,
    /// BCAST prefixes, in the order they were added.
    prefixes: Vec<Box<[u8]>>,
}

/// What a unit of work's writes owe tracking clients: collected under the segment locks,
/// made into messages when the unit ends (`Tracking::deliver`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Invalidations {
    /// Keys written, with the clients that had read them.
    keys: Vec<(Vec<u8>, SmallVec<[Reader; 2]>)>,
    /// Keys written while some client tracks in BCAST mode.
    bcast: Vec<Vec<u8>>,
    /// A database was flushed: every tracking client is owed a null.
    flushed: bool,
}

impl Invalidations {
    /// True when nothing is owed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.bcast.is_empty() && !self.flushed
    }

    /// The keys whose readers are owed a message, in the order they were written.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(|(k, _)| k.as_slice())
    }

    /// True when a flush owes every tracking client a null.
    pub fn flushed(&self) -> bool {
        self.flushed
    }

    /// Forget what was collected.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.bcast.clear();
        self.flushed = false;
    }
}

/// Which client reads what, and who tracks how; one per keyspace.
#[derive(Debug)]
pub struct Tracking {
    /// Clients with tracking on: gates every write's check.
    tracking: AtomicUsize,
    /// Prefixes some BCAST client registered: gates the BCAST half.
    prefixed: AtomicUsize,
    /// Keys in the table, and how many it may hold (`tracking-table-max-keys`, 0 for no
    /// limit): past it, remembering a key evicts another, whose readers are invalidated.
    keys: AtomicUsize,
    max_keys: AtomicUsize,
    /// Where the next eviction looks first, so evictions spread over the shards.
    evict_cursor: AtomicUsize,
    clients: RwLock<HashMap<u64, Client>>,
    /// Prefix -> the BCAST clients registered for it (Redis's PrefixTable), in prefix order.
    prefixes: RwLock<BTreeMap<Box<[u8]>, Vec<u64>>>,
    /// Key -> its readers (Redis's TrackingTable), one shard per keyspace segment.
    table: Box<[Shard]>,
}

/// Redis 7.2's INFO numbers of the tracking table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackingStats {
    /// Clients with tracking on (`tracking_clients`).
    pub clients: u64,
    /// Keys in the table (`tracking_total_keys`).
    pub keys: u64,
    /// (key, client) pairs in the table (`tracking_total_items`).
    pub items: u64,
    /// BCAST prefixes (`tracking_total_prefixes`).
    pub prefixes: u64,
}

/// A client's view of its tracking, for CLIENT TRACKINGINFO and CLIENT LIST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTracking {
    /// How it tracks.
    pub mode: Mode,
    /// Its redirect client was gone when a message was due.
    pub broken: bool,
    /// Its BCAST prefixes, in lexicographic order (as Redis's rax lists them).
    pub prefixes: Vec<Vec<u8>>,
}

impl Tracking {
    /// An empty table sharded like a keyspace of `segments` segments.
    pub fn new(segments: usize) -> Tracking {
        Tracking {
            tracking: AtomicUsize::new(0),
            prefixed: AtomicUsize::new(0),
            keys: AtomicUsize::new(0),
            max_keys: AtomicUsize::new(DEFAULT_MAX_KEYS),
            evict_cursor: AtomicUsize::new(0),
            clients: RwLock::new(HashMap::new()),
            prefixes: RwLock::new(BTreeMap::new()),
            table: (0..segments.max(1))
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    /// True when some client tracks: writes then record what they owe.
    #[inline]
    pub fn active(&self) -> bool {
        self.tracking.load(Ordering::Relaxed) != 0
    }

    /// Redis's `enableTracking`: `client` tracks as `mode` from now on. Flags and redirect
    /// are replaced; BCAST prefixes add to those the client had (the empty prefix when it
    /// names none), as in Redis. The caller has checked the options.
    pub fn enable(&self, client: u64, mode: Mode, prefixes: &[&[u8]]) {
        let bcast = mode.bcast;
        let mut clients = self.clients.write();
        let entry = clients.entry(client).or_insert_with(|| Client {
            mode: mode.clone(),
            broken: false,
            prefixes: Vec::new(),
        });
        entry.mode = mode;
        entry.broken = false;
        if bcast {
            let mut table = self.prefixes.write();
            let empty: [&[u8]; 1] = [b""];
            let wanted = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            for p in wanted {
                let ids = table.entry(Box::from(*p)).or_default();
                if !ids.contains(&client) {
                    ids.push(client);
                    entry.prefixes.push(Box::from(*p));
                }
            }
            self.prefixed.store(table.len(), Ordering::Relaxed);
        }
        self.tracking.store(clients.len(), Ordering::Relaxed);
    }

    /// Redis's `disableTracking` (CLIENT TRACKING off, or the client closed). What it read
    /// stays in the table until written, as in Redis, but nothing is sent for it.
    pub fn disable(&self, client: u64) {
        let mut clients = self.clients.write();
        let Some(gone) = clients.remove(&client) else {
            return;
        };
        if !gone.prefixes.is_empty() {
            let mut table = self.prefixes.write();
            for p in &gone.prefixes {
                if let Some(ids) = table.get_mut(p) {
                    ids.retain(|&id| id != client);
                    if ids.is_empty() {
                        table.remove(p);
                    }
                }
            }
            self.prefixed.store(table.len(), Ordering::Relaxed);
        }
        self.tracking.store(clients.len(), Ordering::Relaxed);
        if clients.is_empty() {
            // No one left to invalidate: the table is only memory now.
            drop(clients);
            self.clear_table();
        }
    }

    /// Worker `worker` (re)starts: the clients of the worker it replaces are gone, so they
    /// track nothing any more (as if each had closed).
    pub fn forget_worker(&self, worker: u32) {
        let gone: Vec<u64> = self
            .clients
            .read()
            .iter()
            .filter(|(_, c)| c.mode.worker == worker)
            .map(|(&id, _)| id)
            .collect();
        for id in gone {
            self.disable(id);
        }
    }

    /// The client's protocol changed (HELLO): messages take the new one.
    pub fn set_resp3(&self, client: u64, resp3: bool) {
        if let Some(c) = self.clients.write().get_mut(&client) {
            c.mode.resp3 = resp3;
        }
    }

    /// How `client` tracks, None when it does not.
    pub fn info(&self, client: u64) -> Option<ClientTracking> {
        let clients = self.clients.read();
        let c = clients.get(&client)?;
        let mut prefixes: Vec<Vec<u8>> = c.prefixes.iter().map(|p| p.to_vec()).collect();
        prefixes.sort();
        Some(ClientTracking {
            mode: c.mode.clone(),
            broken: c.broken,
            prefixes,
        })
    }

    /// The redirect client of `client` was gone when a message for it was due (its worker
    /// found no such client): flag it (`CLIENT_TRACKING_BROKEN_REDIR`) and, when `client`
    /// speaks RESP3, push it `tracking-redir-broken` as Redis does.
    pub fn redirect_broken(&self, client: u64, out: &mut Outbox) {
        let mut clients = self.clients.write();
        let Some(c) = clients.get_mut(&client) else {
            return;
        };
        if c.mode.redirect == 0 {
            return;
        }
        c.broken = true;
        if c.mode.resp3 {
            let mut s = ReplySink::resp(Vec::with_capacity(48), true);
            s.push(2);
            s.bulk(b"tracking-redir-broken");
            s.int(c.mode.redirect as i64);
            out.push(c.mode.worker, Mail::push(client, Arc::from(s.into_vec())));
        }
    }

    /// Redis's INFO numbers.
    pub fn stats(&self) -> TrackingStats {
        let mut s = TrackingStats {
            clients: self.tracking.load(Ordering::Relaxed) as u64,
            prefixes: self.prefixed.load(Ordering::Relaxed) as u64,
            ..TrackingStats::default()
        };
        for shard in self.table.iter() {
            let t = shard.lock();
            s.keys += t.len() as u64;
            s.items += t.values().map(|r| r.len() as u64).sum::<u64>();
        }
        s
    }

    /// `tracking-table-max-keys` (0: no limit).
    pub fn set_max_keys(&self, n: usize) {
        self.max_keys.store(n, Ordering::Relaxed);
    }

    fn clear_table(&self) {
        for shard in self.table.iter() {
            let mut t = shard.lock();
            self.keys.fetch_sub(t.len(), Ordering::Relaxed);
            t.clear();
        }
    }

    /// `trackingRememberKeys`: `reader` read `key`, which lives in segment `shard` (the caller
    /// holds that segment's lock). A key that takes the table past `tracking-table-max-keys`
    /// evicts another (`trackingLimitUsedSlots`), whose readers are owed an invalidation.
    pub(crate) fn remember(
        &self,
        shard: usize,
        key: &[u8],
        reader: Reader,
        owed: &mut Invalidations,
    ) {
        let Some(cell) = self.table.get(shard) else {
            return;
        };
        {
            let mut t = cell.lock();
            match t.get_mut(key) {
                Some(readers) => {
                    if !readers.iter().any(|r| r.0 == reader.0) {
                        readers.push(reader);
                    }
                    return;
                }
                None => {
                    t.insert(Box::from(key), smallvec::smallvec![reader]);
                }
            }
        }
        let keys = self.keys.fetch_add(1, Ordering::Relaxed) + 1;
        let max = self.max_keys.load(Ordering::Relaxed);
        if max != 0 && keys > max {
            self.evict_one(key, owed);
        }
    }

    /// Forget one key other than `keep` (Redis picks one at random; here, the first of a
    /// shard that is not busy, shards taken in turn) and owe its readers an invalidation.
    /// Safe without the evicted key's segment lock: a reader racing with it either is
    /// invalidated after its read or stays remembered, never left with a stale value.
    #[cold]
    fn evict_one(&self, keep: &[u8], owed: &mut Invalidations) {
        let n = self.table.len();
        let start = self.evict_cursor.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let Some(cell) = self.table.get((start + i) % n) else {
                continue;
            };
            let Some(mut t) = cell.try_lock() else {
                continue;
            };
            let Some(victim) = t.keys().find(|k| &***k != keep).cloned() else {
                continue;
            };
            if let Some(readers) = t.remove(&victim) {
                self.keys.fetch_sub(1, Ordering::Relaxed);
                owed.keys.push((victim.into_vec(), readers));
            }
            return;
        }
    }

    /// `trackingInvalidateKey`: `key` (of segment `shard`, whose lock the caller holds) was
    /// written; its readers are forgotten and owed a message, and BCAST clients may be.
    #[inline]
    pub(crate) fn invalidate(&self, shard: usize, key: &[u8], owed: &mut Invalidations) {
        if !self.active() {
            return;
        }
        self.invalidate_slow(shard, key, owed);
    }

    #[cold]
    fn invalidate_slow(&self, shard: usize, key: &[u8], owed: &mut Invalidations) {
        if self.prefixed.load(Ordering::Relaxed) != 0 {
            owed.bcast.push(key.to_vec());
        }
        let readers = self.table.get(shard).and_then(|s| s.lock().remove(key));
        if let Some(readers) = readers {
            self.keys.fetch_sub(1, Ordering::Relaxed);
            owed.keys.push((key.to_vec(), readers));
        }
    }

    /// `trackingInvalidateKeysOnFlush`: every key is gone, so the table is emptied and every
    /// tracking client is owed a null (FLUSHDB too: the table does not know databases).
    pub(crate) fn flushed(&self, owed: &mut Invalidations) {
        if !self.active() {
            return;
        }
        self.clear_table();
        owed.flushed = true;
    }

    /// Turn what a unit owes into messages: pushes to RESP3 clients (into `own`, the writer's
    /// reply stream, for the writer itself when given, so they follow its command's reply as
    /// in Redis 7.2; else as mail), redirected messages as `MAIL_REDIRECT` mail to the
    /// redirect client's worker. `writer` is the client whose unit it was (0 for none, e.g.
    /// the active expiry cycle). Call with no segment lock held.
    pub fn deliver(
        &self,
        owed: &mut Invalidations,
        writer: u64,
        mut own: Option<&mut ReplySink>,
        out: &mut Outbox,
    ) {
        if owed.is_empty() {
            return;
        }
        let clients = self.clients.read();
        let mut pushes = Pushes::default();
        for (key, readers) in owed.keys.drain(..) {
            for (id, _) in readers {
                let Some(c) = clients.get(&id) else {
                    continue;
                };
                // A client that switched to BCAST since it read the key gets nothing for it.
                if c.mode.bcast || (c.mode.noloop && id == writer) {
                    continue;
                }
                let own = if id == writer {
                    own.as_deref_mut()
                } else {
                    None
                };
                send(c, id, Value::Keys(&[&key]), own, &mut pushes, out);
            }
        }
        if owed.flushed {
            owed.flushed = false;
            // Redis walks its client list, oldest first: ids ascend the same way.
            let mut ids: Vec<u64> = clients.keys().copied().collect();
            ids.sort_unstable();
            for id in ids {
                if let Some(c) = clients.get(&id) {
                    let own = if id == writer {
                        own.as_deref_mut()
                    } else {
                        None
                    };
                    send(c, id, Value::Null, own, &mut pushes, out);
                }
            }
        }
        if !owed.bcast.is_empty() {
            let mut keys = std::mem::take(&mut owed.bcast);
            // Each prefix's keys go out sorted and once each, as Redis's rax of them does.
            keys.sort_unstable();
            keys.dedup();
            let prefixes = self.prefixes.read();
            let mut under: Vec<&[u8]> = Vec::new();
            for (prefix, ids) in prefixes.iter() {
                under.clear();
                under.extend(
                    keys.iter()
                        .filter(|k| k.starts_with(prefix))
                        .map(Vec::as_slice),
                );
                if under.is_empty() {
                    continue;
                }
                for &id in ids {
                    let Some(c) = clients.get(&id) else {
                        continue;
                    };
                    // Every key of a unit has one writer, so NOLOOP leaves out all of them.
                    if c.mode.noloop && id == writer {
                        continue;
                    }
                    send(c, id, Value::Keys(&under), None, &mut pushes, out);
                }
            }
            keys.clear();
            owed.bcast = keys;
        }
        pushes.post(out);
    }
}

/// The pushes a unit owes, one buffer per client: a client that read a hundred keys an
/// MSET writes gets one mail of a hundred pushes, not a hundred mails. Measured (20,000
/// keys read by a RESP3 client on one worker, MSET 100 at a time from the other, 2 threads,
/// io_uring, a loaded 2-core machine): 113,000-170,000 invalidations/s with a mail per
/// push, 229,000-473,000/s with this, redis-server 348,000-469,000/s.
#[derive(Default)]
struct Pushes(Vec<(u64, u32, ReplySink)>);

impl Pushes {
    /// The buffer of client `id` of worker `worker`.
    fn to(&mut self, id: u64, worker: u32) -> &mut ReplySink {
        let at = match self.0.iter().position(|(c, _, _)| *c == id) {
            Some(at) => at,
            None => {
                self.0
                    .push((id, worker, ReplySink::resp(Vec::with_capacity(64), true)));
                self.0.len() - 1
            }
        };
        &mut self.0[at].2
    }

    fn post(self, out: &mut Outbox) {
        for (id, worker, s) in self.0 {
            out.push(worker, Mail::push(id, Arc::from(s.into_vec())));
        }
    }
}

/// The value part of an invalidation message.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// An array of keys.
    Keys(&'a [&'a [u8]]),
    /// Every key (a flush): the null of the tracking client's protocol.
    Null,
}

fn write_value(s: &mut ReplySink, v: Value<'_>) {
    match v {
        Value::Keys(keys) => {
            s.array(keys.len());
            for k in keys {
                s.bulk(k);
            }
        }
        Value::Null => s.null(),
    }
}

/// Redis's `sendTrackingMessage` for the client `c` (id `id`): a RESP3 push to the client
/// itself, or, when it redirects, mail to the redirect client's worker. A RESP2 client that
/// does not redirect gets nothing (it has no way to take a push).
fn send(
    c: &Client,
    id: u64,
    v: Value<'_>,
    own: Option<&mut ReplySink>,
    pushes: &mut Pushes,
    out: &mut Outbox,
) {
    if c.mode.redirect != 0 {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(&id.to_le_bytes());
        let mut s = ReplySink::resp(b, c.mode.resp3);
        write_value(&mut s, v);
        out.push(
            c.mode.redirect_worker,
            Mail {
                kind: MAIL_REDIRECT,
                client: c.mode.redirect,
                bytes: Arc::from(s.into_vec()),
            },
        );
        return;
    }
    if !c.mode.resp3 {
        return;
    }
    let sink = match own {
        Some(sink) => sink,
        None => pushes.to(id, c.mode.worker),
    };
    sink.push(2);
    sink.bulk(b"invalidate");
    write_value(sink, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::{Mailboxes, Waker};

    struct Nop;
    impl Waker for Nop {
        fn wake(&self) {}
    }

    fn remember(t: &Tracking, shard: usize, key: &[u8], reader: Reader) {
        let mut owed = Invalidations::default();
        t.remember(shard, key, reader, &mut owed);
        assert!(owed.is_empty());
    }

    fn mode(worker: u32) -> Mode {
        Mode {
            worker,
            resp3: true,
            redirect: 0,
            redirect_worker: 0,
            bcast: false,
            noloop: false,
        }
    }

    /// Deliver `owed` as `writer` and return each worker's mail as (kind, client, bytes).
    fn mail_of(t: &Tracking, owed: &mut Invalidations, writer: u64) -> Vec<(u32, u64, String)> {
        let mb = Mailboxes::default();
        mb.register(0, Arc::new(Nop));
        mb.register(1, Arc::new(Nop));
        let mut out = Outbox::default();
        t.deliver(owed, writer, None, &mut out);
        mb.deliver(&mut out);
        let mut got = Vec::new();
        mb.take(0, &mut got);
        mb.take(1, &mut got);
        got.into_iter()
            .map(|m| {
                (
                    m.kind,
                    m.client,
                    String::from_utf8_lossy(&m.bytes).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_write_invalidates_each_reader_once_then_forgets_them() {
        let t = Tracking::new(4);
        t.enable(7, mode(1), &[]);
        t.enable(8, mode(0), &[]);
        remember(&t, 2, b"k", (7, 1));
        remember(&t, 2, b"k", (7, 1));
        remember(&t, 2, b"k", (8, 0));
        assert_eq!(t.stats().keys, 1);
        assert_eq!(t.stats().items, 2);
        let mut owed = Invalidations::default();
        t.invalidate(2, b"k", &mut owed);
        let mail = mail_of(&t, &mut owed, 0);
        let push = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n".to_string();
        assert_eq!(mail, vec![(1, 8, push.clone()), (1, 7, push)]);
        assert_eq!(t.stats().keys, 0);
        // Forgotten: a second write owes nothing.
        t.invalidate(2, b"k", &mut owed);
        assert!(owed.is_empty());
    }

    #[test]
    fn a_clients_pushes_of_one_unit_go_as_one_mail_in_order() {
        let t = Tracking::new(1);
        t.enable(4, mode(0), &[]);
        remember(&t, 0, b"a", (4, 0));
        remember(&t, 0, b"b", (4, 0));
        let mut owed = Invalidations::default();
        t.invalidate(0, b"b", &mut owed);
        t.invalidate(0, b"a", &mut owed);
        let push = |k: &str| format!(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\n{k}\r\n");
        assert_eq!(
            mail_of(&t, &mut owed, 0),
            vec![(1, 4, format!("{}{}", push("b"), push("a")))]
        );
    }

    #[test]
    fn nothing_is_recorded_while_no_client_tracks() {
        let t = Tracking::new(1);
        let mut owed = Invalidations::default();
        t.invalidate(0, b"k", &mut owed);
        t.flushed(&mut owed);
        assert!(owed.is_empty());
        t.enable(1, mode(0), &[]);
        remember(&t, 0, b"k", (1, 0));
        t.disable(1);
        assert!(!t.active());
        assert_eq!(t.stats(), TrackingStats::default());
    }

    #[test]
    fn noloop_bcast_resp2_and_gone_clients_are_left_out() {
        let t = Tracking::new(1);
        t.enable(
            1,
            Mode {
                noloop: true,
                ..mode(0)
            },
            &[],
        );
        t.enable(
            2,
            Mode {
                resp3: false,
                ..mode(0)
            },
            &[],
        );
        for id in [1, 2, 3] {
            remember(&t, 0, b"k", (id, 0));
        }
        let mut owed = Invalidations::default();
        t.invalidate(0, b"k", &mut owed);
        // 1 wrote it (NOLOOP), 2 speaks RESP2 with no redirect, 3 does not track.
        assert!(mail_of(&t, &mut owed, 1).is_empty());
    }

    #[test]
    fn the_writer_gets_its_own_invalidation_in_its_reply_stream() {
        let t = Tracking::new(1);
        t.enable(5, mode(0), &[]);
        remember(&t, 0, b"a", (5, 0));
        let mut owed = Invalidations::default();
        t.invalidate(0, b"a", &mut owed);
        let mut sink = ReplySink::resp(b"+OK\r\n".to_vec(), true);
        let mut out = Outbox::default();
        t.deliver(&mut owed, 5, Some(&mut sink), &mut out);
        assert!(out.is_empty());
        assert_eq!(
            sink.as_bytes(),
            b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"
        );
    }

    #[test]
    fn a_flush_owes_every_tracking_client_the_null_of_its_protocol() {
        let t = Tracking::new(2);
        t.enable(3, mode(1), &[]);
        t.enable(
            4,
            Mode {
                resp3: false,
                redirect: 9,
                redirect_worker: 0,
                ..mode(1)
            },
            &[],
        );
        remember(&t, 1, b"x", (3, 1));
        let mut owed = Invalidations::default();
        t.flushed(&mut owed);
        assert_eq!(t.stats().keys, 0);
        let mail = mail_of(&t, &mut owed, 0);
        let mut redirected = 4u64.to_le_bytes().to_vec();
        redirected.extend_from_slice(b"$-1\r\n");
        assert_eq!(
            mail,
            vec![
                (
                    MAIL_REDIRECT,
                    9,
                    String::from_utf8_lossy(&redirected).into_owned()
                ),
                (1, 3, ">2\r\n$10\r\ninvalidate\r\n_\r\n".to_string()),
            ]
        );
    }

    #[test]
    fn bcast_sends_each_prefix_its_keys_sorted_once() {
        let t = Tracking::new(1);
        t.enable(
            1,
            Mode {
                bcast: true,
                ..mode(0)
            },
            &[b"user:", b"job:"],
        );
        t.enable(
            2,
            Mode {
                bcast: true,
                ..mode(1)
            },
            &[],
        );
        assert_eq!(t.stats().prefixes, 3);
        let mut owed = Invalidations::default();
        for k in [&b"user:2"[..], b"other", b"user:1", b"user:2"] {
            t.invalidate(0, k, &mut owed);
        }
        let mail = mail_of(&t, &mut owed, 0);
        assert_eq!(
            mail,
            vec![
                (
                    1,
                    1,
                    ">2\r\n$10\r\ninvalidate\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n"
                        .to_string()
                ),
                (
                    1,
                    2,
                    ">2\r\n$10\r\ninvalidate\r\n*3\r\n$5\r\nother\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n"
                        .to_string()
                ),
            ]
        );
        let info = t.info(1).unwrap();
        assert_eq!(info.prefixes, vec![b"job:".to_vec(), b"user:".to_vec()]);
        // A restarted worker's predecessor took its clients with it.
        t.forget_worker(0);
        assert!(t.info(1).is_none());
        assert!(t.info(2).is_some());
        t.disable(2);
        assert_eq!(t.stats().prefixes, 0);
        assert_eq!(t.stats().clients, 0);
    }

    #[test]
    fn past_max_keys_remembering_a_key_evicts_another_and_invalidates_it() {
        let t = Tracking::new(4);
        t.enable(1, mode(0), &[]);
        t.set_max_keys(2);
        let mut owed = Invalidations::default();
        t.remember(0, b"a", (1, 0), &mut owed);
        t.remember(1, b"b", (1, 0), &mut owed);
        assert!(owed.is_empty());
        t.remember(1, b"c", (1, 0), &mut owed);
        let evicted: Vec<&[u8]> = owed.keys().collect();
        assert_eq!(evicted.len(), 1);
        assert_ne!(evicted[0], b"c", "the key just read stays");
        assert_eq!(t.stats().keys, 2);
        // Its reader hears of it as of a write.
        assert_eq!(mail_of(&t, &mut owed, 0).len(), 1);
        t.set_max_keys(0);
        t.remember(2, b"d", (1, 0), &mut owed);
        t.remember(3, b"e", (1, 0), &mut owed);
        assert!(owed.is_empty());
        assert_eq!(t.stats().keys, 4);
        let mut gone = Invalidations::default();
        t.flushed(&mut gone);
        assert_eq!(t.stats().keys, 0);
    }

    #[test]
    fn a_broken_redirect_is_flagged_and_told_to_a_resp3_client() {
        let t = Tracking::new(1);
        t.enable(
            6,
            Mode {
                redirect: 99,
                ..mode(1)
            },
            &[],
        );
        let mut out = Outbox::default();
        t.redirect_broken(6, &mut out);
        assert!(t.info(6).unwrap().broken);
        let mb = Mailboxes::default();
        mb.register(1, Arc::new(Nop));
        mb.deliver(&mut out);
        let mut got = Vec::new();
        mb.take(1, &mut got);
        assert_eq!(
            &*got[0].bytes,
            b">2\r\n$21\r\ntracking-redir-broken\r\n:99\r\n"
        );
        // Enabling again clears the flag, as Redis's enableTracking does.
        t.enable(6, mode(1), &[]);
        assert!(!t.info(6).unwrap().broken);
    }
}
