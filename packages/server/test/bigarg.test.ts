/**
 * A big bulk argument: received into one read buffer of its declared size (not a doubling
 * one), and its memory given back once the value is deleted. Both transports.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { cmd, RawClient, startShrike } from './harness';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

for (const mode of ['yes', 'no']) {
  t.test(`a 300 MB SET, io-uring ${mode}`, async (t) => {
    const s = await startShrike(['--threads', '1', '--io-uring', mode, '--proto-max-bulk-len', '1gb']);
    t.teardown(() => s.stop());
    const pid = s.proc.pid as number;
    const c = await RawClient.open(s.port);
    t.teardown(() => c.close());
    await sleep(300);
    const before = rssMiB(pid);
    const size = 300 * MiB;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid));
    }, 20);
    // Header first, then the value in 4 MiB writes, as a client streams a big value.
    c.send(Buffer.from(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${size}\r\n`));
    const chunk = Buffer.alloc(4 * MiB, 0x62);
    for (let sent = 0; sent < size; sent += chunk.length) {
      if (!c.socket.write(chunk.subarray(0, Math.min(chunk.length, size - sent)))) await new Promise((r) => c.socket.once('drain', r));
    }
    c.send('\r\n');
    t.equal((await c.read(5, 30000)).toString(), '+OK\r\n');
    clearInterval(sampler);
    const grew = peak - before;
    // Before: a doubling read buffer and its copies peaked at 3.2x the value (1.9 GB for 600 MB).
    // Now: the read buffer (1x) plus the keyspace's copy (1x).
    t.ok(grew < 2.3 * 300, `peak ${grew.toFixed(0)} MiB over ${before.toFixed(0)} MiB for a 300 MiB value`);
    t.equal((await c.call(cmd('STRLEN', 'big'), 12, 5000)).trim(), `:${size}`, 'stored whole');
    t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n', 'the client carries on');
    t.equal(await c.call(cmd('DEL', 'big'), 4), ':1\r\n');
    await sleep(800);
    const after = rssMiB(pid);
    t.ok(after - before < 100, `after DEL: ${after.toFixed(0)} MiB, from ${before.toFixed(0)} MiB`);
  });
}
