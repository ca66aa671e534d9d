//! The process allocator for Rust-side memory, wrapped to count live bytes so that INFO
//! `used_memory` reports what the keyspace really holds rather than an estimate, and the call
//! that hands the C heap's free pages back to the OS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use napi_derive::napi;

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; we only count sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        if (BIG_BLOCK..MMAP_THRESHOLD).contains(&layout.size()) {
            BIG_BLOCKS_FREED.fetch_add(1, Ordering::Relaxed);
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes currently allocated by the Rust side of the process (keyspace included).
pub fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// Make glibc give big frees back to the system. By default its mmap threshold rises to the
/// size of each large block freed (up to 32 MiB), so after one client's big replies every
/// later large buffer comes from the heap and stays resident once freed; a fixed threshold
/// keeps every block over 32 MiB (glibc's own ceiling) in its own mapping, unmapped when
/// freed (Node's Buffers too: they come from the same malloc). Not lower: values, replies
/// and send queues of up to a few MiB are made and freed per request, and a mapping each
/// costs its page faults every time (256 KiB made GET of 512 KiB values cost 3.5x Redis's
/// CPU, 4 MiB still spent a third of it faulting in 8 MiB send queues). The heap keeps what
/// it frees (a trim threshold of 1 GiB: at 64 MiB glibc gave back the top of the heap, and
/// dropped whole arena heaps, between batches of big replies, whose send buffers were then
/// faulted in again, 15% of a GET 512 KiB `-P 16` profile) until a trim gives it back
/// (`release_free_memory`). A top pad of 64 MiB keeps a free that empties a whole arena heap
/// (64 MiB) from unmapping it, which glibc does whatever the trim threshold: 16 KiB SETs
/// over keys that held 512 KiB values gave 300 MB back that way, to be faulted in again by
/// the next big SETs; the pad costs no memory, only address space. No fastbins:
/// the freeing thread (lazyfree) drops a million small blocks of a worker's arena into them,
/// and the worker's next large request then consolidates them all at once, under its arena
/// lock (PING maxima of 8-26 ms behind a zset's DEL); without them each free coalesces as it
/// goes, on the freeing thread, and the per-thread cache still serves the hot sizes (no
/// change measured in SET, LPUSH, HSET, ZADD or LRANGE `-P 16`, or in multi5). Called once
/// per process.
pub fn tune() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: mallopt with documented parameters; it only changes allocator policy.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as i32);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_MXFAST, 0);
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
        }
    });
}

/// Blocks from this size up get their own mapping, unmapped when freed (see `tune`).
const MMAP_THRESHOLD: usize = 32 << 20;

/// glibc's trim threshold while serving (see `tune`).
const TRIM_THRESHOLD: i32 = 1 << 30;

/// glibc's top pad while serving (see `tune`).
const TOP_PAD: i32 = 64 << 20;

/// A block of the trimming thread's arena freed under a low trim threshold (see
/// `trim_in_background`); over glibc's 64 KiB, so that its free looks at the arena's top.
const TOP_PROBE: usize = 128 * 1024;

/// When the last trim ran, in ms since the Unix epoch.
static LAST_TRIM_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// When the workers last had a burst of big values (`sample_memory_use`), in ms since the Unix epoch.
static LAST_BUSY_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Heap blocks at least this big are big values, their requests or their replies; smaller
/// ones (keys, small values, collection nodes) leave holes a next burst would not reuse
/// wholesale. Below the mmap threshold: bigger ones go back to the system as they are freed.
const BIG_BLOCK: usize = 64 * 1024;

/// Heap blocks of BIG_BLOCK or more freed since the last `sample_memory_use`.
static BIG_BLOCKS_FREED: AtomicUsize = AtomicUsize::new(0);

/// Big blocks freed between two samples that make a burst: big values overwritten or deleted
/// by the dozen, not one hash table outgrown.
const BURST_BIG_BLOCKS: usize = 16;

/// A large buffer was freed since the last trim (`note_big_free`).
static BIG_FREED: AtomicBool = AtomicBool::new(false);

/// A large buffer of the addon's own (a big argument, a send queue) was just freed: its pages
/// go back to the system at the next trim, once the workers are calm (`memory_calm`; a worker
/// asks every 100 ms, see `release_free_memory`). Unlike big blocks freed by the dozen, one
/// such free is no burst.
pub fn note_big_free() {
    BIG_FREED.store(true, Ordering::Relaxed);
}

