//! The sorted set group, after Redis 7.2's `t_zset.c`: ZADD and ZINCRBY, the lookups, the
//! range reads and removals (by rank, score and lex), the pops, ZRANDMEMBER, the set
//! operations (ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN. Same checks
//! in the same order, same replies, same events.
//!
//! The value type is `types::zset::ZSet`; everything here speaks to it in ranks. The
//! blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) reuse `pop_generic`; how they block and are
//! served is `blocking.rs`.

use crate::blocking::{parse_timeout, wait};
use crate::cmd::generic::{reply_empty_scan, reply_scan_cursor, ScanArgs, ScanExtra};
use crate::cmd::{is, Ctx, Op};
use crate::encoding::Limits;
use crate::entry::Kind;
use crate::error::KsError;
use crate::glob;
use crate::keys::Keys;
use crate::notify::{self, Event, ZSET};
use crate::number::{arg_i64, parse_cursor, parse_f64, parse_f64_loose, DoubleBuf};
use crate::reply::ReplySink;
use crate::types::set::Set;
use crate::types::zset::ZSet;

const ZADD: Event = Event::new(ZSET, "zadd");
const ZINCR: Event = Event::new(ZSET, "zincr");
const ZREM: Event = Event::new(ZSET, "zrem");
const ZREMRANGEBYRANK: Event = Event::new(ZSET, "zremrangebyrank");
const ZREMRANGEBYSCORE: Event = Event::new(ZSET, "zremrangebyscore");
const ZREMRANGEBYLEX: Event = Event::new(ZSET, "zremrangebylex");
const ZPOPMIN: Event = Event::new(ZSET, "zpopmin");
const ZPOPMAX: Event = Event::new(ZSET, "zpopmax");
const ZRANGESTORE: Event = Event::new(ZSET, "zrangestore");
const ZUNIONSTORE: Event = Event::new(ZSET, "zunionstore");
const ZINTERSTORE: Event = Event::new(ZSET, "zinterstore");
const ZDIFFSTORE: Event = Event::new(ZSET, "zdiffstore");

// ---- ranges ----

/// A score range (`zrangespec`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreRange {
    /// Lower bound.
    pub(crate) min: f64,
    /// Upper bound.
    pub(crate) max: f64,
    /// The lower bound is exclusive.
    pub(crate) minex: bool,
    /// The upper bound is exclusive.
    pub(crate) maxex: bool,
}

impl ScoreRange {
    /// `zslParseRange`: "1.5", "(1.5", "inf", "-inf"...
    pub(crate) fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, KsError> {
        let bound = |s: &[u8]| match s.split_first() {
            Some((b'(', rest)) => parse_f64_loose(rest).map(|v| (v, true)),
            _ => parse_f64_loose(s).map(|v| (v, false)),
        };
        match (bound(min), bound(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
                min,
                max,
                minex,
                maxex,
            }),
            _ => Err(KsError::MinMaxNotFloat),
        }
    }

    /// The ranks `[start, end)` of the members in range.
    pub(crate) fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let start = z.partition_point(|s, _| {
            if self.minex {
                s <= self.min
            } else {
                s < self.min
            }
        });
        let end = z.partition_point(|s, _| {
            if self.maxex {
                s < self.max
            } else {
                s <= self.max
            }
        });
        (start, end.max(start))
    }
}

/// One end of a lex range.
#[derive(Debug, Clone, Copy)]
enum Lex<'a> {
    NegInf,
    PosInf,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

/// A lex range (`zlexrangespec`).
#[derive(Debug, Clone, Copy)]
struct LexRange<'a> {
    min: Lex<'a>,
    max: Lex<'a>,
}

impl<'a> LexRange<'a> {
    /// `zslParseLexRange`: "-", "+", "[a", "(a".
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, KsError> {
        let item = |s: &'a [u8]| match s.split_first() {
            Some((b'+', [])) => Some(Lex::PosInf),
            Some((b'-', [])) => Some(Lex::NegInf),
            Some((b'[', rest)) => Some(Lex::Incl(rest)),
            Some((b'(', rest)) => Some(Lex::Excl(rest)),
            _ => None,
        };
        match (item(min), item(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(KsError::MinMaxNotLex),
        }
    }

    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let below_min = |m: &[u8]| match self.min {
            Lex::NegInf => false,
            Lex::PosInf => true,
            Lex::Incl(x) => m < x,
            Lex::Excl(x) => m <= x,
        };
        let le_max = |m: &[u8]| match self.max {
            Lex::NegInf => false,
            Lex::PosInf => true,
            Lex::Incl(x) => m <= x,
            Lex::Excl(x) => m < x,
        };
        z.lex_ranks(below_min, le_max)
    }
}

