//! Grisu2 digit generation, as Redis 7.2 prints doubles (`d2string` calls fpconv's
//! `fpconv_dtoa`). Grisu2's digits always read back to the same double but are not always the
//! shortest that do (about one double in a few hundred gets a digit more, and subnormals up to
//! 17): 80.58692442614159 where the shortest is 80.5869244261416, 4.9406564584124654e-324
//! for 5e-324. A reply byte-equal to Redis's needs these digits, not the shortest.

/// A 64-bit significand and a binary exponent: `frac` × 2^`exp`.
#[derive(Clone, Copy)]
struct Fp {
    frac: u64,
    exp: i32,
}

const FRAC_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
const EXP_MASK: u64 = 0x7FF0_0000_0000_0000;
const HIDDEN_BIT: u64 = 0x0010_0000_0000_0000;
const EXP_BIAS: i32 = 1023 + 52;

/// 10^k for k = -348, -340, ..., 340 (`FIRST_POWER` in steps of `POWER_STEP`): the
/// significand normalised to 64 bits and rounded to nearest, and its binary exponent. Made by
/// exact rational arithmetic (10^k / 2^e for the e that puts the quotient in [2^63, 2^64));
/// these are Grisu's usual cached powers.
const POWERS: [(u64, i32); 87] = [
    (0xfa8fd5a0081c0288, -1220),
    (0xbaaee17fa23ebf76, -1193),
    (0x8b16fb203055ac76, -1166),
    (0xcf42894a5dce35ea, -1140),
    (0x9a6bb0aa55653b2d, -1113),
    (0xe61acf033d1a45df, -1087),
    (0xab70fe17c79ac6ca, -1060),
    (0xff77b1fcbebcdc4f, -1034),
    (0xbe5691ef416bd60c, -1007),
    (0x8dd01fad907ffc3c, -980),
    (0xd3515c2831559a83, -954),
    (0x9d71ac8fada6c9b5, -927),
    (0xea9c227723ee8bcb, -901),
    (0xaecc49914078536d, -874),
    (0x823c12795db6ce57, -847),
    (0xc21094364dfb5637, -821),
    (0x9096ea6f3848984f, -794),
    (0xd77485cb25823ac7, -768),
    (0xa086cfcd97bf97f4, -741),
    (0xef340a98172aace5, -715),
    (0xb23867fb2a35b28e, -688),
    (0x84c8d4dfd2c63f3b, -661),
    (0xc5dd44271ad3cdba, -635),
    (0x936b9fcebb25c996, -608),
    (0xdbac6c247d62a584, -582),
    (0xa3ab66580d5fdaf6, -555),
    (0xf3e2f893dec3f126, -529),
    (0xb5b5ada8aaff80b8, -502),
    (0x87625f056c7c4a8b, -475),
    (0xc9bcff6034c13053, -449),
    (0x964e858c91ba2655, -422),
    (0xdff9772470297ebd, -396),
    (0xa6dfbd9fb8e5b88f, -369),
    (0xf8a95fcf88747d94, -343),
    (0xb94470938fa89bcf, -316),
    (0x8a08f0f8bf0f156b, -289),
    (0xcdb02555653131b6, -263),
    (0x993fe2c6d07b7fac, -236),
    (0xe45c10c42a2b3b06, -210),
    (0xaa242499697392d3, -183),
    (0xfd87b5f28300ca0e, -157),
    (0xbce5086492111aeb, -130),
    (0x8cbccc096f5088cc, -103),
    (0xd1b71758e219652c, -77),
    (0x9c40000000000000, -50),
    (0xe8d4a51000000000, -24),
    (0xad78ebc5ac620000, 3),
    (0x813f3978f8940984, 30),
    (0xc097ce7bc90715b3, 56),
    (0x8f7e32ce7bea5c70, 83),
    (0xd5d238a4abe98068, 109),
    (0x9f4f2726179a2245, 136),
    (0xed63a231d4c4fb27, 162),
    (0xb0de65388cc8ada8, 189),
    (0x83c7088e1aab65db, 216),
    (0xc45d1df942711d9a, 242),
    (0x924d692ca61be758, 269),
    (0xda01ee641a708dea, 295),
    (0xa26da3999aef774a, 322),
    (0xf209787bb47d6b85, 348),
    (0xb454e4a179dd1877, 375),
    (0x865b86925b9bc5c2, 402),
    (0xc83553c5c8965d3d, 428),
    (0x952ab45cfa97a0b3, 455),
    (0xde469fbd99a05fe3, 481),
    (0xa59bc234db398c25, 508),
    (0xf6c69a72a3989f5c, 534),
    (0xb7dcbf5354e9bece, 561),
    (0x88fcf317f22241e2, 588),
    (0xcc20ce9bd35c78a5, 614),
    (0x98165af37b2153df, 641),
    (0xe2a0b5dc971f303a, 667),
    (0xa8d9d1535ce3b396, 694),
    (0xfb9b7cd9a4a7443c, 720),
    (0xbb764c4ca7a44410, 747),
    (0x8bab8eefb6409c1a, 774),
    (0xd01fef10a657842c, 800),
    (0x9b10a4e5e9913129, 827),
    (0xe7109bfba19c0c9d, 853),
    (0xac2820d9623bf429, 880),
    (0x80444b5e7aa7cf85, 907),
    (0xbf21e44003acdd2d, 933),
    (0x8e679c2f5e44ff8f, 960),
    (0xd433179d9c8cb841, 986),
    (0x9e19db92b4e31ba9, 1013),
    (0xeb96bf6ebadf77d9, 1039),
    (0xaf87023b9bf0ee6b, 1066),
];
const FIRST_POWER: i32 = -348;
const POWER_STEP: i32 = 8;
/// The window the scaled exponent must land in, so every digit fits the generation below.
const EXP_MIN: i32 = -60;
const EXP_MAX: i32 = -32;

