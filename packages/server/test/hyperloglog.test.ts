/**
 * HyperLogLog values move between redis-server and Shrike: both keep Redis's own sparse/dense
 * bytes in the string, so an HLL read with GET on one and written with SET on the other counts
 * the same, takes more elements to the same bytes, and merges, in both directions.
 */
import t from 'tap';
import { cmd, haveRedis, RawClient, type Running, startRedis, startShrike } from './harness';

/** Read one reply: the payload of a bulk string, the digits of an integer, the text of +/-. */
async function reply(c: RawClient, data: Buffer): Promise<Buffer> {
  c.send(data);
  let buf = await c.read(1, 5000);
  for (;;) {
    const eol = buf.indexOf('\r\n');
    if (eol >= 0) {
      if (buf[0] !== 0x24) return buf.subarray(1, eol);
      const len = Number(buf.subarray(1, eol).toString());
      if (len < 0) return Buffer.alloc(0);
      if (buf.length >= eol + 2 + len + 2) return buf.subarray(eol + 2, eol + 2 + len);
    }
    const more = await c.read(1, 5000);
    if (more.length === 0) throw new Error(`incomplete reply: ${buf.subarray(0, 40).toString('latin1')}`);
    buf = Buffer.concat([buf, more]);
  }
}

const text = async (c: RawClient, ...args: (string | Buffer)[]): Promise<string> => (await reply(c, cmd(...args))).toString('latin1');

/** `n` distinct elements named `prefix<i>`. */
const elements = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

t.test('an HLL copied with GET/SET keeps working on the other server', { skip: !haveRedis() && 'no redis-server' }, async (t) => {
  const servers: Running[] = [await startRedis(), await startShrike(['--threads', '1'])];
  t.teardown(async () => {
    for (const s of servers) await s.stop();
  });
  const [redis, shrike] = await Promise.all(servers.map((s) => RawClient.open(s.port)));
  if (redis === undefined || shrike === undefined) throw new Error('no client');
  t.teardown(() => {
    redis.close();
    shrike.close();
  });

  for (const [from, to, name] of [
    [redis, shrike, 'redis to shrike'],
    [shrike, redis, 'shrike to redis'],
  ] as const) {
    for (const [key, n] of [
      ['sparse', 40],
      ['dense', 3000],
    ] as const) {
      await text(from, 'PFADD', key, ...elements(`${key}-`, n));
      t.equal(await text(from, 'PFDEBUG', 'ENCODING', key), key, `${name}: ${key} on the source`);
      const bytes = await reply(from, cmd('GET', key));
      t.equal(await text(to, 'SET', key, bytes), 'OK');
      t.equal(await text(to, 'PFCOUNT', key), await text(from, 'PFCOUNT', key), `${name}: ${key} counts the same`);
      // More elements on both: the same bytes again, cached cardinality included.
      const more = elements(`${key}-more-`, 200);
      t.equal(await text(to, 'PFADD', key, ...more), await text(from, 'PFADD', key, ...more));
      t.equal(await text(to, 'PFCOUNT', key), await text(from, 'PFCOUNT', key));
      t.ok((await reply(to, cmd('GET', key))).equals(await reply(from, cmd('GET', key))), `${name}: ${key} bytes agree`);
    }
    // A merge of the copied sparse and dense values, on both sides.
    t.equal(await text(to, 'PFMERGE', 'merged', 'sparse', 'dense'), 'OK');
    t.equal(await text(from, 'PFMERGE', 'merged', 'sparse', 'dense'), 'OK');
    t.equal(await text(to, 'PFCOUNT', 'merged'), await text(from, 'PFCOUNT', 'merged'), `${name}: merged counts agree`);
    t.ok((await reply(to, cmd('GET', 'merged'))).equals(await reply(from, cmd('GET', 'merged'))), `${name}: merged bytes agree`);
    for (const c of [redis, shrike]) await text(c, 'FLUSHALL');
  }
});

t.test("PFSELFTEST passes Redis's own checks", async (t) => {
  const s = await startShrike(['--threads', '1']);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  // Ten million elements into a sparse and a dense HLL: seconds, not milliseconds.
  t.equal(await c.call(cmd('PFSELFTEST'), 5, 60000), '+OK\r\n');
  t.equal(await c.call(cmd('CONFIG', 'SET', 'hll-sparse-max-bytes', '100'), 5), '+OK\r\n');
  t.equal(await c.call(cmd('PFSELFTEST'), 5, 60000), '+OK\r\n');
});
