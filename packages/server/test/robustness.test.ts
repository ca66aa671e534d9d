/**
 * Hostile and broken clients: garbage bytes from many connections at once, truncated frames,
 * absurd lengths, over-long inline lines, bulks over proto-max-bulk-len, and maxclients. Each
 * bad client must get Redis's protocol error (when there is one) and be closed, while a
 * well-behaved client keeps getting correct replies and the server stays up.
 */
import t, { type Test } from 'tap';
import { cmd, RawClient, serverPerFile, startUnderTest } from './harness';

/** A small seeded PRNG (mulberry32), so that a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.SHRIKE_FUZZ_SEED ?? Date.now() % 1_000_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Send `data`, expect exactly `reply` and then the server closing the connection. */
async function expectErrorAndClose(t: Test, port: number, data: Buffer | string, reply: string, what: string): Promise<void> {
  const c = await RawClient.open(port);
  try {
    c.send(data);
    const got = (await c.read(reply.length, 3000)).toString('latin1');
    t.equal(got, reply, `${what}: error reply`);
    t.ok(await c.waitClosed(3000), `${what}: connection closed`);
  } finally {
    c.close();
  }
}

/** A client that checks every reply while the others misbehave. */
class WellBehaved {
  ok = 0;
  bad: string[] = [];
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(private readonly c: RawClient) {}

