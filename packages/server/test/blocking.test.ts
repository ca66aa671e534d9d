/**
 * Blocking commands across workers (issue 10 §3), with --threads 2 and clients placed on both
 * workers (checked through INFO threads), on both transports: a push on one worker serves a
 * client blocked on the other, first come first served per key, BLMOVE chains, fractional
 * timeouts, 0 waiting forever, CLIENT UNBLOCK, disconnects leaving nothing behind, served
 * and timeout reply shapes in RESP2 and RESP3 byte for byte against redis-server, and the
 * issue's stress test (c).
 */
import t from 'tap';
import { clientsOnBothWorkers, cmd, haveRedis, RawClient, type Running, startRedis, startShrike } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bulk reply to `request` as text. */
async function bulk(c: RawClient, request: Buffer): Promise<string> {
  c.send(request);
  let got = '';
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    got += (await c.read(1, 1000)).toString('latin1');
    const m = /^[$=](\d+)\r\n/.exec(got);
    if (m?.[1] !== undefined && got.length >= m[0].length + Number(m[1]) + 2) return got.slice(m[0].length, m[0].length + Number(m[1]));
  }
  return got;
}

/** Connected clients per worker, from INFO threads. */
async function perWorker(admin: RawClient): Promise<number[]> {
  const info = await bulk(admin, cmd('INFO', 'threads'));
  return [...info.matchAll(/connected_clients=(\d+)/g)].map((m) => Number(m[1]));
}

/** INFO clients blocked_clients. */
async function blockedClients(admin: RawClient): Promise<number> {
  const info = await bulk(admin, cmd('INFO', 'clients'));
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);
}

/** Wait until INFO says `n` clients are blocked. */
async function untilBlocked(admin: RawClient, n: number): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if ((await blockedClients(admin)) === n) return true;
    await sleep(5);
  }
  return false;
}

/** Read exactly the bytes of `want` (or what came within the time) as text. */
async function expect(c: RawClient, want: string, timeoutMs = 3000): Promise<string> {
  return (await c.read(Buffer.byteLength(want, 'latin1'), timeoutMs)).toString('latin1');
}

/** Nothing arrives on `c` for `ms`. */
async function silent(c: RawClient, ms: number): Promise<string> {
  return (await c.read(1, ms)).toString('latin1');
}

