//! The set type (Redis's `t_set.c` values): an intset or a listpack while small, a
//! hashtable beyond `set-max-intset-entries` / `set-max-listpack-entries` / `-value`.
//!
//! The three encodings and every conversion between them follow Redis 7.2's `setTypeCreate`,
//! `setTypeMaybeConvert`, `setTypeAddAux` and `maybeConvertToIntset`, so OBJECT ENCODING and
//! the order in which the small encodings reply (intset ascending, listpack in insertion
//! order) are Redis's. Commands live in `cmd/set.rs`; this module knows nothing of replies.
//!
//! Memory: an intset is one buffer of 2-, 4- or 8-byte integers (Redis's widths); a listpack
//! is one buffer of length-prefixed members; the hashtable holds 16-byte members that keep
//! up to 15 bytes inline and point to one exact-size allocation beyond. Buffers grow by an
//! eighth, not by doubling, so their slack stays near Redis's realloc-per-add.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::HashTable;

use crate::encoding::Limits;
use crate::memory::{malloc_size, scale, table_bytes};
use crate::number::{parse_i64, IntBuf};

/// One member as an iteration sees it: an intset yields integers, the others bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem<'a> {
    /// An intset member.
    Int(i64),
    /// A listpack or hashtable member.
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The member as bytes, formatting an integer into `buf`.
    pub(crate) fn bytes<'b>(self, buf: &'b mut IntBuf) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Elem::Int(v) => buf.format(v),
            Elem::Str(s) => s,
        }
    }
}

/// A set value.
#[derive(Debug, Clone)]
pub(crate) enum Set {
    /// All members are integers, ascending.
    Ints(IntSet),
    /// Members in insertion order.
    Pack(Pack),
    /// Unordered.
    Table(Box<Table>),
}

impl Default for Set {
    fn default() -> Set {
        Set::Ints(IntSet::default())
    }
}

/// Redis's `intsetMaxEntries`: set-max-intset-entries, capped at 2^30.
fn intset_max(lim: &Limits) -> usize {
    usize::try_from(lim.set_max_intset_entries.clamp(0, 1 << 30)).unwrap_or(0)
}

fn lim_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

impl Set {
    /// `setTypeCreate(value, size_hint)`: the empty set that can hold `first` and about
    /// `size_hint` members.
    pub(crate) fn create(first: &[u8], size_hint: usize, lim: &Limits) -> Set {
        if parse_i64(first).is_some() && size_hint <= intset_max(lim) {
            Set::Ints(IntSet::default())
        } else if size_hint <= lim_usize(lim.set_max_listpack_entries) {
            Set::Pack(Pack::default())
        } else {
            Set::Table(Box::new(Table::with_capacity(size_hint)))
        }
    }

    /// An empty listpack set (`createSetListpackObject`).
    pub(crate) fn new_pack() -> Set {
        Set::Pack(Pack::default())
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        match self {
            Set::Ints(s) => s.len(),
            Set::Pack(p) => p.len(),
            Set::Table(t) => t.len(),
        }
    }

