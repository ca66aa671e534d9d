//! HyperLogLog in Redis's own representation (`hyperloglog.c`), as pure functions over the
//! bytes of a string value: the 16-byte `HYLL` header (magic, encoding, 3 unused bytes, the
//! cached cardinality little endian with its top bit as "invalid"), then either the sparse
//! opcodes (ZERO `00xxxxxx`, XZERO `01xxxxxx xxxxxxxx`, VAL `1vvvvvxx`) or 16384 dense 6-bit
//! registers. Every step is Redis's, in the same order, so the bytes after any sequence of
//! PFADD/PFMERGE equal Redis's and an HLL moves between the two servers with GET/SET.
//!
//! The commands (lookups, replies, events) are in `cmd/hyperloglog.rs`.

/// Bytes of the header.
pub(crate) const HDR: usize = 16;
/// Registers (`HLL_REGISTERS`, P = 14).
pub(crate) const REGISTERS: usize = 1 << 14;
/// Bits of the hash left after the register index (`HLL_Q`).
const Q: usize = 64 - 14;
/// Length of a dense HLL (`HLL_DENSE_SIZE`).
pub(crate) const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
/// `HLL_DENSE`
pub(crate) const DENSE: u8 = 0;
/// `HLL_SPARSE`
pub(crate) const SPARSE: u8 = 1;
/// `HLL_SPARSE_VAL_MAX_VALUE`: a larger count forces the dense encoding.
const SPARSE_VAL_MAX: u8 = 32;
/// `HLL_SPARSE_VAL_MAX_LEN`
const SPARSE_VAL_MAX_LEN: usize = 4;
/// `HLL_SPARSE_ZERO_MAX_LEN`
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// `HLL_SPARSE_XZERO_MAX_LEN`
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5/ln(2) (`HLL_ALPHA_INF`).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The value is not a well-formed sparse HLL (Redis's "INVALIDOBJ Corrupted HLL object").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

/// `createHLLObject`: an empty sparse HLL (header plus one XZERO covering every register).
pub(crate) fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.resize(HDR, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        push_xzero(&mut v, n);
        left -= n;
    }
    v
}

/// `isHLLObjectOrReply`'s checks on a string value: the magic, a known encoding, and the exact
/// length of a dense HLL.
pub(crate) fn is_valid(v: &[u8]) -> bool {
    v.len() >= HDR
        && &v[..4] == b"HYLL"
        && v[4] <= SPARSE
        && (v[4] != DENSE || v.len() == DENSE_SIZE)
}

/// True when the value is sparse (else dense; callers checked `is_valid`).
pub(crate) fn is_sparse(v: &[u8]) -> bool {
    v[4] == SPARSE
}

/// The cached cardinality, when valid.
pub(crate) fn cached(v: &[u8]) -> Option<u64> {
    let mut card = [0u8; 8];
    card.copy_from_slice(&v[8..16]);
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Store `card` as the cached cardinality.
pub(crate) fn set_cached(v: &mut [u8], card: u64) {
    v[8..16].copy_from_slice(&card.to_le_bytes());
}

/// `HLL_INVALIDATE_CACHE`
pub(crate) fn invalidate(v: &mut [u8]) {
    v[15] |= 0x80;
}

/// `MurmurHash64A`, little-endian reads, as Redis uses it.
pub(crate) fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = u64::from(seed) ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate() {
            h ^= u64::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// `hllPatLen`: the register an element maps to, and the length of its run of zeroes + 1.
pub(crate) fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> 14) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// `HLL_DENSE_GET_REGISTER` over the register bytes. The last register's second byte is past
/// the registers (Redis reads the sds terminator there, always 0).
#[inline]
pub(crate) fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

/// `HLL_DENSE_SET_REGISTER`
#[inline]
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = u32::from(val);
    regs[byte] &= !((63u32 << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        *b1 &= !((63u32 >> (8 - fb)) as u8);
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Write register `i` of a dense HLL, whatever it held (PFSELFTEST).
pub(crate) fn set_register_raw(v: &mut [u8], i: usize, val: u8) {
    dense_put(&mut v[HDR..], i, val);
}

/// `hllDenseSet`: raise register `i` to `count`; true when it changed.
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push((l >> 8) as u8 | 0x40);
    v.push((l & 0xff) as u8);
}

#[inline]
fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
#[inline]
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
#[inline]
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
#[inline]
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
#[inline]
fn val_len(b: u8) -> usize {
    usize::from(b & 3) + 1
}
#[inline]
fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2) | (len as u8 - 1) | 0x80
}