/** A served reply and a timeout reply of every blocking command, as `port` writes them. */
async function shapes(port: number, proto: 2 | 3): Promise<string[]> {
  const open = async (): Promise<RawClient> => {
    const c = await RawClient.open(port);
    if (proto === 3) {
      c.send(cmd('HELLO', '3'));
      await c.read(100, 300);
      await c.read(100_000, 100);
    }
    return c;
  };
  const waiter = await open();
  const pusher = await open();
  const out: string[] = [];
  try {
    await pusher.call(cmd('FLUSHALL'), 5);
    const cases: [string[], string[], string[]][] = [
      [
        ['BLPOP', 's:a', 's:b', '0'],
        ['RPUSH', 's:b', 'x', 'y'],
        ['BLPOP', 's:n', '0.05'],
      ],
      [
        ['BRPOP', 's:a', '0'],
        ['RPUSH', 's:a', 'x', 'y'],
        ['BRPOP', 's:n', 's:o', '0.05'],
      ],
      [
        ['BLMOVE', 's:m', 's:d', 'LEFT', 'RIGHT', '0'],
        ['RPUSH', 's:m', 'v'],
        ['BLMOVE', 's:n', 's:d', 'LEFT', 'RIGHT', '0.05'],
      ],
      [
        ['BRPOPLPUSH', 's:r', 's:d', '0'],
        ['RPUSH', 's:r', 'v'],
        ['BRPOPLPUSH', 's:n', 's:d', '0.05'],
      ],
      [
        ['BLMPOP', '0', '2', 's:p', 's:q', 'RIGHT', 'COUNT', '3'],
        ['RPUSH', 's:q', 'a', 'b'],
        ['BLMPOP', '0.05', '1', 's:n', 'LEFT'],
      ],
      [
        ['BZPOPMIN', 's:z', '0'],
        ['ZADD', 's:z', '1.5', 'm', '2', 'n'],
        ['BZPOPMIN', 's:n', '0.05'],
      ],
      [
        ['BZPOPMAX', 's:y', '0'],
        ['ZADD', 's:y', '1', 'm', '-inf', 'n'],
        ['BZPOPMAX', 's:n', '0.05'],
      ],
      [
        ['BZMPOP', '0', '1', 's:x', 'MAX', 'COUNT', '5'],
        ['ZADD', 's:x', '1', 'a', '2', 'b'],
        ['BZMPOP', '0.05', '1', 's:n', 'MIN'],
      ],
    ];
    for (const [block, push, timeout] of cases) {
      waiter.send(cmd(...block));
      await sleep(30);
      await pusher.call(cmd(...push), 4);
      out.push(`${block[0]} served: ${(await waiter.read(1, 2000)).toString('latin1')}`);
      await sleep(10);
      out.push(`${block[0]} more: ${(await waiter.read(100_000, 10)).toString('latin1')}`);
      out.push(`${block[0]} timeout: ${await waiter.call(cmd(...timeout), 1, 2000)}`);
    }
    // CLIENT UNBLOCK's replies to the blocked client.
    const id = (await waiter.call(cmd('CLIENT', 'ID'), 4)).trim();
    for (const how of ['TIMEOUT', 'ERROR']) {
      waiter.send(cmd('BLPOP', 's:none', '0'));
      await sleep(30);
      out.push(`unblock ${how}: ${await pusher.call(cmd('CLIENT', 'UNBLOCK', id.slice(1), how), 4)}`);
      out.push(`unblocked ${how}: ${(await waiter.read(1, 2000)).toString('latin1')}`);
    }
  } finally {
    waiter.close();
    pusher.close();
  }
  return out;
}

