//! Property test: random command sequences give the same replies on the keyspace as on a
//! plain `BTreeMap` model of Redis strings with TTLs and a clock.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use shrike_keyspace::reply::Reply;
use shrike_keyspace::{Config, Effects, Keyspace};

const T0: i64 = 1_700_000_000_000;

#[derive(Debug, Clone)]
enum Cmd {
    Set(usize, Vec<u8>),
    SetPx(usize, Vec<u8>, i64),
    Get(usize),
    Del(Vec<usize>),
    Append(usize, Vec<u8>),
    Incr(usize),
    IncrBy(usize, i64),
    Exists(usize),
    Strlen(usize),
    GetDel(usize),
    MSet(Vec<(usize, Vec<u8>)>),
    Rename(usize, usize),
    Copy(usize, usize),
    GetRange(usize, i64, i64),
    SetRange(usize, usize, Vec<u8>),
    PExpire(usize, i64),
    Persist(usize),
    PTtl(usize),
    Keys,
    Advance(i64),
    ActiveExpire,
}

/// Keys 3 and 4 share a hash tag, so some multi-key commands stay in one segment.
const KEYS: [&[u8]; 5] = [b"a", b"b", b"c", b"{t}d", b"{t}e"];

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..6),
        (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
        Just(b"9223372036854775807".to_vec()),
    ]
}

fn key() -> impl Strategy<Value = usize> {
    0..KEYS.len()
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        (key(), value()).prop_map(|(k, v)| Cmd::Set(k, v)),
        (key(), value(), 1i64..50).prop_map(|(k, v, t)| Cmd::SetPx(k, v, t)),
        key().prop_map(Cmd::Get),
        prop::collection::vec(key(), 1..4).prop_map(Cmd::Del),
        (key(), value()).prop_map(|(k, v)| Cmd::Append(k, v)),
        key().prop_map(Cmd::Incr),
        (key(), prop_oneof![-5i64..5, Just(i64::MAX), Just(i64::MIN)])
            .prop_map(|(k, n)| Cmd::IncrBy(k, n)),
        key().prop_map(Cmd::Exists),
        key().prop_map(Cmd::Strlen),
        key().prop_map(Cmd::GetDel),
        prop::collection::vec((key(), value()), 1..4).prop_map(Cmd::MSet),
        (key(), key()).prop_map(|(a, b)| Cmd::Rename(a, b)),
        (key(), key()).prop_map(|(a, b)| Cmd::Copy(a, b)),
        (key(), -8i64..8, -8i64..8).prop_map(|(k, s, e)| Cmd::GetRange(k, s, e)),
        (key(), 0usize..10, value()).prop_map(|(k, o, v)| Cmd::SetRange(k, o, v)),
        (key(), -5i64..60).prop_map(|(k, t)| Cmd::PExpire(k, t)),
        key().prop_map(Cmd::Persist),
        key().prop_map(Cmd::PTtl),
        Just(Cmd::Keys),
        (0i64..40).prop_map(Cmd::Advance),
        Just(Cmd::ActiveExpire),
    ]
}

/// The model: key → (value, expiry), and the clock.
#[derive(Default)]
struct Model {
    map: BTreeMap<Vec<u8>, (Vec<u8>, Option<i64>)>,
    now: i64,
}

impl Model {
    /// Drop `k` if its TTL has passed (what every access does).
    fn live(&mut self, k: &[u8]) -> Option<&mut (Vec<u8>, Option<i64>)> {
        let now = self.now;
        if let Some((_, Some(at))) = self.map.get(k) {
            if now > *at {
                self.map.remove(k);
            }
        }
        self.map.get_mut(k)
    }

