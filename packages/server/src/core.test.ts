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
  t.throws(() => call(0, 0, new ArrayBuffer(4), 0, 1), /expected a typed array/, 'an ArrayBuffer is not a view');
  t.throws(() => call(0, 'x', Buffer.alloc(1), 0, 1), /expected a number/);
  const exec = addon.ringExecute as unknown as (...a: unknown[]) => number;
  const odd = new Uint8Array(new ArrayBuffer(9), 1, 8);
  t.throws(() => exec(0, 0, Buffer.alloc(1), odd, 0, 0, 0), /misaligned typed array/, 'words must be aligned');
});

t.test('any view is read by its bytes', async (t) => {
  // Arguments are read before the ring is looked for: reaching it means they were taken.
  const call = addon.ringSend as unknown as (...a: unknown[]) => number;
  t.throws(() => call(0, 0, new Uint32Array(4), 0, 16), /no ring on this thread/, 'a Uint32Array as bytes');
  const exec = addon.ringExecute as unknown as (...a: unknown[]) => number;
  t.throws(() => exec(0, 0, Buffer.alloc(1), Buffer.alloc(8), 2, 0, 0), /no ring on this thread/, 'a Buffer as words');
});

t.test('too few arguments throw', async (t) => {
  const call = addon.execBegin as unknown as (...a: unknown[]) => boolean;
  t.throws(() => call(Buffer.alloc(0), new Uint32Array(0)), /expected 6 arguments/);
});

t.test('a call on a thread without a ring throws, and the thread goes on', async (t) => {
  t.throws(() => addon.ringTurn(0), /no ring on this thread/);
  t.throws(() => addon.ringSend(0, 0, Buffer.from('+OK\r\n'), 0, 5), /no ring on this thread/);
  t.equal(typeof addon.ringTurn, 'function');
});
