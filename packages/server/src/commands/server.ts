/**
 * The parts of Redis's `server` group that read server or worker state, handled in
 * TypeScript: INFO, CONFIG, COMMAND, TIME, LASTSAVE. Keyspace-wide commands (DBSIZE,
 * FLUSHDB, FLUSHALL, SWAPDB) run in the core.
 */
import { createHash } from 'node:crypto';
import { arch, release, type } from 'node:os';
import { allowProtectedAction, applyParam, type Config, findParam, formatParam, PARAM_NAMES } from '../config';
import type { Connection } from '../connection';
import { applyMaxclients } from '../limits';
import { ThreadSlot } from '../shared';
import { safeInfoName } from '../stats';
import {
  commandAll,
  commandCount,
  commandDocs,
  commandGetKeys,
  commandGetKeysAndFlags,
  commandInfo,
  commandList,
  type SpecLookup,
} from './command';
import { REDIS_VERSION } from './connection';
import { replyHelp } from './help';
import { implementedSpecs } from './table';
import type { TsEntry } from './types';

const OK = Buffer.from('+OK\r\n');

/**
 * INFO's sections in Redis 7.2's order (server.c genRedisInfoString). Shrike's own `threads`
 * comes last, where Redis prints the sections modules add.
 */
const SECTIONS = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'modules',
  'commandstats',
  'errorstats',
  'latencystats',
  'cluster',
  'keyspace',
  'threads',
] as const;
type Section = (typeof SECTIONS)[number];

/** What INFO, and INFO default, print (genInfoSectionDict's defaults; `module_list` is Modules). */
const DEFAULT_SECTIONS: readonly string[] = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'module_list',
  'errorstats',
  'cluster',
  'keyspace',
  'threads',
];

