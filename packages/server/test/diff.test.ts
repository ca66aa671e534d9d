/**
 * Differential tests: replay the scripts in test/diff/ against a real redis-server and against
 * Shrike, in RESP2 and after HELLO 3, and compare the raw reply bytes. Lines listed in
 * diff/known-differences.txt are left out (and must still exist). Replies that legitimately
 * differ (TIME, INFO, ids, SCAN cursors, KEYS order) are checked here by shape or as sets.
 *
 * SHRIKE_TEST_AGAINST=redis runs everything against a second redis-server (proves the runner).
 * SHRIKE_DIFF_UPDATE=1 rewrites known-differences.txt from the current differences, one root
 * cause at a time (a difference is left out before looking for the next one).
 */
import t, { type Test } from 'tap';
import {
  ALL_SCRIPTS,
  Client,
  type Difference,
  describe,
  knownSkips,
  loadKnown,
  loadScript,
  PROTOS,
  RAW_SCRIPT,
  replyEnd,
  rewriteKnown,
  runAny,
  SCRIPTS,
  splitArgs,
  type Value,
} from './diff/runner';
import { haveRedis, pairPerFile, startRedis } from './harness';

/** Report one difference: the line in the failure, both replies in a comment that reads as written. */
function fail(t: Test, d: Difference): void {
  t.comment(describe(d));
  t.fail(`${d.script}:${d.lineNo} (RESP${d.proto}) ${d.text}`);
}

const asText = (v: Value | undefined): string => (v instanceof Buffer ? v.toString('latin1') : String(v));

