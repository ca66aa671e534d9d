/**
 * Shrike's configuration parameters, redis.conf style: the one list of what exists, its
 * default, how a value is parsed and printed, and whether CONFIG SET may change it at runtime.
 * cli.ts reads files and argv into a Config; CONFIG GET/SET go through the same list.
 */
import { realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { COMPAT_PARAMS, type CompatConfig, type CompatKind, compatDefaults } from './config-compat';

/** Parsed configuration, plain data so that it can cross into workers in `workerData`. */
export interface Config extends CompatConfig {
  port: number;
  bind: string[];
  threads: number;
  requirepass: string;
  databases: number;
  loglevel: string;
  logfile: string;
  maxclients: number;
  'proto-max-bulk-len': number;
  'client-query-buffer-limit': number;
  timeout: number;
  'tcp-backlog': number;
  'tcp-keepalive': number;
  hz: number;
  maxmemory: number;
  'maxmemory-policy': string;
  save: string;
  appendonly: string;
  appendfsync: string;
  dir: string;
  dbfilename: string;
  'protected-mode': string;
  daemonize: string;
  segments: number;
  'enable-debug-command': string;
  'enable-protected-configs': string;
  'enable-module-command': string;
  'io-uring': string;
  'cpu-affinity': string;
  /** ms the workers must be calm before freed memory goes back to the OS (alloc.rs memoryCalm). */
  'memory-release-delay': number;
  /** hard, soft, soft seconds for each class in OBUF_CLASSES order (Redis's client_obuf_limits). */
  'client-output-buffer-limit': number[];
}

/** How a value is parsed; `dir` must name a directory, `filename` must not be a path. */
type Kind = CompatKind | 'list' | 'dir' | 'filename' | 'obuf';

interface Param {
  readonly name: keyof Config;
  readonly kind: Kind;
  /** CONFIG SET may change it while running. */
  readonly mutable: boolean;
  /**
   * Redis's PROTECTED_CONFIG (config.c): CONFIG SET may change it only as
   * `enable-protected-configs` allows, since it can turn Redis into a file writer.
   */
  readonly protected?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Another name CONFIG GET/SET accept, and a glob in CONFIG GET lists too. */
  readonly alias?: string;
  /** For `custom`: the value as stored and printed, or the error text. */
  readonly normalize?: (v: string) => string | { readonly error: string };
}

const LOGLEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'] as const;
// Redis's own order (config.c maxmemory_policy_enum), which its error text lists.
const POLICIES = [
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'noeviction',
] as const;

// Redis's protected_action_enum: `local` allows loopback clients only.
const PROTECTED_ACTION = ['no', 'yes', 'local'] as const;

/** Every parameter Shrike knows, in CONFIG GET order. */
export const PARAMS: readonly Param[] = [
  { name: 'port', kind: 'int', mutable: false, min: 0, max: 65535 },
  { name: 'bind', kind: 'list', mutable: false },
  { name: 'threads', kind: 'int', mutable: false, min: 1, max: 1024 },
  { name: 'requirepass', kind: 'string', mutable: true },
  { name: 'databases', kind: 'int', mutable: false, min: 1, max: 1 << 20 },
  { name: 'loglevel', kind: 'enum', mutable: true, values: LOGLEVELS },
  { name: 'logfile', kind: 'string', mutable: false },
  { name: 'maxclients', kind: 'int', mutable: true, min: 1, max: 4294967295 },
  { name: 'proto-max-bulk-len', kind: 'memory', mutable: true, min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER },
  { name: 'client-query-buffer-limit', kind: 'memory', mutable: true, min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER },
  { name: 'timeout', kind: 'int', mutable: true, min: 0, max: 2 ** 31 - 1 },
  { name: 'tcp-backlog', kind: 'int', mutable: false, min: 0, max: 2 ** 31 - 1 },
  { name: 'tcp-keepalive', kind: 'int', mutable: true, min: 0, max: 2 ** 31 - 1 },
  { name: 'hz', kind: 'int', mutable: true, min: 1, max: 500 },
  { name: 'maxmemory', kind: 'memory', mutable: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: 'maxmemory-policy', kind: 'enum', mutable: true, values: POLICIES },
  { name: 'save', kind: 'string', mutable: true },
  { name: 'appendonly', kind: 'bool', mutable: true },
  { name: 'appendfsync', kind: 'enum', mutable: true, values: ['always', 'everysec', 'no'] },
  { name: 'dir', kind: 'dir', mutable: true, protected: true },
  { name: 'dbfilename', kind: 'filename', mutable: true, protected: true },
  { name: 'protected-mode', kind: 'bool', mutable: true },
  { name: 'daemonize', kind: 'bool', mutable: false },
  { name: 'segments', kind: 'int', mutable: false, min: 1, max: 16384 },
  { name: 'enable-debug-command', kind: 'enum', mutable: false, values: PROTECTED_ACTION },
  { name: 'enable-protected-configs', kind: 'enum', mutable: false, values: PROTECTED_ACTION },
  // Shrike loads no modules; the setting exists so that configs written for Redis 7 load.
  { name: 'enable-module-command', kind: 'enum', mutable: false, values: PROTECTED_ACTION },
  { name: 'io-uring', kind: 'bool', mutable: false },
  { name: 'cpu-affinity', kind: 'enum', mutable: false, values: ['auto', 'yes', 'no'] },
  { name: 'memory-release-delay', kind: 'int', mutable: true, min: 0, max: 3600000 },
  { name: 'client-output-buffer-limit', kind: 'obuf', mutable: true },
  ...COMPAT_PARAMS,
];

/** Client classes of client-output-buffer-limit, in Redis's order (as CONFIG GET prints them). */
const OBUF_CLASSES = ['normal', 'slave', 'pubsub'] as const;
/** Other names Redis accepts for a class (getClientTypeByName). */
const OBUF_ALIASES: Record<string, number> = { normal: 0, slave: 1, replica: 1, pubsub: 2 };

const BY_NAME: ReadonlyMap<string, Param> = new Map(
  PARAMS.flatMap((p): [string, Param][] =>
    p.alias === undefined
      ? [[p.name, p]]
      : [
          [p.name, p],
          [p.alias, p],
        ],
  ),
);

/**
 * Worker threads when `threads` is not set: one per CPU, except on machines with 2 CPUs or
 * fewer, where the server almost always shares its CPUs with its clients (a small VM beside
 * the application, redis-benchmark on the same box). There every extra worker takes a CPU
 * the clients need: on 2 CPUs with the client local, one worker served 1.06x Redis's GET
 * rate at -P 1 with Redis's p99 (under 1 ms), two served 0.72x (pinned) or 0.90x (unpinned)
 * with p99 of 2-4 ms, and one worker also led at -P 16 (benchmarks/README.md).
 */
export function defaultThreads(cpus: number): number {
  return cpus > 2 ? cpus : 1;
}

/** The defaults, as redis-server 7 has them where Redis has the parameter. */
export function defaultConfig(): Config {
  return {
    port: 6379,
    bind: ['127.0.0.1'],
    threads: defaultThreads(availableParallelism()),
    requirepass: '',
    databases: 16,
    loglevel: 'notice',
    logfile: '',
    maxclients: 10000,
    'proto-max-bulk-len': 512 * 1024 * 1024,
    'client-query-buffer-limit': 1024 * 1024 * 1024,
    timeout: 0,
    'tcp-backlog': 511,
    'tcp-keepalive': 300,
    hz: 10,
    maxmemory: 0,
    'maxmemory-policy': 'noeviction',
    save: '',
    appendonly: 'no',
    appendfsync: 'everysec',
    dir: process.cwd(),
    dbfilename: 'dump.rdb',
    'protected-mode': 'yes',
    daemonize: 'no',
    segments: 256,
    'enable-debug-command': 'no',
    'enable-protected-configs': 'no',
    'enable-module-command': 'no',
    'io-uring': 'yes',
    'cpu-affinity': 'auto',
    // Freed memory stays while it may be wanted again: a minute, as Redis's jemalloc keeps the
    // pages of big values overwritten by small ones (alloc.rs memory_calm).
    'memory-release-delay': 60000,
    // Redis's defaults: normal clients unlimited, replicas 256mb/64mb/60s, pub/sub 32mb/8mb/60s.
    'client-output-buffer-limit': [0, 0, 0, 256 * 1024 * 1024, 64 * 1024 * 1024, 60, 32 * 1024 * 1024, 8 * 1024 * 1024, 60],
    ...compatDefaults(),
  };
}

/** Every name CONFIG GET's globs match, aliases included, each with its parameter. */
export const PARAM_NAMES: readonly (readonly [string, Param])[] = [...BY_NAME];

/**
 * Redis's allowProtectedAction (server.c) for an `enable-*` setting: `yes`, or `local` and a
 * loopback client (Redis's islocalClient; Shrike has no unix socket yet).
 */
export function allowProtectedAction(mode: string, remoteAddress: string): boolean {
  if (mode === 'yes') return true;
  if (mode !== 'local') return false;
  return remoteAddress.startsWith('127.') || remoteAddress === '::1' || remoteAddress.startsWith('::ffff:127.');
}

/** Look a parameter up by its (case-insensitive) name. */
export function findParam(name: string): Param | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Parse a Redis memory value: `1gb`, `512mb`, `100k`, plain bytes (Redis's memtoll). */
export function parseMemory(s: string): number | undefined {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(s);
  if (m === null || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3 };
  return n * (mul[unit] ?? 1);
}

/**
 * Apply one directive (`name` with its arguments) to `cfg`; returns an error text on bad
 * input, undefined when applied. The error texts follow Redis's config.c where it has one.
 */
export function applyParam(cfg: Config, name: string, args: readonly string[]): string | undefined {
  const p = findParam(name);
  if (p === undefined) return 'Bad directive or wrong number of arguments';
  const rec = cfg as unknown as Record<string, unknown>;
  if (p.kind === 'obuf')
    return applyOutputLimits(
      cfg,
      args.flatMap((a) => a.split(' ')).filter((a) => a !== ''),
    );
  if (p.kind === 'list') {
    const list = args.flatMap((a) => a.split(' ')).filter((a) => a !== '');
    if (list.length === 0) return 'Bad directive or wrong number of arguments';
    rec[p.name] = list;
    return undefined;
  }
  if (args.length !== 1) return 'Bad directive or wrong number of arguments';
  const v = args[0] as string;
  switch (p.kind) {
    case 'int':
    case 'memory': {
      const n = p.kind === 'int' && /^-?\d+$/.test(v) ? Number(v) : parseMemory(v);
      if (n === undefined || !Number.isSafeInteger(n))
        return p.kind === 'int' ? "argument couldn't be parsed into an integer" : 'argument must be a memory value';
      if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max))
        return `argument must be between ${p.min} and ${p.max} inclusive`;
      rec[p.name] = n;
      return undefined;
    }
    case 'bool': {
      const b = v.toLowerCase();
      if (b !== 'yes' && b !== 'no') return "argument must be 'yes' or 'no'";
      rec[p.name] = b;
      return undefined;
    }
    case 'enum': {
      const e = v.toLowerCase();
      if (!p.values?.includes(e)) return `argument(s) must be one of the following: ${(p.values ?? []).join(', ')}`;
      rec[p.name] = e;
      return undefined;
    }
    case 'dir': {
      // Redis chdir()s (setConfigDirOption) and CONFIG GET shows getcwd(): a real, absolute path.
      const why = directoryError(resolve(cfg.dir, v));
      if (why !== undefined) return why;
      rec[p.name] = realpathSync(resolve(cfg.dir, v));
      return undefined;
    }
    case 'filename':
      // Redis's isValidDBfilename (pathIsBaseName).
      if (v.includes('/') || v.includes('\\')) return `${p.name} can't be a path, just a filename`;
      rec[p.name] = v;
      return undefined;
    case 'custom': {
      const r = p.normalize?.(v) ?? v;
      if (typeof r !== 'string') return r.error;
      rec[p.name] = r;
      return undefined;
    }
    default:
      rec[p.name] = v;
      return undefined;
  }
}

