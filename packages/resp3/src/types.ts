/**
 * RESP type bytes and the value types the decoder produces.
 *
 * Every RESP type byte lives in RESP_TYPES, once. The server's request parser only
 * knows `*` and `$` (clients send arrays of bulk strings, or inline text); the
 * decoder and ReplyWriter cover the whole of RESP2 and RESP3. Nothing here parses
 * or writes bytes.
 */

/** The first byte of each RESP2/RESP3 frame. */
export const RESP_TYPES = {
  /** '+' */ SIMPLE_STRING: 43,
  /** '-' */ SIMPLE_ERROR: 45,
  /** ':' */ INTEGER: 58,
  /** '$' */ BULK_STRING: 36,
  /** '*' */ ARRAY: 42,
  /** '_' (RESP3) */ NULL: 95,
  /** '#' (RESP3) */ BOOLEAN: 35,
  /** ',' (RESP3) */ DOUBLE: 44,
  /** '(' (RESP3) */ BIG_NUMBER: 40,
  /** '!' (RESP3) */ BULK_ERROR: 33,
  /** '=' (RESP3) */ VERBATIM_STRING: 61,
  /** '%' (RESP3) */ MAP: 37,
  /** '~' (RESP3) */ SET: 126,
  /** '|' (RESP3) */ ATTRIBUTE: 124,
  /** '>' (RESP3) */ PUSH: 62,
} as const;

/** One of the RESP type bytes. */
export type RespTypeByte = (typeof RESP_TYPES)[keyof typeof RESP_TYPES];

/** Which wire form a null came from: `$-1` (RESP2 bulk), `*-1` (RESP2 array) or `_` (RESP3). */
export type NullKind = 'bulk' | 'array' | 'resp3';

/** `+text`: a simple string, decoded as latin1 so that every byte is one char. */
export interface RespSimpleString {
  readonly type: 'simple';
  readonly value: string;
}

/** `-text`: a simple error, decoded as latin1 (the text includes its prefix, e.g. `ERR ...`). */
export interface RespError {
  readonly type: 'error';
  readonly value: string;
}

/** `:n`: a number when it is a safe integer, a bigint beyond 2^53 - 1. */
export interface RespInteger {
  readonly type: 'integer';
  readonly value: number | bigint;
}

/** `$n`: a bulk string, a slice of the decoder's input (no copy). */
export interface RespBulk {
  readonly type: 'bulk';
  readonly value: Buffer;
}

/** `$-1`, `*-1` or `_`; `kind` keeps which. */
export interface RespNull {
  readonly type: 'null';
  readonly kind: NullKind;
}

/** `#t` / `#f`. */
export interface RespBoolean {
  readonly type: 'boolean';
  readonly value: boolean;
}

/** `,x`: a double, including Infinity, -Infinity and NaN (`inf`, `-inf`, `nan`). */
export interface RespDouble {
  readonly type: 'double';
  readonly value: number;
}

/** `(n`: a big number. */
export interface RespBigNumber {
  readonly type: 'bignum';
  readonly value: bigint;
}

/** `!n`: a bulk error, a slice of the decoder's input. */
export interface RespBulkError {
  readonly type: 'bulkError';
  readonly value: Buffer;
}

/** `=n`: a verbatim string; `format` is the three characters before ':' (e.g. `txt`). */
export interface RespVerbatim {
  readonly type: 'verbatim';
  readonly format: string;
  readonly value: Buffer;
}

/** `*n`: an array. */
export interface RespArray {
  readonly type: 'array';
  readonly value: RespValue[];
}

/** `%n`: a map, as its key/value pairs in wire order (keys may repeat and need not be strings). */
export interface RespMap {
  readonly type: 'map';
  readonly value: Array<[RespValue, RespValue]>;
}

/** `~n`: a set, in wire order. */
export interface RespSet {
  readonly type: 'set';
  readonly value: RespValue[];
}

/** `>n`: an out-of-band push (pub/sub message, invalidation). */
export interface RespPush {
  readonly type: 'push';
  readonly value: RespValue[];
}

/**
 * `|n`: attributes, attached to the value that follows them on the wire. The pair
 * counts as one element of an enclosing aggregate, as RESP3 specifies.
 */
export interface RespAttribute {
  readonly type: 'attribute';
  readonly attributes: Array<[RespValue, RespValue]>;
  readonly value: RespValue;
}

/** Any decoded RESP2/RESP3 value. */
export type RespValue =
  | RespSimpleString
  | RespError
  | RespInteger
  | RespBulk
  | RespNull
  | RespBoolean
  | RespDouble
  | RespBigNumber
  | RespBulkError
  | RespVerbatim
  | RespArray
  | RespMap
  | RespSet
  | RespPush
  | RespAttribute;
