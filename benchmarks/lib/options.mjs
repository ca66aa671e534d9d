/** Command-line options of benchmarks/run.mjs. */

import { parseArgs } from 'node:util';
import { THROUGHPUT_LOADS } from '../sections/throughput.mjs';
import { referenceRedisServer } from './redis-ref.mjs';

export const SECTIONS = ['throughput', 'openloop', 'memory', 'collections', 'lazyfree', 'scaling', 'blocking', 'transactions', 'pubsub'];

export const USAGE = `Usage: npm run bench -- [options]    (node benchmarks/run.mjs [options])

Runs the same loads against redis-server and Shrike, alternating A/B, and reports ratios.

  --rounds N           A/B rounds per load (default 4: each order twice; 1 with --quick)
  --quick              short smoke run: ~0.3 s per run, 1 round, 2 s open-loop runs
  --threads N          Shrike worker threads for throughput/openloop/memory (default: Shrike's own)
  --only LIST          sections to run, comma-separated: ${SECTIONS.join(',')}
  --loads LIST         throughput loads to run, comma-separated ids as the report names
                       them (e.g. "get P1,set-512k P16"); more --rounds narrow their intervals
  --client-cpu N       pin redis-benchmark and loadgen to CPU N with taskset
  --out DIR            where results go (default benchmarks/results)
  --machine NAME       name in the result file name (default: hostname)
  --redis-server PATH  redis-server binary (default: the reference 7.2.6 from
                       ../shared/redis-ref/build.sh, else redis-server in PATH)
  --seconds S          target duration of one redis-benchmark run (default 2.5)
  --openloop-seconds S measured duration of one open-loop run (default 5)
  --memory-keys N      keys loaded for the memory comparison (default 1000000)
  --no-write           print results only, write no files
  -h, --help           this text
`;

function positiveNumber(name, value, { integer = false } = {}) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  return n;
}

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      threads: { type: 'string' },
      only: { type: 'string' },
      loads: { type: 'string' },
      'client-cpu': { type: 'string' },
      out: { type: 'string' },
      machine: { type: 'string' },
      'redis-server': { type: 'string' },
      seconds: { type: 'string' },
      'openloop-seconds': { type: 'string' },
      'memory-keys': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick;
  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : SECTIONS;
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (known: ${SECTIONS.join(', ')})`);
  let loads;
  if (values.loads !== undefined) {
    loads = values.loads
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const known = THROUGHPUT_LOADS.map((l) => l.id);
    for (const id of loads) if (!known.includes(id)) throw new Error(`--loads: unknown load "${id}" (known: ${known.join(', ')})`);
    if (!only.includes('throughput')) throw new Error('--loads picks throughput loads: the throughput section must run');
  }
  let clientCpu;
  if (values['client-cpu'] !== undefined) {
    clientCpu = Number(values['client-cpu']);
    if (!Number.isInteger(clientCpu) || clientCpu < 0) throw new Error(`--client-cpu must be a CPU number, got ${values['client-cpu']}`);
  }
  return {
    help: values.help,
    quick,
    rounds: values.rounds ? positiveNumber('rounds', values.rounds, { integer: true }) : quick ? 1 : 4,
    threads: values.threads ? positiveNumber('threads', values.threads, { integer: true }) : undefined,
    sections: SECTIONS.filter((s) => only.includes(s)),
    loads,
    clientCpu,
    out: values.out,
    machine: values.machine,
    redisServer: values['redis-server'] ?? referenceRedisServer(),
    seconds: values.seconds ? positiveNumber('seconds', values.seconds) : quick ? 0.3 : 2.5,
    openloopSeconds: values['openloop-seconds'] ? positiveNumber('openloop-seconds', values['openloop-seconds']) : quick ? 2 : 5,
    openloopWarmup: 1,
    memoryKeys: values['memory-keys'] ? positiveNumber('memory-keys', values['memory-keys'], { integer: true }) : 1000000,
    write: !values['no-write'],
  };
}
