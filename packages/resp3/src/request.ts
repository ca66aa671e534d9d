/**
 * The server's request parser: client bytes in, one command's arguments out as
 * offsets into the read buffer.
 *
 * It follows Redis 7.0.15 (`processInputBuffer`, `processMultibulkBuffer` and
 * `processInlineBuffer` in networking.c, `sdssplitargs` in sds.c) byte for byte:
 * what it accepts, when it waits for more bytes, and which error it gives. The quirks
 * that come with that are kept on purpose and marked where they happen. Replies and
 * client-side decoding live elsewhere (encoder.ts, decoder.ts).
 */

import {
  expectedDollar,
  INVALID_BULK_LENGTH,
  INVALID_MULTIBULK_LENGTH,
  ProtocolError,
  TOO_BIG_BULK_COUNT,
  TOO_BIG_INLINE,
  TOO_BIG_MBULK_COUNT,
  UNAUTHENTICATED_BULK_LENGTH,
  UNAUTHENTICATED_MULTIBULK_LENGTH,
  UNBALANCED_QUOTES,
} from './errors';
import { RESP_TYPES } from './types';

/** Limits on what one request may claim; the defaults are Redis 7.0's. */
export interface RequestLimits {
  /** proto-max-bulk-len: the largest `$N` accepted (default 512 MiB). */
  maxBulkLen: number;
  /** The largest `*N` accepted: Redis 7.0 allows up to INT_MAX (older versions stopped at 1024*1024). */
  maxMultibulkLen: number;
  /** PROTO_INLINE_MAX_SIZE: bytes buffered without a line end before a `too big` error (64 KiB). */
  maxInlineLen: number;
}

/** Redis 7.0.15's limits: proto-max-bulk-len 512 MiB, INT_MAX arguments, PROTO_INLINE_MAX_SIZE 64 KiB. */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({
  maxBulkLen: 512 * 1024 * 1024,
  maxMultibulkLen: 2147483647,
  maxInlineLen: 64 * 1024,
});

/** Redis 7.0 caps what a client that still has to AUTH may send (`authRequired(c)` in networking.c). */
const UNAUTH_MAX_MULTIBULK_LEN = 10;
const UNAUTH_MAX_BULK_LEN = 16384;

const EMPTY = Buffer.alloc(0);

const CR = 13;
const LF = 10;
const NUL = 0;
const DOLLAR = RESP_TYPES.BULK_STRING;
const STAR = RESP_TYPES.ARRAY;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const DQUOTE = 34;
const SQUOTE = 39;
const BACKSLASH = 92;

/** readCount/readBulkLen: the line is not all there yet (no int64 is this small). */
const INCOMPLETE = Number.NEGATIVE_INFINITY;

/** Bulk and count values with at most this many digits are parsed on the fast path (always < 2^53). */
const FAST_MAX_DIGITS = 15;

/** A parsed command: argument i is `src[starts[i], ends[i])`. One per connection, reused. */
/**
 * A Buffer made straight over its memory, without Buffer.subarray's argument checks (half
 * its cost, paid per argument of every TypeScript command): Buffer.prototype is on its
 * prototype chain, so it is a Buffer to every method and to Buffer.isBuffer.
 */
class ArgView extends Uint8Array {}
Object.setPrototypeOf(ArgView.prototype, Buffer.prototype);

export class Request {
  /** Number of arguments; 0 for `*0`, `*-1` (any count <= 0) and blank inline lines. */
  argc = 0;
  /** The bytes the offsets point into: the parsed buffer, or a new one for unescaped inline arguments. */
  src: Buffer = EMPTY;
  /** Start offset of each argument in `src`; only the first `argc` entries are meaningful. */
  readonly starts: number[] = [];
  /** End offset (exclusive) of each argument in `src`. */
  readonly ends: number[] = [];

