//! One database's keys inside one segment: the key table and its expiry index.
//!
//! A `Db` is only ever reached through its segment's lock (`segment.rs`); it knows nothing
//! of locking, sessions or replies. Every method takes the key's hash, computed once by the
//! caller with the keyspace's hasher, and the hasher itself where the table may need to rehash.
//! Each slot is an `Entry` (entry.rs): one heap block holding the key, its TTL and its value.

use hashbrown::HashTable;

use crate::entry::Entry;
use crate::expiry::ExpiryIndex;

/// The hasher of every key table; seeded randomly once per keyspace, so the key order that
/// SCAN walks is stable for the life of the process and unpredictable to clients.
pub(crate) type KeyHasher = foldhash::fast::RandomState;

/// Hash of a key under `hs` (the same function for the table, SCAN order and expiry index).
#[inline]
pub(crate) fn key_hash(hs: &KeyHasher, key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    hs.hash_one(key)
}

/// What `Db::upsert` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    /// The key was there, live.
    Found,
    /// The key was absent: the new entry was added.
    Created,
    /// The key was there but past its TTL: it was deleted and the new entry took its place.
    ReplacedExpired,
}

/// Outcome of a lookup that may lazily expire the key.
pub(crate) enum Lookup<'a> {
    Found(&'a mut Entry),
    Missing,
    /// The key was there but past its TTL, and has just been deleted.
    Expired,
}

/// One database's keys in one segment.
#[derive(Debug, Default)]
pub(crate) struct Db {
    table: HashTable<Entry>,
    expires: ExpiryIndex,
    /// Keys that got a hash field TTL (Redis 7.4's `db->hexpires`, without the order): the
    /// active cycle visits them and forgets a key once it holds no field TTL.
    hfe_keys: std::collections::HashSet<Box<[u8]>>,
}

/// Drop `(when, h)` from the expiry index for a key that no longer expires at `when`,
/// unless another key of this table still shares the pair.
fn unindex(
    table: &HashTable<Entry>,
    expires: &mut ExpiryIndex,
    key: &[u8],
    when: i64,
    h: u64,
    hs: &KeyHasher,
) {
    let shared = table
        .iter_hash(h)
        .any(|e| e.expire_raw() == when && e.key() != key && key_hash(hs, e.key()) == h);
    expires.forget(when, h, !shared);
}

/// Give memory back after mass deletion, as Redis shrinks a dict under 10% full
/// (`htNeedsResize`). The table keeps room for twice its keys, so a workload that deletes and
/// re-adds does not resize back and forth.
fn shrink_if_sparse(table: &mut HashTable<Entry>, hs: &KeyHasher) {
    let cap = table.capacity();
    if cap > 64 && table.len() * 10 < cap {
        table.shrink_to(table.len() * 2, |e| key_hash(hs, e.key()));
    }
}

impl Db {
    /// Number of keys, expired-but-not-yet-deleted ones included (as Redis's DBSIZE).
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Number of keys with a TTL.
    pub(crate) fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    /// Sum of the expiry times of volatile keys.
    pub(crate) fn expire_sum_ms(&self) -> i128 {
        self.expires.sum_ms()
    }

