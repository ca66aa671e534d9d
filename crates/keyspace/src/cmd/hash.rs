//! The hash group, after Redis's `t_hash.c`: HSET and its variants, reads, counters,
//! HRANDFIELD and HSCAN as Redis 7.2 has them (same checks in the same order, same replies),
//! plus Redis 7.4's per-field TTLs (HEXPIRE, HTTL, HPERSIST and their variants) and
//! HSCAN's NOVALUES.
//!
//! The value type and its encodings are in `types/hash.rs`; a field past its TTL is
//! invisible here because every read goes through `Hash::get`/`iter` with the command's
//! clock; reads of a field by name (HGET, HMGET, HEXISTS, HSTRLEN) delete it then, as
//! Redis 7.4's lazy field expiry does, and listings skip it.

use std::cell::Cell;

use crate::cmd::generic::{reply_empty_scan, reply_scan_cursor, ExpireCond, ScanArgs, ScanExtra};
use crate::cmd::Ctx;
use crate::error::KsError;
use crate::keys::Keys;
use crate::notify::{Event, HASH};
use crate::number::{self, arg_i64, parse_cursor, IntBuf};
use crate::reply::ReplySink;
use crate::types::hash::{Hash, SetResult};

const HSET: Event = Event::new(HASH, "hset");
const HDEL: Event = Event::new(HASH, "hdel");
const HINCRBY: Event = Event::new(HASH, "hincrby");
const HINCRBYFLOAT: Event = Event::new(HASH, "hincrbyfloat");
const HEXPIRE: Event = Event::new(HASH, "hexpire");
const HPERSIST: Event = Event::new(HASH, "hpersist");
/// Redis 7.4: a field deleted because its TTL passed.
pub(crate) const HEXPIRED: Event = Event::new(HASH, "hexpired");

thread_local! {
    /// HRANDFIELD's generator: xorshift64, seeded per thread.
    static RNG: Cell<u64> = Cell::new({
        use std::hash::BuildHasher;
        foldhash::fast::RandomState::default().hash_one(0x4852_414e_u64) | 1
    });
}

/// A uniform random number in `0..n` (n > 0).
fn rand_below(n: usize) -> usize {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        // Multiply-shift: uniform enough for n far below 2^64.
        ((u128::from(x) * n as u128) >> 64) as usize
    })
}

/// HSET key field value [field value ...]
pub(crate) fn hset(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    hset_generic(ctx, argv, true)
}

/// HMSET key field value [field value ...]
pub(crate) fn hmset(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    hset_generic(ctx, argv, false)
}

/// `hsetCommand`: HSET replies the number of new fields, HMSET `+OK`.
fn hset_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], is_hset: bool) -> Result<(), KsError> {
    if argv.len() % 2 == 1 {
        return Err(KsError::WrongArgCount);
    }
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let now = keys.now_ms;
    let h = keys.write_or_create(key, Hash::new)?;
    h.try_conversion(&argv[2..], &lim);
    let mut created = 0;
    for fv in argv[2..].chunks_exact(2) {
        created += i64::from(h.set(fv[0], fv[1], now, &lim) == SetResult::Inserted);
    }
    keys.changed(key, HSET);
    if is_hset {
        out.int(created);
    } else {
        out.simple(b"OK");
    }
    Ok(())
}

/// HSETNX key field value
pub(crate) fn hsetnx(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let now = keys.now_ms;
    let h = keys.write_or_create(key, Hash::new)?;
    if h.get(argv[2], now).is_some() {
        out.int(0);
        return Ok(());
    }
    h.try_conversion(&argv[2..4], &lim);
    h.set(argv[2], argv[3], now, &lim);
    keys.changed(key, HSET);
    out.int(1);
    Ok(())
}

/// Redis 7.4's lazy field expiry (`hashTypeGetValue` under HFE_LAZY_EXPIRE): a field a
/// command reads by name that is past its TTL is deleted then, publishing `hexpired` (and
/// `del` when the hash empties). True when it was.
fn expired_on_read(h: &mut Hash, field: &[u8], now_ms: i64) -> bool {
    if h.field_expired(field, now_ms) {
        h.remove(field);
        true
    } else {
        false
    }
}

/// A read of one field by name: `f` sees its value, or `None` when the key or the field is
/// missing or the field has just expired on this read (see `expired_on_read`).
fn read_field<T>(
    keys: &mut Keys<'_, '_>,
    key: &[u8],
    field: &[u8],
    f: impl FnOnce(Option<&[u8]>) -> T,
) -> Result<T, KsError> {
    let now = keys.now_ms;
    match keys.read_as::<Hash>(key)? {
        None => return Ok(f(None)),
        Some(h) if !h.field_expired(field, now) => return Ok(f(h.get(field, now))),
        Some(h) => h.remove(field),
    };
    keys.changed(key, HEXPIRED);
    Ok(f(None))
}

