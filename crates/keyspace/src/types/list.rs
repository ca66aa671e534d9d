//! The list type (Redis's `t_list.c` values): a listpack while small, a quicklist beyond
//! `list-max-listpack-size`.
//!
//! Both encodings are built from one compact node, `Pack`: a single contiguous buffer of
//! length-prefixed entries (`[len varint][bytes][len varint, backwards]`), readable from
//! either end like a listpack. A small list is one `Pack`; a big one is a deque of them, a
//! quicklist. Each node also tracks the size Redis's listpack would have for the same
//! entries (`lp`, Redis's `lpBytes`, integers encoded as integers), because every
//! conversion and node split in Redis is decided on that size: keeping it exact is what
//! makes OBJECT ENCODING and the node boundaries agree with Redis 7.2 at every step.
//!
//! Conversions are the callers' to trigger at Redis's points: `grow_for` before adding
//! (`listTypeTryConversionAppend`), `shrink_check` after removing
//! (`listTypeTryConversion(.., LIST_CONV_SHRINKING)`). What is not here: commands, replies
//! and the keyspace side (`cmd/list.rs`).

use std::collections::VecDeque;

use crate::memory::{malloc_size, scale};
use crate::number::parse_i64;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// LEFT: index 0.
    Head,
    /// RIGHT: index -1.
    Tail,
}

/// `lpBytes` of an empty listpack: the 6-byte header and the end marker.
const LP_EMPTY: u64 = 7;
/// quicklist.c's `SIZE_SAFETY_LIMIT`: a count-limited node never passes 8 KiB.
const SIZE_SAFETY_LIMIT: u64 = 8192;
/// quicklist.c's `SIZE_ESTIMATE_OVERHEAD`, added to an entry's length when deciding whether
/// it fits a node.
const SIZE_ESTIMATE_OVERHEAD: u64 = 8;
/// quicklist.c's `optimization_level`: the node byte limits of fill -1..-5.
const OPTIMIZATION_LEVEL: [u64; 5] = [4096, 8192, 16384, 32768, 65536];
/// quicklist.c's `FILL_MAX`.
const FILL_MAX: i64 = (1 << 15) - 1;
/// No count limit (`UINT_MAX` in `quicklistNodeLimit`).
const NO_COUNT_LIMIT: u64 = u32::MAX as u64;

/// `quicklistNodeLimit`: the byte limit (u64::MAX for none) and the count limit of a node.
fn node_limit(fill: i64) -> (u64, u64) {
    if fill >= 0 {
        (u64::MAX, if fill == 0 { 1 } else { fill as u64 })
    } else {
        let offset = ((-(fill as i128)) - 1).min(OPTIMIZATION_LEVEL.len() as i128 - 1) as usize;
        (OPTIMIZATION_LEVEL[offset], NO_COUNT_LIMIT)
    }
}

