//! The sorted set type (Redis's `t_zset.c` values): a listpack while small, a skiplist
//! (with its member index) beyond `zset-max-listpack-entries` / `-value`.
//!
//! Placeholder until the sorted set family lands: a sorted Vec with the API the geo
//! commands use (`score`, `insert`, `partition_point`, `for_range`, `with_hint`,
//! `new_skiplist`, `maybe_convert`, `shrink_if_fits`), same signatures as the real type's.

use crate::encoding::Limits;

/// A sorted set value.
#[derive(Debug, Clone, Default)]
pub(crate) struct ZSet {
    members: Vec<(f64, Box<[u8]>)>,
    big: bool,
}

impl ZSet {
    /// Redis's `zsetTypeCreate`.
    pub(crate) fn with_hint(size_hint: usize, len_hint: usize, limits: &Limits) -> ZSet {
        ZSet {
            members: Vec::new(),
            big: !(fits(size_hint, limits.zset_max_listpack_entries)
                && fits(len_hint, limits.zset_max_listpack_value)),
        }
    }

    /// An empty set in the skiplist encoding with room for `capacity` members.
    pub(crate) fn new_skiplist(capacity: usize) -> ZSet {
        ZSet {
            members: Vec::with_capacity(capacity),
            big: true,
        }
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        if self.big {
            "skiplist"
        } else {
            "listpack"
        }
    }

    /// The score of `member`.
    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.members
            .iter()
            .find(|(_, m)| &**m == member)
            .map(|(s, _)| *s)
    }

    /// `zsetTypeMaybeConvert`.
    pub(crate) fn maybe_convert(&mut self, size_hint: usize, limits: &Limits) {
        if !fits(size_hint, limits.zset_max_listpack_entries) {
            self.big = true;
        }
    }

    /// Add `member` with `score`, or move it; true when added.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        let had = self.members.iter().position(|(_, m)| &**m == member);
        if let Some(i) = had {
            self.members.remove(i);
        } else if !fits(self.len() + 1, limits.zset_max_listpack_entries)
            || !fits(member.len(), limits.zset_max_listpack_value)
        {
            self.big = true;
        }
        let at = self.partition_point(|s, m| (s, m) < (score, member));
        self.members.insert(at, (score, member.into()));
        had.is_none()
    }

    /// The first rank whose (score, member) fails `pred`.
    pub(crate) fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.members.partition_point(|(s, m)| pred(*s, m))
    }

    /// Visit ranks `[start, end)`.
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
        let range = &self.members[start..end];
        if rev {
            range.iter().rev().for_each(|(s, m)| f(m, *s));
        } else {
            range.iter().for_each(|(s, m)| f(m, *s));
        }
    }

    /// `zsetConvertToListpackIfNeeded`.
    pub(crate) fn shrink_if_fits(&mut self, max_member_len: usize, limits: &Limits) {
        if fits(self.len(), limits.zset_max_listpack_entries)
            && fits(max_member_len, limits.zset_max_listpack_value)
        {
            self.big = false;
        }
    }
}

fn fits(n: usize, limit: i64) -> bool {
    i64::try_from(n).is_ok_and(|n| n <= limit)
}
