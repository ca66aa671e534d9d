/**
 * The fuzz generators' seeded PRNG: the tests' mulberry32 (resp3's values.test-helper) plus
 * the draws generators need. No dependency, and the same seed gives the same command stream
 * on every machine and Node version.
 */
import { Rng } from '../../../resp3/src/values.test-helper';

/** The tests' Rng with ranges and coin flips. */
export class FuzzRng extends Rng {
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** A seed for one (type, run) pair: the run's seed mixed with the type's name (FNV-1a). */
export function seedFor(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
