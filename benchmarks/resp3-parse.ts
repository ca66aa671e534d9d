/**
 * Micro-benchmark of @shrike/resp3's hot path: RequestParser over pipelined
 * requests, and ReplyWriter encoding replies. Single thread, no sockets: it measures
 * the codec alone, not a server.
 *
 *   npx ts-node -T benchmarks/resp3-parse.ts [seconds-per-case]
 *
 * Each case runs for a warm-up second, then for the measured time (default 2 s),
 * and reports operations/s and MB/s of RESP processed. Progress goes to stderr,
 * the results table to stdout.
 */

import { ReplyWriter, Request, RequestParser } from '../packages/resp3/src/index';

const seconds = Number(process.argv[2] ?? 2);

interface Result {
  name: string;
  opsPerSec: number;
  mbPerSec: number;
}

/** Call `iteration` (which processes `ops` operations over `bytes` bytes) for about `ms`; returns its rates. */
function measure(name: string, ops: number, bytes: number, iteration: () => void): Result {
  const run = (ms: number): { count: number; ns: bigint } => {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(ms * 1e6));
    let count = 0;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 16; i++) iteration();
      count += 16;
      now = process.hrtime.bigint();
    }
    return { count, ns: now - start };
  };
  process.stderr.write(`${name}: warming up... `);
  run(1000);
  process.stderr.write('measuring... ');
  const { count, ns } = run(seconds * 1000);
  const secs = Number(ns) / 1e9;
  const result = { name, opsPerSec: (count * ops) / secs, mbPerSec: (count * bytes) / secs / 1e6 };
  process.stderr.write(`${Math.round(result.opsPerSec).toLocaleString('en-US')} ops/s\n`);
  return result;
}

const multibulk = (args: string[]): string => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const key = (i: number): string => `key:${String(i).padStart(4, '0')}`;

/** A read buffer holding `repeat` pipelines of `commands`. */
function readBuffer(commands: string[], repeat: number): { buf: Buffer; count: number } {
  const one = commands.join('');
  return { buf: Buffer.from(one.repeat(repeat), 'latin1'), count: commands.length * repeat };
}

/** Parse every request in buf, as a connection does after one socket read. */
function parseCase(name: string, commands: string[], repeat: number): Result {
  const { buf, count } = readBuffer(commands, repeat);
  const parser = new RequestParser();
  const req = new Request();
  let args = 0;
  const result = measure(name, count, buf.length, () => {
    let pos = 0;
    while (pos < buf.length) {
      const next = parser.parse(buf, pos, req);
      if (next < 0) throw new Error('incomplete pipeline');
      args += req.argc;
      pos = next;
    }
  });
  if (args === 0) throw new Error('nothing parsed');
  return result;
}

const value32 = 'v'.repeat(32);
const value1k = 'x'.repeat(1024);
const sets32 = Array.from({ length: 16 }, (_, i) => multibulk(['SET', key(i), value32]));
const gets = Array.from({ length: 16 }, (_, i) => multibulk(['GET', key(i)]));
const sets1k = Array.from({ length: 16 }, (_, i) => multibulk(['SET', key(i), value1k]));
const mset = [multibulk(['MSET', ...Array.from({ length: 100 }, (_, i) => [key(i), value32]).flat()])];
const inline = Array.from({ length: 16 }, (_, i) => `GET ${key(i)}\r\n`);

const results: Result[] = [];
// One 16-command pipeline per parse loop, and 64 of them per buffer (about one 64 KiB read).
results.push(parseCase('parse 16 x SET key 32B', sets32, 1));
results.push(parseCase('parse 64 x 16 x SET key 32B', sets32, 64));
results.push(parseCase('parse 64 x 16 x GET key', gets, 64));
results.push(parseCase('parse 16 x SET key 1KiB', sets1k, 4));
results.push(parseCase('parse MSET of 100 pairs', mset, 16));
results.push(parseCase('parse 64 x 16 x inline GET', inline, 64));

// A request split across reads: the parser sees a growing prefix, as with slow clients.
{
  const { buf } = readBuffer(mset, 1);
  const parser = new RequestParser();
  const req = new Request();
  results.push(
    measure('parse MSET of 100 pairs in 64-byte reads', 1, buf.length, () => {
      let next = -1;
      for (let end = 64; next < 0; end = Math.min(end + 64, buf.length)) next = parser.parse(buf.subarray(0, end), 0, req);
    }),
  );
}

/** Encode `replies` replies per iteration with `write`, then take() the bytes. */
function encodeCase(name: string, replies: number, proto: 2 | 3, write: (w: ReplyWriter) => void): Result {
  const w = new ReplyWriter();
  w.proto = proto;
  write(w);
  const bytes = w.take().length;
  return measure(name, replies, bytes, () => {
    write(w);
    w.take();
  });
}

const value32Buf = Buffer.from(value32);
const value1kBuf = Buffer.from(value1k);
const store = Buffer.concat([Buffer.alloc(100), value32Buf]);
results.push(
  encodeCase('encode 16 x bulk 32B', 16, 2, (w) => {
    for (let i = 0; i < 16; i++) w.bulk(value32Buf);
  }),
);
results.push(
  encodeCase('encode 16 x bulkSlice 32B', 16, 2, (w) => {
    for (let i = 0; i < 16; i++) w.bulkSlice(store, 100, 132);
  }),
);
results.push(
  encodeCase('encode 16 x bulk 1KiB', 16, 2, (w) => {
    for (let i = 0; i < 16; i++) w.bulk(value1kBuf);
  }),
);
results.push(
  encodeCase('encode 16 x +OK / :n / $-1', 16, 2, (w) => {
    for (let i = 0; i < 16; i++) {
      if (i % 3 === 0) w.simple('OK');
      else if (i % 3 === 1) w.integer(i * 1000);
      else w.null();
    }
  }),
);
results.push(
  encodeCase('encode array of 100 bulks 32B', 1, 2, (w) => {
    w.arrayHeader(100);
    for (let i = 0; i < 100; i++) w.bulk(value32Buf);
  }),
);
results.push(
  encodeCase('encode RESP3 map of 50 member/score', 1, 3, (w) => {
    w.mapHeader(50);
    for (let i = 0; i < 50; i++) {
      w.bulk(value32Buf);
      w.double(i + 0.5);
    }
  }),
);

const pad = Math.max(...results.map((r) => r.name.length));
process.stdout.write(`\n@shrike/resp3 on Node ${process.version}, ${seconds} s per case\n\n`);
process.stdout.write(`${'case'.padEnd(pad)}  ${'ops/s'.padStart(14)}  ${'MB/s'.padStart(8)}\n`);
for (const r of results) {
  const ops = Math.round(r.opsPerSec).toLocaleString('en-US');
  process.stdout.write(`${r.name.padEnd(pad)}  ${ops.padStart(14)}  ${r.mbPerSec.toFixed(1).padStart(8)}\n`);
}
