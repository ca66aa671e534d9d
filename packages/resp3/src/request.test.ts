import t from 'tap';
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
import { DEFAULT_REQUEST_LIMITS, Request, RequestParser, string2ll } from './request';
import { args, b, CASES, FUZZ_ALPHABET, mutatedPipeline, run } from './request-cases.test-helper';
import { chunks, Rng, type Split } from './values.test-helper';

const SPLITS: Array<[string, () => Split]> = [
  ['whole', () => 'whole'],
  ['byte by byte', () => 'bytes'],
  ['random splits', () => new Rng(7)],
];

for (const c of CASES) {
  for (const [splitName, split] of SPLITS) {
    t.test(`${c.name} (${splitName})`, async (t) => {
      const parser = new RequestParser(c.limits);
      parser.authRequired = c.auth === true;
      const got = run(parser, chunks(b(c.input), split()));
      t.same(got.requests, c.requests ?? [], 'requests');
      t.equal(got.error, c.error, 'error');
      if (c.error === undefined) t.equal(got.pending, c.pending === true, 'pending');
    });
  }
}

// Bytes after `end` that would complete, lengthen or break a request if they were read.
const TAILS: Array<[string, Buffer]> = [
  ['digits and CRLF', Buffer.from('1234\r\n$3\r\nabc\r\n')],
  ['a request', Buffer.from('\r\n*1\r\n$4\r\nPING\r\n')],
  ['junk', Buffer.from('\n\x00$-*"x')],
];

for (const c of CASES) {
  for (const [tailName, tail] of TAILS) {
    t.test(`${c.name} (received bytes end before the buffer: ${tailName})`, async (t) => {
      const parser = new RequestParser(c.limits);
      parser.authRequired = c.auth === true;
      const got = run(parser, chunks(b(c.input), new Rng(11)), undefined, tail);
      t.same(got.requests, c.requests ?? [], 'requests');
      t.equal(got.error, c.error, 'error');
      if (c.error === undefined) t.equal(got.pending, c.pending === true, 'pending');
    });
  }
}

t.test('the too-big checks count the received bytes, not the buffer past them', async (t) => {
  const parser = new RequestParser();
  const big = Buffer.alloc(200000, 0x41);
  Buffer.from('*1\r\n$').copy(big, 0);
  t.equal(parser.parse(big, 0, new Request(), 2), -1, 'a count line still arriving');
  t.equal(parser.parse(big, 0, new Request(), 10), -1, 'its bulk length still arriving');
  t.equal(parser.parse(big, 0, new Request(), 100), -1, 'an inline-size prefix, no error');
  t.throws(() => parser.parse(big, 0, new Request(), 100000), new ProtocolError(TOO_BIG_BULK_COUNT));
  big.write('PING', 0);
  t.equal(parser.parse(big, 0, new Request(), 1000), -1, 'an inline line not ended before end');
  t.throws(() => parser.parse(big, 0, new Request(), 70000), new ProtocolError(TOO_BIG_INLINE));
});

t.test('the default limits are Redis 7.0.15 values', async (t) => {
  t.same(DEFAULT_REQUEST_LIMITS, { maxBulkLen: 536870912, maxMultibulkLen: 2147483647, maxInlineLen: 65536 });
  t.same(new RequestParser().limits, DEFAULT_REQUEST_LIMITS);
  t.same(new RequestParser({ maxInlineLen: 10 }).limits, { ...DEFAULT_REQUEST_LIMITS, maxInlineLen: 10 });
});

t.test('the 64 KiB limits, at full size', async (t) => {
  const parser = new RequestParser();
  const digits = '1'.repeat(65536);
  t.equal(run(parser, [b(`*${digits.slice(1)}`)]).pending, true, 'count line of 65536 bytes waits');
  t.equal(run(parser, [b(`*${digits}`)]).error, TOO_BIG_MBULK_COUNT);
  t.equal(run(parser, [b(`*1\r\n$${digits}`)]).error, TOO_BIG_BULK_COUNT);
  t.equal(run(parser, [b(`a${digits}`)]).error, TOO_BIG_INLINE);
  t.equal(run(parser, [b(digits)]).pending, true, 'inline of 65536 bytes waits');
  const long = 'x'.repeat(70000);
  t.same(run(parser, [b(`ECHO ${long}\n`)]).requests, [['ECHO', long]], 'a long line that is all there is taken');
});

