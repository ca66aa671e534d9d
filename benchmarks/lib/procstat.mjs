/**
 * Server-side cost read from /proc: CPU time (utime+stime of the whole thread group,
 * so Shrike's worker threads are included) and resident memory.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clkTck;

/** Clock ticks per second for /proc/PID/stat times; 100 on nearly every Linux, but ask. */
export function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** Field `n` (1-based, man 5 proc) of /proc/PID/stat, whose counts cover every thread. */
function statField(stat, n) {
  // comm (field 2) may contain spaces and parentheses; fields are counted after its closing ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return Number(rest[n - 3]);
}

const readStat = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8');

/** utime+stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function cpuTicks(pid) {
  const stat = readStat(pid);
  return statField(stat, 14) + statField(stat, 15);
}

/** Minor page faults of a process so far (field 10, minflt): what touching fresh memory costs. */
export function minorFaults(pid) {
  return statField(readStat(pid), 10);
}

/** CPU seconds and minor page faults of `pid` while `fn` ran, plus fn's result. */
export async function measureCpu(pid, fn) {
  const before = cpuTicks(pid);
  const faultsBefore = minorFaults(pid);
  const started = process.hrtime.bigint();
  const result = await fn();
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = (cpuTicks(pid) - before) / clockTicks();
  return { result, cpuSeconds, wallSeconds, minorFaults: minorFaults(pid) - faultsBefore };
}

/** A field of /proc/PID/status in bytes (VmRSS, VmHWM, ...); the file reports kB. */
export function statusBytes(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, 'm'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

export const rssBytes = (pid) => statusBytes(pid, 'VmRSS');
