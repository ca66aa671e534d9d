// COMMAND's replies, checked byte for byte against redis-server 7.2.6 (fixtures recorded
// over a raw socket with `HELLO 3` for RESP3), and COMMAND GETKEYS against its answers.
import { Decoder, ReplyWriter, type RespValue } from '@shrike/resp3';
import t from 'tap';
import {
  commandAll,
  commandCount,
  commandDocs,
  commandGetKeys,
  commandGetKeysAndFlags,
  commandInfo,
  commandList,
  type SpecLookup,
  stringMatch,
} from './command';
import { COMMAND_SPEC_LIST, COMMAND_SPECS, type CommandSpec } from './spec.generated';

/** Fixture text: one RESP line per source line, joined with CRLF. */
function resp(text: string): string {
  return `${text.slice(1).split('\n').join('\r\n')}`;
}

/** What a COMMAND function writes, as latin1 text. */
function reply(proto: 2 | 3, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter();
  w.proto = proto;
  write(w);
  return w.take().toString('latin1');
}

/** A reply as plain values: strings, numbers, null, arrays; errors as '-text'. */
function decoded(proto: 2 | 3, write: (w: ReplyWriter) => void): unknown {
  const values = new Decoder().feed(Buffer.from(reply(proto, write), 'latin1'));
  const plain = (v: RespValue): unknown => {
    switch (v.type) {
      case 'array':
      case 'set':
        return v.value.map(plain);
      case 'map':
        return v.value.map(([k, x]) => [plain(k), plain(x)]);
      case 'bulk':
        return v.value.toString('latin1');
      case 'simple':
        return v.value;
      case 'error':
        return `-${v.value}`;
      case 'integer':
        return Number(v.value);
      case 'null':
        return null;
      default:
        return v.type;
    }
  };
  return values.map(plain)[0];
}

const args = (...words: string[]): Buffer[] => words.map((w) => Buffer.from(w, 'latin1'));
const spec = (name: string): CommandSpec => COMMAND_SPECS.get(name) as CommandSpec;
const allSpecs: SpecLookup = (name) => COMMAND_SPECS.get(name);
/** Every Redis 7.2 top-level command a non-sentinel server has. */
// Redis 7.2's own commands: the table also has 7.4's hash-field TTL commands (scripts/commands-extra.json).
const REDIS_TOP = COMMAND_SPEC_LIST.filter((s) => !s.name.includes('|') && !s.flags.includes('only_sentinel') && s.since !== '7.4.0');
/** A small implemented set, as the dispatcher would pass it. */
const SOME = ['get', 'set', 'mset', 'client', 'object', 'setnx', 'lpush', 'zadd', 'migrate'].map(spec);

/** redis-server 7.2.6: COMMAND INFO get set mset client|kill object|encoding nosuch (RESP2) */
const INFO_RESP2 = resp(`
*6
*10
$3
get
:2
*2
+readonly
+fast
:1
:1
:1
*3
+@read
+@string
+@fast
*0
*1
*6
$5
flags
*2
+RO
+access
$12
begin_search
*4
$4
type
$5
index
$4
spec
*2
$5
index
:1
$9
find_keys
*4
$4
type
$5
range
$4
spec
*6
$7
lastkey
:0
$7
keystep
:1
$5
limit
:0
*0
*10
$3
set
:-3
*2
+write
+denyoom
:1
:1
:1
*3
+@write
+@string
+@slow
*0
*1
*8
$5
notes
$48
RW and ACCESS due to the optional \`GET\` argument
$5
flags
*4
+RW
+access
+update
+variable_flags
$12
begin_search
*4
$4
type
$5
index
$4
spec
*2
$5
index
:1
$9
find_keys
*4
$4
type
$5
range
$4
spec
*6
$7
lastkey
:0
$7
keystep
:1
$5
limit
:0
*0
*10
$4
mset
:-3
*2
+write
+denyoom
:1
:-1
:2
*3
+@write
+@string
+@slow
*2
$26
request_policy:multi_shard
$29
response_policy:all_succeeded
*1
*6
$5
flags
*2
+OW
+update
$12
begin_search
*4
$4
type
$5
index
$4
spec
*2
$5
index
:1
$9
find_keys
*4
$4
type
$5
range
$4
spec
*6
$7
lastkey
:-1
$7
keystep
:2
$5
limit
:0
*0
*10
$11
client|kill
:-3
*4
+admin
+noscript
+loading
+stale
:0
:0
:0
*4
+@admin
+@slow
+@dangerous
+@connection
*0
*0
*0
*10
$15
object|encoding
:3
*1
+readonly
:2
:2
:1
*3
+@keyspace
+@read
+@slow
*1
$23
nondeterministic_output
*1
*6
$5
flags
*1
+RO
$12
begin_search
*4
$4
type
$5
index
$4
spec
*2
$5
index
:2
$9
find_keys
*4
$4
type
$5
range
$4
spec
*6
$7
lastkey
:0
$7
keystep
:1
$5
limit
:0
*0
$-1
`);

