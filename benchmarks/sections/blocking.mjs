/**
 * Section: BLPOP/LPUSH ping-pong between two clients. A pushes to B's key and blocks on its
 * own; B, served, pushes to A's key and blocks again; one round trip is A's LPUSH + BLPOP
 * from send to A's served reply (two wake-ups of a blocked client). On Shrike
 * (--threads 2) the two clients sit on different workers, so every serve crosses workers
 * through the mailbox; Redis has one thread. Rounds alternate Redis, Shrike; reported: the
 * round trip's p50 and p99 per server (median over the rounds) and their ratios.
 */

import { encodeCommand, RespClient } from '../lib/respclient.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { median, ratio, round } from '../lib/stats.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();

/** Send the commands of `list` in one write; one promise per reply. */
function send(client, list) {
  const replies = list.map(() => new Promise((resolve, reject) => client.pending.push({ resolve, reject })));
  client.socket.write(list.map((args) => encodeCommand(args)).join(''));
  return replies;
}

/** Connected clients per worker of a Shrike (INFO threads). */
async function perWorker(admin) {
  const text = await admin.command('INFO', 'threads');
  return [...text.matchAll(/connected_clients=(\d+)/g)].map((m) => Number(m[1]));
}

/** A connection on worker `w` of Shrike, told by which worker's client count grew. */
async function clientOn(port, admin, w) {
  const spare = [];
  try {
    for (let i = 0; i < 40; i++) {
      const before = await perWorker(admin);
      const c = await RespClient.connect(port);
      await c.command('PING');
      const after = await perWorker(admin);
      if ((after[w] ?? 0) > (before[w] ?? 0)) return c;
      spare.push(c);
    }
    throw new Error(`no connection landed on worker ${w}`);
  } finally {
    for (const c of spare) c.close();
  }
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** `n` round trips (after `warmup`) between clients `a` and `b`; latencies in µs. */
async function pingPong(a, b, n, warmup) {
  await a.command('DEL', 'pp:a', 'pp:b');
  let running = true;
  // B: blocked on pp:b; each time it is served it pushes to pp:a and blocks again.
  const bLoop = (async () => {
    let [next] = send(b, [['BLPOP', 'pp:b', '0']]);
    for (;;) {
      await next;
      if (!running) return;
      [, next] = send(b, [
        ['LPUSH', 'pp:a', 'v'],
        ['BLPOP', 'pp:b', '0'],
      ]);
    }
  })();
  await sleep(50);
  const rtts = [];
  for (let i = 0; i < warmup + n; i++) {
    const t0 = nowNs();
    await Promise.all(
      send(a, [
        ['LPUSH', 'pp:b', 'v'],
        ['BLPOP', 'pp:a', '0'],
      ]),
    );
    if (i >= warmup) rtts.push(Number(nowNs() - t0) / 1000);
  }
  running = false;
  await a.command('LPUSH', 'pp:b', 'stop');
  await bLoop;
  rtts.sort((x, y) => x - y);
  return { n: rtts.length, p50Us: pct(rtts, 50), p99Us: pct(rtts, 99), maxUs: rtts[rtts.length - 1] };
}

export async function blockingSection(ctx) {
  const { opts, log } = ctx;
  const n = opts.quick ? 2000 : 20000;
  const warmup = opts.quick ? 200 : 2000;
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: 2 })];
  return withServers(starters, async (redis, shrike) => {
    const admin = await RespClient.connect(shrike.port);
    const pairs = {
      redis: [await RespClient.connect(redis.port), await RespClient.connect(redis.port)],
      shrike: [await clientOn(shrike.port, admin, 0), await clientOn(shrike.port, admin, 1)],
    };
    admin.close();
    const runs = { redis: [], shrike: [] };
    try {
      for (let r = 0; r < opts.rounds; r++) {
        for (const side of ['redis', 'shrike']) {
          const [a, b] = pairs[side];
          const res = await pingPong(a, b, n, warmup);
          runs[side].push(res);
          log(
            `[blocking] round ${r + 1} ${side}: p50 ${round(res.p50Us, 1)} µs, p99 ${round(res.p99Us, 1)} µs, max ${round(res.maxUs, 1)} µs`,
          );
        }
      }
    } finally {
      for (const c of [...pairs.redis, ...pairs.shrike]) c.close();
    }
    const med = (side, f) => median(runs[side].map((x) => x[f]));
    const result = {
      roundTrips: n,
      rounds: opts.rounds,
      shrikeThreads: 2,
      median: {
        redis: { p50Us: med('redis', 'p50Us'), p99Us: med('redis', 'p99Us') },
        shrike: { p50Us: med('shrike', 'p50Us'), p99Us: med('shrike', 'p99Us') },
      },
      runs,
    };
    result.ratio = {
      p50: ratio(result.median.shrike.p50Us, result.median.redis.p50Us),
      p99: ratio(result.median.shrike.p99Us, result.median.redis.p99Us),
    };
    return result;
  });
}
