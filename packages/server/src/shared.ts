/**
 * State shared by the main thread and every worker: SharedArrayBuffers handed over in
 * `workerData` (client ids, client count, per-thread counters) and the messages of the hub
 * through which a worker asks all workers something (CLIENT LIST/KILL, CONFIG SET).
 */

import { pauseBytes, releasePaused } from './clients';
import { COMMAND_SPECS } from './commands/spec.generated';
import type { Config } from './config';
import { commandStatsBytes } from './stats';

/** Slots of one worker's row in the per-thread counters (a Float64Array, one row per worker). */
export const ThreadSlot = {
  Cpu: 0,
  Clients: 1,
  Commands: 2,
  ConnectionsReceived: 3,
  Rejected: 4,
  Tid: 5,
  NetInput: 6,
  NetOutput: 7,
  /** Rolling rates (rates.ts): commands/s and bytes/s in and out. */
  OpsPerSec: 8,
  InputPerSec: 9,
  OutputPerSec: 10,
  /** Bytes held for clients: query buffers and pending output (INFO mem_clients_normal). */
  ClientMemory: 11,
  /** This worker's clients in MONITOR mode: any worker with one makes every worker feed monitors. */
  Monitors: 12,
} as const;
export const THREAD_STRIDE = 13;

/** The buffers every thread sees. */
export interface SharedBuffers {
  /** BigInt64Array(1): the last client id handed out (CLIENT ID is unique across workers). */
  readonly ids: SharedArrayBuffer;
  /** Int32Array(1): connected clients over all workers, for maxclients. */
  readonly clients: SharedArrayBuffer;
  /** Float64Array(threads * THREAD_STRIDE): each worker writes only its own row. */
  readonly threads: SharedArrayBuffer;
  /** Float64Array: per worker, per command, the counters of INFO commandstats (stats.ts). */
  readonly commandStats: SharedArrayBuffer;
  /** CLIENT PAUSE state every worker reads (clients.ts ClientPause). */
  readonly pause: SharedArrayBuffer;
}

/** What a worker receives at start. */
export interface WorkerData {
  readonly index: number;
  readonly cpu: number;
  readonly config: Config;
  readonly shared: SharedBuffers;
  readonly startedAtMs: number;
  /** Eventfd the main thread writes after each message, so a worker blocked in io_uring reads it at once. */
  readonly wakeFd: number;
}

/** Questions a worker can put to all workers through the main thread. */
export type Ask =
  | { readonly kind: 'clientList'; readonly filter: ClientFilter }
  | { readonly kind: 'clientKill'; readonly filter: ClientFilter; readonly skipId: number }
  | { readonly kind: 'clientUnpause' }
  | { readonly kind: 'configSet'; readonly pairs: readonly (readonly [string, string])[] }
  | { readonly kind: 'resetStats' }
  | { readonly kind: 'publishStats' };

/** Which clients a CLIENT LIST / CLIENT KILL concerns; every field set must match. */
export interface ClientFilter {
  /** CLIENT LIST ID lists in this order, repeats included, as Redis. */
  readonly ids?: readonly number[];
  /** 'normal' | 'master' | 'slave' | 'pubsub' (Redis's getClientTypeByName: replica is slave). */
  readonly type?: string;
  readonly addr?: string;
  readonly laddr?: string;
  readonly user?: string;
  readonly maxAgeSec?: number;
}

/** Worker -> main. */
export type ToMain =
  | { readonly t: 'ask'; readonly id: number; readonly ask: Ask }
  | { readonly t: 'answer'; readonly id: number; readonly result: unknown }
  | { readonly t: 'listening' }
  | { readonly t: 'stopped' };

/** Main -> worker. */
export type ToWorker =
  | { readonly t: 'ask'; readonly id: number; readonly ask: Ask }
  | { readonly t: 'results'; readonly id: number; readonly results: readonly unknown[] }
  | { readonly t: 'shutdown' };

/** Allocate the shared buffers for `threads` workers. */
export function createShared(threads: number): SharedBuffers {
  return {
    ids: new SharedArrayBuffer(8),
    clients: new SharedArrayBuffer(4),
    threads: new SharedArrayBuffer(threads * THREAD_STRIDE * 8),
    commandStats: new SharedArrayBuffer(commandStatsBytes(threads, COMMAND_SPECS.size)),
    pause: new SharedArrayBuffer(pauseBytes(threads)),
  };
}

/**
 * A worker that died closed its clients without counting them out: take its share off the
 * global client count (maxclients), clear its row and the count of clients it held paused,
 * so a replacement starts from zero.
 */
export function releaseClients(shared: SharedBuffers, index: number): void {
  const row = new Float64Array(shared.threads, index * THREAD_STRIDE * 8, THREAD_STRIDE);
  Atomics.sub(new Int32Array(shared.clients), 0, row[ThreadSlot.Clients] ?? 0);
  row[ThreadSlot.Clients] = 0;
  releasePaused(shared.pause, index);
}