/// `quicklistNodeExceedsLimit`: would a node of `sz` bytes and `count` entries be too big?
fn exceeds_limit(fill: i64, sz: u64, count: u64) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != u64::MAX {
        sz > sz_limit
    } else {
        sz > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// Bytes of the size varint for a length `n`.
#[inline]
fn varint_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// Bytes one stored entry of `len` bytes takes in a `Pack`.
#[inline]
fn stored_len(len: usize) -> usize {
    len + 2 * varint_len(len)
}

/// Bytes Redis's listpack spends on `e` (`lpEncodeGetType` + `lpEncodeBacklen`): an integer
/// in its smallest integer encoding, anything else as a string with a 1, 2 or 5 byte header,
/// plus the back length.
fn lp_entry_size(e: &[u8]) -> u64 {
    let int = if e.len() <= 20 { parse_i64(e) } else { None };
    let enc = match int {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if (-32768..=32767).contains(&v) => 3,
        Some(v) if (-8_388_608..=8_388_607).contains(&v) => 4,
        Some(v) if (-2_147_483_648..=2_147_483_647).contains(&v) => 5,
        Some(_) => 9,
        None if e.len() < 64 => 1 + e.len(),
        None if e.len() < 4096 => 2 + e.len(),
        None => 5 + e.len(),
    };
    let back = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    (enc + back) as u64
}

/// One listpack: entries in one buffer, with their count and Redis's size for them.
#[derive(Debug, Clone)]
pub(crate) struct Pack {
    buf: Vec<u8>,
    count: u32,
    /// What `lpBytes` would be for these entries.
    lp: u64,
}

impl Default for Pack {
    fn default() -> Pack {
        Pack::new()
    }
}

impl Pack {
    fn new() -> Pack {
        Pack {
            buf: Vec::new(),
            count: 0,
            lp: LP_EMPTY,
        }
    }

    /// A node holding just `e`.
    fn with(e: &[u8]) -> Pack {
        let mut p = Pack::new();
        p.insert_at(0, e);
        p
    }

    /// The entry starting at byte `pos`: its bytes and where the next one starts.
    #[inline]
    fn entry_at(&self, pos: usize) -> (&[u8], usize) {
        let mut len = 0usize;
        let mut shift = 0;
        let mut p = pos;
        loop {
            let b = self.buf[p];
            p += 1;
            len |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let end = p + len;
        (&self.buf[p..end], end + varint_len(len))
    }

    /// The entry ending at byte `end`: its bytes and where it starts.
    #[inline]
    fn entry_before(&self, end: usize) -> (&[u8], usize) {
        let mut len = 0usize;
        let mut shift = 0;
        let mut p = end;
        loop {
            p -= 1;
            let b = self.buf[p];
            len |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let data_end = p;
        let data = data_end - len;
        (&self.buf[data..data_end], data - varint_len(len))
    }

    /// Byte position of entry `offset` (0-based; `count` gives the end), walking from the
    /// nearer end.
    fn seek(&self, offset: usize) -> usize {
        let count = self.count as usize;
        if offset <= count / 2 {
            let mut pos = 0;
            for _ in 0..offset {
                pos = self.entry_at(pos).1;
            }
            pos
        } else {
            let mut pos = self.buf.len();
            for _ in offset..count {
                pos = self.entry_before(pos).1;
            }
            pos
        }
    }

    /// Make room for `n` more bytes. Growth is exact plus an eighth (like the allocator size
    /// classes a listpack's realloc lands in), so a list's memory stays near Redis's while a
    /// run of pushes does not reallocate on every one.
    #[inline]
    fn reserve(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.buf.reserve_exact(n.max(self.buf.len() / 8));
        }
    }

    /// Give back memory after removals, once at least half the buffer is unused.
    fn maybe_shrink(&mut self) {
        let cap = self.buf.capacity();
        if cap > 64 && self.buf.len() < cap / 2 {
            self.buf.shrink_to(self.buf.len() + self.buf.len() / 8);
        }
    }

    /// Insert `e` as a new entry at byte `pos`.
    fn insert_at(&mut self, pos: usize, e: &[u8]) {
        let n = stored_len(e.len());
        self.reserve(n);
        let old = self.buf.len();
        if pos == old {
            write_entry(&mut self.buf, e);
        } else {
            self.buf.resize(old + n, 0);
            self.buf.copy_within(pos..old, pos + n);
            let mut tmp = Vec::new();
            // Entries are written into place without a temporary for the common cases
            // (append, prepend of short values); this path handles the general one.
            write_entry(&mut tmp, e);
            self.buf[pos..pos + n].copy_from_slice(&tmp);
        }
        self.count += 1;
        self.lp = self.lp.saturating_add(lp_entry_size(e));
    }

    /// Insert `e` at the head.
    fn push_front(&mut self, e: &[u8]) {
        let n = stored_len(e.len());
        self.reserve(n);
        let old = self.buf.len();
        self.buf.resize(old + n, 0);
        self.buf.copy_within(0..old, n);
        let vl = varint_len(e.len());
        let mut head = &mut self.buf[..n];
        put_varint(&mut head[..vl], e.len());
        head[vl..vl + e.len()].copy_from_slice(e);
        head = &mut head[vl + e.len()..];
        put_back_varint(head, e.len());
        self.count += 1;
        self.lp = self.lp.saturating_add(lp_entry_size(e));
    }

    /// Append `e` at the tail.
    fn push_back(&mut self, e: &[u8]) {
        self.reserve(stored_len(e.len()));
        write_entry(&mut self.buf, e);
        self.count += 1;
        self.lp = self.lp.saturating_add(lp_entry_size(e));
    }

    /// Remove the bytes `start..end`, which hold `n` entries of Redis size `lp`.
    fn cut(&mut self, start: usize, end: usize, n: u32, lp: u64) {
        self.buf.drain(start..end);
        self.count -= n;
        self.lp -= lp;
        self.maybe_shrink();
    }

    /// Remove `n` entries from entry `offset` on.
    fn remove_range(&mut self, offset: usize, n: usize) {
        let start = self.seek(offset);
        let mut end = start;
        let mut lp = 0;
        for _ in 0..n {
            let (e, next) = self.entry_at(end);
            lp += lp_entry_size(e);
            end = next;
        }
        self.cut(start, end, n as u32, lp);
    }

    /// The first entry.
    fn first(&self) -> Option<&[u8]> {
        (self.count > 0).then(|| self.entry_at(0).0)
    }

    /// The last entry.
    fn last(&self) -> Option<&[u8]> {
        (self.count > 0).then(|| self.entry_before(self.buf.len()).0)
    }

    /// Remove the first entry.
    fn pop_front(&mut self) {
        if self.count > 0 {
            let (e, next) = self.entry_at(0);
            let lp = lp_entry_size(e);
            self.cut(0, next, 1, lp);
        }
    }

    /// Remove the last entry.
    fn pop_back(&mut self) {
        if self.count > 0 {
            let end = self.buf.len();
            let (e, start) = self.entry_before(end);
            let lp = lp_entry_size(e);
            self.cut(start, end, 1, lp);
        }
    }

    /// Replace entry `offset` with `e` (`lpReplace`).
    fn replace(&mut self, offset: usize, e: &[u8]) {
        let start = self.seek(offset);
        let (old, end) = self.entry_at(start);
        let old_lp = lp_entry_size(old);
        let mut tmp = Vec::with_capacity(stored_len(e.len()));
        write_entry(&mut tmp, e);
        self.buf.splice(start..end, tmp);
        self.lp = self.lp - old_lp + lp_entry_size(e);
    }

    /// Split off the entries from `offset` on into a new node (`_quicklistSplitNode`).
    fn split_off(&mut self, offset: usize) -> Pack {
        let pos = self.seek(offset);
        let tail = self.buf.split_off(pos);
        let mut lp = 0;
        let mut p = 0;
        let mut rest = Pack {
            buf: tail,
            count: self.count - offset as u32,
            lp: 0,
        };
        while p < rest.buf.len() {
            let (e, next) = rest.entry_at(p);
            lp += lp_entry_size(e);
            p = next;
        }
        rest.lp = LP_EMPTY + lp;
        self.count = offset as u32;
        self.lp -= lp;
        self.buf.shrink_to(self.buf.len() + self.buf.len() / 8);
        rest
    }

    /// Append every entry of `other` (`lpMerge`).
    fn append(&mut self, other: Pack) {
        self.buf.extend_from_slice(&other.buf);
        self.count += other.count;
        self.lp = self.lp + other.lp - LP_EMPTY;
    }

    /// The entries, head first.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            (pos < self.buf.len()).then(|| {
                let (e, next) = self.entry_at(pos);
                pos = next;
                e
            })
        })
    }
}

