//! The read pool's buffers: the kernel takes them from a registered buffer ring (`BufRing`),
//! JavaScript reads a turn's bytes where they lie, and the buffers go back at the next turn.
//! While quiet, the pool's pages go back to the system (`release_pool`): every pool read is
//! stopped, the pages dropped once nothing in them is unhandled, and the reads armed again.

use io_uring::{opcode, types};
use napi::Result;

use super::{user_data, Pending, Ring, RECV_LEN, TAG_CANCEL, TAG_RECV};
use crate::shared_pages::map_anonymous;

impl Ring {
    /// JavaScript is done with the last turn's bytes: their buffers go back to the kernel.
    pub(super) fn return_lent(&mut self) -> Result<()> {
        if self.lent.is_empty() {
            return Ok(());
        }
        let mut lent = std::mem::take(&mut self.lent);
        for &bid in &lent {
            self.recycle(bid);
        }
        lent.clear();
        self.lent = lent;
        self.buffers_back()
    }

    /// Buffers came back to the ring: the kernel sees them, and reads that found the pool
    /// empty try again.
    pub(super) fn buffers_back(&mut self) -> Result<()> {
        self.bufs.publish();
        for slot in std::mem::take(&mut self.starved) {
            self.arm_recv(slot)?;
        }
        Ok(())
    }

    /// Put pool buffer `bid` back in the ring (visible to the kernel at the next `publish`).
    pub(super) fn recycle(&mut self, bid: u16) {
        let Some(buf) = self.pool.get_mut(usize::from(bid) * RECV_LEN..) else {
            return;
        };
        self.bufs
            .push(buf.as_mut_ptr() as u64, RECV_LEN as u32, bid);
    }

    /// Give the read pool's pages back to the system at the next quiet moment: every read
    /// on the pool is stopped, the pages are dropped once nothing in them is unhandled, and
    /// the reads start again (`start_rest`, `finish_rest`). The spare send buffers go now.
    pub fn release_pool(&mut self) {
        self.rest_asked = true;
        if self.spares.clear() {
            crate::alloc::note_big_free();
        }
    }

    /// If asked and the pool was written since its last rest: cancel every multishot read.
    pub(super) fn start_rest(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.rest_asked) || self.resting || !self.pool_used || self.closing
        {
            return Ok(());
        }
        self.resting = true;
        for slot in 0..self.conns.len() {
            if !self.pool_read_armed(slot) {
                continue;
            }
            if let Some(Some(c)) = self.conns.get_mut(slot) {
                if c.cancelling {
                    continue;
                }
                c.cancelling = true;
                let sqe = opcode::AsyncCancel::new(user_data(TAG_RECV, slot, c.gen))
                    .build()
                    .user_data(user_data(TAG_CANCEL, slot, c.gen));
                self.push(sqe)?;
            }
        }
        Ok(())
    }

    /// Whether `slot` has a read armed that takes its buffers from the pool (a multishot read,
    /// not a recv into its big argument).
    pub(super) fn pool_read_armed(&self, slot: usize) -> bool {
        let Some(Some(c)) = self.conns.get(slot) else {
            return false;
        };
        let big = matches!(self.bigs.get(slot), Some(Some(b)) if b.gen == c.gen && b.in_flight);
        c.recv_armed && !big
    }

    /// Once resting and no read can write into the pool, and nothing read into it waits for
    /// JavaScript: drop its pages and arm every client's read again.
    pub(super) fn finish_rest(&mut self) -> Result<()> {
        if !self.resting
            || (0..self.conns.len()).any(|slot| self.pool_read_armed(slot))
            || self.pending.iter().any(|p| matches!(p, Pending::Data(..)))
            || !self.lent.is_empty()
        {
            return Ok(());
        }
        self.pool.release();
        self.pool_used = false;
        self.resting = false;
        for slot in 0..self.conns.len() {
            self.arm_recv(slot)?;
        }
        Ok(())
    }
}

/// A registered buffer ring (IORING_REGISTER_PBUF_RING): the kernel takes read buffers from
/// its head, we give them back at its tail with a plain store, no SQE per buffer.
pub(super) struct BufRing {
    base: *mut types::BufRingEntry,
    entries: u16,
    tail: u16,
    bytes: usize,
}

impl BufRing {
    pub(super) fn new(entries: u16) -> Result<BufRing> {
        let bytes = usize::from(entries) * std::mem::size_of::<types::BufRingEntry>();
        let p = map_anonymous(bytes, "mmap buffer ring")?;
        Ok(BufRing {
            base: p.cast(),
            entries,
            tail: 0,
            bytes,
        })
    }

    pub(super) fn addr(&self) -> u64 {
        self.base as u64
    }

    /// Add a buffer at the tail; the kernel sees it after `publish`.
    pub(super) fn push(&mut self, addr: u64, len: u32, bid: u16) {
        let i = usize::from(self.tail & (self.entries - 1));
        // SAFETY: i < entries, so the entry lies inside the mapping; the kernel reads only
        // entries before the published tail, and this one is past it until `publish`.
        let e = unsafe { &mut *self.base.add(i) };
        e.set_addr(addr);
        e.set_len(len);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Make every pushed buffer visible to the kernel.
    pub(super) fn publish(&self) {
        // SAFETY: the tail field is a u16 inside the first entry of the live mapping; the
        // kernel reads it concurrently, hence the atomic release store.
        unsafe {
            let tail = types::BufRingEntry::tail(self.base) as *mut u16;
            std::sync::atomic::AtomicU16::from_ptr(tail)
                .store(self.tail, std::sync::atomic::Ordering::Release);
        }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping, after the ring that used it is gone (field order).
        unsafe {
            libc::munmap(self.base.cast(), self.bytes);
        }
    }
}
