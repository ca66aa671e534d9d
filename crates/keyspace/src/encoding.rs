//! The limits at which small values leave their compact encoding, by Redis's config
//! names (`list-max-listpack-size`, `hash-max-listpack-entries`...), with Redis 7.2's
//! defaults. Shared by every worker and settable at runtime (CONFIG SET): commands read a
//! snapshot (`Limits`) when they start, as Redis reads `server.*` once per conversion check.

use std::sync::atomic::{AtomicI64, Ordering};

/// The encoding limits, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `list-max-listpack-size`: entries per node when positive; when negative, -1..-5 cap a
    /// node at 4/8/16/32/64 KiB.
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries`
    pub hash_max_listpack_entries: i64,
    /// `hash-max-listpack-value`
    pub hash_max_listpack_value: i64,
    /// `set-max-intset-entries`
    pub set_max_intset_entries: i64,
    /// `set-max-listpack-entries`
    pub set_max_listpack_entries: i64,
    /// `set-max-listpack-value`
    pub set_max_listpack_value: i64,
    /// `zset-max-listpack-entries`
    pub zset_max_listpack_entries: i64,
    /// `zset-max-listpack-value`
    pub zset_max_listpack_value: i64,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog that would grow past it turns dense.
    pub hll_sparse_max_bytes: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
        }
    }
}

/// The config names, in the order of `Limits`'s fields (and of `Encodings::cells`).
const NAMES: [&str; 9] = [
    "list-max-listpack-size",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "set-max-intset-entries",
    "set-max-listpack-entries",
    "set-max-listpack-value",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "hll-sparse-max-bytes",
];

/// The live limits, one atomic each.
#[derive(Debug)]
pub(crate) struct Encodings {
    cells: [AtomicI64; 9],
}

impl Default for Encodings {
    fn default() -> Encodings {
        let d = Limits::default();
        Encodings {
            cells: [
                d.list_max_listpack_size,
                d.hash_max_listpack_entries,
                d.hash_max_listpack_value,
                d.set_max_intset_entries,
                d.set_max_listpack_entries,
                d.set_max_listpack_value,
                d.zset_max_listpack_entries,
                d.zset_max_listpack_value,
                d.hll_sparse_max_bytes,
            ]
            .map(AtomicI64::new),
        }
    }
}

impl Encodings {
    /// The limits now.
    pub(crate) fn snapshot(&self) -> Limits {
        let [a, b, c, d, e, f, g, h, i] = &self.cells;
        let get = |x: &AtomicI64| x.load(Ordering::Relaxed);
        Limits {
            list_max_listpack_size: get(a),
            hash_max_listpack_entries: get(b),
            hash_max_listpack_value: get(c),
            set_max_intset_entries: get(d),
            set_max_listpack_entries: get(e),
            set_max_listpack_value: get(f),
            zset_max_listpack_entries: get(g),
            zset_max_listpack_value: get(h),
            hll_sparse_max_bytes: get(i),
        }
    }

    /// Set the limit named `name` (a config name above, or its pre-7.0 `ziplist` alias);
    /// false when no limit has that name. The caller has checked the value's range.
    pub(crate) fn set(&self, name: &str, value: i64) -> bool {
        let name = name.replace("ziplist", "listpack");
        match NAMES.iter().position(|n| *n == name) {
            Some(i) => {
                self.cells[i].store(value, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_set_by_config_name() {
        let e = Encodings::default();
        assert_eq!(e.snapshot(), Limits::default());
        assert!(e.set("hash-max-listpack-entries", 5));
        assert!(e.set("zset-max-ziplist-value", 7));
        assert!(e.set("list-max-listpack-size", -5));
        assert!(!e.set("maxmemory", 1));
        let l = e.snapshot();
        assert_eq!(l.hash_max_listpack_entries, 5);
        assert_eq!(l.zset_max_listpack_value, 7);
        assert_eq!(l.list_max_listpack_size, -5);
        assert_eq!(l.set_max_intset_entries, 512);
        assert!(e.set("hll-sparse-max-bytes", 100));
        assert_eq!(e.snapshot().hll_sparse_max_bytes, 100);
    }
}
