/**
 * A streaming RESP2/RESP3 decoder for replies: Buffer chunks in, whole values out.
 *
 * Clients, the compat runner and the differential tests use it; the server parses
 * requests with RequestParser instead. It keeps a continuation: aggregates being
 * filled stay on an explicit stack (so nesting depth costs no JS stack), and only the
 * bytes of an unfinished scalar or header are kept between chunks. A chunk may end
 * at any byte. Bulk payloads are slices of the input, not copies.
 */

import {
  DECODER_EXPECTED_CRLF,
  DECODER_INVALID_BIG_NUMBER,
  DECODER_INVALID_BOOLEAN,
  DECODER_INVALID_DOUBLE,
  DECODER_INVALID_INTEGER,
  DECODER_INVALID_LENGTH,
  DECODER_INVALID_NULL,
  DECODER_INVALID_VERBATIM,
  DECODER_LINE_TOO_LONG,
  DECODER_UNKNOWN_TYPE,
  ProtocolError,
} from './errors';
import { RESP_TYPES, type RespValue } from './types';

/** Bounds on what one reply may claim, so a broken stream cannot make the decoder buffer without end. */
export interface DecoderLimits {
  /** Largest bulk string, bulk error or verbatim string (default 512 MiB, Redis's proto-max-bulk-len). */
  maxBulkLen: number;
  /** Largest element count of one aggregate (default 2^32 - 1). */
  maxAggregateLen: number;
  /** Longest simple line (`+ - : , ( # _` and headers) without its CRLF (default 64 MiB). */
  maxLineLen: number;
}

/** The decoder's default limits. */
export const DEFAULT_DECODER_LIMITS: Readonly<DecoderLimits> = Object.freeze({
  maxBulkLen: 512 * 1024 * 1024,
  maxAggregateLen: 2 ** 32 - 1,
  maxLineLen: 64 * 1024 * 1024,
});

const CR = 13;
const LF = 10;

type AggregateKind = 'array' | 'set' | 'push' | 'map' | 'attribute' | 'attached';

/** An aggregate being filled. Maps and attributes take 2n values: key, value, key, ... */
interface Frame {
  kind: AggregateKind;
  remaining: number;
  /** Elements of an array, set or push. */
  items: RespValue[];
  /** Pairs of a map or attribute; for 'attached', the attributes waiting for their value. */
  pairs: Array<[RespValue, RespValue]>;
  /** A map or attribute key waiting for its value. */
  key: RespValue | undefined;
}

const NULL_BULK: RespValue = Object.freeze({ type: 'null', kind: 'bulk' });
const NULL_ARRAY: RespValue = Object.freeze({ type: 'null', kind: 'array' });
const NULL_RESP3: RespValue = Object.freeze({ type: 'null', kind: 'resp3' });
const TRUE: RespValue = Object.freeze({ type: 'boolean', value: true });
const FALSE: RespValue = Object.freeze({ type: 'boolean', value: false });

/** 1 at each RESP type byte. */
const TYPE_BYTES: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const b of Object.values(RESP_TYPES)) t[b] = 1;
  return t;
})();

const INTEGER_RE = /^[+-]?[0-9]+$/;
const DOUBLE_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Decodes a stream of RESP2/RESP3 replies; feed it chunks as they arrive. */
export class Decoder {
  /** The limits in force. */
  readonly limits: Readonly<DecoderLimits>;

  private readonly stack: Frame[] = [];
  /** Chunks holding an unfinished scalar or header, oldest first. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes the pending chunks must reach before parsing is worth trying again. */
  private need = 0;
  private failure: ProtocolError | undefined;

  // Set by parseScalar: where the item ended, and the header of an aggregate.
  private next = 0;
  private aggregateKind: AggregateKind | undefined;
  private aggregateLength = 0;

  constructor(limits?: Partial<DecoderLimits>) {
    this.limits = Object.freeze({ ...DEFAULT_DECODER_LIMITS, ...limits });
  }

  /** True while part of a value has been read and the rest has not. */
  get midValue(): boolean {
    return this.pendingLength > 0 || this.stack.length > 0;
  }

