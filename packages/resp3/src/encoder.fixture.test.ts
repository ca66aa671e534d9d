/**
 * The shared reply fixture (fixtures/replies.txt at the repository root): ReplyWriter writes
 * every case and must give exactly the bytes listed, in RESP2 and RESP3. The Rust core's
 * reply sink is held to the same file (crates/keyspace/tests/reply_fixture.rs), so the two
 * writers of RESP agree byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ReplyWriter } from './encoder';

interface Case {
  name: string;
  writes: Buffer[][];
  resp2: Buffer;
  resp3: Buffer;
}

const ESCAPES: Record<string, number> = { r: 13, n: 10, t: 9 };

/** Split a line into words; double-quoted words take `\r \n \t \\ \" \xHH` escapes. */
function words(line: string): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    const bytes: number[] = [];
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          const e = line[i + 1] as string;
          i += 2;
          if (e === 'x') {
            bytes.push(Number.parseInt(line.slice(i, i + 2), 16));
            i += 2;
          } else bytes.push(ESCAPES[e] ?? e.charCodeAt(0));
        } else bytes.push(line.charCodeAt(i++));
      }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') bytes.push(line.charCodeAt(i++));
    }
    out.push(Buffer.from(bytes));
  }
  return out;
}

function cases(): Case[] {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'fixtures', 'replies.txt'), 'latin1');
  const out: Case[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const last = out[out.length - 1];
    if (line.startsWith('case ')) out.push({ name: line.slice(5), writes: [], resp2: Buffer.alloc(0), resp3: Buffer.alloc(0) });
    else if (last === undefined) throw new Error(`fixture line outside a case: ${line}`);
    else if (line.startsWith('resp2 ')) last.resp2 = words(line.slice(6))[0] ?? Buffer.alloc(0);
    else if (line.startsWith('resp3 ')) last.resp3 = words(line.slice(6))[0] ?? Buffer.alloc(0);
    else last.writes.push(words(line));
  }
  return out;
}

/** A fixture double: Redis's spellings of the special values, else a JS number literal. */
function fixtureDouble(s: string): number {
  const special: Record<string, number> = { inf: Number.POSITIVE_INFINITY, '-inf': Number.NEGATIVE_INFINITY, nan: Number.NaN };
  return special[s] ?? Number(s);
}

/** The writes a fixture line can name, each as ReplyWriter makes it. */
const WRITES: Record<string, (w: ReplyWriter, s: (i: number) => string, b: (i: number) => Buffer) => void> = {
  simple: (w, s) => w.simple(s(1)),
  error: (w, s) => w.error(s(1)),
  int: (w, s) => w.integer(BigInt(s(1))),
  bulk: (w, _s, b) => w.bulk(b(1)),
  null: (w) => w.null(),
  null_array: (w) => w.nullArray(),
  array: (w, s) => w.arrayHeader(Number(s(1))),
  map: (w, s) => w.mapHeader(Number(s(1))),
  set: (w, s) => w.setHeader(Number(s(1))),
  push: (w, s) => w.pushHeader(Number(s(1))),
  double: (w, s) => w.double(fixtureDouble(s(1))),
  boolean: (w, s) => w.boolean(s(1) === 'true'),
  verbatim: (w, s, b) => w.verbatim(s(1), b(2)),
  big_number: (w, s) => w.bigNumber(s(1)),
};

function write(w: ReplyWriter, args: Buffer[]): void {
  const s = (i: number): string => (args[i] ?? Buffer.alloc(0)).toString('latin1');
  const b = (i: number): Buffer => args[i] ?? Buffer.alloc(0);
  const f = WRITES[s(0)];
  if (f === undefined) throw new Error(`unknown write ${s(0)}`);
  f(w, s, b);
}

t.test('ReplyWriter writes the shared fixture bytes', async (t) => {
  const all = cases();
  t.ok(all.length >= 10, 'fixture found');
  for (const c of all) {
    for (const proto of [2, 3] as const) {
      const w = new ReplyWriter();
      w.proto = proto;
      for (const args of c.writes) write(w, args);
      const want = proto === 2 ? c.resp2 : c.resp3;
      t.equal(w.take().toString('latin1'), want.toString('latin1'), `${c.name} (RESP${proto})`);
    }
  }
});