/// HGET key field
pub(crate) fn hget(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    read_field(&mut keys, argv[1], argv[2], |v| match v {
        Some(v) => out.bulk(v),
        None => out.null(),
    })
}

/// HMGET key field [field ...]
pub(crate) fn hmget(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let mut h = keys.read_as::<Hash>(key)?;
    out.array(argv.len() - 2);
    let mut expired = false;
    for f in &argv[2..] {
        let Some(h) = h.as_deref_mut() else {
            out.null();
            continue;
        };
        if expired_on_read(h, f, now) {
            expired = true;
            out.null();
            continue;
        }
        match h.get(f, now) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    if expired {
        keys.changed(key, HEXPIRED);
    }
    Ok(())
}

/// HDEL key field [field ...]
pub(crate) fn hdel(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let Some(h) = keys.write_as::<Hash>(key)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for f in &argv[2..] {
        // An expired field is gone already as far as the client can tell (Redis 7.4).
        let live = !h.field_expired(f, now);
        if h.remove(f) && live {
            deleted += 1;
        }
        if h.len() == 0 {
            break;
        }
    }
    if deleted > 0 {
        keys.changed(key, HDEL);
    }
    out.int(deleted);
    Ok(())
}

/// HLEN key
pub(crate) fn hlen(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    // Redis 7.4 counts fields whose TTL passed but that are not deleted yet.
    let n = keys.read_as::<Hash>(argv[1])?.map_or(0, |h| h.len());
    out.int(n as i64);
    Ok(())
}

/// HSTRLEN key field
pub(crate) fn hstrlen(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = read_field(&mut keys, argv[1], argv[2], |v| v.map_or(0, <[u8]>::len))?;
    out.int(n as i64);
    Ok(())
}

/// HEXISTS key field
pub(crate) fn hexists(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let found = read_field(&mut keys, argv[1], argv[2], |v| v.is_some())?;
    out.int(i64::from(found));
    Ok(())
}

/// What `getall_generic` replies with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GetAll {
    Keys,
    Vals,
    Both,
}

/// `genericHgetallCommand`.
fn getall_generic(ctx: &mut Ctx<'_, '_>, key: &[u8], what: GetAll) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let Some(h) = keys.read_as::<Hash>(key)? else {
        match what {
            GetAll::Both => out.map(0),
            _ => out.array(0),
        }
        return Ok(());
    };
    let n = h.live_len(now);
    match what {
        GetAll::Both => out.map(n),
        _ => out.array(n),
    }
    for (f, v) in h.iter(now) {
        if what != GetAll::Vals {
            out.bulk(f);
        }
        if what != GetAll::Keys {
            out.bulk(v);
        }
    }
    Ok(())
}

/// HKEYS key
pub(crate) fn hkeys(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    getall_generic(ctx, argv[1], GetAll::Keys)
}

/// HVALS key
pub(crate) fn hvals(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    getall_generic(ctx, argv[1], GetAll::Vals)
}

/// HGETALL key
pub(crate) fn hgetall(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    getall_generic(ctx, argv[1], GetAll::Both)
}

/// HINCRBY key field increment
pub(crate) fn hincrby(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (key, field) = (argv[1], argv[2]);
    let incr = arg_i64(argv[3])?;
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let now = keys.now_ms;
    let h = keys.write_or_create(key, Hash::new)?;
    let old = match h.get(field, now) {
        Some(v) => number::parse_i64(v).ok_or(KsError::HashValueNotInteger),
        None => Ok(0),
    };
    let new = old.and_then(|old| old.checked_add(incr).ok_or(KsError::Overflow));
    let new = match new {
        Ok(n) => n,
        Err(e) => {
            drop_if_new(&mut keys, key);
            return Err(e);
        }
    };
    let mut ib = IntBuf::new();
    // Redis 7.4 keeps the field's TTL (HASH_SET_KEEP_TTL).
    h.set_keep_ttl(field, ib.format(new), now, &lim);
    keys.changed(key, HINCRBY);
    out.int(new);
    Ok(())
}

/// A key `write_or_create` made for a command that then failed: Redis looks the value up
/// before creating it, so it never exists; take it out again (its `new` event stays
/// recorded only if someone listens to NEW events, as a created-then-dropped key).
fn drop_if_new(keys: &mut Keys<'_, '_>, key: &[u8]) {
    let empty = keys
        .write_as::<Hash>(key)
        .ok()
        .flatten()
        .is_some_and(|h| h.len() == 0);
    if empty {
        keys.take(key);
    }
}

