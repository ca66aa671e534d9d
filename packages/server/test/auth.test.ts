/**
 * Passwords are bytes: a UTF-8 requirepass set in the config file, on the command line or by
 * CONFIG SET matches the same UTF-8 bytes from AUTH, HELLO AUTH and `redis-cli -a`, and
 * nothing else (not its latin1 spelling). SHRIKE_TEST_AGAINST=redis runs the command-line and
 * CONFIG SET cases against redis-server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cmd, RawClient, type Running, redisToolPath, startShrike, startUnderTest } from './harness';

const PASS = 'pässwört-密码';
const UTF8 = Buffer.from(PASS, 'utf8');
/** The same characters one byte each where latin1 has them: what a latin1 comparison would accept. */
const LATIN1 = Buffer.from('pässwört', 'latin1');

/** Run redis-cli with `-a PASS`; resolve to its stdout. */
function cli(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(redisToolPath('redis-cli'), ['-p', String(port), '-a', PASS, '--no-auth-warning', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    p.on('error', reject);
    p.on('close', () => resolve(out));
  });
}

/** AUTH, HELLO AUTH and redis-cli against a server whose requirepass is PASS. */
async function checkPassword(t: Test, s: Running): Promise<void> {
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('GET', 'k'), 10), '-NOAUTH Authentication required.\r\n');
  t.equal(
    await c.call(cmd('AUTH', LATIN1), 10),
    '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
    'latin1 bytes refused',
  );
  t.equal(
    await c.call(cmd('AUTH', UTF8.subarray(0, UTF8.length - 1)), 10),
    '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
  );
  t.equal(await c.call(cmd('AUTH', UTF8), 5), '+OK\r\n', 'AUTH with the UTF-8 bytes');
  t.equal(await c.call(cmd('AUTH', 'default', UTF8), 5), '+OK\r\n', 'AUTH default with the UTF-8 bytes');

  const h = await RawClient.open(s.port);
  t.teardown(() => h.close());
  t.match(await h.call(cmd('HELLO', '3', 'AUTH', 'default', LATIN1), 10), /^-WRONGPASS/, 'HELLO AUTH: latin1 bytes refused');
  t.match(await h.call(cmd('HELLO', '3', 'AUTH', 'default', UTF8), 40), /^%7\r\n/, 'HELLO 3 AUTH with the UTF-8 bytes');
  t.equal(await h.call(cmd('PING'), 7), '+PONG\r\n');

  t.equal(await cli(s.port, ['ping']), 'PONG\n', 'redis-cli -a');
  t.equal(await cli(s.port, ['-3', 'ping']), 'PONG\n', 'redis-cli -3 -a');
}

t.test('from the config file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shrike-auth-'));
  const file = join(dir, 'shrike.conf');
  writeFileSync(file, `requirepass "${PASS}"\n`, 'utf8');
  const s = await startShrike([], file);
  t.teardown(() => s.stop());
  await checkPassword(t, s);
});

t.test('from the command line', async (t) => {
  const s = await startUnderTest(['--requirepass', PASS], ['--requirepass', PASS]);
  t.teardown(() => s.stop());
  await checkPassword(t, s);
});

t.test('from CONFIG SET, by raw RESP and by redis-cli; CONFIG GET gives the bytes back', async (t) => {
  const s = await startUnderTest(['--threads', '2']);
  t.teardown(() => s.stop());
  const admin = await RawClient.open(s.port);
  t.teardown(() => admin.close());
  t.equal(await admin.call(cmd('CONFIG', 'SET', 'requirepass', UTF8), 5), '+OK\r\n');
  const get = Buffer.concat([Buffer.from(`*2\r\n$11\r\nrequirepass\r\n$${UTF8.length}\r\n`), UTF8, Buffer.from('\r\n')]);
  t.equal(await admin.call(cmd('CONFIG', 'GET', 'requirepass'), get.length), get.toString('latin1'), 'the same bytes');
  // Every worker has the new password: many connections land on both.
  for (let i = 0; i < 4; i++) await checkPassword(t, s);

  t.equal(await cli(s.port, ['config', 'set', 'requirepass', `${PASS}!`]), 'OK\n', 'redis-cli authenticates, then sets');
  const c = await RawClient.open(s.port);
  t.teardown(() => c.close());
  t.match(await c.call(cmd('AUTH', UTF8), 10), /^-WRONGPASS/, 'the old password no longer works');
  t.equal(await c.call(cmd('AUTH', Buffer.from(`${PASS}!`, 'utf8')), 5), '+OK\r\n', 'the new one does');
  t.equal(await c.call(cmd('CONFIG', 'SET', 'requirepass', ''), 5), '+OK\r\n');
});
