/**
 * Shared by the tests (not built into dist): a seeded PRNG, random RESP values,
 * writing a value with ReplyWriter, the RESP2 form of a RESP3 value, equality,
 * and feeding bytes at chosen split points.
 */

import type { Decoder } from './decoder';
import { formatDouble, type ReplyWriter } from './encoder';
import { ProtocolError } from './errors';
import type { RespValue } from './types';

/** A seeded PRNG (mulberry32), so a failing case can be replayed from its seed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    // The index is always in range.
    return items[this.int(items.length)] as T;
  }

  /** n random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** A latin1 string of up to maxLen chars with no '\r' or '\n'. */
function line(rng: Rng, maxLen: number): string {
  let s = '';
  const len = rng.int(maxLen + 1);
  for (let i = 0; i < len; i++) {
    const c = rng.next() < 0.8 ? 32 + rng.int(95) : rng.int(256);
    s += String.fromCharCode(c === 13 || c === 10 ? 32 : c);
  }
  return s;
}

function randomDouble(rng: Rng): number {
  switch (rng.int(6)) {
    case 0:
      return rng.pick([0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1, -1, 0.1]);
    case 1:
      return rng.int(1_000_000) - 500_000;
    case 2:
      return (rng.next() - 0.5) * 10 ** (rng.int(40) - 20);
    case 3: {
      const bits = new DataView(new ArrayBuffer(8));
      bits.setUint32(0, rng.int(2 ** 32));
      bits.setUint32(4, rng.int(2 ** 32));
      return bits.getFloat64(0);
    }
    case 4:
      return rng.int(2 ** 30) / 2 ** rng.int(40);
    default:
      return rng.int(2 ** 30) * 2 ** rng.int(60);
  }
}

function randomInteger(rng: Rng): number | bigint {
  switch (rng.int(3)) {
    case 0:
      return rng.int(200) - 100;
    case 1:
      return Math.floor((rng.next() - 0.5) * 2 * Number.MAX_SAFE_INTEGER);
    default: {
      const big = (BigInt(rng.int(2 ** 31)) << 32n) | BigInt(rng.int(2 ** 32));
      const v = rng.next() < 0.5 ? -big - 1n : big;
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    }
  }
}

/**
 * A random value that ReplyWriter can write in RESP3 (no bulk errors: Redis never
 * sends them and ReplyWriter has no method for them). Nulls carry the kind of the
 * writer call that makes them: 'bulk' for null(), 'array' for nullArray().
 */
export function randomValue(rng: Rng, depth: number, attributes = true): RespValue {
  const aggregate = depth > 0 && rng.next() < 0.3;
  if (aggregate) {
    const n = rng.int(5);
    const items = (): RespValue[] => Array.from({ length: n }, () => randomValue(rng, depth - 1, attributes));
    const pairList = (): Array<[RespValue, RespValue]> =>
      Array.from({ length: n }, (): [RespValue, RespValue] => [
        randomValue(rng, depth - 1, attributes),
        randomValue(rng, depth - 1, attributes),
      ]);
    switch (rng.int(attributes ? 5 : 4)) {
      case 0:
        return { type: 'array', value: items() };
      case 1:
        return { type: 'map', value: pairList() };
      case 2:
        return { type: 'set', value: items() };
      case 3:
        return { type: 'push', value: items() };
      default:
        return { type: 'attribute', attributes: pairList(), value: randomValue(rng, depth - 1, attributes) };
    }
  }
  switch (rng.int(10)) {
    case 0:
      return { type: 'simple', value: line(rng, 20) };
    case 1:
      return { type: 'error', value: `ERR ${line(rng, 20)}` };
    case 2:
      return { type: 'integer', value: randomInteger(rng) };
    case 3:
      return { type: 'bulk', value: rng.bytes(rng.next() < 0.1 ? rng.int(5000) : rng.int(40)) };
    case 4:
      return { type: 'null', kind: rng.pick(['bulk', 'array'] as const) };
    case 5:
      return { type: 'boolean', value: rng.next() < 0.5 };
    case 6:
      return { type: 'double', value: randomDouble(rng) };
    case 7: {
      const digits = `${1 + rng.int(9)}${Array.from({ length: rng.int(60) }, () => rng.int(10)).join('')}`;
      return { type: 'bignum', value: BigInt(rng.next() < 0.5 ? `-${digits}` : digits) };
    }
    case 8:
      return { type: 'verbatim', format: line(rng, 3).padEnd(3, 'x'), value: rng.bytes(rng.int(30)) };
    default:
      return { type: 'bulk', value: Buffer.alloc(0) };
  }
}

