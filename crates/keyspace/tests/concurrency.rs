//! One keyspace hammered from several threads: every command must be atomic, multi-key
//! commands across segments included, and SCAN must keep its guarantee under churn.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use shrike_keyspace::reply::Reply;
use shrike_keyspace::slot::key_hash_slot;
use shrike_keyspace::Effects;

const T0: i64 = 1_700_000_000_000;
const THREADS: usize = 4;

#[test]
fn concurrent_incr_loses_no_update() {
    let ks = keyspace();
    const PER_THREAD: i64 = 20_000;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let ks = &ks;
            s.spawn(move || {
                let mut c = Client::new(ks, T0);
                for i in 0..PER_THREAD {
                    c.cmd(&format!("incr counter:{}", (i + t as i64) % 8));
                    c.cmd("incrby total 2");
                }
            });
        }
    });
    let mut c = Client::new(&ks, T0);
    assert_eq!(
        c.cmd("get total"),
        bulk(&(THREADS as i64 * PER_THREAD * 2).to_string())
    );
    let mut sum = 0;
    for k in 0..8 {
        let Reply::Bulk(v) = c.cmd(&format!("get counter:{k}")) else {
            panic!()
        };
        sum += std::str::from_utf8(&v).unwrap().parse::<i64>().unwrap();
    }
    assert_eq!(sum, THREADS as i64 * PER_THREAD);
}

/// Sixteen keys in sixteen different segments (of the default 256).
fn spread_keys() -> Vec<String> {
    let mut keys = Vec::new();
    let mut segs = BTreeSet::new();
    let mut i = 0;
    while keys.len() < 16 {
        let k = format!("spread:{i}");
        if segs.insert(key_hash_slot(k.as_bytes()) % 256) {
            keys.push(k);
        }
        i += 1;
    }
    keys
}