    fn apply(&mut self, c: &Cmd) -> Reply {
        let k = |i: &usize| KEYS[*i].to_vec();
        match c {
            Cmd::Set(i, v) => {
                self.map.insert(k(i), (v.clone(), None));
                ok()
            }
            Cmd::SetPx(i, v, t) => {
                self.map.insert(k(i), (v.clone(), Some(self.now + t)));
                ok()
            }
            Cmd::Get(i) => self
                .live(&k(i))
                .map_or(null(), |(v, _)| Reply::Bulk(v.clone())),
            Cmd::Del(is) => {
                let mut n = 0;
                for i in is {
                    if self.live(&k(i)).is_some() {
                        self.map.remove(&k(i));
                        n += 1;
                    }
                }
                int(n)
            }
            Cmd::Append(i, v) => match self.live(&k(i)) {
                Some((cur, _)) => {
                    cur.extend_from_slice(v);
                    int(cur.len() as i64)
                }
                None => {
                    self.map.insert(k(i), (v.clone(), None));
                    int(v.len() as i64)
                }
            },
            Cmd::Incr(i) => self.incr_by(&k(i), 1),
            Cmd::IncrBy(i, n) => self.incr_by(&k(i), *n),
            Cmd::Exists(i) => int(i64::from(self.live(&k(i)).is_some())),
            Cmd::Strlen(i) => int(self.live(&k(i)).map_or(0, |(v, _)| v.len() as i64)),
            Cmd::GetDel(i) => match self.live(&k(i)).map(|(v, _)| v.clone()) {
                Some(v) => {
                    self.map.remove(&k(i));
                    Reply::Bulk(v)
                }
                None => null(),
            },
            Cmd::MSet(kvs) => {
                for (i, v) in kvs {
                    self.map.insert(k(i), (v.clone(), None));
                }
                ok()
            }
            Cmd::Rename(a, b) => {
                let Some(e) = self.live(&k(a)).cloned() else {
                    return err("ERR no such key");
                };
                self.map.remove(&k(a));
                self.map.insert(k(b), e);
                ok()
            }
            Cmd::Copy(a, b) => {
                if a == b {
                    return err("ERR source and destination objects are the same");
                }
                let Some(e) = self.live(&k(a)).cloned() else {
                    return int(0);
                };
                if self.live(&k(b)).is_some() {
                    return int(0);
                }
                self.map.insert(k(b), e);
                int(1)
            }
            Cmd::GetRange(i, s, e) => {
                let Some((v, _)) = self.live(&k(i)) else {
                    return bulk("");
                };
                let len = v.len() as i64;
                let (mut s, mut e) = (*s, *e);
                if s < 0 && e < 0 && s > e {
                    return bulk("");
                }
                if s < 0 {
                    s += len;
                }
                if e < 0 {
                    e += len;
                }
                s = s.max(0);
                e = e.max(0).min(len - 1);
                if s > e || len == 0 {
                    bulk("")
                } else {
                    Reply::Bulk(v[s as usize..=e as usize].to_vec())
                }
            }
            Cmd::SetRange(i, off, v) => {
                let key = k(i);
                match self.live(&key) {
                    None if v.is_empty() => int(0),
                    Some((cur, _)) if v.is_empty() => int(cur.len() as i64),
                    cur => {
                        let mut buf = cur.map(|(c, _)| c.clone()).unwrap_or_default();
                        if buf.len() < off + v.len() {
                            buf.resize(off + v.len(), 0);
                        }
                        buf[*off..off + v.len()].copy_from_slice(v);
                        let n = buf.len() as i64;
                        let ttl = self.map.get(&key).and_then(|e| e.1);
                        self.map.insert(key, (buf, ttl));
                        int(n)
                    }
                }
            }
            Cmd::PExpire(i, t) => {
                let now = self.now;
                match self.live(&k(i)) {
                    None => int(0),
                    Some(e) => {
                        if *t <= 0 {
                            self.map.remove(&k(i));
                        } else {
                            e.1 = Some(now + t);
                        }
                        int(1)
                    }
                }
            }
            Cmd::Persist(i) => match self.live(&k(i)) {
                Some(e) if e.1.is_some() => {
                    e.1 = None;
                    int(1)
                }
                _ => int(0),
            },
            Cmd::PTtl(i) => {
                let now = self.now;
                match self.live(&k(i)) {
                    None => int(-2),
                    Some((_, None)) => int(-1),
                    Some((_, Some(at))) => int(*at - now),
                }
            }
            Cmd::Keys => {
                let now = self.now;
                let mut keys: Vec<Reply> = self
                    .map
                    .iter()
                    .filter(|(_, (_, at))| at.is_none_or(|at| now <= at))
                    .map(|(k, _)| Reply::Bulk(k.clone()))
                    .collect();
                keys.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
                arr(keys)
            }
            Cmd::Advance(_) | Cmd::ActiveExpire => ok(),
        }
    }