/// Redis's rank sanitizing for ZRANGE/ZREMRANGEBYRANK: negative ranks from the end, then
/// clamped; None when the range is empty.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize + 1))
}

// ---- ZADD / ZINCRBY ----

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub(crate) fn zadd(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zadd_generic(ctx, argv, false)
}

/// ZINCRBY key increment member
pub(crate) fn zincrby(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zadd_generic(ctx, argv, true)
}

/// Redis's `zaddGenericCommand`.
fn zadd_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], mut incr: bool) -> Result<(), KsError> {
    let key = argv[1];
    let (mut nx, mut xx, mut ch, mut gt, mut lt) = (false, false, false, false, false);
    let mut at = 2;
    while at < argv.len() {
        let opt = argv[at];
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else if is(opt, "incr") {
            incr = true;
        } else if is(opt, "gt") {
            gt = true;
        } else if is(opt, "lt") {
            lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let pairs = &argv[at..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(KsError::Syntax);
    }
    let elements = pairs.len() / 2;
    if nx && xx {
        return Err(KsError::ZaddXxAndNx);
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(KsError::ZaddGtLtNx);
    }
    if incr && elements > 1 {
        return Err(KsError::ZaddIncrPairs);
    }
    // Every score parses before anything changes: the command runs whole or not at all.
    for p in pairs.chunks_exact(2) {
        parse_f64(p[0]).ok_or(KsError::NotFloat)?;
    }
    let limits = ctx.ks.encoding_limits();
    let (mut keys, out) = ctx.split();
    let exists = keys.write_as::<ZSet>(key)?.is_some();
    if !exists && xx {
        if incr {
            out.null();
        } else {
            out.int(0);
        }
        return Ok(());
    }
    let z = if exists {
        let z = keys.write_as::<ZSet>(key)?.ok_or(KsError::WrongType)?;
        z.maybe_convert(elements, &limits);
        z
    } else {
        keys.write_or_create(key, || ZSet::with_hint(elements, pairs[1].len(), &limits))?
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut score = 0.0;
    let mut nan = false;
    for p in pairs.chunks_exact(2) {
        let (member, mut new) = (p[1], parse_f64(p[0]).unwrap_or(0.0));
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                if incr {
                    new += cur;
                    if new.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (lt && new >= cur) || (gt && new <= cur) {
                    continue;
                }
                if new != cur {
                    z.insert(member, new, &limits);
                    updated += 1;
                }
            }
            None => {
                if xx {
                    continue;
                }
                z.insert(member, new, &limits);
                added += 1;
            }
        }
        processed += 1;
        score = new;
    }
    if added + updated > 0 {
        keys.changed(key, if incr { ZINCR } else { ZADD });
    }
    if nan {
        return Err(KsError::ScoreNan);
    }
    if incr {
        if processed > 0 {
            out.double(score);
        } else {
            out.null();
        }
    } else {
        out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

// ---- lookups ----

/// ZCARD key
pub(crate) fn zcard(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = keys.read_as::<ZSet>(argv[1])?.map_or(0, |z| z.len());
    out.int(n as i64);
    Ok(())
}

/// ZSCORE key member
pub(crate) fn zscore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    match keys
        .read_as::<ZSet>(argv[1])?
        .and_then(|z| z.score(argv[2]))
    {
        Some(s) => out.double(s),
        None => out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
pub(crate) fn zmscore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let z = keys.read_as::<ZSet>(argv[1])?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

/// ZRANK key member [WITHSCORE]
pub(crate) fn zrank(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrank_generic(ctx, argv, false)
}

/// ZREVRANK key member [WITHSCORE]
pub(crate) fn zrevrank(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrank_generic(ctx, argv, true)
}

fn zrank_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], rev: bool) -> Result<(), KsError> {
    if argv.len() > 4 {
        return Err(KsError::WrongArgCount);
    }
    let withscore = match argv.get(3) {
        Some(a) if is(a, "withscore") => true,
        Some(_) => return Err(KsError::Syntax),
        None => false,
    };
    let (mut keys, out) = ctx.split();
    let found = match keys.read_as::<ZSet>(argv[1])? {
        Some(z) => z
            .rank(argv[2])
            .map(|(r, s)| (if rev { z.len() - 1 - r } else { r }, s)),
        None => None,
    };
    match (found, withscore) {
        (Some((r, s)), true) => {
            out.array(2);
            out.int(r as i64);
            out.double(s);
        }
        (Some((r, _)), false) => out.int(r as i64),
        (None, true) => out.null_array(),
        (None, false) => out.null(),
    }
    Ok(())
}

/// ZCOUNT key min max
pub(crate) fn zcount(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let range = ScoreRange::parse(argv[2], argv[3])?;
    count_generic(ctx, argv[1], |z| range.ranks(z))
}

/// ZLEXCOUNT key min max
pub(crate) fn zlexcount(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let range = LexRange::parse(argv[2], argv[3])?;
    count_generic(ctx, argv[1], |z| range.ranks(z))
}

/// ZCOUNT and ZLEXCOUNT: how many members lie between the `(start, end)` ranks of a range.
fn count_generic(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    ranks: impl FnOnce(&ZSet) -> (usize, usize),
) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = keys.read_as::<ZSet>(key)?.map_or(0, |z| {
        let (start, end) = ranks(z);
        end - start
    });
    out.int(n as i64);
    Ok(())
}

// ---- ranges ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub(crate) fn zrange(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 1, None, By::Auto, None)
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
pub(crate) fn zrangestore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 2, Some(argv[1]), By::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub(crate) fn zrevrange(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 1, None, By::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub(crate) fn zrangebyscore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 1, None, By::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub(crate) fn zrevrangebyscore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 1, None, By::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub(crate) fn zrangebylex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 1, None, By::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub(crate) fn zrevrangebylex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zrange_generic(ctx, argv, 1, None, By::Lex, Some(true))
}

/// Redis's `zrangeGenericCommand`: the key is `argv[src]`, the range the two arguments
/// after it; `store` is ZRANGESTORE's destination; `by` and `rev` are fixed by the legacy
/// commands and chosen by options in ZRANGE.
fn zrange_generic(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    src: usize,
    store: Option<&[u8]>,
    mut by: By,
    rev: Option<bool>,
) -> Result<(), KsError> {
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut rev_opt = None;
    let mut j = src + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j];
        if store.is_none() && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = arg_i64(argv[j + 1])?;
            limit = arg_i64(argv[j + 2])?;
            j += 2;
        } else if rev.is_none() && rev_opt.is_none() && is(a, "rev") {
            rev_opt = Some(true);
        } else if by == By::Auto && is(a, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && is(a, "byscore") {
            by = By::Score;
        } else {
            return Err(KsError::Syntax);
        }
        j += 1;
    }
    let rev = rev.or(rev_opt).unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(KsError::LimitNeedsByScoreOrLex);
    }
    if withscores && by == By::Lex {
        return Err(KsError::WithScoresByLex);
    }
    let (mut lo, mut hi) = (argv[src + 1], argv[src + 2]);
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    enum Parsed<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let parsed = match by {
        By::Score => Parsed::Score(ScoreRange::parse(lo, hi)?),
        By::Lex => Parsed::Lex(LexRange::parse(lo, hi)?),
        _ => Parsed::Rank(arg_i64(lo)?, arg_i64(hi)?),
    };
    let limits = ctx.ks.encoding_limits();
    let (mut keys, out) = ctx.split();
    let Some(z) = keys.read_as::<ZSet>(argv[src])? else {
        match store {
            Some(dst) => store_result(&mut keys, out, dst, None, ZRANGESTORE),
            None => out.array(0),
        }
        return Ok(());
    };
    // Everything becomes ranks [start, end) in ascending order, walked backwards for REV.
    let (start, end) = match parsed {
        Parsed::Rank(a, b) => match rank_range(a, b, z.len()) {
            Some((a, b)) if rev => (z.len() - b, z.len() - a),
            Some(r) => r,
            None => (0, 0),
        },
        Parsed::Score(r) => window(r.ranks(z), offset, limit, rev),
        Parsed::Lex(r) => window(r.ranks(z), offset, limit, rev),
    };
    let n = end - start;
    match store {
        Some(dst) => {
            let mut res = ZSet::with_hint(n, 0, &limits);
            z.for_range(start, end, rev, |m, s| {
                res.insert(m, s, &limits);
            });
            store_result(&mut keys, out, dst, Some(res), ZRANGESTORE);
        }
        None => {
            out.pairs_if(n, withscores);
            z.for_range(start, end, rev, |m, s| out.scored(m, s, withscores));
        }
    }
    Ok(())
}