#[test]
fn mset_and_mget_are_atomic_across_segments() {
    let ks = keyspace();
    let keys = spread_keys();
    let stop = AtomicBool::new(false);
    let mut init = Client::new(&ks, T0);
    init.cmd(&format!(
        "mset {}",
        keys.iter()
            .map(|k| format!("{k} 0"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    std::thread::scope(|s| {
        for w in 0..2 {
            let (ks, keys, stop) = (&ks, &keys, &stop);
            s.spawn(move || {
                let mut c = Client::new(ks, T0);
                for i in 0..5_000 {
                    let v = format!("w{w}-{i}");
                    let line = keys
                        .iter()
                        .map(|k| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    assert_eq!(c.cmd(&format!("mset {line}")), ok());
                }
                stop.store(true, Ordering::Relaxed);
            });
        }
        for _ in 0..2 {
            let (ks, keys, stop) = (&ks, &keys, &stop);
            s.spawn(move || {
                let mut c = Client::new(ks, T0);
                let line = format!("mget {}", keys.join(" "));
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) || reads < 100 {
                    let Reply::Array(vals) = c.cmd(&line) else {
                        panic!()
                    };
                    assert!(
                        vals.windows(2).all(|w| w[0] == w[1]),
                        "torn MSET seen: {vals:?}"
                    );
                    reads += 1;
                }
            });
        }
    });
}

#[test]
fn rename_between_segments_is_never_half_done() {
    let ks = keyspace();
    let keys = spread_keys();
    let (a, b) = (keys[0].clone(), keys[1].clone());
    let stop = AtomicBool::new(false);
    Client::new(&ks, T0).cmd(&format!("set {a} v"));
    std::thread::scope(|s| {
        let (ks2, a2, b2, stop2) = (&ks, &a, &b, &stop);
        s.spawn(move || {
            let mut c = Client::new(ks2, T0);
            for _ in 0..10_000 {
                assert_eq!(c.cmd(&format!("rename {a2} {b2}")), ok());
                assert_eq!(c.cmd(&format!("rename {b2} {a2}")), ok());
            }
            stop2.store(true, Ordering::Relaxed);
        });
        for _ in 0..THREADS - 1 {
            let (ks, a, b, stop) = (&ks, &a, &b, &stop);
            s.spawn(move || {
                let mut c = Client::new(ks, T0);
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(c.cmd(&format!("exists {a} {b}")), int(1));
                }
            });
        }
    });
}

#[test]
fn scan_sees_every_stable_key_under_churn() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    let stable: BTreeSet<Vec<u8>> = (0..2000)
        .map(|i| format!("stable:{i}").into_bytes())
        .collect();
    for k in &stable {
        c.run(&[b"set", k, b"v"]);
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..THREADS - 1 {
            let (ks, stop) = (&ks, &stop);
            s.spawn(move || {
                let mut c = Client::new(ks, T0);
                let mut i: u64 = t as u64;
                while !stop.load(Ordering::Relaxed) {
                    i = i
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let k = format!("churn:{}", (i >> 33) % 5000);
                    if i & (1 << 20) == 0 {
                        c.cmd(&format!("set {k} v"));
                    } else {
                        c.cmd(&format!("del {k}"));
                    }
                }
            });
        }
        let mut c = Client::new(&ks, T0);
        for round in 0..5 {
            let mut seen = BTreeSet::new();
            let mut cursor = b"0".to_vec();
            loop {
                let r = c.run(&[b"scan", &cursor, b"count", b"7"]);
                let Reply::Array(parts) = r else { panic!() };
                let [Reply::Bulk(next), Reply::Array(keys)] = &parts[..] else {
                    panic!()
                };
                for k in keys {
                    let Reply::Bulk(k) = k else { panic!() };
                    seen.insert(k.clone());
                }
                cursor = next.clone();
                if cursor == b"0" {
                    break;
                }
            }
            let missing: Vec<_> = stable.difference(&seen).collect();
            assert!(
                missing.is_empty(),
                "round {round}: {} stable keys missed",
                missing.len()
            );
        }
        stop.store(true, Ordering::Relaxed);
    });
}

#[test]
fn whole_db_commands_and_active_expiry_do_not_deadlock() {
    let ks = keyspace();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (ks, stop) = (&ks, &stop);
            s.spawn(move || {
                let mut c = Client::new(ks, T0);
                for i in 0..2_000 {
                    match (i + t) % 7 {
                        0 => c.cmd("flushdb"),
                        1 => c.cmd("swapdb 0 1"),
                        2 => c.cmd(&format!("mset a{i} 1 b{i} 2 {{t}}c{i} 3")),
                        3 => c.cmd("keys a1*"),
                        4 => c.cmd("scan 0 count 50"),
                        5 => c.cmd("randomkey"),
                        _ => c.cmd(&format!("set e{i} v px 1")),
                    };
                    c.advance(1);
                }
                if t == 0 {
                    stop.store(true, Ordering::Relaxed);
                }
            });
        }
        let (ks, stop) = (&ks, &stop);
        s.spawn(move || {
            let mut now = T0;
            while !stop.load(Ordering::Relaxed) {
                now += 5;
                ks.active_expire_cycle(now, 100, &mut Effects::default());
                ks.keyspace_info(now);
            }
        });
    });
}

/// Units that declare one key and then touch others they did not declare (as scripts do)
/// grow their lock sets without deadlock and without losing an update: each unit reads
/// three counters and writes their increments, so a unit that ran without holding all three
/// segments would let another unit's write slip in between and the totals would be short.
#[test]
fn growing_lock_sets_neither_deadlock_nor_break_atomicity() {
    use shrike_keyspace::{Op, ReplySink, Session};
    let ks = keyspace();
    let keys = spread_keys();
    const PER_THREAD: usize = 3_000;
    let retries = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (ks, keys, retries) = (&ks, &keys, &retries);
            s.spawn(move || {
                let mut sess = Session::new(T0);
                let mut out = ReplySink::new();
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (t as u64 + 1);
                let mut next = || {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (rng % keys.len() as u64) as usize
                };
                for _ in 0..PER_THREAD {
                    let picks = [next(), next(), next()];
                    let declared = keys[picks[0]].as_bytes();
                    let mut first = true;
                    ks.run_unit(&[declared], |tx| {
                        if !first {
                            retries.fetch_add(1, Ordering::Relaxed);
                        }
                        first = false;
                        // Grow first, write after: a unit backs out only before it writes.
                        for &p in &picks[1..] {
                            ks.grow(tx, keys[p].as_bytes())?;
                        }
                        for &p in &picks {
                            let argv: [&[u8]; 2] = [b"incr", keys[p].as_bytes()];
                            ks.run_locked(tx, &mut sess, Op::Incr as u16, &argv, &mut out);
                        }
                        Ok(())
                    });
                    out.clear();
                }
            });
        }
    });
    let mut c = Client::new(&ks, T0);
    let mut sum = 0;
    for k in &keys {
        if let Reply::Bulk(v) = c.cmd(&format!("get {k}")) {
            sum += std::str::from_utf8(&v).unwrap().parse::<usize>().unwrap();
        }
    }
    assert_eq!(sum, THREADS * PER_THREAD * 3);
    eprintln!("retries: {}", retries.load(Ordering::Relaxed));
}

