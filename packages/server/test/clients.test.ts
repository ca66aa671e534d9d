/**
 * The client registry across workers (networking.c clientCommand): CLIENT LIST / INFO fields,
 * CLIENT KILL by every filter, CLIENT PAUSE / UNPAUSE holding clients on the other worker.
 * The server runs 2 threads, and each test puts its clients on a known worker (INFO threads
 * tells which worker a new connection landed on).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cmd, haveRedis, RawClient, type Running, readReply, startRedis, startShrike } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Redis 7.2's CLIENT LIST fields, in its order (networking.c catClientInfoString). */
const FIELDS = [
  'id',
  'addr',
  'laddr',
  'fd',
  'name',
  'age',
  'idle',
  'flags',
  'db',
  'sub',
  'psub',
  'ssub',
  'multi',
  'qbuf',
  'qbuf-free',
  'argv-mem',
  'multi-mem',
  'rbs',
  'rbp',
  'obl',
  'oll',
  'omem',
  'tot-mem',
  'events',
  'cmd',
  'user',
  'redir',
  'resp',
  'lib-name',
  'lib-ver',
];

/** One CLIENT LIST line as a map of its fields. */
function fields(line: string): Map<string, string> {
  return new Map(
    line.split(' ').map((kv) => {
      const eq = kv.indexOf('=');
      return [kv.slice(0, eq), kv.slice(eq + 1)] as [string, string];
    }),
  );
}

/** The text of a bulk or RESP3 verbatim reply ('' for anything else). */
function bulkText(reply: string): string {
  const m = /^[$=](\d+)\r\n/.exec(reply);
  if (m === null) return '';
  const text = reply.slice(m[0].length, m[0].length + Number(m[1]));
  return reply[0] === '=' ? text.slice(4) : text;
}

/** CLIENT LIST (with optional filter arguments) as lines. */
async function clientList(c: RawClient, ...args: string[]): Promise<string[]> {
  return bulkText(await readReply(c, cmd('CLIENT', 'LIST', ...args)))
    .split('\n')
    .filter((l) => l !== '');
}

/** Connected clients per worker, from INFO threads. */
async function perWorker(c: RawClient): Promise<number[]> {
  const text = await readReply(c, cmd('INFO', 'threads'));
  return [...text.matchAll(/thread\d+:index=\d+,.*?connected_clients=(\d+)/g)].map((m) => Number(m[1]));
}

/** Clients on known workers: opens connections until each worker has what was asked of it. */
class Placed {
  private readonly spare: RawClient[] = [];
  readonly all: RawClient[] = [];

  constructor(
    private readonly port: number,
    private readonly admin: RawClient,
  ) {}

  /**
   * A new client on worker `w`. Others opened meanwhile stay open while searching, so that
   * counts stay true, then close: afterwards only this test's clients are connected.
   */
  async on(w: number): Promise<RawClient> {
    for (let i = 0; i < 64; i++) {
      const before = await perWorker(this.admin);
      const c = await RawClient.open(this.port);
      this.all.push(c);
      await readReply(c, cmd('PING'));
      const after = await perWorker(this.admin);
      const landed = after.findIndex((n, j) => n > (before[j] ?? 0));
      if (landed === w) {
        this.closeSpare();
        const open = this.all.filter((o) => !o.closed && !this.spare.includes(o)).length;
        await settle(this.admin, (counts) => total(counts) === open + 1);
        return c;
      }
      this.spare.push(c);
    }
    throw new Error(`no connection landed on worker ${w}`);
  }

  close(): void {
    for (const c of this.all) c.close();
  }

  /** Close the clients that landed elsewhere. */
  closeSpare(): void {
    for (const c of this.spare) {
      c.close();
      c.closed = true;
    }
    this.spare.length = 0;
  }
}

/** Poll INFO threads until the clients per worker are `want` (closes are seen a little later). */
async function settle(admin: RawClient, want: (counts: number[]) => boolean): Promise<number[]> {
  let counts = await perWorker(admin);
  for (let i = 0; i < 100 && !want(counts); i++) {
    await sleep(20);
    counts = await perWorker(admin);
  }
  return counts;
}

const total = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);

