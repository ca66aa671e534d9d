/**
 * Differential test: the request cases and mutated pipelines go to a real
 * redis-server (two of them, one with requirepass for the unauthenticated limits)
 * over a Unix socket, and Redis must agree with RequestParser: one reply per parsed
 * request, ECHO and PING echoing exactly the bytes we parsed, then the same
 * protocol error and a closed connection, or no error. Skipped without redis-server.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Decoder } from './decoder';
import { RequestParser } from './request';
import { b, CASES, mutatedPipeline, type Outcome, run } from './request-cases.test-helper';
import type { RespValue } from './types';
import { Rng, show } from './values.test-helper';

/**
 * The reference redis-server 7.2.6: $SHRIKE_REDIS_SERVER, else what ../shared/redis-ref/build.sh
 * builds and prints, else `redis-server` on PATH (see packages/server/test/harness.ts).
 */
function redisServerPath(): string {
  if (process.env.SHRIKE_REDIS_SERVER) return process.env.SHRIKE_REDIS_SERVER;
  const script = join(__dirname, '..', '..', '..', '..', 'shared', 'redis-ref', 'build.sh');
  if (!existsSync(script)) return 'redis-server';
  const built = spawnSync(script, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return built.status === 0 && built.stdout.trim() !== '' ? built.stdout.trim() : 'redis-server';
}

const REDIS_SERVER = redisServerPath();
const version = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
const redisVersion = /v=(\S+)/.exec(version.stdout ?? '')?.[1];

/** What Redis did with one input: the replies, and whether it closed the connection. */
interface RedisOutcome {
  replies: RespValue[];
  closed: boolean;
}

/** Start redis-server on a Unix socket (no TCP port) in dir; resolves once it accepts. */
async function startRedis(dir: string, name: string, extra: string[]): Promise<{ child: ChildProcess; socket: string }> {
  const socket = join(dir, `${name}.sock`);
  const child = spawn(REDIS_SERVER, ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(socket, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return { child, socket };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill();
  throw new Error(`redis-server did not start on ${socket}`);
}

/**
 * Send input on a fresh connection; collect replies until Redis closes, or until
 * `expected` replies have come and a short grace period has passed.
 */
function ask(socket: string, input: Buffer, expected: number, waitForClose: boolean): Promise<RedisOutcome> {
  return new Promise((resolve) => {
    const decoder = new Decoder();
    const replies: RespValue[] = [];
    const s = connect(socket);
    let grace: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      clearTimeout(limit);
      clearTimeout(grace);
      s.destroy();
      resolve({ replies, closed });
    };
    const limit = setTimeout(() => finish(false), 3000);
    s.on('data', (chunk) => {
      replies.push(...decoder.feed(chunk));
      if (!waitForClose && replies.length >= expected && grace === undefined) grace = setTimeout(() => finish(false), 40);
    });
    s.on('close', () => finish(true));
    s.on('error', () => undefined);
    s.write(input);
    if (!waitForClose && expected === 0) grace = setTimeout(() => finish(false), 40);
  });
}

/** Where Redis and our outcome differ, or undefined; an unauthenticated client gets NOAUTH, not echoes. */
function compare(ours: Outcome, redis: RedisOutcome, auth: boolean): string | undefined {
  const expectedReplies = ours.requests.length + (ours.error === undefined ? 0 : 1);
  if (redis.replies.length !== expectedReplies) return `${redis.replies.length} replies, expected ${expectedReplies}`;
  for (const [i, argv] of ours.requests.entries()) {
    const reply = redis.replies[i];
    const name = argv[0]?.toLowerCase();
    const echoed = name === 'echo' && argv.length === 2 ? argv[1] : name === 'ping' && argv.length === 2 ? argv[1] : undefined;
    if (!auth && echoed !== undefined && !(reply?.type === 'bulk' && reply.value.toString('latin1') === echoed)) {
      return `reply ${i} to ${JSON.stringify(argv)} is ${reply === undefined ? 'missing' : show(reply)}`;
    }
  }
  if (ours.error !== undefined) {
    const last = redis.replies[redis.replies.length - 1];
    if (!(last?.type === 'error' && last.value === ours.error)) {
      return `error ${last === undefined ? 'missing' : show(last)}, expected ${ours.error}`;
    }
    if (!redis.closed) return 'Redis kept the connection open after the error';
  } else if (redis.closed) {
    return 'Redis closed the connection';
  }
  return undefined;
}

/** Run jobs with at most `width` in flight. */
async function pool<T>(items: T[], width: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await job(item);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

t.test('RequestParser agrees with redis-server', { skip: redisVersion === undefined ? 'redis-server not found' : false }, async (t) => {
  t.comment(`redis-server ${redisVersion}`);
  const dir = mkdtempSync(join(tmpdir(), 'resp3-redis-'));
  const open = await startRedis(dir, 'open', []);
  const locked = await startRedis(dir, 'locked', ['--requirepass', 'secret']);
  t.teardown(() => {
    open.child.kill();
    locked.child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const inputs: Array<{ name: string; input: Buffer; auth: boolean }> = [];
  // Cases with custom limits cannot be compared; Redis has the defaults.
  for (const c of CASES) if (c.limits === undefined) inputs.push({ name: c.name, input: b(c.input), auth: c.auth === true });
  const rng = new Rng(77);
  for (let i = 0; i < 400; i++) inputs.push({ name: `mutated pipeline ${i}`, input: mutatedPipeline(rng), auth: i % 4 === 0 });

  const failures: string[] = [];
  await pool(inputs, 8, async ({ name, input, auth }) => {
    const parser = new RequestParser();
    parser.authRequired = auth;
    const ours = run(parser, [input]);
    const expected = ours.requests.length + (ours.error === undefined ? 0 : 1);
    const redis = await ask(auth ? locked.socket : open.socket, input, expected, ours.error !== undefined);
    const diff = compare(ours, redis, auth);
    if (diff !== undefined) failures.push(`${name} ${JSON.stringify(input.toString('latin1'))}: ${diff}`);
  });
  t.same(failures, [], `${inputs.length} inputs, the same outcome as redis-server`);
});
