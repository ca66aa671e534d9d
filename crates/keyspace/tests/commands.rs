//! Command behaviour that the differential test cannot pin down (random order, clocks,
//! reply kinds that RESP2 flattens, session state) or that needs no real server.

mod common;

use std::collections::BTreeSet;

use common::*;
use shrike_keyspace::reply::Reply;
use shrike_keyspace::{Config, Keyspace, Op, ReplySink, Session, Stats};

const T0: i64 = 1_700_000_000_000;

/// Run a full SCAN with `opts`, returning every key seen (with repeats) and the call count.
fn full_scan(c: &mut Client<'_>, opts: &str) -> (Vec<Vec<u8>>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        calls += 1;
        let r = c.cmd(&format!("scan {cursor} {opts}"));
        let Reply::Array(parts) = r else {
            panic!("scan reply {r:?}")
        };
        let [Reply::Bulk(next), Reply::Array(keys)] = &parts[..] else {
            panic!("scan reply {parts:?}")
        };
        for k in keys {
            let Reply::Bulk(k) = k else { panic!() };
            seen.push(k.clone());
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
        assert!(calls < 100_000, "scan does not end");
    }
    (seen, calls)
}

#[test]
fn scan_returns_every_key_once_without_changes() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    for i in 0..5000 {
        c.cmd(&format!("set key:{i} v"));
    }
    let (seen, calls) = full_scan(&mut c, "");
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), 5000);
    // Nothing changed during the scan, so nothing repeats.
    assert_eq!(seen.len(), 5000);
    assert!(calls > 1);
    let (seen, _) = full_scan(&mut c, "count 1000");
    assert_eq!(seen.len(), 5000);
    let (seen, _) = full_scan(&mut c, "match key:1?? count 50");
    assert_eq!(seen.len(), 100);
    let (seen, _) = full_scan(&mut c, "type string");
    assert_eq!(seen.len(), 5000);
    let (seen, _) = full_scan(&mut c, "type hash");
    assert!(seen.is_empty());
}

#[test]
fn scan_count_is_roughly_honoured_on_small_dbs() {
    let ks = Keyspace::new(Config {
        databases: 1,
        segments: 1,
    });
    let mut c = Client::new(&ks, T0);
    for i in 0..100 {
        c.cmd(&format!("set k{i} v"));
    }
    let Reply::Array(parts) = c.cmd("scan 0 count 5") else {
        panic!()
    };
    let Reply::Array(keys) = &parts[1] else {
        panic!()
    };
    assert!((5..=10).contains(&keys.len()), "{}", keys.len());
    // A cursor past the last segment ends the scan.
    assert_eq!(
        c.cmd("scan 18446744073709551615"),
        arr(vec![bulk("0"), arr(vec![])])
    );
}

#[test]
fn empty_db_scan_ends_in_one_call() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    assert_eq!(c.cmd("scan 0"), arr(vec![bulk("0"), arr(vec![])]));
}

#[test]
fn randomkey_reaches_every_key() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("mset a 1 b 2 c 3");
    let mut seen = BTreeSet::new();
    for _ in 0..300 {
        let Reply::Bulk(k) = c.cmd("randomkey") else {
            panic!()
        };
        seen.insert(k);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn databases_are_separate_and_checked() {
    let ks = Keyspace::new(Config {
        databases: 4,
        segments: 16,
    });
    let mut c = Client::new(&ks, T0);
    c.cmd("set k db0");
    c.sess.db = 1;
    assert_eq!(c.cmd("get k"), null());
    c.cmd("set k db1");
    assert_eq!(c.cmd("move k 0"), int(0));
    assert_eq!(c.cmd("move k 4"), err("ERR DB index is out of range"));
    assert_eq!(c.cmd("copy k k db 3"), int(1));
    c.sess.db = 3;
    assert_eq!(c.cmd("get k"), bulk("db1"));
    assert_eq!(c.cmd("swapdb 0 3"), ok());
    assert_eq!(c.cmd("get k"), bulk("db0"));
    c.sess.db = 9;
    assert_eq!(c.cmd("get k"), err("ERR DB index is out of range"));
    assert_eq!(ks.databases(), 4);
    c.sess.db = 0;
    assert_eq!(c.cmd("flushall async"), ok());
    assert_eq!(ks.keyspace_info(T0), vec![]);
}

#[test]
fn idle_time_follows_the_clock_and_no_touch() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set k v");
    c.advance(10_000);
    assert_eq!(c.cmd("object idletime k"), int(10));
    // OBJECT, TYPE, EXISTS and TTL do not touch.
    c.cmd("type k");
    c.cmd("exists k");
    c.cmd("ttl k");
    assert_eq!(c.cmd("object idletime k"), int(10));
    c.sess.no_touch = true;
    c.cmd("get k");
    assert_eq!(c.cmd("object idletime k"), int(10));
    // TOUCH touches even in NO-TOUCH mode.
    c.cmd("touch k");
    assert_eq!(c.cmd("object idletime k"), int(0));
    c.advance(5_000);
    c.sess.no_touch = false;
    c.cmd("get k");
    assert_eq!(c.cmd("object idletime k"), int(0));
    // A write keeps the old clock when the client may not touch.
    c.advance(5_000);
    c.sess.no_touch = true;
    c.cmd("set k v2");
    assert_eq!(c.cmd("object idletime k"), int(5));
}

