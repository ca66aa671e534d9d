/**
 * MONITOR (Redis's server group, replicationFeedMonitors in replication.c): a monitor sees
 * every command any worker runs, as one status line each. The worker that runs a command
 * formats its line and hands it to the core, which mails it to every monitor wherever it is.
 */
import type { Connection } from '../connection';
import type { Command, TsEntry } from './types';

const OK = Buffer.from('+OK\r\n');
const REDACTED = Buffer.from('(redacted)');

/** Bytes sdscatrepr escapes with a letter. */
const ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x5c, '\\\\'],
  [0x22, '\\"'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
  [0x07, '\\a'],
  [0x08, '\\b'],
]);

/** One argument quoted as Redis's sdscatrepr: printable ASCII as is, the rest escaped. */
function repr(arg: Buffer): string {
  let out = '"';
  for (const b of arg) {
    const esc = ESCAPES.get(b);
    if (esc !== undefined) out += esc;
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** The arguments Redis redacts before monitors see them (AUTH's, HELLO's AUTH pair). */
function redacted(cmd: Command, argv: Buffer[]): Buffer[] {
  if (cmd.name === 'auth') return argv.map((a, i) => (i === 0 ? a : REDACTED));
  if (cmd.name !== 'hello') return argv;
  // helloCommand's option walk: AUTH's username and password are redacted.
  const out = [...argv];
  for (let i = 2; i < out.length; i++) {
    const more = out.length - 1 - i;
    const opt = (out[i] as Buffer).toString('latin1').toLowerCase();
    if (opt === 'auth' && more >= 2) {
      out[i + 1] = REDACTED;
      out[i + 2] = REDACTED;
      i += 2;
    } else if (opt === 'setname' && more >= 1) i++;
    else break;
  }
  return out;
}

/** The MONITOR line of `argv` run by `c` now: `+<sec>.<usec> [<db> <addr>] "arg" ...`. */
export function monitorLine(c: Connection, cmd: Command, argv: Buffer[]): Buffer {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const sec = Math.floor(us / 1e6);
  const usec = String(us % 1e6).padStart(6, '0');
  const args = redacted(cmd, argv).map(repr).join(' ');
  return Buffer.from(`+${sec}.${usec} [${c.db} ${c.addr}] ${args}\r\n`, 'latin1');
}

/** MONITOR */
function monitor(c: Connection): void {
  // Inside EXEC a client expects one reply per command (Redis's CLIENT_DENY_BLOCKING).
  if (c.denyBlocking) {
    c.w.error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    return;
  }
  // Already a monitor: Redis ignores the command and sends nothing.
  if (c.monitor) return;
  c.w.raw(OK);
  c.startMonitor();
}

export const entries = [{ name: 'monitor', handler: monitor }] as const satisfies readonly TsEntry[];
