//! The bitmap group: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO over
//! string values, after Redis 7.2's `bitops.c` (same argument checks in the same order, same
//! growth of the string, same events). Bits are numbered from the most significant bit of
//! the first byte; a string grown for a write is padded with zero bytes and becomes raw.

use crate::cmd::string::{clamp_indexes, PROTO_MAX_BULK_LEN};
use crate::cmd::{keyword, Ctx};
use crate::error::KsError;
use crate::keys::Keys;
use crate::notify::{self, Event, STRING};
use crate::number::{arg_i64, parse_i64};

const SETBIT: Event = Event::new(STRING, "setbit");
const SET: Event = Event::new(STRING, "set");

/// `getBitOffsetFromArgument`: a bit offset, or with `hash_bits` > 0 also `#n` meaning n
/// times that width (BITFIELD); past proto-max-bulk-len bytes is out of range.
fn bit_offset(arg: &[u8], hash_bits: u32) -> Result<u64, KsError> {
    let (digits, hash) = match arg.split_first() {
        Some((b'#', rest)) if hash_bits > 0 => (rest, true),
        _ => (arg, false),
    };
    let mut off = parse_i64(digits).ok_or(KsError::BitOffset)?;
    if hash {
        // C multiplies without a check; wrap the same way.
        off = off.wrapping_mul(i64::from(hash_bits));
    }
    if off < 0 || (off >> 3) >= PROTO_MAX_BULK_LEN {
        return Err(KsError::BitOffset);
    }
    Ok(off as u64)
}

/// `lookupStringForBitCommand`: the string at `key` as a raw buffer at least `maxbit` bits
/// long (created zeroed, or grown with zero bytes), and whether it was created or grew.
fn bit_string<'k>(
    keys: &'k mut Keys<'_, '_>,
    key: &[u8],
    maxbit: u64,
) -> Result<(&'k mut Vec<u8>, bool), KsError> {
    let len = (maxbit >> 3) as usize + 1;
    let (e, created) = keys.write_str_or_create(key, || vec![0u8; len]);
    e.string()?;
    let raw = e.str_raw_mut().ok_or(KsError::WrongType)?;
    let grew = raw.len() < len;
    if grew {
        raw.resize(len, 0);
    }
    Ok((raw, created || grew))
}

/// SETBIT key offset value
pub(crate) fn setbit(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let offset = bit_offset(argv[2], 0)?;
    let on = arg_i64(argv[3]).map_err(|_| KsError::BitValue)?;
    if on & !1 != 0 {
        return Err(KsError::BitValue);
    }
    let (mut keys, out) = ctx.split();
    let (raw, dirty) = bit_string(&mut keys, argv[1], offset)?;
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let old = raw[byte] & mask != 0;
    if dirty || old != (on == 1) {
        if on == 1 {
            raw[byte] |= mask;
        } else {
            raw[byte] &= !mask;
        }
        keys.changed(argv[1], SETBIT);
    }
    out.int(i64::from(old));
    Ok(())
}

/// GETBIT key offset
pub(crate) fn getbit(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let offset = bit_offset(argv[2], 0)?;
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.read(argv[1]) else {
        out.int(0);
        return Ok(());
    };
    let s = e.string()?;
    let byte = (offset >> 3) as usize;
    let bit = s
        .get(byte)
        .is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
    out.int(i64::from(bit));
    Ok(())
}

/// `redisPopcount`
fn popcount(s: &[u8]) -> i64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let w = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        n += u64::from(w.count_ones());
    }
    for b in chunks.remainder() {
        n += u64::from(b.count_ones());
    }
    n as i64
}

