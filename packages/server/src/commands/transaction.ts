/**
 * Redis's `transactions` group: MULTI, EXEC, DISCARD, WATCH and UNWATCH (multi.c), and the
 * state a connection keeps for them: the queue of commands since MULTI and the watched keys.
 *
 * EXEC runs its queue in one synchronous turn under one lock set (crates/binding
 * transaction.rs): `execBegin` locks what the queued core commands and the watched keys
 * touch and checks the watches under those locks; the core commands then run through the
 * connection's usual batch path, under the held locks, with the TypeScript commands of the
 * queue in between, in queue order; the last batch (FLAG_EXEC_END) or `execEnd` releases
 * the locks. A queue of core commands with nothing watched, the usual case, is one batch
 * (FLAG_UNIT) that the core locks, runs and releases in one call; with keys watched, on
 * the ring, one call too (`Connection.execWatched`), which checks them under those locks
 * and answers the null array itself when one changed. The few TypeScript
 * commands that wait on other workers (INFO, CONFIG SET, CLIENT LIST...) cannot wait while
 * locks are held: they run first, before the locks are taken, and their replies take their
 * place in EXEC's array.
 *
 * WATCH records each key's slot version and state (see crates/keyspace watch.rs); nothing is
 * kept per key on the server side, so a watching client costs other clients nothing.
 */
import { ReplyWriter, Request } from '@shrike/resp3';
import { commandWords, ensureWords, readCommand, writeCommand } from '../batch';
import { type Connection, FLAG_EXEC_END, FLAG_UNIT } from '../connection';
import {
  DISCARD_WITHOUT_MULTI,
  EXEC_WITHOUT_MULTI,
  EXECABORT,
  execAbortBecause,
  MULTI_NESTED,
  NOT_IN_TRANSACTION,
  WATCH_INSIDE_MULTI,
} from '../errors';
import type { Command, TsEntry } from './types';

const OK = Buffer.from('+OK\r\n');
const QUEUED = Buffer.from('+QUEUED\r\n');

/** `op` of a queued TypeScript command in `MultiQueue.layout`. */
const TS_OP = 0xffffffff;

/** A queue whose copied requests grew past this is not kept for the next MULTI. */
const SPARE_MAX = 64 * 1024;

/** Commands that run at once inside MULTI instead of being queued (server.c processCommand). */
export const NOT_QUEUED: ReadonlySet<string> = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/**
 * TypeScript commands that wait on other workers (they `suspend` the connection). Inside
 * EXEC they run before the locks are taken (see the module doc). A family that adds such a
 * command adds its name here.
 */
export const RUN_BEFORE_EXEC: Set<string> = new Set([
  'info',
  'config|set',
  'config|resetstat',
  'client|list',
  'client|kill',
  'client|unpause',
  // REDIRECT asks every worker where its target lives.
  'client|tracking',
]);

/** Growable Buffer append. */
function ensureBytes(b: Buffer, need: number): Buffer {
  if (need <= b.length) return b;
  const next = Buffer.allocUnsafe(Math.max(need, b.length * 2));
  b.copy(next);
  return next;
}

/**
 * The commands queued since MULTI: their request bytes, and per command the batch layout
 * the core reads (batch.ts: op, argc, then (start, end) pairs into `bytes`), with TS_OP for
 * TypeScript commands. A transaction sent in one write (MULTI … EXEC) runs from the read
 * buffer it arrived in: the bytes are copied into `src` only when the transaction outlives
 * that read (`settle`, which the connection calls when a read is done).
 */
export class MultiQueue {
  /** The queued commands; only the first `count` are live (the array is reused). */
  readonly cmds: Command[] = [];
  count = 0;
  /** The copied request bytes (`settle`); the ranges before `lazyFrom` index it. */
  src: Buffer = Buffer.allocUnsafe(256);
  srcLen = 0;
  layout: Uint32Array = new Uint32Array(64);
  layoutLen = 0;
  /** How many TypeScript commands are queued (none: the layout is the core batch as is). */
  tsCount = 0;
  /** A command was refused while queueing: EXEC answers EXECABORT (Redis's CLIENT_DIRTY_EXEC). */
  aborted = false;
  /** The read buffer the commands from layout word `lazyFrom` on still index, not yet copied. */
  private lazy: Buffer | undefined = undefined;
  private lazyFrom = 0;
  /** The bytes of `lazy` those commands span. */
  private lazyStart = 0;
  private lazyEnd = 0;

