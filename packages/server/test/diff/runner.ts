/**
 * The differential runner: parses command scripts (redis-cli quoting), sends each line to two
 * servers over raw sockets in lockstep, and compares the raw reply bytes. It knows RESP reply
 * framing (RESP2 and RESP3) so that it reads exactly one reply per command, and it models
 * CLIENT REPLY OFF/SKIP so that it knows when no reply is due. No assertions live here:
 * diff.test.ts turns the differences it returns into tap failures.
 */
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { cmd } from '../harness';

/** Where the scripts and known-differences.txt live. */
export const DIFF_DIR = __dirname;

/** The scripts, in the order they run. */
export const SCRIPTS = [
  'strings.txt',
  'keys.txt',
  'expiry.txt',
  'errors.txt',
  'server.txt',
  'connection.txt',
  'bitmap.txt',
  'hyperloglog.txt',
  'sorted_set.txt',
  'sets.txt',
  'hash.txt',
  'lists.txt',
  'sort.txt',
  'geo.txt',
  'tracking.txt',
  'blocking.txt',
  'clients.txt',
  'transactions.txt',
  'pubsub.txt',
] as const;

/** Raw-bytes cases (inline commands, protocol errors); see protocol.txt. */
export const RAW_SCRIPT = 'protocol.txt';

/** How long a server may take to answer one command before the line counts as "no reply". */
const REPLY_TIMEOUT_MS = 1000;

/** How long to listen for stray bytes after a command that must not be answered. */
const QUIET_MS = 25;

/** The one-letter escapes of a double-quoted argument: \n \r \t \b \a (any other letter is itself). */
const ESCAPES: ReadonlyMap<number, number> = new Map(
  [
    ['n', 0x0a],
    ['r', 0x0d],
    ['t', 0x09],
    ['b', 0x08],
    ['a', 0x07],
  ].map(([c, b]) => [(c as string).charCodeAt(0), b as number]),
);

/**
 * Split one line into arguments as redis-cli does (sdssplitargs in sds.c): whitespace separates,
 * "double quotes" understand \xHH \n \r \t \b \a \\ \", 'single quotes' understand \'. A closing
 * quote must be followed by whitespace or the end. Returns undefined on unbalanced quotes.
 */
export function splitArgs(line: string): Buffer[] | undefined {
  const src = Buffer.from(line, 'utf8');
  const out: Buffer[] = [];
  const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0b || b === 0x0c;
  const isHex = (b: number | undefined): boolean =>
    b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
  let i = 0;
  for (;;) {
    while (isSpace(src[i])) i++;
    if (i >= src.length) return out;
    const cur: number[] = [];
    let inDq = false;
    let inSq = false;
    for (;;) {
      const c = src[i];
      if (inDq) {
        if (c === undefined) return undefined;
        if (c === 0x5c && src[i + 1] === 0x78 && isHex(src[i + 2]) && isHex(src[i + 3])) {
          cur.push(Number.parseInt(String.fromCharCode(src[i + 2] as number, src[i + 3] as number), 16));
          i += 4;
          continue;
        }
        if (c === 0x5c && src[i + 1] !== undefined) {
          const e = src[i + 1] as number;
          cur.push(ESCAPES.get(e) ?? e);
          i += 2;
          continue;
        }
        if (c === 0x22) {
          if (src[i + 1] !== undefined && !isSpace(src[i + 1])) return undefined;
          inDq = false;
          i++;
          break;
        }
        cur.push(c);
        i++;
      } else if (inSq) {
        if (c === undefined) return undefined;
        if (c === 0x5c && src[i + 1] === 0x27) {
          cur.push(0x27);
          i += 2;
          continue;
        }
        if (c === 0x27) {
          if (src[i + 1] !== undefined && !isSpace(src[i + 1])) return undefined;
          inSq = false;
          i++;
          break;
        }
        cur.push(c);
        i++;
      } else {
        if (c === undefined || isSpace(c)) break;
        if (c === 0x22) inDq = true;
        else if (c === 0x27) inSq = true;
        else cur.push(c);
        i++;
      }
    }
    out.push(Buffer.from(cur));
  }
}

/**
 * The end offset of the one reply frame that starts at `pos`, or -1 when `buf` does not hold
 * all of it yet. Attributes (`|`) are framed together with the reply they annotate.
 */