/**
 * client-output-buffer-limit: `<class> <hard> <soft> <soft seconds>` groups, all checked
 * before any is applied, with Redis's error texts (config.c updateClientOutputBufferLimit).
 */
function applyOutputLimits(cfg: Config, words: readonly string[]): string | undefined {
  if (words.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.';
  const next = [...cfg['client-output-buffer-limit']];
  for (let j = 0; j < words.length; j += 4) {
    const cls = OBUF_ALIASES[(words[j] as string).toLowerCase()];
    if (cls === undefined) return 'Invalid client class specified in buffer limit configuration.';
    const hard = parseMemory(words[j + 1] as string);
    const soft = parseMemory(words[j + 2] as string);
    const secs = words[j + 3] as string;
    if (hard === undefined || soft === undefined || hard < 0 || soft < 0 || !/^\d+$/.test(secs))
      return 'Error in hard, soft or soft_seconds setting in buffer limit configuration.';
    next.splice(cls * 3, 3, hard, soft, Number(secs));
  }
  cfg['client-output-buffer-limit'] = next;
  return undefined;
}

/** Why chdir(path) would fail, in strerror's words as Redis replies them; undefined when it would not. */
function directoryError(path: string): string | undefined {
  try {
    if (!statSync(path).isDirectory()) return 'Not a directory';
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'No such file or directory';
    if (code === 'ENOTDIR') return 'Not a directory';
    if (code === 'EACCES') return 'Permission denied';
    return (e as Error).message;
  }
}

/** A parameter's value as CONFIG GET prints it. */
export function formatParam(cfg: Config, name: keyof Config): string {
  if (name === 'client-output-buffer-limit') {
    const v = cfg[name];
    return OBUF_CLASSES.map((c, i) => `${c} ${v[i * 3]} ${v[i * 3 + 1]} ${v[i * 3 + 2]}`).join(' ');
  }
  const v = cfg[name];
  return Array.isArray(v) ? v.join(' ') : String(v);
}

/** Split a config line into words like Redis's sdssplitargs (quotes, escapes). Undefined on unbalanced quotes. */
export function splitConfigLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i] as string)) i++;
    if (i >= n) break;
    let cur = '';
    const q = line[i];
    if (q === '"' || q === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i] as string;
        if (c === '\\' && q === '"' && i + 1 < n) {
          const e = line[i + 1] as string;
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
          if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            cur += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          cur += map[e] ?? e;
          i += 2;
          continue;
        }
        if (c === '\\' && q === "'" && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (c === q) {
          closed = true;
          i++;
          break;
        }
        cur += c;
        i++;
      }
      if (!closed || (i < n && !/\s/.test(line[i] as string))) return undefined;
    } else {
      while (i < n && !/\s/.test(line[i] as string)) cur += line[i++];
    }
    out.push(cur);
  }
  return out;
}
