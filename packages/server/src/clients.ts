/**
 * The client registry of one worker, as Redis's networking.c keeps it for the whole server:
 * which of this worker's clients a CLIENT LIST / CLIENT KILL filter names, CLIENT PAUSE
 * (its state is shared by every worker; each worker holds and releases its own clients),
 * and the `timeout` of idle clients (Redis's clientsCronHandleTimeout). The CLIENT
 * subcommands themselves live in commands/client.ts; what crosses workers goes through the
 * main thread's ask (shared.ts), these being rare administrative commands.
 */
import type { Request } from '@shrike/resp3';
import type pino from 'pino';
import type { Command } from './commands/types';
import type { Connection } from './connection';
import type { ClientFilter } from './shared';

/**
 * Bytes of the shared CLIENT PAUSE state for `threads` workers: Int32 [actions, writer
 * lock, -, -], BigInt64 [end ms], then an Int32 per worker: the clients it holds.
 */
export function pauseBytes(threads: number): number {
  return 24 + 4 * threads;
}

/** Redis's PAUSE_ACTION_CLIENT_WRITE: commands that may write or replicate wait. */
export const PAUSE_WRITE = 1;
/** Redis's PAUSE_ACTION_CLIENT_ALL: every command waits. */
export const PAUSE_ALL = 2;

/** A worker that died held no one any more (its replacement starts from zero). */
export function releasePaused(shared: SharedArrayBuffer, index: number): void {
  Atomics.store(new Int32Array(shared, 24), index, 0);
}

/** The longest delay setTimeout takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A worker's live clients, by CLIENT ID and in no order. Not a Map or Set of connections: V8
 * rebuilds such a table as entries come and go, and each table it leaves behind keeps
 * pointing at the connections it held and at the table that replaced it. Once one of those
 * tables is in the old generation, every connection made since stays alive through each
 * young collection until a full one (with a connection per request, half of what the worker
 * allocated survived each scavenge, and scavenges paused it for 8-16 ms). Here the
 * connections sit in a plain array, which forgets a place when it is emptied, and the Map
 * by id holds only numbers.
 */
export class ClientTable implements Iterable<Connection> {
  /** The clients at their places; undefined where one left, until a new client takes it. */
  private places: (Connection | undefined)[] = [];
  /** Free places, taken last-freed first. */
  private free: number[] = [];
  /** CLIENT ID -> place. */
  private readonly placeOf = new Map<number, number>();

  /** How many clients there are. */
  get size(): number {
    return this.placeOf.size;
  }

  add(c: Connection): void {
    const at = this.free.pop() ?? this.places.length;
    this.places[at] = c;
    this.placeOf.set(c.id, at);
  }

  /** Forget `c`; false if it was not here. */
  delete(c: Connection): boolean {
    const at = this.placeOf.get(c.id);
    if (at === undefined || this.places[at] !== c) return false;
    this.placeOf.delete(c.id);
    this.places[at] = undefined;
    this.free.push(at);
    // After a crowd left, a smaller array: iterations then skip no long run of holes.
    if (this.places.length > 64 && this.placeOf.size < this.places.length / 4) this.compact();
    return true;
  }

  /** The client with CLIENT ID `id`, if it is one of this worker's. */
  get(id: number): Connection | undefined {
    const at = this.placeOf.get(id);
    return at === undefined ? undefined : this.places[at];
  }

  /** Every client; one added meanwhile may or may not be seen, one deleted is not. */
  *[Symbol.iterator](): Iterator<Connection> {
    // A compaction meanwhile makes a new array and leaves this one as it was: a client is
    // seen only while it is still here.
    for (const c of this.places) if (c !== undefined && this.get(c.id) === c) yield c;
  }

  private compact(): void {
    const places: Connection[] = [];
    for (const c of this.places) {
      if (c === undefined) continue;
      this.placeOf.set(c.id, places.length);
      places.push(c);
    }
    this.places = places;
    this.free = [];
  }
}

/** Redis's getClientType as CLIENT LIST/KILL TYPE names it: MONITOR clients are normal. */
export function clientType(c: Connection): 'normal' | 'pubsub' {
  return c.sub + c.psub + c.ssub > 0 ? 'pubsub' : 'normal';
}

