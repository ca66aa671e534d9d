/**
 * The layout in which commands cross to the core (crates/binding/src/batch.rs reads it): per
 * command its op, its argc, then the (start, end) of each argument in the batch's source
 * buffer. A connection's pending batch and a MULTI queue both write it; EXEC reads it back.
 */
import type { Request } from '@shrike/resp3';

/** `words`, or a copy at least `need` long (doubling) holding what it held. */
export function ensureWords(words: Uint32Array, need: number): Uint32Array {
  if (need <= words.length) return words;
  const next = new Uint32Array(Math.max(need, words.length * 2));
  next.set(words);
  return next;
}

/** The words a command of `argc` arguments takes. */
export function commandWords(argc: number): number {
  return 2 + 2 * argc;
}

/**
 * Write `req` as a command of op `op` at `words[at]`; returns the array written, `words`
 * or a larger copy. The caller's length grows by `commandWords(req.argc)`.
 */
export function writeCommand(words: Uint32Array, at: number, op: number, req: Request): Uint32Array {
  const argc = req.argc;
  const w = ensureWords(words, at + commandWords(argc));
  let i = at;
  w[i++] = op;
  w[i++] = argc;
  for (let a = 0; a < argc; a++) {
    w[i++] = req.starts[a] as number;
    w[i++] = req.ends[a] as number;
  }
  return w;
}

/** Point `req` at the command written at `words[at]` over `src`; returns where the next starts. */
export function readCommand(words: Uint32Array, at: number, src: Buffer, req: Request): number {
  const argc = words[at + 1] as number;
  req.src = src;
  req.argc = argc;
  let j = at + 2;
  for (let a = 0; a < argc; a++) {
    req.starts[a] = words[j++] as number;
    req.ends[a] = words[j++] as number;
  }
  return j;
}
