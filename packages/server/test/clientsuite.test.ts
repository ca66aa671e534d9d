/**
 * What real client libraries' own test suites read, checked against the reference
 * redis-server 7.2.6 over real sockets: INFO's sections and their order (redis-py's set-up
 * reads `cluster_enabled`), errorstats and commandstats counted over every worker, CONFIG
 * RESETSTAT, CONFIG GET with several patterns and the parameters clients read, DEBUG ERROR,
 * and COMMAND GETKEYSANDFLAGS. Shrike runs with two workers and each step uses several
 * connections, so counters must be summed across workers to match.
 */
import t from 'tap';
import { Client, type Value } from './diff/runner';
import { haveRedis, type Running, startRedis, startShrike } from './harness';

const text = (v: Value | undefined): string => (v instanceof Buffer ? v.toString('latin1') : String(v));

/** `# Name` headers of an INFO reply. */
const headers = (info: string): string[] => info.split('\r\n').filter((l) => l.startsWith('# '));

/** The `field:value` lines of one INFO section, by field, in order. */
function fields(info: string, section: string): Map<string, string> {
  const out = new Map<string, string>();
  let inside = false;
  for (const line of info.split('\r\n')) {
    if (line.startsWith('# ')) inside = line === `# ${section}`;
    else if (inside && line !== '') {
      const at = line.indexOf(':');
      out.set(line.slice(0, at), line.slice(at + 1));
    }
  }
  return out;
}

/** A RESP2 flat array or RESP3 map reply of CONFIG GET as a plain object. */
function asMap(v: Value): Map<string, string> {
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [text(k), text(x)]));
  const out = new Map<string, string>();
  if (Array.isArray(v)) for (let i = 0; i + 1 < v.length; i += 2) out.set(text(v[i]), text(v[i + 1]));
  return out;
}

