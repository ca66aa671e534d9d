/**
 * A PING prober in a process of its own, so that the latencies it records are the server's
 * and not pauses of the bench's own heap (which has just built a million-element key).
 *
 * As a module: `startProber(port)` forks this file and resolves to `{ stop() }`, where stop()
 * resolves to the probes as [sentUs, repliedUs] pairs on the monotonic clock that
 * `monotonicUs()` reads in any process of the machine. As the forked child: connects to the
 * port in argv, sends PINGs back to back until told to stop, then sends its probes back.
 */

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RespClient } from './respclient.mjs';

/** Microseconds on the machine's monotonic clock (the same in every process). */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Fork a prober on `port`; resolves once its first PING was answered. */
export function startProber(port) {
  const child = fork(fileURLToPath(import.meta.url), [String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`prober exited with ${code} before it was ready`)));
    child.once('message', (m) => {
      if (m !== 'ready') return reject(new Error(`prober said ${JSON.stringify(m)}`));
      child.removeAllListeners('exit');
      resolve({
        stop: () =>
          new Promise((done, fail) => {
            child.once('message', (flat) => {
              const probes = [];
              for (let i = 0; i + 1 < flat.length; i += 2) probes.push([flat[i], flat[i + 1]]);
              done(probes);
            });
            child.once('exit', (code) => code !== 0 && fail(new Error(`prober exited with ${code}`)));
            child.send('stop');
          }),
      });
    });
  });
}

async function probe(port) {
  const client = await RespClient.connect(port);
  let running = true;
  process.on('message', (m) => {
    if (m === 'stop') running = false;
  });
  await client.command('PING');
  process.send('ready');
  const flat = [];
  while (running) {
    const t0 = monotonicUs();
    await client.command('PING');
    flat.push(t0, monotonicUs());
  }
  client.close();
  process.send(flat, () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  probe(Number(process.argv[2])).catch((err) => {
    process.stderr.write(`prober: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}