    /// Visit every member as bytes (ZUNION/ZINTER/ZDIFF read sets as scores of 1).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8])) {
        let mut buf = IntBuf::new();
        for e in self.iter() {
            f(e.bytes(&mut buf));
        }
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Pack(_) => "listpack",
            Set::Table(_) => "hashtable",
        }
    }

    /// Make room for `members` about to be added (SADD's arguments), so the buffer grows
    /// once rather than once per member; `fit` gives back what duplicates left unused.
    pub(crate) fn reserve(&mut self, members: &[&[u8]]) {
        match self {
            Set::Ints(is) => {
                let w = members
                    .iter()
                    .filter_map(|m| parse_i64(m))
                    .map(width_of)
                    .max()
                    .unwrap_or(2)
                    .max(is.width());
                let need = 1 + (is.len() + members.len()) * usize::from(w);
                if w > is.width() {
                    // Upgrade now, so the widening copy lands in a buffer of the final size.
                    is.widen(w, need);
                } else {
                    is.buf.reserve_exact(need.saturating_sub(is.buf.len()));
                }
            }
            Set::Pack(p) => {
                let more: usize = members.iter().map(|m| m.len() + varint_len(m.len())).sum();
                p.buf.reserve_exact(PACK_HEAD + more);
            }
            Set::Table(t) => t.t.reserve(members.len(), |x| member_hash(x.as_bytes())),
        }
    }

    /// Give back buffer space left over after `reserve` (more than an eighth unused).
    pub(crate) fn fit(&mut self) {
        let buf = match self {
            Set::Ints(is) => &mut is.buf,
            Set::Pack(p) => &mut p.buf,
            Set::Table(_) => return,
        };
        if buf.capacity() - buf.len() > buf.len() / 8 {
            buf.shrink_to_fit();
        }
    }

    /// `setTypeMaybeConvert`: go to a hashtable now when `size_hint` more members would not
    /// fit the current encoding (SADD with that many arguments).
    pub(crate) fn maybe_convert(&mut self, size_hint: usize, lim: &Limits) {
        let over = match self {
            Set::Pack(_) => size_hint > lim_usize(lim.set_max_listpack_entries),
            Set::Ints(_) => size_hint > intset_max(lim),
            Set::Table(_) => false,
        };
        if over {
            self.convert_to_table(size_hint);
        }
    }

    /// `setTypeConvertAndExpand(.., OBJ_ENCODING_HT, cap)`.
    fn convert_to_table(&mut self, cap: usize) {
        let mut t = Table::with_capacity(cap.max(self.len()));
        let mut buf = IntBuf::new();
        for e in self.iter() {
            t.insert_new(e.bytes(&mut buf));
        }
        *self = Set::Table(Box::new(t));
    }

    /// `setTypeAdd`: add `m`; false when it was a member already.
    pub(crate) fn add(&mut self, m: &[u8], lim: &Limits) -> bool {
        match self {
            Set::Table(t) => t.insert(m),
            Set::Pack(p) => {
                if p.find(m).is_some() {
                    return false;
                }
                if p.len() < lim_usize(lim.set_max_listpack_entries)
                    && m.len() <= lim_usize(lim.set_max_listpack_value)
                {
                    p.push(m);
                } else {
                    self.convert_to_table(self.len() + 1);
                    if let Set::Table(t) = self {
                        t.insert_new(m);
                    }
                }
                true
            }
            Set::Ints(is) => {
                if let Some(v) = parse_i64(m) {
                    if !is.insert(v) {
                        return false;
                    }
                    self.maybe_convert_intset(lim);
                    return true;
                }
                // Redis checks, before leaving the intset, that every member as text would
                // fit a listpack entry (the longest of min and max in digits).
                let n = is.len();
                let maxelelen = match (is.min(), is.max()) {
                    (Some(lo), Some(hi)) => {
                        crate::number::digits10(lo).max(crate::number::digits10(hi))
                    }
                    _ => 0,
                };
                let vmax = lim_usize(lim.set_max_listpack_value);
                if n < lim_usize(lim.set_max_listpack_entries)
                    && m.len() <= vmax
                    && maxelelen <= vmax
                {
                    let mut p = Pack::with_capacity(n + 1);
                    let mut buf = IntBuf::new();
                    for v in is.iter() {
                        p.push(buf.format(v));
                    }
                    p.push(m);
                    *self = Set::Pack(p);
                } else {
                    self.convert_to_table(n + 1);
                    if let Set::Table(t) = self {
                        t.insert_new(m);
                    }
                }
                true
            }
        }
    }

    /// `setTypeAddAux` with an element of another set: an integer goes straight into an
    /// intset.
    pub(crate) fn add_elem(&mut self, e: Elem<'_>, lim: &Limits) -> bool {
        match (e, &mut *self) {
            (Elem::Int(v), Set::Ints(is)) => {
                if !is.insert(v) {
                    return false;
                }
                self.maybe_convert_intset(lim);
                true
            }
            (e, _) => {
                let mut buf = IntBuf::new();
                self.add(e.bytes(&mut buf), lim)
            }
        }
    }

    /// `maybeConvertIntset`: an intset past its limit becomes a hashtable.
    fn maybe_convert_intset(&mut self, lim: &Limits) {
        if let Set::Ints(is) = self {
            if is.len() > intset_max(lim) {
                let n = is.len();
                self.convert_to_table(n);
            }
        }
    }

    /// `maybeConvertToIntset`: a set known to hold only integers becomes an intset when it
    /// is small enough for one.
    pub(crate) fn maybe_convert_to_intset(&mut self, lim: &Limits) {
        if matches!(self, Set::Ints(_)) || self.len() > intset_max(lim) {
            return;
        }
        let mut is = IntSet::default();
        for e in self.iter() {
            match e {
                Elem::Int(v) => {
                    is.insert(v);
                }
                Elem::Str(s) => {
                    if let Some(v) = parse_i64(s) {
                        is.insert(v);
                    }
                }
            }
        }
        *self = Set::Ints(is);
    }

    /// `setTypeRemove`: remove `m`; false when it was not a member.
    pub(crate) fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Table(t) => t.remove(m),
            Set::Pack(p) => match p.find(m) {
                Some(at) => {
                    p.remove_at(at);
                    true
                }
                None => false,
            },
            Set::Ints(is) => parse_i64(m).is_some_and(|v| is.remove(v)),
        }
    }

    /// `setTypeIsMember`.
    pub(crate) fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Table(t) => t.contains(m),
            Set::Pack(p) => p.find(m).is_some(),
            Set::Ints(is) => parse_i64(m).is_some_and(|v| is.contains(v)),
        }
    }

    /// `setTypeIsMemberAux` with an element of another set.
    pub(crate) fn contains_elem(&self, e: Elem<'_>) -> bool {
        match (e, self) {
            (Elem::Int(v), Set::Ints(is)) => is.contains(v),
            (e, _) => {
                let mut buf = IntBuf::new();
                self.contains(e.bytes(&mut buf))
            }
        }
    }

    /// The members in the encoding's order.
    pub(crate) fn iter(&self) -> Iter<'_> {
        match self {
            Set::Ints(is) => Iter::Ints(is, 0),
            Set::Pack(p) => Iter::Pack(&p.buf, PACK_HEAD),
            Set::Table(t) => Iter::Table(t.t.iter()),
        }
    }

    /// Number of positions a random draw picks among (`slot`): intset and listpack
    /// indexes, or hashtable buckets, some of them empty.
    pub(crate) fn slots(&self) -> usize {
        match self {
            Set::Ints(is) => is.len(),
            Set::Pack(p) => p.len(),
            Set::Table(t) => t.t.num_buckets(),
        }
    }

    /// The member at position `i` of `slots()`, None for an empty bucket.
    pub(crate) fn slot(&self, i: usize) -> Option<Elem<'_>> {
        match self {
            Set::Ints(is) => (i < is.len()).then(|| Elem::Int(is.get(i))),
            Set::Pack(p) => p.nth(i).map(|(s, e)| Elem::Str(&p.buf[s..e])),
            Set::Table(t) => t.t.get_bucket(i).map(|m| Elem::Str(m.as_bytes())),
        }
    }

    /// Remove the member at position `i` of `slots()` (which must hold one).
    pub(crate) fn remove_slot(&mut self, i: usize) {
        match self {
            Set::Ints(is) => is.remove_at(i),
            Set::Pack(p) => {
                if let Some(at) = p.nth(i) {
                    p.remove_at(at);
                }
            }
            Set::Table(t) => {
                if let Ok(e) = t.t.get_bucket_entry(i) {
                    e.remove();
                    t.shrink_if_sparse();
                }
            }
        }
    }

    /// A uniformly random occupied position (the set must not be empty): Redis's
    /// `dictGetFairRandomKey`, `intsetRandom` and `rand() % lpLength`.
    pub(crate) fn random_slot(&self, rng: &mut Rand) -> usize {
        match self {
            Set::Table(t) => loop {
                let i = rng.below(t.t.num_buckets());
                if t.t.get_bucket(i).is_some() {
                    return i;
                }
            },
            _ => rng.below(self.len()),
        }
    }

    /// Keep only the members at the listpack or intset indexes where `keep` is true (SPOP
    /// with a count: Redis's `lpBatchDelete`, which keeps the order).
    pub(crate) fn retain_indexes(&mut self, keep: &[bool]) {
        match self {
            Set::Ints(is) => is.retain_indexes(keep),
            Set::Pack(p) => p.retain_indexes(keep),
            Set::Table(_) => {}
        }
    }
}

