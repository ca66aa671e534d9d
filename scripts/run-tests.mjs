#!/usr/bin/env node
// `npm test`: every suite (tap for TypeScript, cargo test for Rust), then one closing line
// `N passed, N failed` summed over all of them, which CI reads. Exit non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;

function run(cmd, args, capture) {
  process.stderr.write(`\n== ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: capture ? ['inherit', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (capture && r.stdout) process.stdout.write(r.stdout);
  return r;
}

function tapFiles(dir) {
  let out = [];
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(tapFiles(p));
    else if (n.endsWith('.tap')) out.push(p);
  }
  return out;
}

// TypeScript: tap keeps each test file's raw TAP under .tap/test-results; its top-level
// points are the file's tests (a `t.test` block counts once, like a cargo test function).
rmSync(join(root, '.tap/test-results'), { recursive: true, force: true });
const tapArgs = process.argv.length > 2 ? process.argv.slice(2) : ['-R', 'base'];
const tap = run('npx', ['tap', ...tapArgs], false);
let tsPassed = 0;
let tsFailed = 0;
for (const f of tapFiles(join(root, '.tap/test-results'))) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (/^ok \d+/.test(line)) tsPassed++;
    else if (/^not ok \d+/.test(line)) tsFailed++;
  }
}
if (tap.status !== 0 && tsFailed === 0) tsFailed = 1;
passed += tsPassed;
failed += tsFailed;

// Rust: sum cargo's per-binary "test result" lines.
const cargo = run('cargo', ['test', '--workspace', '--color', 'never'], true);
let rsPassed = 0;
let rsFailed = 0;
for (const m of (cargo.stdout ?? '').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
  rsPassed += Number(m[1]);
  rsFailed += Number(m[2]);
}
if (cargo.status !== 0 && rsFailed === 0) rsFailed = 1;
passed += rsPassed;
failed += rsFailed;

process.stdout.write(`\nTypeScript: ${tsPassed} passed, ${tsFailed} failed; Rust: ${rsPassed} passed, ${rsFailed} failed\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
