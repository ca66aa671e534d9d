//! INFO commandstats and errorstats for the commands that run in the core, and the one
//! process-wide error table that TypeScript's error replies join (`noteErrorReply`).
//!
//! Per-command counters (calls, microseconds, failed calls) are kept per thread, so that
//! workers running the same hot command never share a cache line; INFO sums the rows of every
//! thread that ever ran a batch. Error prefixes are counted in one locked map: only the error
//! path takes the lock. What TypeScript handles itself (its own commands, rejected calls) it
//! counts in its shared rows (packages/server/src/stats.ts).

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::clock::{self, Tick};
use napi_derive::napi;
use shrike_keyspace::reply::tag;
use shrike_keyspace::reply::Mode;
use shrike_keyspace::{Keyspace, ReplySink};

/// A count that one thread adds to and any thread reads or resets. The writer adds with a
/// plain load and store, no locked instruction per command; a reset moves a baseline rather
/// than zeroing the count, so an add racing with it is never lost or undone.
#[derive(Default)]
struct Counter {
    count: AtomicU64,
    base: AtomicU64,
}

impl Counter {
    /// Add `n` (from the row's own thread only).
    #[inline]
    fn add(&self, n: u64) {
        let c = self.count.load(Ordering::Relaxed);
        self.count.store(c.wrapping_add(n), Ordering::Relaxed);
    }

    /// The count since the last reset.
    fn get(&self) -> u64 {
        // The baseline first: it is a count the writer had reached, so the count read after
        // it is never below it.
        let base = self.base.load(Ordering::Acquire);
        self.count.load(Ordering::Relaxed).saturating_sub(base)
    }

    /// Start counting from zero again.
    fn reset(&self) {
        let c = self.count.load(Ordering::Relaxed);
        self.base.store(c, Ordering::Release);
    }
}

/// One command's counters on one thread.
#[derive(Default)]
struct OpCounters {
    calls: Counter,
    usec: Counter,
    failed: Counter,
}

/// One thread's counters, one entry per core op; written by that thread only, read by INFO.
type ThreadRow = Arc<[OpCounters]>;

/// Every thread's row, kept after the thread ends so that its counts stay in INFO (as a
/// restarted worker's commands still happened). Owned by no one thread; locked only to add a
/// row (a thread's first batch), to sum (INFO) and to reset (CONFIG RESETSTAT).
static ROWS: Mutex<Vec<ThreadRow>> = Mutex::new(Vec::new());

/// Error replies by prefix (`ERR`, `WRONGTYPE`), ordered as Redis's rax lists them, and their
/// total (`total_error_replies`). Shared by every worker.
static ERRORS: Mutex<BTreeMap<Vec<u8>, u64>> = Mutex::new(BTreeMap::new());
static TOTAL_ERRORS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ROW: OnceCell<ThreadRow> = const { OnceCell::new() };
}

/// Run `f` on this thread's row, made (and listed in ROWS) on first use.
#[inline]
fn with_row(f: impl FnOnce(&[OpCounters])) {
    ROW.with(|r| {
        f(r.get_or_init(|| {
            let row: ThreadRow = (0..Keyspace::op_names().len())
                .map(|_| OpCounters::default())
                .collect();
            ROWS.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(row.clone());
            row
        }))
    });
}

/// Run one core command through `run`, counting its call, its time and, when its reply is an
/// error, the failure and the error's prefix (Redis's `call()` and `afterErrorReply`).
/// `clock` holds when the command started and is left at when it ended: the commands of a
/// batch run back to back, so one clock read per command times them all.
#[inline]
pub(crate) fn timed(
    op: u16,
    out: &mut ReplySink,
    clock: &mut Tick,
    run: impl FnOnce(&mut ReplySink),
) {
    let mark = out.len();
    let start = *clock;
    run(out);
    *clock = clock::now();
    let usec = clock::micros_between(start, *clock);
    let reply = out.as_bytes().get(mark..).unwrap_or_default();
    // A command writes one reply; an error starts with `-` in RESP and as a captured value.
    let failed = reply.first() == Some(&tag::ERROR);
    if failed {
        // As RESP: `-` then the text; as a value: the tag, a u32 length, then the text.
        let text = if out.mode() == Mode::Values {
            reply.get(5..)
        } else {
            reply.get(1..reply.len().saturating_sub(2))
        };
        note_error_text(text.unwrap_or_default());
    }
    with_row(|row| {
        if let Some(c) = row.get(usize::from(op)) {
            c.calls.add(1);
            c.usec.add(usec);
            if failed {
                c.failed.add(1);
            }
        }
    });
}

/// The prefix Redis files an error under: its first word when a space comes within Redis's
/// 32-byte window (counting the `-`), else `ERR` (server.c `afterErrorReply`).
fn error_prefix(text: &[u8]) -> &[u8] {
    let window = text.get(..text.len().min(31)).unwrap_or_default();
    match window.iter().position(|&b| b == b' ') {
        Some(i) => text.get(..i).unwrap_or_default(),
        None => b"ERR",
    }
}

