//! A key and its value in one heap block: the `Entry` a key table slot holds, the value
//! kinds (`Kind`, `StrEnc`, `Obj`) and the access clock (LRU/LFU) kept in its meta word.
//!
//! Memory per key is what the perf goal (≤ 1.2x Redis's RSS) is about, so a table slot is
//! an 8-byte `Entry` pointing to one allocation that holds a small header, the TTL only when
//! the key has one, the key bytes and the value bytes: Redis's embstr, but for the key and
//! its metadata too. A table holds about twice as many slots as keys right after it grows,
//! so every byte of a slot counts double; at 40 bytes inline (the first layout) the tables
//! alone were half the keyspace's memory. Values that must grow in place (APPEND, SETRANGE)
//! and lists, hashes, sets and sorted sets are stored in the block too, as the type's own
//! struct (its header: a `Vec` and a length or two) at an 8-aligned offset after the key,
//! with the variant in the meta word: no second allocation per key, where Redis has its
//! 16-byte robj.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::error::KsError;
use crate::types::hash::Hash;
use crate::types::list::List;
use crate::types::set::Set;
use crate::types::zset::ZSet;
use crate::types::Typed;

/// Redis data types, as TYPE names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `string`
    String,
    /// `list`
    List,
    /// `set`
    Set,
    /// `zset`
    ZSet,
    /// `hash`
    Hash,
    /// `stream`
    Stream,
}

impl Kind {
    /// The name TYPE replies and SCAN TYPE matches.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Hash => "hash",
            Kind::Stream => "stream",
        }
    }

    /// The kind named `name`, ignoring case (SCAN's TYPE option).
    pub fn from_name(name: &[u8]) -> Option<Kind> {
        [
            Kind::String,
            Kind::List,
            Kind::Set,
            Kind::ZSet,
            Kind::Hash,
            Kind::Stream,
        ]
        .into_iter()
        .find(|k| k.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

/// How an inline string value is encoded, as OBJECT ENCODING reports it (Redis's
/// `tryObjectEncoding` decides: canonical i64 → int, ≤ 44 bytes → embstr, else raw).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StrEnc {
    /// A canonical integer in `0..10000`: Redis shares one object per such value, so OBJECT
    /// REFCOUNT says 2147483647.
    SharedInt = 0,
    /// A canonical integer held by this key alone.
    Int = 1,
    Embstr = 2,
    Raw = 3,
}

impl StrEnc {
    fn from_bits(b: u32) -> StrEnc {
        match b {
            0 => StrEnc::SharedInt,
            1 => StrEnc::Int,
            2 => StrEnc::Embstr,
            _ => StrEnc::Raw,
        }
    }

    /// The encoding `tryObjectEncoding` gives a value written by SET, MSET, GETSET...
    pub fn for_value(v: &[u8]) -> StrEnc {
        if v.len() <= 20 {
            if let Some(n) = crate::number::parse_i64(v) {
                return StrEnc::for_int(n);
            }
        }
        StrEnc::for_text(v)
    }

    /// The encoding `createStringObject` gives (INCRBYFLOAT): never int.
    pub fn for_text(v: &[u8]) -> StrEnc {
        if v.len() <= 44 {
            StrEnc::Embstr
        } else {
            StrEnc::Raw
        }
    }

    /// The encoding of an integer result (INCR, `createStringObjectFromLongLongForValue`).
    pub fn for_int(n: i64) -> StrEnc {
        if (0..10000).contains(&n) {
            StrEnc::SharedInt
        } else {
            StrEnc::Int
        }
    }
}

/// A raw string's bytes. Shared: a reply queued for a client holds a reference to a big
/// value rather than a copy of it (`ReplySink::bulk_shared`), and a write to a value that a
/// reply still holds copies it first (`Entry::str_raw_mut`), so the reply sends what was read.
pub type RawStr = Arc<Vec<u8>>;

/// A value that is not an inline string, as it moves in and out of an `Entry`'s block
/// (in the block only the variant's payload is stored, its tag in the meta word).
#[derive(Debug, Clone)]
pub(crate) enum Obj {
    /// A string that APPEND/SETRANGE grow in place (Redis's raw sds with free space).
    Raw(RawStr),
    List(List),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
}

/// The tag of each `Obj` variant in the meta word (`TAG_SHIFT`); `Typed::TAG` for the types.
pub(crate) const TAG_RAW: u32 = 0;
pub(crate) const TAG_LIST: u32 = 1;
pub(crate) const TAG_HASH: u32 = 2;
pub(crate) const TAG_SET: u32 = 3;
pub(crate) const TAG_ZSET: u32 = 4;

// Every payload is Send and Sync, as `Entry`'s Send and Sync impls assume.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RawStr>();
    send_sync::<List>();
    send_sync::<Hash>();
    send_sync::<Set>();
    send_sync::<ZSet>();
};

// Every payload fits the block's 8-byte alignment and a u16 length.
const _: () = {
    use std::mem::{align_of, size_of};
    assert!(align_of::<RawStr>() <= BLOCK_ALIGN && size_of::<RawStr>() < 256);
    assert!(align_of::<List>() <= BLOCK_ALIGN && size_of::<List>() < 256);
    assert!(align_of::<Hash>() <= BLOCK_ALIGN && size_of::<Hash>() < 256);
    assert!(align_of::<Set>() <= BLOCK_ALIGN && size_of::<Set>() < 256);
    assert!(align_of::<ZSet>() <= BLOCK_ALIGN && size_of::<ZSet>() < 256);
};

impl Obj {
    fn tag(&self) -> u32 {
        match self {
            Obj::Raw(_) => TAG_RAW,
            Obj::List(_) => TAG_LIST,
            Obj::Hash(_) => TAG_HASH,
            Obj::Set(_) => TAG_SET,
            Obj::ZSet(_) => TAG_ZSET,
        }
    }

