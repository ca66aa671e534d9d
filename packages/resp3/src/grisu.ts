/**
 * Grisu2 digit generation, as Redis 7.2 prints doubles (`d2string` calls fpconv's
 * `fpconv_dtoa`): digits that read back to the same double but are not always the shortest
 * (80.58692442614159 where the shortest is 80.5869244261416). The same algorithm as the Rust
 * core's `crates/keyspace/src/grisu.rs`, in BigInt for its 64-bit arithmetic: only the
 * replies TypeScript writes itself come here, and few of them are doubles.
 */

const M64 = (1n << 64n) - 1n;
const LO = 0xffffffffn;
const FRAC_MASK = 0x000fffffffffffffn;
const HIDDEN_BIT = 0x0010000000000000n;
const EXP_BIAS = 1023 + 52;

/** 10^k for k = -348, -340, ..., 340: 64-bit significand, rounded to nearest, and binary exponent. */
const POWERS: readonly (readonly [bigint, number])[] = [
  [0xfa8fd5a0081c0288n, -1220],
  [0xbaaee17fa23ebf76n, -1193],
  [0x8b16fb203055ac76n, -1166],
  [0xcf42894a5dce35ean, -1140],
  [0x9a6bb0aa55653b2dn, -1113],
  [0xe61acf033d1a45dfn, -1087],
  [0xab70fe17c79ac6can, -1060],
  [0xff77b1fcbebcdc4fn, -1034],
  [0xbe5691ef416bd60cn, -1007],
  [0x8dd01fad907ffc3cn, -980],
  [0xd3515c2831559a83n, -954],
  [0x9d71ac8fada6c9b5n, -927],
  [0xea9c227723ee8bcbn, -901],
  [0xaecc49914078536dn, -874],
  [0x823c12795db6ce57n, -847],
  [0xc21094364dfb5637n, -821],
  [0x9096ea6f3848984fn, -794],
  [0xd77485cb25823ac7n, -768],
  [0xa086cfcd97bf97f4n, -741],
  [0xef340a98172aace5n, -715],
  [0xb23867fb2a35b28en, -688],
  [0x84c8d4dfd2c63f3bn, -661],
  [0xc5dd44271ad3cdban, -635],
  [0x936b9fcebb25c996n, -608],
  [0xdbac6c247d62a584n, -582],
  [0xa3ab66580d5fdaf6n, -555],
  [0xf3e2f893dec3f126n, -529],
  [0xb5b5ada8aaff80b8n, -502],
  [0x87625f056c7c4a8bn, -475],
  [0xc9bcff6034c13053n, -449],
  [0x964e858c91ba2655n, -422],
  [0xdff9772470297ebdn, -396],
  [0xa6dfbd9fb8e5b88fn, -369],
  [0xf8a95fcf88747d94n, -343],
  [0xb94470938fa89bcfn, -316],
  [0x8a08f0f8bf0f156bn, -289],
  [0xcdb02555653131b6n, -263],
  [0x993fe2c6d07b7facn, -236],
  [0xe45c10c42a2b3b06n, -210],
  [0xaa242499697392d3n, -183],
  [0xfd87b5f28300ca0en, -157],
  [0xbce5086492111aebn, -130],
  [0x8cbccc096f5088ccn, -103],
  [0xd1b71758e219652cn, -77],
  [0x9c40000000000000n, -50],
  [0xe8d4a51000000000n, -24],
  [0xad78ebc5ac620000n, 3],
  [0x813f3978f8940984n, 30],
  [0xc097ce7bc90715b3n, 56],
  [0x8f7e32ce7bea5c70n, 83],
  [0xd5d238a4abe98068n, 109],
  [0x9f4f2726179a2245n, 136],
  [0xed63a231d4c4fb27n, 162],
  [0xb0de65388cc8ada8n, 189],
  [0x83c7088e1aab65dbn, 216],
  [0xc45d1df942711d9an, 242],
  [0x924d692ca61be758n, 269],
  [0xda01ee641a708dean, 295],
  [0xa26da3999aef774an, 322],
  [0xf209787bb47d6b85n, 348],
  [0xb454e4a179dd1877n, 375],
  [0x865b86925b9bc5c2n, 402],
  [0xc83553c5c8965d3dn, 428],
  [0x952ab45cfa97a0b3n, 455],
  [0xde469fbd99a05fe3n, 481],
  [0xa59bc234db398c25n, 508],
  [0xf6c69a72a3989f5cn, 534],
  [0xb7dcbf5354e9becen, 561],
  [0x88fcf317f22241e2n, 588],
  [0xcc20ce9bd35c78a5n, 614],
  [0x98165af37b2153dfn, 641],
  [0xe2a0b5dc971f303an, 667],
  [0xa8d9d1535ce3b396n, 694],
  [0xfb9b7cd9a4a7443cn, 720],
  [0xbb764c4ca7a44410n, 747],
  [0x8bab8eefb6409c1an, 774],
  [0xd01fef10a657842cn, 800],
  [0x9b10a4e5e9913129n, 827],
  [0xe7109bfba19c0c9dn, 853],
  [0xac2820d9623bf429n, 880],
  [0x80444b5e7aa7cf85n, 907],
  [0xbf21e44003acdd2dn, 933],
  [0x8e679c2f5e44ff8fn, 960],
  [0xd433179d9c8cb841n, 986],
  [0x9e19db92b4e31ba9n, 1013],
  [0xeb96bf6ebadf77d9n, 1039],
  [0xaf87023b9bf0ee6bn, 1066],
];
const FIRST_POWER = -348;
const POWER_STEP = 8;
const EXP_MIN = -60;
const EXP_MAX = -32;

