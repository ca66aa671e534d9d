/**
 * Client-side caching across workers: with the server on 2 threads, the tracking client and
 * the writer sit on different workers (placed by watching INFO threads), and every scenario
 * runs against a real redis-server too: what each client receives, replies and invalidation
 * pushes, must be the same bytes. Both transports (io_uring, Node sockets).
 */
import t from 'tap';
import { replyEnd } from './diff/runner';
import { cmd, haveRedis, RawClient, type Running, startRedis, startShrike } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client that reads whole RESP frames. */
class Peer {
  private buf = Buffer.alloc(0);
  constructor(readonly raw: RawClient) {}

  /** The next `n` whole frames (fewer if they do not come within `timeoutMs`). */
  async frames(n: number, timeoutMs = 3000): Promise<string[]> {
    const out: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < n) {
      const end = replyEnd(this.buf, 0);
      if (end > 0) {
        out.push(this.buf.toString('latin1', 0, end));
        this.buf = this.buf.subarray(end);
        continue;
      }
      if (Date.now() >= deadline || this.raw.closed) break;
      this.buf = Buffer.concat([this.buf, await this.raw.read(1, Math.max(1, deadline - Date.now()))]);
    }
    return out;
  }

  /** One command's reply. */
  async call(...args: string[]): Promise<string> {
    this.raw.send(cmd(...args));
    return (await this.frames(1))[0] ?? '(no reply)';
  }

  /** Whatever arrives within `ms` (what must not be sent shows up here). */
  async quiet(ms = 250): Promise<string> {
    await sleep(ms);
    const more = await this.raw.read(0, 1);
    const all = Buffer.concat([this.buf, more]).toString('latin1');
    this.buf = Buffer.alloc(0);
    return all;
  }

  close(): void {
    this.raw.close();
  }
}

/** Connected clients per worker, from INFO threads. */
async function perWorker(admin: Peer): Promise<number[]> {
  const info = await admin.call('INFO', 'threads');
  return [...info.matchAll(/connected_clients=(\d+)/g)].map((m) => Number(m[1]));
}

/** Opens clients; on Shrike each lands on the worker asked for (the kernel picks, this retries). */
class Clients {
  private readonly all: Peer[] = [];
  private constructor(
    private readonly port: number,
    private readonly admin: Peer | undefined,
  ) {}

  static async open(s: Running, shrike: boolean): Promise<Clients> {
    const admin = shrike ? new Peer(await RawClient.open(s.port)) : undefined;
    const cs = new Clients(s.port, admin);
    if (admin !== undefined) cs.all.push(admin);
    return cs;
  }

  /** A new client on worker `worker` (any client on redis-server). */
  async on(worker: number): Promise<Peer> {
    for (let i = 0; i < 100; i++) {
      const before = this.admin === undefined ? [] : await perWorker(this.admin);
      const p = new Peer(await RawClient.open(this.port));
      this.all.push(p);
      await p.call('PING');
      if (this.admin === undefined) return p;
      const after = await perWorker(this.admin);
      if (after.findIndex((n, j) => n > (before[j] ?? 0)) === worker) return p;
    }
    throw new Error(`no client landed on worker ${worker}`);
  }

  close(): void {
    for (const p of this.all) p.close();
  }
}

/** A scenario: drives clients, returns what they received, in order. */
type Scenario = (cs: Clients) => Promise<string[]>;

/** The CLIENT ID of `p`. */
async function idOf(p: Peer): Promise<string> {
  return (await p.call('CLIENT', 'ID')).slice(1, -2);
}

