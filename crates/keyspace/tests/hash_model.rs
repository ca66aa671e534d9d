//! Property test: random hash commands give the same replies on the keyspace as on a plain
//! model (a `Vec` of field/value pairs in insertion order per key), with small encoding
//! limits so both encodings and every conversion point are exercised. The model also says
//! which encoding Redis 7.2 would report: listpack until a write converts it, never back.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use shrike_keyspace::reply::Reply;
use shrike_keyspace::{Config, Keyspace};

const T0: i64 = 1_700_000_000_000;
const KEYS: [&str; 3] = ["h1", "h2", "h3"];
const FIELDS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "long-field-name", "10"];
/// The limits the test runs with.
const MAX_ENTRIES: usize = 4;
const MAX_VALUE: usize = 8;

#[derive(Debug, Clone)]
enum Cmd {
    HSet(usize, Vec<(usize, String)>),
    HSetNx(usize, usize, String),
    HDel(usize, Vec<usize>),
    HGet(usize, usize),
    HMGet(usize, Vec<usize>),
    HLen(usize),
    HExists(usize, usize),
    HStrLen(usize, usize),
    HIncrBy(usize, usize, i64),
    HGetAll(usize),
    HRandField(usize, i64),
    HScanAll(usize),
    Encoding(usize),
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,3}",
        (-50i64..50).prop_map(|n| n.to_string()),
        "[x]{7,10}",
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let k = 0..KEYS.len();
    let f = 0..FIELDS.len();
    prop_oneof![
        (k.clone(), prop::collection::vec((f.clone(), value()), 1..4))
            .prop_map(|(k, fv)| Cmd::HSet(k, fv)),
        (k.clone(), f.clone(), value()).prop_map(|(k, f, v)| Cmd::HSetNx(k, f, v)),
        (k.clone(), prop::collection::vec(f.clone(), 1..4)).prop_map(|(k, f)| Cmd::HDel(k, f)),
        (k.clone(), f.clone()).prop_map(|(k, f)| Cmd::HGet(k, f)),
        (k.clone(), prop::collection::vec(f.clone(), 1..4)).prop_map(|(k, f)| Cmd::HMGet(k, f)),
        k.clone().prop_map(Cmd::HLen),
        (k.clone(), f.clone()).prop_map(|(k, f)| Cmd::HExists(k, f)),
        (k.clone(), f.clone()).prop_map(|(k, f)| Cmd::HStrLen(k, f)),
        (k.clone(), f.clone(), -5i64..5).prop_map(|(k, f, n)| Cmd::HIncrBy(k, f, n)),
        k.clone().prop_map(Cmd::HGetAll),
        (k.clone(), -6i64..6).prop_map(|(k, n)| Cmd::HRandField(k, n)),
        k.clone().prop_map(Cmd::HScanAll),
        k.prop_map(Cmd::Encoding),
    ]
}

/// One hash of the model: pairs in insertion order, and whether it is a hashtable now.
#[derive(Debug, Default, Clone)]
struct MHash {
    pairs: Vec<(String, String)>,
    table: bool,
}

impl MHash {
    fn get(&self, f: &str) -> Option<&String> {
        self.pairs.iter().find(|(k, _)| k == f).map(|(_, v)| v)
    }

    /// `hashTypeSet`, with the listpack conversion checks; true when the field is new.
    fn set(&mut self, f: &str, v: &str) -> bool {
        if f.len() > MAX_VALUE || v.len() > MAX_VALUE {
            self.table = true;
        }
        let new = match self.pairs.iter_mut().find(|(k, _)| k == f) {
            Some(p) => {
                p.1 = v.to_string();
                false
            }
            None => {
                self.pairs.push((f.to_string(), v.to_string()));
                true
            }
        };
        if self.pairs.len() > MAX_ENTRIES {
            self.table = true;
        }
        new
    }

    /// `hashTypeTryConversion` on the argument pairs.
    fn try_conversion(&mut self, args: &[(&str, &str)]) {
        if args.len() > MAX_ENTRIES
            || args
                .iter()
                .any(|(f, v)| f.len() > MAX_VALUE || v.len() > MAX_VALUE)
        {
            self.table = true;
        }
    }
}

fn sorted(r: Reply) -> Reply {
    match r {
        Reply::Array(mut v) => {
            v.sort_by_key(|r| format!("{r:?}"));
            Reply::Array(v)
        }
        r => r,
    }
}

