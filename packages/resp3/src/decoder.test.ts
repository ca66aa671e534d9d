import t from 'tap';
import { DEFAULT_DECODER_LIMITS, Decoder, type DecoderLimits } from './decoder';
import { ReplyWriter } from './encoder';
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
import type { RespValue } from './types';
import {
  asResp2,
  asResp3,
  chunks,
  decodeAll,
  protocolReply,
  Rng,
  randomValue,
  type Split,
  sameValue,
  show,
  writeValue,
} from './values.test-helper';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const bulk = (s: string): RespValue => ({ type: 'bulk', value: b(s) });
const simple = (value: string): RespValue => ({ type: 'simple', value });
const int = (value: number | bigint): RespValue => ({ type: 'integer', value });

const SPLITS: Array<[string, () => Split]> = [
  ['whole', () => 'whole'],
  ['byte by byte', () => 'bytes'],
  ['random splits', () => new Rng(3)],
];

/** [name, wire bytes, values] */
const CASES: Array<[string, string, RespValue[]]> = [
  ['simple string', '+OK\r\n', [simple('OK')]],
  ['simple string, empty', '+\r\n', [simple('')]],
  ['simple string, latin1', '+\xe9\xff\r\n', [simple('\xe9\xff')]],
  ['error', '-ERR unknown command\r\n', [{ type: 'error', value: 'ERR unknown command' }]],
  ['integer', ':1000\r\n', [int(1000)]],
  ['integer, negative', ':-42\r\n', [int(-42)]],
  ['integer, plus sign', ':+7\r\n', [int(7)]],
  ['integer, max safe', ':9007199254740991\r\n', [int(9007199254740991)]],
  ['integer, past 2^53', ':9007199254740993\r\n', [int(9007199254740993n)]],
  ['integer, INT64_MIN', ':-9223372036854775808\r\n', [int(-9223372036854775808n)]],
  ['integer, long but small', ':0000000000000000005\r\n', [int(5)]],
  ['bulk', '$5\r\nhello\r\n', [bulk('hello')]],
  ['bulk, empty', '$0\r\n\r\n', [bulk('')]],
  ['bulk, binary', '$4\r\n\r\n\0\xff\r\n', [bulk('\r\n\0\xff')]],
  ['null bulk', '$-1\r\n', [{ type: 'null', kind: 'bulk' }]],
  ['null array', '*-1\r\n', [{ type: 'null', kind: 'array' }]],
  ['null', '_\r\n', [{ type: 'null', kind: 'resp3' }]],
  ['true', '#t\r\n', [{ type: 'boolean', value: true }]],
  ['false', '#f\r\n', [{ type: 'boolean', value: false }]],
  ['double', ',1.23\r\n', [{ type: 'double', value: 1.23 }]],
  ['double, integer form', ',10\r\n', [{ type: 'double', value: 10 }]],
  ['double, exponent', ',1.5e+17\r\n', [{ type: 'double', value: 1.5e17 }]],
  ['double, leading dot', ',-.5\r\n', [{ type: 'double', value: -0.5 }]],
  ['double, -0', ',-0\r\n', [{ type: 'double', value: -0 }]],
  ['double, inf', ',inf\r\n', [{ type: 'double', value: Number.POSITIVE_INFINITY }]],
  ['double, +inf', ',+inf\r\n', [{ type: 'double', value: Number.POSITIVE_INFINITY }]],
  ['double, -inf', ',-inf\r\n', [{ type: 'double', value: Number.NEGATIVE_INFINITY }]],
  ['double, nan', ',nan\r\n', [{ type: 'double', value: Number.NaN }]],
  ['double, -nan', ',-nan\r\n', [{ type: 'double', value: Number.NaN }]],
  ['double, NaN', ',NaN\r\n', [{ type: 'double', value: Number.NaN }]],
  ['double, +nan', ',+nan\r\n', [{ type: 'double', value: Number.NaN }]],
  [
    'big number',
    '(3492890328409238509324850943850943825024385\r\n',
    [{ type: 'bignum', value: 3492890328409238509324850943850943825024385n }],
  ],
  ['big number, negative', '(-1\r\n', [{ type: 'bignum', value: -1n }]],
  ['bulk error', '!21\r\nSYNTAX invalid syntax\r\n', [{ type: 'bulkError', value: b('SYNTAX invalid syntax') }]],
  ['verbatim', '=15\r\ntxt:Some string\r\n', [{ type: 'verbatim', format: 'txt', value: b('Some string') }]],
  ['verbatim, empty payload', '=4\r\nmkd:\r\n', [{ type: 'verbatim', format: 'mkd', value: b('') }]],
  ['array', '*2\r\n$3\r\nfoo\r\n:1\r\n', [{ type: 'array', value: [bulk('foo'), int(1)] }]],
  ['array, empty', '*0\r\n', [{ type: 'array', value: [] }]],
  [
    'array, nested',
    '*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n',
    [
      {
        type: 'array',
        value: [
          { type: 'array', value: [int(1), int(2), int(3)] },
          { type: 'array', value: [simple('Hello'), { type: 'error', value: 'World' }] },
        ],
      },
    ],
  ],
  [
    'array holding nulls',
    '*3\r\n$-1\r\n*-1\r\n_\r\n',
    [
      {
        type: 'array',
        value: [
          { type: 'null', kind: 'bulk' },
          { type: 'null', kind: 'array' },
          { type: 'null', kind: 'resp3' },
        ],
      },
    ],
  ],
  [
    'map',
    '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
    [
      {
        type: 'map',
        value: [
          [simple('first'), int(1)],
          [simple('second'), int(2)],
        ],
      },
    ],
  ],
  ['map, empty', '%0\r\n', [{ type: 'map', value: [] }]],
  [
    'map, repeated and aggregate keys kept in order',
    '%2\r\n*1\r\n:1\r\n:2\r\n*1\r\n:1\r\n:3\r\n',
    [
      {
        type: 'map',
        value: [
          [{ type: 'array', value: [int(1)] }, int(2)],
          [{ type: 'array', value: [int(1)] }, int(3)],
        ],
      },
    ],
  ],
  ['set', '~2\r\n+a\r\n+b\r\n', [{ type: 'set', value: [simple('a'), simple('b')] }]],
  ['set, empty', '~0\r\n', [{ type: 'set', value: [] }]],
  ['push', '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n', [{ type: 'push', value: [bulk('message'), bulk('ch'), bulk('hi')] }]],
  ['push, empty', '>0\r\n', [{ type: 'push', value: [] }]],
  [
    'attribute before a top-level value',
    '|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2\r\n',
    [
      {
        type: 'attribute',
        attributes: [[simple('key-popularity'), { type: 'map', value: [[bulk('a'), { type: 'double', value: 0.19 }]] }]],
        value: { type: 'array', value: [int(2)] },
      },
    ],
  ],
  [
    'attribute inside an array counts with its value as one element',
    '*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n',
    [
      {
        type: 'array',
        value: [int(1), { type: 'attribute', attributes: [[simple('ttl'), int(3600)]], value: int(2) }],
      },
    ],
  ],
  ['attribute, empty', '|0\r\n+x\r\n', [{ type: 'attribute', attributes: [], value: simple('x') }]],
  [
    'attribute on an attribute',
    '|0\r\n|1\r\n+a\r\n+b\r\n:1\r\n',
    [
      {
        type: 'attribute',
        attributes: [],
        value: { type: 'attribute', attributes: [[simple('a'), simple('b')]], value: int(1) },
      },
    ],
  ],
  ['several values', '+OK\r\n:1\r\n$1\r\nx\r\n', [simple('OK'), int(1), bulk('x')]],
];

