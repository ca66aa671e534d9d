/**
 * Starting and stopping the two servers under test. Both listen on 127.0.0.1 on a port
 * the kernel hands out, so a stray server from an earlier run cannot answer for them.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './children.mjs';
import { referenceRedisServer } from './redis-ref.mjs';
import { oneCommand } from './respclient.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const shrikeBin = path.join(repoRoot, 'packages/server/bin/shrike-server.js');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForPing(server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(
        `${server.name} exited (${server.child.exitCode ?? server.child.signalCode}) before answering PING:\n${server.output().trim()}`,
      );
    }
    try {
      if ((await oneCommand(server.port, 'PING')) === 'PONG') return;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(
    `${server.name} did not answer PING on port ${server.port} within ${timeoutMs} ms (${lastError?.message})\n${server.output()}`,
  );
}

async function launch(name, command, args, { cleanupDir } = {}) {
  const port = args.port;
  const child = spawnTracked(command, args.argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep only the tail of the logs: enough to explain a failed start.
  let log = '';
  const keep = (d) => {
    log = (log + d).slice(-8000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const spawnError = new Promise((_, reject) => child.once('error', (err) => reject(new Error(`cannot start ${name}: ${err.message}`))));
  const server = {
    name,
    port,
    child,
    pid: child.pid,
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
        if (timedOut) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      if (cleanupDir) rmSync(cleanupDir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.race([waitForPing(server, 20000), spawnError]);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** redis-server with persistence off, its working dir in a temp dir so nothing lands in the repo. */
export async function startRedis({ redisServer = referenceRedisServer(), extraArgs = [] } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shrike-bench-redis-'));
  const argv = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...extraArgs,
  ];
  const server = await launch('redis', redisServer, { port, argv }, { cleanupDir: dir });
  return { ...server, kind: 'redis', command: [redisServer, ...argv] };
}

/** Shrike with `threads` workers, or with its own default when `threads` is undefined. */
export async function startShrike({ threads, extraArgs = [] } = {}) {
  if (!existsSync(shrikeBin)) throw new Error(`${shrikeBin} not found`);
  const port = await freePort();
  const argv = [
    shrikeBin,
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    ...(threads === undefined ? [] : ['--threads', String(threads)]),
    '--loglevel',
    'warning',
    ...extraArgs,
  ];
  const server = await launch(`shrike(threads=${threads ?? 'default'})`, process.execPath, { port, argv });
  return { ...server, kind: 'shrike', threads: threads ?? 'default', command: [process.execPath, ...argv] };
}

/**
 * Start servers one after another, hand them to `fn`, and stop every one that did start
 * — also when a later one fails to start or `fn` throws.
 */
export async function withServers(starters, fn) {
  const started = [];
  try {
    for (const start of starters) started.push(await start());
    return await fn(...started);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}
