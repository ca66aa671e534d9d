/**
 * The Rust core as the server sees it: the addon's functions. The core answers in finished
 * RESP (its reply sink, crates/keyspace/src/reply.rs), so nothing here walks replies.
 */
import type { Config } from './config';

/** The addon's exports (crates/binding); see its generated index.d.ts. */
export type Addon = typeof import('@shrike/binding');

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
