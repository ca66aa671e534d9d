//! The set group, after Redis 7.2's `t_set.c`: the same checks in the same order, the same
//! replies (RESP3 sets where Redis sends them), the same events, and results stored in the
//! encoding Redis would give them (the value type and its conversions are in `types/set.rs`).
//!
//! Commands over several keys (SINTER, SUNION, SDIFF and their STORE forms, SINTERCARD)
//! read the sets in place, through `lookup_sets`, and build their result as Redis does: the
//! union and difference in a set that starts as an intset (so its reply order is Redis's),
//! the intersection in the iteration order of the smallest set.

use smallvec::SmallVec;

use crate::cmd::generic::{reply_empty_scan, reply_scan_cursor, ScanArgs, ScanExtra};
use crate::cmd::Ctx;
use crate::encoding::Limits;
use crate::error::KsError;
use crate::glob;
use crate::keys::Keys;
use crate::notify::{self, Event, SET};
use crate::number::{arg_i64, parse_cursor, IntBuf};
use crate::reply::ReplySink;
use crate::types::set::{Elem, Rand, Set};

const SADD: Event = Event::new(SET, "sadd");
const SREM: Event = Event::new(SET, "srem");
const SPOP: Event = Event::new(SET, "spop");
const SINTERSTORE: Event = Event::new(SET, "sinterstore");
const SUNIONSTORE: Event = Event::new(SET, "sunionstore");
const SDIFFSTORE: Event = Event::new(SET, "sdiffstore");

/// SPOP_MOVE_STRATEGY_MUL: pop by rebuilding when what remains is this much smaller.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// SRANDMEMBER_SUB_STRATEGY_MUL: sample by elimination when the count is this close.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

fn bulk_elem(out: &mut ReplySink, e: Elem<'_>) {
    match e {
        Elem::Int(v) => out.bulk_int(v),
        Elem::Str(s) => out.bulk(s),
    }
}

/// SADD key member [member ...]
pub(crate) fn sadd(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let hint = argv.len() - 2;
    let mut created = false;
    let set = keys.write_or_create(argv[1], || {
        created = true;
        Set::create(argv[2], hint, &lim)
    })?;
    if !created {
        set.maybe_convert(hint, &lim);
    }
    set.reserve(&argv[2..]);
    let mut added = 0;
    for m in &argv[2..] {
        added += i64::from(set.add(m, &lim));
    }
    set.fit();
    if added > 0 {
        keys.changed(argv[1], SADD);
    }
    out.int(added);
    Ok(())
}

/// SREM key member [member ...]
pub(crate) fn srem(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let Some(set) = keys.write_as::<Set>(argv[1])? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if set.remove(m) {
            deleted += 1;
            if set.len() == 0 {
                break;
            }
        }
    }
    if deleted > 0 {
        keys.changed(argv[1], SREM);
    }
    out.int(deleted);
    Ok(())
}

/// SMOVE source destination member
pub(crate) fn smove(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let (src, dst, ele) = (argv[1], argv[2], argv[3]);
    // Redis looks both keys up before any check; a missing source wins over a wrong type.
    let src_found = keys.write_as::<Set>(src).map(|s| s.is_some());
    let dst_found = keys.write_as::<Set>(dst).map(|s| s.is_some());
    if let Ok(false) = src_found {
        out.int(0);
        return Ok(());
    }
    src_found?;
    dst_found?;
    if src == dst {
        let is = keys.write_as::<Set>(src)?.is_some_and(|s| s.contains(ele));
        out.int(i64::from(is));
        return Ok(());
    }
    let removed = keys.write_as::<Set>(src)?.is_some_and(|s| s.remove(ele));
    if !removed {
        out.int(0);
        return Ok(());
    }
    keys.changed(src, SREM);
    let lim = keys.ks.encoding_limits();
    let set = keys.write_or_create(dst, || Set::create(ele, 1, &lim))?;
    if set.add(ele, &lim) {
        keys.changed(dst, SADD);
    }
    out.int(1);
    Ok(())
}

/// SISMEMBER key member
pub(crate) fn sismember(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let is = keys
        .read_as::<Set>(argv[1])?
        .is_some_and(|s| s.contains(argv[2]));
    out.int(i64::from(is));
    Ok(())
}

