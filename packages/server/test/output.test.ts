/**
 * The output path, bounded: a client that pipelines far more replies than it reads is held
 * back (its input waits) instead of making the process buffer them all; client memory shows
 * in CLIENT LIST and INFO; client-output-buffer-limit closes a client over it, with Redis's
 * log line; memory freed goes back to the system. Both transports.
 */
import t from 'tap';
import { cmd, haveRedis, RawClient, type Running, rssMiB, startRedis, startShrike } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line of CLIENT LIST's fields as a map. */
function fields(line: string): Map<string, string> {
  return new Map(line.split(' ').map((kv) => kv.split('=', 2) as [string, string]));
}

/** Input held by a client other than the one asking (whose qbuf counts its CLIENT LIST, as in Redis). */
const holdsInput = (f: Map<string, string>): boolean => Number(f.get('qbuf')) > 0 && f.get('cmd') !== 'client|list';

async function clientList(c: RawClient): Promise<string[]> {
  c.send(cmd('CLIENT', 'LIST'));
  let text = '';
  const deadline = Date.now() + 5000;
  while (!/^\$\d+\r\n[\s\S]*\r\n$/.test(text) && Date.now() < deadline) text += (await c.read(1, 1000)).toString();
  return (
    text
      .split('\r\n')[1]
      ?.split('\n')
      .filter((l) => l !== '') ?? []
  );
}

async function info(c: RawClient, section: string): Promise<string> {
  c.send(cmd('INFO', section));
  let text = '';
  const deadline = Date.now() + 5000;
  while (!/^\$\d+\r\n[\s\S]*\r\n$/.test(text) && Date.now() < deadline) text += (await c.read(1, 1000)).toString();
  return text;
}

const MiB = 1024 * 1024;

for (const mode of ['yes', 'no']) {
  t.test(`io-uring ${mode}`, async (t) => {
    const s: Running = await startShrike(['--threads', '2', '--io-uring', mode]);
    t.teardown(() => s.stop());
    const pid = s.proc.pid as number;
    const admin = await RawClient.open(s.port);
    t.teardown(() => admin.close());
    t.equal(await admin.call(cmd('SET', 'big', Buffer.alloc(MiB, 0x61)), 5, 10000), '+OK\r\n');

    t.test('1,000 pipelined GETs of 1 MB, never read: memory stays bounded', async (t) => {
      await sleep(300);
      const before = rssMiB(pid);
      for (let round = 0; round < 2; round++) {
        const flood = await RawClient.open(s.port);
        flood.socket.pause();
        // One write of 1,000 requests: replies would total 1 GB if all were buffered.
        flood.send(Buffer.from('GET big\r\n'.repeat(1000)));
        let peak = 0;
        for (let i = 0; i < 30; i++) {
          await sleep(50);
          peak = Math.max(peak, rssMiB(pid));
        }
        // Redis buffers all 1 GB; Shrike holds the client's input back past 8 MB of output.
        t.ok(peak - before < 200, `round ${round}: peak ${peak.toFixed(0)} MiB, from ${before.toFixed(0)} MiB`);
        const mine = (await clientList(admin)).map(fields).find(holdsInput);
        t.ok(mine !== undefined, 'the flooding client shows its waiting input (qbuf)');
        t.ok(Number(mine?.get('omem')) > 0, `omem reports its pending output (${mine?.get('omem')})`);
        t.ok(Number(mine?.get('tot-mem')) >= Number(mine?.get('omem')), 'tot-mem covers it');
        t.ok(Number(mine?.get('oll')) >= 1, 'oll counts its output buffers');
        await sleep(150);
        const mem = /mem_clients_normal:(\d+)/.exec(await info(admin, 'memory'));
        t.ok(Number(mem?.[1]) > MiB, `INFO mem_clients_normal counts it (${mem?.[1]})`);
        flood.close();
        await sleep(800);
        const after = rssMiB(pid);
        t.ok(after - before < 100, `round ${round}: back to ${after.toFixed(0)} MiB after it left`);
      }
    });

    t.test('a slow reader is slowed, not dropped: it gets every reply, in order', async (t) => {
      const c = await RawClient.open(s.port);
      t.teardown(() => c.close());
      c.socket.pause();
      const n = 120;
      let req = '';
      for (let i = 0; i < n; i++) req += `GET big\r\nINCR seq:${mode}\r\n`;
      c.send(Buffer.from(req));
      await sleep(500);
      c.socket.resume();
      const one = `$${MiB}\r\n`.length + MiB + 2;
      let got = Buffer.alloc(0);
      const deadline = Date.now() + 30000;
      let counters = 0;
      let outOfOrder = 0;
      while (counters < n && Date.now() < deadline && !c.closed) {
        got = Buffer.concat([got, await c.read(1, 1000)]);
        // Consume whole replies: a 1 MB bulk, then the counter.
        while (got.length >= one && got[0] === 0x24) {
          const end = got.indexOf('\r\n', one);
          if (end < 0) break;
          counters++;
          if (got.subarray(one, end).toString() !== `:${counters}`) outOfOrder++;
          got = got.subarray(end + 2);
        }
      }
      t.equal(counters, n, 'every GET and INCR answered');
      t.equal(outOfOrder, 0, 'counters in order, each after its GET');
    });

    t.test('client-output-buffer-limit closes a client over its hard limit', async (t) => {
      t.equal(await admin.call(cmd('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 2mb 0 0'), 5), '+OK\r\n');
      t.teardown(() => admin.call(cmd('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0'), 5));
      const c = await RawClient.open(s.port);
      c.socket.pause();
      c.send(Buffer.from('GET big\r\n'.repeat(50)));
      c.socket.resume();
      t.ok(await c.waitClosed(5000), 'closed');
      await sleep(100);
      t.match(
        s.output(),
        /Client id=\d+ addr=\S+ .*scheduled to be closed ASAP for overcoming of output buffer limits\./,
        "Redis's log line",
      );
      t.equal(await admin.call(cmd('PING'), 7), '+PONG\r\n', 'others carry on');
    });

    t.test('and one over its soft limit for longer than its seconds', async (t) => {
      t.equal(await admin.call(cmd('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 1mb 1'), 5), '+OK\r\n');
      t.teardown(() => admin.call(cmd('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0'), 5));
      const c = await RawClient.open(s.port);
      c.socket.pause();
      c.send(Buffer.from('GET big\r\n'.repeat(20)));
      // The client reads nothing (so it cannot see a close yet): ask the server instead.
      const listed = async (): Promise<boolean> => (await clientList(admin)).map(fields).some(holdsInput);
      await sleep(300);
      t.ok(await listed(), 'not yet: under a second over the soft limit');
      await sleep(1200);
      t.notOk(await listed(), 'gone once over it for more than a second');
      c.socket.resume();
      t.ok(await c.waitClosed(5000), 'closed once over it for more than a second');
    });
  });
}