/// `redisBitpos`: the position of the first `bit` in `s`; for a clear bit past the end, the
/// string counts as padded with zeroes, for a set bit there is none (-1).
fn bitpos_in(s: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0 } else { 0xff };
    // Whole words first, as Redis does: bitmaps hold long runs of the other bit.
    let words = s
        .chunks_exact(8)
        .take_while(|w| {
            let w = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            w == u64::from_ne_bytes([skip; 8])
        })
        .count();
    let from = words * 8;
    match s[from..].iter().position(|&b| b != skip).map(|i| i + from) {
        Some(i) => {
            let b = if bit { s[i] } else { !s[i] };
            (i as i64) * 8 + i64::from(b.leading_zeros())
        }
        None if bit => -1,
        None => (s.len() as i64) * 8,
    }
}

/// Whether a range is in bytes or bits (BITCOUNT/BITPOS's last argument).
fn range_unit(arg: &[u8]) -> Result<bool, KsError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(KsError::Syntax)
    }
}

/// A range over a string after Redis's index conversion: byte bounds and the masks of the
/// bits of the first and last byte that are outside a BIT range.
struct BitRange {
    start: i64,
    end: i64,
    first_neg: u8,
    last_neg: u8,
}

/// Convert negative indexes and clamp, as BITCOUNT and BITPOS do, with `totlen` in bytes.
fn clamp_range(start: i64, end: i64, isbit: bool, totlen: i64) -> BitRange {
    let totlen = if isbit { totlen << 3 } else { totlen };
    let (mut start, mut end) = clamp_indexes(start, end, totlen);
    let (mut first_neg, mut last_neg) = (0u8, 0u8);
    if isbit && start <= end {
        first_neg = !((1u32 << (8 - (start & 7))) - 1) as u8;
        last_neg = ((1u32 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    BitRange {
        start,
        end,
        first_neg,
        last_neg,
    }
}

/// BITCOUNT key [start end [BYTE | BIT]]
pub(crate) fn bitcount(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let (mut keys, out) = ctx.split();
    // A missing key counts 0 before any argument is looked at, as in Redis.
    let Some(e) = keys.read(argv[1]) else {
        out.int(0);
        return Ok(());
    };
    let s = e.string()?;
    let r = match argv.len() {
        4 | 5 => {
            let start = arg_i64(argv[2])?;
            let end = arg_i64(argv[3])?;
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let isbit = match argv.get(4) {
                Some(unit) => range_unit(unit)?,
                None => false,
            };
            clamp_range(start, end, isbit, s.len() as i64)
        }
        2 => BitRange {
            start: 0,
            end: s.len() as i64 - 1,
            first_neg: 0,
            last_neg: 0,
        },
        _ => return Err(KsError::Syntax),
    };
    if r.start > r.end {
        out.int(0);
        return Ok(());
    }
    let (start, end) = (r.start as usize, r.end as usize);
    let mut count = popcount(&s[start..=end]);
    // Bits of the edge bytes outside a BIT range are counted and then taken off again.
    if r.first_neg != 0 {
        count -= i64::from((s[start] & r.first_neg).count_ones());
    }
    if r.last_neg != 0 {
        count -= i64::from((s[end] & r.last_neg).count_ones());
    }
    out.int(count);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
pub(crate) fn bitpos(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let bit = arg_i64(argv[2])?;
    if bit != 0 && bit != 1 {
        return Err(KsError::BitArgument);
    }
    let bit = bit == 1;
    let (mut keys, out) = ctx.split();
    let Some(e) = keys.read(argv[1]) else {
        // A missing key is an endless run of clear bits.
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let s = e.string()?;
    let totlen = s.len() as i64;
    let mut end_given = false;
    let r = match argv.len() {
        4..=6 => {
            let start = arg_i64(argv[3])?;
            let isbit = match argv.get(5) {
                Some(unit) => range_unit(unit)?,
                None => false,
            };
            let end = match argv.get(4) {
                Some(end) => {
                    end_given = true;
                    arg_i64(end)?
                }
                None if isbit => (totlen << 3) + 7,
                None => totlen - 1,
            };
            clamp_range(start, end, isbit, totlen)
        }
        3 => BitRange {
            start: 0,
            end: totlen - 1,
            first_neg: 0,
            last_neg: 0,
        },
        _ => return Err(KsError::Syntax),
    };
    if r.start > r.end {
        out.int(-1);
        return Ok(());
    }
    let (mut start, end) = (r.start as usize, r.end as usize);
    let mut bytes = end - start + 1;
    // Redis's walk: the masked first byte, the whole bytes, then the masked last byte.
    let masked = |b: u8, neg: u8| if bit { b & !neg } else { b | neg };
    let pos = 'found: {
        if r.first_neg != 0 {
            let mut tmp = masked(s[start], r.first_neg);
            if r.last_neg != 0 && bytes == 1 {
                tmp = masked(tmp, r.last_neg);
            }
            let pos = bitpos_in(&[tmp], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - usize::from(r.last_neg != 0);
        if cur > 0 {
            let pos = bitpos_in(&s[start..start + cur], bit);
            if bytes == cur || (pos != -1 && pos != (cur as i64) << 3) {
                break 'found pos;
            }
            start += cur;
            bytes -= cur;
        }
        bitpos_in(&[masked(s[end], r.last_neg)], bit)
    };
    // With an explicit end, the clear bit "after the range" is not in the range.
    if end_given && !bit && pos == (bytes as i64) << 3 {
        out.int(-1);
        return Ok(());
    }
    out.int(if pos == -1 {
        -1
    } else {
        pos + ((start as i64) << 3)
    });
    Ok(())
}

/// BITOP's operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP <AND | OR | XOR | NOT> destkey key [key ...]
pub(crate) fn bitop(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let name = argv[1];
    let ops: [(&[u8], BitOp); 4] = [
        (b"and", BitOp::And),
        (b"or", BitOp::Or),
        (b"xor", BitOp::Xor),
        (b"not", BitOp::Not),
    ];
    let op = keyword(name, &ops).ok_or(KsError::Syntax)?;
    if op == BitOp::Not && argv.len() != 4 {
        return Err(KsError::BitopNotOneKey);
    }
    let dest = argv[2];
    let (mut keys, out) = ctx.split();
    // Fold the sources one at a time into the result: a byte past a source's end counts as
    // zero, which gives the same bytes as Redis's column-wise loop.
    let mut res: Vec<u8> = Vec::new();
    for (j, key) in argv[3..].iter().enumerate() {
        let src = match keys.read(key) {
            None => &[][..],
            Some(e) => e.string()?,
        };
        if j == 0 {
            res.extend_from_slice(src);
            continue;
        }
        if src.len() > res.len() {
            res.resize(src.len(), 0);
        }
        let (head, tail) = res.split_at_mut(src.len());
        match op {
            BitOp::And => {
                head.iter_mut().zip(src).for_each(|(r, s)| *r &= s);
                tail.fill(0);
            }
            BitOp::Or => head.iter_mut().zip(src).for_each(|(r, s)| *r |= s),
            BitOp::Xor => head.iter_mut().zip(src).for_each(|(r, s)| *r ^= s),
            BitOp::Not => {}
        }
    }
    if op == BitOp::Not {
        res.iter_mut().for_each(|b| *b = !*b);
    }
    let len = res.len();
    if len > 0 {
        keys.set_raw_owned(dest, res, false);
        keys.changed(dest, SET);
    } else {
        // `dbDelete` without a lookup first, as Redis does.
        keys.deleted(dest, notify::DEL);
    }
    out.int(len as i64);
    Ok(())
}

/// What BITFIELD does on overflow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// A BITFIELD operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

/// One parsed BITFIELD operation.
#[derive(Clone, Copy)]
struct Field {
    op: FieldOp,
    offset: u64,
    value: i64,
    overflow: Overflow,
    bits: u32,
    signed: bool,
}

/// `getBitfieldTypeFromArgument`: i1..i64 or u1..u63 (the letter is case-sensitive).
fn field_type(arg: &[u8]) -> Result<(bool, u32), KsError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(KsError::BitfieldType),
    };
    let bits = parse_i64(&arg[1..]).ok_or(KsError::BitfieldType)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(KsError::BitfieldType);
    }
    Ok((signed, bits as u32))
}

/// Parse the BITFIELD operation at `argv[*j..]`, consuming OVERFLOW clauses on the way (they
/// set `overflow` for the operations after them); None at the end of argv.
fn next_field(
    argv: &[&[u8]],
    j: &mut usize,
    overflow: &mut Overflow,
) -> Option<Result<Field, KsError>> {
    loop {
        let sub = *argv.get(*j)?;
        let rem = argv.len() - *j - 1;
        let is = |name: &[u8]| sub.eq_ignore_ascii_case(name);
        let op = if is(b"get") && rem >= 2 {
            FieldOp::Get
        } else if is(b"set") && rem >= 3 {
            FieldOp::Set
        } else if is(b"incrby") && rem >= 3 {
            FieldOp::IncrBy
        } else if is(b"overflow") && rem >= 1 {
            let kind = argv[*j + 1];
            let kinds: [(&[u8], Overflow); 3] = [
                (b"wrap", Overflow::Wrap),
                (b"sat", Overflow::Sat),
                (b"fail", Overflow::Fail),
            ];
            let Some(kind) = keyword(kind, &kinds) else {
                return Some(Err(KsError::BitfieldOverflow));
            };
            *overflow = kind;
            *j += 2;
            continue;
        } else {
            return Some(Err(KsError::Syntax));
        };
        let field = (|| {
            let (signed, bits) = field_type(argv[*j + 1])?;
            let offset = bit_offset(argv[*j + 2], bits)?;
            let value = if op == FieldOp::Get {
                0
            } else {
                arg_i64(argv[*j + 3])?
            };
            Ok(Field {
                op,
                offset,
                value,
                overflow: *overflow,
                bits,
                signed,
            })
        })();
        *j += if op == FieldOp::Get { 3 } else { 4 };
        return Some(field);
    }
}

/// `getUnsignedBitfield`, reading bits past the end of `p` as zero.
fn get_bits(p: &[u8], mut offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for _ in 0..bits {
        let byte = p.get((offset >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - (offset & 7))) & 1);
        offset += 1;
    }
    v
}

/// `setUnsignedBitfield` (the buffer was grown to hold the field).
fn set_bits(p: &mut [u8], mut offset: u64, bits: u32, value: u64) {
    for j in 0..bits {
        let bit = ((value >> (bits - 1 - j)) & 1) as u8;
        let byte = &mut p[(offset >> 3) as usize];
        let shift = 7 - (offset & 7);
        *byte = (*byte & !(1 << shift)) | (bit << shift);
        offset += 1;
    }
}

/// `getSignedBitfield`
fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_bits(p, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v |= -1i64 << bits;
    }
    v
}

/// `checkUnsignedBitfieldOverflow`: whether `value + incr` overflows `bits`, and the value
/// to store instead under WRAP or SAT.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, u64) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > maxincr) {
        match ow {
            Overflow::Wrap => (true, wrap()),
            Overflow::Sat => (true, max),
            Overflow::Fail => (true, 0),
        }
    } else if incr < 0 && incr < minincr {
        match ow {
            Overflow::Wrap => (true, wrap()),
            Overflow::Sat => (true, 0),
            Overflow::Fail => (true, 0),
        }
    } else {
        (false, 0)
    }
}

