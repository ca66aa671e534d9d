/**
 * Sets (t_set.c): SADD/SREM, membership, SCARD, SPOP and SRANDMEMBER (random: compared by
 * membership, and a popped key is deleted after, as the two servers popped different members),
 * SMOVE, the algebra with and without STORE, SINTERCARD, SSCAN. Integer-only adds keep intsets
 * (sorted, so compared byte for byte), bursts cross the 128-entry listpack and 512-entry intset
 * limits.
 */
import { type Arg, c, type FuzzCommand, fuzzType, type Gen, randomPick, scanCommand } from './gen';

/** Integer members: an intset while only these are added. */
const INT_MEMBERS: readonly Arg[] = ['1', '2', '3', '-5', '0', '100', '9223372036854775807', '-9223372036854775808'];

/** Other members: text, empty, numbers that are not integers in Redis's sense, long. */
const MEMBERS: readonly Arg[] = [...INT_MEMBERS, 'a', 'b', 'c', '', 'x y', '01', '1.0', 's'.repeat(65)];

/** Members for one SADD: integers only half the time; a burst crosses the encodings' limits. */
function members(g: Gen): Arg[] {
  const ints = g.rng.chance(0.5);
  if (g.rng.chance(0.01)) return g.many(g.rng.range(510, 530), () => String(g.rng.int(2000)));
  const n = g.size();
  return g.many(n, () => (n > 20 ? (ints ? String(g.rng.int(300)) : `m:${g.rng.int(300)}`) : g.rng.pick(ints ? INT_MEMBERS : MEMBERS)));
}

/** Several pool keys, for the algebra. */
const someKeys = (g: Gen): string[] => g.keys(g.rng.range(1, 3));

/** SINTER/SUNION/SDIFF: the result is built in a hash table's order, so compared as a set. */
function algebra(g: Gen): FuzzCommand {
  return { args: [g.rng.pick(['SINTER', 'SUNION', 'SDIFF']), ...someKeys(g)], compare: { kind: 'set' } };
}

function store(g: Gen): FuzzCommand {
  const dst = g.key();
  g.setUnordered(dst, true);
  return c(g.rng.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), dst, ...someKeys(g));
}

function sintercard(g: Gen): FuzzCommand {
  const keys = someKeys(g);
  const numkeys = g.rng.chance(0.85) ? String(keys.length) : g.rng.pick(['0', '-1', '5', 'x']);
  const args: Arg[] = ['SINTERCARD', numkeys, ...keys];
  if (g.rng.chance(0.4)) args.push(g.option(['LIMIT']), g.int(-1, 4));
  return c(...args);
}

function spop(g: Gen): FuzzCommand[] {
  const key = g.key();
  g.setUnordered(key, false);
  const count = g.rng.chance(0.5) ? [g.int(-1, 6)] : [];
  return [
    { args: ['SMEMBERS', key], compare: { kind: 'set' }, fixed: true },
    { args: ['SPOP', key, ...count], compare: { kind: 'random', from: -1 } },
    { args: ['DEL', key], fixed: true },
  ];
}

/** The sets generator. */
export const sets = fuzzType('sets', (g, key) => ['SADD', key, ...g.many(g.rng.range(1, 4), () => g.rng.pick(MEMBERS))], [
  (g) => c('SADD', g.key(), ...members(g)),
  (g) => c('SADD', g.key(), ...members(g)),
  (g) => c('SADD', g.key(), ...members(g)),
  (g) => c('SREM', g.key(), ...g.many(g.rng.range(1, 3), () => g.rng.pick(MEMBERS))),
  (g) => {
    const key = g.key();
    return g.orderedRead(['SMEMBERS', key], key);
  },
  (g) => c('SISMEMBER', g.key(), g.value(MEMBERS)),
  (g) => c('SMISMEMBER', g.key(), ...g.many(g.rng.range(1, 3), () => g.value(MEMBERS))),
  (g) => c('SCARD', g.key()),
  spop,
  (g) => randomPick(g, 'SRANDMEMBER', [], (key) => ({ args: ['SMEMBERS', key], compare: { kind: 'set' } })),
  (g) => c('SMOVE', g.key(), g.key(), g.value(MEMBERS)),
  algebra,
  algebra,
  store,
  sintercard,
  (g) => scanCommand(g, ['SSCAN', g.key()], ['*', '1*', 'm:1*', '[', 'a'], false),
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
