//! Segments, the lock domains of the keyspace, and `Tx`, the set of segment locks one
//! command (or later one MULTI/EXEC or Lua script) holds while it runs.
//!
//! A key's segment is its cluster hash slot mod the segment count, so each segment holds,
//! for every database, the keys of its slots (`db.rs`) and their expiry index. A segment is
//! one `parking_lot::Mutex`: commands are short and the lock is almost never contended, which
//! is what parking_lot's small uncontended fast path is for.
//!
//! Deadlock freedom: a `Tx` takes its locks in ascending segment order. Commands over the
//! whole db either take every lock (still in order) or hold none and visit segments one at a
//! time (KEYS, SCAN, RANDOMKEY), taking each lock alone. A unit of work that meets a key it
//! did not declare (a script) grows its set with `Tx::grow`: it waits for a segment above
//! all it holds (still ascending order, so no cycle), only tries one below, and when that
//! fails backs out (`Retry`) to start again with the larger set, never waiting out of order.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;

use crate::db::Db;
use crate::keyloc::KeyMemo;

/// The keys of one segment, for every database.
#[derive(Debug)]
pub(crate) struct Segment {
    /// One `Db` per database index.
    pub(crate) dbs: Box<[Db]>,
    /// For LFU increments and RANDOMKEY.
    pub(crate) rng: Rng,
}

impl Segment {
    fn new(databases: usize, seed: u64) -> Segment {
        Segment {
            dbs: (0..databases).map(|_| Db::default()).collect(),
            rng: Rng(seed | 1),
        }
    }
}

/// xorshift64: fast, and good enough for sampling; the state is never zero.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// The next pseudo-random u64.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A pseudo-random float in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A segment with its lock and its share of the INFO counters. Aligned to two cache lines so
/// that workers on different segments never write to the same line.
#[repr(align(128))]
#[derive(Debug)]
pub(crate) struct SegmentCell {
    pub(crate) lock: Mutex<Segment>,
    /// keyspace_hits of reads in this segment.
    pub(crate) hits: AtomicU64,
    /// keyspace_misses of reads in this segment.
    pub(crate) misses: AtomicU64,
    /// expired_keys deleted in this segment, lazily or by the active cycle.
    pub(crate) expired: AtomicU64,
    /// Changes made in this segment since the last save (INFO rdb_changes_since_last_save).
    pub(crate) changes: AtomicU64,
    /// One write version per hash slot of this segment (for every db): what WATCH reads.
    /// Written only under the lock; atomics so that a reader needs no lock.
    versions: Box<[AtomicU64]>,
    /// log2 of the number of segments: slot >> shift numbers this segment's slots 0, 1, 2...
    /// (a shift, where a division would cost tens of cycles on every write).
    slot_shift: u32,
    /// Added to every version of the segment; bumped when a whole db changes at once
    /// (FLUSHDB, FLUSHALL, SWAPDB), so those need not visit each slot.
    epoch: AtomicU64,
}