const SCENARIOS: Record<string, Scenario> = {
  async 'RESP3 default mode: a write on the other worker invalidates, once'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    const got = [await tr.call('HELLO', '3').then((r) => r.slice(0, 1)), await tr.call('CLIENT', 'TRACKING', 'on')];
    got.push(await tr.call('GET', 'k'), await wr.call('SET', 'k', 'v'), ...(await tr.frames(1)));
    // Forgotten once invalidated: the next write sends nothing until the key is read again.
    got.push(await wr.call('SET', 'k', 'v2'), await tr.quiet());
    got.push(await tr.call('MGET', 'k', 'other'), await wr.call('DEL', 'k', 'other'), ...(await tr.frames(1)), await tr.quiet());
    // The client's own write: the push follows its reply, in the same stream.
    got.push(await tr.call('GET', 'own'));
    tr.raw.send(cmd('SET', 'own', '1'));
    got.push(...(await tr.frames(2)));
    return got;
  },

  async 'RESP3: a key that expires invalidates (active cycle, or lazily on access)'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    await tr.call('HELLO', '3');
    const got = [await tr.call('CLIENT', 'TRACKING', 'on')];
    got.push(await wr.call('SET', 'e', 'v', 'PX', '100'), await tr.call('GET', 'e'));
    // The active cycle removes it (Redis: within a few 100 ms cycles).
    got.push(...(await tr.frames(1, 5000)));
    // Whichever comes first, the cycle or the other worker's read, invalidates once.
    got.push(await wr.call('SET', 'f', 'v', 'PX', '50'), await tr.call('GET', 'f'));
    await sleep(120);
    got.push(await wr.call('GET', 'f'), ...(await tr.frames(1)), await tr.quiet());
    return got;
  },

  async 'FLUSHALL and FLUSHDB send a null invalidation to every tracking client'(cs) {
    const [tr, wr, other] = [await cs.on(0), await cs.on(1), await cs.on(1)];
    await tr.call('HELLO', '3');
    await other.call('HELLO', '3');
    const got = [await tr.call('CLIENT', 'TRACKING', 'on'), await other.call('CLIENT', 'TRACKING', 'on', 'BCAST')];
    got.push(await tr.call('GET', 'x'), await wr.call('FLUSHALL'), ...(await tr.frames(1)), ...(await other.frames(1)));
    tr.raw.send(cmd('FLUSHDB'));
    got.push(...(await tr.frames(2)), ...(await other.frames(1)));
    got.push(await tr.call('CLIENT', 'TRACKING', 'off'), await wr.call('FLUSHALL'), await tr.quiet(), ...(await other.frames(1)));
    return got;
  },

  async 'NOLOOP: own writes do not invalidate, and still forget the key'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    await tr.call('HELLO', '3');
    const got = [await tr.call('CLIENT', 'TRACKING', 'on', 'NOLOOP')];
    got.push(await tr.call('GET', 'n'), await tr.call('SET', 'n', '1'), await tr.quiet());
    got.push(await wr.call('SET', 'n', '2'), await tr.quiet());
    got.push(await tr.call('GET', 'n'), await wr.call('SET', 'n', '3'), ...(await tr.frames(1)));
    return got;
  },

  async 'a RESP2 client that turns to RESP3 with HELLO gets pushes from then on'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    const got = [await tr.call('CLIENT', 'TRACKING', 'on'), await tr.call('GET', 'h'), await wr.call('SET', 'h', '1'), await tr.quiet()];
    got.push(await tr.call('GET', 'h'), await tr.call('HELLO', '3').then((r) => r.slice(0, 1)));
    got.push(await wr.call('SET', 'h', '2'), ...(await tr.frames(1)));
    got.push(
      await tr.call('GET', 'h'),
      await tr.call('HELLO', '2').then((r) => r.slice(0, 1)),
      await wr.call('SET', 'h', '3'),
      await tr.quiet(),
    );
    return got;
  },

  async 'OPTIN and OPTOUT with CLIENT CACHING apply to the next command only'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    await tr.call('HELLO', '3');
    const got = [await tr.call('CLIENT', 'TRACKING', 'on', 'OPTIN')];
    got.push(await tr.call('GET', 'a'), await wr.call('SET', 'a', '1'), await tr.quiet());
    got.push(await tr.call('CLIENT', 'CACHING', 'yes'), await tr.call('CLIENT', 'TRACKINGINFO'));
    // Pipelined: only the first GET after CACHING yes is tracked.
    tr.raw.send(Buffer.concat([cmd('GET', 'x'), cmd('GET', 'y')]));
    got.push(...(await tr.frames(2)), await wr.call('MSET', 'x', '1', 'y', '1'), ...(await tr.frames(1)), await tr.quiet());
    // A refused command takes the CACHING yes with it, as any command but CLIENT's does.
    got.push(await tr.call('CLIENT', 'CACHING', 'yes'), await tr.call('NOSUCHCMD'), await tr.call('GET', 'z'));
    got.push(await wr.call('SET', 'z', '1'), await tr.quiet());
    got.push(await tr.call('CLIENT', 'CACHING', 'yes'), await tr.call('CLIENT', 'GETREDIR'), await tr.call('GET', 'z'));
    got.push(await wr.call('SET', 'z', '2'), ...(await tr.frames(1)));
    got.push(await tr.call('CLIENT', 'TRACKING', 'off'), await tr.call('CLIENT', 'TRACKING', 'on', 'OPTOUT'));
    got.push(await tr.call('CLIENT', 'CACHING', 'no'), await tr.call('GET', 'a'), await tr.call('GET', 'b'));
    got.push(await wr.call('MSET', 'a', '2', 'b', '2'), ...(await tr.frames(1)), await tr.quiet());
    return got;
  },

  async 'BCAST with PREFIX: a unit of writes is one message per prefix'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    await tr.call('HELLO', '3');
    const got = [await tr.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'user:', 'PREFIX', 'job:')];
    got.push(await wr.call('MSET', 'user:2', 'a', 'user:1', 'b', 'other', 'c'), ...(await tr.frames(1)));
    got.push(await wr.call('SET', 'job:9', 'x'), ...(await tr.frames(1)), await wr.call('SET', 'nothing', 'x'), await tr.quiet());
    got.push(await tr.call('CLIENT', 'TRACKINGINFO'));
    return got;
  },

  async 'RESP3 REDIRECT to a client on the other worker, then to one that is gone'(cs) {
    const [tr, wr, target] = [await cs.on(0), await cs.on(1), await cs.on(1)];
    await tr.call('HELLO', '3');
    await target.call('HELLO', '3');
    const id = await idOf(target);
    const got = [await tr.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id)];
    got.push((await tr.call('CLIENT', 'GETREDIR')) === `:${id}\r\n` ? 'getredir ok' : 'getredir wrong');
    got.push(await tr.call('GET', 'q'), await wr.call('SET', 'q', '1'), ...(await target.frames(1)), await tr.quiet());
    target.close();
    await sleep(200);
    got.push(await tr.call('GET', 'q'), await wr.call('SET', 'q', '2'));
    got.push(...(await tr.frames(1)).map((f) => f.replace(`:${id}\r\n`, ':<id>\r\n')));
    got.push((await tr.call('CLIENT', 'TRACKINGINFO')).replace(`:${id}\r\n`, ':<id>\r\n'));
    const list = await tr.call('CLIENT', 'INFO');
    got.push(/flags=tR /.test(list) && list.includes(`redir=${id} `) ? 'client info: flags=tR redir=id' : list);
    return got;
  },

  async 'tracking-table-max-keys: a key past the limit evicts another, whose reader is invalidated'(cs) {
    const [tr, wr] = [await cs.on(0), await cs.on(1)];
    await tr.call('HELLO', '3');
    const got = [await wr.call('CONFIG', 'SET', 'tracking-table-max-keys', '1'), await tr.call('CLIENT', 'TRACKING', 'on')];
    got.push(await tr.call('GET', 'a'), await tr.call('GET', 'b'));
    // Redis evicts a random key: either is right, so the key's name is left out.
    got.push(...(await tr.frames(1)).map((f) => f.replace(/\$1\r\n[ab]\r\n$/, '<a or b>')), await tr.quiet());
    got.push(await wr.call('CONFIG', 'SET', 'tracking-table-max-keys', '1000000'));
    return got;
  },

  async 'RESP2 REDIRECT to a subscriber of __redis__:invalidate on the other worker'(cs) {
    const [tr, wr, sub] = [await cs.on(0), await cs.on(1), await cs.on(1)];
    const id = await idOf(sub);
    const got = [await sub.call('SUBSCRIBE', '__redis__:invalidate')];
    got.push(await tr.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id));
    got.push(await tr.call('GET', 'r'), await wr.call('SET', 'r', '1'), ...(await sub.frames(1)));
    got.push(await tr.call('GET', 'r'), await wr.call('FLUSHALL'), ...(await sub.frames(1)));
    got.push(await tr.call('CLIENT', 'TRACKING', 'on', 'BCAST', 'REDIRECT', id));
    return got;
  },
};

