/**
 * Test harness: start a real Shrike (or redis-server) process on a free port, talk to it with
 * raw sockets, and stop it. Used by every integration and differential test.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import t from 'tap';

const ROOT = join(__dirname, '..', '..', '..');
export const SHRIKE_BIN = join(ROOT, 'packages', 'server', 'bin', 'shrike-server.js');

/** A process's resident set in MiB, from /proc (memory checks in tests). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** A process's minor page faults so far (all its threads), from /proc/<pid>/stat. */
export function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name, which may hold spaces: state is field 3, minflt field 10.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[10 - 3]);
}

/** A free TCP port on loopback (bound then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const addr = s.address();
  s.close();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** A running server process. */
export interface Running {
  readonly port: number;
  readonly proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** Wait until the server on `port` answers PING (or NOAUTH); throws if `proc` exits first. */
export async function waitForPing(port: number, proc: ChildProcess, out: () => string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited early (${proc.exitCode}): ${out()}`);
    try {
      const reply = await rawOnce(port, Buffer.from('*1\r\n$4\r\nPING\r\n'), 7);
      const text = reply.toString();
      if (text === '+PONG\r\n' || text.startsWith('-NOAUTH')) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not answer PING on ${port}: ${out()}`);
}

function track(proc: ChildProcess): () => string {
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    buf += d.toString();
  });
  return () => buf;
}

function running(port: number, proc: ChildProcess, out: () => string): Running {
  return {
    port,
    proc,
    output: out,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = (await once(proc, 'exit')) as [number | null];
      return code;
    },
  };
}

/**
 * Start Shrike with extra flags (e.g. ['--threads', '2']) on a free port, after an optional
 * config file; `env` adds to the inherited environment (test-only knobs), `nodeArgs` go to
 * node itself (V8 flags).
 */