/// `checkSignedBitfieldOverflow`
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        match ow {
            Overflow::Wrap => (true, wrap()),
            Overflow::Sat => (true, max),
            Overflow::Fail => (true, 0),
        }
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        match ow {
            Overflow::Wrap => (true, wrap()),
            Overflow::Sat => (true, min),
            Overflow::Fail => (true, 0),
        }
    } else {
        (false, 0)
    }
}

/// Run one SET or INCRBY on `p`: the reply value (None when FAIL stopped it) and whether the
/// stored field changed.
fn write_field(p: &mut [u8], f: &Field) -> (Option<i64>, bool) {
    if f.signed {
        let old = get_signed(p, f.offset, f.bits);
        let (overflow, new, reply) = if f.op == FieldOp::IncrBy {
            let (o, w) = signed_overflow(old, f.value, f.bits, f.overflow);
            let new = if o { w } else { old.wrapping_add(f.value) };
            (o, new, new)
        } else {
            let (o, w) = signed_overflow(f.value, 0, f.bits, f.overflow);
            (o, if o { w } else { f.value }, old)
        };
        if overflow && f.overflow == Overflow::Fail {
            return (None, false);
        }
        set_bits(p, f.offset, f.bits, new as u64);
        (Some(reply), old != new)
    } else {
        let old = get_bits(p, f.offset, f.bits);
        let (overflow, new, reply) = if f.op == FieldOp::IncrBy {
            let (o, w) = unsigned_overflow(old, f.value, f.bits, f.overflow);
            let new = if o {
                w
            } else {
                old.wrapping_add(f.value as u64)
            };
            (o, new, new)
        } else {
            let v = f.value as u64;
            let (o, w) = unsigned_overflow(v, 0, f.bits, f.overflow);
            (o, if o { w } else { v }, old)
        };
        if overflow && f.overflow == Overflow::Fail {
            return (None, false);
        }
        set_bits(p, f.offset, f.bits, new);
        (Some(reply as i64), old != new)
    }
}