  /** Empty the queue for the next MULTI, keeping its buffers. */
  reset(): this {
    this.count = 0;
    this.srcLen = 0;
    this.layoutLen = 0;
    this.tsCount = 0;
    this.aborted = false;
    this.lazy = undefined;
    return this;
  }

  /** Queue the request `req` for `cmd`; its bytes stay in the read buffer until `settle`. */
  push(cmd: Command, req: Request): void {
    const argc = req.argc;
    const from = req.src;
    if (from !== this.lazy) {
      this.settle();
      this.lazy = from;
      this.lazyFrom = this.layoutLen;
      this.lazyStart = req.starts[0] as number;
    }
    this.lazyEnd = req.ends[argc - 1] as number;
    this.layout = writeCommand(this.layout, this.layoutLen, cmd.op >= 0 ? cmd.op : TS_OP, req);
    this.layoutLen += commandWords(argc);
    this.cmds[this.count++] = cmd;
    if (cmd.op < 0) this.tsCount++;
  }

  /**
   * Copy the bytes still in a read buffer into `src` (one copy of the span they occupy) and
   * point their ranges there: the read buffer is reused once the read is done.
   */
  settle(): void {
    const from = this.lazy;
    if (from === undefined) return;
    this.lazy = undefined;
    const n = this.lazyEnd - this.lazyStart;
    this.src = ensureBytes(this.src, this.srcLen + n);
    from.copy(this.src, this.srcLen, this.lazyStart, this.lazyEnd);
    const delta = this.srcLen - this.lazyStart;
    const l = this.layout;
    for (let i = this.lazyFrom; i < this.layoutLen; ) {
      const end = i + commandWords(l[i + 1] as number);
      for (i += 2; i < end; i++) l[i] = (l[i] as number) + delta;
    }
    this.srcLen += n;
  }

  /** The buffer the layout's ranges index: the read buffer while every command is still in it. */
  get bytes(): Buffer {
    if (this.lazy !== undefined && this.lazyFrom === 0) return this.lazy;
    this.settle();
    return this.src;
  }

  /** The queued core commands alone, in the batch layout (what `execBegin` locks for). */
  coreBatch(): Uint32Array {
    if (this.tsCount === 0) return this.layout.subarray(0, this.layoutLen);
    const out = new Uint32Array(this.layoutLen);
    let n = 0;
    for (let i = 0; i < this.layoutLen; ) {
      const len = commandWords(this.layout[i + 1] as number);
      if (this.layout[i] !== TS_OP) {
        out.set(this.layout.subarray(i, i + len), n);
        n += len;
      }
      i += len;
    }
    return out.subarray(0, n);
  }
}

/** Words per watched key in `WatchSet.words`: db, start, end, version low, high, state. */
const WATCH_WORDS = 6;

/** The keys a client WATCHes: their bytes in `buf`, and per key what WATCH saw. */
export class WatchSet {
  buf: Buffer = Buffer.allocUnsafe(64);
  bufLen = 0;
  words: Uint32Array = new Uint32Array(WATCH_WORDS * 4);
  count = 0;

  /** Empty the set for the next WATCH, keeping its buffers. */
  reset(): this {
    this.bufLen = 0;
    this.count = 0;
    return this;
  }

  /** Whether `key` of database `db` is watched already. */
  has(db: number, key: Buffer): boolean {
    const w = this.words;
    for (let i = 0; i < this.count * WATCH_WORDS; i += WATCH_WORDS) {
      if (w[i] !== db) continue;
      const start = w[i + 1] as number;
      const end = w[i + 2] as number;
      if (end - start === key.length && key.compare(this.buf, start, end) === 0) return true;
    }
    return false;
  }
}

const EMPTY_WORDS = new Uint32Array(0);
const EMPTY = Buffer.alloc(0);