for (const [name, wire, want] of CASES) {
  for (const [splitName, split] of SPLITS) {
    t.test(`${name} (${splitName})`, async (t) => {
      const decoder = new Decoder();
      const got = decodeAll(decoder, chunks(b(wire), split()));
      t.equal(got.length, want.length, 'value count');
      want.forEach((w, i) => {
        const g = got[i];
        t.ok(g !== undefined && sameValue(g, w), `value ${i}: got ${g === undefined ? 'nothing' : show(g)}, want ${show(w)}`);
      });
      t.equal(decoder.midValue, false, 'nothing left over');
    });
  }
}

t.test('bulk payloads are slices of the input', async (t) => {
  const input = b('*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n');
  const [v] = new Decoder().feed(input);
  t.ok(v !== undefined && v.type === 'array');
  if (v?.type !== 'array') return;
  const first = v.value[0];
  t.ok(first?.type === 'bulk' && first.value.buffer === input.buffer, 'same memory as the chunk');
});

t.test('midValue and a partial value', async (t) => {
  const d = new Decoder();
  t.equal(d.midValue, false);
  t.same(d.feed(b('*2\r\n:1\r\n')), []);
  t.equal(d.midValue, true, 'inside an array');
  t.same(d.feed(b('$3\r\nab')), []);
  t.equal(d.midValue, true, 'inside a bulk');
  t.same(d.feed(Buffer.alloc(0)), [], 'an empty chunk changes nothing');
  const [v] = d.feed(b('c\r\n'));
  t.ok(v !== undefined && sameValue(v, { type: 'array', value: [int(1), bulk('abc')] }));
  t.equal(d.midValue, false);
});