/// Run `line` as one command of a pipeline, through `run_holding`.
fn run_held<'ks>(
    ks: &'ks shrike_keyspace::Keyspace,
    held: &mut Option<shrike_keyspace::Tx<'ks>>,
    sess: &mut shrike_keyspace::Session,
    line: &str,
) -> Reply {
    let args = split(line);
    let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let mut out = shrike_keyspace::ReplySink::new();
    ks.run_holding(held, sess, op_of(&argv).unwrap(), &argv, &mut out);
    let mut v = shrike_keyspace::reply::decode(out.as_bytes()).unwrap();
    assert_eq!(v.len(), 1);
    v.pop().unwrap()
}

#[test]
fn a_pipeline_keeps_one_segment_lock_and_lets_it_go_for_another() {
    let ks = keyspace();
    let keys = spread_keys();
    let seg = |k: &str| usize::from(key_hash_slot(k.as_bytes())) % 256;
    let mut sess = shrike_keyspace::Session::new(T0);
    let mut held = None;
    assert_eq!(
        run_held(&ks, &mut held, &mut sess, &format!("rpush {} a", keys[0])),
        int(1)
    );
    assert!(held
        .as_ref()
        .is_some_and(|tx| tx.holds(seg(&keys[0])) && !tx.holds_all()));
    // The same key again, and another key of the same segment, run under the kept lock.
    assert_eq!(
        run_held(&ks, &mut held, &mut sess, &format!("rpush {} b", keys[0])),
        int(2)
    );
    assert!(held.as_ref().is_some_and(|tx| tx.holds(seg(&keys[0]))));
    // A key in another segment: the kept lock goes before the new one is taken (the same
    // thread taking a lock it holds would wait forever).
    assert_eq!(
        run_held(&ks, &mut held, &mut sess, &format!("incr {}", keys[1])),
        int(1)
    );
    let tx = held.as_ref().unwrap();
    assert!(tx.holds(seg(&keys[1])) && !tx.holds(seg(&keys[0])));
    // A command over every segment, or with no key, keeps nothing.
    assert_eq!(run_held(&ks, &mut held, &mut sess, "dbsize"), int(2));
    assert!(held.is_none());
    assert_eq!(
        run_held(
            &ks,
            &mut held,
            &mut sess,
            &format!("lrange {} 0 -1", keys[0])
        ),
        bulks(&["a", "b"])
    );
    // While one client keeps a lock, another thread's command on that segment waits for it.
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = Client::new(&ks, T0);
            assert_eq!(c.cmd(&format!("rpush {} c", keys[0])), int(3));
            done.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !done.load(Ordering::SeqCst),
            "a kept lock must hold other clients off"
        );
        held = None;
    });
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn pipelines_holding_locks_lose_no_update_and_never_deadlock() {
    let ks = keyspace();
    let keys = spread_keys();
    const ROUNDS: usize = 3000;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (ks, keys) = (&ks, &keys);
            s.spawn(move || {
                let mut sess = shrike_keyspace::Session::new(T0);
                let mut held = None;
                for i in 0..ROUNDS {
                    // Runs of one key, then hops between segments in different orders per
                    // thread; each batch ends by letting go, as run_batch does.
                    let k = &keys[(i / 7 + t * 5) % keys.len()];
                    run_held(ks, &mut held, &mut sess, &format!("incr {k}"));
                    run_held(ks, &mut held, &mut sess, "incrby total 2");
                    if i % 16 == 15 {
                        held = None;
                    }
                }
            });
        }
        // A client running commands one by one alongside.
        s.spawn(|| {
            let mut c = Client::new(&ks, T0);
            for _ in 0..ROUNDS {
                c.cmd("incrby total 2");
            }
        });
    });
    let mut c = Client::new(&ks, T0);
    assert_eq!(
        c.cmd("get total"),
        bulk(&((THREADS + 1) * ROUNDS * 2).to_string())
    );
    let mut sum = 0;
    for k in &keys {
        if let Reply::Bulk(v) = c.cmd(&format!("get {k}")) {
            sum += std::str::from_utf8(&v).unwrap().parse::<usize>().unwrap();
        }
    }
    assert_eq!(sum, THREADS * ROUNDS);
}
