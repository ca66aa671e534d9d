//! The memory of a ring's read buffers: one anonymous mapping, so that its pages can be handed
//! back to the system while no read can write into them (`Ring::rest_pool`). Every buffer is
//! written by the kernel now and then as reads rotate through the pool, so after a burst the
//! whole pool stays resident (4 MiB a worker) unless given back.

use std::ops::{Deref, DerefMut};

use napi::Result;

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

/// `len` bytes, page-aligned, zero until written.
pub(crate) struct ReadPool {
    base: *mut u8,
    len: usize,
}

impl ReadPool {
    pub(crate) fn new(len: usize) -> Result<ReadPool> {
        Ok(ReadPool {
            base: map_anonymous(len, "mmap read pool")?.cast(),
            len,
        })
    }

    /// Give every page back to the system; they read as zeros when next touched. The caller
    /// makes sure no read is armed on the pool and nothing read into it is still unhandled.
    pub(crate) fn release(&mut self) {
        // SAFETY: the range is exactly our own mapping; MADV_DONTNEED on private anonymous
        // memory only drops its contents.
        unsafe {
            libc::madvise(self.base.cast(), self.len, libc::MADV_DONTNEED);
        }
    }
}

impl Deref for ReadPool {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, alive as long as `self`.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }
}

impl DerefMut for ReadPool {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `deref`; `&mut self` makes the slice unique.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.len) }
    }
}

impl Drop for ReadPool {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping, after the ring that read into it is gone (field
        // order in `Ring`).
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}