t.test('a large bulk arriving in small chunks is not concatenated per chunk', async (t) => {
  const payload = Buffer.alloc(4 * 1024 * 1024, 0x78);
  const wire = Buffer.concat([b(`$${payload.length}\r\n`), payload, b('\r\n')]);
  const d = new Decoder();
  const start = process.hrtime.bigint();
  const got = decodeAll(d, chunks(wire, new Rng(1)));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.equal(got.length, 1);
  t.ok(got[0]?.type === 'bulk' && got[0].value.equals(payload));
  // Concatenating on each of ~130000 chunks would copy ~270 GB.
  t.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
});

/** [name, wire, error, limits] */
const ERRORS: Array<[string, string, string, Partial<DecoderLimits>?]> = [
  ['unknown type byte', '?x\r\n', DECODER_UNKNOWN_TYPE],
  ['inline text', 'PING\r\n', DECODER_UNKNOWN_TYPE],
  ['CR without LF', '+OK\rX', DECODER_EXPECTED_CRLF],
  ['bulk without CRLF after the data', '$3\r\nfooXY', DECODER_EXPECTED_CRLF],
  ['bulk with CR but no LF after the data', '$3\r\nfoo\rX', DECODER_EXPECTED_CRLF],
  ['integer not a number', ':abc\r\n', DECODER_INVALID_INTEGER],
  ['integer empty', ':\r\n', DECODER_INVALID_INTEGER],
  ['integer with a dot', ':1.5\r\n', DECODER_INVALID_INTEGER],
  ['double not a number', ',abc\r\n', DECODER_INVALID_DOUBLE],
  ['double empty', ',\r\n', DECODER_INVALID_DOUBLE],
  ['double, bare exponent', ',1e\r\n', DECODER_INVALID_DOUBLE],
  ['big number not a number', '(12a\r\n', DECODER_INVALID_BIG_NUMBER],
  ['boolean other letter', '#x\r\n', DECODER_INVALID_BOOLEAN],
  ['boolean too long', '#tt\r\n', DECODER_INVALID_BOOLEAN],
  ['boolean empty', '#\r\n', DECODER_INVALID_BOOLEAN],
  ['null with a payload', '_x\r\n', DECODER_INVALID_NULL],
  ['bulk length not a number', '$x\r\n', DECODER_INVALID_LENGTH],
  ['bulk length empty', '$\r\n', DECODER_INVALID_LENGTH],
  ['bulk length -2', '$-2\r\n', DECODER_INVALID_LENGTH],
  ['bulk length 16 digits', '$1000000000000000\r\n', DECODER_INVALID_LENGTH],
  ['bulk length over the limit', '$11\r\n', DECODER_INVALID_LENGTH, { maxBulkLen: 10 }],
  ['bulk error -1', '!-1\r\n', DECODER_INVALID_LENGTH],
  ['verbatim -1', '=-1\r\n', DECODER_INVALID_LENGTH],
  ['verbatim too short', '=3\r\ntxt\r\n', DECODER_INVALID_VERBATIM],
  ['verbatim without colon', '=5\r\ntxt-x\r\n', DECODER_INVALID_VERBATIM],
  ['array count not a number', '*x\r\n', DECODER_INVALID_LENGTH],
  ['array count over the limit', '*4\r\n', DECODER_INVALID_LENGTH, { maxAggregateLen: 3 }],
  ['map -1', '%-1\r\n', DECODER_INVALID_LENGTH],
  ['set -1', '~-1\r\n', DECODER_INVALID_LENGTH],
  ['push -1', '>-1\r\n', DECODER_INVALID_LENGTH],
  ['attribute -1', '|-1\r\n', DECODER_INVALID_LENGTH],
  ['line over the limit', '+abcdef\r\n', DECODER_LINE_TOO_LONG, { maxLineLen: 5 }],
  ['unterminated line over the limit', '+abcdef', DECODER_LINE_TOO_LONG, { maxLineLen: 5 }],
  ['error inside an array', '*2\r\n:1\r\n?\r\n', DECODER_UNKNOWN_TYPE],
];

