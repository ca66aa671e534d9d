//! Every write goes through the mutation path: the test drives each write command of the op
//! table and checks what the path does — the key's version moves (WATCH), the change is
//! counted (`rdb_changes_since_last_save`), Redis's keyspace events are recorded in order —
//! and that read commands do none of it. A command missing from both tables fails the test,
//! so a new command cannot skip the path unnoticed.

mod common;

use common::{keyspace, Client};
use shrike_keyspace::notify::{self, flags_from_letters};
use shrike_keyspace::{Effects, Keyspace, Op};

/// A write command: the lines that set it up, the command, the keys whose version must
/// move, and the event names Redis 7.2 publishes for it (with `notify-keyspace-events`
/// `KEA` plus `n`), in order.
struct Write {
    setup: &'static [&'static str],
    cmd: &'static str,
    keys: &'static [&'static str],
    events: &'static [&'static str],
}

const fn w(
    setup: &'static [&'static str],
    cmd: &'static str,
    keys: &'static [&'static str],
    events: &'static [&'static str],
) -> Write {
    Write {
        setup,
        cmd,
        keys,
        events,
    }
}

/// One example of each write command (some commands have several).
const WRITES: &[Write] = &[
    // string
    w(&[], "set k v", &["k"], &["new", "set"]),
    w(&["set k v"], "set k v2 ex 100", &["k"], &["set", "expire"]),
    w(&[], "setnx k v", &["k"], &["new", "set"]),
    w(&[], "setex k 100 v", &["k"], &["new", "set", "expire"]),
    w(&[], "psetex k 100000 v", &["k"], &["new", "set", "expire"]),
    w(&["set k v"], "getset k w", &["k"], &["set"]),
    w(&["set k v"], "getdel k", &["k"], &["del"]),
    w(&["set k v"], "getex k ex 100", &["k"], &["expire"]),
    w(&["set k v ex 100"], "getex k persist", &["k"], &["persist"]),
    w(
        &[],
        "mset a 1 b 2",
        &["a", "b"],
        &["new", "set", "new", "set"],
    ),
    w(
        &[],
        "msetnx a 1 b 2",
        &["a", "b"],
        &["new", "set", "new", "set"],
    ),
    w(&["set k v"], "append k w", &["k"], &["append"]),
    w(&["set k v"], "setrange k 1 xyz", &["k"], &["setrange"]),
    w(&[], "incr k", &["k"], &["new", "incrby"]),
    w(&["set k 5"], "decr k", &["k"], &["incrby"]),
    w(&["set k 5"], "incrby k 2", &["k"], &["incrby"]),
    w(&["set k 5"], "decrby k 2", &["k"], &["incrby"]),
    w(&["set k 5"], "incrbyfloat k 1.5", &["k"], &["incrbyfloat"]),
    // generic
    w(
        &["rpush l 3 1 2"],
        "sort l store d",
        &["d"],
        &["new", "sortstore"],
    ),
    w(&["set d v"], "sort nosuch store d", &["d"], &["del"]),
    w(&["set k v"], "del k", &["k"], &["del"]),
    w(&["set k v"], "unlink k", &["k"], &["del"]),
    w(
        &["set k v"],
        "rename k j",
        &["k", "j"],
        &["new", "rename_from", "rename_to"],
    ),
    w(
        &["set k v"],
        "renamenx k j",
        &["k", "j"],
        &["new", "rename_from", "rename_to"],
    ),
    w(&["set k v"], "copy k j", &["j"], &["new", "copy_to"]),
    w(
        &["set k v"],
        "move k 1",
        &["k"],
        &["new", "move_from", "move_to"],
    ),
    w(&["set k v"], "expire k 100", &["k"], &["expire"]),
    w(&["set k v"], "pexpire k 100000", &["k"], &["expire"]),
    w(&["set k v"], "expireat k 1", &["k"], &["del"]),
    w(
        &["set k v"],
        "pexpireat k 99999999999999",
        &["k"],
        &["expire"],
    ),
    w(&["set k v ex 100"], "persist k", &["k"], &["persist"]),
    // bitmap
    w(&[], "setbit k 7 1", &["k"], &["new", "setbit"]),
    w(&["set k a"], "setbit k 7 0", &["k"], &["setbit"]),
    w(&["set a x"], "bitop not d a", &["d"], &["new", "set"]),
    w(&["set d x"], "bitop and d nokey", &["d"], &["del"]),
    w(&[], "bitfield k set u8 0 5", &["k"], &["new", "setbit"]),
    w(
        &["set k a"],
        "bitfield k incrby i8 0 1",
        &["k"],
        &["setbit"],
    ),
    // hyperloglog
    w(&[], "pfadd h a", &["h"], &["new", "pfadd"]),
    w(&["pfadd h a"], "pfadd h b c", &["h"], &["pfadd"]),
    w(&["pfadd a x"], "pfmerge h a", &["h"], &["new", "pfadd"]),
    // PFDEBUG's conversion to dense counts as a change but signals no key (Redis does only
    // `server.dirty++`), so no version moves and nothing is published.
    w(&["pfadd h a"], "pfdebug todense h", &[], &[]),
    // list
    w(&[], "lpush k a b", &["k"], &["new", "lpush"]),
    w(&[], "rpush k a b", &["k"], &["new", "rpush"]),
    w(&["rpush k a"], "lpushx k b", &["k"], &["lpush"]),
    w(&["rpush k a"], "rpushx k b", &["k"], &["rpush"]),
    w(&["rpush k a b"], "lpop k", &["k"], &["lpop"]),
    w(&["rpush k a"], "lpop k 5", &["k"], &["lpop", "del"]),
    w(&["rpush k a b"], "rpop k", &["k"], &["rpop"]),
    w(&["rpush k a b"], "rpop k 1", &["k"], &["rpop"]),
    w(&["rpush k a b"], "lset k 1 x", &["k"], &["lset"]),
    w(
        &["rpush k a b"],
        "linsert k before b x",
        &["k"],
        &["linsert"],
    ),
    w(&["rpush k a b a"], "lrem k 0 a", &["k"], &["lrem"]),
    w(&["rpush k a a"], "lrem k 0 a", &["k"], &["lrem", "del"]),
    w(&["rpush k a b c"], "ltrim k 1 1", &["k"], &["ltrim"]),
    w(&["rpush k a b"], "ltrim k 5 6", &["k"], &["ltrim", "del"]),
    w(
        &["rpush k a b"],
        "lmove k j left right",
        &["k", "j"],
        &["new", "rpush", "lpop"],
    ),
    w(
        &["rpush k a", "rpush j b"],
        "lmove k j right left",
        &["k", "j"],
        &["lpush", "rpop", "del"],
    ),
    w(
        &["rpush k a b"],
        "rpoplpush k j",
        &["k", "j"],
        &["new", "lpush", "rpop"],
    ),
    w(
        &["rpush j a b"],
        "lmpop 2 k j right count 5",
        &["j"],
        &["rpop", "del"],
    ),
    // The blocking pops with data there: the events of their non-blocking forms.
    w(&["rpush k a b"], "blpop j k 0", &["k"], &["lpop"]),
    w(&["rpush k a"], "brpop k 0", &["k"], &["rpop", "del"]),
    w(
        &["rpush k a b"],
        "brpoplpush k j 0",
        &["k", "j"],
        &["new", "lpush", "rpop"],
    ),
    w(
        &["rpush k a b"],
        "blmove k j left right 0",
        &["k", "j"],
        &["new", "rpush", "lpop"],
    ),
    w(
        &["rpush j a b"],
        "blmpop 0 2 k j left count 5",
        &["j"],
        &["lpop", "del"],
    ),
    // server (whole-db writes: every version moves, no per-key events, as in Redis)
    w(&["set k v"], "flushdb", &["k", "other"], &[]),
    w(&["set k v"], "flushall", &["k", "other"], &[]),
    w(&["set k v"], "swapdb 0 1", &["k", "other"], &[]),
    // hash
    w(&[], "hset h f v", &["h"], &["new", "hset"]),
    w(&["hset h f v"], "hset h f w g x", &["h"], &["hset"]),
    w(&[], "hmset h f v", &["h"], &["new", "hset"]),
    w(&[], "hsetnx h f v", &["h"], &["new", "hset"]),
    w(&["hset h f v g w"], "hdel h f", &["h"], &["hdel"]),
    w(&["hset h f v"], "hdel h f g", &["h"], &["hdel", "del"]),
    w(&[], "hincrby h f 2", &["h"], &["new", "hincrby"]),
    w(
        &["hset h f 1"],
        "hincrbyfloat h f 1.5",
        &["h"],
        &["hincrbyfloat"],
    ),
    // hash field TTLs (Redis 7.4)
    w(
        &["hset h f v"],
        "hexpire h 100 fields 1 f",
        &["h"],
        &["hexpire"],
    ),
    w(
        &["hset h f v"],
        "hpexpire h 100000 fields 1 f",
        &["h"],
        &["hexpire"],
    ),
    w(
        &["hset h f v"],
        "hexpireat h 9999999999 fields 1 f",
        &["h"],
        &["hexpire"],
    ),
    w(
        &["hset h f v g w"],
        "hpexpireat h 1 fields 1 f",
        &["h"],
        &["hdel"],
    ),
    w(
        &["hset h f v"],
        "hpexpireat h 1 fields 1 f",
        &["h"],
        &["hdel", "del"],
    ),
    w(
        &["hset h f v", "hexpire h 100 fields 1 f"],
        "hpersist h fields 1 f",
        &["h"],
        &["hpersist"],
    ),
    // geo (GEOADD is ZADD underneath; stores replace the destination with setKey)
    w(&[], "geoadd k 1 1 a", &["k"], &["new", "zadd"]),
    w(
        &["geoadd k 1 1 a"],
        "geoadd k ch 2 2 a 3 3 b",
        &["k"],
        &["zadd"],
    ),
    w(
        &["geoadd k 1 1 a"],
        "georadius k 1 1 500 km store d",
        &["d"],
        &["new", "georadiusstore"],
    ),
    w(
        &["geoadd k 1 1 a", "set d v"],
        "georadiusbymember k a 1 km storedist d",
        &["d"],
        &["georadiusstore"],
    ),
    w(
        &["geoadd k 1 1 a", "set d v"],
        "georadius k 50 50 1 m store d",
        &["d"],
        &["del"],
    ),
    w(
        &["geoadd k 1 1 a"],
        "geosearchstore d k fromlonlat 1 1 byradius 500 km",
        &["d"],
        &["new", "geosearchstore"],
    ),
    w(
        &["set d v"],
        "geosearchstore d nosuch frommember a byradius 1 km",
        &["d"],
        &["del"],
    ),
    // sorted_set
    w(&[], "zadd k 1 a", &["k"], &["new", "zadd"]),
    w(&["zadd k 1 a"], "zadd k incr 1 a", &["k"], &["zincr"]),
    w(&[], "zincrby k 1 a", &["k"], &["new", "zincr"]),
    w(&["zadd k 1 a 2 b"], "zrem k a", &["k"], &["zrem"]),
    w(&["zadd k 1 a"], "zrem k a", &["k"], &["zrem", "del"]),
    w(
        &["zadd k 1 a 2 b"],
        "zremrangebyrank k 0 0",
        &["k"],
        &["zremrangebyrank"],
    ),
    w(
        &["zadd k 1 a"],
        "zremrangebyscore k 0 5",
        &["k"],
        &["zremrangebyscore", "del"],
    ),
    w(
        &["zadd k 0 a 0 b"],
        "zremrangebylex k - [a",
        &["k"],
        &["zremrangebylex"],
    ),
    w(&["zadd k 1 a 2 b"], "zpopmin k", &["k"], &["zpopmin"]),
    w(&["zadd k 1 a"], "zpopmax k 5", &["k"], &["zpopmax", "del"]),
    w(&["zadd k 1 a 2 b"], "zmpop 2 j k max", &["k"], &["zpopmax"]),
    w(&["zadd k 1 a 2 b"], "bzpopmin j k 0", &["k"], &["zpopmin"]),
    w(&["zadd k 1 a"], "bzpopmax k 0", &["k"], &["zpopmax", "del"]),
    w(
        &["zadd k 1 a 2 b"],
        "bzmpop 0 2 j k min count 9",
        &["k"],
        &["zpopmin", "del"],
    ),
    w(
        &["zadd k 1 a"],
        "zrangestore j k 0 -1",
        &["j"],
        &["new", "zrangestore"],
    ),
    w(
        &["zadd k 1 a", "set j v"],
        "zrangestore j k 5 6",
        &["j"],
        &["del"],
    ),
    w(
        &["zadd k 1 a", "zadd m 2 a"],
        "zunionstore j 2 k m",
        &["j"],
        &["new", "zunionstore"],
    ),
    w(
        &["zadd k 1 a", "zadd m 2 a", "set j v"],
        "zinterstore j 2 k m",
        &["j"],
        &["zinterstore"],
    ),
    w(
        &["zadd k 1 a 2 b", "zadd m 2 a"],
        "zdiffstore j 2 k m",
        &["j"],
        &["new", "zdiffstore"],
    ),
    // set
    w(&[], "sadd k a b", &["k"], &["new", "sadd"]),
    w(&["sadd k a"], "sadd k b", &["k"], &["sadd"]),
    w(&["sadd k a b"], "srem k a", &["k"], &["srem"]),
    w(&["sadd k a"], "srem k a b", &["k"], &["srem", "del"]),
    w(
        &["sadd k a b"],
        "smove k j a",
        &["k", "j"],
        &["srem", "new", "sadd"],
    ),
    w(
        &["sadd k a", "sadd j b"],
        "smove k j a",
        &["k", "j"],
        &["srem", "del", "sadd"],
    ),
    w(&["sadd k a b"], "spop k", &["k"], &["spop"]),
    w(&["sadd k a"], "spop k", &["k"], &["spop", "del"]),
    w(&["sadd k a b c"], "spop k 2", &["k"], &["spop"]),
    w(&["sadd k a b c"], "spop k 3", &["k"], &["spop", "del"]),
    w(
        &["sadd a 1 2", "sadd b 2 3"],
        "sinterstore k a b",
        &["k"],
        &["new", "sinterstore"],
    ),
    w(
        &["sadd a 1 2", "sadd b 3", "set k v"],
        "sinterstore k a b",
        &["k"],
        &["del"],
    ),
    w(
        &["sadd a 1 2", "sadd b 2 3", "sadd k x"],
        "sunionstore k a b",
        &["k"],
        &["sunionstore"],
    ),
    w(
        &["sadd a 1 2", "sadd b 2 3"],
        "sdiffstore k a b",
        &["k"],
        &["new", "sdiffstore"],
    ),
];

