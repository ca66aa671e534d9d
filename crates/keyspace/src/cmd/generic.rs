//! The generic group (Redis's name for key commands): DEL, EXISTS, TYPE, KEYS, SCAN,
//! RANDOMKEY, RENAME, COPY, MOVE, the EXPIRE and TTL families, PERSIST, TOUCH and OBJECT,
//! after Redis's `db.c`, `expire.c` and `object.c`.
//!
//! KEYS, SCAN and RANDOMKEY hold no lock between segments: they visit one segment at a time
//! (`Tx::visit`), which is all Redis promises for them and keeps them from stalling writers.

use crate::cmd::{keyword, Ctx};
use crate::db::{key_hash, Db, Lookup};
use crate::entry::{idle_seconds, lfu_decr_and_return, Kind};
use crate::error::KsError;
use crate::glob;
use crate::memory;
use crate::notify::{self, Effects, Event, GENERIC};
use crate::number::{arg_i32, arg_i64, parse_cursor, IntBuf};
use crate::reply::ReplySink;
use crate::segment::{Segment, SegmentCell};

const RENAME_FROM: Event = Event::new(GENERIC, "rename_from");
const RENAME_TO: Event = Event::new(GENERIC, "rename_to");
const MOVE_FROM: Event = Event::new(GENERIC, "move_from");
const MOVE_TO: Event = Event::new(GENERIC, "move_to");
const COPY_TO: Event = Event::new(GENERIC, "copy_to");
/// `expire`: a key got a TTL (EXPIRE family, SET EX, GETEX EX...).
pub(crate) const EXPIRE: Event = Event::new(GENERIC, "expire");
/// `persist`: a key lost its TTL.
pub(crate) const PERSIST: Event = Event::new(GENERIC, "persist");

/// DEL key [key ...] (also UNLINK key [key ...])
///
/// Both free a big collection on the lazyfree thread (`lazyfree.rs`), as Redis's UNLINK
/// does; a string is one allocation and is freed in place.
pub(crate) fn del(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let mut n = 0;
    for key in &argv[1..] {
        // expireIfNeeded first: an expired key counts as expired, not deleted.
        if keys.exists_quiet(key) && keys.deleted(key, notify::DEL) {
            n += 1;
        }
    }
    out.int(n);
    Ok(())
}

/// EXISTS key [key ...]
pub(crate) fn exists(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = argv[1..]
        .iter()
        .filter(|k| keys.read_no_touch(k).is_some())
        .count();
    out.int(n as i64);
    Ok(())
}

/// TYPE key
pub(crate) fn type_(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let name = keys
        .read_no_touch(argv[1])
        .map_or("none", |e| e.kind().name());
    out.simple(name.as_bytes());
    Ok(())
}

/// TOUCH key [key ...]
pub(crate) fn touch(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let n = argv[1..].iter().filter(|k| keys.read(k).is_some()).count();
    out.int(n as i64);
    Ok(())
}

/// KEYS pattern
pub(crate) fn keys(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let pattern = argv[1];
    let all = pattern == b"*";
    let db = ctx.sess.db as usize;
    let now = ctx.sess.now_ms;
    let out = &mut *ctx.out;
    let pos = out.array_start();
    let mut n = 0;
    for s in 0..ctx.tx.segment_count() {
        ctx.tx.visit(s, |seg| {
            for e in seg.dbs[db].iter() {
                // KEYS skips expired keys without deleting them (Redis's keyIsExpired).
                if (all || glob::matches(pattern, e.key(), false)) && !e.is_expired(now) {
                    out.bulk(e.key());
                    n += 1;
                }
            }
        });
    }
    out.array_end(pos, n);
    Ok(())
}

/// Bits of a SCAN cursor that hold the position inside a segment: the top 48 bits of the
/// key hash. The segment index sits above them.
const SCAN_POS_BITS: u32 = 48;
const SCAN_POS_END: u64 = 1 << SCAN_POS_BITS;

/// A key's position in SCAN order within its segment.
fn scan_pos(h: u64) -> u64 {
    h >> (64 - SCAN_POS_BITS)
}

