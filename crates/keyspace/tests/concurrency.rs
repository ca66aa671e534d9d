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