    /// Bytes the payload of variant `tag` takes in a block.
    fn payload_len(tag: u32) -> usize {
        use std::mem::size_of;
        match tag {
            TAG_RAW => size_of::<RawStr>(),
            TAG_LIST => size_of::<List>(),
            TAG_HASH => size_of::<Hash>(),
            TAG_SET => size_of::<Set>(),
            _ => size_of::<ZSet>(),
        }
    }

    /// Move the payload to `p`.
    ///
    /// # Safety
    /// `p` is 8-aligned, valid for `payload_len(self.tag())` bytes of writes, and holds no
    /// live value (it is overwritten without a drop).
    unsafe fn write_to(self, p: *mut u8) {
        match self {
            Obj::Raw(v) => p.cast::<RawStr>().write(v),
            Obj::List(v) => p.cast::<List>().write(v),
            Obj::Hash(v) => p.cast::<Hash>().write(v),
            Obj::Set(v) => p.cast::<Set>().write(v),
            Obj::ZSet(v) => p.cast::<ZSet>().write(v),
        }
    }

    /// Move the payload of variant `tag` out of `p`.
    ///
    /// # Safety
    /// `p` holds a live payload of variant `tag` written by `write_to`, which the caller
    /// then treats as moved out (never reads or drops it again).
    unsafe fn read_from(p: *const u8, tag: u32) -> Obj {
        match tag {
            TAG_RAW => Obj::Raw(p.cast::<RawStr>().read()),
            TAG_LIST => Obj::List(p.cast::<List>().read()),
            TAG_HASH => Obj::Hash(p.cast::<Hash>().read()),
            TAG_SET => Obj::Set(p.cast::<Set>().read()),
            _ => Obj::ZSet(p.cast::<ZSet>().read()),
        }
    }
}