/// Iterator over a set's members.
pub(crate) enum Iter<'a> {
    Ints(&'a IntSet, usize),
    Pack(&'a [u8], usize),
    Table(hashbrown::hash_table::Iter<'a, Member>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;
    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            Iter::Ints(is, i) => {
                let v = (*i < is.len()).then(|| is.get(*i))?;
                *i += 1;
                Some(Elem::Int(v))
            }
            Iter::Pack(buf, at) => {
                let (s, e) = entry_at(buf, *at)?;
                *at = e;
                Some(Elem::Str(&buf[s..e]))
            }
            Iter::Table(it) => it.next().map(|m| Elem::Str(m.as_bytes())),
        }
    }
}

/// Grow `v` so it can take `extra` more bytes, by at least an eighth of its size.
fn reserve_slim(v: &mut Vec<u8>, extra: usize) {
    if v.capacity() - v.len() < extra {
        v.reserve_exact(extra.max(v.len() / 8).max(8));
    }
}

// ---------------------------------------------------------------------------------------
// intset

/// Redis's intset: sorted integers, all stored at the width of the widest (2, 4 or 8 bytes).
/// Byte 0 of the buffer is the width (an empty buffer is an empty set of width 2), so the
/// set fits in one `Vec` and `Set` in 32 bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct IntSet {
    buf: Vec<u8>,
}

