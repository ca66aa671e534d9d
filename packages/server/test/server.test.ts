/**
 * The server as a whole: workers and sockets, config, auth, cross-worker CLIENT commands,
 * pipelines mixing core and TypeScript commands, and shutdown.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cmd, RawClient, readReply, SHRIKE_BIN, startShrike } from './harness';

function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Read one bulk (or verbatim) reply fully. */
async function bulkReply(c: RawClient, data: Buffer): Promise<string> {
  c.send(data);
  let got = '';
  for (;;) {
    got += (await c.read(1)).toString('latin1');
    const m = /^[$=](\d+)\r\n/.exec(got);
    if (m?.[1] !== undefined && got.length >= m[0].length + Number(m[1]) + 2) return got.slice(m[0].length, m[0].length + Number(m[1]));
    if (got.startsWith('-')) return got;
  }
}

t.test('two workers: two SO_REUSEPORT listeners, pinned to different CPUs, connections spread', async (t) => {
  const s = await startShrike(['--threads', '2', '--cpu-affinity', 'yes']);
  t.teardown(() => s.stop());
  // Two LISTEN sockets on the port (state 0A in /proc/net/tcp).
  // PING answers as soon as one worker listens; give the other a moment.
  const hexPort = s.port.toString(16).toUpperCase().padStart(4, '0');
  const listening = (): number =>
    readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`:${hexPort} `) && / 0A /.test(l)).length;
  for (let i = 0; i < 100 && listening() < 2; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(listening(), 2, 'two listening sockets on the port');

  const clients = await Promise.all(Array.from({ length: 40 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  for (const c of clients) t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n');
  const info = await bulkReply(clients[0] as RawClient, cmd('INFO', 'threads'));
  const rows = info.split('\r\n').filter((l) => l.startsWith('thread'));
  t.equal(rows.length, 2, 'one INFO line per worker');
  const cpus = new Set<string>();
  let total = 0;
  for (const row of rows) {
    const f = Object.fromEntries(
      row
        .slice(row.indexOf(':') + 1)
        .split(',')
        .map((kv) => kv.split('=') as [string, string]),
    );
    cpus.add(f.cpu as string);
    const clientsHere = Number(f.connected_clients);
    t.ok(clientsHere > 0, `worker ${f.index} got connections (${clientsHere})`);
    total += clientsHere;
    // The worker's OS thread is pinned to exactly its CPU.
    const status = readFileSync(`/proc/${s.proc.pid}/task/${f.tid}/status`, 'utf8');
    t.equal(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1], f.cpu, `thread ${f.tid} pinned to cpu ${f.cpu}`);
  }
  t.equal(total, 40, 'all 40 connections counted');
  t.equal(cpus.size, 2, 'workers on different CPUs');
  t.ok(readdirSync(`/proc/${s.proc.pid}/task`).length >= 3, 'main thread plus workers');
});

t.test('cpu-affinity no leaves the workers free to run on any CPU', async (t) => {
  const s = await startShrike(['--threads', '2', '--cpu-affinity', 'no']);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  const info = await bulkReply(c, cmd('INFO', 'threads'));
  const tids = [...info.matchAll(/tid=(\d+)/g)].map((m) => m[1]);
  t.equal(tids.length, 2, 'two workers');
  const all = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'))?.[1];
  for (const tid of tids) {
    const status = readFileSync(`/proc/${s.proc.pid}/task/${tid}/status`, 'utf8');
    t.equal(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1], all, `thread ${tid} may run wherever the process may`);
  }
});

t.test('--threads 1 works and INFO has every section Redis clients read', async (t) => {
  const s = await startShrike(['--threads', '1']);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  await c.call(cmd('SET', 'k', 'v', 'PX', '100000'), 5);
  const info = await bulkReply(c, cmd('INFO'));
  for (const sec of ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Keyspace', 'Threads']) {
    t.match(info, `# ${sec}\r\n`, `section ${sec}`);
  }
  t.equal(infoField(info, 'redis_mode'), 'standalone');
  t.match(infoField(info, 'db0') ?? '', /^keys=1,expires=1,avg_ttl=\d+$/);
  t.ok(Number(infoField(info, 'used_memory')) > 0, 'used_memory from the allocator');
  t.equal((info.match(/^thread\d+:/gm) ?? []).length, 1);
});