/// Commands that never write (their own lookups may still expire a key lazily).
const READS: &[&str] = &[
    // PUBLISH and SPUBLISH send messages; they change no key.
    "publish",
    "spublish",
    "pubsub|channels",
    "pubsub|numsub",
    "pubsub|numpat",
    "pubsub|shardchannels",
    "pubsub|shardnumsub",
    "pubsub|help",
    "sort_ro",
    "get",
    "mget",
    "strlen",
    "getrange",
    "substr",
    "lcs",
    "exists",
    "type",
    "keys",
    "scan",
    "randomkey",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "touch",
    "object|encoding",
    "object|idletime",
    "object|freq",
    "object|refcount",
    "object|help",
    "memory|usage",
    "dbsize",
    "hget",
    "hmget",
    "hexists",
    "hlen",
    "hkeys",
    "hvals",
    "hgetall",
    "hstrlen",
    "hrandfield",
    "hscan",
    "httl",
    "hpttl",
    "hexpiretime",
    "hpexpiretime",
    "geopos",
    "geodist",
    "geohash",
    "georadius_ro",
    "georadiusbymember_ro",
    "geosearch",
    "zcard",
    "zscore",
    "zmscore",
    "zrank",
    "zrevrank",
    "zcount",
    "zlexcount",
    "zrange",
    "zrevrange",
    "zrangebyscore",
    "zrevrangebyscore",
    "zrangebylex",
    "zrevrangebylex",
    "zrandmember",
    "zscan",
    "zunion",
    "zinter",
    "zdiff",
    "zintercard",
    "getbit",
    "bitcount",
    "bitpos",
    "bitfield_ro",
    // Read-only in the spec, but caching a cardinality is a quiet change (see
    // `pfcount_caching_is_a_change_without_an_event`).
    "pfcount",
    "pfselftest",
    "sismember",
    "smismember",
    "scard",
    "smembers",
    "srandmember",
    "sinter",
    "sintercard",
    "sunion",
    "sdiff",
    "sscan",
    "llen",
    "lrange",
    "lindex",
    "lpos",
];

