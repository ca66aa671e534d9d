#!/usr/bin/env node
/**
 * Shrike vs Redis benchmark harness: `npm run bench -- [options]` (see --help).
 *
 * Both servers run on this machine and get the same load in alternating rounds, so the
 * output that matters is the Shrike/Redis ratio, which survives a noisy machine far
 * better than an absolute rate does. Progress goes to stderr, the summary to stdout,
 * everything (raw rounds included) to benchmarks/results/<date>-<machine>.json + .svg.
 */

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resultsChart } from './lib/chart.mjs';
import { installCleanup, killAll } from './lib/children.mjs';
import { machineInfo } from './lib/machine.mjs';
import { parseOptions, SECTIONS, USAGE } from './lib/options.mjs';
import { summaryText } from './lib/report.mjs';
import { repoRoot } from './lib/servers.mjs';
import { evaluateTargets } from './lib/targets.mjs';
import { blockingSection } from './sections/blocking.mjs';
import { collectionsSection } from './sections/collections.mjs';
import { lazyfreeSection } from './sections/lazyfree.mjs';
import { memorySection } from './sections/memory.mjs';
import { openloopSection } from './sections/openloop.mjs';
import { pubsubSection } from './sections/pubsub.mjs';
import { scalingSection } from './sections/scaling.mjs';
import { throughputSection } from './sections/throughput.mjs';
import { transactionsSection } from './sections/transactions.mjs';

const SECTION_RUNNERS = {
  throughput: throughputSection,
  openloop: openloopSection,
  memory: memorySection,
  collections: collectionsSection,
  lazyfree: lazyfreeSection,
  scaling: scalingSection,
  blocking: blockingSection,
  transactions: transactionsSection,
  pubsub: pubsubSection,
};

const started = Date.now();
function log(msg) {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${t}s] ${msg}\n`);
}

function localDate(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** File names carry the machine name, so keep it to characters every filesystem and URL accepts. */
const safeName = (s) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/**
 * <date>-<machine>.json/.svg for a complete run. Smoke and partial runs get a suffix so
 * they never overwrite a full run's file, and only a complete, error-free full run
 * replaces latest.*, which is what the README embeds.
 */
function writeResults(opts, results) {
  const outDir = path.resolve(opts.out ?? path.join(repoRoot, 'benchmarks/results'));
  mkdirSync(outDir, { recursive: true });
  const partial = opts.sections.length < SECTIONS.length || opts.loads !== undefined;
  const suffix = `${opts.quick ? '-quick' : ''}${partial ? `-${opts.sections.join('+')}` : ''}${opts.loads ? '-some-loads' : ''}`;
  const base = path.join(outDir, `${results.date}-${safeName(results.machine.name)}${suffix}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.svg`, resultsChart(results));
  const shown = path.relative(process.cwd(), base);
  if (results.errors.length === 0 && !opts.quick && !partial) {
    copyFileSync(`${base}.json`, path.join(outDir, 'latest.json'));
    copyFileSync(`${base}.svg`, path.join(outDir, 'latest.svg'));
    log(`wrote ${shown}.json/.svg and latest.json/.svg`);
  } else {
    const why = results.errors.length ? 'a section failed' : opts.quick ? 'this is a --quick run' : 'not every section or load ran';
    log(`wrote ${shown}.json/.svg; latest.* left alone because ${why}`);
  }
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  installCleanup();

  const machine = machineInfo({ redisServer: opts.redisServer, machine: opts.machine });
  const date = localDate();
  const results = {
    schema: 1,
    date,
    startedAt: new Date(started).toISOString(),
    command: ['node', path.relative(process.cwd(), process.argv[1]) || process.argv[1], ...process.argv.slice(2)].join(' '),
    cwd: process.cwd(),
    options: { ...opts, help: undefined },
    machine,
    // Other work on the machine is the main source of noise; keep a trace of how busy it was.
    loadAverageAtStart: os.loadavg(),
  };
  log(
    `machine ${machine.name}: ${machine.cpuModel}, ${machine.nproc} CPUs, redis-server ${machine.redisServer}, node ${machine.node}, shrike ${machine.shrikeCommit ?? '?'}`,
  );
  log(`sections: ${opts.sections.join(', ')}; ${opts.rounds} round(s)${opts.quick ? ' (quick)' : ''}`);

  const ctx = { opts, log, machine, results };
  results.errors = [];
  for (const name of opts.sections) {
    const t0 = Date.now();
    log(`== ${name} ==`);
    try {
      results[name] = await SECTION_RUNNERS[name](ctx);
    } catch (err) {
      // One broken section should not throw away the others' numbers.
      log(`[${name}] FAILED: ${err.stack ?? err.message}`);
      results.errors.push({ section: name, message: String(err.message ?? err) });
    }
    log(`== ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s ==`);
  }
  results.finishedAt = new Date().toISOString();
  results.loadAverageAtEnd = os.loadavg();
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.targets = evaluateTargets(results);

  if (opts.write) writeResults(opts, results);

  process.stdout.write(summaryText(results));
  if (results.errors.length) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  killAll();
  process.exit(1);
});
