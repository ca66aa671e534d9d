//! Numbers as Redis reads and writes them: strict integer parsing (`string2ll`), decimal
//! formatting without allocation, the cursor parser of SCAN (`strtoul`), and INCRBYFLOAT's
//! `long double` arithmetic (through `c/longdouble.c`).

use crate::error::KsError;

/// Redis's `string2ll`: the bytes must be exactly a canonical i64 — no sign but `-`, no
/// leading zeros, no spaces, at most 20 bytes. This strictness is what makes a value that
/// parses safe to store as an integer and print back unchanged.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    // LONG_STR_SIZE is 21 in Redis: 20 characters at most.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// `getLongLongFromObjectOrReply` on an argument.
pub fn arg_i64(s: &[u8]) -> Result<i64, KsError> {
    parse_i64(s).ok_or(KsError::NotInteger)
}

/// `getIntFromObjectOrReply`: an i64 that also fits an i32 (db indexes).
pub fn arg_i32(s: &[u8]) -> Result<i32, KsError> {
    parse_i64(s)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or(KsError::NotInteger)
}

/// A stack buffer for formatting an i64 in decimal (Redis's `ll2string`).
pub struct IntBuf {
    buf: [u8; 20],
}

impl Default for IntBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl IntBuf {
    /// An empty buffer.
    pub fn new() -> IntBuf {
        IntBuf { buf: [0; 20] }
    }

    /// The decimal digits of `v`, borrowed from the buffer.
    pub fn format(&mut self, v: i64) -> &[u8] {
        let mut i = self.digits(v.unsigned_abs());
        if v < 0 {
            i -= 1;
            self.buf[i] = b'-';
        }
        &self.buf[i..]
    }

    /// The decimal digits of an unsigned `v` (a SCAN cursor), borrowed from the buffer.
    pub fn format_u64(&mut self, v: u64) -> &[u8] {
        let i = self.digits(v);
        &self.buf[i..]
    }

    /// Write the digits of `n` at the end of the buffer; returns where they start (at
    /// least 1 for any i64's magnitude, leaving room for its sign).
    fn digits(&mut self, mut n: u64) -> usize {
        let mut i = self.buf.len();
        loop {
            i -= 1;
            self.buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return i;
            }
        }
    }
}

/// A stack buffer for formatting a double as Redis 7.2's `d2string` does (RESP3 doubles and
/// their RESP2 bulk form): `nan`, `inf`, `-inf`, `0`, `-0`; integral values within
/// ±`i64::MAX / 2` as integers; everything else in grisu2's digits (crate::grisu), laid out
/// as `fpconv_dtoa`'s `emit_digits` lays them out.
pub struct DoubleBuf {
    buf: [u8; 32],
}

impl Default for DoubleBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// A `std::fmt::Write` over a fixed array: formatting digits costs no allocation.
struct ArrayWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl std::fmt::Write for ArrayWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl DoubleBuf {
    /// An empty buffer.
    pub fn new() -> DoubleBuf {
        DoubleBuf { buf: [0; 32] }
    }

    /// `x` as Redis 7.2 prints a double reply, borrowed from the buffer.
    pub fn format(&mut self, x: f64) -> &[u8] {
        if let Some(text) = special(x) {
            return text;
        }
        // double2ll: integral and safely castable, printed by the integer path.
        const HALF: f64 = (i64::MAX / 2) as f64;
        if (-HALF..=HALF).contains(&x) && (x as i64) as f64 == x {
            let mut ib = IntBuf::new();
            let s = ib.format(x as i64);
            let n = s.len();
            self.buf[..n].copy_from_slice(s);
            return &self.buf[..n];
        }
        // Grisu2's digits, as fpconv_dtoa finds them (not always the shortest).
        let mut digits = [0u8; 18];
        let (nd, k) = crate::grisu::digits(x, &mut digits);
        let neg = x < 0.0;
        let mut out = 0usize;
        if neg {
            self.buf[0] = b'-';
            out = 1;
        }
        out += emit_digits(&digits[..nd], i64::from(k), &mut self.buf[out..], neg);
        &self.buf[..out]
    }

