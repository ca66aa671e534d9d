//! `Keys`: one database as a command sees it through its `Tx` — Redis's `lookupKey*`,
//! `setKey`, `dbAdd`, `dbDelete`, `setExpire` and `removeExpire`, each finding the key's
//! segment among the locks the command holds.
//!
//! The side effects of a lookup live here, in one place, as in Redis's `lookupKey`: a key past
//! its TTL is deleted (and counted in expired_keys), reads count keyspace hits and misses, and
//! an access updates the key's LRU clock or LFU counter unless the client is in NO-TOUCH mode.

use crate::db::{key_hash, lfu_initial, lfu_touch, lru_clock, Entry, Lookup, StrEnc};
use crate::segment::{SegmentCell, Tx};
use crate::Keyspace;

/// How a lookup behaves (Redis's LOOKUP_* flags that matter here).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LookupFlags {
    /// Update the access clock (off for LOOKUP_NOTOUCH or a NO-TOUCH client).
    pub(crate) touch: bool,
    /// Count a hit or miss (off for writes and LOOKUP_NOSTATS).
    pub(crate) stats: bool,
}

/// One database, as seen by a command holding `tx`.
pub(crate) struct Keys<'t, 'ks> {
    pub(crate) tx: &'t mut Tx<'ks>,
    pub(crate) ks: &'ks Keyspace,
    pub(crate) db: usize,
    pub(crate) now_ms: i64,
    /// False when the client runs CLIENT NO-TOUCH (and the command is not TOUCH).
    pub(crate) touch: bool,
}

impl<'t, 'ks> Keys<'t, 'ks> {
    /// The same view on database `db` (MOVE, COPY ... DB).
    pub(crate) fn with_db(&mut self, db: usize) -> Keys<'_, 'ks> {
        Keys {
            tx: &mut *self.tx,
            ks: self.ks,
            db,
            now_ms: self.now_ms,
            touch: self.touch,
        }
    }

    /// The segment and hash of `key`.
    #[inline]
    pub(crate) fn locate(&self, key: &[u8]) -> (usize, u64) {
        (self.ks.segment_of(key), key_hash(&self.ks.hasher, key))
    }

    /// The access clock a new key starts with.
    pub(crate) fn new_access(&self) -> u32 {
        if self.ks.lfu_policy() {
            lfu_initial(self.now_ms)
        } else {
            lru_clock(self.now_ms)
        }
    }

    /// Redis's `lookupKey`: the entry of `key`, or None when missing or expired (an expired
    /// key is deleted on the way).
    pub(crate) fn lookup(&mut self, key: &[u8], flags: LookupFlags) -> Option<&mut Entry> {
        let (s, h) = self.locate(key);
        let cell: &SegmentCell = self.tx.cell(s);
        let lfu = self.ks.lfu_policy();
        let now = self.now_ms;
        let hs = &self.ks.hasher;
        let seg = self.tx.seg(s);
        let rand01 = if lfu && flags.touch {
            seg.rng.next_f64()
        } else {
            0.0
        };
        match seg.dbs[self.db].lookup(h, key, now, hs) {
            Lookup::Found(e) => {
                if flags.touch {
                    touch_entry(e, lfu, now, rand01);
                }
                if flags.stats {
                    SegmentCell::bump(&cell.hits);
                }
                Some(e)
            }
            Lookup::Missing => {
                if flags.stats {
                    SegmentCell::bump(&cell.misses);
                }
                None
            }
            Lookup::Expired => {
                SegmentCell::bump(&cell.expired);
                if flags.stats {
                    SegmentCell::bump(&cell.misses);
                }
                None
            }
        }
    }

