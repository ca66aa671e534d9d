/**
 * The Rust core as the server sees it: the addon's functions. The core answers in finished
 * RESP (crates/binding/src/resp.rs), so nothing here walks replies.
 */

/** The addon's exports (crates/binding); see its generated index.d.ts. */
export type Addon = typeof import('@shrike/binding');

/** Load the native addon (each worker loads it; the keyspace inside is one per process). */
export function loadAddon(): Addon {
  return require('@shrike/binding') as Addon;
}