t.test('a pipeline mixing core and TypeScript commands keeps its order', async (t) => {
  const s = await startShrike(['--threads', '1']);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  const batch = Buffer.concat([
    cmd('SET', 'k', 'db0'),
    cmd('SELECT', '1'),
    cmd('GET', 'k'),
    cmd('SET', 'k', 'db1'),
    cmd('SELECT', '0'),
    cmd('GET', 'k'),
    cmd('ECHO', 'x'),
    cmd('INCR', 'n'),
    cmd('PING'),
  ]);
  const want = '+OK\r\n+OK\r\n$-1\r\n+OK\r\n+OK\r\n$3\r\ndb0\r\n$1\r\nx\r\n:1\r\n+PONG\r\n';
  t.equal(await c.call(batch, want.length), want);
});

t.test('requirepass: NOAUTH, WRONGPASS, AUTH and HELLO AUTH', async (t) => {
  const s = await startShrike(['--requirepass', 's3cret']);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('GET', 'k'), 10), '-NOAUTH Authentication required.\r\n');
  t.equal(await c.call(cmd('AUTH', 'nope'), 10), '-WRONGPASS invalid username-password pair or user is disabled.\r\n');
  t.equal(await c.call(cmd('AUTH', 's3cret'), 5), '+OK\r\n');
  t.equal(await c.call(cmd('GET', 'k'), 5), '$-1\r\n');
  const d = await RawClient.open(s.port);
  t.teardown(() => d.close());
  t.match(await d.call(cmd('HELLO', '3'), 10), /^-NOAUTH HELLO must be called/);
  const hello = await d.call(cmd('HELLO', '3', 'AUTH', 'default', 's3cret'), 40);
  t.match(hello, /^%7\r\n/);
  t.equal(await d.call(cmd('GET', 'k'), 3), '_\r\n', 'RESP3 null after HELLO 3');
});

t.test('CLIENT LIST and CLIENT KILL see the clients of every worker', async (t) => {
  const s = await startShrike(['--threads', '2']);
  t.teardown(() => s.stop());
  const clients = await Promise.all(Array.from({ length: 12 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  const ids: number[] = [];
  for (const c of clients) ids.push(Number((await c.call(cmd('CLIENT', 'ID'), 3)).slice(1)));
  t.equal(new Set(ids).size, 12, 'client ids unique across workers');
  const me = clients[0] as RawClient;
  const list = await bulkReply(me, cmd('CLIENT', 'LIST'));
  const listed = list
    .trim()
    .split('\n')
    .map((l) => Number(/^id=(\d+)/.exec(l)?.[1]));
  for (const id of ids) t.ok(listed.includes(id), `client ${id} listed`);
  // Kill every other client, wherever it lives.
  const victim = clients[11] as RawClient;
  t.equal(await me.call(cmd('CLIENT', 'KILL', 'ID', String(ids[11])), 4), ':1\r\n');
  t.ok(await victim.waitClosed(), 'killed client closed');
  t.equal(await me.call(cmd('CLIENT', 'KILL', 'ID', String(ids[11])), 4), ':0\r\n');
  t.equal(await me.call(cmd('CLIENT', 'KILL', '1.2.3.4:5'), 10), '-ERR No such client\r\n');
});

t.test('CONFIG SET reaches every worker', async (t) => {
  const s = await startShrike(['--threads', '2']);
  t.teardown(() => s.stop());
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('CONFIG', 'SET', 'maxclients', '3'), 5), '+OK\r\n');
  t.equal(
    await c.call(cmd('CONFIG', 'SET', 'databases', '3'), 20),
    "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n",
  );
  t.equal(
    await c.call(cmd('CONFIG', 'SET', 'nosuch', '3'), 20),
    "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
  );
  const stat = async (field: string): Promise<number> => {
    // Each worker publishes its counters every 100 ms.
    await new Promise((r) => setTimeout(r, 300));
    return Number(new RegExp(`${field}:(\\d+)\r\n`).exec(await readReply(c, cmd('INFO', 'stats')))?.[1]);
  };
  const received = await stat('total_connections_received');
  const others = await Promise.all(Array.from({ length: 6 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const o of others) o.close();
  });
  let rejected = 0;
  for (const o of others) {
    const r = await o.call(cmd('PING'), 7, 500);
    if (r === '-ERR max number of clients reached\r\n') rejected++;
    else t.equal(r, '+PONG\r\n');
  }
  t.equal(rejected, 4, 'only 3 clients in total, whichever worker accepted them');
  t.equal(await stat('rejected_connections'), 4);
  t.equal(await stat('total_connections_received'), received + 2, 'as Redis, the refused are not counted as received');
});

t.test('config file, flags override it, unknown directives name their line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shrike-conf-'));
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, '# comment\nport 7000\nbogus-directive yes\n');
  const r = spawnSync(process.execPath, [SHRIKE_BIN, bad], { encoding: 'utf8', timeout: 10000 });
  t.equal(r.status, 1);
  t.match(r.stderr, /at line 3/);
  t.match(r.stderr, />>> 'bogus-directive yes'/);
  t.match(r.stderr, /Bad directive/);

  const good = join(dir, 'good.conf');
  writeFileSync(good, 'port 1\ndatabases 4\nrequirepass "from file"\n');
  const s = await startShrike(['--requirepass', ''], good);
  t.teardown(() => s.stop());
  const cc = await RawClient.open(s.port);
  t.teardown(() => cc.close());
  t.equal(await cc.call(cmd('SELECT', '3'), 5), '+OK\r\n', 'databases from the file');
  t.equal(await cc.call(cmd('SELECT', '4'), 10), '-ERR DB index is out of range\r\n');
  t.equal(await cc.call(cmd('CONFIG', 'GET', 'requirepass'), 10), '*2\r\n$11\r\nrequirepass\r\n$0\r\n\r\n', 'flag overrides the file');
});