/// The name of the command a line runs, as the op table spells it.
fn op_name(line: &str) -> String {
    let mut words = line.split(' ');
    let name = words.next().unwrap_or("").to_lowercase();
    match name.as_str() {
        "object" => format!("object|{}", words.next().unwrap_or("")),
        _ => name,
    }
}

/// A keyspace recording every event class, as `notify-keyspace-events KEAn` would.
fn listening() -> Keyspace {
    let ks = keyspace();
    ks.set_notify_flags(flags_from_letters(b"KEAn").unwrap());
    ks
}

#[test]
fn every_command_is_known_to_be_a_write_or_a_read() {
    for name in Keyspace::op_names() {
        let written = WRITES.iter().any(|w| op_name(w.cmd) == *name);
        let read = READS.contains(name);
        assert!(
            written != read,
            "{name}: add it to WRITES (with what it must record) or to READS"
        );
        // The spec's `write` flag agrees: a write command cannot hide among the reads.
        let writes = Op::from_name(name).is_some_and(Op::writes);
        assert_eq!(writes, written, "{name}: the spec says write = {writes}");
    }
}

#[test]
fn every_write_moves_versions_counts_and_records_its_events() {
    for w in WRITES {
        let ks = listening();
        let mut c = Client::new(&ks, 1_700_000_000_000);
        for line in w.setup {
            c.cmd(line);
        }
        c.sess.fx.clear();
        let before: Vec<u64> = w
            .keys
            .iter()
            .map(|k| ks.key_version(k.as_bytes()))
            .collect();
        let changes = ks.changes();
        let reply = c.cmd(w.cmd);
        assert!(
            !matches!(reply, shrike_keyspace::reply::Reply::Error(_)),
            "{}: {reply:?}",
            w.cmd
        );
        for (k, v) in w.keys.iter().zip(&before) {
            assert_ne!(
                ks.key_version(k.as_bytes()),
                *v,
                "{}: version of {k}",
                w.cmd
            );
        }
        assert!(ks.changes() > changes, "{}: not counted", w.cmd);
        let names: Vec<&str> = c.sess.fx.events.iter().map(|e| e.event.name).collect();
        assert_eq!(names, w.events, "{}", w.cmd);
        for e in &c.sess.fx.events {
            // Events name a key of the command and the db it happened in.
            let key = String::from_utf8_lossy(&e.key);
            assert!(w.keys.contains(&key.as_ref()), "{}: {key}", w.cmd);
            let db = if e.event.name.starts_with("move_to")
                || w.cmd.starts_with("move") && e.event.name == "new"
            {
                1
            } else {
                0
            };
            assert_eq!(e.db, db, "{}: {}", w.cmd, e.event.name);
        }
    }
}