    /// The entry of `key`; a key past its TTL is deleted on the way (lazy expiry).
    pub(crate) fn lookup(&mut self, h: u64, key: &[u8], now_ms: i64, hs: &KeyHasher) -> Lookup<'_> {
        let Db { table, expires, .. } = self;
        match table.find_entry(h, |e| e.key() == key) {
            Err(_) => Lookup::Missing,
            Ok(occ) => {
                if occ.get().is_expired(now_ms) {
                    let when = occ.get().expire_raw();
                    let (gone, vacant) = occ.remove();
                    let table = vacant.into_table();
                    unindex(table, expires, gone.key(), when, h, hs);
                    shrink_if_sparse(table, hs);
                    Lookup::Expired
                } else {
                    Lookup::Found(occ.into_mut())
                }
            }
        }
    }

    /// Add `entry` under hash `h`; its key must not be present. Its TTL, if any, is indexed.
    pub(crate) fn insert_new(&mut self, h: u64, entry: Entry, hs: &KeyHasher) -> &mut Entry {
        if let Some(when) = entry.expire_at() {
            self.expires.add(when, h);
        }
        self.table
            .insert_unique(h, entry, |e| key_hash(hs, e.key()))
            .into_mut()
    }

    /// The live entry of `key`, or (absent or expired) a new one from `make`, which must
    /// have no TTL; one probe of the table when the key is there.
    pub(crate) fn upsert(
        &mut self,
        h: u64,
        key: &[u8],
        now_ms: i64,
        hs: &KeyHasher,
        make: impl FnOnce() -> Entry,
    ) -> (&mut Entry, Upserted) {
        use hashbrown::hash_table::Entry as Slot;
        match self
            .table
            .entry(h, |e| e.key() == key, |e| key_hash(hs, e.key()))
        {
            Slot::Occupied(o) if !o.get().is_expired(now_ms) => (o.into_mut(), Upserted::Found),
            Slot::Occupied(mut o) => {
                // Replaced in place: its (when, h) pair stays in the index and is dropped when
                // it comes due and names no key, as `forget(.., false)` allows.
                let when = o.get().expire_raw();
                self.expires.forget(when, h, false);
                *o.get_mut() = make();
                (o.into_mut(), Upserted::ReplacedExpired)
            }
            Slot::Vacant(v) => (v.insert(make()).into_mut(), Upserted::Created),
        }
    }

    /// The entry of `key`, expired or not, with no side effect.
    pub(crate) fn find(&self, h: u64, key: &[u8]) -> Option<&Entry> {
        self.table.find(h, |e| e.key() == key)
    }

    /// Start loading the blocks a lookup of hash `h` would compare: a command that writes
    /// many keys asks for all of them first, so their cache misses overlap instead of
    /// coming one per key.
    pub(crate) fn prefetch(&self, h: u64) {
        let _ = self.table.find(h, |e| {
            e.prefetch();
            false
        });
    }

    /// Remove `key`, returning its entry.
    pub(crate) fn remove(&mut self, h: u64, key: &[u8], hs: &KeyHasher) -> Option<Entry> {
        let Db { table, expires, .. } = self;
        let occ = table.find_entry(h, |e| e.key() == key).ok()?;
        let (gone, vacant) = occ.remove();
        let table = vacant.into_table();
        if let Some(when) = gone.expire_at() {
            unindex(table, expires, gone.key(), when, h, hs);
        }
        shrink_if_sparse(table, hs);
        Some(gone)
    }

    /// Set or clear (`when == None`) the TTL of `key`; false when the key is absent.
    pub(crate) fn set_expire(
        &mut self,
        h: u64,
        key: &[u8],
        when: Option<i64>,
        hs: &KeyHasher,
    ) -> bool {
        let Some(e) = self.table.find_mut(h, |e| e.key() == key) else {
            return false;
        };
        let old = e.expire_at();
        if old == when {
            return true;
        }
        e.set_expire_at(when);
        if let Some(old) = old {
            unindex(&self.table, &mut self.expires, key, old, h, hs);
        }
        if let Some(when) = when {
            self.expires.add(when, h);
        }
        true
    }

    /// Delete keys whose TTL is due at `now_ms`, at most about `max` of them (a pair shared by
    /// two keys may add one), handing each to `gone`. Returns how many were deleted.
    pub(crate) fn expire_due(
        &mut self,
        now_ms: i64,
        max: usize,
        hs: &KeyHasher,
        mut gone: impl FnMut(Entry),
    ) -> usize {
        let mut removed = 0;
        while removed < max {
            let Some((when, h)) = self.expires.pop_due(now_ms) else {
                break;
            };
            while let Ok(occ) = self
                .table
                .find_entry(h, |e| e.expire_raw() == when && key_hash(hs, e.key()) == h)
            {
                gone(occ.remove().0);
                self.expires.forget(when, h, false);
                removed += 1;
            }
        }
        shrink_if_sparse(&mut self.table, hs);
        removed
    }

    /// Every entry, in table order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter()
    }

    /// A uniformly random entry, or None when empty. `rand` yields random u64s.
    pub(crate) fn random_entry(&self, mut rand: impl FnMut() -> u64) -> Option<&Entry> {
        if self.table.is_empty() {
            return None;
        }
        let buckets = self.table.num_buckets();
        // Probing random buckets until one is full picks every entry with the same
        // probability; the load factor is at least ~40%, so a few tries nearly always do.
        for _ in 0..64 {
            let i = (rand() % buckets as u64) as usize;
            if let Some(e) = self.table.get_bucket(i) {
                return Some(e);
            }
        }
        let n = (rand() % self.table.len() as u64) as usize;
        self.table.iter().nth(n)
    }

    /// Take every key out, leaving this db empty (FLUSHDB/FLUSHALL; the caller may drop the
    /// result on another thread).
    pub(crate) fn take(&mut self) -> Db {
        std::mem::take(self)
    }

    /// Forget all keys.
    pub(crate) fn clear(&mut self) {
        self.table = HashTable::new();
        self.expires.clear();
        self.hfe_keys = Default::default();
    }

    /// Remember that `key` holds a hash with field TTLs (for the active cycle).
    pub(crate) fn hfe_register(&mut self, key: &[u8]) {
        if !self.hfe_keys.contains(key) {
            self.hfe_keys.insert(Box::from(key));
        }
    }

    /// Every key registered with `hfe_register`, taken out of the registry (the caller
    /// registers again those that still hold field TTLs).
    pub(crate) fn hfe_take(&mut self) -> Vec<Box<[u8]>> {
        std::mem::take(&mut self.hfe_keys).into_iter().collect()
    }

    /// The live entry of `key`, mutably, without expiring it.
    pub(crate) fn find_mut(&mut self, h: u64, key: &[u8]) -> Option<&mut Entry> {
        self.table.find_mut(h, |e| e.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::StrEnc;

    fn hs() -> KeyHasher {
        KeyHasher::default()
    }

    #[test]
    fn lazy_expiry_and_index() {
        let hs = hs();
        let mut db = Db::default();
        for (k, when) in [(&b"a"[..], 100), (b"b", 200), (b"c", 0)] {
            let h = key_hash(&hs, k);
            db.insert_new(h, Entry::new_str(k, b"v", StrEnc::Embstr, 0), &hs);
            if when != 0 {
                assert!(db.set_expire(h, k, Some(when), &hs));
            }
        }
        assert_eq!(db.len(), 3);
        assert_eq!(db.volatile_len(), 2);
        let ha = key_hash(&hs, b"a");
        assert!(matches!(db.lookup(ha, b"a", 100, &hs), Lookup::Found(_)));
        assert!(matches!(db.lookup(ha, b"a", 101, &hs), Lookup::Expired));
        assert!(matches!(db.lookup(ha, b"a", 101, &hs), Lookup::Missing));
        assert_eq!(db.volatile_len(), 1);
        assert_eq!(db.expire_due(1000, 10, &hs, drop), 1);
        assert_eq!(db.len(), 1);
        assert_eq!(db.volatile_len(), 0);
        let hc = key_hash(&hs, b"c");
        assert!(db.set_expire(hc, b"c", Some(50), &hs));
        assert!(db.set_expire(hc, b"c", None, &hs));
        assert_eq!(db.expire_due(1000, 10, &hs, drop), 0);
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn table_shrinks_after_mass_deletion() {
        let hs = hs();
        let mut db = Db::default();
        for i in 0..10_000u32 {
            let k = i.to_le_bytes();
            db.insert_new(
                key_hash(&hs, &k),
                Entry::new_str(&k, b"", StrEnc::Embstr, 0),
                &hs,
            );
        }
        let big = db.table.capacity();
        for i in 0..9_990u32 {
            let k = i.to_le_bytes();
            assert!(db.remove(key_hash(&hs, &k), &k, &hs).is_some());
        }
        assert!(db.table.capacity() < big / 50, "{}", db.table.capacity());
        for i in 9_990..10_000u32 {
            let k = i.to_le_bytes();
            assert!(db.remove(key_hash(&hs, &k), &k, &hs).is_some());
        }
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn random_entry_reaches_every_key() {
        let hs = hs();
        let mut db = Db::default();
        for i in 0..5u8 {
            let k = [i];
            db.insert_new(
                key_hash(&hs, &k),
                Entry::new_str(&k, b"", StrEnc::Embstr, 0),
                &hs,
            );
        }
        let mut seen = [false; 5];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..500 {
            let e = db
                .random_entry(|| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                })
                .unwrap();
            seen[usize::from(e.key()[0])] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
