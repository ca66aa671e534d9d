/**
 * Section: PUBLISH fan-out (issue 10 §6). One publisher, 50 subscribers of one channel
 * (on Shrike the kernel spreads their connections over the workers; INFO threads shows how),
 * 100-byte messages. Reported: messages delivered per second (publishes x receivers that
 * arrived, over the measured time), and server CPU per delivered message.
 *
 * The subscribers live in a worker thread of this process and only count bytes (every
 * message has the same size), so the client costs little per message. The publisher pipelines
 * PUBLISH in batches and keeps at most WINDOW messages per subscriber undelivered, so neither
 * server is pushed into its client-output-buffer-limit: what is measured is the rate both
 * sustain, not how much they buffer.
 */

import net from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { clockTicks, cpuTicks } from '../lib/procstat.mjs';
import { encodeCommand, RespClient } from '../lib/respclient.mjs';
import { startRedis, startShrike, withServers } from '../lib/servers.mjs';
import { median, ratio, round } from '../lib/stats.mjs';

const SUBSCRIBERS = 50;
const PAYLOAD = 100;
const CHANNEL = 'bench:fanout';
/** PUBLISHes per pipelined write. */
const BATCH = 64;
/** Pipelined batches the publisher may have unanswered. */
const INFLIGHT = 8;
/** Messages per subscriber that may be in flight (published, not yet received). */
const WINDOW = 2048;

/** Bytes of one delivered message: `*3 $7 message $<n> <channel> $100 <payload>`. */
const MESSAGE_BYTES = Buffer.byteLength(
  `*3\r\n$7\r\nmessage\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n$${PAYLOAD}\r\n${'x'.repeat(PAYLOAD)}\r\n`,
);
/** Bytes of the SUBSCRIBE confirmation each subscriber reads first. */
const CONFIRM_BYTES = Buffer.byteLength(`*3\r\n$9\r\nsubscribe\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n:1\r\n`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Worker thread: open the subscribers, then count the bytes they receive into shared[0]. */
async function subscriberThread({ port, shared }) {
  const counts = new BigInt64Array(shared);
  const sockets = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    await new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    let confirmed = false;
    let pending = 0;
    s.on('data', (chunk) => {
      if (!confirmed) {
        pending += chunk.length;
        if (pending < CONFIRM_BYTES) return;
        confirmed = true;
        Atomics.add(counts, 1, 1n);
        Atomics.add(counts, 0, BigInt(pending - CONFIRM_BYTES));
        return;
      }
      Atomics.add(counts, 0, BigInt(chunk.length));
    });
    s.on('error', () => {});
    s.write(encodeCommand(['SUBSCRIBE', CHANNEL]));
    sockets.push(s);
  }
  parentPort.on('message', (m) => {
    if (m === 'close') {
      for (const s of sockets) s.destroy();
      parentPort.close();
    }
  });
}

/** Shrike's connected_clients per worker, from INFO threads (empty for Redis). */
async function perWorker(client) {
  const text = String(await client.command('INFO', 'threads'));
  return [...text.matchAll(/connected_clients=(\d+)/g)].map((m) => Number(m[1]));
}

/** One measured run against `server`: delivered messages per second and CPU per message. */
export async function measureOne(server, seconds) {
  const shared = new SharedArrayBuffer(16);
  const counts = new BigInt64Array(shared);
  const worker = new Worker(new URL(import.meta.url), { workerData: { port: server.port, shared } });
  const pub = await RespClient.connect(server.port);
  try {
    const deadline = Date.now() + 10000;
    while (Atomics.load(counts, 1) < BigInt(SUBSCRIBERS)) {
      if (Date.now() > deadline) throw new Error('subscribers did not all subscribe');
      await sleep(10);
    }
    const spread = await perWorker(pub);
    const payload = 'x'.repeat(PAYLOAD);
    const batch = encodeCommand(['PUBLISH', CHANNEL, payload]).repeat(BATCH);
    const delivered = () => Number(Atomics.load(counts, 0)) / MESSAGE_BYTES;
    let published = 0;
    let receivers = 0;
    /**
     * Publish for `ms` with up to INFLIGHT batches unanswered and the delivery window kept;
     * returns once every PUBLISH sent has been answered.
     */
    const run = async (ms) => {
      const end = Date.now() + ms;
      const inflight = new Set();
      while (Date.now() < end) {
        while (inflight.size >= INFLIGHT || (published - WINDOW) * SUBSCRIBERS > delivered()) {
          if (inflight.size > 0) await Promise.race(inflight);
          else await new Promise((r) => setImmediate(r));
        }
        const replies = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) replies[i] = new Promise((resolve, reject) => pub.pending.push({ resolve, reject }));
        pub.socket.write(batch);
        published += BATCH;
        const done = Promise.all(replies).then((ns) => {
          for (const n of ns) receivers += n;
          inflight.delete(done);
        });
        inflight.add(done);
      }
      await Promise.all(inflight);
    };
    await run(300);
    const d0 = delivered();
    const cpu0 = cpuTicks(server.pid);
    const t0 = process.hrtime.bigint();
    await run(seconds * 1000);
    // Let what is in flight land: it was published inside the measured time.
    const target = published * SUBSCRIBERS;
    const settle = Date.now() + 5000;
    while (delivered() < target && Date.now() < settle) await sleep(1);
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu1 = cpuTicks(server.pid);
    const got = delivered() - d0;
    if (receivers !== published * SUBSCRIBERS) throw new Error(`PUBLISH counted ${receivers} receivers for ${published} publishes`);
    return {
      deliveredPerSec: got / elapsedS,
      cpuUsPerMessage: ((cpu1 - cpu0) * 1e6) / clockTicks() / got,
      published,
      spread,
    };
  } finally {
    pub.close();
    worker.postMessage('close');
    await worker.terminate();
  }
}

export async function pubsubSection(ctx) {
  const { opts, log } = ctx;
  const seconds = opts.quick ? 0.5 : 3;
  const rounds = { redis: [], shrike: [] };
  const starters = [() => startRedis({ redisServer: opts.redisServer }), () => startShrike({ threads: opts.threads ?? 2 })];
  await withServers(starters, async (redis, shrike) => {
    for (let r = 0; r < opts.rounds; r++) {
      for (const [name, server] of [
        ['redis', redis],
        ['shrike', shrike],
      ]) {
        const m = await measureOne(server, seconds);
        rounds[name].push(m);
        log(
          `[pubsub] round ${r + 1} ${name.padEnd(6)} ${round(m.deliveredPerSec / 1e6, 3)} M msg/s delivered` +
            `${m.cpuUsPerMessage === null ? '' : `, ${round(m.cpuUsPerMessage, 3)} us CPU/msg`}` +
            `${m.spread.length ? `, subscribers per worker ${m.spread.join('/')}` : ''}`,
        );
      }
    }
  });
  const med = (name, key) => median(rounds[name].map((m) => m[key]).filter((v) => v !== null));
  const result = {
    subscribers: SUBSCRIBERS,
    payloadBytes: PAYLOAD,
    seconds,
    redis: { deliveredPerSec: med('redis', 'deliveredPerSec'), cpuUsPerMessage: med('redis', 'cpuUsPerMessage') },
    shrike: { deliveredPerSec: med('shrike', 'deliveredPerSec'), cpuUsPerMessage: med('shrike', 'cpuUsPerMessage') },
    rounds,
  };
  result.ratio = ratio(result.shrike.deliveredPerSec, result.redis.deliveredPerSec);
  return result;
}

if (!isMainThread && workerData?.shared) {
  subscriberThread(workerData).catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
