//! A blocked client's socket, lent by its worker's ring to whichever thread ends the block
//! (`shrike_keyspace::mailbox::DirectReply`). A push on another worker that serves the
//! client writes the reply itself, at once, instead of waking the client's worker to write
//! it: on a small machine that wake is most of a cross-worker BLPOP's latency.
//!
//! The ring lends the socket only while the client is blocked with nothing queued or in
//! flight for it (`arm`), so a reply written from outside cannot cut into other output; it
//! takes it back (`reclaim`) before it queues anything for the client, and the bytes the
//! socket did not take come back with it, ahead of anything else. The state is behind a
//! mutex held across the write: a ring that reclaims or closes waits for a write under way,
//! so no write ever reaches a closed (and perhaps reused) fd.

use std::os::fd::RawFd;

use parking_lot::Mutex;
use shrike_keyspace::mailbox::DirectReply;

/// Who may write to the socket.
#[derive(Debug, Default, PartialEq, Eq)]
enum State {
    /// The ring: its own sends.
    #[default]
    Owned,
    /// Lent: the first thread with the reply writes it.
    Armed,
    /// A reply was written from outside: what the socket took, and the rest for the ring.
    Written { sent: usize, rest: Vec<u8> },
    /// The connection is closing: nobody.
    Closed,
}

/// One connection's socket, shared between its ring and the threads that serve its blocks.
#[derive(Debug)]
pub(crate) struct DirectSink {
    fd: RawFd,
    state: Mutex<State>,
}

impl DirectSink {
    pub(crate) fn new(fd: RawFd) -> DirectSink {
        DirectSink {
            fd,
            state: Mutex::new(State::Owned),
        }
    }

    /// Lend the socket: the client is blocked and nothing is queued or in flight for it.
    pub(crate) fn arm(&self) {
        let mut st = self.state.lock();
        if *st == State::Owned {
            *st = State::Armed;
        }
    }

    /// Take the socket back: `(bytes written from outside, bytes it did not take)`.
    pub(crate) fn reclaim(&self) -> (usize, Vec<u8>) {
        let mut st = self.state.lock();
        match std::mem::take(&mut *st) {
            State::Written { sent, rest } => (sent, rest),
            State::Closed => {
                *st = State::Closed;
                (0, Vec::new())
            }
            State::Owned | State::Armed => (0, Vec::new()),
        }
    }

    /// The connection closes: no write from now on (waits for one under way).
    pub(crate) fn close(&self) {
        *self.state.lock() = State::Closed;
    }
}

impl DirectReply for DirectSink {
    fn try_send(&self, bytes: &[u8]) -> bool {
        let mut st = self.state.lock();
        if *st != State::Armed {
            return false;
        }
        // SAFETY: `fd` is open while the state is not Closed (the ring closes the sink, under
        // this lock, before it closes the fd); `bytes` is a live slice.
        let n = unsafe {
            libc::send(
                self.fd,
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        // Nothing taken (a full socket, an error): the mail carries the reply, and the
        // ring's own send meets whatever is wrong with the socket.
        if n <= 0 {
            return false;
        }
        let sent = n as usize;
        *st = State::Written {
            sent,
            rest: bytes.get(sent..).unwrap_or_default().to_vec(),
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (RawFd, RawFd) {
        let mut fds = [0; 2];
        // SAFETY: socketpair with a live array of two fds.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0);
        (fds[0], fds[1])
    }

    fn read_all(fd: RawFd) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            // SAFETY: reads into a live buffer of its length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return out;
            }
            out.extend_from_slice(buf.get(..n as usize).unwrap_or_default());
        }
    }

    fn close(fd: RawFd) {
        // SAFETY: an fd this test opened.
        unsafe {
            libc::close(fd);
        }
    }

    #[test]
    fn only_a_lent_socket_is_written_and_the_ring_gets_it_back() {
        let (ours, theirs) = pair();
        let sink = DirectSink::new(ours);
        assert!(!sink.try_send(b"owned"), "not lent yet");
        sink.arm();
        assert!(sink.try_send(b"+reply\r\n"));
        assert!(!sink.try_send(b"twice"), "one reply per lending");
        assert_eq!(read_all(theirs), b"+reply\r\n");
        assert_eq!(sink.reclaim(), (8, Vec::new()));
        assert!(!sink.try_send(b"reclaimed"));
        // Lent, then taken back unused.
        sink.arm();
        assert_eq!(sink.reclaim(), (0, Vec::new()));
        assert!(!sink.try_send(b"reclaimed"));
        // Closed: never written again, even if armed after.
        sink.close();
        sink.arm();
        assert!(!sink.try_send(b"closed"));
        assert_eq!(sink.reclaim(), (0, Vec::new()));
        assert!(!sink.try_send(b"closed"));
        assert_eq!(read_all(theirs), b"");
        close(ours);
        close(theirs);
    }

    #[test]
    fn what_a_full_socket_leaves_goes_back_to_the_ring() {
        let (ours, theirs) = pair();
        let sink = DirectSink::new(ours);
        sink.arm();
        let big: Vec<u8> = (0..8 << 20).map(|i| i as u8).collect();
        assert!(sink.try_send(&big));
        let (sent, rest) = sink.reclaim();
        assert!(
            sent > 0 && sent < big.len(),
            "a socket pair holds less than 8 MiB"
        );
        assert_eq!(sent + rest.len(), big.len());
        assert_eq!(Some(&rest[..]), big.get(sent..));
        assert_eq!(Some(&read_all(theirs)[..]), big.get(..sent));
        // A full socket takes nothing: the reply stays with the mail.
        sink.arm();
        let mut filled = 0;
        // SAFETY: writes from a live buffer until the socket is full.
        while unsafe { libc::send(ours, big.as_ptr().cast(), 65536, libc::MSG_DONTWAIT) } > 0 {
            filled += 1;
        }
        assert!(filled > 0);
        assert!(!sink.try_send(b"no room"));
        assert_eq!(sink.reclaim(), (0, Vec::new()));
        close(ours);
        close(theirs);
    }
}