t.test('client-output-buffer-limit reads and fails as in Redis', { skip: !haveRedis() && 'no redis-server' }, async (t) => {
  const servers = [await startShrike(['--threads', '1']), await startRedis()];
  t.teardown(() => Promise.all(servers.map((s) => s.stop())));
  const replies: string[][] = [];
  for (const s of servers) {
    const c = await RawClient.open(s.port);
    const out: string[] = [];
    for (const args of [
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 512kb 10 pubsub 64mb 16mb 90'],
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 512kb'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'master 1mb 512kb 10'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1xb 512kb 10'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'replica 1gb 1gb -1'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'replica 1gb 1gb 7'],
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
    ]) {
      c.send(cmd(...args));
      out.push((await c.read(1, 2000)).toString());
    }
    c.close();
    replies.push(out);
  }
  t.same(replies[0], replies[1], 'same replies as redis-server');
});

t.test("the ring's read pool goes back to the system after a burst, and reading goes on", async (t) => {
  // No release delay: the trim comes at the first quiet moment (memory-release.test.ts has the delay).
  const s = await startShrike(['--threads', '1', '--io-uring', 'yes', '--memory-release-delay', '0']);
  t.teardown(() => s.stop());
  const pid = s.proc.pid as number;
  const idle = await RawClient.open(s.port);
  t.teardown(() => idle.close());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n');
  await sleep(500);
  const before = rssMiB(pid);
  // 12 MB through the worker's reads (4 MiB of 64 KiB buffers, each one touched): values
  // under the big-argument size, so every byte goes through the pool.
  const n = 400;
  const value = Buffer.alloc(30 * 1024, 0x70);
  c.send(Buffer.concat(Array.from({ length: n }, () => cmd('SET', 'pool:k', value))));
  t.equal(await c.call(Buffer.alloc(0), 5 * n, 20000), '+OK\r\n'.repeat(n), 'every SET answered');
  t.equal(await c.call(cmd('DEL', 'pool:k'), 4), ':1\r\n');
  // A quiet moment after 8 MB of input gives the C heap's free pages and the pool back.
  // Kept: the worker's 2 MiB input buffer, touched by the load; without the pool's rest the
  // process stays 4 MiB or more above where it was.
  let after = rssMiB(pid);
  for (let i = 0; i < 40 && after - before >= 3; i++) {
    await sleep(100);
    after = rssMiB(pid);
  }
  t.ok(after - before < 3, `RSS back within 3 MiB of where it was: ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`);
  // Every client's read was stopped for it and armed again.
  t.equal(await c.call(cmd('SET', 'after', 'rest'), 5), '+OK\r\n', 'the loading client is read again');
  t.equal(await idle.call(cmd('GET', 'after'), 10), '$4\r\nrest\r\n', 'so is the one that was idle');
});

