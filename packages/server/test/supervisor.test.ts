/**
 * The main thread as a supervisor: a dead worker is always replaced and the keyspace survives
 * (even when every worker died), the restart backoff resets after a healthy run, and a crash
 * loop ends the process non-zero with a log line, so that systemd or docker take over.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { cmd, RawClient, type Running, startShrike, waitForPing } from './harness';

/** Crash the worker that serves `c` and wait until its connection is gone. */
async function segfault(c: RawClient): Promise<boolean> {
  c.send(cmd('DEBUG', 'SEGFAULT'));
  return c.waitClosed(5000);
}

/** Wait until a replacement worker answers; fails the wait (throws) if the process exited. */
async function ready(s: Running): Promise<void> {
  await waitForPing(s.port, s.proc, s.output, 10000);
}

/** Wait until `n` sockets listen on the port (PING answers as soon as the first worker listens). */
async function listeners(port: number, n: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const count = (): number =>
    readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`:${hexPort} `) && / 0A /.test(l)).length;
  for (let i = 0; i < 100 && count() < n; i++) await new Promise((r) => setTimeout(r, 50));
  return count();
}

const DEBUG = ['--enable-debug-command', 'yes'];

t.test('--threads 1: the only worker dies, the process restarts it and the keys are still there', async (t) => {
  const s = await startShrike(['--threads', '1', ...DEBUG]);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.equal(await c.call(cmd('SET', 'survivor', 'still here'), 5), '+OK\r\n');
  t.ok(await segfault(c), 'the crashing client is disconnected');
  await ready(s);
  t.equal(s.proc.exitCode, null, 'the process did not exit');
  const d = await RawClient.open(s.port);
  t.teardown(() => d.close());
  t.equal(await d.call(cmd('GET', 'survivor'), 17), '$10\r\nstill here\r\n', 'the key SET before the crash survived');
  t.match(s.output(), /worker exited; starting a replacement/);
  t.equal(await s.stop(), 0, 'SIGTERM still shuts down cleanly afterwards');
});

t.test('--threads 2: both workers die one after the other, both come back, keys survive', async (t) => {
  const s = await startShrike(['--threads', '2', ...DEBUG]);
  t.teardown(() => s.stop());
  t.equal(await listeners(s.port, 2), 2, 'both workers listen');
  const clients = await Promise.all(Array.from({ length: 16 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  t.equal(await (clients[0] as RawClient).call(cmd('SET', 'k2', 'v2'), 5), '+OK\r\n');
  t.ok(await segfault(clients[0] as RawClient), 'first worker crashed');
  // Any client still connected lives on the other worker: crash it too, at once.
  let other: RawClient | undefined;
  for (const c of clients.slice(1)) {
    if (c.closed) continue;
    c.send(cmd('PING'));
    if ((await c.read(7, 1000)).toString() === '+PONG\r\n') {
      other = c;
      break;
    }
  }
  t.ok(other !== undefined, 'a client of the other worker is still served');
  t.ok(await segfault(other as RawClient), 'second worker crashed');
  await ready(s);
  t.equal(s.proc.exitCode, null, 'the process did not exit');
  const d = await RawClient.open(s.port);
  t.teardown(() => d.close());
  t.equal(await d.call(cmd('GET', 'k2'), 8), '$2\r\nv2\r\n');
});

t.test('a worker that ran healthily resets the backoff and the crash count', async (t) => {
  // At most one quick crash in a row; a run of 300 ms counts as healthy.
  const s = await startShrike(['--threads', '1', ...DEBUG], undefined, {
    SHRIKE_WORKER_HEALTHY_MS: '300',
    SHRIKE_WORKER_MAX_CRASHES: '1',
  });
  t.teardown(() => s.stop());
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 400));
    const c = await RawClient.open(s.port);
    t.ok(await segfault(c), `crash ${i + 1}`);
    await ready(s);
  }
  t.equal(s.proc.exitCode, null, 'three crashes, each after a healthy run, did not end the process');
  const crashes = [...s.output().matchAll(/"crashes":(\d+),"delayMs":(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  t.same(crashes, [
    [1, 100],
    [1, 100],
    [1, 100],
  ]);
});

t.test('a crash loop ends the process with status 1 and says why', async (t) => {
  const s = await startShrike(['--threads', '1', ...DEBUG], undefined, {
    SHRIKE_WORKER_HEALTHY_MS: '60000',
    SHRIKE_WORKER_MAX_CRASHES: '2',
  });
  t.teardown(() => s.stop());
  const exited = once(s.proc, 'exit');
  for (let i = 0; i < 2; i++) {
    t.ok(await segfault(await RawClient.open(s.port)), `crash ${i + 1} is restarted`);
    await ready(s);
  }
  const delays = [...s.output().matchAll(/"crashes":(\d+),"delayMs":(\d+)/g)].map((m) => Number(m[2]));
  t.same(delays, [100, 200], 'the backoff grows while the worker keeps dying');
  t.ok(await segfault(await RawClient.open(s.port)), 'crash 3');
  const [code] = (await exited) as [number | null];
  t.equal(code, 1, 'non-zero exit status');
  t.match(s.output(), /worker 0 died 3 times in a row, each within 60000 ms of starting: giving up, exiting with status 1/);
});
