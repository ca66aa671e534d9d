/**
 * The pino root logger. Each worker and each connection derive a child once; nothing above
 * `debug` is logged per command.
 */
import pino from 'pino';

/** Build the root logger for this thread: JSON lines to stdout, or appended to `logfile`. */
export function createLogger(level: string, logfile: string, name: string): pino.Logger {
  const dest = logfile === '' ? pino.destination({ dest: 1, sync: false }) : pino.destination({ dest: logfile, sync: false, mkdir: true });
  return pino({ level, name, base: { pid: process.pid } }, dest);
}

/** Map Redis's loglevel names onto pino's. */
export function pinoLevel(redisLevel: string): string {
  switch (redisLevel) {
    case 'debug':
      return 'trace';
    case 'verbose':
      return 'debug';
    case 'notice':
      return 'info';
    case 'warning':
      return 'warn';
    case 'nothing':
      return 'silent';
    default:
      return 'info';
  }
}
