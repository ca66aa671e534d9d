//! The string group: SET and its variants, GET and its variants, counters, ranges and LCS,
//! after Redis's `t_string.c` (same checks, in the same order, with the same replies).

use crate::cmd::generic::{EXPIRE, PERSIST};
use crate::cmd::{Ctx, Op};
use crate::entry::{Entry, StrEnc};
use crate::error::KsError;
use crate::keys::Keys;
use crate::notify::{self, Event, STRING};
use crate::number::{self, arg_i64, IntBuf};
use crate::reply::SPLICE_MIN;

const SET: Event = Event::new(STRING, "set");
const APPEND: Event = Event::new(STRING, "append");
const SETRANGE: Event = Event::new(STRING, "setrange");
const INCRBY: Event = Event::new(STRING, "incrby");
const INCRBYFLOAT: Event = Event::new(STRING, "incrbyfloat");

/// Redis's default proto-max-bulk-len: no string may grow past 512 MB.
pub(crate) const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;

/// `checkStringLength`: may a string of `size` bytes grow by `append`?
fn check_string_length(size: i64, append: i64) -> Result<(), KsError> {
    match size.checked_add(append) {
        Some(total) if total <= PROTO_MAX_BULK_LEN => Ok(()),
        _ => Err(KsError::StringTooLong),
    }
}

/// The unit and base of an expire argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    /// EX: seconds from now.
    Ex,
    /// PX: milliseconds from now.
    Px,
    /// EXAT: Unix seconds.
    ExAt,
    /// PXAT: Unix milliseconds.
    PxAt,
}

/// The options of SET and GETEX (Redis's `parseExtendedStringArgumentsOrReply`).
#[derive(Debug, Default)]
struct ExtArgs<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireUnit, &'a [u8])>,
}

/// Parse SET (`is_set`) or GETEX options from `argv[start..]`. Each option is accepted only
/// when it does not conflict with one seen before, exactly as Redis's chain of conditions;
/// anything else is a syntax error.
fn parse_ext<'a>(argv: &[&'a [u8]], start: usize, is_set: bool) -> Result<ExtArgs<'a>, KsError> {
    let mut a = ExtArgs::default();
    let mut j = start;
    while j < argv.len() {
        let opt = argv[j];
        let next = argv.get(j + 1).copied();
        let has_expire = a.expire.is_some();
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        if is("nx") && !a.xx && is_set {
            a.nx = true;
        } else if is("xx") && !a.nx && is_set {
            a.xx = true;
        } else if is("get") && is_set {
            a.get = true;
        } else if is("keepttl") && !a.persist && !has_expire && is_set {
            a.keep_ttl = true;
        } else if is("persist") && !is_set && !has_expire && !a.keep_ttl {
            a.persist = true;
        } else if let (Some(unit), Some(arg)) = (expire_unit(opt), next) {
            // Redis lets the same unit appear twice (the last wins) but no two units.
            let same_or_none = a.expire.is_none_or(|(u, _)| u == unit);
            if a.keep_ttl || a.persist || !same_or_none {
                return Err(KsError::Syntax);
            }
            a.expire = Some((unit, arg));
            j += 1;
        } else {
            return Err(KsError::Syntax);
        }
        j += 1;
    }
    Ok(a)
}

fn expire_unit(opt: &[u8]) -> Option<ExpireUnit> {
    if opt.eq_ignore_ascii_case(b"ex") {
        Some(ExpireUnit::Ex)
    } else if opt.eq_ignore_ascii_case(b"px") {
        Some(ExpireUnit::Px)
    } else if opt.eq_ignore_ascii_case(b"exat") {
        Some(ExpireUnit::ExAt)
    } else if opt.eq_ignore_ascii_case(b"pxat") {
        Some(ExpireUnit::PxAt)
    } else {
        None
    }
}

/// `getExpireMillisecondsOrReply`: the absolute expiry time in ms of an EX/PX/EXAT/PXAT
/// argument; non-positive values and overflow are "invalid expire time in '<cmd>'".
fn expire_at_ms(unit: ExpireUnit, arg: &[u8], now_ms: i64) -> Result<i64, KsError> {
    let mut ms = arg_i64(arg)?;
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(KsError::InvalidExpireTime);
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
        // Redis adds with C overflow and then rejects a non-positive result.
        ms = ms.wrapping_add(now_ms);
    }
    if ms <= 0 {
        return Err(KsError::InvalidExpireTime);
    }
    Ok(ms)
}

