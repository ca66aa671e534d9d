/**
 * Both transports (io_uring, and Node sockets with `--io-uring no`) under the loads that
 * stress their edges: values far bigger than one read buffer, a client that stops reading
 * while its replies pile up, and more clients sending at once than the ring has buffers.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { cmd, RawClient, startShrike } from './harness';

/** TCP sockets the kernel holds allocated, machine-wide (/proc/net/sockstat `alloc`). */
function tcpSocketsAllocated(): number {
  const m = /^TCP: .*\balloc (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
  return Number(m?.[1] ?? Number.NaN);
}

/** Read replies until `n` bytes arrived (or the client closed), in as many reads as it takes. */
async function readExactly(c: RawClient, n: number, timeoutMs = 20000): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  const deadline = Date.now() + timeoutMs;
  while (got < n && Date.now() < deadline && !(c.closed && got === 0)) {
    const b = await c.read(1, Math.max(1, deadline - Date.now()));
    if (b.length === 0 && c.closed) break;
    parts.push(b);
    got += b.length;
  }
  return Buffer.concat(parts);
}

for (const mode of ['yes', 'no']) {
  t.test(`io-uring ${mode}`, async (t) => {
    const s = await startShrike(['--threads', '2', '--io-uring', mode]);
    t.teardown(() => s.stop());

    t.test('the worker serves through the transport asked for', async (t) => {
      const c = await RawClient.open(s.port);
      t.teardown(() => c.close());
      c.send(cmd('INFO', 'server'));
      let info = '';
      while (!/shrike_io:\w+\r\n/.test(info) && !c.closed) info += (await c.read(1)).toString();
      t.match(info, new RegExp(`shrike_io:${mode === 'yes' ? 'io_uring' : 'node'}\r\n`));
    });

    t.test('a value of several MB goes in and comes back intact', async (t) => {
      const c = await RawClient.open(s.port);
      t.teardown(() => c.close());
      const value = Buffer.alloc(5 * 1024 * 1024 + 7);
      for (let i = 0; i < value.length; i++) value[i] = (i * 131 + 7) & 0xff;
      t.equal(await c.call(cmd('SET', 'big', value), 5, 10000), '+OK\r\n');
      c.send(cmd('GET', 'big'));
      const header = `$${value.length}\r\n`;
      const reply = await readExactly(c, header.length + value.length + 2);
      t.equal(reply.subarray(0, header.length).toString(), header);
      t.ok(reply.subarray(header.length, header.length + value.length).equals(value), 'bytes identical');
    });

    t.test('a client that does not read gets every reply once it does', async (t) => {
      const c = await RawClient.open(s.port);
      t.teardown(() => c.close());
      const value = Buffer.alloc(256 * 1024, 0x61);
      t.equal(await c.call(cmd('SET', 'v256k', value), 5), '+OK\r\n');
      // 200 x 256 KiB = 50 MiB of replies, far past the output high-water mark.
      c.socket.pause();
      const n = 200;
      c.send(Buffer.concat(Array.from({ length: n }, () => cmd('GET', 'v256k'))));
      await new Promise((r) => setTimeout(r, 300));
      // The server keeps serving others meanwhile.
      const other = await RawClient.open(s.port);
      t.teardown(() => other.close());
      t.equal(await other.call(cmd('PING'), 7), '+PONG\r\n', 'others are served while one client lags');
      c.socket.resume();
      const one = `$${value.length}\r\n`.length + value.length + 2;
      const replies = await readExactly(c, n * one, 30000);
      t.equal(replies.length, n * one, 'every reply arrived, in full');
      t.equal(replies.subarray(replies.length - one, replies.length - one + 8).toString(), `$${value.length}\r\n`.slice(0, 8));
    });

    t.test('300 clients sending pipelines at once all get their replies', async (t) => {
      const clients = await Promise.all(Array.from({ length: 300 }, () => RawClient.open(s.port)));
      t.teardown(() => {
        for (const c of clients) c.close();
      });
      const per = 50;
      for (const [i, c] of clients.entries()) c.send(Buffer.concat(Array.from({ length: per }, () => cmd('INCR', `ctr:${i}`))));
      const want = Array.from({ length: per }, (_, j) => `:${j + 1}\r\n`).join('');
      const replies = await Promise.all(clients.map((c) => readExactly(c, want.length)));
      const ok = replies.filter((r) => r.toString() === want).length;
      t.equal(ok, clients.length, 'every client got its 50 replies in order');
    });

    t.test('requests cut anywhere between reads run whole, once, in order', async (t) => {
      const c = await RawClient.open(s.port);
      t.teardown(() => c.close());
      c.socket.setNoDelay(true);
      // Values around the sizes where the read buffer and the big-argument path change.
      const value = (n: number, seed: number) => {
        const v = Buffer.alloc(n);
        for (let i = 0; i < n; i++) v[i] = 97 + ((i * 7 + seed) % 26);
        return v;
      };
      const parts: Buffer[] = [];
      let want = '';
      const sizes = [16 * 1024, 3, 40 * 1024, 16 * 1024 + 5, 0, 300, 16 * 1024, 70 * 1024];
      for (const [i, n] of sizes.entries()) {
        const v = value(n, i);
        parts.push(cmd('SET', `cut:${i}`, v), Buffer.from('PING\r\n'), cmd('GET', `cut:${i}`));
        want += `+OK\r\n+PONG\r\n$${n}\r\n${v.toString('latin1')}\r\n`;
        const pairs = Array.from({ length: 40 }, (_, j) => [`cut:${i}:${j}`, `v${j}`]).flat();
        parts.push(cmd('MSET', ...pairs), cmd('GET', `cut:${i}:39`));
        want += '+OK\r\n$3\r\nv39\r\n';
      }
      const stream = Buffer.concat(parts);
      // Cuts inside `*N` and `$N` lines, inside bodies, at CRLFs and between requests: every
      // offset of the first request's head, then a spread over the whole stream.
      const cuts = new Set<number>();
      for (let k = 1; k < 30; k++) cuts.add(k);
      for (let k = 1; k < 60; k++) cuts.add(Math.floor((stream.length * k) / 60) + (k % 7));
      const at = [...cuts].filter((x) => x < stream.length).sort((a, b) => a - b);
      let from = 0;
      for (const to of [...at, stream.length]) {
        c.send(stream.subarray(from, to));
        from = to;
        await new Promise((r) => setTimeout(r, 3));
      }
      const got = await readExactly(c, Buffer.byteLength(want, 'latin1'));
      t.equal(got.length, Buffer.byteLength(want, 'latin1'), 'every reply arrived');
      t.ok(got.equals(Buffer.from(want, 'latin1')), 'replies byte for byte');
    });

    t.test('a client that closes with replies pending does not disturb the others', async (t) => {
      const quitter = await RawClient.open(s.port);
      quitter.send(Buffer.concat(Array.from({ length: 200 }, () => cmd('GET', 'v256k'))));
      quitter.close();
      const c = await RawClient.open(s.port);
      t.teardown(() => c.close());
      t.equal(await c.call(cmd('PING'), 7), '+PONG\r\n');
      t.equal(await c.call(cmd('QUIT'), 5), '+OK\r\n');
      t.ok(await c.waitClosed(), 'QUIT closes after its reply');
    });

    t.test('a client gone leaves no socket behind in the kernel', async (t) => {
      // The ring keeps each client's socket in its file table too (crates/binding/src/uring.rs
      // `on_socket`): a slot not cleared when its client goes holds the socket until a later
      // client takes the slot. A server of its own, so that no earlier client took one.
      const own = await startShrike(['--threads', '1', '--io-uring', mode]);
      t.teardown(() => own.stop());
      const before = tcpSocketsAllocated();
      const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.open(own.port)));
      // Half leave by QUIT (the server closes first), half by closing their end.
      await Promise.all(clients.map((c, i) => c.call(cmd(i % 2 === 0 ? 'QUIT' : 'PING'), i % 2 === 0 ? 5 : 7)));
      await Promise.all(clients.map(async (c, i) => (i % 2 === 0 ? c.waitClosed() : c.close())));
      let after = tcpSocketsAllocated();
      for (let i = 0; i < 50 && after - before >= 40; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = tcpSocketsAllocated();
      }
      // Other processes on the machine may open a few sockets meanwhile.
      t.ok(after - before < 40, `TCP sockets allocated: ${before} before 200 clients, ${after} after`);
    });
  });
}
