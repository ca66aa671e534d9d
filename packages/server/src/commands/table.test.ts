/** The command table and its byte-level name index. */
import t from 'tap';
import { loadAddon } from '../core';
import { COMMAND_SPEC_LIST } from './spec.generated';
import { buildTable, foldedHash, NameIndex } from './table';

/**
 * Redis command groups whose every command is implemented (in the core or in TypeScript);
 * a group joins this list when it lands.
 */
const COMPLETE_GROUPS = ['string', 'bitmap', 'hyperloglog', 'sorted_set', 'set', 'hash', 'list', 'geo'];

const table = buildTable(['get', 'set', 'incr']);
const index = new NameIndex(table);
const at = (s: string | Buffer, pad = 3): [Buffer, number, number] => {
  const b = Buffer.concat([Buffer.alloc(pad, 0x2a), Buffer.from(s as string, 'latin1'), Buffer.alloc(pad, 0x2a)]);
  return [b, pad, b.length - pad];
};

t.test('every command resolves to itself, in any letter case, at any offset', async (t) => {
  for (const [name, cmd] of table) {
    t.equal(index.get(...at(name)), cmd, name);
    t.equal(index.get(...at(name.toUpperCase())), cmd, name.toUpperCase());
    const mixed = [...name].map((ch, i) => (i % 2 === 0 ? ch.toUpperCase() : ch)).join('');
    t.equal(index.get(...at(mixed, 0)), cmd, mixed);
  }
});

t.test('near misses are unknown', async (t) => {
  for (const s of ['', 'ge', 'gett', 'g\0et', 'GET ', 'clien', 'clientx']) t.equal(index.get(...at(s)), undefined, JSON.stringify(s));
  // Only ASCII letters fold: '@' (0x40) is not '`' (0x60), and bytes past 0x7f stay as they are.
  const odd = new NameIndex([['`x', 1]]);
  t.equal(odd.get(...at('@x')), undefined);
  t.equal(odd.get(...at('`X')), 1);
  const high = new NameIndex([['\u00e9', 2]]);
  t.equal(high.get(...at(Buffer.from([0xe9]))), 2);
  t.equal(high.get(...at(Buffer.from([0xc9]))), undefined, 'no Latin-1 case folding');
});

t.test('names that share a hash bucket are told apart', async (t) => {
  // Two names with the same 32-bit hash, found by search.
  const pair = ['k1nq0x600', 'k1x0ax846'] as const;
  const hash = (s: string): number => foldedHash(Buffer.from(s), 0, s.length);
  t.equal(hash(pair[0]), hash(pair[1]), 'the pair does collide');
  const [a, b] = pair;
  const both = new NameIndex([
    [a, 'A'],
    [b, 'B'],
  ]);
  t.equal(both.get(...at(a)), 'A');
  t.equal(both.get(...at(b)), 'B');
  t.equal(new NameIndex([[a, 'A']]).get(...at(b)), undefined, 'same hash, other bytes: unknown');
});

t.test('every command of a complete group has a handler, and every handler a spec', async (t) => {
  const full = buildTable(loadAddon().initKeyspace(16, 256));
  const has = (name: string): boolean => {
    const bar = name.indexOf('|');
    const cmd = bar < 0 ? full.get(name) : full.get(name.slice(0, bar))?.subcommands?.get(name.slice(bar + 1));
    return cmd !== undefined && (cmd.op >= 0 || cmd.handler !== undefined);
  };
  for (const spec of COMMAND_SPEC_LIST) {
    if (!COMPLETE_GROUPS.includes(spec.group) || (spec.subcommands?.length ?? 0) > 0) continue;
    t.ok(has(spec.name), `${spec.group} command ${spec.name} has a handler`);
  }
  // The core's rows are joined to the spec by name when the crate builds; a name the spec
  // lacks stops the start-up here.
  t.throws(() => buildTable(['get', 'nosuchcommand']), /nosuchcommand is not in the Redis spec/);
});

t.test('a handler gets argv only when it declares it', async (t) => {
  const full = buildTable(loadAddon().initKeyspace(16, 256));
  for (const name of ['multi', 'exec', 'discard', 'unwatch']) t.equal(full.get(name)?.takesArgv, false, name);
  for (const name of ['watch', 'select', 'ping', 'echo']) t.equal(full.get(name)?.takesArgv, true, name);
  t.equal(full.get('client')?.subcommands?.get('setname')?.takesArgv, true, 'client|setname');
  for (const [name, cmd] of full) {
    // Whatever declares a second parameter reads it; nothing declares more than two.
    if (cmd.handler !== undefined) t.ok(cmd.handler.length <= 2, `${name} handler arity`);
  }
});
