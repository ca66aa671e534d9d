/**
 * The encoding limits (hash-, set-, zset-max-listpack-*, set-max-intset-entries,
 * list-max-listpack-size, and their old ziplist aliases) are read from the config file and
 * changed by CONFIG SET, and OBJECT ENCODING follows them as in Redis 7.2. Each reply is
 * checked against what it must be and, when a redis-server is installed, against Redis
 * given the same limits on its command line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cmd, haveRedis, RawClient, type Running, readReply, startRedis, startShrike } from './harness';

/** Limits the servers start with: Shrike from its config file, Redis from flags. */
const START: readonly [string, string][] = [
  ['hash-max-listpack-entries', '2'],
  ['set-max-intset-entries', '4'],
];

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const pair = (k: string, v: string): string => `*2\r\n${bulk(k)}${bulk(v)}`;

/** [command, the reply it must get]. */
const SCRIPT: readonly [string[], string][] = [
  // From the config file: a third field makes the hash a hashtable.
  [['CONFIG', 'GET', 'hash-max-listpack-entries'], pair('hash-max-listpack-entries', '2')],
  [['CONFIG', 'GET', 'hash-max-ziplist-entries'], pair('hash-max-ziplist-entries', '2')],
  [['HSET', 'h', 'a', '1', 'b', '2'], ':2\r\n'],
  [['OBJECT', 'ENCODING', 'h'], bulk('listpack')],
  [['HSET', 'h', 'c', '3'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'h'], bulk('hashtable')],
  // An intset grown past its limit becomes a hashtable (7.2's setTypeAddAux)...
  [['SADD', 'si', '1', '2', '3', '4'], ':4\r\n'],
  [['OBJECT', 'ENCODING', 'si'], bulk('intset')],
  [['SADD', 'si', '5'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'si'], bulk('hashtable')],
  // CONFIG SET through the old alias; CONFIG GET shows it under both names.
  [['CONFIG', 'SET', 'zset-max-ziplist-entries', '1'], '+OK\r\n'],
  [['CONFIG', 'GET', 'zset-max-listpack-entries'], pair('zset-max-listpack-entries', '1')],
  [['ZADD', 'z', '1', 'a'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'z'], bulk('listpack')],
  [['ZADD', 'z', '2', 'b'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'z'], bulk('skiplist')],
  [['CONFIG', 'SET', 'zset-max-listpack-value', '4'], '+OK\r\n'],
  [['ZADD', 'zv', '1', 'abcde'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'zv'], bulk('skiplist')],
  // Values: a field value past hash-max-listpack-value converts at once.
  [['CONFIG', 'SET', 'hash-max-ziplist-value', '3'], '+OK\r\n'],
  [['CONFIG', 'GET', 'hash-max-listpack-value'], pair('hash-max-listpack-value', '3')],
  [['HSET', 'hv', 'f', 'abc'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'hv'], bulk('listpack')],
  [['HSET', 'hv', 'g', 'abcd'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'hv'], bulk('hashtable')],
  // Lists: a positive list-max-listpack-size counts entries per node.
  [['CONFIG', 'SET', 'list-max-listpack-size', '2'], '+OK\r\n'],
  [['CONFIG', 'GET', 'list-max-ziplist-size'], pair('list-max-ziplist-size', '2')],
  [['RPUSH', 'l', 'a', 'b'], ':2\r\n'],
  [['OBJECT', 'ENCODING', 'l'], bulk('listpack')],
  [['RPUSH', 'l', 'c'], ':3\r\n'],
  [['OBJECT', 'ENCODING', 'l'], bulk('quicklist')],
  // Sets of strings: entries and value length.
  [['CONFIG', 'SET', 'set-max-listpack-entries', '2'], '+OK\r\n'],
  [['SADD', 'sl', 'a', 'b'], ':2\r\n'],
  [['OBJECT', 'ENCODING', 'sl'], bulk('listpack')],
  [['SADD', 'sl', 'c'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'sl'], bulk('hashtable')],
  [['CONFIG', 'SET', 'set-max-listpack-value', '4'], '+OK\r\n'],
  [['SADD', 'sv', 'abcde'], ':1\r\n'],
  [['OBJECT', 'ENCODING', 'sv'], bulk('hashtable')],
  [['CONFIG', 'SET', 'set-max-intset-entries', '1'], '+OK\r\n'],
  [['CONFIG', 'GET', 'set-max-intset-entries'], pair('set-max-intset-entries', '1')],
  // ...but a new set of more integers than the limit starts as a listpack (setTypeCreate).
  [['SADD', 'si2', '1', '2'], ':2\r\n'],
  [['OBJECT', 'ENCODING', 'si2'], bulk('listpack')],
  // A value already converted stays converted when the limit rises again.
  [['CONFIG', 'SET', 'hash-max-listpack-entries', '128'], '+OK\r\n'],
  [['OBJECT', 'ENCODING', 'h'], bulk('hashtable')],
];

async function runScript(t: Test, s: Running, who: string): Promise<string[]> {
  const c = await RawClient.open(s.port);
  const got: string[] = [];
  try {
    for (const [args, want] of SCRIPT) {
      const r = await readReply(c, cmd(...args));
      got.push(r);
      t.equal(r, want, `${who}: ${args.join(' ')}`);
    }
  } finally {
    c.close();
  }
  return got;
}

t.test('encoding limits from the config file and CONFIG SET change OBJECT ENCODING', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shrike-enc-'));
  const file = join(dir, 'shrike.conf');
  writeFileSync(file, `${START.map(([k, v]) => `${k} ${v}`).join('\n')}\n`);
  const shrike = await startShrike([], file);
  t.teardown(() => shrike.stop());
  const ours = await runScript(t, shrike, 'shrike');
  if (!haveRedis()) {
    t.comment('no redis-server: checked against the expected replies only');
    return;
  }
  const redis = await startRedis(START.flatMap(([k, v]) => [`--${k}`, v]));
  t.teardown(() => redis.stop());
  const theirs = await runScript(t, redis, 'redis');
  t.same(ours, theirs, 'byte for byte as Redis');
});