/** redis-server 7.2.6: COMMAND INFO get client|kill nosuch (RESP3) */
const INFO_RESP3 = resp(`
*3
*10
$3
get
:2
~2
+readonly
+fast
:1
:1
:1
~3
+@read
+@string
+@fast
~0
~1
%3
$5
flags
~2
+RO
+access
$12
begin_search
%2
$4
type
$5
index
$4
spec
%1
$5
index
:1
$9
find_keys
%2
$4
type
$5
range
$4
spec
%3
$7
lastkey
:0
$7
keystep
:1
$5
limit
:0
~0
*10
$11
client|kill
:-3
~4
+admin
+noscript
+loading
+stale
:0
:0
:0
~4
+@admin
+@slow
+@dangerous
+@connection
~0
~0
~0
_
`);

/** redis-server 7.2.6: COMMAND DOCS get nosuch client|kill (RESP2) */
const DOCS_RESP2 = resp(`
*4
$3
get
*10
$7
summary
$34
Returns the string value of a key.
$5
since
$5
1.0.0
$5
group
$6
string
$10
complexity
$4
O(1)
$9
arguments
*1
*8
$4
name
$3
key
$4
type
$3
key
$12
display_text
$3
key
$14
key_spec_index
:0
$11
client|kill
*12
$7
summary
$28
Terminates open connections.
$5
since
$5
2.4.0
$5
group
$10
connection
$10
complexity
$48
O(N) where N is the number of client connections
$7
history
*5
*2
$6
2.8.12
$24
Added new filter format.
*2
$6
2.8.12
$12
\`ID\` option.
*2
$5
3.2.0
$41
Added \`master\` type in for \`TYPE\` option.
*2
$5
5.0.0
$91
Replaced \`slave\` \`TYPE\` with \`replica\`. \`slave\` still supported for backward compatibility.
*2
$5
6.2.0
$15
\`LADDR\` option.
$9
arguments
*1
*6
$4
name
$6
filter
$4
type
$5
oneof
$9
arguments
*2
*8
$4
name
$10
old-format
$4
type
$6
string
$12
display_text
$7
ip:port
$16
deprecated_since
$6
2.8.12
*8
$4
name
$10
new-format
$4
type
$5
oneof
$5
flags
*1
+multiple
$9
arguments
*6
*12
$4
name
$9
client-id
$4
type
$7
integer
$12
display_text
$9
client-id
$5
token
$2
ID
$5
since
$6
2.8.12
$5
flags
*1
+optional
*12
$4
name
$11
client-type
$4
type
$5
oneof
$5
token
$4
TYPE
$5
since
$6
2.8.12
$5
flags
*1
+optional
$9
arguments
*5
*8
$4
name
$6
normal
$4
type
$10
pure-token
$12
display_text
$6
normal
$5
token
$6
NORMAL
*10
$4
name
$6
master
$4
type
$10
pure-token
$12
display_text
$6
master
$5
token
$6
MASTER
$5
since
$5
3.2.0
*8
$4
name
$5
slave
$4
type
$10
pure-token
$12
display_text
$5
slave
$5
token
$5
SLAVE
*10
$4
name
$7
replica
$4
type
$10
pure-token
$12
display_text
$7
replica
$5
token
$7
REPLICA
$5
since
$5
5.0.0
*8
$4
name
$6
pubsub
$4
type
$10
pure-token
$12
display_text
$6
pubsub
$5
token
$6
PUBSUB
*10
$4
name
$8
username
$4
type
$6
string
$12
display_text
$8
username
$5
token
$4
USER
$5
flags
*1
+optional
*10
$4
name
$4
addr
$4
type
$6
string
$12
display_text
$7
ip:port
$5
token
$4
ADDR
$5
flags
*1
+optional
*12
$4
name
$5
laddr
$4
type
$6
string
$12
display_text
$7
ip:port
$5
token
$5
LADDR
$5
since
$5
6.2.0
$5
flags
*1
+optional
*10
$4
name
$6
skipme
$4
type
$5
oneof
$5
token
$6
SKIPME
$5
flags
*1
+optional
$9
arguments
*2
*8
$4
name
$3
yes
$4
type
$10
pure-token
$12
display_text
$3
yes
$5
token
$3
YES
*8
$4
name
$2
no
$4
type
$10
pure-token
$12
display_text
$2
no
$5
token
$2
NO
`);

