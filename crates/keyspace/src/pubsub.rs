//! The pub/sub registry, one per process and shared by every worker (Redis's
//! `server.pubsub_channels`, `pubsub_patterns` and `pubsubshard_channels`, plus each client's
//! own sets): who listens to which channel, pattern or shard channel, and on which worker.
//!
//! Publishing (PUBLISH, SPUBLISH, keyspace notifications) builds each message once per
//! protocol, shares the bytes between receivers, and adds one `Mail::push` per receiver to the
//! caller's `Outbox`; the unit's end posts them, one wake per worker (mailbox.rs). Replies to
//! (P|S)SUBSCRIBE and their counts are the server's job: this module only says what changed.
//! Subscribers are kept in subscription order, so a message reaches them in Redis's order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hashbrown::HashMap;
use parking_lot::RwLock;

use crate::glob;
use crate::mailbox::{Mail, Outbox};
use crate::notify::{self, KeyEvent};
use crate::number::IntBuf;

/// Which of a client's three subscription sets a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE channels.
    Channel = 0,
    /// PSUBSCRIBE patterns.
    Pattern = 1,
    /// SSUBSCRIBE shard channels.
    Shard = 2,
}

impl Kind {
    /// The kind numbered `n` (0 channel, 1 pattern, 2 shard), as the binding passes it.
    pub fn from_u32(n: u32) -> Option<Kind> {
        match n {
            0 => Some(Kind::Channel),
            1 => Some(Kind::Pattern),
            2 => Some(Kind::Shard),
            _ => None,
        }
    }
}

type Hasher = foldhash::fast::RandomState;
type Map<V> = HashMap<Box<[u8]>, V, Hasher>;

/// One subscription of one client: where its messages go and in which protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sub {
    client: u64,
    worker: u32,
    resp3: bool,
}

/// A client's own subscriptions; each name maps to when it was added, so "unsubscribe from
/// everything" goes in subscription order.
#[derive(Debug, Default)]
struct Client {
    worker: u32,
    resp3: bool,
    sets: [Map<u64>; 3],
}

#[derive(Debug, Default)]
struct Table {
    /// Channel and shard channel -> subscribers in subscription order (by `Kind as usize`;
    /// the pattern slot is unused: patterns keep their order in `patterns`).
    named: [Map<Vec<Sub>>; 3],
    /// Pattern -> subscribers, patterns in the order they were first subscribed.
    patterns: Vec<(Box<[u8]>, Vec<Sub>)>,
    clients: HashMap<u64, Client, Hasher>,
    seq: u64,
}

/// Every subscription of every client (see the module doc); `Sync`, part of the keyspace.
#[derive(Debug, Default)]
pub struct Registry {
    table: RwLock<Table>,
    /// Channels plus patterns anyone listens to: PUBLISH and notifications skip the lock
    /// while it is 0.
    live: AtomicUsize,
}

/// The message headers, as Redis's shared objects (`*3\r\n$7\r\nmessage\r\n`...).
const RESP2_MESSAGE: &[u8] = b"*3\r\n$7\r\nmessage\r\n";
const RESP3_MESSAGE: &[u8] = b">3\r\n$7\r\nmessage\r\n";
const RESP2_SMESSAGE: &[u8] = b"*3\r\n$8\r\nsmessage\r\n";
const RESP3_SMESSAGE: &[u8] = b">3\r\n$8\r\nsmessage\r\n";
const RESP2_PMESSAGE: &[u8] = b"*4\r\n$8\r\npmessage\r\n";
const RESP3_PMESSAGE: &[u8] = b">4\r\n$8\r\npmessage\r\n";

fn bulk(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(IntBuf::new().format_u64(s.len() as u64));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// A message frame: `head`, then each part as a bulk string.
fn frame(head: &[u8], parts: &[&[u8]]) -> Arc<[u8]> {
    let mut v = Vec::with_capacity(head.len() + parts.iter().map(|p| p.len() + 16).sum::<usize>());
    v.extend_from_slice(head);
    for p in parts {
        bulk(&mut v, p);
    }
    v.into()
}

/// Built on first use, once per protocol, then shared by every receiver.
struct Lazy2<'a> {
    heads: (&'static [u8], &'static [u8]),
    parts: &'a [&'a [u8]],
    built: [Option<Arc<[u8]>>; 2],
}

impl<'a> Lazy2<'a> {
    fn new(heads: (&'static [u8], &'static [u8]), parts: &'a [&'a [u8]]) -> Lazy2<'a> {
        Lazy2 {
            heads,
            parts,
            built: [None, None],
        }
    }

    fn get(&mut self, resp3: bool) -> Arc<[u8]> {
        let head = if resp3 { self.heads.1 } else { self.heads.0 };
        self.built[usize::from(resp3)]
            .get_or_insert_with(|| frame(head, self.parts))
            .clone()
    }
}

