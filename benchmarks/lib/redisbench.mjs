/**
 * redis-benchmark as the closed-loop load: both servers are hit by the same C client,
 * so client overhead is the same on both sides of the ratio. Results come from --csv,
 * whose columns are stable across 6.x/7.x, rather than from the human-readable output.
 */

import { pinned, runCommand } from './children.mjs';
import { measureCpu } from './procstat.mjs';
import { referenceRedisBenchmark } from './redis-ref.mjs';

/** Parse redis-benchmark --csv output into [{ test, rps, avg_latency_ms, ... }]. */
export function parseCsv(text) {
  const rows = [];
  let header;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = [...line.matchAll(/"((?:[^"]|"")*)"|([^,]+)/g)].map((m) => (m[1] ?? m[2]).replace(/""/g, '"'));
    if (!header) {
      header = fields;
      continue;
    }
    const row = {};
    header.forEach((h, i) => {
      const v = fields[i];
      row[h] = h === 'test' ? v : Number(v);
    });
    rows.push(row);
  }
  return rows;
}

/**
 * One redis-benchmark run against `server`, with the server's CPU time measured around it.
 * load: { test, pipeline, dataSize?, keepalive? (false: a new connection per request) }; returns rps, µs of server CPU per request, and the raw row.
 */
export async function runRedisBenchmark(server, load, { requests, clients = 50, keyspace = 100000, clientCpu } = {}) {
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-c', String(clients), '-n', String(requests), '-r', String(keyspace)];
  args.push('-P', String(load.pipeline), '-t', load.test, '--csv');
  if (load.dataSize) args.push('-d', String(load.dataSize));
  if (load.keepalive === false) args.push('-k', '0');
  const [cmd, argv] = pinned(clientCpu, referenceRedisBenchmark(), args);
  const { result, cpuSeconds, wallSeconds, minorFaults } = await measureCpu(server.pid, () => runCommand(cmd, argv, { timeoutMs: 600000 }));
  // LRANGE_* runs print two rows: redis-benchmark's own LPUSH prefill, then the load. The
  // rate is the load's; the CPU covers both (the same prefill on both servers).
  const rows = parseCsv(result.stdout);
  const row = rows.at(-1);
  if (rows.length < 1 || rows.length > 2 || !Number.isFinite(row?.rps)) {
    throw new Error(`unexpected redis-benchmark output for ${load.test}:\n${result.stdout}\n${result.stderr}`);
  }
  return {
    requests,
    rps: row.rps,
    cpuSeconds,
    wallSeconds,
    cpuUsPerOp: (cpuSeconds * 1e6) / requests,
    // Memory the allocator handed back and took again costs a fault a page: on a VM that
    // discards a guest's free pages, the likeliest cause of a CPU/op that moves between runs.
    faultsPerOp: minorFaults / requests,
    latencyMs: { avg: row.avg_latency_ms, p50: row.p50_latency_ms, p99: row.p99_latency_ms, max: row.max_latency_ms },
    command: [cmd, ...argv].join(' '),
  };
}