/** Whether `c` passes every filter set (Redis's CLIENT KILL loop, and CLIENT LIST TYPE/ID). */
export function matches(c: Connection, f: ClientFilter, nowMs: number): boolean {
  if (c.closed) return false;
  if (f.ids !== undefined && !f.ids.includes(c.id)) return false;
  if (f.type !== undefined && f.type !== clientType(c)) return false;
  if (f.addr !== undefined && f.addr !== c.addr) return false;
  if (f.laddr !== undefined && f.laddr !== c.laddr) return false;
  if (f.user !== undefined && f.user !== 'default') return false;
  // Redis 7.4's MAXAGE: clients connected at least that many seconds ago.
  if (f.maxAgeSec !== undefined && unixSec(nowMs) - unixSec(c.createdAtMs) < f.maxAgeSec) return false;
  return true;
}

/** `[id, CLIENT LIST line]` of this worker's clients that match. */
export function listClients(clients: Iterable<Connection>, f: ClientFilter): [number, string][] {
  const now = Date.now();
  const out: [number, string][] = [];
  for (const c of clients) if (matches(c, f, now)) out.push([c.id, c.infoLine()]);
  return out;
}

/**
 * Close this worker's clients that match, except `skipId` (the killer, whose own worker
 * closes it after its reply); returns how many. Their unsent replies go, as Redis's freeClient.
 */
export function killClients(clients: Iterable<Connection>, f: ClientFilter, skipId: number): number {
  const now = Date.now();
  const victims: Connection[] = [];
  for (const c of clients) if (c.id !== skipId && matches(c, f, now)) victims.push(c);
  for (const c of victims) c.destroy();
  return victims.length;
}