/** Write v with the writer's matching calls (the writer's proto decides the form). */
export function writeValue(w: ReplyWriter, v: RespValue): void {
  switch (v.type) {
    case 'simple':
      w.simple(v.value);
      break;
    case 'error':
      w.error(v.value);
      break;
    case 'integer':
      w.integer(v.value);
      break;
    case 'bulk':
      w.bulk(v.value);
      break;
    case 'null':
      if (v.kind === 'array') w.nullArray();
      else w.null();
      break;
    case 'boolean':
      w.boolean(v.value);
      break;
    case 'double':
      w.double(v.value);
      break;
    case 'bignum':
      w.bigNumber(v.value.toString());
      break;
    case 'bulkError':
      throw new Error('ReplyWriter has no bulk error');
    case 'verbatim':
      w.verbatim(v.format, v.value);
      break;
    case 'array':
    case 'set':
    case 'push':
      if (v.type === 'array') w.arrayHeader(v.value.length);
      else if (v.type === 'set') w.setHeader(v.value.length);
      else w.pushHeader(v.value.length);
      for (const item of v.value) writeValue(w, item);
      break;
    case 'map':
      w.mapHeader(v.value.length);
      for (const [k, item] of v.value) {
        writeValue(w, k);
        writeValue(w, item);
      }
      break;
    case 'attribute':
      w.attributeHeader(v.attributes.length);
      for (const [k, item] of v.attributes) {
        writeValue(w, k);
        writeValue(w, item);
      }
      writeValue(w, v.value);
  }
}

/** What decoding v's RESP3 encoding gives: every null is `_`. */
export function asResp3(v: RespValue): RespValue {
  switch (v.type) {
    case 'null':
      return { type: 'null', kind: 'resp3' };
    case 'array':
    case 'set':
    case 'push':
      return { type: v.type, value: v.value.map(asResp3) };
    case 'map':
      return { type: 'map', value: v.value.map(([k, x]): [RespValue, RespValue] => [asResp3(k), asResp3(x)]) };
    case 'attribute':
      return {
        type: 'attribute',
        attributes: v.attributes.map(([k, x]): [RespValue, RespValue] => [asResp3(k), asResp3(x)]),
        value: asResp3(v.value),
      };
    default:
      return v;
  }
}

/** What decoding v's RESP2 encoding gives (v holds no attribute). */
export function asResp2(v: RespValue): RespValue {
  switch (v.type) {
    case 'double':
      return { type: 'bulk', value: Buffer.from(formatDouble(v.value), 'latin1') };
    case 'boolean':
      return { type: 'integer', value: v.value ? 1 : 0 };
    case 'bignum':
      return { type: 'bulk', value: Buffer.from(v.value.toString(), 'latin1') };
    case 'verbatim':
      return { type: 'bulk', value: v.value };
    case 'array':
    case 'set':
    case 'push':
      return { type: 'array', value: v.value.map(asResp2) };
    case 'map':
      return { type: 'array', value: v.value.flatMap(([k, x]) => [asResp2(k), asResp2(x)]) };
    case 'attribute':
      throw new Error('attributes have no RESP2 form');
    default:
      return v;
  }
}

/** Deep equality: Buffers by bytes, doubles with Object.is (NaN equals NaN, -0 is not 0). */
export function sameValue(a: RespValue, b: RespValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'bulk':
      return b.type === 'bulk' && a.value.equals(b.value);
    case 'bulkError':
      return b.type === 'bulkError' && a.value.equals(b.value);
    case 'verbatim':
      return b.type === 'verbatim' && a.format === b.format && a.value.equals(b.value);
    case 'double':
      return b.type === 'double' && Object.is(a.value, b.value);
    case 'null':
      return b.type === 'null' && a.kind === b.kind;
    case 'array':
    case 'set':
    case 'push':
      return b.type === a.type && sameList(a.value, b.value);
    case 'map':
      return b.type === 'map' && samePairs(a.value, b.value);
    case 'attribute':
      return b.type === 'attribute' && samePairs(a.attributes, b.attributes) && sameValue(a.value, b.value);
    default:
      return (b as { value: unknown }).value === a.value;
  }
}

function sameList(a: RespValue[], b: RespValue[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i];
      return y !== undefined && sameValue(x, y);
    })
  );
}

function samePairs(a: Array<[RespValue, RespValue]>, b: Array<[RespValue, RespValue]>): boolean {
  return (
    a.length === b.length &&
    a.every(([k, v], i) => {
      const pair = b[i];
      return pair !== undefined && sameValue(k, pair[0]) && sameValue(v, pair[1]);
    })
  );
}

/** Split points for bytes: none (whole), every byte, or random. */
export type Split = 'whole' | 'bytes' | Rng;

/** Cut data into chunks as the split says. */
export function chunks(data: Buffer, split: Split): Buffer[] {
  if (split === 'whole') return [data];
  const out: Buffer[] = [];
  if (split === 'bytes') {
    for (let i = 0; i < data.length; i++) out.push(data.subarray(i, i + 1));
    return out;
  }
  let pos = 0;
  while (pos < data.length) {
    const len = 1 + split.int(Math.min(64, data.length - pos));
    out.push(data.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/** Feed data to the decoder in the given chunks and collect every value. */
export function decodeAll(decoder: Decoder, parts: Buffer[]): RespValue[] {
  const out: RespValue[] = [];
  for (const part of parts) out.push(...decoder.feed(part));
  return out;
}

/** The reply text of a ProtocolError; anything else is rethrown (a bug the test must report). */
export function protocolReply(err: unknown): string {
  if (err instanceof ProtocolError) return err.reply;
  throw err;
}

/** A readable form of a value for test messages. */
export function show(v: RespValue): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
    if (x !== null && typeof x === 'object' && (x as { type?: unknown }).type === 'Buffer') {
      return Buffer.from((x as { data: number[] }).data).toString('latin1');
    }
    return x;
  });
}
