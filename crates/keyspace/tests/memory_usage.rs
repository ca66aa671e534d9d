//! MEMORY USAGE: its options and errors as Redis 7.2, and numbers that are an honest estimate
//! of what a key costs here. Shrike's layout is not Redis's, so the numbers are checked
//! against rough expectations: they grow with the data, sampling stays close to the exact
//! count, and they land within a factor of what Redis 7.2.6 reports for the same data.

mod common;

use common::*;
use shrike_keyspace::reply::Reply;

const T0: i64 = 1_700_000_000_000;

fn usage(c: &mut Client<'_>, line: &str) -> i64 {
    match c.cmd(line) {
        Reply::Int(n) => n,
        r => panic!("{line}: {r:?}"),
    }
}

/// Build list, hash, set and zset keys `l{n}`, `h{n}`, `s{n}`, `z{n}` of `n` elements each,
/// the same data as the Redis figures in `near_what_redis_reports`.
fn fill(c: &mut Client<'_>, n: usize) {
    for i in 1..=n {
        c.cmd(&format!("rpush l{n} elem:{i}"));
        c.cmd(&format!("hset h{n} field:{i} value:{i}"));
        c.cmd(&format!("sadd s{n} member:{i}"));
        c.cmd(&format!("zadd z{n} {i} member:{i}"));
    }
}

#[test]
fn options_and_errors_as_redis() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    assert_eq!(c.cmd("memory usage nokey"), null());
    assert_eq!(c.cmd("memory usage nokey samples 5 samples 0"), null());
    // The options are checked before the lookup: a missing key still gets the error.
    assert_eq!(
        c.cmd("memory usage nokey samples -1"),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd("memory usage nokey samples x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd("memory usage nokey foo"), err("ERR syntax error"));
    assert_eq!(c.cmd("memory usage nokey samples"), err("ERR syntax error"));
    c.cmd("set k v");
    assert!(usage(&mut c, "memory usage k") > 0);
    assert!(usage(&mut c, "memory usage k SAMPLES 0") > 0);
    c.cmd("lpush l a");
    assert_eq!(c.cmd("memory usage k samples -1"), err("ERR syntax error"));
}

#[test]
fn strings_grow_with_key_value_and_ttl() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set a v");
    c.cmd("set a_much_longer_key_name_here v");
    c.cmd(&format!("set big {}", "x".repeat(1000)));
    c.cmd(&format!("set huge {}", "x".repeat(100_000)));
    let small = usage(&mut c, "memory usage a");
    // One slot and a 32-byte chunk for the block: Redis says 56 for the same key.
    assert!((32..=64).contains(&small), "{small}");
    assert!(usage(&mut c, "memory usage a_much_longer_key_name_here") > small);
    let big = usage(&mut c, "memory usage big");
    assert!((1000..1100).contains(&big), "{big}");
    let huge = usage(&mut c, "memory usage huge");
    assert!((100_000..100_200).contains(&huge), "{huge}");
    c.cmd("expire a 100");
    assert!(usage(&mut c, "memory usage a") >= small);
    // APPEND makes a growable string outside the block: the value still counts.
    c.cmd("append big y");
    assert!(usage(&mut c, "memory usage big") > 1000);
}

#[test]
fn collections_grow_with_their_elements() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    for n in [10, 1000, 20_000] {
        fill(&mut c, n);
    }
    for t in ["l", "h", "s", "z"] {
        let sizes: Vec<i64> = [10, 1000, 20_000]
            .iter()
            .map(|n| usage(&mut c, &format!("memory usage {t}{n} samples 0")))
            .collect();
        assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "{t}: {sizes:?}");
        // Roughly linear: 20x the elements, 10x to 40x the bytes.
        let ratio = sizes[2] as f64 / sizes[1] as f64;
        assert!((10.0..40.0).contains(&ratio), "{t}: {sizes:?}");
        // Sampling 5 elements estimates the exact count closely (the elements look alike).
        let sampled = usage(&mut c, &format!("memory usage {t}20000"));
        let err = (sampled - sizes[2]).abs() as f64 / sizes[2] as f64;
        assert!(err < 0.1, "{t}: sampled {sampled} vs exact {}", sizes[2]);
    }
}

#[test]
fn near_what_redis_reports() {
    // Redis 7.2.6, MEMORY USAGE key SAMPLES 0 for the data `fill` builds (glibc: jemalloc
    // rounds differently, so only the order of magnitude is meaningful).
    let redis: &[(&str, i64)] = &[
        ("l10", 152),
        ("l1000", 10104),
        ("h10", 264),
        ("h1000", 83992),
        ("s10", 184),
        ("s1000", 58408),
        ("z10", 200),
        ("z1000", 104992),
    ];
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    fill(&mut c, 10);
    fill(&mut c, 1000);
    for &(key, theirs) in redis {
        let ours = usage(&mut c, &format!("memory usage {key} samples 0"));
        let ratio = ours as f64 / theirs as f64;
        assert!(
            (0.3..3.0).contains(&ratio),
            "{key}: ours {ours}, Redis {theirs}"
        );
    }
}