/** redis-server 7.2.6: COMMAND DOCS setnx lpush (RESP3) */
const DOCS_RESP3 = resp(`
%2
$5
setnx
%8
$7
summary
$62
Set the string value of a key only when the key doesn't exist.
$5
since
$5
1.0.0
$5
group
$6
string
$10
complexity
$4
O(1)
$9
doc_flags
~1
+deprecated
$16
deprecated_since
$6
2.6.12
$11
replaced_by
$28
\`SET\` with the \`NX\` argument
$9
arguments
*2
%4
$4
name
$3
key
$4
type
$3
key
$12
display_text
$3
key
$14
key_spec_index
:0
%3
$4
name
$5
value
$4
type
$6
string
$12
display_text
$5
value
$5
lpush
%6
$7
summary
$77
Prepends one or more elements to a list. Creates the key if it doesn't exist.
$5
since
$5
1.0.0
$5
group
$4
list
$10
complexity
$106
O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.
$7
history
~1
*2
$5
2.4.0
$37
Accepts multiple \`element\` arguments.
$9
arguments
*2
%4
$4
name
$3
key
$4
type
$3
key
$12
display_text
$3
key
$14
key_spec_index
:0
%4
$4
name
$7
element
$4
type
$6
string
$12
display_text
$7
element
$5
flags
~1
+multiple
`);

t.test('COMMAND INFO matches redis-server 7.2 byte for byte', async (t) => {
  const names = args('get', 'set', 'mset', 'client|kill', 'object|encoding', 'nosuch');
  t.equal(
    reply(2, (w) => commandInfo(w, SOME, names)),
    INFO_RESP2,
    'RESP2',
  );
  t.equal(
    reply(3, (w) => commandInfo(w, SOME, args('get', 'client|kill', 'nosuch'))),
    INFO_RESP3,
    'RESP3',
  );
  t.equal(
    reply(2, (w) => commandInfo(w, REDIS_TOP, args('GET'))),
    reply(2, (w) => commandInfo(w, REDIS_TOP, args('get'))),
    'names are case-insensitive',
  );
});

t.test('COMMAND DOCS matches redis-server 7.2 byte for byte', async (t) => {
  t.equal(
    reply(2, (w) => commandDocs(w, SOME, args('get', 'nosuch', 'client|kill'))),
    DOCS_RESP2,
    'RESP2, unknown names left out',
  );
  t.equal(
    reply(3, (w) => commandDocs(w, SOME, args('setnx', 'lpush'))),
    DOCS_RESP3,
    'RESP3',
  );
  t.equal(
    reply(3, (w) => commandDocs(w, SOME, args('nosuch'))),
    '%0\r\n',
  );
  t.equal(
    reply(2, (w) => commandDocs(w, SOME, args('nosuch'))),
    '*0\r\n',
  );
});

t.test('COMMAND DOCS details', async (t) => {
  const zadd = decoded(3, (w) => commandDocs(w, SOME, args('zadd'))) as [string, [string, unknown][]][];
  t.same(
    zadd[0]?.[1].find(([k]) => k === 'group'),
    ['group', 'sorted-set'],
    "the sorted_set group is printed 'sorted-set'",
  );
  const migrate = reply(2, (w) => commandDocs(w, SOME, args('migrate')));
  t.match(migrate, '$12\r\nempty-string\r\n$5\r\ntoken\r\n$0\r\n\r\n', 'the JSON token \'""\' is an empty token in Redis');
  const object = decoded(3, (w) => commandDocs(w, SOME, args('object'))) as [string, [string, unknown][]][];
  const subs = object[0]?.[1].find(([k]) => k === 'subcommands')?.[1] as [string, unknown][];
  t.same(
    subs.map(([name]) => name),
    ['object|encoding', 'object|freq', 'object|help', 'object|idletime', 'object|refcount'],
  );
  const onlyEncoding: SpecLookup = (name) => (name === 'object|encoding' ? spec(name) : undefined);
  const narrowed = decoded(3, (w) => commandDocs(w, SOME, args('object'), onlyEncoding)) as [string, [string, unknown][]][];
  t.same(
    (narrowed[0]?.[1].find(([k]) => k === 'subcommands')?.[1] as [string, unknown][]).map(([n]) => n),
    ['object|encoding'],
    'subcommands are those the lookup knows',
  );
  t.same(
    decoded(3, (w) => commandDocs(w, SOME, args('object|freq'), onlyEncoding)),
    [],
    'a subcommand the lookup lacks is unknown',
  );
});

