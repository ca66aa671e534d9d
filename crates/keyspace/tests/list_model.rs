//! Property test: random list commands give the same replies on the keyspace as on a plain
//! `BTreeMap<key, VecDeque<element>>` model, under several `list-max-listpack-size` values
//! small enough that lists keep crossing between listpack and quicklist and quicklists keep
//! splitting, merging and dropping nodes. After every command the whole of each list is
//! compared too, so a wrong node boundary shows as a wrong element.

mod common;

use std::collections::{BTreeMap, VecDeque};

use common::*;
use proptest::prelude::*;
use shrike_keyspace::reply::Reply;

const KEYS: [&str; 3] = ["a", "b", "{a}c"];

#[derive(Debug, Clone)]
enum Cmd {
    Push(usize, bool, Vec<Vec<u8>>),
    Pop(usize, bool, Option<usize>),
    Index(usize, i64),
    Set(usize, i64, Vec<u8>),
    Insert(usize, bool, Vec<u8>, Vec<u8>),
    Rem(usize, i64, Vec<u8>),
    Trim(usize, i64, i64),
    Range(usize, i64, i64),
    Pos(usize, Vec<u8>, i64, Option<usize>, usize),
    Move(usize, usize, bool, bool),
}

fn elem() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec![&b"a"[..], b"b", b"c", b"1", b"200"]).prop_map(<[u8]>::to_vec),
        1 => (0usize..300).prop_map(|n| vec![b'x'; n]),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn key() -> impl Strategy<Value = usize> {
    0..KEYS.len()
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        4 => (key(), any::<bool>(), prop::collection::vec(elem(), 1..6))
            .prop_map(|(k, l, v)| Cmd::Push(k, l, v)),
        2 => (key(), any::<bool>(), prop::option::of(0usize..6))
            .prop_map(|(k, l, c)| Cmd::Pop(k, l, c)),
        1 => (key(), -12i64..12).prop_map(|(k, i)| Cmd::Index(k, i)),
        1 => (key(), -12i64..12, elem()).prop_map(|(k, i, v)| Cmd::Set(k, i, v)),
        2 => (key(), any::<bool>(), elem(), elem())
            .prop_map(|(k, a, p, v)| Cmd::Insert(k, a, p, v)),
        1 => (key(), -3i64..3, elem()).prop_map(|(k, n, v)| Cmd::Rem(k, n, v)),
        1 => (key(), -15i64..15, -15i64..15).prop_map(|(k, s, e)| Cmd::Trim(k, s, e)),
        1 => (key(), -15i64..15, -15i64..15).prop_map(|(k, s, e)| Cmd::Range(k, s, e)),
        1 => (key(), elem(), prop_oneof![-3i64..0, 1i64..4], prop::option::of(0usize..3), 0usize..8)
            .prop_map(|(k, e, r, c, m)| Cmd::Pos(k, e, r, c, m)),
        1 => (key(), key(), any::<bool>(), any::<bool>())
            .prop_map(|(a, b, l, r)| Cmd::Move(a, b, l, r)),
    ]
}

fn side(left: bool) -> &'static str {
    if left {
        "left"
    } else {
        "right"
    }
}

