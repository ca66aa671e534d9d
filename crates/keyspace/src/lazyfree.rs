//! Freeing big values off the worker, as Redis's lazyfree does: deleting or overwriting a
//! collection of a million elements costs the command a pointer hand-off, and one thread
//! of its own pays for the deallocation, so other clients never wait behind it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;

use crate::entry::Entry;

/// Values with more elements than this are freed in the background (Redis's
/// `LAZYFREE_THRESHOLD`, in elements rather than allocations).
const THRESHOLD: usize = 64;

/// Elements waiting for the freeing thread beyond which a value is freed where it is
/// dropped: the thread runs at the lowest priority, and on a machine kept busy it must not
/// fall behind without bound.
const MAX_PENDING: usize = 16 << 20;

/// Elements handed to the freeing thread and not freed yet.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// The freeing thread's queue, started on first use.
static QUEUE: OnceLock<Option<Sender<Entry>>> = OnceLock::new();

fn queue() -> Option<&'static Sender<Entry>> {
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = channel::<Entry>();
            std::thread::Builder::new()
                .name("shrike-lazyfree".into())
                .spawn(move || {
                    // The lowest priority: a worker that wants its CPU back gets it at once,
                    // rather than after the freeing thread's time slice (PING maxima of 6-8
                    // ms behind a million-element free on 2 CPUs, under 5 ms at nice 19).
                    // SAFETY: setpriority on the calling thread (Linux's per-thread nice).
                    unsafe {
                        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
                    }
                    for e in rx {
                        let n = e.elements();
                        drop(e);
                        PENDING.fetch_sub(n, Ordering::Relaxed);
                    }
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Drop `e`: here when small, on the freeing thread when it holds a big collection (deleted,
/// expired, or overwritten by SET or a STORE). If no thread can be started, it is dropped
/// here (slower, never wrong).
pub(crate) fn drop_entry(e: Entry) {
    let n = e.elements();
    if n <= THRESHOLD || PENDING.load(Ordering::Relaxed) > MAX_PENDING {
        return;
    }
    match queue() {
        Some(q) => {
            PENDING.fetch_add(n, Ordering::Relaxed);
            if let Err(back) = q.send(e) {
                // The thread is gone: the entry came back in the error, and drops here.
                PENDING.fetch_sub(n, Ordering::Relaxed);
                drop(back);
            }
        }
        None => drop(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Obj;
    use crate::types::list::List;

    #[test]
    fn big_values_go_to_the_freeing_thread_and_its_backlog_drains() {
        let items: Vec<Vec<u8>> = (0..1000).map(|i: u32| i.to_le_bytes().to_vec()).collect();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        for _ in 0..8 {
            drop_entry(Entry::new_obj(b"big", Obj::List(List::of(&refs)), 0));
        }
        // Small values are freed where they are dropped and never counted.
        drop_entry(Entry::new_obj(b"small", Obj::List(List::of(&refs[..3])), 0));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while PENDING.load(Ordering::Relaxed) != 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(
            PENDING.load(Ordering::Relaxed),
            0,
            "every queued element freed"
        );
    }
}