  /**
   * Decode what `chunk` completes: zero or more whole values, in order. Throws
   * ProtocolError on bad input; the decoder then stays failed (every later feed
   * throws the same error) until reset().
   */
  feed(chunk: Buffer): RespValue[] {
    if (this.failure !== undefined) throw this.failure;
    const out: RespValue[] = [];
    if (chunk.length === 0) return out;
    let buf: Buffer;
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      if (this.pendingLength < this.need) return out;
      buf = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    } else {
      buf = chunk;
    }
    try {
      this.decode(buf, out);
    } catch (err) {
      if (err instanceof ProtocolError) this.failure = err;
      throw err;
    }
    return out;
  }

  /** Drop any partial value and a past failure, and start afresh. */
  reset(): void {
    this.stack.length = 0;
    this.pending = [];
    this.pendingLength = 0;
    this.need = 0;
    this.failure = undefined;
  }

  private decode(buf: Buffer, out: RespValue[]): void {
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      const value = this.parseScalar(buf, pos);
      const kind = this.aggregateKind;
      let done: RespValue;
      if (kind !== undefined) {
        pos = this.next;
        const n = this.aggregateLength;
        if (n > 0) {
          const count = kind === 'map' || kind === 'attribute' ? n * 2 : n;
          this.stack.push({ kind, remaining: count, items: [], pairs: [], key: undefined });
          continue;
        }
        if (kind === 'attribute') {
          // `|0`: no attributes, but the next value is still the one they describe.
          this.stack.push({ kind: 'attached', remaining: 1, items: [], pairs: [], key: undefined });
          continue;
        }
        done = emptyAggregate(kind);
      } else if (value === undefined) {
        // Incomplete: keep the bytes from this item's first byte on.
        const rest = buf.subarray(pos);
        this.pending = [rest];
        this.pendingLength = rest.length;
        this.need = this.next > 0 ? this.next - pos : rest.length + 1;
        return;
      } else {
        pos = this.next;
        done = value;
      }
      // Hand the finished value to its parent, closing every aggregate it completes.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (top === undefined) {
          out.push(done);
          break;
        }
        if (top.kind === 'attached') {
          this.stack.pop();
          done = { type: 'attribute', attributes: top.pairs, value: done };
          continue;
        }
        if (top.kind === 'map' || top.kind === 'attribute') {
          if (top.key === undefined) {
            top.key = done;
          } else {
            top.pairs.push([top.key, done]);
            top.key = undefined;
          }
        } else {
          top.items.push(done);
        }
        if (--top.remaining > 0) break;
        this.stack.pop();
        if (top.kind === 'attribute') {
          // The attributes are complete; the next value is the one they describe.
          this.stack.push({ kind: 'attached', remaining: 1, items: [], pairs: top.pairs, key: undefined });
          break;
        }
        done = finish(top);
      }
    }
  }

  /**
   * Parse the item at pos. Returns a scalar; or undefined with aggregateKind set for
   * an aggregate header; or undefined with aggregateKind unset when the item is not
   * all there (next = the offset it needs to reach, or 0 if unknown). Sets next.
   */
  private parseScalar(buf: Buffer, pos: number): RespValue | undefined {
    this.aggregateKind = undefined;
    const type = buf.readUInt8(pos);
    if (TYPE_BYTES[type] !== 1) throw new ProtocolError(DECODER_UNKNOWN_TYPE);
    const lineStart = pos + 1;
    const cr = buf.indexOf(CR, lineStart);
    if (cr < 0 || cr + 1 >= buf.length) {
      const lineLength = (cr < 0 ? buf.length : cr) - lineStart;
      if (lineLength > this.limits.maxLineLen) throw new ProtocolError(DECODER_LINE_TOO_LONG);
      this.next = 0;
      return undefined;
    }
    if (cr - lineStart > this.limits.maxLineLen) throw new ProtocolError(DECODER_LINE_TOO_LONG);
    if (buf[cr + 1] !== LF) throw new ProtocolError(DECODER_EXPECTED_CRLF);
    const lineEnd = cr + 2;
    switch (type) {
      case RESP_TYPES.SIMPLE_STRING:
        this.next = lineEnd;
        return { type: 'simple', value: buf.toString('latin1', lineStart, cr) };
      case RESP_TYPES.SIMPLE_ERROR:
        this.next = lineEnd;
        return { type: 'error', value: buf.toString('latin1', lineStart, cr) };
      case RESP_TYPES.INTEGER:
        this.next = lineEnd;
        return { type: 'integer', value: parseInteger(buf.toString('latin1', lineStart, cr)) };
      case RESP_TYPES.DOUBLE:
        this.next = lineEnd;
        return { type: 'double', value: parseDouble(buf.toString('latin1', lineStart, cr)) };
      case RESP_TYPES.BIG_NUMBER: {
        const text = buf.toString('latin1', lineStart, cr);
        if (!INTEGER_RE.test(text)) throw new ProtocolError(DECODER_INVALID_BIG_NUMBER);
        this.next = lineEnd;
        return { type: 'bignum', value: BigInt(text) };
      }
      case RESP_TYPES.BOOLEAN: {
        const c = buf[lineStart];
        if (cr - lineStart !== 1 || (c !== 116 && c !== 102)) throw new ProtocolError(DECODER_INVALID_BOOLEAN);
        this.next = lineEnd;
        return c === 116 ? TRUE : FALSE;
      }
      case RESP_TYPES.NULL:
        if (cr !== lineStart) throw new ProtocolError(DECODER_INVALID_NULL);
        this.next = lineEnd;
        return NULL_RESP3;
      case RESP_TYPES.BULK_STRING:
      case RESP_TYPES.BULK_ERROR:
      case RESP_TYPES.VERBATIM_STRING: {
        const len = this.parseLength(buf, lineStart, cr, type === RESP_TYPES.BULK_STRING);
        if (len < 0) {
          this.next = lineEnd;
          return NULL_BULK;
        }
        if (len > this.limits.maxBulkLen) throw new ProtocolError(DECODER_INVALID_LENGTH);
        const dataEnd = lineEnd + len;
        if (dataEnd + 2 > buf.length) {
          this.next = dataEnd + 2;
          return undefined;
        }
        if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) throw new ProtocolError(DECODER_EXPECTED_CRLF);
        this.next = dataEnd + 2;
        if (type === RESP_TYPES.BULK_STRING) return { type: 'bulk', value: buf.subarray(lineEnd, dataEnd) };
        if (type === RESP_TYPES.BULK_ERROR) return { type: 'bulkError', value: buf.subarray(lineEnd, dataEnd) };
        if (len < 4 || buf[lineEnd + 3] !== 58) throw new ProtocolError(DECODER_INVALID_VERBATIM);
        return {
          type: 'verbatim',
          format: buf.toString('latin1', lineEnd, lineEnd + 3),
          value: buf.subarray(lineEnd + 4, dataEnd),
        };
      }
      default: {
        // `* % ~ > |`: TYPE_BYTES let nothing else get this far.
        const n = this.parseLength(buf, lineStart, cr, type === RESP_TYPES.ARRAY);
        this.next = lineEnd;
        if (n < 0) return NULL_ARRAY;
        if (n > this.limits.maxAggregateLen) throw new ProtocolError(DECODER_INVALID_LENGTH);
        this.aggregateKind = aggregateKindOf(type);
        this.aggregateLength = n;
        return undefined;
      }
    }
  }

  /** A length or count: digits, or "-1" where a RESP2 null is allowed (returned as -1). */
  private parseLength(buf: Buffer, start: number, end: number, nullable: boolean): number {
    if (nullable && end - start === 2 && buf[start] === 45 && buf[start + 1] === 49) return -1;
    if (start === end || end - start > 15) throw new ProtocolError(DECODER_INVALID_LENGTH);
    let n = 0;
    for (let p = start; p < end; p++) {
      const c = buf[p];
      if (c === undefined || c < 48 || c > 57) throw new ProtocolError(DECODER_INVALID_LENGTH);
      n = n * 10 + (c - 48);
    }
    return n;
  }
}

