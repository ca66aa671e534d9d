/**
 * Fast bulk loader: SET key:%012d <value> over raw sockets, thousands of commands per
 * write and several writes in flight. redis-benchmark's `key:__rand_int__` expands to the
 * same `key:` + 12 digits, so loading 0..N-1 makes every GET of a -r N run a hit, and
 * 16-byte keys are what the memory comparison asks for.
 */

import net from 'node:net';

function connect(port, host) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A SET command with a fixed-width key; returns the template and where the digits go. */
function template(prefix, digits, value) {
  const key = prefix + '0'.repeat(digits);
  const text = `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n`;
  const head = Buffer.from(text, 'latin1');
  const valueCrlf = Buffer.concat([value, Buffer.from('\r\n')]);
  const buf = Buffer.concat([head, valueCrlf]);
  const digitsAt = head.length - (`\r\n$${value.length}\r\n`.length + digits);
  return { buf, digitsAt, prefix, value, valueCrlf };
}

/** `count` SETs for keys first..first+count-1 (fixed-width digits: patch a template). */
function fillBatch(tpl, digits, first, count) {
  if (digits === 0) return fillBatchUnpadded(tpl, first, count);
  const size = tpl.buf.length;
  const out = Buffer.allocUnsafe(size * count);
  for (let i = 0; i < count; i++) {
    const base = i * size;
    tpl.buf.copy(out, base);
    let n = first + i;
    for (let d = digits - 1; d >= 0; d--) {
      out[base + tpl.digitsAt + d] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
  }
  return out;
}

/** Keys of varying width (`key:7`, `key:12345`), as loadgen names them. */
function fillBatchUnpadded(tpl, first, count) {
  const parts = [];
  for (let i = 0; i < count; i++) {
    const key = tpl.prefix + (first + i);
    parts.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${tpl.value.length}\r\n`, 'latin1'), tpl.valueCrlf);
  }
  return Buffer.concat(parts);
}

async function loadRange(port, host, { tpl, digits, from, to, batch, window }) {
  const socket = await connect(port, host);
  socket.setNoDelay(true);
  let sent = from;
  let replies = 0;
  let errors = 0;
  let firstError = '';
  let atLineStart = true;
  let errLine = null;
  const total = to - from;
  return new Promise((resolve, reject) => {
    const pump = () => {
      // Keep `window` batches in flight: enough to hide the round trip, bounded so the
      // server's output buffers and ours stay small.
      while (sent < to && sent - from - replies < window * batch) {
        const count = Math.min(batch, to - sent);
        socket.write(fillBatch(tpl, digits, sent, count));
        sent += count;
      }
    };
    socket.on('data', (chunk) => {
      // Replies to SET are single lines (+OK or -ERR ...): counting '\n' counts replies.
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        if (atLineStart && b === 45) {
          errors++;
          errLine = [];
        }
        if (b === 10) {
          replies++;
          atLineStart = true;
          if (errLine) {
            if (!firstError) firstError = Buffer.from(errLine).toString().trim();
            errLine = null;
          }
        } else {
          atLineStart = false;
          if (errLine && errLine.length < 200) errLine.push(b);
        }
      }
      if (replies >= total) {
        socket.destroy();
        resolve({ replies, errors, firstError });
      } else pump();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (replies < total) reject(new Error(`connection closed after ${replies}/${total} replies`));
    });
    pump();
  });
}

/**
 * SET key:<first..first+count-1> to a `valueSize`-byte value, split over `connections`
 * sockets (contiguous ranges). Keys have `digits` zero-padded digits; digits: 0 writes
 * plain decimal numbers instead. Resolves with counts and the load rate; rejects on any error reply.
 */
export async function loadKeys(
  port,
  { count, valueSize = 32, first = 0, prefix = 'key:', digits = 12, connections = 2, batch = 2000, window = 8, host = '127.0.0.1' },
) {
  const value = Buffer.alloc(valueSize, 'x');
  const tpl = template(prefix, digits, value);
  const per = Math.ceil(count / connections);
  const started = process.hrtime.bigint();
  const jobs = [];
  for (let c = 0; c < connections; c++) {
    const from = first + c * per;
    const to = Math.min(first + count, from + per);
    if (from < to) jobs.push(loadRange(port, host, { tpl, digits, from, to, batch, window }));
  }
  const results = await Promise.all(jobs);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const errors = results.reduce((s, r) => s + r.errors, 0);
  if (errors) throw new Error(`${errors} SETs failed while loading: ${results.find((r) => r.firstError)?.firstError}`);
  return { keys: count, seconds, keysPerSecond: count / seconds };
}
