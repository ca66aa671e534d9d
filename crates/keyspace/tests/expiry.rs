//! Expiry with an injected clock: lazy expiry on access, the active cycle, and what each
//! command does with TTLs. Nothing here sleeps.

mod common;

use common::*;
use shrike_keyspace::{Config, DbInfo, Effects, Keyspace, Stats};

const T0: i64 = 1_700_000_000_000;

#[test]
fn lazy_expiry_on_read_counts_expired_and_miss() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    assert_eq!(c.cmd("set k v px 100"), ok());
    c.advance(100);
    // At the expiry instant the key still lives (Redis: expired when now > when).
    assert_eq!(c.cmd("get k"), bulk("v"));
    c.advance(1);
    assert_eq!(c.cmd("get k"), null());
    assert_eq!(
        ks.stats(),
        Stats {
            expired_keys: 1,
            keyspace_hits: 1,
            keyspace_misses: 1
        }
    );
    assert_eq!(c.cmd("dbsize"), int(0));
}

#[test]
fn ttl_rounding_and_absolute_times() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set k v px 1499");
    assert_eq!(c.cmd("ttl k"), int(1));
    assert_eq!(c.cmd("pttl k"), int(1499));
    assert_eq!(c.cmd("pexpiretime k"), int(T0 + 1499));
    assert_eq!(c.cmd("expiretime k"), int((T0 + 1499 + 500) / 1000));
    c.advance(1000);
    assert_eq!(c.cmd("ttl k"), int(0));
    assert_eq!(c.cmd("pttl k"), int(499));
    c.cmd("pexpire k 1500");
    assert_eq!(c.cmd("ttl k"), int(2));
}

#[test]
fn logically_expired_keys_count_in_dbsize_until_touched() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    // Redis 7.0/7.2 keep a key set with a past EXAT until something looks at it.
    assert_eq!(c.cmd("set k v exat 1"), ok());
    assert_eq!(c.cmd("dbsize"), int(1));
    // KEYS hides it without deleting it.
    assert_eq!(c.cmd("keys *"), arr(vec![]));
    assert_eq!(c.cmd("dbsize"), int(1));
    assert_eq!(c.cmd("exists k"), int(0));
    assert_eq!(c.cmd("dbsize"), int(0));
    assert_eq!(ks.stats().expired_keys, 1);
}

#[test]
fn past_times_delete_at_once_without_counting_as_expired() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("mset a 1 b 2 c 3 d 4");
    assert_eq!(c.cmd("expire a -1"), int(1));
    assert_eq!(c.cmd("pexpireat b 1"), int(1));
    assert_eq!(c.cmd(&format!("pexpireat c {T0}")), int(1));
    assert_eq!(c.cmd("getex d exat 1"), bulk("4"));
    assert_eq!(c.cmd("dbsize"), int(0));
    assert_eq!(ks.stats().expired_keys, 0);
}

#[test]
fn writes_drop_or_keep_the_ttl_like_redis() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set k 1 ex 100");
    c.cmd("incr k");
    assert_eq!(c.cmd("ttl k"), int(100));
    c.cmd("incrbyfloat k 1.5");
    assert_eq!(c.cmd("ttl k"), int(100));
    c.cmd("append k x");
    assert_eq!(c.cmd("ttl k"), int(100));
    c.cmd("setrange k 0 y");
    assert_eq!(c.cmd("ttl k"), int(100));
    c.cmd("set k v keepttl");
    assert_eq!(c.cmd("ttl k"), int(100));
    c.cmd("getset k w");
    assert_eq!(c.cmd("ttl k"), int(-1));
    c.cmd("set k v ex 100");
    c.cmd("mset k v2");
    assert_eq!(c.cmd("ttl k"), int(-1));
    c.cmd("set k v ex 100");
    c.cmd("rename k k2");
    assert_eq!(c.cmd("ttl k2"), int(100));
    c.cmd("copy k2 k3");
    assert_eq!(c.cmd("ttl k3"), int(100));
    c.cmd("move k3 5");
    c.sess.db = 5;
    assert_eq!(c.cmd("ttl k3"), int(100));
    c.advance(100_001);
    assert_eq!(c.cmd("get k3"), null());
}

