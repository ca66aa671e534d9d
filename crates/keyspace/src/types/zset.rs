//! The sorted set type (Redis's `t_zset.c` values): a listpack while small, a skiplist
//! (with its member index) beyond `zset-max-listpack-entries` / `-value`.
//!
//! Both encodings keep members ordered by (score, member bytes) and answer in ranks: a
//! command turns a score or lex range into a half-open rank range with `partition_point`
//! (or `lex_ranks`), then reads it with `for_range` or removes it with `remove_ranks`.
//! That is the whole API the sorted set and geo commands build on:
//!
//! - `score(member)`, `rank(member)`: O(1) / O(log n) on the big encoding.
//! - `insert(member, score, limits)`: add or move a member, converting to the big encoding
//!   when Redis's `zsetAdd` would.
//! - `remove(member)`, `remove_ranks(start, end, f)`.
//! - `partition_point(pred)`: the first rank whose (score, member) fails `pred`, for any
//!   predicate that holds on a prefix of the order (score and lex range bounds).
//! - `for_range(start, end, rev, f)`, `at(rank)`, `scan(cursor, count, f)`.
//!
//! The small encoding (`Small`) is one buffer of entries, like a listpack: a varint header
//! (member length, and whether the score is stored as an integer), the member, the score
//! (a zigzag varint when it is an integer below 2^53, else 8 bytes), and the entry's length
//! written backwards so the buffer can be walked from either end.
//!
//! The big encoding (`Big`) stands in for Redis's skiplist + dict: members live in a slab
//! of slots whose index never changes while the member is there (so ZSCAN can walk slots
//! and never miss a member present for the whole scan), a hash index maps member -> slot,
//! and the order is a list of sorted chunks of (score, slot) with a Fenwick tree of chunk
//! lengths, giving O(log n) rank and range lookups.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::encoding::Limits;
use crate::memory::{malloc_size, scale, table_bytes};

/// A sorted set value.
#[derive(Debug, Clone)]
pub(crate) struct ZSet {
    enc: Enc,
}

#[derive(Debug, Clone)]
enum Enc {
    Small(Small),
    Big(Box<Big>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            enc: Enc::Small(Small::default()),
        }
    }
}

