import t from 'tap';
import { cpuTicks, measureCpu, minorFaults } from './procstat.mjs';

t.test('measureCpu counts the page faults of fresh memory touched meanwhile', async (t) => {
  const pages = (64 << 20) / 4096;
  const {
    result,
    minorFaults: faults,
    cpuSeconds,
  } = await measureCpu(process.pid, async () => {
    const b = Buffer.alloc(64 << 20);
    for (let i = 0; i < b.length; i += 4096) b[i] = 1;
    return b.length;
  });
  t.equal(result, 64 << 20);
  // Huge pages, where the kernel hands them out, fault 2 MiB at a time.
  t.ok(faults >= pages / 512, `${faults} faults for ${pages} pages`);
  t.ok(cpuSeconds >= 0);
});

t.test('the counters read from /proc are numbers that only grow', async (t) => {
  const f0 = minorFaults(process.pid);
  const c0 = cpuTicks(process.pid);
  let x = 0;
  for (let i = 0; i < 5e7; i++) x += i;
  t.ok(x > 0);
  t.ok(Number.isInteger(f0) && minorFaults(process.pid) >= f0);
  t.ok(Number.isInteger(c0) && cpuTicks(process.pid) >= c0);
});
