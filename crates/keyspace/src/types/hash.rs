//! The hash type (Redis's `t_hash.c` values): a listpack while small, a hashtable beyond
//! `hash-max-listpack-entries` / `-value`, converted at the points Redis 7.2 converts
//! (`hashTypeTryConversion` on a command's arguments before it writes, `hashTypeSet` when a
//! field or value is too long or the entries pass the limit) and never back.
//!
//! The listpack is one buffer of length-prefixed entries, field then value, in insertion
//! order (so HGETALL on a small hash answers in Redis's order). The hashtable keeps each
//! field and its value together in one allocation, in a dense vector (O(1) uniform random
//! picks for HRANDFIELD), indexed by a hash table of positions. HSCAN walks fields in the
//! order of their hash under a seed fixed for the process, which does not depend on the
//! table's size, so a field present for the whole scan is returned however the table grows,
//! shrinks or converts.
//!
//! Per-field TTLs (Redis 7.4's HEXPIRE family) live in a side map that exists only for a
//! hash that has had one (OBJECT ENCODING then says `listpackex`, as 7.4 does). A field past
//! its TTL is invisible to every read; the commands delete it when they meet it, and the
//! active cycle sweeps the rest.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::HashTable;

use crate::encoding::Limits;
use crate::memory::{malloc_size, scale, table_bytes};

/// The seed of field hashes: random per process, fixed for its life (HSCAN order).
fn hasher() -> &'static foldhash::fast::FixedState {
    static SEED: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    SEED.get_or_init(|| {
        let seed = foldhash::fast::RandomState::default().hash_one(0x5eed_u64);
        foldhash::fast::FixedState::with_seed(seed)
    })
}

/// Hash of a field (table index and HSCAN order).
#[inline]
fn field_hash(field: &[u8]) -> u64 {
    hasher().hash_one(field)
}

/// Where a field sorts in HSCAN order: the hash's top 63 bits, so the next cursor,
/// `pos + 1`, never wraps to 0 (which ends a scan).
#[inline]
fn scan_pos(field: &[u8]) -> u64 {
    field_hash(field) >> 1
}

/// Append `n` as LEB128.
#[inline]
fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Bytes `put_varint(n)` takes.
#[inline]
fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

/// Read a LEB128 at `buf[*at..]`, advancing `at`.
#[inline]
fn get_varint(buf: &[u8], at: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[*at];
        *at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

/// One length-prefixed entry at `buf[*at..]`, advancing `at`.
#[inline]
fn get_entry<'a>(buf: &'a [u8], at: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, at);
    let s = &buf[*at..*at + n];
    *at += n;
    s
}

/// A field and its value in one allocation: varint field length, field, value.
type Pair = Box<[u8]>;

fn make_pair(field: &[u8], value: &[u8]) -> Pair {
    let mut v = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    put_varint(&mut v, field.len());
    v.extend_from_slice(field);
    v.extend_from_slice(value);
    v.into_boxed_slice()
}

#[inline]
fn pair_split(p: &[u8]) -> (&[u8], &[u8]) {
    let mut at = 0;
    let n = get_varint(p, &mut at);
    (&p[at..at + n], &p[at + n..])
}

#[inline]
fn pair_field(p: &[u8]) -> &[u8] {
    pair_split(p).0
}

/// The listpack encoding: entries field, value, field, value... in insertion order.
#[derive(Debug, Clone, Default)]
struct Listpack {
    buf: Vec<u8>,
    len: u32,
}

/// Where a field is in a listpack: the start of its field entry, of its value's length
/// prefix, and its value's bytes.
struct Found {
    start: usize,
    value_hdr: usize,
    value: std::ops::Range<usize>,
}