/** Leave MULTI and forget the watched keys (Redis's discardTransaction). */
export function discardTransaction(c: Connection): void {
  if (c.txn !== undefined && c.txn.src.length <= SPARE_MAX) c.spareTxn = c.txn;
  c.txn = undefined;
  c.multi = -1;
  unwatchAll(c);
}

function unwatchAll(c: Connection): void {
  // Kept for the next WATCH, and only emptied then: an EXEC still reads the set it took.
  if (c.watched !== undefined && c.watched.buf.length <= SPARE_MAX) c.spareWatch = c.watched;
  c.watched = undefined;
  c.watch = 0;
}

/**
 * Called by the connection for a command that passed lookup, arity and auth while in MULTI:
 * queue it and answer +QUEUED, or refuse it (flagging the transaction), or return false for
 * the commands that run at once (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
 */
export function queueInMulti(c: Connection, cmd: Command, req: Request): boolean {
  if (cmd.notQueued) return false;
  const q = c.txn as MultiQueue;
  if (cmd.noMulti) {
    q.aborted = true;
    c.w.error(NOT_IN_TRANSACTION);
    c.server.stats.rejected(cmd, NOT_IN_TRANSACTION);
    return true;
  }
  // Redis keeps nothing of a transaction that is bound to abort (queueMultiCommand).
  if (!q.aborted) {
    q.push(cmd, req);
    c.multi = q.count;
  }
  c.w.raw(QUEUED);
  return true;
}

/**
 * EXEC itself refused (arity, auth): the transaction is discarded, and the reply says why
 * (Redis's execCommandAbort, whether or not the client was in MULTI).
 */
export function execAborted(c: Connection, why: string): string {
  discardTransaction(c);
  // Redis builds the arity text without its `ERR ` (the error reply adds it), while a
  // shared error such as NOAUTH keeps its own prefix.
  return execAbortBecause(why.startsWith('ERR ') ? why.slice(4) : why);
}

/** A command was refused while queueing (Redis's flagTransaction): EXEC will abort. */
export function flagTransaction(c: Connection): void {
  const q = c.txn;
  if (q !== undefined) q.aborted = true;
}

/** MULTI */
function multi(c: Connection): void {
  if (c.multi >= 0) {
    c.w.raw(MULTI_NESTED);
    return;
  }
  // A client that runs MULTI once usually runs it again: its queue's buffers are kept.
  c.txn = (c.spareTxn ?? new MultiQueue()).reset();
  c.multi = 0;
  c.w.raw(OK);
}

/** DISCARD */
function discard(c: Connection): void {
  if (c.multi < 0) {
    c.w.raw(DISCARD_WITHOUT_MULTI);
    return;
  }
  discardTransaction(c);
  c.w.raw(OK);
}

/** WATCH key [key ...] */
function watch(c: Connection, argv: Buffer[]): void {
  if (c.multi >= 0) {
    c.w.raw(WATCH_INSIDE_MULTI);
    return;
  }
  // A client that WATCHes once usually does again: the last set's buffers are reused.
  const ws = c.watched ?? c.spareWatch?.reset() ?? new WatchSet();
  c.watched = ws;
  c.spareWatch = undefined;
  const db = c.db;
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i] as Buffer;
    // The same key twice in one WATCH is watched once, as a key already watched is.
    if (ws.has(db, key) || isListed(ws, n, key)) continue;
    ws.buf = ensureBytes(ws.buf, ws.bufLen + key.length);
    key.copy(ws.buf, ws.bufLen);
    watchRanges = ensureWords(watchRanges, 2 * n + 2);
    watchRanges[2 * n] = ws.bufLen;
    watchRanges[2 * n + 1] = ws.bufLen + key.length;
    n++;
    ws.bufLen += key.length;
  }
  if (n > 0) {
    watchMarks = ensureWords(watchMarks, 3 * n);
    const marks = watchMarks;
    c.server.addon.watchKeys(db, ws.buf, watchRanges, n, marks);
    ws.words = ensureWords(ws.words, (ws.count + n) * WATCH_WORDS);
    const w = ws.words;
    for (let k = 0; k < n; k++) {
      const at = (ws.count + k) * WATCH_WORDS;
      w[at] = db;
      w[at + 1] = watchRanges[2 * k] as number;
      w[at + 2] = watchRanges[2 * k + 1] as number;
      w[at + 3] = marks[3 * k] as number;
      w[at + 4] = marks[3 * k + 1] as number;
      w[at + 5] = marks[3 * k + 2] as number;
    }
    ws.count += n;
  }
  c.watch = ws.count;
  c.w.raw(OK);
}

