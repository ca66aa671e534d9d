/**
 * MONITOR across workers: a monitor on one worker sees the commands of clients on every
 * worker, in Redis's line format, through both transports; admin commands and AUTH secrets
 * stay hidden; RESET and disconnect end it.
 */
import t from 'tap';
import { clientsOnBothWorkers, cmd, RawClient, readReply, startRedis, startShrike } from './harness';

/** Read lines from a monitor until `n` arrived. */
async function lines(c: RawClient, n: number): Promise<string[]> {
  let got = '';
  const deadline = Date.now() + 5000;
  while (got.split('\r\n').length - 1 < n && Date.now() < deadline && !c.closed) got += (await c.read(1, 500)).toString('latin1');
  return got.split('\r\n').filter((l) => l !== '');
}

const LINE = /^\+\d{10}\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] (.*)$/;

for (const io of ['yes', 'no']) {
  t.test(`a monitor sees every worker's commands (io-uring ${io})`, async (t) => {
    const s = await startShrike(['--threads', '2', '--io-uring', io]);
    t.teardown(() => s.stop());
    const [a, b] = await clientsOnBothWorkers(s.port);
    const mon = a as RawClient;
    const other = b as RawClient;
    t.equal(await readReply(mon, cmd('MONITOR')), '+OK\r\n');
    // A second MONITOR is ignored without a reply, as Redis does; the next command answers.
    mon.send(cmd('MONITOR'));
    await readReply(other, cmd('SET', 'k', 'a\nb"\x01'));
    await readReply(other, cmd('SELECT', '3'));
    await readReply(other, cmd('GET', 'k'));
    await readReply(other, cmd('CONFIG', 'GET', 'port'));
    await readReply(other, cmd('AUTH', 'secret'));
    const got = (await lines(mon, 4)).map((l) => LINE.exec(l));
    t.same(
      got.map((m) => m && [m[1], m[2]]),
      [
        ['0', '"SET" "k" "a\\nb\\"\\x01"'],
        ['3', '"SELECT" "3"'],
        ['3', '"GET" "k"'],
        ['3', '"AUTH" "(redacted)"'],
      ],
      'format, db (after the command, as Redis), escapes and redaction; CONFIG (admin) not shown',
    );
    // The monitor's own commands are seen too; keyspace commands are refused, as a replica's.
    mon.send(cmd('PING'));
    t.match((await lines(mon, 2)).join('\n'), /"PING"/);
    mon.send(cmd('GET', 'k'));
    t.match((await lines(mon, 1)).join('\n'), /^-ERR Replica can't interact with the keyspace$/m);
    t.equal(await readReply(mon, cmd('RESET')), '+RESET\r\n');
    await readReply(other, cmd('SET', 'after', 'reset'));
    t.equal((await mon.read(1, 300)).length, 0, 'no lines after RESET');
    t.equal(await readReply(mon, cmd('MONITOR')), '+OK\r\n');
    mon.close();
    await new Promise((r) => setTimeout(r, 200));
    // A monitor that went away leaves nothing behind: commands still run and answer.
    t.equal(await readReply(other, cmd('SET', 'x', 'y')), '+OK\r\n');
    const info = await readReply(other, cmd('CLIENT', 'LIST'));
    t.notMatch(info, /flags=O/);
    other.close();
  });
}

t.test('the line format is the reference server’s', async (t) => {
  const r = await startRedis();
  t.teardown(() => r.stop());
  const mon = await RawClient.open(r.port);
  const other = await RawClient.open(r.port);
  t.equal(await readReply(mon, cmd('MONITOR')), '+OK\r\n');
  t.equal(await readReply(mon, cmd('GET', 'k')), "-ERR Replica can't interact with the keyspace\r\n");
  await readReply(other, cmd('SET', 'k', 'a\nb"\x01'));
  await readReply(other, cmd('SELECT', '3'));
  await readReply(other, cmd('AUTH', 'secret'));
  const got = (await lines(mon, 3)).map((l) => LINE.exec(l)?.slice(1, 3).join(' '));
  t.same(got, ['0 "SET" "k" "a\\nb\\"\\x01"', '3 "SELECT" "3"', '3 "AUTH" "(redacted)"']);
  mon.close();
  other.close();
});