  /**
   * Progress through an incomplete multibulk request, so that a request that arrives
   * over many reads is scanned once, not once per read: total count (0 = none),
   * arguments done, where the next `$` header starts, and where the request started.
   * Only RequestParser reads these.
   */
  pendingArgc = 0;
  /** See pendingArgc. */
  pendingDone = 0;
  /** See pendingArgc. */
  pendingNext = 0;
  /** See pendingArgc. */
  pendingPos = 0;
  /**
   * When the last parse stopped inside a bulk argument: the bytes, counted from the start
   * of the request, that it needs at least (through that argument's CRLF); else 0. A
   * connection sizes its read buffer by it for a big argument, as Redis does past 32 KB.
   */
  pendingNeed = 0;
  /**
   * With pendingNeed: where that bulk argument's data starts, counted from the start of
   * the request (its length is pendingNeed - pendingData - 2). A connection can then take
   * a big last argument out of its read buffer (the io_uring transport receives it apart).
   */
  pendingData = 0;

  /** Argument i as a view of `src` (allocates a Buffer object; for tests and slow paths). */
  arg(i: number): Buffer {
    const start = this.starts[i];
    const end = this.ends[i];
    if (i >= this.argc || start === undefined || end === undefined) {
      throw new RangeError(`argument ${i} out of range (argc ${this.argc})`);
    }
    return this.src.subarray(start, end);
  }

  /** Every argument as a view of `src`, for commands that run in TypeScript. */
  argv(): Buffer[] {
    const src = this.src;
    const memory = src.buffer as ArrayBuffer;
    const base = src.byteOffset;
    const out: Buffer[] = new Array(this.argc);
    for (let i = 0; i < this.argc; i++) {
      const start = this.starts[i] as number;
      out[i] = new ArgView(memory, base + start, (this.ends[i] as number) - start) as unknown as Buffer;
    }
    return out;
  }

  /** Forget a partly parsed request; call it before parsing bytes other than the ones that returned -1. */
  reset(): void {
    this.argc = 0;
    this.src = EMPTY;
    this.pendingArgc = 0;
    this.pendingNeed = 0;
  }
}

/** Parses client requests (RESP multibulk or inline) as Redis 7.0.15 does. */
export class RequestParser {
  /** The limits in force. */
  readonly limits: Readonly<RequestLimits>;
  /**
   * Set while the connection still has to AUTH: Redis 7.0 then rejects `*N` with
   * N > 10 and `$N` with N > 16384 (CVE-2021-32675).
   */
  authRequired = false;

  constructor(limits?: Partial<RequestLimits>) {
    this.limits = Object.freeze({ ...DEFAULT_REQUEST_LIMITS, ...limits });
  }

