import t from 'tap';
import { CompareError, floatTolerantEqual, pyEqual, ReplyError, showReply, sortNested } from './compare';

t.test('pyEqual is Python ==', async (t) => {
  t.ok(pyEqual('OK', 'OK'));
  t.notOk(pyEqual('1', 1), 'str never equals int');
  t.notOk(pyEqual(1, '1'));
  t.ok(pyEqual(1, 1));
  t.ok(pyEqual(1.0, 1));
  t.ok(pyEqual(true, 1), 'True == 1');
  t.ok(pyEqual(5, 5n), 'a big integer reply compares by value');
  t.notOk(pyEqual(1.5, 1n));
  t.ok(pyEqual(null, null));
  t.notOk(pyEqual(null, []), 'None != []');
  t.notOk(pyEqual([], null));
  t.ok(pyEqual(['a', [1, null]], ['a', [1, null]]));
  t.notOk(pyEqual(['a'], ['a', 'b']));
  t.notOk(pyEqual(['a'], 'a'));
  t.notOk(pyEqual('ERR x', new ReplyError('ERR x')), 'an error equals nothing');
  t.notOk(pyEqual(['OK'], [new ReplyError('ERR x')]));
  t.notOk(pyEqual({ a: 1 }, ['a', 1]), 'a dict never equals a list');
});

t.test('sortNested is sort_nested_list', async (t) => {
  t.same(sortNested(['b', 'a', 'c']), ['a', 'b', 'c']);
  t.same(sortNested([3, 1, 2]), [1, 2, 3]);
  t.same(sortNested([10, 9, 100]), [9, 10, 100], 'numbers sort numerically');
  t.same(sortNested(['10', '9', '100']), ['10', '100', '9'], 'strings sort by code point');
  t.same(sortNested(['\u{1F600}', '\uFFFF']), ['\uFFFF', '\u{1F600}'], 'by code point, not UTF-16 unit');
  t.same(sortNested([['b', 'a'], 'z', ['d', 'c']]), [['a', 'b'], 'z', ['c', 'd']], 'nested lists sort, the outer order stays');
  t.same(sortNested([[['b', 'a']], ['y', 'x']]), [[['a', 'b']], ['x', 'y']], 'recursively');
  t.same(sortNested([]), []);
  t.same(sortNested([null]), [null], 'one element needs no comparison');
  t.same(sortNested('cab'), ['a', 'b', 'c'], 'a string sorts as its characters');
  t.throws(() => sortNested([1, 'a']), CompareError, 'mixed types');
  t.throws(() => sortNested([null, null]), CompareError);
  t.throws(() => sortNested([new ReplyError('x'), 'a']), CompareError);
  t.throws(() => sortNested(null), CompareError, 'None has no len()');
  t.throws(() => sortNested(5), CompareError);
});

t.test('floatTolerantEqual', async (t) => {
  t.ok(floatTolerantEqual(['1.5', 'a'], ['1.505', 'a']));
  t.notOk(floatTolerantEqual(['1.5'], ['1.52']));
  t.ok(floatTolerantEqual([['3.14159', 'x']], [['3.14', 'x']]));
  t.notOk(floatTolerantEqual(['a'], ['b']));
  t.notOk(floatTolerantEqual(['1.5'], [1.5]), 'types must match');
  t.ok(floatTolerantEqual([' 1_000.5 '], ['1000.5']), "Python's float() syntax");
  t.notOk(floatTolerantEqual(['inf'], ['inf']), 'inf - inf is nan');
  t.ok(floatTolerantEqual([1, null], [1, null]));
  t.notOk(floatTolerantEqual(['1'], ['1', '2']));
});

t.test('showReply', async (t) => {
  t.equal(showReply(['a', 1, null]), '["a",1,null]');
  t.equal(showReply(new ReplyError('ERR x')), '{"error":"ERR x"}');
  t.equal(showReply([new ReplyError('0xff', 'utf8')]), '[{"undecodable":"0xff"}]');
  t.equal(showReply(5n), '5');
});