/// LIMIT applied to the ranks of a score or lex range: skip `offset` from the start (the
/// end when `rev`), then keep `limit` (all when negative). A negative offset walks off the
/// end in Redis, so it gives nothing.
fn window((start, end): (usize, usize), offset: i64, limit: i64, rev: bool) -> (usize, usize) {
    if offset < 0 {
        return (0, 0);
    }
    let n = end - start;
    let skip = usize::try_from(offset).unwrap_or(usize::MAX).min(n);
    let take = if limit < 0 {
        n - skip
    } else {
        usize::try_from(limit).unwrap_or(usize::MAX).min(n - skip)
    };
    if rev {
        (end - skip - take, end - skip)
    } else {
        (start + skip, start + skip + take)
    }
}

/// The sorted set of `n` computed members, built as Redis builds a STORE result: a
/// skiplist, then back to a listpack if it fits (`zsetConvertToListpackIfNeeded`). None when
/// `n` is 0.
pub(crate) fn build_result<'a>(
    n: usize,
    items: impl Iterator<Item = (&'a [u8], f64)>,
    limits: &Limits,
) -> Option<ZSet> {
    if n == 0 {
        return None;
    }
    let mut z = ZSet::new_skiplist(n);
    let mut longest = 0;
    for (m, s) in items {
        z.insert(m, s, limits);
        longest = longest.max(m.len());
    }
    z.shrink_if_fits(longest, limits);
    Some(z)
}

