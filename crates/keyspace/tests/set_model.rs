//! Property test: random set commands give the same results on the keyspace as on a plain
//! `BTreeMap<key, BTreeSet<member>>` model. The encoding limits are tiny, so every run goes
//! through intset, listpack and hashtable and the conversions between them; after each step
//! the encodings' invariants are checked (an intset holds only integers, ascending, within
//! its limit; a listpack stays within its limits).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use proptest::prelude::*;
use shrike_keyspace::reply::Reply;
use shrike_keyspace::Keyspace;

const T0: i64 = 1_700_000_000_000;

/// All in one hash tag: the multi-key commands may name any of them.
const KEYS: [&str; 4] = ["{s}a", "{s}b", "{s}c", "{s}d"];

#[derive(Debug, Clone)]
enum Cmd {
    SAdd(usize, Vec<Vec<u8>>),
    SRem(usize, Vec<Vec<u8>>),
    SIsMember(usize, Vec<u8>),
    SMIsMember(usize, Vec<Vec<u8>>),
    SCard(usize),
    SMembers(usize),
    SPop(usize),
    SPopCount(usize, i64),
    SRandMember(usize, i64),
    SMove(usize, usize, Vec<u8>),
    Store(&'static str, usize, Vec<usize>),
    Read(&'static str, Vec<usize>),
    SInterCard(Vec<usize>, i64),
    SScan(usize, i64),
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-8i64..8).prop_map(|n| n.to_string().into_bytes()),
        Just(b"70000".to_vec()),
        Just(b"-5000000000".to_vec()),
        prop::collection::vec(b'a'..b'e', 1..3),
        prop::collection::vec(b'x'..b'z', 4..6),
    ]
}

fn members() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(member(), 1..6)
}

fn key() -> impl Strategy<Value = usize> {
    0..KEYS.len()
}

fn keys() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(key(), 1..4)
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        4 => (key(), members()).prop_map(|(k, m)| Cmd::SAdd(k, m)),
        2 => (key(), members()).prop_map(|(k, m)| Cmd::SRem(k, m)),
        1 => (key(), member()).prop_map(|(k, m)| Cmd::SIsMember(k, m)),
        1 => (key(), members()).prop_map(|(k, m)| Cmd::SMIsMember(k, m)),
        1 => key().prop_map(Cmd::SCard),
        1 => key().prop_map(Cmd::SMembers),
        1 => key().prop_map(Cmd::SPop),
        1 => (key(), 0i64..12).prop_map(|(k, c)| Cmd::SPopCount(k, c)),
        1 => (key(), -6i64..12).prop_map(|(k, c)| Cmd::SRandMember(k, c)),
        1 => (key(), key(), member()).prop_map(|(a, b, m)| Cmd::SMove(a, b, m)),
        2 => (prop::sample::select(vec!["sinterstore", "sunionstore", "sdiffstore"]), key(), keys())
            .prop_map(|(c, d, ks)| Cmd::Store(c, d, ks)),
        1 => (prop::sample::select(vec!["sinter", "sunion", "sdiff"]), keys())
            .prop_map(|(c, ks)| Cmd::Read(c, ks)),
        1 => (keys(), 0i64..4).prop_map(|(ks, l)| Cmd::SInterCard(ks, l)),
        1 => (key(), 1i64..4).prop_map(|(k, c)| Cmd::SScan(k, c)),
    ]
}

type Model = BTreeMap<usize, BTreeSet<Vec<u8>>>;

