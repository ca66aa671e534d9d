/**
 * `protected-mode` (on by default): with no password set, a client from outside the host gets
 * Redis's DENIED explanation and is closed, byte for byte as the reference redis-server does,
 * on both transports; loopback clients, a password, or `protected-mode no` let clients in.
 * "Outside" is this host's own non-loopback address: a connection to it comes from it.
 */
import { networkInterfaces } from 'node:os';
import t, { type Test } from 'tap';
import { cmd, haveRedis, RawClient, type Running, startRedis, startShrike } from './harness';

/** This host's first non-loopback IPv4 address. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const OUTSIDE = outsideAddress();

/** Open a client to `server` through `host`. */
async function openVia(host: string, server: Running): Promise<RawClient> {
  const { connect } = await import('node:net');
  const s = connect(server.port, host);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return new RawClient(s);
}

/** Everything the server sends a client from outside before it closes the connection. */
async function deniedBytes(t: Test, server: Running): Promise<string> {
  const c = await openVia(OUTSIDE as string, server);
  t.teardown(() => c.close());
  let got = '';
  const deadline = Date.now() + 5000;
  while (!c.closed && Date.now() < deadline) got += (await c.read(1, Math.max(1, deadline - Date.now()))).toString();
  t.ok(c.closed, 'the server closed the connection');
  return got;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function infoField(server: Running, field: string): Promise<number> {
  // Each worker publishes its counters every 100 ms.
  await sleep(300);
  const c = await RawClient.open(server.port);
  try {
    c.send(cmd('INFO', 'stats'));
    let info = '';
    const re = new RegExp(`${field}:(\\d+)\r\n`);
    while (!re.test(info) && !c.closed) info += (await c.read(1)).toString();
    return Number(re.exec(info)?.[1]);
  } finally {
    c.close();
  }
}

async function call(server: Running, host: string, ...args: string[]): Promise<string> {
  const c = await (host === '127.0.0.1' ? RawClient.open(server.port) : openVia(host, server));
  try {
    return await c.call(cmd(...args), 5);
  } finally {
    c.close();
  }
}

const skip = OUTSIDE === undefined ? 'this host has no non-loopback IPv4 address' : !haveRedis();
t.test('protected mode', { skip }, async (t) => {
  const outside = OUTSIDE as string;
  const redis = await startRedis(['--bind', '0.0.0.0']);
  t.teardown(() => redis.stop());
  const expected = await deniedBytes(t, redis);
  t.match(expected, /^-DENIED Redis is running in protected mode because/, 'the reference denies it too');

  for (const mode of ['yes', 'no']) {
    t.test(`io-uring ${mode}`, async (t) => {
      const s = await startShrike(['--threads', '2', '--io-uring', mode, '--bind', '0.0.0.0']);
      t.teardown(() => s.stop());
      const received = await infoField(s, 'total_connections_received');

      // Two, so that both workers' accepts are seen.
      for (let i = 0; i < 2; i++) {
        const got = await deniedBytes(t, s);
        t.equal(got, expected, 'the reference redis-server sends the same bytes');
      }
      t.equal(await infoField(s, 'rejected_connections'), 2, 'each counts as rejected');
      // The two INFO clients since are counted, as Redis counts every client let in; the denied are not.
      t.equal(await infoField(s, 'total_connections_received'), received + 2, 'the denied are not counted as received');

      t.equal(await call(s, '127.0.0.1', 'PING'), '+PONG\r\n', 'a loopback client is served');
      t.equal(await call(s, '127.0.0.1', 'CONFIG', 'SET', 'requirepass', 'sesame'), '+OK\r\n');
      t.match(await call(s, outside, 'PING'), /^-NOAUTH/, 'with a password the client is let in to authenticate');
      const c = await RawClient.open(s.port);
      t.equal(await c.call(cmd('AUTH', 'sesame'), 5), '+OK\r\n');
      t.equal(await c.call(cmd('CONFIG', 'SET', 'requirepass', ''), 5), '+OK\r\n');
      t.equal(await c.call(cmd('CONFIG', 'SET', 'protected-mode', 'no'), 5), '+OK\r\n');
      c.close();
      t.equal(await call(s, outside, 'PING'), '+PONG\r\n', 'protected-mode no lets it in');
      t.equal(await call(s, '127.0.0.1', 'CONFIG', 'SET', 'protected-mode', 'yes'), '+OK\r\n');
      t.match(await deniedBytes(t, s), /^-DENIED /, 'and yes shuts the door again');
    });
  }
});
