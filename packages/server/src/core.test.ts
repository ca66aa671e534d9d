/** The addon's hot calls (crates/binding/src/hot_calls.rs): exported, and bad input is an error, not a crash. */
import t from 'tap';
import { loadAddon } from './core';

const addon = loadAddon();

t.test('every hot call is exported as a function', async (t) => {
  for (const name of ['ringTurn', 'ringExecute', 'ringSend', 'ringSendExecute', 'execBegin', 'watchKeys'] as const) {
    t.equal(typeof addon[name], 'function', name);
  }
});

t.test('a wrong argument type throws a JavaScript error', async (t) => {
  const call = addon.ringSend as unknown as (...a: unknown[]) => number;
  t.throws(() => call(0, 0, 'not bytes', 0, 1), /expected a typed array/);
  t.throws(() => call(0, 0, new Uint32Array(4), 0, 1), /expected a typed array/, 'a Uint32Array is not bytes');
  t.throws(() => call(0, 'x', Buffer.alloc(1), 0, 1), /expected a number/);
  const exec = addon.ringExecute as unknown as (...a: unknown[]) => number;
  t.throws(() => exec(0, 0, Buffer.alloc(1), Buffer.alloc(4), 0, 0, 0), /expected a typed array/, 'a Buffer is not words');
});

t.test('too few arguments throw', async (t) => {
  const call = addon.execBegin as unknown as (...a: unknown[]) => boolean;
  t.throws(() => call(Buffer.alloc(0), new Uint32Array(0)), /expected 6 arguments/);
});

t.test('a call on a thread without a ring throws, and the thread goes on', async (t) => {
  t.throws(() => addon.ringTurn(Buffer.alloc(16), new Uint32Array(16), 0), /no ring on this thread/);
  t.throws(() => addon.ringSend(0, 0, Buffer.from('+OK\r\n'), 0, 5), /no ring on this thread/);
  t.equal(typeof addon.ringTurn, 'function');
});