for (const mode of ['yes', 'no']) {
  t.test(`io-uring ${mode}`, async (t) => {
    const s: Running = await startShrike(['--threads', '2', '--io-uring', mode]);
    t.teardown(() => s.stop());
    const admin = await RawClient.open(s.port);
    t.teardown(() => admin.close());
    const opened: RawClient[] = [];
    t.teardown(() => {
      for (const c of opened) c.close();
    });
    /** A client on each worker: [on worker 0, on worker 1]. */
    const pair = async (): Promise<RawClient[]> => {
      const p = await clientsOnBothWorkers(s.port);
      opened.push(...p);
      return p;
    };
    const [a0, a1] = (await pair()) as [RawClient, RawClient];
    const [b0, b1] = (await pair()) as [RawClient, RawClient];

    t.test('a push on one worker serves a client blocked on the other', async (t) => {
      for (const [waiter, pusher] of [
        [a0, a1],
        [a1, a0],
      ] as const) {
        waiter.send(cmd('BLPOP', 'x:k', '0'));
        t.ok(await untilBlocked(admin, 1), 'blocked');
        t.equal(await pusher.call(cmd('RPUSH', 'x:k', 'v1', 'v2'), 4), ':2\r\n');
        t.equal(await expect(waiter, '*2\r\n$3\r\nx:k\r\n$2\r\nv1\r\n'), '*2\r\n$3\r\nx:k\r\n$2\r\nv1\r\n');
        t.equal(await pusher.call(cmd('LPOP', 'x:k'), 8), '$2\r\nv2\r\n');
      }
      t.equal(await blockedClients(admin), 0);
    });

    t.test('the pusher sees the served pop in its next pipelined command', async (t) => {
      a1.send(cmd('BRPOP', 'x:p', '0'));
      t.ok(await untilBlocked(admin, 1));
      a0.send(Buffer.concat([cmd('LPUSH', 'x:p', 'v'), cmd('LLEN', 'x:p')]));
      t.equal(await expect(a0, ':1\r\n:0\r\n'), ':1\r\n:0\r\n');
      t.equal(await expect(a1, '*2\r\n$3\r\nx:p\r\n$1\r\nv\r\n'), '*2\r\n$3\r\nx:p\r\n$1\r\nv\r\n');
    });

    t.test('clients blocked on one key are served first come, first served', async (t) => {
      const order = [a1, a0, b1, b0];
      for (const [i, c] of order.entries()) {
        c.send(cmd('BLPOP', 'x:f', '0'));
        t.ok(await untilBlocked(admin, i + 1));
      }
      const list = await bulk(admin, cmd('CLIENT', 'LIST'));
      t.equal((list.match(/flags=b /g) ?? []).length, 4, 'CLIENT LIST shows four blocked clients');
      t.equal(await admin.call(cmd('RPUSH', 'x:f', '1', '2', '3'), 4), ':3\r\n');
      for (const [i, c] of order.slice(0, 3).entries()) {
        const want = `*2\r\n$3\r\nx:f\r\n$1\r\n${i + 1}\r\n`;
        t.equal(await expect(c, want), want, `blocked #${i + 1} got element ${i + 1}`);
      }
      t.equal(await silent(b0, 100), '', 'the fourth still waits');
      t.equal(await a1.call(cmd('RPUSH', 'x:f', '4'), 4), ':1\r\n');
      t.equal(await expect(b0, '*2\r\n$3\r\nx:f\r\n$1\r\n4\r\n'), '*2\r\n$3\r\nx:f\r\n$1\r\n4\r\n');
    });

    t.test('a BLMOVE chain passes one element along, across workers', async (t) => {
      a0.send(cmd('BLMOVE', 'x:c1', 'x:c2', 'RIGHT', 'LEFT', '0'));
      t.ok(await untilBlocked(admin, 1));
      a1.send(cmd('BRPOPLPUSH', 'x:c2', 'x:c3', '0'));
      t.ok(await untilBlocked(admin, 2));
      b0.send(cmd('BLPOP', 'x:c3', '0'));
      t.ok(await untilBlocked(admin, 3));
      t.equal(await b1.call(cmd('LPUSH', 'x:c1', 'v'), 4), ':1\r\n');
      t.equal(await expect(a0, '$1\r\nv\r\n'), '$1\r\nv\r\n');
      t.equal(await expect(a1, '$1\r\nv\r\n'), '$1\r\nv\r\n');
      t.equal(await expect(b0, '*2\r\n$4\r\nx:c3\r\n$1\r\nv\r\n'), '*2\r\n$4\r\nx:c3\r\n$1\r\nv\r\n');
      t.equal(await b1.call(cmd('EXISTS', 'x:c1', 'x:c2', 'x:c3'), 4), ':0\r\n');
    });

    t.test('fractional timeouts answer null; 0 waits until served', async (t) => {
      const started = Date.now();
      t.equal(await a1.call(cmd('BLPOP', 'x:t', '0.25'), 5, 3000), '*-1\r\n');
      const took = Date.now() - started;
      t.ok(took >= 240 && took < 2000, `timed out after ${took} ms`);
      const r3 = (await pair())[0] as RawClient;
      r3.send(cmd('HELLO', '3'));
      await r3.read(100, 1000);
      await r3.read(100_000, 50);
      t.equal(await r3.call(cmd('BZPOPMIN', 'x:t', '0.05'), 3, 3000), '_\r\n', 'RESP3 null');
      t.equal(await a0.call(cmd('BLMOVE', 'x:t', 'x:u', 'LEFT', 'LEFT', '0.05'), 5, 3000), '*-1\r\n');
      a0.send(cmd('BLPOP', 'x:t', '0'));
      t.equal(await silent(a0, 600), '', 'no reply while nothing is pushed');
      t.equal(await blockedClients(admin), 1);
      t.equal(await b1.call(cmd('RPUSH', 'x:t', 'late'), 4), ':1\r\n');
      t.equal(await expect(a0, '*2\r\n$3\r\nx:t\r\n$4\r\nlate\r\n'), '*2\r\n$3\r\nx:t\r\n$4\r\nlate\r\n');
    });

    t.test('what a blocked client pipelined runs after its reply', async (t) => {
      a1.send(Buffer.concat([cmd('BLPOP', 'x:q', '0'), cmd('PING'), cmd('LLEN', 'x:q')]));
      t.ok(await untilBlocked(admin, 1));
      t.equal(await silent(a1, 100), '');
      await b0.call(cmd('RPUSH', 'x:q', 'a', 'b'), 4);
      const want = '*2\r\n$3\r\nx:q\r\n$1\r\na\r\n+PONG\r\n:1\r\n';
      t.equal(await expect(a1, want), want);
    });

    t.test('CLIENT UNBLOCK from the other worker, both ways', async (t) => {
      const id = (await a0.call(cmd('CLIENT', 'ID'), 3)).slice(1, -2);
      a0.send(cmd('BLPOP', 'x:n', '0'));
      t.ok(await untilBlocked(admin, 1));
      t.equal(await a1.call(cmd('CLIENT', 'UNBLOCK', id), 4), ':1\r\n');
      t.equal(await expect(a0, '*-1\r\n'), '*-1\r\n');
      t.equal(await a1.call(cmd('CLIENT', 'UNBLOCK', id), 4), ':0\r\n', 'no longer blocked');
      a0.send(cmd('BZPOPMAX', 'x:n', '0'));
      t.ok(await untilBlocked(admin, 1));
      t.equal(await a1.call(cmd('CLIENT', 'UNBLOCK', id, 'ERROR'), 4), ':1\r\n');
      const err = '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n';
      t.equal(await expect(a0, err), err);
      t.equal(await a0.call(cmd('PING'), 7), '+PONG\r\n', 'the client goes on');
      t.equal(await blockedClients(admin), 0);
    });

    t.test('a client that disconnects while blocked leaves nothing behind', async (t) => {
      const gone = (await pair())[1] as RawClient;
      gone.send(cmd('BLPOP', 'x:d', '0'));
      t.ok(await untilBlocked(admin, 1));
      gone.close();
      t.ok(await untilBlocked(admin, 0), 'unregistered');
      t.equal(await a0.call(cmd('RPUSH', 'x:d', 'kept'), 4), ':1\r\n');
      t.equal(await a0.call(cmd('LLEN', 'x:d'), 4), ':1\r\n', 'the push stayed in the list');
      const info = await bulk(admin, cmd('INFO', 'clients'));
      t.match(info, /total_blocking_keys:0/);
    });

    t.test('inside MULTI a blocking command does not block', async (t) => {
      // MULTI/EXEC is the txn branch's; without it, MULTI is unknown and nothing is tested here.
      const c = (await pair())[1] as RawClient;
      const multi = await c.call(cmd('MULTI'), 5, 500);
      if (multi !== '+OK\r\n') {
        t.pass('MULTI is not on this branch');
        return;
      }
      t.equal(await c.call(cmd('BLPOP', 'x:m', '0'), 9), '+QUEUED\r\n');
      t.equal(await c.call(cmd('EXEC'), 9), '*1\r\n*-1\r\n');
    });

    t.test('stress (c): 50 clients blocked on 5 keys are each served once, FIFO per key', async (t) => {
      const keys = ['s:0', 's:1', 's:2', 's:3', 's:4'];
      const blocked: { c: RawClient; key: string; rank: number }[] = [];
      const extra: RawClient[] = [];
      t.teardown(() => {
        for (const c of extra) c.close();
      });
      for (let i = 0; i < 50; i++) {
        const c = await RawClient.open(s.port);
        extra.push(c);
        const key = keys[i % 5] as string;
        c.send(cmd('BLPOP', key, '0'));
        t.ok(await untilBlocked(admin, i + 1), `client ${i} blocked`);
        blocked.push({ c, key, rank: Math.floor(i / 5) });
      }
      const counts = await perWorker(admin);
      t.ok(
        counts.every((n) => n > 5),
        `clients on both workers: ${counts.join(', ')}`,
      );
      const pushers = await Promise.all(Array.from({ length: 50 }, () => RawClient.open(s.port)));
      extra.push(...pushers);
      // Each key's pushes go one after another (so their order is known); keys run at once.
      await Promise.all(
        keys.map(async (key, k) => {
          for (let r = 0; r < 10; r++) {
            const p = pushers[k * 10 + r] as RawClient;
            const reply = await p.call(cmd('RPUSH', key, `${key}-${r}`), 4);
            if (reply !== ':1\r\n' && reply !== ':0\r\n') t.fail(`push ${key} ${r}: ${reply}`);
          }
        }),
      );
      for (const { c, key, rank } of blocked) {
        const v = `${key}-${rank}`;
        const want = `*2\r\n$3\r\n${key}\r\n$${v.length}\r\n${v}\r\n`;
        const got = await expect(c, want);
        if (got !== want) t.equal(got, want, `blocked #${rank} on ${key}`);
        const more = await silent(c, 1);
        if (more !== '') t.fail(`served twice: ${more}`);
      }
      t.equal(await blockedClients(admin), 0, 'nobody left blocked');
      t.equal(await a0.call(cmd('EXISTS', ...keys), 4), ':0\r\n', 'every pushed element was taken');
    });
  });
}