let peakMemory = 0;

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[i]}`;
}

/** A stable 40-hex id for this process (run_id, master_replid): every worker derives the same one. */
function processId(c: Connection, salt: string): string {
  return createHash('sha1').update(`${process.pid}:${c.server.startedAtMs}:${salt}`).digest('hex');
}

function section(c: Connection, name: Section): string[] {
  const s = c.server;
  const cfg = s.config;
  const rows = s.threadRows();
  const sum = (slot: number): number => rows.reduce((a, r) => a + (r[slot] ?? 0), 0);
  const now = Date.now();
  switch (name) {
    case 'server': {
      const uptime = Math.floor((now - s.startedAtMs) / 1000);
      return [
        '# Server',
        `redis_version:${REDIS_VERSION}`,
        'redis_git_sha1:00000000',
        'redis_git_dirty:0',
        'redis_build_id:0',
        'redis_mode:standalone',
        `os:${type()} ${release()} ${arch()}`,
        'arch_bits:64',
        'monotonic_clock:POSIX clock_gettime',
        'multiplexing_api:epoll',
        'atomicvar_api:c11-builtin',
        'gcc_version:0.0.0',
        `process_id:${process.pid}`,
        'process_supervised:no',
        `run_id:${processId(c, 'run')}`,
        `tcp_port:${cfg.port}`,
        `server_time_usec:${now * 1000}`,
        `uptime_in_seconds:${uptime}`,
        `uptime_in_days:${Math.floor(uptime / 86400)}`,
        `hz:${cfg.hz}`,
        `configured_hz:${cfg.hz}`,
        `lru_clock:${Math.floor(now / 1000) & 0xffffff}`,
        `executable:${process.argv[1] ?? ''}`,
        'config_file:',
        'io_threads_active:0',
        'shrike_version:0.1.0',
        `shrike_threads:${rows.length}`,
        `shrike_io:${s.ioMode}`,
        `node_version:${process.version}`,
      ];
    }
    case 'clients': {
      const blocked = s.addon.blockedInfo();
      return [
        '# Clients',
        `connected_clients:${s.connectedClients}`,
        'cluster_connections:0',
        `maxclients:${cfg.maxclients}`,
        'client_recent_max_input_buffer:0',
        'client_recent_max_output_buffer:0',
        // Redis counts clients held by CLIENT PAUSE as blocked (blockPostponeClient) as well
        // as those blocked on keys.
        `blocked_clients:${(blocked[0] ?? 0) + s.pause.heldTotal}`,
        `tracking_clients:${s.addon.trackingStats().clients}`,
        'clients_in_timeout_table:0',
        `total_blocking_keys:${blocked[1] ?? 0}`,
        'total_blocking_keys_on_nokey:0',
      ];
    }
    case 'memory': {
      const used = s.addon.usedMemory();
      const rss = process.memoryUsage.rss();
      peakMemory = Math.max(peakMemory, used);
      return [
        '# Memory',
        `used_memory:${used}`,
        `used_memory_human:${human(used)}`,
        `used_memory_rss:${rss}`,
        `used_memory_rss_human:${human(rss)}`,
        `used_memory_peak:${peakMemory}`,
        `used_memory_peak_human:${human(peakMemory)}`,
        // Redis counts replicas' buffers apart; Shrike has no replicas yet.
        'mem_clients_slaves:0',
        `mem_clients_normal:${sum(ThreadSlot.ClientMemory)}`,
        `maxmemory:${cfg.maxmemory}`,
        `maxmemory_human:${human(cfg.maxmemory)}`,
        `maxmemory_policy:${cfg['maxmemory-policy']}`,
        `mem_fragmentation_ratio:${used > 0 ? (rss / used).toFixed(2) : '0.00'}`,
        'mem_allocator:libc',
        'lazyfree_pending_objects:0',
      ];
    }
    case 'persistence':
      return [
        '# Persistence',
        'loading:0',
        'async_loading:0',
        'current_cow_peak:0',
        'current_cow_size:0',
        `rdb_changes_since_last_save:${s.addon.keyspaceChanges()}`,
        'rdb_bgsave_in_progress:0',
        `rdb_last_save_time:${Math.floor(s.startedAtMs / 1000)}`,
        'rdb_last_bgsave_status:ok',
        'rdb_last_bgsave_time_sec:-1',
        'rdb_current_bgsave_time_sec:-1',
        'aof_enabled:0',
        'aof_rewrite_in_progress:0',
        'aof_rewrite_scheduled:0',
        'aof_last_rewrite_time_sec:-1',
        'aof_current_rewrite_time_sec:-1',
        'aof_last_bgrewrite_status:ok',
        'aof_last_write_status:ok',
      ];
    case 'stats': {
      const ks = s.addon.keyspaceStats();
      const tracking = s.addon.trackingStats();
      const [pubsubChannels = 0, pubsubPatterns = 0, pubsubShard = 0] = s.addon.pubsubCounts();
      // Redis 7.2's fields in its order; what Shrike has no machinery for (replication,
      // forks, defrag, eviction) is zero, as on a Redis that never used it.
      return [
        '# Stats',
        `total_connections_received:${sum(ThreadSlot.ConnectionsReceived)}`,
        `total_commands_processed:${sum(ThreadSlot.Commands)}`,
        `instantaneous_ops_per_sec:${Math.trunc(sum(ThreadSlot.OpsPerSec))}`,
        `total_net_input_bytes:${sum(ThreadSlot.NetInput)}`,
        `total_net_output_bytes:${sum(ThreadSlot.NetOutput)}`,
        'total_net_repl_input_bytes:0',
        'total_net_repl_output_bytes:0',
        `instantaneous_input_kbps:${(sum(ThreadSlot.InputPerSec) / 1024).toFixed(2)}`,
        `instantaneous_output_kbps:${(sum(ThreadSlot.OutputPerSec) / 1024).toFixed(2)}`,
        'instantaneous_input_repl_kbps:0.00',
        'instantaneous_output_repl_kbps:0.00',
        `rejected_connections:${sum(ThreadSlot.Rejected)}`,
        'sync_full:0',
        'sync_partial_ok:0',
        'sync_partial_err:0',
        `expired_keys:${ks.expiredKeys}`,
        'expired_stale_perc:0.00',
        'expired_time_cap_reached_count:0',
        'expire_cycle_cpu_milliseconds:0',
        'evicted_keys:0',
        'evicted_clients:0',
        'total_eviction_exceeded_time:0',
        'current_eviction_exceeded_time:0',
        `keyspace_hits:${ks.keyspaceHits}`,
        `keyspace_misses:${ks.keyspaceMisses}`,
        `pubsub_channels:${pubsubChannels}`,
        `pubsub_patterns:${pubsubPatterns}`,
        `pubsubshard_channels:${pubsubShard}`,
        'latest_fork_usec:0',
        'total_forks:0',
        'migrate_cached_sockets:0',
        'slave_expires_tracked_keys:0',
        'active_defrag_hits:0',
        'active_defrag_misses:0',
        'active_defrag_key_hits:0',
        'active_defrag_key_misses:0',
        'total_active_defrag_time:0',
        'current_active_defrag_time:0',
        `tracking_total_keys:${tracking.keys}`,
        `tracking_total_items:${tracking.items}`,
        `tracking_total_prefixes:${tracking.prefixes}`,
        'unexpected_error_replies:0',
        `total_error_replies:${s.addon.totalErrorReplies()}`,
        'dump_payload_sanitizations:0',
        'io_threaded_reads_processed:0',
        'io_threaded_writes_processed:0',
        'acl_access_denied_auth:0',
        'acl_access_denied_cmd:0',
        'acl_access_denied_key:0',
        'acl_access_denied_channel:0',
      ];
    }
    case 'replication':
      return [
        '# Replication',
        'role:master',
        'connected_slaves:0',
        'master_failover_state:no-failover',
        `master_replid:${processId(c, 'replid')}`,
        'master_replid2:0000000000000000000000000000000000000000',
        'master_repl_offset:0',
        'second_repl_offset:-1',
        'repl_backlog_active:0',
        'repl_backlog_size:1048576',
        'repl_backlog_first_byte_offset:0',
        'repl_backlog_histlen:0',
      ];
    case 'cpu': {
      const u = process.cpuUsage();
      return [
        '# CPU',
        `used_cpu_sys:${(u.system / 1e6).toFixed(6)}`,
        `used_cpu_user:${(u.user / 1e6).toFixed(6)}`,
        'used_cpu_sys_children:0.000000',
        'used_cpu_user_children:0.000000',
      ];
    }
    case 'modules':
      return ['# Modules'];
    case 'commandstats':
      return [
        '# Commandstats',
        ...s.stats
          .commandStats()
          .map(
            (k) =>
              `cmdstat_${safeInfoName(k.name)}:calls=${k.calls},usec=${k.usec},usec_per_call=${(k.calls === 0 ? 0 : k.usec / k.calls).toFixed(2)},rejected_calls=${k.rejected},failed_calls=${k.failed}`,
          ),
      ];
    case 'errorstats':
      return ['# Errorstats', ...s.addon.errorStats().map((e) => `errorstat_${safeInfoName(e.prefix)}:count=${e.count}`)];
    case 'latencystats':
      // Shrike keeps no latency histograms yet: the section is empty, as Redis's is with
      // latency-tracking off.
      return ['# Latencystats'];
    case 'cluster':
      return ['# Cluster', 'cluster_enabled:0'];
    case 'keyspace':
      return ['# Keyspace', ...s.addon.keyspaceInfo().map((d) => `db${d.db}:keys=${d.keys},expires=${d.expires},avg_ttl=${d.avgTtl}`)];
    case 'threads':
      return [
        '# Threads',
        ...rows.map(
          (r, i) =>
            `thread${i}:index=${i},cpu=${r[ThreadSlot.Cpu]},tid=${r[ThreadSlot.Tid]},connected_clients=${r[ThreadSlot.Clients]},commands_processed=${r[ThreadSlot.Commands]}`,
        ),
      ];
  }
}

/**
 * INFO [section [section ...]]: `default` adds the default sections, `all` and `everything`
 * select every section; names are case-insensitive (genInfoSectionDict).
 */
function info(c: Connection, argv: Buffer[]): void {
  const names = new Set<string>(argv.length === 1 ? DEFAULT_SECTIONS : []);
  let all = false;
  for (const b of argv.slice(1)) {
    const name = b.toString('latin1').toLowerCase();
    if (name === 'default') for (const d of DEFAULT_SECTIONS) names.add(d);
    else if (name === 'all' || name === 'everything') all = true;
    else names.add(name);
  }
  const wanted = SECTIONS.filter((s) => all || names.has(s) || (s === 'modules' && names.has('module_list')));
  // Workers publish their counters every 100 ms; ask them all first, so that INFO right after
  // CONFIG RESETSTAT or a command on another worker counts it, as on Redis's one thread.
  c.suspend();
  c.server.ask({ kind: 'publishStats' }, () => {
    const text = wanted.map((s) => section(c, s).join('\r\n')).join('\r\n\r\n');
    c.w.verbatim('txt', wanted.length === 0 ? '' : `${text}\r\n`);
    c.resume();
  });
}

/** Redis glob for CONFIG GET patterns (`*`, `?`, `[...]`), case-insensitive. */
function globToRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] as string;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const close = p.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        let body = p.slice(i + 1, close);
        if (body.startsWith('^')) body = `^${body.slice(1).replace(/\\/g, '\\\\')}`;
        else body = body.replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else if (ch === '\\' && i + 1 < p.length) re += `\\${p[++i]}`.replace(/^\\([a-zA-Z0-9])$/, '$1');
    else re += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

/**
 * CONFIG GET parameter [parameter ...]: one map over every pattern (Redis 7), each name once.
 * A name without glob characters is looked up (aliases too) and echoed as typed; a glob
 * matches every name and alias (config.c configGetCommand).
 */
function configGet(c: Connection, argv: Buffer[]): void {
  // By lower-case name (Redis's matches dict ignores case): the name as shown, and its value.
  const found = new Map<string, [string, string]>();
  for (const b of argv.slice(2)) {
    const pat = b.toString('latin1');
    if (!/[[*?]/.test(pat)) {
      const exact = findParam(pat);
      const key = pat.toLowerCase();
      if (exact !== undefined && !found.has(key)) found.set(key, [pat, formatParam(c.server.config, exact.name)]);
      continue;
    }
    const re = globToRegExp(pat);
    for (const [name, p] of PARAM_NAMES) {
      if (!found.has(name) && re.test(name)) found.set(name, [name, formatParam(c.server.config, p.name)]);
    }
  }
  c.w.mapHeader(found.size);
  for (const [k, v] of found.values()) {
    c.w.bulk(k);
    c.w.bulk(v);
  }
}

/** CONFIG SET parameter value [parameter value ...] — all or nothing, on every worker. */
function configSet(c: Connection, argv: Buffer[]): void {
  if (argv.length % 2 !== 0) {
    c.w.error(`ERR Unknown option or number of arguments for CONFIG SET - '${(argv[2] as Buffer).toString('latin1')}'`);
    return;
  }
  const pairs: [string, string][] = [];
  const seen = new Set<string>();
  const probe: Config = { ...c.server.config };
  for (let i = 2; i < argv.length; i += 2) {
    const raw = (argv[i] as Buffer).toString('latin1');
    const p = findParam(raw);
    if (p === undefined) {
      c.w.error(`ERR Unknown option or number of arguments for CONFIG SET - '${raw}'`);
      return;
    }
    // Config values are text, as read from a file or argv: UTF-8 (a password must match either way).
    const value = (argv[i + 1] as Buffer).toString('utf8');
    let why: string | undefined;
    if (seen.has(p.name)) why = 'duplicate parameter';
    else if (!p.mutable) why = "can't set immutable config";
    else if (p.protected && !allowProtectedAction(c.server.config['enable-protected-configs'], c.remoteAddress))
      why = "can't set protected config";
    else why = applyParam(probe, p.name, [value]);
    if (why !== undefined) {
      c.w.error(`ERR CONFIG SET failed (possibly related to argument '${raw}') - ${why}`);
      return;
    }
    seen.add(p.name);
    pairs.push([p.name, value]);
  }
  // Redis's apply step: a maxclients the open-file limit cannot serve is refused, the old value kept.
  const applyErr = seen.has('maxclients') ? applyMaxclients(c.server.addon, probe.maxclients, c.server.log) : undefined;
  if (applyErr !== undefined) {
    c.w.error(`ERR CONFIG SET failed (possibly related to argument 'maxclients') - ${applyErr}`);
    return;
  }
  c.suspend();
  c.server.ask({ kind: 'configSet', pairs }, () => {
    c.w.raw(OK);
    c.resume();
  });
}

/**
 * CONFIG RESETSTAT: what Redis's resetServerStats, resetCommandTableStats and
 * resetErrorTableStats zero, in the core and then on every worker.
 */
function configResetstat(c: Connection): void {
  c.server.addon.resetKeyspaceStats();
  c.server.addon.resetCommandStats();
  peakMemory = 0;
  c.suspend();
  c.server.ask({ kind: 'resetStats' }, () => {
    c.w.raw(OK);
    c.resume();
  });
}

/** CONFIG HELP */
function configHelp(c: Connection): void {
  replyHelp(c.w, 'config', [
    'GET <pattern>',
    '    Return parameters matching the glob-like <pattern> and their values.',
    'SET <directive> <value>',
    '    Set the configuration <directive> to <value>.',
    'RESETSTAT',
    '    Reset statistics reported by the INFO command.',
    'REWRITE',
    '    Rewrite the configuration file.',
  ]);
}

/** COMMAND HELP */
function commandHelp(c: Connection): void {
  replyHelp(c.w, 'command', [
    '(no subcommand)',
    '    Return details about all Redis commands.',
    'COUNT',
    '    Return the total number of commands in this Redis server.',
    'LIST',
    '    Return a list of all commands in this Redis server.',
    'INFO [<command-name> ...]',
    '    Return details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'DOCS [<command-name> ...]',
    '    Return documentation details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'GETKEYS <full-command>',
    '    Return the keys from a full Redis command.',
    'GETKEYSANDFLAGS <full-command>',
    '    Return the keys and the access flags from a full Redis command.',
  ]);
}

/** TIME */
function time(c: Connection): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.w.arrayHeader(2);
  c.w.bulk(String(Math.floor(us / 1e6)));
  c.w.bulk(String(us % 1e6));
}

/** LASTSAVE — nothing has been saved yet, so the start time, as Redis reports after start-up. */
function lastsave(c: Connection): void {
  c.w.integer(Math.floor(c.server.startedAtMs / 1000));
}

/**
 * The specs of what this server implements, by full name ('get', 'client|kill'): COMMAND
 * describes only those, subcommands included, and grows with the table.
 */
function implemented(c: Connection): SpecLookup {
  const table = c.server.table;
  return (name) => {
    const bar = name.indexOf('|');
    if (bar < 0) return table.get(name)?.spec;
    return table.get(name.slice(0, bar))?.subcommands?.get(name.slice(bar + 1))?.spec;
  };
}

/** COMMAND */
function command(c: Connection): void {
  commandAll(c.w, implementedSpecs(c.server.table), implemented(c));
}

/** COMMAND COUNT */
function commandCountH(c: Connection): void {
  commandCount(c.w, implementedSpecs(c.server.table));
}

/** COMMAND INFO [command-name ...] */
function commandInfoH(c: Connection, argv: Buffer[]): void {
  commandInfo(c.w, implementedSpecs(c.server.table), argv.slice(2), implemented(c));
}

/** COMMAND DOCS [command-name ...] */
function commandDocsH(c: Connection, argv: Buffer[]): void {
  commandDocs(c.w, implementedSpecs(c.server.table), argv.slice(2), implemented(c));
}

/** COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] */
function commandListH(c: Connection, argv: Buffer[]): void {
  commandList(c.w, implementedSpecs(c.server.table), argv.slice(2), implemented(c));
}

/** COMMAND GETKEYS command [arg ...] */
function commandGetKeysH(c: Connection, argv: Buffer[]): void {
  commandGetKeys(c.w, implemented(c), argv.slice(2));
}

/** COMMAND GETKEYSANDFLAGS command [arg ...] */
function commandGetKeysAndFlagsH(c: Connection, argv: Buffer[]): void {
  commandGetKeysAndFlags(c.w, implemented(c), argv.slice(2));
}

export const entries: readonly TsEntry[] = [
  { name: 'info', handler: info },
  { name: 'config|get', handler: configGet },
  { name: 'config|set', handler: configSet },
  { name: 'config|resetstat', handler: configResetstat },
  { name: 'config|help', handler: configHelp },
  { name: 'time', handler: time },
  { name: 'lastsave', handler: lastsave },
  { name: 'command', handler: command },
  { name: 'command|count', handler: commandCountH },
  { name: 'command|info', handler: commandInfoH },
  { name: 'command|docs', handler: commandDocsH },
  { name: 'command|list', handler: commandListH },
  { name: 'command|getkeys', handler: commandGetKeysH },
  { name: 'command|getkeysandflags', handler: commandGetKeysAndFlagsH },
  { name: 'command|help', handler: commandHelp },
];