/// The width `_intsetValueEncoding` gives `v`.
fn width_of(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    fn width(&self) -> u8 {
        self.buf.first().copied().unwrap_or(2)
    }

    fn len(&self) -> usize {
        self.buf.len().saturating_sub(1) / usize::from(self.width())
    }

    fn get(&self, i: usize) -> i64 {
        let w = usize::from(self.width());
        let b = &self.buf[1 + i * w..1 + i * w + w];
        match w {
            2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    /// Write `v` at index `i` of the members (after the width byte).
    fn put(buf: &mut [u8], w: usize, i: usize, v: i64) {
        let dst = &mut buf[1 + i * w..1 + i * w + w];
        match w {
            2 => dst.copy_from_slice(&(v as i16).to_le_bytes()),
            4 => dst.copy_from_slice(&(v as i32).to_le_bytes()),
            _ => dst.copy_from_slice(&v.to_le_bytes()),
        }
    }

    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn contains(&self, v: i64) -> bool {
        width_of(v) <= self.width() && self.search(v).is_ok()
    }

    fn min(&self) -> Option<i64> {
        (self.len() > 0).then(|| self.get(0))
    }

    fn max(&self) -> Option<i64> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// Re-encode every member at width `w` (wider than now) in a buffer of `cap` bytes.
    fn widen(&mut self, w: u8, cap: usize) {
        let n = self.len();
        let nw = usize::from(w);
        let mut nb = Vec::with_capacity(cap.max(1 + n * nw));
        nb.resize(1 + n * nw, 0);
        nb[0] = w;
        for i in 0..n {
            Self::put(&mut nb, nw, i, self.get(i));
        }
        self.buf = nb;
    }

    /// `intsetAdd`: false when present.
    fn insert(&mut self, v: i64) -> bool {
        let w = width_of(v);
        if w > self.width() {
            // `intsetUpgradeAndAdd`: re-encode at the new width; v is beyond every member.
            let n = self.len();
            let nw = usize::from(w);
            let mut nb = vec![0; 1 + (n + 1) * nw];
            nb[0] = w;
            let front = usize::from(v < 0);
            for i in 0..n {
                Self::put(&mut nb, nw, i + front, self.get(i));
            }
            Self::put(&mut nb, nw, if v < 0 { 0 } else { n }, v);
            self.buf = nb;
            return true;
        }
        match self.search(v) {
            Ok(_) => false,
            Err(at) => {
                if self.buf.is_empty() {
                    self.buf.push(2);
                }
                let wd = usize::from(self.width());
                reserve_slim(&mut self.buf, wd);
                let old = self.buf.len();
                self.buf.resize(old + wd, 0);
                self.buf.copy_within(1 + at * wd..old, 1 + at * wd + wd);
                Self::put(&mut self.buf, wd, at, v);
                true
            }
        }
    }

    /// `intsetRemove`: false when absent.
    fn remove(&mut self, v: i64) -> bool {
        if width_of(v) > self.width() {
            return false;
        }
        match self.search(v) {
            Ok(at) => {
                self.remove_at(at);
                true
            }
            Err(_) => false,
        }
    }

    fn remove_at(&mut self, at: usize) {
        let w = usize::from(self.width());
        self.buf.drain(1 + at * w..1 + at * w + w);
        shrink_if_slack(&mut self.buf);
    }

    fn retain_indexes(&mut self, keep: &[bool]) {
        let w = usize::from(self.width());
        let mut out = 0;
        for (i, k) in keep.iter().enumerate().take(self.len()) {
            if *k {
                self.buf.copy_within(1 + i * w..1 + i * w + w, 1 + out * w);
                out += 1;
            }
        }
        self.buf.truncate(1 + out * w);
        self.buf.shrink_to_fit();
    }

    fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Give back a buffer's memory once it is less than half used (Redis reallocs on delete).
fn shrink_if_slack(v: &mut Vec<u8>) {
    if v.capacity() > 64 && v.len() * 2 < v.capacity() {
        v.shrink_to_fit();
    }
}

// ---------------------------------------------------------------------------------------
// listpack

/// A listpack: a 4-byte member count, then the members in insertion order, each a varint
/// length and its bytes (an empty buffer is an empty listpack).
#[derive(Debug, Clone, Default)]
pub(crate) struct Pack {
    buf: Vec<u8>,
}

/// Where a listpack's members start.
const PACK_HEAD: usize = 4;

/// The member whose header starts at `at`: (start, end) of its bytes.
fn entry_at(buf: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut len = 0usize;
    let mut shift = 0;
    let mut i = at;
    loop {
        let b = *buf.get(i)?;
        len |= usize::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    Some((i, i + len))
}

/// Bytes of the varint length of an `n`-byte member.
fn varint_len(n: usize) -> usize {
    match n {
        n if n < 1 << 7 => 1,
        n if n < 1 << 14 => 2,
        n if n < 1 << 21 => 3,
        n if n < 1 << 28 => 4,
        _ => 5,
    }
}

fn push_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Where one listpack member lies: its header start and the end of its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    head: usize,
    end: usize,
}

impl Pack {
    fn with_capacity(n: usize) -> Pack {
        Pack {
            buf: Vec::with_capacity(PACK_HEAD + n * 4),
        }
    }

    fn len(&self) -> usize {
        match self.buf.get(..PACK_HEAD) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    fn set_len(&mut self, n: usize) {
        if self.buf.len() < PACK_HEAD {
            self.buf.resize(PACK_HEAD, 0);
        }
        self.buf[..PACK_HEAD].copy_from_slice(&(n as u32).to_le_bytes());
    }

    fn find(&self, m: &[u8]) -> Option<At> {
        let mut at = PACK_HEAD;
        while let Some((s, e)) = entry_at(&self.buf, at) {
            if &self.buf[s..e] == m {
                return Some(At { head: at, end: e });
            }
            at = e;
        }
        None
    }

    /// The `i`th member's (start, end) of its bytes.
    fn nth(&self, i: usize) -> Option<(usize, usize)> {
        let mut at = PACK_HEAD;
        for _ in 0..i {
            at = entry_at(&self.buf, at)?.1;
        }
        entry_at(&self.buf, at)
    }

    fn push(&mut self, m: &[u8]) {
        let n = self.len();
        reserve_slim(&mut self.buf, m.len() + 5 + PACK_HEAD);
        self.set_len(n + 1);
        push_varint(&mut self.buf, m.len());
        self.buf.extend_from_slice(m);
    }

    fn remove_at(&mut self, at: impl Into<At>) {
        let at = at.into();
        let n = self.len();
        self.buf.drain(at.head..at.end);
        self.set_len(n - 1);
        shrink_if_slack(&mut self.buf);
    }

    fn retain_indexes(&mut self, keep: &[bool]) {
        let mut out = vec![0; PACK_HEAD];
        let mut at = PACK_HEAD;
        let mut n = 0usize;
        for k in keep {
            let Some((_, e)) = entry_at(&self.buf, at) else {
                break;
            };
            if *k {
                out.extend_from_slice(&self.buf[at..e]);
                n += 1;
            }
            at = e;
        }
        out.shrink_to_fit();
        self.buf = out;
        self.set_len(n);
    }
}

impl From<(usize, usize)> for At {
    /// From `nth`'s (start, end) of the bytes: the header is the varint before start.
    fn from((s, e): (usize, usize)) -> At {
        let hdr = match e - s {
            n if n < 1 << 7 => 1,
            n if n < 1 << 14 => 2,
            n if n < 1 << 21 => 3,
            n if n < 1 << 28 => 4,
            _ => 5,
        };
        At {
            head: s - hdr,
            end: e,
        }
    }
}

// ---------------------------------------------------------------------------------------
// hashtable

/// The process-wide seed of set hashtables: random per process (no hash flooding), fixed
/// for its life, so an SSCAN cursor (a hash position) stays valid across resizes.
fn table_hasher() -> foldhash::fast::FixedState {
    static SEED: OnceLock<u64> = OnceLock::new();
    let seed = *SEED.get_or_init(|| foldhash::fast::RandomState::default().hash_one(0x5e7u64));
    foldhash::fast::FixedState::with_seed(seed)
}

/// The hash of a member (SSCAN orders by it).
pub(crate) fn member_hash(m: &[u8]) -> u64 {
    table_hasher().hash_one(m)
}

/// A hashtable set.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    t: HashTable<Member>,
}

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            t: HashTable::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.t.len()
    }

    fn insert(&mut self, m: &[u8]) -> bool {
        let h = member_hash(m);
        match self
            .t
            .entry(h, |x| x.as_bytes() == m, |x| member_hash(x.as_bytes()))
        {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Member::new(m));
                true
            }
        }
    }

    fn insert_new(&mut self, m: &[u8]) {
        self.t.insert_unique(member_hash(m), Member::new(m), |x| {
            member_hash(x.as_bytes())
        });
    }

    fn contains(&self, m: &[u8]) -> bool {
        self.t.find(member_hash(m), |x| x.as_bytes() == m).is_some()
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        match self.t.find_entry(member_hash(m), |x| x.as_bytes() == m) {
            Ok(e) => {
                e.remove();
                self.shrink_if_sparse();
                true
            }
            Err(_) => false,
        }
    }

    /// Give memory back under 1/8 full (Redis resizes a dict under 10%), which also keeps
    /// random draws by bucket cheap.
    fn shrink_if_sparse(&mut self) {
        let b = self.t.num_buckets();
        if b > 64 && self.t.len() * 8 < b {
            self.t
                .shrink_to(self.t.len() * 2, |x| member_hash(x.as_bytes()));
        }
    }

    /// The members whose hash position is at least `from`, hash-ordered, at least
    /// `target` of them unless the set runs out (never splitting equal positions); and where
    /// to resume (None when done). Positions are the hash's top 63 bits, so a cursor is never
    /// 0 except at the start.
    pub(crate) fn scan_from(&self, from: u64, target: usize) -> (Vec<&[u8]>, Option<u64>) {
        let mut cand: Vec<(u64, &[u8])> = self
            .t
            .iter()
            .map(|m| (member_hash(m.as_bytes()) >> 1, m.as_bytes()))
            .filter(|(p, _)| *p >= from)
            .collect();
        let next = if cand.len() > target && target > 0 {
            let (_, nth, _) = cand.select_nth_unstable_by_key(target - 1, |c| c.0);
            let bound = nth.0;
            cand.retain(|c| c.0 <= bound);
            Some(bound + 1)
        } else {
            None
        };
        (cand.into_iter().map(|c| c.1).collect(), next)
    }
}

