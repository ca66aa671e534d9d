/**
 * Strings (t_string.c): SET with every option, GET family, MGET/MSET, APPEND, ranges, counters,
 * INCRBYFLOAT with float edges, LCS, and the TTLs SET and GETEX leave.
 */
import { type Arg, c, EXPIRE_AT_MS, EXPIRE_AT_S, EXPIRE_MS, EXPIRE_S, type FuzzCommand, fuzzType, type Gen, INTS } from './gen';

/** String values: counters, floats, text around the embstr limit (44 bytes) and binary. */
const VALUES: readonly Arg[] = ['1', '10', '-5', '0', '3.5', 'abc', 'hello world', '', '9223372036854775806', '1e5', 'x'.repeat(44)];

/** An expiry option with its argument, or KEEPTTL/PERSIST-like single words. */
function expiry(g: Gen, extra: readonly string[]): string[] {
  switch (g.rng.int(4 + extra.length)) {
    case 0:
      return [g.option(['EX']), g.rng.pick(EXPIRE_S)];
    case 1:
      return [g.option(['PX']), g.rng.pick(EXPIRE_MS)];
    case 2:
      return [g.option(['EXAT']), g.rng.pick(EXPIRE_AT_S)];
    case 3:
      return [g.option(['PXAT']), g.rng.pick(EXPIRE_AT_MS)];
    default:
      return [g.option(extra)];
  }
}

function set(g: Gen): FuzzCommand {
  const opts: string[][] = [];
  if (g.rng.chance(0.3)) opts.push([g.option(['NX', 'XX'])]);
  if (g.rng.chance(0.3)) opts.push([g.option(['GET'])]);
  if (g.rng.chance(0.4)) opts.push(expiry(g, ['KEEPTTL']));
  // Conflicting or repeated options: NX XX, EX PX, KEEPTTL with EX.
  if (g.rng.chance(0.05)) opts.push(expiry(g, ['KEEPTTL', 'NX', 'XX', 'GET']));
  if (g.rng.chance(0.5)) opts.reverse();
  return c('SET', g.key(), g.value(VALUES), ...opts.flat());
}

function getex(g: Gen): FuzzCommand {
  const opts = g.rng.chance(0.6) ? expiry(g, ['PERSIST']) : [];
  if (g.rng.chance(0.05)) opts.push(...expiry(g, ['PERSIST']));
  return c('GETEX', g.key(), ...opts);
}

function lcs(g: Gen): FuzzCommand {
  const opts: string[] = [];
  if (g.rng.chance(0.3)) opts.push(g.option(['LEN']));
  if (g.rng.chance(0.4)) opts.push(g.option(['IDX']));
  if (g.rng.chance(0.3)) opts.push(g.option(['MINMATCHLEN']), g.int(-1, 4));
  if (g.rng.chance(0.3)) opts.push(g.option(['WITHMATCHLEN']));
  return c('LCS', g.key(), g.key(), ...opts);
}

/** Offsets for SETRANGE: small, negative, and just past the 512 MB limit (an error, not an allocation). */
const OFFSETS = ['0', '1', '3', '10', '100', '-1', '536870912', 'x', '9223372036854775807'];

/** The strings generator. */
export const strings = fuzzType('strings', (g, key) => ['SET', key, g.value(VALUES)], [
  set,
  set,
  set,
  (g) => c('GET', g.key()),
  (g) => c('GET', g.key()),
  getex,
  (g) => c('GETDEL', g.key()),
  (g) => c('GETSET', g.key(), g.value(VALUES)),
  (g) => c('MGET', ...g.keys(g.rng.range(1, 4))),
  (g) => c('MSET', ...g.many(g.rng.range(1, 3), () => [g.key(), g.value(VALUES)]).flat()),
  (g) => c('MSETNX', ...g.many(g.rng.range(1, 3), () => [g.key(), g.value(VALUES)]).flat()),
  (g) => c('SETNX', g.key(), g.value(VALUES)),
  (g) => c('SETEX', g.key(), g.rng.pick(EXPIRE_S), g.value(VALUES)),
  (g) => c('PSETEX', g.key(), g.rng.pick(EXPIRE_MS), g.value(VALUES)),
  (g) => c('APPEND', g.key(), g.value(VALUES)),
  (g) => c('STRLEN', g.key()),
  (g) => c(g.option(['GETRANGE', 'SUBSTR']), g.key(), g.int(-5, 10), g.int(-5, 10)),
  (g) => c('SETRANGE', g.key(), g.rng.chance(0.8) ? String(g.rng.range(0, 50)) : g.rng.pick(OFFSETS), g.value(VALUES)),
  (g) => c('INCR', g.key()),
  (g) => c('DECR', g.key()),
  (g) => c('INCRBY', g.key(), g.int(-100, 100)),
  (g) => c('DECRBY', g.key(), g.rng.chance(0.1) ? g.rng.pick(INTS) : g.int(-100, 100)),
  (g) => c('INCRBYFLOAT', g.key(), g.float()),
  (g) => c('INCRBYFLOAT', g.key(), g.float()),
  lcs,
  (g) => ({ args: ['TTL', g.key()], compare: { kind: 'clock', tolerance: 1 } }),
  (g) => ({ args: ['PTTL', g.key()], compare: { kind: 'clock', tolerance: 1500 } }),
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
