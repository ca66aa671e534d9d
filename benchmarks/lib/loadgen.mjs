/**
 * The open-loop generator (benchmarks/loadgen, Rust). redis-benchmark is closed-loop:
 * a slow reply delays the next request, which hides queueing delay. loadgen sends on a
 * fixed schedule and measures from the intended send time, so tail latency is honest.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pinned, runCommand } from './children.mjs';
import { measureCpu } from './procstat.mjs';
import { repoRoot } from './servers.mjs';

export const loadgenBin = path.join(repoRoot, 'target/release/loadgen');
const manifest = path.join(repoRoot, 'benchmarks/loadgen/Cargo.toml');

function packageName() {
  try {
    const toml = readFileSync(manifest, 'utf8');
    const pkg = toml.split(/^\[/m).find((s) => s.startsWith('package]'));
    return pkg?.match(/^name\s*=\s*"([^"]+)"/m)?.[1] ?? 'shrike-loadgen';
  } catch {
    return 'shrike-loadgen';
  }
}

/**
 * Make sure target/release/loadgen exists, building it when it does not.
 * Resolves { ok: true, bin } or { ok: false, reason } — never throws, since a missing
 * generator should skip the open-loop section, not end the run.
 */
export async function ensureLoadgen(log) {
  if (existsSync(loadgenBin)) return { ok: true, bin: loadgenBin, built: false };
  if (!existsSync(manifest)) return { ok: false, reason: `${path.relative(repoRoot, manifest)} not found` };
  const pkg = packageName();
  log(`building loadgen: cargo build --release -p ${pkg}`);
  try {
    await runCommand('cargo', ['build', '--release', '-p', pkg], { cwd: repoRoot, timeoutMs: 900000 });
  } catch (err) {
    return { ok: false, reason: `cargo build --release -p ${pkg} failed: ${err.message.slice(0, 2000)}` };
  }
  if (!existsSync(loadgenBin)) return { ok: false, reason: `cargo build succeeded but ${loadgenBin} is missing` };
  return { ok: true, bin: loadgenBin, built: true };
}

/** One open-loop run; resolves the generator's JSON line plus the server's CPU µs per completed request. */
export async function runLoadgen(
  bin,
  server,
  { rate, duration, warmup = 1, connections = 50, threads = 1, command = 'get', keyspace, valueSize = 32, clientCpu },
) {
  const args = ['--host', '127.0.0.1', '--port', String(server.port), '--rate', String(Math.round(rate)), '--duration', String(duration)];
  args.push('--connections', String(connections), '--threads', String(threads), '--command', command);
  args.push('--keyspace', String(keyspace), '--value-size', String(valueSize), '--warmup', String(warmup), '--json');
  const [cmd, argv] = pinned(clientCpu, bin, args);
  const timeoutMs = (duration + warmup + 60) * 1000;
  const { result, cpuSeconds, wallSeconds } = await measureCpu(server.pid, () => runCommand(cmd, argv, { timeoutMs }));
  const line = result.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.trim().startsWith('{'));
  if (!line) throw new Error(`loadgen printed no JSON:\n${result.stdout}\n${result.stderr}`);
  const out = JSON.parse(line);
  // The server also served the warm-up, so spread its CPU over everything it answered.
  const answered = out.completed + Math.round((out.achieved_rps ?? rate) * warmup);
  return {
    ...out,
    cpuSeconds,
    wallSeconds,
    cpuUsPerOp: answered > 0 ? (cpuSeconds * 1e6) / answered : null,
    command: [cmd, ...argv].join(' '),
  };
}
