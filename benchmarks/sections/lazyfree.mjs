/**
 * Section: does freeing a big value stall other clients? For each type, a key of a million
 * elements is built on fresh servers; then, while a second connection sends PINGs back to
 * back (from a process of its own, lib/prober.mjs), the first deletes the key (DEL) or
 * overwrites it with a string (SET). Reported: the PING latencies (max, p99) while the
 * DEL/SET was in flight, and the DEL/SET's own latency.
 * Redis runs with its defaults (lazyfree-lazy-user-del no, lazyfree-lazy-server-del no), so
 * it frees inline; Shrike hands big values to its freeing thread (lazyfree.rs). Shrike runs
 * one worker thread, so the PINGs share the thread that runs the DEL: the worst case.
 */

import { monotonicUs, startProber } from '../lib/prober.mjs';
import { RespClient } from '../lib/respclient.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { round } from '../lib/stats.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const member = (i) => `m${String(i).padStart(7, '0')}`;
const TYPES = [
  { type: 'list', cmd: 'RPUSH', len: 'LLEN', args: (i) => [member(i)] },
  { type: 'hash', cmd: 'HSET', len: 'HLEN', args: (i) => [member(i), member(i)] },
  { type: 'set', cmd: 'SADD', len: 'SCARD', args: (i) => [member(i)] },
  { type: 'zset', cmd: 'ZADD', len: 'ZCARD', args: (i) => [String(i), member(i)] },
];
const OPS = [
  { op: 'del', args: (key) => ['DEL', key] },
  { op: 'set', args: (key) => ['SET', key, 'x'] },
];

/** Build `key` with `size` elements, 500 per command, 64 commands per pipeline. */
async function build(client, t, key, size) {
  let batch = [];
  for (let from = 0; from < size; from += 500) {
    const args = [t.cmd, key];
    for (let i = from; i < Math.min(size, from + 500); i++) args.push(...t.args(i));
    batch.push(args);
    if (batch.length >= 64) {
      await client.pipeline(batch);
      batch = [];
    }
  }
  if (batch.length) await client.pipeline(batch);
}

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * One DEL/SET of the big key with a PING prober running: the probes that overlap the
 * command's flight, from 20 ms before it is sent to 20 ms after its reply.
 */
async function measureOne(port, t, o, size) {
  const writer = await RespClient.connect(port);
  try {
    const key = `big:${t.type}`;
    await build(writer, t, key, size);
    const elements = await writer.command(t.len, key);
    await sleep(300);
    // The prober runs in a process of its own: in this one, the heap that just built the
    // million-element commands pauses now and then, and a pause is not the server's.
    // It warms up first: a new process's first few hundred milliseconds (JIT, heap growth)
    // have pauses of their own.
    const prober = await startProber(port);
    await sleep(1000);
    const sentUs = monotonicUs();
    await writer.command(...o.args(key));
    const doneUs = monotonicUs();
    await sleep(100);
    const probes = await prober.stop();
    const window = probes.filter(([s, e]) => e >= sentUs - 20000 && s <= doneUs + 20000).map(([s, e]) => e - s);
    const all = probes.map(([s, e]) => e - s).sort((a, b) => a - b);
    window.sort((a, b) => a - b);
    return {
      elements,
      cmdUs: doneUs - sentUs,
      probes: window.length,
      maxUs: window.length ? window[window.length - 1] : null,
      p99Us: pct(window, 99),
      baselineP99Us: pct(all, 99),
    };
  } finally {
    writer.close();
  }
}

export async function lazyfreeSection(ctx) {
  const { opts, log } = ctx;
  const size = opts.quick ? 100000 : 1000000;
  const cases = [];
  for (const t of TYPES) {
    for (const o of OPS) {
      const id = `${t.type} ${o.op}`;
      const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: 1 })];
      try {
        const r = await withServers(starters, async (redis, shrike) => ({
          redis: await measureOne(redis.port, t, o, size),
          shrike: await measureOne(shrike.port, t, o, size),
        }));
        const c = { id, elements: size, redis: r.redis, shrike: r.shrike };
        log(
          `[lazyfree] ${id.padEnd(9)} redis ${o.op} ${round(c.redis.cmdUs / 1000, 2)} ms, ping max ${round(c.redis.maxUs / 1000, 2)} ms | shrike ${o.op} ${round(c.shrike.cmdUs / 1000, 2)} ms, ping max ${round(c.shrike.maxUs / 1000, 2)} ms p99 ${round(c.shrike.p99Us / 1000, 2)} ms`,
        );
        cases.push(c);
      } catch (err) {
        log(`[lazyfree] ${id} FAILED: ${err.message}`);
        cases.push({ id, error: String(err.message) });
      }
    }
  }
  return { elements: size, cases };
}