function aggregateKindOf(type: number): AggregateKind {
  switch (type) {
    case RESP_TYPES.MAP:
      return 'map';
    case RESP_TYPES.SET:
      return 'set';
    case RESP_TYPES.PUSH:
      return 'push';
    case RESP_TYPES.ATTRIBUTE:
      return 'attribute';
    default:
      return 'array';
  }
}

/** The value of an aggregate with no elements (never called for an attribute). */
function emptyAggregate(kind: AggregateKind): RespValue {
  switch (kind) {
    case 'map':
      return { type: 'map', value: [] };
    case 'set':
      return { type: 'set', value: [] };
    case 'push':
      return { type: 'push', value: [] };
    default:
      return { type: 'array', value: [] };
  }
}

/** The value of a filled array, set, push or map frame. */
function finish(frame: Frame): RespValue {
  switch (frame.kind) {
    case 'map':
      return { type: 'map', value: frame.pairs };
    case 'set':
      return { type: 'set', value: frame.items };
    case 'push':
      return { type: 'push', value: frame.items };
    default:
      return { type: 'array', value: frame.items };
  }
}

/** `:` payload: a number while it is a safe integer, a bigint beyond. */
function parseInteger(text: string): number | bigint {
  if (!INTEGER_RE.test(text)) throw new ProtocolError(DECODER_INVALID_INTEGER);
  if (text.length <= 15) return Number(text);
  const big = BigInt(text);
  const small = Number(big);
  return Number.isSafeInteger(small) ? small : big;
}

/** `,` payload: a decimal or exponent form, or inf / -inf / nan in any case. */
function parseDouble(text: string): number {
  switch (text.toLowerCase()) {
    case 'inf':
    case '+inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    case 'nan':
    case '-nan':
    case '+nan':
      return Number.NaN;
  }
  if (!DOUBLE_RE.test(text)) throw new ProtocolError(DECODER_INVALID_DOUBLE);
  return Number(text);
}
