/** What the numbers were measured on, recorded with every result file. */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { clockTicks } from './procstat.mjs';
import { referenceRedisBenchmark } from './redis-ref.mjs';
import { repoRoot } from './servers.mjs';

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    return m ? m[1].trim() : (os.cpus()[0]?.model ?? null);
  } catch {
    return os.cpus()[0]?.model ?? null;
  }
}

export function machineInfo({ redisServer = 'redis-server', machine } = {}) {
  const redisVersion = tryRun(redisServer, ['--version']);
  const benchVersion = tryRun(referenceRedisBenchmark(), ['--version']);
  const commit = tryRun('git', ['rev-parse', '--short', 'HEAD']);
  return {
    name: machine ?? os.hostname(),
    hostname: os.hostname(),
    cpuModel: cpuModel(),
    nproc: Number(tryRun('nproc', [])) || os.availableParallelism(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    redisServer: redisVersion?.match(/v=(\S+)/)?.[1] ?? redisVersion,
    redisServerVersionLine: redisVersion,
    redisBenchmark: benchVersion,
    shrikeCommit: commit,
    clkTck: clockTicks(),
  };
}
