/**
 * This worker's side of the blocking commands (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP,
 * BZPOPMIN, BZPOPMAX, BZMPOP). The registry of blocked clients and the serving of them live
 * in the core (crates/keyspace/src/blocking.rs), so a push on any worker serves a client of
 * any other; here a blocked client's pipeline waits, its timeout runs, and the reply that
 * ends its block (REPLY mail, whoever sent it) is written before the rest of its input runs.
 */
import type { Connection } from './connection';
import type { Addon } from './core';

/** `unblockClient`'s `how`: the timeout reply (a timeout, CLIENT UNBLOCK id TIMEOUT). */
export const UNBLOCK_TIMEOUT = 0;
/** `unblockClient`'s `how`: the -UNBLOCKED error (CLIENT UNBLOCK id ERROR). */
export const UNBLOCK_ERROR = 1;
/** `unblockClient`'s `how`: no reply (the client is gone). */
const UNBLOCK_DROP = 2;

/**
 * The blocked clients of one worker: their timers, and how their blocks end. A block's timer
 * is kept on its connection, not in a Map by id: the tables V8 leaves behind as a Map's
 * entries come and go keep their timers alive until a full collection (see ClientTable).
 */
export class BlockedClients {
  constructor(private readonly addon: Addon) {}

  /** `c`'s batch ended in a block (`timeoutMs`, 0 for none): its input waits for the reply. */
  blocked(c: Connection, timeoutMs: number): void {
    c.blocked = true;
    c.suspend();
    if (timeoutMs > 0) c.blockTimer = setTimeout(() => this.timedOut(c), timeoutMs);
  }

  /**
   * The timeout passed. The core answers with the timeout reply as REPLY mail, or, when a
   * push served the client first, its reply is already on the way: either way the mail ends
   * the block.
   */
  private timedOut(c: Connection): void {
    c.blockTimer = undefined;
    this.addon.unblockClient(c.id, UNBLOCK_TIMEOUT);
  }

  /** REPLY mail: the reply that ends `c`'s block (dropped when `c` is gone). */
  onReply(c: Connection | undefined, bytes: Buffer): void {
    if (c === undefined || !c.blocked || c.closed) return;
    this.clearTimer(c);
    c.blocked = false;
    c.unblocked(bytes);
  }

  /** `c` is closing: leave nothing of its block behind in the core. */
  dropped(c: Connection): void {
    if (!c.blocked) return;
    c.blocked = false;
    this.clearTimer(c);
    this.addon.unblockClient(c.id, UNBLOCK_DROP);
  }

  private clearTimer(c: Connection): void {
    if (c.blockTimer === undefined) return;
    clearTimeout(c.blockTimer);
    c.blockTimer = undefined;
  }
}
