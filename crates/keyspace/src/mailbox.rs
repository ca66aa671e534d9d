//! Worker mailboxes: how any thread reaches the clients another worker owns.
//!
//! Each worker has one mailbox, a FIFO that any thread posts to. Posting to an empty mailbox
//! wakes its worker (the worker's `Waker`: the eventfd its io_uring reads, or a pipe Node
//! watches), so nothing ever polls, and the main thread stays out of the path. A worker
//! takes its whole mailbox at once and handles the mail in order; mail from one sender to one
//! worker therefore arrives in the order it was sent (PUBLISH order, FIFO unblocking).
//!
//! Senders collect mail in an `Outbox` while they hold segment locks and post it once the
//! unit of work is over: one lock and at most one wake per worker per batch, and no wake
//! syscall under a segment lock.
//!
//! The reply that ends a block may skip the wait for its worker: when the blocked client's
//! worker left it a `DirectReply` (its socket, nothing queued for it), the sender writes the
//! reply there itself and the mail carries no bytes; the worker only resumes the client.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

/// What a mail asks of the worker that owns its client (`Mail::kind`).
pub mod kind {
    /// Append `bytes` to the client's output: a pub/sub message, an invalidation, a MONITOR
    /// line. A worker's ring delivers these itself, without its JavaScript.
    pub const PUSH: u32 = 1;
    /// Give the worker's JavaScript event loop a turn (the main thread sent it a message).
    pub const YIELD: u32 = 2;
    /// The reply that ends a client's block (a blocking pop served by another client's
    /// push, CLIENT UNBLOCK, ...): the worker writes `bytes` and resumes the client.
    pub const REPLY: u32 = 16;
    /// Kinds from here up are the server's own, handed to its JavaScript as they are.
    pub const SERVER: u32 = 16;
}

/// One message for one client of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// What to do (`kind`).
    pub kind: u32,
    /// The client it concerns (its CLIENT ID), 0 for the worker itself.
    pub client: u64,
    /// Its bytes (RESP for PUSH and REPLY); shared by every copy of a fan-out.
    pub bytes: Arc<[u8]>,
}

impl Mail {
    /// A push of `bytes` to `client`.
    pub fn push(client: u64, bytes: Arc<[u8]>) -> Mail {
        Mail {
            kind: kind::PUSH,
            client,
            bytes,
        }
    }
}

/// Wakes a worker blocked waiting for I/O; called from any thread.
pub trait Waker: Send + Sync {
    /// Make the worker look at its mailbox soon.
    fn wake(&self);
}

/// A blocked client's socket that any thread may write the reply ending its block to
/// (the binding's `direct_reply.rs`).
pub trait DirectReply: Send + Sync {
    /// Write `bytes` to the client if its worker left it writable; true when they are the
    /// client's now (what the socket did not take waits for the worker), false when they
    /// must go by mail.
    fn try_send(&self, bytes: &[u8]) -> bool;
}

/// A client's `DirectReply`, shared with its worker.
pub type DirectSocket = Arc<dyn DirectReply>;

#[derive(Default)]
struct Mailbox {
    queue: Mutex<Vec<Mail>>,
    waker: RwLock<Option<Arc<dyn Waker>>>,
}

/// Every worker's mailbox, by worker index; part of the keyspace, so every thread reaches it.
#[derive(Default)]
pub struct Mailboxes {
    boxes: RwLock<Vec<Arc<Mailbox>>>,
    /// Blocked clients' sockets by CLIENT ID, with their worker (`DirectReply`).
    direct: RwLock<HashMap<u64, (usize, DirectSocket)>>,
}

impl std::fmt::Debug for Mailboxes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailboxes")
            .field("workers", &self.boxes.read().len())
            .finish()
    }
}

impl Mailboxes {
    fn mailbox(&self, worker: usize) -> Option<Arc<Mailbox>> {
        self.boxes.read().get(worker).cloned()
    }

    /// Worker `worker` (re)starts: it is woken through `waker` from now on, and mail left for
    /// a predecessor (whose clients are gone) is dropped.
    pub fn register(&self, worker: usize, waker: Arc<dyn Waker>) {
        let mb = {
            let mut boxes = self.boxes.write();
            if boxes.len() <= worker {
                boxes.resize_with(worker + 1, Arc::default);
            }
            boxes.get(worker).cloned()
        };
        if let Some(mb) = mb {
            mb.queue.lock().clear();
            *mb.waker.write() = Some(waker);
        }
        self.direct.write().retain(|_, (w, _)| *w != worker);
    }