impl Set {
    /// The hashtable, when the set is one.
    pub(crate) fn table(&self) -> Option<&Table> {
        match self {
            Set::Table(t) => Some(t),
            _ => None,
        }
    }
}

/// A hashtable member: up to 15 bytes inline (byte 15 is the length), else a pointer to an
/// exact-size boxed slice and its length (byte 15 is `HEAP`).
pub(crate) struct Member {
    raw: [u8; 16],
}

const HEAP: u8 = 0xff;
const INLINE_MAX: usize = 15;

// SAFETY: a Member owns its heap bytes exclusively, like a Box<[u8]>.
unsafe impl Send for Member {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Member {}

impl Member {
    fn new(m: &[u8]) -> Member {
        let mut raw = [0u8; 16];
        if m.len() <= INLINE_MAX {
            raw[..m.len()].copy_from_slice(m);
            raw[15] = m.len() as u8;
        } else {
            let b: Box<[u8]> = Box::from(m);
            let len = b.len() as u64;
            let p = Box::into_raw(b) as *mut u8 as usize as u64;
            raw[..8].copy_from_slice(&p.to_le_bytes());
            raw[8..15].copy_from_slice(&len.to_le_bytes()[..7]);
            raw[15] = HEAP;
        }
        Member { raw }
    }

