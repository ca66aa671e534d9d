/** Shapes shared by the command table and the command family files. */
import type { Connection } from '../connection';
import type { CommandSpec } from './spec.generated';

/** A command handled in TypeScript (it needs connection or server state). Writes one reply to `c.w`. */
export type Handler = (c: Connection, argv: Buffer[]) => void;

/** A family file's entry for a TypeScript-handled command; arity and flags come from the spec. */
export interface TsEntry {
  readonly name: string;
  readonly handler: Handler;
}

/** One resolved command: what dispatch needs, built once at startup by table.ts. */
export interface Command {
  readonly name: string;
  readonly spec: CommandSpec;
  readonly arity: number;
  /** Op id in the Rust core, or -1 when `handler` runs it in TypeScript. */
  readonly op: number;
  readonly handler: Handler | undefined;
  /**
   * Its handler reads `argv` (declares it): the others (MULTI, EXEC...) are called without
   * one, sparing a Buffer per argument (a view each) on every call.
   */
  readonly takesArgv: boolean;
  /** Row of its INFO commandstats counters (stats.ts): its index in COMMAND_NAMES. */
  readonly statIndex: number;
  /** Runs in the core and may block the client (Redis's `blocking` flag: BLPOP...). */
  readonly blocks: boolean;
  /** May run before AUTH (Redis's `no_auth` flag). */
  readonly noAuth: boolean;
  /** Refused inside MULTI (Redis's `no_multi` flag). */
  readonly noMulti: boolean;
  /** Runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
  readonly notQueued: boolean;
  /**
   * CLIENT PAUSE WRITE holds it: Redis 7.2's is_may_replicate_command, the `write` and
   * `may_replicate` flags (EVAL, EVALSHA, FCALL, PUBLISH, SPUBLISH, PFCOUNT, ...).
   */
  readonly mayReplicate: boolean;
  /** Not shown to MONITOR (Redis's `admin` and `skip_monitor` flags). */
  readonly skipMonitor: boolean;
  /** Container commands (CLIENT, CONFIG, ...): subcommands by lower-case name. */
  readonly subcommands: ReadonlyMap<string, Command> | undefined;
}
