//! The sorted set type (Redis's `t_zset.c` values): a listpack while small, a skiplist
//! (with its member index) beyond `zset-max-listpack-entries` / `-value`.

/// A sorted set value.
#[derive(Debug, Clone, Default)]
pub(crate) struct ZSet {
    members: Vec<(f64, Box<[u8]>)>,
}

impl ZSet {
    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        "listpack"
    }
}
