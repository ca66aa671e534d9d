//! The list group: pushes, pops (single, counted, from many keys, moving), ranges, index
//! reads and writes, LINSERT, LREM, LTRIM and LPOS, after Redis 7.2's `t_list.c` (same
//! checks in the same order, same replies, same keyspace events, and the encoding
//! conversions at the same points: `grow_for` where Redis calls
//! `listTypeTryConversionAppend`, `shrink_check` where it calls
//! `listTypeTryConversion(.., LIST_CONV_SHRINKING)`).
//!
//! The blocking variants (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP) reuse `pop_one`, `mpop`
//! and `move_one`, as Redis's blocking code reuses `listPopRangeAndReplyWithKey` and
//! `lmoveGenericCommand`; how they block and are served is `blocking.rs`.

use crate::blocking::{parse_timeout, wait};
use crate::cmd::{Ctx, Op};
use crate::entry::Kind;
use crate::error::KsError;
use crate::keys::Keys;
use crate::notify::{Event, LIST};
use crate::number::{arg_i64, parse_i64};
use crate::reply::ReplySink;
use crate::types::list::{End, List};

const LPUSH: Event = Event::new(LIST, "lpush");
const RPUSH: Event = Event::new(LIST, "rpush");
const LPOP: Event = Event::new(LIST, "lpop");
const RPOP: Event = Event::new(LIST, "rpop");
const LINSERT: Event = Event::new(LIST, "linsert");
const LSET: Event = Event::new(LIST, "lset");
const LTRIM: Event = Event::new(LIST, "ltrim");
const LREM: Event = Event::new(LIST, "lrem");

fn push_event(end: End) -> Event {
    match end {
        End::Head => LPUSH,
        End::Tail => RPUSH,
    }
}

fn pop_event(end: End) -> Event {
    match end {
        End::Head => LPOP,
        End::Tail => RPOP,
    }
}

/// The fill new list nodes use now (`server.list_max_listpack_size`).
fn fill(keys: &Keys<'_, '_>) -> i64 {
    keys.ks.encoding_limits().list_max_listpack_size
}

/// `getListPositionFromObjectOrReply`: LEFT or RIGHT.
fn parse_end(arg: &[u8]) -> Result<End, KsError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Head)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Tail)
    } else {
        Err(KsError::Syntax)
    }
}

/// `getRangeLongFromObjectOrReply(.., 1, LONG_MAX, msg)`: a positive count, `err` otherwise.
fn positive(arg: &[u8], err: KsError) -> Result<usize, KsError> {
    match parse_i64(arg) {
        Some(v) if v >= 1 => Ok(v as usize),
        _ => Err(err),
    }
}

/// `getPositiveLongFromObjectOrReply`: zero or more, `err` otherwise.
fn non_negative(arg: &[u8], err: KsError) -> Result<usize, KsError> {
    match parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v as usize),
        _ => Err(err),
    }
}

/// `pushGenericCommand`: push `argv[2..]` one by one at `end`; with `xx`, only onto an
/// existing list (LPUSHX/RPUSHX).
fn push_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], end: End, xx: bool) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let fill = fill(&keys);
    let items = &argv[2..];
    let list = if xx {
        match keys.write_as::<List>(key)? {
            Some(l) => l,
            None => {
                out.int(0);
                return Ok(());
            }
        }
    } else {
        keys.write_or_create::<List>(key, List::new)?
    };
    list.grow_for(fill, items);
    list.reserve_for(items);
    for item in items {
        list.push(end, item);
    }
    out.int(list.len() as i64);
    keys.changed(key, push_event(end));
    Ok(())
}

/// LPUSH key element [element ...]
pub(crate) fn lpush(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    push_generic(ctx, argv, End::Head, false)
}

/// RPUSH key element [element ...]
pub(crate) fn rpush(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    push_generic(ctx, argv, End::Tail, false)
}

/// LPUSHX key element [element ...]
pub(crate) fn lpushx(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    push_generic(ctx, argv, End::Head, true)
}

