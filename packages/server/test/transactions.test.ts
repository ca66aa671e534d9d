/**
 * Transactions across workers, with the server on `--threads 2` and clients placed on both
 * workers (each client's worker found through INFO threads): WATCH/MULTI/EXEC increments of
 * one counter by 20 clients, MULTI transfers between 10 keys read by MULTI/MGET readers, and a
 * WATCH failed by a write from the other worker, FLUSHALL, SWAPDB, MOVE, RENAME and expiry.
 * Reply shapes against redis-server are in diff/transactions.txt.
 */
import Redis from 'ioredis';
import t, { type Test } from 'tap';
import { cmd, RawClient, type Running, startShrike, startUnderTest } from './harness';

let server: Running | undefined;
const clients: Redis[] = [];

function client(): Redis {
  if (server === undefined) throw new Error('server not started');
  const c = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
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

/** connected_clients of each worker, from INFO threads. */
async function perWorker(probe: Redis): Promise<number[]> {
  const info = await probe.info('threads');
  return [...info.matchAll(/^thread(\d+):.*connected_clients=(\d+)/gm)].map((m) => Number(m[2]));
}

/** Open `n` clients one by one, each with the worker it landed on. */
async function placed(probe: Redis, n: number): Promise<{ r: Redis; worker: number }[]> {
  const out: { r: Redis; worker: number }[] = [];
  let before = await perWorker(probe);
  for (let i = 0; i < n; i++) {
    const r = client();
    await r.ping();
    const after = await perWorker(probe);
    const worker = after.findIndex((v, w) => v > (before[w] ?? 0));
    out.push({ r, worker });
    before = after;
  }
  return out;
}

/** One client on worker 0 and one on worker 1 (opening more until both are found). */
async function onBothWorkers(probe: Redis): Promise<[Redis, Redis]> {
  const found: (Redis | undefined)[] = [undefined, undefined];
  for (let i = 0; i < 64 && (found[0] === undefined || found[1] === undefined); i++) {
    const [c] = await placed(probe, 1);
    if (c !== undefined && c.worker >= 0 && found[c.worker] === undefined) found[c.worker] = c.r;
  }
  if (found[0] === undefined || found[1] === undefined) throw new Error('no client on each worker');
  return [found[0], found[1]];
}

t.test('clients land on both workers', async (t) => {
  const probe = client();
  const cs = await placed(probe, 8);
  const workers = new Set(cs.map((c) => c.worker));
  t.ok(workers.has(0) && workers.has(1), `workers ${[...workers].join(',')}`);
});

t.test('(a) 20 clients x 200 WATCH/GET/MULTI/SET/EXEC increments end at exactly 4000', async (t) => {
  const probe = client();
  await probe.del('tx:counter');
  const cs = await placed(probe, 20);
  t.ok(new Set(cs.map((c) => c.worker)).size === 2, 'the clients are on both workers');
  let retries = 0;
  await Promise.all(
    cs.map(async ({ r }) => {
      for (let done = 0; done < 200; ) {
        await r.watch('tx:counter');
        const v = Number((await r.get('tx:counter')) ?? '0');
        const res = await r
          .multi()
          .set('tx:counter', String(v + 1))
          .exec();
        if (res === null) retries++;
        else done++;
      }
    }),
  );
  t.equal(await probe.get('tx:counter'), '4000');
  t.comment(`${retries} EXECs failed on a watch and were retried`);
});

t.test('(b) MULTI transfers between 10 keys never change their sum seen by MULTI/MGET', async (t) => {
  const probe = client();
  const keys = Array.from({ length: 10 }, (_, i) => `tx:acct:${i}`);
  await probe.mset(...keys.flatMap((k) => [k, '100']));
  const cs = await placed(probe, 8);
  t.ok(new Set(cs.map((c) => c.worker)).size === 2, 'the clients are on both workers');
  const movers = cs.slice(0, 5);
  const readers = cs.slice(5);
  let running = true;
  let reads = 0;
  let bad = 0;
  const moving = Promise.all(
    movers.map(async ({ r }, m) => {
      for (let i = 0; i < 400; i++) {
        const from = keys[(i * 3 + m) % 10] as string;
        const to = keys[(i * 7 + m + 1) % 10] as string;
        const res = await r
          .multi()
          .decrby(from, (i % 9) + 1)
          .incrby(to, (i % 9) + 1)
          .exec();
        if (res === null || res.some(([err]) => err !== null)) bad++;
      }
    }),
  ).finally(() => {
    running = false;
  });
  const reading = Promise.all(
    readers.map(async ({ r }) => {
      while (running) {
        const res = await r
          .multi()
          .mget(...keys)
          .exec();
        const vals = res?.[0]?.[1] as string[];
        const sum = vals.reduce((a, v) => a + Number(v), 0);
        if (sum !== 1000) bad++;
        reads++;
      }
    }),
  );
  await Promise.all([moving, reading]);
  t.equal(bad, 0, `no failed transfer and no broken sum in ${reads} reads`);
  const final = await probe.mget(...keys);
  t.equal(
    final.reduce((a, v) => a + Number(v), 0),
    1000,
  );
});

/** WATCH `key` on `a`, run `write` (on the other worker), and EXEC a GET on `a`. */
async function watchThen(a: Redis, key: string, write: () => Promise<unknown>): Promise<unknown> {
  await a.watch(key);
  await write();
  return a.multi().get(key).exec();
}

t.test('a WATCH fails on writes from the other worker', async (t) => {
  const probe = client();
  const [a, b] = await onBothWorkers(probe);
  await b.flushall();
  await b.set('tx:w', '1');
  t.equal(await watchThen(a, 'tx:w', () => b.set('tx:w', '2')), null, 'SET');
  t.equal(await watchThen(a, 'tx:w', () => b.del('tx:w')), null, 'DEL');
  await b.set('tx:w', '1');
  t.equal(await watchThen(a, 'tx:w', () => b.flushall()), null, 'FLUSHALL');
  await b.set('tx:w', '1');
  t.equal(await watchThen(a, 'tx:w', () => b.flushdb()), null, 'FLUSHDB');
  await b.set('tx:w', '1');
  t.equal(await watchThen(a, 'tx:w', () => b.swapdb(0, 1)), null, 'SWAPDB');
  await b.flushall();
  await b.set('tx:w', '1');
  t.equal(await watchThen(a, 'tx:w', () => b.move('tx:w', 2)), null, 'MOVE');
  await b.set('tx:src', 'x');
  t.equal(await watchThen(a, 'tx:w', () => b.rename('tx:src', 'tx:w')), null, 'RENAME onto the key');
  await b.set('tx:w', '1');
  t.equal(await watchThen(a, 'tx:w', () => b.expire('tx:w', 100)), null, 'EXPIRE');
  await b.set('tx:w', '5');
  t.same(await watchThen(a, 'tx:w', () => b.get('tx:w')), [[null, '5']], 'a read does not fail it');
  t.same(await watchThen(a, 'tx:w', () => b.set('tx:other{x}', '1')), [[null, '5']], 'a write to another slot does not');
  // UNWATCH forgets the watch.
  await a.watch('tx:w');
  await b.set('tx:w', '6');
  await a.unwatch();
  t.same(await a.multi().get('tx:w').exec(), [[null, '6']], 'UNWATCH');
});

t.test('a WATCH fails when the key expires, as Redis 7.2', async (t) => {
  const probe = client();
  const [a, b] = await onBothWorkers(probe);
  await b.set('tx:e', 'v', 'PX', 30);
  await a.watch('tx:e');
  await new Promise((r) => setTimeout(r, 80));
  t.equal(await a.multi().get('tx:e').exec(), null, 'alive at WATCH, expired at EXEC');
  // Already expired at WATCH (deleted by now or not): its deletion is no change in 7.2...
  await b.set('tx:e', 'v', 'PX', 1);
  await new Promise((r) => setTimeout(r, 20));
  await a.watch('tx:e');
  await b.exists('tx:e');
  t.same(await a.multi().ping().exec(), [[null, 'PONG']], 'expired key deleted after WATCH');
  // ...but writing it is.
  await a.watch('tx:e');
  await b.set('tx:e', 'w');
  t.equal(await a.multi().ping().exec(), null, 'expired key written after WATCH');
});

t.test('queue-time errors, TypeScript commands and SELECT inside EXEC', async (t) => {
  const r = client();
  await r.flushall();
  await t.rejects(r.multi().set('tx:q', '1').call('NOSUCH').exec(), /EXECABORT/);
  t.equal(await r.get('tx:q'), null, 'nothing ran');
  const res = await r
    .multi()
    .set('tx:q', '1')
    .select(4)
    .set('tx:q', '4')
    .info('keyspace')
    .call('CLIENT', 'LIST')
    .ping()
    .echo('e')
    .incr('tx:q')
    .select(0)
    .exec();
  t.ok(
    res?.every(([e]) => e === null),
    'no command failed',
  );
  t.same(
    res?.map(([, v]) => v).filter((_, i) => i !== 3 && i !== 4),
    ['OK', 'OK', 'OK', 'PONG', 'e', 5, 'OK'],
  );
  // INFO waits on the other workers, so it runs before the queue takes its locks.
  t.match(String(res?.[3]?.[1]), /^# Keyspace\r\n/, 'INFO inside EXEC');
  t.match(String(res?.[4]?.[1]), /cmd=exec/, 'CLIENT LIST inside EXEC lists the client');
  t.equal(await r.get('tx:q'), '1');
  await r.select(4);
  t.equal(await r.get('tx:q'), '5');
  await r.select(0);
});

t.test('CLIENT INFO shows flag d once a watched key changed on another worker, as Redis', async (t) => {
  const probe = client();
  const [r, other] = await onBothWorkers(probe);
  await r.watch('tx:d');
  t.match(await r.call('CLIENT', 'INFO'), /flags=N /);
  await other.set('tx:d', '1');
  t.match(await r.call('CLIENT', 'INFO'), /flags=d /);
  await r.unwatch();
  t.match(await r.call('CLIENT', 'INFO'), /flags=N /);
});

t.test('CLIENT TRACKING REDIRECT (it asks every worker) runs inside EXEC', async (t) => {
  const r = client();
  const target = client();
  const id = Number(await target.client('ID'));
  const res = await r.multi().call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id)).set('tx:t', '1').exec();
  t.same(res, [
    [null, 'OK'],
    [null, 'OK'],
  ]);
  t.equal(await r.call('CLIENT', 'GETREDIR'), id, 'the redirect took effect');
  t.equal(await r.ping(), 'PONG', 'the connection stayed open');
});

