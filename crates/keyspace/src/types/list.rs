//! The list type (Redis's `t_list.c` values): a listpack while small, a quicklist beyond
//! `list-max-listpack-size`.

use std::collections::VecDeque;

/// A list value.
#[derive(Debug, Clone, Default)]
pub(crate) struct List {
    items: VecDeque<Box<[u8]>>,
}

impl List {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        "listpack"
    }
}

#[cfg(test)]
impl List {
    /// A list of `items`, head first (tests of other modules that need a non-string key).
    pub(crate) fn of(items: &[&[u8]]) -> List {
        List {
            items: items.iter().map(|i| Box::from(*i)).collect(),
        }
    }
}