/// HINCRBYFLOAT key field increment
pub(crate) fn hincrbyfloat(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (key, field, incr) = (argv[1], argv[2], argv[3]);
    // The increment alone: not a float, or itself NaN/infinite ("value is NaN or Infinity").
    match number::incr_by_float(None, incr) {
        Err(KsError::NanOrInfinity) => return Err(KsError::ValueNanOrInfinity),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let (mut keys, out) = ctx.split();
    let lim = keys.ks.encoding_limits();
    let now = keys.now_ms;
    let h = keys.write_or_create(key, Hash::new)?;
    let new = match h.get(field, now) {
        Some(v) => number::incr_by_float(Some(v), incr).map_err(|e| match e {
            KsError::NotFloat => KsError::HashValueNotFloat,
            e => e,
        }),
        None => number::incr_by_float(None, incr),
    };
    let new = match new {
        Ok(n) => n,
        Err(e) => {
            drop_if_new(&mut keys, key);
            return Err(e);
        }
    };
    h.set_keep_ttl(field, &new, now, &lim);
    keys.changed(key, HINCRBYFLOAT);
    out.bulk(&new);
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
pub(crate) fn hrandfield(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    if argv.len() >= 3 {
        let l = arg_i64(argv[2])?;
        if l == i64::MIN {
            return Err(KsError::RandCountRange);
        }
        let withvalues = match argv.len() {
            3 => false,
            4 if argv[3].eq_ignore_ascii_case(b"withvalues") => {
                if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                    return Err(KsError::ValueOutOfRange);
                }
                true
            }
            _ => return Err(KsError::Syntax),
        };
        return hrandfield_with_count(ctx, argv[1], l, withvalues);
    }
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let Some(h) = keys.read_as::<Hash>(argv[1])? else {
        out.null();
        return Ok(());
    };
    if h.has_field_ttls() {
        let live: Vec<&[u8]> = h.iter(now).map(|(f, _)| f).collect();
        match live.len() {
            0 => out.null(),
            n => out.bulk(live[rand_below(n)]),
        }
    } else {
        out.bulk(h.nth(rand_below(h.len())).0);
    }
    Ok(())
}

/// One pair of an HRANDFIELD reply.
fn reply_pick(out: &mut ReplySink, (f, v): (&[u8], &[u8]), withvalues: bool) {
    if withvalues {
        out.pair();
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

/// `hrandfieldWithCountCommand`: a negative count picks with repeats, in random order; a
/// positive one picks distinct fields (the whole hash, in its order, when count covers it;
/// a listpack's picks in listpack order, as `lpRandomPairsUnique`).
fn hrandfield_with_count(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    l: i64,
    withvalues: bool,
) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let Some(h) = keys.read_as::<Hash>(key)? else {
        out.array(0);
        return Ok(());
    };
    let uniq = l >= 0;
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    // Small or TTL'd hashes are walked once into a list; a plain hashtable is picked from
    // directly (O(1) per pick).
    let list: Option<Vec<(&[u8], &[u8])>> =
        (h.is_listpack() || h.has_field_ttls()).then(|| h.iter(now).collect());
    let size = list.as_ref().map_or(h.len(), Vec::len);
    let pick = |i: usize| match &list {
        Some(l) => l[i],
        None => h.nth(i),
    };
    if size == 0 {
        out.array(0);
        return Ok(());
    }
    if !uniq || count == 1 {
        out.pairs_if(count, withvalues);
        for _ in 0..count {
            reply_pick(out, pick(rand_below(size)), withvalues);
        }
        return Ok(());
    }
    if count >= size {
        out.pairs_if(size, withvalues);
        for i in 0..size {
            reply_pick(out, pick(i), withvalues);
        }
        return Ok(());
    }
    out.pairs_if(count, withvalues);
    // Distinct picks: a partial Fisher-Yates over the positions.
    let mut idx: Vec<u32> = (0..size as u32).collect();
    for i in 0..count {
        let j = i + rand_below(size - i);
        idx.swap(i, j);
    }
    let chosen = &mut idx[..count];
    if list.is_some() {
        chosen.sort_unstable();
    }
    for &i in chosen.iter() {
        reply_pick(out, pick(i as usize), withvalues);
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]
///
/// The cursor of a hashtable is a position in the order of field hashes (fixed for the
/// process), so a field present for the whole scan is returned at least once whatever
/// happens to the table between calls; a listpack answers whole with cursor 0, as Redis.
/// NOVALUES is Redis 7.4's.
pub(crate) fn hscan(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let cursor = parse_cursor(argv[2])?;
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let Some(h) = keys.read_as::<Hash>(argv[1])? else {
        reply_empty_scan(out);
        return Ok(());
    };
    // Options are parsed after the lookup, as `scanGenericCommand` does.
    let ScanArgs {
        count,
        pattern,
        novalues,
        ..
    } = ScanArgs::parse(&argv[3..], ScanExtra::NoValues)?;
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, count, now, |f, v| {
        if pattern.is_none_or(|p| crate::glob::matches(p, f, false)) {
            found.push((f, v));
        }
    });
    reply_scan_cursor(out, next);
    out.array(if novalues {
        found.len()
    } else {
        2 * found.len()
    });
    for (f, v) in found {
        out.bulk(f);
        if !novalues {
            out.bulk(v);
        }
    }
    Ok(())
}

/// Redis 7.4's `HFE_MAX_ABS_TIME_MSEC`: the latest field TTL a command may set (ms).
const HFE_MAX_ABS_TIME_MS: i64 = ((1i64 << 48) - 1) >> 2;

/// Check `FIELDS numfields field...` starting at `argv[at - 1]`; returns the fields.
fn hfe_fields<'a, 'b>(
    argv: &'b [&'a [u8]],
    at: usize,
    not_positive: KsError,
) -> Result<&'b [&'a [u8]], KsError> {
    if !argv
        .get(at - 1)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"fields"))
    {
        return Err(KsError::MandatoryFields);
    }
    let n = argv
        .get(at)
        .and_then(|a| number::parse_i64(a))
        .filter(|&n| n >= 1)
        .ok_or(not_positive)?;
    if n as u64 != (argv.len() - at - 1) as u64 {
        return Err(KsError::NumFieldsMismatch);
    }
    Ok(&argv[at + 1..])
}