t.test('COMMAND and COMMAND COUNT', async (t) => {
  t.equal(
    reply(2, (w) => commandCount(w, REDIS_TOP)),
    ':241\r\n',
    'Redis 7.2 has 241 top-level commands',
  );
  const all = reply(3, (w) => commandAll(w, SOME));
  t.ok(all.startsWith(`*${SOME.length}\r\n*10\r\n$3\r\nget\r\n`));
  t.equal(
    reply(3, (w) => commandInfo(w, SOME, [])),
    all,
    'COMMAND INFO without names is COMMAND',
  );
  const info = decoded(2, (w) => commandAll(w, REDIS_TOP)) as unknown[][];
  t.equal(info.length, 241);
  const client = info.find((c) => c[0] === 'client') as unknown[];
  t.equal((client[9] as unknown[]).length, 18, 'a container lists its subcommands');
  t.same(
    decoded(3, (w) => commandInfo(w, SOME, args('object'), () => undefined)),
    [['object', -2, [], 0, 0, 0, ['@slow'], [], [], []]],
    'a container without known subcommands ends in an empty set',
  );
});

t.test('COMMAND INFO name lookup', async (t) => {
  const known = (name: string) => (decoded(2, (w) => commandInfo(w, SOME, args(name))) as unknown[][])[0]?.[0] ?? null;
  t.equal(known('CLIENT|Kill'), 'client|kill');
  t.equal(known('client'), 'client');
  t.equal(known('get|x'), null, 'a plain command has no subcommands');
  t.equal(known('client|'), null);
  t.equal(known('|kill'), null);
  t.equal(known('client|kill|x'), null, 'one level only');
  t.equal(known(''), null);
  t.equal(known('lpop'), null, 'not implemented');
  t.equal(
    reply(3, (w) => commandInfo(w, SOME, args('nosuch'))),
    '*1\r\n_\r\n',
  );
  t.equal(
    reply(2, (w) => commandInfo(w, SOME, args('nosuch'))),
    '*1\r\n$-1\r\n',
  );
});

t.test('COMMAND LIST', async (t) => {
  const list = (...filter: string[]) => decoded(2, (w) => commandList(w, SOME, args(...filter), allSpecs));
  const plain = list() as string[];
  t.equal(plain.length, 9 + 18 + 5, 'commands and their subcommands');
  t.same(plain.slice(0, 3), ['get', 'set', 'mset']);
  t.ok(plain.includes('client|kill'));
  t.same(list('FILTERBY', 'PATTERN', 'm*'), ['mset', 'migrate']);
  t.same(list('filterby', 'pattern', 'OBJECT|[e-f]*'), ['object|encoding', 'object|freq'], 'case-insensitive, subcommands too');
  t.same(list('FILTERBY', 'ACLCAT', 'String'), ['get', 'set', 'mset', 'setnx']);
  t.same(list('FILTERBY', 'ACLCAT', '@string'), [], "a category is named without '@'");
  t.same(list('FILTERBY', 'MODULE', 'json'), [], 'no modules');
  for (const bad of [['x'], ['FILTERBY'], ['FILTERBY', 'PATTERN'], ['FILTERBY', 'PATTERN', 'a', 'b'], ['FILTERBY', 'NAME', 'a']]) {
    t.equal(
      reply(2, (w) => commandList(w, SOME, args(...bad))),
      '-ERR syntax error\r\n',
      bad.join(' '),
    );
  }
});

