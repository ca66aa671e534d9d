/**
 * Differential fuzzing: for every enabled type (fuzz/types.ts), a seeded stream of commands
 * (wrong types, bad arguments and edge values mixed in) goes to a real redis-server and to
 * Shrike, in RESP2 and after HELLO 3; every reply must match byte for byte, or in the canonical
 * form its command declares (fuzz/compare.ts). The generators of types not enabled yet are run
 * against two redis-servers, which proves their comparisons leave out only what Redis itself
 * does not fix.
 *
 * SHRIKE_FUZZ_SEED=n and SHRIKE_FUZZ_COUNT=n (commands per type and protocol) change the run;
 * SHRIKE_FUZZ_TYPES=lists,sets or =all picks the types; SHRIKE_TEST_AGAINST=redis runs every
 * type against a second redis-server. `npm run fuzz -- --seed 7 --count 100000` sets them.
 */
import t, { type Test } from 'tap';
import { PROTOS } from './diff/runner';
import { canonical } from './fuzz/compare';
import { c, type FuzzType, fuzzType, generate, TYPE_NAMES, type TypeName } from './fuzz/gen';
import { describeFuzz, type FuzzDifference, runFuzz, scriptLine } from './fuzz/run';
import { ENABLED_TYPES, GENERATORS, parseTypes } from './fuzz/types';
import { haveRedis, pairPerFile, type Running, startRedis } from './harness';

const SEED = Number(process.env.SHRIKE_FUZZ_SEED ?? '1');
const COUNT = Number(process.env.SHRIKE_FUZZ_COUNT ?? '5000');
const AGAINST_REDIS = process.env.SHRIKE_TEST_AGAINST === 'redis';
const TYPES: readonly TypeName[] = parseTypes(process.env.SHRIKE_FUZZ_TYPES ?? (AGAINST_REDIS ? 'all' : ENABLED_TYPES.join(',')));

/** Commands per type and protocol for the generators of types Shrike does not run yet. */
const REDIS_ONLY_COUNT = 2000;

/** The generators of `names`. */
const generators = (names: readonly TypeName[]): FuzzType[] => names.map((n) => GENERATORS[n]);

function fail(t: Test, d: FuzzDifference): void {
  t.comment(describeFuzz(d));
  t.fail(`${d.type} RESP${d.proto} seed ${d.seed} #${d.index}: ${d.command}`);
}

/**
 * Run `types` against the two servers in both protocols, one tap test per type and protocol,
 * with keys of the `planted` types mixed in.
 */
function suite(
  label: string,
  types: readonly TypeName[],
  planted: readonly TypeName[],
  count: number,
  ports: () => [number, number],
): void {
  for (const name of types) {
    for (const proto of PROTOS) {
      t.test(`${label} ${name} RESP${proto}: ${count} commands, seed ${SEED}`, async (t) => {
        const [refPort, sutPort] = ports();
        const type = GENERATORS[name];
        const others = generators(planted).filter((o) => o !== type);
        const started = Date.now();
        const r = await runFuzz({ type, others, seed: SEED, count, proto, refPort, sutPort });
        for (const d of r.diffs) fail(t, d);
        t.equal(r.diffs.length, 0, `${r.commands} commands compared in ${Date.now() - started} ms`);
      });
    }
  }
}

t.test('the generators are deterministic and cover every type', async (t) => {
  t.same(Object.keys(GENERATORS).sort(), [...TYPE_NAMES].sort(), 'one generator per type');
  for (const name of TYPE_NAMES) {
    const a = generate(GENERATORS[name], generators(TYPE_NAMES), 3, 300).flat();
    const b = generate(GENERATORS[name], generators(TYPE_NAMES), 3, 300).flat();
    const other = generate(GENERATORS[name], generators(TYPE_NAMES), 4, 300).flat();
    t.same(
      a.map((x) => scriptLine(x.args)),
      b.map((x) => scriptLine(x.args)),
      `${name}: same seed, same stream`,
    );
    t.notSame(
      a.map((x) => scriptLine(x.args)),
      other.map((x) => scriptLine(x.args)),
      `${name}: another seed, another stream`,
    );
    t.ok(a.length >= 300, `${name}: at least the count`);
  }
});