if (!haveRedis()) {
  t.plan(0, 'redis-server is not installed');
} else {
  let ref: Running | undefined;
  let sut: Running | undefined;
  t.before(async () => {
    [ref, sut] = await Promise.all([
      startRedis(['--enable-debug-command', 'yes']),
      startShrike(['--threads', '2', '--enable-debug-command', 'yes']),
    ]);
  });
  t.teardown(async () => {
    await Promise.all([ref?.stop(), sut?.stop()]);
  });
  /** Open `n` connections to each server, in `proto`. */
  const open = async (n: number, proto: 2 | 3 = 2): Promise<[Client[], Client[]]> => {
    if (ref === undefined || sut === undefined) throw new Error('servers not started');
    const a: Client[] = [];
    const b: Client[] = [];
    for (let i = 0; i < n; i++) {
      a.push(await Client.open(ref.port, proto));
      b.push(await Client.open(sut.port, proto));
    }
    return [a, b];
  };
  const closeAll = (...lists: Client[][]): void => {
    for (const l of lists) for (const c of l) c.close();
  };

  t.test('INFO prints the sections of Redis 7.2, in its order', async (t) => {
    const [[a], [b]] = await open(1);
    t.teardown(() => closeAll([a as Client], [b as Client]));
    const cases = [
      [],
      ['default'],
      ['all'],
      ['everything'],
      ['server'],
      ['SERVER', 'keyspace'],
      ['keyspace', 'server'],
      ['cluster'],
      ['errorstats', 'commandstats'],
      ['modules'],
      ['module_list'],
      ['latencystats'],
      ['stats', 'cpu', 'nosuch'],
      ['default', 'commandstats'],
      ['all', 'server'],
      ['nosuch'],
    ];
    for (const args of cases) {
      const [ra, rb] = await Promise.all([a?.call('INFO', ...args), b?.call('INFO', ...args)]);
      const want = headers(text(ra));
      // Shrike's own Threads section comes last, where Redis prints module sections.
      const got = headers(text(rb)).filter((h) => h !== '# Threads');
      t.same(got, want, `INFO ${args.join(' ')}`);
    }
    const cluster = await b?.call('INFO', 'cluster');
    t.equal(fields(text(cluster), 'Cluster').get('cluster_enabled'), '0', 'cluster_enabled:0 (redis-py reads it)');
    t.equal(text(await b?.call('INFO', 'nosuch')), text(await a?.call('INFO', 'nosuch')), 'an unknown section alone: an empty reply');
    t.match(text(await b?.call('INFO')), /\r\n# Threads\r\nthread0:/, 'Threads stays in the default INFO');
  });

  t.test('INFO stats has Redis 7.2 field names in its order', async (t) => {
    const [[a], [b]] = await open(1);
    t.teardown(() => closeAll([a as Client], [b as Client]));
    // Counters of machinery Shrike does not have (event loop, reply buffer resizing, its own
    // reads and writes per event) are left out rather than reported as zeros.
    const notInShrike = /^(eventloop_|instantaneous_eventloop_|reply_buffer_|total_reads_processed|total_writes_processed)/;
    const want = [...fields(text(await a?.call('INFO', 'stats')), 'Stats').keys()].filter((k) => !notInShrike.test(k));
    const got = [...fields(text(await b?.call('INFO', 'stats')), 'Stats').keys()];
    t.same(got, want);
    const server = [...fields(text(await b?.call('INFO', 'server')), 'Server').keys()];
    const refServer = [...fields(text(await a?.call('INFO', 'server')), 'Server').keys()];
    t.same(
      server.filter((k) => refServer.includes(k)),
      refServer.filter((k) => server.includes(k)),
      'Server fields Redis has come in its order',
    );
    t.ok(
      refServer.filter((k) => !server.includes(k)).every((k) => k.startsWith('listener')),
      'every Server field but listenerN',
    );
  });

  t.test('CONFIG RESETSTAT, errorstats and commandstats count as Redis does, over every worker', async (t) => {
    const [as, bs] = await open(4);
    t.teardown(() => closeAll(as, bs));
    const both = async (i: number, ...args: string[]): Promise<void> => {
      const [ra, rb] = await Promise.all([as[i % as.length]?.raw(...args), bs[i % bs.length]?.raw(...args)]);
      t.equal(text(rb), text(ra), `reply of ${args.join(' ')}`);
    };
    await both(0, 'CONFIG', 'RESETSTAT');
    const script: string[][] = [
      ['SET', 'cs:k', 'v'],
      ['GET', 'cs:k'],
      ['GET', 'cs:missing'],
      ['GET'],
      ['INCR', 'cs:k'],
      ['SET', 'cs:k', 'v', 'XX', 'NX'],
      ['SET', 'cs:k', 'v', 'EX', '0'],
      ['CONFIG', 'NOSUCH'],
      ['NOSUCHCMD', 'a'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory'],
      ['CLIENT', 'SETNAME', 'a b'],
      ['DEBUG', 'ERROR', 'FOO bar'],
      ['DEBUG', 'ERROR', '-NOSPACE'],
      ['PING'],
      ['ECHO'],
      ['SELECT', '99'],
      ['DEL', 'cs:k'],
    ];
    for (const [i, args] of script.entries()) await both(i, ...args);
    // Connections opened after the reset count again.
    const [late, lateB] = await open(1);
    closeAll(late, lateB);
    const [ia, ib] = await Promise.all([as[0]?.call('INFO', 'everything'), bs[0]?.call('INFO', 'everything')]);
    const [ra, rb] = [text(ia), text(ib)];
    t.same([...fields(rb, 'Errorstats')], [...fields(ra, 'Errorstats')], 'errorstats');
    const noTime = (m: Map<string, string>): string[] =>
      [...m].map(([k, v]) => `${k}:${v.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')}`).sort();
    t.same(noTime(fields(rb, 'Commandstats')), noTime(fields(ra, 'Commandstats')), 'commandstats, time left out');
    const stats = [
      'total_error_replies',
      'total_commands_processed',
      'total_connections_received',
      'keyspace_hits',
      'keyspace_misses',
      'expired_keys',
      'rejected_connections',
    ];
    const sa = fields(ra, 'Stats');
    const sb = fields(rb, 'Stats');
    for (const f of stats) t.equal(sb.get(f), sa.get(f), f);
    t.ok(Number(sb.get('total_net_input_bytes')) < 4096, `net input counted from the reset (${sb.get('total_net_input_bytes')})`);
  });

  t.test('commandstats time a core command in microseconds of real time', async (t) => {
    const [, [b]] = await open(1);
    const c = b as Client;
    t.teardown(() => closeAll([c]));
    // A SORT of 200,000 numbers takes tens of milliseconds: its usec must fall within the
    // wall time the client saw around it (the clock is the CPU's counter where it can be).
    for (let from = 0; from < 200000; from += 5000) {
      const args = ['RPUSH', 'cs:big'];
      for (let i = from; i < from + 5000; i++) args.push(String((i * 7919) % 200003));
      await c.call(...args);
    }
    await c.call('CONFIG', 'RESETSTAT');
    const t0 = process.hrtime.bigint();
    t.equal(await c.call('SORT', 'cs:big', 'STORE', 'cs:sorted'), 200000, 'sorted');
    const wallUs = Number((process.hrtime.bigint() - t0) / 1000n);
    const row = fields(text(await c.call('INFO', 'commandstats')), 'Commandstats').get('cmdstat_sort') ?? '';
    const usec = Number(/usec=(\d+)/.exec(row)?.[1]);
    // The server's clock may run 0.1% off the client's (its rate is measured at start).
    t.ok(usec <= wallUs * 1.001, `SORT timed at ${usec} µs, no more than the ${wallUs} µs around it`);
    t.ok(usec >= wallUs * 0.3, `SORT timed at ${usec} µs, most of the ${wallUs} µs around it`);
    await c.call('DEL', 'cs:big', 'cs:sorted');
  });

  t.test('DEBUG ERROR replies -<message> verbatim', async (t) => {
    for (const proto of [2, 3] as const) {
      const [[a], [b]] = await open(1, proto);
      for (const msg of ['FOO bar', '-BAR x', 'two\r\nlines', 'ERR plain', 'x']) {
        const [ra, rb] = await Promise.all([a?.raw('DEBUG', 'ERROR', msg), b?.raw('DEBUG', 'ERROR', msg)]);
        t.equal(text(rb), text(ra), `RESP${proto} DEBUG ERROR ${JSON.stringify(msg)}`);
      }
      closeAll([a as Client], [b as Client]);
    }
  });

  t.test('CONFIG GET takes several patterns and knows what clients read', async (t) => {
    for (const proto of [2, 3] as const) {
      const [[a], [b]] = await open(1, proto);
      const calls = [
        ['maxmemory*', 'hz'],
        ['hz', 'HZ', 'hz'],
        ['*max-*-entries', 'slowlog*'],
        ['notify-keyspace-events', 'lua-time-limit', 'busy-reply-threshold'],
        ['hash-max-ziplist-entries', 'hash-max-listpack-*'],
        ['latency*', 'cluster-enabled', '*ziplist*'],
        ['lazyfree-*', 'nosuch', 'zset-*'],
      ];
      for (const args of calls) {
        const [ra, rb] = await Promise.all([a?.call('CONFIG', 'GET', ...args), b?.call('CONFIG', 'GET', ...args)]);
        t.same(asMap(rb as Value), asMap(ra as Value), `RESP${proto} CONFIG GET ${args.join(' ')}`);
        // Redis 7.2 orders the map by its hash table: compare as maps, and check the type byte.
        if (proto === 3) t.ok(rb instanceof Map, 'a RESP3 map');
      }
      closeAll([a as Client], [b as Client]);
    }
    const [[a], [b]] = await open(1);
    t.teardown(() => closeAll([a as Client], [b as Client]));
    const all = [asMap((await a?.call('CONFIG', 'GET', '*')) as Value), asMap((await b?.call('CONFIG', 'GET', '*')) as Value)] as const;
    const [refAll, ours] = all;
    const shrikeOnly = ['threads', 'segments', 'io-uring', 'cpu-affinity', 'memory-release-delay'];
    t.same(
      [...ours.keys()].filter((k) => !refAll.has(k) && !shrikeOnly.includes(k)),
      [],
      'every name CONFIG GET * lists is a Redis 7.2 name (or one of Shrike’s own)',
    );
    const clientsRead = [
      'slowlog-log-slower-than',
      'slowlog-max-len',
      'latency-monitor-threshold',
      'latency-tracking',
      'latency-tracking-info-percentiles',
      'lua-time-limit',
      'busy-reply-threshold',
      'notify-keyspace-events',
      'hash-max-listpack-entries',
      'hash-max-ziplist-entries',
      'list-max-listpack-size',
      'set-max-intset-entries',
      'zset-max-listpack-entries',
      'stream-node-max-entries',
      'cluster-enabled',
      'maxmemory-policy',
      'appendonly',
      'save',
    ];
    t.same(
      clientsRead.filter((k) => !ours.has(k)),
      [],
      'the parameters clients read are there',
    );
    // Values where the two processes legitimately differ: how each was started.
    const started = new Set(['port', 'dir', 'bind', 'loglevel', 'enable-debug-command', 'databases']);
    const differing = [...ours.keys()].filter((k) => refAll.has(k) && !started.has(k) && refAll.get(k) !== ours.get(k));
    t.same(
      differing.map((k) => `${k}: ${ours.get(k)} (redis ${refAll.get(k)})`),
      [],
      'defaults are Redis 7.2’s',
    );
    for (const [name, value, want] of [
      ['notify-keyspace-events', 'KEA', undefined],
      ['notify-keyspace-events', 'Exg', undefined],
      ['notify-keyspace-events', 'Q', undefined],
      ['latency-tracking-info-percentiles', '50.0 99 99.900', undefined],
      ['latency-tracking-info-percentiles', '101', undefined],
      ['hash-max-ziplist-entries', '100', 'hash-max-listpack-entries'],
      ['list-max-listpack-size', '-6', undefined],
    ] as const) {
      const [sa, sb] = await Promise.all([a?.raw('CONFIG', 'SET', name, value), b?.raw('CONFIG', 'SET', name, value)]);
      t.equal(text(sb), text(sa), `CONFIG SET ${name} ${value}`);
      const key = want ?? name;
      const [ga, gb] = await Promise.all([a?.raw('CONFIG', 'GET', key), b?.raw('CONFIG', 'GET', key)]);
      t.equal(text(gb), text(ga), `then CONFIG GET ${key}`);
    }
  });

  t.test('COMMAND GETKEYSANDFLAGS as Redis 7.2; COMMAND describes only what Shrike implements', async (t) => {
    for (const proto of [2, 3] as const) {
      const [[a], [b]] = await open(1, proto);
      for (const args of [
        ['GET', 'k'],
        ['SET', 'k', 'v', 'GET'],
        ['MSET', 'a', '1', 'b', '2'],
        ['DEL', 'a', 'b'],
        ['PING'],
        ['NOSUCH', 'a'],
        ['GET'],
      ]) {
        const [ra, rb] = await Promise.all([a?.raw('COMMAND', 'GETKEYSANDFLAGS', ...args), b?.raw('COMMAND', 'GETKEYSANDFLAGS', ...args)]);
        t.equal(text(rb), text(ra), `RESP${proto} COMMAND GETKEYSANDFLAGS ${args.join(' ')}`);
      }
      closeAll([a as Client], [b as Client]);
    }
    const [[,], [b]] = await open(1);
    t.teardown(() => closeAll([b as Client]));
    const count = (await b?.call('COMMAND', 'COUNT')) as number;
    const list = ((await b?.call('COMMAND', 'LIST')) as Value[]).map(text);
    const all = (await b?.call('COMMAND')) as Value[];
    t.equal(all.length, count, 'COMMAND describes COMMAND COUNT commands');
    t.equal(list.filter((n) => !n.includes('|')).length, count, 'COMMAND LIST names them, and their subcommands');
    // Every name COMMAND LIST gives runs: no "unknown command" or "unknown subcommand".
    for (const name of list) {
      const [cmdName, sub] = name.split('|') as [string, string | undefined];
      const reply = text(await b?.raw('COMMAND', 'INFO', name));
      t.notMatch(reply, /^\*1\r\n\*-1|^\*1\r\n_/, `COMMAND INFO ${name} knows it`);
      if (sub !== undefined) {
        const info = (await b?.call('COMMAND', 'INFO', cmdName)) as Value[][];
        const subs = ((info[0]?.[9] ?? []) as Value[][]).map((s) => text(s[0]));
        t.ok(
          subs.every((s) => list.includes(s)),
          `COMMAND INFO ${cmdName} lists only implemented subcommands`,
        );
      }
    }
  });
}
