/**
 * How a Connection reaches its client: through the worker's io_uring (uring.ts), or through a
 * Node net.Socket where io_uring is off or unavailable. A Connection only queues bytes, asks
 * for a close, and reads addresses; the transport calls back `onData` and `onClose`.
 */
import type { Socket } from 'node:net';

/** What a transport tells its connection. */
export interface TransportEvents {
  onData(chunk: Buffer): void;
  onClose(): void;
}

/** A client's byte stream. */
export interface Transport {
  /** Queue bytes for the client; they may be copied at once, so `data` can be reused. */
  write(data: Buffer): void;
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
}

/** Stop reading from a client whose unsent replies pass this, until the socket drains. */
const OUTPUT_HIGH_WATER = 8 * 1024 * 1024;

/** A Node socket as a transport: one 'data' callback and one write per read. */
export class NetTransport implements Transport {
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
  }

  attach(c: TransportEvents): void {
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => c.onData(chunk));
    socket.on('drain', () => {
      if (!socket.destroyed) socket.resume();
    });
    socket.on('error', () => {
      // 'close' follows; a reset client is not worth a log line.
    });
    socket.on('close', () => c.onClose());
  }

  write(data: Buffer): void {
    if (!this.socket.write(data) && this.socket.writableLength > OUTPUT_HIGH_WATER) this.socket.pause();
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
}