/** Whole seconds of a time in ms, as Redis's server.unixtime (age= and idle= subtract these). */
export function unixSec(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * Close clients idle for more than `timeoutSec` (Redis's clientsCronHandleTimeout): not those
 * in the middle of a command (blocked, paused, waiting for other workers), not subscribers
 * (CLIENT_PUBSUB, in RESP2 and RESP3 alike), not MONITORs (Redis marks them replicas).
 * Returns how many it closed.
 */
export function closeIdle(clients: Iterable<Connection>, timeoutSec: number, nowMs: number, log: pino.Logger): number {
  const now = unixSec(nowMs);
  const idle: Connection[] = [];
  for (const c of clients) {
    if (c.closed || c.blocked || c.suspended || c.monitor || c.sub + c.psub + c.ssub > 0) continue;
    if (now - unixSec(c.lastActiveMs) > timeoutSec) idle.push(c);
  }
  for (const c of idle) {
    log.debug({ client: c.id }, 'Closing idle client');
    c.destroy();
  }
  return idle.length;
}

/**
 * CLIENT PAUSE: the state in a SharedArrayBuffer every worker reads before each command (one
 * load while nothing is paused), written under a small lock by whichever worker runs PAUSE or
 * UNPAUSE. Each worker holds its own paused clients and releases them on one timer at the
 * deadline (re-armed when a later PAUSE extended it), or when UNPAUSE asks every worker to.
 */
export class ClientPause {
  /** [0] actions in force (0, PAUSE_WRITE, PAUSE_ALL), [1] writer lock. */
  private readonly word: Int32Array;
  /** Clients held, one count per worker, each written by its worker only. */
  private readonly heldBy: Int32Array;
  /** [0] end of the pause, ms since the epoch. */
  private readonly end: BigInt64Array;
  /** This worker's paused clients, in the order they were held (Redis's postponed_clients). */
  private readonly held = new Set<Connection>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * `restExpiry(untilMs)`: the active expiry cycle rests until then, as Redis pauses expiry
   * with clients (PAUSE_ACTIONS_CLIENT_*_SET include PAUSE_ACTION_EXPIRE); 0 resumes it.
   */
  constructor(
    shared: SharedArrayBuffer,
    private readonly index: number,
    private readonly restExpiry: (untilMs: number) => void,
  ) {
    this.word = new Int32Array(shared, 0, 2);
    this.end = new BigInt64Array(shared, 16, 1);
    this.heldBy = new Int32Array(shared, 24);
  }

  /** A pause was set and not yet seen to end: the only test on the hot path. */
  get engaged(): boolean {
    return this.word[0] !== 0;
  }

  /** The actions paused now (0, PAUSE_WRITE or PAUSE_ALL); clears a pause past its end. */
  actions(nowMs: number = Date.now()): number {
    const a = Atomics.load(this.word, 0);
    if (a === 0) return 0;
    if (Number(Atomics.load(this.end, 0)) > nowMs) return a;
    this.update((cur, end) => (end > nowMs ? [cur, end] : [0, 0]));
    return Atomics.load(this.word, 0);
  }

  /**
   * CLIENT PAUSE until `endMs`: as Redis's pauseClientsByClient and pauseActions, the end
   * only moves later, and a WRITE pause does not weaken an ALL pause in force.
   */
  pause(endMs: number, all: boolean): void {
    const now = Date.now();
    const [, until] = this.update((cur, end) => {
      const live = end > now ? cur : 0;
      const actions = all || live === PAUSE_ALL ? PAUSE_ALL : PAUSE_WRITE;
      const last = Math.max(live === 0 ? 0 : end, endMs);
      return last > now ? [actions, last] : [0, 0];
    });
    this.restExpiry(until);
  }

  /** CLIENT UNPAUSE: the shared state only; every worker then `release`s its clients. */
  unpause(): void {
    this.update(() => [0, 0]);
    this.restExpiry(0);
  }

  /**
   * Whether `c` must wait before running `cmd` (server.c processCommand: ALL holds every
   * command, WRITE those that may replicate, and EXEC when its queue holds one). Also keeps
   * the MULTI bookkeeping the pause needs and CLIENT LIST prints (multi-mem), since every
   * command of a transaction passes here.
   */
  holds(c: Connection, cmd: Command, req: Request): boolean {
    // MONITORs are flagged as replicas, and Redis never pauses replicas.
    const a = this.engaged && !c.monitor ? this.actions() : 0;
    const writes = cmd.mayReplicate;
    if (c.multi < 0) {
      c.multiMem = 0;
      c.multiMayWrite = false;
    } else if (cmd.name === 'exec') {
      if (a !== 0) return a === PAUSE_ALL || c.multiMayWrite;
      return false;
    }
    if (a === PAUSE_ALL || (a === PAUSE_WRITE && writes)) return true;
    if (c.multi >= 0 && !cmd.notQueued) {
      // multi.c queueMultiCommand: the arguments plus a pointer per argument.
      c.multiMem += argvBytes(req) + 8 * req.argc;
      if (writes) c.multiMayWrite = true;
    }
    return false;
  }

  /** Hold `c` (its request waits in its input) until the pause ends. */
  hold(c: Connection): void {
    this.held.add(c);
    Atomics.store(this.heldBy, this.index, this.held.size);
    this.arm();
  }

  /** A held client closed. */
  forget(c: Connection): void {
    if (this.held.delete(c)) Atomics.store(this.heldBy, this.index, this.held.size);
  }

  /** Clients held on every worker (Redis counts them in INFO blocked_clients). */
  get heldTotal(): number {
    let n = 0;
    for (let i = 0; i < this.heldBy.length; i++) n += Atomics.load(this.heldBy, i);
    return n;
  }

  /**
   * Let every held client run its request again; those the pause still concerns are held
   * again (Redis's unblockPostponedClients), in the order they came.
   */
  release(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const clients = [...this.held];
    this.held.clear();
    Atomics.store(this.heldBy, this.index, 0);
    for (const c of clients) c.unpause();
  }

  /** One timer per worker, at the end of the pause in force. */
  private arm(): void {
    if (this.timer !== undefined) return;
    const waitMs = Number(Atomics.load(this.end, 0)) - Date.now();
    // Past setTimeout's 2^31-1 ms the timer would fire at once; it re-arms instead.
    this.timer = setTimeout(this.expired, Math.min(MAX_TIMER_MS, Math.max(1, waitMs + 1)));
  }

  private readonly expired = (): void => {
    this.timer = undefined;
    if (this.held.size === 0) return;
    // Still ALL (a later PAUSE moved the end): nothing can run yet.
    if (this.actions() === PAUSE_ALL) this.arm();
    else this.release();
  };

  /** Change the state under the writer lock (readers never take it); returns the new state. */
  private update(next: (actions: number, endMs: number) => [number, number]): [number, number] {
    while (Atomics.compareExchange(this.word, 1, 0, 1) !== 0) {
      // Held for a few instructions by another worker's PAUSE or UNPAUSE.
    }
    try {
      const [actions, endMs] = next(Atomics.load(this.word, 0), Number(Atomics.load(this.end, 0)));
      Atomics.store(this.end, 0, BigInt(endMs));
      Atomics.store(this.word, 0, actions);
      return [actions, endMs];
    } finally {
      Atomics.store(this.word, 1, 0);
    }
  }
}

/** Bytes of a request's arguments (Redis's argv_len_sum, CLIENT LIST argv-mem). */
export function argvBytes(req: Request): number {
  let n = 0;
  for (let i = 0; i < req.argc; i++) n += Math.max(0, (req.ends[i] as number) - (req.starts[i] as number));
  return n;
}
