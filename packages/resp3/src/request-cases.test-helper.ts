/**
 * Shared by the request parser's tests (not built into dist): the table of request
 * cases and a simulated connection. request.redis.test.ts replays the same cases
 * against a real redis-server.
 */

import {
  INVALID_BULK_LENGTH,
  INVALID_MULTIBULK_LENGTH,
  TOO_BIG_BULK_COUNT,
  TOO_BIG_INLINE,
  TOO_BIG_MBULK_COUNT,
  UNAUTHENTICATED_BULK_LENGTH,
  UNAUTHENTICATED_MULTIBULK_LENGTH,
  UNBALANCED_QUOTES,
} from './errors';
import { Request, type RequestLimits, type RequestParser } from './request';
import { protocolReply, type Rng } from './values.test-helper';

/** What a connection sees: the requests (args as latin1), then an error, or bytes still waiting. */
export interface Outcome {
  requests: string[][];
  error?: string;
  pending: boolean;
}

export const args = (req: Request): string[] => {
  const out: string[] = [];
  for (let i = 0; i < req.argc; i++) out.push(req.arg(i).toString('latin1'));
  return out;
};

/**
 * Run bytes through a parser as a connection would: append each chunk, parse
 * whole requests, and keep the rest. With `compact`, the unparsed rest moves to a
 * new buffer behind a few bytes of padding after each chunk, so continuations see
 * their request at a new offset.
 */
export function run(parser: RequestParser, parts: Buffer[], compact?: Rng, tail?: Buffer): Outcome {
  const requests: string[][] = [];
  const req = new Request();
  let buf = Buffer.alloc(0);
  let pos = 0;
  for (const part of parts) {
    buf = Buffer.concat([buf, part]);
    // With a tail, the received bytes end before the buffer does (as in the ring's read
    // pool): the parser must give the same answers without reading past `end`.
    const full = tail === undefined ? buf : Buffer.concat([buf, tail]);
    for (;;) {
      let next: number;
      try {
        next = parser.parse(full, pos, req, buf.length);
      } catch (err) {
        return { requests, error: protocolReply(err), pending: false };
      }
      if (next < 0) break;
      // A parser that returns without moving forward would hang a connection.
      /* c8 ignore next */
      if (next <= pos || next > buf.length) throw new Error(`no progress: ${pos} -> ${next}`);
      if (req.argc > 0) requests.push(args(req));
      pos = next;
    }
    if (compact !== undefined) {
      const pad = compact.int(4);
      const moved = Buffer.alloc(pad + buf.length - pos, 0x55);
      buf.copy(moved, pad, pos);
      buf = moved;
      pos = pad;
    }
  }
  return { requests, pending: pos < buf.length };
}