impl Listpack {
    fn iter(&self) -> ListpackIter<'_> {
        ListpackIter {
            buf: &self.buf,
            at: 0,
        }
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let buf = &self.buf[..];
        let mut at = 0;
        while at < buf.len() {
            let start = at;
            let f = get_entry(buf, &mut at);
            let value_hdr = at;
            let vlen = get_varint(buf, &mut at);
            let value = at..at + vlen;
            at += vlen;
            if f == field {
                return Some(Found {
                    start,
                    value_hdr,
                    value,
                });
            }
        }
        None
    }

    /// Append a new pair, growing the buffer by exactly what it needs (as a listpack does).
    fn push(&mut self, field: &[u8], value: &[u8]) {
        let need = varint_len(field.len()) + field.len() + varint_len(value.len()) + value.len();
        self.buf.reserve_exact(need);
        put_varint(&mut self.buf, field.len());
        self.buf.extend_from_slice(field);
        put_varint(&mut self.buf, value.len());
        self.buf.extend_from_slice(value);
        self.len += 1;
    }

    fn replace_value(&mut self, found: &Found, value: &[u8]) {
        if found.value.len() == value.len() {
            self.buf[found.value.clone()].copy_from_slice(value);
            return;
        }
        let mut enc: smallvec::SmallVec<[u8; 10]> = smallvec::SmallVec::new();
        let mut n = value.len();
        while n >= 0x80 {
            enc.push((n as u8) | 0x80);
            n >>= 7;
        }
        enc.push(n as u8);
        let old = found.value_hdr..found.value.end;
        let new_len = enc.len() + value.len();
        if new_len > old.len() {
            self.buf.reserve_exact(new_len - old.len());
        }
        self.buf
            .splice(old, enc.iter().copied().chain(value.iter().copied()));
        if self.buf.capacity() > self.buf.len() + 64 {
            self.buf.shrink_to_fit();
        }
    }

    fn remove(&mut self, found: &Found) {
        self.buf.drain(found.start..found.value.end);
        self.len -= 1;
        if self.buf.capacity() > self.buf.len() * 2 + 64 {
            self.buf.shrink_to_fit();
        }
    }
}

struct ListpackIter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for ListpackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let f = get_entry(self.buf, &mut self.at);
        let v = get_entry(self.buf, &mut self.at);
        Some((f, v))
    }
}

/// The hashtable encoding: pairs in a dense vector, indexed by field hash.
#[derive(Debug, Clone, Default)]
struct Table {
    pairs: Vec<Pair>,
    index: HashTable<u32>,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            pairs: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
        }
    }

    fn find(&self, field: &[u8]) -> Option<usize> {
        let pairs = &self.pairs;
        self.index
            .find(field_hash(field), |&i| {
                pair_field(&pairs[i as usize]) == field
            })
            .map(|&i| i as usize)
    }

    /// Insert a field known to be absent.
    fn insert_new(&mut self, pair: Pair) {
        let i = self.pairs.len() as u32;
        let h = field_hash(pair_field(&pair));
        self.pairs.push(pair);
        let pairs = &self.pairs;
        self.index
            .insert_unique(h, i, |&j| field_hash(pair_field(&pairs[j as usize])));
    }

    fn remove_at(&mut self, i: usize) {
        let h = field_hash(pair_field(&self.pairs[i]));
        if let Ok(e) = self.index.find_entry(h, |&j| j as usize == i) {
            e.remove();
        }
        let last = self.pairs.len() - 1;
        if i != last {
            let hl = field_hash(pair_field(&self.pairs[last]));
            if let Some(slot) = self.index.find_mut(hl, |&j| j as usize == last) {
                *slot = i as u32;
            }
        }
        self.pairs.swap_remove(i);
        // Shrink as Redis's dict does when it falls under 1/8 full (htNeedsResize).
        if self.pairs.capacity() > 64 && self.pairs.len() * 8 < self.pairs.capacity() {
            self.pairs.shrink_to(self.pairs.len() * 2);
            let pairs = &self.pairs;
            self.index.shrink_to(pairs.len() * 2, |&j| {
                field_hash(pair_field(&pairs[j as usize]))
            });
        }
    }
}

#[derive(Debug, Clone)]
enum Enc {
    Listpack(Listpack),
    /// Boxed so that a small hash, stored in its entry's block, is 40 bytes and not 64.
    Table(Box<Table>),
}

/// A hash value.
#[derive(Debug, Clone)]
pub(crate) struct Hash {
    enc: Enc,
    /// Field TTLs (absolute ms), once any field has had one (Redis 7.4's HFE). Boxed so a
    /// hash without them pays one pointer, not a whole map header.
    #[allow(clippy::box_collection)]
    ttls: Option<Box<HashMap<Box<[u8]>, i64>>>,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

/// What `Hash::set` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetResult {
    /// A new field.
    Inserted,
    /// An existing field got a new value.
    Updated,
}

impl Hash {
    /// An empty hash, listpack-encoded.
    pub(crate) fn new() -> Hash {
        Hash {
            enc: Enc::Listpack(Listpack::default()),
            ttls: None,
        }
    }

