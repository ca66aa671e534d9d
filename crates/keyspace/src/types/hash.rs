//! The hash type (Redis's `t_hash.c` values): a listpack while small, a hashtable beyond
//! `hash-max-listpack-entries` / `-value`.

/// A hash value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hash {
    /// Field, value, field, value...
    fields: Vec<Box<[u8]>>,
}

impl Hash {
    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        self.fields.len() / 2
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        "listpack"
    }
}
