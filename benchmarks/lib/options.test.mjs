import t from 'tap';
import { parseOptions } from './options.mjs';

// --redis-server is given so that parsing never looks for (or builds) the reference Redis.
const base = ['--redis-server', '/bin/true'];

t.test('--loads picks throughput loads by the ids the report prints', async (t) => {
  const opts = parseOptions([...base, '--only', 'throughput', '--loads', 'get P1, set-512k P16', '--rounds', '12']);
  t.same(opts.loads, ['get P1', 'set-512k P16']);
  t.equal(opts.rounds, 12);
  t.same(opts.sections, ['throughput']);
  t.equal(parseOptions(base).loads, undefined, 'every load by default');
});

t.test('--loads refuses an unknown id, naming the known ones', async (t) => {
  t.throws(() => parseOptions([...base, '--loads', 'get P2']), /unknown load "get P2" \(known: set P1, get P1,/);
});

t.test('--loads needs the throughput section', async (t) => {
  t.throws(() => parseOptions([...base, '--only', 'memory', '--loads', 'get P1']), /the throughput section must run/);
});
