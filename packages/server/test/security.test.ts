/**
 * Faults and security: the cross-protocol scripting guard (an HTTP request must not run as
 * inline commands). SHRIKE_TEST_AGAINST=redis runs the same checks against redis-server.
 */
import t from 'tap';
import { cmd, RawClient, serverPerFile } from './harness';

const WARNING =
  'Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. ' +
  'This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. ' +
  'Connection from 127.0.0.1:';

const server = serverPerFile(['--threads', '2']);
const port = (): number => server().port;

/** Send `request` on a fresh connection; resolve to what came back and whether the server closed it. */
async function send(request: string): Promise<{ reply: string; closed: boolean }> {
  const c = await RawClient.open(port());
  try {
    c.send(request);
    const closed = await c.waitClosed(3000);
    return { reply: (await c.read(0, 0)).toString('latin1'), closed };
  } finally {
    c.close();
  }
}

t.test('an HTTP POST is cut off at its first line: no reply, closed, body not run, logged', async (t) => {
  const bystander = await RawClient.open(port());
  t.teardown(() => bystander.close());
  t.equal(await bystander.call(cmd('DEL', 'xproto'), 4), ':0\r\n');

  const body = 'SET xproto pwned\r\n';
  const got = await send(
    `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  t.same(got, { reply: '', closed: true }, 'closed without a reply');
  t.equal(await bystander.call(cmd('EXISTS', 'xproto'), 4), ':0\r\n', 'the body was not executed');
  t.equal(await bystander.call(cmd('PING'), 7), '+PONG\r\n', 'another client is unaffected');
  for (let i = 0; i < 50 && !server().output().includes(WARNING); i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(server().output().includes(WARNING), "Redis's warning, naming the peer, is logged");
});

t.test('a Host: line closes too, after the commands before it ran; any case, multibulk too', async (t) => {
  const bystander = await RawClient.open(port());
  t.teardown(() => bystander.close());
  // `GET / HTTP/1.1` is a GET with too many arguments: an error reply, then Host: ends it.
  const got = await send(`SET xproto:before 1\r\nGET / HTTP/1.1\r\nhOsT: example.com\r\n\r\nSET xproto:after 1\r\n`);
  t.equal(got.closed, true, 'closed');
  t.equal(await bystander.call(cmd('EXISTS', 'xproto:before', 'xproto:after'), 4), ':1\r\n', 'only the command before Host: ran');
  t.same(await send(cmd('post').toString('latin1')), { reply: '', closed: true }, 'POST as a RESP array');
  t.same(await send(cmd('HOST:', 'x').toString('latin1')), { reply: '', closed: true }, 'HOST: as a RESP array');
  t.equal(await bystander.call(cmd('DEL', 'xproto:before'), 4), ':1\r\n');
});

t.test('names that only look alike are ordinary unknown commands', async (t) => {
  const c = await RawClient.open(port());
  t.teardown(() => c.close());
  t.equal(await c.call(cmd('posts'), 30), "-ERR unknown command 'posts', with args beginning with: \r\n");
  t.equal(await c.call(cmd('host'), 30), "-ERR unknown command 'host', with args beginning with: \r\n");
});