/** COMMAND GETKEYSANDFLAGS answers of redis-server 7.2.6 (a string is the error it replies). */
const GETKEYS: readonly [readonly string[], readonly (readonly [string, readonly string[]])[] | string][] = [
  [['get', 'k'], [['k', ['RO', 'access']]]],
  [['get'], 'ERR Invalid number of arguments specified for command'],
  [['set', 'k', 'v'], [['k', ['OW', 'update']]]],
  [['set', 'k', 'v', 'ex', '10', 'get'], [['k', ['RW', 'access', 'update']]]],
  [
    ['mset', 'a', '1', 'b', '2'],
    [
      ['a', ['OW', 'update']],
      ['b', ['OW', 'update']],
    ],
  ],
  [
    ['lcs', 'a', 'b'],
    [
      ['a', ['RO', 'access']],
      ['b', ['RO', 'access']],
    ],
  ],
  [['object', 'encoding', 'k'], [['k', ['RO']]]],
  [['object'], 'ERR The command has no key arguments'],
  [['client', 'kill', 'x'], 'ERR The command has no key arguments'],
  [['nosuch', 'a'], 'ERR Invalid command specified'],
  [['ping'], 'ERR The command has no key arguments'],
  [['client|kill', 'x'], 'ERR Invalid command specified'],
  [
    ['zunionstore', 'd', '2', 'a', 'b'],
    [
      ['d', ['OW', 'update']],
      ['a', ['RO', 'access']],
      ['b', ['RO', 'access']],
    ],
  ],
  [['zunionstore', 'd', 'x', 'a', 'b'], 'ERR Invalid arguments specified for command'],
  [['zunionstore', 'd', '5', 'a', 'b'], 'ERR Invalid arguments specified for command'],
  [
    ['zunion', '2', 'a', 'b'],
    [
      ['a', ['RO', 'access']],
      ['b', ['RO', 'access']],
    ],
  ],
  [['sintercard', '0', 'a'], 'ERR Invalid arguments specified for command'],
  [['eval', 's', '0'], []],
  [
    ['eval', 's', '2', 'a', 'b', 'c'],
    [
      ['a', ['RW', 'access', 'update']],
      ['b', ['RW', 'access', 'update']],
    ],
  ],
  [['eval', 's', 'x'], []],
  [['eval', 's', '99999999999999999999', 'a'], []],
  [['fcall_ro', 'f', '1', 'a'], [['a', ['RO', 'access']]]],
  [
    ['blmpop', '0', '2', 'a', 'b', 'left'],
    [
      ['a', ['RW', 'access', 'delete']],
      ['b', ['RW', 'access', 'delete']],
    ],
  ],
  [['bzmpop', '1', 'x', 'a', 'max'], 'ERR Invalid arguments specified for command'],
  [['sort', 'k'], [['k', ['RO', 'access']]]],
  [
    ['sort', 'k', 'by', 'x', 'get', 'y', 'store', 'd'],
    [
      ['k', ['RO', 'access']],
      ['d', ['OW', 'update']],
    ],
  ],
  [
    ['sort', 'k', 'store', 'd', 'store', 'e'],
    [
      ['k', ['RO', 'access']],
      ['e', ['OW', 'update']],
    ],
  ],
  [['sort_ro', 'k', 'by', 'x'], [['k', ['RO', 'access']]]],
  [['migrate', 'h', '1', 'k', '0', '10'], [['k', ['RW', 'access', 'delete']]]],
  [
    ['migrate', 'h', '1', '', '0', '10', 'auth2', 'u', 'p', 'keys', 'a', 'b'],
    [
      ['a', ['RW', 'access', 'delete']],
      ['b', ['RW', 'access', 'delete']],
    ],
  ],
  [['migrate', 'h', '1', 'k', '0', '10', 'keys', 'a', 'b'], 'ERR Invalid arguments specified for command'],
  [
    ['georadius', 'k', '1', '2', '3', 'm', 'store', 'd', 'storedist', 'e'],
    [
      ['k', ['RO', 'access']],
      ['d', ['OW', 'update']],
      ['e', ['OW', 'update']],
    ],
  ],
  [
    ['xread', 'count', '1', 'block', '0', 'streams', 'a', 'b', '0', '0'],
    [
      ['a', ['RO', 'access']],
      ['b', ['RO', 'access']],
    ],
  ],
  [['xread', 'streams', 'a', 'b', 'c'], [['a', ['RO', 'access']]]],
  [['xreadgroup', 'group', 'g', 'c', 'noack', 'streams', 's1', '0'], [['s1', ['RO', 'access']]]],
  [['bitfield', 'k', 'get', 'u8', '0'], [['k', ['RO', 'access']]]],
  [['bitfield', 'k', 'set', 'u8', '0', '1'], [['k', ['RW', 'access', 'update']]]],
  [['bitfield', 'k', 'bogus'], [['k', ['RW', 'access', 'update']]]],
  [['bitfield_ro', 'k', 'get', 'u8', '0'], [['k', ['RO', 'access']]]],
  [
    ['rename', 'a', 'b'],
    [
      ['a', ['RW', 'access', 'delete']],
      ['b', ['OW', 'update']],
    ],
  ],
  [
    ['smove', 'a', 'b', 'm'],
    [
      ['a', ['RW', 'access', 'delete']],
      ['b', ['RW', 'insert']],
    ],
  ],
  [
    ['blmove', 'a', 'b', 'left', 'right', '0'],
    [
      ['a', ['RW', 'access', 'delete']],
      ['b', ['RW', 'insert']],
    ],
  ],
  [
    ['copy', 'a', 'b'],
    [
      ['a', ['RO', 'access']],
      ['b', ['OW', 'update']],
    ],
  ],
  [['xinfo', 'stream', 's'], [['s', ['RO', 'access']]]],
  [['memory', 'usage', 'k'], [['k', ['RO']]]],
  [['sunsubscribe', 'a'], 'ERR The command has no key arguments'],
  [['spublish', 'c', 'm'], 'ERR The command has no key arguments'],
  [['set', 'k', 'v', 'get\0x'], [['k', ['RW', 'access', 'update']]]],
];