fn items(r: Reply) -> Vec<Vec<u8>> {
    match r {
        Reply::Array(v) | Reply::Set(v) => v
            .into_iter()
            .map(|x| match x {
                Reply::Bulk(b) => b,
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn sorted(r: Reply) -> BTreeSet<Vec<u8>> {
    items(r).into_iter().collect()
}

fn run(c: &mut Client<'_>, args: &[&[u8]]) -> Reply {
    c.run(args)
}

fn result_of(m: &Model, op: &str, ks: &[usize]) -> BTreeSet<Vec<u8>> {
    let get = |k: &usize| m.get(k).cloned().unwrap_or_default();
    let mut acc = get(&ks[0]);
    for k in &ks[1..] {
        let s = get(k);
        acc = match op {
            "sinter" | "sinterstore" => acc.intersection(&s).cloned().collect(),
            "sunion" | "sunionstore" => acc.union(&s).cloned().collect(),
            _ => acc.difference(&s).cloned().collect(),
        };
    }
    acc
}

fn step(c: &mut Client<'_>, m: &mut Model, cmd: &Cmd) {
    let k = |i: usize| KEYS[i].as_bytes();
    match cmd {
        Cmd::SAdd(key, ms) => {
            let mut argv: Vec<&[u8]> = vec![b"sadd", k(*key)];
            argv.extend(ms.iter().map(Vec::as_slice));
            let s = m.entry(*key).or_default();
            let added = ms.iter().filter(|x| s.insert((*x).clone())).count();
            assert_eq!(run(c, &argv), int(added as i64));
        }
        Cmd::SRem(key, ms) => {
            let mut argv: Vec<&[u8]> = vec![b"srem", k(*key)];
            argv.extend(ms.iter().map(Vec::as_slice));
            let removed = m
                .get_mut(key)
                .map_or(0, |s| ms.iter().filter(|x| s.remove(*x)).count());
            assert_eq!(run(c, &argv), int(removed as i64));
        }
        Cmd::SIsMember(key, x) => {
            let is = m.get(key).is_some_and(|s| s.contains(x));
            assert_eq!(run(c, &[b"sismember", k(*key), x]), int(i64::from(is)));
        }
        Cmd::SMIsMember(key, ms) => {
            let mut argv: Vec<&[u8]> = vec![b"smismember", k(*key)];
            argv.extend(ms.iter().map(Vec::as_slice));
            let want: Vec<Reply> = ms
                .iter()
                .map(|x| int(i64::from(m.get(key).is_some_and(|s| s.contains(x)))))
                .collect();
            assert_eq!(run(c, &argv), Reply::Array(want));
        }
        Cmd::SCard(key) => {
            let n = m.get(key).map_or(0, BTreeSet::len);
            assert_eq!(run(c, &[b"scard", k(*key)]), int(n as i64));
        }
        Cmd::SMembers(key) => {
            let got = sorted(run(c, &[b"smembers", k(*key)]));
            assert_eq!(got, m.get(key).cloned().unwrap_or_default());
        }
        Cmd::SPop(key) => match run(c, &[b"spop", k(*key)]) {
            Reply::Null => assert!(m.get(key).is_none_or(BTreeSet::is_empty)),
            Reply::Bulk(x) => assert!(m.get_mut(key).is_some_and(|s| s.remove(&x))),
            other => panic!("spop: {other:?}"),
        },
        Cmd::SPopCount(key, n) => {
            let got = items(run(c, &[b"spop", k(*key), n.to_string().as_bytes()]));
            let s = m.entry(*key).or_default();
            assert_eq!(got.len(), (*n as usize).min(s.len()));
            for x in &got {
                assert!(s.remove(x), "popped a non-member or twice");
            }
        }
        Cmd::SRandMember(key, n) => {
            let got = items(run(c, &[b"srandmember", k(*key), n.to_string().as_bytes()]));
            let s = m.get(key).cloned().unwrap_or_default();
            let want = if s.is_empty() {
                0
            } else if *n < 0 {
                n.unsigned_abs() as usize
            } else {
                (*n as usize).min(s.len())
            };
            assert_eq!(got.len(), want);
            assert!(got.iter().all(|x| s.contains(x)));
            if *n > 0 {
                assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), got.len());
            }
        }
        Cmd::SMove(a, b, x) => {
            let moved = m.get(a).is_some_and(|s| s.contains(x));
            if moved && a != b {
                m.get_mut(a).unwrap().remove(x);
                m.entry(*b).or_default().insert(x.clone());
            }
            assert_eq!(run(c, &[b"smove", k(*a), k(*b), x]), int(i64::from(moved)));
        }
        Cmd::Store(op, dst, ks) => {
            let mut argv: Vec<&[u8]> = vec![op.as_bytes(), k(*dst)];
            argv.extend(ks.iter().map(|i| k(*i)));
            let r = result_of(m, op, ks);
            assert_eq!(run(c, &argv), int(r.len() as i64));
            m.insert(*dst, r);
        }
        Cmd::Read(op, ks) => {
            let mut argv: Vec<&[u8]> = vec![op.as_bytes()];
            argv.extend(ks.iter().map(|i| k(*i)));
            assert_eq!(sorted(run(c, &argv)), result_of(m, op, ks));
        }
        Cmd::SInterCard(ks, limit) => {
            let n = ks.len().to_string();
            let l = limit.to_string();
            let mut argv: Vec<&[u8]> = vec![b"sintercard", n.as_bytes()];
            argv.extend(ks.iter().map(|i| k(*i)));
            argv.extend([&b"limit"[..], l.as_bytes()]);
            let mut want = result_of(m, "sinter", ks).len();
            if *limit > 0 {
                want = want.min(*limit as usize);
            }
            assert_eq!(run(c, &argv), int(want as i64));
        }
        Cmd::SScan(key, count) => {
            let mut seen = BTreeSet::new();
            let mut cursor = b"0".to_vec();
            for _ in 0..1000 {
                let r = run(
                    c,
                    &[
                        b"sscan",
                        k(*key),
                        &cursor,
                        b"count",
                        count.to_string().as_bytes(),
                    ],
                );
                let Reply::Array(mut parts) = r else {
                    panic!("sscan: {r:?}")
                };
                let found = parts.pop().unwrap();
                let Some(Reply::Bulk(next)) = parts.pop() else {
                    panic!("sscan cursor")
                };
                seen.extend(items(found));
                cursor = next;
                if cursor == b"0" {
                    break;
                }
            }
            assert_eq!(cursor, b"0".to_vec(), "sscan ends");
            assert_eq!(seen, m.get(key).cloned().unwrap_or_default());
        }
    }
    m.retain(|_, s| !s.is_empty());
}

/// The encoding of every key obeys its limits (intset <= 4 integers ascending, listpack
/// <= 3 members of <= 3 bytes), and empty sets do not exist.
fn check_encodings(c: &mut Client<'_>, m: &Model) {
    for (i, name) in KEYS.iter().enumerate() {
        let exists = run(c, &[b"exists", name.as_bytes()]);
        assert_eq!(exists, int(i64::from(m.contains_key(&i))), "{name} exists");
        let Some(s) = m.get(&i) else { continue };
        let enc = run(c, &[b"object", b"encoding", name.as_bytes()]);
        let list = items(run(c, &[b"smembers", name.as_bytes()]));
        match enc {
            Reply::Bulk(e) if e == b"intset" => {
                assert!(s.len() <= 4, "intset too big");
                let nums: Vec<i64> = list
                    .iter()
                    .map(|x| std::str::from_utf8(x).unwrap().parse().unwrap())
                    .collect();
                assert!(nums.windows(2).all(|w| w[0] < w[1]), "intset order");
            }
            Reply::Bulk(e) if e == b"listpack" => {
                assert!(s.len() <= 3, "listpack too big");
                assert!(
                    list.iter().all(|x| x.len() <= 3),
                    "listpack member too long"
                );
            }
            Reply::Bulk(e) if e == b"hashtable" => {}
            other => panic!("encoding {other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sets_behave_like_a_btreeset_model(cmds in prop::collection::vec(cmd(), 1..40)) {
        let ks: Keyspace = keyspace();
        ks.set_encoding_limit("set-max-intset-entries", 4);
        ks.set_encoding_limit("set-max-listpack-entries", 3);
        ks.set_encoding_limit("set-max-listpack-value", 3);
        let mut c = Client::new(&ks, T0);
        let mut m = Model::new();
        for cmd in &cmds {
            step(&mut c, &mut m, cmd);
            check_encodings(&mut c, &m);
        }
    }
}

/// SRANDMEMBER and SPOP draw uniformly in every encoding: over many draws each member's
/// count stays near the mean (a chi-square-like bound far above chance failure).
#[test]
fn random_draws_are_uniform_in_every_encoding() {
    let ks = keyspace();
    let mut c = Client::new(&ks, T0);
    let cases: [(&str, Vec<String>); 3] = [
        ("ints", (0..100).map(|i| (i * 3).to_string()).collect()),
        ("pack", (0..100).map(|i| format!("m{i}")).collect()),
        ("table", (0..300).map(|i| format!("member{i}")).collect()),
    ];
    for (key, members) in &cases {
        let mut argv: Vec<&[u8]> = vec![b"sadd", key.as_bytes()];
        argv.extend(members.iter().map(String::as_bytes));
        c.run(&argv);
        let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        let rounds = 200;
        for _ in 0..rounds {
            let got = items(c.run(&[b"srandmember", key.as_bytes(), b"-300"]));
            for m in got {
                *counts.entry(m).or_default() += 1;
            }
        }
        let mean = (rounds * 300) as f64 / members.len() as f64;
        assert_eq!(counts.len(), members.len(), "{key}: every member drawn");
        for (m, n) in &counts {
            let dev = (*n as f64 - mean).abs() / mean.sqrt();
            assert!(dev < 6.0, "{key}: {m:?} drawn {n} times, mean {mean}");
        }
        // SPOP of one member: over many refills, every member comes out.
        let mut popped = BTreeSet::new();
        for _ in 0..(members.len() * 20) {
            if let Reply::Bulk(m) = c.run(&[b"spop", key.as_bytes()]) {
                c.run(&[b"sadd", key.as_bytes(), &m]);
                popped.insert(m);
            }
        }
        assert_eq!(
            popped.len(),
            members.len(),
            "{key}: SPOP reaches every member"
        );
        let enc = c.run(&[b"object", b"encoding", key.as_bytes()]);
        let want: &[u8] = match *key {
            "ints" => b"intset",
            "pack" => b"listpack",
            _ => b"hashtable",
        };
        assert_eq!(enc, Reply::Bulk(want.to_vec()));
    }
}
