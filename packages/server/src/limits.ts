/**
 * maxclients against the open-file limit, as Redis 7.2's adjustOpenFilesLimit (server.c):
 * Shrike asks the OS for maxclients + 32 descriptors; when it gets fewer, maxclients shrinks
 * to fit at startup, and CONFIG SET maxclients is refused (updateMaxclients, config.c). The
 * log lines are Redis's own, so operators' alerts on them keep working.
 */
import type pino from 'pino';
import type { Addon } from './core';

/** Redis's CONFIG_MIN_RESERVED_FDS: descriptors kept for listeners, files and the like. */
export const RESERVED_FDS = 32;

/**
 * Raise the open-file limit for `maxclients`; returns how many clients it allows: `maxclients`,
 * fewer (logged as Redis does), or 0 when not even the reserved descriptors are left (Redis
 * then refuses to start; after a successful start the limit is never that low).
 */
export function fitMaxclients(addon: Addon, maxclients: number, log: pino.Logger): number {
  const want = maxclients + RESERVED_FDS;
  const got = addon.adjustOpenFilesLimit(want);
  if (got.limit >= want) {
    if (got.oldLimit < want) {
      log.info(`Increased maximum number of open files to ${want} (it was originally set to ${got.oldLimit}).`);
    }
    return maxclients;
  }
  if (got.limit <= RESERVED_FDS) {
    log.fatal(
      `Your current 'ulimit -n' of ${got.oldLimit} is not enough for the server to start. ` +
        `Please increase your open file limit to at least ${want}. Exiting.`,
    );
    return 0;
  }
  const reduced = got.limit - RESERVED_FDS;
  log.warn(`You requested maxclients of ${maxclients} requiring at least ${want} max file descriptors.`);
  log.warn(`Server can't set maximum open files to ${want} because of OS error: ${got.error}.`);
  log.warn(
    `Current maximum open files is ${got.limit}. maxclients has been reduced to ${reduced} to compensate for low ulimit. ` +
      "If you need higher maxclients increase 'ulimit -n'.",
  );
  return reduced;
}

/**
 * CONFIG SET maxclients' apply step (config.c updateMaxclients): undefined when the open-file
 * limit serves `maxclients`, else the reason CONFIG SET gives (the caller keeps the old value).
 */
export function applyMaxclients(addon: Addon, maxclients: number, log: pino.Logger): string | undefined {
  const allowed = fitMaxclients(addon, maxclients, log);
  if (allowed >= maxclients) return undefined;
  log.warn('Failed applying new configuration. Possibly related to new maxclients setting. Restoring previous settings.');
  return `The operating system is not able to handle the specified number of clients, try with ${allowed}`;
}
