import t from 'tap';
import { blockingMs, replyTimeoutMs } from './deadline';
import { type FakeAnswer, startFakeServer } from './fake-server';
import { formatReport, Tally } from './report';
import { Resp2Client } from './resp2-client';
import { runCase, runSuite, Session } from './runner';
import type { SuiteCase } from './suite';

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const array = (items: string[]) => `*${items.length}\r\n${items.join('')}`;

/** A tiny keyspace: enough of SET/GET/SADD/SMEMBERS/DEL to run realistic cases. */
function tinyRedis(): (args: string[]) => FakeAnswer {
  const strings = new Map<string, string>();
  const sets = new Map<string, string[]>();
  return (args) => {
    const [name = '', ...rest] = args;
    switch (name.toLowerCase()) {
      case 'flushall':
        strings.clear();
        sets.clear();
        return '+OK\r\n';
      case 'set':
        strings.set(rest[0] ?? '', rest[1] ?? '');
        return '+OK\r\n';
      case 'get': {
        const v = strings.get(rest[0] ?? '');
        return v === undefined ? '$-1\r\n' : bulk(v);
      }
      case 'sadd': {
        const s = sets.get(rest[0] ?? '') ?? [];
        const added = rest.slice(1).filter((m) => !s.includes(m));
        s.push(...added);
        sets.set(rest[0] ?? '', s);
        return `:${added.length}\r\n`;
      }
      case 'smembers':
        // Reversed on purpose: only sort_result makes the order irrelevant.
        return array((sets.get(rest[0] ?? '') ?? []).slice().reverse().map(bulk));
      case 'hang':
        return undefined;
      case 'bye':
        return 'close';
      default:
        return `-ERR unknown command '${name}'\r\n`;
    }
  };
}

const tc = (name: string, command: string[], result: unknown[], extra: Record<string, unknown> = {}): SuiteCase =>
  ({ name, command, result, since: '1.0.0', ...extra }) as SuiteCase;

t.test('deadlines', async (t) => {
  const args = (s: string) => s.split(' ').map((w) => Buffer.from(w));
  t.equal(blockingMs(args('blpop k 3.14')), 3140);
  t.equal(blockingMs(args('BRPOPLPUSH a b 1')), 1000);
  t.equal(blockingMs(args('blmpop 2 1 k LEFT')), 2000);
  t.equal(blockingMs(args('bzmpop 0 1 k MIN')), 0, 'zero blocks forever: no extra time');
  t.equal(blockingMs(args('xread COUNT 1 BLOCK 250 STREAMS s 0')), 250);
  t.equal(blockingMs(args('wait 0 100')), 100);
  t.equal(blockingMs(args('waitaof 1 0 100')), 100);
  t.equal(blockingMs(args('blpop k nonsense')), 0);
  t.equal(blockingMs(args('get k')), 0);
  t.equal(replyTimeoutMs(args('blpop k 1'), 5000), 6000);
});

t.test('runCase', async (t) => {
  const server = await startFakeServer(tinyRedis());
  t.teardown(() => server.close());
  const session = new Session(() => Resp2Client.connect('127.0.0.1', server.port, 1000), 200);
  t.teardown(() => session.close());

  t.equal(await runCase(session, tc('set/get', ['set k "a b"', 'get k'], ['OK', 'a b'])), undefined);
  t.same(server.received.slice(-3), [['FLUSHALL'], ['set', 'k', 'a b'], ['get', 'k']], 'FLUSHALL first, words split');

  const miss = await runCase(session, tc('mismatch', ['set k v', 'get k', 'get k'], ['OK', 'w', 'v']));
  t.same(miss, { index: 1, command: 'get k', expected: '"w"', actual: '"v"' }, 'stops at the first mismatch');

  const err = await runCase(session, tc('error', ['nosuch'], ['OK']));
  t.match(err, { index: 0, actual: /unknown command/ }, 'an error reply fails the case');

  const unsorted = tc('unsorted', ['sadd s a b c', 'smembers s'], [3, ['a', 'b', 'c']]);
  t.ok(await runCase(session, unsorted), 'order matters without sort_result');
  t.equal(await runCase(session, { ...unsorted, sort_result: true }), undefined, 'sort_result sorts both');

  t.match(await runCase(session, tc('short', ['set k v', 'get k'], ['OK'])), { index: 1, expected: '(none)' });

  const bin = tc('binary', ['set k \\x41\\x00', 'get k'], ['OK', 'A\u0000'], { command_binary: true });
  t.equal(await runCase(session, bin), undefined, 'command_binary escapes become bytes');
  t.match(await runCase(session, tc('bad escape', ['set k \\x4'], ['OK'], { command_binary: true })), {
    actual: /CommandLineError/,
  });

  const before = server.connections;
  t.match(await runCase(session, tc('hang', ['hang'], ['OK'])), { actual: /TimeoutError/ });
  t.equal(await runCase(session, tc('after hang', ['get k'], [null])), undefined, 'a new connection after a timeout');
  t.equal(server.connections, before + 1);

  t.match(await runCase(session, tc('bye', ['bye'], ['OK'])), { actual: /ConnectionError/ });
  t.equal(await runCase(session, tc('after bye', ['get k'], [null])), undefined);
});