/// SMISMEMBER key member [member ...]
pub(crate) fn smismember(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let set = keys.read_as::<Set>(argv[1])?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        out.int(i64::from(set.as_ref().is_some_and(|s| s.contains(m))));
    }
    Ok(())
}

/// SCARD key
pub(crate) fn scard(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = keys.read_as::<Set>(argv[1])?.map_or(0, |s| s.len());
    out.int(n as i64);
    Ok(())
}

/// SMEMBERS key (Redis 7.2 runs it as a one-key SINTER: a set reply in the set's order)
pub(crate) fn smembers(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    match keys.read_as::<Set>(argv[1])? {
        None => out.set(0),
        Some(set) => {
            out.set(set.len());
            for e in set.iter() {
                bulk_elem(out, e);
            }
        }
    }
    Ok(())
}

/// SPOP key [count]
pub(crate) fn spop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    if argv.len() == 3 {
        return spop_count(ctx, argv);
    }
    if argv.len() > 3 {
        return Err(KsError::Syntax);
    }
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let seed = keys.rand_u64(key);
    let Some(set) = keys.write_as::<Set>(key)? else {
        out.null();
        return Ok(());
    };
    let mut rng = Rand::new(seed);
    let i = set.random_slot(&mut rng);
    if let Some(e) = set.slot(i) {
        bulk_elem(out, e);
    }
    set.remove_slot(i);
    keys.changed(key, SPOP);
    Ok(())
}

/// SPOP key count: Redis 7.2's three cases (the whole set; few members popped one by one;
/// most members, by keeping the few that remain), with the encoding each leaves behind.
fn spop_count(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    // getPositiveLongFromObjectOrReply: one text for non-numbers and negatives alike.
    let count = crate::number::parse_i64(argv[2])
        .filter(|c| *c >= 0)
        .ok_or(KsError::NotPositive)?;
    let count = count as usize;
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let seed = keys.rand_u64(key);
    let lim = keys.ks.encoding_limits();
    let Some(set) = keys.write_as::<Set>(key)? else {
        out.set(0);
        return Ok(());
    };
    if count == 0 {
        out.set(0);
        return Ok(());
    }
    let size = set.len();
    let mut rng = Rand::new(seed);
    if count >= size {
        // CASE 1: the reply is SUNION of the key (its order included), then the key goes.
        let all = union_of(&[Some(&*set)], &lim);
        reply_set(out, &all);
        *set = Set::new_pack();
        keys.changed(key, SPOP);
        return Ok(());
    }
    out.set(count);
    let remaining = size - count;
    let is_table = matches!(set, Set::Table(_));
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // CASE 2
        if let Set::Pack(_) = set {
            let pick = rng.sample(size, count);
            for (e, p) in set.iter().zip(&pick) {
                if *p {
                    bulk_elem(out, e);
                }
            }
            let keep: Vec<bool> = pick.iter().map(|p| !p).collect();
            set.retain_indexes(&keep);
        } else {
            for _ in 0..count {
                let i = set.random_slot(&mut rng);
                if let Some(e) = set.slot(i) {
                    bulk_elem(out, e);
                }
                set.remove_slot(i);
            }
        }
    } else if !is_table {
        // CASE 3 on an intset or listpack: keep `remaining` members, in order.
        let keep = if let Set::Pack(_) = set {
            rng.sample(size, remaining)
        } else {
            // Redis draws the kept members one at a time; any uniform sample will do.
            rng.sample(size, remaining)
        };
        for (e, k) in set.iter().zip(&keep) {
            if !*k {
                bulk_elem(out, e);
            }
        }
        set.retain_indexes(&keep);
    } else {
        // CASE 3 on a hashtable: the kept members move to a new set that starts as a
        // listpack (so it may end as one), the rest are the reply.
        let mut kept = Set::new_pack();
        for _ in 0..remaining {
            let i = set.random_slot(&mut rng);
            if let Some(e) = set.slot(i) {
                kept.add_elem(e, &lim);
            }
            set.remove_slot(i);
        }
        for e in set.iter() {
            bulk_elem(out, e);
        }
        *set = kept;
    }
    keys.changed(key, SPOP);
    Ok(())
}