#[test]
fn lfu_policy_switches_object_subcommands() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set k v");
    assert!(matches!(c.cmd("object freq k"), Reply::Error(_)));
    ks.set_lfu_policy(true);
    c.cmd("set n v");
    assert_eq!(c.cmd("object freq n"), int(5));
    c.cmd("get n");
    assert_eq!(c.cmd("object freq n"), int(6));
    assert_eq!(
        c.cmd("object idletime n"),
        err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    c.advance(3 * 60_000);
    assert_eq!(c.cmd("object freq n"), int(3));
}

#[test]
fn hits_and_misses_follow_redis() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set a 1");
    c.cmd("set a 2 nx");
    c.cmd("incr a");
    c.cmd("del nokey");
    assert_eq!(ks.stats(), Stats::default(), "writes count nothing");
    c.cmd("get a");
    c.cmd("get b");
    c.cmd("mget a b a");
    c.cmd("exists a b");
    c.cmd("type a");
    c.cmd("ttl b");
    c.cmd("strlen a");
    c.cmd("object encoding a");
    c.cmd("set a 3 get");
    assert_eq!(
        ks.stats(),
        Stats {
            expired_keys: 0,
            // Counted on redis-server 7.0 with the same commands.
            keyspace_hits: 8,
            keyspace_misses: 4
        }
    );
    ks.reset_stats();
    assert_eq!(ks.stats(), Stats::default());
}

#[test]
fn lcs_idx_is_a_map_for_resp3() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("mset a ohmytext b mynewtext");
    let r = c.cmd("lcs a b idx minmatchlen 4 withmatchlen");
    let pair = |x, y| arr(vec![int(x), int(y)]);
    assert_eq!(
        r,
        Reply::Map(vec![
            (
                bulk("matches"),
                arr(vec![arr(vec![pair(4, 7), pair(5, 8), int(4)])])
            ),
            (bulk("len"), int(6)),
        ])
    );
}

#[test]
fn object_help_is_simple_strings() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    let Reply::Array(lines) = c.cmd("object help") else {
        panic!()
    };
    assert_eq!(lines.len(), 15);
    assert!(lines.iter().all(|l| matches!(l, Reply::Simple(_))));
    assert_eq!(
        lines[0],
        Reply::simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
}

#[test]
fn keys_and_values_are_binary_safe() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    let key: &[u8] = b"k\x00\xff\r\n";
    let val: &[u8] = b"\x00\x01\x02\xfe";
    assert_eq!(c.run(&[b"set", key, val]), ok());
    assert_eq!(c.run(&[b"get", key]), Reply::Bulk(val.to_vec()));
    assert_eq!(
        c.run(&[b"keys", b"k\x00*"]),
        arr(vec![Reply::Bulk(key.to_vec())])
    );
    assert_eq!(c.run(&[b"append", key, b"\x00"]), int(5));
    assert_eq!(c.run(&[b"strlen", key]), int(5));
}

#[test]
fn unsupported_option_echoes_the_argument_safely() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    c.cmd("set k v");
    assert_eq!(
        c.run(&[b"expire", b"k", b"10", b"bad\r\nopt"]),
        err("ERR Unsupported option bad  opt")
    );
}

#[test]
fn caller_mistakes_are_error_replies_not_panics() {
    let ks = keyspace();
    let mut out = ReplySink::new();
    let mut sess = Session::new(T0);
    ks.run(&mut sess, u16::MAX, &[b"nope"], &mut out);
    ks.run(&mut sess, Op::Get as u16, &[b"get"], &mut out);
    ks.run(&mut sess, Op::Set as u16, &[b"set", b"k"], &mut out);
    ks.run(&mut sess, Op::ObjectEncoding as u16, &[b"object"], &mut out);
    let replies = shrike_keyspace::reply::decode(out.as_bytes()).unwrap();
    assert_eq!(replies.len(), 4);
    assert!(replies.iter().all(|r| matches!(r, Reply::Error(_))));
    assert_eq!(
        replies[1],
        err("ERR wrong number of arguments for 'get' command")
    );
}

