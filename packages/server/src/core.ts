/**
 * The Rust core as the server sees it: the addon's functions. The core answers in finished
 * RESP (its reply sink, crates/keyspace/src/reply.rs), so nothing here walks replies.
 */
import type { Config } from './config';

/**
 * The calls made on every round trip and transaction, exported as plain Node-API callbacks
 * (crates/binding/src/hot_calls.rs), for which napi-rs generates no declarations.
 */
export interface HotCalls {
  /** `Ring::turn`: submit, wait up to `timeoutMs`, write events (`ringEvents`, `ringMail`); returns how many. */
  ringTurn(timeoutMs: number): number;
  /** `Ring::execute`: run `cmds[..len]` (batch layout over `buf`) for a client; ran | OUTPUT_OVER. */
  ringExecute(slot: number, gen: number, buf: Uint8Array, cmds: Uint32Array, len: number, db: number, flags: number): number;
  /** `Ring::send`: queue `data[start..end]` for a client; OUTPUT_OVER when over the high-water mark. */
  ringSend(slot: number, gen: number, data: Uint8Array, start: number, end: number): number;
  /** `ringSend` of `pre[preStart, preEnd)`, then `ringExecute`, in one call; OUTPUT_OVER if either passed the mark. */
  ringSendExecute(
    slot: number,
    gen: number,
    pre: Uint8Array,
    preStart: number,
    preEnd: number,
    buf: Uint8Array,
    cmds: Uint32Array,
    len: number,
    db: number,
    flags: number,
  ): number;
  /** EXEC: lock what the queue and the watched keys touch and check the watches (transaction.rs). */
  execBegin(buf: Uint8Array, cmds: Uint32Array, len: number, watchBuf: Uint8Array, watch: Uint32Array, watchLen: number): boolean;
  /**
   * EXEC of core commands alone with keys watched, on the ring in one call (transaction.rs
   * `ring_exec_watched`): `pre`, then the null array or the replies; ran | OUTPUT_OVER, or
   * WATCH_FAILED.
   */
  ringExecWatched(
    slot: number,
    gen: number,
    pre: Uint8Array,
    preStart: number,
    preEnd: number,
    buf: Uint8Array,
    cmds: Uint32Array,
    len: number,
    db: number,
    flags: number,
    watchBuf: Uint8Array,
    watch: Uint32Array,
    watchLen: number,
  ): number;
  /** WATCH: each key's version and state into `marks`, three words per key (transaction.rs). */
  watchKeys(db: number, buf: Uint8Array, ranges: Uint32Array, n: number, marks: Uint32Array): void;
}

/** The addon's exports (crates/binding): its generated index.d.ts, and the hot calls. */
export type Addon = typeof import('@shrike/binding') & HotCalls;

/** Load the native addon (each worker loads it; the keyspace inside is one per process). */
export function loadAddon(): Addon {
  return require('@shrike/binding') as Addon;
}

/** The config parameters the shared keyspace reads (crates/binding/src/config.rs). */
const KEYSPACE_PARAMS = [
  'notify-keyspace-events',
  'maxmemory-policy',
  'list-max-listpack-size',
  'hash-max-listpack-entries',
  'hash-max-listpack-value',
  'set-max-intset-entries',
  'set-max-listpack-entries',
  'set-max-listpack-value',
  'zset-max-listpack-entries',
  'zset-max-listpack-value',
  'hll-sparse-max-bytes',
  'tracking-table-max-keys',
] as const satisfies readonly (keyof Config)[];

/**
 * Hand the keyspace its settings from `config`: all of them, or those of `changed` (CONFIG
 * SET's names). Each worker does it; the stores are idempotent.
 */
export function configureKeyspace(addon: Addon, config: Config, changed?: readonly string[]): void {
  for (const name of KEYSPACE_PARAMS) {
    if (changed !== undefined && !changed.includes(name)) continue;
    addon.configureKeyspace(name, String(config[name]));
  }
}
