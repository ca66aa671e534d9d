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
];

export const THROUGHPUT_LOADS = [1, 16].flatMap((pipeline, i) =>
  BASE.map((b) => ({
    id: `${b.test}${b.dataSize ? '-1k' : ''} P${pipeline}`,
    name: b.name,
    test: b.test,
    pipeline,
    ...(b.dataSize ? { dataSize: b.dataSize } : {}),
    guessRps: b.guess[i],
  })),
);

export async function throughputSection(ctx) {
  const { opts, log } = ctx;
  log(`[throughput] starting redis-server and shrike (--threads ${opts.threads})`);
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads })];
  return withServers(starters, async (redis, shrike) => {
    const records = await runAlternating({
      section: 'throughput',
      sides: [
        { key: 'redis', server: redis },
        { key: 'shrike', server: shrike },
      ],
      loads: THROUGHPUT_LOADS,
      rounds: opts.rounds,
      sizer: new RequestSizer(opts.seconds),
      clientCpu: opts.clientCpu,
      log,
    });
    addRatios(records, 'redis', 'shrike');
    return {
      clients: 50,
      keyspace: 100000,
      rounds: opts.rounds,
      shrikeThreads: opts.threads,
      clientCpu: opts.clientCpu ?? null,
      servers: { redis: redis.command.join(' '), shrike: shrike.command.join(' ') },
      loads: records,
    };
  });
}