t.test('canonical forms leave out only what Redis does not fix', async (t) => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  const same = (cmp: Parameters<typeof canonical>[0], x: string, y: string, around = {}): boolean => {
    const [p, q] = canonical(cmp, b(x), b(y), around);
    return p === q;
  };
  const ab = '*2\r\n$1\r\na\r\n$1\r\nb\r\n';
  const ba = '*2\r\n$1\r\nb\r\n$1\r\na\r\n';
  t.notOk(same(undefined, ab, ba), 'exact: order matters');
  t.ok(same({ kind: 'set' }, ab, ba), 'set: order does not');
  t.notOk(same({ kind: 'set' }, ab, '~2\r\n$1\r\nb\r\n$1\r\na\r\n'), 'set: the type byte still does');
  t.notOk(same({ kind: 'set' }, ab, '*2\r\n$1\r\na\r\n$1\r\na\r\n'), 'set: a multiset');
  const enc = { refPrev: b('$8\r\nlistpack\r\n') };
  t.notOk(same({ kind: 'set', compactExact: true }, ab, ba, enc), 'set: listpack order matters');
  t.ok(same({ kind: 'set', compactExact: true }, ab, ba, { refPrev: b('$9\r\nhashtable\r\n') }), 'set: hashtable order does not');
  const fv = '*4\r\n$1\r\nf\r\n$1\r\n1\r\n$1\r\ng\r\n$1\r\n2\r\n';
  t.ok(same({ kind: 'set', pairs: true }, fv, '*4\r\n$1\r\ng\r\n$1\r\n2\r\n$1\r\nf\r\n$1\r\n1\r\n'), 'pairs: pairs move together');
  t.notOk(same({ kind: 'set', pairs: true }, fv, '*4\r\n$1\r\nf\r\n$1\r\n2\r\n$1\r\ng\r\n$1\r\n1\r\n'), 'pairs: values stay with fields');
  const pool = { refPrev: b(ab), sutPrev: b(ab) };
  t.ok(same({ kind: 'random', from: -1 }, '$1\r\na\r\n', '$1\r\nb\r\n', pool), 'random: any member');
  t.notOk(same({ kind: 'random', from: -1 }, '$1\r\na\r\n', '$1\r\nz\r\n', pool), 'random: not a non-member');
  t.notOk(same({ kind: 'random', from: -1 }, '*1\r\n$1\r\na\r\n', '*2\r\n$1\r\na\r\n$1\r\nb\r\n', pool), 'random: the count matters');
  const scan = (cursor: string, body: string): string => `*2\r\n$${cursor.length}\r\n${cursor}\r\n${body}`;
  t.ok(same({ kind: 'scan' }, scan('0', ab), scan('0', ba)), 'scan: a full scan as a set');
  t.notOk(same({ kind: 'scan' }, scan('0', ab), scan('0', '*1\r\n$1\r\na\r\n')), 'scan: a full scan misses nothing');
  t.ok(same({ kind: 'scan' }, scan('12', ab), scan('0', '*1\r\n$1\r\na\r\n')), 'scan: a partial scan by shape');
  t.notOk(same({ kind: 'scan' }, scan('0', ab), '-ERR invalid cursor\r\n'), 'scan: errors exact');
  t.ok(same({ kind: 'clock', tolerance: 1 }, ':100\r\n', ':99\r\n'), 'clock: within the tolerance');
  t.notOk(same({ kind: 'clock', tolerance: 1 }, ':100\r\n', ':-1\r\n'), 'clock: -1 is not a TTL');
});

if (!haveRedis()) {
  t.plan(0, 'redis-server is not installed');
} else {
  const ports = pairPerFile().ports;

  t.test('the runner reports a difference with its seed, index and history', async (t) => {
    const [refPort] = ports();
    const other = await startRedis();
    t.teardown(() => other.stop());
    // INFO server differs between any two processes (run_id, pid, port).
    const probe = fuzzType('strings', (_g, key) => ['SET', key, '1'], [(g) => c('SET', g.key(), 'v'), () => c('INFO', 'server')]);
    const r = await runFuzz({ type: probe, others: [], seed: 9, count: 600, proto: 2, refPort, sutPort: other.port, maxDiffs: 2 });
    t.equal(r.diffs.length, 2, 'found, and after a reset found again');
    const d = r.diffs[0];
    t.equal(d?.command, 'INFO server');
    t.equal(d?.seed, 9);
    t.match(describeFuzz(d as FuzzDifference), /^fuzz strings RESP2 seed 9 command #\d+: INFO server\n {2}redis: {2}"\$\d+\\r\\n# Server/);
  });

  suite(AGAINST_REDIS ? 'redis vs redis:' : 'redis vs shrike:', TYPES, TYPES, COUNT, ports);

  const pending = TYPE_NAMES.filter((n) => !TYPES.includes(n));
  if (pending.length > 0) {
    // The other generators against two redis-servers: a difference is a comparison too exact.
    let a: Running | undefined;
    let b: Running | undefined;
    t.test('start two redis-servers for the generators not enabled yet', async () => {
      [a, b] = await Promise.all([startRedis(), startRedis()]);
    });
    suite('redis vs redis:', pending, TYPE_NAMES, REDIS_ONLY_COUNT, () => {
      if (a === undefined || b === undefined) throw new Error('servers not started');
      return [a.port, b.port];
    });
    t.test('stop the two redis-servers', async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });
  }
}