    /// Let the thread that ends `client`'s block write the reply to `sink` (the client lives
    /// on `worker`), or with None, no longer.
    pub fn set_direct(&self, client: u64, worker: usize, sink: Option<DirectSocket>) {
        let mut direct = self.direct.write();
        match sink {
            Some(s) => direct.insert(client, (worker, s)),
            None => direct.remove(&client),
        };
    }

    /// A REPLY whose client's socket takes it directly leaves its bytes there: the mail
    /// that follows only resumes the client.
    fn send_direct(&self, mail: &mut Mail) {
        if mail.kind != kind::REPLY || mail.bytes.is_empty() {
            return;
        }
        let Some(sink) = self.direct.read().get(&mail.client).map(|(_, s)| s.clone()) else {
            return;
        };
        if sink.try_send(&mail.bytes) {
            mail.bytes = Arc::from(&[][..]);
        }
    }

    /// Post one mail to `worker` (dropped when no such worker is registered).
    pub fn post(&self, worker: usize, mut mail: Mail) {
        self.send_direct(&mut mail);
        self.post_many(worker, std::iter::once(mail));
    }

    /// Post mail to `worker` in order, waking it at most once.
    pub fn post_many(&self, worker: usize, mails: impl IntoIterator<Item = Mail>) {
        let Some(mb) = self.mailbox(worker) else {
            return;
        };
        let was_empty = {
            let mut q = mb.queue.lock();
            let was_empty = q.is_empty();
            q.extend(mails);
            was_empty && !q.is_empty()
        };
        // Only the post that made the mailbox non-empty wakes: the worker takes everything
        // at once, so later posts ride on that wake.
        if was_empty {
            if let Some(w) = mb.waker.read().clone() {
                w.wake();
            }
        }
    }

    /// Post what `out` collected, each worker's mail in the order it was added.
    pub fn deliver(&self, out: &mut Outbox) {
        // Before any mailbox lock: a direct reply is a syscall.
        for (_, m) in &mut out.mails {
            self.send_direct(m);
        }
        // One pass per worker that has mail (there are few workers), keeping each worker's
        // order; no sort: a PUBLISH to 50 subscribers spent 5% of a worker in a stable sort.
        while let Some(&(worker, _)) = out.mails.first() {
            self.post_many(
                worker as usize,
                out.mails
                    .extract_if(.., |(w, _)| *w == worker)
                    .map(|(_, m)| m),
            );
            // Mail for a worker that is not registered was not taken: drop it.
            out.mails.retain(|(w, _)| *w != worker);
        }
    }

    /// Move everything in `worker`'s mailbox to `into`, oldest first.
    pub fn take(&self, worker: usize, into: &mut Vec<Mail>) {
        if let Some(mb) = self.mailbox(worker) {
            into.append(&mut mb.queue.lock());
        }
    }
}

/// Mail collected while a unit of work runs, posted when it ends (`Mailboxes::deliver`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    mails: Vec<(u32, Mail)>,
}

impl Outbox {
    /// Add mail for a client of `worker`.
    pub fn push(&mut self, worker: u32, mail: Mail) {
        self.mails.push((worker, mail));
    }

    /// True when nothing waits to be posted.
    pub fn is_empty(&self) -> bool {
        self.mails.is_empty()
    }

    /// Mail collected so far.
    pub fn len(&self) -> usize {
        self.mails.len()
    }