t.test('a big value inside MULTI, and EXEC over Node sockets (io-uring off)', async (t) => {
  const big = 'x'.repeat(1024 * 1024);
  const r = client();
  t.same(await r.multi().set('tx:big', big).strlen('tx:big').exec(), [
    [null, 'OK'],
    [null, big.length],
  ]);
  const s = await startShrike(['--threads', '2', '--io-uring', 'no']);
  const n = new Redis({ host: '127.0.0.1', port: s.port, maxRetriesPerRequest: 1 });
  const m = new Redis({ host: '127.0.0.1', port: s.port, maxRetriesPerRequest: 1 });
  try {
    t.same(await n.multi().set('tx:n', '1').incr('tx:n').set('tx:big', big).strlen('tx:big').exec(), [
      [null, 'OK'],
      [null, 2],
      [null, 'OK'],
      [null, big.length],
    ]);
    await n.watch('tx:n');
    await m.set('tx:n', '5');
    t.equal(await n.multi().incr('tx:n').exec(), null, 'a write from another client fails the watch');
    await n.watch('tx:n');
    t.same(await n.multi().incr('tx:n').ping().exec(), [
      [null, 6],
      [null, 'PONG'],
    ]);
  } finally {
    n.disconnect();
    m.disconnect();
    await s.stop();
  }
});