t.test('served and timeout replies match redis-server byte for byte, RESP2 and RESP3', { skip: !haveRedis() }, async (t) => {
  const ref = await startRedis();
  t.teardown(() => ref.stop());
  for (const mode of ['yes', 'no']) {
    const s = await startShrike(['--threads', '2', '--io-uring', mode]);
    for (const proto of [2, 3] as const) {
      const [want, got] = await Promise.all([shapes(ref.port, proto), shapes(s.port, proto)]);
      t.same(got, want, `io-uring ${mode}, RESP${proto}`);
      const empty = want.filter((line) => line.endsWith(': ') && !line.includes(' more: '));
      t.same(empty, [], 'the reference answered every one');
    }
    await s.stop();
  }
});

t.test('two clients of one worker serve each other through a pipelined chain of blocks', async (t) => {
  // Each serve is mail the worker posts to itself, taken without its eventfd and answered
  // before the turn's sends; every reply must still arrive, in order, on both transports.
  const n = 300;
  for (const mode of ['yes', 'no']) {
    const s = await startShrike(['--threads', '1', '--io-uring', mode]);
    const [a, b] = [await RawClient.open(s.port), await RawClient.open(s.port)];
    const aWant: string[] = [];
    const bWant: string[] = [];
    const aSend: Buffer[] = [];
    const bSend: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      bSend.push(cmd('LPUSH', 'chain:a', `${i}`), cmd('BLPOP', 'chain:b', '0'));
      bWant.push(':1\r\n', `*2\r\n$7\r\nchain:b\r\n$${`${i}`.length}\r\n${i}\r\n`);
      aSend.push(cmd('BLPOP', 'chain:a', '0'), cmd('LPUSH', 'chain:b', `${i}`));
      aWant.push(`*2\r\n$7\r\nchain:a\r\n$${`${i}`.length}\r\n${i}\r\n`, ':1\r\n');
    }
    b.send(Buffer.concat(bSend));
    a.send(Buffer.concat(aSend));
    const [aGot, bGot] = await Promise.all([expect(a, aWant.join(''), 10000), expect(b, bWant.join(''), 10000)]);
    t.equal(aGot, aWant.join(''), `io-uring ${mode}: the popping pusher's replies`);
    t.equal(bGot, bWant.join(''), `io-uring ${mode}: the pushing popper's replies`);
    a.close();
    b.close();
    await s.stop();
  }
});