  /**
   * Parse one request from `buf` at `pos`, where the received bytes end at `end`
   * (`buf.length` unless given; what lies past it is never read, and the `too big`
   * checks count `end - pos`, as Redis counts its query buffer). Returns the offset just past the request, or -1 when more bytes
   * are needed; throws ProtocolError with Redis's text on bad input, after which the
   * connection must be closed. A request with `argc` 0 (`*0`, `*-1`, a blank line) is
   * returned like any other and the caller skips it, as Redis's processInputBuffer
   * does. After -1, call again with the same request bytes (more may follow; they
   * may have moved to another buffer or offset), or call `out.reset()` first. A call
   * that returns -1 may already have overwritten `out.starts`/`out.ends`, so read (or
   * copy) a request's offsets before parsing the next one.
   */
  parse(buf: Buffer, pos: number, out: Request, end: number = buf.length): number {
    if (pos >= end) return -1;
    if (buf[pos] !== STAR) return this.parseInline(buf, pos, out, end);

    let argc = -1;
    let p = pos + 1;
    // Fast path for the usual `*<digits>\r`: anything else goes through readCount,
    // which decides exactly as Redis does.
    let c = p < end ? buf[p] : undefined;
    if (c !== undefined && c > ZERO && c <= NINE) {
      let n = c - ZERO;
      const digitsEnd = Math.min(p + FAST_MAX_DIGITS, end);
      for (p++; p < digitsEnd; p++) {
        c = buf[p];
        if (c === undefined || c < ZERO || c > NINE) break;
        n = n * 10 + (c - ZERO);
      }
      // Redis needs one byte after '\r' and never checks that it is '\n'.
      if (p + 1 < end && buf[p] === CR) {
        argc = n;
        p += 2;
      }
    }
    if (argc < 0) {
      const n = this.readCount(buf, pos, end);
      if (n === INCOMPLETE) return -1;
      argc = n;
      p = this.lineEnd;
    }
    if (argc > this.limits.maxMultibulkLen) throw new ProtocolError(INVALID_MULTIBULK_LENGTH);
    if (argc > UNAUTH_MAX_MULTIBULK_LEN && this.authRequired) {
      throw new ProtocolError(UNAUTHENTICATED_MULTIBULK_LENGTH);
    }
    if (argc <= 0) {
      out.pendingArgc = 0;
      out.argc = 0;
      out.src = buf;
      return p;
    }

    const starts = out.starts;
    const ends = out.ends;
    let i = 0;
    // Resume where the last call on this Request stopped, if it stopped in this request.
    if (out.pendingArgc === argc && out.pendingNext - out.pendingPos + pos <= end) {
      const delta = pos - out.pendingPos;
      i = out.pendingDone;
      p = out.pendingNext + delta;
      if (delta !== 0) {
        for (let j = 0; j < i; j++) {
          const argStart = starts[j];
          const argEnd = ends[j];
          if (argStart !== undefined && argEnd !== undefined) {
            starts[j] = argStart + delta;
            ends[j] = argEnd + delta;
          }
        }
      }
    }
    const maxBulkLen = this.limits.maxBulkLen;
    for (; i < argc; i++) {
      let len = -1;
      let dataStart = 0;
      if (p + 1 < end && buf[p] === DOLLAR) {
        let q = p + 1;
        c = buf[q];
        if (c !== undefined && c >= ZERO && c <= NINE) {
          let n = c - ZERO;
          // A leading zero is only valid as "0" itself: stop after it.
          const digitsEnd = Math.min(q + (n === 0 ? 1 : FAST_MAX_DIGITS), end);
          for (q++; q < digitsEnd; q++) {
            c = buf[q];
            if (c === undefined || c < ZERO || c > NINE) break;
            n = n * 10 + (c - ZERO);
          }
          if (q + 1 < end && buf[q] === CR) {
            len = n;
            dataStart = q + 2;
          }
        }
      }
      if (len < 0) {
        len = this.readBulkLen(buf, p, end);
        if (len === INCOMPLETE) {
          this.suspend(out, argc, i, p, pos);
          return -1;
        }
        dataStart = this.lineEnd;
      }
      if (len > maxBulkLen) throw new ProtocolError(INVALID_BULK_LENGTH);
      if (len > UNAUTH_MAX_BULK_LEN && this.authRequired) {
        throw new ProtocolError(UNAUTHENTICATED_BULK_LENGTH);
      }
      // Redis skips the two bytes after the data without checking that they are "\r\n".
      if (end - dataStart < len + 2) {
        this.suspend(out, argc, i, p, pos);
        out.pendingNeed = dataStart + len + 2 - pos;
        out.pendingData = dataStart - pos;
        return -1;
      }
      starts[i] = dataStart;
      ends[i] = dataStart + len;
      p = dataStart + len + 2;
    }
    out.pendingArgc = 0;
    out.pendingNeed = 0;
    out.argc = argc;
    out.src = buf;
    return p;
  }

  /** Where the line read by readCount/readBulkLen ends: just past its '\r' and the byte after it. */
  private lineEnd = 0;

  /**
   * The `*N` line, exactly as Redis reads it: INCOMPLETE, or the count
   * (any value, checked by the caller) with lineEnd set. Throws the Redis error.
   */
  private readCount(buf: Buffer, pos: number, end: number): number {
    const cr = findCR(buf, pos, end);
    if (cr < 0) {
      if (end - pos > this.limits.maxInlineLen) throw new ProtocolError(TOO_BIG_MBULK_COUNT);
      return INCOMPLETE;
    }
    if (cr + 1 >= end) return INCOMPLETE;
    const n = string2ll(buf, pos + 1, cr);
    if (Number.isNaN(n)) throw new ProtocolError(INVALID_MULTIBULK_LENGTH);
    this.lineEnd = cr + 2;
    return n;
  }

