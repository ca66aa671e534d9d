/**
 * Lists (t_list.c): pushes and pops with COUNT, ranges, LINDEX/LSET/LINSERT/LREM/LTRIM, LPOS
 * with RANK/COUNT/MAXLEN, LMOVE/RPOPLPUSH between pool keys, LMPOP. Bursts of pushes and
 * long values cross the listpack/quicklist conversion both ways.
 */
import { type Arg, c, type FuzzCommand, fuzzType, type Gen } from './gen';

/** List elements: a few repeating ones (so LREM/LPOS find several), numbers, empty, long. */
const ELEMENTS: readonly Arg[] = ['a', 'b', 'c', 'a', 'b', '1', '2', '-1', '', 'a b', 'e'.repeat(65), 'f'.repeat(1000)];

const side = (g: Gen): string => g.option(['LEFT', 'RIGHT']);

function lpos(g: Gen): FuzzCommand {
  const args: Arg[] = ['LPOS', g.key(), g.value(ELEMENTS)];
  const opts: Arg[][] = [];
  if (g.rng.chance(0.4)) opts.push([g.option(['RANK']), g.int(-3, 3)]);
  if (g.rng.chance(0.4)) opts.push([g.option(['COUNT']), g.int(-1, 4)]);
  if (g.rng.chance(0.3)) opts.push([g.option(['MAXLEN']), g.int(-1, 10)]);
  if (g.rng.chance(0.03)) opts.push([g.option(['FOO', 'RANK'])]);
  if (g.rng.chance(0.5)) opts.reverse();
  return c(...args, ...opts.flat());
}

function lmpop(g: Gen): FuzzCommand {
  const keys = g.keys(g.rng.range(1, 3));
  const numkeys = g.rng.chance(0.85) ? String(keys.length) : g.rng.pick(['0', '-1', '4', 'x', '1']);
  const args: Arg[] = ['LMPOP', numkeys, ...keys, side(g)];
  if (g.rng.chance(0.5)) args.push(g.option(['COUNT']), g.int(-1, 5));
  return c(...args);
}

/** The lists generator. */
export const lists = fuzzType('lists', (g, key) => ['RPUSH', key, ...g.many(g.rng.range(1, 5), () => g.value(ELEMENTS))], [
  (g) => c(g.option(['LPUSH', 'RPUSH']), g.key(), ...g.many(g.size(), () => g.value(ELEMENTS))),
  (g) => c(g.option(['LPUSH', 'RPUSH']), g.key(), ...g.many(g.size(), () => g.value(ELEMENTS))),
  (g) => c(g.option(['LPUSHX', 'RPUSHX']), g.key(), ...g.many(g.rng.range(1, 3), () => g.value(ELEMENTS))),
  (g) => c(g.option(['LPOP', 'RPOP']), g.key(), ...(g.rng.chance(0.5) ? [g.int(-1, 5)] : [])),
  (g) => c('LLEN', g.key()),
  (g) => c('LRANGE', g.key(), g.int(-5, 5), g.int(-5, 5)),
  (g) => c('LRANGE', g.key(), '0', '-1'),
  (g) => c('LINDEX', g.key(), g.int(-5, 5)),
  (g) => c('LSET', g.key(), g.int(-5, 5), g.value(ELEMENTS)),
  (g) => c('LINSERT', g.key(), g.option(['BEFORE', 'AFTER', 'BEFORE', 'AFTER', 'MIDDLE']), g.value(ELEMENTS), g.value(ELEMENTS)),
  (g) => c('LREM', g.key(), g.int(-3, 3), g.value(ELEMENTS)),
  (g) => c('LTRIM', g.key(), g.int(-5, 5), g.int(-5, 8)),
  lpos,
  lpos,
  (g) => c('LMOVE', g.key(), g.key(), side(g), g.rng.chance(0.95) ? side(g) : 'UP'),
  (g) => c('RPOPLPUSH', g.key(), g.key()),
  lmpop,
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