/// Client-side caching: every write reaches `trackingInvalidateKey` (Redis's
/// `signalModifiedKey`), so a key a tracking client read is owed an invalidation whoever
/// writes it, and a flush owes every tracking client a null. SWAPDB invalidates nothing in
/// Redis 7.2 either.
#[test]
fn every_write_invalidates_what_tracking_clients_read() {
    use shrike_keyspace::tracking::Mode;
    for w in WRITES {
        let ks = listening();
        let mode = Mode {
            worker: 0,
            resp3: true,
            redirect: 0,
            redirect_worker: 0,
            bcast: false,
            noloop: false,
        };
        ks.tracking.enable(2, mode, &[]);
        let mut c = Client::new(&ks, 1_700_000_000_000);
        c.sess.client = 1;
        for line in w.setup {
            c.cmd(line);
        }
        let mut reader = Client::new(&ks, 1_700_000_000_000);
        reader.sess.client = 2;
        reader.sess.track = true;
        for k in w.keys {
            reader.cmd(&format!("exists {k}"));
        }
        assert!(reader.sess.fx.tracking.is_empty(), "a read owes nothing");
        c.sess.fx.clear();
        c.cmd(w.cmd);
        let owed = &c.sess.fx.tracking;
        if w.cmd.starts_with("flush") {
            assert!(owed.flushed(), "{}", w.cmd);
        } else if w.cmd.starts_with("swapdb") {
            assert!(owed.is_empty(), "{}", w.cmd);
        } else {
            let mut got: Vec<&[u8]> = owed.keys().collect();
            got.sort_unstable();
            got.dedup();
            let mut want: Vec<&[u8]> = w.keys.iter().map(|k| k.as_bytes()).collect();
            want.sort_unstable();
            assert_eq!(got, want, "{}", w.cmd);
        }
    }
}