  start(): void {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let i = 0;
    while (!this.stopped) {
      i++;
      const checks: [Buffer, string][] = [
        [cmd('PING'), '+PONG\r\n'],
        [cmd('SET', 'wb:key', `v${i}`), '+OK\r\n'],
        [cmd('GET', 'wb:key'), `$${`v${i}`.length}\r\nv${i}\r\n`],
        [cmd('INCR', 'wb:n'), `:${i}\r\n`],
      ];
      const expected = checks.map(([, r]) => r).join('');
      const got = await this.c.call(Buffer.concat(checks.map(([q]) => q)), expected.length, 5000);
      if (got === expected) this.ok++;
      else {
        this.bad.push(`round ${i}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
        return;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/**
 * Open a client the server serves. The harness's PING probes close just before the test
 * starts, and the server may count them for a moment, so a refusal is retried.
 */
async function openServed(port: number): Promise<RawClient> {
  for (let attempt = 0; ; attempt++) {
    const c = await RawClient.open(port);
    const reply = await c.call(cmd('PING'), 7);
    if (reply === '+PONG\r\n') return c;
    c.close();
    if (attempt > 50) throw new Error(`not served: ${JSON.stringify(reply)}`);
    await sleep(20);
  }
}

const server = serverPerFile(['--threads', '2']);
const port = (): number => server().port;

t.test(`50 connections of garbage while a good client works (seed ${SEED})`, async (t) => {
  const rand = prng(SEED);
  const goodConn = await RawClient.open(port());
  t.equal(await goodConn.call(cmd('DEL', 'wb:key', 'wb:n'), 4), ':0\r\n', 'fresh keys');
  const good = new WellBehaved(goodConn);
  good.start();
  const prefixes = ['', '*3\r\n$3\r\nSET\r\n', '*2\r\n$', '*', '$', 'SET a ', '*1\r\n$4\r\nPI', '\r\n'];
  const bad = Array.from({ length: 50 }, async (_, n) => {
    const c = await RawClient.open(port());
    const chunks = 1 + Math.floor(rand() * 5);
    const prefix = prefixes[n % prefixes.length] ?? '';
    c.send(prefix);
    for (let k = 0; k < chunks && !c.closed; k++) {
      const junk = Buffer.alloc(1 + Math.floor(rand() * 4096));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rand() * 256);
      c.send(junk);
      await sleep(Math.floor(rand() * 10));
    }
    await c.read(1, 20 + Math.floor(rand() * 50));
    c.close();
  });
  await Promise.all(bad);
  await good.stop();
  t.same(good.bad, [], 'every reply to the good client was right');
  t.ok(good.ok > 0, `${good.ok} rounds of PING/SET/GET/INCR`);
  t.notOk(goodConn.closed, 'the good connection was never closed');
  goodConn.close();
});

t.test('truncated frames, then the client closes', async (t) => {
  const frames = [
    '*3\r\n$3\r\nSET\r\n$1\r\nk',
    '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc',
    '*2\r\n$4\r\nECHO\r\n$5\r\nhel',
    '*2\r\n',
    '*',
    '$',
    '*1\r\n$4\r\nPING\r',
    'SET k "unterminated',
    `*1\r\n$${1 << 20}\r\n${'x'.repeat(1000)}`,
    '*1000000\r\n',
  ];
  const good = await RawClient.open(port());
  for (const f of frames) {
    const c = await RawClient.open(port());
    c.send(f);
    await sleep(5);
    c.close();
    t.equal(await good.call(cmd('PING'), 7), '+PONG\r\n', `server fine after ${JSON.stringify(f.slice(0, 40))}`);
  }
  // The same, but many at once.
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const c = await RawClient.open(port());
      c.send(frames[i % frames.length] ?? '');
      await sleep(i % 7);
      c.close();
    }),
  );
  t.equal(await good.call(cmd('PING'), 7), '+PONG\r\n', 'server fine after 50 truncated clients at once');
  good.close();
});

t.test('absurd lengths get the protocol error and are closed', async (t) => {
  await expectErrorAndClose(
    t,
    port(),
    '*1\r\n$999999999999\r\n',
    '-ERR Protocol error: invalid bulk length\r\n',
    'bulk length 999999999999',
  );
  await expectErrorAndClose(t, port(), '*1\r\n$-5\r\n', '-ERR Protocol error: invalid bulk length\r\n', 'negative bulk length');
  await expectErrorAndClose(
    t,
    port(),
    '*99999999999\r\n',
    '-ERR Protocol error: invalid multibulk length\r\n',
    'multibulk count 99999999999',
  );
  await expectErrorAndClose(t, port(), '*2147483648\r\n', '-ERR Protocol error: invalid multibulk length\r\n', 'multibulk count 2^31');
  await expectErrorAndClose(t, port(), '*1\r\nx\r\n', "-ERR Protocol error: expected '$', got 'x'\r\n", "no '$'");
  await expectErrorAndClose(
    t,
    port(),
    `*${'9'.repeat(70 * 1024)}`,
    '-ERR Protocol error: too big mbulk count string\r\n',
    'a 70 KiB multibulk count',
  );
  await expectErrorAndClose(
    t,
    port(),
    `*1\r\n$${'9'.repeat(70 * 1024)}`,
    '-ERR Protocol error: too big bulk count string\r\n',
    'a 70 KiB bulk length',
  );
  // Replies already due are sent before the error.
  await expectErrorAndClose(
    t,
    port(),
    `${cmd('PING').toString()}*1\r\n$x\r\n`,
    '+PONG\r\n-ERR Protocol error: invalid bulk length\r\n',
    'PING then a bad frame',
  );
});

t.test('a huge multibulk count does not make the server allocate it', async (t) => {
  const c = await RawClient.open(port());
  c.send('*1048576\r\n');
  for (let i = 0; i < 100; i++) c.send('$1\r\nx\r\n');
  await sleep(50);
  c.close();
  const good = await RawClient.open(port());
  t.equal(await good.call(cmd('PING'), 7), '+PONG\r\n');
  good.close();
});

t.test('an inline request over 64 KiB without a newline', async (t) => {
  await expectErrorAndClose(t, port(), 'a'.repeat(70 * 1024), '-ERR Protocol error: too big inline request\r\n', '70 KiB inline');
  await expectErrorAndClose(
    t,
    port(),
    `SET k ${'v'.repeat(70 * 1024)}`,
    '-ERR Protocol error: too big inline request\r\n',
    '70 KiB inline SET',
  );
  await expectErrorAndClose(
    t,
    port(),
    'SET k "unbalanced\r\n',
    '-ERR Protocol error: unbalanced quotes in request\r\n',
    'unbalanced quotes',
  );
  // Just under the limit, with its newline, the line is a command.
  const c = await RawClient.open(port());
  const value = 'v'.repeat(60 * 1024);
  t.equal(await c.call(`SET inline:big ${value}\r\n`, 5), '+OK\r\n', 'a 60 KiB inline SET works');
  t.equal(await c.call('STRLEN inline:big\r\n', 8), `:${value.length}\r\n`);
  c.close();
});

t.test('a bulk over proto-max-bulk-len (CONFIG SET proto-max-bulk-len 1mb)', async (t) => {
  const admin = await RawClient.open(port());
  const before = await RawClient.open(port());
  t.equal(await admin.call(cmd('CONFIG', 'SET', 'proto-max-bulk-len', '1mb'), 5), '+OK\r\n');
  t.teardown(async () => {
    const c = await RawClient.open(port());
    await c.call(cmd('CONFIG', 'SET', 'proto-max-bulk-len', '512mb'), 5);
    c.close();
    admin.close();
    before.close();
  });
  const over = `*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${1024 * 1024 + 1}\r\n`;
  await expectErrorAndClose(t, port(), over, '-ERR Protocol error: invalid bulk length\r\n', '1 MiB + 1 on a new connection');
  // Redis reads server.proto_max_bulk_len at parse time, so the limit applies to clients that
  // were already connected too.
  before.send(over);
  const reply = (await before.read(43, 500)).toString('latin1');
  t.equal(reply, '-ERR Protocol error: invalid bulk length\r\n', '1 MiB + 1 on an existing connection');
  t.ok(await before.waitClosed(500), 'existing connection closed');
  const value = Buffer.alloc(1024 * 1024, 0x61);
  t.equal(await admin.call(cmd('SET', 'big', value), 5), '+OK\r\n', 'exactly 1 MiB is allowed');
  t.equal(await admin.call(cmd('STRLEN', 'big'), 10), `:${1024 * 1024}\r\n`);
  t.equal(await admin.call(cmd('DEL', 'big'), 4), ':1\r\n');
});

t.test('the server survived', async (t) => {
  t.equal(server().proc.exitCode, null, 'process alive');
  const c = await RawClient.open(port());
  t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n', 'answers PING');
  t.equal(await c.call('PING\r\n', 7), '+PONG\r\n', 'answers an inline PING');
  c.close();
});

t.test('--maxclients 5: the sixth client is refused', async (t) => {
  const small = await startUnderTest(['--maxclients', '5'], ['--maxclients', '5']);
  t.teardown(async () => {
    await small.stop();
  });
  const five: RawClient[] = [];
  for (let i = 0; i < 5; i++) five.push(await openServed(small.port));
  t.equal(five.length, 5, 'five clients are served');
  const sixth = await RawClient.open(small.port);
  const refused = (await sixth.read(37, 3000)).toString('latin1');
  t.equal(refused, '-ERR max number of clients reached\r\n', 'the sixth gets the error unprompted');
  t.ok(await sixth.waitClosed(3000), 'and is closed');
  t.equal(await five[0]?.call(cmd('PING'), 7), '+PONG\r\n', 'the first five still work');
  five[0]?.close();
  await sleep(100);
  const again = await RawClient.open(small.port);
  t.equal(await again.call(cmd('PING'), 7), '+PONG\r\n', 'a slot freed by a close is usable');
  again.close();
  for (const c of five) c.close();
});