/// What a SCAN-family command takes beyond COUNT and MATCH.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanExtra {
    /// Nothing more (SSCAN, ZSCAN).
    None,
    /// TYPE name (SCAN).
    Type,
    /// NOVALUES (HSCAN, Redis 7.4).
    NoValues,
}

/// The options of SCAN, HSCAN, SSCAN and ZSCAN, parsed in one place as Redis's
/// `scanGenericCommand` does.
pub(crate) struct ScanArgs<'a> {
    /// COUNT, at least 1 (10 by default).
    pub(crate) count: usize,
    /// MATCH; `*` matches everything, the same as no pattern.
    pub(crate) pattern: Option<&'a [u8]>,
    /// TYPE: Some(None) for an unknown type name, which Redis 7 accepts and matches nothing.
    pub(crate) kind: Option<Option<Kind>>,
    /// NOVALUES.
    pub(crate) novalues: bool,
}

impl<'a> ScanArgs<'a> {
    /// Parse the options after the cursor; any other word, or one missing its value, is a
    /// syntax error.
    pub(crate) fn parse(opts: &[&'a [u8]], extra: ScanExtra) -> Result<Self, KsError> {
        let mut args = ScanArgs {
            count: 10,
            pattern: None,
            kind: None,
            novalues: false,
        };
        let mut i = 0;
        while let Some(&opt) = opts.get(i) {
            match opts.get(i + 1).copied() {
                Some(v) if opt.eq_ignore_ascii_case(b"count") => {
                    let n = arg_i64(v)?;
                    if n < 1 {
                        return Err(KsError::Syntax);
                    }
                    args.count = usize::try_from(n).unwrap_or(usize::MAX);
                }
                Some(v) if opt.eq_ignore_ascii_case(b"match") => {
                    args.pattern = (v != b"*").then_some(v);
                }
                Some(v) if extra == ScanExtra::Type && opt.eq_ignore_ascii_case(b"type") => {
                    args.kind = Some(Kind::from_name(v));
                }
                _ if extra == ScanExtra::NoValues && opt.eq_ignore_ascii_case(b"novalues") => {
                    args.novalues = true;
                    i += 1;
                    continue;
                }
                _ => return Err(KsError::Syntax),
            }
            i += 2;
        }
        Ok(args)
    }
}

/// Start the reply of a SCAN-family command: an array of 2, then the next cursor (0 when
/// the scan is done) as a bulk string; the caller writes the array of what was found.
pub(crate) fn reply_scan_cursor(out: &mut ReplySink, next: u64) {
    out.array(2);
    out.bulk(IntBuf::new().format_u64(next));
}

/// The reply of a SCAN-family command on a missing key: cursor 0 and nothing found.
pub(crate) fn reply_empty_scan(out: &mut ReplySink) {
    reply_scan_cursor(out, 0);
    out.array(0);
}

/// One SCAN step in one segment: take the keys at positions >= `pos` in hash order, at least
/// `target` of them unless the segment runs out, never splitting keys of equal position.
/// Filters them and appends the survivors to `found`. Returns how many keys were taken and
/// where to resume in this segment (None when the segment is done).
#[allow(clippy::too_many_arguments)]
fn scan_segment(
    seg: &mut Segment,
    cell: &SegmentCell,
    db: usize,
    ks: &crate::Keyspace,
    fx: &mut Effects,
    pos: u64,
    target: usize,
    now: i64,
    filter: &ScanArgs<'_>,
    found: &mut Vec<Vec<u8>>,
) -> (usize, Option<u64>) {
    let hs = &ks.hasher;
    let table: &Db = &seg.dbs[db];
    let mut cand: Vec<(u64, &[u8])> = table
        .iter()
        .map(|e| (scan_pos(key_hash(hs, e.key())), e.key()))
        .filter(|(p, _)| *p >= pos)
        .collect();
    // Big segments return more per call, so a full scan costs a bounded number of passes
    // over each segment (COUNT is a hint; Redis too may return more).
    let target = target.max(table.len() / 16).max(1);
    let next = if cand.len() > target {
        let (_, nth, _) = cand.select_nth_unstable_by_key(target - 1, |c| c.0);
        let bound = nth.0;
        cand.retain(|c| c.0 <= bound);
        (bound + 1 < SCAN_POS_END).then_some(bound + 1)
    } else {
        None
    };
    let taken: Vec<Vec<u8>> = cand
        .iter()
        .filter(|(_, k)| filter.pattern.is_none_or(|p| glob::matches(p, k, false)))
        .map(|(_, k)| k.to_vec())
        .collect();
    let n = cand.len();
    drop(cand);
    let db_index = db;
    let db = &mut seg.dbs[db];
    for key in taken {
        let h = key_hash(hs, &key);
        // Redis 7.0 checks the type with a counted, non-touching read, then drops expired keys.
        let keep = match db.lookup(h, &key, now, hs) {
            Lookup::Found(e) => {
                if filter.kind.is_some() {
                    SegmentCell::bump(&cell.hits);
                }
                filter.kind.is_none_or(|k| k == Some(e.kind()))
            }
            Lookup::Missing => false,
            Lookup::Expired => {
                crate::keys::expired(ks, cell, fx, db_index, &key);
                if filter.kind.is_some() {
                    SegmentCell::bump(&cell.misses);
                }
                false
            }
        };
        if keep {
            found.push(key);
        }
    }
    (n, next)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor is (segment index << 48 | position), the position being the top 48 bits of the
/// key's hash under the keyspace's fixed seed. Each call resumes at that point of that
/// segment, so a key present for the whole scan is returned at least once however keys come
/// and go, and even across SWAPDB or resizes.
pub(crate) fn scan(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let cursor = parse_cursor(argv[1])?;
    let filter = ScanArgs::parse(&argv[2..], ScanExtra::Type)?;
    let count = filter.count;
    let nsegs = ctx.tx.segment_count();
    let db = ctx.sess.db as usize;
    let now = ctx.sess.now_ms;
    let ks = ctx.ks;
    let fx = &mut ctx.sess.fx;
    let mut seg = (cursor >> SCAN_POS_BITS) as usize;
    let mut pos = cursor & (SCAN_POS_END - 1);
    let mut found = Vec::new();
    let mut taken = 0usize;
    while seg < nsegs && taken < count {
        let cell = ctx.tx.cell(seg);
        let (n, next) = ctx.tx.visit(seg, |s| {
            scan_segment(
                s,
                cell,
                db,
                ks,
                fx,
                pos,
                count - taken,
                now,
                &filter,
                &mut found,
            )
        });
        taken += n;
        match next {
            Some(p) => pos = p,
            None => {
                seg += 1;
                pos = 0;
            }
        }
    }
    let next_cursor = if seg >= nsegs {
        0
    } else {
        ((seg as u64) << SCAN_POS_BITS) | pos
    };
    let out = &mut *ctx.out;
    reply_scan_cursor(out, next_cursor);
    out.array(found.len());
    for k in &found {
        out.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY
pub(crate) fn randomkey(ctx: &mut Ctx<'_, '_>, _argv: &[&[u8]]) -> Result<(), KsError> {
    let db = ctx.sess.db as usize;
    let now = ctx.sess.now_ms;
    let ks = ctx.ks;
    let hs = &ks.hasher;
    let fx = &mut ctx.sess.fx;
    let nsegs = ctx.tx.segment_count();
    let mut sizes = vec![0usize; nsegs];
    // Each round deletes the expired keys it meets, so this ends; the bound only guards
    // against a db that keeps refilling with expired keys faster than we drain it.
    for _ in 0..1000 {
        let mut r = 0u64;
        for (s, size) in sizes.iter_mut().enumerate() {
            *size = ctx.tx.visit(s, |seg| {
                if s == 0 {
                    r = seg.rng.next_u64();
                }
                seg.dbs[db].len()
            });
        }
        let total: usize = sizes.iter().sum();
        if total == 0 {
            break;
        }
        // Pick a segment with probability proportional to its size, then a key in it
        // uniformly: every key is equally likely (Redis's dictGetFairRandomKey in spirit).
        let mut pick = (r % total as u64) as usize;
        let mut target = 0;
        for (s, &size) in sizes.iter().enumerate() {
            if pick < size {
                target = s;
                break;
            }
            pick -= size;
        }
        let cell = ctx.tx.cell(target);
        let got = ctx.tx.visit(target, |seg| {
            let Segment { dbs, rng } = seg;
            let d = &mut dbs[db];
            for _ in 0..64 {
                let (key, expired) = d
                    .random_entry(|| rng.next_u64())
                    .map(|e| (e.key().to_vec(), e.is_expired(now)))?;
                if !expired {
                    return Some(key);
                }
                // Redis deletes an expired key it draws and draws again. Where there is one
                // there are often many, so clear what is due in this segment at once.
                let h = key_hash(hs, &key);
                if matches!(d.lookup(h, &key, now, hs), Lookup::Expired) {
                    crate::keys::expired(ks, cell, fx, db, &key);
                }
                d.expire_due(now, 1024, hs, |e| {
                    crate::keys::expired(ks, cell, fx, db, e.key());
                    crate::lazyfree::drop_entry(e);
                });
            }
            None
        });
        if let Some(key) = got {
            ctx.out.bulk(&key);
            return Ok(());
        }
        // The segment emptied meanwhile, or held only expired keys (now deleted): redraw.
    }
    ctx.out.null();
    Ok(())
}

/// `renameGenericCommand`.
fn rename_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], nx: bool) -> Result<(), KsError> {
    let (src, dst) = (argv[1], argv[2]);
    let (mut keys, out) = ctx.split();
    if keys.write(src).is_none() {
        return Err(KsError::NoSuchKey);
    }
    if src == dst {
        if nx {
            out.int(0);
        } else {
            out.simple(b"OK");
        }
        return Ok(());
    }
    if keys.write(dst).is_some() {
        if nx {
            out.int(0);
            return Ok(());
        }
        if let Some(old) = keys.take(dst) {
            crate::lazyfree::drop_entry(old);
        }
    }
    if let Some(e) = keys.take(src) {
        keys.add(e.rekey(dst));
    }
    keys.changed(src, RENAME_FROM);
    keys.changed(dst, RENAME_TO);
    if nx {
        out.int(1);
    } else {
        out.simple(b"OK");
    }
    Ok(())
}

/// RENAME key newkey
pub(crate) fn rename(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    rename_generic(ctx, argv, false)
}

/// RENAMENX key newkey
pub(crate) fn renamenx(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    rename_generic(ctx, argv, true)
}

/// A db index argument for MOVE/COPY: an int in `0..databases`.
fn db_index(arg: &[u8], databases: usize) -> Result<usize, KsError> {
    let id = arg_i32(arg)?;
    usize::try_from(id)
        .ok()
        .filter(|&d| d < databases)
        .ok_or(KsError::DbIndexOutOfRange)
}

/// MOVE key db
pub(crate) fn move_(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let key = argv[1];
    let dst = db_index(argv[2], ctx.ks.databases())?;
    let (mut keys, out) = ctx.split();
    if dst == keys.db {
        return Err(KsError::SameObject);
    }
    if keys.write(key).is_none() || keys.with_db(dst).write(key).is_some() {
        out.int(0);
        return Ok(());
    }
    if let Some(e) = keys.take(key) {
        keys.with_db(dst).add(e);
    }
    keys.changed(key, MOVE_FROM);
    keys.with_db(dst).changed(key, MOVE_TO);
    out.int(1);
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
pub(crate) fn copy(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (src, dst) = (argv[1], argv[2]);
    let mut dst_db = ctx.sess.db as usize;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if argv[j].eq_ignore_ascii_case(b"db") && j + 1 < argv.len() {
            dst_db = db_index(argv[j + 1], ctx.ks.databases())?;
            j += 1;
        } else {
            return Err(KsError::Syntax);
        }
        j += 1;
    }
    let (mut keys, out) = ctx.split();
    if dst_db == keys.db && src == dst {
        return Err(KsError::SameObject);
    }
    let access = keys.new_access();
    let Some(e) = keys.read(src) else {
        out.int(0);
        return Ok(());
    };
    let copy = e.duplicate(dst, access);
    let ttl = e.expire_at();
    let mut target = keys.with_db(dst_db);
    if target.write(dst).is_some() {
        if !replace {
            out.int(0);
            return Ok(());
        }
        if let Some(old) = target.take(dst) {
            crate::lazyfree::drop_entry(old);
        }
    }
    target.add(copy);
    if ttl.is_some() {
        target.set_expire(dst, ttl);
    }
    target.changed(dst, COPY_TO);
    out.int(1);
    Ok(())
}

/// A condition of the EXPIRE family (NX, XX, GT, LT), which HEXPIRE shares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpireCond {
    Nx,
    Xx,
    Gt,
    Lt,
}

impl ExpireCond {
    const ALL: [ExpireCond; 4] = [Self::Nx, Self::Xx, Self::Gt, Self::Lt];

