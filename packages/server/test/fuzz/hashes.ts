/**
 * Hashes (t_hash.c) as Redis 7.2 has them: HSET/HSETNX/HMSET, reads, HDEL, counters with
 * integer and float edges, HRANDFIELD (random: compared by membership), HSCAN. Redis 7.4's
 * HSCAN NOVALUES and the HEXPIRE family are left out: the reference is 7.2.
 */
import { type Arg, c, fuzzType, type Gen, randomPick, scanCommand } from './gen';

/** Field names: a few that collide, numbers, empty, one past the 64-byte listpack limit. */
const FIELDS: readonly Arg[] = ['f1', 'f2', 'f3', 'f4', 'a', '1', '-1', '', 'x y', 'g'.repeat(65)];

/** Field values: counters, floats, text, long. */
const HVALUES: readonly Arg[] = ['1', '10', '-3', '0', '2.5', 'abc', '', '9223372036854775807', 'h'.repeat(65)];

/** Field/value pairs for HSET and HMSET; a burst crosses the 128-entry listpack limit. */
function pairs(g: Gen): Arg[] {
  const n = g.size();
  const out: Arg[] = [];
  for (let i = 0; i < n; i++) out.push(n > 20 ? `field:${g.rng.int(200)}` : g.value(FIELDS), g.value(HVALUES));
  return out;
}

/** The hashes generator. */
export const hashes = fuzzType(
  'hashes',
  (g, key) => ['HSET', key, ...g.many(g.rng.range(1, 3), () => [g.value(FIELDS), g.value(HVALUES)]).flat()],
  [
    (g) => c('HSET', g.key(), ...pairs(g)),
    (g) => c('HSET', g.key(), ...pairs(g)),
    (g) => c('HMSET', g.key(), ...pairs(g)),
    (g) => c('HSETNX', g.key(), g.value(FIELDS), g.value(HVALUES)),
    (g) => c('HGET', g.key(), g.value(FIELDS)),
    (g) => c('HMGET', g.key(), ...g.many(g.rng.range(1, 4), () => g.value(FIELDS))),
    (g) => c('HDEL', g.key(), ...g.many(g.rng.range(1, 3), () => g.value(FIELDS))),
    (g) => c('HEXISTS', g.key(), g.value(FIELDS)),
    (g) => c('HLEN', g.key()),
    (g) => c('HSTRLEN', g.key(), g.value(FIELDS)),
    (g) => {
      const key = g.key();
      return g.orderedRead([g.rng.pick(['HKEYS', 'HVALS']), key], key);
    },
    (g) => {
      const key = g.key();
      return g.orderedRead(['HGETALL', key], key, true);
    },
    (g) => c('HINCRBY', g.key(), g.value(FIELDS), g.int(-100, 100)),
    (g) => c('HINCRBYFLOAT', g.key(), g.value(FIELDS), g.float()),
    (g) =>
      randomPick(g, 'HRANDFIELD', ['WITHVALUES', 'WITHVALUES', 'WITHSCORES'], (key) => ({
        args: ['HGETALL', key],
        compare: { kind: 'set', pairs: true },
      })),
    (g) => scanCommand(g, ['HSCAN', g.key()], ['f*', '*1', 'field:1*', '[', ''], true),
    (g) => c('OBJECT', 'ENCODING', g.key()),
  ],
);