/** The (start, end) pairs of the keys one WATCH adds, in the set's buffer; reused by every WATCH. */
let watchRanges: Uint32Array = new Uint32Array(16);
/** What the core saw of each key one WATCH adds (version low, high, state); reused likewise. */
let watchMarks: Uint32Array = new Uint32Array(24);

/** Whether `key` is among the `n` keys this WATCH already added (`watchRanges`). */
function isListed(ws: WatchSet, n: number, key: Buffer): boolean {
  for (let i = 0; i < 2 * n; i += 2) {
    const start = watchRanges[i] as number;
    const end = watchRanges[i + 1] as number;
    if (end - start === key.length && key.compare(ws.buf, start, end) === 0) return true;
  }
  return false;
}

/** UNWATCH */
function unwatch(c: Connection): void {
  unwatchAll(c);
  c.w.raw(OK);
}

/** EXEC */
function exec(c: Connection): void {
  const q = c.txn;
  if (q === undefined) {
    c.w.raw(EXEC_WITHOUT_MULTI);
    return;
  }
  if (q.aborted) {
    discardTransaction(c);
    c.w.raw(EXECABORT);
    return;
  }
  const early: number[] | undefined = q.tsCount > 0 ? [] : undefined;
  if (early !== undefined) for (let i = 0; i < q.count; i++) if (RUN_BEFORE_EXEC.has((q.cmds[i] as Command).name)) early.push(i);
  if (early === undefined || early.length === 0) {
    runQueue(c, q, undefined);
    return;
  }
  // Those commands take effect before the locks are held: a watch that already failed must
  // stop them, so the watches are checked once before too (and again under the locks).
  if (!watchesHold(c)) {
    discardTransaction(c);
    c.w.nullArray();
    return;
  }
  // The queue runs after this read is done: its bytes leave the read buffer now.
  q.settle();
  c.suspend();
  runEarly(c, q, early, (replies) => {
    try {
      runQueue(c, q, replies);
    } finally {
      c.resume();
    }
  });
}

/** Check the watched keys without running anything (locks taken and released at once). */
export function watchesHold(c: Connection): boolean {
  const ws = c.watched;
  if (ws === undefined) return true;
  const addon = c.server.addon;
  const held = addon.execBegin(EMPTY, EMPTY_WORDS, 0, ws.buf, ws.words, ws.count * WATCH_WORDS);
  addon.execEnd();
  return held;
}

/**
 * Run the queued commands `early` (indexes into the queue) one after another, each with
 * its own reply writer, and hand their replies to `done`, by queue index.
 */
function runEarly(c: Connection, q: MultiQueue, early: readonly number[], done: (replies: Map<number, Buffer>) => void): void {
  const replies = new Map<number, Buffer>();
  const req = new Request();
  let k = 0;
  const next = (): void => {
    const i = early[k++];
    if (i === undefined) {
      done(replies);
      return;
    }
    const cmd = q.cmds[i] as Command;
    const w = new ReplyWriter();
    w.proto = c.proto;
    // The command sees the connection, with its own writer and a suspend/resume of its own:
    // the real connection stays suspended until the whole EXEC has run. State it sets (CLIENT
    // TRACKING's, say) lands on the connection itself.
    let waiting = false;
    const suspend = (): void => {
      waiting = true;
    };
    const resume = (): void => {
      waiting = false;
      c.server.stats.resumed(view);
      replies.set(i, w.take());
      next();
    };
    const view: Connection = new Proxy(c, {
      get(target, prop, receiver) {
        if (prop === 'w') return w;
        if (prop === 'suspended') return waiting;
        if (prop === 'suspend') return suspend;
        if (prop === 'resume') return resume;
        return Reflect.get(target, prop, receiver);
      },
      set(target, prop, value) {
        return Reflect.set(target, prop, value, target);
      },
    });
    requestAt(q, i, req);
    c.server.commandsProcessed++;
    c.server.stats.restartClock();
    c.server.stats.call(view, cmd, req.argv());
    if (!waiting) {
      replies.set(i, w.take());
      next();
    }
  };
  next();
}