/// (score, member) order: scores numerically (never NaN), ties by member bytes.
#[inline]
fn cmp_key(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

impl ZSet {
    /// Redis's `zsetTypeCreate`: a listpack when `size_hint` members of at most
    /// `len_hint` bytes fit the listpack limits, else a skiplist.
    pub(crate) fn with_hint(size_hint: usize, len_hint: usize, limits: &Limits) -> ZSet {
        if fits(size_hint, limits.zset_max_listpack_entries)
            && fits(len_hint, limits.zset_max_listpack_value)
        {
            ZSet::default()
        } else {
            ZSet {
                enc: Enc::Big(Box::new(Big::with_capacity(size_hint))),
            }
        }
    }

    /// An empty set in the skiplist encoding with room for `capacity` members (the
    /// results of ZUNIONSTORE and friends start there).
    pub(crate) fn new_skiplist(capacity: usize) -> ZSet {
        ZSet {
            enc: Enc::Big(Box::new(Big::with_capacity(capacity))),
        }
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        match &self.enc {
            Enc::Small(s) => s.len as usize,
            Enc::Big(b) => b.len,
        }
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match &self.enc {
            Enc::Small(_) => "listpack",
            Enc::Big(_) => "skiplist",
        }
    }

    /// True in the listpack encoding.
    pub(crate) fn is_listpack(&self) -> bool {
        matches!(self.enc, Enc::Small(_))
    }

    /// The score of `member`.
    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.enc {
            Enc::Small(s) => s.find(member).map(|(_, _, score)| score),
            Enc::Big(b) => b.find_slot(member).map(|i| b.slots[i as usize].score),
        }
    }

    /// The 0-based rank of `member` in ascending order, with its score.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.enc {
            Enc::Small(s) => s.find(member).map(|(rank, _, score)| (rank, score)),
            Enc::Big(b) => {
                let score = b.slots[b.find_slot(member)? as usize].score;
                let r = b.partition_point(|s, m| cmp_key(s, m, score, member).is_lt());
                Some((r, score))
            }
        }
    }

    /// Redis's `zsetTypeMaybeConvert`: go to the skiplist before adding `size_hint`
    /// members when that many would not fit a listpack.
    pub(crate) fn maybe_convert(&mut self, size_hint: usize, limits: &Limits) {
        if self.is_listpack() && !fits(size_hint, limits.zset_max_listpack_entries) {
            self.convert_to_big(self.len() + size_hint);
        }
    }

    /// `zsetConvert(zobj, OBJ_ENCODING_SKIPLIST)`: SORT reads sorted sets in this encoding
    /// and leaves them there, as Redis 7.2 does (OBJECT ENCODING shows it afterwards).
    pub(crate) fn convert_to_skiplist(&mut self) {
        if self.is_listpack() {
            self.convert_to_big(self.len());
        }
    }

    /// Add `member` with `score`, or move it to `score`; true when it was added. Converts
    /// to the skiplist first when a new member would pass the listpack limits (`zsetAdd`).
    pub(crate) fn insert(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        if let Enc::Small(s) = &mut self.enc {
            match s.find(member) {
                Some((_, at, cur)) => {
                    if cur != score {
                        s.delete_at(at);
                        s.insert(member, score);
                    }
                    return false;
                }
                None => {
                    if fits(s.len as usize + 1, limits.zset_max_listpack_entries)
                        && fits(member.len(), limits.zset_max_listpack_value)
                    {
                        s.insert(member, score);
                        return true;
                    }
                    self.convert_to_big(self.len() + 1);
                }
            }
        }
        match &mut self.enc {
            Enc::Big(b) => b.insert(member, score),
            Enc::Small(_) => false,
        }
    }

    /// Remove `member`; its score when it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.enc {
            Enc::Small(s) => {
                let (_, at, score) = s.find(member)?;
                s.delete_at(at);
                // A listpack gives the bytes back on delete (lpDelete reallocs).
                s.buf.shrink_to_fit();
                Some(score)
            }
            Enc::Big(b) => b.remove(member),
        }
    }

    /// The first rank whose (score, member) fails `pred`; `pred` must hold on a prefix of
    /// the order (true, ..., true, false, ..., false).
    pub(crate) fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.enc {
            Enc::Small(s) => {
                let mut n = 0;
                let mut off = 0;
                while off < s.buf.len() {
                    let (m, score, next) = s.entry(off);
                    if !pred(score, m) {
                        break;
                    }
                    n += 1;
                    off = next;
                }
                n
            }
            Enc::Big(b) => b.partition_point(pred),
        }
    }

    /// The ranks `[start, end)` of the members within a lex range: from the first member
    /// not `below_min`, up to the first after it that is not `le_max` (Redis walks the
    /// listpack that way; on sets of one score, which lex ranges assume, it is the same
    /// as two binary searches).
    pub(crate) fn lex_ranks(
        &self,
        below_min: impl Fn(&[u8]) -> bool,
        le_max: impl Fn(&[u8]) -> bool,
    ) -> (usize, usize) {
        match &self.enc {
            Enc::Small(s) => {
                let mut start = None;
                let mut i = 0;
                let mut off = 0;
                while off < s.buf.len() {
                    let (m, _, next) = s.entry(off);
                    if start.is_none() && !below_min(m) {
                        start = Some(i);
                    }
                    if start.is_some() && !le_max(m) {
                        break;
                    }
                    i += 1;
                    off = next;
                }
                match start {
                    Some(st) => (st, i),
                    None => (0, 0),
                }
            }
            Enc::Big(b) => {
                let start = b.partition_point(|_, m| below_min(m));
                let end = b.partition_point(|_, m| le_max(m));
                (start, end.max(start))
            }
        }
    }

    /// Visit the members of ranks `[start, end)` in ascending order, or descending when
    /// `rev`.
    pub(crate) fn for_range(
        &self,
        start: usize,
        end: usize,
        rev: bool,
        mut f: impl FnMut(&[u8], f64),
    ) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &self.enc {
            Enc::Small(s) => {
                if rev {
                    let mut off = s.buf.len();
                    for _ in end..s.len as usize {
                        off = s.prev(off);
                    }
                    for _ in start..end {
                        off = s.prev(off);
                        let (m, score, _) = s.entry(off);
                        f(m, score);
                    }
                } else {
                    let mut off = 0;
                    for _ in 0..start {
                        off = s.entry(off).2;
                    }
                    for _ in start..end {
                        let (m, score, next) = s.entry(off);
                        f(m, score);
                        off = next;
                    }
                }
            }
            Enc::Big(b) => b.for_range(start, end, rev, f),
        }
    }

    /// The member at `rank` (ascending) and its score.
    pub(crate) fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        if rank >= self.len() {
            return None;
        }
        match &self.enc {
            Enc::Small(s) => {
                let mut off = 0;
                for _ in 0..rank {
                    off = s.entry(off).2;
                }
                let (m, score, _) = s.entry(off);
                Some((m, score))
            }
            Enc::Big(b) => {
                let (ci, off) = b.locate(rank);
                let e = b.chunks[ci][off];
                Some((&b.slots[e.slot as usize].member, e.score))
            }
        }
    }

    /// Remove the members of ranks `[start, end)`, visiting each (ascending) first.
    pub(crate) fn remove_ranks(&mut self, start: usize, end: usize, mut f: impl FnMut(&[u8], f64)) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &mut self.enc {
            Enc::Small(s) => {
                let mut off = 0;
                for _ in 0..start {
                    off = s.entry(off).2;
                }
                let from = off;
                for _ in start..end {
                    let (m, score, next) = s.entry(off);
                    f(m, score);
                    off = next;
                }
                s.buf.drain(from..off);
                s.buf.shrink_to_fit();
                s.len -= (end - start) as u32;
            }
            Enc::Big(b) => b.remove_ranks(start, end, f),
        }
    }

    /// One step of ZSCAN from `cursor`: visits about `count` members and returns the next
    /// cursor (0 when done). A listpack is returned whole, as Redis does.
    pub(crate) fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.enc {
            Enc::Small(_) => {
                self.for_range(0, self.len(), false, f);
                0
            }
            Enc::Big(b) => {
                let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
                let mut seen = 0;
                while i < b.slots.len() && seen < count {
                    let slot = &b.slots[i];
                    if !slot.score.is_nan() {
                        f(&slot.member, slot.score);
                        seen += 1;
                    }
                    i += 1;
                }
                if i >= b.slots.len() {
                    0
                } else {
                    i as u64
                }
            }
        }
    }

    /// Redis's `zsetConvertToListpackIfNeeded` for a stored result: back to a listpack
    /// when its size and longest member fit the limits.
    pub(crate) fn shrink_if_fits(&mut self, max_member_len: usize, limits: &Limits) {
        if let Enc::Big(b) = &self.enc {
            if fits(b.len, limits.zset_max_listpack_entries)
                && fits(max_member_len, limits.zset_max_listpack_value)
            {
                let mut s = Small::default();
                b.for_range(0, b.len, false, |m, score| s.push(m, score));
                s.buf.shrink_to_fit();
                self.enc = Enc::Small(s);
            }
        }
    }

    fn convert_to_big(&mut self, capacity: usize) {
        if let Enc::Small(s) = &self.enc {
            let mut b = Big::with_capacity(capacity);
            let mut off = 0;
            while off < s.buf.len() {
                let (m, score, next) = s.entry(off);
                b.push_last(m, score);
                off = next;
            }
            self.enc = Enc::Big(Box::new(b));
        }
    }
}

