import t from 'tap';
import { defaultThreads } from './config';
import { pinWorkers } from './main';

t.test('threads default to one worker on machines with 2 CPUs or fewer, else one per CPU', async (t) => {
  t.equal(defaultThreads(1), 1);
  t.equal(defaultThreads(2), 1);
  t.equal(defaultThreads(3), 3);
  t.equal(defaultThreads(16), 16);
});

t.test('cpu-affinity: yes and no as said, auto pins only above 2 CPUs', async (t) => {
  t.equal(pinWorkers('yes', 2), true);
  t.equal(pinWorkers('no', 64), false);
  t.equal(pinWorkers('auto', 2), false);
  t.equal(pinWorkers('auto', 4), true);
});
