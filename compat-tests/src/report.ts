// Counting case outcomes and printing the report: passes per command group (of each
// case's last command), per `since` version, and in total, then with --show-failed each
// failing case with the command that failed, its expected and its actual reply.

import type { SkipReason } from './suite';

/** Why a case failed, at its first mismatch or error. */
export interface Failure {
  /** Index of the failing command line, or -1 when the case failed before its first line. */
  readonly index: number;
  readonly command: string;
  /** The expected reply, as JSON text. */
  readonly expected: string;
  /** The actual reply as JSON text, or the error that stopped the case. */
  readonly actual: string;
}

/** The outcome of one case that ran. */
export interface Outcome {
  readonly name: string;
  readonly since: string;
  readonly group: string;
  /** Undefined when the case passed. */
  readonly failure?: Failure;
}

/** Passed and total counts. */
export interface Count {
  passed: number;
  total: number;
}

/** Counts outcomes by group and by version, and skipped cases by reason. */
export class Tally {
  readonly byGroup = new Map<string, Count>();
  readonly bySince = new Map<string, Count>();
  readonly skipped = new Map<SkipReason, number>();
  readonly failures: Outcome[] = [];
  readonly total: Count = { passed: 0, total: 0 };
  /** Set when the run stopped early because the server could not be reached. */
  aborted: string | undefined;

  /** Records one case that ran. */
  add(o: Outcome): void {
    const ok = o.failure === undefined ? 1 : 0;
    for (const c of [bump(this.byGroup, o.group), bump(this.bySince, o.since), this.total]) {
      c.passed += ok;
      c.total += 1;
    }
    if (!ok) this.failures.push(o);
  }

  /** Records one case that did not run. */
  skip(reason: SkipReason): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }
}

function bump(m: Map<string, Count>, key: string): Count {
  let c = m.get(key);
  if (c === undefined) {
    c = { passed: 0, total: 0 };
    m.set(key, c);
  }
  return c;
}

/** '97.16%'; the reference prints the rate with two decimals. */
export function rate(c: Count): string {
  return c.total === 0 ? '-' : `${((c.passed / c.total) * 100).toFixed(2)}%`;
}

function table(title: string, m: ReadonlyMap<string, Count>): string[] {
  // Plain string order, as the reference sorts its per-version results.
  const keys = [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const width = Math.max(title.length, ...keys.map((k) => k.length));
  return [
    `${title.padEnd(width)}  passed/total  rate`,
    ...keys.map((k) => {
      const c = m.get(k) as Count;
      return `${k.padEnd(width)}  ${`${c.passed}/${c.total}`.padStart(12)}  ${rate(c)}`;
    }),
  ];
}

/** The printed report; failures only with showFailed. */
export function formatReport(t: Tally, showFailed: boolean): string {
  const lines: string[] = [];
  if (showFailed && t.failures.length > 0) {
    lines.push(`-------- failed cases (${t.failures.length}) --------`);
    for (const o of t.failures) {
      const f = o.failure as Failure;
      lines.push(`${o.name}  [${o.group}, since ${o.since}]`);
      if (f.index >= 0) lines.push(`  command #${f.index + 1}: ${JSON.stringify(f.command)}`);
      lines.push(`  expected: ${f.expected}`, `  actual:   ${f.actual}`);
    }
    lines.push('');
  }
  lines.push('-------- by group --------', ...table('group', t.byGroup), '');
  lines.push('-------- by since --------', ...table('since', t.bySince), '');
  const skipped = (['skipped', 'tags', 'version'] as const).map((r) => `${t.skipped.get(r) ?? 0} ${r}`).join(', ');
  lines.push(`not run: ${skipped}`);
  if (t.aborted !== undefined) lines.push(`ABORTED: ${t.aborted}`);
  lines.push(`total: ${t.total.passed}/${t.total.total} passed (${rate(t.total)})`);
  return `${lines.join('\n')}\n`;
}
