//! The expiry index of one db in one segment: volatile keys ordered by expiry time.
//!
//! Each volatile entry keeps its own `expire_at_ms` in its block, next to the key a lookup
//! reads anyway (so checking the TTL costs no extra memory access); this index
//! exists so that the active cycle finds what is due without sampling. It holds
//! `(expire_at_ms, key hash)` pairs instead of key copies: 16 bytes per volatile key, no
//! allocation per key. Two keys of one db and segment sharing both the full 64-bit hash and
//! the millisecond share one pair; the db (`db.rs`) keeps the pair while either still needs
//! it and expires both when it comes due.
//!
//! Times are Unix milliseconds from the injected clock (`Session::now_ms`); nothing here reads
//! the system clock. As in Redis (`keyIsExpired`), a key is expired when `now > expire_at`.

use std::collections::BTreeSet;

/// Volatile keys of one segment-db by expiry time, plus the counts INFO keyspace needs.
#[derive(Debug, Default)]
pub(crate) struct ExpiryIndex {
    by_time: BTreeSet<(i64, u64)>,
    /// Number of volatile keys (pairs shared by two keys count twice).
    count: usize,
    /// Sum of their expiry times, for INFO's avg_ttl without a walk.
    sum_ms: i128,
}

impl ExpiryIndex {
    /// Record that a key with hash `h` now expires at `when`.
    pub(crate) fn add(&mut self, when: i64, h: u64) {
        self.by_time.insert((when, h));
        self.count += 1;
        self.sum_ms += i128::from(when);
    }

    /// Record that a key expiring at `when` is gone or persistent; `drop_pair` is false when
    /// another key still shares the `(when, h)` pair.
    pub(crate) fn forget(&mut self, when: i64, h: u64, drop_pair: bool) {
        if drop_pair {
            self.by_time.remove(&(when, h));
        }
        self.count = self.count.saturating_sub(1);
        self.sum_ms -= i128::from(when);
    }

    /// The earliest pair that is due at `now` (expiry strictly before `now`), removed from
    /// the ordering. The caller expires the keys it names and calls `forget(.., false)` for
    /// each.
    pub(crate) fn pop_due(&mut self, now: i64) -> Option<(i64, u64)> {
        let first = *self.by_time.first()?;
        if first.0 < now {
            self.by_time.pop_first();
            Some(first)
        } else {
            None
        }
    }

    /// Number of volatile keys.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Sum of expiry times of the volatile keys.
    pub(crate) fn sum_ms(&self) -> i128 {
        self.sum_ms
    }

    /// Forget everything (FLUSHDB).
    pub(crate) fn clear(&mut self) {
        *self = ExpiryIndex::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_only_what_is_strictly_due_in_time_order() {
        let mut ix = ExpiryIndex::default();
        ix.add(300, 1);
        ix.add(100, 2);
        ix.add(200, 3);
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.sum_ms(), 600);
        // now == expiry is not yet expired (Redis: now > when).
        assert_eq!(ix.pop_due(100), None);
        assert_eq!(ix.pop_due(201), Some((100, 2)));
        ix.forget(100, 2, false);
        assert_eq!(ix.pop_due(201), Some((200, 3)));
        ix.forget(200, 3, false);
        assert_eq!(ix.pop_due(201), None);
        assert_eq!(ix.len(), 1);
        assert_eq!(ix.sum_ms(), 300);
        ix.forget(300, 1, true);
        assert_eq!(ix.pop_due(i64::MAX), None);
        assert_eq!(ix.len(), 0);
    }

    #[test]
    fn shared_pair_is_kept_until_asked() {
        let mut ix = ExpiryIndex::default();
        ix.add(50, 9);
        ix.add(50, 9);
        assert_eq!(ix.len(), 2);
        ix.forget(50, 9, false);
        assert_eq!(ix.pop_due(51), Some((50, 9)));
        ix.clear();
        assert_eq!(ix.len(), 0);
    }
}