/// Store a computed sorted set at `dst` (setKey + `ev`) and reply its size; an empty or
/// missing result deletes `dst` instead and replies 0. This is the end of every zset
/// STORE in Redis 7.2 (ZRANGESTORE, ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE, GEORADIUS STORE,
/// GEOSEARCHSTORE): its `dbDelete` does not look the key up first, so a destination that
/// has expired but is still there is deleted and reported as `del`, not `expired`.
pub(crate) fn store_result(
    keys: &mut Keys<'_, '_>,
    out: &mut ReplySink,
    dst: &[u8],
    res: Option<ZSet>,
    ev: Event,
) {
    match res.filter(|z| z.len() > 0) {
        Some(z) => {
            let n = z.len();
            keys.set_typed(dst, z);
            keys.changed(dst, ev);
            out.int(n as i64);
        }
        None => {
            keys.deleted(dst, notify::DEL);
            out.int(0);
        }
    }
}

// ---- removals ----

/// ZREM key member [member ...]
pub(crate) fn zrem(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let Some(z) = keys.write_as::<ZSet>(key)? else {
        out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
            if z.len() == 0 {
                break;
            }
        }
    }
    if deleted > 0 {
        keys.changed(key, ZREM);
    }
    out.int(deleted);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
pub(crate) fn zremrangebyrank(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (a, b) = (arg_i64(argv[2])?, arg_i64(argv[3])?);
    zremrange_generic(ctx, argv[1], ZREMRANGEBYRANK, |z| {
        rank_range(a, b, z.len()).unwrap_or((0, 0))
    })
}

/// ZREMRANGEBYSCORE key min max
pub(crate) fn zremrangebyscore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let range = ScoreRange::parse(argv[2], argv[3])?;
    zremrange_generic(ctx, argv[1], ZREMRANGEBYSCORE, |z| range.ranks(z))
}

/// ZREMRANGEBYLEX key min max
pub(crate) fn zremrangebylex(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let range = LexRange::parse(argv[2], argv[3])?;
    zremrange_generic(ctx, argv[1], ZREMRANGEBYLEX, |z| range.ranks(z))
}

