//! The server group's keyspace commands: DBSIZE, FLUSHDB, FLUSHALL and SWAPDB, after
//! Redis's `db.c`. Each holds every segment lock (`Lock::All` in `LOCK_OVERRIDES`), so it is atomic
//! against every other command, as in Redis.

use crate::cmd::Ctx;
use crate::db::Db;
use crate::error::KsError;
use crate::number::arg_i32;
use crate::segment::SegmentCell;
use std::sync::atomic::Ordering;

/// DBSIZE
pub(crate) fn dbsize(ctx: &mut Ctx<'_, '_>, _argv: &[&[u8]]) -> Result<(), KsError> {
    let db = ctx.sess.db as usize;
    let mut n = 0usize;
    for s in 0..ctx.tx.segment_count() {
        n += ctx.tx.seg(s).dbs[db].len();
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `getFlushCommandFlags`: true for ASYNC. lazyfree-lazy-user-flush is off by default, so
/// no option means SYNC.
fn flush_async(argv: &[&[u8]]) -> Result<bool, KsError> {
    match argv {
        [_] => Ok(false),
        [_, opt] if opt.eq_ignore_ascii_case(b"sync") => Ok(false),
        [_, opt] if opt.eq_ignore_ascii_case(b"async") => Ok(true),
        _ => Err(KsError::Syntax),
    }
}

/// Empty database `db` (every database when None) in every segment; with `lazy`, the old
/// tables are freed on a background thread. Every version moves (a WATCH anywhere fails,
/// as Redis's `touchAllWatchedKeysInDb` makes it) and each removed key counts as a change.
fn flush(ctx: &mut Ctx<'_, '_>, db: Option<usize>, lazy: bool) {
    let mut taken: Vec<Db> = Vec::new();
    for s in 0..ctx.tx.segment_count() {
        let cell = ctx.tx.cell(s);
        cell.bump_epoch();
        let seg = ctx.tx.seg(s);
        for (i, d) in seg.dbs.iter_mut().enumerate() {
            if db.is_some_and(|db| db != i) {
                continue;
            }
            cell.changes.fetch_add(d.len() as u64, Ordering::Relaxed);
            if lazy {
                taken.push(d.take());
            } else {
                d.clear();
            }
        }
    }
    if lazy {
        crate::drop_in_background(taken);
    }
}

/// FLUSHDB [ASYNC | SYNC]
pub(crate) fn flushdb(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let lazy = flush_async(argv)?;
    let db = ctx.sess.db as usize;
    flush(ctx, Some(db), lazy);
    ctx.out.simple(b"OK");
    Ok(())
}

/// FLUSHALL [ASYNC | SYNC]
pub(crate) fn flushall(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let lazy = flush_async(argv)?;
    flush(ctx, None, lazy);
    ctx.out.simple(b"OK");
    Ok(())
}

/// SWAPDB index1 index2
pub(crate) fn swapdb(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let a = arg_i32(argv[1]).map_err(|_| KsError::InvalidFirstDbIndex)?;
    let b = arg_i32(argv[2]).map_err(|_| KsError::InvalidSecondDbIndex)?;
    let n = ctx.ks.databases();
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
        return Err(KsError::DbIndexOutOfRange);
    };
    if a >= n || b >= n {
        return Err(KsError::DbIndexOutOfRange);
    }
    // Every segment is locked: no command sees one db half swapped.
    for s in 0..ctx.tx.segment_count() {
        ctx.tx.cell(s).bump_epoch();
        ctx.tx.seg(s).dbs.swap(a, b);
    }
    SegmentCell::bump(&ctx.tx.cell(0).changes);
    crate::blocking::swapped(ctx, a, b);
    ctx.out.simple(b"OK");
    Ok(())
}
