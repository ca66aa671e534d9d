/**
 * The fuzz runner: sends one type's generated stream to the reference redis-server and to the
 * server under test on a pair of connections (RESP2, or RESP3 after HELLO 3), pipelined in
 * chunks, and compares every reply as its command's Compare kind says. A difference is
 * reported with the seed, the command's index, both replies and the earlier commands on the
 * same keys, ready to become a script in test/diff/. No assertions live here.
 */

import { Pair, quoteBytes } from '../diff/runner';
import { cmd } from '../harness';
import { canonical } from './compare';
import { type Arg, type FuzzCommand, type FuzzType, generate, KEYS, LEX_KEYS } from './gen';

/** Commands sent per pipelined chunk (whole steps, so compared neighbours stay together). */
const CHUNK = 200;

/** How many earlier commands on the same keys a report shows. */
const HISTORY = 12;

/** One command whose replies differ. */
export interface FuzzDifference {
  readonly type: string;
  readonly proto: 2 | 3;
  readonly seed: number;
  /** 0-based index of the command in the run's stream. */
  readonly index: number;
  /** The command as a script line (redis-cli quoting). */
  readonly command: string;
  readonly expected: string;
  readonly actual: string;
  /** Earlier commands of this run (since the last FLUSHALL) on the same keys, oldest first. */
  readonly history: readonly string[];
}

/** What one run did. */
export interface FuzzResult {
  readonly commands: number;
  readonly diffs: readonly FuzzDifference[];
}

/** Options of one run. */
export interface FuzzRun {
  readonly type: FuzzType;
  /** Types whose keys are planted among this type's commands. */
  readonly others: readonly FuzzType[];
  readonly seed: number;
  readonly count: number;
  readonly proto: 2 | 3;
  readonly refPort: number;
  readonly sutPort: number;
  /** Stop after this many differences (each one resets both servers). */
  readonly maxDiffs?: number;
}

/** An argument as a script line writes it: bare when it is plain, else quoted and escaped. */
function scriptArg(a: Arg): string {
  const s = typeof a === 'string' ? a : a.toString('latin1');
  return /^[!#-&(-[\]-~]+$/.test(s) ? s : quoteBytes(Buffer.from(a));
}

/** A command as one line of a test/diff script. */
export function scriptLine(args: readonly Arg[]): string {
  return args.map(scriptArg).join(' ');
}

/** Format a difference as a test comment: what to paste into a script comes last. */
export function describeFuzz(d: FuzzDifference): string {
  return [
    `fuzz ${d.type} RESP${d.proto} seed ${d.seed} command #${d.index}: ${d.command}`,
    `  redis:  ${d.expected}`,
    `  shrike: ${d.actual}`,
    `  as a script (earlier commands on the same keys, then the command):`,
    '    FLUSHALL',
    ...d.history.map((h) => `    ${h}`),
    `    ${d.command}`,
  ].join('\n');
}

const KEY_SET = new Set([...KEYS, ...LEX_KEYS]);

/** The pool keys a command names. */
function keysOf(args: readonly Arg[]): Set<string> {
  const out = new Set<string>();
  for (const a of args.slice(1)) if (typeof a === 'string' && KEY_SET.has(a)) out.add(a);
  return out;
}

/** Read `n` replies; a missing one ends the list early. */
async function replies(r: Pair['ref'], n: number): Promise<Buffer[] | string> {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await r.next(5000);
    if (!(reply instanceof Buffer)) return `${reply} after ${out.length} of ${n} replies`;
    out.push(reply);
  }
  return out;
}

/** Send the same commands to both servers and read all their replies. */
async function both(pair: Pair, cmds: readonly FuzzCommand[]): Promise<[Buffer[] | string, Buffer[] | string]> {
  const req = Buffer.concat(cmds.map((c) => cmd(...c.args)));
  pair.ref.send(req);
  pair.sut.send(req);
  return Promise.all([replies(pair.ref, cmds.length), replies(pair.sut, cmds.length)]);
}

const FLUSHALL: FuzzCommand = { args: ['FLUSHALL'] };

/** Run one type's stream against both servers; returns the differences found. */
export async function runFuzz(run: FuzzRun): Promise<FuzzResult> {
  const steps = generate(run.type, run.others, run.seed, run.count);
  const diffs: FuzzDifference[] = [];
  const maxDiffs = run.maxDiffs ?? 5;
  const pair = await Pair.open(run.refPort, run.sutPort, run.proto);
  // The commands sent since the last FLUSHALL, for the history of a report.
  let since: { index: number; args: readonly Arg[] }[] = [];
  let index = 0;
  try {
    await both(pair, [FLUSHALL]);
    for (let s = 0; s < steps.length && diffs.length < maxDiffs; ) {
      const chunk: FuzzCommand[] = [];
      while (s < steps.length && chunk.length < CHUNK) chunk.push(...(steps[s++] ?? []));
      const [ref, sut] = await both(pair, chunk);
      const base = index;
      index += chunk.length;
      if (typeof ref === 'string') throw new Error(`the reference server stopped answering: ${ref}`);
      const got = typeof sut === 'string' ? [] : sut;
      let diverged = false;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i] as FuzzCommand;
        const a = ref[i] as Buffer;
        const b = got[i];
        const [ca, cb] =
          b === undefined
            ? [a.toString('latin1'), '']
            : canonical(c.compare, a, b, { refPrev: ref[i - 1], refNext: ref[i + 1], sutPrev: got[i - 1], sutNext: got[i + 1] });
        if (ca !== cb) {
          const keys = keysOf(c.args);
          const history = since
            .filter((h) => h.index < base + i && [...keysOf(h.args)].some((k) => keys.has(k)))
            .slice(-HISTORY)
            .map((h) => scriptLine(h.args));
          diffs.push({
            type: run.type.name,
            proto: run.proto,
            seed: run.seed,
            index: base + i,
            command: scriptLine(c.args),
            expected: quoteBytes(a),
            actual: b === undefined ? `(no reply: ${String(sut)})` : quoteBytes(b),
            history,
          });
          diverged = true;
          break;
        }
        since.push({ index: base + i, args: c.args });
      }
      if (typeof sut === 'string') break;
      if (diverged) {
        // After a difference the two keyspaces no longer agree: start both again from empty.
        await both(pair, [FLUSHALL]);
        since = [];
      }
    }
  } finally {
    pair.close();
  }
  return { commands: index, diffs };
}
