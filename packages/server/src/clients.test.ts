import { Request } from '@shrike/resp3';
import pino from 'pino';
import t from 'tap';
import { ClientPause, ClientTable, closeIdle, matches, PAUSE_ALL, PAUSE_WRITE, pauseBytes, releasePaused } from './clients';
import { COMMAND_SPECS } from './commands/spec.generated';
import { specFlags } from './commands/table';
import type { Command } from './commands/types';
import type { Connection } from './connection';

/** A command as the table resolves it, with its real Redis 7.2 flags. */
function command(name: string): Command {
  const spec = COMMAND_SPECS.get(name);
  if (spec === undefined) throw new Error(name);
  return { name, spec, ...specFlags(spec) } as unknown as Command;
}

/** The connection state the registry reads. */
function client(over: Partial<Connection> = {}): Connection {
  const base = {
    id: 1,
    closed: false,
    addr: '127.0.0.1:5000',
    laddr: '127.0.0.1:6379',
    createdAtMs: Date.now(),
    lastActiveMs: Date.now(),
    sub: 0,
    psub: 0,
    ssub: 0,
    multi: -1,
    multiMem: 0,
    multiMayWrite: false,
    blocked: false,
    suspended: false,
    monitor: false,
    destroyed: 0,
    destroy() {
      this.destroyed++;
    },
  };
  return Object.assign(base, over) as unknown as Connection;
}

/** A parsed request of these arguments. */
function request(...args: string[]): Request {
  const req = new Request();
  let pos = 0;
  for (const [i, a] of args.entries()) {
    req.starts[i] = pos;
    req.ends[i] = pos + a.length;
    pos += a.length;
  }
  req.argc = args.length;
  return req;
}

t.test('which commands CLIENT PAUSE WRITE holds: write and may_replicate', async (t) => {
  for (const name of ['set', 'del', 'incr', 'blpop', 'publish', 'spublish', 'pfcount', 'eval', 'evalsha', 'fcall', 'flushall'])
    t.ok(command(name).mayReplicate, name);
  for (const name of ['get', 'ping', 'info', 'eval_ro', 'fcall_ro', 'client|pause', 'exec', 'multi', 'subscribe'])
    t.notOk(command(name).mayReplicate, name);
});

t.test('filters: every one set must match', async (t) => {
  const now = Date.now();
  const c = client({ id: 7, createdAtMs: now - 5000 });
  t.ok(matches(c, {}, now));
  t.ok(matches(c, { ids: [3, 7] }, now));
  t.notOk(matches(c, { ids: [3] }, now));
  t.ok(matches(c, { type: 'normal' }, now));
  t.notOk(matches(c, { type: 'pubsub' }, now));
  t.notOk(matches(c, { type: 'master' }, now));
  t.notOk(matches(c, { type: 'slave' }, now));
  t.ok(matches(client({ psub: 1 }), { type: 'pubsub' }, now), 'a pattern subscriber is pubsub');
  t.ok(matches(client({ ssub: 2 }), { type: 'pubsub' }, now), 'a shard subscriber is pubsub');
  t.notOk(matches(client({ sub: 1 }), { type: 'normal' }, now));
  t.ok(matches(client({ monitor: true }), { type: 'normal' }, now), 'a monitor is normal (getClientType)');
  t.ok(matches(c, { addr: '127.0.0.1:5000', laddr: '127.0.0.1:6379', user: 'default' }, now));
  t.notOk(matches(c, { addr: '127.0.0.1:5000', laddr: '127.0.0.1:6380' }, now));
  t.ok(matches(c, { maxAgeSec: 4 }, now), 'MAXAGE: connected at least that long ago');
  t.notOk(matches(c, { maxAgeSec: 10 }, now));
  t.notOk(matches(client({ closed: true }), {}, now), 'a closing client is gone');
});

t.test('timeout closes idle clients, not blocked, paused, subscribed or monitoring ones', async (t) => {
  const log = pino({ level: 'silent' });
  const now = Date.now();
  const old = now - 10_000;
  const idle = client({ lastActiveMs: old });
  const fresh = client({ lastActiveMs: now });
  const spared = [
    client({ lastActiveMs: old, blocked: true }),
    client({ lastActiveMs: old, suspended: true } as Partial<Connection>),
    client({ lastActiveMs: old, sub: 1 }),
    client({ lastActiveMs: old, monitor: true }),
  ];
  t.equal(closeIdle([idle, fresh, ...spared], 5, now, log), 1);
  t.equal((idle as unknown as { destroyed: number }).destroyed, 1);
  for (const c of [fresh, ...spared]) t.equal((c as unknown as { destroyed: number }).destroyed, 0);
  // Whole seconds, as Redis's server.unixtime: idle for 2 s against a timeout of 1 is closed, for 1 s not.
  const sec = Math.floor(now / 1000) * 1000;
  t.equal(closeIdle([client({ lastActiveMs: sec - 1 })], 1, sec + 999, log), 0, 'idle for 1 whole second');
  t.equal(closeIdle([client({ lastActiveMs: sec - 1001 })], 1, sec + 1, log), 1, 'idle for 2 whole seconds');
});