    /// `x` as `printf("%.17Lg")` prints it (Redis's `ld2string(LD_STR_AUTO)`, which ZSCAN
    /// of a skiplist and a few other replies use): 17 significant digits of the exact value,
    /// trailing zeros dropped, exponent form below 1e-4 and from 1e17 on; inf/-inf/nan spelled
    /// out as ld2string does.
    pub fn format_g17(&mut self, x: f64) -> &[u8] {
        if let Some(text) = special(x) {
            return text;
        }
        // 17 significant digits, exactly rounded: "d.dddddddddddddddde-X".
        let mut sci = [0u8; 32];
        let mut w = ArrayWriter {
            buf: &mut sci,
            len: 0,
        };
        if std::fmt::Write::write_fmt(&mut w, format_args!("{:.16e}", x.abs())).is_err() {
            return b"nan";
        }
        let sci_len = w.len;
        let text = &sci[..sci_len];
        let e_at = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
        let exp = parse_i64(text.get(e_at + 1..).unwrap_or_default()).unwrap_or(0);
        let mut digits = [0u8; 17];
        let mut nd = 0;
        for &b in &text[..e_at] {
            if b.is_ascii_digit() && nd < digits.len() {
                digits[nd] = b;
                nd += 1;
            }
        }
        // %g drops trailing zeros (and then a trailing point).
        while nd > 1 && digits[nd - 1] == b'0' {
            nd -= 1;
        }
        let mut n = 0usize;
        let mut put = |buf: &mut [u8; 32], b: u8| {
            if let Some(slot) = buf.get_mut(n) {
                *slot = b;
            }
            n += 1;
        };
        if x < 0.0 {
            put(&mut self.buf, b'-');
        }
        if (-4..17).contains(&exp) {
            // Fixed notation: the point after exp + 1 digits, zeros to fill on either side.
            if exp < 0 {
                put(&mut self.buf, b'0');
                put(&mut self.buf, b'.');
                for _ in 0..(-exp - 1) {
                    put(&mut self.buf, b'0');
                }
                for &d in &digits[..nd] {
                    put(&mut self.buf, d);
                }
            } else {
                let int_digits = exp as usize + 1;
                for i in 0..int_digits.max(nd) {
                    if i == int_digits {
                        put(&mut self.buf, b'.');
                    }
                    put(
                        &mut self.buf,
                        digits.get(i).filter(|_| i < nd).copied().unwrap_or(b'0'),
                    );
                }
            }
        } else {
            put(&mut self.buf, digits[0]);
            if nd > 1 {
                put(&mut self.buf, b'.');
                for &d in &digits[1..nd] {
                    put(&mut self.buf, d);
                }
            }
            put(&mut self.buf, b'e');
            put(&mut self.buf, if exp < 0 { b'-' } else { b'+' });
            let e = exp.unsigned_abs();
            if e >= 100 {
                put(&mut self.buf, b'0' + (e / 100) as u8);
            }
            put(&mut self.buf, b'0' + (e / 10 % 10) as u8);
            put(&mut self.buf, b'0' + (e % 10) as u8);
        }
        let n = n.min(self.buf.len());
        &self.buf[..n]
    }
}

/// The values Redis spells out itself, in d2string and ld2string alike: nan, inf, -inf, 0, -0.
fn special(x: f64) -> Option<&'static [u8]> {
    if x.is_nan() {
        Some(b"nan")
    } else if x.is_infinite() {
        Some(if x > 0.0 { b"inf" } else { b"-inf" })
    } else if x == 0.0 {
        Some(if x.is_sign_negative() { b"-0" } else { b"0" })
    } else {
        None
    }
}

/// A stack buffer for `ld2string(LD_STR_HUMAN)` of a double (Redis's
/// `addReplyHumanLongDouble`, which GEOPOS and WITHCOORD reply with): `%.17Lf` of the exact
/// value, trailing zeros and a trailing '.' removed, "-0" as "0".
pub struct HumanBuf {
    buf: [u8; 336],
}