export async function startShrike(
  args: readonly string[] = [],
  configFile?: string,
  env: Readonly<Record<string, string>> = {},
  nodeArgs: readonly string[] = [],
): Promise<Running> {
  const port = await freePort();
  const file = configFile === undefined ? [] : [configFile];
  const proc = spawn(process.execPath, [...nodeArgs, SHRIKE_BIN, ...file, '--port', String(port), '--loglevel', 'warning', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const out = track(proc);
  await waitForPing(port, proc, out);
  return running(port, proc, out);
}

/** The script that builds (once per machine) and prints the reference redis-server 7.2.6. */
const REDIS_REF_BUILD = join(ROOT, '..', 'shared', 'redis-ref', 'build.sh');

let redisServer: string | undefined;

/**
 * The reference redis-server: $SHRIKE_REDIS_SERVER when set (.ci/run sets it), else the 7.2.6
 * that ../shared/redis-ref/build.sh builds and prints, else `redis-server` on PATH (Debian's
 * 7.0) where ../shared is absent. Shrike follows 7.2, so a 7.0 reference reports 7.0-vs-7.2
 * differences as Shrike's.
 */
export function redisServerPath(): string {
  if (redisServer !== undefined) return redisServer;
  redisServer = process.env.SHRIKE_REDIS_SERVER || 'redis-server';
  if (!process.env.SHRIKE_REDIS_SERVER && existsSync(REDIS_REF_BUILD)) {
    const built = spawnSync(REDIS_REF_BUILD, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const path = built.stdout?.trim() ?? '';
    if (built.status === 0 && path !== '') redisServer = path;
  }
  return redisServer;
}

/** A tool that ships beside the reference redis-server (`redis-cli`, `redis-benchmark`), or the one on PATH. */
export function redisToolPath(tool: 'redis-cli' | 'redis-benchmark'): string {
  const server = redisServerPath();
  if (server === 'redis-server') return tool;
  const beside = join(dirname(server), tool);
  return existsSync(beside) ? beside : tool;
}

/** True when a real redis-server is installed (differential tests need it). */
export function haveRedis(): boolean {
  return spawnSync(redisServerPath(), ['--version']).status === 0;
}

/** Start a real redis-server with persistence off on a free port. */
export async function startRedis(args: readonly string[] = []): Promise<Running> {
  const port = await freePort();
  const proc = spawn(redisServerPath(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = track(proc);
  await waitForPing(port, proc, out);
  return running(port, proc, out);
}

/** Encode a command as a RESP multibulk request. */
export function cmd(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Open a connection, send `data`, collect until `minBytes` arrived or the peer closed or timeout. */
export async function rawOnce(port: number, data: Buffer, minBytes: number, timeoutMs = 2000): Promise<Buffer> {
  const c = new RawClient(await RawClient.connect(port));
  try {
    c.send(data);
    return await c.read(minBytes, timeoutMs);
  } finally {
    c.close();
  }
}

/** A raw socket client that collects reply bytes. */
export class RawClient {
  private buf = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  /** Connect to 127.0.0.1:port. */
  static async connect(port: number): Promise<Socket> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return s;
  }

  /** Open a client on `port`. */
  static async open(port: number): Promise<RawClient> {
    return new RawClient(await RawClient.connect(port));
  }

  send(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** Wait until at least `n` bytes are buffered (or close/timeout), then take everything. */
  async read(n: number, timeoutMs = 2000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        // A pending timer would keep the test process alive long after the reply came.
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  /** Send one command and read replies until `expected` bytes arrived. */
  async call(data: Buffer | string, expected: number, timeoutMs = 2000): Promise<string> {
    this.send(data);
    return (await this.read(expected, timeoutMs)).toString('latin1');
  }

  /** Wait for the peer to close. */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Start the server under test: Shrike with `shrikeArgs`, or, when SHRIKE_TEST_AGAINST=redis,
 * a real redis-server with `redisArgs` (to prove a test itself against the reference).
 */
export async function startUnderTest(shrikeArgs: readonly string[] = [], redisArgs: readonly string[] = []): Promise<Running> {
  return process.env.SHRIKE_TEST_AGAINST === 'redis' ? startRedis(redisArgs) : startShrike(shrikeArgs);
}

/**
 * One server under test for a whole test file (startUnderTest with `shrikeArgs`): started
 * before the file's first test, stopped after its last. Returns the running server.
 */
export function serverPerFile(shrikeArgs: readonly string[]): () => Running {
  let server: Running | undefined;
  t.before(async () => {
    server = await startUnderTest(shrikeArgs);
  });
  t.teardown(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('server not started');
    return server;
  };
}

/** A reference redis-server and the server under test, shared by a test file (see pairPerFile). */
export interface ServerPair {
  /** [reference port, port of the server under test]. */
  ports(): [number, number];
  /** Start the server under test again if it died (so that a search can go on). */
  revive(): Promise<void>;
}

/**
 * A reference redis-server and the server under test (startUnderTest) for a whole test file,
 * as differential tests compare them: started before the file's first test, stopped after its last.
 */
export function pairPerFile(): ServerPair {
  let ref: Running | undefined;
  let sut: Running | undefined;
  t.before(async () => {
    [ref, sut] = await Promise.all([startRedis(), startUnderTest()]);
  });
  t.teardown(async () => {
    await Promise.all([ref?.stop(), sut?.stop()]);
  });
  return {
    ports() {
      if (ref === undefined || sut === undefined) throw new Error('servers not started');
      return [ref.port, sut.port];
    },
    async revive() {
      if (sut !== undefined && sut.proc.exitCode !== null) sut = await startUnderTest();
    },
  };
}

/** Send `request` and read one whole reply (simple, error, integer, bulk, verbatim, or an array or map of those). */
export async function readReply(c: RawClient, request: Buffer): Promise<string> {
  c.send(request);
  let got = '';
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !c.closed) {
    got += (await c.read(1, deadline - Date.now())).toString('latin1');
    if (replyComplete(got)) return got;
  }
  return got;
}

/** True when `s` holds exactly one whole reply (arrays and maps of simple, integer and bulk items). */
function replyComplete(s: string): boolean {
  let pos = 0;
  const one = (): boolean => {
    const eol = s.indexOf('\r\n', pos);
    if (eol < 0) return false;
    const head = s.slice(pos, eol);
    pos = eol + 2;
    if (head[0] === '$' || head[0] === '=') {
      const n = Number(head.slice(1));
      if (n < 0) return true;
      if (s.length < pos + n + 2) return false;
      pos += n + 2;
      return true;
    }
    if (head[0] === '*' || head[0] === '%') {
      const n = Number(head.slice(1)) * (head[0] === '%' ? 2 : 1);
      for (let i = 0; i < n; i++) if (!one()) return false;
    }
    return true;
  };
  return one() && pos === s.length;
}

/**
 * Open clients until one sits on each of a 2-thread server's workers (INFO threads counts
 * each worker's clients); returns [client on worker 0, client on worker 1].
 */
export async function clientsOnBothWorkers(port: number): Promise<RawClient[]> {
  const probe = await RawClient.open(port);
  const perWorker = async (): Promise<number[]> => {
    const info = await readReply(probe, cmd('INFO', 'threads'));
    return [...info.matchAll(/connected_clients=(\d+)/g)].map((m) => Number(m[1]));
  };
  const found: (RawClient | undefined)[] = [undefined, undefined];
  const spare: RawClient[] = [];
  for (let i = 0; i < 40 && (found[0] === undefined || found[1] === undefined); i++) {
    const before = await perWorker();
    const c = await RawClient.open(port);
    await readReply(c, cmd('PING'));
    const after = await perWorker();
    const w = after.findIndex((n, j) => n > (before[j] ?? 0));
    if (w >= 0 && found[w] === undefined) found[w] = c;
    else spare.push(c);
  }
  for (const c of spare) c.close();
  probe.close();
  if (found[0] === undefined || found[1] === undefined) throw new Error('no client landed on both workers');
  return [found[0], found[1]];
}