/// `n <= limit` for a limit read from the config (never negative there).
fn fits(n: usize, limit: i64) -> bool {
    i64::try_from(n).is_ok_and(|n| n <= limit)
}

// ---- small: the listpack ----

/// A listpack: entries in (score, member) order, in one exactly-sized buffer.
#[derive(Debug, Clone, Default)]
struct Small {
    buf: Vec<u8>,
    len: u32,
}

/// Scores stored as integers: integral and below 2^53 in magnitude. -0 becomes 0 here, as
/// in Redis's listpack, which stores the score's text "-0" as the integer 0.
fn int_score(score: f64) -> Option<i64> {
    const LIMIT: f64 = (1u64 << 53) as f64;
    (score.fract() == 0.0 && score.abs() < LIMIT).then_some(score as i64)
}

fn put_varint(out: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out[i] = b;
            return i + 1;
        }
        out[i] = b | 0x80;
        i += 1;
    }
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn get_varint(buf: &[u8], mut off: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[off];
        off += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (v, off);
        }
        shift += 7;
    }
}

impl Small {
    /// The entry at `off`: member, score, offset of the next entry.
    fn entry(&self, off: usize) -> (&[u8], f64, usize) {
        let (hdr, mut p) = get_varint(&self.buf, off);
        let mlen = (hdr >> 1) as usize;
        let m = &self.buf[p..p + mlen];
        p += mlen;
        let score = if hdr & 1 == 1 {
            let (z, q) = get_varint(&self.buf, p);
            p = q;
            ((z >> 1) as i64 ^ -((z & 1) as i64)) as f64
        } else {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.buf[p..p + 8]);
            p += 8;
            f64::from_le_bytes(b)
        };
        // Skip the backward length, a varint of the body length.
        (m, score, p + varint_len((p - off) as u64))
    }

    /// The offset of the entry that ends at `end`.
    fn prev(&self, end: usize) -> usize {
        // The body length is a varint written backwards: its first byte is the last one.
        let mut p = end - 1;
        let mut v = u64::from(self.buf[p] & 0x7f);
        let mut shift = 7;
        while self.buf[p] & 0x80 != 0 {
            p -= 1;
            v |= u64::from(self.buf[p] & 0x7f) << shift;
            shift += 7;
        }
        p - v as usize
    }

    /// The rank, offset and score of `member`.
    fn find(&self, member: &[u8]) -> Option<(usize, usize, f64)> {
        let mut off = 0;
        let mut rank = 0;
        while off < self.buf.len() {
            let (m, score, next) = self.entry(off);
            if m == member {
                return Some((rank, off, score));
            }
            rank += 1;
            off = next;
        }
        None
    }

    fn delete_at(&mut self, off: usize) {
        let next = self.entry(off).2;
        self.buf.drain(off..next);
        self.len -= 1;
    }

    /// Insert a member known to be absent at its place in the order.
    fn insert(&mut self, member: &[u8], score: f64) {
        let mut off = 0;
        while off < self.buf.len() {
            let (m, s, next) = self.entry(off);
            if cmp_key(s, m, score, member).is_gt() {
                break;
            }
            off = next;
        }
        self.put_at(off, member, score);
    }

    /// Append a member that sorts after every other.
    fn push(&mut self, member: &[u8], score: f64) {
        self.put_at(self.buf.len(), member, score);
    }

    fn put_at(&mut self, off: usize, member: &[u8], score: f64) {
        let mut head = [0u8; 10];
        let mut tail = [0u8; 20];
        let int = int_score(score);
        let hn = put_varint(
            &mut head,
            ((member.len() as u64) << 1) | u64::from(int.is_some()),
        );
        let mut tn = match int {
            Some(v) => put_varint(&mut tail, ((v << 1) ^ (v >> 63)) as u64),
            None => {
                tail[..8].copy_from_slice(&score.to_le_bytes());
                8
            }
        };
        let body = hn + member.len() + tn;
        let mut back = [0u8; 10];
        let bn = put_varint(&mut back, body as u64);
        for i in 0..bn {
            tail[tn + i] = back[bn - 1 - i];
        }
        tn += bn;
        let n = hn + member.len() + tn;
        let old = self.buf.len();
        self.buf.reserve_exact(n);
        self.buf.resize(old + n, 0);
        self.buf.copy_within(off..old, off + n);
        self.buf[off..off + hn].copy_from_slice(&head[..hn]);
        self.buf[off + hn..off + hn + member.len()].copy_from_slice(member);
        self.buf[off + hn + member.len()..off + n].copy_from_slice(&tail[..tn]);
        self.len += 1;
    }
}