interface Fp {
  frac: bigint;
  exp: number;
}

const view = new DataView(new ArrayBuffer(8));

/** The digits of the finite, non-zero `d`'s magnitude and the decimal exponent of the last. */
export function grisuDigits(d: number): { digits: string; k: number } {
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const w: Fp =
    biased !== 0 ? { frac: (bits & FRAC_MASK) + HIDDEN_BIT, exp: biased - EXP_BIAS } : { frac: bits & FRAC_MASK, exp: 1 - EXP_BIAS };
  const [lower, upper] = boundaries(w);
  const n = normalize(w);
  const [cached, k] = cachedPower(upper.exp);
  const wn = multiply(n, cached);
  const up = multiply(upper, cached);
  const lo = multiply(lower, cached);
  lo.frac += 1n;
  up.frac -= 1n;
  return generate(wn, up, lo, -k);
}

function normalize(fp: Fp): Fp {
  let { frac, exp } = fp;
  while ((frac & HIDDEN_BIT) === 0n) {
    frac <<= 1n;
    exp--;
  }
  return { frac: (frac << 11n) & M64, exp: exp - 11 };
}

function boundaries(fp: Fp): [Fp, Fp] {
  let ufrac = (fp.frac << 1n) + 1n;
  let uexp = fp.exp - 1;
  while ((ufrac & (HIDDEN_BIT << 1n)) === 0n) {
    ufrac <<= 1n;
    uexp--;
  }
  ufrac = (ufrac << 10n) & M64;
  uexp -= 10;
  // The gap below a power of two is half the gap above it.
  const lShift = fp.frac === HIDDEN_BIT ? 2 : 1;
  const lexp = fp.exp - lShift;
  const lfrac = (((fp.frac << BigInt(lShift)) - 1n) << BigInt(lexp - uexp)) & M64;
  return [
    { frac: lfrac, exp: uexp },
    { frac: ufrac, exp: uexp },
  ];
}

function cachedPower(exp: number): [Fp, number] {
  const approx = Math.trunc(-(exp + POWERS.length) * 0.30102999566398114);
  let idx = Math.trunc((approx - FIRST_POWER) / POWER_STEP);
  for (;;) {
    const [frac, pexp] = POWERS[idx] as readonly [bigint, number];
    const current = exp + pexp + 64;
    if (current < EXP_MIN) idx++;
    else if (current > EXP_MAX) idx--;
    else return [{ frac, exp: pexp }, FIRST_POWER + idx * POWER_STEP];
  }
}

/** fpconv's product: the upper 64 bits from 32-bit partial products, rounded from bit 63. */
function multiply(a: Fp, b: Fp): Fp {
  const ah = a.frac >> 32n;
  const al = a.frac & LO;
  const bh = b.frac >> 32n;
  const bl = b.frac & LO;
  const ahBl = ah * bl;
  const alBh = al * bh;
  const alBl = al * bl;
  const tmp = (ahBl & LO) + (alBh & LO) + (alBl >> 32n) + (1n << 31n);
  return { frac: (ah * bh + (ahBl >> 32n) + (alBh >> 32n) + (tmp >> 32n)) & M64, exp: a.exp + b.exp + 64 };
}

const TENS: readonly bigint[] = Array.from({ length: 20 }, (_, i) => 10n ** BigInt(19 - i));

/** Move the last digit down while that brings it closer to w inside the interval. */
function roundDigit(digits: number[], delta: bigint, rest: bigint, kappa: bigint, frac: bigint): void {
  const at = digits.length - 1;
  if (at < 0) return;
  let rem = rest;
  while (rem < frac && delta - rem >= kappa && (rem + kappa < frac || frac - rem > rem + kappa - frac)) {
    digits[at] = (digits[at] as number) - 1;
    rem += kappa;
  }
}

function generate(w: Fp, upper: Fp, lower: Fp, k0: number): { digits: string; k: number } {
  const wfrac = upper.frac - w.frac;
  let delta = upper.frac - lower.frac;
  const shift = BigInt(-upper.exp);
  const one = 1n << shift;
  let part1 = upper.frac >> shift;
  let part2 = upper.frac & (one - 1n);
  const digits: number[] = [];
  let k = k0;
  let kappa = 10;
  for (let i = 10; i < 20; i++) {
    const div = TENS[i] as bigint;
    const digit = part1 / div;
    if (digit !== 0n || digits.length > 0) digits.push(Number(digit));
    part1 -= digit * div;
    kappa--;
    const rest = (part1 << shift) + part2;
    if (rest <= delta) {
      k += kappa;
      roundDigit(digits, delta, rest, div << shift, wfrac);
      return { digits: digits.join(''), k };
    }
  }
  for (let unit = 18; ; unit = Math.max(unit - 1, 0)) {
    part2 = (part2 * 10n) & M64;
    delta = (delta * 10n) & M64;
    kappa--;
    const digit = part2 >> shift;
    if (digit !== 0n || digits.length > 0) digits.push(Number(digit));
    part2 &= one - 1n;
    if (part2 < delta) {
      k += kappa;
      roundDigit(digits, delta, part2, one, (wfrac * (TENS[unit] as bigint)) & M64);
      return { digits: digits.join(''), k };
    }
  }
}