/// LEB128: seven bits a byte, low bits first, the high bit set on all but the last.
#[inline]
fn put_varint(out: &mut [u8], mut n: usize) {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
}

/// The same groups mirrored, so a reader coming from the end finds the low bits first.
#[inline]
fn put_back_varint(out: &mut [u8], mut n: usize) {
    let len = varint_len(n);
    let mut i = len;
    while i > 0 {
        i -= 1;
        let more = if i > 0 { 0x80 } else { 0 };
        out[i] = (n as u8 & 0x7f) | more;
        n >>= 7;
    }
}

/// Append the stored form of `e` to `buf`.
#[inline]
fn write_entry(buf: &mut Vec<u8>, e: &[u8]) {
    let vl = varint_len(e.len());
    let at = buf.len();
    buf.resize(at + vl, 0);
    put_varint(&mut buf[at..], e.len());
    buf.extend_from_slice(e);
    let at = buf.len();
    buf.resize(at + vl, 0);
    put_back_varint(&mut buf[at..], e.len());
}

/// The quicklist encoding: a deque of nodes.
#[derive(Debug, Clone)]
pub(crate) struct Quick {
    nodes: VecDeque<Pack>,
    len: usize,
    /// The fill the quicklist was created with (`quicklist->fill`): a later CONFIG SET
    /// does not change how an existing list packs its nodes, as in Redis.
    fill: i64,
}

impl Quick {
    /// `_quicklistNodeAllowInsert`.
    fn allow_insert(&self, node: Option<&Pack>, sz: usize) -> bool {
        node.is_some_and(|n| {
            !exceeds_limit(
                self.fill,
                n.lp + sz as u64 + SIZE_ESTIMATE_OVERHEAD,
                u64::from(n.count) + 1,
            )
        })
    }

    /// `_quicklistNodeAllowMerge` of nodes `a` and `b`.
    fn allow_merge(&self, a: usize, b: usize) -> bool {
        match (self.nodes.get(a), self.nodes.get(b)) {
            (Some(a), Some(b)) => !exceeds_limit(
                self.fill,
                a.lp + b.lp - LP_EMPTY,
                u64::from(a.count + b.count),
            ),
            _ => false,
        }
    }

    /// Merge node `a + 1` into node `a`.
    fn merge(&mut self, a: usize) {
        if let Some(b) = self.nodes.remove(a + 1) {
            self.nodes[a].append(b);
        }
    }

    /// `_quicklistMergeNodes` around node `c`.
    fn merge_around(&mut self, mut c: usize) {
        if c >= 2 && self.allow_merge(c - 2, c - 1) {
            self.merge(c - 2);
            c -= 1;
        }
        if self.allow_merge(c + 1, c + 2) {
            self.merge(c + 1);
        }
        let target = if c >= 1 && self.allow_merge(c - 1, c) {
            self.merge(c - 1);
            c - 1
        } else {
            c
        };
        if self.allow_merge(target, target + 1) {
            self.merge(target);
        }
    }