impl SegmentCell {
    /// A segment of `segments` (a power of two, at most `SLOTS`), for `databases` dbs.
    pub(crate) fn new(databases: usize, seed: u64, segments: usize) -> SegmentCell {
        debug_assert!(segments.is_power_of_two() && segments <= crate::slot::SLOTS);
        SegmentCell {
            lock: Mutex::new(Segment::new(databases, seed)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            versions: (0..(crate::slot::SLOTS / segments.max(1)).max(1))
                .map(|_| AtomicU64::new(0))
                .collect(),
            slot_shift: segments.max(1).trailing_zeros(),
            epoch: AtomicU64::new(0),
        }
    }

    /// Where slot `slot` keeps its version: the segment's slots are `s, s + n, s + 2n...`
    /// for n segments, so slot / n numbers them 0, 1, 2...
    #[inline]
    fn version_index(&self, slot: u16) -> usize {
        (usize::from(slot) >> self.slot_shift) & (self.versions.len() - 1)
    }

    /// The version of hash slot `slot` (one of this segment's), as WATCH compares it.
    pub(crate) fn version(&self, slot: u16) -> u64 {
        let v = self.versions[self.version_index(slot)].load(Ordering::Acquire);
        v.wrapping_add(self.epoch.load(Ordering::Acquire))
    }

    /// Record a write to a key of hash slot `slot`. The caller holds the segment's lock, so
    /// a plain load and store suffice (no locked instruction on the write path).
    #[inline]
    pub(crate) fn bump_version(&self, slot: u16) {
        let v = &self.versions[self.version_index(slot)];
        v.store(v.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
    }

    /// Record a write to every key of the segment (the caller holds its lock).
    pub(crate) fn bump_epoch(&self) {
        let e = self.epoch.load(Ordering::Relaxed);
        self.epoch.store(e.wrapping_add(1), Ordering::Release);
    }

    /// Count one event. The caller holds the segment's lock, as every writer of these
    /// counters does (a reset too, `Keyspace::reset_stats`), so a plain load and store
    /// suffice: no locked instruction per command.
    #[inline]
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }
}

/// A unit of work must release its locks and start again with segment `.0` added to its
/// set (see `Tx::grow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry(pub usize);

/// The segment locks a command runs under. Obtained from `Keyspace::lock_keys`,
/// `Keyspace::lock_all` or `Keyspace::lock_none`, then passed to `Keyspace::run_locked` once
/// per command, so that MULTI/EXEC and scripts can run many commands under one lock set.
pub struct Tx<'ks> {
    cells: &'ks [SegmentCell],
    /// Held guards, sorted by segment index. When `all`, index i holds segment i.
    held: SmallVec<[(usize, MutexGuard<'ks, Segment>); 4]>,
    all: bool,
    /// Where the last key the unit located lives (`Keys::locate`).
    pub(crate) memo: KeyMemo,
}

impl<'ks> Tx<'ks> {
    /// Hold nothing: for commands that visit segments one at a time.
    pub(crate) fn none(cells: &'ks [SegmentCell]) -> Tx<'ks> {
        Tx {
            cells,
            held: SmallVec::new(),
            all: false,
            memo: KeyMemo::new(),
        }
    }

    /// Lock `segs`, which must be sorted ascending without duplicates.
    pub(crate) fn lock_sorted(cells: &'ks [SegmentCell], segs: &[usize]) -> Tx<'ks> {
        debug_assert!(segs.windows(2).all(|w| w[0] < w[1]));
        let mut held = SmallVec::with_capacity(segs.len());
        for &s in segs {
            if let Some(cell) = cells.get(s) {
                held.push((s, cell.lock.lock()));
            }
        }
        let all = held.len() == cells.len();
        Tx {
            cells,
            held,
            all,
            memo: KeyMemo::new(),
        }
    }

    /// Lock every segment, in order.
    pub(crate) fn lock_all(cells: &'ks [SegmentCell]) -> Tx<'ks> {
        let held = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.lock.lock()))
            .collect();
        Tx {
            cells,
            held,
            all: true,
            memo: KeyMemo::new(),
        }
    }

    /// Add segment `seg` to the held set without risking deadlock: wait for it when it is
    /// above every held segment, else take it only if it is free. `Err(Retry)` means the
    /// caller must release everything and start again with `seg` in its set.
    pub(crate) fn grow(&mut self, seg: usize) -> Result<(), Retry> {
        if self.holds(seg) {
            return Ok(());
        }
        let Some(cell) = self.cells.get(seg) else {
            return Ok(());
        };
        let at = self.held.partition_point(|(s, _)| *s < seg);
        if at == self.held.len() {
            self.held.push((seg, cell.lock.lock()));
        } else {
            let guard = cell.lock.try_lock().ok_or(Retry(seg))?;
            self.held.insert(at, (seg, guard));
        }
        self.all = self.held.len() == self.cells.len();
        Ok(())
    }

    /// The held segments, ascending.
    pub(crate) fn held_segments(&self) -> impl Iterator<Item = usize> + '_ {
        self.held.iter().map(|(s, _)| *s)
    }

    /// True when every segment is locked.
    pub fn holds_all(&self) -> bool {
        self.all
    }

    /// True when this Tx holds segment `seg` and nothing else.
    pub(crate) fn holds_only(&self, seg: usize) -> bool {
        !self.all && matches!(self.held.as_slice(), [(s, _)] if *s == seg)
    }

    /// True when segment `seg` is locked by this Tx.
    pub fn holds(&self, seg: usize) -> bool {
        self.all || self.held.binary_search_by_key(&seg, |(s, _)| *s).is_ok()
    }

    /// The locked segment `seg`. Panics when it is not held: the op table's key positions
    /// decide what a command locks, so touching another segment is a bug in this crate, and
    /// going on would break atomicity.
    pub(crate) fn seg(&mut self, seg: usize) -> &mut Segment {
        let i = if self.all {
            seg
        } else {
            match self.held.binary_search_by_key(&seg, |(s, _)| *s) {
                Ok(i) => i,
                Err(_) => panic!("segment {seg} used without holding its lock"),
            }
        };
        &mut self.held[i].1
    }

    /// The counters of segment `seg`.
    pub(crate) fn cell(&self, seg: usize) -> &'ks SegmentCell {
        &self.cells[seg]
    }

    /// Number of segments of the keyspace.
    pub(crate) fn segment_count(&self) -> usize {
        self.cells.len()
    }

    /// Run `f` on segment `seg`: under the held lock, or, when this Tx holds nothing, under
    /// a lock taken just for the call. Holding some but not all segments while visiting
    /// others could deadlock, so that panics.
    pub(crate) fn visit<R>(&mut self, seg: usize, f: impl FnOnce(&mut Segment) -> R) -> R {
        if self.all {
            return f(&mut self.held[seg].1);
        }
        assert!(
            self.held.is_empty(),
            "visiting segments while holding a partial lock set"
        );
        let mut guard = self.cells[seg].lock.lock();
        f(&mut guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(n: usize) -> Vec<SegmentCell> {
        (0..n)
            .map(|i| SegmentCell::new(2, i as u64 + 1, n))
            .collect()
    }

    #[test]
    fn holds_what_it_locked() {
        let c = cells(8);
        let mut tx = Tx::lock_sorted(&c, &[1, 5]);
        assert!(tx.holds(1) && tx.holds(5) && !tx.holds(2));
        assert!(!tx.holds_all());
        assert_eq!(tx.seg(5).dbs.len(), 2);
        // Other segments stay free for other threads.
        assert!(c[2].lock.try_lock().is_some());
        assert!(c[1].lock.try_lock().is_none());
        drop(tx);
        assert!(c[1].lock.try_lock().is_some());
    }

    #[test]
    #[should_panic(expected = "without holding")]
    fn using_an_unlocked_segment_panics() {
        let c = cells(4);
        let mut tx = Tx::lock_sorted(&c, &[0]);
        tx.seg(3);
    }

    #[test]
    fn visit_locks_one_at_a_time_or_uses_all() {
        let c = cells(4);
        let mut tx = Tx::none(&c);
        let mut n = 0;
        for s in 0..4 {
            n += tx.visit(s, |seg| seg.dbs.len());
        }
        assert_eq!(n, 8);
        let mut all = Tx::lock_all(&c);
        assert!(all.holds_all() && all.holds(3));
        assert_eq!(all.visit(3, |seg| seg.dbs.len()), 2);
        assert!(c[3].lock.try_lock().is_none());
    }

    #[test]
    fn grow_waits_only_in_order_and_backs_out_otherwise() {
        let c = cells(8);
        let mut mine = Tx::lock_sorted(&c, &[5]);
        let theirs = Tx::lock_sorted(&c, &[2, 7]);
        // Below what it holds and taken: waiting could deadlock, so it says retry.
        assert_eq!(mine.grow(2), Err(Retry(2)));
        // Below and free: taken at once, kept in order.
        assert_eq!(mine.grow(1), Ok(()));
        assert_eq!(mine.held_segments().collect::<Vec<_>>(), vec![1, 5]);
        drop(theirs);
        // Above everything held: waiting is safe (here it is free).
        assert_eq!(mine.grow(7), Ok(()));
        assert_eq!(mine.grow(5), Ok(()));
        assert_eq!(mine.held_segments().collect::<Vec<_>>(), vec![1, 5, 7]);
        assert!(mine.holds(7) && !mine.holds(2));
        assert!(c[7].lock.try_lock().is_none());
    }

    #[test]
    fn rng_is_in_range() {
        let c = cells(1);
        let mut g = c[0].lock.lock();
        for _ in 0..1000 {
            let f = g.rng.next_f64();
            assert!((0.0..=1.0).contains(&f));
        }
    }
}
