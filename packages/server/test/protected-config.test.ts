/**
 * CONFIG SET refuses what Redis 7.2 refuses: protected configs (dir, dbfilename) unless
 * enable-protected-configs allows them, and a maxclients the open-file limit cannot serve,
 * which startup caps instead. Replies are compared byte for byte with a real redis-server
 * (same limits: both are children of this process); the cases redis-server cannot run fast
 * (maxclients 1e9 makes it call setrlimit 62 million times) are checked against the OS limits.
 */
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cmd, haveRedis, RawClient, type Running, readReply, startRedis, startShrike } from './harness';

const WORK = realpathSync(mkdtempSync(join(tmpdir(), 'shrike-protected-')));
const FILE = join(WORK, 'a-file');
writeFileSync(FILE, '');

/** Wait (up to 2 s) until the server logged `text`; the log is written asynchronously. */
async function logged(s: Running, text: string): Promise<string> {
  for (let i = 0; i < 100 && !s.output().includes(text); i++) await new Promise((r) => setTimeout(r, 20));
  return s.output();
}

/** Open-file limits of a process, from /proc. */
function openFiles(pid: number | undefined): { soft: number; hard: number } {
  const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return { soft: Number(m?.[1]), hard: Number(m?.[2]) };
}

/** What Shrike must reply to `lines` (literal where it does not depend on the OS). */
const PROTECTED_DEFAULT: readonly (readonly [string[], string | undefined])[] = [
  [
    ['CONFIG', 'SET', 'dbfilename', 'x.rdb'],
    "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n",
  ],
  [['CONFIG', 'SET', 'dir', WORK], "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"],
  [
    ['CONFIG', 'SET', 'DBFILENAME', 'a/b.rdb'],
    "-ERR CONFIG SET failed (possibly related to argument 'DBFILENAME') - can't set protected config\r\n",
  ],
  [
    ['CONFIG', 'SET', 'enable-protected-configs', 'yes'],
    "-ERR CONFIG SET failed (possibly related to argument 'enable-protected-configs') - can't set immutable config\r\n",
  ],
  [
    ['CONFIG', 'SET', 'enable-module-command', 'yes'],
    "-ERR CONFIG SET failed (possibly related to argument 'enable-module-command') - can't set immutable config\r\n",
  ],
  [['CONFIG', 'GET', 'enable-protected-configs'], '*2\r\n$24\r\nenable-protected-configs\r\n$2\r\nno\r\n'],
  [['CONFIG', 'GET', 'enable-module-command'], '*2\r\n$21\r\nenable-module-command\r\n$2\r\nno\r\n'],
  [['CONFIG', 'GET', 'dbfilename'], '*2\r\n$10\r\ndbfilename\r\n$8\r\ndump.rdb\r\n'],
  // Either both raise the limit or both refuse with the same "try with N" (and keep 10000).
  [['CONFIG', 'SET', 'maxclients', '30000'], undefined],
  [['CONFIG', 'GET', 'maxclients'], undefined],
  [['CONFIG', 'SET', 'maxclients', '10000'], '+OK\r\n'],
  [['CONFIG', 'SET', 'maxclients', '30001'], undefined],
  [['CONFIG', 'GET', 'maxclients'], undefined],
  [['CONFIG', 'SET', 'maxclients', '10000'], '+OK\r\n'],
];

const PROTECTED_ALLOWED: readonly (readonly [string[], string | undefined])[] = [
  [['CONFIG', 'SET', 'dbfilename', 'x.rdb'], '+OK\r\n'],
  [['CONFIG', 'GET', 'dbfilename'], '*2\r\n$10\r\ndbfilename\r\n$5\r\nx.rdb\r\n'],
  [
    ['CONFIG', 'SET', 'dbfilename', 'a/b.rdb'],
    "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename\r\n",
  ],
  [
    ['CONFIG', 'SET', 'dir', join(WORK, 'missing')],
    "-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory\r\n",
  ],
  [['CONFIG', 'SET', 'dir', FILE], "-ERR CONFIG SET failed (possibly related to argument 'dir') - Not a directory\r\n"],
  [['CONFIG', 'SET', 'dir', WORK], '+OK\r\n'],
  [['CONFIG', 'GET', 'dir'], `*2\r\n$3\r\ndir\r\n$${WORK.length}\r\n${WORK}\r\n`],
  [['CONFIG', 'SET', 'dbfilename', 'dump.rdb'], '+OK\r\n'],
];

