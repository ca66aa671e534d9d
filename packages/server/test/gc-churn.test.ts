/**
 * Clients that connect for one request (scripts, PHP, health checks) and V8's young
 * generation, as the collector itself reports it (`--trace-gc-nvp`): a closed connection
 * must not survive the next scavenge. With the worker's clients in a Set and a Map, each
 * table V8 left behind when it rebuilt them kept pointing at the connections it held and at
 * the next table, so every connection made since stayed alive until a full collection: 23-25%
 * of what the worker allocated during this load was promoted, and the scavenges that copied
 * it paused the worker for 8-16 ms each (the p99 of such a load). ClientTable (clients.ts)
 * keeps no connection in a V8 hash table: 0.1-0.2% through the ring, 7.4% through Node's
 * sockets (their own objects). The same held for the timers of blocks with a timeout, in a
 * Map by client id: 28% promoted under BLPOPs that time out, 2.6% with each timer kept on
 * its connection. Counted, not timed.
 */
import { spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import { redisToolPath, startShrike } from './harness';

const REQUESTS = 20000;
const BLOCKS = 30000;
/** Promoted bytes over bytes allocated in the young generation, over the whole run. */
const MAX_PROMOTED_SHARE = 0.15;

/** Sum `promoted=` and `allocated=` over the scavenges (`gc=s`) of a --trace-gc-nvp log. */
function scavengeTotals(log: string): { scavenges: number; promoted: number; allocated: number } {
  let scavenges = 0;
  let promoted = 0;
  let allocated = 0;
  for (const line of log.split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    scavenges++;
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    allocated += Number(/ allocated=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return { scavenges, promoted, allocated };
}

/** redis-benchmark with `args` against `port`: its exit status. */
function benchmark(port: number, args: readonly string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(redisToolPath('redis-benchmark'), ['-p', String(port), '-q', ...args], { stdio: 'ignore' });
    p.once('error', reject);
    p.once('exit', resolve);
  });
}

/** The load's scavenges (`log`) promoted under MAX_PROMOTED_SHARE of what it allocated. */
function checkPromoted(t: Test, log: string): void {
  const { scavenges, promoted, allocated } = scavengeTotals(log);
  t.ok(scavenges >= 3, `scavenges seen: ${scavenges}`);
  const share = promoted / allocated;
  t.ok(
    share < MAX_PROMOTED_SHARE,
    `promoted ${(promoted / 1e6).toFixed(1)} of ${(allocated / 1e6).toFixed(1)} MB allocated (${(share * 100).toFixed(1)}%)`,
  );
}

for (const io of ['yes', 'no']) {
  t.test(`closed connections die young (io-uring ${io})`, async (t) => {
    const s = await startShrike(['--threads', '1', '--io-uring', io], undefined, {}, ['--trace-gc-nvp']);
    t.teardown(() => s.stop());
    // Only the load's collections: start-up promotes what the worker keeps for good.
    const before = s.output().length;
    // GET with a new connection per request (`-k 0`).
    t.equal(await benchmark(s.port, ['-t', 'get', '-k', '0', '-n', String(REQUESTS), '-c', '50']), 0, 'redis-benchmark ran');
    checkPromoted(t, s.output().slice(before));
  });
}

t.test('the timers of blocks that time out die young', async (t) => {
  // A small young generation: a timer is a few hundred bytes, and the load must see scavenges.
  const s = await startShrike(['--threads', '1'], undefined, {}, ['--trace-gc-nvp', '--max-semi-space-size=1']);
  t.teardown(() => s.stop());
  const before = s.output().length;
  // BLPOP on keys nobody pushes to, with a 10 ms timeout: a timer per request.
  const blpop = ['-n', String(BLOCKS), '-c', '200', '-r', '1000', 'BLPOP', 'key:__rand_int__', '0.01'];
  t.equal(await benchmark(s.port, blpop), 0, 'redis-benchmark ran');
  checkPromoted(t, s.output().slice(before));
});