/// 10^19 down to 10^0.
const TENS: [u64; 20] = [
    10_000_000_000_000_000_000,
    1_000_000_000_000_000_000,
    100_000_000_000_000_000,
    10_000_000_000_000_000,
    1_000_000_000_000_000,
    100_000_000_000_000,
    10_000_000_000_000,
    1_000_000_000_000,
    100_000_000_000,
    10_000_000_000,
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// The digits (ASCII, at most 18) of the finite, non-zero `d`'s magnitude and the decimal
/// exponent `k` of the last one: |d| reads back from digits × 10^k.
pub(crate) fn digits(d: f64, out: &mut [u8; 18]) -> (usize, i32) {
    let bits = d.to_bits();
    let biased = ((bits & EXP_MASK) >> 52) as i32;
    let w = if biased != 0 {
        Fp {
            frac: (bits & FRAC_MASK) + HIDDEN_BIT,
            exp: biased - EXP_BIAS,
        }
    } else {
        Fp {
            frac: bits & FRAC_MASK,
            exp: 1 - EXP_BIAS,
        }
    };
    let (lower, upper) = boundaries(w);
    let w = normalize(w);
    let (cached, k) = cached_power(upper.exp);
    let w = multiply(w, cached);
    let mut upper = multiply(upper, cached);
    let mut lower = multiply(lower, cached);
    lower.frac += 1;
    upper.frac -= 1;
    generate(w, upper, lower, out, -k)
}

/// Shift `fp` left until its top bit is set.
fn normalize(mut fp: Fp) -> Fp {
    while fp.frac & HIDDEN_BIT == 0 {
        fp.frac <<= 1;
        fp.exp -= 1;
    }
    const SHIFT: i32 = 64 - 52 - 1;
    Fp {
        frac: fp.frac << SHIFT,
        exp: fp.exp - SHIFT,
    }
}

/// The midpoints to the neighbouring doubles, normalised to a common exponent: any decimal
/// strictly between them reads back as `fp`.
fn boundaries(fp: Fp) -> (Fp, Fp) {
    let mut upper = Fp {
        frac: (fp.frac << 1) + 1,
        exp: fp.exp - 1,
    };
    while upper.frac & (HIDDEN_BIT << 1) == 0 {
        upper.frac <<= 1;
        upper.exp -= 1;
    }
    const U_SHIFT: i32 = 64 - 52 - 2;
    upper.frac <<= U_SHIFT;
    upper.exp -= U_SHIFT;
    // The gap below a power of two is half the gap above it.
    let l_shift = if fp.frac == HIDDEN_BIT { 2 } else { 1 };
    let mut lower = Fp {
        frac: (fp.frac << l_shift) - 1,
        exp: fp.exp - l_shift,
    };
    lower.frac <<= lower.exp - upper.exp;
    lower.exp = upper.exp;
    (lower, upper)
}

/// The cached power of ten that scales a number of binary exponent `exp` into the window,
/// and its decimal exponent.
fn cached_power(exp: i32) -> (Fp, i32) {
    const ONE_LOG_TEN: f64 = 0.301_029_995_663_981_14;
    // Truncation toward zero, as C's conversion of the product to int.
    let approx = (f64::from(-(exp + POWERS.len() as i32)) * ONE_LOG_TEN) as i32;
    let mut idx = (approx - FIRST_POWER) / POWER_STEP;
    loop {
        let (frac, pexp) = POWERS[idx as usize];
        let current = exp + pexp + 64;
        if current < EXP_MIN {
            idx += 1;
        } else if current > EXP_MAX {
            idx -= 1;
        } else {
            return (Fp { frac, exp: pexp }, FIRST_POWER + idx * POWER_STEP);
        }
    }
}

/// The upper 64 bits of the product, rounded up from bit 63 as fpconv does it: from 32-bit
/// partial products, the low half of the lowest one left out (so not always the exactly
/// rounded product, and the digits follow this, not the exact one).
fn multiply(a: Fp, b: Fp) -> Fp {
    const LO: u64 = 0xFFFF_FFFF;
    let (ah, al, bh, bl) = (a.frac >> 32, a.frac & LO, b.frac >> 32, b.frac & LO);
    let ah_bl = ah * bl;
    let al_bh = al * bh;
    let al_bl = al * bl;
    let ah_bh = ah * bh;
    let tmp = (ah_bl & LO) + (al_bh & LO) + (al_bl >> 32) + (1 << 31);
    Fp {
        frac: ah_bh + (ah_bl >> 32) + (al_bh >> 32) + (tmp >> 32),
        exp: a.exp + b.exp + 64,
    }
}

/// Move the last digit down while that brings the number closer to `w` and stays inside the
/// interval (Grisu's "weeding").
fn round_digit(digits: &mut [u8], delta: u64, mut rem: u64, kappa: u64, frac: u64) {
    let Some(last) = digits.last_mut() else {
        return;
    };
    while rem < frac
        && delta - rem >= kappa
        && (rem + kappa < frac || frac - rem > rem + kappa - frac)
    {
        *last -= 1;
        rem += kappa;
    }
}

/// Generate the digits of `upper` until the rest fits within the interval; returns how many
/// and the decimal exponent of the last (starting from `k`).
fn generate(w: Fp, upper: Fp, lower: Fp, out: &mut [u8; 18], mut k: i32) -> (usize, i32) {
    let wfrac = upper.frac - w.frac;
    let mut delta = upper.frac - lower.frac;
    let shift = -upper.exp as u32;
    let one = 1u64 << shift;
    let mut part1 = upper.frac >> shift;
    let mut part2 = upper.frac & (one - 1);
    let mut n = 0usize;
    let mut kappa = 10;
    for &div in &TENS[10..] {
        let digit = part1 / div;
        if digit != 0 || n > 0 {
            push(out, &mut n, digit);
        }
        part1 -= digit * div;
        kappa -= 1;
        let rest = (part1 << shift) + part2;
        if rest <= delta {
            k += kappa;
            round_digit(&mut out[..n], delta, rest, div << shift, wfrac);
            return (n, k);
        }
        if kappa == 0 {
            break;
        }
    }
    let mut unit = 18usize;
    loop {
        part2 = part2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        let digit = part2 >> shift;
        if digit != 0 || n > 0 {
            push(out, &mut n, digit);
        }
        part2 &= one - 1;
        if part2 < delta {
            k += kappa;
            let scale = TENS.get(unit).copied().unwrap_or(1);
            round_digit(&mut out[..n], delta, part2, one, wfrac.wrapping_mul(scale));
            return (n, k);
        }
        unit = unit.saturating_sub(1);
    }
}

/// Append a digit (a double never needs more than `out` holds).
fn push(out: &mut [u8; 18], n: &mut usize, digit: u64) {
    if let Some(slot) = out.get_mut(*n) {
        *slot = b'0' + digit as u8;
        *n += 1;
    }
}