/// `getGenericCommand`: reply with the string value of `key` or null. WRONGTYPE when the
/// key holds another type.
fn get_generic(
    keys: &mut Keys<'_, '_>,
    out: &mut crate::ReplySink,
    key: &[u8],
) -> Result<(), KsError> {
    match keys.read(key) {
        None => out.null(),
        Some(e) => {
            if !bulk_value(out, e) {
                return Err(KsError::WrongType);
            }
        }
    }
    Ok(())
}

/// Reply with `e`'s string value (a big raw one goes to the client's queue by reference,
/// not copied); false, writing nothing, when `e` holds another type. A big inline value read
/// by a client whose replies go by reference gets a buffer of its own first: the one copy
/// this reply would have made, and later GETs send that buffer. A value only ever written
/// stays inline, where an overwrite is cheapest.
fn bulk_value(out: &mut crate::ReplySink, e: &mut Entry) -> bool {
    if out.splices()
        && e.shared_str().is_none()
        && e.str_value().is_some_and(|v| v.len() >= SPLICE_MIN)
    {
        e.str_raw_mut();
    }
    match (e.shared_str(), e.str_value()) {
        (Some(v), _) => out.bulk_shared(v),
        (None, Some(v)) => out.bulk(v),
        (None, None) => return false,
    }
    true
}

/// How `set_generic` answers (SET, SETNX, SETEX and PSETEX differ only here).
#[derive(Clone, Copy)]
enum SetReply {
    /// `+OK`, or null when NX/XX stopped it.
    OkOrNull,
    /// `:1`, or `:0` when NX stopped it (SETNX).
    OneOrZero,
}

/// The value a SET-family command stores: an argument to copy, or the caller's own buffer
/// holding it (a big last argument, see `Keyspace::run_owned`), which is kept without a copy.
/// The buffer leaves its `Option` only when it is stored: on an error or an NX/XX miss it
/// stays with the caller, which frees it when the command ends.
enum StrArg<'v> {
    Borrowed(&'v [u8]),
    Owned(&'v mut Option<Vec<u8>>),
}

/// `setGenericCommand`.
fn set_generic(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    val: StrArg<'_>,
    a: &ExtArgs<'_>,
    reply: SetReply,
) -> Result<(), KsError> {
    let now = ctx.sess.now_ms;
    let when = match a.expire {
        Some((unit, arg)) => Some(expire_at_ms(unit, arg, now)?),
        None => None,
    };
    let (mut keys, out) = ctx.split();
    if a.get {
        get_generic(&mut keys, out, key)?;
    }
    // Only NX/XX need to know whether the key exists; `set_str` looks it up (expiring and
    // touching it) either way, so a plain SET does one lookup, not two.
    let found = (a.nx || a.xx) && keys.write(key).is_some();
    if (a.nx && found) || (a.xx && !found) {
        if !a.get {
            match reply {
                SetReply::OkOrNull => out.null(),
                SetReply::OneOrZero => out.int(0),
            }
        }
        return Ok(());
    }
    let keep_ttl = a.keep_ttl || when.is_some();
    match val {
        StrArg::Borrowed(val) => keys.set_str(key, val, StrEnc::for_value(val), keep_ttl),
        StrArg::Owned(val) => keys.set_str_owned(key, val.take().unwrap_or_default(), keep_ttl),
    }
    keys.changed(key, SET);
    if let Some(when) = when {
        // A time already past leaves a logically expired key, as Redis 7.0/7.2 do: the next
        // access or the active cycle deletes it.
        keys.set_expire(key, Some(when));
        keys.changed(key, EXPIRE);
    }
    if !a.get {
        match reply {
            SetReply::OkOrNull => out.simple(b"OK"),
            SetReply::OneOrZero => out.int(1),
        }
    }
    Ok(())
}

/// GET key
pub(crate) fn get(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    get_generic(&mut keys, out, argv[1])
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]
pub(crate) fn set(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let a = parse_ext(argv, 3, true)?;
    set_generic(
        ctx,
        argv[1],
        StrArg::Borrowed(argv[2]),
        &a,
        SetReply::OkOrNull,
    )
}

/// SETNX key value
pub(crate) fn setnx(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let a = ExtArgs {
        nx: true,
        ..ExtArgs::default()
    };
    set_generic(
        ctx,
        argv[1],
        StrArg::Borrowed(argv[2]),
        &a,
        SetReply::OneOrZero,
    )
}

/// SETEX key seconds value
pub(crate) fn setex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let a = ExtArgs {
        expire: Some((ExpireUnit::Ex, argv[2])),
        ..ExtArgs::default()
    };
    set_generic(
        ctx,
        argv[1],
        StrArg::Borrowed(argv[3]),
        &a,
        SetReply::OkOrNull,
    )
}