t.test('the limit counts the bytes buffered, not the line', async (t) => {
  // As Redis's sdslen(querybuf) - qb_pos: the rest of the buffer, not the request.
  const parser = new RequestParser({ maxInlineLen: 8 });
  t.equal(run(parser, [b('*1\r\n$4\r\nPING\r\n*1')]).pending, true);
  t.equal(run(parser, [b('*1\r\n$4\r\nPING\r\n*12345678')]).error, TOO_BIG_MBULK_COUNT);
});

t.test('zero-copy arguments', async (t) => {
  const parser = new RequestParser();
  const req = new Request();
  const buf = b('xx*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n');
  t.equal(parser.parse(buf, 2, req), buf.length);
  t.equal(req.src, buf, 'multibulk arguments point into the read buffer');
  t.same(
    [req.starts.slice(0, 2), req.ends.slice(0, 2)],
    [
      [10, 19],
      [13, 22],
    ],
  );
  const inline = b('GET key\r\n');
  t.equal(parser.parse(inline, 0, req), inline.length);
  t.equal(req.src, inline, 'inline arguments without quotes point into the read buffer');
  const quoted = b('GET "key"\r\n');
  t.equal(parser.parse(quoted, 0, req), quoted.length);
  t.not(req.src, quoted, 'unescaped arguments are copied');
  t.same(args(req), ['GET', 'key']);
});

t.test('argc 0 requests', async (t) => {
  const parser = new RequestParser();
  const req = new Request();
  for (const s of ['*0\r\n', '*-1\r\n', '\r\n', '\n', '   \n']) {
    const buf = b(s);
    t.equal(parser.parse(buf, 0, req), buf.length, JSON.stringify(s));
    t.equal(req.argc, 0);
  }
});

t.test('nothing to parse', async (t) => {
  const parser = new RequestParser();
  const req = new Request();
  t.equal(parser.parse(Buffer.alloc(0), 0, req), -1);
  t.equal(parser.parse(b('PING\r\n'), 6, req), -1);
});

t.test('Request.arg and reset', async (t) => {
  const req = new Request();
  t.throws(() => req.arg(0), RangeError);
  const parser = new RequestParser();
  parser.parse(b('*1\r\n$1\r\na\r\n'), 0, req);
  t.equal(req.arg(0).toString(), 'a');
  t.throws(() => req.arg(1), RangeError);
  req.reset();
  t.equal(req.argc, 0);
  t.equal(req.src.length, 0);
  t.throws(() => req.arg(0), RangeError);
});

