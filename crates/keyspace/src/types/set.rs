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

    /// Visit every member (ZUNION/ZINTER/ZDIFF read sets as scores of 1).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for m in &self.members {
            f(m);
        }
    }

    /// True when `member` is in the set.
    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        self.members.iter().any(|m| &**m == member)
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        "listpack"
    }
}
