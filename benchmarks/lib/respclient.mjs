/**
 * A one-command-at-a-time RESP client, enough for PING/INFO/DBSIZE/FLUSHALL between
 * runs. Kept dependency-free so the harness runs before `npm install` and so that the
 * client is identical for both servers.
 */

import net from 'node:net';

export function encodeCommand(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
  return parts.join('');
}

/** Parse one reply at `pos`; returns [value, nextPos] or undefined when incomplete. Errors become Error values. */
export function parseReply(buf, pos = 0) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$':
    case '=':
    case '!': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '_':
      return [null, next];
    case '*':
    case '~':
    case '>':
    case '%': {
      const n = Number(line) * (type === '%' ? 2 : 1);
      if (n < 0) return [null, next];
      const out = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p);
        if (!r) return undefined;
        out.push(r[0]);
        p = r[1];
      }
      return [out, p];
    }
    default:
      return [line, next];
  }
}

export class RespClient {
  static connect(port, host = '127.0.0.1', timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new RespClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.pending = [];
    socket.on('data', (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
    });
    const fail = (err) => {
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  drain() {
    while (this.pending.length) {
      const r = parseReply(this.buf, 0);
      if (!r) return;
      this.buf = this.buf.subarray(r[1]);
      const p = this.pending.shift();
      if (r[0] instanceof Error) p.reject(r[0]);
      else p.resolve(r[0]);
    }
  }

  command(...args) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  /**
   * Send every command of `list` (arrays of arguments) in one write; resolves to their
   * replies once all have come, or rejects with the first error reply.
   */
  async pipeline(list) {
    const payload = list.map((args) => encodeCommand(args)).join('');
    const replies = list.map(() => new Promise((resolve, reject) => this.pending.push({ resolve, reject })));
    this.socket.write(payload);
    const settled = await Promise.allSettled(replies);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => r.value);
  }

  close() {
    this.socket.destroy();
  }
}

/** Run one command on a fresh connection. */
export async function oneCommand(port, ...args) {
  const client = await RespClient.connect(port);
  try {
    return await client.command(...args);
  } finally {
    client.close();
  }
}

/** INFO [section] parsed into { field: value } (numbers where they look like numbers). */
export async function info(port, section) {
  const text = await oneCommand(port, ...(section ? ['INFO', section] : ['INFO']));
  const out = {};
  for (const line of text.split('\r\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i < 0) continue;
    const v = line.slice(i + 1);
    out[line.slice(0, i)] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return out;
}