t.test('a block under CLIENT REPLY OFF ends without a reply; the next block is answered', async (t) => {
  // Its reply is not queued by the ring (the batch said replies are dropped): only what
  // CLIENT REPLY ON writes arrives, then the served reply of a block with replies on.
  for (const mode of ['yes', 'no']) {
    const s = await startShrike(['--threads', '1', '--io-uring', mode]);
    const [waiter, pusher, admin] = [await RawClient.open(s.port), await RawClient.open(s.port), await RawClient.open(s.port)];
    waiter.send(Buffer.concat([cmd('CLIENT', 'REPLY', 'OFF'), cmd('BLPOP', 'off:k', '0')]));
    t.ok(await untilBlocked(admin, 1), `io-uring ${mode}: blocked`);
    t.equal(await pusher.call(cmd('RPUSH', 'off:k', 'a'), 4), ':1\r\n');
    t.ok(await untilBlocked(admin, 0), 'served');
    waiter.send(Buffer.concat([cmd('CLIENT', 'REPLY', 'ON'), cmd('BLPOP', 'off:k', '0')]));
    t.ok(await untilBlocked(admin, 1), 'blocked again');
    t.equal(await pusher.call(cmd('RPUSH', 'off:k', 'b'), 4), ':1\r\n');
    const want = '+OK\r\n*2\r\n$5\r\noff:k\r\n$1\r\nb\r\n';
    t.equal(await expect(waiter, want), want, 'only the answered block and REPLY ON reply');
    t.equal(await silent(waiter, 100), '', 'nothing more');
    for (const c of [waiter, pusher, admin]) c.close();
    await s.stop();
  }
});

