/** MultiQueue: queued requests stay in their read buffer until the read is done (settle). */
import { Request, RequestParser } from '@shrike/resp3';
import t from 'tap';
import { MultiQueue } from './transaction';
import type { Command } from './types';

const SET = { op: 7, name: 'set' } as unknown as Command;
const PING = { op: -1, name: 'ping' } as unknown as Command;

/** Parse every request of `text`, as one read delivers them. */
function requests(buf: Buffer): Request[] {
  const parser = new RequestParser();
  const out: Request[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const r = new Request();
    pos = parser.parse(buf, pos, r);
    out.push(r);
  }
  return out;
}

/** The arguments of queued command `k`, read through the layout from `q.bytes`. */
function args(q: MultiQueue, k: number): string[] {
  let at = 0;
  for (let i = 0; i < k; i++) at += 2 + 2 * (q.layout[at + 1] as number);
  const out: string[] = [];
  const argc = q.layout[at + 1] as number;
  const bytes = q.bytes;
  for (let a = 0; a < argc; a++) out.push(bytes.toString('latin1', q.layout[at + 2 + 2 * a], q.layout[at + 3 + 2 * a]));
  return out;
}

t.test('a queue from one read indexes that read, with no copy', async (t) => {
  const read = Buffer.from('*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$2\r\n22\r\n');
  const [ping, s1, s2] = requests(read) as [Request, Request, Request];
  const q = new MultiQueue();
  q.push(PING, ping);
  q.push(SET, s1);
  q.push(SET, s2);
  t.equal(q.bytes, read, 'the read buffer itself');
  t.equal(q.srcLen, 0, 'nothing copied');
  t.same(args(q, 2), ['SET', 'b', '22']);
  t.equal(q.tsCount, 1);
});

t.test('settle copies what a read queued, and the read buffer may then change', async (t) => {
  const q = new MultiQueue();
  const first = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n');
  const [s1] = requests(first) as [Request];
  q.push(SET, s1);
  q.settle();
  first.fill(0x21);
  t.same(args(q, 0), ['SET', 'a', '1'], 'the copy, not the overwritten read');
  const second = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$4\r\nPING\r\n');
  const [s2, ping] = requests(second) as [Request, Request];
  q.push(SET, s2);
  q.push(PING, ping);
  t.same(args(q, 1), ['SET', 'b', '2'], 'a second read, mixed with the copy: bytes settles it');
  second.fill(0x21);
  t.same(args(q, 0), ['SET', 'a', '1']);
  t.same(args(q, 1), ['SET', 'b', '2']);
  t.same(args(q, 2), ['PING']);
  t.equal(q.bytes, q.src);
});

t.test('a push from another buffer settles the one before', async (t) => {
  const q = new MultiQueue();
  const a = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$3\r\nabc\r\n');
  const b = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$3\r\ndef\r\n');
  q.push(SET, requests(a)[0] as Request);
  q.push(SET, requests(b)[0] as Request);
  a.fill(0);
  t.same(args(q, 0), ['SET', 'x', 'abc']);
  t.same(args(q, 1), ['SET', 'y', 'def']);
  q.reset();
  t.equal(q.count, 0);
  t.equal(q.bytes, q.src, 'an empty queue indexes its own buffer');
});
