//! What a write tells the rest of the server: keyspace events (Redis's
//! `notifyKeyspaceEvent`, with its class bits and `notify-keyspace-events` letters) and
//! "key is ready" signals for clients blocked on a list, sorted set or stream.
//!
//! Commands only record them here, into the caller's `Effects`; delivering them (to
//! subscribers and blocked clients on any worker) is the server's job. Recording is gated
//! by the configured classes, so with notifications off (the default) a write records
//! nothing and allocates nothing.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// `NOTIFY_KEYSPACE` (K): publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `NOTIFY_KEYEVENT` (E): publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `NOTIFY_GENERIC` (g): DEL, EXPIRE, RENAME...
pub const GENERIC: u32 = 1 << 2;
/// `NOTIFY_STRING` ($)
pub const STRING: u32 = 1 << 3;
/// `NOTIFY_LIST` (l)
pub const LIST: u32 = 1 << 4;
/// `NOTIFY_SET` (s)
pub const SET: u32 = 1 << 5;
/// `NOTIFY_HASH` (h)
pub const HASH: u32 = 1 << 6;
/// `NOTIFY_ZSET` (z)
pub const ZSET: u32 = 1 << 7;
/// `NOTIFY_EXPIRED` (x): a key deleted because its TTL passed.
pub const EXPIRED: u32 = 1 << 8;
/// `NOTIFY_EVICTED` (e)
pub const EVICTED: u32 = 1 << 9;
/// `NOTIFY_STREAM` (t)
pub const STREAM: u32 = 1 << 10;
/// `NOTIFY_KEY_MISS` (m): a read that found no key.
pub const KEY_MISS: u32 = 1 << 11;
/// `NOTIFY_MODULE` (d)
pub const MODULE: u32 = 1 << 13;
/// `NOTIFY_NEW` (n): a key that did not exist was added.
pub const NEW: u32 = 1 << 14;
/// `NOTIFY_ALL` (A): every class but m and n, as in Redis.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM;

/// The class letters of `notify-keyspace-events`.
const LETTERS: [(u8, u32); 11] = [
    (b'g', GENERIC),
    (b'$', STRING),
    (b'l', LIST),
    (b's', SET),
    (b'h', HASH),
    (b'z', ZSET),
    (b'x', EXPIRED),
    (b'e', EVICTED),
    (b't', STREAM),
    (b'd', MODULE),
    (b'n', NEW),
];

/// `keyspaceEventsStringToFlags`: None for an unknown letter.
pub fn flags_from_letters(s: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in s {
        flags |= match c {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            _ => LETTERS.iter().find(|(l, _)| *l == c)?.1,
        };
    }
    Some(flags)
}

/// A keyspace event a command raises: its class bit and Redis's event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// One class bit (`GENERIC`, `LIST`, ...).
    pub class: u32,
    /// The event name as Redis publishes it (`lpush`, `del`, `expired`...).
    pub name: &'static str,
}

impl Event {
    /// An event of `class` named `name`.
    pub const fn new(class: u32, name: &'static str) -> Event {
        Event { class, name }
    }
}

/// `del`: a key removed by a command, or a collection a command emptied.
pub const DEL: Event = Event::new(GENERIC, "del");
/// `expired`: a key removed because its TTL passed.
pub const EXPIRED_EVENT: Event = Event::new(EXPIRED, "expired");
/// `new`: a key that was absent was added.
pub const NEW_EVENT: Event = Event::new(NEW, "new");
/// `keymiss`: a read found no key (`lookupKey`).
pub const KEYMISS_EVENT: Event = Event::new(KEY_MISS, "keymiss");

/// One recorded keyspace event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    /// The event.
    pub event: Event,
    /// The database it happened in.
    pub db: u32,
    /// The key.
    pub key: Vec<u8>,
}

/// What the commands of one call did that other clients must hear of. The caller drains it
/// after the call (and delivers it; see the module doc).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Effects {
    /// Keyspace events, in the order the commands raised them.
    pub events: Vec<KeyEvent>,
    /// Keys a list, sorted set or stream was added under, while clients are blocked
    /// (Redis's `signalKeyAsReady`): (db, key).
    pub ready: Vec<(u32, Vec<u8>)>,
    /// Invalidations owed to tracking clients (client-side caching).
    pub tracking: crate::tracking::Invalidations,
}

impl Effects {
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.ready.is_empty() && self.tracking.is_empty()
    }

    /// Forget everything recorded.
    pub fn clear(&mut self) {
        self.events.clear();
        self.ready.clear();
        self.tracking.clear();
    }
}

/// Which events are recorded, shared by every worker: the `notify-keyspace-events` classes
/// and whether any client is blocked on keys.
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    flags: AtomicU32,
    blocked: AtomicUsize,
}

impl Listeners {
    /// True when `ev` is to be recorded: its class is on, and K or E is.
    #[inline]
    pub(crate) fn wants(&self, ev: Event) -> bool {
        let f = self.flags.load(Ordering::Relaxed);
        f & ev.class != 0 && f & (KEYSPACE | KEYEVENT) != 0
    }

    /// True when a "key is ready" signal has anyone to wake.
    #[inline]
    pub(crate) fn any_blocked(&self) -> bool {
        self.blocked.load(Ordering::Relaxed) != 0
    }

    pub(crate) fn set_flags(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    pub(crate) fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub(crate) fn set_blocked(&self, n: usize) {
        self.blocked.store(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_parse_as_redis_parses_them() {
        assert_eq!(flags_from_letters(b""), Some(0));
        assert_eq!(flags_from_letters(b"KEA"), Some(KEYSPACE | KEYEVENT | ALL));
        assert_eq!(flags_from_letters(b"Ex"), Some(KEYEVENT | EXPIRED));
        assert_eq!(flags_from_letters(b"g$lshzxet"), Some(ALL));
        assert_eq!(
            flags_from_letters(b"Kmdn"),
            Some(KEYSPACE | KEY_MISS | MODULE | NEW)
        );
        assert_eq!(flags_from_letters(b"Kq"), None);
    }

    #[test]
    fn recording_needs_a_class_and_a_channel() {
        let l = Listeners::default();
        assert!(!l.wants(DEL));
        l.set_flags(GENERIC);
        assert!(!l.wants(DEL), "no K or E: nothing is published");
        l.set_flags(GENERIC | KEYEVENT);
        assert!(l.wants(DEL));
        assert!(!l.wants(Event::new(LIST, "lpush")));
    }
}