impl Registry {
    /// Subscribe `client` (of `worker`, speaking RESP3 when `resp3`) to `name`; false when
    /// it already was (`pubsubSubscribeChannel`/`pubsubSubscribePattern`).
    pub fn subscribe(
        &self,
        client: u64,
        worker: u32,
        resp3: bool,
        kind: Kind,
        name: &[u8],
    ) -> bool {
        let mut t = self.table.write();
        let t = &mut *t;
        t.seq += 1;
        let seq = t.seq;
        let c = t.clients.entry(client).or_insert_with(|| Client {
            worker,
            resp3,
            ..Client::default()
        });
        let set = &mut c.sets[kind as usize];
        if set.contains_key(name) {
            return false;
        }
        set.insert(name.into(), seq);
        let sub = Sub {
            client,
            worker: c.worker,
            resp3: c.resp3,
        };
        match kind {
            Kind::Pattern => match t.patterns.iter_mut().find(|(p, _)| &**p == name) {
                Some((_, subs)) => subs.push(sub),
                None => {
                    t.patterns.push((name.into(), vec![sub]));
                    self.live.fetch_add(1, Ordering::Relaxed);
                }
            },
            Kind::Channel | Kind::Shard => {
                let subs = t.named[kind as usize].entry(name.into()).or_default();
                if subs.is_empty() && kind == Kind::Channel {
                    self.live.fetch_add(1, Ordering::Relaxed);
                }
                subs.push(sub);
            }
        }
        true
    }

    /// Unsubscribe `client` from `name`; false when it was not subscribed.
    pub fn unsubscribe(&self, client: u64, kind: Kind, name: &[u8]) -> bool {
        let mut t = self.table.write();
        let t = &mut *t;
        let Some(c) = t.clients.get_mut(&client) else {
            return false;
        };
        if c.sets[kind as usize].remove(name).is_none() {
            return false;
        }
        if c.sets.iter().all(|s| s.is_empty()) {
            t.clients.remove(&client);
        }
        self.remove_sub(t, client, kind, name);
        true
    }

