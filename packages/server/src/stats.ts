/**
 * INFO commandstats and errorstats, TypeScript's share: the calls, time and failures of the
 * commands TypeScript runs, and the rejected calls of every command (unknown subcommand,
 * arity, NOAUTH fail before the core sees them). Each worker counts in its own row of a
 * SharedArrayBuffer, so INFO on any worker sums every worker without asking them.
 *
 * The core counts its own commands and every error reply it writes (crates/binding
 * stats.rs); TypeScript's error replies join the same error table through `noteErrorReply`,
 * so that `errorstat_*` and `total_error_replies` are one count over the whole process.
 */
import { performance } from 'node:perf_hooks';
import type { Command } from './commands/types';
import type { Connection } from './connection';
import type { Addon } from './core';

/** A command's counters in a row: calls, microseconds, rejected calls, failed calls. */
const CALLS = 0;
const USEC = 1;
const REJECTED = 2;
const FAILED = 3;
const FIELDS = 4;

/** A TypeScript command that suspended (waits on other workers): finished on resume. */
interface Pending {
  readonly cmd: Command;
  readonly mark: number;
  readonly startMs: number;
}

/** One command's line of INFO commandstats. */
export interface CommandStat {
  readonly name: string;
  readonly calls: number;
  readonly usec: number;
  readonly rejected: number;
  readonly failed: number;
}

/** Bytes of the shared rows for `threads` workers over `commands` commands. */
export function commandStatsBytes(threads: number, commands: number): number {
  return threads * commands * FIELDS * 8;
}

/** One worker's counters and the hooks dispatch calls. */
export class WorkerStats {
  private readonly row: Float64Array;
  private readonly all: Float64Array;
  private readonly pending = new Map<Connection, Pending>();
  /**
   * When the last TypeScript command ended (performance.now()), or -1. A command dispatched
   * right after it starts then, so commands that run back to back cost one clock read each;
   * anything else that takes time in between (new input, a core batch) calls restartClock.
   */
  private clock = -1;

  constructor(
    shared: SharedArrayBuffer,
    index: number,
    /** Command names, index = Command.statIndex; the same table in every worker. */
    private readonly names: readonly string[],
    private readonly addon: Addon,
  ) {
    const stride = names.length * FIELDS;
    this.all = new Float64Array(shared);
    this.row = this.all.subarray(index * stride, (index + 1) * stride);
  }

  /**
   * A command refused before it ran (Redis's rejectCommand): an error reply, and a rejected
   * call for the command when there is one (an unknown command or subcommand has none).
   */
  rejected(cmd: Command | undefined, text: string): void {
    if (cmd !== undefined) this.add(cmd.statIndex * FIELDS + REJECTED, 1);
    this.addon.noteErrorReply(text);
  }

  /** An error reply that belongs to no command (a protocol error). */
  error(text: string): void {
    this.addon.noteErrorReply(text);
  }

  /** Run a TypeScript command, counting its call, its time and whether it replied an error. */
  call(c: Connection, cmd: Command, argv: Buffer[]): void {
    const mark = c.w.length;
    const startMs = this.clock >= 0 ? this.clock : performance.now();
    (cmd.handler as NonNullable<Command['handler']>)(c, argv);
    if (c.suspended) {
      this.clock = -1;
      this.pending.set(c, { cmd, mark, startMs });
      return;
    }
    const endMs = performance.now();
    this.clock = endMs;
    this.finish(c, cmd, mark, startMs, endMs);
  }

  /** Time passed since the last TypeScript command on something else: the next one reads the clock. */
  restartClock(): void {
    this.clock = -1;
  }

  /** A suspended command wrote its reply and the connection resumes. */
  resumed(c: Connection): void {
    const p = this.pending.get(c);
    if (p === undefined) return;
    this.pending.delete(c);
    // The reply buffer may have been handed to the socket meanwhile; then the reply starts at 0.
    this.clock = -1;
    this.finish(c, p.cmd, p.mark <= c.w.length ? p.mark : 0, p.startMs, performance.now());
  }

  private finish(c: Connection, cmd: Command, mark: number, startMs: number, endMs: number): void {
    const base = cmd.statIndex * FIELDS;
    this.add(base + CALLS, 1);
    this.add(base + USEC, Math.round((endMs - startMs) * 1000));
    if (c.uncountedError) {
      // DEBUG ERROR: Redis writes it with addReplySds, which no error counter sees.
      c.uncountedError = false;
      return;
    }
    // Read in place: most replies are not errors, and a slice per command costs.
    if (c.w.byteAt(mark) !== 0x2d) return;
    const text = errorText(c.w.written(mark));
    if (text === undefined) return;
    this.add(base + FAILED, 1);
    this.addon.noteErrorReply(text);
  }

  private add(slot: number, n: number): void {
    this.row[slot] = (this.row[slot] ?? 0) + n;
  }

  /** CONFIG RESETSTAT, on this worker's row (each worker zeroes its own). */
  reset(): void {
    this.row.fill(0);
  }

  /**
   * Every command with a call, a rejection or a failure, summed over workers and merged with
   * the core's counters, in table order.
   */
  commandStats(): CommandStat[] {
    const n = this.names.length;
    const sums = new Float64Array(n * FIELDS);
    for (let off = 0; off < this.all.length; off += n * FIELDS) {
      for (let i = 0; i < n * FIELDS; i++) sums[i] = (sums[i] as number) + (this.all[off + i] as number);
    }
    const core = new Map(this.addon.coreCommandStats().map((s) => [s.name, s]));
    const out: CommandStat[] = [];
    for (const [i, name] of this.names.entries()) {
      const k = core.get(name);
      const calls = (sums[i * FIELDS + CALLS] as number) + (k?.calls ?? 0);
      const usec = (sums[i * FIELDS + USEC] as number) + (k?.usec ?? 0);
      const rejected = sums[i * FIELDS + REJECTED] as number;
      const failed = (sums[i * FIELDS + FAILED] as number) + (k?.failedCalls ?? 0);
      if (calls > 0 || rejected > 0 || failed > 0) out.push({ name, calls, usec, rejected, failed });
    }
    return out;
  }
}

/** The text of the error reply that starts `reply` (without `-` and CRLF), or undefined. */
function errorText(reply: Buffer): string | undefined {
  if (reply[0] !== 0x2d) return undefined;
  const end = reply.indexOf(0x0d);
  return reply.toString('latin1', 1, end < 0 ? reply.length : end);
}

/** Redis's getSafeInfoString: INFO field names never carry `#`, `:` or line breaks. */
export function safeInfoName(s: string): string {
  return s.replace(/[#:\r\n]/g, '_');
}
