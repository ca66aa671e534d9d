/**
 * Shrike under a real client library: ioredis against `--threads 2`, so that connections land
 * on different workers. Covers the everyday commands, a 1000-command pipeline, databases,
 * binary keys and values, SCAN through scanStream, and INCR atomicity across workers.
 * ioredis speaks RESP2 only (its parser has no RESP3 types), so HELLO is checked with 2 here;
 * RESP3 is covered by diff.test.ts and redis-cli.test.ts.
 */
import Redis from 'ioredis';
import t from 'tap';
import { type Running, startUnderTest } from './harness';

let server: Running | undefined;
const clients: Redis[] = [];

function client(opts: { db?: number } = {}): Redis {
  if (server === undefined) throw new Error('server not started');
  const c = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1, ...opts });
  clients.push(c);
  return c;
}

t.before(async () => {
  server = await startUnderTest(['--threads', '2']);
});

t.teardown(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

t.test('strings: set, get, del, mget, mset, incr', async (t) => {
  const r = client();
  await r.flushall();
  t.equal(await r.set('io:a', 'hello'), 'OK', 'set');
  t.equal(await r.get('io:a'), 'hello', 'get');
  t.equal(await r.get('io:missing'), null);
  t.equal(await r.set('io:a', 'x', 'NX'), null, 'SET NX on an existing key');
  t.equal(await r.set('io:a', 'world', 'XX', 'GET'), 'hello', 'SET XX GET returns the old value');
  t.equal(await r.mset('io:b', '1', 'io:c', '2'), 'OK');
  t.same(await r.mget('io:a', 'io:b', 'io:missing', 'io:c'), ['world', '1', null, '2']);
  t.equal(await r.incr('io:b'), 2);
  t.equal(await r.incrby('io:b', 40), 42);
  t.equal(await r.decr('io:b'), 41);
  t.equal(await r.incrbyfloat('io:f', '10.5'), '10.5');
  t.equal(await r.append('io:a', '!'), 6);
  t.equal(await r.strlen('io:a'), 6);
  t.equal(await r.getrange('io:a', 0, 2), 'wor');
  t.equal(await r.del('io:a', 'io:b', 'io:missing'), 2);
  t.equal(await r.exists('io:a', 'io:c'), 1);
  await t.rejects(r.incr('io:f'), { message: 'ERR value is not an integer or out of range' }, 'errors reach the client as ReplyError');
  await t.rejects(r.call('NOSUCHCOMMAND', 'x'), { message: /^ERR unknown command 'NOSUCHCOMMAND'/ });
});

t.test('expire and ttl', async (t) => {
  const r = client();
  await r.set('io:ttl', 'v');
  t.equal(await r.ttl('io:ttl'), -1);
  t.equal(await r.expire('io:ttl', 100), 1);
  t.equal(await r.ttl('io:ttl'), 100);
  const pttl = await r.pttl('io:ttl');
  t.ok(pttl > 99000 && pttl <= 100000, `pttl ${pttl}`);
  t.equal(await r.persist('io:ttl'), 1);
  t.equal(await r.ttl('io:ttl'), -1);
  t.equal(await r.set('io:short', 'v', 'PX', 60), 'OK');
  t.equal(await r.ttl('io:missing'), -2);
  await new Promise((res) => setTimeout(res, 120));
  t.equal(await r.get('io:short'), null, 'a key set with PX 60 is gone after 120 ms');
  t.equal(await r.exists('io:short'), 0);
});

t.test('a pipeline of 1000 commands', async (t) => {
  const r = client();
  const p = r.pipeline();
  for (let i = 0; i < 500; i++) p.set(`io:p:${i}`, String(i));
  for (let i = 0; i < 499; i++) p.incr(`io:p:${i}`);
  p.get('io:p:10');
  const results = await p.exec();
  t.ok(results !== null && results.length === 1000, '1000 replies');
  if (results === null) return;
  t.ok(
    results.every(([err]) => err === null),
    'no errors',
  );
  t.ok(
    results.slice(0, 500).every(([, v]) => v === 'OK'),
    'every SET replied OK',
  );
  t.ok(
    results.slice(500, 999).every(([, v], i) => v === i + 1),
    'every INCR replied in order',
  );
  t.same(results[999], [null, '11']);
});

t.test('databases: select and the db option', async (t) => {
  const r = client();
  await r.select(4);
  await r.set('io:db', 'four');
  await r.select(0);
  t.equal(await r.get('io:db'), null, 'db 0 does not see db 4');
  const r4 = client({ db: 4 });
  t.equal(await r4.get('io:db'), 'four', 'a client opened with db: 4 sees it');
  t.equal(await r4.dbsize(), 1);
  await t.rejects(r.select(16), { message: 'ERR DB index is out of range' });
  await r4.flushdb();
});

t.test('binary keys and values (Buffers with 0x00 and 0xff)', async (t) => {
  const r = client();
  const key = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x0d, 0x0a]);
  const value = Buffer.from([0xff, 0x00, 0x80, 0x0d, 0x0a, 0x00, 0xc3]);
  t.equal(await r.set(key, value), 'OK');
  t.same(await r.getBuffer(key), value, 'getBuffer returns the exact bytes');
  t.equal(await r.strlen(key), value.length);
  t.equal(await r.exists(Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x0d])), 0, 'a prefix of the key is another key');
  const big = Buffer.alloc(256 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  await r.set('io:big', big);
  t.same(await r.getBuffer('io:big'), big, 'a 256 KiB value with every byte value');
  await r.mset(Buffer.from([0xff]), Buffer.from([0x00]), Buffer.from([0x00]), Buffer.from([0xff]));
  t.same(await r.mgetBuffer(Buffer.from([0xff]), Buffer.from([0x00])), [Buffer.from([0x00]), Buffer.from([0xff])]);
  t.same(await r.getrangeBuffer(key, 1, 2), Buffer.from([0x00, 0x80]), 'getrangeBuffer');
  t.equal(await r.del(key, 'io:big', Buffer.from([0xff]), Buffer.from([0x00])), 4);
});