fn pairs_sorted(pairs: &[(String, String)]) -> Reply {
    let mut v: Vec<Reply> = pairs.iter().flat_map(|(f, v)| [bulk(f), bulk(v)]).collect();
    v.sort_by_key(|r| format!("{r:?}"));
    Reply::Array(v)
}

/// HGETALL's map as a flat list, sorted.
fn flat_sorted(r: Reply) -> Reply {
    match r {
        Reply::Map(m) => sorted(Reply::Array(
            m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        )),
        r => sorted(r),
    }
}

fn check(cmds: Vec<Cmd>) {
    let ks = Keyspace::new(Config::default());
    ks.set_encoding_limit("hash-max-listpack-entries", MAX_ENTRIES as i64);
    ks.set_encoding_limit("hash-max-listpack-value", MAX_VALUE as i64);
    let mut c = Client::new(&ks, T0);
    let mut model: BTreeMap<usize, MHash> = BTreeMap::new();
    for cmd in cmds {
        match cmd {
            Cmd::HSet(k, fv) => {
                let line = fv
                    .iter()
                    .map(|(f, v)| format!("{} \"{v}\"", FIELDS[*f]))
                    .collect::<Vec<_>>()
                    .join(" ");
                let got = c.cmd(&format!("hset {} {line}", KEYS[k]));
                let h = model.entry(k).or_default();
                let args: Vec<(&str, &str)> =
                    fv.iter().map(|(f, v)| (FIELDS[*f], v.as_str())).collect();
                h.try_conversion(&args);
                let n = args.iter().filter(|(f, v)| h.set(f, v)).count();
                assert_eq!(got, int(n as i64));
            }
            Cmd::HSetNx(k, f, v) => {
                let got = c.cmd(&format!("hsetnx {} {} \"{v}\"", KEYS[k], FIELDS[f]));
                let h = model.entry(k).or_default();
                let want = if h.get(FIELDS[f]).is_some() {
                    0
                } else {
                    h.try_conversion(&[(FIELDS[f], &v)]);
                    h.set(FIELDS[f], &v);
                    1
                };
                assert_eq!(got, int(want));
            }
            Cmd::HDel(k, fs) => {
                let names: Vec<&str> = fs.iter().map(|f| FIELDS[*f]).collect();
                let got = c.cmd(&format!("hdel {} {}", KEYS[k], names.join(" ")));
                let mut n = 0;
                if let Some(h) = model.get_mut(&k) {
                    for f in &names {
                        if let Some(i) = h.pairs.iter().position(|(x, _)| x == f) {
                            h.pairs.remove(i);
                            n += 1;
                        }
                    }
                    if h.pairs.is_empty() {
                        model.remove(&k);
                    }
                }
                assert_eq!(got, int(n));
            }
            Cmd::HGet(k, f) => {
                let got = c.cmd(&format!("hget {} {}", KEYS[k], FIELDS[f]));
                let want = model
                    .get(&k)
                    .and_then(|h| h.get(FIELDS[f]))
                    .map_or(null(), |v| bulk(v));
                assert_eq!(got, want);
            }
            Cmd::HMGet(k, fs) => {
                let names: Vec<&str> = fs.iter().map(|f| FIELDS[*f]).collect();
                let got = c.cmd(&format!("hmget {} {}", KEYS[k], names.join(" ")));
                let want = arr(names
                    .iter()
                    .map(|f| {
                        model
                            .get(&k)
                            .and_then(|h| h.get(f))
                            .map_or(null(), |v| bulk(v))
                    })
                    .collect());
                assert_eq!(got, want);
            }
            Cmd::HLen(k) => {
                let got = c.cmd(&format!("hlen {}", KEYS[k]));
                assert_eq!(got, int(model.get(&k).map_or(0, |h| h.pairs.len()) as i64));
            }
            Cmd::HExists(k, f) => {
                let got = c.cmd(&format!("hexists {} {}", KEYS[k], FIELDS[f]));
                let has = model.get(&k).is_some_and(|h| h.get(FIELDS[f]).is_some());
                assert_eq!(got, int(i64::from(has)));
            }
            Cmd::HStrLen(k, f) => {
                let got = c.cmd(&format!("hstrlen {} {}", KEYS[k], FIELDS[f]));
                let n = model
                    .get(&k)
                    .and_then(|h| h.get(FIELDS[f]))
                    .map_or(0, String::len);
                assert_eq!(got, int(n as i64));
            }
            Cmd::HIncrBy(k, f, n) => {
                let got = c.cmd(&format!("hincrby {} {} {n}", KEYS[k], FIELDS[f]));
                let h = model.entry(k).or_default();
                let want = match h.get(FIELDS[f]).map(|v| v.parse::<i64>()) {
                    None => {
                        h.set(FIELDS[f], &n.to_string());
                        int(n)
                    }
                    Some(Ok(old)) if (old == 0 || !v_has_leading_junk(h.get(FIELDS[f]))) => {
                        let new = old + n;
                        h.set(FIELDS[f], &new.to_string());
                        int(new)
                    }
                    _ => err("ERR hash value is not an integer"),
                };
                assert_eq!(got, want);
            }
            Cmd::HGetAll(k) => {
                let got = c.cmd(&format!("hgetall {}", KEYS[k]));
                match model.get(&k) {
                    // A listpack answers in insertion order.
                    Some(h) if !h.table => {
                        let want =
                            Reply::Map(h.pairs.iter().map(|(f, v)| (bulk(f), bulk(v))).collect());
                        assert_eq!(got, want);
                    }
                    Some(h) => assert_eq!(flat_sorted(got), pairs_sorted(&h.pairs)),
                    None => assert_eq!(got, Reply::Map(vec![])),
                }
            }
            Cmd::HRandField(k, n) => {
                let got = c.cmd(&format!("hrandfield {} {n} withvalues", KEYS[k]));
                // A missing key answers an empty array, the same `*0` as no pairs.
                let items = match got {
                    Reply::Pairs(items) => items,
                    Reply::Array(items) if items.is_empty() => Vec::new(),
                    got => panic!("{got:?}"),
                };
                let Some(h) = model.get(&k) else {
                    assert!(items.is_empty());
                    continue;
                };
                let want_len = if n >= 0 {
                    (n as usize).min(h.pairs.len())
                } else {
                    n.unsigned_abs() as usize
                };
                assert_eq!(items.len(), want_len);
                let items: Vec<Reply> = items.into_iter().flat_map(|(f, v)| [f, v]).collect();
                for p in items.chunks(2) {
                    let (Reply::Bulk(f), Reply::Bulk(v)) = (&p[0], &p[1]) else {
                        panic!()
                    };
                    let f = String::from_utf8(f.clone()).unwrap();
                    assert_eq!(h.get(&f).map(|s| s.as_bytes()), Some(v.as_slice()));
                }
                if n > 0 {
                    let mut fs: Vec<&Reply> = items.iter().step_by(2).collect();
                    fs.sort_by_key(|r| format!("{r:?}"));
                    fs.dedup();
                    assert_eq!(fs.len(), want_len, "distinct picks");
                }
            }
            Cmd::HScanAll(k) => {
                let mut seen = Vec::new();
                let mut cursor = "0".to_string();
                loop {
                    let got = c.cmd(&format!("hscan {} {cursor} count 2", KEYS[k]));
                    let Reply::Array(r) = got else { panic!() };
                    let (Reply::Bulk(next), Reply::Array(items)) = (&r[0], &r[1]) else {
                        panic!()
                    };
                    seen.extend(items.iter().cloned());
                    cursor = String::from_utf8(next.clone()).unwrap();
                    if cursor == "0" {
                        break;
                    }
                }
                let want = model.get(&k).map_or(vec![], |h| h.pairs.clone());
                assert_eq!(sorted(Reply::Array(seen)), pairs_sorted(&want));
            }
            Cmd::Encoding(k) => {
                let got = c.cmd(&format!("object encoding {}", KEYS[k]));
                let want = match model.get(&k) {
                    None => null(),
                    Some(h) if h.table => bulk("hashtable"),
                    Some(_) => bulk("listpack"),
                };
                assert_eq!(got, want);
            }
        }
    }
}

/// Redis's string2ll refuses what Rust's parse accepts ("+1", "-0", leading zeros).
fn v_has_leading_junk(v: Option<&String>) -> bool {
    v.is_some_and(|s| {
        s.starts_with('+') || s.starts_with("-0") || (s.len() > 1 && s.starts_with('0'))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn hash_commands_match_the_model(cmds in prop::collection::vec(cmd(), 1..60)) {
        check(cmds);
    }
}