    /// Take out the pushes addressed to `client` among the mail added since the outbox held
    /// `from` (messages to the client whose command raised them), in order; the rest stay.
    pub fn take_pushes_for(&mut self, client: u64, from: usize) -> impl Iterator<Item = Mail> + '_ {
        let from = from.min(self.mails.len());
        self.mails
            .extract_if(from.., move |(_, m)| {
                m.client == client && m.kind == kind::PUSH
            })
            .map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Waker for Count {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn bytes(s: &str) -> Arc<[u8]> {
        Arc::from(s.as_bytes())
    }

    #[test]
    fn only_the_first_post_wakes_until_taken() {
        let mb = Mailboxes::default();
        let w = Arc::new(Count::default());
        mb.register(1, w.clone());
        mb.post(1, Mail::push(7, bytes("a")));
        mb.post(1, Mail::push(7, bytes("b")));
        assert_eq!(w.0.load(Ordering::Relaxed), 1);
        let mut got = Vec::new();
        mb.take(1, &mut got);
        assert_eq!(got.len(), 2);
        assert_eq!(&*got[0].bytes, b"a");
        mb.post(1, Mail::push(7, bytes("c")));
        assert_eq!(w.0.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn an_outbox_keeps_each_workers_order_and_wakes_once() {
        let mb = Mailboxes::default();
        let (w0, w1) = (Arc::new(Count::default()), Arc::new(Count::default()));
        mb.register(0, w0.clone());
        mb.register(1, w1.clone());
        let mut out = Outbox::default();
        for i in 0..10 {
            out.push(i % 2, Mail::push(1, bytes(&i.to_string())));
        }
        mb.deliver(&mut out);
        assert!(out.is_empty());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        mb.take(0, &mut a);
        mb.take(1, &mut b);
        let text = |v: &[Mail]| {
            v.iter()
                .map(|m| String::from_utf8_lossy(&m.bytes).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(text(&a), ["0", "2", "4", "6", "8"]);
        assert_eq!(text(&b), ["1", "3", "5", "7", "9"]);
        assert_eq!(w0.0.load(Ordering::Relaxed), 1);
        assert_eq!(w1.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_restarted_worker_drops_its_predecessors_mail() {
        let mb = Mailboxes::default();
        mb.register(0, Arc::new(Count::default()));
        mb.post(0, Mail::push(1, bytes("old")));
        mb.register(0, Arc::new(Count::default()));
        let mut got = Vec::new();
        mb.take(0, &mut got);
        assert!(got.is_empty());
        // Mail for a worker never registered goes nowhere, without a panic.
        mb.post(5, Mail::push(1, bytes("x")));
    }

    #[test]
    fn an_outbox_with_mail_for_an_unknown_worker_still_empties() {
        let mb = Mailboxes::default();
        mb.register(0, Arc::new(Count::default()));
        let mut out = Outbox::default();
        out.push(3, Mail::push(1, bytes("lost")));
        out.push(0, Mail::push(1, bytes("kept")));
        mb.deliver(&mut out);
        assert!(out.is_empty());
        let mut got = Vec::new();
        mb.take(0, &mut got);
        assert_eq!(got.len(), 1);
    }

    /// Takes what it is offered while `open`, keeping it.
    #[derive(Default)]
    struct Socket {
        open: std::sync::atomic::AtomicBool,
        got: Mutex<Vec<u8>>,
    }

    impl DirectReply for Socket {
        fn try_send(&self, bytes: &[u8]) -> bool {
            if !self.open.load(Ordering::Relaxed) {
                return false;
            }
            self.got.lock().extend_from_slice(bytes);
            true
        }
    }

    #[test]
    fn a_reply_goes_to_its_clients_direct_socket_and_the_mail_only_resumes() {
        let mb = Mailboxes::default();
        mb.register(1, Arc::new(Count::default()));
        let sock = Arc::new(Socket::default());
        mb.set_direct(7, 1, Some(sock.clone()));
        let reply = |bytes: &str| Mail {
            kind: kind::REPLY,
            client: 7,
            bytes: Arc::from(bytes.as_bytes()),
        };
        // Refused (its worker has it back): the bytes go by mail.
        mb.post(1, reply("a"));
        sock.open.store(true, Ordering::Relaxed);
        let mut out = Outbox::default();
        out.push(1, reply("b"));
        out.push(1, Mail::push(7, bytes("pushes are not replies")));
        mb.deliver(&mut out);
        let mut got = Vec::new();
        mb.take(1, &mut got);
        let texts: Vec<_> = got.iter().map(|m| (m.kind, m.bytes.to_vec())).collect();
        assert_eq!(
            texts,
            [
                (kind::REPLY, b"a".to_vec()),
                (kind::REPLY, Vec::new()),
                (kind::PUSH, b"pushes are not replies".to_vec())
            ]
        );
        assert_eq!(&*sock.got.lock(), b"b");
        // Unset, or its worker restarted: mail again.
        mb.set_direct(7, 1, None);
        mb.post(1, reply("c"));
        mb.set_direct(7, 1, Some(sock.clone()));
        mb.register(1, Arc::new(Count::default()));
        mb.post(1, reply("d"));
        mb.take(1, &mut got);
        assert_eq!(&*sock.got.lock(), b"b");
    }

    #[test]
    fn posts_from_many_threads_all_arrive_in_per_sender_order() {
        let mb = Arc::new(Mailboxes::default());
        mb.register(0, Arc::new(Count::default()));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let mb = mb.clone();
                std::thread::spawn(move || {
                    for i in 0..1000u32 {
                        mb.post(0, Mail::push(t, Arc::from(i.to_le_bytes().as_slice())));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut got = Vec::new();
        mb.take(0, &mut got);
        assert_eq!(got.len(), 4000);
        let mut next = [0u32; 4];
        for m in got {
            let i = u32::from_le_bytes(m.bytes[..4].try_into().unwrap());
            assert_eq!(i, next[m.client as usize]);
            next[m.client as usize] += 1;
        }
    }
}