    /// The node holding list index `idx` and the offset in it.
    fn locate(&self, idx: usize) -> (usize, usize) {
        if idx < self.len / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                let c = n.count as usize;
                if idx < acc + c {
                    return (i, idx - acc);
                }
                acc += c;
            }
        } else {
            let mut acc = self.len;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                acc -= n.count as usize;
                if idx >= acc {
                    return (i, idx - acc);
                }
            }
        }
        (0, 0)
    }

    /// `_quicklistInsert`: `e` goes before or after entry `offset` of node `ni`.
    fn insert(&mut self, ni: usize, offset: usize, after: bool, e: &[u8]) {
        let sz = e.len();
        let count = self.nodes[ni].count as usize;
        let full = !self.allow_insert(self.nodes.get(ni), sz);
        let at_tail = after && offset == count - 1;
        let at_head = !after && offset == 0;
        let avail_next = at_tail && self.allow_insert(self.nodes.get(ni + 1), sz);
        let avail_prev =
            at_head && ni > 0 && self.allow_insert(self.nodes.get(ni.wrapping_sub(1)), sz);
        self.len += 1;
        if !full {
            let node = &mut self.nodes[ni];
            let pos = node.seek(offset + usize::from(after));
            node.insert_at(pos, e);
        } else if at_tail && avail_next {
            self.nodes[ni + 1].push_front(e);
        } else if at_head && avail_prev {
            self.nodes[ni - 1].push_back(e);
        } else if at_tail || at_head {
            self.nodes.insert(ni + usize::from(after), Pack::with(e));
        } else if after {
            let mut rest = self.nodes[ni].split_off(offset + 1);
            rest.push_front(e);
            self.nodes.insert(ni + 1, rest);
            self.merge_around(ni);
        } else {
            // The new node takes the entries before `offset` and then `e`; the old node
            // keeps the rest, after it.
            let rest = self.nodes[ni].split_off(offset);
            let mut front = std::mem::replace(&mut self.nodes[ni], rest);
            front.push_back(e);
            self.nodes.insert(ni, front);
            self.merge_around(ni + 1);
        }
    }
}

/// A list value.
#[derive(Debug, Clone)]
pub(crate) enum List {
    /// OBJECT ENCODING `listpack`.
    Pack(Pack),
    /// OBJECT ENCODING `quicklist`.
    Quick(Quick),
}

impl Default for List {
    fn default() -> List {
        List::new()
    }
}

