/**
 * ProtocolError and the exact texts of the protocol errors.
 *
 * The request parser's texts are Redis 7.0.15's (`processMultibulkBuffer` and
 * `processInlineBuffer` in networking.c): the server sends `-${reply}\r\n` and closes
 * the connection, as Redis does. The decoder's texts are ours: Redis never parses
 * replies, so there is nothing to match. Command errors do not live here.
 */

/** Bad RESP input; `reply` is the error reply's text without the leading '-'. */
export class ProtocolError extends Error {
  /** The reply text after '-', e.g. `ERR Protocol error: invalid bulk length`. */
  readonly reply: string;

  constructor(reply: string) {
    super(reply);
    this.name = 'ProtocolError';
    this.reply = reply;
  }
}

/** `*N` count that is not a number, or is above INT_MAX (Redis 7.0: `!ok || ll > INT_MAX`). */
export const INVALID_MULTIBULK_LENGTH = 'ERR Protocol error: invalid multibulk length';
/** `$N` length that is not a number, negative, or above proto-max-bulk-len. */
export const INVALID_BULK_LENGTH = 'ERR Protocol error: invalid bulk length';
/** No '\r' after a `*` and more than PROTO_INLINE_MAX_SIZE bytes buffered. */
export const TOO_BIG_MBULK_COUNT = 'ERR Protocol error: too big mbulk count string';
/** No '\r' after a `$` and more than PROTO_INLINE_MAX_SIZE bytes buffered. */
export const TOO_BIG_BULK_COUNT = 'ERR Protocol error: too big bulk count string';
/** No '\n' in an inline request and more than PROTO_INLINE_MAX_SIZE bytes buffered. */
export const TOO_BIG_INLINE = 'ERR Protocol error: too big inline request';
/** An inline request that sdssplitargs rejects (open quote, or a closing quote not followed by a space). */
export const UNBALANCED_QUOTES = 'ERR Protocol error: unbalanced quotes in request';
/** `*N` with N > 10 while the client still has to AUTH (Redis 7.0, CVE-2021-32675). */
export const UNAUTHENTICATED_MULTIBULK_LENGTH = 'ERR Protocol error: unauthenticated multibulk length';
/** `$N` with N > 16384 while the client still has to AUTH (Redis 7.0, CVE-2021-32675). */
export const UNAUTHENTICATED_BULK_LENGTH = 'ERR Protocol error: unauthenticated bulk length';

/**
 * A bulk header that does not start with '$'. Redis formats the byte with `%c`, and
 * addReplyErrorFormat then maps '\r' and '\n' to spaces; a NUL never gets here,
 * because Redis's strchr stops at it and the line looks incomplete.
 */
export function expectedDollar(byte: number): string {
  const shown = byte === 13 || byte === 10 ? ' ' : String.fromCharCode(byte);
  return `ERR Protocol error: expected '$', got '${shown}'`;
}

/** Decoder: a frame starts with a byte that is no RESP type. */
export const DECODER_UNKNOWN_TYPE = 'ERR Protocol error: unknown RESP type byte';
/** Decoder: a length or count that is not a number, is negative (other than -1), or is over a limit. */
export const DECODER_INVALID_LENGTH = 'ERR Protocol error: invalid length';
/** Decoder: a line or bulk payload not followed by "\r\n". */
export const DECODER_EXPECTED_CRLF = 'ERR Protocol error: expected CRLF';
/** Decoder: a line longer than the decoder's maxLineLen. */
export const DECODER_LINE_TOO_LONG = 'ERR Protocol error: line too long';
/** Decoder: `:` that is not a decimal integer. */
export const DECODER_INVALID_INTEGER = 'ERR Protocol error: invalid integer';
/** Decoder: `,` that is not a double, `inf`, `-inf` or `nan`. */
export const DECODER_INVALID_DOUBLE = 'ERR Protocol error: invalid double';
/** Decoder: `(` that is not a decimal integer. */
export const DECODER_INVALID_BIG_NUMBER = 'ERR Protocol error: invalid big number';
/** Decoder: `#` other than `#t` or `#f`. */
export const DECODER_INVALID_BOOLEAN = 'ERR Protocol error: invalid boolean';
/** Decoder: `_` followed by anything but "\r\n". */
export const DECODER_INVALID_NULL = 'ERR Protocol error: invalid null';
/** Decoder: `=` payload shorter than 4 bytes or without ':' after the format. */
export const DECODER_INVALID_VERBATIM = 'ERR Protocol error: invalid verbatim string';