/// SRANDMEMBER key [count]
pub(crate) fn srandmember(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    if argv.len() > 3 {
        return Err(KsError::Syntax);
    }
    let count = match argv.get(2) {
        Some(c) => {
            let l = arg_i64(c)?;
            if l == i64::MIN {
                return Err(KsError::RandCountRange);
            }
            Some(l)
        }
        None => None,
    };
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let seed = keys.rand_u64(key);
    let mut rng = Rand::new(seed);
    let Some(set) = keys.read_as::<Set>(key)? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let Some(l) = count else {
        if let Some(e) = set.slot(set.random_slot(&mut rng)) {
            bulk_elem(out, e);
        }
        return Ok(());
    };
    let (count, uniq) = (l.unsigned_abs() as usize, l >= 0);
    let size = set.len();
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    // CASE 1: repeats allowed (or just one).
    if !uniq || count == 1 {
        out.array(count);
        for _ in 0..count {
            if let Some(e) = set.slot(set.random_slot(&mut rng)) {
                bulk_elem(out, e);
            }
        }
        return Ok(());
    }
    // CASE 2: the whole set, in its order.
    if count >= size {
        out.array(size);
        for e in set.iter() {
            bulk_elem(out, e);
        }
        return Ok(());
    }
    // CASE 2.5: a listpack samples in order.
    if let Set::Pack(_) = set {
        let pick = rng.sample(size, count);
        out.array(count);
        for (e, p) in set.iter().zip(&pick) {
            if *p {
                bulk_elem(out, e);
            }
        }
        return Ok(());
    }
    // CASES 3 and 4: distinct positions in random order.
    out.array(count);
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        let mut slots: Vec<usize> = (0..set.slots())
            .filter(|i| set.slot(*i).is_some())
            .collect();
        for i in 0..count {
            let j = i + rng.below(slots.len() - i);
            slots.swap(i, j);
            if let Some(e) = set.slot(slots[i]) {
                bulk_elem(out, e);
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let i = set.random_slot(&mut rng);
            if seen.insert(i) {
                if let Some(e) = set.slot(i) {
                    bulk_elem(out, e);
                }
            }
        }
    }
    Ok(())
}

/// The sets named by `names`, looked up for reading in order (None for a missing key);
/// WRONGTYPE at the first key of another type, as Redis's loops stop there.
///
/// The values are returned as pointers so that several can be read at once. SAFETY of
/// dereferencing them: each points into the block of a live entry, whose address moves
/// with no table resize; only lookups happen until the caller is done with them, and a
/// lookup removes only an expired key, which none of these is (all lookups of a command use
/// one clock).
fn lookup_sets(
    keys: &mut Keys<'_, '_>,
    names: &[&[u8]],
) -> Result<SmallVec<[Option<*const Set>; 4]>, KsError> {
    let mut sets = SmallVec::with_capacity(names.len());
    for k in names {
        sets.push(keys.read_as::<Set>(k)?.map(|s| &*s as *const Set));
    }
    Ok(sets)
}

/// Dereference `lookup_sets`'s pointers (see its SAFETY note).
fn deref_sets<'s>(ptrs: &[Option<*const Set>]) -> SmallVec<[Option<&'s Set>; 4]> {
    // SAFETY: see `lookup_sets`; the caller makes no change to the db while it holds these.
    ptrs.iter().map(|p| p.map(|p| unsafe { &*p })).collect()
}

fn reply_set(out: &mut ReplySink, set: &Set) {
    out.set(set.len());
    for e in set.iter() {
        bulk_elem(out, e);
    }
}

/// SUNION of `sets` as Redis builds it: into a set that starts as an intset.
fn union_of(sets: &[Option<&Set>], lim: &Limits) -> Set {
    let mut dst = Set::default();
    for s in sets.iter().flatten() {
        for e in s.iter() {
            dst.add_elem(e, lim);
        }
    }
    dst
}