/// HEXPIRE key seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub(crate) fn hexpire(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let now = ctx.sess.now_ms;
    hexpire_generic(ctx, argv, now, true)
}

/// HPEXPIRE key milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub(crate) fn hpexpire(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let now = ctx.sess.now_ms;
    hexpire_generic(ctx, argv, now, false)
}

/// HEXPIREAT key unix-time-seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub(crate) fn hexpireat(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    hexpire_generic(ctx, argv, 0, true)
}

/// HPEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub(crate) fn hpexpireat(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    hexpire_generic(ctx, argv, 0, false)
}

/// Redis 7.4's `hexpireGenericCommand`: per field -2 (no such field), 0 (condition not
/// met), 1 (TTL set) or 2 (deleted: the time is already past). Publishes `hexpire`, or
/// `hdel` when a field was deleted (then `del` if the hash emptied).
fn hexpire_generic(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    base_ms: i64,
    seconds: bool,
) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    // The key is looked up (and type-checked) before the arguments, as in Redis 7.4.
    let exists = keys.write_as::<Hash>(key)?.is_some();
    let mut at = arg_i64(argv[2])?;
    if at < 0 {
        return Err(KsError::HfeNegativeTime);
    }
    if seconds {
        if at > HFE_MAX_ABS_TIME_MS / 1000 {
            return Err(KsError::InvalidExpireTime);
        }
        at *= 1000;
    }
    if at > HFE_MAX_ABS_TIME_MS - base_ms {
        return Err(KsError::InvalidExpireTime);
    }
    at += base_ms;
    // One optional condition, unlike EXPIRE's list (Redis 7.4's hexpireGenericCommand).
    let cond = ExpireCond::parse(argv[3]);
    let fields_at = if cond.is_none() { 4 } else { 5 };
    let fields = hfe_fields(argv, fields_at, KsError::NumFieldsNotPositive)?;
    out.array(fields.len());
    let h = match keys.write_as::<Hash>(key)? {
        Some(h) if exists => h,
        _ => {
            for _ in fields {
                out.int(-2);
            }
            return Ok(());
        }
    };
    h.enable_ttls();
    let (mut updated, mut deleted) = (0, 0);
    for f in fields {
        if h.get(f, now).is_none() {
            out.int(-2);
            continue;
        }
        let met = cond.is_none_or(|c| c.allows(h.field_ttl(f), at));
        if !met {
            out.int(0);
        } else if at <= now {
            h.remove(f);
            deleted += 1;
            out.int(2);
        } else {
            h.set_field_ttl(f, at);
            updated += 1;
            out.int(1);
        }
    }
    if updated > 0 {
        keys.hfe_register(key);
    }
    if deleted > 0 {
        keys.changed(key, HDEL);
    } else if updated > 0 {
        keys.changed(key, HEXPIRE);
    }
    Ok(())
}