t.test("a port already taken, by another Shrike or any server: exit 1 at once with Redis's log lines", async (t) => {
  const first = await startShrike(['--threads', '2']);
  t.teardown(() => first.stop());
  // Workers listen with SO_REUSEPORT: without the check a second Shrike joined the port and
  // took a share of the clients into a keyspace of its own.
  const second = spawnSync(process.execPath, [SHRIKE_BIN, '--port', String(first.port)], { encoding: 'utf8', timeout: 10000 });
  t.equal(second.status, 1, 'the second Shrike exits with status 1');
  t.match(second.stdout, `Could not create server TCP listening socket 127.0.0.1:${first.port}: bind: Address already in use`);
  t.match(second.stdout, `Failed listening on port ${first.port} (tcp), aborting.`);
  const star = spawnSync(process.execPath, [SHRIKE_BIN, '--port', String(first.port), '--bind', '*'], { encoding: 'utf8', timeout: 10000 });
  t.equal(star.status, 1, 'the wildcard address conflicts too');
  t.match(star.stdout, `Could not create server TCP listening socket *:${first.port}: bind: Address already in use`);
  // The first one never noticed: every new connection still reaches it.
  for (let i = 0; i < 8; i++) {
    const c = await RawClient.open(first.port);
    t.equal(await c.call(cmd('SET', `taken:${i}`, 'v'), 5), '+OK\r\n');
    c.close();
  }
  const c = await RawClient.open(first.port);
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('DBSIZE'), 4), ':8\r\n', 'all eight writes in the one keyspace');
});

t.test('SIGTERM: in-flight replies are delivered, then exit 0', async (t) => {
  const s = await startShrike(['--threads', '2']);
  const c = await RawClient.open(s.port);
  const n = 2000;
  const batch = Buffer.concat(Array.from({ length: n }, (_, i) => cmd('SET', `k${i}`, 'v')));
  c.send(batch);
  const first = await c.read(5);
  const code = await s.stop();
  const rest = await c.read(n * 5 - first.length, 3000);
  t.equal(first.length + rest.length, n * 5, 'every reply arrived');
  t.equal(code, 0, 'exit code 0');
  t.ok(await c.waitClosed(), 'connection closed by the server');
});

/** INFO threads rows as field maps. */
async function threadRows(c: RawClient): Promise<Record<string, string>[]> {
  const info = await bulkReply(c, cmd('INFO', 'threads'));
  return info
    .split('\r\n')
    .filter((l) => l.startsWith('thread'))
    .map((row) =>
      Object.fromEntries(
        row
          .slice(row.indexOf(':') + 1)
          .split(',')
          .map((kv) => kv.split('=') as [string, string]),
      ),
    );
}

t.test('DEBUG is refused unless enable-debug-command allows it', async (t) => {
  const refused =
    '-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, ' +
    'otherwise you need to set this option in the configuration file, and then restart the server.\r\n';
  const off = await startShrike(['--threads', '1']);
  t.teardown(() => off.stop());
  const a = await RawClient.open(off.port);
  t.teardown(() => a.close());
  t.equal(await a.call(cmd('DEBUG', 'SLEEP', '0'), refused.length), refused);
  const immutable = "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n";
  t.equal(await a.call(cmd('CONFIG', 'SET', 'enable-debug-command', 'yes'), immutable.length), immutable);

  const local = await startShrike(['--threads', '1', '--enable-debug-command', 'local']);
  t.teardown(() => local.stop());
  const b = await RawClient.open(local.port);
  t.teardown(() => b.close());
  t.equal(await b.call(cmd('DEBUG', 'SLEEP', '0.01'), 5), '+OK\r\n', 'a loopback client may run it with "local"');
  t.equal(await b.call(cmd('DEBUG', 'ERROR', 'BOOM here'), 12), '-BOOM here\r\n', 'the message verbatim, as Redis 7.2');
  t.equal(await b.call(cmd('DEBUG', 'ERROR', '-MYERR x'), 11), '--MYERR x\r\n', 'a leading - is part of the message');
  const bad = "-ERR unknown subcommand or wrong number of arguments for 'nope'. Try DEBUG HELP.\r\n";
  t.equal(await b.call(cmd('DEBUG', 'nope'), bad.length), bad);
  const arity = "-ERR wrong number of arguments for 'debug' command\r\n";
  t.equal(await b.call(cmd('DEBUG'), arity.length), arity);
});