export interface Case {
  name: string;
  input: string;
  requests?: string[][];
  error?: string;
  pending?: boolean;
  limits?: Partial<RequestLimits>;
  auth?: boolean;
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export const CASES: Case[] = [
  // Multibulk
  { name: 'one command', input: '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', requests: [['GET', 'k']] },
  {
    name: 'pipeline',
    input: '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n',
    requests: [['SET', 'k', 'hello'], ['PING']],
  },
  { name: 'empty argument', input: '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n', requests: [['ECHO', '']] },
  { name: 'binary argument', input: '*1\r\n$6\r\na\r\n\0\xffb\r\n', requests: [['a\r\n\0\xffb']] },
  { name: '*0 is skipped', input: '*0\r\n*1\r\n$4\r\nPING\r\n', requests: [['PING']] },
  { name: '*-1 and any count <= 0 are skipped', input: '*-1\r\n*-5\r\n*1\r\n$1\r\nx\r\n', requests: [['x']] },
  { name: 'INT64_MIN count is skipped', input: '*-9223372036854775808\r\n', requests: [] },
  { name: 'the bytes after the data are not checked', input: '*1\r\n$4\r\nPINGxy', requests: [['PING']] },
  { name: 'the byte after a header \\r is not checked', input: '*1\rX$4\rYPINGZW', requests: [['PING']] },
  { name: 'many arguments', input: `*12\r\n${'$2\r\nab\r\n'.repeat(12)}`, requests: [Array(12).fill('ab')] },
  { name: 'count at the INT_MAX limit waits', input: '*2147483647\r\n$1\r\nx\r\n', pending: true },
  { name: '15-digit bulk length waits', input: '*1\r\n$100000000000000\r\n', pending: true, limits: { maxBulkLen: 2 ** 53 } },
  {
    name: '16-digit bulk length waits (slow path)',
    input: '*1\r\n$1000000000000000\r\n',
    pending: true,
    limits: { maxBulkLen: 2 ** 53 },
  },
  { name: '16-digit count is checked on the slow path', input: '*1000000000000000\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'bulk at proto-max-bulk-len waits', input: '*1\r\n$536870912\r\n', pending: true },
  // Multibulk, incomplete
  { name: 'star alone', input: '*', pending: true },
  { name: 'count without CR', input: '*1', pending: true },
  { name: 'count CR without the next byte', input: '*1\r', pending: true },
  { name: 'no bulk header yet', input: '*1\r\n', pending: true },
  { name: 'bulk header without CR', input: '*1\r\n$3', pending: true },
  { name: 'bulk header CR without the next byte', input: '*1\r\n$3\r', pending: true },
  { name: 'partial data', input: '*1\r\n$3\r\nab', pending: true },
  { name: 'data without its two trailing bytes', input: '*1\r\n$3\r\nabc\r', pending: true },
  { name: 'second argument missing', input: '*2\r\n$3\r\nGET\r\n', pending: true },
  // Redis finds line ends with strchr, which stops at a NUL (7.0.15 quirk).
  { name: 'NUL in the count line waits', input: '*1\0\r\n$1\r\nx\r\n', pending: true },
  { name: 'NUL in a bulk header waits', input: '*1\r\n$1\0\r\nx\r\n', pending: true },
  // Multibulk errors
  { name: '*-0', input: '*-0\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count not a number', input: '*x\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'empty count', input: '*\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count with a plus sign', input: '*+1\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count with a leading zero', input: '*01\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count with a space', input: '*1 \r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count above INT_MAX', input: '*2147483648\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count of INT64_MAX', input: '*9223372036854775807\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count past INT64_MAX', input: '*9223372036854775808\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count past INT64_MIN', input: '*-9223372036854775809\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count of 20 digits', input: '*10000000000000000000\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'count of 21 bytes', input: '*-10000000000000000000\r\n', error: INVALID_MULTIBULK_LENGTH },
  { name: 'bulk header is not $', input: '*1\r\nX3\r\nabc\r\n', error: "ERR Protocol error: expected '$', got 'X'" },
  { name: 'bulk header is a bare CRLF', input: '*1\r\n\r\n', error: "ERR Protocol error: expected '$', got ' '" },
  { name: 'bulk header starts with LF', input: '*1\r\n\n3\r\n', error: "ERR Protocol error: expected '$', got ' '" },
  { name: 'bulk header starts with a high byte', input: '*1\r\n\xe93\r\n', error: "ERR Protocol error: expected '$', got '\xe9'" },
  { name: 'second header is inline text', input: '*2\r\n$3\r\nGET\r\nGET k\r\n', error: "ERR Protocol error: expected '$', got 'G'" },
  { name: 'negative bulk length', input: '*1\r\n$-1\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length with a leading zero', input: '*1\r\n$03\r\nabc\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length 00', input: '*1\r\n$00\r\n\r\n', error: INVALID_BULK_LENGTH },
  { name: 'empty bulk length', input: '*1\r\n$\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length with a plus', input: '*1\r\n$+3\r\nabc\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length with a space', input: '*1\r\n$3 \r\nabc\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length past proto-max-bulk-len', input: '*1\r\n$536870913\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length past INT64_MAX', input: '*1\r\n$9223372036854775808\r\n', error: INVALID_BULK_LENGTH },
  { name: 'bulk length with a high byte', input: '*1\r\n$\x80\r\n', error: INVALID_BULK_LENGTH },
  { name: 'error after good requests', input: '*1\r\n$4\r\nPING\r\n*x\r\n', requests: [['PING']], error: INVALID_MULTIBULK_LENGTH },
  // Limits
  { name: 'custom proto-max-bulk-len', input: '*1\r\n$11\r\n', error: INVALID_BULK_LENGTH, limits: { maxBulkLen: 10 } },
  { name: 'bulk at a custom limit', input: '*1\r\n$10\r\n0123456789\r\n', requests: [['0123456789']], limits: { maxBulkLen: 10 } },
  { name: 'custom multibulk limit', input: '*4\r\n', error: INVALID_MULTIBULK_LENGTH, limits: { maxMultibulkLen: 3 } },
  { name: 'count line over the inline limit', input: '*11111', error: TOO_BIG_MBULK_COUNT, limits: { maxInlineLen: 5 } },
  { name: 'count line at the inline limit', input: '*1111', pending: true, limits: { maxInlineLen: 5 } },
  { name: 'bulk line over the inline limit', input: '*1\r\n$11111', error: TOO_BIG_BULK_COUNT, limits: { maxInlineLen: 5 } },
  { name: 'bulk line at the inline limit', input: '*1\r\n$1111', pending: true, limits: { maxInlineLen: 5 } },
  { name: 'count NUL over the inline limit', input: '*1\0\r\n$1\r', error: TOO_BIG_MBULK_COUNT, limits: { maxInlineLen: 5 } },
  // Unauthenticated clients (Redis 7.0, CVE-2021-32675)
  { name: 'unauthenticated 11 arguments', input: '*11\r\n', error: UNAUTHENTICATED_MULTIBULK_LENGTH, auth: true },
  { name: 'unauthenticated 10 arguments', input: `*10\r\n${'$1\r\na\r\n'.repeat(10)}`, requests: [Array(10).fill('a')], auth: true },
  { name: 'unauthenticated bulk of 16385', input: '*1\r\n$16385\r\n', error: UNAUTHENTICATED_BULK_LENGTH, auth: true },
  { name: 'unauthenticated bulk of 16384', input: '*1\r\n$16384\r\n', pending: true, auth: true },
  { name: 'invalid count is checked before auth', input: '*2147483648\r\n', error: INVALID_MULTIBULK_LENGTH, auth: true },
  { name: 'invalid bulk is checked before auth', input: '*1\r\n$536870913\r\n', error: INVALID_BULK_LENGTH, auth: true },
  { name: 'unauthenticated slow-path count', input: '*0011\r\n', error: INVALID_MULTIBULK_LENGTH, auth: true },
  { name: 'unauthenticated inline has no limit', input: `${'a '.repeat(20)}\n`, requests: [Array(20).fill('a')], auth: true },

  // Inline
  { name: 'inline CRLF', input: 'PING\r\n', requests: [['PING']] },
  { name: 'inline bare LF', input: 'PING\n', requests: [['PING']] },
  { name: 'inline blanks', input: '  set\t a   b  \r\n', requests: [['set', 'a', 'b']] },
  { name: 'inline empty line is skipped', input: '\r\n\nPING\r\n', requests: [['PING']] },
  { name: 'inline blank line is skipped', input: ' \t \r\n', requests: [] },
  { name: 'inline only one CR is stripped', input: 'GET a\r\r\n', requests: [['GET', 'a']] },
  { name: 'inline CR inside the line splits', input: 'a\rb\n', requests: [['a', 'b']] },
  { name: 'inline \\v and \\f are blanks only between args', input: '\x0b\x0ca\x0bb\x0c c\n', requests: [['a\x0bb\x0c', 'c']] },
  { name: 'inline then multibulk', input: 'PING\r\n*1\r\n$4\r\nPING\r\n', requests: [['PING'], ['PING']] },
  { name: 'inline high bytes', input: 'ECHO \xe9\xff\n', requests: [['ECHO', '\xe9\xff']] },
  { name: 'inline double quotes', input: 'SET "a b" c\r\n', requests: [['SET', 'a b', 'c']] },
  { name: 'inline single quotes', input: "SET 'a b' c\r\n", requests: [['SET', 'a b', 'c']] },
  {
    name: 'inline escapes in double quotes',
    input: 'ECHO "\\n\\r\\t\\b\\a\\"\\\\\\x41\\x4a\\xZZ\\q"\n',
    requests: [['ECHO', '\n\r\t\b\x07"\\AJxZZq']],
  },
  { name: 'inline \\x needs two hex digits', input: 'ECHO "a\\x4"\n', requests: [['ECHO', 'ax4']] },
  { name: 'inline lowercase and uppercase hex', input: 'ECHO "\\xfF\\x0a"\n', requests: [['ECHO', '\xff\n']] },
  { name: 'inline escapes in single quotes', input: "ECHO 'a\\'b\\n'\n", requests: [['ECHO', "a'b\\n"]] },
  { name: 'inline empty quotes', input: 'ECHO "" \'\'\n', requests: [['ECHO', '', '']] },
  { name: 'inline quote opens mid-token', input: 'ECHO a"b c" d\'e f\'\n', requests: [['ECHO', 'ab c', 'de f']] },
  { name: 'inline closing quote then \\v', input: 'ECHO "a"\x0bb\n', requests: [['ECHO', 'a', 'b']] },
  { name: 'inline CR kept inside quotes', input: 'ECHO "a\rb"\r\n', requests: [['ECHO', 'a\rb']] },
  { name: 'inline quotes at the end of the line', input: 'ECHO "a"\r\n', requests: [['ECHO', 'a']] },
  { name: 'inline unquoted after quoted', input: 'A "b" c d\n', requests: [['A', 'b', 'c', 'd']] },
  { name: 'inline unterminated double quote', input: 'ECHO "abc\r\n', error: UNBALANCED_QUOTES },
  { name: 'inline unterminated single quote', input: "ECHO 'abc\n", error: UNBALANCED_QUOTES },
  { name: 'inline text after a closing quote', input: 'ECHO "abc"x\n', error: UNBALANCED_QUOTES },
  { name: "inline text after a closing '", input: "ECHO 'abc'x\n", error: UNBALANCED_QUOTES },
  { name: 'inline backslash at the end', input: 'ECHO "a\\\n', error: UNBALANCED_QUOTES },
  { name: 'inline quote closes, then a quote', input: 'ECHO a"b c"d e\n', error: UNBALANCED_QUOTES },
  { name: 'inline without a line end waits', input: 'PING', pending: true },
  { name: 'inline NUL waits', input: 'ECHO a\0b\n', pending: true },
  { name: 'inline starting with NUL waits', input: '\0PING\n', pending: true },
  { name: 'inline over the limit', input: 'aaaaaa', error: TOO_BIG_INLINE, limits: { maxInlineLen: 5 } },
  { name: 'inline at the limit waits', input: 'aaaaa', pending: true, limits: { maxInlineLen: 5 } },
  { name: 'inline NUL over the limit', input: 'a\0b\ncd', error: TOO_BIG_INLINE, limits: { maxInlineLen: 5 } },
];

/** Bytes that matter to the parser, to bias random input toward interesting cases. */
export const FUZZ_ALPHABET = b('*$\r\n\r\n0123456789-+ "\'\\xaA\t\0GETSET');

/**
 * One to four ECHO/PING/GET/SET requests, multibulk or inline, with up to three
 * bytes changed, and cut short 30% of the time.
 */
export function mutatedPipeline(rng: Rng): Buffer {
  const parts: string[] = [];
  const count = 1 + rng.int(4);
  for (let j = 0; j < count; j++) {
    const name = rng.pick(['ECHO', 'PING', 'GET', 'SET', 'echo']);
    const argv = [name, ...Array.from({ length: rng.int(3) }, () => 'ab"\' \\x41c'.slice(0, rng.int(10)))];
    if (rng.next() < 0.7) parts.push(`*${argv.length}\r\n${argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`);
    else parts.push(`${argv.join(' ')}${rng.next() < 0.5 ? '\r\n' : '\n'}`);
  }
  const data = b(parts.join(''));
  for (let m = rng.int(4); m > 0; m--) {
    const at = rng.int(data.length);
    const r = rng.next();
    if (r < 0.4) data[at] = FUZZ_ALPHABET.readUInt8(rng.int(FUZZ_ALPHABET.length));
    else if (r < 0.8) data[at] = rng.int(256);
    else data[at] = data.readUInt8(at) ^ (1 << rng.int(8));
  }
  return rng.next() < 0.3 ? data.subarray(0, rng.int(data.length + 1)) : data;
}
