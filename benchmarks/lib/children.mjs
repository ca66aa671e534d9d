/**
 * Every process the harness spawns goes through here, so that an error, Ctrl-C or a
 * plain exit never leaves a redis-server or shrike-server listening behind us.
 */

import { spawn } from 'node:child_process';

const live = new Set();

/** spawn() that remembers the child until it exits. */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** SIGKILL whatever is still running; synchronous, so it is safe inside an 'exit' handler. */
export function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

let installed = false;

/** Kill children on normal exit and on SIGINT/SIGTERM/SIGHUP (then exit with 128+n). */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers\n`);
      killAll();
      process.exit(code);
    });
  }
}

/**
 * Run a command to completion, collecting stdout/stderr. Rejects when it cannot start
 * or exits non-zero, with the tail of stderr in the message (that is where tools say why).
 */
export function runCommand(command, args, { timeoutMs = 0, env, cwd, stdio } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(command, args, { env, cwd, stdio: stdio ?? ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      if (stderr.length > 1e6) stderr = stderr.slice(-1e5);
    });
    let timer;
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const tail = stderr.trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}${tail ? `:\n${tail}` : ''}`));
      }
    });
  });
}

/** Prefix `command args` with `taskset -c cpu` when a CPU is given. */
export function pinned(cpu, command, args) {
  if (cpu === undefined || cpu === null) return [command, args];
  return ['taskset', ['-c', String(cpu), command, ...args]];
}
