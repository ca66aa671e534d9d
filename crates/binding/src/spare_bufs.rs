//! A ring's spare send buffers: big ones its clients drained, kept for the next big batch of
//! any client, so that big replies neither regrow a fresh buffer (copying it at each
//! doubling) nor fault its pages in again. Bounded; dropped when the worker goes quiet.

/// Spare send buffers, at most `limit` bytes of capacity in all.
pub(crate) struct SpareBufs {
    bufs: Vec<Vec<u8>>,
    limit: usize,
}

impl SpareBufs {
    /// No spares yet, room for `limit` bytes of them.
    pub(crate) fn new(limit: usize) -> Self {
        SpareBufs {
            bufs: Vec::new(),
            limit,
        }
    }

    /// Keep `buf` (emptied) if it fits under the limit; else it is freed, with no trim: the
    /// heap keeps its pages for the next big batches until the worker goes quiet.
    pub(crate) fn give(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        let held: usize = self.bufs.iter().map(Vec::capacity).sum();
        if held + buf.capacity() <= self.limit {
            self.bufs.push(buf);
        }
    }

    /// The smallest spare with room for `bytes`, if any.
    pub(crate) fn take(&mut self, bytes: usize) -> Option<Vec<u8>> {
        let i = self
            .bufs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= bytes)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i)?;
        Some(self.bufs.swap_remove(i))
    }

    /// Free every spare; true when there were any.
    pub(crate) fn clear(&mut self) -> bool {
        let had = !self.bufs.is_empty();
        self.bufs = Vec::new();
        had
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_smallest_that_fits_and_keeps_under_its_limit() {
        let mut s = SpareBufs::new(1000);
        s.give(Vec::with_capacity(600));
        s.give(Vec::with_capacity(300));
        s.give(Vec::with_capacity(200)); // 1,100 in all: over the limit, freed
        assert_eq!(
            s.take(250)
                .map(|b| b.capacity() >= 250 && b.capacity() < 600),
            Some(true)
        );
        assert!(s.take(700).is_none(), "none is big enough");
        let mut big = s.take(400).unwrap_or_default();
        assert!(big.capacity() >= 600);
        big.extend_from_slice(b"old bytes");
        s.give(big);
        assert_eq!(s.take(1).map(|b| b.len()), Some(0), "given back empty");
        s.give(Vec::with_capacity(100));
        assert!(s.clear());
        assert!(!s.clear());
        assert!(s.take(1).is_none());
    }
}
