/**
 * The worker's io_uring loop: one `ringTurn` call per loop turn submits every send queued
 * since the last turn and gets back every accept, read and close that completed (see
 * crates/binding/src/uring.rs for the record layout). Read bytes are parsed where the kernel
 * put them, in the ring's pool (`ringPool`), until the next turn. Parsing stays here; the core writes
 * its replies straight onto the ring's per-client send queues (`ringExecute`), and replies
 * made here join the same queues in order (`ringSend`).
 *
 * The ring blocks in the kernel while idle, so the loop gives Node's own event loop a turn
 * (setImmediate) whenever a wait times out, a wake arrives from the main thread (a message
 * is waiting), or it has run for a while; timers and messages are never starved.
 */
import type { Addon } from './core';
import { OUTPUT_OVER, type Transport, type TransportEvents } from './transport';

/** Record layout shared with the ring. */
const REC = 5;
const EV_ACCEPT = 1;
const EV_DATA = 2;
const EV_CLOSED = 3;
const EV_WAKE = 4;
const EV_DRAINED = 5;
const EV_BIGARG = 6;
const EV_OVERLIMIT = 7;
const EV_MAIL = 8;

/** How long an idle ring waits in the kernel before Node's loop gets a turn. */
const IDLE_WAIT_MS = 20;
/** Busy turns before Node's loop gets a turn anyway. */
const TURNS_PER_YIELD = 64;

/** What the loop needs from its worker. */
export interface UringHost {
  /** A client connected: return its connection (or undefined after writing a refusal and ending it). */
  accept(t: UringTransport): TransportEvents | undefined;
  /** Mail for this worker's JavaScript (mail.ts kinds), about client `client`. */
  onMail(kind: number, client: number, bytes: Buffer): void;
}

/** One client on the ring. */
export class UringTransport implements Transport {
  events: TransportEvents | undefined;
  private addrs: string[] | undefined;

  constructor(
    private readonly loop: UringLoop,
    readonly slot: number,
    readonly gen: number,
  ) {}

  attach(c: TransportEvents): void {
    this.events = c;
  }

  bindClient(id: number): void {
    this.loop.addon.ringBindClient(this.slot, this.gen, id);
  }

  setOutputClass(cls: number): void {
    this.loop.addon.ringSetOutputClass(this.slot, this.gen, cls);
  }

  write(data: Buffer, start = 0, end = data.length): boolean {
    return (this.loop.addon.ringSend(this.slot, this.gen, data, start, end) & OUTPUT_OVER) !== 0;
  }

  runCore(
    src: Buffer,
    batch: Uint32Array,
    len: number,
    db: number,
    flags: number,
    _count: number,
    pre?: Buffer,
    preStart = 0,
    preEnd = 0,
  ): number {
    const a = this.loop.addon;
    return pre === undefined
      ? a.ringExecute(this.slot, this.gen, src, batch, len, db, flags)
      : a.ringSendExecute(this.slot, this.gen, pre, preStart, preEnd, src, batch, len, db, flags);
  }

  execWatched(
    src: Buffer,
    batch: Uint32Array,
    len: number,
    db: number,
    flags: number,
    pre: Buffer,
    preStart: number,
    preEnd: number,
    watchBuf: Buffer,
    watch: Uint32Array,
    watchLen: number,
  ): number {
    const a = this.loop.addon;
    return a.ringExecWatched(this.slot, this.gen, pre, preStart, preEnd, src, batch, len, db, flags, watchBuf, watch, watchLen);
  }

  outputUse(): number[] {
    return this.loop.addon.ringOutputUse(this.slot, this.gen);
  }

  end(): void {
    this.loop.addon.ringEnd(this.slot, this.gen);
  }

  destroy(): void {
    this.loop.addon.ringDestroy(this.slot, this.gen);
  }

  private addresses(): string[] {
    this.addrs ??= this.loop.addon.ringAddresses(this.slot, this.gen);
    return this.addrs;
  }

  get remoteAddress(): string {
    return this.addresses()[0] ?? '';
  }

  get remotePort(): number {
    return Number(this.addresses()[1] ?? 0);
  }

  get localAddress(): string {
    return this.addresses()[2] ?? '';
  }

  get localPort(): number {
    return Number(this.addresses()[3] ?? 0);
  }

  get fd(): number {
    return this.loop.addon.ringFd(this.slot, this.gen);
  }

