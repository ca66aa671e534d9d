//! The set type (Redis's `t_set.c` values): an intset or a listpack while small, a
//! hashtable beyond `set-max-intset-entries` / `set-max-listpack-entries` / `-value`.

/// A set value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Set {
    members: Vec<Box<[u8]>>,
}

impl Set {
    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        "listpack"
    }
}
