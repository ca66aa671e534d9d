/**
 * The command table: the only place that joins the generated Redis spec (names, arity,
 * flags), the core's op list and the TypeScript family files into one lookup map.
 * Built once per worker at startup.
 */
import { entries as clientEntries } from './client';
import { entries as connectionEntries } from './connection';
import { entries as debugEntries } from './debug';
import { entries as monitorEntries } from './monitor';
import { entries as pubsubEntries } from './pubsub';
import { entries as serverEntries } from './server';
import { COMMAND_SPECS, type CommandSpec } from './spec.generated';
import { entries as trackingEntries } from './tracking';
import { NOT_QUEUED, entries as transactionEntries } from './transaction';
import type { Command, Handler } from './types';

/** Lookup by lower-case command name. */
export type CommandTable = ReadonlyMap<string, Command>;

/**
 * Every command and subcommand name of the spec, in spec order: the rows of INFO
 * commandstats (stats.ts), the same in every worker.
 */
export const COMMAND_NAMES: readonly string[] = [...COMMAND_SPECS.keys()];
const STAT_INDEX: ReadonlyMap<string, number> = new Map(COMMAND_NAMES.map((n, i) => [n, i]));

/** Every TypeScript-handled command, from the family files. */
const TS_ENTRIES = [
  ...connectionEntries,
  ...clientEntries,
  ...serverEntries,
  ...debugEntries,
  ...monitorEntries,
  ...transactionEntries,
  ...trackingEntries,
  ...pubsubEntries,
];

/** What dispatch asks of a command, read once from its spec (not per call). */
export function specFlags(spec: CommandSpec): Pick<Command, 'noAuth' | 'noMulti' | 'notQueued' | 'mayReplicate' | 'skipMonitor'> {
  const has = (f: string): boolean => spec.flags.includes(f);
  return {
    noAuth: has('no_auth'),
    noMulti: has('no_multi'),
    notQueued: NOT_QUEUED.has(spec.name),
    mayReplicate: has('write') || has('may_replicate'),
    skipMonitor: has('admin') || has('skip_monitor'),
  };
}

/**
 * Build the table from the core's op names (index = op id) and the family files. A command
 * the spec does not know is a programming error and stops start-up.
 */
export function buildTable(opNames: readonly string[]): CommandTable {
  const impl = new Map<string, { op: number; handler: Handler | undefined }>();
  for (const [op, name] of opNames.entries()) impl.set(name, { op, handler: undefined });
  for (const e of TS_ENTRIES) {
    if (impl.has(e.name)) throw new Error(`command ${e.name} is implemented twice (core and TypeScript)`);
    impl.set(e.name, { op: -1, handler: e.handler });
  }
  for (const name of impl.keys()) {
    if (!COMMAND_SPECS.has(name)) throw new Error(`command ${name} is not in the Redis spec`);
  }
  const make = (spec: CommandSpec, subcommands: ReadonlyMap<string, Command> | undefined): Command => {
    const i = impl.get(spec.name);
    return {
      name: spec.name,
      spec,
      arity: spec.arity,
      op: i?.op ?? -1,
      handler: i?.handler,
      takesArgv: (i?.handler?.length ?? 2) >= 2,
      statIndex: STAT_INDEX.get(spec.name) ?? 0,
      blocks: (i?.op ?? -1) >= 0 && spec.flags.includes('blocking'),
      ...specFlags(spec),
      subcommands,
    };
  };
  const table = new Map<string, Command>();
  for (const spec of COMMAND_SPECS.values()) {
    if (spec.name.includes('|')) continue;
    let subs: Map<string, Command> | undefined;
    if (spec.subcommands !== undefined && spec.subcommands.length > 0) {
      subs = new Map();
      for (const subName of spec.subcommands) {
        const sub = COMMAND_SPECS.get(subName);
        if (sub !== undefined && impl.has(subName)) subs.set(subName.slice(subName.indexOf('|') + 1), make(sub, undefined));
      }
      if (subs.size === 0) continue;
    } else if (!impl.has(spec.name)) continue;
    table.set(spec.name, make(spec, subs));
  }
  return table;
}

/** The specs of every implemented top-level command (for COMMAND, COMMAND COUNT, ...). */
export function implementedSpecs(table: CommandTable): CommandSpec[] {
  return [...table.values()].map((c) => c.spec);
}

/** One name in a NameIndex bucket: its lower-case bytes and what it resolves to. */
interface Named<T> {
  readonly name: Buffer;
  readonly value: T;
}

/** FNV-1a over the bytes of src[start, end), ASCII letters folded to lower case. */
export function foldedHash(src: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let b = src[i] as number;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    h = Math.imul(h ^ b, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Case-insensitive lookup of a name straight from request bytes: no string is made per
 * command (the string path, latin1 slice + toLowerCase + Map, was a tenth of a worker's
 * JavaScript time under pipelined load).
 */
export class NameIndex<T> {
  /** Open hashing by the low bits of the hash: an array index is cheaper than a Map lookup. */
  private readonly buckets: (Named<T>[] | undefined)[];
  private readonly mask: number;

  constructor(entries: Iterable<readonly [string, T]>) {
    const all = [...entries];
    let size = 64;
    while (size < all.length * 4) size *= 2;
    this.mask = size - 1;
    this.buckets = new Array(size).fill(undefined);
    for (const [name, value] of all) {
      const bytes = Buffer.from(name.toLowerCase(), 'latin1');
      const at = foldedHash(bytes, 0, bytes.length) & this.mask;
      const list = this.buckets[at];
      if (list === undefined) this.buckets[at] = [{ name: bytes, value }];
      else list.push({ name: bytes, value });
    }
  }

  /** The value named by src[start, end) in any letter case, or undefined. */
  get(src: Buffer, start: number, end: number): T | undefined {
    const list = this.buckets[foldedHash(src, start, end) & this.mask];
    if (list === undefined) return undefined;
    const len = end - start;
    for (const e of list) {
      if (e.name.length !== len) continue;
      let i = 0;
      for (; i < len; i++) {
        let b = src[start + i] as number;
        if (b >= 0x41 && b <= 0x5a) b |= 0x20;
        if (b !== e.name[i]) break;
      }
      if (i === len) return e.value;
    }
    return undefined;
  }
}
