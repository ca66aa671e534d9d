/**
 * Section 2: open-loop GET latency at fixed fractions of Redis's closed-loop maximum.
 * A server that keeps up on average can still queue; this is where it shows, at p99.9.
 */

import { KEYSPACE, RequestSizer, runAlternating } from '../lib/abrun.mjs';
import { loadKeys } from '../lib/loader.mjs';
import { ensureLoadgen, runLoadgen } from '../lib/loadgen.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { max, median, ratio, round } from '../lib/stats.mjs';
import { THROUGHPUT_LOADS } from './throughput.mjs';

export const FRACTIONS = [0.25, 0.5, 0.75];
const VALUE_SIZE = 32;
const us = (v) => `${Math.round(v).toLocaleString('en-US')} µs`;
const METRICS = ['p50_us', 'p90_us', 'p99_us', 'p999_us', 'max_us', 'mean_us', 'achieved_rps', 'errors', 'cpuUsPerOp'];

/** Redis's best GET -P 1 rate: from the throughput section when it ran, else measured here. */
async function baseRate(ctx, redis) {
  const get = ctx.results.throughput?.loads?.find((l) => l.id === 'get P1');
  const seen = get ? max(get.rounds.map((r) => r.redis.rps)) : null;
  if (seen) return { rps: seen, source: 'throughput section: max over rounds of redis GET -P 1' };
  ctx.log('[openloop] no throughput results; measuring redis GET -P 1 to set the rates');
  const load = THROUGHPUT_LOADS.find((l) => l.id === 'get P1');
  const sizer = new RequestSizer(ctx.opts.seconds);
  const [rec] = await runAlternating({
    section: 'openloop',
    sides: [{ key: 'redis', server: redis }],
    loads: [load],
    rounds: 1,
    sizer,
    clientCpu: ctx.opts.clientCpu,
    log: ctx.log,
  });
  return { rps: rec.rounds[0].redis.rps, source: 'calibration run in this section: redis GET -P 1' };
}

export async function openloopSection(ctx) {
  const { opts, log } = ctx;
  const gen = await ensureLoadgen(log);
  if (!gen.ok) {
    log(`[openloop] skipped: ${gen.reason}`);
    return { skipped: true, reason: gen.reason };
  }
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads })];
  return withServers(starters, async (redis, shrike) => {
    const sides = [
      ['redis', redis],
      ['shrike', shrike],
    ];
    const base = await baseRate(ctx, redis);
    // loadgen asks for key:<n> without zero padding, unlike redis-benchmark: fill those, so every GET hits.
    for (const [, server] of sides) await loadKeys(server.port, { count: KEYSPACE, valueSize: VALUE_SIZE, digits: 0 });
    const points = FRACTIONS.map((fraction) => ({ fraction, rate: Math.round(base.rps * fraction), rounds: [] }));
    for (let r = 1; r <= opts.rounds; r++) {
      for (const point of points) {
        const entry = { round: r };
        for (const [key, server] of sides) {
          const res = await runLoadgen(gen.bin, server, {
            rate: point.rate,
            duration: opts.openloopSeconds,
            warmup: opts.openloopWarmup,
            command: 'get',
            keyspace: KEYSPACE,
            valueSize: VALUE_SIZE,
            clientCpu: opts.clientCpu,
          });
          entry[key] = res;
          log(
            `[openloop] round ${r}/${opts.rounds}  GET @${Math.round(point.fraction * 100)}% (${point.rate.toLocaleString('en-US')}/s) ${key.padEnd(6)} ` +
              `achieved ${Math.round(res.achieved_rps).toLocaleString('en-US')}/s  p50 ${us(res.p50_us)}  p99 ${us(res.p99_us)}  p99.9 ${us(res.p999_us)}  max ${us(res.max_us)}` +
              (res.errors ? `  errors ${res.errors}` : ''),
          );
        }
        point.rounds.push(entry);
      }
    }
    for (const point of points) {
      point.median = {};
      for (const [key] of sides) {
        point.median[key] = Object.fromEntries(METRICS.map((m) => [m, round(median(point.rounds.map((e) => e[key][m])), 3)]));
        point.median[key].worst_max_us = max(point.rounds.map((e) => e[key].max_us));
      }
      point.ratio = {
        p50: round(ratio(point.median.shrike.p50_us, point.median.redis.p50_us), 4),
        p99: round(ratio(point.median.shrike.p99_us, point.median.redis.p99_us), 4),
        p999: round(ratio(point.median.shrike.p999_us, point.median.redis.p999_us), 4),
      };
    }
    return {
      baseRate: base,
      durationSeconds: opts.openloopSeconds,
      warmupSeconds: opts.openloopWarmup,
      connections: 50,
      keyspace: KEYSPACE,
      valueSize: VALUE_SIZE,
      loadgen: gen.bin,
      points,
    };
  });
}