    /// Number of fields (expired ones not yet deleted included, as Redis 7.4's HLEN).
    pub(crate) fn len(&self) -> usize {
        match &self.enc {
            Enc::Listpack(lp) => lp.len as usize,
            Enc::Table(t) => t.pairs.len(),
        }
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match (&self.enc, self.ttls.is_some()) {
            (Enc::Listpack(_), false) => "listpack",
            (Enc::Listpack(_), true) => "listpackex",
            (Enc::Table(_), _) => "hashtable",
        }
    }

    /// True while listpack-encoded.
    pub(crate) fn is_listpack(&self) -> bool {
        matches!(self.enc, Enc::Listpack(_))
    }

    /// The value of `field`, ignoring TTLs.
    fn get_raw(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.enc {
            Enc::Listpack(lp) => lp.find(field).map(|f| &lp.buf[f.value]),
            Enc::Table(t) => t.find(field).map(|i| pair_split(&t.pairs[i]).1),
        }
    }

    /// True when `field` has a TTL at or before `now_ms`.
    #[inline]
    pub(crate) fn field_expired(&self, field: &[u8], now_ms: i64) -> bool {
        match &self.ttls {
            None => false,
            Some(t) => t.get(field).is_some_and(|&at| at <= now_ms),
        }
    }

    /// The value of a live `field`.
    #[inline]
    pub(crate) fn get(&self, field: &[u8], now_ms: i64) -> Option<&[u8]> {
        if self.field_expired(field, now_ms) {
            return None;
        }
        self.get_raw(field)
    }

    /// Redis's `hashTypeTryConversion` on the arguments a write is about to store (fields
    /// and values alternating): converts when there are more pairs than the entries limit
    /// (duplicates counted, as Redis guesses), or when any argument is longer than the value
    /// limit.
    pub(crate) fn try_conversion(&mut self, args: &[&[u8]], lim: &Limits) {
        let Enc::Listpack(_) = self.enc else {
            return;
        };
        let new_fields = args.len() / 2;
        if new_fields as i64 > lim.hash_max_listpack_entries {
            self.convert(new_fields);
            return;
        }
        if args
            .iter()
            .any(|a| a.len() as i64 > lim.hash_max_listpack_value)
        {
            self.convert(0);
        }
    }

    /// `hashTypeConvert` to a hashtable, sized for `extra` more fields.
    fn convert(&mut self, extra: usize) {
        let Enc::Listpack(lp) = &self.enc else {
            return;
        };
        let mut t = Table::with_capacity(lp.len as usize + extra);
        for (f, v) in lp.iter() {
            t.insert_new(make_pair(f, v));
        }
        self.enc = Enc::Table(Box::new(t));
    }

    /// Redis's `hashTypeSet`: store `value` under `field` (its TTL, if any, dropped, as
    /// Redis 7.4's HSET does), converting when the field or value is too long for the
    /// listpack or the listpack gets too many entries.
    pub(crate) fn set(
        &mut self,
        field: &[u8],
        value: &[u8],
        now_ms: i64,
        lim: &Limits,
    ) -> SetResult {
        self.set_ttl_policy(field, value, now_ms, lim, false)
    }

    /// `set` that keeps a live field's TTL (Redis 7.4's HASH_SET_KEEP_TTL: HINCRBY,
    /// HINCRBYFLOAT).
    pub(crate) fn set_keep_ttl(
        &mut self,
        field: &[u8],
        value: &[u8],
        now_ms: i64,
        lim: &Limits,
    ) -> SetResult {
        self.set_ttl_policy(field, value, now_ms, lim, true)
    }