impl List {
    /// An empty list (`createListListpackObject`).
    pub(crate) fn new() -> List {
        List::Pack(Pack::new())
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            List::Pack(p) => p.count as usize,
            List::Quick(q) => q.len,
        }
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match self {
            List::Pack(_) => "listpack",
            List::Quick(_) => "quicklist",
        }
    }

    /// `listTypeTryConversionAppend`: before adding `args`, turn a listpack that would
    /// outgrow one node of `fill` into a quicklist. Redis counts each argument's raw length
    /// here, not its encoded size.
    pub(crate) fn grow_for(&mut self, fill: i64, args: &[&[u8]]) {
        let List::Pack(p) = self else { return };
        let add: u64 = args.iter().map(|a| a.len() as u64).sum();
        if !exceeds_limit(fill, p.lp + add, u64::from(p.count) + args.len() as u64) {
            return;
        }
        let fill = fill.clamp(-5, FILL_MAX);
        let pack = std::mem::take(p);
        let mut nodes = VecDeque::new();
        let len = pack.count as usize;
        if pack.count > 0 {
            nodes.push_back(pack);
        }
        *self = List::Quick(Quick { nodes, len, fill });
    }

    /// An empty quicklist (`createQuicklistObject`): SORT ... STORE builds its result in
    /// one, then lets `settle` turn a small result into a listpack.
    pub(crate) fn new_quicklist(fill: i64) -> List {
        List::Quick(Quick {
            nodes: VecDeque::new(),
            len: 0,
            fill: fill.clamp(-5, FILL_MAX),
        })
    }

    /// `listTypeTryConvertQuicklist` when shrinking: a quicklist left with a single node at
    /// most half a node's limit becomes that node, a listpack again.
    pub(crate) fn shrink_check(&mut self, fill: i64) {
        self.try_convert_quicklist(fill, true);
    }

    /// `listTypeTryConversion(LIST_CONV_AUTO)` on a list built whole (SORT ... STORE): a
    /// quicklist of a single node within a node's limit becomes a listpack.
    pub(crate) fn settle(&mut self, fill: i64) {
        self.try_convert_quicklist(fill, false);
    }

    /// `listTypeTryConvertQuicklist`: a single-node quicklist within a node's limits
    /// (halved when `shrinking`, so that lists near the limit do not flip back and forth)
    /// becomes that node.
    fn try_convert_quicklist(&mut self, fill: i64, shrinking: bool) {
        let List::Quick(q) = self else { return };
        if q.nodes.len() != 1 {
            return;
        }
        let (mut sz_limit, mut count_limit) = node_limit(fill);
        if shrinking {
            sz_limit /= 2;
            count_limit /= 2;
        }
        let node = &q.nodes[0];
        if node.lp > sz_limit || q.len as u64 > count_limit {
            return;
        }
        if let Some(pack) = q.nodes.pop_front() {
            *self = List::Pack(pack);
        }
    }

    /// Make room for pushing all of `items` at once: a listpack grows once, to the exact
    /// size, instead of once per element.
    pub(crate) fn reserve_for(&mut self, items: &[&[u8]]) {
        if let List::Pack(p) = self {
            if items.len() > 1 {
                let n: usize = items.iter().map(|e| stored_len(e.len())).sum();
                if p.buf.capacity() - p.buf.len() < n {
                    p.buf.reserve_exact(n);
                }
            }
        }
    }

    /// Push `e` at `end` (`listTypePush`).
    pub(crate) fn push(&mut self, end: End, e: &[u8]) {
        match self {
            List::Pack(p) => match end {
                End::Head => p.push_front(e),
                End::Tail => p.push_back(e),
            },
            List::Quick(q) => {
                let node = match end {
                    End::Head => q.nodes.front(),
                    End::Tail => q.nodes.back(),
                };
                let fits = q.allow_insert(node, e.len());
                q.len += 1;
                match (end, fits) {
                    (End::Head, true) => q.nodes[0].push_front(e),
                    (End::Tail, true) => {
                        let last = q.nodes.len() - 1;
                        q.nodes[last].push_back(e)
                    }
                    (End::Head, false) => {
                        // The old head is full for good (pushes go to the new node): give
                        // back its growth slack, as a listpack's exact realloc would have.
                        if let Some(full) = q.nodes.front_mut() {
                            full.buf.shrink_to_fit();
                        }
                        q.nodes.push_front(Pack::with(e))
                    }
                    (End::Tail, false) => {
                        if let Some(full) = q.nodes.back_mut() {
                            full.buf.shrink_to_fit();
                        }
                        q.nodes.push_back(Pack::with(e))
                    }
                }
            }
        }
    }

    /// The element at `end`, if any.
    pub(crate) fn peek(&self, end: End) -> Option<&[u8]> {
        match (self, end) {
            (List::Pack(p), End::Head) => p.first(),
            (List::Pack(p), End::Tail) => p.last(),
            (List::Quick(q), End::Head) => q.nodes.front().and_then(Pack::first),
            (List::Quick(q), End::Tail) => q.nodes.back().and_then(Pack::last),
        }
    }

    /// Remove the element at `end`.
    pub(crate) fn pop(&mut self, end: End) {
        match self {
            List::Pack(p) => match end {
                End::Head => p.pop_front(),
                End::Tail => p.pop_back(),
            },
            List::Quick(q) => {
                let i = match end {
                    End::Head => 0,
                    End::Tail => q.nodes.len().wrapping_sub(1),
                };
                let Some(node) = q.nodes.get_mut(i) else {
                    return;
                };
                match end {
                    End::Head => node.pop_front(),
                    End::Tail => node.pop_back(),
                }
                q.len -= 1;
                if node.count == 0 {
                    q.nodes.remove(i);
                }
            }
        }
    }

    /// Index `i` from the head when non-negative, from the tail when negative (LINDEX).
    pub(crate) fn resolve(&self, i: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if i < 0 { len.checked_add(i)? } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The element at index `idx` (in range).
    pub(crate) fn get(&self, idx: usize) -> &[u8] {
        match self {
            List::Pack(p) => p.entry_at(p.seek(idx)).0,
            List::Quick(q) => {
                let (ni, off) = q.locate(idx);
                let n = &q.nodes[ni];
                n.entry_at(n.seek(off)).0
            }
        }
    }

    /// Replace the element at index `idx` (in range) with `e` (`listTypeReplaceAtIndex`).
    pub(crate) fn set(&mut self, idx: usize, e: &[u8]) {
        match self {
            List::Pack(p) => p.replace(idx, e),
            List::Quick(q) => {
                let (ni, off) = q.locate(idx);
                q.nodes[ni].replace(off, e);
            }
        }
    }

    /// Insert `e` before or after the element at index `idx` (in range) (LINSERT).
    pub(crate) fn insert(&mut self, idx: usize, after: bool, e: &[u8]) {
        match self {
            List::Pack(p) => {
                let pos = p.seek(idx + usize::from(after));
                p.insert_at(pos, e);
            }
            List::Quick(q) => {
                let (ni, off) = q.locate(idx);
                q.insert(ni, off, after, e);
            }
        }
    }

    /// Remove `n` elements from index `start` on (`listTypeDelRange`, LTRIM).
    pub(crate) fn remove_range(&mut self, start: usize, n: usize) {
        let n = n.min(self.len().saturating_sub(start));
        if n == 0 {
            return;
        }
        match self {
            List::Pack(p) => p.remove_range(start, n),
            List::Quick(q) => {
                let (mut ni, mut off) = q.locate(start);
                let mut left = n;
                q.len -= n;
                while left > 0 {
                    let node = &mut q.nodes[ni];
                    let here = left.min(node.count as usize - off);
                    if here == node.count as usize {
                        q.nodes.remove(ni);
                    } else {
                        node.remove_range(off, here);
                        ni += 1;
                    }
                    left -= here;
                    off = 0;
                }
            }
        }
    }

    /// Remove elements equal to `e`, at most `limit` of them (0: all), scanning from the
    /// head or, with `from_tail`, from the tail (LREM); returns how many went.
    pub(crate) fn remove_matching(&mut self, e: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let mut cuts: Vec<(usize, usize, u64)> = Vec::new();
        let nodes: &mut [Pack] = match self {
            List::Pack(p) => std::slice::from_mut(p),
            List::Quick(q) => q.nodes.make_contiguous(),
        };
        let order: Box<dyn Iterator<Item = usize>> = if from_tail {
            Box::new((0..nodes.len()).rev())
        } else {
            Box::new(0..nodes.len())
        };
        for ni in order {
            if limit != 0 && removed == limit {
                break;
            }
            let node = &mut nodes[ni];
            cuts.clear();
            if from_tail {
                let mut end = node.buf.len();
                while end > 0 && (limit == 0 || removed < limit) {
                    let (x, start) = node.entry_before(end);
                    if x == e {
                        cuts.push((start, end, lp_entry_size(x)));
                        removed += 1;
                    }
                    end = start;
                }
                cuts.reverse();
            } else {
                let mut pos = 0;
                while pos < node.buf.len() && (limit == 0 || removed < limit) {
                    let (x, next) = node.entry_at(pos);
                    if x == e {
                        cuts.push((pos, next, lp_entry_size(x)));
                        removed += 1;
                    }
                    pos = next;
                }
            }
            if cuts.is_empty() {
                continue;
            }
            // Compact the node in one pass over the kept runs.
            let mut write = cuts[0].0;
            let mut lp = 0;
            for (k, &(_, end, size)) in cuts.iter().enumerate() {
                // Keep the run between this cut and the next one.
                let next = cuts.get(k + 1).map_or(node.buf.len(), |c| c.0);
                node.buf.copy_within(end..next, write);
                write += next - end;
                lp += size;
            }
            node.buf.truncate(write);
            node.count -= cuts.len() as u32;
            node.lp -= lp;
            node.maybe_shrink();
        }
        if let List::Quick(q) = self {
            q.len -= removed;
            q.nodes.retain(|n| n.count > 0);
        }
        removed
    }

    /// The elements from index `from` (in range) towards the tail, or towards the head when
    /// `reverse`.
    pub(crate) fn iter_from(&self, from: usize, reverse: bool) -> Iter<'_> {
        let (node, off) = match self {
            List::Pack(_) => (0, from),
            List::Quick(q) => q.locate(from),
        };
        let mut it = Iter {
            list: self,
            node,
            pos: 0,
            reverse,
        };
        if let Some(n) = it.node_ref(node) {
            it.pos = n.seek(off + usize::from(reverse));
        }
        it
    }

    /// Every element, head first.
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            node: 0,
            pos: 0,
            reverse: false,
        }
    }
}