    fn remove_sub(&self, t: &mut Table, client: u64, kind: Kind, name: &[u8]) {
        match kind {
            Kind::Pattern => {
                if let Some(i) = t.patterns.iter().position(|(p, _)| &**p == name) {
                    let subs = &mut t.patterns[i].1;
                    subs.retain(|s| s.client != client);
                    if subs.is_empty() {
                        t.patterns.remove(i);
                        self.live.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            Kind::Channel | Kind::Shard => {
                let named = &mut t.named[kind as usize];
                if let Some(subs) = named.get_mut(name) {
                    subs.retain(|s| s.client != client);
                    if subs.is_empty() {
                        named.remove(name);
                        if kind == Kind::Channel {
                            self.live.fetch_sub(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }

    /// Unsubscribe `client` from every name of `kind`; returns them in subscription order.
    pub fn unsubscribe_all(&self, client: u64, kind: Kind) -> Vec<Box<[u8]>> {
        let mut t = self.table.write();
        let t = &mut *t;
        let Some(c) = t.clients.get_mut(&client) else {
            return Vec::new();
        };
        let mut names: Vec<(u64, Box<[u8]>)> = c.sets[kind as usize]
            .drain()
            .map(|(name, seq)| (seq, name))
            .collect();
        if c.sets.iter().all(|s| s.is_empty()) {
            t.clients.remove(&client);
        }
        names.sort_unstable_by_key(|(seq, _)| *seq);
        for (_, name) in &names {
            self.remove_sub(t, client, kind, name);
        }
        names.into_iter().map(|(_, n)| n).collect()
    }

    /// Forget every subscription of `client` (it disconnected, or ran RESET).
    pub fn drop_client(&self, client: u64) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            self.unsubscribe_all(client, kind);
        }
    }

    /// Forget every subscription of the clients of `worker` (it restarted: they are gone).
    pub fn drop_worker(&self, worker: u32) {
        let gone: Vec<u64> = {
            let t = self.table.read();
            t.clients
                .iter()
                .filter(|(_, c)| c.worker == worker)
                .map(|(id, _)| *id)
                .collect()
        };
        for id in gone {
            self.drop_client(id);
        }
    }

    /// The client switched protocol (HELLO): its messages are framed for `resp3` from now on.
    pub fn set_resp3(&self, client: u64, resp3: bool) {
        let mut t = self.table.write();
        let t = &mut *t;
        let Some(c) = t.clients.get_mut(&client) else {
            return;
        };
        if c.resp3 == resp3 {
            return;
        }
        c.resp3 = resp3;
        let fix = |subs: &mut Vec<Sub>| {
            for s in subs.iter_mut().filter(|s| s.client == client) {
                s.resp3 = resp3;
            }
        };
        for kind in [Kind::Channel, Kind::Shard] {
            for name in c.sets[kind as usize].keys() {
                if let Some(subs) = t.named[kind as usize].get_mut(name) {
                    fix(subs);
                }
            }
        }
        for name in c.sets[Kind::Pattern as usize].keys() {
            if let Some((_, subs)) = t.patterns.iter_mut().find(|(p, _)| p == name) {
                fix(subs);
            }
        }
    }

    /// PUBLISH (`shard` false) or SPUBLISH (`shard` true) `message` on `channel`: one push
    /// per receiver into `out`; returns how many receivers there were, on every worker.
    pub fn publish(&self, channel: &[u8], message: &[u8], shard: bool, out: &mut Outbox) -> usize {
        if !shard && self.live.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let t = self.table.read();
        let mut receivers = 0;
        let parts = [channel, message];
        let heads = if shard {
            (RESP2_SMESSAGE, RESP3_SMESSAGE)
        } else {
            (RESP2_MESSAGE, RESP3_MESSAGE)
        };
        let mut msg = Lazy2::new(heads, &parts);
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        if let Some(subs) = t.named[kind as usize].get(channel) {
            for s in subs {
                out.push(s.worker, Mail::push(s.client, msg.get(s.resp3)));
                receivers += 1;
            }
        }
        if shard {
            // Shard pub/sub ignores patterns, as in Redis.
            return receivers;
        }
        for (pattern, subs) in &t.patterns {
            if !glob::matches(pattern, channel, false) {
                continue;
            }
            let parts = [&pattern[..], channel, message];
            let mut pmsg = Lazy2::new((RESP2_PMESSAGE, RESP3_PMESSAGE), &parts);
            for s in subs {
                out.push(s.worker, Mail::push(s.client, pmsg.get(s.resp3)));
                receivers += 1;
            }
        }
        receivers
    }

    /// Publish keyspace events as Redis's `notifyKeyspaceEvent` does, by the K and E bits of
    /// `flags` (`notify-keyspace-events`): `event` on `__keyspace@<db>__:<key>`, then `key`
    /// on `__keyevent@<db>__:<event>`.
    pub fn notify(&self, flags: u32, events: &[KeyEvent], out: &mut Outbox) {
        if events.is_empty() || self.live.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut chan = Vec::with_capacity(64);
        let mut db = IntBuf::new();
        for e in events {
            let name = e.event.name.as_bytes();
            if flags & notify::KEYSPACE != 0 {
                chan.clear();
                chan.extend_from_slice(b"__keyspace@");
                chan.extend_from_slice(db.format_u64(u64::from(e.db)));
                chan.extend_from_slice(b"__:");
                chan.extend_from_slice(&e.key);
                self.publish(&chan, name, false, out);
            }
            if flags & notify::KEYEVENT != 0 {
                chan.clear();
                chan.extend_from_slice(b"__keyevent@");
                chan.extend_from_slice(db.format_u64(u64::from(e.db)));
                chan.extend_from_slice(b"__:");
                chan.extend_from_slice(name);
                self.publish(&chan, &e.key, false, out);
            }
        }
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: the active names matching `pattern` (all when None).
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        let t = self.table.read();
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        t.named[kind as usize]
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: subscribers of `channel` (patterns not counted).
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        let kind = if shard { Kind::Shard } else { Kind::Channel };
        self.table.read().named[kind as usize]
            .get(channel)
            .map_or(0, Vec::len)
    }

    /// PUBSUB NUMPAT: patterns anyone is subscribed to.
    pub fn numpat(&self) -> usize {
        self.table.read().patterns.len()
    }

    /// INFO's pubsub_channels, pubsub_patterns and pubsubshard_channels.
    pub fn counts(&self) -> [usize; 3] {
        let t = self.table.read();
        [
            t.named[Kind::Channel as usize].len(),
            t.patterns.len(),
            t.named[Kind::Shard as usize].len(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::Mailboxes;
    use crate::notify::{Event, LIST};

    /// Everything `out` holds, per worker: (client, bytes as text).
    fn taken(out: &mut Outbox, workers: usize) -> Vec<Vec<(u64, String)>> {
        let mb = Mailboxes::default();
        struct Nop;
        impl crate::mailbox::Waker for Nop {
            fn wake(&self) {}
        }
        for w in 0..workers {
            mb.register(w, Arc::new(Nop));
        }
        mb.deliver(out);
        (0..workers)
            .map(|w| {
                let mut v = Vec::new();
                mb.take(w, &mut v);
                v.iter()
                    .map(|m| (m.client, String::from_utf8_lossy(&m.bytes).into_owned()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn publish_reaches_channel_and_pattern_subscribers_on_every_worker() {
        let r = Registry::default();
        assert!(r.subscribe(1, 0, false, Kind::Channel, b"news"));
        assert!(!r.subscribe(1, 0, false, Kind::Channel, b"news"));
        assert!(r.subscribe(2, 1, true, Kind::Channel, b"news"));
        assert!(r.subscribe(3, 1, false, Kind::Pattern, b"n*"));
        let mut out = Outbox::default();
        assert_eq!(r.publish(b"news", b"hi", false, &mut out), 3);
        let got = taken(&mut out, 2);
        assert_eq!(
            got[0],
            [(
                1,
                "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n".into()
            )]
        );
        assert_eq!(
            got[1],
            [
                (
                    2,
                    ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n".into()
                ),
                (
                    3,
                    "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n".into()
                )
            ]
        );
        assert_eq!(r.publish(b"other", b"x", false, &mut out), 0);
        // Shard channels are apart from channels, and ignore patterns.
        assert_eq!(r.publish(b"news", b"x", true, &mut out), 0);
        assert!(r.subscribe(1, 0, false, Kind::Shard, b"news"));
        assert_eq!(r.publish(b"news", b"x", true, &mut out), 1);
        assert_eq!(
            taken(&mut out, 2)[0],
            [(
                1,
                "*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$1\r\nx\r\n".into()
            )]
        );
    }

    #[test]
    fn unsubscribing_leaves_nothing_behind() {
        let r = Registry::default();
        for (c, k, n) in [
            (1, Kind::Channel, &b"a"[..]),
            (1, Kind::Channel, b"b"),
            (1, Kind::Pattern, b"p*"),
            (2, Kind::Channel, b"a"),
            (1, Kind::Shard, b"s"),
        ] {
            assert!(r.subscribe(c, 0, false, k, n));
        }
        assert_eq!(r.counts(), [2, 1, 1]);
        assert_eq!(r.numsub(false, b"a"), 2);
        assert!(r.unsubscribe(1, Kind::Channel, b"a"));
        assert!(!r.unsubscribe(1, Kind::Channel, b"a"));
        assert_eq!(r.numsub(false, b"a"), 1);
        assert_eq!(
            r.unsubscribe_all(1, Kind::Channel),
            vec![Box::<[u8]>::from(&b"b"[..])]
        );
        assert!(r.unsubscribe_all(1, Kind::Channel).is_empty());
        r.drop_client(1);
        assert_eq!(r.counts(), [1, 0, 0]);
        r.drop_worker(0);
        assert_eq!(r.counts(), [0, 0, 0]);
        assert!(r.table.read().clients.is_empty());
        assert_eq!(r.live.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn channels_filter_by_pattern_and_resp3_follows_hello() {
        let r = Registry::default();
        r.subscribe(1, 0, false, Kind::Channel, b"foo");
        r.subscribe(1, 0, false, Kind::Channel, b"bar");
        r.subscribe(1, 0, false, Kind::Pattern, b"*");
        let mut ch = r.channels(false, Some(b"f*"));
        ch.sort();
        assert_eq!(ch, vec![Box::<[u8]>::from(&b"foo"[..])]);
        assert_eq!(r.numpat(), 1);
        r.set_resp3(1, true);
        let mut out = Outbox::default();
        assert_eq!(r.publish(b"foo", b"m", false, &mut out), 2);
        let got = taken(&mut out, 1);
        assert!(got[0].iter().all(|(_, m)| m.starts_with('>')), "{got:?}");
    }

    #[test]
    fn notifications_publish_on_keyspace_then_keyevent() {
        let r = Registry::default();
        r.subscribe(1, 0, false, Kind::Pattern, b"__key*__:*");
        let ev = KeyEvent {
            event: Event::new(LIST, "lpush"),
            db: 3,
            key: b"k".to_vec(),
        };
        let mut out = Outbox::default();
        r.notify(
            notify::KEYSPACE | notify::KEYEVENT,
            std::slice::from_ref(&ev),
            &mut out,
        );
        let got: Vec<String> = taken(&mut out, 1)[0].iter().map(|m| m.1.clone()).collect();
        assert_eq!(
            got,
            [
                "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@3__:k\r\n$5\r\nlpush\r\n",
                "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$20\r\n__keyevent@3__:lpush\r\n$1\r\nk\r\n"
            ]
        );
        r.notify(notify::KEYEVENT, &[ev], &mut out);
        assert_eq!(taken(&mut out, 1)[0].len(), 1);
    }
}