/// PSETEX key milliseconds value
pub(crate) fn psetex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let a = ExtArgs {
        expire: Some((ExpireUnit::Px, argv[2])),
        ..ExtArgs::default()
    };
    set_generic(
        ctx,
        argv[1],
        StrArg::Borrowed(argv[3]),
        &a,
        SetReply::OkOrNull,
    )
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
pub(crate) fn getex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let a = parse_ext(argv, 2, false)?;
    let now = ctx.sess.now_ms;
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.read(key) else {
        out.null();
        return Ok(());
    };
    let e_ttl = e.expire_at().is_some();
    let val = e.string()?;
    // Redis validates the time only once the key is known to exist and be a string.
    let when = match a.expire {
        Some((unit, arg)) => Some(expire_at_ms(unit, arg, now)?),
        None => None,
    };
    out.bulk(val);
    let absolute = matches!(a.expire, Some((ExpireUnit::ExAt | ExpireUnit::PxAt, _)));
    match when {
        // checkAlreadyExpired: an absolute time not in the future deletes the key now.
        Some(when) if absolute && when <= now => {
            keys.deleted(key, notify::DEL);
        }
        Some(when) => {
            keys.set_expire(key, Some(when));
            keys.changed(key, EXPIRE);
        }
        None if a.persist && e_ttl => {
            keys.set_expire(key, None);
            keys.changed(key, PERSIST);
        }
        None => {}
    }
    Ok(())
}

/// GETDEL key
pub(crate) fn getdel(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    get_generic(&mut keys, out, argv[1])?;
    keys.deleted(argv[1], notify::DEL);
    Ok(())
}

/// GETSET key value
pub(crate) fn getset(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    get_generic(&mut keys, out, argv[1])?;
    keys.set_str(argv[1], argv[2], StrEnc::for_value(argv[2]), false);
    keys.changed(argv[1], SET);
    Ok(())
}

/// SET, SETNX, SETEX, PSETEX and GETSET when the caller owns the last argument (`head` is
/// argv without it): the value, when it is that argument, is stored without a copy. SET with
/// options has an option last, so it takes the borrowed path like every other command.
pub(crate) fn set_adopt(
    ctx: &mut Ctx<'_, '_>,
    head: &[&[u8]],
    last: &mut Option<Vec<u8>>,
    op: Op,
) -> Result<(), KsError> {
    let (a, reply) = match (op, head) {
        (Op::Set, [_, _]) => (ExtArgs::default(), SetReply::OkOrNull),
        (Op::SetNx, [_, _]) => {
            let a = ExtArgs {
                nx: true,
                ..ExtArgs::default()
            };
            (a, SetReply::OneOrZero)
        }
        (Op::SetEx | Op::PSetEx, [_, _, ttl]) => {
            let unit = if op == Op::SetEx {
                ExpireUnit::Ex
            } else {
                ExpireUnit::Px
            };
            let a = ExtArgs {
                expire: Some((unit, *ttl)),
                ..ExtArgs::default()
            };
            (a, SetReply::OkOrNull)
        }
        (Op::GetSet, [_, key]) => {
            let (mut keys, out) = ctx.split();
            get_generic(&mut keys, out, key)?;
            keys.set_str_owned(key, last.take().unwrap_or_default(), false);
            keys.changed(key, SET);
            return Ok(());
        }
        _ => return crate::cmd::run_borrowed(ctx, op, head, last),
    };
    set_generic(ctx, head[1], StrArg::Owned(last), &a, reply)
}