/** The admin client, on worker 0, and a way to place more clients. */
async function setup(t: Test, s: Running): Promise<{ admin: RawClient; placed: Placed }> {
  const probe = await RawClient.open(s.port);
  const placed = new Placed(s.port, probe);
  const admin = await placed.on(0);
  const placedAdmin = new Placed(s.port, admin);
  probe.close();
  // Whatever earlier tests left is gone: from here on every client is this test's.
  await settle(admin, (c) => total(c) === 1);
  t.teardown(() => {
    placedAdmin.close();
    admin.close();
  });
  return { admin, placed: placedAdmin };
}

let server: Running;
t.before(async () => {
  server = await startShrike(['--threads', '2']);
});
t.teardown(() => server.stop());

t.test('CLIENT LIST and CLIENT INFO: Redis 7.2 fields, on both workers', async (t) => {
  const { admin, placed } = await setup(t, server);
  const other = await placed.on(1);
  t.same(await settle(admin, (c) => total(c) === 2), [1, 1], 'one client on each worker');
  t.equal(await readReply(other, cmd('CLIENT', 'SETNAME', 'other')), '+OK\r\n');
  t.equal(await readReply(other, cmd('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib')), '+OK\r\n');
  t.equal(await readReply(other, cmd('SELECT', '3')), '+OK\r\n');

  const info = bulkText(await readReply(admin, cmd('CLIENT', 'INFO')));
  t.ok(info.endsWith('\n'), 'CLIENT INFO ends its line with a newline');
  const mine = fields(info.trim());
  t.same([...mine.keys()], FIELDS, 'CLIENT INFO: every field, in order');
  t.equal(mine.get('cmd'), 'client|info', 'cmd names the subcommand as Redis does');
  t.equal(mine.get('argv-mem'), '10', 'argv-mem: the bytes of "client" and "info"');
  t.equal(mine.get('qbuf'), '26', 'qbuf: the request being run');
  t.equal(mine.get('flags'), 'N');
  t.equal(mine.get('user'), 'default');
  t.equal(mine.get('redir'), '-1');
  t.equal(mine.get('resp'), '2');

  const lines = await clientList(admin);
  t.equal(lines.length, 2, 'both workers answer');
  for (const l of lines) t.same([...fields(l).keys()], FIELDS, 'CLIENT LIST: every field, in order');
  const [first, second] = lines.map(fields);
  t.ok(Number(first?.get('id')) < Number(second?.get('id')), 'listed in id order');
  const o = lines.map(fields).find((f) => f.get('name') === 'other');
  t.equal(o?.get('db'), '3', 'db of the client on the other worker');
  t.equal(o?.get('lib-name'), 'mylib');
  t.equal(o?.get('cmd'), 'select', 'its last command');
  t.equal(o?.get('argv-mem'), '0', 'no command running: no argv');
  t.equal(o?.get('qbuf'), '0');
  const me = lines.map(fields).find((f) => f.get('id') === mine.get('id'));
  t.equal(me?.get('cmd'), 'client|list');
  t.equal(me?.get('argv-mem'), '10');

  t.equal(await readReply(other, cmd('HELLO', '3')).then((r) => r.startsWith('%7')), true);
  const otherId = o?.get('id') as string;
  const byId = await clientList(admin, 'ID', otherId, mine.get('id') as string, otherId, '999999', '-1');
  t.same(
    byId.map((l) => fields(l).get('id')),
    [otherId, mine.get('id'), otherId],
    'CLIENT LIST ID: in the order asked, repeats repeated, unknown ids left out',
  );
  t.equal(fields(byId[0] as string).get('resp'), '3', 'resp follows HELLO 3');

  // cmd= is set at lookup, as Redis's lastcmd: a refused command counts, an unknown one is NULL.
  const cmdOf = async (): Promise<string | undefined> => fields((await clientList(admin, 'ID', otherId))[0] ?? '').get('cmd');
  t.match(await readReply(other, cmd('GET')), /^-ERR wrong number of arguments/);
  t.equal(await cmdOf(), 'get', 'after an arity error');
  t.match(await readReply(other, cmd('NOSUCH')), /^-ERR unknown command/);
  t.equal(await cmdOf(), 'NULL', 'after an unknown command');
  t.match(await readReply(other, cmd('CLIENT', 'NOSUCH')), /^-ERR unknown subcommand/);
  t.equal(await cmdOf(), 'NULL', 'after an unknown subcommand');
  t.match(await readReply(other, cmd('CLIENT')), /^-ERR wrong number of arguments for 'client'/);
  t.equal(await cmdOf(), 'client', 'a container alone');

  t.equal((await clientList(admin, 'TYPE', 'normal')).length, 2, 'TYPE normal: every client');
  t.equal((await clientList(admin, 'type', 'PUBSUB')).length, 0, 'TYPE pubsub: no subscribers');
  t.equal((await clientList(admin, 'TYPE', 'replica')).length, 0, 'TYPE replica: none');
  t.equal((await clientList(admin, 'TYPE', 'master')).length, 0, 'TYPE master: none');
  t.equal(await readReply(admin, cmd('CLIENT', 'LIST', 'TYPE', 'foo')), "-ERR Unknown client type 'foo'\r\n");
  t.equal(await readReply(admin, cmd('CLIENT', 'LIST', 'ID', '1', 'x')), '-ERR Invalid client ID\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'LIST', 'TYPE')), '-ERR syntax error\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'LIST', 'ID')), '-ERR syntax error\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'LIST', 'TYPE', 'normal', 'x')), '-ERR syntax error\r\n');
});