/// RPUSHX key element [element ...]
pub(crate) fn rpushx(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    push_generic(ctx, argv, End::Tail, true)
}

/// `addListRangeReply`: the elements from `start` to `end` (inclusive, negative counting
/// from the tail), reversed when `reverse`.
fn range_reply(out: &mut ReplySink, list: &List, start: i64, end: i64, reverse: bool) {
    let len = list.len() as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        out.array(0);
        return;
    }
    if end >= len {
        end = len - 1;
    }
    let n = (end - start + 1) as usize;
    out.array(n);
    let from = if reverse { end } else { start };
    for e in list.iter_from(from as usize, reverse).take(n) {
        out.bulk(e);
    }
}

/// `listPopRangeAndReplyWithKey` without the key: reply with up to `count` elements from
/// `end` of the list at `key` (which exists, holds a list and is not empty), remove them,
/// and report the change (`listElementsRemoved`: the pop event, then `del` when it emptied
/// the list, or the shrinking conversion when it did not).
pub(crate) fn pop_range(
    keys: &mut Keys<'_, '_>,
    out: &mut ReplySink,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<(), KsError> {
    let fill = fill(keys);
    let Some(list) = keys.write_as::<List>(key)? else {
        return Ok(());
    };
    let len = list.len();
    let n = count.min(len);
    match end {
        End::Head => {
            range_reply(out, list, 0, n as i64 - 1, false);
            list.remove_range(0, n);
        }
        End::Tail => {
            range_reply(out, list, -(n as i64), -1, true);
            list.remove_range(len - n, n);
        }
    }
    list.shrink_check(fill);
    keys.changed(key, pop_event(end));
    Ok(())
}

/// `popGenericCommand`: LPOP/RPOP key [count].
fn pop_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], end: End) -> Result<(), KsError> {
    if argv.len() > 3 {
        return Err(KsError::WrongArgCount);
    }
    let count = match argv.get(2) {
        Some(c) => Some(non_negative(c, KsError::NotPositive)?),
        None => None,
    };
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let Some(count) = count else {
        // One lookup on this hot path: a missing key is `pop_one`'s false.
        if !pop_one(&mut keys, out, key, end)? {
            out.null();
        }
        return Ok(());
    };
    if keys.write_as::<List>(key)?.is_none() {
        out.null_array();
    } else if count == 0 {
        out.array(0);
    } else {
        pop_range(&mut keys, out, key, end, count)?;
    }
    Ok(())
}

/// `listTypePop` plus `listElementsRemoved`: reply with the element at `end` of the list at
/// `key` as a bulk and remove it, reporting the change; false (and no reply) when there is
/// no such list or it is empty.
pub(crate) fn pop_one(
    keys: &mut Keys<'_, '_>,
    out: &mut ReplySink,
    key: &[u8],
    end: End,
) -> Result<bool, KsError> {
    let fill = fill(keys);
    let Some(list) = keys.write_as::<List>(key)? else {
        return Ok(false);
    };
    match list.peek(end) {
        Some(e) => out.bulk(e),
        None => return Ok(false),
    }
    list.pop(end);
    list.shrink_check(fill);
    keys.changed(key, pop_event(end));
    Ok(true)
}

/// LPOP key [count]
pub(crate) fn lpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    pop_generic(ctx, argv, End::Head)
}

/// RPOP key [count]
pub(crate) fn rpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    pop_generic(ctx, argv, End::Tail)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub(crate) fn lmpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (keys_in, end, count) = parse_lmpop(argv, 1)?;
    let (mut keys, out) = ctx.split();
    if !mpop(&mut keys, out, keys_in, end, count)? {
        out.null_array();
    }
    Ok(())
}