/// `start..=end` of a list of `len` as Redis clamps it, or None when empty.
fn clamp(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

#[derive(Default)]
struct Model {
    lists: BTreeMap<usize, VecDeque<Vec<u8>>>,
}

impl Model {
    fn resolve(l: &VecDeque<Vec<u8>>, i: i64) -> Option<usize> {
        let n = l.len() as i64;
        let i = if i < 0 { n + i } else { i };
        (0..n).contains(&i).then_some(i as usize)
    }

    fn tidy(&mut self, k: usize) {
        if self.lists.get(&k).is_some_and(VecDeque::is_empty) {
            self.lists.remove(&k);
        }
    }

    fn apply(&mut self, c: &Cmd) -> Reply {
        let r = self.reply(c);
        for k in 0..KEYS.len() {
            self.tidy(k);
        }
        r
    }

    fn reply(&mut self, c: &Cmd) -> Reply {
        let bulk = |v: &Vec<u8>| Reply::Bulk(v.clone());
        match c {
            Cmd::Push(k, left, vs) => {
                let l = self.lists.entry(*k).or_default();
                for v in vs {
                    if *left {
                        l.push_front(v.clone());
                    } else {
                        l.push_back(v.clone());
                    }
                }
                int(l.len() as i64)
            }
            Cmd::Pop(k, left, count) => {
                let Some(l) = self.lists.get_mut(k) else {
                    return if count.is_some() {
                        Reply::NullArray
                    } else {
                        null()
                    };
                };
                let mut one = || if *left { l.pop_front() } else { l.pop_back() };
                match count {
                    None => one().map_or(null(), |v| bulk(&v)),
                    Some(n) => arr((0..*n).map_while(|_| one()).map(|v| bulk(&v)).collect()),
                }
            }
            Cmd::Index(k, i) => match self.lists.get(k) {
                Some(l) => Self::resolve(l, *i).map_or(null(), |i| bulk(&l[i])),
                None => null(),
            },
            Cmd::Set(k, i, v) => match self.lists.get_mut(k) {
                None => err("ERR no such key"),
                Some(l) => match Self::resolve(l, *i) {
                    Some(i) => {
                        l[i] = v.clone();
                        ok()
                    }
                    None => err("ERR index out of range"),
                },
            },
            Cmd::Insert(k, after, pivot, v) => match self.lists.get_mut(k) {
                None => int(0),
                Some(l) => match l.iter().position(|x| x == pivot) {
                    Some(i) => {
                        l.insert(i + usize::from(*after), v.clone());
                        int(l.len() as i64)
                    }
                    None => int(-1),
                },
            },
            Cmd::Rem(k, n, v) => {
                let Some(l) = self.lists.get_mut(k) else {
                    return int(0);
                };
                let limit = n.unsigned_abs() as usize;
                let mut idx: Vec<usize> = (0..l.len()).filter(|&i| l[i] == *v).collect();
                if *n < 0 {
                    idx.reverse();
                }
                if limit > 0 {
                    idx.truncate(limit);
                }
                idx.sort_unstable();
                for i in idx.iter().rev() {
                    l.remove(*i);
                }
                int(idx.len() as i64)
            }
            Cmd::Trim(k, s, e) => {
                if let Some(l) = self.lists.get_mut(k) {
                    match clamp(l.len(), *s, *e) {
                        Some((s, e)) => {
                            l.truncate(e + 1);
                            l.drain(..s);
                        }
                        None => l.clear(),
                    }
                }
                ok()
            }
            Cmd::Range(k, s, e) => match self.lists.get(k) {
                Some(l) => match clamp(l.len(), *s, *e) {
                    Some((s, e)) => arr(l.range(s..=e).map(bulk).collect()),
                    None => arr(vec![]),
                },
                None => arr(vec![]),
            },
            Cmd::Pos(k, v, rank, count, maxlen) => {
                let Some(l) = self.lists.get(k) else {
                    return if count.is_some() { arr(vec![]) } else { null() };
                };
                let n = l.len();
                let scan = if *maxlen == 0 { n } else { (*maxlen).min(n) };
                let order: Vec<usize> = if *rank < 0 {
                    (0..n).rev().take(scan).collect()
                } else {
                    (0..n).take(scan).collect()
                };
                let hits: Vec<usize> = order
                    .into_iter()
                    .filter(|&i| l[i] == *v)
                    .skip(rank.unsigned_abs() as usize - 1)
                    .collect();
                match count {
                    None => hits.first().map_or(null(), |&i| int(i as i64)),
                    Some(c) => {
                        let take = if *c == 0 { hits.len() } else { *c };
                        arr(hits.iter().take(take).map(|&i| int(i as i64)).collect())
                    }
                }
            }
            Cmd::Move(a, b, from_left, to_left) => {
                let Some(src) = self.lists.get_mut(a) else {
                    return null();
                };
                let v = if *from_left {
                    src.pop_front()
                } else {
                    src.pop_back()
                };
                let Some(v) = v else { return null() };
                let dst = self.lists.entry(*b).or_default();
                if *to_left {
                    dst.push_front(v.clone());
                } else {
                    dst.push_back(v.clone());
                }
                bulk(&v)
            }
        }
    }
}

fn argv(c: &Cmd) -> Vec<Vec<u8>> {
    let k = |i: &usize| KEYS[*i].as_bytes().to_vec();
    let s = |x: &str| x.as_bytes().to_vec();
    let n = |x: i64| x.to_string().into_bytes();
    match c {
        Cmd::Push(key, left, vs) => {
            let mut a = vec![s(if *left { "lpush" } else { "rpush" }), k(key)];
            a.extend(vs.iter().cloned());
            a
        }
        Cmd::Pop(key, left, count) => {
            let mut a = vec![s(if *left { "lpop" } else { "rpop" }), k(key)];
            a.extend(count.map(|c| n(c as i64)));
            a
        }
        Cmd::Index(key, i) => vec![s("lindex"), k(key), n(*i)],
        Cmd::Set(key, i, v) => vec![s("lset"), k(key), n(*i), v.clone()],
        Cmd::Insert(key, after, p, v) => vec![
            s("linsert"),
            k(key),
            s(if *after { "after" } else { "before" }),
            p.clone(),
            v.clone(),
        ],
        Cmd::Rem(key, c, v) => vec![s("lrem"), k(key), n(*c), v.clone()],
        Cmd::Trim(key, a, b) => vec![s("ltrim"), k(key), n(*a), n(*b)],
        Cmd::Range(key, a, b) => vec![s("lrange"), k(key), n(*a), n(*b)],
        Cmd::Pos(key, v, rank, count, maxlen) => {
            let mut a = vec![s("lpos"), k(key), v.clone(), s("rank"), n(*rank)];
            if let Some(c) = count {
                a.extend([s("count"), n(*c as i64)]);
            }
            a.extend([s("maxlen"), n(*maxlen as i64)]);
            a
        }
        Cmd::Move(a, b, l, r) => vec![s("lmove"), k(a), k(b), s(side(*l)), s(side(*r))],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn lists_behave_like_deques(
        fill in prop::sample::select(vec![-2i64, -1, 0, 1, 2, 3, 5]),
        cmds in prop::collection::vec(cmd(), 1..80),
    ) {
        let ks = keyspace();
        // -1 is 4 KiB nodes: the 300-byte elements cross it within a few pushes.
        prop_assert!(ks.set_encoding_limit("list-max-listpack-size", fill));
        let mut c = Client::new(&ks, 1_700_000_000_000);
        let mut m = Model::default();
        for cmd in &cmds {
            let a = argv(cmd);
            let a: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
            let got = c.run(&a);
            let want = m.apply(cmd);
            prop_assert_eq!(&got, &want, "{:?}", cmd);
            for (i, key) in KEYS.iter().enumerate() {
                let whole = c.run(&[b"lrange", key.as_bytes(), b"0", b"-1"]);
                let want = m.lists.get(&i).map_or(arr(vec![]), |l| {
                    arr(l.iter().map(|v| Reply::Bulk(v.clone())).collect())
                });
                prop_assert_eq!(whole, want, "{} after {:?}", key, cmd);
                let rev: Vec<Reply> = (0..m.lists.get(&i).map_or(0, VecDeque::len))
                    .map(|j| c.run(&[b"lindex", key.as_bytes(), (-(j as i64) - 1).to_string().as_bytes()]))
                    .collect();
                let want_rev: Vec<Reply> = m.lists.get(&i).map_or(vec![], |l| {
                    l.iter().rev().map(|v| Reply::Bulk(v.clone())).collect()
                });
                prop_assert_eq!(rev, want_rev, "{} reversed after {:?}", key, cmd);
            }
        }
    }
}