// ---- big: the skiplist stand-in ----

/// Most entries per order chunk; a full chunk splits in two.
const CHUNK: usize = 128;

/// A member's storage: `score` is NaN while the slot is free.
#[derive(Debug, Clone)]
struct Slot {
    member: Box<[u8]>,
    score: f64,
}

/// One position of the order.
#[derive(Debug, Clone, Copy)]
struct Ent {
    score: f64,
    slot: u32,
}

#[derive(Debug, Clone)]
struct Big {
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    chunks: Vec<Vec<Ent>>,
    /// Fenwick tree over the chunk lengths, 1-based.
    fen: Vec<usize>,
    len: usize,
}

impl Big {
    fn with_capacity(n: usize) -> Big {
        Big {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            index: HashTable::with_capacity(n),
            hasher: foldhash::fast::RandomState::default(),
            chunks: Vec::new(),
            fen: vec![0],
            len: 0,
        }
    }

    fn find_slot(&self, member: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(member);
        self.index
            .find(h, |&i| &*self.slots[i as usize].member == member)
            .copied()
    }

    fn rebuild_fen(&mut self) {
        let n = self.chunks.len();
        self.fen.clear();
        self.fen.resize(n + 1, 0);
        for i in 1..=n {
            self.fen[i] += self.chunks[i - 1].len();
            let j = i + (i & i.wrapping_neg());
            if j <= n {
                let v = self.fen[i];
                self.fen[j] += v;
            }
        }
    }

