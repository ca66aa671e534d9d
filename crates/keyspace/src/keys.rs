//! `Keys`: one database as a command sees it through its `Tx` — Redis's `lookupKey*`,
//! `setKey`, `dbAdd`, `dbDelete`, `setExpire` and `removeExpire`, each finding the key's
//! segment among the locks the command holds.
//!
//! The side effects of a lookup live here, in one place, as in Redis's `lookupKey`: a key past
//! its TTL is deleted (and counted in expired_keys), reads count keyspace hits and misses, and
//! an access updates the key's LRU clock or LFU counter unless the client is in NO-TOUCH mode.
//!
//! So does the mutation path. A command reaches a value as a type through `read_as`,
//! `write_as` or `write_or_create` (WRONGTYPE comes from there), and reports each change
//! with `changed` or `deleted`, which bump the key's slot version (WATCH), count the change
//! (`rdb_changes_since_last_save`), record the keyspace event, and delete a collection the
//! change emptied. Keys that appear (`new`, and "ready" for blocked clients) and keys that
//! expire are recorded where that happens, here too. Nothing else in the crate writes a key.

use crate::db::{Lookup, Upserted};

use crate::entry::{lfu_initial, lfu_touch, lru_clock, Entry, Kind, StrEnc};
use crate::error::KsError;
use crate::notify::{self, Effects, Event, KeyEvent};
use crate::reply::SPLICE_MIN;
use crate::segment::{SegmentCell, Tx};
use crate::types::Typed;
use crate::Keyspace;

/// How a lookup behaves (Redis's LOOKUP_* flags that matter here).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LookupFlags {
    /// Update the access clock (off for LOOKUP_NOTOUCH or a NO-TOUCH client).
    pub(crate) touch: bool,
    /// Count a hit or miss (off for writes and LOOKUP_NOSTATS).
    pub(crate) stats: bool,
    /// Raise `keymiss` on a miss (off for writes and LOOKUP_NONOTIFY).
    pub(crate) notify: bool,
}

