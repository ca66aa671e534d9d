import t from 'tap';
import { type Reply, ReplyError } from './compare';
import { startFakeServer } from './fake-server';
import { ConnectionError, encodeCommand, ProtocolError, Resp2Client, Resp2Parser, TimeoutError } from './resp2-client';

/** Parses the bytes as one chunk and again byte by byte; both must agree. */
function parseAll(bytes: Buffer): { whole: Reply[]; split: Reply[] } {
  const take = (p: Resp2Parser, out: Reply[]) => {
    for (let r = p.next(); r !== undefined; r = p.next()) out.push(r);
  };
  const whole: Reply[] = [];
  const a = new Resp2Parser();
  a.push(bytes);
  take(a, whole);
  const split: Reply[] = [];
  const b = new Resp2Parser();
  for (let i = 0; i < bytes.length; i++) {
    b.push(bytes.subarray(i, i + 1));
    take(b, split);
  }
  return { whole, split };
}

const cases: [string, string | Buffer, Reply[]][] = [
  ['simple string', '+OK\r\n', ['OK']],
  ['error', '-ERR no\r\n', [new ReplyError('ERR no')]],
  ['integer', ':-42\r\n', [-42]],
  ['big integer stays exact', ':9223372036854775807\r\n', [9223372036854775807n]],
  ['bulk', '$5\r\nhello\r\n', ['hello']],
  ['bulk with CRLF inside', '$4\r\na\r\nb\r\n', ['a\r\nb']],
  ['empty bulk', '$0\r\n\r\n', ['']],
  ['nil bulk', '$-1\r\n', [null]],
  ['nil array', '*-1\r\n', [null]],
  ['empty array', '*0\r\n', [[]]],
  ['nested', '*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR x\r\n', [[1, ['a', null], new ReplyError('ERR x')]]],
  ['utf-8 text', Buffer.from('$2\r\n\xc3\xa9\r\n', 'latin1'), ['\u00e9']],
  ['BOM is kept', Buffer.from('$3\r\n\xef\xbb\xbf\r\n', 'latin1'), ['\ufeff']],
  ['invalid utf-8', Buffer.from('$1\r\n\xff\r\n', 'latin1'), [new ReplyError('invalid UTF-8 in string reply: 0xff', 'utf8')]],
  ['two replies', '+A\r\n+B\r\n', ['A', 'B']],
];

t.test('Resp2Parser decodes as redis-py does, whole and byte by byte', async (t) => {
  for (const [name, input, expected] of cases) {
    const { whole, split } = parseAll(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'));
    t.same(whole, expected, `${name} (whole)`);
    t.same(split, expected, `${name} (byte by byte)`);
  }
});

t.test('Resp2Parser rejects what is not RESP2', async (t) => {
  for (const bad of ['%1\r\n', ':12a\r\n', '$x\r\n', '+OK\rX', '$1\r\nab\r\n']) {
    const p = new Resp2Parser();
    p.push(Buffer.from(bad));
    t.throws(() => p.next(), ProtocolError, JSON.stringify(bad));
  }
  const p = new Resp2Parser();
  p.push(Buffer.from('$5\r\nhel'));
  t.equal(p.next(), undefined, 'incomplete is not an error');
  t.equal(p.pending, 7);
});

t.test('encodeCommand', async (t) => {
  t.equal(encodeCommand([Buffer.from('GET'), Buffer.from('k')]).toString(), '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
  t.equal(encodeCommand([Buffer.from('SET'), Buffer.from([0, 0xff])]).toString('latin1'), '*2\r\n$3\r\nSET\r\n$2\r\n\x00\xff\r\n');
});

t.test('Resp2Client against a scripted server', async (t) => {
  const server = await startFakeServer((args) => {
    switch (args[0]) {
      case 'PING':
        return '+PONG\r\n';
      case 'SLOW':
        return undefined;
      case 'TWICE':
        return '+A\r\n+B\r\n';
      case 'BYE':
        return 'close';
      default:
        return '-ERR unknown\r\n';
    }
  });
  t.teardown(() => server.close());

  const c = await Resp2Client.connect('127.0.0.1', server.port, 1000);
  t.equal(await c.call([Buffer.from('PING')], 1000), 'PONG');
  t.same(await c.call([Buffer.from('NOPE')], 1000), new ReplyError('ERR unknown'));
  t.ok(c.ready);

  t.equal(await c.call([Buffer.from('TWICE')], 1000), 'A');
  await new Promise((r) => setImmediate(r));
  t.notOk(c.ready, 'an extra reply makes the connection unusable, as redis-py finds');

  const d = await Resp2Client.connect('127.0.0.1', server.port, 1000);
  await t.rejects(d.call([Buffer.from('SLOW')], 50), TimeoutError);
  t.notOk(d.ready, 'a timed-out connection is dropped');
  await t.rejects(d.call([Buffer.from('PING')], 50), TimeoutError, 'and stays failed');

  const e = await Resp2Client.connect('127.0.0.1', server.port, 1000);
  await t.rejects(e.call([Buffer.from('BYE')], 1000), ConnectionError);
  t.notOk(e.ready);

  await t.rejects(Resp2Client.connect('127.0.0.1', 1, 1000), ConnectionError, 'refused');
  c.close();
});