#[test]
fn one_reply_value_per_command_even_on_error_after_output() {
    // SET ... GET replies with the old value before the type check of the write; a later
    // error must replace, not follow, that partial output.
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    assert_eq!(
        c.cmd("set k v get ex 0"),
        err("ERR invalid expire time in 'set' command")
    );
    c.cmd("set k v");
    assert_eq!(
        c.cmd("mset a 1 b"),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        c.cmd("exists a"),
        int(0),
        "nothing written before the error"
    );
}

#[test]
fn large_values_and_setrange_growth() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    assert_eq!(c.cmd("setrange big 1000000 x"), int(1_000_001));
    assert_eq!(
        c.cmd("getrange big 999999 -1"),
        Reply::Bulk(b"\x00x".to_vec())
    );
    for _ in 0..1000 {
        c.cmd("append log 0123456789");
    }
    assert_eq!(c.cmd("strlen log"), int(10_000));
    assert_eq!(c.cmd("object encoding log"), bulk("raw"));
    assert_eq!(
        c.cmd("setrange big 536870912 x"),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
}

#[test]
fn op_table_lists_every_command() {
    let names = Keyspace::op_names();
    for n in [
        "get",
        "set",
        "getex",
        "getdel",
        "getset",
        "mget",
        "mset",
        "msetnx",
        "setnx",
        "setex",
        "psetex",
        "append",
        "strlen",
        "getrange",
        "substr",
        "setrange",
        "incr",
        "decr",
        "incrby",
        "decrby",
        "incrbyfloat",
        "lcs",
        "del",
        "unlink",
        "exists",
        "type",
        "keys",
        "scan",
        "randomkey",
        "rename",
        "renamenx",
        "copy",
        "move",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "ttl",
        "pttl",
        "expiretime",
        "pexpiretime",
        "persist",
        "touch",
        "object|encoding",
        "object|idletime",
        "object|freq",
        "object|refcount",
        "object|help",
        "dbsize",
        "flushdb",
        "flushall",
        "swapdb",
    ] {
        assert!(names.contains(&n), "{n} missing");
    }
}

#[test]
fn pfmerge_with_no_sources_locks_its_destination() {
    // Redis's key specs find no keys in `PFMERGE dest` (the sources' spec starts past argv),
    // yet the command writes dest: the lock must cover it all the same.
    let ks = keyspace();
    let mut c = Client::new(&ks, 1_700_000_000_000);
    assert_eq!(c.cmd("pfmerge h"), ok());
    assert_eq!(c.cmd("pfcount h"), int(0));
    assert_eq!(c.cmd("pfadd h a"), int(1));
    assert_eq!(c.cmd("pfmerge h"), ok());
    assert_eq!(c.cmd("pfcount h"), int(1));
}

/// A value of SPLICE_MIN bytes or more gets a buffer of its own at its first GET into a
/// splicing sink, and is sent by reference from then on, through overwrites too.
#[test]
fn a_value_of_splice_size_is_sent_by_reference_once_read() {
    use shrike_keyspace::reply::SPLICE_MIN;
    let ks = keyspace();
    let mut sess = Session {
        now_ms: T0,
        ..Session::default()
    };
    let big = vec![b'a'; SPLICE_MIN];
    let other = vec![b'b'; SPLICE_MIN];
    let run = |sess: &mut Session, argv: &[&[u8]], out: &mut ReplySink| {
        ks.run(sess, op_of(argv).unwrap(), argv, out);
    };
    let mut out = ReplySink::resp_spliced(Vec::new(), false, Vec::new());
    run(&mut sess, &[b"set", b"k", &big], &mut out);
    run(&mut sess, &[b"get", b"k"], &mut out);
    // The same length again, while the GET's reply still holds the value: the reply keeps it.
    run(&mut sess, &[b"set", b"k", &other], &mut out);
    run(&mut sess, &[b"get", b"k"], &mut out);
    // A copying sink (MULTI's capture, a Node socket) copies, and leaves the value as it is.
    let mut copy = ReplySink::resp(Vec::new(), false);
    run(&mut sess, &[b"get", b"k"], &mut copy);
    assert!(copy.as_bytes().ends_with(&[&other[..], b"\r\n"].concat()));
    let (bytes, refs) = out.into_parts();
    assert_eq!(refs.len(), 2, "both GETs reference their value");
    assert_eq!(&refs[0].1[..], &big[..]);
    assert_eq!(&refs[1].1[..], &other[..]);
    assert!(
        bytes.len() < 64,
        "no value was copied ({} bytes)",
        bytes.len()
    );
    // One byte under: copied as before.
    let small = vec![b'c'; SPLICE_MIN - 1];
    let mut out = ReplySink::resp_spliced(Vec::new(), false, Vec::new());
    run(&mut sess, &[b"set", b"s", &small], &mut out);
    run(&mut sess, &[b"get", b"s"], &mut out);
    let (bytes, refs) = out.into_parts();
    assert!(refs.is_empty());
    assert!(bytes.len() > SPLICE_MIN);
}
