import t from 'tap';
import { ratioInterval } from './stats.mjs';

t.test('ratioInterval: the geometric mean of the ratios and a t interval on their logs', async (t) => {
  const r = ratioInterval([0.9, 1.1, 1.0, 1.0]);
  // logs: -0.10536, 0.09531, 0, 0 -> mean -0.0025125, sd 0.081967; t(3) 3.182 -> half 0.130410, exp -> 0.8755..1.1364
  t.equal(r.mean, 0.9975);
  t.equal(r.low, 0.8755);
  t.equal(r.high, 1.1364);
  t.equal(r.rounds, 4);
});

t.test('ratioInterval: identical rounds give a point; too few or unusable ratios give null', async (t) => {
  t.same(ratioInterval([1.2, 1.2, 1.2]), { mean: 1.2, low: 1.2, high: 1.2, rounds: 3 });
  t.equal(ratioInterval([1.1]), null);
  t.equal(ratioInterval([null, 0, Number.NaN, 1.1]), null);
});

t.test('ratioInterval: more rounds of the same scatter narrow the interval', async (t) => {
  const four = ratioInterval([0.9, 1.1, 0.9, 1.1]);
  const twelve = ratioInterval([0.9, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9, 1.1]);
  t.ok(twelve.high - twelve.low < (four.high - four.low) / 2, `${twelve.low}-${twelve.high} within ${four.low}-${four.high}`);
});
