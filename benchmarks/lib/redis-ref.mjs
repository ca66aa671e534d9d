/**
 * Which redis-server the benchmarks compare against: the reference Redis 7.2.6 that
 * ../shared/redis-ref/build.sh builds (once per machine) and prints, the version Shrike
 * follows; `redis-server` on PATH only where ../shared is absent.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let cached;

/** Path of the reference redis-server (built on first use; the build is cached by the script). */
export function referenceRedisServer() {
  if (cached !== undefined) return cached;
  cached = 'redis-server';
  const script = path.join(repoRoot, '..', 'shared', 'redis-ref', 'build.sh');
  if (existsSync(script)) {
    const built = spawnSync(script, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (built.status === 0 && built.stdout.trim() !== '') cached = built.stdout.trim();
  }
  return cached;
}

/**
 * The redis-benchmark to drive the loads with: the one built beside the reference
 * redis-server (same version on every machine), else `redis-benchmark` on PATH.
 */
export function referenceRedisBenchmark() {
  const server = referenceRedisServer();
  const beside = path.join(path.dirname(server), 'redis-benchmark');
  return server !== 'redis-server' && existsSync(beside) ? beside : 'redis-benchmark';
}
