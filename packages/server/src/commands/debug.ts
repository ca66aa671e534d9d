/**
 * DEBUG: the few subcommands that tests and operators need, gated like Redis's by
 * `enable-debug-command` (no | yes | local). SEGFAULT ends only the worker thread that runs
 * it: in Shrike a crash takes down one worker, and the main thread starts a replacement.
 */
import { allowProtectedAction } from '../config';
import type { Connection } from '../connection';
import { protectedCommand, subcommandSyntax } from '../errors';
import { replyHelp } from './help';
import type { TsEntry } from './types';

const OK = Buffer.from('+OK\r\n');

const HELP = [
  'ERROR <string>',
  '    Return a Redis protocol error with <string> as message. Useful for clients',
  '    unit tests to simulate Redis errors.',
  'LOG <message>',
  '    Write <message> to the server log.',
  'SEGFAULT',
  '    Crash the worker thread that runs it; the others keep serving and a replacement starts.',
  'SLEEP <seconds>',
  '    Stop the worker for <seconds>. Decimals allowed.',
];

function debug(c: Connection, argv: Buffer[]): void {
  if (!allowProtectedAction(c.server.config['enable-debug-command'], c.remoteAddress)) {
    c.w.error(protectedCommand('DEBUG', 'enable-debug-command'));
    return;
  }
  const sub = (argv[1] as Buffer).toString('latin1').toLowerCase();
  if (sub === 'help' && argv.length === 2) {
    replyHelp(c.w, 'debug', HELP);
  } else if (sub === 'segfault' && argv.length === 2) {
    c.server.log.fatal({ client: c.id }, 'DEBUG SEGFAULT: crashing this worker thread');
    c.server.crash();
  } else if (sub === 'sleep' && argv.length === 3) {
    // As Redis: strtod semantics, so garbage sleeps 0 seconds rather than failing.
    const seconds = Number.parseFloat((argv[2] as Buffer).toString('latin1')) || 0;
    if (seconds > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
    c.w.raw(OK);
  } else if (sub === 'log' && argv.length === 3) {
    c.server.log.warn({ client: c.id }, `DEBUG LOG: ${(argv[2] as Buffer).toString()}`);
    c.w.raw(OK);
  } else if (sub === 'error' && argv.length === 3) {
    // Redis 7.2 (debug.c) sends '-' + <msg> verbatim, line breaks as spaces, through
    // addReplySds: no ERR code is added, and no error counter sees it.
    c.w.errorBytes(argv[2] as Buffer);
    c.uncountedError = true;
  } else {
    c.w.error(subcommandSyntax('debug', (argv[1] as Buffer).toString('latin1')));
  }
}

export const entries: readonly TsEntry[] = [{ name: 'debug', handler: debug }];