/// Redis's `zremrangeGenericCommand`, the range already parsed into `ranks`.
fn zremrange_generic(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    ev: Event,
    ranks: impl FnOnce(&ZSet) -> (usize, usize),
) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let Some(z) = keys.write_as::<ZSet>(key)? else {
        out.int(0);
        return Ok(());
    };
    let (start, end) = ranks(z);
    z.remove_ranks(start, end, |_, _| {});
    if end > start {
        keys.changed(key, ev);
    }
    out.int((end - start) as i64);
    Ok(())
}

// ---- pops ----

/// How a pop reply is laid out (the shapes of Redis's `genericZpopCommand`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PopShape {
    /// ZPOPMIN/ZPOPMAX without a count: member, score flat in every protocol.
    Flat,
    /// ZPOPMIN/ZPOPMAX with a count: flat in RESP2, pairs in RESP3.
    Counted,
    /// BZPOPMIN/BZPOPMAX: key, member, score flat.
    KeyFlat,
    /// ZMPOP/BZMPOP: [key, [[member, score]...]] in every protocol.
    KeyNested,
}

/// Redis's `genericZpopCommand`: pop up to `count` members from the lowest (or highest,
/// `max`) end of the first non-empty sorted set among `keys_in`, replying in `shape`.
/// Returns false (having replied nothing) when every key is missing, so that blocking
/// callers can block instead; the non-blocking callers reply their empty answer then.
pub(crate) fn pop_generic(
    keys: &mut Keys<'_, '_>,
    out: &mut ReplySink,
    keys_in: &[&[u8]],
    max: bool,
    count: usize,
    shape: PopShape,
) -> Result<bool, KsError> {
    let mut found = None;
    for key in keys_in {
        if keys.write_as::<ZSet>(key)?.is_some() {
            found = Some(*key);
            break;
        }
    }
    let Some(key) = found else {
        return Ok(false);
    };
    let Some(z) = keys.write_as::<ZSet>(key)? else {
        return Ok(false);
    };
    if count == 0 {
        out.array(0);
        return Ok(true);
    }
    let n = count.min(z.len());
    match shape {
        PopShape::Flat => out.array(n * 2),
        PopShape::Counted => out.pairs(n),
        PopShape::KeyFlat => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        PopShape::KeyNested => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    let (start, end) = if max { (z.len() - n, z.len()) } else { (0, n) };
    // The reply runs from the popped end inwards; remove_ranks visits in ascending order.
    if max {
        z.for_range(start, end, true, |m, s| pop_item(out, m, s, shape));
        z.remove_ranks(start, end, |_, _| {});
    } else {
        z.remove_ranks(start, end, |m, s| pop_item(out, m, s, shape));
    }
    keys.changed(key, if max { ZPOPMAX } else { ZPOPMIN });
    Ok(true)
}

fn pop_item(out: &mut ReplySink, m: &[u8], s: f64, shape: PopShape) {
    match shape {
        PopShape::Counted => out.scored(m, s, true),
        PopShape::KeyNested => {
            out.array(2);
            out.bulk(m);
            out.double(s);
        }
        _ => {
            out.bulk(m);
            out.double(s);
        }
    }
}

/// ZPOPMIN key [count]
pub(crate) fn zpopmin(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zpop_min_max(ctx, argv, false)
}

/// ZPOPMAX key [count]
pub(crate) fn zpopmax(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    zpop_min_max(ctx, argv, true)
}

fn zpop_min_max(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], max: bool) -> Result<(), KsError> {
    if argv.len() > 3 {
        return Err(KsError::Syntax);
    }
    let (count, shape) = match argv.get(2) {
        Some(c) => {
            let c = crate::number::parse_i64(c)
                .filter(|c| *c >= 0)
                .ok_or(KsError::NotPositive)?;
            (usize::try_from(c).unwrap_or(usize::MAX), PopShape::Counted)
        }
        None => (1, PopShape::Flat),
    };
    let (mut keys, out) = ctx.split();
    if !pop_generic(&mut keys, out, &argv[1..2], max, count, shape)? {
        out.array(0);
    }
    Ok(())
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub(crate) fn zmpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (keys_in, max, count) = parse_mpop(argv, 1)?;
    let (mut keys, out) = ctx.split();
    if !pop_generic(&mut keys, out, keys_in, max, count, PopShape::KeyNested)? {
        out.null_array();
    }
    Ok(())
}

