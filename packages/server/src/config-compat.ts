/**
 * Redis 7.2 parameters that clients and their test suites read (CONFIG GET) or set, which
 * Shrike stores and reports with Redis's defaults, validation and printed form, but does not
 * act on yet: slowlog, latency monitor, keyspace notifications, encoding thresholds, lazyfree,
 * replication knobs. config.ts joins them to its own list; a parameter moves there when
 * Shrike starts to use it.
 */

/** Values of the parameters below, by name. */
export interface CompatConfig {
  'slowlog-log-slower-than': number;
  'slowlog-max-len': number;
  'latency-monitor-threshold': number;
  'latency-tracking': string;
  'latency-tracking-info-percentiles': string;
  'busy-reply-threshold': number;
  'notify-keyspace-events': string;
  'hash-max-listpack-entries': number;
  'hash-max-listpack-value': number;
  'list-max-listpack-size': number;
  'list-compress-depth': number;
  'set-max-intset-entries': number;
  'set-max-listpack-entries': number;
  'set-max-listpack-value': number;
  'zset-max-listpack-entries': number;
  'zset-max-listpack-value': number;
  'hll-sparse-max-bytes': number;
  'stream-node-max-bytes': number;
  'stream-node-max-entries': number;
  'maxmemory-samples': number;
  'maxmemory-eviction-tenacity': number;
  'maxmemory-clients': number;
  'lazyfree-lazy-eviction': string;
  'lazyfree-lazy-expire': string;
  'lazyfree-lazy-server-del': string;
  'lazyfree-lazy-user-del': string;
  'lazyfree-lazy-user-flush': string;
  activedefrag: string;
  'dynamic-hz': string;
  'cluster-enabled': string;
  'io-threads': number;
  'io-threads-do-reads': string;
  'replica-read-only': string;
  'repl-backlog-size': number;
  'min-replicas-to-write': number;
  'min-replicas-max-lag': number;
  'acllog-max-len': number;
  'aof-use-rdb-preamble': string;
  'auto-aof-rewrite-percentage': number;
  'auto-aof-rewrite-min-size': number;
  'no-appendfsync-on-rewrite': string;
  appendfilename: string;
  appenddirname: string;
  rdbcompression: string;
  rdbchecksum: string;
  'stop-writes-on-bgsave-error': string;
  'shutdown-timeout': number;
  supervised: string;
  pidfile: string;
  'tracking-table-max-keys': number;
}

/** How a value is checked and printed (see config.ts applyParam). */
export type CompatKind = 'int' | 'memory' | 'string' | 'enum' | 'bool' | 'custom';

/** One parameter: config.ts's Param shape. */
export interface CompatParam {
  readonly name: keyof CompatConfig;
  readonly kind: CompatKind;
  readonly mutable: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Redis's other name for it (7.0 renamed ziplist to listpack, lua-time-limit to busy-reply-threshold). */
  readonly alias?: string;
  /** For `custom`: the value as Redis stores and prints it, or the error text. */
  readonly normalize?: (v: string) => string | { readonly error: string };
}

const INT_MAX = 2 ** 31 - 1;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** notify.c's classes: a letter each; `A` is every class but `n`, K/E/m stand apart. */
const EVENT_CLASSES = 'g$lshzxetdn';
const EVENT_ALL = 'g$lshzxetd';