fn note_error_text(text: &[u8]) {
    TOTAL_ERRORS.fetch_add(1, Ordering::Relaxed);
    let prefix = error_prefix(text);
    let mut errors = ERRORS.lock().unwrap_or_else(PoisonError::into_inner);
    match errors.get_mut(prefix) {
        Some(n) => *n += 1,
        None => {
            errors.insert(prefix.to_vec(), 1);
        }
    }
}

/// Count an error reply that TypeScript wrote; `text` is the reply without its `-`.
#[napi(catch_unwind)]
pub fn note_error_reply(text: String) {
    note_error_text(text.as_bytes());
}

/// One core command's counters summed over every thread.
#[napi(object)]
pub struct CoreCommandStat {
    /// The op's command name (`get`, `object|encoding`).
    pub name: String,
    pub calls: f64,
    pub usec: f64,
    pub failed_calls: f64,
}

/// Counters of every core command that ran since start or the last reset.
#[napi(catch_unwind)]
pub fn core_command_stats() -> Vec<CoreCommandStat> {
    let names = Keyspace::op_names();
    let mut sums = vec![(0u64, 0u64, 0u64); names.len()];
    for row in ROWS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        for (sum, c) in sums.iter_mut().zip(row.iter()) {
            sum.0 += c.calls.get();
            sum.1 += c.usec.get();
            sum.2 += c.failed.get();
        }
    }
    names
        .iter()
        .zip(sums)
        .filter(|(_, (calls, _, failed))| *calls > 0 || *failed > 0)
        .map(|(name, (calls, usec, failed))| CoreCommandStat {
            name: (*name).to_string(),
            calls: calls as f64,
            usec: usec as f64,
            failed_calls: failed as f64,
        })
        .collect()
}

/// One line of INFO errorstats.
#[napi(object)]
pub struct ErrorStat {
    /// The error prefix (`ERR`, `WRONGTYPE`), as sent (latin1).
    pub prefix: String,
    pub count: f64,
}

/// Error replies by prefix, in byte order (as Redis lists them).
#[napi(catch_unwind)]
pub fn error_stats() -> Vec<ErrorStat> {
    ERRORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(p, n)| ErrorStat {
            prefix: p.iter().map(|&b| char::from(b)).collect(),
            count: *n as f64,
        })
        .collect()
}

/// INFO stats `total_error_replies`.
#[napi(catch_unwind)]
pub fn total_error_replies() -> f64 {
    TOTAL_ERRORS.load(Ordering::Relaxed) as f64
}

/// CONFIG RESETSTAT: zero the core's command counters and the error table
/// (Redis's resetCommandTableStats and resetErrorTableStats).
#[napi(catch_unwind)]
pub fn reset_command_stats() {
    for row in ROWS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        for c in row.iter() {
            c.calls.reset();
            c.usec.reset();
            c.failed.reset();
        }
    }
    ERRORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    TOTAL_ERRORS.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::{error_prefix, Counter};

    #[test]
    fn a_counter_counts_from_its_last_reset_and_never_reads_below_zero() {
        let c = Counter::default();
        c.add(5);
        assert_eq!(c.get(), 5);
        c.reset();
        assert_eq!(c.get(), 0);
        c.add(2);
        c.add(1);
        assert_eq!(c.get(), 3);
        // One writer adding while another thread resets and reads: every read is sane, and
        // the adds after the last reset are all there.
        let c = std::sync::Arc::new(Counter::default());
        let writer = {
            let c = c.clone();
            std::thread::spawn(move || (0..200_000).for_each(|_| c.add(1)))
        };
        while !writer.is_finished() {
            c.reset();
            assert!(c.get() <= 200_000);
        }
        assert!(writer.join().is_ok(), "writer");
        c.reset();
        c.add(7);
        assert_eq!(c.get(), 7);
    }

    #[test]
    fn prefix_is_the_first_word_within_redis_window() {
        assert_eq!(error_prefix(b"ERR syntax error"), b"ERR");
        assert_eq!(
            error_prefix(b"WRONGTYPE Operation against a key"),
            b"WRONGTYPE"
        );
        assert_eq!(error_prefix(b"NOSPACE"), b"ERR");
        let long = [b'X'; 40];
        assert_eq!(error_prefix(&long), b"ERR");
        // 30 letters then a space: the space is byte 32 with the '-', still in the window.
        let mut edge = vec![b'Y'; 30];
        edge.extend_from_slice(b" rest");
        assert_eq!(error_prefix(&edge), [b'Y'; 30]);
        let mut past = vec![b'Z'; 31];
        past.extend_from_slice(b" rest");
        assert_eq!(error_prefix(&past), b"ERR");
    }
}
