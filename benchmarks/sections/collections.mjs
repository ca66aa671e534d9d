/**
 * Section: memory per element of collections, Shrike vs Redis. For each type, many small
 * collections (compact encodings: listpack, intset) and a few big ones (quicklist,
 * hashtable, skiplist) are loaded into freshly started servers; the resident memory they
 * add, divided by the elements loaded, is compared.
 */

import { rssBytes } from '../lib/procstat.mjs';
import { oneCommand, RespClient } from '../lib/respclient.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { ratio, round } from '../lib/stats.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Element names of a fixed width (8 bytes), so every type stores the same payload. */
const member = (i) => `m${String(i).padStart(7, '0')}`;

/**
 * The cases: how one collection's elements become a command's arguments, and the
 * encoding Redis gives such a collection (checked on both servers, so a ratio never
 * compares two different encodings).
 */
const TYPES = [
  { type: 'list', cmd: 'RPUSH', args: (i) => [member(i)], small: 'listpack', big: 'quicklist' },
  { type: 'hash', cmd: 'HSET', args: (i) => [member(i), member(i)], small: 'listpack', big: 'hashtable' },
  { type: 'set', cmd: 'SADD', args: (i) => [member(i)], small: 'listpack', big: 'hashtable' },
  { type: 'intset', cmd: 'SADD', args: (i) => [String(100000 + i)], small: 'intset', big: 'hashtable' },
  { type: 'zset', cmd: 'ZADD', args: (i) => [String(i), member(i)], small: 'listpack', big: 'skiplist' },
];

/** Load `keys` collections of `size` elements each, `chunk` elements per command, pipelined. */
async function load(port, t, prefix, keys, size) {
  const client = await RespClient.connect(port);
  const chunk = Math.min(size, 500);
  try {
    let batch = [];
    for (let k = 0; k < keys; k++) {
      const key = `${prefix}:${String(k).padStart(8, '0')}`;
      for (let from = 0; from < size; from += chunk) {
        const args = [t.cmd, key];
        for (let i = from; i < Math.min(size, from + chunk); i++) args.push(...t.args(i));
        batch.push(args);
        if (batch.length >= 256) {
          await client.pipeline(batch);
          batch = [];
        }
      }
    }
    if (batch.length) await client.pipeline(batch);
  } finally {
    client.close();
  }
}

/** One case on one fresh server: RSS added per element, and the encoding it got. */
async function measure(server, t, shape) {
  await sleep(300);
  const before = rssBytes(server.pid);
  await load(server.port, t, t.type, shape.keys, shape.size);
  await sleep(1000);
  const after = rssBytes(server.pid);
  const encoding = await oneCommand(server.port, 'OBJECT', 'ENCODING', `${t.type}:00000000`);
  const elements = shape.keys * shape.size;
  return { rssDeltaBytes: after - before, bytesPerElement: round((after - before) / elements, 1), encoding };
}

export async function collectionsSection(ctx) {
  const { opts, log } = ctx;
  const scale = opts.quick ? 0.1 : 1;
  const shapes = {
    small: { keys: Math.round(100000 * scale), size: 16 },
    big: { keys: 4, size: Math.round(250000 * scale) },
  };
  const cases = [];
  for (const t of TYPES) {
    for (const [shape, dims] of Object.entries(shapes)) {
      const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads })];
      let result;
      try {
        result = await withServers(starters, async (redis, shrike) => ({
          redis: await measure(redis, t, dims),
          shrike: await measure(shrike, t, dims),
        }));
      } catch (err) {
        // One type failing (not implemented, say) should not hide the others' numbers.
        log(`[collections] ${t.type} ${shape} FAILED: ${err.message}`);
        cases.push({ id: `${t.type} ${shape}`, error: String(err.message) });
        continue;
      }
      const expect = t[shape];
      const r = ratio(result.shrike.rssDeltaBytes, result.redis.rssDeltaBytes);
      const c = {
        id: `${t.type} ${shape}`,
        keys: dims.keys,
        elementsPerKey: dims.size,
        expectedEncoding: expect,
        redis: result.redis,
        shrike: result.shrike,
        ratio: round(r, 3),
      };
      for (const side of ['redis', 'shrike']) {
        if (c[side].encoding !== expect) c.encodingMismatch = `${side} has ${c[side].encoding}, not ${expect}`;
      }
      log(
        `[collections] ${c.id.padEnd(13)} redis ${c.redis.bytesPerElement} B/elem (${c.redis.encoding}), shrike ${c.shrike.bytesPerElement} B/elem (${c.shrike.encoding}) = ${c.ratio}x`,
      );
      cases.push(c);
    }
  }
  return { cases };
}
