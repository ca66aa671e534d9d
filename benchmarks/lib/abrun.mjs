/**
 * A/B rounds of redis-benchmark loads: every round runs every load on each server in
 * turn, so slow drift of a noisy machine lands on both sides, and even rounds run them in
 * the other order (A B, B A, A B, ...), so that neither side always goes first. Going first
 * matters on a VM whose host takes back the pages its guest frees: the first server to grow
 * after the other one freed memory gets the pages still backed, the second pays the host's
 * faults (SET of 512 KiB values after 16 KiB ones, µs per request: Shrike 156 vs Redis 252
 * with Shrike first, 216 vs 152 with Redis first). The very first growth is the dearest
 * (SET 512 KiB `-P 1`, round 1, Redis first: Shrike 390 µs against 164, later rounds 107-140
 * against 105-112), so with `warmup` every load first runs once, shorter and unrecorded, on
 * both servers: the rounds then measure requests, not the process's first growth.
 */

import { loadKeys } from './loader.mjs';
import { runRedisBenchmark } from './redisbench.mjs';
import { median, ratio, ratioInterval, round } from './stats.mjs';

/** The 12-digit keys redis-benchmark's -r draws from. */
export const KEYSPACE = 100000;

/** redis-benchmark's default -d. */
const DEFAULT_VALUE_SIZE = 3;

/**
 * Picks -n so a run lasts about `seconds`, from the fastest rate seen so far for that load
 * (a first guess before any run). The same -n is used for both servers within a round.
 */
export class RequestSizer {
  constructor(seconds, { min = 2000, max = 50_000_000 } = {}) {
    this.seconds = seconds;
    this.min = min;
    this.max = max;
    this.best = new Map();
  }

  requests(load) {
    const rate = this.best.get(load.id) ?? load.guessRps;
    const n = Math.round((rate * this.seconds) / 1000) * 1000;
    return Math.min(this.max, Math.max(this.min, n));
  }

  observe(load, rps) {
    if (rps > (this.best.get(load.id) ?? 0)) this.best.set(load.id, rps);
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** A warm-up run's requests: a quarter of a round's, at least the sizer's minimum. */
function warmupRequests(sizer, load) {
  return Math.max(sizer.min, Math.round(sizer.requests(load) / 4000) * 1000);
}

/** Fill the keys a GET load reads (every GET must hit, with the value size under test). */
async function prepare(server, load) {
  if (load.test !== 'get') return;
  await loadKeys(server.port, { count: load.keyspace ?? KEYSPACE, valueSize: load.dataSize ?? DEFAULT_VALUE_SIZE });
}

/**
 * sides: [{ key, server }] in odd rounds' run order. loads: [{ id, test, pipeline, dataSize?, keyspace?, guessRps }]
 * (keyspace: keys for that load, fewer for big values so both servers' memory stays small);
 * warmup: run each load once on every side before the rounds, unrecorded.
 * Returns one record per load with every round's raw result and the medians per side.
 */
export async function runAlternating({ section, sides, loads, rounds, sizer, clientCpu, log, warmup = false }) {
  const records = loads.map((load) => ({ ...load, rounds: [] }));
  for (const rec of warmup ? records : []) {
    const requests = warmupRequests(sizer, rec);
    for (const { key, server } of sides) {
      await prepare(server, rec);
      await runRedisBenchmark(server, rec, { requests, keyspace: rec.keyspace ?? KEYSPACE, clientCpu });
      log(`[${section}] warm-up  ${rec.id.padEnd(12)} ${key.padEnd(9)} n=${requests}`);
    }
  }
  for (let r = 1; r <= rounds; r++) {
    for (const rec of records) {
      const requests = sizer.requests(rec);
      const entry = { round: r, requests };
      for (const { key, server } of r % 2 === 1 ? sides : [...sides].reverse()) {
        await prepare(server, rec);
        const res = await runRedisBenchmark(server, rec, { requests, keyspace: rec.keyspace ?? KEYSPACE, clientCpu });
        sizer.observe(rec, res.rps);
        entry[key] = res;
        log(
          `[${section}] round ${r}/${rounds}  ${rec.id.padEnd(12)} ${key.padEnd(9)} ${fmt(res.rps).padStart(10)} rps  ${res.cpuUsPerOp.toFixed(2).padStart(6)} µs cpu/op  ${res.faultsPerOp.toFixed(2).padStart(6)} faults/op  (${res.wallSeconds.toFixed(1)} s, n=${requests})`,
        );
      }
      rec.rounds.push(entry);
    }
  }
  for (const rec of records) {
    rec.median = {};
    for (const { key } of sides) {
      rec.median[key] = {
        rps: round(median(rec.rounds.map((e) => e[key].rps)), 1),
        cpuUsPerOp: round(median(rec.rounds.map((e) => e[key].cpuUsPerOp)), 4),
        faultsPerOp: round(median(rec.rounds.map((e) => e[key].faultsPerOp)), 3),
      };
    }
  }
  return records;
}

/**
 * Ratios B/A of the medians (throughput and CPU per op), the per-round ratios, and their
 * 95% intervals (stats.mjs ratioInterval): a ratio of medians a little off parity whose
 * interval spans 1.0 is the machine's noise, not a difference between the servers.
 */
export function addRatios(records, a, b) {
  for (const rec of records) {
    const rpsPerRound = rec.rounds.map((e) => round(ratio(e[b].rps, e[a].rps), 4));
    const cpuPerOpPerRound = rec.rounds.map((e) => round(ratio(e[b].cpuUsPerOp, e[a].cpuUsPerOp), 4));
    rec.ratio = {
      rps: round(ratio(rec.median[b].rps, rec.median[a].rps), 4),
      cpuPerOp: round(ratio(rec.median[b].cpuUsPerOp, rec.median[a].cpuUsPerOp), 4),
      rpsPerRound,
      cpuPerOpPerRound,
      rpsInterval: ratioInterval(rpsPerRound),
      cpuPerOpInterval: ratioInterval(cpuPerOpPerRound),
    };
  }
  return records;
}
