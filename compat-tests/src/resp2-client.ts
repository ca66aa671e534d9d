// A small RESP2 client for the compat runner: one connection, one command at a time,
// each with its own deadline.
//
// It decodes replies as the reference runner's redis-py client does (RESP2,
// decode_responses=True, no response callbacks): simple and bulk strings as UTF-8 text,
// integers as numbers, nil bulk and nil array as null. A string that is not valid UTF-8
// makes redis-py raise; here it becomes a ReplyError of kind 'utf8', which fails the case
// the same way while keeping the connection in step. After a timeout or an extra reply
// the connection is dropped, since a late reply would otherwise answer the next command.

import { connect, type Socket } from 'node:net';
import { type Reply, ReplyError } from './compare';

/** The server sent bytes that are not RESP2. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A command got no reply before its deadline. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** The connection failed or closed. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

const CR = 0x0d;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NEED_MORE = Symbol('need more');
type Parsed = { value: Reply; end: number } | typeof NEED_MORE;

/** Incremental RESP2 reply decoder: push chunks, take whole replies. */
export class Resp2Parser {
  private buf: Buffer = Buffer.alloc(0);

  /** Appends bytes read from the socket. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next whole reply, or undefined until more bytes arrive; throws ProtocolError. */
  next(): Reply | undefined {
    const r = this.parse(0);
    if (r === NEED_MORE) return undefined;
    this.buf = this.buf.subarray(r.end);
    return r.value;
  }

  /** Bytes received but not yet part of a whole reply. */
  get pending(): number {
    return this.buf.length;
  }

  private line(pos: number): { text: string; end: number } | typeof NEED_MORE {
    const cr = this.buf.indexOf(CR, pos);
    if (cr < 0 || cr + 1 >= this.buf.length) return NEED_MORE;
    if (this.buf[cr + 1] !== 0x0a) throw new ProtocolError(`expected LF after CR at byte ${cr}`);
    return { text: this.buf.toString('latin1', pos, cr), end: cr + 2 };
  }

  private parse(pos: number): Parsed {
    if (pos >= this.buf.length) return NEED_MORE;
    const type = this.buf[pos];
    const l = this.line(pos + 1);
    if (l === NEED_MORE) return NEED_MORE;
    switch (type) {
      case 0x2b: // '+' simple string
        return { value: decode(this.buf.subarray(pos + 1, l.end - 2)), end: l.end };
      case 0x2d: // '-' error
        return { value: new ReplyError(this.buf.toString('utf8', pos + 1, l.end - 2)), end: l.end };
      case 0x3a: // ':' integer
        return { value: integer(l.text), end: l.end };
      case 0x24: {
        // '$' bulk string
        const len = length(l.text);
        if (len < 0) return { value: null, end: l.end };
        const end = l.end + len + 2;
        if (end > this.buf.length) return NEED_MORE;
        if (this.buf[end - 2] !== CR || this.buf[end - 1] !== 0x0a) throw new ProtocolError('bulk string without CRLF');
        return { value: decode(this.buf.subarray(l.end, end - 2)), end };
      }
      case 0x2a: {
        // '*' array
        const n = length(l.text);
        if (n < 0) return { value: null, end: l.end };
        const items: Reply[] = [];
        let at = l.end;
        for (let i = 0; i < n; i++) {
          const item = this.parse(at);
          if (item === NEED_MORE) return NEED_MORE;
          items.push(item.value);
          at = item.end;
        }
        return { value: items, end: at };
      }
      default:
        throw new ProtocolError(`unexpected reply type byte 0x${(type ?? 0).toString(16)}`);
    }
  }
}

function decode(bytes: Buffer): Reply {
  try {
    return UTF8.decode(bytes);
  } catch {
    return new ReplyError(`invalid UTF-8 in string reply: 0x${bytes.toString('hex')}`, 'utf8');
  }
}

function length(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new ProtocolError(`bad length '${text}'`);
  return Number(text);
}

function integer(text: string): number | bigint {
  if (!/^-?\d+$/.test(text)) throw new ProtocolError(`bad integer '${text}'`);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** Encodes one command as a RESP2 array of bulk strings. */
export function encodeCommand(args: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    parts.push(Buffer.from(`$${a.length}\r\n`, 'latin1'), a, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

interface Pending {
  resolve(r: Reply): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** One RESP2 connection; `call` sends a command and waits for its reply. */
export class Resp2Client {
  private readonly parser = new Resp2Parser();
  private readonly pending: Pending[] = [];
  private closedWith: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(new ConnectionError(e.message)));
    socket.on('close', () => this.fail(new ConnectionError('connection closed by the server')));
  }

  /** Opens a connection, failing after timeoutMs. */
  static connect(host: string, port: number, timeoutMs: number): Promise<Resp2Client> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new ConnectionError(`connect to ${host}:${port}: ${e.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Resp2Client(socket));
      });
    });
  }

  /**
   * Whether the next command can go on this connection: it is open and holds no
   * unread bytes. redis-py's pool checks the same (can_read) and reconnects otherwise,
   * which is how an extra reply (SUBSCRIBE a b answers twice) or a QUIT ends up dropped.
   */
  get ready(): boolean {
    return this.closedWith === undefined && this.parser.pending === 0;
  }

  /** Sends one command; rejects with TimeoutError, ConnectionError or ProtocolError. */
  call(args: readonly Buffer[], timeoutMs: number): Promise<Reply> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new TimeoutError(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Closes the connection; pending calls reject. */
  close(): void {
    this.fail(new ConnectionError('connection closed by the client'));
  }

  private onData(chunk: Buffer): void {
    this.parser.push(chunk);
    try {
      for (let r = this.parser.next(); r !== undefined; r = this.parser.next()) {
        const p = this.pending.shift();
        // An extra reply (SUBSCRIBE with two channels answers twice): drop the connection,
        // as redis-py does when it finds unread data on it.
        if (p === undefined) throw new ProtocolError('a reply arrived with no command waiting');
        clearTimeout(p.timer);
        p.resolve(r);
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new ProtocolError(String(e)));
    }
  }

  private fail(e: Error): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = e;
    this.socket.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }
}