    fn fen_add(&mut self, ci: usize, delta: isize) {
        let mut i = ci + 1;
        while i < self.fen.len() {
            self.fen[i] = self.fen[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Entries in the chunks before `ci`.
    fn prefix(&self, ci: usize) -> usize {
        let mut i = ci;
        let mut s = 0;
        while i > 0 {
            s += self.fen[i];
            i &= i - 1;
        }
        s
    }

    /// The chunk and offset of `rank` (< len).
    fn locate(&self, rank: usize) -> (usize, usize) {
        let n = self.chunks.len();
        let mut pos = 0;
        let mut rem = rank;
        let mut step = if n == 0 {
            0
        } else {
            1 << (usize::BITS - 1 - n.leading_zeros())
        };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fen[next] <= rem {
                pos = next;
                rem -= self.fen[next];
            }
            step >>= 1;
        }
        (pos, rem)
    }

    fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let slots = &self.slots;
        let test = |e: &Ent| pred(e.score, &slots[e.slot as usize].member);
        let ci = self.chunks.partition_point(|c| c.last().is_some_and(&test));
        if ci == self.chunks.len() {
            return self.len;
        }
        self.prefix(ci) + self.chunks[ci].partition_point(test)
    }

    /// The chunk and offset where (score, member) is or would go.
    fn position(&self, score: f64, member: &[u8]) -> (usize, usize) {
        let slots = &self.slots;
        let before =
            |e: &Ent| cmp_key(e.score, &slots[e.slot as usize].member, score, member).is_lt();
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(&before))
            .min(self.chunks.len().saturating_sub(1));
        let off = self.chunks.get(ci).map_or(0, |c| c.partition_point(before));
        (ci, off)
    }