t.test('a large request arriving slowly is scanned once', async (t) => {
  const request = (n: number): Buffer => {
    const parts: string[] = [`*${n}\r\n`];
    for (let i = 0; i < n; i++) parts.push(`$${String(i).length}\r\n${i}\r\n`);
    return b(parts.join(''));
  };
  const n = 50000;
  const data = request(n);
  const parser = new RequestParser();
  const req = new Request();
  // Show the parser ever longer prefixes, 16 bytes more each time, as slow reads would.
  let calls = 0;
  let next = -1;
  const start = process.hrtime.bigint();
  for (let k = 16; next < 0; k = Math.min(k + 16, data.length)) {
    next = parser.parse(data.subarray(0, k), 0, req);
    calls++;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.equal(next, data.length);
  t.equal(req.argc, n);
  t.equal(req.arg(n - 1).toString(), String(n - 1));
  // Rescanning from the start on each of ~40000 calls would parse ~10^9 headers.
  t.ok(ms < 1500, `${calls} calls took ${ms.toFixed(0)} ms`);

  const small = request(3000);
  const want = Array.from({ length: 3000 }, (_, i) => String(i));
  t.same(run(new RequestParser(), chunks(small, new Rng(11)), new Rng(3)).requests, [want], 'moved between reads');
});

t.test('a continuation is dropped when the request at pos changes', async (t) => {
  const parser = new RequestParser();
  const req = new Request();
  t.equal(parser.parse(b('*2\r\n$3\r\nGET\r\n'), 0, req), -1);
  t.equal(req.pendingArgc, 2);
  // A different count: parsed from scratch.
  const other = b('*1\r\n$4\r\nPING\r\n');
  t.equal(parser.parse(other, 0, req), other.length);
  t.same(args(req), ['PING']);
  // Same count after reset(): parsed from scratch too.
  t.equal(parser.parse(b('*2\r\n$3\r\nGET\r\n'), 0, req), -1);
  req.reset();
  const same = b('*2\r\n$1\r\na\r\n$1\r\nb\r\n');
  t.equal(parser.parse(same, 0, req), same.length);
  t.same(args(req), ['a', 'b']);
  // A continuation past the end of a shorter buffer is not trusted.
  t.equal(parser.parse(b('*2\r\n$3\r\nGET\r\n$1\r\n'), 0, req), -1);
  t.equal(parser.parse(b('*2\r\n$1\r\na\r\n'), 0, req), -1);
  t.equal(req.pendingNext, 11);
});

t.test('string2ll matches Redis util.c', async (t) => {
  const valid = ['0', '1', '-1', '123', '1000000000000000000', '9223372036854775807', '9223372036854775806', '-9223372036854775808'];
  const invalid = ['', '-', '-0', '00', '01', '+1', ' 1', '1 ', '1a', '9223372036854775808', '9323372036854775807'];
  invalid.push('-9223372036854775809', '10000000000000000000', '-10000000000000000000');
  for (const s of [...valid, ...invalid]) {
    const buf = b(`x${s}y`);
    t.same(string2ll(buf, 1, 1 + s.length), valid.includes(s) ? Number(s) : Number.NaN, JSON.stringify(s));
  }
});

t.test('ProtocolError texts', async (t) => {
  t.equal(INVALID_MULTIBULK_LENGTH, 'ERR Protocol error: invalid multibulk length');
  t.equal(INVALID_BULK_LENGTH, 'ERR Protocol error: invalid bulk length');
  t.equal(TOO_BIG_MBULK_COUNT, 'ERR Protocol error: too big mbulk count string');
  t.equal(TOO_BIG_BULK_COUNT, 'ERR Protocol error: too big bulk count string');
  t.equal(TOO_BIG_INLINE, 'ERR Protocol error: too big inline request');
  t.equal(UNBALANCED_QUOTES, 'ERR Protocol error: unbalanced quotes in request');
  t.equal(UNAUTHENTICATED_MULTIBULK_LENGTH, 'ERR Protocol error: unauthenticated multibulk length');
  t.equal(UNAUTHENTICATED_BULK_LENGTH, 'ERR Protocol error: unauthenticated bulk length');
  t.equal(expectedDollar(0x58), "ERR Protocol error: expected '$', got 'X'");
  t.equal(expectedDollar(13), "ERR Protocol error: expected '$', got ' '");
  t.equal(expectedDollar(10), "ERR Protocol error: expected '$', got ' '");
  const err = new ProtocolError(INVALID_BULK_LENGTH);
  t.ok(err instanceof Error);
  t.equal(err.name, 'ProtocolError');
  t.equal(err.message, INVALID_BULK_LENGTH);
  t.equal(err.reply, INVALID_BULK_LENGTH);
});

/**
 * Whole input vs random split points (in place and moved): the same outcome. Any
 * exception other than ProtocolError escapes run() and fails the test.
 */
function splitMismatch(parser: RequestParser, data: Buffer, seed: number): string | undefined {
  const whole = JSON.stringify(run(parser, [data]));
  const rng = new Rng(seed);
  const split = JSON.stringify(run(parser, chunks(data, rng)));
  const moved = JSON.stringify(run(parser, chunks(data, rng), rng));
  if (split === whole && moved === whole) return undefined;
  return `${JSON.stringify(data.toString('latin1'))} (seed ${seed}): whole ${whole}, split ${split}, moved ${moved}`;
}

t.test('fuzz: random bytes', async (t) => {
  const parser = new RequestParser();
  const rng = new Rng(1);
  for (let i = 0; i < 3000; i++) {
    const len = rng.int(60);
    const data = Buffer.alloc(len);
    const alphabet = rng.next() < 0.7;
    for (let j = 0; j < len; j++) data[j] = alphabet ? FUZZ_ALPHABET.readUInt8(rng.int(FUZZ_ALPHABET.length)) : rng.int(256);
    if (rng.next() < 0.5) data[0] = 42;
    const mismatch = splitMismatch(parser, data, i);
    if (mismatch !== undefined) t.fail(mismatch);
  }
  t.pass('only ProtocolError, same outcome at every split');
});

t.test('fuzz: mutated pipelines', async (t) => {
  const rng = new Rng(2);
  const parser = new RequestParser({ maxInlineLen: 64 });
  const parserAuth = new RequestParser({ maxBulkLen: 100 });
  parserAuth.authRequired = true;
  for (let i = 0; i < 3000; i++) {
    const cut = mutatedPipeline(rng);
    const mismatch = splitMismatch(parser, cut, i) ?? splitMismatch(parserAuth, cut, i);
    if (mismatch !== undefined) t.fail(mismatch);
  }
  t.pass('only ProtocolError, same outcome at every split');
});
