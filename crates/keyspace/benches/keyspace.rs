//! Keyspace micro-benchmarks, through `Keyspace::run` exactly as the binding's batch path
//! calls it (op id + argv with the command name first, one `ReplySink`).
//!
//! - `single/*`: one thread, one command per iteration.
//! - `contention/*`: a GET/SET mix run by 1 or 2 threads at once, on keys in one shared
//!   segment (`same_segment`: every thread takes the same lock), in one segment per thread
//!   (`own_segment`: no lock is shared), and spread over all segments (`spread`: the normal
//!   case, occasional collisions). Time is wall-clock per op over all threads, so perfect
//!   scaling halves it with 2 threads; thread start-up is outside the measurement.
//!
//! Run: `cargo bench -p shrike-keyspace` (about a minute and a half), or add a filter,
//! e.g. `cargo bench -p shrike-keyspace -- contention`.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shrike_keyspace::slot::key_hash_slot;
use shrike_keyspace::{Config, Keyspace, Op, ReplySink, Session};

/// Keys per single-thread working set: a power of two so the index is a mask.
const KEYS: usize = 1 << 14;
const NOW_MS: i64 = 1_700_000_000_000;

/// One client: a session and a reply buffer reused across commands, as a batch reuses them.
struct Client<'a> {
    ks: &'a Keyspace,
    sess: Session,
    out: ReplySink,
}

impl<'a> Client<'a> {
    fn new(ks: &'a Keyspace) -> Client<'a> {
        Client {
            ks,
            sess: Session::new(NOW_MS),
            out: ReplySink::with_capacity(4096),
        }
    }

    /// Runs one command; the reply is left in `out` until the next call.
    #[inline]
    fn run(&mut self, op: Op, argv: &[&[u8]]) {
        self.out.clear();
        self.ks.run(&mut self.sess, op as u16, argv, &mut self.out);
        black_box(self.out.as_bytes());
    }
}

fn keyspace() -> Keyspace {
    Keyspace::new(Config::default())
}

fn keys(prefix: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{prefix}:{i}").into_bytes())
        .collect()
}

fn fill(ks: &Keyspace, keys: &[Vec<u8>], value: &[u8]) {
    let mut c = Client::new(ks);
    for k in keys {
        c.run(Op::Set, &[b"set", k, value]);
    }
}

fn single(c: &mut Criterion) {
    let ks = keyspace();
    let small = [b'v'; 32];
    let big = vec![b'v'; 1024];
    let hot = keys("key", KEYS);
    let big_keys = keys("big", KEYS);
    let missing = keys("missing", KEYS);
    let counters = keys("ctr", KEYS);
    let tagged = keys("{tag}", KEYS);
    fill(&ks, &hot, &small);
    fill(&ks, &big_keys, &big);

    let mut g = c.benchmark_group("single");
    g.throughput(Throughput::Elements(1));
    let mut cl = Client::new(&ks);
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) & (KEYS - 1);
        i
    };

    // SETs overwrite existing keys (filled above): the steady state of a cache.
    g.bench_function("set_32B", |b| {
        b.iter(|| cl.run(Op::Set, &[b"set", &hot[next()], &small]))
    });
    g.bench_function("get_hit_32B", |b| {
        b.iter(|| cl.run(Op::Get, &[b"get", &hot[next()]]))
    });
    g.bench_function("get_miss", |b| {
        b.iter(|| cl.run(Op::Get, &[b"get", &missing[next()]]))
    });
    g.bench_function("incr", |b| {
        b.iter(|| cl.run(Op::Incr, &[b"incr", &counters[next()]]))
    });
    g.bench_function("set_1KiB", |b| {
        b.iter(|| cl.run(Op::Set, &[b"set", &big_keys[next()], &big]))
    });
    g.bench_function("get_hit_1KiB", |b| {
        b.iter(|| cl.run(Op::Get, &[b"get", &big_keys[next()]]))
    });
    // MSET of 10 keys, each in its own segment most of the time (10 locks, sorted), and the
    // same with one hash tag (one lock): the difference is the multi-lock cost.
    let mut mset = |b: &mut criterion::Bencher, keys: &[Vec<u8>]| {
        let mut argv: Vec<&[u8]> = Vec::with_capacity(21);
        b.iter(|| {
            argv.clear();
            argv.push(b"mset");
            for _ in 0..10 {
                argv.push(&keys[next()]);
                argv.push(&small);
            }
            cl.run(Op::MSet, &argv);
        })
    };
    g.bench_function("mset_10_spread", |b| mset(b, &hot));
    g.bench_function("mset_10_one_tag", |b| mset(b, &tagged));
    g.finish();
}