t.test('HELLO 2 through ioredis', async (t) => {
  const r = client();
  const hello = (await r.call('HELLO', '2')) as unknown[];
  t.ok(Array.isArray(hello), 'HELLO 2 is a flat array');
  t.same(
    hello.filter((_, i) => i % 2 === 0),
    ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules'],
  );
  t.equal(hello[5], 2);
  t.equal(await r.ping(), 'PONG', 'the connection still works after HELLO');
});

t.test('scanStream collects all 1000 keys', async (t) => {
  const r = client({ db: 2 });
  await r.flushdb();
  const p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.set(`io:scan:${i}`, 'x');
  p.set('io:other', 'x');
  await p.exec();
  const seen = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    const stream = r.scanStream({ match: 'io:scan:*', count: 37 });
    stream.on('data', (keys: string[]) => {
      for (const k of keys) seen.add(k);
    });
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  t.equal(seen.size, 1000, 'every key, once or more');
  t.ok(
    [...seen].every((k) => k.startsWith('io:scan:')),
    'only matching keys',
  );
  await r.flushdb();
});

t.test('20 clients x 200 INCR on one key across workers = 4000', async (t) => {
  const r = client();
  await r.del('io:counter');
  const many = Array.from({ length: 20 }, () => client());
  await Promise.all(many.map((c) => c.ping()));
  await Promise.all(
    many.map(async (c) => {
      for (let i = 0; i < 200; i++) await c.incr('io:counter');
    }),
  );
  t.equal(await r.get('io:counter'), '4000', 'one at a time');
  // The same with pipelines, so that the increments arrive in batches.
  await r.del('io:counter');
  await Promise.all(
    many.map(async (c) => {
      const p = c.pipeline();
      for (let i = 0; i < 200; i++) p.incr('io:counter');
      await p.exec();
    }),
  );
  t.equal(await r.get('io:counter'), '4000', 'pipelined');
  const seen = new Set<string>();
  for (const c of many) {
    const info = String(await c.call('CLIENT', 'INFO'));
    seen.add(info);
  }
  t.equal(seen.size, 20, 'twenty distinct connections');
});