/// A borrowed view of an entry's `Obj` payload.
#[derive(Clone, Copy)]
enum ObjRef<'a> {
    Raw(&'a RawStr),
    List(&'a List),
    Hash(&'a Hash),
    Set(&'a Set),
    ZSet(&'a ZSet),
}

impl ObjRef<'_> {
    /// The value's type.
    fn kind(self) -> Kind {
        match self {
            ObjRef::Raw(_) => Kind::String,
            ObjRef::List(_) => Kind::List,
            ObjRef::Hash(_) => Kind::Hash,
            ObjRef::Set(_) => Kind::Set,
            ObjRef::ZSet(_) => Kind::ZSet,
        }
    }

    /// Elements of a collection (None for a string).
    fn len(self) -> Option<usize> {
        match self {
            ObjRef::Raw(_) => None,
            ObjRef::List(v) => Some(v.len()),
            ObjRef::Hash(v) => Some(v.len()),
            ObjRef::Set(v) => Some(v.len()),
            ObjRef::ZSet(v) => Some(v.len()),
        }
    }

    /// OBJECT ENCODING's answer.
    fn encoding_name(self) -> &'static str {
        match self {
            ObjRef::Raw(_) => "raw",
            ObjRef::List(v) => v.encoding_name(),
            ObjRef::Hash(v) => v.encoding_name(),
            ObjRef::Set(v) => v.encoding_name(),
            ObjRef::ZSet(v) => v.encoding_name(),
        }
    }

    /// An owned copy (COPY).
    fn to_obj(self) -> Obj {
        match self {
            ObjRef::Raw(v) => Obj::Raw(v.clone()),
            ObjRef::List(v) => Obj::List(v.clone()),
            ObjRef::Hash(v) => Obj::Hash(v.clone()),
            ObjRef::Set(v) => Obj::Set(v.clone()),
            ObjRef::ZSet(v) => Obj::ZSet(v.clone()),
        }
    }
}

/// Low 24 bits of the meta word: the access clock (Redis's 24-bit `lru` field).
const ACCESS_MASK: u32 = 0x00FF_FFFF;
/// Bits 24..26 of the meta word: the `StrEnc` of an inline string.
const ENC_SHIFT: u32 = 24;
const ENC_MASK: u32 = 0b11 << ENC_SHIFT;
/// The block holds an expiry time between its header and the key.
const F_EXPIRE: u32 = 1 << 26;
/// The value is an `Obj` payload (tag in `TAG_MASK`) rather than an inline string.
const F_OBJ: u32 = 1 << 27;
/// The lengths are u32s, not u16s: a key or value of 64 KiB or more.
const F_LONG: u32 = 1 << 28;
/// Bits 29..32 of the meta word, under F_OBJ: which `Obj` variant the payload is.
const TAG_SHIFT: u32 = 29;
const TAG_MASK: u32 = 0b111 << TAG_SHIFT;
/// Every block's alignment, so that an `Obj` payload can sit at an aligned offset; free with
/// glibc, whose chunks are 16-aligned anyway.
const BLOCK_ALIGN: usize = 8;
/// What the meta word carries from one block to its replacement (flags are recomputed).
const KEEP_MASK: u32 = ACCESS_MASK | ENC_MASK;
/// Header sizes: meta word, then key and value lengths as u16s or (`F_LONG`) u32s.
const SHORT_HDR: usize = 8;
const LONG_HDR: usize = 12;
const EXPIRE_LEN: usize = std::mem::size_of::<i64>();

/// One key and its value: a thin pointer, so the table slot is 8 bytes, to one heap block
///
/// ```text
/// meta: u32 | key_len, val_len: u16 each (u32 each with F_LONG) | [expire_at_ms: i64]
///           | key bytes | value bytes (or, with F_OBJ, padding to 8 and an Obj payload)
/// ```
///
/// Everything a lookup needs (flags, TTL, value) sits next to the key its compare reads
/// anyway, and a persistent key pays nothing for TTL support: its block has no expiry field. A
/// 16-byte key with a 32-byte value is 56 bytes, one 64-byte malloc chunk. The meta word is
/// Redis's `robj.lru` (bits 0..24: LRU clock in seconds, or LFU minutes << 8 | log counter),
/// then the `StrEnc` of an inline string, the layout flags and the Obj tag. The header, TTL
/// and string fields are read and written unaligned: the block is a byte buffer; only an Obj
/// payload is aligned (the block is 8-aligned, and the payload's offset rounded up to 8), so
/// it can be borrowed as `&T`. A set of 16 members under a 12-byte key is then one 64-byte
/// chunk plus the set's buffer, where a block pointing to a `Box<Obj>` was 32 + 80 bytes.
pub(crate) struct Entry {
    block: NonNull<u8>,
}

// SAFETY: an Entry owns its block, and the Obj payload in it, exclusively, like a
// `Box<[u8]>` plus a `Box<Obj>`; nothing is shared, so it moves and is shared across threads
// exactly as those boxes would be (every payload type is Send and Sync).
unsafe impl Send for Entry {}
// SAFETY: as above; `&Entry` only reads.
unsafe impl Sync for Entry {}

/// Where the parts of a block are, from its header.
#[derive(Clone, Copy)]
struct Shape {
    /// Offset of the key (header and expiry field before it).
    data: usize,
    key_len: usize,
    /// Offset of the value: right after the key, or (F_OBJ) the next multiple of 8.
    val_at: usize,
    /// Inline value length, or the Obj payload's size under `F_OBJ`.
    val_len: usize,
}

impl Shape {
    fn size(self) -> usize {
        self.val_at + self.val_len
    }
}

/// The value a new block gets.
enum Val<'a> {
    Inline(&'a [u8]),
    Obj(Obj),
}

fn block_layout(size: usize) -> Layout {
    // Lengths are at most u32::MAX each, so the size is far below isize::MAX.
    Layout::from_size_align(size, BLOCK_ALIGN)
        .unwrap_or_else(|_| unreachable!("entry of {size} bytes"))
}

/// Where an Obj payload starts: after the key, rounded up to the block's alignment.
fn payload_at(key_end: usize) -> usize {
    key_end.next_multiple_of(BLOCK_ALIGN)
}

fn len_u32(n: usize) -> u32 {
    // Keys and values come from bulk strings capped at proto-max-bulk-len (512 MB).
    u32::try_from(n).unwrap_or_else(|_| panic!("key or value of {n} bytes"))
}

impl Entry {
    /// A new block: `meta`'s access clock and encoding, `expire_at_ms` (0: persistent),
    /// `key` and `val`.
    fn alloc(meta: u32, expire_at_ms: i64, key: &[u8], val: Val<'_>) -> Entry {
        let mut meta = meta & KEEP_MASK;
        let val_len = match &val {
            Val::Inline(v) => v.len(),
            Val::Obj(obj) => {
                meta |= F_OBJ | (obj.tag() << TAG_SHIFT);
                Obj::payload_len(obj.tag())
            }
        };
        let long = key.len() > usize::from(u16::MAX) || val_len > usize::from(u16::MAX);
        let hdr = if long {
            meta |= F_LONG;
            LONG_HDR
        } else {
            SHORT_HDR
        };
        let data = if expire_at_ms != 0 {
            meta |= F_EXPIRE;
            hdr + EXPIRE_LEN
        } else {
            hdr
        };
        let val_at = if meta & F_OBJ != 0 {
            payload_at(data + key.len())
        } else {
            data + key.len()
        };
        let shape = Shape {
            data,
            key_len: key.len(),
            val_at,
            val_len,
        };
        let layout = block_layout(shape.size());
        // SAFETY: the layout is non-zero-sized (the header alone is 8 bytes).
        let p = unsafe { alloc::alloc(layout) };
        let Some(block) = NonNull::new(p) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: every write below is inside the `shape.size()` bytes just allocated, at the
        // offsets `shape()` will read them from; unaligned writes because the block is a byte
        // buffer, except the Obj payload, at an 8-aligned offset of an 8-aligned block;
        // `key` and `val` do not overlap a fresh allocation.
        unsafe {
            p.cast::<u32>().write_unaligned(meta);
            if long {
                p.add(4).cast::<u32>().write_unaligned(len_u32(key.len()));
                p.add(8).cast::<u32>().write_unaligned(len_u32(val_len));
            } else {
                // Both fit: `long` is false.
                p.add(4).cast::<u16>().write_unaligned(key.len() as u16);
                p.add(6).cast::<u16>().write_unaligned(val_len as u16);
            }
            if expire_at_ms != 0 {
                p.add(hdr).cast::<i64>().write_unaligned(expire_at_ms);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(data), key.len());
            let v = p.add(val_at);
            match val {
                Val::Inline(bytes) => std::ptr::copy_nonoverlapping(bytes.as_ptr(), v, bytes.len()),
                Val::Obj(obj) => obj.write_to(v),
            }
        }
        Entry { block }
    }

    /// Ask the CPU for the block's first cache line (a hint: never faults, never waits).
    #[inline]
    pub(crate) fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is only a hint; it reads nothing and is valid for any address.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                self.block.as_ptr().cast::<i8>(),
            );
        }
    }

    #[inline]
    fn meta(&self) -> u32 {
        // SAFETY: every block starts with its 4-byte meta word.
        unsafe { self.block.as_ptr().cast::<u32>().read_unaligned() }
    }

    #[inline]
    fn set_meta(&mut self, meta: u32) {
        // SAFETY: as in `meta`; `&mut self` means no one else reads the block.
        unsafe { self.block.as_ptr().cast::<u32>().write_unaligned(meta) }
    }

    #[inline]
    fn shape(&self) -> Shape {
        let m = self.meta();
        let p = self.block.as_ptr();
        // SAFETY: the header written by `alloc` is 8 bytes, or 12 when F_LONG says so.
        let (hdr, key_len, val_len) = unsafe {
            if m & F_LONG == 0 {
                (
                    SHORT_HDR,
                    usize::from(p.add(4).cast::<u16>().read_unaligned()),
                    usize::from(p.add(6).cast::<u16>().read_unaligned()),
                )
            } else {
                (
                    LONG_HDR,
                    p.add(4).cast::<u32>().read_unaligned() as usize,
                    p.add(8).cast::<u32>().read_unaligned() as usize,
                )
            }
        };
        let data = if m & F_EXPIRE != 0 {
            hdr + EXPIRE_LEN
        } else {
            hdr
        };
        let val_at = if m & F_OBJ != 0 {
            payload_at(data + key_len)
        } else {
            data + key_len
        };
        Shape {
            data,
            key_len,
            val_at,
            val_len,
        }
    }

    /// Write the header's value length (`take_obj` keeps the block's size with it).
    fn set_val_len(&mut self, val_len: usize) {
        let p = self.block.as_ptr();
        // SAFETY: the header is 8 bytes, or 12 under F_LONG; `&mut self` makes the write
        // exclusive. A short header's length fits u16: `take_obj` passes at most the payload
        // size plus 7 bytes of padding.
        unsafe {
            if self.meta() & F_LONG == 0 {
                p.add(6).cast::<u16>().write_unaligned(val_len as u16);
            } else {
                p.add(8).cast::<u32>().write_unaligned(len_u32(val_len));
            }
        }
    }

    /// The value bytes region: the inline string, or the Obj pointer under F_OBJ.
    #[inline]
    fn val_bytes(&self) -> &[u8] {
        let s = self.shape();
        // SAFETY: `shape` describes the block `alloc` initialised; the slice lives as long
        // as `&self`, during which the block is neither freed nor written.
        unsafe { std::slice::from_raw_parts(self.block.as_ptr().add(s.val_at), s.val_len) }
    }

    #[inline]
    fn val_bytes_mut(&mut self) -> &mut [u8] {
        let s = self.shape();
        // SAFETY: as in `val_bytes`, and `&mut self` makes the borrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.block.as_ptr().add(s.val_at), s.val_len) }
    }

    /// The Obj payload's address and tag, under F_OBJ.
    #[inline]
    fn payload(&self) -> Option<(*mut u8, u32)> {
        let m = self.meta();
        if m & F_OBJ == 0 {
            return None;
        }
        // SAFETY: `val_at` is inside the block (`shape` describes what `alloc` made).
        let p = unsafe { self.block.as_ptr().add(self.shape().val_at) };
        Some((p, (m & TAG_MASK) >> TAG_SHIFT))
    }

    /// The value when it is not an inline string.
    #[inline]
    fn obj(&self) -> Option<ObjRef<'_>> {
        let (p, tag) = self.payload()?;
        // SAFETY: under F_OBJ, `p` holds the live payload `alloc` wrote for variant `tag`,
        // aligned; the borrow lives as long as `&self`, during which nothing writes it.
        Some(unsafe {
            match tag {
                TAG_RAW => ObjRef::Raw(&*p.cast::<RawStr>()),
                TAG_LIST => ObjRef::List(&*p.cast::<List>()),
                TAG_HASH => ObjRef::Hash(&*p.cast::<Hash>()),
                TAG_SET => ObjRef::Set(&*p.cast::<Set>()),
                _ => ObjRef::ZSet(&*p.cast::<ZSet>()),
            }
        })
    }

    /// Take the Obj out; the block's value region becomes plain bytes of the same size, so
    /// the block can still be freed with its layout.
    fn take_obj(&mut self) -> Option<Obj> {
        let (p, tag) = self.payload()?;
        let s = self.shape();
        self.set_meta(self.meta() & !(F_OBJ | TAG_MASK));
        self.set_val_len(s.size() - (s.data + s.key_len));
        // SAFETY: `p` held the live payload of variant `tag`; clearing F_OBJ just now means
        // this entry no longer owns it, so it is moved out exactly once.
        Some(unsafe { Obj::read_from(p, tag) })
    }

    /// The TTL field: 0 for a persistent key.
    #[inline]
    pub(crate) fn expire_raw(&self) -> i64 {
        let m = self.meta();
        if m & F_EXPIRE == 0 {
            return 0;
        }
        let hdr = if m & F_LONG == 0 { SHORT_HDR } else { LONG_HDR };
        // SAFETY: under F_EXPIRE, `alloc` wrote the expiry right after the header.
        unsafe { self.block.as_ptr().add(hdr).cast::<i64>().read_unaligned() }
    }

    /// A string entry `key` = `val`.
    pub(crate) fn new_str(key: &[u8], val: &[u8], enc: StrEnc, access: u32) -> Entry {
        Entry::alloc(
            (access & ACCESS_MASK) | ((enc as u32) << ENC_SHIFT),
            0,
            key,
            Val::Inline(val),
        )
    }

    /// A string entry `key` = `val` that keeps `val`'s own buffer (a big argument the caller
    /// received into it): Redis's raw encoding, with no copy of the bytes.
    pub(crate) fn new_raw(key: &[u8], val: Vec<u8>, access: u32) -> Entry {
        Entry::alloc(
            (access & ACCESS_MASK) | ((StrEnc::Raw as u32) << ENC_SHIFT),
            0,
            key,
            Val::Obj(Obj::Raw(Arc::new(val))),
        )
    }

    /// An entry `key` holding the aggregate value `val`.
    pub(crate) fn new_obj(key: &[u8], val: Obj, access: u32) -> Entry {
        Entry::alloc(
            (access & ACCESS_MASK) | ((StrEnc::Raw as u32) << ENC_SHIFT),
            0,
            key,
            Val::Obj(val),
        )
    }

    /// The key.
    #[inline]
    pub(crate) fn key(&self) -> &[u8] {
        let s = self.shape();
        // SAFETY: as in `val_bytes`.
        unsafe { std::slice::from_raw_parts(self.block.as_ptr().add(s.data), s.key_len) }
    }

    /// The value's type.
    pub(crate) fn kind(&self) -> Kind {
        self.obj().map_or(Kind::String, ObjRef::kind)
    }

    /// True when the value is a collection with no elements left (the mutation path then
    /// deletes the key, as every Redis command that empties one does).
    pub(crate) fn is_empty_collection(&self) -> bool {
        self.obj().and_then(ObjRef::len) == Some(0)
    }

    /// Bytes of the entry's block as allocated: header, TTL, key and the inline value or the
    /// collection's own struct (MEMORY USAGE adds what that struct points to).
    pub(crate) fn block_size(&self) -> usize {
        self.shape().size()
    }

    /// Elements of a collection value (0 for a string): what freeing it costs.
    pub(crate) fn elements(&self) -> usize {
        self.obj().and_then(ObjRef::len).unwrap_or(0)
    }

    /// The value as type `T`; WRONGTYPE when it holds another type (the one place that
    /// error comes from for aggregate types).
    pub(crate) fn typed<T: Typed>(&self) -> Result<&T, KsError> {
        match self.payload() {
            // SAFETY: the tag says the payload is a live `T` (`Typed`'s contract: each type
            // has its own tag), aligned; the borrow lives as long as `&self`.
            Some((p, tag)) if tag == T::TAG => Ok(unsafe { &*p.cast::<T>() }),
            _ => Err(KsError::WrongType),
        }
    }

    /// `typed`, mutably.
    pub(crate) fn typed_mut<T: Typed>(&mut self) -> Result<&mut T, KsError> {
        match self.payload() {
            // SAFETY: as in `typed`; `&mut self` makes the borrow exclusive.
            Some((p, tag)) if tag == T::TAG => Ok(unsafe { &mut *p.cast::<T>() }),
            _ => Err(KsError::WrongType),
        }
    }

    /// The string value; WRONGTYPE when the key holds another type.
    #[inline]
    pub(crate) fn string(&self) -> Result<&[u8], KsError> {
        self.str_value().ok_or(KsError::WrongType)
    }

    /// The string value, or None when the key holds another type.
    #[inline]
    pub(crate) fn str_value(&self) -> Option<&[u8]> {
        match self.obj() {
            None => Some(self.val_bytes()),
            Some(ObjRef::Raw(v)) => Some(v.as_slice()),
            Some(_) => None,
        }
    }

    /// The string value's shared buffer when it is a raw string (None for an inline string
    /// or another type): a reply may queue it instead of a copy (`ReplySink::bulk_shared`).
    #[inline]
    pub(crate) fn shared_str(&self) -> Option<&RawStr> {
        match self.obj() {
            Some(ObjRef::Raw(v)) => Some(v),
            _ => None,
        }
    }

    /// The encoding of a string value.
    pub(crate) fn str_enc(&self) -> StrEnc {
        match self.obj() {
            None => StrEnc::from_bits((self.meta() & ENC_MASK) >> ENC_SHIFT),
            Some(_) => StrEnc::Raw,
        }
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match self.obj() {
            None => match self.str_enc() {
                StrEnc::SharedInt | StrEnc::Int => "int",
                StrEnc::Embstr => "embstr",
                StrEnc::Raw => "raw",
            },
            Some(obj) => obj.encoding_name(),
        }
    }

    /// OBJECT REFCOUNT's answer: shared small integers report INT_MAX, as in Redis.
    pub(crate) fn refcount(&self) -> i64 {
        if self.payload().is_none() && self.str_enc() == StrEnc::SharedInt {
            i64::from(i32::MAX)
        } else {
            1
        }
    }

    /// Replace the value with the inline string `val`, keeping key, TTL and access clock
    /// (Redis's `dbSetValue` keeps the old `lru` too).
    pub(crate) fn set_str(&mut self, val: &[u8], enc: StrEnc) {
        let meta = (self.meta() & !ENC_MASK) | ((enc as u32) << ENC_SHIFT);
        if self.meta() & F_OBJ == 0 && self.val_bytes().len() == val.len() {
            // Same length (INCR mostly, or a SET of an equal-size value): no allocation.
            self.val_bytes_mut().copy_from_slice(val);
            self.set_meta(meta);
        } else {
            let new = Entry::alloc(meta, self.expire_raw(), self.key(), Val::Inline(val));
            // A big collection overwritten by a string is freed off the worker.
            crate::lazyfree::drop_entry(std::mem::replace(self, new));
        }
    }

    /// Replace the value with a copy of `val` in a buffer of its own (a value of SPLICE_MIN
    /// bytes or more, which replies then send by reference), keeping key, TTL and access
    /// clock as `set_str` does. A raw value of the same length that no queued reply holds
    /// is overwritten in place, as `set_str` does an inline one: no allocation.
    pub(crate) fn set_big(&mut self, val: &[u8]) {
        if let Some((p, TAG_RAW)) = self.payload() {
            // SAFETY: the tag says the payload is a live `RawStr`, aligned; `&mut self`
            // makes the borrow exclusive.
            let raw = unsafe { &mut *p.cast::<RawStr>() };
            if let Some(buf) = Arc::get_mut(raw).filter(|b| b.len() == val.len()) {
                buf.copy_from_slice(val);
                let meta = (self.meta() & !ENC_MASK) | ((StrEnc::Raw as u32) << ENC_SHIFT);
                self.set_meta(meta);
                return;
            }
        }
        self.set_raw(val.to_vec());
    }

    /// Replace the value with `val`'s own buffer (see `new_raw`), keeping key, TTL and access
    /// clock as `set_str` does.
    pub(crate) fn set_raw(&mut self, val: Vec<u8>) {
        let meta = (self.meta() & !ENC_MASK) | ((StrEnc::Raw as u32) << ENC_SHIFT);
        let obj = Obj::Raw(Arc::new(val));
        let new = Entry::alloc(meta, self.expire_raw(), self.key(), Val::Obj(obj));
        // A big collection overwritten by a string is freed off the worker.
        crate::lazyfree::drop_entry(std::mem::replace(self, new));
    }

    /// The string value as a growable buffer, converting an inline value first (Redis's
    /// `dbUnshareStringValue`, after which the encoding is raw), and copying a raw value that
    /// a queued reply still holds. None for non-strings.
    pub(crate) fn str_raw_mut(&mut self) -> Option<&mut Vec<u8>> {
        if self.meta() & F_OBJ == 0 {
            let obj = Obj::Raw(Arc::new(self.val_bytes().to_vec()));
            *self = Entry::alloc(self.meta(), self.expire_raw(), self.key(), Val::Obj(obj));
        }
        match self.payload() {
            // SAFETY: the tag says the payload is a live `RawStr`, aligned; `&mut self`
            // makes the borrow exclusive.
            Some((p, TAG_RAW)) => Some(Arc::make_mut(unsafe { &mut *p.cast::<RawStr>() })),
            _ => None,
        }
    }

    /// The same value under `key` (RENAME, MOVE), keeping TTL and access clock.
    pub(crate) fn rekey(mut self, key: &[u8]) -> Entry {
        self.rebuild(self.expire_raw(), Some(key))
    }

    /// This entry's value, access clock and encoding in a new block with `expire_at_ms`,
    /// under `key` or (None) its own key. The Obj, if any, moves over (its payload is moved
    /// into the new block): the caller then drops this entry, freeing only the old block.
    fn rebuild(&mut self, expire_at_ms: i64, key: Option<&[u8]>) -> Entry {
        let meta = self.meta();
        let obj = self.take_obj();
        let key = key.unwrap_or(self.key());
        match obj {
            Some(obj) => Entry::alloc(meta, expire_at_ms, key, Val::Obj(obj)),
            None => Entry::alloc(meta, expire_at_ms, key, Val::Inline(self.val_bytes())),
        }
    }

    /// A copy of the value under `key` with a fresh access clock and no TTL (COPY; Redis's
    /// `dupStringObject` never shares a small integer, so the copy is a private int).
    pub(crate) fn duplicate(&self, key: &[u8], access: u32) -> Entry {
        let enc = match self.str_enc() {
            StrEnc::SharedInt => StrEnc::Int,
            e => e,
        };
        let meta = (access & ACCESS_MASK) | ((enc as u32) << ENC_SHIFT);
        match self.obj() {
            Some(obj) => Entry::alloc(meta, 0, key, Val::Obj(obj.to_obj())),
            None => Entry::alloc(meta, 0, key, Val::Inline(self.val_bytes())),
        }
    }

    /// The expiry time, if the key is volatile.
    #[inline]
    pub(crate) fn expire_at(&self) -> Option<i64> {
        let when = self.expire_raw();
        (when != 0).then_some(when)
    }

    /// Set or clear (`None`) the expiry time. A key that gains or loses its TTL moves to a
    /// block with or without the expiry field. Only `Db` calls it: its expiry index follows.
    pub(crate) fn set_expire_at(&mut self, when: Option<i64>) {
        let when = when.unwrap_or(0);
        if when != 0 && self.meta() & F_EXPIRE != 0 {
            let hdr = if self.meta() & F_LONG == 0 {
                SHORT_HDR
            } else {
                LONG_HDR
            };
            // SAFETY: under F_EXPIRE the expiry field follows the header; `&mut self` makes
            // the write exclusive.
            unsafe {
                self.block
                    .as_ptr()
                    .add(hdr)
                    .cast::<i64>()
                    .write_unaligned(when);
            }
        } else if when != self.expire_raw() {
            *self = self.rebuild(when, None);
        }
    }

    /// True when the key's TTL has passed at `now_ms` (Redis: `now > when`).
    #[inline]
    pub(crate) fn is_expired(&self, now_ms: i64) -> bool {
        let when = self.expire_raw();
        when != 0 && now_ms > when
    }

    /// The 24-bit access clock (LRU seconds or LFU data).
    #[inline]
    pub(crate) fn access(&self) -> u32 {
        self.meta() & ACCESS_MASK
    }

    /// Set the 24-bit access clock.
    #[inline]
    pub(crate) fn set_access(&mut self, access: u32) {
        self.set_meta((self.meta() & !ACCESS_MASK) | (access & ACCESS_MASK));
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        drop(self.take_obj());
        let layout = block_layout(self.shape().size());
        // SAFETY: the block was allocated in `alloc` with this same layout (`take_obj`
        // leaves the size unchanged), and it is not used after this.
        unsafe { alloc::dealloc(self.block.as_ptr(), layout) }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("kind", &self.kind())
            .field("expire_at", &self.expire_at())
            .field("access", &self.access())
            .finish()
    }
}

