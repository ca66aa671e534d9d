/**
 * Pub/sub across workers (issue 10 §4): with the server on 2 threads and subscribers on both
 * workers (told apart through INFO threads), PUBLISH reaches every subscriber and counts
 * them all; patterns and shard channels; RESP3 pushes and HELLO switching protocol while
 * subscribed; nothing left behind by a disconnect; stress (d): 10 subscribers each get all
 * 10,000 messages of a publisher, in order; stress (e): a subscriber that stops reading is
 * closed at its client-output-buffer-limit pubsub, with Redis's log line, while the others
 * keep receiving and memory stays bounded. Both transports.
 */
import Redis from 'ioredis';
import t from 'tap';
import { Client, ReplyReader } from './diff/runner';
import { cmd, haveRedis, RawClient, type Running, rssMiB, startRedis, startShrike } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** connected_clients of each worker, from INFO threads. */
async function threadClients(admin: Client): Promise<number[]> {
  const text = String(await admin.call('INFO', 'threads'));
  return [...text.matchAll(/connected_clients=(\d+)/g)].map((m) => Number(m[1]));
}

/** Open a connection with `open` and find which worker took it (the one whose count rose). */
async function onWorker<T>(admin: Client, open: () => Promise<T>): Promise<[T, number]> {
  const before = await threadClients(admin);
  const c = await open();
  for (let i = 0; i < 100; i++) {
    const after = await threadClients(admin);
    const w = after.findIndex((n, j) => n > (before[j] ?? 0));
    if (w >= 0) return [c, w];
    await sleep(10);
  }
  throw new Error('no worker took the connection');
}

/** Open subscribers with `open` until there are at least `n` and both workers have some. */
async function spread<T>(admin: Client, n: number, open: () => Promise<T>): Promise<[T, number][]> {
  const out: [T, number][] = [];
  while (out.length < n || new Set(out.map(([, w]) => w)).size < 2) {
    if (out.length > 60) throw new Error('the kernel put every connection on one worker');
    out.push(await onWorker(admin, open));
  }
  return out;
}

async function subscriber(port: number, ...channels: string[]): Promise<Redis> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  if (channels.length > 0) await r.subscribe(...channels);
  return r;
}