/** keyspaceEventsStringToFlags then keyspaceEventsFlagsToString: the canonical spelling. */
function normalizeKeyspaceEvents(v: string): string | { readonly error: string } {
  const set = new Set<string>();
  for (const ch of v) {
    if (ch === 'A') for (const a of EVENT_ALL) set.add(a);
    else if (EVENT_CLASSES.includes(ch) || ch === 'K' || ch === 'E' || ch === 'm') set.add(ch);
    else return { error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
  }
  let out = [...EVENT_ALL].every((c) => set.has(c)) ? 'A' : [...EVENT_CLASSES].filter((c) => set.has(c)).join('');
  for (const c of 'KEm') if (set.has(c)) out += c;
  return out;
}

/** setConfigLatencyTrackingInfoPercentilesOutputOption: space-separated doubles in [0, 100]. */
function normalizePercentiles(v: string): string | { readonly error: string } {
  const words = v.split(' ').filter((w) => w !== '');
  const out: string[] = [];
  for (const w of words) {
    const n = Number(w);
    if (w.trim() === '' || Number.isNaN(n)) return { error: 'Invalid latency-tracking-info-percentiles parameters' };
    if (n > 100 || n < 0) return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
    out.push(String(n));
  }
  return out.join(' ');
}

/** The parameters, in the order CONFIG GET * lists them after Shrike's own. */
export const COMPAT_PARAMS: readonly CompatParam[] = [
  { name: 'slowlog-log-slower-than', kind: 'int', mutable: true, min: -1, max: LONG_MAX },
  { name: 'slowlog-max-len', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'latency-monitor-threshold', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'latency-tracking', kind: 'bool', mutable: true },
  { name: 'latency-tracking-info-percentiles', kind: 'custom', mutable: true, normalize: normalizePercentiles },
  { name: 'busy-reply-threshold', kind: 'int', mutable: true, min: 0, max: LONG_MAX, alias: 'lua-time-limit' },
  { name: 'notify-keyspace-events', kind: 'custom', mutable: true, normalize: normalizeKeyspaceEvents },
  { name: 'hash-max-listpack-entries', kind: 'int', mutable: true, min: 0, max: LONG_MAX, alias: 'hash-max-ziplist-entries' },
  { name: 'hash-max-listpack-value', kind: 'int', mutable: true, min: 0, max: LONG_MAX, alias: 'hash-max-ziplist-value' },
  { name: 'list-max-listpack-size', kind: 'int', mutable: true, min: -(2 ** 31), max: INT_MAX, alias: 'list-max-ziplist-size' },
  { name: 'list-compress-depth', kind: 'int', mutable: true, min: 0, max: INT_MAX },
  { name: 'set-max-intset-entries', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'set-max-listpack-entries', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'set-max-listpack-value', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'zset-max-listpack-entries', kind: 'int', mutable: true, min: 0, max: LONG_MAX, alias: 'zset-max-ziplist-entries' },
  { name: 'zset-max-listpack-value', kind: 'memory', mutable: true, min: 0, max: LONG_MAX, alias: 'zset-max-ziplist-value' },
  { name: 'hll-sparse-max-bytes', kind: 'memory', mutable: true, min: 0, max: LONG_MAX },
  { name: 'stream-node-max-bytes', kind: 'memory', mutable: true, min: 0, max: LONG_MAX },
  { name: 'stream-node-max-entries', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'maxmemory-samples', kind: 'int', mutable: true, min: 1, max: 64 },
  { name: 'maxmemory-eviction-tenacity', kind: 'int', mutable: true, min: 0, max: 100 },
  { name: 'maxmemory-clients', kind: 'memory', mutable: true, min: 0, max: LONG_MAX },
  { name: 'lazyfree-lazy-eviction', kind: 'bool', mutable: true },
  { name: 'lazyfree-lazy-expire', kind: 'bool', mutable: true },
  { name: 'lazyfree-lazy-server-del', kind: 'bool', mutable: true },
  { name: 'lazyfree-lazy-user-del', kind: 'bool', mutable: true },
  { name: 'lazyfree-lazy-user-flush', kind: 'bool', mutable: true },
  { name: 'activedefrag', kind: 'bool', mutable: true },
  { name: 'dynamic-hz', kind: 'bool', mutable: true },
  { name: 'cluster-enabled', kind: 'bool', mutable: false },
  { name: 'io-threads', kind: 'int', mutable: false, min: 1, max: 128 },
  { name: 'io-threads-do-reads', kind: 'bool', mutable: false },
  { name: 'replica-read-only', kind: 'bool', mutable: true, alias: 'slave-read-only' },
  { name: 'repl-backlog-size', kind: 'memory', mutable: true, min: 1, max: LONG_MAX },
  { name: 'min-replicas-to-write', kind: 'int', mutable: true, min: 0, max: INT_MAX, alias: 'min-slaves-to-write' },
  { name: 'min-replicas-max-lag', kind: 'int', mutable: true, min: 0, max: INT_MAX, alias: 'min-slaves-max-lag' },
  { name: 'acllog-max-len', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
  { name: 'aof-use-rdb-preamble', kind: 'bool', mutable: true },
  { name: 'auto-aof-rewrite-percentage', kind: 'int', mutable: true, min: 0, max: INT_MAX },
  { name: 'auto-aof-rewrite-min-size', kind: 'memory', mutable: true, min: 0, max: LONG_MAX },
  { name: 'no-appendfsync-on-rewrite', kind: 'bool', mutable: true },
  { name: 'appendfilename', kind: 'string', mutable: false },
  { name: 'appenddirname', kind: 'string', mutable: false },
  { name: 'rdbcompression', kind: 'bool', mutable: true },
  { name: 'rdbchecksum', kind: 'bool', mutable: false },
  { name: 'stop-writes-on-bgsave-error', kind: 'bool', mutable: true },
  { name: 'shutdown-timeout', kind: 'int', mutable: true, min: 0, max: INT_MAX },
  { name: 'supervised', kind: 'enum', mutable: false, values: ['upstart', 'systemd', 'auto', 'no'] },
  { name: 'pidfile', kind: 'string', mutable: false },
  { name: 'tracking-table-max-keys', kind: 'int', mutable: true, min: 0, max: LONG_MAX },
];

/** Redis 7.2's defaults for them. */
export function compatDefaults(): CompatConfig {
  return {
    'slowlog-log-slower-than': 10000,
    'slowlog-max-len': 128,
    'latency-monitor-threshold': 0,
    'latency-tracking': 'yes',
    'latency-tracking-info-percentiles': '50 99 99.9',
    'busy-reply-threshold': 5000,
    'notify-keyspace-events': '',
    'hash-max-listpack-entries': 512,
    'hash-max-listpack-value': 64,
    'list-max-listpack-size': -2,
    'list-compress-depth': 0,
    'set-max-intset-entries': 512,
    'set-max-listpack-entries': 128,
    'set-max-listpack-value': 64,
    'zset-max-listpack-entries': 128,
    'zset-max-listpack-value': 64,
    'hll-sparse-max-bytes': 3000,
    'stream-node-max-bytes': 4096,
    'stream-node-max-entries': 100,
    'maxmemory-samples': 5,
    'maxmemory-eviction-tenacity': 10,
    'maxmemory-clients': 0,
    'lazyfree-lazy-eviction': 'no',
    'lazyfree-lazy-expire': 'no',
    'lazyfree-lazy-server-del': 'no',
    'lazyfree-lazy-user-del': 'no',
    'lazyfree-lazy-user-flush': 'no',
    activedefrag: 'no',
    'dynamic-hz': 'yes',
    'cluster-enabled': 'no',
    'io-threads': 1,
    'io-threads-do-reads': 'no',
    'replica-read-only': 'yes',
    'repl-backlog-size': 1024 * 1024,
    'min-replicas-to-write': 0,
    'min-replicas-max-lag': 10,
    'acllog-max-len': 128,
    'aof-use-rdb-preamble': 'yes',
    'auto-aof-rewrite-percentage': 100,
    'auto-aof-rewrite-min-size': 64 * 1024 * 1024,
    'no-appendfsync-on-rewrite': 'no',
    appendfilename: 'appendonly.aof',
    appenddirname: 'appendonlydir',
    rdbcompression: 'yes',
    rdbchecksum: 'yes',
    'stop-writes-on-bgsave-error': 'yes',
    'shutdown-timeout': 10,
    supervised: 'no',
    pidfile: '',
    'tracking-table-max-keys': 1000000,
  };
}
