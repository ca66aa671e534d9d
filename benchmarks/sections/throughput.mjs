/** Section 1: closed-loop throughput and server CPU per request, Shrike vs Redis. */

import { addRatios, RequestSizer, runAlternating } from '../lib/abrun.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';

// guessRps only sizes the very first run of each load; later runs use measured rates.
const BASE = [
  { name: 'SET', test: 'set', guess: [60e3, 500e3] },
  { name: 'GET', test: 'get', guess: [60e3, 600e3] },
  { name: 'INCR', test: 'incr', guess: [60e3, 600e3] },
  { name: 'MSET', test: 'mset', guess: [50e3, 150e3] },
  { name: 'SET 1KiB', test: 'set', dataSize: 1024, guess: [50e3, 200e3] },
  { name: 'GET 1KiB', test: 'get', dataSize: 1024, guess: [50e3, 250e3] },
  // Big values: the reply path's copies show here. Fewer keys keep both servers under 1 GB.
  { name: 'SET 16KiB', test: 'set', dataSize: 16 * 1024, keyspace: 10000, guess: [30e3, 60e3] },
  { name: 'GET 16KiB', test: 'get', dataSize: 16 * 1024, keyspace: 10000, guess: [30e3, 80e3] },
  { name: 'SET 512KiB', test: 'set', dataSize: 512 * 1024, keyspace: 1000, guess: [2e3, 3e3] },
  { name: 'GET 512KiB', test: 'get', dataSize: 512 * 1024, keyspace: 1000, guess: [2e3, 3e3] },
  // redis-benchmark's other default loads: one key each (mylist, myset, ...), so they
  // measure the collection types' hot paths. LPUSH comes before the pops and LRANGEs so
  // they find a list to work on.
  { name: 'LPUSH', test: 'lpush', guess: [60e3, 400e3] },
  { name: 'RPUSH', test: 'rpush', guess: [60e3, 400e3] },
  { name: 'LPOP', test: 'lpop', guess: [60e3, 400e3] },
  { name: 'RPOP', test: 'rpop', guess: [60e3, 400e3] },
  { name: 'SADD', test: 'sadd', guess: [60e3, 400e3] },
  { name: 'HSET', test: 'hset', guess: [60e3, 400e3] },
  { name: 'SPOP', test: 'spop', guess: [60e3, 400e3] },
  { name: 'ZADD', test: 'zadd', guess: [60e3, 300e3] },
  { name: 'ZPOPMIN', test: 'zpopmin', guess: [60e3, 400e3] },
  { name: 'LRANGE_100', test: 'lrange_100', guess: [40e3, 80e3] },
  { name: 'LRANGE_300', test: 'lrange_300', guess: [15e3, 25e3] },
  { name: 'LRANGE_600', test: 'lrange_600', guess: [8e3, 12e3] },
];

export const THROUGHPUT_LOADS = [
  ...[1, 16].flatMap((pipeline, i) =>
    BASE.map((b) => ({
      id: `${b.test}${b.dataSize ? `-${b.dataSize / 1024}k` : ''} P${pipeline}`,
      name: b.name,
      test: b.test,
      pipeline,
      ...(b.dataSize ? { dataSize: b.dataSize } : {}),
      ...(b.keyspace ? { keyspace: b.keyspace } : {}),
      guessRps: b.guess[i],
    })),
  ),
  // Clients that connect for each request (no pool: scripts, PHP, health checks): accept,
  // connection set-up and teardown per request, which the loads above never pay.
  { id: 'get-reconnect P1', name: 'GET, a connection each', test: 'get', pipeline: 1, keepalive: false, guessRps: 14e3 },
];

export async function throughputSection(ctx) {
  const { opts, log } = ctx;
  log(`[throughput] starting redis-server and shrike (--threads ${opts.threads ?? 'default'})`);
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads })];
  return withServers(starters, async (redis, shrike) => {
    const records = await runAlternating({
      section: 'throughput',
      sides: [
        { key: 'redis', server: redis },
        { key: 'shrike', server: shrike },
      ],
      loads: opts.loads ? THROUGHPUT_LOADS.filter((l) => opts.loads.includes(l.id)) : THROUGHPUT_LOADS,
      rounds: opts.rounds,
      warmup: !opts.quick,
      sizer: new RequestSizer(opts.seconds),
      clientCpu: opts.clientCpu,
      log,
    });
    addRatios(records, 'redis', 'shrike');
    return {
      clients: 50,
      keyspace: 100000,
      rounds: opts.rounds,
      warmup: !opts.quick,
      shrikeThreads: opts.threads ?? 'default',
      clientCpu: opts.clientCpu ?? null,
      servers: { redis: redis.command.join(' '), shrike: shrike.command.join(' ') },
      loads: records,
    };
  });
}