if (!haveRedis()) {
  t.fail('redis-server (the reference) is not available');
} else {
  let ref: Running | undefined;
  const expected = new Map<string, string[]>();
  t.before(async () => {
    ref = await startRedis();
    for (const [name, run] of Object.entries(SCENARIOS)) {
      const cs = await Clients.open(ref, false);
      try {
        expected.set(name, await run(cs));
      } finally {
        cs.close();
      }
      await sleep(50);
    }
  });
  t.teardown(async () => {
    await ref?.stop();
  });

  for (const mode of ['yes', 'no']) {
    t.test(`io-uring ${mode}, 2 threads`, async (t) => {
      const s = await startShrike(['--threads', '2', '--io-uring', mode, '--enable-debug-command', 'yes']);
      t.teardown(() => s.stop());
      for (const [name, run] of Object.entries(SCENARIOS)) {
        const cs = await Clients.open(s, true);
        try {
          t.same(await run(cs), expected.get(name), name);
        } finally {
          cs.close();
        }
        await sleep(50);
      }
      // Closed tracking clients leave nothing behind.
      const admin = new Peer(await RawClient.open(s.port));
      t.teardown(() => admin.close());
      await sleep(200);
      const info = await admin.call('INFO', 'clients');
      t.match(info, /tracking_clients:0\r\n/, 'no tracking client left');

      // A worker that crashes takes its tracking clients with it: its replacement forgets them.
      const cs = await Clients.open(s, true);
      t.teardown(() => cs.close());
      const [doomed, other] = [await cs.on(0), await cs.on(1)];
      t.equal(await doomed.call('CLIENT', 'TRACKING', 'on', 'BCAST'), '+OK\r\n');
      t.equal(await other.call('CLIENT', 'TRACKING', 'on'), '+OK\r\n');
      t.match(await admin.call('INFO', 'clients'), /tracking_clients:2\r\n/);
      doomed.raw.send(cmd('DEBUG', 'SEGFAULT'));
      t.ok(await doomed.raw.waitClosed(5000), 'the worker crashed');
      let after = '';
      for (let i = 0; i < 100 && !/tracking_clients:1\r\n/.test(after); i++) {
        await sleep(100);
        after = await other.call('INFO', 'clients');
      }
      t.match(after, /tracking_clients:1\r\n/, "only the live worker's tracking client is left");
    });
  }
}