t.test("a push on another worker writes the served reply itself, while the client's worker is busy", async (t) => {
  // The blocked client's worker lent its socket (nothing was queued for it): the pushing
  // worker writes the reply at once. What the client sent after the block still waits for
  // its own worker. A reply too big for the socket leaves its rest to that worker, intact.
  // Through Node sockets the reply waits for the worker, and arrives all the same.
  for (const mode of ['yes', 'no']) {
    const s = await startShrike(['--threads', '2', '--io-uring', mode, '--enable-debug-command', 'yes']);
    const [waiter, pusher] = await clientsOnBothWorkers(s.port);
    const [sleeper, spare] = await clientsOnBothWorkers(s.port);
    const admin = await RawClient.open(s.port);
    for (const size of [1, 16 * 1024 * 1024]) {
      const value = Buffer.alloc(size, 0x76);
      waiter.send(Buffer.concat([cmd('BLPOP', 'direct:k', '0'), cmd('ECHO', 'after')]));
      t.ok(await untilBlocked(admin, 1), `io-uring ${mode}, ${size} B: blocked`);
      // The waiter's worker sleeps for 2 s; the push comes from the other worker.
      sleeper.send(cmd('DEBUG', 'SLEEP', '2'));
      await sleep(100);
      const pushedAt = Date.now();
      t.equal(await pusher.call(cmd('RPUSH', 'direct:k', value), 4, 10000), ':1\r\n', 'pushed');
      const head = `*2\r\n$8\r\ndirect:k\r\n$${size}\r\n`;
      const replyLen = head.length + size + 2;
      let got = await waiter.read(replyLen, 10000);
      const servedIn = Date.now() - pushedAt;
      if (mode === 'yes' && size === 1) t.ok(servedIn < 1000, `served while its worker slept: ${servedIn} ms after the push`);
      // The rest of a big reply and the reply after it may come in one read.
      if (got.length < replyLen + 11) got = Buffer.concat([got, await waiter.read(replyLen + 11 - got.length, 5000)]);
      t.equal(got.length, replyLen + 11, 'the whole reply arrived, and the next');
      t.equal(got.subarray(0, head.length).toString('latin1'), head, 'its header');
      t.ok(got.subarray(head.length, head.length + size).equals(value), 'its value, intact');
      t.equal(got.subarray(replyLen).toString('latin1'), '$5\r\nafter\r\n', 'then what it sent after the block');
      t.equal(await expect(sleeper, '+OK\r\n', 5000), '+OK\r\n', 'the sleep ended');
    }
    // Blocked again, then gone: the next push finds nobody and stores its value.
    waiter.send(cmd('BLPOP', 'direct:k', '0'));
    t.ok(await untilBlocked(admin, 1), 'blocked again');
    waiter.close();
    t.ok(await untilBlocked(admin, 0), 'its block went with it');
    t.equal(await pusher.call(cmd('RPUSH', 'direct:k', 'kept'), 4), ':1\r\n', 'the push is kept');
    t.equal(await admin.call(cmd('LPOP', 'direct:k'), 10), '$4\r\nkept\r\n');
    for (const c of [pusher, sleeper, spare, admin]) c.close();
    await s.stop();
  }
});