t.test('a transaction over several reads keeps what it queued while the read buffers are reused', async (t) => {
  if (server === undefined) throw new Error('server not started');
  const raw = await RawClient.open(server.port);
  const other = client();
  try {
    t.equal(await raw.call('MULTI\r\nSET tx:span:a first\r\n', 14), '+OK\r\n+QUEUED\r\n');
    // Other reads on every worker fill the ring's read buffers with other bytes meanwhile.
    const filler = 'z'.repeat(4000);
    for (let i = 0; i < 200; i++) await other.set(`tx:span:fill:${i % 8}`, filler);
    t.equal(await raw.call('SET tx:span:b second\r\n', 9), '+QUEUED\r\n');
    for (let i = 0; i < 200; i++) await other.set(`tx:span:fill:${i % 8}`, filler);
    t.equal(await raw.call('GET tx:span:a\r\nEXEC\r\n', 40), '+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n$5\r\nfirst\r\n');
    t.same(await other.mget('tx:span:a', 'tx:span:b'), ['first', 'second']);
  } finally {
    raw.close();
  }
});

t.test('monitors see the commands EXEC runs, after MULTI and before EXEC', async (t) => {
  if (server === undefined) throw new Error('server not started');
  const mon = await RawClient.open(server.port);
  try {
    t.equal(await mon.call(cmd('MONITOR'), 5), '+OK\r\n');
    const r = client();
    await r.multi().set('tx:mon', '1').incr('tx:mon').exec();
    await r.multi().set('tx:mon', '1').ping().exec();
    let seen = '';
    for (let i = 0; i < 20 && !/"ping"[\s\S]*"exec"/i.test(seen); i++) seen += (await mon.read(1, 200)).toString('latin1');
    const names = [...seen.matchAll(/\] "(\w+)"/g)].map((m) => (m[1] as string).toLowerCase());
    t.same(
      names.filter((n) => n !== 'client' && n !== 'info'),
      ['multi', 'set', 'incr', 'exec', 'multi', 'set', 'ping', 'exec'],
    );
  } finally {
    mon.close();
  }
});