/// What `httl_generic` replies per field.
#[derive(Clone, Copy)]
enum TtlUnit {
    /// HTTL: seconds left, rounded up.
    Ttl,
    /// HPTTL: milliseconds left.
    PTtl,
    /// HEXPIRETIME: Unix seconds.
    ExpireTime,
    /// HPEXPIRETIME: Unix milliseconds.
    PExpireTime,
}

/// HTTL key FIELDS numfields field [field ...]
pub(crate) fn httl(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    httl_generic(ctx, argv, TtlUnit::Ttl)
}

/// HPTTL key FIELDS numfields field [field ...]
pub(crate) fn hpttl(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    httl_generic(ctx, argv, TtlUnit::PTtl)
}

/// HEXPIRETIME key FIELDS numfields field [field ...]
pub(crate) fn hexpiretime(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    httl_generic(ctx, argv, TtlUnit::ExpireTime)
}

/// HPEXPIRETIME key FIELDS numfields field [field ...]
pub(crate) fn hpexpiretime(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    httl_generic(ctx, argv, TtlUnit::PExpireTime)
}

/// Redis 7.4's `httlGenericCommand`: per field -2 (no such field, or expired), -1 (no TTL)
/// or the TTL in the command's unit.
fn httl_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], unit: TtlUnit) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let h = keys.read_as::<Hash>(argv[1])?;
    let fields = hfe_fields(argv, 3, KsError::NumFieldsNotPositiveInt)?;
    out.array(fields.len());
    for f in fields {
        let Some(h) = h.as_ref().filter(|h| h.contains_raw(f)) else {
            out.int(-2);
            continue;
        };
        match h.field_ttl(f) {
            None => out.int(-1),
            Some(at) if at <= now => out.int(-2),
            Some(at) => out.int(match unit {
                TtlUnit::Ttl => (at + 999 - now) / 1000,
                TtlUnit::PTtl => at - now,
                TtlUnit::ExpireTime => (at + 999) / 1000,
                TtlUnit::PExpireTime => at,
            }),
        }
    }
    Ok(())
}