#[test]
fn reads_leave_versions_and_counts_alone() {
    let ks = listening();
    let mut c = Client::new(&ks, 1_700_000_000_000);
    c.cmd("set k v");
    c.cmd("set j hello");
    c.cmd("geoadd g 1 1 a 2 2 b");
    c.cmd("pfadd h a");
    c.cmd("pfcount h");
    let version = ks.key_version(b"k");
    let changes = ks.changes();
    c.sess.fx.clear();
    for line in [
        "get k",
        "mget k j",
        "strlen k",
        "getrange k 0 1",
        "substr k 0 1",
        "lcs k j",
        "exists k",
        "type k",
        "keys *",
        "scan 0",
        "randomkey",
        "ttl k",
        "pttl k",
        "expiretime k",
        "pexpiretime k",
        "touch k",
        "object encoding k",
        "object idletime k",
        "object refcount k",
        "object help",
        "dbsize",
        "geopos g a b c",
        "geodist g a b km",
        "geohash g a nosuch",
        "georadius_ro g 1 1 500 km withdist",
        "georadiusbymember_ro g a 500 km",
        "geosearch g frommember a bybox 500 500 km asc",
        "getbit k 3",
        "bitcount k",
        "bitcount k 0 -1 bit",
        "bitpos k 1",
        "bitfield_ro k get u8 0",
        "pfcount h",
        "pfcount h k2",
        "sismember k a",
        "smismember k a b",
        "scard k",
        "smembers k",
        "srandmember k",
        "sinter k j",
        "sintercard 1 k",
        "sunion k j",
        "sdiff k j",
        "sscan k 0",
        "llen k",
        "lrange k 0 -1",
        "lindex k 0",
        "lpos k v",
    ] {
        assert!(READS.contains(&op_name(line).as_str()), "{line}");
        c.cmd(line);
        assert_eq!(ks.key_version(b"k"), version, "{line}");
        assert_eq!(ks.changes(), changes, "{line}");
        assert!(c.sess.fx.is_empty(), "{line}: {:?}", c.sess.fx);
    }
}