    fn incr_by(&mut self, k: &[u8], by: i64) -> Reply {
        match self.live(k) {
            None => {
                self.map
                    .insert(k.to_vec(), (by.to_string().into_bytes(), None));
                int(by)
            }
            Some((v, _)) => {
                let Some(cur) = std::str::from_utf8(v)
                    .ok()
                    .filter(|s| {
                        *s == "0"
                            || !(s.starts_with('0') || s.starts_with("-0") || s.starts_with('+'))
                    })
                    .and_then(|s| s.parse::<i64>().ok())
                else {
                    return err("ERR value is not an integer or out of range");
                };
                match cur.checked_add(by) {
                    None => err("ERR increment or decrement would overflow"),
                    Some(n) => {
                        *v = n.to_string().into_bytes();
                        int(n)
                    }
                }
            }
        }
    }
}

/// The command line of `c` for the keyspace.
fn argv(c: &Cmd) -> Vec<Vec<u8>> {
    let k = |i: &usize| KEYS[*i].to_vec();
    let s = |x: &str| x.as_bytes().to_vec();
    let n = |x: i64| x.to_string().into_bytes();
    match c {
        Cmd::Set(i, v) => vec![s("set"), k(i), v.clone()],
        Cmd::SetPx(i, v, t) => vec![s("set"), k(i), v.clone(), s("px"), n(*t)],
        Cmd::Get(i) => vec![s("get"), k(i)],
        Cmd::Del(is) => std::iter::once(s("del")).chain(is.iter().map(k)).collect(),
        Cmd::Append(i, v) => vec![s("append"), k(i), v.clone()],
        Cmd::Incr(i) => vec![s("incr"), k(i)],
        Cmd::IncrBy(i, by) => vec![s("incrby"), k(i), n(*by)],
        Cmd::Exists(i) => vec![s("exists"), k(i)],
        Cmd::Strlen(i) => vec![s("strlen"), k(i)],
        Cmd::GetDel(i) => vec![s("getdel"), k(i)],
        Cmd::MSet(kvs) => std::iter::once(s("mset"))
            .chain(kvs.iter().flat_map(|(i, v)| [k(i), v.clone()]))
            .collect(),
        Cmd::Rename(a, b) => vec![s("rename"), k(a), k(b)],
        Cmd::Copy(a, b) => vec![s("copy"), k(a), k(b)],
        Cmd::GetRange(i, st, e) => vec![s("getrange"), k(i), n(*st), n(*e)],
        Cmd::SetRange(i, o, v) => vec![s("setrange"), k(i), n(*o as i64), v.clone()],
        Cmd::PExpire(i, t) => vec![s("pexpire"), k(i), n(*t)],
        Cmd::Persist(i) => vec![s("persist"), k(i)],
        Cmd::PTtl(i) => vec![s("pttl"), k(i)],
        Cmd::Keys => vec![s("keys"), s("*")],
        Cmd::Advance(_) | Cmd::ActiveExpire => vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn keyspace_behaves_like_the_model(cmds in prop::collection::vec(cmd(), 1..60),
                                        segments in prop_oneof![Just(1usize), Just(4), Just(256)]) {
        let ks = Keyspace::new(Config { databases: 2, segments });
        let mut c = Client::new(&ks, T0);
        let mut m = Model { now: T0, ..Model::default() };
        for cmd in &cmds {
            match cmd {
                Cmd::Advance(ms) => {
                    c.advance(*ms);
                    m.now += ms;
                    continue;
                }
                Cmd::ActiveExpire => {
                    ks.active_expire_cycle(m.now, 3, &mut Effects::default());
                    continue;
                }
                _ => {}
            }
            let args = argv(cmd);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let mut got = c.run(&refs);
            if let (Cmd::Keys, Reply::Array(v)) = (cmd, &mut got) {
                v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            }
            let want = m.apply(cmd);
            prop_assert_eq!(got, want, "after {:?}", cmd);
        }
    }
}