t.test('CLIENT KILL reaches clients on the other worker, by every filter', async (t) => {
  const { admin, placed } = await setup(t, server);
  const fieldsOf = async (c: RawClient): Promise<Map<string, string>> => fields(bulkText(await readReply(c, cmd('CLIENT', 'INFO'))).trim());

  const byId = await placed.on(1);
  const id = (await fieldsOf(byId)).get('id') as string;
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'ID', id)), ':1\r\n', 'ID');
  t.ok(await byId.waitClosed(), 'closed');
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'ID', id)), ':0\r\n', 'gone');

  const byAddr = await placed.on(1);
  const addr = (await fieldsOf(byAddr)).get('addr') as string;
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'ADDR', addr, 'ID', '999999')), ':0\r\n', 'filters combine: all must match');
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'ADDR', addr)), ':1\r\n', 'ADDR');
  t.ok(await byAddr.waitClosed());

  const oldForm = await placed.on(1);
  const oldAddr = (await fieldsOf(oldForm)).get('addr') as string;
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', oldAddr)), '+OK\r\n', 'old form ip:port');
  t.ok(await oldForm.waitClosed());
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', oldAddr)), '-ERR No such client\r\n');

  const old = await placed.on(1);
  await sleep(1100);
  const young = await placed.on(1);
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'MAXAGE', '1', 'ID', (await fieldsOf(young)).get('id') as string)), ':0\r\n');
  t.equal(
    await readReply(admin, cmd('CLIENT', 'KILL', 'MAXAGE', '1', 'ID', (await fieldsOf(old)).get('id') as string)),
    ':1\r\n',
    'MAXAGE',
  );
  t.ok(await old.waitClosed());
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'MAXAGE', 'x')), '-ERR maxage is not an integer or out of range\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'MAXAGE', '0')), '-ERR maxage should be greater than 0\r\n');

  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'TYPE', 'pubsub')), ':0\r\n', 'TYPE pubsub: no subscribers');
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'TYPE', 'master')), ':0\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'TYPE', 'slave')), ':0\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'USER', 'nobody')), "-ERR No such user 'nobody'\r\n");

  // Everyone but the caller: USER, LADDR and TYPE each match every client; SKIPME yes is the default.
  const a = await placed.on(0);
  const b = await placed.on(1);
  const laddr = (await fieldsOf(admin)).get('laddr') as string;
  const open = placed.all.filter((c) => !c.closed).length;
  await settle(admin, (c) => total(c) === open + 1);
  t.equal(
    await readReply(admin, cmd('CLIENT', 'KILL', 'LADDR', laddr, 'USER', 'default', 'TYPE', 'normal')),
    `:${open}\r\n`,
    'LADDR USER TYPE',
  );
  t.ok((await a.waitClosed()) && (await b.waitClosed()), 'on both workers');
  t.equal(await readReply(admin, cmd('PING')), '+PONG\r\n', 'SKIPME yes spared the caller');
  t.same(await settle(admin, (c) => total(c) === 1), [1, 0], 'only the caller is left');

  // SKIPME no: the caller is killed too, after its reply.
  const victim = await placed.on(1);
  const reply = await readReply(admin, cmd('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'no'));
  t.equal(reply, ':2\r\n', 'counts itself');
  t.ok((await admin.waitClosed()) && (await victim.waitClosed()), 'both closed');
});

