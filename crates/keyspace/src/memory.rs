//! MEMORY USAGE: what one key costs in Shrike's own layout (Redis 7.2's `objectComputeSize`
//! in object.c, applied to our structures rather than Redis's). The table slot, the entry
//! block (key and value struct inside) and every allocation of the value, each rounded to the chunk glibc
//! malloc really hands out, as Redis rounds with `zmalloc_size`. Big collections are
//! sampled as Redis samples them: the average of the first `samples` elements (or nodes),
//! times their number. The types measure their own insides (`mem_usage` in types/*.rs);
//! this file holds the arithmetic they share and the entry's part.

use std::mem::size_of;

use crate::entry::{Entry, Kind};
use crate::types::{hash::Hash, list::List, set::Set, zset::ZSet};

/// What MEMORY USAGE samples when the client gives no SAMPLES (`OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
pub(crate) const DEFAULT_SAMPLES: usize = 5;

/// The chunk glibc's malloc uses for a request of `n` bytes on 64-bit: the size plus its
/// 8-byte header, rounded up to 16, at least 32 (`request2size`). 0 for no allocation.
pub(crate) fn malloc_size(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    ((n + 8 + 15) & !15).max(32)
}

/// The allocation behind a hashbrown table of `capacity` (its `capacity()`) entries of `T`:
/// one slot per bucket plus a control byte each and a trailing group of 16.
pub(crate) fn table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    // hashbrown keeps buckets a power of two, full at 7/8 (below 8 buckets, at one less).
    let buckets = if capacity < 8 {
        capacity + 1
    } else {
        capacity / 7 * 8
    };
    let data = (buckets * size_of::<T>()).next_multiple_of(16);
    malloc_size(data + buckets + 16)
}

/// `sum` of `taken` sampled sizes scaled to `len` elements (Redis's `elesize/samples*len`).
pub(crate) fn scale(sum: usize, taken: usize, len: usize) -> usize {
    if taken == 0 {
        return 0;
    }
    (sum as f64 / taken as f64 * len as f64) as usize
}

/// MEMORY USAGE's answer for `e`, sampling up to `samples` elements of a big collection:
/// the table slot, the entry's block (which holds the key, and the inline string or the
/// collection's own struct) and whatever the value points to.
pub(crate) fn entry_usage(e: &Entry, samples: usize) -> usize {
    // The db table's slot: the 8-byte Entry pointer and hashbrown's control byte.
    const SLOT: usize = size_of::<usize>() + 1;
    let outside = match e.kind() {
        // A raw string's buffer (its spare capacity unseen); an inline one has none.
        Kind::String => match e.str_value() {
            Some(v) if v.as_ptr() != e.key().as_ptr().wrapping_add(e.key().len()) => {
                malloc_size(v.len())
            }
            _ => 0,
        },
        Kind::List => e.typed::<List>().map_or(0, |v| v.mem_usage(samples)),
        Kind::Hash => e.typed::<Hash>().map_or(0, |v| v.mem_usage(samples)),
        Kind::Set => e.typed::<Set>().map_or(0, |v| v.mem_usage(samples)),
        Kind::ZSet => e.typed::<ZSet>().map_or(0, |v| v.mem_usage(samples)),
        Kind::Stream => 0,
    };
    SLOT + malloc_size(e.block_size()) + outside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malloc_chunks_match_glibc() {
        assert_eq!(malloc_size(0), 0);
        assert_eq!(malloc_size(1), 32);
        assert_eq!(malloc_size(24), 32);
        assert_eq!(malloc_size(25), 48);
        assert_eq!(malloc_size(56), 64);
        assert_eq!(malloc_size(1000), 1008);
    }

    #[test]
    fn table_sizes_follow_hashbrown() {
        assert_eq!(table_bytes::<u32>(0), 0);
        // 3 → 4 buckets: 16 bytes of slots, 4 + 16 control bytes.
        assert_eq!(table_bytes::<u32>(3), malloc_size(16 + 4 + 16));
        // 14 → 16 buckets.
        assert_eq!(table_bytes::<u32>(14), malloc_size(64 + 16 + 16));
    }
}
