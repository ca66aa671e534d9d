#!/usr/bin/env node
// The compat runner's command line:
//
//   node compat-tests/dist/run.js --testfile PATH [--port 6379] [--host 127.0.0.1]
//        [--version 7.2.0] [--mode standalone|cluster] [--show-failed] [--min-pass N]
//        [--timeout-ms 5000] [--grep TEXT] [--verbose]
//
// Exit status: 0 when at least --min-pass cases passed, 1 when fewer did, 2 on a usage
// error or when the server could not be reached. This is the only file that reads argv
// or prints; the rest of the runner is plain functions.

import { parseArgs } from 'node:util';
import { formatReport } from './report';
import { Resp2Client } from './resp2-client';
import { runSuite, Session } from './runner';
import { loadSuite, type Mode, SuiteError } from './suite';

const USAGE = `usage: run.js --testfile PATH [--port N] [--host H] [--version V] [--mode standalone|cluster]
              [--show-failed] [--min-pass N] [--timeout-ms MS] [--grep TEXT] [--verbose]

Runs the Tair compatibility suite against a running server, as the reference runner
(resp_compatibility.py) does, and prints passes per command group, per since-version
and in total.

  --testfile PATH   the suite (JSON array of cases)
  --host H          server host (default 127.0.0.1)
  --port N          server port (default 6379)
  --version V       run only cases with since <= V, compared as strings (default: all)
  --mode M          standalone (skips "cluster" cases, the default) or cluster
  --show-failed     print each failing case with expected and actual replies
  --min-pass N      exit 1 when fewer than N cases pass (default 0)
  --timeout-ms MS   reply timeout per command; blocking commands get their own on top (default 5000)
  --grep TEXT       run only cases whose name contains TEXT
  --verbose         print each case as it runs
`;

class UsageError extends Error {}

function integerOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      testfile: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '6379' },
      version: { type: 'string' },
      mode: { type: 'string', default: 'standalone' },
      'show-failed': { type: 'boolean', default: false },
      'min-pass': { type: 'string' },
      'timeout-ms': { type: 'string' },
      grep: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.testfile === undefined) throw new UsageError('--testfile is required');
  if (values.mode !== 'standalone' && values.mode !== 'cluster') {
    throw new UsageError(`--mode must be standalone or cluster, got '${values.mode}'`);
  }
  const mode: Mode = values.mode;
  const port = integerOption(values.port, 'port', 6379);
  const minPass = integerOption(values['min-pass'], 'min-pass', 0);
  const timeoutMs = integerOption(values['timeout-ms'], 'timeout-ms', 5000);
  const host = values.host ?? '127.0.0.1';

  const cases = loadSuite(values.testfile);
  const session = new Session(() => Resp2Client.connect(host, port, timeoutMs), timeoutMs);
  const versions = values.version === undefined ? 'all versions' : `since <= ${values.version}`;
  process.stdout.write(`compat: ${cases.length} cases from ${values.testfile} against ${host}:${port} (${mode}, ${versions})\n`);

  try {
    const tally = await runSuite(cases, session, {
      mode,
      ...(values.version !== undefined && { version: values.version }),
      ...(values.grep !== undefined && { grep: values.grep }),
      ...(values.verbose && {
        onCase: (c, r) => {
          const status = 'skipped' in r ? `skipped (${r.skipped})` : r.failure === undefined ? 'passed' : 'failed';
          process.stdout.write(`test: ${c.name} ${status}\n`);
        },
      }),
    });
    process.stdout.write(formatReport(tally, values['show-failed']));
    if (tally.aborted !== undefined) return 2;
    if (tally.total.passed < minPass) {
      process.stdout.write(`FAIL: ${tally.total.passed} passed, fewer than --min-pass ${minPass}\n`);
      return 1;
    }
    return 0;
  } finally {
    session.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${e.message}\n\n${USAGE}`);
    } else if (e instanceof SuiteError) {
      process.stderr.write(`compat: ${e.message}\n`);
    } else {
      process.stderr.write(`compat: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
    process.exitCode = 2;
  },
);
