/**
 * Sorted sets (t_zset.c): ZADD with NX/XX/GT/LT/CH/INCR, ZINCRBY, score reads, counts by score
 * and lex, every ZRANGE form (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and the legacy range
 * commands, ranks WITHSCORE, removals by rank/score/lex, pops, ZMPOP, ZRANDMEMBER (random:
 * compared by membership), ZUNION/ZINTER/ZDIFF with WEIGHTS and AGGREGATE and their STOREs,
 * ZINTERCARD, ZSCAN. Order is by score then member, so everything else compares byte for byte.
 */
import { type Arg, c, type FuzzCommand, fuzzType, type Gen, LEX_KEYS, randomPick, scanCommand } from './gen';

/** Members: a few that collide, lex neighbours, numbers, empty, long. */
const MEMBERS: readonly Arg[] = ['a', 'b', 'c', 'd', 'e', 'aa', 'ab', '1', '10', '', 'x y', 'z'.repeat(65)];

/** Score ranges: inclusive, exclusive `(`, infinities, and malformed ones. */
const SCORE_BOUNDS: readonly string[] = ['-inf', '+inf', 'inf', '0', '1', '(1', '2.5', '(2.5', '-1', '(-inf', '10', 'x', '(', '', 'nan'];

/** Lex ranges: `-`, `+`, `[` and `(` bounds, and malformed ones (no prefix). */
const LEX_BOUNDS: readonly string[] = ['-', '+', '[a', '(a', '[b', '(c', '[aa', '[', '(', 'a', '[z', '(e', '+inf'];

/** A key for lex ranges: one whose scores are all 0 (lex1 is sometimes a string, for WRONGTYPE). */
function lexKey(g: Gen): string {
  return g.rng.pick(LEX_KEYS);
}

/** Members with score 0 for the lex keys; a burst crosses the listpack limit. */
function lexAdd(g: Gen): FuzzCommand {
  const n = g.size();
  return c('ZADD', g.rng.pick(LEX_KEYS), ...g.many(n, () => ['0', n > 20 ? `m:${g.rng.int(300)}` : g.value(MEMBERS)]).flat());
}

/** A score: mostly small numbers (ties happen), sometimes an edge. */
function score(g: Gen): string {
  return g.rng.chance(0.75) ? String(g.rng.range(-3, 6)) : g.float();
}

function zadd(g: Gen): FuzzCommand {
  const opts: string[] = [];
  if (g.rng.chance(0.2)) opts.push(g.option(['NX', 'XX']));
  if (g.rng.chance(0.2)) opts.push(g.option(['GT', 'LT']));
  if (g.rng.chance(0.2)) opts.push(g.option(['CH']));
  const incr = g.rng.chance(0.1);
  if (incr) opts.push(g.option(['INCR']));
  const n = incr && g.rng.chance(0.8) ? 1 : g.size();
  const pairs = g.many(n, () => [score(g), n > 20 ? `m:${g.rng.int(300)}` : g.value(MEMBERS)]).flat();
  return c('ZADD', g.key(), ...opts, ...pairs);
}

/** ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
function zrange(g: Gen, name: 'ZRANGE' | 'ZRANGESTORE'): FuzzCommand {
  const by = g.rng.pick(['', 'BYSCORE', 'BYLEX']);
  const bounds = by === 'BYSCORE' ? SCORE_BOUNDS : by === 'BYLEX' ? LEX_BOUNDS : undefined;
  const bound = (): string => (bounds === undefined ? g.int(-5, 5) : g.rng.pick(bounds));
  const src = by === 'BYLEX' ? lexKey(g) : g.key();
  const args: Arg[] = name === 'ZRANGE' ? ['ZRANGE', src] : ['ZRANGESTORE', g.key(), src];
  args.push(bound(), bound());
  if (by !== '') args.push(g.option([by]));
  if (g.rng.chance(0.3)) args.push(g.option(['REV']));
  if (g.rng.chance(0.3)) args.push(g.option(['LIMIT']), g.int(-1, 3), g.int(-1, 4));
  if (name === 'ZRANGE' && g.rng.chance(0.4)) args.push(g.option(['WITHSCORES']));
  return c(...args);
}

/** ZRANGEBYSCORE and friends: key min max [WITHSCORES] [LIMIT offset count]. */
function legacyRange(g: Gen): FuzzCommand {
  const name = g.rng.pick(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE', 'ZRANGEBYLEX', 'ZREVRANGEBYLEX']);
  const bounds = name.endsWith('LEX') ? LEX_BOUNDS : SCORE_BOUNDS;
  const args: Arg[] = [name, name.endsWith('LEX') ? lexKey(g) : g.key(), g.rng.pick(bounds), g.rng.pick(bounds)];
  if (!name.endsWith('LEX') && g.rng.chance(0.4)) args.push(g.option(['WITHSCORES']));
  if (g.rng.chance(0.3)) args.push(g.option(['LIMIT']), g.int(-1, 3), g.int(-1, 4));
  return c(...args);
}

/** numkeys and keys for ZUNION/ZINTER/ZDIFF/ZINTERCARD/ZMPOP, with a wrong numkeys now and then. */
function numkeys(g: Gen): Arg[] {
  const keys = g.keys(g.rng.range(1, 3));
  const n = g.rng.chance(0.9) ? String(keys.length) : g.rng.pick(['0', '-1', '5', 'x']);
  return [n, ...keys];
}

/** ZUNION/ZINTER/ZDIFF [STORE]: WEIGHTS and AGGREGATE (not for ZDIFF), WITHSCORES (not for STORE). */
function combine(g: Gen): FuzzCommand {
  const op = g.rng.pick(['ZUNION', 'ZINTER', 'ZDIFF']);
  const store = g.rng.chance(0.4);
  const nk = numkeys(g);
  const args: Arg[] = store ? [`${op}STORE`, g.key(), ...nk] : [op, ...nk];
  if (op !== 'ZDIFF' || g.rng.chance(0.05)) {
    if (g.rng.chance(0.4)) {
      const n = nk.length - 1 + (g.rng.chance(0.1) ? 1 : 0);
      args.push(g.option(['WEIGHTS']), ...g.many(n, () => (g.rng.chance(0.8) ? String(g.rng.range(-2, 3)) : g.float())));
    }
    if (g.rng.chance(0.4)) args.push(g.option(['AGGREGATE']), g.option(['SUM', 'MIN', 'MAX', 'AVG']));
  }
  if ((!store || g.rng.chance(0.05)) && g.rng.chance(0.5)) args.push(g.option(['WITHSCORES']));
  return c(...args);
}

/** The sorted sets generator. */
export const zsets = fuzzType('zsets', (g, key) => ['ZADD', key, ...g.many(g.rng.range(1, 4), () => [score(g), g.value(MEMBERS)]).flat()], [
  zadd,
  zadd,
  zadd,
  (g) => c('ZINCRBY', g.key(), g.float(), g.value(MEMBERS)),
  (g) => c('ZSCORE', g.key(), g.value(MEMBERS)),
  (g) => c('ZMSCORE', g.key(), ...g.many(g.rng.range(1, 3), () => g.value(MEMBERS))),
  (g) => c('ZCARD', g.key()),
  (g) => c('ZCOUNT', g.key(), g.rng.pick(SCORE_BOUNDS), g.rng.pick(SCORE_BOUNDS)),
  (g) => c('ZLEXCOUNT', lexKey(g), g.rng.pick(LEX_BOUNDS), g.rng.pick(LEX_BOUNDS)),
  lexAdd,
  lexAdd,
  (g) => (g.rng.chance(0.5) ? c('ZREM', lexKey(g), g.value(MEMBERS)) : c(g.option(['ZPOPMIN', 'ZPOPMAX']), lexKey(g))),
  (g) => (g.rng.chance(0.3) ? c('SET', 'lex1', 'x') : c('DEL', 'lex1')),
  (g) => zrange(g, 'ZRANGE'),
  (g) => zrange(g, 'ZRANGE'),
  (g) => zrange(g, 'ZRANGESTORE'),
  legacyRange,
  (g) => c('ZREVRANGE', g.key(), g.int(-5, 5), g.int(-5, 5), ...(g.rng.chance(0.4) ? [g.option(['WITHSCORES'])] : [])),
  (g) => c(g.option(['ZRANK', 'ZREVRANK']), g.key(), g.value(MEMBERS), ...(g.rng.chance(0.4) ? [g.option(['WITHSCORE'])] : [])),
  (g) => c('ZREM', g.key(), ...g.many(g.rng.range(1, 3), () => g.value(MEMBERS))),
  (g) => c('ZREMRANGEBYRANK', g.key(), g.int(-5, 5), g.int(-5, 5)),
  (g) => c('ZREMRANGEBYSCORE', g.key(), g.rng.pick(SCORE_BOUNDS), g.rng.pick(SCORE_BOUNDS)),
  (g) => c('ZREMRANGEBYLEX', lexKey(g), g.rng.pick(LEX_BOUNDS), g.rng.pick(LEX_BOUNDS)),
  (g) => c(g.option(['ZPOPMIN', 'ZPOPMAX']), g.key(), ...(g.rng.chance(0.5) ? [g.int(-1, 5)] : [])),
  (g) =>
    c(
      'ZMPOP',
      ...numkeys(g),
      g.option(['MIN', 'MAX', 'MIN', 'MAX', 'MID']),
      ...(g.rng.chance(0.5) ? [g.option(['COUNT']), g.int(-1, 5)] : []),
    ),
  (g) => randomPick(g, 'ZRANDMEMBER', ['WITHSCORES', 'WITHSCORES', 'WITHVALUES'], (key) => c('ZRANGE', key, '0', '-1', 'WITHSCORES')),
  combine,
  combine,
  (g) => c('ZINTERCARD', ...numkeys(g), ...(g.rng.chance(0.4) ? [g.option(['LIMIT']), g.int(-1, 4)] : [])),
  (g) => scanCommand(g, ['ZSCAN', g.key()], ['*', 'a*', 'm:1*', '['], true),
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