export function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const type = buf[pos];
  const eol = buf.indexOf('\r\n', pos + 1);
  if (eol < 0) return -1;
  const head = buf.toString('latin1', pos + 1, eol);
  const after = eol + 2;
  switch (type) {
    case 0x2b: // + simple string
    case 0x2d: // - error
    case 0x3a: // : integer
    case 0x2c: // , double
    case 0x28: // ( big number
    case 0x23: // # boolean
    case 0x5f: // _ null
      return after;
    case 0x24: // $ bulk string
    case 0x21: // ! bulk error
    case 0x3d: {
      // = verbatim string
      const n = Number(head);
      if (n < 0) return after;
      return buf.length >= after + n + 2 ? after + n + 2 : -1;
    }
    case 0x2a: // * array
    case 0x7e: // ~ set
    case 0x3e: // > push
    case 0x25: // % map
    case 0x7c: {
      // | attribute, followed by the reply it describes
      const n = Number(head);
      if (n < 0) return after;
      let items = type === 0x25 || type === 0x7c ? n * 2 : n;
      if (type === 0x7c) items++;
      let p = after;
      for (let k = 0; k < items; k++) {
        p = replyEnd(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      // Not RESP: frame up to the end of the line so that the difference is still reported.
      return after;
  }
}

/** Bytes as redis-cli would quote them: printable ASCII as is, the rest escaped. */
export function quoteBytes(b: Buffer | string): string {
  if (typeof b === 'string') return b;
  let s = '';
  for (const c of b) {
    if (c === 0x0d) s += '\\r';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}

/** A socket that hands out whole reply frames. */
export class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  /** Connect to 127.0.0.1:port. */
  static async open(port: number): Promise<ReplyReader> {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    await once(s, 'connect');
    return new ReplyReader(s);
  }

  private async waitData(deadline: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** The next whole reply frame; 'timeout' or 'closed' when none came. */
  async next(timeoutMs = REPLY_TIMEOUT_MS): Promise<Buffer | 'timeout' | 'closed'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = replyEnd(this.buf, 0);
      if (end > 0) {
        const frame = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        return frame;
      }
      if (this.closed) return this.buf.length > 0 ? this.takeAll() : 'closed';
      if (Date.now() >= deadline) return 'timeout';
      await this.waitData(deadline);
    }
  }

  /** Whatever arrives within `ms` (used where no reply is due). */
  async quiet(ms = QUIET_MS): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.waitData(deadline);
    return this.takeAll();
  }

  /** Wait for the peer to close the connection. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.waitData(deadline);
    return this.closed;
  }

  /** Wait until the peer closes or sends nothing for `idleMs` (at most `maxMs` in all). */
  async settle(idleMs: number, maxMs = 3000): Promise<void> {
    const end = Date.now() + maxMs;
    for (;;) {
      if (this.closed || Date.now() >= end) return;
      const before = this.buf.length;
      await this.waitData(Math.min(end, Date.now() + idleMs));
      if (!this.closed && this.buf.length === before) return;
    }
  }

  /** Take every buffered byte. */
  takeAll(): Buffer {
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  send(data: Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One line of a script: a command, or a runner directive. */
export interface ScriptLine {
  /** 1-based line number in the file. */
  readonly lineNo: number;
  /** The line as written (trimmed). */
  readonly text: string;
  /** The parsed arguments; empty for a directive. */
  readonly args: readonly Buffer[];
  /** `#!sleep N`: wait N ms before the next line (for TTL tests). */
  readonly sleepMs?: number;
  /** `#!conn NAME`: later lines go to connection NAME (opened on first use; `main` at first). */
  readonly conn?: string;
  /** `#!pushes [NAME]`: compare what arrived unasked on NAME (default: the current one). */
  readonly pushes?: string;
}

/** Parse a script file. Throws on lines redis-cli could not split. */
export function parseScript(text: string, name = 'script'): ScriptLine[] {
  const out: ScriptLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    const sleep = /^#!sleep\s+(\d+)$/.exec(line);
    if (sleep !== null) {
      out.push({ lineNo: i + 1, text: line, args: [], sleepMs: Number(sleep[1]) });
      continue;
    }
    const conn = /^#!conn\s+(\S+)$/.exec(line);
    if (conn !== null) {
      out.push({ lineNo: i + 1, text: line, args: [], conn: conn[1] as string });
      continue;
    }
    const pushes = /^#!pushes(?:\s+(\S+))?$/.exec(line);
    if (pushes !== null) {
      out.push({ lineNo: i + 1, text: line, args: [], pushes: pushes[1] ?? '' });
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const args = splitArgs(line);
    if (args === undefined || args.length === 0) throw new Error(`${name}:${i + 1}: cannot split ${JSON.stringify(line)}`);
    out.push({ lineNo: i + 1, text: line, args });
  }
  return out;
}

/** Read a script from DIFF_DIR. */
export function loadScript(name: string): ScriptLine[] {
  return parseScript(readFileSync(join(DIFF_DIR, name), 'utf8'), name);
}

/** One entry of known-differences.txt: `script: line` or `script@2: line` / `script@3: line`. */
export interface KnownDifference {
  readonly script: string;
  /** Only in this protocol; undefined for both. */
  readonly proto: 2 | 3 | undefined;
  readonly text: string;
  /** The entry as written. */
  readonly raw: string;
}

/** Parse known-differences.txt text (`#` comments and blank lines ignored). */
export function parseKnown(text: string): KnownDifference[] {
  const out: KnownDifference[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([\w.-]+?)(?:@([23]))?: (.*)$/.exec(line);
    if (m === null) throw new Error(`known-differences.txt: malformed entry ${JSON.stringify(line)}`);
    out.push({
      script: m[1] as string,
      proto: m[2] === undefined ? undefined : (Number(m[2]) as 2 | 3),
      text: (m[3] as string).trim(),
      raw: line,
    });
  }
  return out;
}

/** Read known-differences.txt (empty when the file is missing). */
export function loadKnown(): KnownDifference[] {
  try {
    return parseKnown(readFileSync(join(DIFF_DIR, 'known-differences.txt'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A line whose replies differ. */
export interface Difference {
  readonly script: string;
  readonly proto: 2 | 3;
  readonly lineNo: number;
  readonly text: string;
  /** Reply of the reference server (redis-server), escaped. */
  readonly expected: string;
  /** Reply of the server under test, escaped. */
  readonly actual: string;
}

/** Format a difference for a test message or the report. */
export function describe(d: Difference): string {
  return `${d.script}:${d.lineNo} (RESP${d.proto}) ${d.text}\n  redis:  ${d.expected}\n  shrike: ${d.actual}`;
}

/** Tracks CLIENT REPLY OFF/ON/SKIP (networking.c clientCommand + server.c call) to know when a reply is due. */
class ReplyModel {
  private off = false;
  private skipThis = false;
  private skipNext = false;

  /** Whether the command `args` will be answered; advances the state. */
  expectsReply(args: readonly Buffer[]): boolean {
    let expect = !(this.off || this.skipThis);
    const name = args[0]?.toString('latin1').toLowerCase();
    const sub = args[1]?.toString('latin1').toLowerCase();
    if (name === 'client' && sub === 'reply' && args.length === 3) {
      const mode = (args[2] as Buffer).toString('latin1').toLowerCase();
      if (mode === 'on') {
        this.off = false;
        this.skipNext = false;
        expect = true;
      } else if (mode === 'off') {
        this.off = true;
        expect = false;
      } else if (mode === 'skip') {
        if (!this.off) this.skipNext = true;
        expect = false;
      }
    }
    // RESET clears OFF and SKIP_NEXT (clearClientConnectionState) but not a pending SKIP.
    if (name === 'reset' && args.length === 1) {
      this.off = false;
      this.skipNext = false;
    }
    this.skipThis = this.skipNext;
    this.skipNext = false;
    return expect;
  }
}

/** A pair of connections, one to each server, in the same protocol. */
export class Pair {
  private constructor(
    readonly ref: ReplyReader,
    readonly sut: ReplyReader,
  ) {}

  static async open(refPort: number, sutPort: number, proto: 2 | 3): Promise<Pair> {
    const pair = new Pair(await ReplyReader.open(refPort), await ReplyReader.open(sutPort));
    if (proto === 3) {
      // HELLO's reply carries the server's version and the client id, which legitimately
      // differ; only its shape (a RESP3 map) is checked here.
      const hello = cmd('HELLO', '3');
      pair.ref.send(hello);
      pair.sut.send(hello);
      const [a, b] = await Promise.all([pair.ref.next(), pair.sut.next()]);
      if (!(a instanceof Buffer) || a[0] !== 0x25) throw new Error(`reference server: HELLO 3 gave ${quoteBytes(a)}`);
      if (!(b instanceof Buffer) || b[0] !== 0x25) throw new Error(`server under test: HELLO 3 gave ${quoteBytes(b)}`);
    }
    return pair;
  }

  close(): void {
    this.ref.close();
    this.sut.close();
  }
}

/** Commands of the SUBSCRIBE family: one confirmation frame per name, not one reply. */
const SUBSCRIBE_FAMILY = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

/**
 * How many frames answer `args`: one per name for the SUBSCRIBE family, 'all' for an
 * UNSUBSCRIBE of everything (one per name left, known only to the server), else 1.
 */
export function framesFor(args: readonly Buffer[]): number | 'all' {
  const name = args[0]?.toString('latin1').toLowerCase() ?? '';
  if (!SUBSCRIBE_FAMILY.has(name)) return 1;
  if (args.length > 1) return args.length - 1;
  return name.endsWith('unsubscribe') ? 'all' : 1;
}

/** The rest of a multi-frame answer after its first frame, appended to it. */
async function moreFrames(
  r: ReplyReader,
  first: Buffer | 'timeout' | 'closed',
  frames: number | 'all',
): Promise<Buffer | 'timeout' | 'closed'> {
  if (!(first instanceof Buffer) || frames === 1) return first;
  if (frames === 'all') return Buffer.concat([first, await r.quiet(50)]);
  const parts = [first];
  for (let i = 1; i < frames; i++) {
    const f = await r.next();
    if (!(f instanceof Buffer)) break;
    parts.push(f);
  }
  return Buffer.concat(parts);
}

function show(r: Buffer | 'timeout' | 'closed'): string {
  if (r === 'timeout') return '(no reply)';
  if (r === 'closed') return '(connection closed)';
  return r.length === 0 ? '(no reply)' : quoteBytes(r);
}

/** Options for runScript. */
export interface RunOptions {
  /** Lines to leave out (not sent to either server). */
  readonly skip?: (line: ScriptLine) => boolean;
  /** Stop at the first difference (used to build known-differences.txt one root cause at a time). */
  readonly stopAtFirst?: boolean;
}

/**
 * Run one script against the reference server (refPort) and the server under test (sutPort),
 * in RESP2 or after HELLO 3, and return every line whose replies differ.
 */
export async function runScript(
  script: string,
  lines: readonly ScriptLine[],
  refPort: number,
  sutPort: number,
  proto: 2 | 3,
  opts: RunOptions = {},
): Promise<Difference[]> {
  const diffs: Difference[] = [];
  // Connections by name (`#!conn`), each with its CLIENT REPLY model; `main` is the first.
  const pairs = new Map<string, { pair: Pair; model: ReplyModel }>();
  const open = async (name: string): Promise<{ pair: Pair; model: ReplyModel }> => {
    const p = { pair: await Pair.open(refPort, sutPort, proto), model: new ReplyModel() };
    pairs.set(name, p);
    return p;
  };
  let current = 'main';
  let cur = await open(current);
  let silent = 0;
  try {
    for (const line of lines) {
      if (line.sleepMs !== undefined) {
        await new Promise((r) => setTimeout(r, line.sleepMs));
        continue;
      }
      if (opts.skip?.(line)) continue;
      if (line.conn !== undefined) {
        current = line.conn;
        cur = pairs.get(current) ?? (await open(current));
        continue;
      }
      if (line.pushes !== undefined) {
        const p = pairs.get(line.pushes === '' ? current : line.pushes);
        if (p === undefined) throw new Error(`${script}:${line.lineNo}: no connection ${line.pushes}`);
        // Unasked frames (messages, notifications) come when they come: wait for both to settle.
        await Promise.all([p.pair.ref.settle(60), p.pair.sut.settle(60)]);
        const [ra, rb] = [p.pair.ref.takeAll(), p.pair.sut.takeAll()];
        if (!ra.equals(rb)) {
          diffs.push({ script, proto, lineNo: line.lineNo, text: line.text, expected: show(ra), actual: show(rb) });
          if (opts.stopAtFirst) return diffs;
        }
        continue;
      }
      const { pair, model } = cur;
      const req = cmd(...line.args);
      const expect = model.expectsReply(line.args);
      const frames = framesFor(line.args);
      pair.ref.send(req);
      pair.sut.send(req);
      let a: Buffer | 'timeout' | 'closed';
      let b: Buffer | 'timeout' | 'closed';
      if (expect) {
        [a, b] = await Promise.all([pair.ref.next(), pair.sut.next()]);
        [a, b] = await Promise.all([moreFrames(pair.ref, a, frames), moreFrames(pair.sut, b, frames)]);
      } else [a, b] = await Promise.all([pair.ref.quiet(), pair.sut.quiet()]);
      let same = a instanceof Buffer && b instanceof Buffer ? a.equals(b) : a === b;
      let expected = show(a);
      let actual = show(b);
      // The reference server not doing what the runner expects means the script or the
      // CLIENT REPLY model is wrong; report it rather than compare two silences.
      if (expect ? a === 'timeout' : a instanceof Buffer && a.length > 0) {
        same = false;
        expected += expect ? ' (the reference server did not reply)' : ' (the reference server replied; no reply was expected)';
      }
      const isQuit = line.args[0]?.toString('latin1').toLowerCase() === 'quit';
      if (isQuit) {
        const [ca, cb] = await Promise.all([pair.ref.closedWithin(1000), pair.sut.closedWithin(1000)]);
        if (ca !== cb) same = false;
        expected += ca ? ' (closed)' : ' (still open)';
        actual += cb ? ' (closed)' : ' (still open)';
      }
      let desynced = a === 'timeout' || b === 'timeout' || a === 'closed' || b === 'closed';
      if (!same && !desynced) {
        // A server that answered twice (or late) leaves bytes behind; show them with this line.
        const [ra, rb] = await Promise.all([pair.ref.quiet(), pair.sut.quiet()]);
        if (ra.length > 0 || rb.length > 0) {
          desynced = true;
          if (ra.length > 0) expected += ` then ${quoteBytes(ra)}`;
          if (rb.length > 0) actual += ` then ${quoteBytes(rb)}`;
        }
      }
      if (!same) {
        diffs.push({ script, proto, lineNo: line.lineNo, text: line.text, expected, actual });
        if (opts.stopAtFirst) return diffs;
      }
      // A server that stopped answering would cost a timeout per line: give up on the script.
      silent = expect && (b === 'timeout' || b === 'closed') ? silent + 1 : 0;
      if (silent >= 3) {
        diffs.push({ script, proto, lineNo: 0, text: '(the rest of the script: the server stopped answering)', expected: '', actual: '' });
        return diffs;
      }
      // After a timeout, a close or a stray reply the two streams no longer line up:
      // start again on fresh connections (the keyspace state is kept).
      if (isQuit || desynced || pair.ref.closed || pair.sut.closed) {
        pair.close();
        cur = await open(current);
      }
    }
    // Nothing may be left over: a server that answered twice shows up here.
    for (const [name, { pair }] of pairs) {
      const [ra, rb] = await Promise.all([pair.ref.quiet(), pair.sut.quiet()]);
      if (!ra.equals(rb)) {
        diffs.push({ script, proto, lineNo: 0, text: `(end of script: bytes left over on ${name})`, expected: show(ra), actual: show(rb) });
      }
    }
  } finally {
    for (const { pair } of pairs.values()) pair.close();
  }
  return diffs;
}

/** An error reply (`-` or `!`). */
export class ErrorReply {
  constructor(readonly message: string) {}
}

/** A decoded reply, loosely typed, for tests that check a reply's shape rather than its bytes. */
export type Value = null | boolean | number | bigint | string | Buffer | ErrorReply | Value[] | Map<string, Value>;

/** Decode the one reply at the start of `buf` (which must hold all of it). */
export function parseReply(buf: Buffer): Value {
  const [v, end] = parseAt(buf, 0);
  if (end !== buf.length) throw new Error(`trailing bytes after reply: ${quoteBytes(buf.subarray(end))}`);
  return v;
}

function parseAt(buf: Buffer, pos: number): [Value, number] {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) throw new Error(`incomplete reply: ${quoteBytes(buf)}`);
  const head = buf.toString('latin1', pos + 1, eol);
  const after = eol + 2;
  switch (String.fromCharCode(buf[pos] as number)) {
    case '+':
      return [head, after];
    case '-':
      return [new ErrorReply(head), after];
    case ':':
      return [Number(head), after];
    case '(':
      return [BigInt(head), after];
    case ',':
      return [head === 'inf' ? Infinity : head === '-inf' ? -Infinity : Number(head), after];
    case '#':
      return [head === 't', after];
    case '_':
      return [null, after];
    case '$':
    case '=':
    case '!': {
      const n = Number(head);
      if (n < 0) return [null, after];
      const body = buf.subarray(after, after + n);
      if (buf[pos] === 0x21) return [new ErrorReply(body.toString('latin1')), after + n + 2];
      // A verbatim string starts with its format: `txt:` or `mkd:`.
      return [Buffer.from(buf[pos] === 0x3d ? body.subarray(4) : body), after + n + 2];
    }
    case '*':
    case '~':
    case '>': {
      const n = Number(head);
      if (n < 0) return [null, after];
      const out: Value[] = [];
      let p = after;
      for (let i = 0; i < n; i++) {
        const [v, next] = parseAt(buf, p);
        out.push(v);
        p = next;
      }
      return [out, p];
    }
    case '%':
    case '|': {
      const n = Number(head);
      const out = new Map<string, Value>();
      let p = after;
      for (let i = 0; i < n; i++) {
        const [k, afterKey] = parseAt(buf, p);
        const [v, afterValue] = parseAt(buf, afterKey);
        out.set(k instanceof Buffer ? k.toString('latin1') : String(k), v);
        p = afterValue;
      }
      // An attribute annotates the reply that follows it; tests want that reply.
      return buf[pos] === 0x7c ? parseAt(buf, p) : [out, p];
    }
    default:
      throw new Error(`not a RESP reply: ${quoteBytes(buf.subarray(pos))}`);
  }
}

/** A connection that sends one command and decodes its reply. */
export class Client {
  private constructor(private readonly r: ReplyReader) {}

  static async open(port: number, proto: 2 | 3 = 2): Promise<Client> {
    const c = new Client(await ReplyReader.open(port));
    if (proto === 3) await c.call('HELLO', '3');
    return c;
  }

  /** Send a command; resolve to its raw reply bytes. */
  async raw(...args: (string | Buffer)[]): Promise<Buffer> {
    this.r.send(cmd(...args));
    const reply = await this.r.next(5000);
    if (!(reply instanceof Buffer)) throw new Error(`${args.join(' ')}: ${reply}`);
    return reply;
  }

  /** Send a command; resolve to its decoded reply. */
  async call(...args: (string | Buffer)[]): Promise<Value> {
    return parseReply(await this.raw(...args));
  }

  close(): void {
    this.r.close();
  }
}

/** What one server did with a raw case: every byte it sent, and whether it closed. */
interface RawOutcome {
  readonly bytes: Buffer;
  readonly closed: boolean;
}

async function rawOutcome(port: number, proto: 2 | 3, chunks: readonly Buffer[]): Promise<RawOutcome> {
  const r = await ReplyReader.open(port);
  try {
    if (proto === 3) {
      r.send(cmd('HELLO', '3'));
      const hello = await r.next();
      if (!(hello instanceof Buffer) || hello[0] !== 0x25) throw new Error(`HELLO 3 gave ${show(hello)}`);
    }
    for (let i = 0; i < chunks.length; i++) {
      // A pause between chunks makes each one arrive in a read of its own.
      if (i > 0) await new Promise((res) => setTimeout(res, 20));
      r.send(chunks[i] as Buffer);
    }
    await r.settle(150);
    return { bytes: r.takeAll(), closed: r.closed };
  } finally {
    r.close();
  }
}

/**
 * Run the raw cases of protocol.txt: each line is one or more quoted chunks of bytes, sent on
 * a fresh connection to each server; everything received and whether the server closed the
 * connection must match. Cases run concurrently (each has its own connections).
 */
export async function runRawScript(
  script: string,
  lines: readonly ScriptLine[],
  refPort: number,
  sutPort: number,
  proto: 2 | 3,
  opts: RunOptions = {},
): Promise<Difference[]> {
  const cases = lines.filter((l) => l.sleepMs === undefined && !opts.skip?.(l));
  const results = await Promise.all(
    cases.map(async (line) => {
      const [a, b] = await Promise.all([rawOutcome(refPort, proto, line.args), rawOutcome(sutPort, proto, line.args)]);
      if (a.bytes.equals(b.bytes) && a.closed === b.closed) return undefined;
      const fmt = (o: RawOutcome): string =>
        `${o.bytes.length === 0 ? '(nothing)' : quoteBytes(o.bytes)} ${o.closed ? '(closed)' : '(still open)'}`;
      return { script, proto, lineNo: line.lineNo, text: line.text, expected: fmt(a), actual: fmt(b) };
    }),
  );
  const diffs = results.filter((d): d is Difference => d !== undefined);
  return opts.stopAtFirst ? diffs.slice(0, 1) : diffs;
}

/** Every script, the command scripts then the raw one. */
export const ALL_SCRIPTS: readonly string[] = [...SCRIPTS, RAW_SCRIPT];

/** The protocols every script runs in: RESP2, and RESP3 after HELLO 3. */
export const PROTOS = [2, 3] as const;

/** Run a script of either kind. */
export function runAny(
  script: string,
  lines: readonly ScriptLine[],
  refPort: number,
  sutPort: number,
  proto: 2 | 3,
  opts: RunOptions = {},
): Promise<Difference[]> {
  return script === RAW_SCRIPT
    ? runRawScript(script, lines, refPort, sutPort, proto, opts)
    : runScript(script, lines, refPort, sutPort, proto, opts);
}

/** The lines of `script` that known-differences.txt leaves out in `proto`. */
export function knownSkips(script: string, proto: 2 | 3): Set<string> {
  return new Set(
    loadKnown()
      .filter((k) => k.script === script && (k.proto === undefined || k.proto === proto))
      .map((k) => k.text),
  );
}

/** Find the current differences one at a time and write them to known-differences.txt. */
export async function rewriteKnown(ports: () => [number, number], revive: () => Promise<void>): Promise<void> {
  const found = new Map<string, { script: string; text: string; replies: Map<number, string> }>();
  for (const script of ALL_SCRIPTS) {
    const lines = loadScript(script);
    for (const proto of PROTOS) {
      const skip = new Set<string>();
      for (;;) {
        const [refPort, sutPort] = ports();
        const opts = { skip: (l: ScriptLine) => skip.has(l.text), stopAtFirst: true };
        let diffs: Difference[];
        try {
          diffs = await runAny(script, lines, refPort, sutPort, proto, opts);
        } catch {
          // The server under test died between lines (a reconnect failed): revive it, retry once.
          await revive();
          const [ref2, sut2] = ports();
          diffs = await runAny(script, lines, ref2, sut2, proto, opts);
        }
        await revive();
        const d = diffs[0];
        if (d === undefined || d.lineNo === 0) break;
        skip.add(d.text);
        const key = `${script}\n${d.text}`;
        const entry = found.get(key) ?? { script, text: d.text, replies: new Map<number, string>() };
        entry.replies.set(proto, `#   redis:  ${d.expected}\n#   shrike: ${d.actual}`);
        found.set(key, entry);
      }
    }
  }
  const path = join(DIFF_DIR, 'known-differences.txt');
  let header: string[] = [];
  try {
    header = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('##'));
  } catch {
    // no file yet
  }
  const out = [...header];
  for (const e of found.values()) {
    const [r2, r3] = [e.replies.get(2), e.replies.get(3)];
    if (r2 !== undefined && r2 === r3) out.push('', r2);
    else {
      out.push('');
      if (r2 !== undefined) out.push('# RESP2', r2);
      if (r3 !== undefined) out.push('# RESP3', r3);
    }
    const tag = r2 !== undefined && r3 !== undefined ? '' : r2 !== undefined ? '@2' : '@3';
    out.push(`${e.script}${tag}: ${e.text}`);
  }
  writeFileSync(path, `${out.join('\n').trim()}\n`);
}
