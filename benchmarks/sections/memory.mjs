/** Section 3: resident memory with 1 M small keys, on freshly started servers. */

import { loadKeys } from '../lib/loader.mjs';
import { rssBytes } from '../lib/procstat.mjs';
import { info, oneCommand } from '../lib/respclient.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { ratio, round } from '../lib/stats.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => (b / 1048576).toFixed(1);

async function snapshot(server) {
  const mem = await info(server.port, 'memory');
  return { rssBytes: rssBytes(server.pid), usedMemory: mem.used_memory ?? null };
}

export async function memorySection(ctx) {
  const { opts, log } = ctx;
  const keys = opts.memoryKeys;
  log(`[memory] starting fresh redis-server and shrike (--threads ${opts.threads ?? 'default'})`);
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads })];
  return withServers(starters, async (redis, shrike) => {
    const out = { keys, keyBytes: 16, valueBytes: 32 };
    for (const [key, server] of [
      ['redis', redis],
      ['shrike', shrike],
    ]) {
      const empty = await snapshot(server);
      const load = await loadKeys(server.port, { count: keys, valueSize: 32 });
      // Give background work (Redis's incremental rehash, Shrike's workers) a moment to settle.
      await sleep(1000);
      const dbsize = await oneCommand(server.port, 'DBSIZE');
      if (dbsize !== keys) throw new Error(`${server.name}: DBSIZE ${dbsize} after loading ${keys} keys`);
      const loaded = await snapshot(server);
      out[key] = {
        empty,
        loaded,
        dbsize,
        rssDeltaBytes: loaded.rssBytes - empty.rssBytes,
        rssBytesPerKey: round((loaded.rssBytes - empty.rssBytes) / keys, 1),
        loadSeconds: round(load.seconds, 3),
        loadKeysPerSecond: Math.round(load.keysPerSecond),
      };
      log(
        `[memory] ${key.padEnd(6)} loaded ${keys.toLocaleString('en-US')} keys in ${load.seconds.toFixed(1)} s; RSS ${mib(empty.rssBytes)} -> ${mib(loaded.rssBytes)} MiB, used_memory ${mib(loaded.usedMemory ?? 0)} MiB`,
      );
    }
    out.ratio = {
      rss: round(ratio(out.shrike.loaded.rssBytes, out.redis.loaded.rssBytes), 4),
      usedMemory: round(ratio(out.shrike.loaded.usedMemory, out.redis.loaded.usedMemory), 4),
      rssDelta: round(ratio(out.shrike.rssDeltaBytes, out.redis.rssDeltaBytes), 4),
    };
    return out;
  });
}