  /** The `$N` line, exactly as Redis reads it: INCOMPLETE, or N >= 0 with lineEnd set. */
  private readBulkLen(buf: Buffer, p: number, end: number): number {
    const cr = findCR(buf, p, end);
    if (cr < 0) {
      if (end - p > this.limits.maxInlineLen) throw new ProtocolError(TOO_BIG_BULK_COUNT);
      return INCOMPLETE;
    }
    if (cr + 1 >= end) return INCOMPLETE;
    const c = buf.readUInt8(p);
    if (c !== DOLLAR) throw new ProtocolError(expectedDollar(c));
    const n = string2ll(buf, p + 1, cr);
    if (Number.isNaN(n) || n < 0) throw new ProtocolError(INVALID_BULK_LENGTH);
    this.lineEnd = cr + 2;
    return n;
  }

  private suspend(out: Request, argc: number, done: number, next: number, pos: number): void {
    out.pendingArgc = argc;
    out.pendingNeed = 0;
    out.pendingDone = done;
    out.pendingNext = next;
    out.pendingPos = pos;
  }

  /** An inline request: one line, split like sdssplitargs. */
  private parseInline(buf: Buffer, pos: number, out: Request, end: number): number {
    out.pendingArgc = 0;
    // Redis looks for '\n' with strchr, which stops at a NUL: until a '\n' comes
    // before any NUL, the line is incomplete (Redis 7.0.15 quirk, kept).
    let nl = pos;
    for (;;) {
      const c = nl < end ? buf[nl] : undefined;
      if (c === undefined || c === NUL) {
        if (end - pos > this.limits.maxInlineLen) throw new ProtocolError(TOO_BIG_INLINE);
        return -1;
      }
      if (c === LF) break;
      nl++;
    }
    const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;

    const starts = out.starts;
    const ends = out.ends;
    let argc = 0;
    let p = pos;
    for (;;) {
      while (p < lineEnd && isSpace(buf[p])) p++;
      if (p >= lineEnd) break;
      const start = p;
      for (; p < lineEnd; p++) {
        const c = buf[p];
        if (c === 32 || c === LF || c === CR || c === 9) break;
        if (c === DQUOTE || c === SQUOTE) {
          splitQuoted(buf, pos, lineEnd, out);
          return nl + 1;
        }
      }
      starts[argc] = start;
      ends[argc] = p;
      argc++;
    }
    out.argc = argc;
    out.src = buf;
    return nl + 1;
  }
}

/** Index of the first '\r' in buf[p, end), or -1 if the bytes end or a NUL comes first (C strchr). */
function findCR(buf: Buffer, p: number, end: number): number {
  for (; p < end; p++) {
    const c = buf[p];
    if (c === CR) return p;
    if (c === NUL) return -1;
  }
  return -1;
}

/** C isspace in the C locale: ' ', \t, \n, \v, \f, \r. */
function isSpace(c: number | undefined): boolean {
  return c === 32 || (c !== undefined && c >= 9 && c <= 13);
}

const LLONG_MAX_DIGITS = '9223372036854775807';
const LLONG_MIN_DIGITS = '9223372036854775808';

/**
 * Redis's string2ll over buf[s, e): the value (as the nearest double: no decision
 * made with it needs more), or NaN where string2ll fails: empty,
 * 21 bytes or more, a leading '+' or zero, "-0", any non-digit, or outside int64.
 */