/// Redis's `blockingGenericZpopCommand`: pop from the first sorted set among `keys_in`, or
/// block on them all (the reply when blocking is denied is a null array).
#[allow(clippy::too_many_arguments)]
fn blocking_zpop(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    keys_at: std::ops::Range<usize>,
    max: bool,
    count: usize,
    shape: PopShape,
    timeout_ms: i64,
    op: Op,
) -> Result<(), KsError> {
    {
        let (mut keys, out) = ctx.split();
        if pop_generic(&mut keys, out, &argv[keys_at.clone()], max, count, shape)? {
            return Ok(());
        }
    }
    if !wait(ctx, op, argv, keys_at, Kind::ZSet, timeout_ms) {
        ctx.out.null_array();
    }
    Ok(())
}

/// BZPOPMIN key [key ...] timeout
pub(crate) fn bzpopmin(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let last = argv.len() - 1;
    let timeout_ms = parse_timeout(argv[last])?;
    blocking_zpop(
        ctx,
        argv,
        1..last,
        false,
        1,
        PopShape::KeyFlat,
        timeout_ms,
        Op::BZPopMin,
    )
}

/// BZPOPMAX key [key ...] timeout
pub(crate) fn bzpopmax(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let last = argv.len() - 1;
    let timeout_ms = parse_timeout(argv[last])?;
    blocking_zpop(
        ctx,
        argv,
        1..last,
        true,
        1,
        PopShape::KeyFlat,
        timeout_ms,
        Op::BZPopMax,
    )
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub(crate) fn bzmpop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    // Redis parses the keys, MIN|MAX and the count before the timeout.
    let (keys_in, max, count) = parse_mpop(argv, 2)?;
    let timeout_ms = parse_timeout(argv[1])?;
    let at = 3..3 + keys_in.len();
    blocking_zpop(
        ctx,
        argv,
        at,
        max,
        count,
        PopShape::KeyNested,
        timeout_ms,
        Op::BZMPop,
    )
}

/// Redis's `zmpopGenericCommand` argument parsing from `argv[numkeys_at]`: the keys, MAX,
/// and the count (BZMPOP reuses it).
pub(crate) fn parse_mpop<'a, 'b>(
    argv: &'b [&'a [u8]],
    numkeys_at: usize,
) -> Result<(&'b [&'a [u8]], bool, usize), KsError> {
    let numkeys = crate::number::parse_i64(argv[numkeys_at])
        .filter(|n| *n >= 1)
        .ok_or(KsError::NumkeysNotPositive)?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|w| *w < argv.len())
        .ok_or(KsError::Syntax)?;
    let max = if is(argv[where_at], "min") {
        false
    } else if is(argv[where_at], "max") {
        true
    } else {
        return Err(KsError::Syntax);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < argv.len() {
        if count.is_none() && is(argv[j], "count") && j + 1 < argv.len() {
            let c = crate::number::parse_i64(argv[j + 1])
                .filter(|c| *c >= 1)
                .ok_or(KsError::CountNotPositive)?;
            count = Some(usize::try_from(c).unwrap_or(usize::MAX));
            j += 2;
        } else {
            return Err(KsError::Syntax);
        }
    }
    Ok((&argv[numkeys_at + 1..where_at], max, count.unwrap_or(1)))
}

// ---- random ----

/// splitmix64 over a seed drawn from the segment's generator: cheap per-draw randomness
/// while the value is borrowed.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % n as u64) as usize
    }
}

