#!/usr/bin/env node
// `npm run fuzz -- [--seed N] [--count N] [--types a,b|all] [--against redis]`: the differential
// fuzz test (packages/server/test/fuzz.test.ts) with a longer or other run than CI's, e.g.
// `npm run fuzz -- --seed 7 --count 100000`. Options become the test's SHRIKE_FUZZ_* variables;
// the run has no time limit, and prints TAP (each difference is a comment, as a script).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string' },
    types: { type: 'string' },
    against: { type: 'string' },
  },
});
const env = { ...process.env };
if (values.seed !== undefined) env.SHRIKE_FUZZ_SEED = values.seed;
if (values.count !== undefined) env.SHRIKE_FUZZ_COUNT = values.count;
if (values.types !== undefined) env.SHRIKE_FUZZ_TYPES = values.types;
if (values.against !== undefined) env.SHRIKE_TEST_AGAINST = values.against;
const root = new URL('..', import.meta.url).pathname;
const r = spawnSync('npx', ['tap', '--timeout', '0', '--disable-coverage', '-R', 'tap', 'packages/server/test/fuzz.test.ts'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
