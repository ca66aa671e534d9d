/**
 * How a Connection reaches its client: through the worker's io_uring (uring.ts), or through a
 * Node net.Socket where io_uring is off or unavailable. A Connection runs core batches whose
 * replies go straight to the client, queues its own reply bytes, asks for a close, and reads
 * addresses; the transport calls back `onData`, `onDrain` and `onClose`.
 *
 * Both transports hold a client back the same way: once its pending output passes
 * OUTPUT_HIGH_WATER, they say so (OUTPUT_OVER), the connection stops running its input, and
 * `onDrain` comes once it has drained (to half of that on the ring, fully on a Node socket).
 */
import type { Socket } from 'node:net';
import type { Addon } from './core';

/** Bit set in `runCore`'s result (and the ring's) when the client's output passed the high-water mark. */
export const OUTPUT_OVER = 0x80000000;
/** Bit set in `execWatched`'s result when a watched key had changed (EXEC answered the null array). */
export const WATCH_FAILED = 0x40000000;
/** Pending output above which a client's input waits (as the ring's OUTPUT_HIGH_WATER). */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

/** What a transport tells its connection. */
export interface TransportEvents {
  /** The client's bytes `buf[start, end)`, valid only during the call. */
  onData(buf: Buffer, start: number, end: number): void;
  /** Output held back by OUTPUT_OVER has drained: run the input that waited. */
  onDrain(): void;
  /** The big argument given to `bigArgBegin` is whole: run its request. */
  onBigArg(): void;
  /** Pushes from other clients took the output past its client-output-buffer-limit. */
  onOutputLimit(): void;
  onClose(): void;
}

/** A client's byte stream. */
export interface Transport {
  /**
   * Queue bytes for the client after everything queued before. `data` must not change
   * afterwards (a Node socket keeps it until sent; ReplyWriter.take() slices are never
   * written again). Only `data[start, end)` is sent when given. True when the client's pending
   * output is now over the high-water mark.
   */
  write(data: Buffer, start?: number, end?: number): boolean;
  /**
   * Run `count` core commands (`batch[..len]` over `src`, flags as the binding's) with their
   * replies going straight to the client; returns how many ran, OR'ed with OUTPUT_OVER when
   * the output passed the high-water mark (the rest wait for `onDrain`). `pre[preStart,
   * preEnd)`, when given, is queued first, as `write` would (replies written in TypeScript
   * before the batch's; one call to the ring instead of two).
   */
  runCore(
    src: Buffer,
    batch: Uint32Array,
    len: number,
    db: number,
    flags: number,
    count: number,
    pre?: Buffer,
    preStart?: number,
    preEnd?: number,
  ): number;
  /**
   * EXEC of a queue of core commands alone with keys watched (`watch[..watchLen]` over
   * `watchBuf`, as `execBegin` takes them), where the transport does it in one call (the
   * ring): `pre[preStart, preEnd)` is queued first, then the locks are taken and the
   * watches checked, and either the null array is queued (the result has WATCH_FAILED) or
   * the `*N` header and the batch's replies, as `runCore` of the batch under those locks
   * (`flags` without FLAG_EXEC; the call adds it) would. Absent on Node sockets.
   */
  execWatched?(
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
  ): number;
  /** `[omem, oll, allocated]`: output bytes pending, buffers holding them, bytes allocated. */
  outputUse(): number[];
  /** Close once everything queued is sent. */
  end(): void;
  /** Close now, dropping what is queued. */
  destroy(): void;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The socket's file descriptor (CLIENT LIST `fd=`), -1 when unknown. */
  readonly fd: number;
  /** Start delivering events to `c`. */
  attach(c: TransportEvents): void;
  /** Mail for CLIENT ID `id` reaches this client (the ring delivers pushes itself). */
  bindClient(id: number): void;
  /**
   * The client-output-buffer-limit class pushes are held to (0 normal, 1 replica, 2
   * pubsub): the ring checks it as it delivers pushes; on Node sockets the connection does.
   */
  setOutputClass(cls: number): void;
  /**
   * Whether the transport can receive a request's big last argument apart from the input
   * (`bigArgBegin`), so the core can keep it without a copy: io_uring yes, Node sockets no.
   */
  readonly bigArgs: boolean;
  /**
   * Receive the rest of the last argument, `len` bytes, apart: `received` is what has come
   * of it so far. The client's next bytes go there (no `onData`) until `onBigArg`; the
   * request's batch then names it with BIG_ARG_MARK.
   */
  bigArgBegin(len: number, received: Buffer): void;
  /** Bytes of the big argument that reached `onData` before the transport knew; returns how many it took. */
  bigArgFeed(bytes: Buffer): number;
  /** Free the big argument, whole or not. */
  bigArgDrop(): void;
  /** `[received, allocated]` bytes of the big argument held (0 when none). */
  bigArgUse(): number[];
}

