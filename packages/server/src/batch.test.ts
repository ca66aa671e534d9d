import { Request } from '@shrike/resp3';
import t from 'tap';
import { commandWords, readCommand, writeCommand } from './batch';

/** A request whose arguments are the words of `line`, over `line` itself. */
function request(line: string): Request {
  const req = new Request();
  req.src = Buffer.from(line, 'latin1');
  let at = 0;
  for (const word of line.split(' ')) {
    req.starts[req.argc] = at;
    req.ends[req.argc] = at + word.length;
    req.argc++;
    at += word.length + 1;
  }
  return req;
}

t.test('commands written one after another read back as they were', async (t) => {
  const src = 'SET key value';
  let words = new Uint32Array(2);
  let len = 0;
  for (const [op, line] of [
    [7, src],
    [3, 'GET key'],
  ] as const) {
    const req = request(line);
    words = writeCommand(words, len, op, req);
    len += commandWords(req.argc);
  }
  t.equal(len, 8 + 6, 'op and argc, then two words an argument');
  t.ok(words.length >= len, `grown from 2 to ${words.length}`);
  t.same([...words.subarray(0, len)], [7, 3, 0, 3, 4, 7, 8, 13, 3, 2, 0, 3, 4, 7]);

  const out = new Request();
  const bytes = Buffer.from(src, 'latin1');
  const next = readCommand(words, 0, bytes, out);
  t.equal(next, 8, 'the next command starts after the first');
  t.equal(out.src, bytes);
  t.same(
    Array.from({ length: out.argc }, (_, i) => bytes.toString('latin1', out.starts[i], out.ends[i])),
    ['SET', 'key', 'value'],
  );
  t.equal(readCommand(words, next, bytes, out), len);
  t.equal(out.argc, 2);
});

t.test('a command that fits leaves the array as it is', async (t) => {
  const words = new Uint32Array(64);
  t.equal(writeCommand(words, 0, 1, request('PING')), words);
});
