/**
 * MEMORY USAGE reaches the core through the MEMORY container, and answers as Redis 7.2 does:
 * null for a missing key, its errors byte for byte, and numbers of the same order as
 * Redis's for the same data (the layouts differ, so only rough agreement is expected).
 */
import t from 'tap';
import { cmd, pairPerFile, RawClient } from './harness';

const servers = pairPerFile();

/** One single-line reply (integer, null, error, simple string). */
async function line(c: RawClient, ...args: string[]): Promise<string> {
  c.send(cmd(...args));
  let got = '';
  while (!got.endsWith('\r\n')) got += (await c.read(1)).toString('latin1');
  return got;
}

/** The same data on both servers: strings and a small and a big collection of each type. */
async function load(c: RawClient): Promise<void> {
  await line(c, 'FLUSHALL');
  await line(c, 'SET', 's', 'v');
  await line(c, 'SET', 'big', 'x'.repeat(1000));
  for (const n of [10, 1000]) {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    await line(c, 'RPUSH', `l${n}`, ...ids.map((i) => `elem:${i}`));
    await line(c, 'HSET', `h${n}`, ...ids.flatMap((i) => [`field:${i}`, `value:${i}`]));
    await line(c, 'SADD', `s${n}`, ...ids.map((i) => `member:${i}`));
    await line(c, 'ZADD', `z${n}`, ...ids.flatMap((i) => [String(i), `member:${i}`]));
  }
}

const KEYS = ['s', 'big', 'l10', 'l1000', 'h10', 'h1000', 's10', 's1000', 'z10', 'z1000'];

t.test('errors and missing keys as Redis', async (t) => {
  const [refPort, sutPort] = servers.ports();
  const [ref, sut] = await Promise.all([RawClient.open(refPort), RawClient.open(sutPort)]);
  t.teardown(() => {
    ref.close();
    sut.close();
  });
  for (const args of [
    ['MEMORY', 'USAGE', 'nokey'],
    ['MEMORY', 'usage', 'nokey', 'SAMPLES', '0'],
    ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', '-1'],
    ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', 'x'],
    ['MEMORY', 'USAGE', 'nokey', 'SAMPLES'],
    ['MEMORY', 'USAGE', 'nokey', 'FOO'],
    ['MEMORY', 'USAGE'],
  ]) {
    const want = await line(ref, ...args);
    t.equal(await line(sut, ...args), want, args.join(' '));
  }
});

t.test('numbers of the same order as Redis, growing with the data', async (t) => {
  const [refPort, sutPort] = servers.ports();
  const [ref, sut] = await Promise.all([RawClient.open(refPort), RawClient.open(sutPort)]);
  t.teardown(() => {
    ref.close();
    sut.close();
  });
  await Promise.all([load(ref), load(sut)]);
  const ours = new Map<string, number>();
  for (const k of KEYS) {
    const theirs = await line(ref, 'MEMORY', 'USAGE', k, 'SAMPLES', '0');
    const mine = await line(sut, 'MEMORY', 'USAGE', k, 'SAMPLES', '0');
    t.match(mine, /^:\d+\r\n$/, `${k}: an integer`);
    const r = Number(mine.slice(1)) / Number(theirs.slice(1));
    t.ok(r > 0.25 && r < 4, `${k}: shrike ${mine.trim()} vs redis ${theirs.trim()}`);
    ours.set(k, Number(mine.slice(1)));
    // The default sampling answers too.
    t.match(await line(sut, 'MEMORY', 'USAGE', k), /^:\d+\r\n$/);
  }
  for (const p of ['l', 'h', 's', 'z']) {
    t.ok((ours.get(`${p}1000`) ?? 0) > (ours.get(`${p}10`) ?? 0) * 10, `${p}: grows with its elements`);
  }
  t.ok((ours.get('big') ?? 0) > 1000, 'a 1000-byte string costs more than its bytes');
});