t.test('FLUSHALL gets a second try on a new connection', async (t) => {
  let flushes = 0;
  const server = await startFakeServer((args) => {
    if (args[0] === 'FLUSHALL') return flushes++ === 0 ? "-ERR Can't execute 'flushall'\r\n" : '+OK\r\n';
    return '+PONG\r\n';
  });
  t.teardown(() => server.close());
  const session = new Session(() => Resp2Client.connect('127.0.0.1', server.port, 1000), 500);
  t.teardown(() => session.close());
  t.equal(await runCase(session, tc('ping', ['ping'], ['PONG'])), undefined);
  t.equal(server.connections, 2);
});

t.test('runSuite selects, counts and reports', async (t) => {
  const server = await startFakeServer(tinyRedis());
  t.teardown(() => server.close());
  const session = new Session(() => Resp2Client.connect('127.0.0.1', server.port, 1000), 500);
  t.teardown(() => session.close());
  const cases = [
    tc('get command', ['set k v', 'get k'], ['OK', 'v']),
    tc('get missing', ['get k'], ['x']),
    tc('smembers', ['sadd s a b', 'smembers s'], [2, ['a', 'b']], { sort_result: true, since: '1.0.0' }),
    tc('cluster only', ['get k'], [null], { tags: 'cluster' }),
    tc('newer', ['get k'], [null], { since: '7.2.0' }),
    tc('skipped', ['get k'], [null], { skipped: true }),
  ];
  const seen: string[] = [];
  const tally = await runSuite(cases, session, {
    mode: 'standalone',
    version: '7.0.0',
    onCase: (c) => seen.push(c.name),
  });
  t.same(tally.total, { passed: 2, total: 3 });
  t.same(tally.byGroup.get('string'), { passed: 1, total: 2 });
  t.same(tally.byGroup.get('set'), { passed: 1, total: 1 });
  t.same(Object.fromEntries(tally.skipped), { tags: 1, version: 1, skipped: 1 });
  t.equal(seen.length, 6);

  const report = formatReport(tally, true);
  t.match(report, /get missing {2}\[string, since 1\.0\.0\]\n {2}command #1: "get k"\n {2}expected: "x"\n {2}actual: {3}null/);
  t.match(report, /^set +1\/1 +100\.00%$/m);
  t.match(report, /^string +1\/2 +50\.00%$/m);
  t.match(report, /not run: 1 skipped, 1 tags, 1 version/);
  t.match(report, /total: 2\/3 passed \(66\.67%\)\n$/);
  t.notMatch(formatReport(tally, false), /failed cases/);

  const grep = await runSuite(cases, session, { mode: 'cluster', grep: 'cluster' });
  t.same(grep.total, { passed: 1, total: 1 }, 'grep and cluster mode');
});

t.test('runSuite stops when the server is gone', async (t) => {
  const server = await startFakeServer(tinyRedis());
  const session = new Session(() => Resp2Client.connect('127.0.0.1', server.port, 200), 200);
  t.teardown(() => session.close());
  const cases = [tc('one', ['get k'], [null]), tc('dies', ['bye'], ['OK']), tc('three', ['get k'], [null])];
  const tally = await runSuite(cases, session, {
    mode: 'standalone',
    onCase: (c) => {
      if (c.name === 'one') void server.close();
    },
  });
  t.same(tally.total, { passed: 1, total: 1 });
  t.match(tally.aborted, /server unreachable.*while running 'dies'/);
  t.match(formatReport(tally, false), /ABORTED: server unreachable/);
});

t.test('Tally counts', async (t) => {
  const tally = new Tally();
  tally.add({ name: 'a', since: '1.0.0', group: 'string' });
  tally.add({ name: 'b', since: '1.0.0', group: 'string', failure: { index: 0, command: 'x', expected: '1', actual: '2' } });
  t.same(tally.bySince.get('1.0.0'), { passed: 1, total: 2 });
  t.equal(tally.failures.length, 1);
  t.match(formatReport(new Tally(), false), /total: 0\/0 passed \(-\)/);
});