t.test('big replies to clients that stay: their send buffers are reused, and go back when quiet', async (t) => {
  // Four clients take 8 x 1 MB replies a batch, batch after batch: each batch starts with
  // the room the last needed (from the ring's spares when one fits), and once the worker is
  // quiet the spares and the heap's free pages go back, though every client stays. GETRANGE
  // writes its reply into the send buffer (a GET of a big value would queue the value itself,
  // see the next test). A release delay shorter than the default minute, so that the test
  // sees it pass.
  const s = await startShrike(['--threads', '1', '--io-uring', 'yes', '--memory-release-delay', '5000']);
  t.teardown(() => s.stop());
  const pid = s.proc.pid as number;
  const admin = await RawClient.open(s.port);
  t.teardown(() => admin.close());
  t.equal(await admin.call(cmd('SET', 'big', Buffer.alloc(MiB, 0x62)), 5, 10000), '+OK\r\n');
  const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  await sleep(1500);
  const before = rssMiB(pid);
  const want = `$${MiB}\r\n${'b'.repeat(MiB)}\r\n`.repeat(8);
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 10);
  for (let batch = 0; batch < 4; batch++) {
    const got = await Promise.all(clients.map((c) => c.call(Buffer.from('GETRANGE big 0 -1\r\n'.repeat(8)), want.length, 20000)));
    t.ok(
      got.every((g) => g === want),
      `batch ${batch}: every client got its 8 replies`,
    );
  }
  clearInterval(sampler);
  // The worker trims once calm for the delay; V8's own heap, grown by the load's
  // garbage (more under coverage), shrinks only when its memory reducer runs, seconds later.
  let after = rssMiB(pid);
  for (let i = 0; i < 150 && after - before >= 12; i++) {
    await sleep(100);
    after = rssMiB(pid);
  }
  t.ok(peak - before > 16, `the batches held their output: ${before.toFixed(0)} -> ${peak.toFixed(0)} MiB`);
  t.ok(after - before < 12, `quiet again: back within 12 MiB, ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`);
  t.equal(await clients[0]?.call(cmd('PING'), 7), '+PONG\r\n', 'the clients are served on');
});

