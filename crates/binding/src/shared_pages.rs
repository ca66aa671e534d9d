//! Memory a ring shares with JavaScript: one anonymous mapping each, seen in JavaScript as
//! an external Buffer (`SharedPages::view`) with no copy, and unmapped when both the ring and
//! that Buffer are gone, so a view that outlives the ring reads stale bytes, never freed
//! memory.
//!
//! The read pool is one: JavaScript reads its clients' bytes where the kernel put them, and
//! its pages can be handed back to the system while no read can write into them
//! (`Ring::rest_pool`; every buffer is written now and then as reads rotate through the
//! pool, so after a burst the whole pool stays resident unless given back). A turn's event
//! records and mail bytes are the others: passed once, not as arguments of every turn
//! (about 130 ns a call for the two typed arrays).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use napi::bindgen_prelude::BufferSlice;
use napi::{Env, Error, Result, Status};

/// A private anonymous mapping of `len` bytes (page-aligned, zeroed); `what` names it in
/// the error.
pub(crate) fn map_anonymous(len: usize, what: &str) -> Result<*mut libc::c_void> {
    // SAFETY: an anonymous private mapping, checked for failure.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(crate::uring::os_error(what));
    }
    Ok(p)
}

/// One anonymous mapping, unmapped when the last owner (ring or JavaScript view) lets go.
struct Mapping {
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory; who may write it when is the ring's protocol (the
// kernel between a read's arming and its completion, nobody while JavaScript holds a view
// of a buffer), not a property of the pointer.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping, once neither the ring (whose reads into it ended
        // with it, field order in `Ring`) nor a JavaScript view refers to it.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

/// `len` bytes, page-aligned, zero until written.
pub(crate) struct SharedPages {
    map: Arc<Mapping>,
}

impl SharedPages {
    /// `len` bytes; `what` names them in an error.
    pub(crate) fn new(len: usize, what: &str) -> Result<SharedPages> {
        let base = map_anonymous(len, what)?.cast();
        Ok(SharedPages {
            map: Arc::new(Mapping { base, len }),
        })
    }

    /// Give every page back to the system; they read as zeros when next touched. The caller
    /// makes sure nothing writes into them meanwhile (for the read pool: no read armed, and
    /// nothing read into it still unhandled).
    pub(crate) fn release(&mut self) {
        // SAFETY: the range is exactly our own mapping; MADV_DONTNEED on private anonymous
        // memory only drops its contents.
        unsafe {
            libc::madvise(self.map.base.cast(), self.map.len, libc::MADV_DONTNEED);
        }
    }

    /// The pages as 32-bit words (the mapping is page-aligned); unique as `deref_mut`.
    pub(crate) fn words_mut(&mut self) -> &mut [u32] {
        // SAFETY: as for `deref_mut`; the base is page-aligned, so aligned for u32, and the
        // slice covers only whole words of the mapping.
        unsafe { std::slice::from_raw_parts_mut(self.map.base.cast::<u32>(), self.map.len / 4) }
    }

    /// The whole mapping as a JavaScript Buffer (no copy); the mapping lives while it does.
    pub(crate) fn view<'env>(&self, env: &'env Env) -> Result<BufferSlice<'env>> {
        let keep = Arc::clone(&self.map);
        // SAFETY: the mapping is `len` bytes and stays mapped until the finalizer drops `keep`.
        let view = unsafe {
            BufferSlice::from_external(env, self.map.base, self.map.len, keep, |_, keep| {
                drop(keep)
            })?
        };
        // A runtime without external buffers gets a copy, which would never see a read.
        if view.as_ptr() != self.map.base.cast_const() {
            return Err(Error::new(
                Status::GenericFailure,
                "external buffers are not allowed here",
            ));
        }
        Ok(view)
    }
}

impl Deref for SharedPages {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, alive as long as `self`.
        unsafe { std::slice::from_raw_parts(self.map.base, self.map.len) }
    }
}

impl DerefMut for SharedPages {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `deref`; `&mut self` makes the slice unique on the Rust side (the
        // kernel and JavaScript touch only buffers the ring lent them).
        unsafe { std::slice::from_raw_parts_mut(self.map.base, self.map.len) }
    }
}
