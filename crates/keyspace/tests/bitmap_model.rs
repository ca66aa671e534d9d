//! Property test: random bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITFIELD, BITOP)
//! give the same replies on the keyspace as on a plain `Vec<u8>` model that reads bits one at
//! a time, with Redis's range rules written out naively.

mod common;

use common::*;
use proptest::prelude::*;
use shrike_keyspace::reply::Reply;

const T0: i64 = 1_700_000_000_000;

#[derive(Debug, Clone)]
enum Cmd {
    SetBit(u64, bool),
    GetBit(u64),
    BitCount(Option<(i64, i64, bool)>),
    BitPos(bool, Option<i64>, Option<i64>, bool),
    Field(bool, bool, u32, u64, i64),
    Get(bool, u32, u64),
    Not,
}

fn cmd() -> impl Strategy<Value = Cmd> {
    let idx = -40i64..40;
    prop_oneof![
        (0u64..160, any::<bool>()).prop_map(|(o, b)| Cmd::SetBit(o, b)),
        (0u64..200).prop_map(Cmd::GetBit),
        prop::option::of((idx.clone(), idx.clone(), any::<bool>())).prop_map(Cmd::BitCount),
        (
            any::<bool>(),
            prop::option::of(idx.clone()),
            prop::option::of(idx),
            any::<bool>()
        )
            .prop_map(|(b, s, e, isbit)| Cmd::BitPos(b, s, e, isbit)),
        (
            any::<bool>(),
            any::<bool>(),
            1u32..17,
            0u64..150,
            -70_000i64..70_000
        )
            .prop_map(|(incr, signed, bits, off, v)| Cmd::Field(incr, signed, bits, off, v)),
        (any::<bool>(), 1u32..65, 0u64..200).prop_map(|(signed, bits, off)| Cmd::Get(
            signed,
            if signed { bits } else { bits.min(63) },
            off
        )),
        Just(Cmd::Not),
    ]
}