    /// The condition `word` names, in any case.
    pub(crate) fn parse(word: &[u8]) -> Option<ExpireCond> {
        keyword(
            word,
            &[
                (b"nx", Self::Nx),
                (b"xx", Self::Xx),
                (b"gt", Self::Gt),
                (b"lt", Self::Lt),
            ],
        )
    }

    /// Whether a TTL of `current` (`None`: no TTL, which counts as an infinite one) may
    /// become `when`.
    pub(crate) fn allows(self, current: Option<i64>, when: i64) -> bool {
        match self {
            Self::Nx => current.is_none(),
            Self::Xx => current.is_some(),
            Self::Gt => current.is_some_and(|c| when > c),
            Self::Lt => current.is_none_or(|c| when < c),
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// `expireGenericCommand`: `base_ms` is now for relative commands and 0 for the *AT ones.
fn expire_generic(
    ctx: &mut Ctx<'_, '_>,
    argv: &[&[u8]],
    base_ms: i64,
    seconds: bool,
) -> Result<(), KsError> {
    // EXPIRE takes any number of conditions and checks them all (HEXPIRE takes one).
    let mut conds = 0u8;
    for (j, opt) in argv.iter().enumerate().skip(3) {
        let c = ExpireCond::parse(opt).ok_or(KsError::UnsupportedOption(
            u16::try_from(j).unwrap_or(u16::MAX),
        ))?;
        conds |= c.bit();
    }
    let has = |c: ExpireCond| conds & c.bit() != 0;
    if has(ExpireCond::Nx) && conds != ExpireCond::Nx.bit() {
        return Err(KsError::ExpireNxAndOthers);
    }
    if has(ExpireCond::Gt) && has(ExpireCond::Lt) {
        return Err(KsError::ExpireGtAndLt);
    }
    let mut when = arg_i64(argv[2])?;
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(KsError::InvalidExpireTime);
        }
        when *= 1000;
    }
    if when > i64::MAX - base_ms {
        return Err(KsError::InvalidExpireTime);
    }
    when += base_ms;
    let now = ctx.sess.now_ms;
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.write(key) else {
        out.int(0);
        return Ok(());
    };
    let current = e.expire_at();
    let refused = ExpireCond::ALL
        .into_iter()
        .any(|c| has(c) && !c.allows(current, when));
    if refused {
        out.int(0);
        return Ok(());
    }
    if when <= now {
        // checkAlreadyExpired: a time not in the future deletes the key at once.
        keys.deleted(key, notify::DEL);
    } else {
        keys.set_expire(key, Some(when));
        keys.changed(key, EXPIRE);
    }
    out.int(1);
    Ok(())
}

/// EXPIRE key seconds [NX | XX | GT | LT]
pub(crate) fn expire(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let now = ctx.sess.now_ms;
    expire_generic(ctx, argv, now, true)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
pub(crate) fn pexpire(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let now = ctx.sess.now_ms;
    expire_generic(ctx, argv, now, false)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
pub(crate) fn expireat(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    expire_generic(ctx, argv, 0, true)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
pub(crate) fn pexpireat(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    expire_generic(ctx, argv, 0, false)
}

/// `ttlGenericCommand`: -2 for no key, -1 for no TTL, else the TTL or the expiry time.
fn ttl_generic(ctx: &mut Ctx<'_, '_>, key: &[u8], in_ms: bool, absolute: bool) {
    let now = ctx.sess.now_ms;
    let (mut keys, out) = ctx.split();
    let reply = match keys.read_no_touch(key) {
        None => -2,
        Some(e) => match e.expire_at() {
            None => -1,
            Some(at) => {
                let ttl = if absolute { at } else { at - now }.max(0);
                if in_ms {
                    ttl
                } else {
                    // Redis 7.2 computes `(ttl+500)/1000` on a value it knows is >= 0, and gcc
                    // does it unsigned: PEXPIREAT k 9223372036854775807 then EXPIRETIME k
                    // replies 9223372036854776, not a wrapped negative (nor a panic).
                    ((ttl as u64 + 500) / 1000) as i64
                }
            }
        },
    };
    out.int(reply);
}

/// TTL key
pub(crate) fn ttl(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    ttl_generic(ctx, argv[1], false, false);
    Ok(())
}

/// PTTL key
pub(crate) fn pttl(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    ttl_generic(ctx, argv[1], true, false);
    Ok(())
}

/// EXPIRETIME key
pub(crate) fn expiretime(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    ttl_generic(ctx, argv[1], false, true);
    Ok(())
}

/// PEXPIRETIME key
pub(crate) fn pexpiretime(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    ttl_generic(ctx, argv[1], true, true);
    Ok(())
}

/// PERSIST key
pub(crate) fn persist(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    let had_ttl = keys.write(argv[1]).is_some_and(|e| e.expire_at().is_some());
    if had_ttl {
        keys.set_expire(argv[1], None);
        keys.changed(argv[1], PERSIST);
    }
    out.int(i64::from(had_ttl));
    Ok(())
}

/// OBJECT ENCODING key
pub(crate) fn object_encoding(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    match keys.read_object(argv[2]) {
        None => out.null(),
        Some(e) => out.bulk(e.encoding_name().as_bytes()),
    }
    Ok(())
}

/// OBJECT IDLETIME key
pub(crate) fn object_idletime(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let lfu = ctx.ks.lfu_policy();
    let now = ctx.sess.now_ms;
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.read_object(argv[2]) else {
        out.null();
        return Ok(());
    };
    if lfu {
        return Err(KsError::LfuSelected);
    }
    out.int(idle_seconds(e.access(), now));
    Ok(())
}

/// OBJECT FREQ key
pub(crate) fn object_freq(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let lfu = ctx.ks.lfu_policy();
    let now = ctx.sess.now_ms;
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.read_object(argv[2]) else {
        out.null();
        return Ok(());
    };
    if !lfu {
        return Err(KsError::LfuNotSelected);
    }
    out.int(i64::from(lfu_decr_and_return(e.access(), now)));
    Ok(())
}

/// OBJECT REFCOUNT key
pub(crate) fn object_refcount(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    match keys.read_object(argv[2]) {
        None => out.null(),
        Some(e) => out.int(e.refcount()),
    }
    Ok(())
}

/// OBJECT HELP — Redis 7.0's text, footer included (7.2 changed "Prints" to "Print").
pub(crate) fn object_help(ctx: &mut Ctx<'_, '_>, _argv: &[&[u8]]) -> Result<(), KsError> {
    const HELP: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ];
    ctx.out.help(HELP);
    Ok(())
}

/// MEMORY USAGE key [SAMPLES count]
///
/// Options are checked before the key is looked up, so a bad one fails on a missing key
/// too, and the key is not touched (Redis 7.2's `memoryCommand` uses `dictFind`).
pub(crate) fn memory_usage(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let mut samples = memory::DEFAULT_SAMPLES;
    let mut j = 3;
    while j < argv.len() {
        if !argv[j].eq_ignore_ascii_case(b"samples") || j + 1 >= argv.len() {
            return Err(KsError::Syntax);
        }
        let n = arg_i64(argv[j + 1])?;
        samples = match usize::try_from(n) {
            Err(_) => return Err(KsError::Syntax),
            // SAMPLES 0 means every element.
            Ok(0) => usize::MAX,
            Ok(n) => n,
        };
        j += 2;
    }
    let (mut keys, out) = ctx.split();
    match keys.read_object(argv[2]) {
        None => out.null(),
        Some(e) => out.int(i64::try_from(memory::entry_usage(e, samples)).unwrap_or(i64::MAX)),
    }
    Ok(())
}