t.test('COMMAND GETKEYS and GETKEYSANDFLAGS answer as Redis 7.2', async (t) => {
  for (const [argv, expected] of GETKEYS) {
    const withFlags = decoded(2, (w) => commandGetKeysAndFlags(w, allSpecs, args(...argv)));
    const keysOnly = decoded(2, (w) => commandGetKeys(w, allSpecs, args(...argv)));
    if (typeof expected === 'string') {
      t.equal(withFlags, `-${expected}`, argv.join(' '));
      t.equal(keysOnly, `-${expected}`, argv.join(' '));
    } else {
      t.same(withFlags, expected, argv.join(' '));
      t.same(
        keysOnly,
        expected.map(([k]) => k),
        argv.join(' '),
      );
    }
  }
});

t.test('COMMAND GETKEYSANDFLAGS wire format', async (t) => {
  t.equal(
    reply(3, (w) => commandGetKeysAndFlags(w, allSpecs, args('get', 'k'))),
    '*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+RO\r\n+access\r\n',
  );
  t.equal(
    reply(2, (w) => commandGetKeysAndFlags(w, allSpecs, args('get', 'k'))),
    '*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n',
  );
  t.equal(
    reply(3, (w) => commandGetKeys(w, allSpecs, args('eval', 's', '0'))),
    '*0\r\n',
  );
  const implemented: SpecLookup = (name) => (name === 'get' ? spec(name) : undefined);
  t.equal(
    reply(2, (w) => commandGetKeys(w, implemented, args('set', 'k', 'v'))),
    '-ERR Invalid command specified\r\n',
  );
  t.equal(
    reply(2, (w) => commandGetKeys(w, implemented, args('GET', 'k'))),
    '*1\r\n$1\r\nk\r\n',
  );
  t.equal(
    reply(2, (w) => commandGetKeys(w, implemented, [])),
    '-ERR Invalid command specified\r\n',
  );
});

t.test('stringMatch is Redis glob', async (t) => {
  const m = (p: string, s: string, nocase = false) => stringMatch(Buffer.from(p, 'latin1'), Buffer.from(s, 'latin1'), nocase);
  t.ok(m('*', 'anything'));
  t.notOk(m('*', ''), "as in Redis 7.2, '*' does not match an empty string");
  t.ok(m('', ''));
  t.notOk(m('', 'a'));
  t.ok(m('h?llo', 'hello'));
  t.ok(m('h*llo', 'heeeello'));
  t.ok(m('h[ae]llo', 'hallo'));
  t.notOk(m('h[^e]llo', 'hello'));
  t.ok(m('h[a-b]llo', 'hbllo'));
  t.ok(m('h[b-a]llo', 'hallo'), 'a reversed range still matches');
  t.ok(m('h\\*llo', 'h*llo'));
  t.notOk(m('h\\*llo', 'hello'));
  t.ok(m('[\\]]', ']'));
  t.ok(m('[abc', 'c'), 'an unclosed class ends at the pattern end');
  t.ok(m('GET', 'get', true));
  t.notOk(m('GET', 'get'));
  t.ok(m('[A-C]et', 'bet', true));
  t.ok(m('a**b', 'aXb'));
  t.notOk(m('a*b', 'aXc'));
  t.ok(m('*a*a*a*a*a*a*a*a*a*a*b', `${'a'.repeat(40)}b`));
  t.notOk(m('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(40)), 'gives up early instead of backtracking forever');
});