t.test('CLIENT PAUSE state: only extends, WRITE keeps ALL, UNPAUSE clears, expiry rests with it', async (t) => {
  const shared = new SharedArrayBuffer(pauseBytes(2));
  const rests: number[] = [];
  const a = new ClientPause(shared, 0, (ms) => rests.push(ms));
  const b = new ClientPause(shared, 1, () => {});
  const now = Date.now();
  t.equal(a.actions(), 0);
  t.notOk(b.engaged);
  a.pause(now + 60_000, false);
  t.equal(b.actions(), PAUSE_WRITE, 'every worker sees it');
  a.pause(now + 1_000, true);
  t.equal(b.actions(), PAUSE_ALL, 'ALL over WRITE');
  t.same(rests, [now + 60_000, now + 60_000], 'a shorter pause keeps the later end');
  b.pause(now + 2_000, false);
  t.equal(a.actions(), PAUSE_ALL, 'WRITE does not weaken ALL');
  b.pause(0, true);
  t.equal(a.actions(), PAUSE_ALL, 'PAUSE 0 changes nothing in force');
  a.unpause();
  t.equal(b.actions(), 0);
  t.equal(rests.at(-1), 0, 'expiry runs again');
  b.pause(now - 1, true);
  t.equal(a.actions(), 0, 'an end already past pauses nothing');
  t.notOk(a.engaged);
  // A pause whose end passed is cleared by the first worker to look.
  const late = new ClientPause(new SharedArrayBuffer(pauseBytes(1)), 0, () => {});
  late.pause(Date.now() + 30, false);
  await new Promise((r) => setTimeout(r, 60));
  t.ok(late.engaged, 'still marked');
  t.equal(late.actions(), 0, 'seen to be over');
  t.notOk(late.engaged, 'and cleared');
});

t.test('CLIENT PAUSE holds: ALL every command, WRITE writes and an EXEC that queued one', async (t) => {
  const shared = new SharedArrayBuffer(pauseBytes(2));
  const p = new ClientPause(shared, 0, () => {});
  const other = new ClientPause(shared, 1, () => {});
  const c = client();
  const get = request('get', 'k');
  const set = request('set', 'k', 'v');
  t.notOk(p.holds(c, command('set'), set), 'nothing paused');
  p.pause(Date.now() + 60_000, false);
  t.ok(p.holds(c, command('set'), set));
  t.ok(p.holds(c, command('publish'), request('publish', 'ch', 'm')));
  t.notOk(p.holds(c, command('get'), get));
  t.notOk(p.holds(client({ monitor: true }), command('set'), set), 'never a monitor');

  // In MULTI: commands queued before the pause make EXEC a write.
  p.unpause();
  const m = client({ multi: 0 });
  t.notOk(p.holds(m, command('set'), set));
  t.equal(m.multiMem, 5 + 3 * 8, 'multi-mem: argument bytes and a pointer each (multi.c)');
  t.ok(m.multiMayWrite);
  p.pause(Date.now() + 60_000, false);
  t.ok(p.holds(m, command('exec'), request('exec')), 'EXEC of a queued write waits');
  const r = client({ multi: 0 });
  t.notOk(p.holds(r, command('get'), get), 'a read is queued under WRITE');
  t.notOk(p.holds(r, command('exec'), request('exec')), 'EXEC of reads runs');
  t.ok(p.holds(r, command('set'), set), 'a write is not even queued while paused');
  t.notOk(r.multiMayWrite, 'and not counted');
  r.multi = -1;
  t.notOk(p.holds(r, command('get'), get));
  t.equal(r.multiMem, 0, 'out of MULTI: reset');

  p.pause(Date.now() + 60_000, true);
  t.ok(p.holds(c, command('get'), get), 'ALL: reads too');
  t.ok(p.holds(c, command('client|unpause'), request('client', 'unpause')), 'ALL: even UNPAUSE');

  // Held clients: counted per worker for INFO, released in order.
  const order: number[] = [];
  const held = [1, 2, 3].map((id) => client({ id, unpause: () => order.push(id) } as Partial<Connection>));
  for (const h of held) p.hold(h);
  other.hold(client({ id: 9, unpause: () => order.push(9) } as Partial<Connection>));
  t.equal(p.heldTotal, 4, 'over both workers');
  p.forget(held[1] as Connection);
  t.equal(other.heldTotal, 3);
  p.release();
  t.same(order, [1, 3], 'released in the order held');
  t.equal(p.heldTotal, 1, "the other worker's still held");
  releasePaused(shared, 1);
  t.equal(p.heldTotal, 0, "a dead worker's count is cleared");
  p.unpause();
  other.release();
  t.same(order, [1, 3, 9]);
});

t.test('ClientTable: by id, deletes seen by an iteration under way, places reused and compacted', async (t) => {
  const table = new ClientTable();
  const all = Array.from({ length: 100 }, (_, i) => client({ id: i + 1 }));
  for (const c of all) table.add(c);
  t.equal(table.size, 100);
  t.equal(table.get(42), all[41]);
  t.equal(table.get(1000), undefined);
  t.notOk(table.delete(client({ id: 42 })), 'another connection with the same id is not this one');

  // Deleting ahead of an iteration hides those clients; the iteration still ends.
  const seen: number[] = [];
  for (const c of table) {
    seen.push(c.id);
    if (c.id === 10) for (let id = 11; id <= 95; id++) table.delete(all[id - 1] as Connection);
  }
  t.same(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 96, 97, 98, 99, 100], 'a compaction meanwhile does not show the deleted');
  t.equal(table.size, 15);
  t.equal(table.get(50), undefined);
  t.equal(table.get(96), all[95], 'found by id after the compaction');

  const late = client({ id: 101 });
  table.add(late);
  t.equal(table.get(101), late);
  t.same(
    [...table].map((c) => c.id).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 96, 97, 98, 99, 100, 101],
  );
  for (const c of [...table]) t.ok(table.delete(c));
  t.equal(table.size, 0);
  t.same([...table], []);
  t.notOk(table.delete(late), 'twice is once');
});