/// `lmpopGenericCommand`'s parsing from `argv[numkeys_at]`: the keys, the end and the count
/// (BLMPOP reuses it).
fn parse_lmpop<'a, 'b>(
    argv: &'b [&'a [u8]],
    numkeys_at: usize,
) -> Result<(&'b [&'a [u8]], End, usize), KsError> {
    let numkeys = positive(argv[numkeys_at], KsError::NumkeysNotPositive)?;
    let where_idx = numkeys
        .checked_add(numkeys_at + 1)
        .filter(|&i| i < argv.len())
        .ok_or(KsError::Syntax)?;
    let end = parse_end(argv[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if count.is_none() && more && argv[j].eq_ignore_ascii_case(b"count") {
            count = Some(positive(argv[j + 1], KsError::CountNotPositive)?);
            j += 2;
        } else {
            return Err(KsError::Syntax);
        }
    }
    Ok((&argv[numkeys_at + 1..where_idx], end, count.unwrap_or(1)))
}

/// `mpopGenericCommand`: pop from the first of `keys_` that holds a non-empty list, replying
/// `[key, [elements]]`; false (and no reply) when none does. WRONGTYPE stops the scan where
/// it meets another type, as in Redis.
pub(crate) fn mpop(
    keys: &mut Keys<'_, '_>,
    out: &mut ReplySink,
    keys_: &[&[u8]],
    end: End,
    count: usize,
) -> Result<bool, KsError> {
    for key in keys_ {
        let Some(list) = keys.write_as::<List>(key)? else {
            continue;
        };
        if list.len() == 0 {
            continue;
        }
        out.array(2);
        out.bulk(key);
        pop_range(keys, out, key, end, count)?;
        return Ok(true);
    }
    Ok(false)
}

// ---- blocking ----

/// `blockingPopGenericCommand` for BLPOP/BRPOP: pop one element from the first non-empty
/// list among `argv[1..argc-1]`, replying `[key, element]`, or block on them all.
fn blocking_pop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], end: End, op: Op) -> Result<(), KsError> {
    let last = argv.len() - 1;
    let timeout_ms = parse_timeout(argv[last])?;
    {
        let (mut keys, out) = ctx.split();
        for key in &argv[1..last] {
            let Some(list) = keys.write_as::<List>(key)? else {
                continue;
            };
            if list.len() == 0 {
                continue;
            }
            out.array(2);
            out.bulk(key);
            pop_one(&mut keys, out, key, end)?;
            return Ok(());
        }
    }
    if !wait(ctx, op, argv, 1..last, Kind::List, timeout_ms) {
        ctx.out.null_array();
    }
    Ok(())
}

/// BLPOP key [key ...] timeout
pub(crate) fn blpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    blocking_pop(ctx, argv, End::Head, Op::BLPop)
}

/// BRPOP key [key ...] timeout
pub(crate) fn brpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    blocking_pop(ctx, argv, End::Tail, Op::BRPop)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub(crate) fn blmpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    // Redis parses the keys, end and count before the timeout.
    let (keys_in, end, count) = parse_lmpop(argv, 2)?;
    let timeout_ms = parse_timeout(argv[1])?;
    {
        let (mut keys, out) = ctx.split();
        if mpop(&mut keys, out, keys_in, end, count)? {
            return Ok(());
        }
    }
    let at = 3..3 + keys_in.len();
    if !wait(ctx, Op::BLMPop, argv, at, Kind::List, timeout_ms) {
        ctx.out.null_array();
    }
    Ok(())
}