    /// `lookupKeyRead`: touches and counts a hit or miss.
    pub(crate) fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let touch = self.touch;
        self.lookup(key, LookupFlags { touch, stats: true })
    }

    /// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: counts but does not touch (EXISTS, TYPE,
    /// TTL, OBJECT).
    pub(crate) fn read_no_touch(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(
            key,
            LookupFlags {
                touch: false,
                stats: true,
            },
        )
    }

    /// `lookupKeyWrite`: touches, counts nothing.
    pub(crate) fn write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let touch = self.touch;
        self.lookup(
            key,
            LookupFlags {
                touch,
                stats: false,
            },
        )
    }

    /// True when `key` exists and is live, with no side effect but lazy expiry.
    pub(crate) fn exists_quiet(&mut self, key: &[u8]) -> bool {
        self.lookup(
            key,
            LookupFlags {
                touch: false,
                stats: false,
            },
        )
        .is_some()
    }

    /// Redis's `setKey` for a string: create `key` or replace its value; the TTL is dropped
    /// unless `keep_ttl`. An existing key is touched (Redis looks it up for writing first)
    /// and keeps that clock (`dbSetValue`); a new one starts a fresh clock.
    pub(crate) fn set_str(&mut self, key: &[u8], val: &[u8], enc: StrEnc, keep_ttl: bool) {
        self.set_value(key, NewStr::Copy(val, enc), keep_ttl);
    }

    /// `set_str` of a value the caller owns: a value Redis would keep raw is adopted as it
    /// is (no copy, so a 600 MB SET costs 600 MB once); a small one is copied inline with
    /// the encoding Redis would give it, and its buffer freed.
    pub(crate) fn set_str_owned(&mut self, key: &[u8], val: Vec<u8>, keep_ttl: bool) {
        match StrEnc::for_value(&val) {
            StrEnc::Raw => self.set_value(key, NewStr::Adopt(val), keep_ttl),
            enc => self.set_value(key, NewStr::Copy(&val, enc), keep_ttl),
        }
    }

    fn set_value(&mut self, key: &[u8], val: NewStr<'_>, keep_ttl: bool) {
        let access = self.new_access();
        let now = self.now_ms;
        let touch = self.touch;
        let lfu = self.ks.lfu_policy();
        let (s, h) = self.locate(key);
        let hs = &self.ks.hasher;
        let seg = self.tx.seg(s);
        let rand01 = if lfu && touch {
            seg.rng.next_f64()
        } else {
            0.0
        };
        let db = &mut seg.dbs[self.db];
        let clear_ttl = match db.lookup(h, key, now, hs) {
            Lookup::Found(e) => {
                if touch {
                    touch_entry(e, lfu, now, rand01);
                }
                match val {
                    NewStr::Copy(val, enc) => e.set_str(val, enc),
                    NewStr::Adopt(val) => e.set_raw(val),
                }
                !keep_ttl && e.expire_at().is_some()
            }
            Lookup::Missing | Lookup::Expired => {
                let e = match val {
                    NewStr::Copy(val, enc) => Entry::new_str(key, val, enc, access),
                    NewStr::Adopt(val) => Entry::new_raw(key, val, access),
                };
                db.insert_new(h, e, hs);
                false
            }
        };
        if clear_ttl {
            db.set_expire(h, key, None, hs);
        }
    }

    /// `dbAdd` of a whole entry (keyed by its own key), which must be absent.
    pub(crate) fn add(&mut self, entry: Entry) {
        let (s, h) = self.locate(entry.key());
        let hs = &self.ks.hasher;
        self.tx.seg(s).dbs[self.db].insert_new(h, entry, hs);
    }

    /// Remove `key` and return its entry, expired or not (callers look it up first).
    pub(crate) fn take(&mut self, key: &[u8]) -> Option<Entry> {
        let (s, h) = self.locate(key);
        let hs = &self.ks.hasher;
        self.tx.seg(s).dbs[self.db].remove(h, key, hs)
    }

    /// `dbDelete`: true when the key was there.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        self.take(key).is_some()
    }

    /// `setExpire` (`Some`) or `removeExpire` (`None`); false when the key is absent.
    pub(crate) fn set_expire(&mut self, key: &[u8], when: Option<i64>) -> bool {
        let (s, h) = self.locate(key);
        let hs = &self.ks.hasher;
        self.tx.seg(s).dbs[self.db].set_expire(h, key, when, hs)
    }
}

/// A string value on its way into the db: bytes to copy (with their encoding), or a buffer
/// to keep as the raw value.
enum NewStr<'v> {
    Copy(&'v [u8], StrEnc),
    Adopt(Vec<u8>),
}

/// Update the access clock of `e` on an access (Redis's `updateLFU` or `LRU_CLOCK()`).
fn touch_entry(e: &mut Entry, lfu: bool, now_ms: i64, rand01: f64) {
    let access = if lfu {
        lfu_touch(e.access(), now_ms, rand01)
    } else {
        lru_clock(now_ms)
    };
    e.set_access(access);
}