#[test]
fn expiry_records_expired_everywhere_it_happens_and_keeps_the_version() {
    let ks = listening();
    let mut c = Client::new(&ks, 1_000_000);
    // Lazily, on access.
    c.cmd("set a v px 10");
    let v = ks.key_version(b"a");
    c.sess.fx.clear();
    c.advance(20);
    c.cmd("get a");
    // WATCH sees expiry through the key's state, as Redis 7.2 does (watch.rs).
    assert_eq!(ks.key_version(b"a"), v);
    let names: Vec<&str> = c.sess.fx.events.iter().map(|e| e.event.name).collect();
    assert_eq!(names, ["expired"]);
    // By a write that finds the key expired and creates it anew.
    c.cmd("set b v px 10");
    c.advance(20);
    c.sess.fx.clear();
    c.cmd("set b w");
    let names: Vec<&str> = c.sess.fx.events.iter().map(|e| e.event.name).collect();
    assert_eq!(names, ["expired", "new", "set"]);
    // By the active cycle.
    c.cmd("set d v px 10");
    let v = ks.key_version(b"d");
    let mut fx = Effects::default();
    assert_eq!(ks.active_expire_cycle(c.sess.now_ms + 20, 100, &mut fx), 1);
    assert_eq!(ks.key_version(b"d"), v);
    assert_eq!(fx.events.len(), 1);
    assert_eq!(
        (fx.events[0].event, &fx.events[0].key[..]),
        (notify::EXPIRED_EVENT, &b"d"[..])
    );
}

#[test]
fn expiry_invalidates_what_tracking_clients_read_lazily_and_actively() {
    use shrike_keyspace::tracking::Mode;
    let ks = keyspace();
    let mode = Mode {
        worker: 0,
        resp3: true,
        redirect: 0,
        redirect_worker: 0,
        bcast: false,
        noloop: false,
    };
    ks.tracking.enable(2, mode, &[]);
    let mut w = Client::new(&ks, 1_000_000);
    let mut reader = Client::new(&ks, 1_000_000);
    reader.sess.client = 2;
    reader.sess.track = true;
    w.cmd("set a v px 10");
    w.cmd("set d v px 10");
    reader.cmd("get a");
    reader.cmd("get d");
    // Lazily, by whoever touches it next (here a client that does not track).
    w.advance(20);
    w.cmd("get a");
    assert_eq!(w.sess.fx.tracking.keys().collect::<Vec<_>>(), [&b"a"[..]]);
    // By the active cycle.
    let mut fx = Effects::default();
    assert_eq!(ks.active_expire_cycle(w.sess.now_ms, 100, &mut fx), 1);
    assert_eq!(fx.tracking.keys().collect::<Vec<_>>(), [&b"d"[..]]);
}