/// MGET key [key ...]
pub(crate) fn mget(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    out.array(argv.len() - 1);
    for key in &argv[1..] {
        // A non-string is a null here, not an error (Redis's mgetCommand).
        if !keys.read(key).is_some_and(|e| bulk_value(out, e)) {
            out.null();
        }
    }
    Ok(())
}

/// `msetGenericCommand`.
fn mset_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], nx: bool) -> Result<(), KsError> {
    if argv.len().is_multiple_of(2) {
        return Err(KsError::WrongArgCount);
    }
    let (mut keys, out) = ctx.split();
    for kv in argv[1..].chunks_exact(2) {
        keys.prefetch(kv[0]);
    }
    if nx
        && argv[1..]
            .chunks_exact(2)
            .any(|kv| keys.write(kv[0]).is_some())
    {
        out.int(0);
        return Ok(());
    }
    for kv in argv[1..].chunks_exact(2) {
        keys.set_str(kv[0], kv[1], StrEnc::for_value(kv[1]), false);
        keys.changed(kv[0], SET);
    }
    if nx {
        out.int(1);
    } else {
        out.simple(b"OK");
    }
    Ok(())
}

/// MSET key value [key value ...]
pub(crate) fn mset(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    mset_generic(ctx, argv, false)
}

/// MSETNX key value [key value ...]
pub(crate) fn msetnx(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    mset_generic(ctx, argv, true)
}

/// APPEND key value
pub(crate) fn append(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (key, tail) = (argv[1], argv[2]);
    let (mut keys, out) = ctx.split();
    let total = match keys.write(key) {
        None => {
            keys.set_str(key, tail, StrEnc::for_value(tail), false);
            tail.len()
        }
        Some(e) => {
            let cur = e.string()?.len();
            check_string_length(cur as i64, tail.len() as i64)?;
            let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
            raw.extend_from_slice(tail);
            raw.len()
        }
    };
    keys.changed(key, APPEND);
    out.int(total as i64);
    Ok(())
}

/// STRLEN key
pub(crate) fn strlen(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = match keys.read(argv[1]) {
        None => 0,
        Some(e) => e.string()?.len(),
    };
    out.int(n as i64);
    Ok(())
}

/// Redis's clamp of an index range over `len` items (GETRANGE, BITCOUNT, BITPOS): a negative
/// index counts from the end, then both are clamped into `0..len`; `start > end` is empty.
pub(crate) fn clamp_indexes(start: i64, end: i64, len: i64) -> (i64, i64) {
    let start = if start < 0 { start + len } else { start };
    let end = if end < 0 { end + len } else { end };
    (start.max(0), end.max(0).min(len - 1))
}

/// GETRANGE key start end (also SUBSTR key start end)
pub(crate) fn getrange(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let start = arg_i64(argv[2])?;
    let end = arg_i64(argv[3])?;
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.read(argv[1]) else {
        out.bulk(b"");
        return Ok(());
    };
    let s = e.string()?;
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        out.bulk(b"");
        return Ok(());
    }
    let (start, end) = clamp_indexes(start, end, len);
    if start > end || len == 0 {
        out.bulk(b"");
    } else {
        out.bulk(&s[start as usize..=end as usize]);
    }
    Ok(())
}

/// SETRANGE key offset value
pub(crate) fn setrange(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (key, value) = (argv[1], argv[3]);
    let offset = arg_i64(argv[2])?;
    if offset < 0 {
        return Err(KsError::OffsetOutOfRange);
    }
    let (mut keys, out) = ctx.split();
    let len = match keys.write(key) {
        None => {
            // Setting nothing on a missing key creates nothing.
            if value.is_empty() {
                out.int(0);
                return Ok(());
            }
            check_string_length(offset, value.len() as i64)?;
            let mut buf = vec![0u8; offset as usize + value.len()];
            buf[offset as usize..].copy_from_slice(value);
            // Redis creates a raw sds here, not an embstr.
            keys.set_str(key, b"", StrEnc::Raw, false);
            if let Some(e) = keys.write(key) {
                if let Some(raw) = e.str_raw_mut() {
                    *raw = buf;
                }
            }
            offset as usize + value.len()
        }
        Some(e) => {
            let cur = e.string()?.len();
            if value.is_empty() {
                out.int(cur as i64);
                return Ok(());
            }
            check_string_length(offset, value.len() as i64)?;
            let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
            let off = offset as usize;
            let need = off + value.len();
            if raw.len() < need {
                raw.resize(need, 0);
            }
            raw[off..need].copy_from_slice(value);
            raw.len()
        }
    };
    keys.changed(key, SETRANGE);
    out.int(len as i64);
    Ok(())
}