for (const [name, wire, error, limits] of ERRORS) {
  for (const [splitName, split] of SPLITS) {
    t.test(`error: ${name} (${splitName})`, async (t) => {
      const d = new Decoder(limits);
      let caught: unknown;
      try {
        decodeAll(d, chunks(b(wire), split()));
      } catch (err) {
        caught = err;
      }
      t.ok(caught instanceof ProtocolError, 'a ProtocolError');
      t.equal(caught instanceof ProtocolError ? caught.reply : undefined, error);
    });
  }
}

t.test('a failed decoder stays failed until reset', async (t) => {
  const d = new Decoder();
  t.throws(() => d.feed(b('?\r\n')), new ProtocolError(DECODER_UNKNOWN_TYPE));
  t.throws(() => d.feed(b('+OK\r\n')), new ProtocolError(DECODER_UNKNOWN_TYPE));
  d.reset();
  t.same(d.feed(b('+OK\r\n')), [simple('OK')]);
  t.same(d.feed(b('*2\r\n+a\r\n$3\r\nx')), []);
  d.reset();
  t.equal(d.midValue, false, 'reset drops a partial value');
  t.same(d.feed(b(':1\r\n')), [int(1)]);
});

t.test('default limits', async (t) => {
  t.same(DEFAULT_DECODER_LIMITS, { maxBulkLen: 536870912, maxAggregateLen: 4294967295, maxLineLen: 67108864 });
  t.same(new Decoder({ maxLineLen: 7 }).limits, { ...DEFAULT_DECODER_LIMITS, maxLineLen: 7 });
});

t.test('round trip: RESP3', async (t) => {
  for (let seed = 0; seed < 300; seed++) {
    const rng = new Rng(seed);
    const values = Array.from({ length: 1 + rng.int(8) }, () => randomValue(rng, 4));
    const w = new ReplyWriter(32);
    w.proto = 3;
    for (const v of values) writeValue(w, v);
    const wire = w.take();
    for (const split of ['whole', 'bytes', rng] as const) {
      const got = decodeAll(new Decoder(), chunks(wire, split));
      const ok =
        got.length === values.length &&
        values.every((v, i) => {
          const g = got[i];
          return g !== undefined && sameValue(g, asResp3(v));
        });
      if (!ok) {
        t.fail(`seed ${seed}: ${values.map(show).join(' ')}`);
        return;
      }
    }
  }
  t.pass('300 random pipelines, whole, byte by byte and split');
});