#[test]
fn active_cycle_removes_exactly_the_due_keys() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    for i in 0..100 {
        c.cmd(&format!("set due{i} v px {}", 10 + i));
        c.cmd(&format!("set later{i} v px 100000"));
        c.cmd(&format!("set forever{i} v"));
    }
    // Same hash tag: one segment, many due keys.
    for i in 0..500 {
        c.cmd(&format!("set {{tag}}{i} v px 50"));
    }
    assert_eq!(
        ks.active_expire_cycle(T0 + 10, 1000, &mut Effects::default()),
        0
    );
    assert_eq!(
        ks.active_expire_cycle(T0 + 20, 1000, &mut Effects::default()),
        10
    );
    // Bounded by max_keys, and the lead's loop calls again while it returns the max.
    let mut total = 0;
    loop {
        let n = ks.active_expire_cycle(T0 + 1000, 64, &mut Effects::default());
        assert!(n <= 64);
        total += n;
        if n < 64 {
            break;
        }
    }
    assert_eq!(total, 90 + 500);
    assert_eq!(c.cmd("dbsize"), int(200));
    assert_eq!(ks.stats().expired_keys, 600);
    assert_eq!(
        ks.active_expire_cycle(T0 + 1000, 1000, &mut Effects::default()),
        0
    );
}

#[test]
fn persist_and_overwrite_take_keys_out_of_the_active_cycle() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set a v px 10");
    c.cmd("set b v px 10");
    c.cmd("set c v px 10");
    c.cmd("persist a");
    c.cmd("set b v2");
    c.cmd("pexpire c 100000");
    assert_eq!(
        ks.active_expire_cycle(T0 + 50, 100, &mut Effects::default()),
        0
    );
    assert_eq!(c.cmd("dbsize"), int(3));
}

#[test]
fn swapdb_and_flush_carry_the_expiry_index() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set a v px 10");
    c.cmd("swapdb 0 3");
    assert_eq!(
        ks.active_expire_cycle(T0 + 50, 100, &mut Effects::default()),
        1
    );
    assert_eq!(ks.dbsize(3), 0);
    c.cmd("set b v px 10");
    c.cmd("flushdb");
    assert_eq!(
        ks.active_expire_cycle(T0 + 50, 100, &mut Effects::default()),
        0
    );
    assert_eq!(ks.keyspace_info(T0), vec![]);
}

#[test]
fn keyspace_info_counts_keys_and_ttls() {
    let ks = Keyspace::new(Config {
        databases: 4,
        segments: 8,
    });
    let mut c = Client::new(&ks, T0);
    c.cmd("mset a 1 b 2");
    c.cmd("pexpire a 1000");
    c.cmd("pexpire b 3000");
    c.cmd("set p v");
    c.sess.db = 2;
    c.cmd("set x y");
    assert_eq!(
        ks.keyspace_info(T0),
        vec![
            DbInfo {
                db: 0,
                keys: 3,
                expires: 2,
                avg_ttl_ms: 2000
            },
            DbInfo {
                db: 2,
                keys: 1,
                expires: 0,
                avg_ttl_ms: 0
            }
        ]
    );
    // Past-due keys not yet deleted never make avg_ttl negative.
    assert_eq!(ks.keyspace_info(T0 + 10_000)[0].avg_ttl_ms, 0);
}

#[test]
fn randomkey_and_scan_delete_expired_keys_they_meet() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    for i in 0..20 {
        c.cmd(&format!("set k{i} v px 10"));
    }
    c.cmd("set live v");
    c.advance(11);
    assert_eq!(c.cmd("randomkey"), bulk("live"));
    let r = c.cmd("scan 0 count 1000");
    assert_eq!(r, arr(vec![bulk("0"), bulks(&["live"])]));
    assert_eq!(c.cmd("dbsize"), int(1));
    assert_eq!(ks.stats().expired_keys, 20);
    c.cmd("pexpire live 1");
    c.advance(2);
    assert_eq!(c.cmd("randomkey"), null());
}

#[test]
fn randomkey_finds_the_live_key_among_thousands_of_expired() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    for i in 0..5000 {
        c.cmd(&format!("set e{i} v px 5"));
    }
    c.cmd("set live v");
    c.advance(10);
    assert_eq!(c.cmd("randomkey"), bulk("live"));
    // Only what it met on the way is gone; the active cycle gets the rest. How many it met is
    // luck (random seeds differ per run: from none, when its first pick is the live key, to
    // all 5000 when the live key comes last), so only the sum is checked.
    let met = ks.stats().expired_keys;
    assert_eq!(
        ks.active_expire_cycle(c.sess.now_ms, 10_000, &mut Effects::default()) as u64,
        5000 - met
    );
}
