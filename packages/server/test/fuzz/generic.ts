/**
 * Generic key commands (db.c, expire.c, object.c): DEL/UNLINK/EXISTS/TYPE/TOUCH, KEYS and SCAN
 * (MATCH, COUNT, TYPE), RANDOMKEY, RENAME/COPY/MOVE/SWAPDB across dbs, the EXPIRE family with
 * NX/XX/GT/LT, TTL reads, OBJECT ENCODING. Keys of the enabled types are planted often, so
 * that TYPE, SCAN TYPE, COPY and OBJECT ENCODING meet every type.
 */
import { c, EXPIRE_AT_MS, EXPIRE_AT_S, EXPIRE_MS, EXPIRE_S, type FuzzCommand, fuzzType, type Gen, scanCommand } from './gen';

/** KEYS and SCAN MATCH patterns: globs, classes, escapes and malformed ones. */
const PATTERNS = ['*', 'k*', 'k?', 'k[0-2]', 'k[^0]', '*1', '*[', 'nomatch', 'k\\1', '[', '\\', '', 'K*'];

/** SCAN TYPE names, Redis's and not. */
const SCAN_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'STRING', 'nosuchtype'];

function scan(g: Gen): FuzzCommand {
  const base = scanCommand(g, ['SCAN'], PATTERNS);
  if (!g.rng.chance(0.4)) return base;
  return { ...base, args: [...base.args, g.option(['TYPE']), g.rng.pick(SCAN_TYPES)] };
}

/** Per run and key, the last relative expiry (in ms) a command asked for; see `expire`. */
const lastRelative = new WeakMap<Gen, Map<string, number>>();

function expire(g: Gen): FuzzCommand {
  const [name, times] = g.rng.pick([
    ['EXPIRE', EXPIRE_S],
    ['PEXPIRE', EXPIRE_MS],
    ['EXPIREAT', EXPIRE_AT_S],
    ['PEXPIREAT', EXPIRE_AT_MS],
  ] as const);
  const key = g.key();
  const time = g.rng.pick(times);
  const args: string[] = [name, key, time];
  if (g.rng.chance(0.4)) args.push(g.option(['NX', 'XX', 'GT', 'LT']));
  if (g.rng.chance(0.05)) args.push(g.option(['NX', 'XX', 'GT', 'LT', 'FOO']));
  // The same relative expiry again with GT is greater than the last only if a millisecond
  // ticked in between: a race between the two servers' clocks, not a difference. XX instead.
  const ms = name === 'EXPIRE' ? Number(time) * 1000 : name === 'PEXPIRE' ? Number(time) : Number.NaN;
  if (Number.isFinite(ms)) {
    const seen = lastRelative.get(g) ?? new Map<string, number>();
    lastRelative.set(g, seen);
    if (seen.get(key) === ms) {
      for (let i = 3; i < args.length; i++) if (args[i]?.toUpperCase() === 'GT') args[i] = 'XX';
    }
    seen.set(key, ms);
  }
  return c(...args);
}

/** A renaming command: the destination's order is the source's. */
function rename(g: Gen): FuzzCommand {
  const [src, dst] = [g.key(), g.key()];
  const unordered = g.isUnordered(src) || g.isUnordered(dst);
  g.setUnordered(dst, unordered);
  const name = g.option(['RENAME', 'RENAMENX']);
  return c(name, src, dst);
}

function copy(g: Gen): FuzzCommand {
  const [src, dst] = [g.key(), g.key()];
  g.setUnordered(dst, g.isUnordered(src) || g.isUnordered(dst));
  const args = ['COPY', src, dst];
  if (g.rng.chance(0.3)) args.push(g.option(['DB']), g.rng.pick(['0', '1', '1', '16', '-1', 'x']));
  if (g.rng.chance(0.4)) args.push(g.option(['REPLACE']));
  return c(...args);
}

/** The generic generator. */
export const generic = fuzzType('generic', (g, key) => ['SET', key, g.value()], [
  (g) => g.plant(g.key()),
  (g) => g.plant(g.key()),
  (g) => g.plant(g.key()),
  (g) => c(g.option(['DEL', 'UNLINK']), ...g.keys(g.rng.range(1, 3))),
  (g) => c('EXISTS', ...g.keys(g.rng.range(1, 4))),
  (g) => c('TOUCH', ...g.keys(g.rng.range(1, 3))),
  (g) => c('TYPE', g.key()),
  (g) => c('TYPE', g.key()),
  (g) => ({ args: ['KEYS', g.rng.pick(PATTERNS)], compare: { kind: 'set' } }),
  scan,
  scan,
  () => [
    { args: ['RANDOMKEY'], compare: { kind: 'random', from: 1 } },
    { args: ['KEYS', '*'], compare: { kind: 'set' }, fixed: true },
  ],
  rename,
  copy,
  (g) => c('MOVE', g.key(), g.rng.pick(['1', '1', '0', '16', '-1', 'x'])),
  (g) => {
    if (!g.rng.chance(0.2)) return c('DBSIZE');
    g.setAllUnordered();
    return c('SWAPDB', g.rng.pick(['0', '1']), g.rng.pick(['1', '0', '16', 'x']));
  },
  expire,
  expire,
  (g) => ({ args: ['TTL', g.key()], compare: { kind: 'clock', tolerance: 1 } }),
  (g) => ({ args: ['PTTL', g.key()], compare: { kind: 'clock', tolerance: 1500 } }),
  (g) => ({ args: ['EXPIRETIME', g.key()], compare: { kind: 'clock', tolerance: 1 } }),
  (g) => ({ args: ['PEXPIRETIME', g.key()], compare: { kind: 'clock', tolerance: 1500 } }),
  (g) => c('PERSIST', g.key()),
  (g) => c('OBJECT', g.option(['ENCODING', 'ENCODING', 'ENCODING', 'REFCOUNT', 'NOSUCH']), g.key()),
  (g) => (g.rng.chance(0.1) ? c('FLUSHDB', ...(g.rng.chance(0.5) ? [g.option(['SYNC', 'ASYNC', 'FOO'])] : [])) : c('DBSIZE')),
]);