/// Walks a list's elements in one direction, node by node.
pub(crate) struct Iter<'a> {
    list: &'a List,
    node: usize,
    /// Forward: the start of the next entry; reverse: the end of the next entry.
    pos: usize,
    reverse: bool,
}

impl<'a> Iter<'a> {
    fn node_ref(&self, i: usize) -> Option<&'a Pack> {
        match self.list {
            List::Pack(p) => (i == 0).then_some(p),
            List::Quick(q) => q.nodes.get(i),
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let mut n = self.node_ref(self.node)?;
        if self.reverse {
            while self.pos == 0 {
                self.node = self.node.checked_sub(1)?;
                n = self.node_ref(self.node)?;
                self.pos = n.buf.len();
            }
            let (e, start) = n.entry_before(self.pos);
            self.pos = start;
            Some(e)
        } else {
            while self.pos >= n.buf.len() {
                self.node += 1;
                n = self.node_ref(self.node)?;
                self.pos = 0;
            }
            let (e, next) = n.entry_at(self.pos);
            self.pos = next;
            Some(e)
        }
    }
}

impl List {
    /// MEMORY USAGE's measure of the list's heap (the `List` itself excluded): a listpack's
    /// buffer, or the node deque plus the average of the first `samples` nodes' buffers
    /// times the node count (Redis samples quicklist nodes the same way).
    pub(crate) fn mem_usage(&self, samples: usize) -> usize {
        match self {
            List::Pack(p) => malloc_size(p.buf.capacity()),
            List::Quick(q) => {
                // At least one node, as Redis's do-while.
                let taken = q.nodes.len().min(samples.max(1));
                let sum = q
                    .nodes
                    .iter()
                    .take(taken)
                    .map(|n| malloc_size(n.buf.capacity()))
                    .sum();
                malloc_size(q.nodes.capacity() * std::mem::size_of::<Pack>())
                    + scale(sum, taken, q.nodes.len())
            }
        }
    }
}