/// One sparse opcode at `p`: (registers covered, value, bytes).
#[inline]
fn opcode(v: &[u8], p: usize) -> (usize, u8, usize) {
    let b = v[p];
    if is_zero(b) {
        (usize::from(b & 0x3f) + 1, 0, 1)
    } else if is_xzero(b) {
        // Redis reads the byte after the end (the sds terminator) for a cut XZERO.
        let lo = usize::from(v.get(p + 1).copied().unwrap_or(0));
        (((usize::from(b & 0x3f) << 8) | lo) + 1, 0, 2)
    } else {
        (val_len(b), val_value(b), 1)
    }
}

/// `hllSparseToDense`: convert a sparse HLL in place (header and cached cardinality kept);
/// false when it was already dense.
pub(crate) fn to_dense(v: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if v[4] == DENSE {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&v[..HDR]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR..];
    let mut idx = 0;
    let mut p = HDR;
    while p < v.len() {
        let (run, val, bytes) = opcode(v, p);
        if val != 0 {
            if run + idx > REGISTERS {
                break;
            }
            for _ in 0..run {
                dense_put(regs, idx, val);
                idx += 1;
            }
        } else {
            idx += run;
        }
        p += bytes;
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *v = dense;
    Ok(true)
}

/// `hllSparseSet`: raise register `index` to `count` in a sparse HLL, splitting and merging
/// opcodes as Redis does, and promoting to dense when the count cannot be a VAL or the
/// value would pass `max_sparse` bytes. True when a register changed.
fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_sparse: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX {
        return promote(v, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let mut p = HDR;
    let mut first = 0;
    let mut prev = None;
    let mut span = 0;
    let mut found = None;
    while p < v.len() {
        let op = opcode(v, p);
        span = op.0;
        if index < first + span {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.2;
        first += span;
    }
    let Some((runlen, curval, oldlen)) = found else {
        return Err(Corrupt);
    };
    if span == 0 {
        return Err(Corrupt);
    }
    let in_val = curval != 0;
    // Step 2: the cases that need no split.
    let mut simple = false;
    if in_val {
        if curval >= count {
            return Ok(false);
        }
        simple = runlen == 1;
    } else if oldlen == 1 && runlen == 1 {
        simple = true;
    }
    if simple {
        v[p] = val_op(count, 1);
    } else {
        // The general case: split the opcode into up to three (at most 5 bytes).
        let last = first + span - 1;
        let mut seq = [0u8; 5];
        let mut n = 0;
        let zeros = |seq: &mut [u8; 5], n: &mut usize, len: usize| {
            if len > SPARSE_ZERO_MAX_LEN {
                let l = len - 1;
                seq[*n] = (l >> 8) as u8 | 0x40;
                seq[*n + 1] = (l & 0xff) as u8;
                *n += 2;
            } else {
                seq[*n] = (len - 1) as u8;
                *n += 1;
            }
        };
        if !in_val {
            if index != first {
                zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                zeros(&mut seq, &mut n, last - index);
            }
        } else {
            if index != first {
                seq[n] = val_op(curval, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(curval, last - index);
                n += 1;
            }
        }
        // Step 3: put the sequence in place, or promote when it would grow the value past
        // hll-sparse-max-bytes.
        if n > oldlen && v.len() + (n - oldlen) > max_sparse {
            return promote(v, index, count);
        }
        let end = (p + oldlen).min(v.len());
        v.splice(p..end, seq[..n].iter().copied());
    }
    // Step 4: merge adjacent VALs of the same value, scanning up to 5 opcodes from `prev`.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let b = v[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < v.len() && is_val(v[p + 1]) {
            let (v1, v2) = (val_value(b), val_value(v[p + 1]));
            if v1 == v2 {
                let len = val_len(b) + val_len(v[p + 1]);
                if len <= SPARSE_VAL_MAX_LEN {
                    v[p + 1] = val_op(v1, len);
                    v.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate(v);
    Ok(true)
}

/// Promote to dense and set the register there (the tail of `hllSparseSet`).
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    Ok(dense_set(&mut v[HDR..], index, count))
}

/// Raise register `index` to `count` in either encoding; true when it changed.
pub(crate) fn set_register(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_sparse: usize,
) -> Result<bool, Corrupt> {
    if v[4] == DENSE {
        Ok(dense_set(&mut v[HDR..], index, count))
    } else {
        sparse_set(v, index, count, max_sparse)
    }
}

/// `hllAdd`: add one element; true when a register changed.
pub(crate) fn add(v: &mut Vec<u8>, ele: &[u8], max_sparse: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    set_register(v, index, count, max_sparse)
}

/// `hllMerge`: max[i] = MAX(max[i], register i of `v`).
pub(crate) fn merge_into(max: &mut [u8], v: &[u8]) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        let regs = &v[HDR..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let mut i = 0;
    let mut p = HDR;
    while p < v.len() {
        let (run, val, bytes) = opcode(v, p);
        if val != 0 {
            if run + i > REGISTERS {
                break;
            }
            for m in &mut max[i..i + run] {
                *m = (*m).max(val);
            }
        }
        i += run;
        p += bytes;
    }
    if i == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// `hllCount` of a sparse or dense HLL.
pub(crate) fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u64; 64];
    let regs = &v[HDR..];
    if v[4] == DENSE {
        for i in 0..REGISTERS {
            histo[usize::from(dense_get(regs, i))] += 1;
        }
    } else {
        let mut idx = 0;
        let mut p = HDR;
        while p < v.len() {
            let (run, val, bytes) = opcode(v, p);
            idx += run;
            histo[usize::from(val)] = histo[usize::from(val)].wrapping_add(run as u64);
            p += bytes;
        }
        if idx != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histo))
}

/// `hllCount` of raw byte registers (the internal HLL_RAW of a multi-key PFCOUNT).
pub(crate) fn count_raw(max: &[u8]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in max {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// The estimator of Redis 5+ (Ertl, "New cardinality estimation algorithms for HyperLogLog
/// sketches"), from the register histogram.
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// `hllSigma`
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// `hllTau`
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// PFDEBUG DECODE's text of a sparse HLL (`z:len`, `Z:len`, `v:value,len`, space separated).
pub(crate) fn decode_sparse(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut p = HDR;
    while p < v.len() {
        let (run, val, bytes) = opcode(v, p);
        if !out.is_empty() {
            out.push(b' ');
        }
        let text = if val != 0 {
            format!("v:{val},{run}")
        } else if bytes == 2 {
            format!("Z:{run}")
        } else {
            format!("z:{run}")
        };
        out.extend_from_slice(text.as_bytes());
        p += bytes;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registers(v: &[u8]) -> Vec<u8> {
        let mut max = vec![0u8; REGISTERS];
        merge_into(&mut max, v).unwrap();
        max
    }

    #[test]
    fn an_empty_hll_is_redis_bytes() {
        let v = new_sparse();
        assert_eq!(v.len(), 18);
        assert_eq!(&v[..5], b"HYLL\x01");
        assert_eq!(&v[16..], &[0x7f, 0xff]);
        assert!(is_valid(&v));
        assert_eq!(count(&v), Ok(0));
        assert_eq!(decode_sparse(&v), b"Z:16384");
    }

    #[test]
    fn murmur_matches_redis() {
        // Values from Redis's own MurmurHash64A (seed 0xadc83b19).
        let (i, c) = pat_len(b"a");
        assert!(i < REGISTERS && (1..=51).contains(&c));
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn dense_registers_round_trip_and_stay_apart() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "{i}");
        }
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut s = new_sparse();
        let mut d = new_sparse();
        to_dense(&mut d).unwrap();
        for j in 0..3000u32 {
            let e = j.to_le_bytes();
            let a = add(&mut s, &e, 1 << 20).unwrap();
            let b = add(&mut d, &e, 1 << 20).unwrap();
            assert_eq!(a, b, "{j}");
            if j % 97 == 0 {
                assert_eq!(registers(&s), registers(&d));
                assert_eq!(count(&s), count(&d));
            }
        }
        assert!(is_sparse(&s));
        let n = count(&s).unwrap();
        assert!((2900..3100).contains(&n), "{n}");
    }

    #[test]
    fn sparse_promotes_past_the_byte_limit() {
        let mut s = new_sparse();
        let mut j = 0u32;
        while is_sparse(&s) {
            assert!(s.len() <= 300);
            add(&mut s, &j.to_le_bytes(), 300).unwrap();
            j += 1;
        }
        assert_eq!(s.len(), DENSE_SIZE);
        assert!(is_valid(&s));
    }

    #[test]
    fn corrupt_sparse_is_detected() {
        let mut v = new_sparse();
        v.truncate(17);
        v[16] = 0x3f; // ZERO of 64: far too few registers.
        assert_eq!(count(&v), Err(Corrupt));
        assert_eq!(to_dense(&mut v.clone()), Err(Corrupt));
        assert_eq!(merge_into(&mut [0u8; REGISTERS], &v), Err(Corrupt));
        assert_eq!(add(&mut v, b"x", 3000), Err(Corrupt));
    }

    #[test]
    fn cache_bits() {
        let mut v = new_sparse();
        assert_eq!(cached(&v), Some(0));
        invalidate(&mut v);
        assert_eq!(cached(&v), None);
        set_cached(&mut v, 1234);
        assert_eq!(cached(&v), Some(1234));
    }

    use proptest::prelude::*;

    proptest! {
        /// Model test: a sparse HLL (under a random hll-sparse-max-bytes, so promotion
        /// happens at random points) and a dense one hold, after every PFADD, the registers
        /// of a plain array of maxima, report a change exactly when a register rose, and a
        /// sparse value never passes its byte limit.
        #[test]
        fn sparse_and_dense_follow_a_register_model(
            max_sparse in 20usize..400,
            elements in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..400),
        ) {
            let mut model = vec![0u8; REGISTERS];
            let mut s = new_sparse();
            let mut d = new_sparse();
            to_dense(&mut d).unwrap();
            for e in &elements {
                let (i, c) = pat_len(e);
                let rose = c > model[i];
                model[i] = model[i].max(c);
                prop_assert_eq!(add(&mut s, e, max_sparse), Ok(rose));
                prop_assert_eq!(add(&mut d, e, max_sparse), Ok(rose));
                prop_assert!(is_valid(&s));
                if is_sparse(&s) {
                    prop_assert!(s.len() <= max_sparse.max(18));
                }
            }
            prop_assert_eq!(registers(&s), model.clone());
            prop_assert_eq!(registers(&d), model.clone());
            prop_assert_eq!(count(&s), count(&d));
            prop_assert_eq!(count(&s).unwrap(), count_raw(&model));
            // Merging the registers into a fresh HLL gives the same registers back.
            let mut m = new_sparse();
            for (j, &r) in model.iter().enumerate() {
                if r != 0 {
                    set_register(&mut m, j, r, max_sparse).unwrap();
                }
            }
            prop_assert_eq!(registers(&m), model);
        }

        /// Corrupted values (as a client can SET them) never panic: each operation answers
        /// or reports the corruption, as Redis's fuzzing test of hyperloglog.tcl expects.
        #[test]
        fn corrupt_values_are_answered_or_refused(
            seed in prop::collection::vec(any::<u32>(), 0..200),
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..12),
            tail in prop::collection::vec(any::<u8>(), 0..6),
            dense in any::<bool>(),
        ) {
            let mut v = new_sparse();
            for e in &seed {
                add(&mut v, &e.to_le_bytes(), 3000).unwrap();
            }
            if dense {
                to_dense(&mut v).unwrap();
            }
            for (at, b) in edits {
                let at = HDR + at % (v.len() - HDR);
                v[at] = b;
            }
            if !dense {
                v.extend_from_slice(&tail);
            }
            prop_assert!(is_valid(&v));
            let _ = count(&v);
            let _ = merge_into(&mut [0u8; REGISTERS], &v);
            let _ = decode_sparse(&v);
            let _ = to_dense(&mut v.clone());
            for e in &seed {
                let _ = add(&mut v, &e.wrapping_add(7).to_le_bytes(), 3000);
            }
            for j in (0..REGISTERS).step_by(997) {
                let _ = set_register(&mut v, j, 40, 3000);
            }
        }
    }
}
