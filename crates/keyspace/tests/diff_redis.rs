//! Differential tests: the same command scripts against a real `redis-server` and against the
//! keyspace, comparing replies value by value (RESP2 view: maps and sets as arrays), error
//! texts included. The reference is Redis 7.2.6 (see `redis_server`); skipped, with a note,
//! when there is no redis-server at all.
//!
//! Script lines are commands (see `common::split`). A line starting with `~ ` compares array
//! replies as sorted (KEYS order is unspecified); `% ` compares a SCAN reply's pairs as
//! sorted (HSCAN, ZSCAN); `≈ ` compares integers within 100 (PTTL).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{split, Client};
use shrike_keyspace::reply::Reply;

/// A RESP2 reply as Redis sends it.
#[derive(Debug, Clone, PartialEq)]
enum Resp {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

/// Our reply value as RESP2 would carry it.
fn to_resp2(r: &Reply) -> Resp {
    match r {
        Reply::Simple(s) => Resp::Simple(s.clone()),
        Reply::Error(s) => Resp::Error(s.clone()),
        Reply::Int(n) => Resp::Int(*n),
        Reply::Bulk(s) => Resp::Bulk(Some(s.clone())),
        Reply::Null => Resp::Bulk(None),
        Reply::NullArray => Resp::Array(None),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            Resp::Array(Some(v.iter().map(to_resp2).collect()))
        }
        Reply::Map(kv) | Reply::Pairs(kv) => Resp::Array(Some(
            kv.iter()
                .flat_map(|(k, v)| [to_resp2(k), to_resp2(v)])
                .collect(),
        )),
        // RESP2 carries a double as the bulk string the server writes for it.
        Reply::Double(d) => Resp::Bulk(Some(
            shrike_keyspace::number::DoubleBuf::new()
                .format(*d)
                .to_vec(),
        )),
        Reply::Bool(b) => Resp::Int(i64::from(*b)),
        Reply::Verbatim(_, s) | Reply::BigNumber(s) => Resp::Bulk(Some(s.clone())),
    }
}

/// The reference redis-server: `$SHRIKE_REDIS_SERVER` (.ci/run sets it), else the 7.2.6 that
/// `../shared/redis-ref/build.sh` (beside the repo) builds and prints, else `redis-server` on
/// PATH (Debian's 7.0), where `../shared` is absent. Resolved once per test binary.
fn redis_server() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(p) = std::env::var("SHRIKE_REDIS_SERVER") {
            if !p.is_empty() {
                return p;
            }
        }
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/redis-ref/build.sh");
        if script.exists() {
            if let Ok(out) = Command::new(&script).stderr(Stdio::inherit()).output() {
                let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if out.status.success() && !path.is_empty() {
                    return path;
                }
            }
        }
        "redis-server".to_string()
    })
}

struct Server {
    child: Child,
    conn: BufReader<TcpStream>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Option<Server> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(redis_server())
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut server = None;
        let mut child = Some(child);
        while Instant::now() < deadline {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                server = Some(Server {
                    child: child.take()?,
                    conn: BufReader::new(s),
                });
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(mut c) = child {
            let _ = c.kill();
        }
        server
    }

    fn send(&mut self, argv: &[&[u8]]) -> Resp {
        let mut buf = format!("*{}\r\n", argv.len()).into_bytes();
        for a in argv {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&buf).unwrap();
        read_resp(&mut self.conn)
    }
}

fn read_line(r: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).unwrap();
    line.truncate(line.len() - 2);
    line
}