    fn alloc_slot(&mut self, member: &[u8], score: f64) -> u32 {
        let slot = Slot {
            member: Box::from(member),
            score,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let h = self.hasher.hash_one(member);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert_unique(h, i, |&j| hasher.hash_one(&*slots[j as usize].member));
        i
    }

    fn free_slot(&mut self, i: u32) {
        let h = self.hasher.hash_one(&*self.slots[i as usize].member);
        if let Ok(e) = self.index.find_entry(h, |&j| j == i) {
            e.remove();
        }
        let s = &mut self.slots[i as usize];
        s.member = Box::default();
        s.score = f64::NAN;
        self.free.push(i);
    }

    /// Add a member known to be absent that sorts after every other (conversion).
    fn push_last(&mut self, member: &[u8], score: f64) {
        let slot = self.alloc_slot(member, score);
        self.order_insert(
            self.chunks.len().saturating_sub(1),
            usize::MAX,
            Ent { score, slot },
        );
    }

    fn order_insert(&mut self, ci: usize, off: usize, e: Ent) {
        if self.chunks.is_empty() {
            let mut c = Vec::with_capacity(CHUNK);
            c.push(e);
            self.chunks.push(c);
            self.len += 1;
            self.rebuild_fen();
            return;
        }
        let c = &mut self.chunks[ci];
        let off = off.min(c.len());
        c.insert(off, e);
        self.len += 1;
        if c.len() >= CHUNK {
            let mut right = Vec::with_capacity(CHUNK);
            right.extend(c.drain(CHUNK / 2..));
            self.chunks.insert(ci + 1, right);
            self.rebuild_fen();
        } else {
            self.fen_add(ci, 1);
        }
    }

    fn order_remove(&mut self, ci: usize, off: usize) {
        self.chunks[ci].remove(off);
        self.len -= 1;
        self.after_shrink(ci, 1);
    }

    /// Fix the tree after chunk `ci` lost `n` entries: an empty chunk goes away, and a
    /// chunk that fits in half of its neighbour's room merges into it.
    fn after_shrink(&mut self, ci: usize, n: usize) {
        let clen = self.chunks[ci].len();
        if clen == 0 {
            self.chunks.remove(ci);
            self.rebuild_fen();
        } else if ci + 1 < self.chunks.len() && clen + self.chunks[ci + 1].len() <= CHUNK / 2 {
            let next = self.chunks.remove(ci + 1);
            self.chunks[ci].extend(next);
            self.rebuild_fen();
        } else {
            self.fen_add(ci, -(n as isize));
        }
    }

    fn insert(&mut self, member: &[u8], score: f64) -> bool {
        if let Some(i) = self.find_slot(member) {
            let cur = self.slots[i as usize].score;
            if cur != score {
                let (ci, off) = self.position(cur, member);
                self.order_remove(ci, off);
                self.slots[i as usize].score = score;
                let (ci, off) = self.position(score, member);
                self.order_insert(ci, off, Ent { score, slot: i });
            }
            return false;
        }
        let (ci, off) = self.position(score, member);
        let slot = self.alloc_slot(member, score);
        self.order_insert(ci, off, Ent { score, slot });
        true
    }

    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let i = self.find_slot(member)?;
        let score = self.slots[i as usize].score;
        let (ci, off) = self.position(score, member);
        self.order_remove(ci, off);
        self.free_slot(i);
        Some(score)
    }

    fn for_range(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        let mut visit = |e: &Ent| f(&self.slots[e.slot as usize].member, e.score);
        if rev {
            let (mut ci, off) = self.locate(end - 1);
            let mut left = end - start;
            let mut hi = off + 1;
            loop {
                let c = &self.chunks[ci];
                let lo = hi.saturating_sub(left);
                for e in c[lo..hi].iter().rev() {
                    visit(e);
                }
                left -= hi - lo;
                if left == 0 || ci == 0 {
                    return;
                }
                ci -= 1;
                hi = self.chunks[ci].len();
            }
        } else {
            let (mut ci, mut off) = self.locate(start);
            let mut left = end - start;
            while left > 0 && ci < self.chunks.len() {
                let c = &self.chunks[ci];
                let hi = c.len().min(off + left);
                for e in &c[off..hi] {
                    visit(e);
                }
                left -= hi - off;
                ci += 1;
                off = 0;
            }
        }
    }

    fn remove_ranks(&mut self, start: usize, end: usize, mut f: impl FnMut(&[u8], f64)) {
        let (mut ci, mut off) = self.locate(start);
        let mut left = end - start;
        // The Fenwick tree is rebuilt only when chunks go away; a pop from a big set
        // otherwise costs one update, not a pass over every chunk.
        let mut reshaped = false;
        while left > 0 && ci < self.chunks.len() {
            let hi = self.chunks[ci].len().min(off + left);
            let gone: smallvec::SmallVec<[Ent; CHUNK]> = self.chunks[ci].drain(off..hi).collect();
            for e in &gone {
                f(&self.slots[e.slot as usize].member, e.score);
                self.free_slot(e.slot);
            }
            left -= gone.len();
            self.len -= gone.len();
            if self.chunks[ci].is_empty() {
                self.chunks.remove(ci);
                reshaped = true;
            } else {
                if !reshaped {
                    self.fen_add(ci, -(gone.len() as isize));
                }
                ci += 1;
            }
            off = 0;
        }
        // Merge the chunk at the cut with its neighbour when both are small.
        if ci > 0
            && ci < self.chunks.len()
            && self.chunks[ci - 1].len() + self.chunks[ci].len() <= CHUNK / 2
        {
            let next = self.chunks.remove(ci);
            self.chunks[ci - 1].extend(next);
            reshaped = true;
        }
        if reshaped {
            self.rebuild_fen();
        }
    }
}