/// ZRANDMEMBER key [count [WITHSCORES]]
pub(crate) fn zrandmember(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let Some(count_arg) = argv.get(2) else {
        let (mut keys, out) = ctx.split();
        let seed = keys.rand_u64(key);
        match keys.read_as::<ZSet>(key)? {
            Some(z) => {
                let r = Draw(seed).below(z.len());
                match z.at(r) {
                    Some((m, _)) => out.bulk(m),
                    None => out.null(),
                }
            }
            None => out.null(),
        }
        return Ok(());
    };
    let l = arg_i64(count_arg)?;
    if l == i64::MIN {
        return Err(KsError::RandCountRange);
    }
    let withscores = match argv.get(3) {
        _ if argv.len() > 4 => return Err(KsError::Syntax),
        Some(a) if is(a, "withscores") => {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return Err(KsError::ValueOutOfRange);
            }
            true
        }
        Some(_) => return Err(KsError::Syntax),
        None => false,
    };
    let (mut keys, out) = ctx.split();
    let seed = keys.rand_u64(key);
    let Some(z) = keys.read_as::<ZSet>(key)? else {
        out.array(0);
        return Ok(());
    };
    let mut draw = Draw(seed);
    let size = z.len();
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        out.array(0);
    } else if l < 0 || count == 1 {
        // With repetitions, in random order.
        out.pairs_if(count, withscores);
        for _ in 0..count {
            if let Some((m, s)) = z.at(draw.below(size)) {
                out.scored(m, s, withscores);
            }
        }
    } else if count >= size {
        // The whole set, from the highest down (Redis walks it with `zuiNext`).
        out.pairs_if(size, withscores);
        z.for_range(0, size, true, |m, s| out.scored(m, s, withscores));
    } else if count * 3 <= size {
        // Few distinct members of many: draw ranks until enough differ (Redis's CASE 4).
        let mut picked: hashbrown::HashSet<usize, foldhash::fast::RandomState> =
            hashbrown::HashSet::with_capacity_and_hasher(count, Default::default());
        out.pairs_if(count, withscores);
        while picked.len() < count {
            let r = draw.below(size);
            if picked.insert(r) {
                if let Some((m, s)) = z.at(r) {
                    out.scored(m, s, withscores);
                }
            }
        }
    } else {
        // Distinct members: a partial Fisher-Yates over the ranks.
        let mut ranks: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = i + draw.below(size - i);
            ranks.swap(i, j);
        }
        out.pairs_if(count, withscores);
        for &r in &ranks[..count] {
            if let Some((m, s)) = z.at(r) {
                out.scored(m, s, withscores);
            }
        }
    }
    Ok(())
}