t.test('CLIENT KILL errors, as Redis 7.2', async (t) => {
  const { admin } = await setup(t, server);
  const cases: [string[], string][] = [
    [['ID', '0'], '-ERR client-id should be greater than 0\r\n'],
    [['ID', 'x'], '-ERR client-id should be greater than 0\r\n'],
    [['ID', '0', 'foo'], '-ERR client-id should be greater than 0\r\n'],
    [['ID', '5', 'foo'], '-ERR syntax error\r\n'],
    [['TYPE', 'x', 'ID', '1'], "-ERR Unknown client type 'x'\r\n"],
    [['SKIPME', 'maybe'], '-ERR syntax error\r\n'],
    [['FOO', 'bar'], '-ERR syntax error\r\n'],
  ];
  for (const [args, want] of cases) t.equal(await readReply(admin, cmd('CLIENT', 'KILL', ...args)), want, args.join(' '));
});

t.test('CLIENT PAUSE WRITE holds a write on the other worker, not a read, until UNPAUSE', async (t) => {
  const { admin, placed } = await setup(t, server);
  const writer = await placed.on(1);
  const reader = await placed.on(1);
  t.equal(await readReply(admin, cmd('SET', 'k', 'before')), '+OK\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '60000', 'WRITE')), '+OK\r\n');
  // A write, and a read pipelined behind it: the read keeps its place in line.
  writer.send(Buffer.concat([cmd('SET', 'k', 'after'), cmd('GET', 'k')]));
  t.equal(await readReply(reader, cmd('GET', 'k')), '$6\r\nbefore\r\n', 'a read on the other worker runs');
  reader.send(cmd('PFCOUNT', 'hll'));
  t.equal((await reader.read(1, 300)).length, 0, 'PFCOUNT may replicate: held');
  t.equal((await writer.read(1, 300)).length, 0, 'the write waits');
  const held = (await clientList(admin)).map(fields).filter((f) => f.get('flags') === 'b');
  t.same(held.map((f) => f.get('cmd')).sort(), ['pfcount', 'set'], 'held clients show flag b and the command they wait to run');
  t.equal(held.find((f) => f.get('cmd') === 'set')?.get('argv-mem'), '9', 'argv-mem: set k after');
  t.match(await readReply(admin, cmd('INFO', 'clients')), /\r\nblocked_clients:2\r\n/, 'INFO counts them as blocked');
  t.equal(await readReply(admin, cmd('CLIENT', 'UNPAUSE')), '+OK\r\n');
  t.equal((await writer.read(16, 2000)).toString(), '+OK\r\n$5\r\nafter\r\n', 'released, in order');
  t.equal((await reader.read(4, 2000)).toString(), ':0\r\n', 'PFCOUNT released');
  t.notOk(
    (await clientList(admin)).some((l) => fields(l).get('flags') === 'b'),
    'nobody held',
  );
  t.match(await readReply(admin, cmd('INFO', 'clients')), /\r\nblocked_clients:0\r\n/);

  // A held client that is killed leaves nothing behind.
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '60000', 'WRITE')), '+OK\r\n');
  writer.send(cmd('SET', 'k', 'killed'));
  await sleep(100);
  const writerId = (await clientList(admin))
    .map(fields)
    .find((f) => f.get('flags') === 'b')
    ?.get('id') as string;
  t.equal(await readReply(admin, cmd('CLIENT', 'KILL', 'ID', writerId)), ':1\r\n');
  t.ok(await writer.waitClosed(), 'the held client is closed');
  t.match(await readReply(admin, cmd('INFO', 'clients')), /\r\nblocked_clients:0\r\n/, 'and no longer counted');
  t.equal(await readReply(admin, cmd('CLIENT', 'UNPAUSE')), '+OK\r\n');
  t.equal(await readReply(reader, cmd('GET', 'k')), '$5\r\nafter\r\n', 'its write never ran');
});

