/**
 * Memory freed by a burst stays while it may be wanted again and goes back to the system once
 * the workers are calm (`memory-release-delay`, a minute by default): big
 * values overwritten by small ones and back are served from the pages the first ones left,
 * not faulted in afresh, and the resident size still comes down afterwards.
 */
import t, { type Test } from 'tap';
import { cmd, minorFaults, RawClient, rssMiB, startShrike } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEYS = 120;
const BIG = 512 * 1024;
const DELAY_MS = 3000;

/** SET every key to `value`, pipelined, and check every reply. */
async function setAll(c: RawClient, value: Buffer): Promise<boolean> {
  for (let k = 0; k < KEYS; k += 20) {
    const batch = Array.from({ length: 20 }, (_, i) => cmd('SET', `mr:${k + i}`, value));
    if ((await c.call(Buffer.concat(batch), 5 * 20, 20000)) !== '+OK\r\n'.repeat(20)) return false;
  }
  return true;
}

/** A Shrike of one worker with `args`, a client of it, and its pid; both go at the test's end. */
async function serve(t: Test, args: string[]): Promise<{ pid: number; c: RawClient }> {
  const s = await startShrike(['--threads', '1', ...args]);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  return { pid: s.proc.pid as number, c };
}

for (const mode of ['yes', 'no']) {
  t.test(`freed memory is kept while wanted, then given back, io-uring ${mode}`, async (t) => {
    const { pid, c } = await serve(t, ['--io-uring', mode]);
    t.equal(
      await c.call(cmd('CONFIG', 'GET', 'memory-release-delay'), 40),
      '*2\r\n$20\r\nmemory-release-delay\r\n$5\r\n60000\r\n',
      'a minute by default',
    );
    t.equal(await c.call(cmd('CONFIG', 'SET', 'memory-release-delay', String(DELAY_MS)), 5), '+OK\r\n');
    await sleep(500);
    const before = rssMiB(pid);
    const big = Buffer.alloc(BIG, 0x61);
    const small = Buffer.from('s');
    t.ok(await setAll(c, big), `${KEYS} values of 512 KiB`);
    t.ok(await setAll(c, small), 'overwritten by small ones');
    // A quiet second and a half: the old trim came within 200 ms of quiet after such a burst.
    await sleep(1500);
    const kept = rssMiB(pid) - before;
    t.ok(
      kept > 40,
      `the freed ${(KEYS * BIG) / 2 ** 20} MiB stay while the workers may want them: ${kept.toFixed(0)} MiB over where it was`,
    );
    const faults = minorFaults(pid);
    t.ok(await setAll(c, big), 'big values again');
    const fresh = minorFaults(pid) - faults;
    // Every page afresh would be KEYS * 128 faults.
    t.ok(fresh < (KEYS * BIG) / 4096 / 4, `they take the pages the first ones left: ${fresh} page faults for ${(KEYS * BIG) / 4096} pages`);
    t.ok(await setAll(c, small), 'and small again');
    let after = rssMiB(pid);
    for (let i = 0; i < 100 && after - before >= 30; i++) {
      await sleep(100);
      after = rssMiB(pid);
    }
    t.ok(after - before < 30, `given back once calm for ${DELAY_MS} ms: ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`);
    t.equal(await c.call(cmd('GET', 'mr:0'), 7), '$1\r\ns\r\n', 'the data is intact');
  });
}

t.test('big values overwritten by small ones after a calm spell are kept for the delay too', async (t) => {
  // The small values that replace them move little traffic; what marks the burst is the big
  // blocks freed (the bench's SET of 3-byte values over keys that held 512 KiB values, then
  // SET of 512 KiB again: the trim in between made it fault every page in again).
  const { pid, c } = await serve(t, ['--memory-release-delay', String(DELAY_MS)]);
  await sleep(500);
  const before = rssMiB(pid);
  const big = Buffer.alloc(BIG, 0x61);
  t.ok(await setAll(c, big), `${KEYS} values of 512 KiB`);
  // Past the delay: the burst that stored them is over.
  await sleep(DELAY_MS + 1000);
  t.ok(await setAll(c, Buffer.from('s')), 'overwritten by small ones');
  // Then enough traffic of small values to trim after (8 MB), as the bench's small SETs,
  // over a few keys so that they take little of the freed memory.
  const value = Buffer.alloc(500, 0x76);
  for (let k = 0; k < 20_000; k += 1000) {
    const batch = Array.from({ length: 1000 }, (_, i) => cmd('SET', `other:${i % 100}`, value));
    if ((await c.call(Buffer.concat(batch), 5 * 1000, 20000)) !== '+OK\r\n'.repeat(1000)) t.fail(`batch at ${k}`);
  }
  await sleep(1500);
  const kept = rssMiB(pid) - before;
  t.ok(kept > 40, `the freed ${(KEYS * BIG) / 2 ** 20} MiB stay: ${kept.toFixed(0)} MiB over where it was`);
  const faults = minorFaults(pid);
  t.ok(await setAll(c, big), 'big values again');
  const fresh = minorFaults(pid) - faults;
  t.ok(fresh < (KEYS * BIG) / 4096 / 4, `they take the pages the first ones left: ${fresh} page faults for ${(KEYS * BIG) / 4096} pages`);
});

t.test('after a load of small values, freed memory goes back at the first quiet moment', async (t) => {
  // Small values leave small holes between live blocks: nothing a next burst would reuse
  // wholesale, so the release delay (a minute by default) does not hold them.
  const { pid, c } = await serve(t, []);
  await sleep(500);
  const before = rssMiB(pid);
  const value = Buffer.alloc(200, 0x76);
  for (let k = 0; k < 100_000; k += 1000) {
    const batch = Array.from({ length: 1000 }, (_, i) => cmd('SET', `small:${k + i}`, value));
    if ((await c.call(Buffer.concat(batch), 5 * 1000, 20000)) !== '+OK\r\n'.repeat(1000)) t.fail(`batch at ${k}`);
  }
  const loaded = rssMiB(pid) - before;
  t.ok(loaded > 20, `100,000 values of 200 bytes: ${loaded.toFixed(0)} MiB`);
  t.equal(await c.call(cmd('FLUSHALL', 'SYNC'), 5, 20000), '+OK\r\n');
  let after = rssMiB(pid);
  for (let i = 0; i < 30 && after - before >= 8; i++) {
    await sleep(100);
    after = rssMiB(pid);
  }
  t.ok(after - before < 8, `back within 3 s, well inside the delay: ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`);
});