impl Default for HumanBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl HumanBuf {
    /// An empty buffer.
    pub fn new() -> HumanBuf {
        HumanBuf { buf: [0; 336] }
    }

    /// `x` as Redis prints it in human mode, borrowed from the buffer.
    pub fn format(&mut self, x: f64) -> &[u8] {
        if x.is_nan() {
            return b"nan";
        }
        if x.is_infinite() {
            return if x > 0.0 { b"inf" } else { b"-inf" };
        }
        let mut w = ArrayWriter {
            buf: &mut self.buf,
            len: 0,
        };
        // Rust's fixed precision is exact and rounds ties to even, as glibc's printf does
        // (the long double holds the double's value exactly, so %.17Lf prints that value).
        if std::fmt::Write::write_fmt(&mut w, format_args!("{x:.17}")).is_err() {
            return b"nan";
        }
        let mut len = w.len;
        // Always has a '.' (17 decimals were asked for).
        while len > 0 && self.buf[len - 1] == b'0' {
            len -= 1;
        }
        if len > 0 && self.buf[len - 1] == b'.' {
            len -= 1;
        }
        if &self.buf[..len] == b"-0" {
            return b"0";
        }
        &self.buf[..len]
    }
}

/// `%f` of a double, as the "invalid longitude,latitude pair" error prints it: six
/// decimals of the exact value, "inf"/"-inf"/"nan" spelled out. Returns the length written
/// into `buf` (big enough for any double: 317 bytes).
pub fn format_printf_f(d: f64, buf: &mut [u8]) -> usize {
    let mut w = ArrayWriter { buf, len: 0 };
    let ok = if d.is_nan() {
        std::fmt::Write::write_str(&mut w, if d.is_sign_negative() { "-nan" } else { "nan" })
    } else if d.is_infinite() {
        std::fmt::Write::write_str(&mut w, if d > 0.0 { "inf" } else { "-inf" })
    } else {
        std::fmt::Write::write_fmt(&mut w, format_args!("{d:.6}"))
    };
    if ok.is_err() {
        return 0;
    }
    w.len
}

/// fpconv's `emit_digits`: `digits` times 10^`k`, written into `dest`; returns its length.
fn emit_digits(digits: &[u8], k: i64, dest: &mut [u8], neg: bool) -> usize {
    let nd = digits.len() as i64;
    let exp = (k + nd - 1).abs();
    let mut i = 0usize;
    let mut put = |dest: &mut [u8], b: u8| {
        if let Some(d) = dest.get_mut(i) {
            *d = b;
        }
        i += 1;
    };
    if k >= 0 && exp < nd + 7 {
        // A plain integer: the digits, then k zeros.
        for &d in digits {
            put(dest, d);
        }
        for _ in 0..k {
            put(dest, b'0');
        }
        return i;
    }
    if k < 0 && (k > -7 || exp < 4) {
        let offset = nd - k.abs();
        if offset <= 0 {
            put(dest, b'0');
            put(dest, b'.');
            for _ in 0..-offset {
                put(dest, b'0');
            }
            for &d in digits {
                put(dest, d);
            }
        } else {
            for (j, &d) in digits.iter().enumerate() {
                if j as i64 == offset {
                    put(dest, b'.');
                }
                put(dest, d);
            }
        }
        return i;
    }
    let nd = nd.min(18 - i64::from(neg)) as usize;
    put(dest, digits[0]);
    if nd > 1 {
        put(dest, b'.');
        for &d in &digits[1..nd] {
            put(dest, d);
        }
    }
    put(dest, b'e');
    put(dest, if k + nd as i64 - 1 < 0 { b'-' } else { b'+' });
    let mut e = exp;
    let cent = e / 100;
    if e > 99 {
        put(dest, b'0' + cent as u8);
        e -= cent * 100;
    }
    if e > 9 {
        let dec = e / 10;
        put(dest, b'0' + dec as u8);
        e -= dec * 10;
    } else if cent > 0 {
        put(dest, b'0');
    }
    put(dest, b'0' + (e % 10) as u8);
    i
}

