//! A worker's end of its mailbox (`shrike_keyspace::mailbox`): registering how the worker is
//! woken, and taking its mail when it serves clients through Node sockets (with io_uring the
//! ring takes it itself, uring.rs). Also what the main thread uses to wake a worker.

use std::cell::Cell;
use std::sync::Arc;

use napi::bindgen_prelude::Buffer;
use napi::Result;
use napi_derive::napi;
use shrike_keyspace::mailbox::{kind, Mail, Waker};

use crate::batch::keyspace;

thread_local! {
    /// This thread's worker index, once it registered its mailbox (`registerMailbox`).
    static WORKER: Cell<u32> = const { Cell::new(0) };
    /// The eventfd this thread's ring reads, once it registered (-1 otherwise).
    static OWN_EVENTFD: Cell<i32> = const { Cell::new(-1) };
    /// Mail this thread posted to its own mailbox since its ring last looked.
    static SELF_WOKEN: Cell<bool> = const { Cell::new(false) };
}

/// The worker index of the calling thread (0 before it registered).
pub(crate) fn this_worker() -> u32 {
    WORKER.with(Cell::get)
}

/// True once after this thread posted mail to its own mailbox (its ring takes that mail
/// without the eventfd round trip).
pub(crate) fn take_self_wake() -> bool {
    SELF_WOKEN.with(|w| w.replace(false))
}

/// Wakes a worker by writing to a file descriptor: the eventfd its ring reads (owned by the
/// main thread for the life of the process), or the write end of a pipe its Node loop reads
/// (owned here, closed when the worker registers again).
struct FdWaker {
    fd: i32,
    eventfd: bool,
    owned: bool,
}

impl Waker for FdWaker {
    fn wake(&self) {
        // A worker that posts to itself (a push that serves its own blocked client, a
        // PUBLISH to its own subscribers) is awake: its ring looks before it waits, which
        // spares a write, a read of the eventfd and a turn.
        if self.eventfd && OWN_EVENTFD.with(Cell::get) == self.fd {
            SELF_WOKEN.with(|w| w.set(true));
            return;
        }
        let one: u64 = 1;
        let len = if self.eventfd { 8 } else { 1 };
        // SAFETY: writes 1 or 8 bytes from a live u64 to an fd this waker keeps open. EAGAIN
        // (a full pipe, a saturated eventfd) means a wake is already pending.
        unsafe {
            libc::write(self.fd, (&one as *const u64).cast(), len);
        }
    }
}

impl Drop for FdWaker {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: the pipe end was made for this waker alone, and the last poster that
            // held it is done (the waker is dropped with its last Arc).
            unsafe {
                libc::close(self.fd);
            }
        }
    }
}

/// Register the calling worker thread's mailbox as worker `worker`: it is woken by writes to
/// `fd`, an eventfd (`createWakeFd`, read by the ring) or, with `pipe`, the write end of a
/// pipe made by `createWakePipe` (read by the Node loop), which the mailbox then owns.
/// Mail left for a previous worker of that index is dropped, and so are the blocks of its
/// clients (they died with it).
#[napi(catch_unwind)]
pub fn register_mailbox(worker: u32, fd: i32, pipe: bool) -> Result<()> {
    WORKER.with(|w| w.set(worker));
    OWN_EVENTFD.with(|f| f.set(if pipe { -1 } else { fd }));
    let waker = Arc::new(FdWaker {
        fd,
        eventfd: !pipe,
        owned: pipe,
    });
    let ks = keyspace()?;
    ks.purge_blocked(worker);
    ks.mail.register(worker as usize, waker);
    crate::monitor::forget_worker(worker);
    // A predecessor's clients died with it: they track nothing any more.
    ks.tracking.forget_worker(worker);
    Ok(())
}

/// A non-blocking pipe `[read, write]` for waking a worker that serves Node sockets.
#[napi(catch_unwind)]
pub fn create_wake_pipe() -> Result<Vec<i32>> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two fds into the live array; the result is checked.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(napi::Error::new(
            napi::Status::GenericFailure,
            format!("pipe2: {}", std::io::Error::last_os_error()),
        ));
    }
    Ok(fds.to_vec())
}

/// Ask worker `worker` to give its JavaScript loop a turn soon (the main thread posted it a
/// message; a ring blocked in the kernel would not see it otherwise).
#[napi(catch_unwind)]
pub fn post_yield(worker: u32) {
    // Before the first worker made the keyspace there is no mailbox to wake.
    let Ok(ks) = keyspace() else {
        return;
    };
    ks.mail.post(
        worker as usize,
        Mail {
            kind: kind::YIELD,
            client: 0,
            bytes: Arc::from(&[][..]),
        },
    );
}

/// Bytes of a record header in `takeMail`'s buffer: kind, client (low, high), length.
const MAIL_HEADER: usize = 16;

/// Take the calling worker's mail (Node-socket workers). Records, in order: u32 kind, u32
/// client low, u32 client high, u32 length, the bytes, padding to 4 (all little-endian).
#[napi(catch_unwind)]
pub fn take_mail() -> Result<Buffer> {
    let mut mail = Vec::new();
    keyspace()?.mail.take(this_worker() as usize, &mut mail);
    let size = mail
        .iter()
        .map(|m| MAIL_HEADER + m.bytes.len().next_multiple_of(4))
        .sum();
    let mut out = Vec::with_capacity(size);
    for m in &mail {
        out.extend_from_slice(&m.kind.to_le_bytes());
        out.extend_from_slice(&(m.client as u32).to_le_bytes());
        out.extend_from_slice(&((m.client >> 32) as u32).to_le_bytes());
        out.extend_from_slice(&(m.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&m.bytes);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    Ok(out.into())
}

/// Post a PUSH of `bytes` to client `client` of worker `worker` (commands that run in
/// TypeScript and reach other clients, e.g. MONITOR lines).
#[napi(catch_unwind)]
pub fn post_push(worker: u32, client: f64, bytes: &[u8]) -> Result<()> {
    keyspace()?
        .mail
        .post(worker as usize, Mail::push(client as u64, Arc::from(bytes)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read the eventfd without blocking: its count, or None when nothing was written.
    fn read_count(fd: i32) -> Option<u64> {
        let mut n: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from an eventfd this test owns.
        let r = unsafe { libc::read(fd, (&mut n as *mut u64).cast(), 8) };
        (r == 8).then_some(n)
    }

    #[test]
    fn a_worker_waking_itself_skips_the_eventfd_and_others_write_it() {
        // SAFETY: a fresh non-blocking eventfd, closed at the end of the test.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        assert!(fd >= 0);
        let waker = Arc::new(FdWaker {
            fd,
            eventfd: true,
            owned: false,
        });
        OWN_EVENTFD.with(|f| f.set(fd));

        waker.wake();
        assert!(
            take_self_wake(),
            "a self post is seen by the ring's next look"
        );
        assert!(!take_self_wake(), "once");
        assert_eq!(read_count(fd), None, "and writes nothing to the eventfd");

        let other = waker.clone();
        assert!(std::thread::spawn(move || other.wake()).join().is_ok());
        assert!(
            !take_self_wake(),
            "another thread's post is not a self post"
        );
        assert_eq!(read_count(fd), Some(1), "it writes the eventfd");

        OWN_EVENTFD.with(|f| f.set(-1));
        // SAFETY: the test's own eventfd, no longer used.
        unsafe { libc::close(fd) };
    }
}