/** Where command `i` of the queue starts in its layout. */
function layoutAt(q: MultiQueue, i: number): number {
  let at = 0;
  for (let n = 0; n < i; n++) at += commandWords(q.layout[at + 1] as number);
  return at;
}

/** Point `req` at queued command `i`. */
function requestAt(q: MultiQueue, i: number, req: Request): void {
  readCommand(q.layout, layoutAt(q, i), q.bytes, req);
}

/** Show every queued command to the monitors, before a queue that runs as one batch. */
function feedAll(c: Connection, q: MultiQueue): void {
  let at = 0;
  for (let i = 0; i < q.count; i++) {
    at = readCommand(q.layout, at, q.bytes, execReq);
    c.feedInExec(q.cmds[i] as Command, execReq);
  }
}

/** One Request reused by every EXEC of the worker (they run one at a time, synchronously). */
const execReq = new Request();

/**
 * Take the locks, check the watches, and run the queue into one `*N` reply; `early` holds
 * the replies of the commands that ran before (by queue index).
 */
function runQueue(c: Connection, q: MultiQueue, early: Map<number, Buffer> | undefined): void {
  const ws = c.watched;
  discardTransaction(c);
  const count = q.count;
  const src = q.bytes;
  // Core commands alone and nothing watched (the usual case): one call to the core locks,
  // runs and releases.
  if (ws === undefined && q.tsCount === 0 && count > 0) {
    if (c.server.monitoring) feedAll(c, q);
    c.w.arrayHeader(count);
    c.runBatchInExec(src, q.layout, q.layoutLen, count, (q.cmds[count - 1] as Command).name, FLAG_UNIT);
    return;
  }
  // Core commands alone with keys watched: one call to the ring takes the locks, checks
  // the watches, runs and releases (where the transport has no such call, as below).
  const last = (q.cmds[count - 1] as Command | undefined)?.name ?? 'exec';
  if (
    ws !== undefined &&
    q.tsCount === 0 &&
    count > 0 &&
    c.execWatched(src, q.layout, q.layoutLen, count, last, ws.buf, ws.words, ws.count * WATCH_WORDS)
  ) {
    return;
  }
  const addon = c.server.addon;
  const batch = q.tsCount === 0 ? q.layout : q.coreBatch();
  const len = q.tsCount === 0 ? q.layoutLen : batch.length;
  const held =
    ws === undefined
      ? addon.execBegin(src, batch, len, EMPTY, EMPTY_WORDS, 0)
      : addon.execBegin(src, batch, len, ws.buf, ws.words, ws.count * WATCH_WORDS);
  if (!held) {
    c.w.nullArray();
    return;
  }
  // The locks must go whatever happens: a worker that kept them would stop every other.
  let ended = false;
  try {
    c.w.arrayHeader(count);
    c.beginExec();
    // Core commands alone: the queue is already one batch, the last of the EXEC.
    const whole = q.tsCount === 0 && count > 0;
    if (whole) {
      if (c.server.monitoring) feedAll(c, q);
      c.runBatchInExec(src, q.layout, q.layoutLen, count, last, FLAG_EXEC_END);
      ended = true;
    }
    let at = 0;
    for (let i = whole ? count : 0; i < count; i++) {
      const cmd = q.cmds[i] as Command;
      const reply = early?.get(i);
      if (reply !== undefined) {
        c.writeInExec(reply);
        at += commandWords(q.layout[at + 1] as number);
        continue;
      }
      at = readCommand(q.layout, at, q.bytes, execReq);
      c.runInExec(cmd, execReq);
    }
    c.flushExec();
  } finally {
    c.endExec();
    if (!ended) addon.execEnd();
  }
}

export const entries = [
  { name: 'multi', handler: multi },
  { name: 'exec', handler: exec },
  { name: 'discard', handler: discard },
  { name: 'watch', handler: watch },
  { name: 'unwatch', handler: unwatch },
] as const satisfies readonly TsEntry[];
