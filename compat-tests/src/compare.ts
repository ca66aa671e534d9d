// Comparing a server's reply with a case's expected result, the way the reference
// runner (resp_compatibility.py) does it with Python values: `!=` on str/int/None/list,
// sort_result's recursive sort, and float_result's tolerant comparison.
//
// A reply here is what redis-py returns in RESP2 with decode_responses=True and no
// response callbacks: strings for simple and bulk strings, numbers for integers, null
// for nil, arrays for arrays. An error reply nested in an array stays a ReplyError
// value, which equals nothing and cannot be sorted, so it fails the case too.

import type { Json } from './suite';

/** An error reply (`-ERR ...`), or a string that is not UTF-8; never equal to an expected value. */
export class ReplyError {
  constructor(
    readonly message: string,
    /** 'utf8' for a string reply redis-py could not decode. */
    readonly kind: 'error' | 'utf8' = 'error',
  ) {}
}

/** A decoded RESP2 reply; integers beyond 2^53 stay exact as bigint. */
export type Reply = string | number | bigint | null | ReplyError | Reply[];

/** Raised where Python would raise a TypeError (sorting mixed or unorderable values). */
export class CompareError extends Error {
  override readonly name = 'CompareError';
}

/** Python's `==` between an expected JSON value and a reply. */
export function pyEqual(expected: Json, actual: Reply): boolean {
  if (actual instanceof ReplyError) return false;
  if (expected === null || actual === null) return expected === actual;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((e, i) => pyEqual(e, actual[i] as Reply));
  }
  if (typeof expected === 'string') return actual === expected;
  if (typeof expected === 'number' || typeof expected === 'boolean') {
    // Python: True == 1 and 1.0 == 1.
    const e = Number(expected);
    if (typeof actual === 'number') return actual === e;
    if (typeof actual === 'bigint') return Number.isInteger(e) && BigInt(e) === actual;
    return false;
  }
  return false; // a JSON object never equals a RESP2 reply
}

/** Python's `<` on str: by code point, not by UTF-16 unit as JS compares. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Anything sort_result may sort: expected values, replies, and lists of either. */
export type Sortable = Json | Reply | readonly Sortable[];

function kind(v: Sortable): 'number' | 'string' | 'other' {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function typeName(v: Sortable): string {
  if (v === null) return 'NoneType';
  if (v instanceof ReplyError) return 'ResponseError';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'object') return 'dict';
  return 'int';
}

/** Python's sorted() on a flat list: numbers or strings, never mixed. */
function pySorted<T extends Sortable>(list: readonly T[]): T[] {
  const first = list[0];
  // Python compares nothing when there is one element, so even [None] sorts.
  if (first === undefined || list.length === 1) return list.slice();
  const k = kind(first);
  for (const v of list) {
    if (kind(v) !== k || k === 'other') {
      throw new CompareError(`'<' not supported between instances of '${typeName(v)}' and '${typeName(first)}'`);
    }
  }
  const copy = list.slice();
  if (k === 'string') return copy.sort((a, b) => compareCodePoints(a as string, b as string));
  return copy.sort((a, b) => {
    const x = a as number | bigint | boolean;
    const y = b as number | bigint | boolean;
    const nx = typeof x === 'bigint' ? x : Number(x);
    const ny = typeof y === 'bigint' ? y : Number(y);
    return nx < ny ? -1 : nx > ny ? 1 : 0;
  });
}

/**
 * sort_nested_list: when any element is a list, sort each nested list (recursively) and
 * keep the outer order; otherwise sort the list itself. Like Python's len() and
 * sorted(), it takes a string as its characters and refuses null and numbers.
 */
export function sortNested<T extends Sortable>(value: T): Sortable {
  if (typeof value === 'string') return pySorted(Array.from(value));
  if (!Array.isArray(value)) throw new CompareError(`object of type '${typeName(value)}' has no len()`);
  const list = value as readonly Sortable[];
  if (list.some((v) => Array.isArray(v))) return list.map((v) => (Array.isArray(v) ? sortNested(v) : v));
  return pySorted(list);
}

// Python's float(): optional sign, digits with single underscores between them, a point,
// an exponent, or inf/infinity/nan, with surrounding whitespace.
const PY_FLOAT = /^\s*[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf|infinity|nan)\s*$/i;

function pyFloat(v: Sortable): number | undefined {
  if (typeof v !== 'string' || !PY_FLOAT.test(v)) return undefined;
  const s = v.trim().replace(/_/g, '').toLowerCase();
  if (s.endsWith('inf') || s.endsWith('infinity')) return s.startsWith('-') ? -Infinity : Infinity;
  if (s.endsWith('nan')) return Number.NaN;
  return Number(s);
}

/**
 * compare_nested_lists_with_float_tolerance: same shape, and strings that both parse as
 * floats may differ by less than the tolerance.
 */
export function floatTolerantEqual(expected: Json, actual: Reply, tolerance = 0.01): boolean {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((e, i) => floatTolerantEqual(e, actual[i] as Reply, tolerance));
  }
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return false;
    const a = pyFloat(expected);
    const b = pyFloat(actual);
    if (a === undefined || b === undefined) return expected === actual;
    return Math.abs(a - b) < tolerance;
  }
  return pyEqual(expected, actual);
}

/** A reply as JSON text for reports; errors as {"error": "..."}, bigints as numbers. */
export function showReply(v: Reply | Json): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof ReplyError) return x.kind === 'error' ? { error: x.message } : { undecodable: x.message };
    if (typeof x === 'bigint') return Number(x);
    return x;
  });
}
