//! Property test: random sorted set commands give the same replies on the keyspace as on a
//! plain `BTreeMap` model (member -> score), with tiny listpack limits so that both
//! encodings and the conversions between them are exercised; OBJECT ENCODING must follow
//! Redis 7.2's conversion points too.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use shrike_keyspace::reply::Reply;

const ENTRIES: usize = 4;
const VALUE: usize = 6;

#[derive(Debug, Clone)]
enum Cmd {
    Add(Vec<(i32, String)>),
    Incr(i32, String),
    Rem(Vec<String>),
    RemRank(i64, i64),
    RemScore(i32, i32),
    Pop(bool, usize),
    RangeScore(i32, i32, bool, i64, i64),
    Rank(String, bool),
    Store(i64, i64),
}

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-h]".prop_map(String::from),
        1 => "[a-c]{7,9}".prop_map(String::from),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        4 => prop::collection::vec((-6i32..6, member()), 1..7).prop_map(Cmd::Add),
        1 => (-3i32..3, member()).prop_map(|(s, m)| Cmd::Incr(s, m)),
        2 => prop::collection::vec(member(), 1..3).prop_map(Cmd::Rem),
        1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Cmd::RemRank(a, b)),
        1 => (-6i32..6, -6i32..6).prop_map(|(a, b)| Cmd::RemScore(a, b)),
        1 => (any::<bool>(), 0usize..4).prop_map(|(m, c)| Cmd::Pop(m, c)),
        2 => (-6i32..6, -6i32..6, any::<bool>(), 0i64..4, -1i64..4)
            .prop_map(|(a, b, r, o, l)| Cmd::RangeScore(a, b, r, o, l)),
        2 => (member(), any::<bool>()).prop_map(|(m, r)| Cmd::Rank(m, r)),
        1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Cmd::Store(a, b)),
    ]
}

/// The model: members and scores, plus whether Redis would hold it as a skiplist now.
#[derive(Default)]
struct Model {
    m: BTreeMap<String, f64>,
    big: bool,
}

