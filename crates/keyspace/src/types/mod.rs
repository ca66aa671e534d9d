//! The aggregate value types, one module each, and `Typed`, the one way a command reaches a
//! key's value as a type (`Keys::read_as`, `write_as`, `write_or_create`; WRONGTYPE comes
//! from there and nowhere else).
//!
//! Each type keeps Redis's compact encoding while it is small (listpack, intset) and
//! converts to the big one (quicklist, hashtable, skiplist) at the same points Redis does,
//! under the limits in `encoding.rs`; OBJECT ENCODING prints Redis's names. Strings are not
//! here: they live inline in the entry (`entry.rs`).

pub(crate) mod hash;
pub(crate) mod list;
pub(crate) mod set;
pub(crate) mod zset;

use crate::entry::{Kind, Obj, TAG_HASH, TAG_LIST, TAG_SET, TAG_ZSET};

/// A value type a key can hold, as the typed accessors see it.
///
/// # Safety
/// `TAG` is the tag `Obj` gives the variant `into_obj` makes, and no other type's: an entry
/// whose payload carries that tag is read as `Self` (`Entry::typed`).
pub(crate) unsafe trait Typed: Sized {
    /// What TYPE prints for it.
    const KIND: Kind;
    /// The `Obj` variant's tag in an entry's meta word.
    const TAG: u32;
    /// The value as a keyspace object.
    fn into_obj(self) -> Obj;
}

macro_rules! typed {
    ($ty:ty, $variant:ident, $kind:expr, $tag:expr) => {
        // SAFETY: `$tag` is `Obj::$variant`'s tag (see `Obj::tag`), one per type below.
        unsafe impl Typed for $ty {
            const KIND: Kind = $kind;
            const TAG: u32 = $tag;
            fn into_obj(self) -> Obj {
                Obj::$variant(self)
            }
        }
    };
}

typed!(list::List, List, Kind::List, TAG_LIST);
typed!(hash::Hash, Hash, Kind::Hash, TAG_HASH);
typed!(set::Set, Set, Kind::Set, TAG_SET);
typed!(zset::ZSet, ZSet, Kind::ZSet, TAG_ZSET);