t.test('round trip: RESP2', async (t) => {
  for (let seed = 0; seed < 300; seed++) {
    const rng = new Rng(1000 + seed);
    const values = Array.from({ length: 1 + rng.int(8) }, () => randomValue(rng, 4, false));
    const w = new ReplyWriter(32);
    for (const v of values) writeValue(w, v);
    const wire = w.take();
    for (const split of ['whole', 'bytes', rng] as const) {
      const got = decodeAll(new Decoder(), chunks(wire, split));
      const ok =
        got.length === values.length &&
        values.every((v, i) => {
          const g = got[i];
          return g !== undefined && sameValue(g, asResp2(v));
        });
      if (!ok) {
        t.fail(`seed ${seed}: ${values.map(show).join(' ')}`);
        return;
      }
    }
  }
  t.pass('300 random pipelines, whole, byte by byte and split');
});

/** Decode whole and split; only ProtocolError may escape, and both must agree. */
function fuzzOne(data: Buffer, rng: Rng, limits?: Partial<DecoderLimits>): string | undefined {
  const outcome = (parts: Buffer[]): string => {
    const d = new Decoder(limits);
    const values: RespValue[] = [];
    try {
      for (const part of parts) values.push(...d.feed(part));
    } catch (err) {
      return `error ${protocolReply(err)}`;
    }
    return `${values.map(show).join(' ')} mid=${d.midValue}`;
  };
  const whole = outcome([data]);
  const split = outcome(chunks(data, rng));
  if (whole === split) return undefined;
  return `${JSON.stringify(data.toString('latin1'))}: whole ${whole} / split ${split}`;
}

const ALPHABET = b('+-:$*_#,(!=%~|>\r\n\r\n0123456789-.eEinfatx');

t.test('fuzz: random bytes', async (t) => {
  const rng = new Rng(42);
  let errors = 0;
  for (let i = 0; i < 5000; i++) {
    const len = rng.int(50);
    const data = Buffer.alloc(len);
    const useAlphabet = rng.next() < 0.8;
    for (let j = 0; j < len; j++) data[j] = useAlphabet ? (ALPHABET[rng.int(ALPHABET.length)] ?? 0) : rng.int(256);
    const mismatch = fuzzOne(data, rng, { maxLineLen: 20, maxBulkLen: 30, maxAggregateLen: 10 });
    if (mismatch !== undefined && errors++ < 5) t.fail(mismatch);
  }
  t.equal(errors, 0, 'only ProtocolError, same outcome whole and split');
});

t.test('fuzz: mutated replies', async (t) => {
  const rng = new Rng(43);
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const w = new ReplyWriter(64);
    w.proto = rng.next() < 0.5 ? 2 : 3;
    const count = 1 + rng.int(4);
    for (let j = 0; j < count; j++) writeValue(w, randomValue(rng, 3, w.proto === 3));
    const data = Buffer.from(w.take());
    for (let m = rng.int(4); m > 0; m--) {
      const at = rng.int(data.length);
      data[at] = rng.next() < 0.5 ? (ALPHABET[rng.int(ALPHABET.length)] ?? 0) : rng.int(256);
    }
    const mismatch = fuzzOne(data.subarray(0, rng.next() < 0.3 ? rng.int(data.length) : data.length), rng);
    if (mismatch !== undefined && errors++ < 5) t.fail(mismatch);
  }
  t.equal(errors, 0, 'only ProtocolError, same outcome whole and split');
});

t.test('deep nesting costs no stack', async (t) => {
  const depth = 200000;
  const wire = Buffer.concat([b('*1\r\n'.repeat(depth)), b(':1\r\n')]);
  const [v] = new Decoder().feed(wire);
  let d = 0;
  let cur = v;
  while (cur?.type === 'array') {
    cur = cur.value[0];
    d++;
  }
  t.equal(d, depth);
  t.ok(cur !== undefined && sameValue(cur, int(1)));
});

t.test('the test helpers', async (t) => {
  t.throws(() => writeValue(new ReplyWriter(), { type: 'bulkError', value: b('x') }), /no bulk error/);
  t.throws(() => asResp2({ type: 'attribute', attributes: [], value: int(1) }), /no RESP2 form/);
  t.notOk(sameValue(simple('a'), { type: 'error', value: 'a' }), 'values of different types differ');
  t.equal(protocolReply(new ProtocolError('ERR x')), 'ERR x');
  t.throws(() => protocolReply(new TypeError('a bug')), TypeError, 'other errors are rethrown');
});