if (!haveRedis()) {
  t.plan(0, 'redis-server is not installed');
} else {
  const servers = pairPerFile();
  const ports = (): [number, number] => servers.ports();

  t.test('scripts parse and each starts with FLUSHALL', async (t) => {
    for (const name of SCRIPTS) {
      const lines = loadScript(name);
      t.ok(lines.length > 20, `${name} has ${lines.length} lines`);
      t.equal(lines[0]?.text, 'FLUSHALL', `${name} starts with FLUSHALL`);
    }
    t.ok(loadScript(RAW_SCRIPT).length > 20, `${RAW_SCRIPT} parses`);
  });

  t.test('the runner splits lines as redis-cli does and frames replies', async (t) => {
    const split = (line: string): string[] | undefined => splitArgs(line)?.map((b) => b.toString('latin1'));
    t.same(split('SET k v'), ['SET', 'k', 'v']);
    t.same(split('  a   b  '), ['a', 'b']);
    t.same(split('"a b" \'c d\''), ['a b', 'c d']);
    t.same(split('"\\x00\\xff\\xZZ"'), ['\x00\xffxZZ'], 'hex escapes; a bad one is a plain letter');
    t.same(split('"\\r\\n\\t\\"\\\\"'), ['\r\n\t"\\'], 'letter escapes');
    t.same(split("'it\\'s'"), ["it's"]);
    t.same(split('ab"c d"ef'), undefined, 'a closing quote must be followed by a space');
    t.same(split('ab"c d" ef'), ['abc d', 'ef'], 'a quote may open inside a word');
    t.same(split('""'), ['']);
    t.same(split('"open'), undefined);
    t.same(split("'open"), undefined);
    const frames = [
      '+OK\r\n',
      '$3\r\nabc\r\n',
      '$-1\r\n',
      '*2\r\n:1\r\n$1\r\nx\r\n',
      '%1\r\n+a\r\n_\r\n',
      '|1\r\n+k\r\n+v\r\n:5\r\n',
      '*-1\r\n',
      '=7\r\ntxt:abc\r\n',
    ];
    for (const f of frames) {
      const b = Buffer.from(f, 'latin1');
      t.equal(replyEnd(Buffer.concat([b, Buffer.from('+next\r\n')]), 0), b.length, `frames ${JSON.stringify(f)}`);
      for (let cut = 0; cut < b.length; cut++)
        if (replyEnd(b.subarray(0, cut), 0) !== -1) t.fail(`${JSON.stringify(f)} cut at ${cut} is incomplete`);
    }
  });

  t.test('every known difference still names a line of its script', async (t) => {
    const known = loadKnown();
    const seen = new Set<string>();
    for (const k of known) {
      t.ok(ALL_SCRIPTS.includes(k.script), `${k.raw}: ${k.script} is a script`);
      if (!ALL_SCRIPTS.includes(k.script)) continue;
      const texts = new Set(loadScript(k.script).map((l) => l.text));
      t.ok(texts.has(k.text), `still in ${k.script}: ${k.text}`);
      t.notOk(seen.has(k.raw), `listed once: ${k.raw}`);
      seen.add(k.raw);
    }
  });

  if (process.env.SHRIKE_DIFF_UPDATE === '1') {
    t.test('rewrite known-differences.txt', async (t) => {
      await rewriteKnown(
        () => ports(),
        () => servers.revive(),
      );
      t.pass('rewritten');
    });
  }

  t.test('scripts give the same replies on redis-server twice (no legitimately differing lines)', async (t) => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    t.teardown(async () => {
      await Promise.all([a.stop(), b.stop()]);
    });
    for (const script of ALL_SCRIPTS) {
      for (const proto of PROTOS) {
        const diffs = await runAny(script, loadScript(script), a.port, b.port, proto, {});
        for (const d of diffs) fail(t, d);
        t.equal(diffs.length, 0, `${script} RESP${proto} is deterministic`);
      }
    }
  });

  for (const script of ALL_SCRIPTS) {
    for (const proto of PROTOS) {
      t.test(`${script} RESP${proto}: same bytes as redis-server`, async (t) => {
        const [refPort, sutPort] = ports();
        const lines = loadScript(script);
        const skip = knownSkips(script, proto);
        const diffs: Difference[] = await runAny(script, lines, refPort, sutPort, proto, { skip: (l) => skip.has(l.text) });
        for (const d of diffs) fail(t, d);
        t.equal(diffs.length, 0, `${lines.length - skip.size} lines compared, ${skip.size} known differences left out`);
        if (skip.size === 0) return;
        // Run again with the known differences in, to tell the owners which ones are fixed.
        const still = new Set((await runAny(script, lines, refPort, sutPort, proto)).map((d) => d.text));
        for (const text of skip) if (!still.has(text)) t.comment(`known difference now matches, delete it: ${script}: ${text}`);
      });
    }
  }

  t.test('KEYS glob patterns select the same keys (compared as sets)', async (t) => {
    const [refPort, sutPort] = ports();
    const names = [
      'hello',
      'hallo',
      'hxllo',
      'hllo',
      'heeello',
      'h*llo',
      'h?llo',
      'h[e]llo',
      'a-b',
      'a]b',
      'a\\b',
      'foo',
      'foobar',
      'foo:1',
      'foo:2',
      'foo:10',
      'bar:1',
      'Bar:1',
      'x',
      'xy',
      '',
      ' ',
      'a b',
      'user:1:name',
      'user:2:name',
      'user:10:email',
      '\x00bin',
      'bin\xff',
      '\xff\xfe',
      '^caret',
      '!bang',
    ];
    const patterns = [
      '*',
      '?',
      '??',
      'h?llo',
      'h*llo',
      'h[ae]llo',
      'h[^e]llo',
      'h[!e]llo',
      'h[a-x]llo',
      'h[x-a]llo',
      'h\\*llo',
      'h\\?llo',
      'h[*]llo',
      'h[\\[]e]llo',
      'foo*',
      'foo:?',
      'foo:??',
      'foo:[0-9]',
      'foo:[0-9]*',
      '*:1',
      '*:1*',
      'user:*:name',
      'user:?:*',
      '[bB]ar:*',
      '[^b]*',
      '[!b]*',
      'a[-]b',
      'a[]]b',
      'a\\\\b',
      '*\\*',
      'x*',
      'x?',
      '**',
      '*o*o*',
      'h*',
      '*llo',
      '[',
      '[a',
      'a[',
      '\\',
      '*\\',
      '\x00*',
      '*\xff',
      '\xff?',
      '[\xf0-\xff]*',
      ' ',
      '* *',
      '^*',
      '\\^*',
      '[\\^]*',
      'HELLO',
      'h[A-Z]llo',
    ];
    const a = await Client.open(refPort);
    const b = await Client.open(sutPort);
    t.teardown(() => {
      a.close();
      b.close();
    });
    const keyArgs: Buffer[] = [];
    for (const n of names) keyArgs.push(Buffer.from(n, 'latin1'), Buffer.from('1'));
    for (const c of [a, b]) {
      await c.call('FLUSHALL');
      await c.call('MSET', ...keyArgs);
    }
    for (const p of patterns) {
      const pat = Buffer.from(p, 'latin1');
      const [ra, rb] = await Promise.all([a.call('KEYS', pat), b.call('KEYS', pat)]);
      const sorted = (v: Value): string[] | string => (Array.isArray(v) ? v.map(asText).sort() : asText(v));
      t.same(sorted(rb), sorted(ra), `KEYS ${JSON.stringify(p)}`);
    }
  });

  for (const proto of PROTOS) {
    t.test(`SCAN RESP${proto}: a full scan returns the same keys (compared as sets)`, async (t) => {
      const [refPort, sutPort] = ports();
      const a = await Client.open(refPort, proto);
      const b = await Client.open(sutPort, proto);
      t.teardown(() => {
        a.close();
        b.close();
      });
      const keyArgs: string[] = [];
      for (let i = 0; i < 600; i++) keyArgs.push(i % 3 === 0 ? `scan:a:${i}` : `scan:b:${i}`, String(i));
      for (const c of [a, b]) {
        await c.call('FLUSHALL');
        await c.call('MSET', ...keyArgs);
        await c.call('SELECT', '1');
        await c.call('SET', 'scan:other-db', 'x');
        await c.call('SELECT', '0');
      }
      const fullScan = async (c: Client, extra: string[]): Promise<string[]> => {
        const seen = new Set<string>();
        let cursor = '0';
        let rounds = 0;
        do {
          const reply = await c.call('SCAN', cursor, ...extra);
          if (!Array.isArray(reply) || reply.length !== 2 || !(reply[0] instanceof Buffer) || !Array.isArray(reply[1])) {
            throw new Error(`SCAN reply shape: ${JSON.stringify(reply)}`);
          }
          cursor = reply[0].toString();
          if (!/^\d+$/.test(cursor)) throw new Error(`SCAN cursor is not a number: ${cursor}`);
          for (const k of reply[1]) seen.add(asText(k));
          if (++rounds > 10000) throw new Error('SCAN does not terminate');
        } while (cursor !== '0');
        return [...seen].sort();
      };
      for (const extra of [
        [],
        ['COUNT', '7'],
        ['COUNT', '1000'],
        ['MATCH', 'scan:a:*'],
        ['MATCH', 'scan:b:1?', 'COUNT', '50'],
        ['TYPE', 'string'],
        ['TYPE', 'list'],
        ['MATCH', 'nomatch*'],
      ]) {
        const [ka, kb] = await Promise.all([fullScan(a, extra), fullScan(b, extra)]);
        t.same(kb, ka, `SCAN ${extra.join(' ')}: ${ka.length} keys`);
      }
      // Errors and the empty database are byte-comparable.
      for (const args of [
        ['SCAN', 'abc'],
        ['SCAN', '1.5'],
        ['SCAN', '0', 'COUNT', '0'],
        ['SCAN', '0', 'COUNT', 'x'],
        ['SCAN', '0', 'FOO'],
        ['SCAN', '0', 'MATCH'],
        ['SCAN', '0', 'TYPE'],
        ['SCAN'],
      ]) {
        const [ra, rb] = await Promise.all([a.raw(...args), b.raw(...args)]);
        t.equal(rb.toString('latin1'), ra.toString('latin1'), args.join(' '));
      }
      for (const c of [a, b]) await c.call('FLUSHALL');
      const [ea, eb] = await Promise.all([a.raw('SCAN', '0'), b.raw('SCAN', '0')]);
      t.equal(eb.toString('latin1'), ea.toString('latin1'), 'SCAN 0 on an empty database');
    });
  }

  for (const proto of PROTOS) {
    t.test(`RESP${proto}: replies that legitimately differ have Redis's shape`, async (t) => {
      const [, sutPort] = ports();
      const c = await Client.open(sutPort, proto);
      t.teardown(() => c.close());
      await c.call('FLUSHALL');

      const time = await c.call('TIME');
      t.ok(Array.isArray(time) && time.length === 2, 'TIME is a two-element array');
      if (Array.isArray(time)) {
        const [sec, usec] = time.map(asText);
        t.match(sec, /^\d{10}$/, 'TIME seconds');
        t.match(usec, /^\d{1,6}$/, 'TIME microseconds');
        t.ok(Math.abs(Number(sec) - Date.now() / 1000) < 5, 'TIME is now');
      }

      const info = await c.call('INFO');
      t.ok(info instanceof Buffer, 'INFO is a bulk (verbatim in RESP3 is also decoded to bytes)');
      t.match(asText(info), /^# Server\r\n/, 'INFO starts with # Server');
      t.match(asText(info), /\r\nredis_version:\d+\.\d+\.\d+\r\n/, 'INFO has redis_version');
      const keyspaceInfo = asText(await c.call('INFO', 'keyspace'));
      t.match(keyspaceInfo, /^# Keyspace\r\n/, 'INFO keyspace');

      const id = await c.call('CLIENT', 'ID');
      t.ok(typeof id === 'number' && Number.isInteger(id) && id > 0, 'CLIENT ID is a positive integer');

      const clientInfo = asText(await c.call('CLIENT', 'INFO'));
      t.match(clientInfo, new RegExp(`^id=${String(id)} addr=\\S+ laddr=\\S+ fd=\\d+ name=\\S* age=\\d+ idle=\\d+ `), 'CLIENT INFO line');
      t.match(clientInfo, new RegExp(`resp=${proto}`), 'CLIENT INFO shows the protocol');
      t.match(asText(await c.call('CLIENT', 'LIST')), new RegExp(`(^|\\n)id=${String(id)} `), 'CLIENT LIST includes this client');

      const hello = await c.call('HELLO', String(proto));
      const helloFields = proto === 3 && hello instanceof Map ? hello : undefined;
      if (proto === 3) {
        t.ok(helloFields !== undefined, 'HELLO 3 replies with a map');
        t.same([...(helloFields?.keys() ?? [])], ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules'], 'HELLO 3 fields');
        t.equal(helloFields?.get('proto'), 3, 'HELLO 3 proto');
        t.equal(helloFields?.get('id'), id, 'HELLO id is the CLIENT ID');
      } else {
        t.ok(Array.isArray(hello) && hello.length === 14, 'HELLO 2 replies with a flat array of 7 pairs');
        if (Array.isArray(hello)) {
          t.same(
            hello.filter((_, i) => i % 2 === 0).map(asText),
            ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules'],
            'HELLO 2 fields',
          );
          t.equal(hello[5], 2, 'HELLO 2 proto');
          t.equal(hello[7], id, 'HELLO id is the CLIENT ID');
        }
      }

      const count = await c.call('COMMAND', 'COUNT');
      t.ok(typeof count === 'number' && count > 20, `COMMAND COUNT is an integer (${String(count)})`);
      const list = await c.call('COMMAND', 'LIST');
      t.ok(
        Array.isArray(list) && typeof count === 'number' && list.length >= count,
        'COMMAND LIST names at least COMMAND COUNT commands (and container|subcommands)',
      );
      t.ok(Array.isArray(list) && list.map(asText).includes('get'), 'COMMAND LIST includes get');
      const all = await c.call('COMMAND');
      t.ok(Array.isArray(all) && all.length === count, 'COMMAND describes COMMAND COUNT commands');

      const lastsave = await c.call('LASTSAVE');
      t.ok(typeof lastsave === 'number' && lastsave > 1_600_000_000, 'LASTSAVE is a unix time');

      const maxStar = await c.call('CONFIG', 'GET', 'max*');
      const maxFields =
        maxStar instanceof Map ? [...maxStar.keys()] : Array.isArray(maxStar) ? maxStar.filter((_, i) => i % 2 === 0).map(asText) : [];
      t.ok(maxFields.includes('maxclients') && maxFields.includes('maxmemory'), 'CONFIG GET max* includes maxclients and maxmemory');
      t.ok(
        maxFields.every((f) => f.startsWith('max')),
        'CONFIG GET max* only matches max*',
      );

      // RANDOMKEY with several keys: any of them.
      await c.call('MSET', 'rk:1', 'a', 'rk:2', 'b', 'rk:3', 'c');
      const seen = new Set<string>();
      for (let i = 0; i < 50; i++) seen.add(asText(await c.call('RANDOMKEY')));
      t.ok(
        [...seen].every((k) => ['rk:1', 'rk:2', 'rk:3'].includes(k)),
        `RANDOMKEY returns existing keys (${[...seen].join(', ')})`,
      );

      // OBJECT IDLETIME / REFCOUNT are integers; idle time grows only in whole seconds.
      const idle = await c.call('OBJECT', 'IDLETIME', 'rk:1');
      t.ok(typeof idle === 'number' && idle >= 0 && idle < 5, `OBJECT IDLETIME is small (${String(idle)})`);
      const refcount = await c.call('OBJECT', 'REFCOUNT', 'rk:1');
      t.ok(typeof refcount === 'number' && refcount >= 1, 'OBJECT REFCOUNT is an integer');

      // PTTL on a volatile key: within the TTL.
      await c.call('SET', 'rk:ttl', 'v', 'PX', '100000');
      const pttl = await c.call('PTTL', 'rk:ttl');
      t.ok(typeof pttl === 'number' && pttl > 99000 && pttl <= 100000, `PTTL ${String(pttl)}`);
      const expiretime = await c.call('PEXPIRETIME', 'rk:ttl');
      t.ok(typeof expiretime === 'number' && Math.abs(expiretime - (Date.now() + 100000)) < 2000, 'PEXPIRETIME is now + TTL');
      await c.call('FLUSHALL');
    });
  }
}