for (const mode of ['yes', 'no']) {
  t.test(`io-uring ${mode}`, async (t) => {
    const s: Running = await startShrike(['--threads', '2', '--io-uring', mode]);
    t.teardown(() => s.stop());
    const admin = await Client.open(s.port);
    t.teardown(() => admin.close());

    t.test('PUBLISH reaches channel, pattern and shard subscribers on both workers', async (t) => {
      const subs = await spread(admin, 6, () => subscriber(s.port, 'news'));
      t.teardown(() => {
        for (const [r] of subs) r.disconnect();
      });
      t.equal(new Set(subs.map(([, w]) => w)).size, 2, 'subscribers on both workers');
      const got = subs.map(([r]) => {
        const msgs: string[] = [];
        r.on('message', (ch: string, m: string) => msgs.push(`${ch}:${m}`));
        return msgs;
      });
      const pat = await subscriber(s.port);
      t.teardown(() => pat.disconnect());
      await pat.psubscribe('n*');
      const pmsgs: string[] = [];
      pat.on('pmessage', (p: string, ch: string, m: string) => pmsgs.push(`${p}:${ch}:${m}`));
      const shard = await ReplyReader.open(s.port);
      t.teardown(() => shard.close());
      shard.send(cmd('SSUBSCRIBE', 'news'));
      t.equal(String(await shard.next()), '*3\r\n$10\r\nssubscribe\r\n$4\r\nnews\r\n:1\r\n');

      t.equal(await admin.call('PUBLISH', 'news', 'hello'), subs.length + 1, 'every receiver counted, on every worker');
      t.equal(await admin.call('SPUBLISH', 'news', 'sharded'), 1, 'shard channels are apart');
      t.equal(await admin.call('PUBLISH', 'nothing', 'x'), 1, 'the pattern alone');
      t.same(await admin.call('PUBSUB', 'NUMSUB', 'news'), [Buffer.from('news'), subs.length]);
      t.equal(await admin.call('PUBSUB', 'NUMPAT'), 1);
      t.same(await admin.call('PUBSUB', 'SHARDNUMSUB', 'news'), [Buffer.from('news'), 1]);
      t.equal(String(await shard.next()), '*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$7\r\nsharded\r\n');
      await sleep(100);
      for (const g of got) t.same(g, ['news:hello']);
      t.same(pmsgs, ['n*:news:hello', 'n*:nothing:x']);
    });

    t.test('RESP3 pushes, and HELLO moves a subscriber to its new protocol', async (t) => {
      const c = await ReplyReader.open(s.port);
      t.teardown(() => c.close());
      c.send(cmd('HELLO', '3'));
      await c.next();
      c.send(cmd('SUBSCRIBE', 'r3'));
      t.equal(String(await c.next()), '>3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n');
      // RESP3 runs any command while subscribed.
      c.send(cmd('GET', 'nokey'));
      t.equal(String(await c.next()), '_\r\n');
      t.equal(await admin.call('PUBLISH', 'r3', 'a'), 1);
      t.equal(String(await c.next()), '>3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$1\r\na\r\n');
      c.send(cmd('HELLO', '2'));
      t.equal(String(await c.next()).slice(0, 4), '*14\r');
      t.equal(await admin.call('PUBLISH', 'r3', 'b'), 1);
      t.equal(String(await c.next()), '*3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$1\r\nb\r\n');
      c.send(cmd('GET', 'nokey'));
      t.match(String(await c.next()), /^-ERR Can't execute 'get': only \(P\|S\)SUBSCRIBE/);
    });

    t.test("a client's own messages follow its command's reply, pipelined, as redis-server's do", async (t) => {
      // One write: each push for the client itself must come right after the reply of the
      // command that raised it, before the next command's reply (pending_push_messages).
      const pipeline = Buffer.from(
        'HELLO 3\r\nSUBSCRIBE self\r\nPUBLISH self a\r\nPING\r\nCONFIG SET notify-keyspace-events KEA\r\n' +
          'PSUBSCRIBE __keyspace@0__:*\r\nSET own v\r\nGET own\r\nCLIENT REPLY OFF\r\nPUBLISH self b\r\nCLIENT REPLY ON\r\n' +
          'CONFIG SET notify-keyspace-events ""\r\n',
      );
      const run = async (port: number): Promise<string> => {
        const c = await RawClient.open(port);
        try {
          c.send(pipeline);
          let out = '';
          const deadline = Date.now() + 5000;
          while (!out.endsWith('+OK\r\n+OK\r\n') && Date.now() < deadline) out += (await c.read(1, 1000)).toString('latin1');
          // HELLO's map names the server's version and the client's id: keep what follows it.
          return out.slice(out.indexOf('>3\r\n$9\r\nsubscribe'));
        } finally {
          c.close();
        }
      };
      const got = await run(s.port);
      t.equal(
        got,
        '>3\r\n$9\r\nsubscribe\r\n$4\r\nself\r\n:1\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$4\r\nself\r\n$1\r\na\r\n+PONG\r\n+OK\r\n' +
          '>3\r\n$10\r\npsubscribe\r\n$16\r\n__keyspace@0__:*\r\n:2\r\n+OK\r\n' +
          '>4\r\n$8\r\npmessage\r\n$16\r\n__keyspace@0__:*\r\n$18\r\n__keyspace@0__:own\r\n$3\r\nset\r\n$1\r\nv\r\n' +
          '>3\r\n$7\r\nmessage\r\n$4\r\nself\r\n$1\r\nb\r\n+OK\r\n+OK\r\n',
      );
      if (haveRedis()) {
        const r = await startRedis();
        t.teardown(() => r.stop());
        t.equal(got, await run(r.port), 'the same bytes as redis-server');
      }
    });

    t.test("an EXEC's own pushes follow its reply, before the next command's, as in redis-server", async (t) => {
      const pipeline = Buffer.from(
        'HELLO 3\r\nSUBSCRIBE s\r\nCONFIG SET notify-keyspace-events KEA\r\nPSUBSCRIBE __keyevent*\r\n' +
          'MULTI\r\nPUBLISH s a\r\nSET mk v\r\nEXEC\r\nPING\r\nCONFIG SET notify-keyspace-events ""\r\n',
      );
      const run = async (port: number): Promise<string> => {
        const c = await RawClient.open(port);
        try {
          c.send(pipeline);
          let out = '';
          const deadline = Date.now() + 5000;
          while (!out.endsWith('+PONG\r\n+OK\r\n') && Date.now() < deadline) out += (await c.read(1, 1000)).toString('latin1');
          return out.slice(out.indexOf('>3\r\n$9\r\nsubscribe'));
        } finally {
          c.close();
        }
      };
      const got = await run(s.port);
      t.match(
        got,
        /\*2\r\n:1\r\n\+OK\r\n>3\r\n\$7\r\nmessage\r\n\$1\r\ns\r\n\$1\r\na\r\n>4\r\n.*__keyevent@0__:set\r\n\$2\r\nmk\r\n\+PONG\r\n\+OK\r\n$/s,
      );
      if (haveRedis()) {
        const r = await startRedis();
        t.teardown(() => r.stop());
        t.equal(got, await run(r.port), 'the same bytes as redis-server');
      }
    });

    t.test('confirmations are pushes: CLIENT REPLY OFF and SKIP do not hold them, as in redis-server', async (t) => {
      const pipeline = Buffer.from(
        'CLIENT REPLY OFF\r\nSUBSCRIBE a b\r\nUNSUBSCRIBE a b\r\nCLIENT REPLY SKIP\r\nPSUBSCRIBE p\r\nPING\r\nPUNSUBSCRIBE\r\nCLIENT REPLY ON\r\nPING\r\n',
      );
      const run = async (port: number): Promise<string> => {
        const c = await RawClient.open(port);
        try {
          c.send(pipeline);
          let out = '';
          const deadline = Date.now() + 5000;
          while (!out.endsWith('+PONG\r\n') && Date.now() < deadline) out += (await c.read(1, 1000)).toString('latin1');
          return out;
        } finally {
          c.close();
        }
      };
      const got = await run(s.port);
      t.equal(
        got,
        '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n' +
          '*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n' +
          '*3\r\n$10\r\npsubscribe\r\n$1\r\np\r\n:1\r\n*3\r\n$12\r\npunsubscribe\r\n$1\r\np\r\n:0\r\n+OK\r\n+PONG\r\n',
      );
      if (haveRedis()) {
        const r = await startRedis();
        t.teardown(() => r.stop());
        t.equal(got, await run(r.port), 'the same bytes as redis-server');
      }
    });

    t.test("a served BLPOP's event follows the LPUSH's, as in redis-server", async (t) => {
      const run = async (port: number): Promise<[string, string]> => {
        const [a, sub, b] = await Promise.all([RawClient.open(port), RawClient.open(port), RawClient.open(port)]);
        try {
          await a.call(cmd('CONFIG', 'SET', 'notify-keyspace-events', 'KEA'), 5);
          await sub.call(cmd('PSUBSCRIBE', '__keyevent@0__:*'), 10);
          b.send(cmd('BLPOP', 'served', '0'));
          await sleep(100);
          await a.call(cmd('LPUSH', 'served', 'x', 'y'), 4);
          const popped = (await b.read(23, 2000)).toString('latin1');
          let events = '';
          const deadline = Date.now() + 2000;
          while (!events.includes('lpop') && Date.now() < deadline) events += (await sub.read(1, 500)).toString('latin1');
          await a.call(cmd('CONFIG', 'SET', 'notify-keyspace-events', ''), 5);
          await a.call(cmd('DEL', 'served'), 4);
          return [events, popped];
        } finally {
          for (const c of [a, sub, b]) c.close();
        }
      };
      const got = await run(s.port);
      t.same(got, [
        '*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$20\r\n__keyevent@0__:lpush\r\n$6\r\nserved\r\n' +
          '*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$19\r\n__keyevent@0__:lpop\r\n$6\r\nserved\r\n',
        '*2\r\n$6\r\nserved\r\n$1\r\ny\r\n',
      ]);
      if (haveRedis()) {
        const r = await startRedis();
        t.teardown(() => r.stop());
        t.same(got, await run(r.port), 'the same bytes as redis-server');
      }
    });

    t.test('a subscriber that goes leaves nothing behind', async (t) => {
      const c = await ReplyReader.open(s.port);
      c.send(cmd('SUBSCRIBE', 'gone1', 'gone2'));
      c.send(cmd('PSUBSCRIBE', 'gone*'));
      c.send(cmd('SSUBSCRIBE', 'gone3'));
      for (let i = 0; i < 4; i++) await c.next();
      t.same(await admin.call('PUBSUB', 'NUMSUB', 'gone1'), [Buffer.from('gone1'), 1]);
      c.close();
      await sleep(200);
      t.same(await admin.call('PUBSUB', 'NUMSUB', 'gone1', 'gone2'), [Buffer.from('gone1'), 0, Buffer.from('gone2'), 0]);
      t.same(await admin.call('PUBSUB', 'SHARDNUMSUB', 'gone3'), [Buffer.from('gone3'), 0]);
      t.equal(await admin.call('PUBSUB', 'NUMPAT'), 0);
      t.equal(await admin.call('PUBLISH', 'gone1', 'x'), 0);
      t.match(String(await admin.call('INFO', 'stats')), /pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0/);
    });

    t.test('a write on one worker notifies a subscriber on the other', async (t) => {
      const subs = await spread(admin, 2, () => ReplyReader.open(s.port));
      const writers = await spread(admin, 2, () => Client.open(s.port));
      t.teardown(() => {
        for (const [c] of subs) c.close();
        for (const [c] of writers) c.close();
      });
      await admin.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
      t.teardown(() => admin.call('CONFIG', 'SET', 'notify-keyspace-events', ''));
      for (const [c] of subs) {
        c.send(cmd('SUBSCRIBE', '__keyevent@0__:lpush'));
        await c.next();
      }
      // Every subscriber hears every write, whichever worker ran it.
      for (const [c, w] of writers) await c.call('LPUSH', `list-from-${w}`, 'v');
      for (const [c] of subs) {
        for (const [, w] of writers) {
          const m = `list-from-${w}`;
          t.equal(String(await c.next()), `*3\r\n$7\r\nmessage\r\n$20\r\n__keyevent@0__:lpush\r\n$${m.length}\r\n${m}\r\n`);
        }
      }
      for (const [c] of subs) {
        c.send(cmd('RESET'));
        t.equal(String(await c.next()), '+RESET\r\n');
      }
      t.equal(await admin.call('PUBLISH', '__keyevent@0__:lpush', 'x'), 0, 'RESET left the channel');
    });

    t.test('stress (d): 10 subscribers on both workers each get all 10,000 messages, in order', async (t) => {
      const N = 10_000;
      const subs = await spread(admin, 10, () => subscriber(s.port, 'stream'));
      t.teardown(() => {
        for (const [r] of subs) r.disconnect();
      });
      t.equal(new Set(subs.map(([, w]) => w)).size, 2, 'subscribers on both workers');
      const done = subs.map(
        ([r]) =>
          new Promise<number>((resolve) => {
            let next = 0;
            let bad = 0;
            r.on('message', (_ch: string, m: string) => {
              if (Number(m) !== next) bad++;
              next++;
              if (next === N) resolve(bad);
            });
          }),
      );
      const pub = await subscriber(s.port);
      t.teardown(() => pub.disconnect());
      let receivers = 0;
      for (let i = 0; i < N; i += 500) {
        const p = pub.pipeline();
        for (let j = i; j < i + 500; j++) p.publish('stream', String(j));
        for (const [, n] of (await p.exec()) ?? []) receivers += Number(n);
      }
      t.equal(receivers, N * subs.length, 'every PUBLISH counted every subscriber');
      const outOfOrder = await Promise.race([Promise.all(done), sleep(30_000).then(() => undefined)]);
      t.ok(outOfOrder !== undefined, 'every subscriber got every message');
      t.same(outOfOrder, new Array(subs.length).fill(0), 'in publish order');
    });

    t.test('stress (e): a subscriber that stops reading is closed at its limit; the others go on', async (t) => {
      await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0');
      t.teardown(() => admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60'));
      const pid = s.proc.pid as number;
      const before = rssMiB(pid);
      const slow = await RawClient.open(s.port);
      t.teardown(() => slow.close());
      slow.send(cmd('SUBSCRIBE', 'flood'));
      await slow.read(30);
      slow.socket.pause();
      const subs = await spread(admin, 4, () => subscriber(s.port, 'flood'));
      t.teardown(() => {
        for (const [r] of subs) r.disconnect();
      });
      const counts = subs.map(([r]) => {
        const n = { v: 0 };
        r.on('message', () => n.v++);
        return n;
      });
      const pub = await subscriber(s.port);
      t.teardown(() => pub.disconnect());
      const payload = 'x'.repeat(100);
      // 30 MB of messages: far past what the socket buffers hold for the client that does not
      // read. The publisher waits for the readers between batches (each batch is well under
      // the 1 MB limit), so only the client that stopped reading can reach it.
      const N = 300_000;
      const BATCH = 2000;
      let peak = 0;
      for (let i = 0; i < N; i += BATCH) {
        const p = pub.pipeline();
        for (let j = 0; j < BATCH; j++) p.publish('flood', payload);
        await p.exec();
        const caughtUp = Date.now() + 10_000;
        while (counts.some((c) => c.v < i + BATCH) && Date.now() < caughtUp) await sleep(1);
        peak = Math.max(peak, rssMiB(pid));
      }
      // A paused socket sees its end only once it reads what came before it.
      slow.socket.resume();
      t.ok(await slow.waitClosed(10_000), 'the client that stopped reading was closed');
      t.match(
        s.output(),
        /Client id=\d+ addr=\S+ .*flags=P .*scheduled to be closed ASAP for overcoming of output buffer limits\./,
        "Redis's log line",
      );
      const deadline = Date.now() + 30_000;
      while (counts.some((c) => c.v < N) && Date.now() < deadline) await sleep(50);
      t.same(
        counts.map((c) => c.v),
        new Array(subs.length).fill(N),
        'the others got every message',
      );
      t.ok(peak - before < 300, `memory bounded: peak ${peak.toFixed(0)} MiB from ${before.toFixed(0)} MiB`);
      t.same(await admin.call('PUBSUB', 'NUMSUB', 'flood'), [Buffer.from('flood'), subs.length], 'the closed client left the channel');
    });
  });
}

t.test('a worker that dies leaves no subscription behind once it is replaced', async (t) => {
  const s = await startShrike(['--threads', '1', '--enable-debug-command', 'yes']);
  t.teardown(() => s.stop());
  const sub = await ReplyReader.open(s.port);
  t.teardown(() => sub.close());
  sub.send(cmd('SUBSCRIBE', 'doomed'));
  sub.send(cmd('PSUBSCRIBE', 'doomed*'));
  await sub.next();
  await sub.next();
  const killer = await RawClient.open(s.port);
  killer.send(cmd('DEBUG', 'SEGFAULT'));
  t.ok(await killer.waitClosed(5000), 'the worker crashed');
  // Its clients' connections die with it, without a word to the registry; the replacement
  // worker purges what they held.
  let after: Client | undefined;
  for (let i = 0; i < 100 && after === undefined; i++) {
    after = await Client.open(s.port).catch(() => undefined);
    if (after === undefined) await sleep(100);
  }
  t.ok(after !== undefined, 'a replacement worker serves');
  t.teardown(() => after?.close());
  t.same(await after?.call('PUBSUB', 'NUMSUB', 'doomed'), [Buffer.from('doomed'), 0]);
  t.equal(await after?.call('PUBSUB', 'NUMPAT'), 0);
  t.equal(await after?.call('PUBLISH', 'doomed', 'x'), 0);
});