/** A batch's (start, end) pair for the argument received apart (`Transport.bigArgBegin`). */
export const BIG_ARG_MARK = 0xffffffff;

/**
 * Whether a peer address is the host's own loopback (Redis's connIsLocal: 127.0.0.0/8 or ::1),
 * an IPv4 one mapped into IPv6 included.
 */
export function isLoopback(addr: string): boolean {
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return v4.startsWith('127.') || addr === '::1';
}

/** A Node socket as a transport: one 'data' callback per read, one write per batch. */
export class NetTransport implements Transport {
  /** Node owns the socket's reads: every byte reaches `onData`. */
  readonly bigArgs = false;
  /** The client's CLIENT ID, for the core (the mail it sends names its sender). */
  private clientId = 0;
  /** The connection is held back for its output: reading is paused until it drains. */
  private over = false;
  private events: TransportEvents | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly addon: Addon,
    private readonly noteOutput: (bytes: number) => void,
  ) {
    socket.setNoDelay(true);
  }

  attach(c: TransportEvents): void {
    const socket = this.socket;
    this.events = c;
    socket.on('data', (chunk: Buffer) => c.onData(chunk, 0, chunk.length));
    socket.on('drain', this.drained);
    socket.on('error', () => {
      // 'close' follows; a reset client is not worth a log line.
    });
    socket.on('close', () => c.onClose());
  }

  /** The output the connection waits on has gone: read again and run what waited. */
  private readonly drained = (): void => {
    if (!this.over || this.socket.destroyed) return;
    this.over = false;
    this.socket.resume();
    this.events?.onDrain();
  };

  /**
   * The connection now waits for `onDrain`. 'drain' comes only after a write that filled the
   * socket's buffer; when Node already wrote everything synchronously, drain on the next turn.
   */
  private hold(): void {
    this.over = true;
    this.socket.pause();
    if (!this.socket.writableNeedDrain) setImmediate(this.drained);
  }

  write(data: Buffer, start = 0, end = data.length): boolean {
    const bytes = start === 0 && end === data.length ? data : data.subarray(start, end);
    this.noteOutput(bytes.length);
    this.socket.write(bytes);
    if (this.socket.writableLength <= OUTPUT_HIGH_WATER) return false;
    this.hold();
    return true;
  }

  runCore(
    src: Buffer,
    batch: Uint32Array,
    len: number,
    db: number,
    flags: number,
    count: number,
    pre?: Buffer,
    preStart = 0,
    preEnd = 0,
  ): number {
    const preOver = pre !== undefined && preEnd > preStart && this.write(pre, preStart, preEnd) ? OUTPUT_OVER : 0;
    const limit = Math.max(0, OUTPUT_HIGH_WATER - this.socket.writableLength);
    // The Buffer owns the bytes the core wrote: the socket sends them without another copy.
    const out = this.addon.execute(this.clientId, src, batch, len, db, flags, limit);
    const ran = out.length > limit ? this.addon.lastBatchRan() : count;
    if (out.length > 0) {
      this.noteOutput(out.length);
      this.socket.write(out);
    }
    // A batch cut short waits for onDrain as much as a full buffer does.
    if (ran >= count && this.socket.writableLength <= OUTPUT_HIGH_WATER) return (ran | preOver) >>> 0;
    this.hold();
    return (ran | OUTPUT_OVER) >>> 0;
  }

  bindClient(id: number): void {
    this.clientId = id;
  }

  setOutputClass(): void {}

  outputUse(): number[] {
    const pending = this.socket.writableLength;
    return [pending, pending > 0 ? 1 : 0, pending];
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '';
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get fd(): number {
    return (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  }

  bigArgBegin(): void {
    throw new Error('a Node socket receives no argument apart');
  }

  bigArgFeed(): number {
    return 0;
  }

  bigArgDrop(): void {}

  bigArgUse(): number[] {
    return [0, 0];
  }
}