/// `blmoveGenericCommand`: LMOVE when the source holds a list, else block on the source.
fn blocking_move(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    from: End,
    to: End,
    timeout_ms: i64,
    op: Op,
) -> Result<(), KsError> {
    {
        let (mut keys, out) = ctx.split();
        if keys.write_as::<List>(argv[1])?.is_some() {
            return move_one(&mut keys, out, argv[1], argv[2], from, to);
        }
    }
    if !wait(ctx, op, argv, 1..2, Kind::List, timeout_ms) {
        ctx.out.null();
    }
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub(crate) fn blmove(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let from = parse_end(argv[3])?;
    let to = parse_end(argv[4])?;
    let timeout_ms = parse_timeout(argv[5])?;
    blocking_move(ctx, argv, from, to, timeout_ms, Op::BLMove)
}

/// BRPOPLPUSH source destination timeout
pub(crate) fn brpoplpush(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let timeout_ms = parse_timeout(argv[3])?;
    blocking_move(ctx, argv, End::Tail, End::Head, timeout_ms, Op::BRPopLPush)
}

/// LLEN key
pub(crate) fn llen(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = keys.read_as::<List>(argv[1])?.map_or(0, |l| l.len());
    out.int(n as i64);
    Ok(())
}

/// LRANGE key start stop
pub(crate) fn lrange(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let start = arg_i64(argv[2])?;
    let end = arg_i64(argv[3])?;
    let (mut keys, out) = ctx.split();
    match keys.read_as::<List>(argv[1])? {
        Some(list) => range_reply(out, list, start, end, false),
        None => out.array(0),
    }
    Ok(())
}

/// LINDEX key index
pub(crate) fn lindex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    // Redis looks the key up before it parses the index: a missing key answers null even
    // for an index that is not a number.
    let Some(list) = keys.read_as::<List>(argv[1])? else {
        out.null();
        return Ok(());
    };
    let index = arg_i64(argv[2])?;
    match list.resolve(index) {
        Some(i) => out.bulk(list.get(i)),
        None => out.null(),
    }
    Ok(())
}

/// LSET key index element
pub(crate) fn lset(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let fill = fill(&keys);
    let list = keys.write_as::<List>(key)?.ok_or(KsError::NoSuchKey)?;
    // Redis 7.2 passes the index to `listTypeReplaceAtIndex(robj *o, int index, ...)`, so it
    // is truncated to 32 bits: LSET k -9223372036854775808 v sets the head.
    let index = i64::from(arg_i64(argv[2])? as i32);
    // Redis converts for the new element before it checks the index, so even a failed
    // LSET can leave a listpack converted to a quicklist.
    list.grow_for(fill, &argv[3..4]);
    let Some(i) = list.resolve(index) else {
        return Err(KsError::IndexOutOfRange);
    };
    list.set(i, argv[3]);
    list.shrink_check(fill);
    out.simple(b"OK");
    keys.changed(key, LSET);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
pub(crate) fn linsert(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(KsError::Syntax);
    };
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let fill = fill(&keys);
    let Some(list) = keys.write_as::<List>(key)? else {
        out.int(0);
        return Ok(());
    };
    // As in Redis, the conversion for the new element happens before the pivot is known
    // to exist.
    list.grow_for(fill, &argv[4..5]);
    let Some(at) = list.iter().position(|e| e == argv[3]) else {
        out.int(-1);
        return Ok(());
    };
    list.insert(at, after, argv[4]);
    out.int(list.len() as i64);
    keys.changed(key, LINSERT);
    Ok(())
}