/// Redis's LRU clock: Unix seconds in 24 bits.
pub(crate) fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & u64::from(ACCESS_MASK)) as u32
}

/// Seconds since the access clock `lru` (Redis's `estimateObjectIdleTime` / 1000).
pub(crate) fn idle_seconds(lru: u32, now_ms: i64) -> i64 {
    let now = lru_clock(now_ms);
    let idle = if now >= lru {
        now - lru
    } else {
        now + (ACCESS_MASK - lru)
    };
    i64::from(idle)
}

/// Redis's LFU_INIT_VAL: new keys start here so they survive their first eviction round.
pub(crate) const LFU_INIT_VAL: u32 = 5;
/// Redis's default lfu-log-factor.
const LFU_LOG_FACTOR: f64 = 10.0;
/// Redis's default lfu-decay-time, in minutes.
const LFU_DECAY_TIME: u32 = 1;

fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) as u64 & 0xFFFF) as u32
}

/// The LFU access field of a new key.
pub(crate) fn lfu_initial(now_ms: i64) -> u32 {
    (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL
}

/// The LFU counter of `access` after decay (Redis's `LFUDecrAndReturn`).
pub(crate) fn lfu_decr_and_return(access: u32, now_ms: i64) -> u32 {
    let ldt = access >> 8;
    let counter = access & 255;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    let periods = elapsed / LFU_DECAY_TIME;
    counter.saturating_sub(periods)
}

/// The LFU access field after one access (Redis's `updateLFU`: decay, then a logarithmic
/// increment with probability 1/((counter-5)*10+1)). `rand01` is uniform in [0, 1].
pub(crate) fn lfu_touch(access: u32, now_ms: i64, rand01: f64) -> u32 {
    let mut counter = lfu_decr_and_return(access, now_ms);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * LFU_LOG_FACTOR + 1.0);
        if rand01 < p {
            counter += 1;
        }
    }
    (lfu_minutes(now_ms) << 8) | counter
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn entry_is_small() {
        // The perf goal depends on it: see the module doc.
        assert_eq!(std::mem::size_of::<Entry>(), 8);
    }

    #[test]
    fn a_raw_value_a_reply_still_holds_is_copied_before_a_write() {
        let mut e = Entry::new_raw(b"k", b"abc".to_vec(), 0);
        let held = e.shared_str().cloned().unwrap();
        e.str_raw_mut().unwrap().extend_from_slice(b"d");
        assert_eq!(e.str_value(), Some(&b"abcd"[..]));
        assert_eq!(&held[..], b"abc");
        // Held by nobody else now: written in place.
        let before = e.shared_str().unwrap().as_ptr();
        drop(held);
        e.str_raw_mut().unwrap().push(b'e');
        assert_eq!(e.str_value(), Some(&b"abcde"[..]));
        assert_eq!(e.shared_str().unwrap().as_ptr(), before);
        // An inline string has no shared buffer.
        assert!(Entry::new_str(b"k", b"v", StrEnc::Embstr, 0)
            .shared_str()
            .is_none());
    }

    #[test]
    fn a_big_overwrite_reuses_the_buffer_only_when_no_reply_holds_it() {
        let mut e = Entry::new_raw(b"k", vec![b'a'; 100], 0);
        e.set_expire_at(Some(5));
        let buf = e.shared_str().unwrap().as_ptr();
        // Same length, held by nobody: written in place, TTL kept.
        e.set_big(&[b'b'; 100]);
        assert_eq!(e.str_value(), Some(&[b'b'; 100][..]));
        assert_eq!(e.shared_str().unwrap().as_ptr(), buf);
        assert_eq!(e.expire_at(), Some(5));
        // Held by a queued reply: a new buffer, and the reply keeps what it read.
        let held = e.shared_str().cloned().unwrap();
        e.set_big(&[b'c'; 100]);
        assert_eq!(e.str_value(), Some(&[b'c'; 100][..]));
        assert_eq!(&held[..], &[b'b'; 100][..]);
        assert_ne!(e.shared_str().unwrap().as_ptr(), held.as_ptr());
        // Another length, or an inline value before: a buffer of its own.
        e.set_big(&[b'd'; 150]);
        assert_eq!(e.str_value(), Some(&[b'd'; 150][..]));
        let mut i = Entry::new_str(b"k", b"small", StrEnc::Embstr, 0);
        i.set_big(&[b'e'; 100]);
        assert_eq!(i.str_value(), Some(&[b'e'; 100][..]));
        assert!(i.shared_str().is_some());
        assert_eq!(i.str_enc(), StrEnc::Raw);
    }

    #[test]
    fn inline_string_round_trip_and_growth() {
        let mut e = Entry::new_str(b"key", b"value", StrEnc::Embstr, 7);
        assert_eq!(e.key(), b"key");
        assert_eq!(e.str_value(), Some(&b"value"[..]));
        assert_eq!(e.encoding_name(), "embstr");
        assert_eq!(e.access(), 7);
        e.set_str(b"12", StrEnc::for_value(b"12"));
        assert_eq!(e.encoding_name(), "int");
        assert_eq!(e.refcount(), i64::from(i32::MAX));
        e.str_raw_mut().unwrap().extend_from_slice(b"34");
        assert_eq!(e.str_value(), Some(&b"1234"[..]));
        assert_eq!(e.encoding_name(), "raw");
        assert_eq!(e.key(), b"key");
        let d = e.duplicate(b"other", 1);
        assert_eq!(d.key(), b"other");
        assert_eq!(d.str_value(), Some(&b"1234"[..]));
        let r = e.rekey(b"k2");
        assert_eq!(r.key(), b"k2");
        assert_eq!(r.access(), 7);
    }

    #[test]
    fn block_layouts_round_trip() {
        // Short and long headers, with and without TTL, inline and Obj values: every move
        // between them keeps key, value, encoding and access clock.
        let long_key = vec![b'k'; 70_000];
        let long_val = vec![b'v'; 70_000];
        for key in [&b""[..], b"key", &long_key] {
            for val in [&b""[..], b"value", &long_val] {
                let mut e = Entry::new_str(key, val, StrEnc::Raw, 9);
                assert_eq!((e.key(), e.str_value()), (key, Some(val)));
                assert_eq!(e.expire_at(), None);
                e.set_expire_at(Some(123));
                assert_eq!((e.key(), e.str_value()), (key, Some(val)));
                assert_eq!(e.expire_at(), Some(123));
                assert!(e.is_expired(124) && !e.is_expired(123));
                e.set_expire_at(Some(456));
                assert_eq!(e.expire_at(), Some(456));
                e.set_access(0x00AB_CDEF);
                e.str_raw_mut().unwrap().extend_from_slice(b"+");
                assert_eq!(e.encoding_name(), "raw");
                assert_eq!(e.str_value().unwrap().len(), val.len() + 1);
                assert_eq!((e.key(), e.expire_at()), (key, Some(456)));
                e.set_expire_at(None);
                assert_eq!((e.key(), e.expire_at()), (key, None));
                assert_eq!(e.str_value().unwrap().len(), val.len() + 1);
                e.set_expire_at(Some(7));
                let r = e.rekey(b"renamed");
                assert_eq!(
                    (r.key(), r.expire_at(), r.access()),
                    (&b"renamed"[..], Some(7), 0x00AB_CDEF)
                );
                assert_eq!(r.str_value().unwrap().len(), val.len() + 1);
                let mut d = r.duplicate(key, 3);
                assert_eq!((d.key(), d.expire_at(), d.access()), (key, None, 3));
                d.set_str(val, StrEnc::Embstr);
                assert_eq!((d.str_value(), d.encoding_name()), (Some(val), "embstr"));
                d.set_str(b"12", StrEnc::SharedInt);
                assert_eq!(
                    (d.key(), d.str_value(), d.access()),
                    (key, Some(&b"12"[..]), 3)
                );
            }
        }
        let mut o = Entry::new_obj(b"l", Obj::List(List::of(&[b"x"])), 0);
        o.set_expire_at(Some(5));
        assert_eq!(
            (o.kind(), o.str_value(), o.expire_at()),
            (Kind::List, None, Some(5))
        );
        assert!(o.str_raw_mut().is_none());
    }

    #[test]
    fn collections_live_in_the_entry_block() {
        // A set under a 12-byte key is one block of header, key, padding and the Set: 8 +
        // 12 + 4 + 32 bytes, one 64-byte glibc chunk (it was 32 + 80 for a 64-byte Box<Obj>).
        let e = Entry::new_obj(b"set:00000001", Obj::Set(Set::default()), 0);
        let s = e.shape();
        assert_eq!(
            (s.val_at % BLOCK_ALIGN, s.size()),
            (0, 24 + size_of::<Set>())
        );
        assert!(e.typed::<Set>().is_ok() && e.typed::<List>().is_err());
        // Small collections' headers: each payload's size is per-key memory.
        assert!(size_of::<Set>() <= 32 && size_of::<ZSet>() <= 32 && size_of::<Hash>() <= 40);
        // Every payload type round-trips through TTL changes, renames and copies.
        for obj in [
            Obj::Raw(Arc::new(b"raw".to_vec())),
            Obj::List(List::of(&[b"x"])),
            Obj::Hash(Hash::default()),
            Obj::Set(Set::default()),
            Obj::ZSet(ZSet::default()),
        ] {
            for key in [&b""[..], b"k", b"1234567", b"12345678", &[b'k'; 70_000]] {
                let kind = ObjRef::kind(match &obj {
                    Obj::Raw(v) => ObjRef::Raw(v),
                    Obj::List(v) => ObjRef::List(v),
                    Obj::Hash(v) => ObjRef::Hash(v),
                    Obj::Set(v) => ObjRef::Set(v),
                    Obj::ZSet(v) => ObjRef::ZSet(v),
                });
                let mut e = Entry::new_obj(key, obj.clone(), 0);
                e.set_expire_at(Some(9));
                let d = e.duplicate(b"copy", 0);
                e.set_expire_at(None);
                let r = e.rekey(b"r");
                for x in [&r, &d] {
                    assert_eq!(x.kind(), kind);
                    assert_eq!(x.shape().val_at % BLOCK_ALIGN, 0);
                }
                assert_eq!((r.expire_at(), d.expire_at()), (None, None));
            }
        }
    }

    #[test]
    fn encodings_follow_try_object_encoding() {
        assert_eq!(StrEnc::for_value(b"123"), StrEnc::SharedInt);
        assert_eq!(StrEnc::for_value(b"10000"), StrEnc::Int);
        assert_eq!(StrEnc::for_value(b"-1"), StrEnc::Int);
        assert_eq!(StrEnc::for_value(b"-0"), StrEnc::Embstr);
        assert_eq!(StrEnc::for_value(&[b'x'; 44]), StrEnc::Embstr);
        assert_eq!(StrEnc::for_value(&[b'x'; 45]), StrEnc::Raw);
        assert_eq!(StrEnc::for_text(b"3"), StrEnc::Embstr);
    }

    #[test]
    fn lfu_counter_behaves_like_redis() {
        let now = 60_000 * 1000;
        let a = lfu_initial(now);
        assert_eq!(lfu_decr_and_return(a, now), 5);
        // Two minutes later the counter has decayed by two.
        assert_eq!(lfu_decr_and_return(a, now + 120_000), 3);
        // At the initial value an access always counts (p = 1).
        assert_eq!(lfu_touch(a, now, 0.99) & 255, 6);
        assert_eq!(idle_seconds(lru_clock(now), now + 5_000), 5);
    }
}