    fn set_ttl_policy(
        &mut self,
        field: &[u8],
        value: &[u8],
        now_ms: i64,
        lim: &Limits,
        keep_ttl: bool,
    ) -> SetResult {
        if let Some(t) = &mut self.ttls {
            match t.get(field).copied() {
                // A field past its TTL is replaced as a new one.
                Some(at) if at <= now_ms => {
                    self.remove(field);
                }
                Some(_) if !keep_ttl => {
                    t.remove(field);
                }
                _ => {}
            }
        }
        if let Enc::Listpack(_) = self.enc {
            if field.len() as i64 > lim.hash_max_listpack_value
                || value.len() as i64 > lim.hash_max_listpack_value
            {
                self.convert(1);
            }
        }
        match &mut self.enc {
            Enc::Listpack(lp) => {
                if let Some(found) = lp.find(field) {
                    lp.replace_value(&found, value);
                    return SetResult::Updated;
                }
                lp.push(field, value);
                if i64::from(lp.len) > lim.hash_max_listpack_entries {
                    self.convert(0);
                }
                SetResult::Inserted
            }
            Enc::Table(t) => match t.find(field) {
                Some(i) => {
                    let flen = varint_len(field.len()) + field.len();
                    let p = &mut t.pairs[i];
                    if p.len() - flen == value.len() {
                        p[flen..].copy_from_slice(value);
                    } else {
                        *p = make_pair(field, value);
                    }
                    SetResult::Updated
                }
                None => {
                    t.insert_new(make_pair(field, value));
                    SetResult::Inserted
                }
            },
        }
    }

    /// Remove `field` (live or expired); true when it was there.
    pub(crate) fn remove(&mut self, field: &[u8]) -> bool {
        if let Some(t) = &mut self.ttls {
            t.remove(field);
        }
        match &mut self.enc {
            Enc::Listpack(lp) => match lp.find(field) {
                Some(found) => {
                    lp.remove(&found);
                    true
                }
                None => false,
            },
            Enc::Table(t) => match t.find(field) {
                Some(i) => {
                    t.remove_at(i);
                    true
                }
                None => false,
            },
        }
    }

    /// Every pair, expired ones included, in the encoding's order (insertion order for a
    /// listpack).
    fn iter_raw(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let (lp, t) = match &self.enc {
            Enc::Listpack(lp) => (Some(lp.iter()), None),
            Enc::Table(t) => (None, Some(t.pairs.iter().map(|p| pair_split(p)))),
        };
        lp.into_iter().flatten().chain(t.into_iter().flatten())
    }

    /// Every live pair, in the encoding's order.
    pub(crate) fn iter(&self, now_ms: i64) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let ttls = self.ttls.as_deref();
        self.iter_raw()
            .filter(move |(f, _)| ttls.is_none_or(|t| t.get(*f).is_none_or(|&at| at > now_ms)))
    }

    /// Number of live fields (`len` less the expired ones not yet deleted).
    pub(crate) fn live_len(&self, now_ms: i64) -> usize {
        match &self.ttls {
            None => self.len(),
            Some(t) => self.len() - t.values().filter(|&&at| at <= now_ms).count(),
        }
    }

    /// The pair at position `i` (< len) of the encoding's order: O(1) for a hashtable, a
    /// walk for a listpack (small by definition).
    pub(crate) fn nth(&self, i: usize) -> (&[u8], &[u8]) {
        match &self.enc {
            Enc::Listpack(lp) => lp.iter().nth(i).unwrap_or((&[], &[])),
            Enc::Table(t) => pair_split(&t.pairs[i]),
        }
    }

    /// One HSCAN step from `cursor` on a hashtable: the pairs whose scan position is at
    /// least `cursor`, `count` of them (more when positions tie), in position order are
    /// passed to `emit`; returns the next cursor (0 when done). A listpack answers whole,
    /// as Redis's does.
    pub(crate) fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        now_ms: i64,
        mut emit: impl FnMut(&'a [u8], &'a [u8]),
    ) -> u64 {
        let t = match &self.enc {
            Enc::Listpack(_) => {
                for (f, v) in self.iter(now_ms) {
                    emit(f, v);
                }
                return 0;
            }
            Enc::Table(t) => t,
        };
        let mut cand: Vec<(u64, u32)> = t
            .pairs
            .iter()
            .enumerate()
            .map(|(i, p)| (scan_pos(pair_field(p)), i as u32))
            .filter(|(p, _)| *p >= cursor)
            .collect();
        // Each call walks the whole table, so a big table returns more per call (as generic
        // SCAN does per segment): a full scan then costs a bounded number of passes. COUNT
        // is a hint; Redis too may return more.
        let count = count.max(t.pairs.len() / 16).max(1);
        let next = if cand.len() > count {
            let (_, nth, _) = cand.select_nth_unstable_by_key(count - 1, |c| c.0);
            let bound = nth.0;
            cand.retain(|c| c.0 <= bound);
            bound + 1
        } else {
            0
        };
        cand.sort_unstable();
        for (_, i) in cand {
            let (f, v) = pair_split(&t.pairs[i as usize]);
            if !self.field_expired(f, now_ms) {
                emit(f, v);
            }
        }
        next
    }

    /// The TTL of `field` (absolute ms), if it has one.
    pub(crate) fn field_ttl(&self, field: &[u8]) -> Option<i64> {
        self.ttls.as_ref().and_then(|t| t.get(field).copied())
    }

    /// True when the field exists (TTLs ignored).
    pub(crate) fn contains_raw(&self, field: &[u8]) -> bool {
        self.get_raw(field).is_some()
    }

    /// Give an existing `field` a TTL (absolute ms); the hash becomes `listpackex` if it
    /// was a plain listpack.
    pub(crate) fn set_field_ttl(&mut self, field: &[u8], at_ms: i64) {
        let t = self.ttls.get_or_insert_with(Box::default);
        match t.get_mut(field) {
            Some(v) => *v = at_ms,
            None => {
                t.insert(Box::from(field), at_ms);
            }
        }
    }

    /// Make `field` persistent; true when it had a TTL.
    pub(crate) fn clear_field_ttl(&mut self, field: &[u8]) -> bool {
        self.ttls
            .as_mut()
            .is_some_and(|t| t.remove(field).is_some())
    }

    /// Make the hash ready to hold field TTLs (Redis 7.4 converts a listpack to listpackex
    /// as soon as HEXPIRE runs on it).
    pub(crate) fn enable_ttls(&mut self) {
        self.ttls.get_or_insert_with(Box::default);
    }

    /// True when some field has a TTL.
    pub(crate) fn has_field_ttls(&self) -> bool {
        self.ttls.as_ref().is_some_and(|t| !t.is_empty())
    }

    /// Delete up to `max` fields whose TTL is at or before `now_ms`, passing each to `gone`;
    /// returns how many.
    pub(crate) fn expire_fields(
        &mut self,
        now_ms: i64,
        max: usize,
        mut gone: impl FnMut(&[u8]),
    ) -> usize {
        let Some(t) = &self.ttls else {
            return 0;
        };
        let due: Vec<Box<[u8]>> = t
            .iter()
            .filter(|(_, &at)| at <= now_ms)
            .take(max)
            .map(|(f, _)| f.clone())
            .collect();
        for f in &due {
            self.remove(f);
            gone(f);
        }
        due.len()
    }
}