t.test('CLIENT PAUSE ends at its deadline; a later PAUSE only extends it', async (t) => {
  const { admin, placed } = await setup(t, server);
  const writer = await placed.on(1);
  const start = Date.now();
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '400', 'WRITE')), '+OK\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '100', 'WRITE')), '+OK\r\n', 'a shorter pause does not shorten it');
  t.equal(await readReply(writer, cmd('INCR', 'n')), ':1\r\n');
  const waited = Date.now() - start;
  t.ok(waited >= 350, `the write ran at the deadline (${waited} ms)`);

  // ALL holds every command, CLIENT PAUSE itself included.
  const pinger = await placed.on(1);
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '500', 'ALL')), '+OK\r\n');
  const allStart = Date.now();
  pinger.send(cmd('PING'));
  t.equal((await pinger.read(1, 200)).length, 0, 'PING waits under ALL');
  admin.send(cmd('CLIENT', 'PAUSE', '100', 'WRITE'));
  t.equal((await pinger.read(7, 2000)).toString(), '+PONG\r\n');
  t.equal((await admin.read(5, 2000)).toString(), '+OK\r\n');
  t.ok(Date.now() - allStart >= 450, 'both waited for the end of the ALL pause');
  t.equal(await readReply(pinger, cmd('PING')), '+PONG\r\n', 'the WRITE pause that followed lets reads run');
  t.equal(await readReply(admin, cmd('CLIENT', 'UNPAUSE')), '+OK\r\n');

  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '0')), '+OK\r\n', 'PAUSE 0 pauses nothing');
  t.equal(await readReply(writer, cmd('INCR', 'n')), ':2\r\n');
});

t.test('CLIENT PAUSE never holds a MONITOR (Redis flags monitors as replicas)', async (t) => {
  const { admin, placed } = await setup(t, server);
  const mon = await placed.on(1);
  t.equal(await readReply(mon, cmd('MONITOR')), '+OK\r\n');
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '60000', 'ALL')), '+OK\r\n');
  const start = Date.now();
  mon.send(cmd('PING'));
  let got = '';
  // Its reply, then the monitor's own line for it.
  while (!got.includes('"PING"') && Date.now() - start < 2000) got += (await mon.read(1, 500)).toString();
  t.match(got, /^\+PONG\r\n\+\d+\.\d+ \[0 [^\]]+\] "PING"\r\n$/, 'answered at once');
  admin.send(cmd('CLIENT', 'UNPAUSE'));
  t.equal((await admin.read(1, 300)).length, 0, 'under ALL, UNPAUSE itself waits, as in Redis');
  t.equal(await readReply(mon, cmd('CLIENT', 'UNPAUSE')), '+OK\r\n', 'the monitor, never held, can end it');
  t.equal((await admin.read(5, 2000)).toString(), '+OK\r\n', 'released');
});

t.test('CLIENT PAUSE errors, as Redis 7.2', async (t) => {
  const { admin } = await setup(t, server);
  const cases: [string[], string][] = [
    [['PAUSE'], "-ERR wrong number of arguments for 'client|pause' command\r\n"],
    [['PAUSE', 'x'], '-ERR timeout is not an integer or out of range\r\n'],
    [['PAUSE', '1.5'], '-ERR timeout is not an integer or out of range\r\n'],
    [['PAUSE', '-1'], '-ERR timeout is negative\r\n'],
    [['PAUSE', '10', 'foo'], '-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n'],
    [['PAUSE', 'x', 'foo'], '-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n'],
    [['PAUSE', '10', 'write', 'x'], "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.\r\n"],
    [['PAUSE', '9223372036854775807'], '-ERR timeout is out of range\r\n'],
    [['UNPAUSE', 'x'], "-ERR wrong number of arguments for 'client|unpause' command\r\n"],
  ];
  for (const [args, want] of cases) t.equal(await readReply(admin, cmd('CLIENT', ...args)), want, args.join(' '));
  t.equal(await readReply(admin, cmd('CLIENT', 'UNPAUSE')), '+OK\r\n');
});