/// SDIFF of `sets`, with Redis's choice of algorithm (which decides the result's order).
fn diff_of(sets: &mut [Option<&Set>], same_as_first: bool, lim: &Limits) -> Set {
    let mut dst = Set::default();
    let Some(first) = sets.first().copied().flatten() else {
        return dst;
    };
    if same_as_first {
        return dst;
    }
    let (mut one, mut two) = (0usize, 0usize);
    for s in sets.iter().flatten() {
        one += first.len();
        two += s.len();
    }
    if one / 2 <= two {
        // Algorithm 1: test each member of the first set against the others, biggest first.
        sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |s| s.len())));
        for e in first.iter() {
            if !sets[1..].iter().flatten().any(|s| s.contains_elem(e)) {
                dst.add_elem(e, lim);
            }
        }
    } else {
        // Algorithm 2: add the first set, remove the others.
        let mut buf = IntBuf::new();
        for (j, s) in sets.iter().enumerate() {
            let Some(s) = s else { continue };
            for e in s.iter() {
                if j == 0 {
                    dst.add_elem(e, lim);
                } else {
                    dst.remove(e.bytes(&mut buf));
                }
            }
            if dst.len() == 0 {
                break;
            }
        }
    }
    dst
}

/// Which of `sunion_diff`'s operations.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// `sunionDiffGenericCommand`: SUNION, SDIFF, and with `dst` their STORE forms.
fn sunion_diff(
    ctx: &mut Ctx<'_, '_>,
    names: &[&[u8]],
    dst: Option<&[u8]>,
    op: SetOp,
) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let ptrs = lookup_sets(&mut keys, names)?;
    let result = {
        let mut sets = deref_sets(&ptrs);
        match op {
            SetOp::Union => union_of(&sets, &lim),
            SetOp::Diff => {
                let same = sets[0].is_some() && names[1..].iter().any(|k| *k == names[0]);
                diff_of(&mut sets, same, &lim)
            }
        }
    };
    match dst {
        None => reply_set(out, &result),
        Some(dst) => store(
            &mut keys,
            out,
            dst,
            result,
            match op {
                SetOp::Union => SUNIONSTORE,
                SetOp::Diff => SDIFFSTORE,
            },
        ),
    }
    Ok(())
}

/// Store a STORE command's `result` at `dst` and reply its size; an empty result deletes
/// `dst` instead.
fn store(keys: &mut Keys<'_, '_>, out: &mut ReplySink, dst: &[u8], result: Set, ev: Event) {
    let n = result.len();
    if n > 0 {
        keys.set_typed(dst, result);
        keys.changed(dst, ev);
    } else if keys.write(dst).is_some() {
        keys.deleted(dst, notify::DEL);
    }
    out.int(n as i64);
}

/// `sinterGenericCommand`: SINTER, SINTERSTORE (`dst`), SINTERCARD (`card`, with `limit`,
/// 0 for none).
fn sinter_generic(
    ctx: &mut Ctx<'_, '_>,
    names: &[&[u8]],
    dst: Option<&[u8]>,
    card: bool,
    limit: usize,
) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let ptrs = lookup_sets(&mut keys, names)?;
    let sets = deref_sets(&ptrs);
    if sets.iter().any(Option::is_none) {
        drop(sets);
        if let Some(dst) = dst {
            if keys.write(dst).is_some() {
                keys.deleted(dst, notify::DEL);
            }
            out.int(0);
        } else if card {
            out.int(0);
        } else {
            out.set(0);
        }
        return Ok(());
    }
    let mut sets: SmallVec<[&Set; 4]> = sets.into_iter().flatten().collect();
    // A stable sort: sets of equal size keep the order of their keys.
    sets.sort_by_key(|s| s.len());
    let first = sets[0];
    let others = &sets[1..];
    let member_of_all = |e: Elem<'_>| {
        others
            .iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains_elem(e))
    };
    if card {
        let mut n = 0;
        for e in first.iter() {
            if member_of_all(e) {
                n += 1;
                if limit != 0 && n >= limit {
                    break;
                }
            }
        }
        out.int(n as i64);
        return Ok(());
    }
    let Some(dst) = dst else {
        let found: Vec<Elem<'_>> = first.iter().filter(|e| member_of_all(*e)).collect();
        out.set(found.len());
        for e in found {
            bulk_elem(out, e);
        }
        return Ok(());
    };
    // The result starts as an intset when the smallest set is one, else as a listpack,
    // and becomes an intset at the end when every member turned out to be an integer.
    let mut result = match first {
        Set::Ints(_) => Set::default(),
        _ => Set::new_pack(),
    };
    let mut only_integers = true;
    for e in first.iter() {
        if member_of_all(e) {
            if let Elem::Str(s) = e {
                if only_integers && crate::number::parse_i64(s).is_none() {
                    only_integers = false;
                }
            }
            result.add_elem(e, &lim);
        }
    }
    drop(sets);
    if only_integers && result.len() > 0 {
        result.maybe_convert_to_intset(&lim);
    }
    store(&mut keys, out, dst, result, SINTERSTORE);
    Ok(())
}