impl Model {
    fn sorted(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = self.m.iter().map(|(k, s)| (k.clone(), *s)).collect();
        v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// `zsetAdd`'s conversion before a new member goes in.
    fn add(&mut self, m: &str, s: f64) -> bool {
        let new = !self.m.contains_key(m);
        if new && (self.m.len() + 1 > ENTRIES || m.len() > VALUE) {
            self.big = true;
        }
        self.m.insert(m.to_string(), s);
        new
    }

    fn settle(&mut self) {
        if self.m.is_empty() {
            self.big = false;
        }
    }
}

/// Members with their scores, as a WITHSCORES reply is captured (an array of pairs).
fn scored(v: &[(String, f64)]) -> Reply {
    Reply::Pairs(
        v.iter()
            .map(|(m, s)| (Reply::Bulk(m.clone().into_bytes()), Reply::Double(*s)))
            .collect(),
    )
}

/// A reply with an empty array read as no pairs: a missing key answers `*0` either way.
fn pairs(r: Reply) -> Reply {
    match r {
        Reply::Array(v) if v.is_empty() => Reply::Pairs(Vec::new()),
        r => r,
    }
}

fn ranks(a: i64, b: i64, len: usize) -> Option<(usize, usize)> {
    let l = len as i64;
    let mut a = if a < 0 { l + a } else { a };
    let mut b = if b < 0 { l + b } else { b };
    if a < 0 {
        a = 0;
    }
    if a > b || a >= l {
        return None;
    }
    if b >= l {
        b = l - 1;
    }
    Some((a as usize, b as usize + 1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn sorted_sets_match_a_btreemap(cmds in prop::collection::vec(cmd(), 1..40)) {
        let ks = keyspace();
        ks.set_encoding_limit("zset-max-listpack-entries", ENTRIES as i64);
        ks.set_encoding_limit("zset-max-listpack-value", VALUE as i64);
        let mut c = Client::new(&ks, 1_700_000_000_000);
        let mut md = Model::default();
        for cmd in &cmds {
            match cmd {
                Cmd::Add(pairs) => {
                    let line: Vec<String> = pairs.iter().map(|(s, m)| format!("{s} {m}")).collect();
                    if md.m.is_empty() {
                        md.big = pairs.len() > ENTRIES || pairs[0].1.len() > VALUE;
                    } else if pairs.len() > ENTRIES {
                        md.big = true;
                    }
                    let mut added = 0;
                    for (s, m) in pairs {
                        if md.add(m, f64::from(*s)) {
                            added += 1;
                        }
                    }
                    prop_assert_eq!(c.cmd(&format!("zadd z {}", line.join(" "))), int(added));
                }
                Cmd::Incr(by, m) => {
                    if md.m.is_empty() {
                        md.big = m.len() > VALUE;
                    }
                    let s = md.m.get(m.as_str()).copied().unwrap_or(0.0) + f64::from(*by);
                    md.add(m, s);
                    prop_assert_eq!(c.cmd(&format!("zincrby z {by} {m}")), Reply::Double(s));
                }
                Cmd::Rem(ms) => {
                    let mut n = 0;
                    for m in ms {
                        if md.m.remove(m.as_str()).is_some() {
                            n += 1;
                        }
                    }
                    prop_assert_eq!(c.cmd(&format!("zrem z {}", ms.join(" "))), int(n));
                }
                Cmd::RemRank(a, b) => {
                    let v = md.sorted();
                    let gone = ranks(*a, *b, v.len()).map_or(&v[..0], |(x, y)| &v[x..y]);
                    for (m, _) in gone {
                        md.m.remove(m);
                    }
                    prop_assert_eq!(c.cmd(&format!("zremrangebyrank z {a} {b}")), int(gone.len() as i64));
                }
                Cmd::RemScore(a, b) => {
                    let gone: Vec<String> = md.m.iter()
                        .filter(|(_, s)| **s >= f64::from(*a) && **s < f64::from(*b))
                        .map(|(m, _)| m.clone()).collect();
                    for m in &gone {
                        md.m.remove(m);
                    }
                    prop_assert_eq!(c.cmd(&format!("zremrangebyscore z {a} ({b}")), int(gone.len() as i64));
                }
                Cmd::Pop(max, count) => {
                    let mut v = md.sorted();
                    if *max {
                        v.reverse();
                    }
                    let taken: Vec<(String, f64)> = v.into_iter().take(*count).collect();
                    for (m, _) in &taken {
                        md.m.remove(m);
                    }
                    let name = if *max { "zpopmax" } else { "zpopmin" };
                    prop_assert_eq!(pairs(c.cmd(&format!("{name} z {count}"))), scored(&taken));
                }
                Cmd::RangeScore(a, b, rev, off, lim) => {
                    let mut v: Vec<(String, f64)> = md.sorted().into_iter()
                        .filter(|(_, s)| *s > f64::from(*a) && *s <= f64::from(*b)).collect();
                    if *rev {
                        v.reverse();
                    }
                    let v: Vec<(String, f64)> = v.into_iter().skip(*off as usize)
                        .take(if *lim < 0 { usize::MAX } else { *lim as usize }).collect();
                    let line = if *rev {
                        format!("zrevrangebyscore z {b} ({a} withscores limit {off} {lim}")
                    } else {
                        format!("zrange z ({a} {b} byscore limit {off} {lim} withscores")
                    };
                    prop_assert_eq!(pairs(c.cmd(&line)), scored(&v));
                }
                Cmd::Rank(m, rev) => {
                    let mut v = md.sorted();
                    if *rev {
                        v.reverse();
                    }
                    let want = v.iter().position(|(x, _)| x == m)
                        .map_or(Reply::NullArray, |r| Reply::Array(vec![int(r as i64), Reply::Double(v[r].1)]));
                    let name = if *rev { "zrevrank" } else { "zrank" };
                    prop_assert_eq!(c.cmd(&format!("{name} z {m} withscore")), want);
                }
                Cmd::Store(a, b) => {
                    let v = md.sorted();
                    let part = ranks(*a, *b, v.len()).map_or(&v[..0], |(x, y)| &v[x..y]);
                    prop_assert_eq!(c.cmd(&format!("zrangestore dst z {a} {b}")), int(part.len() as i64));
                    prop_assert_eq!(pairs(c.cmd("zrange dst 0 -1 withscores")), scored(part));
                    if !part.is_empty() {
                        let small = part.len() <= ENTRIES && part.iter().all(|(m, _)| m.len() <= VALUE);
                        let enc = if small { "listpack" } else { "skiplist" };
                        prop_assert_eq!(c.cmd("object encoding dst"), bulk(enc));
                    }
                }
            }
            md.settle();
            prop_assert_eq!(pairs(c.cmd("zrange z 0 -1 withscores")), scored(&md.sorted()));
            prop_assert_eq!(c.cmd("zcard z"), int(md.m.len() as i64));
            if !md.m.is_empty() {
                let enc = if md.big { "skiplist" } else { "listpack" };
                prop_assert_eq!(c.cmd("object encoding z"), bulk(enc), "after {:?}", cmd);
            } else {
                prop_assert_eq!(c.cmd("exists z"), int(0));
            }
        }
    }
}

/// ZRANDMEMBER with a count: distinct members of the set for a positive count (each of
/// Redis's sampling cases), any members for a negative one.
#[test]
fn zrandmember_samples_members() {
    let ks = keyspace();
    let mut c = Client::new(&ks, 1_700_000_000_000);
    let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let line: Vec<String> = members
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{i} {m}"))
        .collect();
    c.cmd(&format!("zadd z {}", line.join(" ")));
    for count in [1i64, 5, 99, 100, 101, 250, 299, 300, 500, -7, -400] {
        let Reply::Pairs(items) = c.cmd(&format!("zrandmember z {count} withscores")) else {
            panic!("not pairs");
        };
        let pairs: Vec<(Vec<u8>, f64)> = items
            .iter()
            .map(|p| match p {
                (Reply::Bulk(m), Reply::Double(s)) => (m.clone(), *s),
                other => panic!("{other:?}"),
            })
            .collect();
        let want = if count < 0 {
            count.unsigned_abs() as usize
        } else {
            (count as usize).min(300)
        };
        assert_eq!(pairs.len(), want, "count {count}");
        for (m, s) in &pairs {
            let i: usize = std::str::from_utf8(&m[1..]).unwrap().parse().unwrap();
            assert_eq!(*s, i as f64);
        }
        if count > 0 {
            let distinct: std::collections::BTreeSet<&Vec<u8>> =
                pairs.iter().map(|p| &p.0).collect();
            assert_eq!(distinct.len(), pairs.len(), "count {count}");
        }
    }
}