#[cfg(test)]
impl List {
    /// A list of `items`, head first (tests of other modules that need a non-string key).
    pub(crate) fn of(items: &[&[u8]]) -> List {
        let mut l = List::new();
        for i in items {
            l.push(End::Tail, i);
        }
        l
    }

    /// Element counts and Redis sizes of the nodes (one node for a listpack).
    pub(crate) fn nodes(&self) -> Vec<(u32, u64)> {
        match self {
            List::Pack(p) => vec![(p.count, p.lp)],
            List::Quick(q) => q.nodes.iter().map(|n| (n.count, n.lp)).collect(),
        }
    }
}

#[cfg(test)]
impl List {
    /// Panic unless every node's count and Redis size match its entries, and a quicklist
    /// has no empty node and the right total.
    pub(crate) fn check(&self) {
        let nodes: Vec<&Pack> = match self {
            List::Pack(p) => vec![p],
            List::Quick(q) => q.nodes.iter().collect(),
        };
        let mut total = 0;
        for n in &nodes {
            let entries: Vec<&[u8]> = n.iter().collect();
            assert_eq!(entries.len(), n.count as usize);
            let lp: u64 = entries.iter().map(|e| lp_entry_size(e)).sum();
            assert_eq!(n.lp, LP_EMPTY + lp);
            if let List::Quick(_) = self {
                assert!(n.count > 0, "empty quicklist node");
            }
            total += n.count as usize;
        }
        assert_eq!(total, self.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Insert(usize, bool, Vec<u8>),
        Set(usize, Vec<u8>),
        RemoveRange(usize, usize),
        RemoveMatching(Vec<u8>, usize, bool),
        Shrink,
    }

    fn elem() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(vec![&b"a"[..], b"7", b"-5000", b"99999999999"])
                .prop_map(<[u8]>::to_vec),
            (0usize..200).prop_map(|n| vec![b'y'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<bool>(), elem()).prop_map(|(h, e)| Op::Push(h, e)),
            2 => any::<bool>().prop_map(Op::Pop),
            2 => (0usize..64, any::<bool>(), elem()).prop_map(|(i, a, e)| Op::Insert(i, a, e)),
            1 => (0usize..64, elem()).prop_map(|(i, e)| Op::Set(i, e)),
            1 => (0usize..64, 0usize..10).prop_map(|(s, n)| Op::RemoveRange(s, n)),
            1 => (elem(), 0usize..3, any::<bool>()).prop_map(|(e, n, t)| Op::RemoveMatching(e, n, t)),
            1 => Just(Op::Shrink),
        ]
    }

