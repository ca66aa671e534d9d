/**
 * HyperLogLog (hyperloglog.c): PFADD, PFCOUNT over one or more keys, PFMERGE into a pool key,
 * and GET of the raw HLL string (Redis's sparse and dense formats are part of what clients
 * see). Bursts cross from sparse to dense; a corrupt HLL string must give Redis's errors.
 */
import { type Arg, c, fuzzType, type Gen } from './gen';

/** Elements for one PFADD: a few, sometimes many (past hll-sparse-max-bytes). */
function elements(g: Gen): Arg[] {
  if (g.rng.chance(0.02)) return g.many(g.rng.range(1500, 2500), () => `e:${g.rng.int(100000)}`);
  return g.many(g.size(), () => (g.rng.chance(0.7) ? `e:${g.rng.int(500)}` : g.value()));
}

/** Strings that look like HLLs and are not: a bare magic, a bad encoding byte, a short dense one. */
const CORRUPT: readonly Arg[] = [
  'HYLL',
  Buffer.concat([Buffer.from('HYLL'), Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]),
  `HYLL${'\x00'.repeat(12)}xx`,
];

/** The hyperloglog generator. */
export const hyperloglog = fuzzType('hyperloglog', (g, key) => ['PFADD', key, ...elements(g).slice(0, 5)], [
  (g) => c('PFADD', g.key(), ...elements(g)),
  (g) => c('PFADD', g.key(), ...elements(g)),
  (g) => c('PFADD', g.key()),
  (g) => c('PFCOUNT', ...g.keys(g.rng.range(1, 3))),
  (g) => c('PFCOUNT', g.key()),
  (g) => c('PFMERGE', g.key(), ...g.keys(g.rng.range(0, 3))),
  (g: Gen) => c('GET', g.key()),
  (g) => (g.rng.chance(0.2) ? c('SET', g.key(), g.rng.pick(CORRUPT)) : c('PFCOUNT', g.key())),
  (g) => c('OBJECT', 'ENCODING', g.key()),
]);