/// Per-thread key sets for a contention case.
#[derive(Clone, Copy)]
enum Placement {
    /// Every thread's keys share one hash tag, so one segment lock.
    SameSegment,
    /// Each thread's keys share a tag of their own, in a segment no other thread uses.
    OwnSegment,
    /// Plain keys, spread over all segments.
    Spread,
}

impl Placement {
    fn name(self) -> &'static str {
        match self {
            Placement::SameSegment => "same_segment",
            Placement::OwnSegment => "own_segment",
            Placement::Spread => "spread",
        }
    }

    fn keys(self, ks: &Keyspace, threads: usize) -> Vec<Vec<Vec<u8>>> {
        const PER_THREAD: usize = 1024;
        let tags = distinct_segment_tags(ks, threads);
        (0..threads)
            .map(|t| match self {
                Placement::SameSegment => keys(&format!("{{{}}}:t{t}", tags[0]), PER_THREAD),
                Placement::OwnSegment => keys(&format!("{{{}}}:t{t}", tags[t]), PER_THREAD),
                Placement::Spread => keys(&format!("spread:t{t}"), PER_THREAD),
            })
            .collect()
    }
}

/// `n` hash tags whose keys land in `n` different segments. A key's segment is its slot
/// masked to the (power of two) segment count, as `Keyspace::segment_of` computes it.
fn distinct_segment_tags(ks: &Keyspace, n: usize) -> Vec<String> {
    let mask = ks.segments() - 1;
    let mut seen = Vec::new();
    let mut tags = Vec::new();
    for i in 0.. {
        if tags.len() == n {
            break;
        }
        let tag = format!("seg{i}");
        let seg = usize::from(key_hash_slot(tag.as_bytes())) & mask;
        if !seen.contains(&seg) {
            seen.push(seg);
            tags.push(tag);
        }
    }
    tags
}

/// Runs `ops` commands split over one thread per key set, all started together; returns
/// the wall time from the first thread starting to the last finishing.
fn run_parallel(ks: &Keyspace, key_sets: &[Vec<Vec<u8>>], ops: u64) -> Duration {
    let threads = key_sets.len() as u64;
    let per_thread = ops.div_ceil(threads);
    let barrier = Barrier::new(key_sets.len());
    let value = [b'v'; 32];
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = key_sets
            .iter()
            .map(|keys| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut c = Client::new(ks);
                    let mask = keys.len() - 1;
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..per_thread as usize {
                        let k = &keys[i & mask];
                        // Half reads, half writes: both take the segment lock exclusively.
                        if i & 1 == 0 {
                            c.run(Op::Get, &[b"get", k]);
                        } else {
                            c.run(Op::Set, &[b"set", k, &value]);
                        }
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let start = spans.iter().map(|s| s.0).min().unwrap();
    let end = spans.iter().map(|s| s.1).max().unwrap();
    // Report per requested op even when rounding up gave the threads a few more.
    (end - start).mul_f64(ops as f64 / (per_thread * threads) as f64)
}

fn contention(c: &mut Criterion) {
    let mut g = c.benchmark_group("contention");
    g.throughput(Throughput::Elements(1));
    for placement in [
        Placement::SameSegment,
        Placement::OwnSegment,
        Placement::Spread,
    ] {
        for threads in [1, 2] {
            let ks = keyspace();
            let key_sets = placement.keys(&ks, threads);
            for set in &key_sets {
                fill(&ks, set, &[b'v'; 32]);
            }
            g.bench_with_input(
                BenchmarkId::new(placement.name(), format!("{threads}t")),
                &key_sets,
                |b, sets| b.iter_custom(|ops| run_parallel(&ks, sets, ops)),
            );
        }
    }
    g.finish();
}

fn config() -> Criterion {
    // ~4.5 s per benchmark, 14 of them: the whole run stays near a minute and a half.
    Criterion::default()
        .warm_up_time(Duration::from_millis(1000))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = single, contention
}
criterion_main!(benches);
