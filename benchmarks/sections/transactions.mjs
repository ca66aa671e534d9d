/**
 * Section: server CPU per transaction, Shrike vs Redis (issue 10, target ≤ 1.2x). Two loads,
 * each from 20 closed-loop clients, each client on keys of its own (so no WATCH fails and
 * the cost measured is that of the transaction, not of contention):
 * - `multi5`: MULTI, five SETs, EXEC, sent in one write;
 * - `watch-incr`: WATCH k, GET k (one round trip), then MULTI, SET k v+1, EXEC (another);
 * - `pipe7`: multi5 without the transaction (PING for MULTI and EXEC), for comparison.
 * Server CPU is read from /proc (every thread of the process) around each run; the servers
 * take turns, A/B, so a noisy machine's drift lands on both. Shrike runs its default threads.
 * Each run starts with WARMUP unmeasured transactions per client, on the run's new
 * connections: a JIT's first compilations and first-touch allocations are start-up, not
 * the cost of a transaction. One
 * run is a second or two, and on a shared VM single runs of the same server differ by a
 * third: the section takes at least MIN_ROUNDS rounds so that its medians hold still.
 */

import { measureCpu } from '../lib/procstat.mjs';
import { RespClient } from '../lib/respclient.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { median, ratio, round } from '../lib/stats.mjs';

const CLIENTS = 20;
/** Unmeasured transactions per client at the start of each run. */
const WARMUP = 300;
/** Rounds per load in a full run (more when --rounds asks for more). */
const MIN_ROUNDS = 5;

const LOADS = [
  {
    id: 'multi5',
    name: 'MULTI + 5 SET + EXEC',
    async run(c, i, n) {
      const k = `tx:${i}:`;
      for (let t = 0; t < n; t++) {
        const r = await c.pipeline([
          ['MULTI'],
          ['SET', `${k}a`, 'v'],
          ['SET', `${k}b`, 'v'],
          ['SET', `${k}c`, 'v'],
          ['SET', `${k}d`, 'v'],
          ['SET', `${k}e`, 'v'],
          ['EXEC'],
        ]);
        if (!Array.isArray(r[6]) || r[6].length !== 5) throw new Error(`EXEC gave ${r[6]}`);
      }
    },
  },
  {
    // The same five SETs pipelined with two PINGs in place of MULTI and EXEC: what the
    // transaction adds over plain pipelining (no target; for comparison).
    id: 'pipe7',
    name: 'PING + 5 SET + PING (no MULTI)',
    async run(c, i, n) {
      const k = `tx:${i}:`;
      for (let t = 0; t < n; t++) {
        await c.pipeline([
          ['PING'],
          ['SET', `${k}a`, 'v'],
          ['SET', `${k}b`, 'v'],
          ['SET', `${k}c`, 'v'],
          ['SET', `${k}d`, 'v'],
          ['SET', `${k}e`, 'v'],
          ['PING'],
        ]);
      }
    },
  },
  {
    id: 'watch-incr',
    name: 'WATCH + GET + MULTI + SET + EXEC',
    async run(c, i, n) {
      const k = `tx:counter:${i}`;
      for (let t = 0; t < n; t++) {
        const [, v] = await c.pipeline([
          ['WATCH', k],
          ['GET', k],
        ]);
        const r = await c.pipeline([['MULTI'], ['SET', k, String(Number(v ?? 0) + 1)], ['EXEC']]);
        if (!Array.isArray(r[2])) throw new Error(`EXEC gave ${r[2]}`);
      }
    },
  },
];

/** One run of `load` on `server`: `perClient` transactions from each client. */
async function runLoad(server, load, perClient) {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RespClient.connect(server.port)));
  try {
    await clients[0].command('FLUSHALL');
    await Promise.all(clients.map((c, i) => load.run(c, i, WARMUP)));
    const { cpuSeconds, wallSeconds } = await measureCpu(server.pid, () => Promise.all(clients.map((c, i) => load.run(c, i, perClient))));
    const txns = perClient * CLIENTS;
    return { txns, cpuUsPerTx: (cpuSeconds * 1e6) / txns, tps: txns / wallSeconds, wallSeconds };
  } finally {
    for (const c of clients) c.close();
  }
}

export async function transactionsSection(ctx) {
  const { opts, log } = ctx;
  const perClient = opts.quick ? 200 : 2000;
  const roundCount = opts.quick ? opts.rounds : Math.max(opts.rounds, MIN_ROUNDS);
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads })];
  return withServers(starters, async (redis, shrike) => {
    const loads = [];
    for (const load of LOADS) {
      const rounds = [];
      for (let r = 1; r <= roundCount; r++) {
        const entry = { round: r };
        for (const [key, server] of [
          ['redis', redis],
          ['shrike', shrike],
        ]) {
          entry[key] = await runLoad(server, load, perClient);
          log(
            `[transactions] round ${r}/${roundCount} ${load.id.padEnd(10)} ${key.padEnd(7)} ${Math.round(entry[key].tps).toLocaleString('en-US').padStart(8)} tx/s ${entry[key].cpuUsPerTx.toFixed(2).padStart(7)} µs cpu/tx`,
          );
        }
        rounds.push(entry);
      }
      const med = (key, f) => round(median(rounds.map((e) => e[key][f])), 3);
      const rec = {
        id: load.id,
        name: load.name,
        rounds,
        median: {
          redis: { tps: med('redis', 'tps'), cpuUsPerTx: med('redis', 'cpuUsPerTx') },
          shrike: { tps: med('shrike', 'tps'), cpuUsPerTx: med('shrike', 'cpuUsPerTx') },
        },
      };
      rec.ratio = { cpuPerTx: round(ratio(rec.median.shrike.cpuUsPerTx, rec.median.redis.cpuUsPerTx), 4) };
      loads.push(rec);
    }
    return { clients: CLIENTS, perClient, warmup: WARMUP, rounds: roundCount, shrikeThreads: opts.threads ?? 'default', loads };
  });
}