#[test]
fn a_read_that_misses_records_keymiss_after_expired() {
    let ks = keyspace();
    ks.set_notify_flags(flags_from_letters(b"Kmx").unwrap());
    let mut c = Client::new(&ks, 1_000_000);
    c.cmd("get nosuch");
    c.cmd("exists nosuch");
    // Writes look up without counting, and raise no keymiss (lookupKeyWrite).
    c.cmd("lpush l a");
    c.cmd("set a v px 10");
    c.advance(20);
    c.cmd("get a");
    let got: Vec<(&str, &[u8])> = c
        .sess
        .fx
        .events
        .iter()
        .map(|e| (e.event.name, &e.key[..]))
        .collect();
    assert_eq!(
        got,
        [
            ("keymiss", &b"nosuch"[..]),
            ("keymiss", b"nosuch"),
            ("expired", b"a"),
            ("keymiss", b"a")
        ]
    );
}

#[test]
fn an_empty_store_deletes_an_expired_destination_as_del() {
    // Redis 7.2's store finalizers call dbDelete, which does not look the key up: a
    // destination that has expired but is still there is reported as `del`, not `expired`.
    let ks = listening();
    let mut c = Client::new(&ks, 1_000_000);
    for line in [
        "zunionstore d 1 nosuch",
        "zinterstore d 1 nosuch",
        "zdiffstore d 1 nosuch",
        "zrangestore d nosuch 0 -1",
        "geosearchstore d nosuch frommember a byradius 1 km",
        "georadius nosuch 0 0 1 km store d",
    ] {
        c.cmd("set d v px 10");
        c.advance(20);
        c.sess.fx.clear();
        assert_eq!(c.cmd(line), shrike_keyspace::reply::Reply::Int(0), "{line}");
        let names: Vec<&str> = c.sess.fx.events.iter().map(|e| e.event.name).collect();
        assert_eq!(names, ["del"], "{line}");
        assert_eq!(
            c.cmd("exists d"),
            shrike_keyspace::reply::Reply::Int(0),
            "{line}"
        );
    }
}

#[test]
fn nothing_is_recorded_unless_someone_listens() {
    let ks = keyspace();
    let mut c = Client::new(&ks, 1_000_000);
    c.cmd("set k v");
    c.cmd("del k");
    assert!(c.sess.fx.is_empty());
    ks.set_notify_flags(notify::GENERIC | notify::KEYEVENT);
    c.cmd("set k v");
    c.cmd("del k");
    let names: Vec<&str> = c.sess.fx.events.iter().map(|e| e.event.name).collect();
    assert_eq!(names, ["del"], "only the generic class is on");
}

#[test]
fn pfcount_caching_is_a_change_without_an_event() {
    let ks = listening();
    let mut c = Client::new(&ks, 1_700_000_000_000);
    c.cmd("pfadd h a b c");
    let (version, changes) = (ks.key_version(b"h"), ks.changes());
    c.sess.fx.clear();
    // The cached cardinality was invalid: PFCOUNT stores it in the value, which Redis
    // signals (WATCH fails) and counts, without a keyspace event.
    assert_eq!(c.cmd("pfcount h"), shrike_keyspace::reply::Reply::Int(3));
    assert_ne!(ks.key_version(b"h"), version);
    assert_eq!(ks.changes(), changes + 1);
    assert!(c.sess.fx.is_empty(), "{:?}", c.sess.fx);
    // Cached now: a second PFCOUNT changes nothing.
    let (version, changes) = (ks.key_version(b"h"), ks.changes());
    assert_eq!(c.cmd("pfcount h"), shrike_keyspace::reply::Reply::Int(3));
    assert_eq!(ks.key_version(b"h"), version);
    assert_eq!(ks.changes(), changes);
}