  readonly bigArgs = true;

  bigArgBegin(len: number, received: Buffer): void {
    this.loop.addon.ringBigArgBegin(this.slot, this.gen, len, received);
  }

  bigArgFeed(bytes: Buffer): number {
    return this.loop.addon.ringBigArgFeed(this.slot, this.gen, bytes);
  }

  bigArgDrop(): void {
    this.loop.addon.ringBigArgDrop(this.slot, this.gen);
  }

  bigArgUse(): number[] {
    return this.loop.addon.ringBigArgUse(this.slot, this.gen);
  }
}

/** Drives one worker's ring. */
export class UringLoop {
  /** The ring's mail bytes: a MAIL event's bytes are a range of it, valid until the next turn. */
  private readonly mail: Buffer;
  /** The ring's read pool: a DATA event's bytes are a range of it, valid until the next turn. */
  private readonly pool: Buffer;
  /** The ring's event records, rewritten by every turn. */
  private readonly events: Uint32Array;
  private readonly clients: (UringTransport | undefined)[] = [];
  private stopping = false;
  private stopped = false;
  private onIdle: (() => void) | undefined;

  constructor(
    /** The addon, whose `ring*` functions reach this thread's ring (opened by the worker). */
    readonly addon: Addon,
    private readonly host: UringHost,
  ) {
    this.pool = addon.ringPool();
    this.mail = addon.ringMail();
    const ev = addon.ringEvents();
    this.events = new Uint32Array(ev.buffer, ev.byteOffset, ev.length >>> 2);
  }

  /** Start turning; runs until `stop`. */
  start(): void {
    setImmediate(this.run);
  }

  /** Stop accepting; `idle` runs once the last client has closed. */
  drain(idle: () => void): void {
    this.addon.ringStopAccepting();
    this.stopping = true;
    this.onIdle = idle;
    this.checkIdle();
  }

  private readonly run = (): void => {
    if (this.stopped) return;
    for (let turn = 0; turn < TURNS_PER_YIELD; turn++) {
      const n = this.addon.ringTurn(IDLE_WAIT_MS);
      if (n === 0 || this.handle(n)) break;
    }
    if (!this.stopped) setImmediate(this.run);
  };

  /** Dispatch `n` events; true when Node's loop should get a turn now. */
  private handle(n: number): boolean {
    const ev = this.events;
    let yieldNow = false;
    for (let i = 0; i < n * REC; i += REC) {
      const kind = ev[i] as number;
      const slot = ev[i + 1] as number;
      const gen = ev[i + 2] as number;
      switch (kind) {
        case EV_DATA: {
          const t = this.clients[slot];
          if (t !== undefined && t.gen === gen) {
            const off = ev[i + 3] as number;
            t.events?.onData(this.pool, off, off + (ev[i + 4] as number));
          }
          break;
        }
        case EV_ACCEPT: {
          const t = new UringTransport(this, slot, gen);
          this.clients[slot] = t;
          const c = this.host.accept(t);
          if (c !== undefined) t.attach(c);
          break;
        }
        case EV_CLOSED: {
          const t = this.clients[slot];
          if (t !== undefined && t.gen === gen) {
            this.clients[slot] = undefined;
            t.events?.onClose();
          }
          this.checkIdle();
          break;
        }
        case EV_WAKE:
          yieldNow = true;
          break;
        case EV_DRAINED: {
          const t = this.clients[slot];
          if (t !== undefined && t.gen === gen) t.events?.onDrain();
          break;
        }
        case EV_BIGARG: {
          const t = this.clients[slot];
          if (t !== undefined && t.gen === gen) t.events?.onBigArg();
          break;
        }
        case EV_OVERLIMIT: {
          const t = this.clients[slot];
          if (t !== undefined && t.gen === gen) t.events?.onOutputLimit();
          break;
        }
        case EV_MAIL: {
          // Here `slot` is the mail's kind and `gen` its client's id.
          const off = ev[i + 3] as number;
          this.host.onMail(slot, gen, this.mail.subarray(off, off + (ev[i + 4] as number)));
          break;
        }
      }
    }
    return yieldNow;
  }

  private checkIdle(): void {
    if (!this.stopping || this.onIdle === undefined) return;
    if (this.clients.some((t) => t !== undefined)) return;
    this.stopped = true;
    const idle = this.onIdle;
    this.onIdle = undefined;
    idle();
  }
}