impl Hash {
    /// MEMORY USAGE's measure of the hash's heap (the `Hash` itself excluded): a listpack's
    /// buffer, or the pair vector and index plus the average of the first `samples` pairs
    /// times the field count (Redis's sampling of a dict); field TTLs likewise.
    pub(crate) fn mem_usage(&self, samples: usize) -> usize {
        let body = match &self.enc {
            Enc::Listpack(lp) => malloc_size(lp.buf.capacity()),
            Enc::Table(t) => {
                let taken = t.pairs.len().min(samples);
                let sum = t
                    .pairs
                    .iter()
                    .take(taken)
                    .map(|p| malloc_size(p.len()))
                    .sum();
                malloc_size(t.pairs.capacity() * std::mem::size_of::<Pair>())
                    + table_bytes::<u32>(t.index.capacity())
                    + scale(sum, taken, t.pairs.len())
            }
        };
        let ttls = self.ttls.as_ref().map_or(0, |m| {
            let taken = m.len().min(samples);
            let sum = m.keys().take(taken).map(|k| malloc_size(k.len())).sum();
            malloc_size(std::mem::size_of::<HashMap<Box<[u8]>, i64>>())
                + table_bytes::<(Box<[u8]>, i64)>(m.capacity())
                + scale(sum, taken, m.len())
        });
        body + ttls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(entries: i64, value: i64) -> Limits {
        Limits {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..Limits::default()
        }
    }

    #[test]
    fn listpack_keeps_insertion_order_and_converts_on_entries() {
        let l = lim(3, 64);
        let mut h = Hash::new();
        for f in [&b"c"[..], b"a", b"b"] {
            assert_eq!(h.set(f, b"v", 0, &l), SetResult::Inserted);
        }
        assert_eq!(h.set(b"a", b"longer value", 0, &l), SetResult::Updated);
        assert_eq!(h.encoding_name(), "listpack");
        let order: Vec<_> = h.iter(0).map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order, vec![b"c".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(h.get(b"a", 0), Some(&b"longer value"[..]));
        h.set(b"d", b"v", 0, &l);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get(b"a", 0), Some(&b"longer value"[..]));
        // Never back, even when small again.
        for f in [&b"a"[..], b"b", b"c"] {
            assert!(h.remove(f));
        }
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b"d", 0), Some(&b"v"[..]));
    }

    #[test]
    fn listpack_values_change_length_next_to_binary_fields() {
        let l = lim(128, 1000);
        let mut h = Hash::new();
        // Field bytes with the high bit set sit right before the value's length prefix.
        h.set(b"\xff\x80", b"v", 0, &l);
        h.set(b"next", b"w", 0, &l);
        for len in [0usize, 1, 127, 128, 300, 2, 200] {
            let v = vec![b'x'; len];
            assert_eq!(h.set(b"\xff\x80", &v, 0, &l), SetResult::Updated);
            assert_eq!(h.get(b"\xff\x80", 0), Some(&v[..]));
            assert_eq!(h.get(b"next", 0), Some(&b"w"[..]));
        }
        assert!(h.is_listpack());
    }

    #[test]
    fn long_fields_or_values_convert() {
        let l = lim(128, 4);
        let mut h = Hash::new();
        h.set(b"f", b"1234", 0, &l);
        assert!(h.is_listpack());
        h.set(b"f", b"12345", 0, &l);
        assert!(!h.is_listpack());
        let mut h = Hash::new();
        h.try_conversion(&[b"f", b"12345"], &l);
        assert!(!h.is_listpack());
        let l = lim(1, 64);
        let mut h = Hash::new();
        // Two pairs of the same field: Redis converts on the count of arguments.
        h.try_conversion(&[b"f", b"1", b"f", b"2"], &l);
        assert!(!h.is_listpack());
    }

    #[test]
    fn table_removal_keeps_index_consistent() {
        let l = lim(0, 64);
        let mut h = Hash::new();
        for i in 0..500u32 {
            h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), 0, &l);
        }
        for i in (0..500u32).step_by(3) {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        for i in 0..500u32 {
            let got = h.get(format!("f{i}").as_bytes(), 0);
            if i % 3 == 0 {
                assert_eq!(got, None);
            } else {
                assert_eq!(got, Some(format!("{i}").as_bytes()));
            }
        }
        assert_eq!(h.len(), 500 - 167);
    }

    #[test]
    fn scan_sees_every_stable_field_across_growth() {
        let l = lim(0, 64);
        let mut h = Hash::new();
        for i in 0..200u32 {
            h.set(format!("f{i}").as_bytes(), b"v", 0, &l);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut n = 1000u32;
        loop {
            cursor = h.scan(cursor, 10, 0, |f, _| {
                seen.insert(f.to_vec());
            });
            // Churn between calls: add new fields and remove some of them again.
            for _ in 0..20 {
                h.set(format!("n{n}").as_bytes(), b"v", 0, &l);
                n += 1;
            }
            for k in (1000..n).step_by(2) {
                h.remove(format!("n{k}").as_bytes());
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..200u32 {
            assert!(seen.contains(format!("f{i}").as_bytes()), "missed f{i}");
        }
    }

    #[test]
    fn field_ttls_hide_and_expire_fields() {
        let l = lim(128, 64);
        let mut h = Hash::new();
        h.set(b"a", b"1", 0, &l);
        h.set(b"b", b"2", 0, &l);
        h.set_field_ttl(b"a", 100);
        assert_eq!(h.encoding_name(), "listpackex");
        assert_eq!(h.get(b"a", 99), Some(&b"1"[..]));
        assert_eq!(h.get(b"a", 100), None);
        assert_eq!(h.live_len(100), 1);
        assert_eq!(h.len(), 2);
        let mut gone = Vec::new();
        assert_eq!(h.expire_fields(100, 10, |f| gone.push(f.to_vec())), 1);
        assert_eq!(gone, vec![b"a".to_vec()]);
        assert_eq!(h.len(), 1);
        // HSET drops a field's TTL; HINCRBY's write keeps it.
        h.set_field_ttl(b"b", 500);
        h.set_keep_ttl(b"b", b"4", 100, &l);
        assert_eq!(h.field_ttl(b"b"), Some(500));
        h.set(b"b", b"3", 100, &l);
        assert_eq!(h.field_ttl(b"b"), None);
    }
}