/// A worker's sample (every 100 ms): a burst of big values is `big_traffic` (the worker moved
/// big requests or replies) or many big blocks freed since the last sample, by any thread
/// (big values overwritten by small ones: the traffic is small, the memory freed is not).
/// What a burst freed is likely wanted again soon, so no trim hands it back until the
/// workers have been calm for a while (`memory_calm`).
#[napi(catch_unwind)]
pub fn sample_memory_use(big_traffic: bool) {
    if BIG_BLOCKS_FREED.swap(0, Ordering::Relaxed) >= BURST_BIG_BLOCKS || big_traffic {
        LAST_BUSY_MS.store(crate::batch::now_ms(), Ordering::Relaxed);
    }
}

/// A trim is running; a request meanwhile has nothing left to add.
static TRIMMING: AtomicBool = AtomicBool::new(false);

/// Whether the workers have had no burst of big values for `delay_ms` (config
/// `memory-release-delay`).
/// Memory freed by a burst and wanted again by the next one (big values overwritten by small
/// ones and back, a bulk load after a flush) stays until the workers calm down; handed back
/// at once, each page cost a fresh fault when it was wanted again (on this VM, whose host
/// discards the pages a guest frees, SET of 512 KiB values after 16 KiB ones cost 3x Redis's
/// CPU). Redis's jemalloc keeps such pages longer than its 10 s decay: with small values
/// among them, 537 MB stayed active for 12 MB allocated 30 s on, so the default is a minute.
#[napi(catch_unwind)]
pub fn memory_calm(delay_ms: f64) -> bool {
    ((crate::batch::now_ms() - LAST_BUSY_MS.load(Ordering::Relaxed)) as f64) >= delay_ms
}

/// Give the C heap's free pages back to the OS (glibc `malloc_trim`) on a thread of its own,
/// if `asked` or a large buffer was freed since the last trim, and the last trim is a second
/// old (a trim walks the heap). Workers call it only when `memory_calm`. Returns whether a
/// trim started.
#[napi(catch_unwind)]
pub fn release_free_memory(asked: bool) -> bool {
    if !asked && !BIG_FREED.load(Ordering::Relaxed) {
        return false;
    }
    let now = crate::batch::now_ms();
    let last = LAST_TRIM_MS.load(Ordering::Relaxed);
    if now - last < 1000
        || LAST_TRIM_MS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return false;
    }
    BIG_FREED.store(false, Ordering::Relaxed);
    trim_in_background();
    true
}

fn trim_in_background() {
    // glibc gives back only the top of an arena on its own: the holes that closed connections
    // leave between live blocks stay resident until someone asks, and RSS ratchets up. A trim
    // took 0.1 to 43 ms, median 0.8, on 2 busy cores (it walks every arena and madvises each
    // free page): too long for a worker's JS thread. malloc_trim leaves the free top of any
    // arena but the main one alone, and with the serving threshold nothing else shrinks it:
    // freeing a block of the caller's arena under a low threshold does (glibc's heap_trim).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if !TRIMMING.swap(true, Ordering::AcqRel) {
        // SAFETY: a plain allocation, freed exactly once below (by the trim thread, or here).
        let probe = unsafe { libc::malloc(TOP_PROBE) } as usize;
        let spawned = std::thread::Builder::new()
            .name("shrike-trim".into())
            .spawn(move || {
                // SAFETY: mallopt with documented parameters; `probe` came from malloc and is
                // freed once; malloc_trim takes each arena's lock itself and may run on any
                // thread. Other threads' frees meanwhile may trim too, which is all it does.
                unsafe {
                    libc::mallopt(libc::M_TRIM_THRESHOLD, 2 * TOP_PROBE as i32);
                    libc::mallopt(libc::M_TOP_PAD, 0);
                    libc::free(probe as *mut libc::c_void);
                    libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
                    libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
                    libc::malloc_trim(0);
                }
                TRIMMING.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            // SAFETY: the thread never ran, so `probe` is still ours to free.
            unsafe { libc::free(probe as *mut libc::c_void) };
            TRIMMING.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the statics are process-wide and tests run in parallel.
    #[test]
    fn a_burst_puts_off_the_release_for_the_delay() {
        sample_memory_use(true);
        assert!(!memory_calm(60_000.0), "within the delay");
        assert!(memory_calm(0.0), "no delay");
        LAST_BUSY_MS.store(crate::batch::now_ms() - 61_000, Ordering::Relaxed);
        assert!(memory_calm(60_000.0), "past the delay");
        sample_memory_use(false);
        assert!(memory_calm(60_000.0), "no traffic, nothing freed");
        let blocks: Vec<Vec<u8>> = (0..BURST_BIG_BLOCKS)
            .map(|_| vec![1u8; BIG_BLOCK])
            .collect();
        drop(blocks);
        sample_memory_use(false);
        assert!(
            !memory_calm(60_000.0),
            "big blocks freed by the dozen are a burst"
        );
    }
}