    fn heap(&self) -> Option<(*mut u8, usize)> {
        if self.raw[15] != HEAP {
            return None;
        }
        let mut p = [0u8; 8];
        p.copy_from_slice(&self.raw[..8]);
        let mut l = [0u8; 8];
        l[..7].copy_from_slice(&self.raw[8..15]);
        Some((
            u64::from_le_bytes(p) as usize as *mut u8,
            u64::from_le_bytes(l) as usize,
        ))
    }

    fn as_bytes(&self) -> &[u8] {
        match self.heap() {
            // SAFETY: the pointer and length came from a live Box<[u8]> this member owns.
            Some((p, len)) => unsafe { std::slice::from_raw_parts(p, len) },
            None => &self.raw[..usize::from(self.raw[15])],
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Some((p, len)) = self.heap() {
            // SAFETY: rebuilds the Box<[u8]> made in `new`, exactly once.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, len)) });
        }
    }
}

impl Clone for Member {
    fn clone(&self) -> Member {
        Member::new(self.as_bytes())
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_bytes().escape_ascii().to_string())
    }
}

// ---------------------------------------------------------------------------------------
// randomness

/// A per-command random stream (splitmix64), seeded from the segment's generator.
#[derive(Debug)]
pub(crate) struct Rand(u64);

impl Rand {
    /// A stream from `seed`.
    pub(crate) fn new(seed: u64) -> Rand {
        Rand(seed)
    }

