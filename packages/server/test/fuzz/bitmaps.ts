/**
 * Bitmaps (bitops.c): SETBIT/GETBIT, BITCOUNT and BITPOS with BYTE/BIT ranges, BITOP into a pool
 * key, BITFIELD with every type width, `#` offsets and OVERFLOW mode, BITFIELD_RO. Plain strings
 * are mixed in (they are the same type). Offsets stay small: a big valid one would make both
 * servers allocate up to 512 MB.
 */
import { type Arg, c, type FuzzCommand, fuzzType, type Gen } from './gen';

/** Bit offsets: small, byte edges, and invalid ones (negative, past 2^32-1, not a number). */
function offset(g: Gen): string {
  if (g.rng.chance(0.85)) return String(g.rng.range(0, 70));
  return g.rng.pick(['100', '1000', '4095', '-1', '4294967296', 'x', '', '1.5']);
}

/** BITFIELD types: every width of both signs, and the invalid ones. */
function bitType(g: Gen): string {
  if (g.rng.chance(0.9)) return `${g.rng.pick(['i', 'u'])}${g.rng.range(1, 64)}`;
  return g.rng.pick(['u64', 'i65', 'i0', 'x8', 'u', 'I8']);
}

/** A BITFIELD offset: plain bits or `#n` (in units of the type's width). */
function bitOffset(g: Gen): string {
  return g.rng.chance(0.3) ? `#${g.rng.range(0, 5)}` : offset(g);
}

/** A BITFIELD value or increment: small, and the edges of every width. */
function bitValue(g: Gen): string {
  return g.rng.chance(0.7) ? String(g.rng.range(-300, 300)) : g.int();
}

function bitfield(g: Gen, readOnly: boolean): FuzzCommand {
  const args: Arg[] = [readOnly ? 'BITFIELD_RO' : 'BITFIELD', g.key()];
  const n = g.rng.range(readOnly ? 1 : 0, 4);
  for (let i = 0; i < n; i++) {
    const op = readOnly && g.rng.chance(0.9) ? 'GET' : g.rng.pick(['GET', 'SET', 'INCRBY', 'OVERFLOW', 'FOO']);
    if (op === 'GET') args.push(g.option(['GET']), bitType(g), bitOffset(g));
    else if (op === 'SET' || op === 'INCRBY') args.push(g.option([op]), bitType(g), bitOffset(g), bitValue(g));
    else if (op === 'OVERFLOW') args.push(g.option(['OVERFLOW']), g.option(['WRAP', 'SAT', 'FAIL', 'FAIL', 'NONE']));
    else args.push(op);
  }
  return c(...args);
}

/** A byte or bit range for BITCOUNT/BITPOS: start end [BYTE | BIT]. */
function range(g: Gen, ends: number): Arg[] {
  const out: Arg[] = [];
  for (let i = 0; i < ends; i++) out.push(g.int(-10, 12));
  if (ends === 2 && g.rng.chance(0.5)) out.push(g.option(['BYTE', 'BIT', 'BIT', 'WORD']));
  return out;
}

/** String values, the same as bitmaps. */
const STRINGS: readonly Arg[] = ['', 'a', 'foobar', '\xff\xf0\x00', Buffer.from([0xff, 0x00, 0x0f]), 'b'.repeat(100)];

/** The bitmaps generator. */
export const bitmaps = fuzzType('bitmaps', (g, key) => ['SETBIT', key, String(g.rng.range(0, 40)), '1'], [
  (g) => c('SETBIT', g.key(), offset(g), g.rng.chance(0.95) ? g.rng.pick(['0', '1']) : g.rng.pick(['2', '-1', 'x'])),
  (g) => c('SETBIT', g.key(), offset(g), '1'),
  (g) => c('GETBIT', g.key(), offset(g)),
  (g) => c('BITCOUNT', g.key(), ...range(g, g.rng.pick([0, 2, 2, 1]))),
  (g) => c('BITPOS', g.key(), g.rng.chance(0.95) ? g.rng.pick(['0', '1']) : '2', ...range(g, g.rng.pick([0, 1, 2, 2]))),
  (g) => {
    const op = g.option(['AND', 'OR', 'XOR', 'NOT', 'NOT', 'NAND']);
    const srcs = g.keys(op.toUpperCase() === 'NOT' && g.rng.chance(0.9) ? 1 : g.rng.range(1, 3));
    return c('BITOP', op, g.key(), ...srcs);
  },
  (g) => bitfield(g, false),
  (g) => bitfield(g, false),
  (g) => bitfield(g, true),
  (g) => c(g.option(['SET', 'APPEND']), g.key(), g.value(STRINGS)),
  (g) => c('GET', g.key()),
  (g) => c('STRLEN', g.key()),
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
