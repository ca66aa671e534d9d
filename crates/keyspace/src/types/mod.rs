//! The aggregate value types, one module each, and `Typed`, the one way a command reaches a
//! key's value as a type (`Keys::read_as`, `write_as`, `write_or_create`; WRONGTYPE comes
//! from there and nowhere else).
//!
//! Each type keeps Redis's compact encoding while it is small (listpack, intset) and
//! converts to the big one (quicklist, hashtable, skiplist) at the same points Redis does,
//! under the limits in `encoding.rs`; OBJECT ENCODING prints Redis's names. Strings are not
//! here: they live inline in the entry (`db.rs`).

pub(crate) mod hash;
pub(crate) mod list;
pub(crate) mod set;
pub(crate) mod zset;

use crate::db::{Kind, Obj};

/// A value type a key can hold, as the typed accessors see it.
pub(crate) trait Typed: Sized {
    /// What TYPE prints for it.
    const KIND: Kind;
    /// The value, when `obj` holds this type.
    fn of(obj: &Obj) -> Option<&Self>;
    /// The value, mutably, when `obj` holds this type.
    fn of_mut(obj: &mut Obj) -> Option<&mut Self>;
    /// The value as a keyspace object.
    fn into_obj(self) -> Obj;
}

macro_rules! typed {
    ($ty:ty, $variant:ident, $kind:expr) => {
        impl Typed for $ty {
            const KIND: Kind = $kind;
            fn of(obj: &Obj) -> Option<&Self> {
                match obj {
                    Obj::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn of_mut(obj: &mut Obj) -> Option<&mut Self> {
                match obj {
                    Obj::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_obj(self) -> Obj {
                Obj::$variant(self)
            }
        }
    };
}

typed!(list::List, List, Kind::List);
typed!(hash::Hash, Hash, Kind::Hash);
typed!(set::Set, Set, Kind::Set);
typed!(zset::ZSet, ZSet, Kind::ZSet);
