/**
 * Shrike under the stock `redis-cli`: one-shot commands, --raw and --no-raw output, RESP3
 * (-3), INFO threads, --scan, commands read from stdin, and --pipe mass insertion.
 */
import { spawn, spawnSync } from 'node:child_process';
import t from 'tap';
import { cmd, redisToolPath, serverPerFile } from './harness';

const REDIS_CLI = redisToolPath('redis-cli');
const haveCli = spawnSync(REDIS_CLI, ['--version']).status === 0;
const againstRedis = process.env.SHRIKE_TEST_AGAINST === 'redis';

/** Run redis-cli against the server; resolve to its exit code and output. */
function cli(
  port: number,
  args: readonly string[],
  input?: Buffer | string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(REDIS_CLI, ['-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('latin1');
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 20000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // redis-cli may exit before it reads stdin; the write then fails with EPIPE, which is fine.
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
  });
}

if (!haveCli) {
  t.plan(0, 'redis-cli is not installed');
} else {
  const server = serverPerFile(['--threads', '2']);
  const port = (): number => server().port;

  t.test('ping, set, get', async (t) => {
    t.same(await cli(port(), ['ping']), { code: 0, stdout: 'PONG\n', stderr: '' });
    t.equal((await cli(port(), ['flushall'])).stdout, 'OK\n');
    t.equal((await cli(port(), ['set', 'cli:a', 'hello world'])).stdout, 'OK\n');
    t.equal((await cli(port(), ['get', 'cli:a'])).stdout, 'hello world\n');
    t.equal((await cli(port(), ['incr', 'cli:n'])).stdout, '1\n');
    t.equal((await cli(port(), ['get', 'cli:missing'])).stdout, '\n', 'nil prints as an empty line when not on a tty');
    // In raw mode redis-cli prints an error followed by an empty line.
    t.equal((await cli(port(), ['nosuchcommand'])).stdout, "ERR unknown command 'nosuchcommand', with args beginning with: \n\n");
  });

  t.test('--raw and --no-raw', async (t) => {
    await cli(port(), ['set', 'cli:nl', 'a\nb']);
    t.equal((await cli(port(), ['--raw', 'get', 'cli:nl'])).stdout, 'a\nb\n', '--raw prints the bytes');
    t.equal((await cli(port(), ['--no-raw', 'get', 'cli:nl'])).stdout, '"a\\nb"\n', '--no-raw quotes and escapes');
    t.equal((await cli(port(), ['--no-raw', 'get', 'cli:missing'])).stdout, '(nil)\n');
    t.equal((await cli(port(), ['--no-raw', 'incr', 'cli:n'])).stdout, '(integer) 2\n');
    t.equal((await cli(port(), ['--no-raw', 'mget', 'cli:a', 'cli:missing'])).stdout, '1) "hello world"\n2) (nil)\n');
    t.equal((await cli(port(), ['--no-raw', 'incr', 'cli:a'])).stdout, '(error) ERR value is not an integer or out of range\n');
    await cli(port(), ['set', 'cli:bin', 'x\x01y']);
    t.equal((await cli(port(), ['--no-raw', 'get', 'cli:bin'])).stdout, '"x\\x01y"\n');
  });

  t.test('-3: HELLO and replies in RESP3', async (t) => {
    const hello = (await cli(port(), ['-3', '--no-raw', 'hello'])).stdout;
    t.match(hello, /^1# "server" => "redis"\n/, 'a map');
    t.match(hello, /\n3# "proto" => \(integer\) 3\n/, 'proto 3');
    t.match(hello, /\n7# "modules" => \(empty array\)\n$/);
    t.equal((await cli(port(), ['-3', '--no-raw', 'get', 'cli:missing'])).stdout, '(nil)\n', 'RESP3 null');
    const raw = (await cli(port(), ['-3', 'hello'])).stdout;
    t.match(raw, /^server redis\nversion \S+\nproto 3\nid \d+\nmode standalone\nrole master\nmodules\s*\n$/, 'raw map output');
  });

  t.test('info threads', async (t) => {
    const out = (await cli(port(), ['info', 'threads'])).stdout;
    if (againstRedis) {
      t.pass('redis-server has no threads section');
      return;
    }
    t.match(out, /^# Threads\r\n/, 'a Threads section');
    const rows = out.split('\r\n').filter((l) => l.startsWith('thread'));
    t.equal(rows.length, 2, 'one row per worker (--threads 2)');
    for (const [i, row] of rows.entries()) t.match(row, new RegExp(`^thread${i}:index=${i},`), `row ${i}`);
    t.match((await cli(port(), ['info'])).stdout, /\r\n# Threads\r\n/, 'INFO includes it by default');
  });

  t.test('--scan --pattern', async (t) => {
    const insert = Array.from({ length: 150 }, (_, i) => `set cli:scan:${i} v`).join('\n');
    await cli(port(), ['-n', '3'], `${insert}\nset cli:other v\n`);
    const out = (await cli(port(), ['-n', '3', '--scan', '--pattern', 'cli:scan:*'])).stdout;
    const keys = new Set(out.split('\n').filter((l) => l !== ''));
    t.equal(keys.size, 150, 'every matching key');
    t.ok(
      [...keys].every((k) => /^cli:scan:\d+$/.test(k)),
      'only matching keys',
    );
    const all = (await cli(port(), ['-n', '3', '--scan'])).stdout.split('\n').filter((l) => l !== '');
    t.equal(new Set(all).size, 151, '--scan without a pattern');
    await cli(port(), ['-n', '3', 'flushdb']);
  });

  t.test('commands from stdin', async (t) => {
    const r = await cli(port(), [], 'set cli:stdin 1\nget cli:stdin\nincr cli:stdin\nget cli:stdin\n');
    t.equal(r.stdout, 'OK\n1\n2\n2\n');
    const quoted = await cli(port(), [], 'set cli:q "a b\\x00c"\nstrlen cli:q\n');
    t.equal(quoted.stdout, 'OK\n5\n', 'redis-cli quoting reaches the server as bytes');
    const errors = await cli(port(), [], 'get\nping\n');
    t.equal(errors.stdout, "ERR wrong number of arguments for 'get' command\n\nPONG\n", 'an error does not stop the rest');
  });

  t.test('--pipe mass insertion of 10000 SETs', async (t) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 10000; i++) parts.push(cmd('SET', `cli:pipe:${i}`, `value-${i}`));
    const r = await cli(port(), ['-n', '7', '--pipe'], Buffer.concat(parts));
    t.equal(r.code, 0, `exit code (${r.stderr.trim()})`);
    t.match(r.stdout, /errors: 0, replies: 10000/, r.stdout.trim());
    t.equal((await cli(port(), ['-n', '7', 'dbsize'])).stdout, '10000\n');
    t.equal((await cli(port(), ['-n', '7', 'get', 'cli:pipe:9999'])).stdout, 'value-9999\n');
    await cli(port(), ['-n', '7', 'flushdb']);
  });
}