/// `incrDecrCommand`: add `by` to the integer at `key` (0 when missing), keeping its TTL.
fn incr_decr(ctx: &mut Ctx<'_, '_>, key: &[u8], by: i64) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let mut digits = IntBuf::new();
    let new = match keys.write(key) {
        Some(e) => {
            let s = e.string()?;
            let cur = number::parse_i64(s).ok_or(KsError::NotInteger)?;
            let new = cur.checked_add(by).ok_or(KsError::Overflow)?;
            // dbReplaceValue: the TTL stays.
            e.set_str(digits.format(new), StrEnc::for_int(new));
            new
        }
        None => {
            keys.set_str(key, digits.format(by), StrEnc::for_int(by), false);
            by
        }
    };
    keys.changed(key, INCRBY);
    out.int(new);
    Ok(())
}

/// INCR key
pub(crate) fn incr(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    incr_decr(ctx, argv[1], 1)
}

/// DECR key
pub(crate) fn decr(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    incr_decr(ctx, argv[1], -1)
}

/// INCRBY key increment
pub(crate) fn incrby(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let by = arg_i64(argv[2])?;
    incr_decr(ctx, argv[1], by)
}

/// DECRBY key decrement
pub(crate) fn decrby(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let by = arg_i64(argv[2])?;
    if by == i64::MIN {
        return Err(KsError::DecrOverflow);
    }
    incr_decr(ctx, argv[1], -by)
}

