//! The hyperloglog group: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST, after Redis 7.2's
//! `hyperloglog.c` (lookups, checks, events and the cached cardinality as Redis has them).
//! The HLL itself — Redis's sparse and dense representation inside a string value — is in
//! `hll.rs`.

use crate::cmd::Ctx;
use crate::error::KsError;
use crate::hll::{self, REGISTERS};
use crate::notify::{Event, STRING};

/// PFADD and PFMERGE both publish `pfadd`.
const PFADD: Event = Event::new(STRING, "pfadd");

/// `isHLLObjectOrReply` on a string value.
fn check_hll(s: &[u8]) -> Result<(), KsError> {
    if hll::is_valid(s) {
        Ok(())
    } else {
        Err(KsError::HllWrongType)
    }
}

/// hll-sparse-max-bytes now.
fn sparse_max(ctx: &Ctx<'_, '_>) -> usize {
    ctx.ks.encoding_limits().hll_sparse_max_bytes.max(0) as usize
}

/// PFADD key [element [element ...]]
pub(crate) fn pfadd(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let max = sparse_max(ctx);
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    let (e, created) = keys.write_str_or_create(key, hll::new_sparse);
    check_hll(e.string()?)?;
    let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
    let mut updated = created;
    for ele in &argv[2..] {
        updated |= hll::add(raw, ele, max).map_err(|_| KsError::HllCorrupt)?;
    }
    if updated {
        hll::invalidate(raw);
        keys.changed(key, PFADD);
    }
    out.int(i64::from(updated));
    Ok(())
}

/// PFCOUNT key [key ...]
pub(crate) fn pfcount(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    if argv.len() > 2 {
        // The cardinality of the union, from the max of each register (Redis's HLL_RAW).
        let mut max = [0u8; REGISTERS];
        for key in &argv[1..] {
            let Some(e) = keys.read(key) else { continue };
            let s = e.string()?;
            check_hll(s)?;
            hll::merge_into(&mut max, s).map_err(|_| KsError::HllCorrupt)?;
        }
        out.int(hll::count_raw(&max) as i64);
        return Ok(());
    }
    let key = argv[1];
    let Some(e) = keys.read(key) else {
        out.int(0);
        return Ok(());
    };
    check_hll(e.string()?)?;
    let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
    if let Some(card) = hll::cached(raw) {
        out.int(card as i64);
        return Ok(());
    }
    let card = hll::count(raw).map_err(|_| KsError::HllCorrupt)?;
    hll::set_cached(raw, card);
    // Caching changes the value: WATCH sees it and it counts as a change, with no event.
    keys.modified_quietly(key);
    out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey [sourcekey ...]]
pub(crate) fn pfmerge(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let max_sparse = sparse_max(ctx);
    let (mut keys, out) = ctx.split();
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    // The destination is a source too.
    for key in &argv[1..] {
        let Some(e) = keys.read(key) else { continue };
        let s = e.string()?;
        check_hll(s)?;
        use_dense |= !hll::is_sparse(s);
        hll::merge_into(&mut max, s).map_err(|_| KsError::HllCorrupt)?;
    }
    let dest = argv[1];
    let (e, _) = keys.write_str_or_create(dest, hll::new_sparse);
    let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
    if use_dense {
        hll::to_dense(raw).map_err(|_| KsError::HllCorrupt)?;
    }
    for (j, &m) in max.iter().enumerate() {
        if m != 0 {
            // Redis ignores a failure here: the sources were all valid.
            let _ = hll::set_register(raw, j, m, max_sparse);
        }
    }
    hll::invalidate(raw);
    keys.changed(dest, PFADD);
    out.simple(b"OK");
    Ok(())
}

/// PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key
pub(crate) fn pfdebug(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (sub, key) = (argv[1], argv[2]);
    let (mut keys, out) = ctx.split();
    let e = keys.write(key).ok_or(KsError::HllNoKey)?;
    check_hll(e.string()?)?;
    let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
    let is = |name: &[u8]| sub.eq_ignore_ascii_case(name);
    if is(b"getreg") {
        let converted = hll::to_dense(raw).map_err(|_| KsError::HllCorrupt)?;
        out.array(REGISTERS);
        let regs = &raw[hll::HDR..];
        for i in 0..REGISTERS {
            out.int(i64::from(hll::dense_get(regs, i)));
        }
        if converted {
            keys.dirtied(key);
        }
    } else if is(b"decode") {
        if !hll::is_sparse(raw) {
            return Err(KsError::HllNotSparse);
        }
        out.bulk(&hll::decode_sparse(raw));
    } else if is(b"encoding") {
        out.simple(if hll::is_sparse(raw) {
            b"sparse"
        } else {
            b"dense"
        });
    } else if is(b"todense") {
        let converted = hll::to_dense(raw).map_err(|_| KsError::HllCorrupt)?;
        out.int(i64::from(converted));
        if converted {
            keys.dirtied(key);
        }
    } else {
        return Err(KsError::PfDebugUnknown(1));
    }
    Ok(())
}

/// PFSELFTEST: Redis's self test — dense registers keep what is written to them without
/// touching their neighbours, and sparse and dense HLLs fed the same 10 million elements
/// agree, within the expected error, at every power of ten.
pub(crate) fn pfselftest(ctx: &mut Ctx<'_, '_>, _argv: &[&[u8]]) -> Result<(), KsError> {
    let max_sparse = sparse_max(ctx);
    let mut rng = (ctx.sess.now_ms as u64) | 1;
    let mut rand = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut dense = hll::new_sparse();
    hll::to_dense(&mut dense).map_err(|_| KsError::HllSelfTest)?;
    let mut bytes = [0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (rand() & 63) as u8;
            hll::set_register_raw(&mut dense, i, *b);
        }
        for (i, b) in bytes.iter().enumerate() {
            if hll::dense_get(&dense[hll::HDR..], i) != *b {
                return Err(KsError::HllSelfTest);
            }
        }
    }
    dense[hll::HDR..].fill(0);
    let mut sparse = hll::new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand();
    let corrupt = |_| KsError::HllSelfTest;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_ne_bytes();
        hll::add(&mut dense, &ele, max_sparse).map_err(corrupt)?;
        hll::add(&mut sparse, &ele, max_sparse).map_err(corrupt)?;
        if j != checkpoint {
            continue;
        }
        if j < (max_sparse / 2) as u64 && !hll::is_sparse(&sparse) {
            return Err(KsError::HllSelfTest);
        }
        let card = hll::count(&dense).map_err(corrupt)?;
        if card != hll::count(&sparse).map_err(corrupt)? {
            return Err(KsError::HllSelfTest);
        }
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if checkpoint.abs_diff(card) > maxerr {
            return Err(KsError::HllSelfTest);
        }
        checkpoint *= 10;
    }
    ctx.out.simple(b"OK");
    Ok(())
}