    /// The next u64.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Selection sampling (Knuth's algorithm S, as `lpNextRandom`): which of `n` positions,
    /// in order, make a uniform sample of `k`.
    pub(crate) fn sample(&mut self, n: usize, k: usize) -> Vec<bool> {
        let mut pick = vec![false; n];
        let mut need = k;
        for (i, p) in pick.iter_mut().enumerate() {
            if need == 0 {
                break;
            }
            let left = n - i;
            if self.below(left) < need {
                *p = true;
                need -= 1;
            }
        }
        pick
    }
}

impl Set {
    /// MEMORY USAGE's measure of the set's heap (the `Set` itself excluded): an intset's or
    /// listpack's buffer, or the table plus the average heap of the first `samples` members
    /// times the member count (Redis's sampling of a dict; members of up to 15 bytes live
    /// in the table and cost nothing more).
    pub(crate) fn mem_usage(&self, samples: usize) -> usize {
        match self {
            Set::Ints(s) => malloc_size(s.buf.capacity()),
            Set::Pack(p) => malloc_size(p.buf.capacity()),
            Set::Table(t) => {
                let taken = t.t.len().min(samples);
                let sum =
                    t.t.iter()
                        .take(taken)
                        .map(|m| m.heap().map_or(0, |(_, len)| malloc_size(len)))
                        .sum();
                malloc_size(std::mem::size_of::<Table>())
                    + table_bytes::<Member>(t.t.capacity())
                    + scale(sum, taken, t.t.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    fn members(s: &Set) -> Vec<Vec<u8>> {
        let mut b = IntBuf::new();
        s.iter().map(|e| e.bytes(&mut b).to_vec()).collect()
    }

    #[test]
    fn intset_keeps_integers_sorted_and_upgrades_width() {
        let mut s = Set::create(b"5", 1, &lim());
        for m in ["5", "-3", "70000", "1", "-9000000000", "5"] {
            s.add(m.as_bytes(), &lim());
        }
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(
            members(&s),
            ["-9000000000", "-3", "1", "5", "70000"].map(|x| x.as_bytes().to_vec())
        );
        assert!(s.contains(b"70000") && !s.contains(b"7") && !s.contains(b"05"));
        assert!(s.remove(b"-3") && !s.remove(b"-3"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn intset_becomes_listpack_then_hashtable() {
        let mut s = Set::create(b"1", 1, &lim());
        s.add(b"3", &lim());
        s.add(b"1", &lim());
        s.add(b"a", &lim());
        assert_eq!(s.encoding_name(), "listpack");
        assert_eq!(members(&s), [b"1".to_vec(), b"3".to_vec(), b"a".to_vec()]);
        s.add(&[b'x'; 65], &lim());
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(s.len(), 4);
        assert!(s.contains(&[b'x'; 65]) && s.contains(b"3"));
    }

    #[test]
    fn intset_over_its_limit_is_a_hashtable() {
        let l = Limits {
            set_max_intset_entries: 4,
            ..lim()
        };
        let mut s = Set::create(b"1", 1, &l);
        for i in 0..5 {
            s.add(i.to_string().as_bytes(), &l);
        }
        assert_eq!(s.encoding_name(), "hashtable");
        s.maybe_convert_to_intset(&lim());
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn members_inline_and_on_the_heap() {
        let mut t = Table::with_capacity(0);
        let long = vec![7u8; 300];
        assert!(t.insert(b"short") && t.insert(&long) && t.insert(b""));
        assert!(!t.insert(&long));
        assert!(t.contains(&long) && t.contains(b"") && !t.contains(b"x"));
        let c = t.clone();
        assert!(t.remove(&long) && !t.remove(&long));
        assert!(c.contains(&long));
        assert_eq!(std::mem::size_of::<Member>(), 16);
        assert_eq!(std::mem::size_of::<Set>(), 32);
    }

    #[test]
    fn listpack_keeps_insertion_order_and_long_entries() {
        let mut p = Pack::default();
        let long = vec![b'z'; 200];
        p.push(b"b");
        p.push(&long);
        p.push(b"a");
        assert_eq!(p.len(), 3);
        let at = p.find(&long).unwrap();
        p.remove_at(at);
        let s = Set::Pack(p.clone());
        assert_eq!(members(&s), [b"b".to_vec(), b"a".to_vec()]);
        p.push(&long);
        let n = p.nth(2).unwrap();
        assert_eq!(&p.buf[n.0..n.1], &long[..]);
        p.remove_at(n);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn sample_picks_exactly_k() {
        let mut r = Rand::new(42);
        for k in 0..10 {
            assert_eq!(r.sample(10, k).iter().filter(|x| **x).count(), k);
        }
    }
}