export function string2ll(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len <= 0 || len >= 21) return Number.NaN;
  let p = s;
  let c = buf[p];
  if (len === 1 && c === ZERO) return 0;
  const negative = c === MINUS;
  if (negative) {
    p++;
    if (p === e) return Number.NaN;
    c = buf[p];
  }
  if (c === undefined || c <= ZERO || c > NINE) return Number.NaN;
  const digitsStart = p;
  let v = 0;
  for (; p < e; p++) {
    c = buf[p];
    if (c === undefined || c < ZERO || c > NINE) return Number.NaN;
    v = v * 10 + (c - ZERO);
  }
  const digits = e - digitsStart;
  if (digits > 19) return Number.NaN;
  if (digits === 19) {
    const limit = negative ? LLONG_MIN_DIGITS : LLONG_MAX_DIGITS;
    for (let i = 0; i < 19; i++) {
      const d = buf.readUInt8(digitsStart + i);
      const l = limit.charCodeAt(i);
      if (d !== l) {
        if (d > l) return Number.NaN;
        break;
      }
    }
  }
  // Past 15 digits v*10+d rounds at each step; let the number parser round once.
  if (digits > 15) v = Number(buf.toString('latin1', digitsStart, e));
  return negative ? -v : v;
}

/** Each byte's value as a hex digit, or -1. */
const HEX_VALUE: Buffer = (() => {
  const t = Buffer.alloc(256, 0xff);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

/**
 * sdssplitargs (Redis 7.0.15 sds.c) for a line holding quotes: the unescaped
 * arguments go back to back into a new Buffer, which becomes `out.src`. Inline
 * requests are rare, so this path may allocate.
 */
function splitQuoted(buf: Buffer, pos: number, lineEnd: number, out: Request): void {
  // Unescaping only shrinks: every output byte comes from at least one input byte.
  const dst = Buffer.allocUnsafe(lineEnd - pos);
  // sdssplitargs walks a C string: past the line it reads a NUL.
  const at = (i: number): number => (i < lineEnd ? buf.readUInt8(i) : NUL);
  const starts = out.starts;
  const ends = out.ends;
  let argc = 0;
  let w = 0;
  let p = pos;
  for (;;) {
    while (p < lineEnd && isSpace(buf[p])) p++;
    if (p >= lineEnd) break;
    const start = w;
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inDouble) {
        const hi = HEX_VALUE.readInt8(at(p + 2));
        const lo = HEX_VALUE.readInt8(at(p + 3));
        if (c === BACKSLASH && at(p + 1) === 120 && hi >= 0 && lo >= 0) {
          dst[w++] = hi * 16 + lo;
          p += 3;
        } else if (c === BACKSLASH && at(p + 1) !== NUL) {
          p++;
          dst[w++] = escapedByte(at(p));
        } else if (c === DQUOTE) {
          // A closing quote must be followed by a space or the end of the line.
          const next = at(p + 1);
          if (next !== NUL && !isSpace(next)) throw new ProtocolError(UNBALANCED_QUOTES);
          done = true;
        } else if (c === NUL) {
          throw new ProtocolError(UNBALANCED_QUOTES);
        } else {
          dst[w++] = c;
        }
      } else if (inSingle) {
        if (c === BACKSLASH && at(p + 1) === SQUOTE) {
          p++;
          dst[w++] = SQUOTE;
        } else if (c === SQUOTE) {
          const next = at(p + 1);
          if (next !== NUL && !isSpace(next)) throw new ProtocolError(UNBALANCED_QUOTES);
          done = true;
        } else if (c === NUL) {
          throw new ProtocolError(UNBALANCED_QUOTES);
        } else {
          dst[w++] = c;
        }
      } else if (c === 32 || c === LF || c === CR || c === 9 || c === NUL) {
        done = true;
      } else if (c === DQUOTE) {
        // A quote opens even in the middle of a token: a"b c" is the one argument `ab c`.
        inDouble = true;
      } else if (c === SQUOTE) {
        inSingle = true;
      } else {
        dst[w++] = c;
      }
      if (at(p) !== NUL) p++;
    }
    starts[argc] = start;
    ends[argc] = w;
    argc++;
  }
  out.argc = argc;
  out.src = dst;
}

/** The byte a backslash escape inside "..." stands for (sdssplitargs). */
function escapedByte(c: number): number {
  switch (c) {
    case 110: // n
      return LF;
    case 114: // r
      return CR;
    case 116: // t
      return 9;
    case 98: // b
      return 8;
    case 97: // a
      return 7;
    default:
      return c;
  }
}