/// LREM key count element
pub(crate) fn lrem(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let count = arg_i64(argv[2])?;
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let fill = fill(&keys);
    let Some(list) = keys.write_as::<List>(key)? else {
        out.int(0);
        return Ok(());
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_matching(argv[3], limit, count < 0);
    if removed > 0 {
        list.shrink_check(fill);
        keys.changed(key, LREM);
    }
    out.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop
pub(crate) fn ltrim(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let start = arg_i64(argv[2])?;
    let end = arg_i64(argv[3])?;
    let (mut keys, out) = ctx.split();
    let key = argv[1];
    let fill = fill(&keys);
    let Some(list) = keys.write_as::<List>(key)? else {
        out.simple(b"OK");
        return Ok(());
    };
    let len = list.len() as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    let (ltrim, rtrim) = if start > end || start >= len {
        (len, 0)
    } else {
        if end >= len {
            end = len - 1;
        }
        (start, len - end - 1)
    };
    list.remove_range(0, ltrim as usize);
    let kept = list.len();
    list.remove_range(kept - rtrim as usize, rtrim as usize);
    list.shrink_check(fill);
    // Redis reports "ltrim" even when nothing was trimmed.
    keys.changed(key, LTRIM);
    out.simple(b"OK");
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub(crate) fn lpos(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let ele = argv[2];
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen = 0usize;
    let mut j = 3;
    while j < argv.len() {
        let opt = argv[j];
        let more = j + 1 < argv.len();
        if more && opt.eq_ignore_ascii_case(b"rank") {
            rank = arg_i64(argv[j + 1])?;
            if rank == i64::MIN {
                return Err(KsError::RandCountRange);
            }
            if rank == 0 {
                return Err(KsError::LposRankZero);
            }
        } else if more && opt.eq_ignore_ascii_case(b"count") {
            count = Some(non_negative(argv[j + 1], KsError::LposCountNegative)?);
        } else if more && opt.eq_ignore_ascii_case(b"maxlen") {
            maxlen = non_negative(argv[j + 1], KsError::LposMaxlenNegative)?;
        } else {
            return Err(KsError::Syntax);
        }
        j += 2;
    }
    let (mut keys, out) = ctx.split();
    let Some(list) = keys.read_as::<List>(argv[1])? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let reverse = rank < 0;
    let rank = rank.unsigned_abs() as usize;
    let len = list.len();
    let scan = if maxlen == 0 { len } else { maxlen.min(len) };
    let elements: Box<dyn Iterator<Item = &[u8]>> = if reverse && len > 0 {
        Box::new(list.iter_from(len - 1, true))
    } else {
        Box::new(list.iter())
    };
    let index_of = |i: usize| if reverse { len - i - 1 } else { i };
    let mut matches = 0usize;
    match count {
        None => {
            for (i, e) in elements.take(scan).enumerate() {
                if e == ele {
                    matches += 1;
                    if matches >= rank {
                        out.int(index_of(i) as i64);
                        return Ok(());
                    }
                }
            }
            out.null();
        }
        Some(count) => {
            let pos = out.array_start();
            let mut n = 0;
            for (i, e) in elements.take(scan).enumerate() {
                if e == ele {
                    matches += 1;
                    if matches >= rank {
                        n += 1;
                        out.int(index_of(i) as i64);
                        if count != 0 && matches - rank + 1 >= count {
                            break;
                        }
                    }
                }
            }
            out.array_end(pos, n);
        }
    }
    Ok(())
}

/// `lmoveGenericCommand`: pop one element from `end_from` of `src` and push it at `end_to`
/// of `dst`, replying with it (null when `src` is missing). Both keys' types are checked
/// before anything moves.
pub(crate) fn move_one(
    keys: &mut Keys<'_, '_>,
    out: &mut ReplySink,
    src: &[u8],
    dst: &[u8],
    end_from: End,
    end_to: End,
) -> Result<(), KsError> {
    let fill = fill(keys);
    let value = match keys.write_as::<List>(src)? {
        None => {
            out.null();
            return Ok(());
        }
        Some(l) => match l.peek(end_from) {
            None => {
                out.null();
                return Ok(());
            }
            Some(v) => v.to_vec(),
        },
    };
    keys.write_as::<List>(dst)?;
    if let Some(l) = keys.write_as::<List>(src)? {
        l.pop(end_from);
    }
    // `lmoveHandlePush` runs before `listElementsRemoved`: the destination's events come
    // first, and a source emptied by the pop is deleted only after.
    let to = keys.write_or_create::<List>(dst, List::new)?;
    to.grow_for(fill, &[&value]);
    to.push(end_to, &value);
    keys.changed(dst, push_event(end_to));
    out.bulk(&value);
    if let Some(l) = keys.write_as::<List>(src)? {
        if l.len() > 0 {
            l.shrink_check(fill);
        }
    }
    keys.changed(src, pop_event(end_from));
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub(crate) fn lmove(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let from = parse_end(argv[3])?;
    let to = parse_end(argv[4])?;
    let (mut keys, out) = ctx.split();
    move_one(&mut keys, out, argv[1], argv[2], from, to)
}

/// RPOPLPUSH source destination
pub(crate) fn rpoplpush(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    move_one(&mut keys, out, argv[1], argv[2], End::Tail, End::Head)
}