/** Run `lines` on Shrike (and the same on redis-server when given): literal and byte-for-byte checks. */
async function run(t: Test, shrike: Running, redis: Running | undefined, lines: typeof PROTECTED_DEFAULT): Promise<void> {
  const s = await RawClient.open(shrike.port);
  t.teardown(() => s.close());
  const r = redis === undefined ? undefined : await RawClient.open(redis.port);
  t.teardown(() => r?.close());
  for (const [args, want] of lines) {
    const got = await readReply(s, cmd(...args));
    if (want !== undefined) t.equal(got, want, args.join(' '));
    if (r !== undefined) t.equal(got, await readReply(r, cmd(...args)), `${args.join(' ')}: same bytes as redis-server`);
  }
}

const withRedis = async (t: Test, args: string[], body: (s: Running, r: Running | undefined) => Promise<void>): Promise<void> => {
  const [s, r] = await Promise.all([startShrike(args), haveRedis() ? startRedis(args) : undefined]);
  t.teardown(async () => {
    await Promise.all([s.stop(), r?.stop()]);
  });
  await body(s, r);
};

t.test('protected configs are refused by default; the enable-* settings are immutable', (t) =>
  withRedis(t, [], (s, r) => run(t, s, r, PROTECTED_DEFAULT)),
);

t.test('enable-protected-configs yes: dir and dbfilename change, validated as Redis does', (t) =>
  withRedis(t, ['--enable-protected-configs', 'yes'], (s, r) => run(t, s, r, PROTECTED_ALLOWED)),
);

t.test('enable-protected-configs local: a loopback client may change them', (t) =>
  withRedis(t, ['--enable-protected-configs', 'local'], (s, r) => run(t, s, r, PROTECTED_ALLOWED.slice(0, 2))),
);

t.test('CONFIG SET maxclients 1000000000: refused with what the OS allows, old value kept, logged', async (t) => {
  const s = await startShrike(['--threads', '2']);
  t.teardown(() => s.stop());
  const before = openFiles(s.proc.pid);
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  const got = await readReply(c, cmd('CONFIG', 'SET', 'maxclients', '1000000000'));
  const after = openFiles(s.proc.pid);
  t.ok(after.soft >= before.soft && after.soft <= Math.max(before.hard, 1048576), `limit ${before.soft} -> ${after.soft}`);
  t.equal(
    got,
    `-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with ${after.soft - 32}\r\n`,
  );
  t.equal(await readReply(c, cmd('CONFIG', 'GET', 'maxclients')), '*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n', 'unchanged');
  t.equal(await readReply(c, cmd('PING')), '+PONG\r\n');
  const log = await logged(s, 'Restoring previous settings.');
  t.match(log, 'You requested maxclients of 1000000000 requiring at least 1000000032 max file descriptors.');
  t.match(log, `Current maximum open files is ${after.soft}. maxclients has been reduced to ${after.soft - 32}`);
  t.match(log, 'Failed applying new configuration. Possibly related to new maxclients setting. Restoring previous settings.');
});

t.test('--maxclients above the open-file limit is capped at startup, with the log lines', async (t) => {
  const s = await startShrike(['--maxclients', '1000000000']);
  t.teardown(() => s.stop());
  const limit = openFiles(s.proc.pid).soft;
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  const n = String(limit - 32);
  t.equal(await readReply(c, cmd('CONFIG', 'GET', 'maxclients')), `*2\r\n$10\r\nmaxclients\r\n$${n.length}\r\n${n}\r\n`);
  const log = await logged(s, "increase 'ulimit -n'.");
  t.match(log, 'You requested maxclients of 1000000000 requiring at least 1000000032 max file descriptors.');
  t.match(log, "Server can't set maximum open files to 1000000032 because of OS error: Operation not permitted.");
  t.match(
    s.output(),
    `maxclients has been reduced to ${n} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`,
  );
});

t.test('--maxclients 30000 at startup: the same CONFIG GET as redis-server', (t) =>
  withRedis(t, ['--maxclients', '30000'], (s, r) =>
    run(t, s, r, [
      [['CONFIG', 'GET', 'maxclients'], undefined],
      [['PING'], '+PONG\r\n'],
    ]),
  ),
);