/// HPERSIST key FIELDS numfields field [field ...]
///
/// Redis 7.4: per field -2 (no such field, or expired), -1 (no TTL) or 1 (TTL removed);
/// `hpersist` is published when any TTL was removed.
pub(crate) fn hpersist(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let now = keys.now_ms;
    let exists = keys.write_as::<Hash>(key)?.is_some();
    let fields = hfe_fields(argv, 3, KsError::NumFieldsNotPositiveInt)?;
    out.array(fields.len());
    let h = match keys.write_as::<Hash>(key)? {
        Some(h) if exists => h,
        _ => {
            for _ in fields {
                out.int(-2);
            }
            return Ok(());
        }
    };
    let mut changed = false;
    for f in fields {
        if !h.contains_raw(f) {
            out.int(-2);
            continue;
        }
        match h.field_ttl(f) {
            None => out.int(-1),
            // Redis 7.4 compares with `<` here (`<=` in HTTL).
            Some(at) if at < now => out.int(-2),
            Some(_) => {
                h.clear_field_ttl(f);
                changed = true;
                out.int(1);
            }
        }
    }
    if changed {
        keys.changed(key, HPERSIST);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Op;
    use crate::notify::{flags_from_letters, Effects};
    use crate::reply::{decode, Reply};
    use crate::{Config, Keyspace, Session};

    const T0: i64 = 1_700_000_000_000;

    /// Run `line` as `sess` would.
    fn run(ks: &Keyspace, sess: &mut Session, line: &str) -> Reply {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let name = match argv[0] {
            b"object" => "object|encoding".to_string(),
            n => String::from_utf8_lossy(n).to_lowercase(),
        };
        let op = Op::from_name(&name).unwrap_or_else(|| panic!("no op {name}"));
        let mut out = ReplySink::new();
        ks.run(sess, op as u16, &argv, &mut out);
        decode(out.as_bytes()).unwrap().remove(0)
    }

    fn ints(v: &[i64]) -> Reply {
        Reply::Array(v.iter().map(|&i| Reply::Int(i)).collect())
    }

    fn bulks(v: &[&str]) -> Reply {
        Reply::Array(v.iter().map(|s| Reply::bulk(s.as_bytes())).collect())
    }

    fn bulks_or_null(v: &[Option<&str>]) -> Reply {
        Reply::Array(
            v.iter()
                .map(|s| s.map_or(Reply::Null, |s| Reply::bulk(s.as_bytes())))
                .collect(),
        )
    }

    fn err(e: KsError) -> Reply {
        Reply::error(e.text())
    }

    #[test]
    fn hscan_novalues_returns_fields_only() {
        let ks = Keyspace::new(Config::default());
        let mut s = Session::new(T0);
        run(&ks, &mut s, "hset h a 1 b 2");
        assert_eq!(
            run(&ks, &mut s, "hscan h 0 novalues"),
            Reply::Array(vec![Reply::bulk(b"0"), bulks(&["a", "b"])])
        );
        assert_eq!(
            run(&ks, &mut s, "hscan h 0 match b NOVALUES count 5"),
            Reply::Array(vec![Reply::bulk(b"0"), bulks(&["b"])])
        );
        // A hashtable, walked to the end in small steps.
        ks.set_encoding_limit("hash-max-listpack-entries", 0);
        for i in 0..50 {
            run(&ks, &mut s, &format!("hset big f{i} v{i}"));
        }
        let mut seen = Vec::new();
        let mut cursor = b"0".to_vec();
        loop {
            let line = format!("hscan big {} count 7 novalues", cursor.escape_ascii());
            let Reply::Array(r) = run(&ks, &mut s, &line) else {
                panic!()
            };
            let Reply::Array(items) = &r[1] else { panic!() };
            seen.extend(items.iter().cloned());
            let Reply::Bulk(c) = &r[0] else { panic!() };
            cursor = c.clone();
            if cursor == b"0" {
                break;
            }
        }
        seen.sort_by_key(|r| format!("{r:?}"));
        seen.dedup();
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn hrandfield_is_uniform_with_and_without_repeats() {
        for limit in [128, 0] {
            let ks = Keyspace::new(Config::default());
            ks.set_encoding_limit("hash-max-listpack-entries", limit);
            let mut s = Session::new(T0);
            run(&ks, &mut s, "hset h a 1 b 2 c 3 d 4");
            let Reply::Array(picks) = run(&ks, &mut s, "hrandfield h -40000") else {
                panic!()
            };
            let mut counts = std::collections::BTreeMap::new();
            for p in picks {
                *counts.entry(format!("{p:?}")).or_insert(0) += 1;
            }
            assert_eq!(counts.len(), 4);
            for (f, n) in counts {
                assert!((9_000..11_000).contains(&n), "{f}: {n} of 40000");
            }
            // Positive counts are distinct; single picks cover every field.
            let mut singles = std::collections::BTreeSet::new();
            for _ in 0..200 {
                let Reply::Array(two) = run(&ks, &mut s, "hrandfield h 2") else {
                    panic!()
                };
                assert_eq!(two.len(), 2);
                assert_ne!(two[0], two[1]);
                singles.insert(format!("{:?}", run(&ks, &mut s, "hrandfield h")));
            }
            assert_eq!(singles.len(), 4);
        }
    }

    #[test]
    fn field_ttls_follow_redis_7_4() {
        let ks = Keyspace::new(Config::default());
        ks.set_notify_flags(flags_from_letters(b"KEA").unwrap());
        let mut s = Session::new(T0);
        run(&ks, &mut s, "hset h a 1 b 2 c 3 d 4");
        assert_eq!(
            run(&ks, &mut s, "object encoding h"),
            Reply::bulk(b"listpack")
        );
        s.fx.clear();
        assert_eq!(
            run(&ks, &mut s, "hexpire h 100 FIELDS 2 a nosuch"),
            ints(&[1, -2])
        );
        let names: Vec<&str> = s.fx.events.iter().map(|e| e.event.name).collect();
        assert_eq!(names, vec!["hexpire"]);
        assert_eq!(
            run(&ks, &mut s, "object encoding h"),
            Reply::bulk(b"listpackex")
        );
        assert_eq!(
            run(&ks, &mut s, "httl h fields 3 a b nosuch"),
            ints(&[100, -1, -2])
        );
        assert_eq!(run(&ks, &mut s, "hpttl h fields 1 a"), ints(&[100_000]));
        assert_eq!(
            run(&ks, &mut s, "hexpiretime h fields 1 a"),
            ints(&[T0 / 1000 + 100])
        );
        assert_eq!(
            run(&ks, &mut s, "hpexpiretime h fields 1 a"),
            ints(&[T0 + 100_000])
        );
        assert_eq!(run(&ks, &mut s, "httl nokey fields 1 a"), ints(&[-2]));
        // Conditions: a field without TTL counts as never expiring.
        assert_eq!(
            run(&ks, &mut s, "hexpire h 200 GT fields 2 a b"),
            ints(&[1, 0])
        );
        assert_eq!(
            run(&ks, &mut s, "hexpire h 300 lt fields 2 a b"),
            ints(&[0, 1])
        );
        assert_eq!(
            run(&ks, &mut s, "hexpire h 10 NX fields 2 a c"),
            ints(&[0, 1])
        );
        assert_eq!(
            run(&ks, &mut s, "hexpire h 50 XX fields 2 a d"),
            ints(&[1, 0])
        );
        assert_eq!(
            run(&ks, &mut s, "httl h fields 4 a b c d"),
            ints(&[50, 300, 10, -1])
        );
        assert_eq!(
            run(&ks, &mut s, "hpexpireat h 1 fields 1 nosuch"),
            ints(&[-2])
        );
        // HPERSIST.
        s.fx.clear();
        assert_eq!(
            run(&ks, &mut s, "hpersist h fields 3 b d nosuch"),
            ints(&[1, -1, -2])
        );
        assert_eq!(s.fx.events[0].event.name, "hpersist");
        s.fx.clear();
        assert_eq!(run(&ks, &mut s, "hpersist h fields 1 d"), ints(&[-1]));
        assert!(s.fx.events.is_empty());
        // A time already past deletes the field (2) and publishes hdel.
        assert_eq!(run(&ks, &mut s, "hexpireat h 1 fields 1 d"), ints(&[2]));
        assert_eq!(s.fx.events[0].event.name, "hdel");
        assert_eq!(run(&ks, &mut s, "hexists h d"), Reply::Int(0));
        // Errors, in Redis 7.4's order and words.
        for (line, e) in [
            ("hexpire h -1 fields 1 a", KsError::HfeNegativeTime),
            ("hexpire h x fields 1 a", KsError::NotInteger),
            ("hexpire h 10 fields 0 a", KsError::NumFieldsNotPositive),
            (
                "hexpire h 70368744177664 fields 1 a",
                KsError::InvalidExpireTime,
            ),
            (
                "hpexpireat h 70368744177664 fields 1 a",
                KsError::InvalidExpireTime,
            ),
            ("hexpire h 10 fields x a", KsError::NumFieldsNotPositive),
            ("hexpire h 10 fields 2 a", KsError::NumFieldsMismatch),
            ("hexpire h 10 foo 1 a", KsError::MandatoryFields),
            ("hexpire h 10 nx xx fields 1 a", KsError::MandatoryFields),
            ("httl h fields 0 a", KsError::NumFieldsNotPositiveInt),
            ("httl h fieldz 1 a", KsError::MandatoryFields),
            ("hpersist h fields 2 a", KsError::NumFieldsMismatch),
        ] {
            let want = match e {
                KsError::InvalidExpireTime => {
                    let cmd = line.split(' ').next().unwrap_or("");
                    Reply::error(&format!("ERR invalid expire time in '{cmd}' command"))
                }
                e => err(e),
            };
            assert_eq!(run(&ks, &mut s, line), want, "{line}");
        }
        run(&ks, &mut s, "set str v");
        assert_eq!(
            run(&ks, &mut s, "hexpire str 10 fields 1 a"),
            err(KsError::WrongType)
        );
        assert_eq!(
            run(&ks, &mut s, "httl str fields 1 a"),
            err(KsError::WrongType)
        );
        assert_eq!(
            run(&ks, &mut s, "hexpire nokey 10 fields 2 a b"),
            ints(&[-2, -2])
        );
        assert_eq!(run(&ks, &mut s, "exists nokey"), Reply::Int(0));
    }

    #[test]
    fn expired_fields_vanish_lazily_then_actively() {
        let ks = Keyspace::new(Config::default());
        ks.set_notify_flags(flags_from_letters(b"KEA").unwrap());
        let mut s = Session::new(T0);
        run(&ks, &mut s, "hset h a 1 b 2");
        run(&ks, &mut s, "hset g x 1");
        assert_eq!(run(&ks, &mut s, "hpexpire h 10 fields 1 a"), ints(&[1]));
        assert_eq!(run(&ks, &mut s, "hpexpire g 10 fields 1 x"), ints(&[1]));
        s.now_ms += 10;
        // Lazily: listings skip it and HLEN still counts it, as Redis 7.4 documents...
        assert_eq!(run(&ks, &mut s, "hlen h"), Reply::Int(2));
        assert_eq!(
            run(&ks, &mut s, "hgetall h"),
            Reply::Map(vec![(Reply::bulk(b"b"), Reply::bulk(b"2"))])
        );
        assert_eq!(run(&ks, &mut s, "hkeys g"), bulks(&[]));
        assert_eq!(run(&ks, &mut s, "httl h fields 1 a"), ints(&[-2]));
        assert_eq!(run(&ks, &mut s, "hlen h"), Reply::Int(2));
        // ...and a read of the field by name deletes it (hexpired; del with the last one).
        s.fx.clear();
        assert_eq!(
            run(&ks, &mut s, "hmget h b a"),
            bulks_or_null(&[Some("2"), None])
        );
        assert_eq!(s.fx.events[0].event.name, "hexpired");
        assert_eq!(run(&ks, &mut s, "hlen h"), Reply::Int(1));
        assert_eq!(run(&ks, &mut s, "hget h a"), Reply::Null);
        run(&ks, &mut s, "hset lz x 1");
        run(&ks, &mut s, "hpexpire lz 5 fields 1 x");
        s.now_ms += 5;
        s.fx.clear();
        assert_eq!(run(&ks, &mut s, "hexists lz x"), Reply::Int(0));
        let names: Vec<&str> = s.fx.events.iter().map(|e| e.event.name).collect();
        assert_eq!(names, vec!["hexpired", "del"]);
        assert_eq!(run(&ks, &mut s, "exists lz"), Reply::Int(0));
        s.now_ms -= 5;
        run(&ks, &mut s, "hset h a 1");
        run(&ks, &mut s, "hpexpire h 10 fields 1 a");
        // HINCRBY keeps a live field's TTL, HSET drops it.
        run(&ks, &mut s, "hset k n 1");
        run(&ks, &mut s, "hpexpire k 100 fields 1 n");
        assert_eq!(run(&ks, &mut s, "hincrby k n 1"), Reply::Int(2));
        assert_eq!(run(&ks, &mut s, "hincrbyfloat k n 1"), Reply::bulk(b"3"));
        assert_eq!(run(&ks, &mut s, "hpttl k fields 1 n"), ints(&[100]));
        run(&ks, &mut s, "hset k n 1");
        assert_eq!(run(&ks, &mut s, "hpttl k fields 1 n"), ints(&[-1]));
        // Writing an expired field makes it a new one.
        assert_eq!(run(&ks, &mut s, "hsetnx g x 2"), Reply::Int(1));
        assert_eq!(run(&ks, &mut s, "httl g fields 1 x"), ints(&[-1]));
        assert_eq!(run(&ks, &mut s, "hpexpire g 10 fields 1 x"), ints(&[1]));
        // Actively: the cycle deletes the fields, and a hash it empties.
        let mut fx = Effects::default();
        let v = ks.key_version(b"g");
        assert_eq!(ks.active_expire_fields(s.now_ms + 10, 100, &mut fx), 2);
        assert_ne!(ks.key_version(b"g"), v);
        let mut names: Vec<(String, &str)> = fx
            .events
            .iter()
            .map(|e| (String::from_utf8_lossy(&e.key).into_owned(), e.event.name))
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                ("g".to_string(), "del"),
                ("g".to_string(), "hexpired"),
                ("h".to_string(), "hexpired")
            ]
        );
        assert_eq!(run(&ks, &mut s, "hlen h"), Reply::Int(1));
        assert_eq!(run(&ks, &mut s, "exists g"), Reply::Int(0));
        // Nothing left to do; a bounded budget stops early and resumes later.
        assert_eq!(ks.active_expire_fields(s.now_ms + 10, 100, &mut fx), 0);
        ks.set_encoding_limit("hash-max-listpack-entries", 0);
        for i in 0..300 {
            run(&ks, &mut s, &format!("hset big f{i} v"));
            run(&ks, &mut s, &format!("hpexpire big 5 fields 1 f{i}"));
        }
        assert_eq!(
            run(&ks, &mut s, "object encoding big"),
            Reply::bulk(b"hashtable")
        );
        let later = s.now_ms + 100;
        assert_eq!(ks.active_expire_fields(later, 100, &mut fx), 100);
        assert_eq!(ks.active_expire_fields(later, 1000, &mut fx), 200);
        assert_eq!(run(&ks, &mut s, "exists big"), Reply::Int(0));
    }

    #[test]
    fn renamed_moved_and_copied_hashes_keep_expiring_fields() {
        let ks = Keyspace::new(Config::default());
        let mut s = Session::new(T0);
        for k in ["r", "m", "c"] {
            run(&ks, &mut s, &format!("hset {k} a 1 b 2"));
            run(&ks, &mut s, &format!("hpexpire {k} 10 fields 1 a"));
        }
        run(&ks, &mut s, "rename r r2");
        run(&ks, &mut s, "move m 1");
        run(&ks, &mut s, "copy c c2");
        let mut fx = crate::notify::Effects::default();
        // r2, m (db 1), c and c2: one field each.
        assert_eq!(ks.active_expire_fields(T0 + 20, 100, &mut fx), 4);
        assert_eq!(run(&ks, &mut s, "hlen r2"), Reply::Int(1));
        assert_eq!(run(&ks, &mut s, "hlen c2"), Reply::Int(1));
        s.db = 1;
        assert_eq!(run(&ks, &mut s, "hlen m"), Reply::Int(1));
    }
}