fn read_resp(r: &mut BufReader<TcpStream>) -> Resp {
    let line = read_line(r);
    let (t, rest) = (line[0], &line[1..]);
    let num = || std::str::from_utf8(rest).unwrap().parse::<i64>().unwrap();
    match t {
        b'+' => Resp::Simple(rest.to_vec()),
        b'-' => Resp::Error(rest.to_vec()),
        b':' => Resp::Int(num()),
        b'$' => {
            let n = num();
            if n < 0 {
                return Resp::Bulk(None);
            }
            let mut b = vec![0; n as usize + 2];
            r.read_exact(&mut b).unwrap();
            b.truncate(n as usize);
            Resp::Bulk(Some(b))
        }
        b'*' => {
            let n = num();
            if n < 0 {
                return Resp::Array(None);
            }
            Resp::Array(Some((0..n).map(|_| read_resp(r)).collect()))
        }
        _ => panic!("unexpected RESP type {}", t as char),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A SCAN-family reply (cursor, flat field-value list) with its pairs sorted: a hash table's
/// order is its own.
fn pairs_sorted(r: Resp) -> Resp {
    match r {
        Resp::Array(Some(mut v)) if v.len() == 2 => {
            if let Some(Resp::Array(Some(items))) = v.get_mut(1) {
                let mut pairs: Vec<Vec<Resp>> = items.chunks(2).map(<[Resp]>::to_vec).collect();
                pairs.sort_by_key(|p| format!("{p:?}"));
                *items = pairs.concat();
            }
            Resp::Array(Some(v))
        }
        other => other,
    }
}

fn sorted(r: Resp) -> Resp {
    match r {
        Resp::Array(Some(mut v)) => {
            v.sort_by_key(|x| format!("{x:?}"));
            Resp::Array(Some(v))
        }
        other => other,
    }
}

/// Run `script` (after FLUSHALL) on both sides and report every difference.
/// One redis-server at a time: tests run on parallel threads, and two servers started at once
/// can be handed the same free port, so one test would talk to (and lose) the other's server.
static ONE_SERVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn diff(script: &str) {
    let _one = ONE_SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(mut server) = Server::start() else {
        eprintln!("redis-server not found: differential test skipped");
        return;
    };
    let ks = common::keyspace();
    let mut ours = Client::new(&ks, now_ms());
    server.send(&[b"flushall"]);
    let mut failures = Vec::new();
    for raw in script.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (mode, cmd) = if let Some(rest) = line.strip_prefix("~ ") {
            ('~', rest)
        } else if let Some(rest) = line.strip_prefix("% ") {
            ('%', rest)
        } else if let Some(rest) = line.strip_prefix("≈ ") {
            ('≈', rest)
        } else {
            (' ', line)
        };
        let args = split(cmd);
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let theirs = server.send(&argv);
        // SELECT is the connection's (TypeScript) business: mirror it into our session.
        if argv[0].eq_ignore_ascii_case(b"select") {
            ours.sess.db = std::str::from_utf8(argv[1]).unwrap().parse().unwrap();
            continue;
        }
        ours.sess.now_ms = now_ms();
        let mine = to_resp2(&ours.run(&argv));
        let same = match mode {
            '~' => sorted(theirs.clone()) == sorted(mine.clone()),
            '%' => pairs_sorted(theirs.clone()) == pairs_sorted(mine.clone()),
            '≈' => match (&theirs, &mine) {
                (Resp::Int(a), Resp::Int(b)) => (a - b).abs() <= 100,
                _ => theirs == mine,
            },
            _ => theirs == mine,
        };
        if std::env::var_os("DIFF_VERBOSE").is_some() {
            eprintln!(
                "{cmd}\n  redis: {}\n  ours:  {}",
                show(&theirs),
                show(&mine)
            );
        }
        if !same {
            failures.push(format!(
                "{cmd}\n  redis: {}\n  ours:  {}",
                show(&theirs),
                show(&mine)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn show(r: &Resp) -> String {
    match r {
        Resp::Simple(s) => format!("+{}", String::from_utf8_lossy(s)),
        Resp::Error(s) => format!("-{}", String::from_utf8_lossy(s)),
        Resp::Int(n) => format!(":{n}"),
        Resp::Bulk(None) => "(nil)".into(),
        Resp::Bulk(Some(s)) => format!("{:?}", String::from_utf8_lossy(s)),
        Resp::Array(None) => "(nil array)".into(),
        Resp::Array(Some(v)) => format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(", ")),
    }
}

#[test]
fn strings_match_redis() {
    diff(
        r#"
        get nokey
        set foo bar
        get foo
        set foo bar2 xx
        set foo bar3 nx
        set nx1 v nx
        set xx1 v xx
        get xx1
        set foo v get
        set newk v get
        set foo v nx get
        set foo v2 xx get
        set foo v nx xx
        set foo v xx nx
        set foo v ex 10 px 100
        set foo v ex 10 keepttl
        set foo v keepttl ex 10
        set foo v ex 0
        set foo v ex -5
        set foo v px 0
        set foo v exat 0
        set foo v pxat -1
        set foo v ex abc
        set foo v ex 1.5
        set foo v ex
        set foo v bogus
        set foo v ex 9223372036854776
        set foo v px 9223372036854775807
        set foo v ex 100
        ttl foo
        set foo v2 keepttl
        ttl foo
        set foo v3
        ttl foo
        set foo v ex 100 ex 200
        ttl foo
        set foo v get get
        set foo v exat 1
        get foo
        exists foo
        setnx sn 1
        setnx sn 2
        get sn
        setex se 100 v
        ttl se
        setex se 0 v
        setex se -1 v
        setex se abc v
        psetex pse 100000 v
        ttl pse
        psetex pse 0 v
        getset gs a
        getset gs b
        getdel gs
        getdel gs
        mset a 1 b 2 c 3
        mget a b c nokey
        mset a 1 b
        msetnx a 1 x 2
        msetnx x 1 y 2
        msetnx x 1 y
        mget x y
        append k1 hello
        append k1 " world"
        get k1
        strlen k1
        strlen nokey
        append n 123
        object encoding n
        setrange k1 6 redis
        get k1
        setrange sr 5 x
        get sr
        strlen sr
        setrange sr2 0 ""
        exists sr2
        setrange k1 -1 x
        setrange k1 abc x
        setrange k1 536870912 x
        setrange k1 0 ""
        getrange k1 0 4
        getrange k1 -5 -1
        getrange k1 -1 -5
        getrange k1 5 3
        getrange k1 0 1000
        getrange k1 -1000 2
        getrange nokey 0 10
        getrange k1 a 1
        substr k1 0 2
        set num 10
        incr num
        decr num
        incrby num 5
        decrby num 3
        incrby num abc
        decrby num -9223372036854775808
        incr newnum
        decr newnum2
        set big 9223372036854775807
        incr big
        set small -9223372036854775808
        decr small
        decrby small 1
        incrby small -1
        set notnum abc
        incr notnum
        set spaced " 1"
        incr spaced
        set lead0 01
        incr lead0
        set f 10.5
        incrbyfloat f 0.1
        set f2 0.5
        incrbyfloat f2 1.123
        incrbyfloat f3 3.0e3
        incrbyfloat f3 -3000
        get f3
        incrbyfloat f3 1e4000
        incrbyfloat f3 abc
        incrbyfloat notnum 1
        incrbyfloat f3 inf
        incrbyfloat f3 nan
        set fl 5.0e3
        incrbyfloat fl 2.0e2
        incrbyfloat fl 0.0000000001
        incrbyfloat fl -5200
        set fi 1
        incrbyfloat fi 1
        object encoding fi
        incrbyfloat fe 1.1
        incrbyfloat fe 2.2
        incrbyfloat fe 1.1e-10
        incrbyfloat fh 123456789012345678
        incrbyfloat fh 0.5
        incrbyfloat fn -0.0
        incrbyfloat fn -1.5
        getex nokey
        set ge v
        getex ge ex 100
        ttl ge
        getex ge persist
        ttl ge
        getex ge px 0
        getex ge ex -1
        getex ge exat 1
        exists ge
        getex nokey ex -1
        set ge v
        getex ge persist ex 10
        getex ge ex 10 px 10
        getex ge keepttl
        getex ge nx
        getex ge pxat 99999999999999
        pexpiretime ge
        getex ge ex abc
        "#,
    );
}

#[test]
fn lcs_matches_redis() {
    diff(
        r#"
        mset key1 ohmytext key2 mynewtext
        lcs key1 key2
        lcs key1 key2 len
        lcs key1 key2 idx
        lcs key1 key2 idx minmatchlen 4
        lcs key1 key2 idx minmatchlen 4 withmatchlen
        lcs key1 key2 idx withmatchlen
        lcs key1 key2 len idx
        lcs key1 key2 idx minmatchlen abc
        lcs key1 key2 idx minmatchlen -5
        lcs key1 key2 minmatchlen
        lcs key1 key2 bogus
        lcs key1 nokey
        lcs nokey nokey2 idx
        set a1 ACCGGTCGAGTGCGCGGAAGCCGGCCGAA
        set a2 GTCGTTCGGAATGCCGTTGCTCTGTAAA
        lcs a1 a2
        lcs a1 a2 idx withmatchlen
        lcs a1 a2 idx minmatchlen 3
        set b1 aaaa
        set b2 aa
        lcs b1 b2 idx withmatchlen
        setrange l1 11999 x
        setrange l2 11999 y
        lcs l1 l2 len
        lcs l1 b1 len
        "#,
    );
}

#[test]
fn generic_commands_match_redis() {
    diff(
        r#"
        mset a 1 b 2 c 3
        del a b nokey
        del a
        exists a b c c nokey
        unlink c
        set s v
        type s
        type nokey
        rename s s2
        rename nokey x
        rename s2 s2
        renamenx s2 s2
        renamenx nokey x
        set t v
        rename s2 t
        get t
        set u v
        renamenx t u
        renamenx t w
        set e v ex 100
        rename e e2
        ttl e2
        move e2 1
        move e2 1
        move nokey 1
        move x 0
        move x 16
        move x -1
        move x abc
        select 1
        copy u u
        copy u u2
        copy u u2
        copy u u2 replace
        copy u u db 1
        copy u u db 16
        copy u u db abc
        copy u u db
        copy u u bogus
        copy nokey u3
        set ce v ex 100
        copy ce ce2
        ttl ce2
        set si 100
        copy si si2
        object refcount si
        object refcount si2
        object encoding si2
        expire ex1 100
        set ex1 v
        expire ex1 100
        ttl ex1
        expire ex1 100 nx
        expire ex1 200 xx
        ttl ex1
        expire ex1 100 gt
        expire ex1 300 gt
        ttl ex1
        expire ex1 400 lt
        expire ex1 100 lt
        ttl ex1
        expire ex1 100 nx xx
        expire ex1 100 nx gt
        expire ex1 100 gt lt
        expire ex1 100 bogus
        expire ex1 100 xx bogus
        expire ex1 abc
        expire ex1 9223372036854776
        expire ex1 -9223372036854776
        pexpire ex1 9223372036854775807
        persist ex1
        persist ex1
        persist nokey
        set ex2 v
        expire ex2 100 gt
        expire ex2 100 xx
        expire ex2 100 lt
        ttl ex2
        expire ex2 -1
        exists ex2
        set ex3 v
        pexpire ex3 0
        exists ex3
        set ex4 v
        expireat ex4 1
        exists ex4
        set ex5 v
        pexpireat ex5 99999999999999
        pexpiretime ex5
        expiretime ex5
        ttl nokey
        pttl nokey
        expiretime nokey
        set ex6 v
        ttl ex6
        pttl ex6
        expiretime ex6
        pexpiretime ex6
        expireat ex6 99999999999
        expiretime ex6
        pexpireat ex6 9223372036854775807
        expiretime ex6
        pexpiretime ex6
        pexpireat ex6 9223372036854775499
        expiretime ex6
        ≈ pttl ex5
        touch ex5 ex6 nokey
        object encoding ex5
        object encoding nokey
        object refcount ex5
        object freq ex5
        object freq nokey
        object idletime ex5
        object idletime nokey
        object help
        set emb aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        object encoding emb
        set rawv aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        object encoding rawv
        set i1 123
        object encoding i1
        set i2 -0
        object encoding i2
        set i3 12345678901234567890
        object encoding i3
        append emb x
        object encoding emb
        setrange sr 0 x
        object encoding sr
        incr counter
        object encoding counter
        object refcount counter
        set bigint 123456
        object refcount bigint
        incrbyfloat fl 1
        object encoding fl
        "#,
    );
}

#[test]
fn keyspace_wide_commands_match_redis() {
    diff(
        r#"
        dbsize
        randomkey
        keys *
        mset hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 a*b 6 ] 7 x 8
        ~ keys *
        ~ keys h?llo
        ~ keys h*llo
        ~ keys h[ae]llo
        ~ keys h[^e]llo
        ~ keys h[a-b]llo
        ~ keys a\*b
        ~ keys [\]]
        ~ keys [abc
        ~ keys [
        ~ keys [^
        ~ keys nomatch*
        dbsize
        flushdb bogus
        flushdb sync extra
        flushall bogus
        swapdb 0 1
        dbsize
        keys *
        swapdb 0 1
        dbsize
        swapdb 0 16
        swapdb -1 0
        swapdb a 0
        swapdb 0 b
        swapdb 0 0
        scan abc
        scan -1 count 0
        scan 0 count abc
        scan 0 count 0
        scan 0 match
        scan 0 bogus x
        scan " 0"
        scan 18446744073709551616
        flushdb async
        dbsize
        mset a 1 b 2
        flushall sync
        dbsize
        scan 0
        set only v
        randomkey
        scan 0
        scan 0 type string
        scan 0 type list
        scan 0 type nosuchtype
        scan 0 match o*
        scan 0 match x*
        "#,
    );
}

/// A deterministic stream of numbers for generated scripts (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

/// A random script of bitmap and HyperLogLog commands, with GETs that compare the bytes of
/// every value (an HLL's sparse opcodes, dense registers and cached cardinality included).
fn random_bits_script(seed: u64, lines: usize) -> String {
    let mut r = Rng(seed);
    let mut s = String::new();
    let unit = |r: &mut Rng| ["", " byte", " bit", " BIT"][r.below(4) as usize];
    for _ in 0..lines {
        let h = r.below(4);
        let b = r.below(4);
        let line = match r.below(14) {
            0..=2 => {
                let most = if r.below(8) == 0 { 600 } else { 30 };
                let n = 1 + r.below(most);
                let elems: Vec<String> = (0..n).map(|_| format!("e{}", r.below(20_000))).collect();
                format!("pfadd h{h} {}", elems.join(" "))
            }
            3 => format!("pfcount h{h}"),
            4 => format!("pfcount h{h} h{}", r.below(5)),
            5 => format!("pfmerge h{h} h{} h{}", r.below(5), r.below(5)),
            6 => format!("get h{h}"),
            7 => format!("setbit b{b} {} {}", r.below(400), r.below(2)),
            8 => {
                let signed = r.below(2) == 0;
                let bits = if signed {
                    1 + r.below(64)
                } else {
                    1 + r.below(63)
                };
                let ty = if signed { "i" } else { "u" };
                let ow = ["wrap", "sat", "fail"][r.below(3) as usize];
                let op = if r.below(2) == 0 { "incrby" } else { "set" };
                format!(
                    "bitfield b{b} overflow {ow} {op} {ty}{bits} {} {} get {ty}{bits} {}",
                    r.below(300),
                    r.range(-(1 << 40), 1 << 40),
                    r.below(300)
                )
            }
            9 => {
                let u = unit(&mut r);
                if u.is_empty() {
                    format!("bitcount b{b}")
                } else {
                    format!("bitcount b{b} {} {}{u}", r.range(-60, 60), r.range(-60, 60))
                }
            }
            10 => {
                let bit = r.below(2);
                match r.below(3) {
                    0 => format!("bitpos b{b} {bit}"),
                    1 => format!("bitpos b{b} {bit} {}", r.range(-60, 60)),
                    _ => format!(
                        "bitpos b{b} {bit} {} {}{}",
                        r.range(-60, 60),
                        r.range(-60, 60),
                        unit(&mut r)
                    ),
                }
            }
            11 => {
                let op = ["and", "or", "xor", "not"][r.below(4) as usize];
                if op == "not" {
                    format!("bitop not b{b} b{}", r.below(5))
                } else {
                    format!("bitop {op} b{b} b{} b{}", r.below(5), r.below(5))
                }
            }
            12 => format!("bitfield_ro b{b} get i{} {}", 1 + r.below(64), r.below(400)),
            _ => format!("get b{b}"),
        };
        s.push_str(&line);
        s.push('\n');
    }
    for k in 0..4 {
        s.push_str(&format!("get h{k}\nget b{k}\n"));
    }
    s
}

#[test]
fn bitmap_and_hyperloglog_random_scripts_match_redis() {
    for seed in [0x9e37_79b9_7f4a_7c15, 42, 0xdead_beef] {
        diff(&random_bits_script(seed, 400));
    }
}

/// A script of ZADDs of doubles from random bit patterns (normal and subnormal, in the text
/// that reads back exactly), ZINCRBY chains (computed sums), GEOSEARCHSTORE distances, and a
/// ZSCORE, ZRANGE WITHSCORES or ZSCAN of each: every double reply Redis prints through
/// fpconv's grisu2, whose digits are not always the shortest.
fn random_doubles_script(seed: u64, lines: usize) -> String {
    let mut r = Rng(seed);
    let mut s = String::new();
    for i in 0..lines {
        let bits = (r.below(1 << 32) << 32) | r.below(1 << 32);
        let x = match r.below(4) {
            0 => f64::from_bits(bits & 0x000F_FFFF_FFFF_FFFF),
            _ => f64::from_bits(bits),
        };
        if !x.is_finite() {
            continue;
        }
        let key = if x.abs() < 1e-300 { "zs" } else { "z" };
        s.push_str(&format!("ZADD {key} {x:e} m{i}\nZSCORE {key} m{i}\n"));
        if r.below(4) == 0 {
            let step = [0.1, 0.7, 1e-3, 3.3, 1e15 + 0.3][r.below(5) as usize];
            s.push_str(&format!(
                "ZINCRBY z {step:e} m{i}\nZINCRBY z {step:e} m{i}\n"
            ));
        }
    }
    s.push_str("% ZSCAN zs 0 COUNT 100000\nZRANGE z 0 -1 WITHSCORES\n");
    for i in 0..lines / 10 {
        let (lon, lat) = (
            r.range(-17_000, 17_000) as f64 / 100.0,
            r.range(-8_000, 8_000) as f64 / 100.0,
        );
        s.push_str(&format!("GEOADD g {lon} {lat} p{i}\n"));
    }
    s.push_str("GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 5000 km STOREDIST\nZRANGE d 0 -1 WITHSCORES\n");
    s
}

#[test]
fn double_replies_match_redis() {
    for seed in [7, 0x5eed_d0b1e, 0xfeed_f00d] {
        diff(&random_doubles_script(seed, 600));
    }
}