t.test('timeout closes idle clients on both workers, not held ones; CONFIG SET changes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shrike-timeout-'));
  const conf = join(dir, 'shrike.conf');
  writeFileSync(conf, 'timeout 1\n');
  const s = await startShrike(['--threads', '2'], conf);
  t.teardown(() => s.stop());
  const { admin, placed } = await setup(t, s);
  t.equal(await readReply(admin, cmd('CONFIG', 'GET', 'timeout')), '*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n', 'from the config file');
  const idle0 = await placed.on(0);
  const idle1 = await placed.on(1);
  const held = await placed.on(1);
  t.equal(await readReply(admin, cmd('CLIENT', 'PAUSE', '10000', 'WRITE')), '+OK\r\n');
  held.send(cmd('SET', 'k', 'v'));
  // The admin keeps talking; Redis closes a client idle for more than `timeout` whole seconds.
  const start = Date.now();
  while (Date.now() - start < 2600) {
    t.equal(await readReply(admin, cmd('PING')), '+PONG\r\n');
    await sleep(200);
  }
  t.ok(idle0.closed && idle1.closed, 'idle clients closed on both workers');
  t.notOk(held.closed, 'a client held by CLIENT PAUSE is not idle');
  t.equal(await readReply(admin, cmd('CLIENT', 'UNPAUSE')), '+OK\r\n');
  t.equal((await held.read(5, 2000)).toString(), '+OK\r\n');

  t.equal(await readReply(admin, cmd('CONFIG', 'SET', 'timeout', '0')), '+OK\r\n');
  const kept = await placed.on(1);
  await sleep(2600);
  t.equal(await readReply(kept, cmd('PING')), '+PONG\r\n', 'timeout 0: never closed');
  t.equal(await readReply(admin, cmd('CONFIG', 'SET', 'timeout', '1')), '+OK\r\n');
  t.ok(await kept.waitClosed(4000), 'CONFIG SET timeout reaches every worker');
});

/** Fields whose values do not depend on ids, addresses, fds, time or allocator sizes. */
const COMPARED = [
  'name',
  'flags',
  'db',
  'sub',
  'psub',
  'ssub',
  'multi',
  'qbuf',
  'argv-mem',
  'multi-mem',
  'obl',
  'events',
  'cmd',
  'user',
  'redir',
  'resp',
  'lib-name',
  'lib-ver',
];

/** What one server shows of a client: its own CLIENT INFO, and its CLIENT LIST line while paused. */
async function shapes(port: number, proto: 2 | 3): Promise<Map<string, string>[]> {
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  try {
    if (proto === 3) await readReply(b, cmd('HELLO', '3'));
    for (const args of [
      ['CLIENT', 'SETNAME', 'shape'],
      ['CLIENT', 'SETINFO', 'LIB-NAME', 'lib'],
      ['CLIENT', 'SETINFO', 'LIB-VER', '1.0'],
      ['SELECT', '2'],
      ['CLIENT', 'NO-EVICT', 'on'],
    ])
      await readReply(b, cmd(...args));
    const info = fields(bulkText(await readReply(b, cmd('CLIENT', 'INFO'))).trim());
    await readReply(a, cmd('CLIENT', 'PAUSE', '10000', 'WRITE'));
    b.send(cmd('SET', 'k', 'v'));
    await sleep(100);
    const held = fields(bulkText(await readReply(a, cmd('CLIENT', 'LIST', 'ID', info.get('id') as string))).trim());
    await readReply(a, cmd('CLIENT', 'UNPAUSE'));
    await b.read(5, 2000);
    return [info, held];
  } finally {
    a.close();
    b.close();
  }
}

if (haveRedis()) {
  t.test("CLIENT INFO and a paused client's CLIENT LIST line have the reference's shape", async (t) => {
    const ref = await startRedis();
    t.teardown(() => ref.stop());
    for (const proto of [2, 3] as const) {
      const [want, got] = await Promise.all([shapes(ref.port, proto), shapes(server.port, proto)]);
      for (const [i, what] of ['CLIENT INFO', 'CLIENT LIST of a paused client'].entries()) {
        const w = want[i] as Map<string, string>;
        const g = got[i] as Map<string, string>;
        t.same([...g.keys()], [...w.keys()], `RESP${proto} ${what}: the reference's fields, in its order`);
        for (const f of COMPARED) t.equal(g.get(f), w.get(f), `RESP${proto} ${what}: ${f}=${w.get(f)}`);
      }
    }
  });
}
