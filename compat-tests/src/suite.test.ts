import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  CommandLineError,
  caseGroup,
  commandArgs,
  loadSuite,
  type SuiteCase,
  SuiteError,
  skipReason,
  splitBytes,
  splitLine,
  unescapeBinary,
} from './suite';

const tc = (extra: Partial<SuiteCase> & Record<string, unknown> = {}): SuiteCase => ({
  name: 'case',
  command: ['ping'],
  result: ['PONG'],
  since: '1.0.0',
  ...extra,
});

t.test('splitLine splits on single spaces and drops quotes', async (t) => {
  t.same(splitLine('set k v'), ['set', 'k', 'v']);
  t.same(splitLine('set k "a b"'), ['set', 'k', 'a b']);
  t.same(splitLine('set "k"ey v'), ['set', 'key', 'v'], 'a quote toggles mid-word too');
  t.same(splitLine('set k ""'), ['set', 'k', ''], 'empty quoted word');
  t.same(splitLine('set  k'), ['set', '', 'k'], 'two spaces give an empty word, as in the reference');
  t.same(splitLine('ping '), ['ping', ''], 'a trailing space gives an empty word');
  t.same(splitLine(''), ['']);
  t.same(splitLine('eval "return \'a b\'" 0'), ['eval', "return 'a b'", '0']);
  t.same(splitLine('set k "unterminated value'), ['set', 'k', 'unterminated value']);
  t.same(splitLine('function load "#!lua name=l \n x"'), ['function', 'load', '#!lua name=l \n x']);
});

t.test('unescapeBinary turns escapes into bytes', async (t) => {
  t.same(unescapeBinary('a\\\\b'), Buffer.from('a\\b'));
  t.same(unescapeBinary('\\"'), Buffer.from([0x22]));
  t.same(unescapeBinary('\\n\\r\\t\\a\\b'), Buffer.from([10, 13, 9, 7, 8]));
  t.same(unescapeBinary('\\x00\\xff\\xAb'), Buffer.from([0, 255, 0xab]));
  t.same(unescapeBinary('\\q'), Buffer.from('\\q'), 'an unknown escape keeps its backslash');
  t.same(unescapeBinary('\u00e9'), Buffer.from([0xe9]), 'characters up to U+00FF are one byte each');
  t.throws(() => unescapeBinary('abc\\'), CommandLineError, 'trailing backslash');
  t.throws(() => unescapeBinary('\\x4'), CommandLineError, 'short \\x');
  t.throws(() => unescapeBinary('\\xzz'), CommandLineError, 'non-hex \\x');
  t.throws(() => unescapeBinary('\u20ac'), CommandLineError, 'a character above U+00FF');
});

t.test('splitBytes splits after unescaping, so \\" toggles quoting', async (t) => {
  t.same(splitBytes(unescapeBinary('set k \\x20a')), [Buffer.from('set'), Buffer.from('k'), Buffer.from(''), Buffer.from('a')]);
  t.same(splitBytes(unescapeBinary('set k \\"a b\\"')), [Buffer.from('set'), Buffer.from('k'), Buffer.from('a b')]);
});

t.test('commandArgs', async (t) => {
  t.same(commandArgs(tc(), 'set k "a b"'), [Buffer.from('set'), Buffer.from('k'), Buffer.from('a b')]);
  t.same(commandArgs(tc(), 'set k \u00e9'), [Buffer.from('set'), Buffer.from('k'), Buffer.from([0xc3, 0xa9])], 'text words go as UTF-8');
  const restore = tc({ command_binary: true });
  const args = commandArgs(restore, 'restore k 0 \\x00\\x01v\\x06\\x00\\a\\xe5\\xa62\\xecm\\xb6]');
  t.equal(args.length, 4);
  t.same(args[3], Buffer.from([0x00, 0x01, 0x76, 0x06, 0x00, 0x07, 0xe5, 0xa6, 0x32, 0xec, 0x6d, 0xb6, 0x5d]));
  t.same(commandArgs(tc({ command_binary: false }), 'get \\x41')[1], Buffer.from([0x41]), 'command_binary counts by presence');
  t.throws(() => commandArgs(restore, '\\xff k'), CommandLineError, 'the name must be UTF-8');
  t.throws(() => commandArgs(tc(), 'set k \ud800'), CommandLineError, 'lone surrogate');
});

t.test('skipReason follows the reference order and semantics', async (t) => {
  t.equal(skipReason(tc(), 'standalone', undefined), undefined);
  t.equal(skipReason(tc({ skipped: false }), 'standalone', undefined), 'skipped', 'skipped counts by presence');
  t.equal(skipReason(tc({ skipped: true, tags: 'cluster', since: '9.0.0' }), 'standalone', '7.2.0'), 'skipped');
  t.equal(skipReason(tc({ tags: 'cluster' }), 'standalone', undefined), 'tags');
  t.equal(skipReason(tc({ tags: 'standalone' }), 'standalone', undefined), undefined);
  t.equal(skipReason(tc({ tags: 'standalone' }), 'cluster', undefined), 'tags');
  t.equal(skipReason(tc({ tags: ['cluster'] }), 'standalone', undefined), undefined, 'only a plain tag string excludes');
  t.equal(skipReason(tc({ since: '7.2.0' }), 'standalone', '7.0.0'), 'version');
  t.equal(skipReason(tc({ since: '7.0.0' }), 'standalone', '7.0.0'), undefined, 'since == version runs');
  t.equal(skipReason(tc({ since: '2.10.0' }), 'standalone', '2.8.0'), undefined, 'string comparison, as in Python');
  t.equal(skipReason(tc({ since: '7.2.0' }), 'standalone', undefined), undefined, 'no version runs everything');
});

t.test('caseGroup names the group of the last command', async (t) => {
  t.equal(caseGroup(tc({ command: ['set k v', 'get k'] })), 'string');
  t.equal(caseGroup(tc({ command: ['zadd z 1 a'] })), 'sorted_set');
  t.equal(caseGroup(tc({ command: ['OBJECT ENCODING k'] })), 'generic', 'subcommand, any case');
  t.equal(caseGroup(tc({ command: ['client nosuch'] })), 'connection', 'unknown subcommand falls back to the container');
  t.equal(caseGroup(tc({ command: ['nosuchcommand'] })), 'unknown');
  t.equal(caseGroup(tc({ command: [] })), 'unknown');
  const groups = new Map([
    ['x', 'a'],
    ['x|y', 'b'],
  ]);
  t.equal(caseGroup(tc({ command: ['x y'] }), groups), 'b');
});

t.test('loadSuite reads and checks cases', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compat-suite-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify([{ name: 'a', command: ['ping'], result: ['PONG'], since: '1.0.0' }]));
  t.equal(loadSuite(good).length, 1);
  t.throws(() => loadSuite(join(dir, 'missing.json')), SuiteError);
  const notJson = join(dir, 'not.json');
  writeFileSync(notJson, '[{');
  t.throws(() => loadSuite(notJson), SuiteError);
  const cases: [unknown, RegExp][] = [
    [{}, /expected a JSON array/],
    [[1], /not an object/],
    [[{ command: [], result: [], since: '1' }], /'name'/],
    [[{ name: 'a', command: [1], result: [], since: '1' }], /'command'/],
    [[{ name: 'a', command: [], result: 'x', since: '1' }], /'result'/],
    [[{ name: 'a', command: [], result: [], since: 1 }], /'since'/],
  ];
  for (const [i, [data, re]] of cases.entries()) {
    const p = join(dir, `bad${i}.json`);
    writeFileSync(p, JSON.stringify(data));
    t.throws(() => loadSuite(p), re);
  }
});