t.test('a GET of a big value queues the value, not a copy, and sends what it read', async (t) => {
  for (const mode of ['yes', 'no']) {
    const s = await startShrike(['--threads', '1', '--io-uring', mode]);
    t.teardown(() => s.stop());
    const pid = s.proc.pid as number;
    const admin = await RawClient.open(s.port);
    t.teardown(() => admin.close());
    const value = Buffer.alloc(MiB);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7) % 251;
    t.equal(await admin.call(cmd('SET', 'big', value), 5, 10000), '+OK\r\n');

    // A reader that stops reading: its GET is still queued when the value is changed and
    // deleted behind it, and it must get the value as it was when the GET ran.
    const slow = await RawClient.open(s.port);
    t.teardown(() => slow.close());
    slow.socket.pause();
    for (const proto of [2, 3]) {
      slow.send(cmd('HELLO', String(proto)));
      slow.send(cmd('GET', 'big'));
      slow.send(cmd('APPEND', 'big', 'ZZ'));
      slow.send(cmd('GET', 'big'));
      slow.send(cmd('SETRANGE', 'big', '0', 'XY'));
      slow.send(cmd('DEL', 'big'));
      slow.send(cmd('GET', 'big'));
      await sleep(300);
      // Meanwhile the value changes under another client too.
      t.equal(await admin.call(cmd('SET', 'big', value), 5, 10000), '+OK\r\n', `RESP${proto}: set again`);
      const nil = proto === 3 ? '_\r\n' : '$-1\r\n';
      const want = Buffer.concat([
        Buffer.from(`$${MiB}\r\n`),
        value,
        Buffer.from(`\r\n:${MiB + 2}\r\n$${MiB + 2}\r\n`),
        value,
        Buffer.from(`ZZ\r\n:${MiB + 2}\r\n:1\r\n${nil}`),
      ]);
      slow.socket.resume();
      let got = Buffer.alloc(0);
      while (got.length < want.length || !got.subarray(got.length - nil.length).equals(Buffer.from(nil))) {
        const more = await slow.read(1, 10000);
        if (more.length === 0) break;
        got = Buffer.concat([got, more]);
      }
      const hello = got.indexOf(Buffer.from(`$${MiB}\r\n`));
      const rest = got.subarray(hello);
      t.ok(hello > 0 && rest.equals(want), `io-uring ${mode}, RESP${proto}: each GET sent the value as it read it`);
      slow.socket.pause();
    }

    // MGET answers each big value the same way, with the nulls and small values in between.
    t.equal(await admin.call(cmd('SET', 'small', 'v'), 5), '+OK\r\n');
    const mget = Buffer.concat([
      Buffer.from(`*4\r\n$${MiB}\r\n`),
      value,
      Buffer.from('\r\n$-1\r\n$1\r\nv\r\n'),
      Buffer.from(`$${MiB}\r\n`),
      value,
      Buffer.from('\r\n'),
    ]);
    admin.send(cmd('MGET', 'big', 'nokey', 'small', 'big'));
    let mgot = Buffer.alloc(0);
    while (mgot.length < mget.length) {
      const more = await admin.read(1, 10000);
      if (more.length === 0) break;
      mgot = Buffer.concat([mgot, more]);
    }
    t.ok(mgot.equals(mget), `io-uring ${mode}: MGET of big values, byte for byte`);

    // Many GETs of one big value queued for a client that does not read: the output counts
    // their bytes (as Redis's would), but with io_uring the process does not hold a copy each.
    await sleep(1000);
    const before = rssMiB(pid);
    const idle = await RawClient.open(s.port);
    t.teardown(() => idle.close());
    idle.socket.pause();
    idle.send(Buffer.from('GET big\r\n'.repeat(12)));
    await sleep(500);
    const grew = rssMiB(pid) - before;
    const me = (await clientList(admin))
      .map(fields)
      .find((f) => f.get('cmd') === 'get' && f.get('id') !== undefined && Number(f.get('omem')) > 0);
    t.ok(Number(me?.get('omem')) >= 2 * MiB, `io-uring ${mode}: omem counts the queued values (${me?.get('omem')})`);
    // A copy each would be 12 MB, less what the kernel's socket buffers took.
    if (mode === 'yes') t.ok(grew < 3, `io-uring ${mode}: 12 MB of queued GETs took ${grew.toFixed(1)} MiB`);
    idle.socket.resume();
    const reply = Buffer.concat([Buffer.from(`$${MiB}\r\n`), value, Buffer.from('\r\n')]);
    let all = Buffer.alloc(0);
    while (all.length < 12 * reply.length) {
      const more = await idle.read(1, 10000);
      if (more.length === 0) break;
      all = Buffer.concat([all, more]);
    }
    t.ok(all.equals(Buffer.concat(Array(12).fill(reply))), `io-uring ${mode}: all twelve arrive whole`);
  }
});

t.test(
  'a 16-32 KiB value SET as an ordinary argument (given a buffer of its own by its first GET, then sent by reference: crates/keyspace tests/commands.rs): an overwrite never reaches a queued GET',
  async (t) => {
    for (const mode of ['yes', 'no']) {
      const s = await startShrike(['--threads', '1', '--io-uring', mode]);
      t.teardown(() => s.stop());
      const admin = await RawClient.open(s.port);
      t.teardown(() => admin.close());
      const size = 20 * 1024;
      const a = Buffer.alloc(size, 'a');
      const b = Buffer.alloc(size, 'b');
      t.equal(await admin.call(cmd('SET', 'mid', a), 5), '+OK\r\n');
      const slow = await RawClient.open(s.port);
      t.teardown(() => slow.close());
      slow.socket.pause();
      // Same-length overwrites, its own and another client's, while its GETs are still queued.
      slow.send(Buffer.concat([cmd('GET', 'mid'), cmd('SET', 'mid', b), cmd('GET', 'mid')]));
      await sleep(200);
      t.equal(await admin.call(cmd('SET', 'mid', a), 5), '+OK\r\n');
      const want = Buffer.concat([Buffer.from(`$${size}\r\n`), a, Buffer.from(`\r\n+OK\r\n$${size}\r\n`), b, Buffer.from('\r\n')]);
      slow.socket.resume();
      let got = Buffer.alloc(0);
      while (got.length < want.length) {
        const more = await slow.read(1, 5000);
        if (more.length === 0) break;
        got = Buffer.concat([got, more]);
      }
      t.ok(got.equals(want), `io-uring ${mode}: each GET sent the value as it read it`);
      t.equal((await admin.call(cmd('STRLEN', 'mid'), 8)).trim(), `:${size}`);
      t.equal((await admin.call(cmd('OBJECT', 'ENCODING', 'mid'), 9)).trim(), '$3\r\nraw');
    }
  },
);