    proptest! {
        #[test]
        fn nodes_stay_consistent(
            fill in prop::sample::select(vec![-2i64, -1, 1, 2, 4]),
            ops in prop::collection::vec(op(), 1..120),
        ) {
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(head, e) => {
                        l.grow_for(fill, &[&e]);
                        let end = if head { End::Head } else { End::Tail };
                        l.push(end, &e);
                        if head { m.push_front(e) } else { m.push_back(e) }
                    }
                    Op::Pop(head) => {
                        let end = if head { End::Head } else { End::Tail };
                        let want = if head { m.pop_front() } else { m.pop_back() };
                        prop_assert_eq!(l.peek(end).map(<[u8]>::to_vec), want);
                        l.pop(end);
                    }
                    Op::Insert(i, after, e) if i < m.len() => {
                        l.grow_for(fill, &[&e]);
                        l.insert(i, after, &e);
                        m.insert(i + usize::from(after), e);
                    }
                    Op::Set(i, e) if i < m.len() => {
                        l.set(i, &e);
                        m[i] = e;
                    }
                    Op::RemoveRange(s, n) => {
                        l.remove_range(s, n);
                        let end = (s + n).min(m.len());
                        if s < end {
                            m.drain(s..end);
                        }
                    }
                    Op::RemoveMatching(e, n, tail) => {
                        let got = l.remove_matching(&e, n, tail);
                        let mut idx: Vec<usize> = (0..m.len()).filter(|&i| m[i] == e).collect();
                        if tail { idx.reverse(); }
                        if n > 0 { idx.truncate(n); }
                        idx.sort_unstable();
                        for i in idx.iter().rev() { m.remove(*i); }
                        prop_assert_eq!(got, idx.len());
                    }
                    Op::Shrink => l.shrink_check(fill),
                    _ => {}
                }
                l.check();
                prop_assert_eq!(l.len(), m.len());
                let all: Vec<Vec<u8>> = l.iter().map(<[u8]>::to_vec).collect();
                prop_assert_eq!(&all, &Vec::from(m.clone()));
                if !m.is_empty() {
                    let rev: Vec<Vec<u8>> = l.iter_from(m.len() - 1, true).map(<[u8]>::to_vec).collect();
                    let want: Vec<Vec<u8>> = m.iter().rev().cloned().collect();
                    prop_assert_eq!(rev, want);
                }
            }
        }
    }

    fn items(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn lp_sizes_match_redis_encodings() {
        assert_eq!(lp_entry_size(b"1"), 2);
        assert_eq!(lp_entry_size(b"127"), 2);
        assert_eq!(lp_entry_size(b"128"), 3);
        assert_eq!(lp_entry_size(b"-4096"), 3);
        assert_eq!(lp_entry_size(b"32767"), 4);
        assert_eq!(lp_entry_size(b"8388607"), 5);
        assert_eq!(lp_entry_size(b"2147483647"), 6);
        assert_eq!(lp_entry_size(b"9223372036854775807"), 10);
        assert_eq!(lp_entry_size(b"01"), 4);
        assert_eq!(lp_entry_size(b"abc"), 5);
        assert_eq!(lp_entry_size(&[b'a'; 63]), 65);
        assert_eq!(lp_entry_size(&[b'a'; 64]), 67);
        assert_eq!(lp_entry_size(&[b'a'; 125]), 128);
        assert_eq!(lp_entry_size(&[b'a'; 4096]), 4101 + 2);
    }

    #[test]
    fn varints_read_back_from_both_ends() {
        for len in [0, 1, 127, 128, 300, 16383, 16384, 70000] {
            let e = vec![b'x'; len];
            let mut p = Pack::new();
            p.push_back(b"a");
            p.push_back(&e);
            p.push_front(&e);
            assert_eq!(p.entry_at(0).0, &e[..]);
            assert_eq!(p.last(), Some(&e[..]));
            assert_eq!(p.iter().count(), 3);
            let (_, start) = p.entry_before(p.buf.len());
            assert_eq!(p.entry_before(start).0, b"a");
        }
    }

    #[test]
    fn pushes_pops_and_ranges_across_nodes() {
        let mut l = List::new();
        l.grow_for(2, &[b"a", b"b", b"c"]);
        assert_eq!(l.encoding_name(), "quicklist");
        for i in 0..7u8 {
            l.push(End::Tail, &[b'a' + i]);
        }
        l.push(End::Head, b"z");
        assert_eq!(l.nodes().len(), 5);
        assert_eq!(l.get(0), b"z");
        assert_eq!(l.get(7), b"g");
        let rev: Vec<_> = l.iter_from(5, true).map(<[u8]>::to_vec).collect();
        assert_eq!(rev, [b"e", b"d", b"c", b"b", b"a", b"z"]);
        l.remove_range(1, 4);
        assert_eq!(items(&l), [b"z", b"e", b"f", b"g"]);
        l.pop(End::Head);
        l.pop(End::Tail);
        assert_eq!(items(&l), [b"e", b"f"]);
        l.shrink_check(2);
        assert_eq!(l.encoding_name(), "quicklist", "two nodes");
    }

    #[test]
    fn remove_matching_from_either_end() {
        let mut l = List::of(&[b"a", b"x", b"b", b"x", b"c", b"x"]);
        assert_eq!(l.remove_matching(b"x", 2, true), 2);
        assert_eq!(items(&l), [b"a", b"x", b"b", b"c"]);
        assert_eq!(l.remove_matching(b"x", 0, false), 1);
        assert_eq!(items(&l), [b"a", b"b", b"c"]);
        assert_eq!(l.nodes(), vec![(3, 7 + 9)]);
    }

    #[test]
    fn insert_splits_full_nodes_like_quicklist() {
        let mut l = List::new();
        l.grow_for(3, &[b"a", b"b", b"c", b"d"]);
        for x in [b"a", b"b", b"c", b"d", b"e", b"f"] {
            l.push(End::Tail, x);
        }
        assert_eq!(l.nodes().iter().map(|n| n.0).collect::<Vec<_>>(), [3, 3]);
        l.insert(1, true, b"X");
        assert_eq!(items(&l), [b"a", b"b", b"X", b"c", b"d", b"e", b"f"]);
        l.insert(0, false, b"Y");
        assert_eq!(items(&l)[0], b"Y");
        l.set(3, b"long value here");
        assert_eq!(l.get(3), b"long value here");
        let total: u32 = l.nodes().iter().map(|n| n.0).sum();
        assert_eq!(total as usize, l.len());
    }
}