/// The value of a GET field of `p`.
fn read_field(p: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(p, f.offset, f.bits)
    } else {
        get_bits(p, f.offset, f.bits) as i64
    }
}

/// `bitfieldGeneric`: parse every operation first (all errors come before any change), then
/// run them in order on the string, grown once to the farthest bit written.
fn bitfield_generic(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], ro: bool) -> Result<(), KsError> {
    let mut j = 2;
    let mut ow = Overflow::Wrap;
    let mut numops = 0;
    let mut readonly = true;
    let mut highest = 0u64;
    while let Some(f) = next_field(argv, &mut j, &mut ow) {
        let f = f?;
        numops += 1;
        if f.op != FieldOp::Get {
            readonly = false;
            highest = highest.max(f.offset + u64::from(f.bits) - 1);
        }
    }
    let key = argv[1];
    let (mut keys, out) = ctx.split();
    if readonly {
        let s = match keys.read(key) {
            None => &[][..],
            Some(e) => e.string()?,
        };
        out.array(numops);
        let (mut j, mut ow) = (2, Overflow::Wrap);
        while let Some(Ok(f)) = next_field(argv, &mut j, &mut ow) {
            out.int(read_field(s, &f));
        }
        return Ok(());
    }
    if ro {
        return Err(KsError::BitfieldReadOnly);
    }
    let (raw, dirty) = bit_string(&mut keys, key, highest)?;
    let mut changes = 0;
    out.array(numops);
    let (mut j, mut ow) = (2, Overflow::Wrap);
    while let Some(Ok(f)) = next_field(argv, &mut j, &mut ow) {
        if f.op == FieldOp::Get {
            out.int(read_field(raw, &f));
            continue;
        }
        match write_field(raw, &f) {
            (Some(reply), changed) => {
                out.int(reply);
                if dirty || changed {
                    changes += 1;
                }
            }
            (None, _) => out.null(),
        }
    }
    if changes > 0 {
        keys.changed(key, SETBIT);
    }
    Ok(())
}

/// BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
/// <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | ...]]
pub(crate) fn bitfield(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    bitfield_generic(ctx, argv, false)
}

/// BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]
pub(crate) fn bitfield_ro(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    bitfield_generic(ctx, argv, true)
}