/// INCRBYFLOAT key increment
pub(crate) fn incrbyfloat(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let new = match keys.write(key) {
        Some(e) => {
            let s = e.string()?;
            let new = number::incr_by_float(Some(s), argv[2])?;
            // dbReplaceValue keeps the TTL; the value is a plain string, never int-encoded.
            e.set_str(&new, StrEnc::for_text(&new));
            new
        }
        None => {
            let new = number::incr_by_float(None, argv[2])?;
            keys.set_str(key, &new, StrEnc::for_text(&new), false);
            new
        }
    };
    keys.changed(key, INCRBYFLOAT);
    out.bulk(&new);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
pub(crate) fn lcs(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let a = read_for_lcs(&mut keys, argv[1]);
    let b = read_for_lcs(&mut keys, argv[2]);
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(KsError::LcsNotString),
    };
    let (mut get_len, mut get_idx, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let opt = argv[j];
        let more = j + 1 < argv.len();
        if opt.eq_ignore_ascii_case(b"idx") {
            get_idx = true;
        } else if opt.eq_ignore_ascii_case(b"len") {
            get_len = true;
        } else if opt.eq_ignore_ascii_case(b"withmatchlen") {
            with_match_len = true;
        } else if opt.eq_ignore_ascii_case(b"minmatchlen") && more {
            min_match_len = arg_i64(argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(KsError::Syntax);
        }
        j += 1;
    }
    if get_len && get_idx {
        return Err(KsError::LcsLenAndIdx);
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(KsError::LcsTooLong);
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > PROTO_MAX_BULK_LEN as u64 {
        return Err(KsError::LcsTooBig);
    }
    // LCS[i][j] = length of the LCS of a[..i] and b[..j], flattened row by row.
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for jj in 1..=blen {
            t[i * w + jj] = if a[i - 1] == b[jj - 1] {
                t[(i - 1) * w + jj - 1] + 1
            } else {
                t[(i - 1) * w + jj].max(t[i * w + jj - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    let compute = get_idx || !get_len;
    let mut result = vec![0u8; if compute { total as usize } else { 0 }];
    let mut idx = total as usize;
    let mut array_pos = None;
    let mut matches = 0usize;
    if get_idx {
        out.map(2);
        out.bulk(b"matches");
        array_pos = Some(out.array_start());
    }
    // Walk back from the end, emitting maximal runs of matches as ranges (Redis's loop,
    // including its order: last match first). `alen` marks "no open range".
    let (mut i, mut jj) = (alen, blen);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0usize, 0usize, 0usize);
    while compute && i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = i - 1;
                a_end = i - 1;
                b_start = jj - 1;
                b_end = jj - 1;
            } else if a_start == i && b_start == jj {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            let up = t[(i - 1) * w + jj];
            let left = t[i * w + jj - 1];
            if up > left {
                i -= 1;
            } else {
                jj -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        let match_len = (a_end as i64) - (a_start as i64) + 1;
        if emit {
            if (min_match_len == 0 || match_len >= min_match_len) && array_pos.is_some() {
                out.array(2 + usize::from(with_match_len));
                out.array(2);
                out.int(a_start as i64);
                out.int(a_end as i64);
                out.array(2);
                out.int(b_start as i64);
                out.int(b_end as i64);
                if with_match_len {
                    out.int(match_len);
                }
                matches += 1;
            }
            a_start = alen;
        }
    }
    if let Some(pos) = array_pos {
        out.array_end(pos, matches);
        out.bulk(b"len");
        out.int(i64::from(total));
    } else if get_len {
        out.int(i64::from(total));
    } else {
        out.bulk(&result);
    }
    Ok(())
}

/// The string at `key` for LCS (empty when missing); Err when it holds another type.
fn read_for_lcs(keys: &mut Keys<'_, '_>, key: &[u8]) -> Result<Vec<u8>, ()> {
    match keys.read(key) {
        None => Ok(Vec::new()),
        Some(e) => e.str_value().map(<[u8]>::to_vec).ok_or(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn set_option_conflicts_follow_redis() {
        assert!(parse_ext(&argv("set k v nx xx"), 3, true).is_err());
        assert!(parse_ext(&argv("set k v ex 1 px 1"), 3, true).is_err());
        assert!(parse_ext(&argv("set k v keepttl ex 1"), 3, true).is_err());
        assert!(parse_ext(&argv("set k v ex 1 keepttl"), 3, true).is_err());
        assert!(parse_ext(&argv("set k v ex"), 3, true).is_err());
        assert!(parse_ext(&argv("set k v persist"), 3, true).is_err());
        let a = parse_ext(&argv("set k v NX get GET ex 1 EX 2"), 3, true).unwrap();
        assert!(a.nx && a.get);
        assert_eq!(a.expire, Some((ExpireUnit::Ex, &b"2"[..])));
        assert!(parse_ext(&argv("getex k persist ex 1"), 2, false).is_err());
        assert!(parse_ext(&argv("getex k nx"), 2, false).is_err());
        assert!(
            parse_ext(&argv("getex k persist persist"), 2, false)
                .unwrap()
                .persist
        );
    }

    #[test]
    fn expire_times() {
        let t = |u, a: &str| expire_at_ms(u, a.as_bytes(), 1000);
        assert_eq!(t(ExpireUnit::Ex, "1"), Ok(2000));
        assert_eq!(t(ExpireUnit::Px, "1"), Ok(1001));
        assert_eq!(t(ExpireUnit::ExAt, "1"), Ok(1000));
        assert_eq!(t(ExpireUnit::PxAt, "5"), Ok(5));
        assert_eq!(t(ExpireUnit::Ex, "0"), Err(KsError::InvalidExpireTime));
        assert_eq!(t(ExpireUnit::Px, "-1"), Err(KsError::InvalidExpireTime));
        assert_eq!(t(ExpireUnit::Ex, "x"), Err(KsError::NotInteger));
        assert_eq!(
            t(ExpireUnit::Ex, "9223372036854776"),
            Err(KsError::InvalidExpireTime)
        );
        assert_eq!(
            t(ExpireUnit::Px, "9223372036854775807"),
            Err(KsError::InvalidExpireTime)
        );
        assert_eq!(
            check_string_length(PROTO_MAX_BULK_LEN, 1),
            Err(KsError::StringTooLong)
        );
        assert_eq!(
            check_string_length(i64::MAX, 1),
            Err(KsError::StringTooLong)
        );
        assert_eq!(check_string_length(1, 1), Ok(()));
    }
}