/// SINTER key [key ...]
pub(crate) fn sinter(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sinter_generic(ctx, &argv[1..], None, false, 0)
}

/// SINTERSTORE destination key [key ...]
pub(crate) fn sinterstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sinter_generic(ctx, &argv[2..], Some(argv[1]), false, 0)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub(crate) fn sintercard(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let numkeys = crate::number::parse_i64(argv[1])
        .filter(|n| *n >= 1)
        .ok_or(KsError::NumkeysNotPositive)?;
    if numkeys > (argv.len() - 2) as i64 {
        return Err(KsError::NumKeysTooMany);
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if argv[j].eq_ignore_ascii_case(b"limit") && more > 0 {
            j += 1;
            let l = crate::number::parse_i64(argv[j]).ok_or(KsError::LimitNegative)?;
            if l < 0 {
                return Err(KsError::LimitNegative);
            }
            limit = l as usize;
        } else {
            return Err(KsError::Syntax);
        }
        j += 1;
    }
    sinter_generic(ctx, &argv[2..2 + numkeys], None, true, limit)
}

/// SUNION key [key ...]
pub(crate) fn sunion(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sunion_diff(ctx, &argv[1..], None, SetOp::Union)
}

/// SUNIONSTORE destination key [key ...]
pub(crate) fn sunionstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sunion_diff(ctx, &argv[2..], Some(argv[1]), SetOp::Union)
}

/// SDIFF key [key ...]
pub(crate) fn sdiff(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sunion_diff(ctx, &argv[1..], None, SetOp::Diff)
}

/// SDIFFSTORE destination key [key ...]
pub(crate) fn sdiffstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    sunion_diff(ctx, &argv[2..], Some(argv[1]), SetOp::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
///
/// An intset or listpack answers whole, with cursor 0, as Redis does. A hashtable's cursor
/// is a position in hash order (fixed for the process), so a member present for the whole
/// scan is returned at least once however the set grows, shrinks or converts.
pub(crate) fn sscan(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let cursor = parse_cursor(argv[2])?;
    let (mut keys, out) = ctx.split();
    let Some(set) = keys.read_as::<Set>(argv[1])? else {
        reply_empty_scan(out);
        return Ok(());
    };
    let ScanArgs { count, pattern, .. } = ScanArgs::parse(&argv[3..], ScanExtra::None)?;
    let keep = |m: &[u8]| pattern.is_none_or(|p| glob::matches(p, m, false));
    let mut buf = IntBuf::new();
    let Some(table) = set.table() else {
        out.array(2);
        out.bulk(b"0");
        let pos = out.array_start();
        let mut n = 0;
        for e in set.iter() {
            let m = e.bytes(&mut buf);
            if keep(m) {
                out.bulk(m);
                n += 1;
            }
        }
        out.array_end(pos, n);
        return Ok(());
    };
    // Big sets return more per call, so a full scan costs a bounded number of passes.
    let target = count.max(table_len_share(set.len()));
    let (found, next) = table.scan_from(cursor, target);
    reply_scan_cursor(out, next.unwrap_or(0));
    let pos = out.array_start();
    let mut n = 0;
    for m in found {
        if keep(m) {
            out.bulk(m);
            n += 1;
        }
    }
    out.array_end(pos, n);
    Ok(())
}

/// How many members one SSCAN call takes at least from a set of `len`.
fn table_len_share(len: usize) -> usize {
    len / 16
}
