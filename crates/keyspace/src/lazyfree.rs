//! Freeing big values off the worker, as Redis's lazyfree does: deleting or overwriting a
//! collection of a million elements costs the command a pointer hand-off, and one thread
//! of its own pays for the deallocation, so other clients never wait behind it.

use std::sync::mpsc::{channel, Sender};
use std::sync::OnceLock;

use crate::db::Entry;

/// Values with more elements than this are freed in the background (Redis's
/// `LAZYFREE_THRESHOLD`, in elements rather than allocations).
const THRESHOLD: usize = 64;

/// The freeing thread's queue, started on first use.
static QUEUE: OnceLock<Option<Sender<Entry>>> = OnceLock::new();

fn queue() -> Option<&'static Sender<Entry>> {
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = channel::<Entry>();
            std::thread::Builder::new()
                .name("shrike-lazyfree".into())
                .spawn(move || rx.into_iter().for_each(drop))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Drop `e`: here when small, on the freeing thread when it holds a big collection (deleted,
/// expired, or overwritten by SET or a STORE). If no thread can be started, it is dropped
/// here (slower, never wrong).
pub(crate) fn drop_entry(e: Entry) {
    if e.elements() <= THRESHOLD {
        return;
    }
    match queue() {
        // A failed send hands the entry back in the error, which drops it here.
        Some(q) => drop(q.send(e)),
        None => drop(e),
    }
}
