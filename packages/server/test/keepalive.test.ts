/**
 * `tcp-keepalive`: every client socket gets TCP keepalive as Redis sets it (first probe after
 * the configured idle seconds), on both transports and in the reference redis-server alike, so
 * a client that vanished without a FIN does not hold its connection forever. Read from the
 * kernel: /proc/net/tcp shows an idle socket's keepalive timer (type 2) and when it fires.
 */
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { cmd, haveRedis, RawClient, type Running, startRedis, startShrike } from './harness';

/** Clock ticks per second in /proc/net/tcp's timer field (USER_HZ). */
const USER_HZ = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server side of the client connected from `clientPort` to `serverPort`: its timer kind and seconds left. */
function serverTimer(serverPort: number, clientPort: number): { kind: number; seconds: number } | undefined {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      const port = (addr: string | undefined) => Number.parseInt(addr?.split(':')[1] ?? '', 16);
      if (port(f[1]) !== serverPort || port(f[2]) !== clientPort) continue;
      const [kind = '', when = ''] = (f[5] as string).split(':');
      return { kind: Number.parseInt(kind, 16), seconds: Number.parseInt(when, 16) / USER_HZ };
    }
  }
  return undefined;
}

/** Open a client, let its PING settle, and read its server-side socket's timer. */
async function timerOfNewClient(t: Test, server: Running): Promise<{ kind: number; seconds: number } | undefined> {
  const c = await RawClient.open(server.port);
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n');
  // A delayed ACK or retransmit timer may still run right after the reply.
  await sleep(300);
  return serverTimer(server.port, c.socket.localPort as number);
}

async function configSet(server: Running, name: string, value: string): Promise<string> {
  const c = await RawClient.open(server.port);
  try {
    return await c.call(cmd('CONFIG', 'SET', name, value), 5);
  } finally {
    c.close();
  }
}

for (const mode of ['yes', 'no']) {
  t.test(`io-uring ${mode}`, async (t) => {
    const s = await startShrike(['--threads', '2', '--io-uring', mode]);
    t.teardown(() => s.stop());

    t.test('a client socket gets keepalive after tcp-keepalive seconds, 300 by default', async (t) => {
      const timer = await timerOfNewClient(t, s);
      t.equal(timer?.kind, 2, 'the keepalive timer runs');
      t.ok(timer !== undefined && timer.seconds > 250 && timer.seconds <= 300, `fires in ${timer?.seconds} s`);
    });

    t.test('CONFIG SET tcp-keepalive applies to the clients that connect after it', async (t) => {
      const before = await RawClient.open(s.port);
      t.teardown(() => before.close());
      t.equal(await before.call(cmd('PING'), 7), '+PONG\r\n');
      t.equal(await configSet(s, 'tcp-keepalive', '60'), '+OK\r\n');
      // Two clients, so that both workers' accepts are seen.
      for (let i = 0; i < 2; i++) {
        const timer = await timerOfNewClient(t, s);
        t.equal(timer?.kind, 2);
        t.ok(timer !== undefined && timer.seconds > 40 && timer.seconds <= 60, `fires in ${timer?.seconds} s`);
      }
      await sleep(300);
      const old = serverTimer(s.port, before.socket.localPort as number);
      t.ok(old !== undefined && old.seconds > 60, `an earlier client keeps its interval (${old?.seconds} s)`);
    });

    t.test('tcp-keepalive 0 leaves keepalive off', async (t) => {
      t.equal(await configSet(s, 'tcp-keepalive', '0'), '+OK\r\n');
      for (let i = 0; i < 2; i++) {
        const timer = await timerOfNewClient(t, s);
        t.equal(timer?.kind, 0, 'no timer on an idle socket');
      }
      t.equal(await configSet(s, 'tcp-keepalive', '300'), '+OK\r\n');
    });
  });
}

t.test('the reference redis-server sets the same timer', { skip: !haveRedis() }, async (t) => {
  const r = await startRedis();
  t.teardown(() => r.stop());
  const timer = await timerOfNewClient(t, r);
  t.equal(timer?.kind, 2);
  t.ok(timer !== undefined && timer.seconds > 250 && timer.seconds <= 300, `fires in ${timer?.seconds} s`);
});