impl ZSet {
    /// MEMORY USAGE's measure of the sorted set's heap (the `ZSet` itself excluded): a
    /// listpack's buffer, or the slots, index, order chunks and Fenwick tree plus the average
    /// of the first `samples` members' buffers times the member count (Redis samples the
    /// skiplist's first nodes the same way).
    pub(crate) fn mem_usage(&self, samples: usize) -> usize {
        use std::mem::size_of;
        match &self.enc {
            Enc::Small(s) => malloc_size(s.buf.capacity()),
            Enc::Big(b) => {
                let live = || b.slots.iter().filter(|s| !s.score.is_nan());
                let taken = b.len.min(samples);
                let sum = live()
                    .take(taken)
                    .map(|s| malloc_size(s.member.len()))
                    .sum();
                let chunks: usize = b
                    .chunks
                    .iter()
                    .map(|c| malloc_size(c.capacity() * size_of::<Ent>()))
                    .sum();
                malloc_size(size_of::<Big>())
                    + malloc_size(b.slots.capacity() * size_of::<Slot>())
                    + malloc_size(b.free.capacity() * size_of::<u32>())
                    + table_bytes::<u32>(b.index.capacity())
                    + malloc_size(b.chunks.capacity() * size_of::<Vec<Ent>>())
                    + chunks
                    + malloc_size(b.fen.capacity() * size_of::<usize>())
                    + scale(sum, taken, b.len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: i64, value: i64) -> Limits {
        Limits {
            zset_max_listpack_entries: entries,
            zset_max_listpack_value: value,
            ..Limits::default()
        }
    }

    fn all(z: &ZSet, rev: bool) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::new();
        z.for_range(0, z.len(), rev, |m, s| v.push((m.to_vec(), s)));
        v
    }

    #[test]
    fn small_entries_round_trip_any_score() {
        let l = limits(128, 1000);
        let mut z = ZSet::default();
        let scores = [
            0.0,
            -0.0,
            1.5,
            -7.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9007199254740993.0,
            -1e300,
            123456789.0,
        ];
        for (i, s) in scores.iter().enumerate() {
            assert!(z.insert(format!("m{i}").repeat(i * 20 + 1).as_bytes(), *s, &l) || i > 5);
        }
        assert!(z.is_listpack());
        let fwd = all(&z, false);
        let mut back = all(&z, true);
        back.reverse();
        assert_eq!(fwd, back);
        for w in fwd.windows(2) {
            assert!(cmp_key(w[0].1, &w[0].0, w[1].1, &w[1].0).is_lt());
        }
        // Redis's listpack keeps -0 as the integer 0.
        assert_eq!(
            z.score("m1".repeat(21).as_bytes())
                .map(f64::is_sign_negative),
            Some(false)
        );
    }

    #[test]
    fn converts_where_zset_add_does() {
        let l = limits(3, 4);
        let mut z = ZSet::default();
        for m in ["a", "b", "c"] {
            z.insert(m.as_bytes(), 1.0, &l);
        }
        assert!(z.is_listpack());
        z.insert(b"c", 5.0, &l);
        assert!(z.is_listpack());
        z.insert(b"d", 0.0, &l);
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(
            all(&z, false)
                .iter()
                .map(|e| e.0.clone())
                .collect::<Vec<_>>(),
            vec![b"d".to_vec(), b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
        let mut z = ZSet::default();
        z.insert(b"12345", 1.0, &l);
        assert!(!z.is_listpack());
        assert!(!ZSet::with_hint(4, 1, &l).is_listpack());
        assert!(!ZSet::with_hint(1, 5, &l).is_listpack());
        assert!(ZSet::with_hint(3, 4, &l).is_listpack());
    }

    #[test]
    fn big_ranks_and_ranges() {
        let l = limits(0, 0);
        let mut z = ZSet::default();
        for i in 0..1000u32 {
            z.insert(
                format!("{:04}", (i * 7) % 1000).as_bytes(),
                f64::from(i % 10),
                &l,
            );
        }
        assert_eq!(z.len(), 1000);
        let v = all(&z, false);
        for (r, (m, s)) in v.iter().enumerate() {
            assert_eq!(z.rank(m), Some((r, *s)));
            assert_eq!(z.at(r).map(|(m, s)| (m.to_vec(), s)), Some((m.clone(), *s)));
        }
        let mut back = all(&z, true);
        back.reverse();
        assert_eq!(v, back);
        assert_eq!(z.partition_point(|s, _| s < 3.0), 300);
        let mut got = Vec::new();
        z.remove_ranks(100, 750, |m, _| got.push(m.to_vec()));
        assert_eq!(got.len(), 650);
        assert_eq!(z.len(), 350);
        for (m, _) in &v[100..750] {
            assert_eq!(z.score(m), None);
        }
        for (r, (m, s)) in v[..100].iter().chain(&v[750..]).enumerate() {
            assert_eq!(z.rank(m), Some((r, *s)));
        }
        for (m, _) in v.iter().take(100) {
            assert!(z.remove(m).is_some());
        }
        assert_eq!(z.len(), 250);
        let mut seen = 0;
        let mut cur = 0;
        loop {
            cur = z.scan(cur, 7, |_, _| seen += 1);
            if cur == 0 {
                break;
            }
        }
        assert_eq!(seen, 250);
        z.shrink_if_fits(4, &Limits::default());
        assert!(!z.is_listpack());
        z.remove_ranks(0, 200, |_, _| {});
        z.shrink_if_fits(4, &Limits::default());
        assert!(z.is_listpack());
        assert_eq!(all(&z, false), v[950..].to_vec());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, i8),
        Remove(u16),
        RemoveRanks(u16, u16),
        Check(u16),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            8 => (0u16..3000, -50i8..50).prop_map(|(m, s)| Op::Insert(m, s)),
            3 => (0u16..3000).prop_map(Op::Remove),
            1 => (0u16..3000, 0u16..200).prop_map(|(a, n)| Op::RemoveRanks(a, n)),
            1 => (0u16..3000).prop_map(Op::Check),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
        /// The big encoding across many chunks (splits, merges, Fenwick updates) against a
        /// sorted model.
        #[test]
        fn big_matches_a_sorted_model(ops in proptest::collection::vec(op(), 1..3000)) {
            let l = limits(0, 0);
            let mut z = ZSet::default();
            let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
            let sorted = |m: &std::collections::BTreeMap<Vec<u8>, f64>| {
                let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
                v.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
                v
            };
            for o in &ops {
                match o {
                    Op::Insert(m, s) => {
                        let key = format!("m{m}").into_bytes();
                        let added = model.insert(key.clone(), f64::from(*s)).is_none();
                        proptest::prop_assert_eq!(z.insert(&key, f64::from(*s), &l), added);
                    }
                    Op::Remove(m) => {
                        let key = format!("m{m}").into_bytes();
                        proptest::prop_assert_eq!(z.remove(&key), model.remove(&key));
                    }
                    Op::RemoveRanks(a, n) => {
                        let v = sorted(&model);
                        let a = usize::from(*a).min(v.len());
                        let b = (a + usize::from(*n)).min(v.len());
                        let mut got = Vec::new();
                        z.remove_ranks(a, b, |m, s| got.push((m.to_vec(), s)));
                        proptest::prop_assert_eq!(&got[..], &v[a..b]);
                        for (m, _) in &v[a..b] {
                            model.remove(m);
                        }
                    }
                    Op::Check(r) => {
                        let v = sorted(&model);
                        let r = usize::from(*r);
                        proptest::prop_assert_eq!(z.at(r).map(|(m, s)| (m.to_vec(), s)), v.get(r).cloned());
                        if let Some((m, s)) = v.get(r) {
                            proptest::prop_assert_eq!(z.rank(m), Some((r, *s)));
                        }
                    }
                }
                proptest::prop_assert_eq!(z.len(), model.len());
            }
            proptest::prop_assert_eq!(all(&z, false), sorted(&model));
            let mut back = all(&z, true);
            back.reverse();
            proptest::prop_assert_eq!(back, sorted(&model));
        }
    }
}