t.test('a worker that dies is replaced; the other keeps serving and the client count stays true', async (t) => {
  const s = await startShrike(['--threads', '2', '--enable-debug-command', 'yes']);
  t.teardown(() => s.stop());
  // Open clients until both workers have some, then crash the worker of the first one.
  const clients: RawClient[] = [];
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  let rows: Record<string, string>[] = [];
  for (let i = 0; i < 40; i++) {
    const c = await RawClient.open(s.port);
    t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n');
    clients.push(c);
    rows = await threadRows(c);
    if (rows.length === 2 && rows.every((r) => Number(r.connected_clients) > 0)) break;
  }
  t.ok(
    rows.every((r) => Number(r.connected_clients) > 0),
    'both workers have clients',
  );
  const victim = clients[0] as RawClient;
  // Whichever worker holds it dies; the test learns which from the thread id that changes.
  const before = new Map(rows.map((r) => [r.index, r.tid]));
  victim.send(cmd('DEBUG', 'SEGFAULT'));
  t.ok(await victim.waitClosed(5000), 'the crashing client is disconnected');

  // Every client that lived on the other worker still works at once.
  const survivors: RawClient[] = [];
  for (const c of clients.slice(1)) {
    c.send(cmd('PING'));
    const got = (await c.read(7, 1000)).toString('latin1');
    if (got === '+PONG\r\n') survivors.push(c);
    else t.ok(c.closed || (await c.waitClosed(2000)), 'a client of the dead worker is closed, not left hanging');
  }
  t.ok(survivors.length > 0, `clients of the other worker keep working (${survivors.length})`);

  // A replacement worker appears with a new thread id, and new connections reach both.
  const probe = survivors[0] as RawClient;
  let after: Record<string, string>[] = [];
  for (let i = 0; i < 100; i++) {
    after = await threadRows(probe);
    if (after.filter((r) => r.tid !== before.get(r.index) && Number(r.tid) > 0).length === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const replaced = after.filter((r) => r.tid !== before.get(r.index));
  t.equal(replaced.length, 1, 'exactly one worker was replaced');
  t.match(s.output(), /worker exited; starting a replacement/, 'the main thread logged the death');
  const fresh = await Promise.all(Array.from({ length: 20 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const c of fresh) c.close();
  });
  for (const c of fresh) t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n');
  const final = await threadRows(probe);
  t.ok(
    final.every((r) => Number(r.connected_clients) > 0),
    'the replacement takes new connections',
  );
  const info = await bulkReply(probe, cmd('INFO', 'clients'));
  t.equal(Number(infoField(info, 'connected_clients')), survivors.length + fresh.length, 'connected_clients counts only live clients');
});

t.test('INFO instantaneous_ops_per_sec follows the load over every worker', async (t) => {
  const s = await startShrike(['--threads', '2']);
  t.teardown(() => s.stop());
  const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.open(s.port)));
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  const batch = Buffer.concat(Array.from({ length: 200 }, () => cmd('PING')));
  const until = Date.now() + 1000;
  while (Date.now() < until) {
    for (const c of clients) c.send(batch);
    await Promise.all(clients.map((c) => c.read(200 * 7)));
  }
  const info = await bulkReply(clients[0] as RawClient, cmd('INFO', 'stats'));
  const ops = Number(infoField(info, 'instantaneous_ops_per_sec'));
  t.ok(ops > 1000, `instantaneous_ops_per_sec under load (${ops})`);
  t.ok(Number(infoField(info, 'instantaneous_input_kbps')) > 0, 'input kbps');
  t.ok(Number(infoField(info, 'instantaneous_output_kbps')) > 0, 'output kbps');
  await new Promise((r) => setTimeout(r, 2000));
  const idle = await bulkReply(clients[0] as RawClient, cmd('INFO', 'stats'));
  t.ok(Number(infoField(idle, 'instantaneous_ops_per_sec')) < 50, 'back near zero when idle');
});