t.test('a client blocked on another worker is served after the EXEC that pushed, not during it', async (t) => {
  const probe = client();
  const [a, b] = await onBothWorkers(probe);
  await b.del('tx:bl');
  const popped = a.blpop('tx:bl', 0);
  // Wait until the BLPOP is blocked (INFO clients counts it).
  for (let i = 0; i < 100 && !/blocked_clients:[1-9]/.test(await probe.info('clients')); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const res = await b.multi().lpush('tx:bl', 'a').lpush('tx:bl', 'b').llen('tx:bl').exec();
  t.same(
    res,
    [
      [null, 1],
      [null, 2],
      [null, 2],
    ],
    'inside EXEC the pushes stay until the unit ends',
  );
  t.same(await popped, ['tx:bl', 'b'], 'served once EXEC is done, with the last value pushed at the head');
  t.equal(await b.llen('tx:bl'), 1);
});

/** Replies of a WATCH-ed EXEC sent in one write, byte for byte, over `port`, in `proto`. */
async function watchedExecBytes(t: Test, port: number, proto: 2 | 3, other: Redis): Promise<void> {
  const raw = await RawClient.open(port);
  try {
    if (proto === 3) {
      raw.send('HELLO 3\r\nPING\r\n');
      let got = '';
      for (let i = 0; i < 50 && !got.endsWith('+PONG\r\n'); i++) got += (await raw.read(1, 200)).toString('latin1');
      t.match(got, /proto/, 'HELLO 3');
    }
    const k = `tx:raw:${proto}`;
    await other.set(k, 'a');
    t.equal(await raw.call(`WATCH ${k}\r\n`, 5), '+OK\r\n');
    await other.set(k, 'b');
    const nullArray = proto === 3 ? '_\r\n' : '*-1\r\n';
    const failed = `+OK\r\n+QUEUED\r\n+QUEUED\r\n${nullArray}`;
    t.equal(await raw.call(`MULTI\r\nSET ${k} c\r\nGET ${k}\r\nEXEC\r\n`, failed.length), failed, 'a write after WATCH: the null array');
    t.equal(await other.get(k), 'b', 'nothing of the transaction ran');
    const ran = '+OK\r\n$1\r\nb\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\nd\r\n';
    t.equal(
      await raw.call(`WATCH ${k}\r\nGET ${k}\r\nMULTI\r\nSET ${k} d\r\nGET ${k}\r\nEXEC\r\n`, ran.length),
      ran,
      'untouched: the replies',
    );
    // EXEC forgot the watch: a write now fails nothing.
    await other.set(k, 'e');
    t.equal(await raw.call(`MULTI\r\nGET ${k}\r\nEXEC\r\n`, 23), '+OK\r\n+QUEUED\r\n*1\r\n$1\r\ne\r\n', 'EXEC unwatched');
  } finally {
    raw.close();
  }
}

t.test('a watched EXEC sent in one write answers as Redis, RESP2 and RESP3, on both transports', async (t) => {
  if (server === undefined) throw new Error('server not started');
  const other = client();
  await watchedExecBytes(t, server.port, 2, other);
  await watchedExecBytes(t, server.port, 3, other);
  const s = await startShrike(['--threads', '1', '--io-uring', 'no']);
  const n = new Redis({ host: '127.0.0.1', port: s.port, maxRetriesPerRequest: 1 });
  try {
    await watchedExecBytes(t, s.port, 2, n);
    await watchedExecBytes(t, s.port, 3, n);
  } finally {
    n.disconnect();
    await s.stop();
  }
});
