/**
 * SORT and SORT_RO (sort.c) over lists, sets and sorted sets in the pool: BY a weight pattern,
 * a hash field (`->`) or nosort, LIMIT, GET patterns (`#` included), ASC/DESC, ALPHA, STORE.
 * The weight keys (w_*, h_*) live outside the pool and are set by this generator. Redis breaks
 * ties by comparing elements in a numeric sort, so results are deterministic, except over a set
 * or a sorted set (which SORT reads from its dict, after converting it to a skiplist) with BY
 * nosort or ALPHA: those keep hash-table order among ties, so they are compared as a set, never
 * with LIMIT, and stored results are marked unordered.
 */
import { type Arg, c, type FuzzCommand, fuzzType, type Gen } from './gen';

/** Elements: numbers (the default numeric sort), text (ALPHA or an error), the weight suffixes. */
const ELEMENTS: readonly Arg[] = ['1', '2', '3', '10', '-1', '2.5', '1e3', 'a', 'b', 'c', '', 'inf', 'nan', '01'];

/** BY patterns: weights, hash fields, constant, nosort, and ones that match nothing. */
const BY: readonly string[] = ['w_*', 'w_*', 'h_*->f', 'h_*->g', 'nosuch_*', 'constant', '*', 'w_*->f'];

/** GET patterns: the element itself, weights, hash fields, missing. */
const GET: readonly string[] = ['#', 'w_*', 'h_*->f', 'nosuch_*', '*', 'h_*->'];

/** Source data: a list, set or sorted set of ELEMENTS at a pool key. */
function source(g: Gen): FuzzCommand {
  const key = g.key();
  const elems = g.many(g.size(), () => g.rng.pick(ELEMENTS));
  switch (g.rng.int(3)) {
    case 0:
      return c('RPUSH', key, ...elems);
    case 1:
      g.setUnordered(key, true);
      return c('SADD', key, ...elems);
    default:
      g.setUnordered(key, true);
      return c('ZADD', key, ...elems.flatMap((e) => [String(g.rng.range(-2, 5)), e]));
  }
}

/**
 * Values strtod() flags ERANGE (overflow, and underflow to a subnormal). Redis's SORT reads
 * errno after strtod without clearing it first (sort.c), and nothing else in a pipelined
 * stream clears it before serverCron's next waitpid: after any command that met one of these
 * (a ZADD of 1e400 planted from the zset generator, a SORT over a list holding one), numeric
 * SORTs fail in redis-server for up to 100 ms. A Redis bug Shrike does not copy: `scrub`
 * keeps these values out of every command of the sort stream.
 */
const OUT_OF_RANGE: ReadonlySet<string> = new Set(['1e400', '-1e400', '4.9e-324']);

/** The sort stream's commands with OUT_OF_RANGE values replaced by 1. */
function scrub(args: readonly Arg[]): readonly Arg[] {
  return args.some((a) => typeof a === 'string' && OUT_OF_RANGE.has(a))
    ? args.map((a) => (typeof a === 'string' && OUT_OF_RANGE.has(a) ? '1' : a))
    : args;
}

/** Weights and hash fields for the BY and GET patterns. */
function weights(g: Gen): FuzzCommand {
  if (g.rng.chance(0.5))
    return c(
      'MSET',
      ...g.many(g.rng.range(1, 4), () => [`w_${g.rng.pick(ELEMENTS)}`, g.value(['1', '2', '5', '-1', 'x', '1.5', ''])]).flat(),
    );
  return c('HSET', `h_${g.rng.pick(ELEMENTS)}`, g.option(['f', 'g']), g.value(['1', '3', '-2', 'abc', '0.5']));
}

function sortCommand(g: Gen): FuzzCommand {
  const ro = g.rng.chance(0.3);
  const src = g.key();
  const args: Arg[] = [ro ? 'SORT_RO' : 'SORT', src];
  const by = g.rng.chance(0.15) ? 'nosort' : g.rng.chance(0.4) ? g.rng.pick(BY) : undefined;
  const alpha = g.rng.chance(0.4);
  // A BY pattern without `*` (nosort, constant) does not sort: a set keeps its own order. ALPHA
  // leaves ties in that order: equal or missing BY weights, and elements strcoll() finds equal
  // ("" and "\x00\xff" compare as C strings). Redis breaks ties only in a numeric sort.
  const nosort = by !== undefined && !by.includes('*');
  const unordered = g.isUnordered(src) && (nosort || alpha);
  if (by !== undefined) args.push(g.option(['BY']), by);
  if (!unordered && g.rng.chance(0.3)) args.push(g.option(['LIMIT']), g.int(-1, 3), g.int(-1, 5));
  for (let n = g.rng.chance(0.4) ? g.rng.range(1, 3) : 0; n > 0; n--) args.push(g.option(['GET']), g.rng.pick(GET));
  if (g.rng.chance(0.3)) args.push(g.option(['ASC', 'DESC']));
  if (alpha) args.push(g.option(['ALPHA']));
  if (g.rng.chance(ro ? 0.03 : 0.25)) {
    const dst = g.key();
    g.setUnordered(dst, unordered || g.isUnordered(dst));
    args.push(g.option(['STORE']), dst);
  }
  if (g.rng.chance(0.03)) args.push(g.option(['FOO', 'LIMIT']));
  return unordered ? { args, compare: { kind: 'set' } } : c(...args);
}

/** The sort generator. */
export const sort = fuzzType(
  'sort',
  (g, key) => ['RPUSH', key, ...g.many(g.rng.range(1, 5), () => g.rng.pick(ELEMENTS))],
  [
    source,
    source,
    weights,
    sortCommand,
    sortCommand,
    sortCommand,
    sortCommand,
    (g) => {
      const key = g.key();
      return g.isUnordered(key) ? { args: ['LRANGE', key, '0', '-1'], compare: { kind: 'set' } } : c('LRANGE', key, '0', '-1');
    },
    (g) => c('TYPE', g.key()),
  ],
  scrub,
);