fn bit(m: &[u8], i: u64) -> bool {
    m.get((i / 8) as usize)
        .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

fn put(m: &mut Vec<u8>, i: u64, on: bool) {
    let byte = (i / 8) as usize;
    if m.len() <= byte {
        m.resize(byte + 1, 0);
    }
    if on {
        m[byte] |= 0x80 >> (i % 8);
    } else {
        m[byte] &= !(0x80 >> (i % 8));
    }
}

/// Redis's index conversion over `totlen` units: None for an empty range.
fn clamp(start: i64, end: i64, totlen: i64) -> Option<(i64, i64)> {
    let s = if start < 0 { start + totlen } else { start }.max(0);
    let mut e = if end < 0 { end + totlen } else { end }.max(0);
    if e >= totlen {
        e = totlen - 1;
    }
    (s <= e).then_some((s, e))
}

/// The bit range [lo, hi] a BYTE or BIT range covers.
fn bits_of(r: (i64, i64), isbit: bool) -> (u64, u64) {
    if isbit {
        (r.0 as u64, r.1 as u64)
    } else {
        (r.0 as u64 * 8, r.1 as u64 * 8 + 7)
    }
}

fn model_bitcount(m: &Option<Vec<u8>>, range: Option<(i64, i64, bool)>) -> i64 {
    let Some(m) = m else { return 0 };
    let len = m.len() as i64;
    let (lo, hi) = match range {
        None if m.is_empty() => return 0,
        None => (0, len as u64 * 8 - 1),
        Some((s, e, _)) if s < 0 && e < 0 && s > e => return 0,
        Some((s, e, isbit)) => {
            let tot = if isbit { len * 8 } else { len };
            match clamp(s, e, tot) {
                Some(r) => bits_of(r, isbit),
                None => return 0,
            }
        }
    };
    (lo..=hi).filter(|&i| bit(m, i)).count() as i64
}

fn model_bitpos(
    m: &Option<Vec<u8>>,
    b: bool,
    start: Option<i64>,
    end: Option<i64>,
    isbit: bool,
) -> i64 {
    let Some(m) = m else {
        return if b { -1 } else { 0 };
    };
    let len = m.len() as i64;
    let tot = if isbit { len * 8 } else { len };
    let (s, e) = match start {
        None => (0, len - 1),
        Some(s) => (s, end.unwrap_or(tot + if isbit { 7 } else { -1 })),
    };
    let isbit = isbit && start.is_some();
    let tot = if isbit { len * 8 } else { len };
    let Some(r) = clamp(s, e, tot) else {
        return -1;
    };
    let (lo, hi) = bits_of(r, isbit);
    match (lo..=hi).find(|&i| bit(m, i) == b) {
        Some(i) => i as i64,
        None if b || end.is_some() => -1,
        None => (hi + 1) as i64,
    }
}

fn get_field(m: &[u8], signed: bool, bits: u32, off: u64) -> i64 {
    let mut v: u64 = 0;
    for i in 0..u64::from(bits) {
        v = (v << 1) | u64::from(bit(m, off + i));
    }
    if signed && bits < 64 && v & (1 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

/// SET or INCRBY under OVERFLOW WRAP: the reply and the new field.
fn wrap_field(m: &mut Vec<u8>, incr: bool, signed: bool, bits: u32, off: u64, v: i64) -> i64 {
    let old = get_field(m, signed, bits, off);
    let new = if incr { old.wrapping_add(v) } else { v };
    for i in 0..u64::from(bits) {
        put(
            m,
            off + i,
            (new as u64 >> (u64::from(bits) - 1 - i)) & 1 == 1,
        );
    }
    let stored = get_field(m, signed, bits, off);
    if incr {
        stored
    } else {
        old
    }
}

proptest! {
    #[test]
    fn bitmap_commands_match_a_bit_model(cmds in prop::collection::vec(cmd(), 1..60)) {
        let ks = keyspace();
        let mut c = Client::new(&ks, T0);
        let mut m: Option<Vec<u8>> = None;
        for cmd in cmds {
            let (line, want) = match &cmd {
                Cmd::SetBit(o, b) => {
                    let v = m.get_or_insert_with(Vec::new);
                    let old = bit(v, *o);
                    put(v, *o, *b);
                    (format!("setbit k {o} {}", u8::from(*b)), Reply::Int(i64::from(old)))
                }
                Cmd::GetBit(o) => (
                    format!("getbit k {o}"),
                    Reply::Int(i64::from(m.as_deref().is_some_and(|v| bit(v, *o)))),
                ),
                Cmd::BitCount(r) => {
                    let line = match r {
                        None => "bitcount k".to_string(),
                        Some((s, e, isbit)) => {
                            format!("bitcount k {s} {e} {}", if *isbit { "bit" } else { "byte" })
                        }
                    };
                    (line, Reply::Int(model_bitcount(&m, *r)))
                }
                Cmd::BitPos(b, s, e, isbit) => {
                    let mut line = format!("bitpos k {}", u8::from(*b));
                    let (mut s2, mut e2, mut unit) = (None, None, false);
                    if let Some(s) = s {
                        line += &format!(" {s}");
                        s2 = Some(*s);
                        if let Some(e) = e {
                            line += &format!(" {e}");
                            e2 = Some(*e);
                            if *isbit {
                                line += " bit";
                                unit = true;
                            }
                        }
                    }
                    (line, Reply::Int(model_bitpos(&m, *b, s2, e2, unit)))
                }
                Cmd::Field(incr, signed, bits, off, v) => {
                    let ty = format!("{}{bits}", if *signed { "i" } else { "u" });
                    let op = if *incr { "incrby" } else { "set" };
                    let buf = m.get_or_insert_with(Vec::new);
                    // The string grows to the field's last byte first.
                    let last = ((off + u64::from(*bits) - 1) / 8) as usize;
                    if buf.len() <= last {
                        buf.resize(last + 1, 0);
                    }
                    let r = wrap_field(buf, *incr, *signed, *bits, *off, *v);
                    (format!("bitfield k {op} {ty} {off} {v}"), arr(vec![Reply::Int(r)]))
                }
                Cmd::Get(signed, bits, off) => {
                    let ty = format!("{}{bits}", if *signed { "i" } else { "u" });
                    let v = m.as_deref().map_or(0, |v| get_field(v, *signed, *bits, *off));
                    (format!("bitfield_ro k get {ty} {off}"), arr(vec![Reply::Int(v)]))
                }
                Cmd::Not => {
                    let len = m.as_ref().map_or(0, Vec::len);
                    if let Some(v) = &mut m {
                        v.iter_mut().for_each(|b| *b = !*b);
                        if v.is_empty() {
                            m = None;
                        }
                    }
                    ("bitop not k k".to_string(), Reply::Int(len as i64))
                }
            };
            prop_assert_eq!(c.cmd(&line), want, "{}", line);
            let got = c.cmd("get k");
            let expect = match &m {
                None => Reply::Null,
                Some(v) => Reply::Bulk(v.clone()),
            };
            prop_assert_eq!(got, expect, "after {}", line);
        }
    }
}