/// One database, as seen by a command holding `tx`.
pub(crate) struct Keys<'t, 'ks> {
    pub(crate) tx: &'t mut Tx<'ks>,
    pub(crate) ks: &'ks Keyspace,
    pub(crate) db: usize,
    pub(crate) now_ms: i64,
    /// False when the client runs CLIENT NO-TOUCH (and the command is not TOUCH).
    pub(crate) touch: bool,
    /// Where events and ready keys are recorded.
    pub(crate) fx: &'t mut Effects,
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
            fx: &mut *self.fx,
        }
    }

    /// The segment and hash of `key`.
    #[inline]
    pub(crate) fn locate(&mut self, key: &[u8]) -> (usize, u64) {
        let (s, _, h) = self.place(key);
        (s, h)
    }

    /// The segment, hash slot and hash of `key` (remembered by the unit's `Tx`, so the steps
    /// of one command on one key hash it once).
    #[inline]
    fn place(&mut self, key: &[u8]) -> (usize, u16, u64) {
        let (slot, h) = self.tx.memo.slot_and_hash(key, &self.ks.hasher);
        (self.ks.segment_of_slot(slot), slot, h)
    }

    /// Start loading what a lookup of `key` will read (`Db::prefetch`).
    pub(crate) fn prefetch(&mut self, key: &[u8]) {
        let (s, h) = self.locate(key);
        self.tx.seg(s).dbs[self.db].prefetch(h);
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
        let rand01 = lfu_draw(&mut seg.rng, lfu && flags.touch);
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
                if flags.notify {
                    record(self.ks, self.fx, self.db, notify::KEYMISS_EVENT, key);
                }
                None
            }
            Lookup::Expired => {
                if flags.stats {
                    SegmentCell::bump(&cell.misses);
                }
                expired(self.ks, cell, self.fx, self.db, key);
                if flags.notify {
                    record(self.ks, self.fx, self.db, notify::KEYMISS_EVENT, key);
                }
                None
            }
        }
    }

    /// `lookupKeyRead`: touches and counts a hit or miss.
    pub(crate) fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let touch = self.touch;
        self.lookup(
            key,
            LookupFlags {
                touch,
                stats: true,
                notify: true,
            },
        )
    }

    /// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: counts but does not touch (EXISTS, TYPE,
    /// TTL, OBJECT).
    pub(crate) fn read_no_touch(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(
            key,
            LookupFlags {
                touch: false,
                stats: true,
                notify: true,
            },
        )
    }

    /// `objectCommandLookup` (LOOKUP_NOTOUCH | LOOKUP_NONOTIFY): counts, neither touches
    /// nor raises `keymiss` (OBJECT, MEMORY USAGE).
    pub(crate) fn read_object(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(
            key,
            LookupFlags {
                touch: false,
                stats: true,
                notify: false,
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
                notify: false,
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
                notify: false,
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

    /// `set_str` of a buffer Redis would keep raw whatever its size (`createObject` of an
    /// sds: BITOP's result), adopted without a copy.
    pub(crate) fn set_raw_owned(&mut self, key: &[u8], val: Vec<u8>, keep_ttl: bool) {
        self.set_value(key, NewStr::Adopt(val), keep_ttl);
    }

    /// The entry of `key` for writing (`lookupKeyWrite`), created as the raw string `make()`
    /// when missing (`dbAdd`, recording `new`); true when it was created. The caller checks
    /// the type (`Entry::string`) before it unshares the value (`Entry::str_raw_mut`), as
    /// SETBIT, BITFIELD and PFADD do in Redis.
    pub(crate) fn write_str_or_create(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> Vec<u8>,
    ) -> (&mut Entry, bool) {
        let access = self.new_access();
        let now = self.now_ms;
        let touch = self.touch;
        let lfu = self.ks.lfu_policy();
        let (s, h) = self.locate(key);
        let cell = self.tx.cell(s);
        let hs = &self.ks.hasher;
        let seg = self.tx.seg(s);
        let rand01 = lfu_draw(&mut seg.rng, lfu && touch);
        let (e, how) =
            seg.dbs[self.db].upsert(h, key, now, hs, || Entry::new_raw(key, make(), access));
        match how {
            Upserted::Found => {
                if touch {
                    touch_entry(e, lfu, now, rand01);
                }
                (e, false)
            }
            Upserted::Created => {
                created(self.ks, self.fx, self.db, key, Kind::String);
                (e, true)
            }
            Upserted::ReplacedExpired => {
                expired(self.ks, cell, self.fx, self.db, key);
                created(self.ks, self.fx, self.db, key, Kind::String);
                (e, true)
            }
        }
    }

    /// `signalModifiedKey` plus `server.dirty++` with no keyspace event: PFCOUNT caching a
    /// cardinality in the value it read.
    pub(crate) fn modified_quietly(&mut self, key: &[u8]) {
        let (s, slot, _) = self.place(key);
        let cell = self.tx.cell(s);
        cell.bump_version(slot);
        SegmentCell::bump(&cell.changes);
        self.ks.tracking.invalidate(s, key, &mut self.fx.tracking);
    }

    /// `server.dirty++` alone: PFDEBUG converting a value to dense (Redis propagates it but
    /// signals no change to WATCH).
    pub(crate) fn dirtied(&mut self, key: &[u8]) {
        let (s, _) = self.locate(key);
        SegmentCell::bump(&self.tx.cell(s).changes);
    }

    fn set_value(&mut self, key: &[u8], val: NewStr<'_>, keep_ttl: bool) {
        let access = self.new_access();
        let now = self.now_ms;
        let touch = self.touch;
        let lfu = self.ks.lfu_policy();
        let (s, h) = self.locate(key);
        let cell = self.tx.cell(s);
        let hs = &self.ks.hasher;
        let seg = self.tx.seg(s);
        let rand01 = lfu_draw(&mut seg.rng, lfu && touch);
        let db = &mut seg.dbs[self.db];
        let clear_ttl = match db.lookup(h, key, now, hs) {
            Lookup::Found(e) => {
                if touch {
                    touch_entry(e, lfu, now, rand01);
                }
                match val {
                    NewStr::Copy(val, _) if val.len() >= SPLICE_MIN && e.shared_str().is_some() => {
                        e.set_big(val)
                    }
                    NewStr::Copy(val, enc) => e.set_str(val, enc),
                    NewStr::Adopt(val) => e.set_raw(val),
                }
                !keep_ttl && e.expire_at().is_some()
            }
            found => {
                if matches!(found, Lookup::Expired) {
                    expired(self.ks, cell, self.fx, self.db, key);
                }
                let e = match val {
                    NewStr::Copy(val, enc) => Entry::new_str(key, val, enc, access),
                    NewStr::Adopt(val) => Entry::new_raw(key, val, access),
                };
                db.insert_new(h, e, hs);
                record(self.ks, self.fx, self.db, notify::NEW_EVENT, key);
                return;
            }
        };
        if clear_ttl {
            db.set_expire(h, key, None, hs);
        }
    }

    /// `dbAdd` of a whole entry (keyed by its own key), which must be absent: records `new`
    /// and, for a list or sorted set, that the key is ready for blocked clients.
    pub(crate) fn add(&mut self, entry: Entry) {
        let (s, h) = self.locate(entry.key());
        let hs = &self.ks.hasher;
        let kind = entry.kind();
        // A hash with field TTLs arriving by RENAME, MOVE or COPY joins the active cycle's
        // list under its new name.
        let hfe = entry
            .typed::<crate::types::hash::Hash>()
            .is_ok_and(|v| v.has_field_ttls());
        let db = &mut self.tx.seg(s).dbs[self.db];
        let e = db.insert_new(h, entry, hs);
        created(self.ks, self.fx, self.db, e.key(), kind);
        if hfe {
            let key: Box<[u8]> = Box::from(e.key());
            db.hfe_register(&key);
        }
    }

    /// Remove `key` and return its entry, expired or not (callers look it up first and
    /// report the change with `changed`).
    pub(crate) fn take(&mut self, key: &[u8]) -> Option<Entry> {
        let (s, h) = self.locate(key);
        let hs = &self.ks.hasher;
        self.tx.seg(s).dbs[self.db].remove(h, key, hs)
    }

    /// `dbDelete` plus the mutation path: remove `key` and report `ev` for it; true when
    /// the key was there (callers look it up first, so an expired key is already gone).
    pub(crate) fn deleted(&mut self, key: &[u8], ev: Event) -> bool {
        match self.take(key) {
            Some(gone) => {
                crate::lazyfree::drop_entry(gone);
                self.changed(key, ev);
                true
            }
            None => false,
        }
    }

    /// The mutation path: report that the command changed `key` (Redis's
    /// `signalModifiedKey` + `notifyKeyspaceEvent` + `server.dirty++`). Bumps the version
    /// of the key's slot, counts the change, records `ev`, and deletes the key when it
    /// holds a collection the change emptied (recording `del` after `ev`, as Redis does).
    pub(crate) fn changed(&mut self, key: &[u8], ev: Event) {
        let (s, slot, h) = self.place(key);
        let cell = self.tx.cell(s);
        cell.bump_version(slot);
        SegmentCell::bump(&cell.changes);
        self.ks.tracking.invalidate(s, key, &mut self.fx.tracking);
        record(self.ks, self.fx, self.db, ev, key);
        // A string event leaves a string (or nothing): no collection to find empty.
        if ev.class == notify::STRING {
            return;
        }
        let hs = &self.ks.hasher;
        let db = &mut self.tx.seg(s).dbs[self.db];
        if db.find(h, key).is_some_and(Entry::is_empty_collection) {
            if let Some(gone) = db.remove(h, key, hs) {
                crate::lazyfree::drop_entry(gone);
            }
            record(self.ks, self.fx, self.db, notify::DEL, key);
        }
    }

    /// The value of `key` as type `T` for reading (`lookupKeyRead`); None when missing,
    /// WRONGTYPE when it holds another type.
    pub(crate) fn read_as<T: Typed>(&mut self, key: &[u8]) -> Result<Option<&mut T>, KsError> {
        self.read(key).map(Entry::typed_mut::<T>).transpose()
    }

    /// The value of `key` as type `T` for writing (`lookupKeyWrite`); None when missing,
    /// WRONGTYPE when it holds another type.
    pub(crate) fn write_as<T: Typed>(&mut self, key: &[u8]) -> Result<Option<&mut T>, KsError> {
        self.write(key).map(Entry::typed_mut::<T>).transpose()
    }

    /// The value of `key` as type `T` for writing, created by `make` when the key is missing
    /// (`lookupKeyWrite` then `dbAdd`, recording `new`); WRONGTYPE for another type. A
    /// command validates its arguments before calling this, and reports what it did with
    /// `changed` (which deletes the new value again if it stayed empty).
    pub(crate) fn write_or_create<T: Typed>(
        &mut self,
        key: &[u8],
        make: impl FnOnce() -> T,
    ) -> Result<&mut T, KsError> {
        let access = self.new_access();
        let now = self.now_ms;
        let touch = self.touch;
        let lfu = self.ks.lfu_policy();
        let (s, h) = self.locate(key);
        let cell = self.tx.cell(s);
        let hs = &self.ks.hasher;
        let seg = self.tx.seg(s);
        let rand01 = lfu_draw(&mut seg.rng, lfu && touch);
        let (e, how) = seg.dbs[self.db].upsert(h, key, now, hs, || {
            Entry::new_obj(key, make().into_obj(), access)
        });
        match how {
            Upserted::Found => {
                if touch {
                    touch_entry(e, lfu, now, rand01);
                }
            }
            Upserted::Created => created(self.ks, self.fx, self.db, key, T::KIND),
            Upserted::ReplacedExpired => {
                expired(self.ks, cell, self.fx, self.db, key);
                created(self.ks, self.fx, self.db, key, T::KIND);
            }
        }
        e.typed_mut::<T>()
    }

    /// Register `key` as holding a hash with field TTLs, for the active cycle.
    pub(crate) fn hfe_register(&mut self, key: &[u8]) {
        let (s, _) = self.locate(key);
        self.tx.seg(s).dbs[self.db].hfe_register(key);
    }

    /// Redis's `setKey` for an aggregate value: `key` now holds `val`, whatever it held
    /// before, with no TTL; a key that was absent records `new` (the caller reports the
    /// command's own event with `changed`).
    pub(crate) fn set_typed<T: Typed>(&mut self, key: &[u8], val: T) {
        let access = self.new_access();
        let existed = self.write(key).is_some();
        let entry = Entry::new_obj(key, val.into_obj(), access);
        if existed {
            if let Some(old) = self.take(key) {
                crate::lazyfree::drop_entry(old);
            }
            let (s, h) = self.locate(key);
            let hs = &self.ks.hasher;
            self.tx.seg(s).dbs[self.db].insert_new(h, entry, hs);
        } else {
            self.add(entry);
        }
    }

    /// A pseudo-random u64 from the generator of `key`'s segment (random members).
    pub(crate) fn rand_u64(&mut self, key: &[u8]) -> u64 {
        let (s, _) = self.locate(key);
        self.tx.seg(s).rng.next_u64()
    }

    /// `setExpire` (`Some`) or `removeExpire` (`None`); false when the key is absent.
    pub(crate) fn set_expire(&mut self, key: &[u8], when: Option<i64>) -> bool {
        let (s, h) = self.locate(key);
        let hs = &self.ks.hasher;
        self.tx.seg(s).dbs[self.db].set_expire(h, key, when, hs)
    }
}

/// Record `ev` on `key` when anyone listens for it (`notifyKeyspaceEvent`).
#[inline]
pub(crate) fn record(ks: &Keyspace, fx: &mut Effects, db: usize, ev: Event, key: &[u8]) {
    if ks.listeners.wants(ev) {
        fx.events.push(KeyEvent {
            event: ev,
            db: db as u32,
            key: key.to_vec(),
        });
    }
}

/// A key that was absent now holds a value of `kind` (`dbAdd`): records `new`, and that the
/// key is ready when it is a type clients block on (`signalKeyAsReady`).
fn created(ks: &Keyspace, fx: &mut Effects, db: usize, key: &[u8], kind: Kind) {
    record(ks, fx, db, notify::NEW_EVENT, key);
    if matches!(kind, Kind::List | Kind::ZSet | Kind::Stream) && ks.listeners.any_blocked() {
        fx.ready.push((db as u32, key.to_vec()));
    }
}

/// `key` was just deleted because its TTL passed (lazily, or by the active cycle): count it
/// and record `expired`. The slot's version stays: as in Redis 7.2, a WATCH on a key that was
/// already expired survives its deletion, and one on a live key fails on its state instead
/// (watch.rs).
pub(crate) fn expired(ks: &Keyspace, cell: &SegmentCell, fx: &mut Effects, db: usize, key: &[u8]) {
    SegmentCell::bump(&cell.expired);
    if ks.tracking.active() {
        ks.tracking
            .invalidate(ks.segment_of(key), key, &mut fx.tracking);
    }
    record(ks, fx, db, notify::EXPIRED_EVENT, key);
}

/// A string value on its way into the db: bytes to copy (with their encoding), or a buffer
/// to keep as the raw value. Bytes of SPLICE_MIN or more over a raw value (one a GET gave a
/// buffer of its own, see `cmd/string.rs` `bulk_value`) go into that buffer, so that GETs
/// keep sending it by reference.
enum NewStr<'v> {
    Copy(&'v [u8], StrEnc),
    Adopt(Vec<u8>),
}

/// The random draw an LFU counter increment needs (`LFULogIncr`), taken only when the access
/// will update one: LFU policy on and the access touching.
#[inline]
fn lfu_draw(rng: &mut crate::segment::Rng, needed: bool) -> f64 {
    if needed {
        rng.next_f64()
    } else {
        0.0
    }
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
