//! MULTI/EXEC as the core serves it: WATCH marks (slot version and key state, Redis 7.2's
//! expiry rules), and a queue run under the one lock set `lock_exec` takes, with no other
//! thread's command in between.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

use common::{keyspace, op_of, split, Client};
use shrike_keyspace::reply::{decode, Reply};
use shrike_keyspace::{KeyState, Keyspace, ReplySink, Session, WatchMark};

fn mark(ks: &Keyspace, c: &Client<'_>, key: &str) -> WatchMark {
    ks.watch_key(c.sess.db, key.as_bytes(), c.sess.now_ms)
}

/// EXEC's check: lock what `key` needs and compare.
fn intact(ks: &Keyspace, c: &Client<'_>, key: &str, m: WatchMark) -> bool {
    let mut tx = ks.lock_exec(std::iter::empty(), std::iter::once(key.as_bytes()));
    ks.watch_intact(&mut tx, c.sess.db, key.as_bytes(), m, c.sess.now_ms)
}

#[test]
fn writes_deletes_and_flushes_fail_a_watch_reads_do_not() {
    let ks = keyspace();
    let mut c = Client::new(&ks, 1_000_000);
    c.cmd("set k 1");
    let m = mark(&ks, &c, "k");
    assert_eq!(m.state, KeyState::Alive);
    c.cmd("get k");
    c.cmd("exists k");
    assert!(intact(&ks, &c, "k", m));
    for (setup, write) in [
        ("set k 1", "set k 2"),
        ("set k 1", "del k"),
        ("set k 1", "flushall"),
        ("set k 1", "flushdb"),
        ("set k 1", "swapdb 0 1"),
        ("set k 1", "move k 3"),
        ("set j 1", "rename j k"),
        ("set k 1", "expire k 100"),
        ("del k", "set k 1"),
    ] {
        c.cmd("flushall");
        c.cmd(setup);
        let m = mark(&ks, &c, "k");
        c.cmd(write);
        assert!(!intact(&ks, &c, "k", m), "{setup} then {write}");
    }
}

#[test]
fn expiry_follows_redis_7_2() {
    let ks = keyspace();
    let mut c = Client::new(&ks, 1_000_000);
    // Alive at WATCH, past its TTL at EXEC: fails, deleted or not (isWatchedKeyExpired).
    c.cmd("set k v px 10");
    let m = mark(&ks, &c, "k");
    c.advance(20);
    assert!(!intact(&ks, &c, "k", m));
    c.cmd("exists k");
    assert!(!intact(&ks, &c, "k", m));
    // Already expired at WATCH: its deletion by expiry is no change...
    c.cmd("set s v px 10");
    c.advance(20);
    let m = mark(&ks, &c, "s");
    assert_eq!(m.state, KeyState::Stale);
    c.cmd("exists s");
    assert!(intact(&ks, &c, "s", m));
    // ...but writing it is.
    c.cmd("set s v px 10");
    c.advance(20);
    let m = mark(&ks, &c, "s");
    c.cmd("set s w");
    assert!(!intact(&ks, &c, "s", m));
    // A key absent at WATCH and still absent is unchanged.
    let m = mark(&ks, &c, "none");
    assert_eq!(m.state, KeyState::Absent);
    assert!(intact(&ks, &c, "none", m));
}

/// Run `lines` as one EXEC: one lock set for all of them, one clock.
fn exec(ks: &Keyspace, sess: &mut Session, lines: &[&str]) -> Vec<Reply> {
    let args: Vec<Vec<Vec<u8>>> = lines.iter().map(|l| split(l)).collect();
    let argvs: Vec<Vec<&[u8]>> = args
        .iter()
        .map(|a| a.iter().map(Vec::as_slice).collect())
        .collect();
    let ops: Vec<u16> = argvs.iter().map(|a| op_of(a).unwrap()).collect();
    let mut tx = ks.lock_exec(
        ops.iter().zip(&argvs).map(|(op, a)| (*op, a.as_slice())),
        std::iter::empty(),
    );
    let mut out = ReplySink::new();
    for (op, argv) in ops.iter().zip(&argvs) {
        ks.run_locked(&mut tx, sess, *op, argv, &mut out);
    }
    decode(out.as_bytes()).unwrap()
}

#[test]
fn a_queue_runs_under_one_lock_set_even_when_it_spans_the_db() {
    let ks = keyspace();
    let mut sess = Session::new(1_000_000);
    let r = exec(
        &ks,
        &mut sess,
        &[
            "set a 1",
            "mset b 2 c 3",
            "dbsize",
            "keys *",
            "flushdb",
            "dbsize",
        ],
    );
    assert_eq!(r.len(), 6);
    assert_eq!(r[2], Reply::Int(3));
    assert_eq!(r[5], Reply::Int(0));
}

#[test]
fn transfers_under_exec_never_show_a_broken_sum() {
    let ks = keyspace();
    let keys: Vec<String> = (0..10).map(|i| format!("acct:{i}")).collect();
    {
        let mut sess = Session::new(1);
        let mut line = String::from("mset");
        for k in &keys {
            line.push_str(&format!(" {k} 100"));
        }
        exec(&ks, &mut sess, &[&line]);
    }
    let stop = AtomicBool::new(false);
    let start = Barrier::new(3);
    std::thread::scope(|s| {
        for t in 0..2 {
            let (ks, keys, start, stop) = (&ks, &keys, &start, &stop);
            s.spawn(move || {
                let mut sess = Session::new(1);
                start.wait();
                for i in 0..2000 {
                    let a = &keys[(i * 3 + t) % 10];
                    let b = &keys[(i * 7 + 1 + t) % 10];
                    exec(
                        ks,
                        &mut sess,
                        &[&format!("decrby {a} 5"), &format!("incrby {b} 5")],
                    );
                }
                stop.store(true, Ordering::Relaxed);
            });
        }
        let mut sess = Session::new(1);
        let mget = format!("mget {}", keys.join(" "));
        start.wait();
        let mut reads = 0;
        while !stop.load(Ordering::Relaxed) || reads < 10 {
            let r = exec(&ks, &mut sess, &[&mget]);
            let Reply::Array(vals) = &r[0] else {
                panic!("{r:?}")
            };
            let sum: i64 = vals
                .iter()
                .map(|v| match v {
                    Reply::Bulk(b) => std::str::from_utf8(b).unwrap().parse::<i64>().unwrap(),
                    other => panic!("{other:?}"),
                })
                .sum();
            assert_eq!(sum, 1000);
            reads += 1;
        }
    });
}
