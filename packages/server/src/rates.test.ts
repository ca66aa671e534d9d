/** RateMeter: Redis's rolling average of 16 rates. */
import t from 'tap';
import { RateMeter } from './rates';

t.test('a steady rate reads as itself once 16 samples are in', async (t) => {
  const m = new RateMeter();
  let total = 0;
  for (let ms = 0; ms <= 1600; ms += 100) {
    m.sample(total, ms);
    total += 500; // 500 per 100 ms
  }
  t.equal(m.perSecond, 5000);
});

t.test('before 16 samples the missing ones count as zero, as in Redis', async (t) => {
  const m = new RateMeter();
  m.sample(0, 0);
  m.sample(100, 100);
  t.equal(m.perSecond, 1000 / 16);
});

t.test('the rate falls back to zero once the load stops', async (t) => {
  const m = new RateMeter();
  for (let i = 0; i <= 16; i++) m.sample(i * 1000, i * 100);
  t.equal(m.perSecond, 10000);
  for (let i = 17; i <= 33; i++) m.sample(16000, i * 100);
  t.equal(m.perSecond, 0);
});

t.test('a sample at the same instant is ignored', async (t) => {
  const m = new RateMeter();
  m.sample(0, 100);
  m.sample(50, 100);
  t.equal(m.perSecond, 0);
});
