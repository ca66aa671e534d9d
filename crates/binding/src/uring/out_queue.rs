//! A client's pending output: the bytes written for it, with big values spliced in by
//! reference. A GET of a big value queues the keyspace's own buffer (`ReplySink::bulk_shared`)
//! and the socket sends it from there, so the value is copied once, by the kernel; a write
//! to the value meanwhile copies it first (`Entry::str_raw_mut`).

use shrike_keyspace::RawStr;

/// iovecs one send takes at most; what is left goes in the next send.
const MAX_IOV: usize = 64;

/// Output bytes and the values spliced into them, in stream order.
#[derive(Default)]
pub(super) struct OutQueue {
    /// The bytes written (replies, pushes), without the spliced values.
    pub(super) bytes: Vec<u8>,
    /// Values sent by reference, each at its offset in `bytes`, in order.
    refs: Vec<(usize, RawStr)>,
    /// Their bytes, in all.
    ref_bytes: usize,
}

impl OutQueue {
    /// Bytes to send, spliced values included.
    pub(super) fn len(&self) -> usize {
        self.bytes.len() + self.ref_bytes
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.refs.is_empty()
    }

    /// Bytes allocated for it: its buffer, and the values it holds (which the keyspace may
    /// have let go of meanwhile).
    pub(super) fn capacity(&self) -> usize {
        self.bytes.capacity() + self.ref_bytes
    }

    /// Append bytes after everything queued.
    pub(super) fn extend(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
    }

    /// Put `b` in front of everything queued.
    pub(super) fn prepend(&mut self, b: Vec<u8>) {
        let n = b.len();
        self.bytes.splice(0..0, b);
        for (at, _) in &mut self.refs {
            *at += n;
        }
    }

    /// Empty it, keeping the buffer's allocation.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.refs.clear();
        self.ref_bytes = 0;
    }

    /// Hand over the bytes and the spliced values (for a sink to continue them).
    pub(super) fn take_parts(&mut self) -> (Vec<u8>, Vec<(usize, RawStr)>) {
        self.ref_bytes = 0;
        (
            std::mem::take(&mut self.bytes),
            std::mem::take(&mut self.refs),
        )
    }

    /// Take back what `take_parts` handed over, continued.
    pub(super) fn set_parts(&mut self, bytes: Vec<u8>, refs: Vec<(usize, RawStr)>) {
        self.ref_bytes = refs.iter().map(|(_, v)| v.len()).sum();
        self.bytes = bytes;
        self.refs = refs;
    }

    /// Whether anything is spliced in (the send then takes iovecs).
    pub(super) fn has_refs(&self) -> bool {
        !self.refs.is_empty()
    }

    /// The slices that follow the first `from` bytes of the stream, as iovecs for one send
    /// (at most MAX_IOV), into `iov` (emptied first).
    pub(super) fn iovecs(&self, from: usize, iov: &mut Vec<libc::iovec>) {
        iov.clear();
        let mut skip = from;
        let mut at = 0;
        let mut push = |part: &[u8], iov: &mut Vec<libc::iovec>| {
            if skip >= part.len() {
                skip -= part.len();
                return;
            }
            let rest = part.get(skip..).unwrap_or_default();
            skip = 0;
            iov.push(libc::iovec {
                iov_base: rest.as_ptr() as *mut libc::c_void,
                iov_len: rest.len(),
            });
        };
        for (off, v) in &self.refs {
            if iov.len() + 2 > MAX_IOV {
                return;
            }
            push(self.bytes.get(at..*off).unwrap_or_default(), iov);
            push(v, iov);
            at = *off;
        }
        push(self.bytes.get(at..).unwrap_or_default(), iov);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn gather(q: &OutQueue, from: usize) -> Vec<u8> {
        let mut iov = Vec::new();
        q.iovecs(from, &mut iov);
        let mut out = Vec::new();
        for v in &iov {
            // SAFETY: each iovec points into `q`, alive and unchanged here.
            out.extend_from_slice(unsafe {
                std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len)
            });
        }
        out
    }

    fn queue() -> (OutQueue, Vec<u8>) {
        let a: RawStr = Arc::new(b"AAAA".to_vec());
        let b: RawStr = Arc::new(b"BB".to_vec());
        let mut q = OutQueue::default();
        q.set_parts(b"$4\r\n\r\n$2\r\n\r\n".to_vec(), vec![(4, a), (10, b)]);
        q.extend(b"+OK\r\n");
        (q, b"$4\r\nAAAA\r\n$2\r\nBB\r\n+OK\r\n".to_vec())
    }

    #[test]
    fn iovecs_give_the_stream_from_any_offset() {
        let (q, whole) = queue();
        assert_eq!(q.len(), whole.len());
        for from in 0..=whole.len() {
            assert_eq!(
                gather(&q, from),
                whole.get(from..).unwrap_or_default(),
                "from {from}"
            );
        }
    }

    #[test]
    fn prepended_bytes_go_first_and_the_values_stay_in_place() {
        let (mut q, whole) = queue();
        q.prepend(b"-ERR x\r\n".to_vec());
        let mut want = b"-ERR x\r\n".to_vec();
        want.extend_from_slice(&whole);
        assert_eq!(gather(&q, 0), want);
        q.clear();
        assert!(q.is_empty() && !q.has_refs());
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn a_send_takes_at_most_max_iov_and_the_next_goes_on() {
        let v: RawStr = Arc::new(vec![b'v'; 3]);
        let mut bytes = Vec::new();
        let mut refs = Vec::new();
        for _ in 0..100 {
            bytes.extend_from_slice(b"$3\r\n");
            refs.push((bytes.len(), v.clone()));
            bytes.extend_from_slice(b"\r\n");
        }
        let mut q = OutQueue::default();
        q.set_parts(bytes, refs);
        let whole = b"$3\r\nvvv\r\n".repeat(100);
        let mut sent = 0;
        let mut got = Vec::new();
        while sent < q.len() {
            let mut iov = Vec::new();
            q.iovecs(sent, &mut iov);
            assert!(!iov.is_empty() && iov.len() <= MAX_IOV);
            let part = gather(&q, sent);
            let n: usize = iov.iter().map(|v| v.iov_len).sum();
            got.extend_from_slice(part.get(..n).unwrap_or_default());
            sent += n;
        }
        assert_eq!(got, whole);
    }
}