/// Number of decimal characters of `v` (Redis's `sdigits10`), for STRLEN of an int.
pub fn digits10(v: i64) -> usize {
    IntBuf::new().format(v).len()
}

/// The SCAN cursor as Redis reads it with `strtoul(s, &end, 10)`: optional leading `+`/`-`
/// (a negative value wraps, as in C), decimal digits, nothing after; an empty string is 0;
/// a leading space or an overflow is an error.
pub fn parse_cursor(s: &[u8]) -> Result<u64, KsError> {
    if s.first()
        .is_some_and(|b| b.is_ascii_whitespace() || *b == 0x0b)
    {
        return Err(KsError::InvalidCursor);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        // strtoul parsed nothing and left end at the start: valid only if nothing is there.
        return if s.is_empty() {
            Ok(0)
        } else {
            Err(KsError::InvalidCursor)
        };
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(KsError::InvalidCursor);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(KsError::InvalidCursor)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

extern "C" {
    fn shrike_strtod(s: *const u8, slen: usize, strict: i32, out: *mut f64) -> i32;
    fn shrike_incrbyfloat(
        cur: *const u8,
        curlen: usize,
        incr: *const u8,
        incrlen: usize,
        out: *mut u8,
        outcap: usize,
    ) -> i32;
}

fn strtod(s: &[u8], strict: bool) -> Option<f64> {
    strtod_mode(s, i32::from(strict))
}

/// `shrike_strtod` in `mode` (0 loose, 1 strict, 2 SORT's check; see `c/longdouble.c`).
fn strtod_mode(s: &[u8], mode: i32) -> Option<f64> {
    let mut out = 0.0f64;
    // SAFETY: `s` is a live slice for the call; the C side copies at most `slen` bytes of it
    // and writes one double to `out`. It keeps no pointer after returning.
    let ok = unsafe { shrike_strtod(s.as_ptr(), s.len(), mode, &mut out) };
    (ok == 1).then_some(out)
}

/// `strtod` as SORT checks it (sort.c): it may stop at a NUL, and refuses ERANGE (out of a
/// double's range, subnormals included) and NaN; hex and leading spaces pass.
pub fn parse_f64_sort(s: &[u8]) -> Option<f64> {
    strtod_mode(s, 2)
}

/// Redis's `string2d` (`getDoubleFromObject`): scores, increments and weights. "inf",
/// "-inf" and "+inf" parse; NaN, spaces, trailing bytes and out-of-range values do not.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    strtod(s, true)
}

/// `strtod` as `zslParseRange` uses it on a score range bound: the whole text must parse
/// and not be NaN (so "" is 0 and " 1" is 1, as in Redis).
pub fn parse_f64_loose(s: &[u8]) -> Option<f64> {
    strtod(s, false)
}

/// Capacity of the buffer `incr_by_float` writes into (Redis's MAX_LONG_DOUBLE_CHARS).
pub const LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// INCRBYFLOAT: `cur` (None for a missing key) plus `incr`, both parsed and summed as C
/// `long double` and printed as Redis does (`%.17Lf`, trailing zeroes trimmed). Returns the
/// new value's text.
pub fn incr_by_float(cur: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, KsError> {
    let mut out = vec![0u8; LONG_DOUBLE_CHARS];
    let (cp, cl) = match cur {
        Some(c) => (c.as_ptr(), c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer/length pair describes a live slice for the duration of the call;
    // the C side reads at most `len` bytes of each input and writes at most `outcap` bytes to
    // `out`, which is `LONG_DOUBLE_CHARS` long. It keeps no pointer after returning.
    let n = unsafe {
        shrike_incrbyfloat(
            cp,
            cl,
            incr.as_ptr(),
            incr.len(),
            out.as_mut_ptr(),
            out.len(),
        )
    };
    match n {
        -1 => Err(KsError::NotFloat),
        -2 => Err(KsError::NanOrInfinity),
        n if n > 0 => {
            out.truncate(n as usize);
            Ok(out)
        }
        // Cannot happen with a MAX_LONG_DOUBLE_CHARS buffer; Redis would reply an empty
        // string here, we refuse the value instead.
        _ => Err(KsError::NotFloat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"1.0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn doubles_parse_as_string2d() {
        for (text, want) in [
            ("1", Some(1.0)),
            ("-1.5", Some(-1.5)),
            ("+2", Some(2.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e3", Some(1000.0)),
            ("1E-2", Some(0.01)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("0x10", Some(16.0)),
            ("0x1p-2", Some(0.25)),
            ("-0X1.8P1", Some(-3.0)),
            ("0", Some(0.0)),
            ("0e500", Some(0.0)),
            ("1e-310", Some(1e-310)),
            ("1e400", None),
            ("-1e400", None),
            ("1e-400", None),
            ("nan", None),
            ("", None),
            (" 1", None),
            ("1 ", None),
            ("1e", None),
            ("e1", None),
            (".", None),
            ("0x", None),
            ("--1", None),
            ("+-1", None),
            ("1,5", None),
            ("abc", None),
        ] {
            assert_eq!(parse_f64(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn formatting() {
        let mut b = IntBuf::new();
        assert_eq!(b.format(0), b"0");
        assert_eq!(b.format(-12), b"-12");
        assert_eq!(b.format(i64::MIN), b"-9223372036854775808");
        assert_eq!(b.format(i64::MAX), b"9223372036854775807");
        assert_eq!(b.format_u64(0), b"0");
        assert_eq!(b.format_u64(u64::MAX), b"18446744073709551615");
        assert_eq!(digits10(-100), 4);
        assert_eq!(arg_i32(b"2147483648"), Err(KsError::NotInteger));
        assert_eq!(arg_i32(b"-5"), Ok(-5));
    }

    #[test]
    fn cursor_parsing_follows_strtoul() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"+7"), Ok(7));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_cursor(b"18446744073709551616"),
            Err(KsError::InvalidCursor)
        );
        assert_eq!(parse_cursor(b" 1"), Err(KsError::InvalidCursor));
        assert_eq!(parse_cursor(b"1x"), Err(KsError::InvalidCursor));
        assert_eq!(parse_cursor(b"-"), Err(KsError::InvalidCursor));
    }

    fn ibf(cur: Option<&str>, by: &str) -> Result<String, KsError> {
        incr_by_float(cur.map(str::as_bytes), by.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn incrbyfloat_matches_redis() {
        // Expected texts from redis-server 7.0 on x86-64.
        assert_eq!(ibf(Some("0.5"), "1.123").unwrap(), "1.623");
        assert_eq!(ibf(Some("10.5"), "0.1").unwrap(), "10.6");
        assert_eq!(ibf(None, "3.0e3").unwrap(), "3000");
        assert_eq!(ibf(Some("1"), "-1").unwrap(), "0");
        assert_eq!(ibf(Some("5"), "-5.0").unwrap(), "0");
        assert_eq!(ibf(Some("abc"), "1"), Err(KsError::NotFloat));
        assert_eq!(ibf(Some("1"), " 1"), Err(KsError::NotFloat));
        assert_eq!(ibf(Some("1"), "nan"), Err(KsError::NotFloat));
        assert_eq!(ibf(Some("1"), "inf"), Err(KsError::NanOrInfinity));
        assert_eq!(ibf(Some("1"), ""), Err(KsError::NotFloat));
    }
}

#[cfg(test)]
mod double_tests {
    use super::{format_printf_f, DoubleBuf, HumanBuf};

    /// GEOPOS texts of redis-server 7.2.6 (`%.17Lf`, trimmed).
    #[test]
    fn human_doubles_print_as_redis() {
        let mut b = HumanBuf::new();
        for (x, want) in [
            (13.361389338970184, "13.36138933897018433"),
            (-179.99999731779099, "-179.99999731779098511"),
            (180.0, "180"),
            (0.5, "0.5"),
            (-0.0, "0"),
            (-1e-30, "0"),
            (2.682209014892578e-6, "0.00000268220901489"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(std::str::from_utf8(b.format(x)).unwrap(), want, "{x:e}");
        }
        assert_eq!(b.format(f64::MAX).len(), 309);
        assert_eq!(b.format(-f64::MAX).len(), 310);
    }

    #[test]
    fn printf_f_texts() {
        let mut buf = [0u8; 400];
        let n = format_printf_f(200.0, &mut buf);
        assert_eq!(&buf[..n], b"200.000000");
        let n = format_printf_f(-0.0000005, &mut buf);
        assert_eq!(&buf[..n], b"-0.000000");
        let n = format_printf_f(f64::NEG_INFINITY, &mut buf);
        assert_eq!(&buf[..n], b"-inf");
        assert_eq!(format_printf_f(-f64::MAX, &mut buf), 317);
    }

    /// Where grisu2 is not shortest, Redis prints its digits (read off redis-server 7.2.6:
    /// GEOSEARCHSTORE's stored distance).
    #[test]
    fn doubles_print_grisu2_digits_not_the_shortest() {
        let mut b = DoubleBuf::new();
        for (x, want) in [
            (80.5869244261416, "80.58692442614159"),
            (5e-324, "5e-324"),
            (7.795519978839518e-302, "7.795519978839518e-302"),
        ] {
            assert_eq!(std::str::from_utf8(b.format(x)).unwrap(), want, "{x:e}");
        }
    }

    /// Every case of a file of "bits text" lines made with fpconv_dtoa itself (a local
    /// check, run when SHRIKE_FPCONV_CASES names such a file).
    #[test]
    fn doubles_print_as_fpconv_cases() {
        let Ok(path) = std::env::var("SHRIKE_FPCONV_CASES") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let mut b = DoubleBuf::new();
        let mut n = 0;
        for line in text.lines() {
            let (bits, want) = line.split_once(' ').unwrap();
            let x = f64::from_bits(bits.parse().unwrap());
            // d2string prints these as integers before fpconv is asked.
            if x.abs() <= (i64::MAX / 2) as f64 && x.fract() == 0.0 {
                continue;
            }
            assert_eq!(std::str::from_utf8(b.format(x)).unwrap(), want, "{x:e}");
            n += 1;
        }
        assert!(n > 0);
    }

    /// printf's "%.17g" (Python's, which rounds exactly as glibc does).
    #[test]
    fn g17_prints_as_printf() {
        let mut b = DoubleBuf::new();
        for (x, want) in [
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (1e20, "1e+20"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (1e-5, "1.0000000000000001e-05"),
            (-2.5e-310, "-2.5000000000000171e-310"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (12345.678, "12345.678"),
            (-0.3, "-0.29999999999999999"),
            (7.795519978839518e-302, "7.7955199788395182e-302"),
            (-0.0, "-0"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(std::str::from_utf8(b.format_g17(x)).unwrap(), want, "{x:e}");
        }
    }

    /// Inputs and what Redis 7.2.6 replied to `ZSCORE` of them in RESP3 (read off a real
    /// redis-server), plus the special values d2string spells out itself.
    #[test]
    fn doubles_print_as_redis_7_2() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-0.0, "-0"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (1e20, "1e+20"),
            (1e18, "1000000000000000000"),
            (4.6e18, "4600000000000000000"),
            (5e18, "5e+18"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.234e-5, "1.234e-5"),
            (0.000123, "0.000123"),
            (123456789.123, "123456789.123"),
            (1e100, "1e+100"),
            (-1e-300, "-1e-300"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
            (2.5e15, "2500000000000000"),
            (1.2345678901234567e-3, "0.0012345678901234567"),
            (123e-10, "1.23e-8"),
            (9007199254740993.0, "9007199254740992"),
            (1e16, "10000000000000000"),
            (12345678.9, "12345678.9"),
            (1e-6, "0.000001"),
            (-1.5e-7, "-1.5e-7"),
            (123456789012345678901.0, "123456789012345680000"),
            (1.5e300, "1.5e+300"),
        ];
        let mut b = DoubleBuf::new();
        for &(x, want) in cases {
            assert_eq!(
                std::str::from_utf8(b.format(x)).unwrap(),
                want,
                "formatting {x:e}"
            );
        }
    }
}
