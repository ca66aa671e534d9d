/**
 * The cross-protocol scripting guard, as Redis's securityWarningCommand (networking.c): a web
 * page can make a browser POST to a Redis port, and the HTTP request then parses as inline
 * commands, `POST / HTTP/1.1` and `Host: ...` first and the attacker's body after them. A
 * command named `post` or `host:` therefore closes the connection without a reply, before
 * the body can run. Nothing else about HTTP is recognised here.
 */
import type pino from 'pino';

// Redis 7.2.6's text (networking.c), logged at most once a minute so an attack cannot flood the log.
const WARNING =
  'Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. ' +
  'This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance.';
const LOG_EVERY_MS = 60_000;

/** When this thread last logged the warning (Redis keeps one such timestamp per process). */
let loggedAtMs = -Infinity;

/**
 * True when `name` (a command name that is not in the table) is `post` or `host:` in any case,
 * the first words of an HTTP request. Only unknown names get here, so the hot path pays nothing.
 */
export function isHttpCommand(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'post' || lower === 'host:';
}

/** Log the attack warning unless this thread logged it in the last minute; `ip` is '' when the peer is gone. */
export function warnCrossProtocol(log: pino.Logger, ip: string, port: number): void {
  const now = Date.now();
  if (now - loggedAtMs <= LOG_EVERY_MS) return;
  loggedAtMs = now;
  log.warn(ip === '' ? `${WARNING} Connection aborted.` : `${WARNING} Connection from ${ip}:${port} aborted.`);
}