// ---- set operations ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// `zunionInterAggregate`: SUM turns inf + -inf (NaN) into 0.
fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = target.min(v),
        Aggregate::Max => *target = target.max(v),
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(crate) fn zunion(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, None, 1, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(crate) fn zinter(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, None, 1, SetOp::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub(crate) fn zdiff(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, None, 1, SetOp::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE ...]
pub(crate) fn zunionstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, Some(argv[1]), 2, SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE ...]
pub(crate) fn zinterstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, Some(argv[1]), 2, SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub(crate) fn zdiffstore(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, Some(argv[1]), 2, SetOp::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub(crate) fn zintercard(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    setop_generic(ctx, argv, None, 1, SetOp::Inter, true)
}

/// Visit the members of the sorted set or set at `key` (a set's members score 1), or
/// nothing when it is missing.
fn for_source(keys: &mut Keys<'_, '_>, key: &[u8], mut f: impl FnMut(&[u8], f64)) {
    match keys.read(key) {
        Some(e) if e.kind() == Kind::ZSet => {
            if let Ok(z) = e.typed_mut::<ZSet>() {
                z.for_range(0, z.len(), false, f);
            }
        }
        Some(e) => {
            if let Ok(s) = e.typed_mut::<Set>() {
                s.for_each(|m| f(m, 1.0));
            }
        }
        None => {}
    }
}

/// The score of `member` in the sorted set or set at `key`.
fn find_in_source(keys: &mut Keys<'_, '_>, key: &[u8], member: &[u8]) -> Option<f64> {
    let e = keys.lookup(key, quiet())?;
    if e.kind() == Kind::ZSet {
        e.typed_mut::<ZSet>().ok()?.score(member)
    } else {
        e.typed_mut::<Set>().ok()?.contains(member).then_some(1.0)
    }
}

fn quiet() -> crate::keys::LookupFlags {
    crate::keys::LookupFlags {
        touch: false,
        stats: false,
        notify: false,
    }
}

/// Redis's `zunionInterDiffGenericCommand`.
fn setop_generic(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    dst: Option<&[u8]>,
    numkeys_at: usize,
    op: SetOp,
    card_only: bool,
) -> Result<(), KsError> {
    let setnum = arg_i64(argv[numkeys_at])?;
    if setnum < 1 {
        return Err(KsError::NeedInputKey);
    }
    let first = numkeys_at + 1;
    if setnum > (argv.len() - first) as i64 {
        return Err(KsError::Syntax);
    }
    let setnum = setnum as usize;
    let srcs = &argv[first..first + setnum];
    let limits = ctx.ks.encoding_limits();
    let (mut keys, out) = ctx.split();
    // Types are checked (and lengths read) before the options are parsed, as in Redis.
    let mut lens = Vec::with_capacity(setnum);
    for k in srcs {
        let len = match keys.read(k) {
            Some(e) => match e.kind() {
                Kind::ZSet => e.typed_mut::<ZSet>()?.len(),
                Kind::Set => e.typed_mut::<Set>()?.len(),
                _ => return Err(KsError::WrongType),
            },
            None => 0,
        };
        lens.push(len);
    }
    let mut weights = vec![1.0f64; setnum];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = first + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = argv[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = parse_f64(argv[j + 1 + i]).ok_or(KsError::WeightNotFloat)?;
            }
            j += 1 + setnum;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = argv[j + 1];
            how = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(KsError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            let l = crate::number::parse_i64(argv[j + 1])
                .filter(|l| *l >= 0)
                .ok_or(KsError::LimitNegative)?;
            limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(KsError::Syntax);
        }
    }
    // Smallest input first (a stable sort, like glibc's merge-sorting qsort); DIFF keeps
    // its first key first.
    let mut order: Vec<usize> = (0..setnum).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| lens[i]);
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    match op {
        SetOp::Inter => {
            let o0 = order[0];
            if lens[o0] > 0 {
                let w0 = weights[o0];
                for_source(&mut keys, srcs[o0], |m, s| {
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    result.push((m.to_vec(), score));
                });
                for &i in &order[1..] {
                    result.retain_mut(|(m, score)| match find_in_source(&mut keys, srcs[i], m) {
                        Some(v) => {
                            aggregate(score, v * weights[i], how);
                            true
                        }
                        None => false,
                    });
                }
            }
            if card_only {
                let n = result.len();
                out.int((if limit > 0 { n.min(limit) } else { n }) as i64);
                return Ok(());
            }
        }
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Vec<u8>, f64, foldhash::fast::RandomState> =
                hashbrown::HashMap::default();
            for &i in &order {
                let w = weights[i];
                for_source(&mut keys, srcs[i], |m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(cur) => aggregate(cur, score, how),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            if lens[0] > 0 {
                for_source(&mut keys, srcs[0], |m, s| result.push((m.to_vec(), s)));
                for k in &srcs[1..] {
                    result.retain(|(m, _)| find_in_source(&mut keys, k, m).is_none());
                }
            }
        }
    }
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(dst) => {
            let ev = match op {
                SetOp::Union => ZUNIONSTORE,
                SetOp::Inter => ZINTERSTORE,
                SetOp::Diff => ZDIFFSTORE,
            };
            let items = result.iter().map(|(m, s)| (&m[..], *s));
            let z = build_result(result.len(), items, &limits);
            store_result(&mut keys, out, dst, z, ev);
        }
        None => {
            out.pairs_if(result.len(), withscores);
            for (m, s) in &result {
                out.scored(m, *s, withscores);
            }
        }
    }
    Ok(())
}

// ---- ZSCAN ----

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
pub(crate) fn zscan(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let cursor = parse_cursor(argv[2])?;
    let (mut keys, out) = ctx.split();
    let Some(z) = keys.read_as::<ZSet>(argv[1])? else {
        reply_empty_scan(out);
        return Ok(());
    };
    let ScanArgs { count, pattern, .. } = ScanArgs::parse(&argv[3..], ScanExtra::None)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob::matches(p, m, false)) {
            found.push((m.to_vec(), s));
        }
    });
    reply_scan_cursor(out, next);
    out.array(found.len() * 2);
    // A listpack holds its scores as d2string wrote them; Redis's scan of a skiplist's dict
    // prints each with ld2string(LD_STR_AUTO), "%.17Lg" (db.c scanCallback).
    let listpack = z.is_listpack();
    let mut db = DoubleBuf::new();
    for (m, s) in &found {
        out.bulk(m);
        if listpack {
            out.bulk(db.format(*s));
        } else {
            out.bulk(db.format_g17(*s));
        }
    }
    Ok(())
}
