import t from 'tap';
import { grisuDigits } from './grisu';

t.test("grisu2's digits and exponent, as fpconv_dtoa finds them", async (t) => {
  // Shortest where grisu2 finds the shortest...
  t.same(grisuDigits(0.1), { digits: '1', k: -1 });
  t.same(grisuDigits(1.5), { digits: '15', k: -1 });
  t.same(grisuDigits(5e-324), { digits: '5', k: -324 });
  t.same(grisuDigits(1.7976931348623157e308), { digits: '17976931348623157', k: 292 });
  // ...and one digit more where it does not (redis-server 7.2.6 prints these digits).
  t.same(grisuDigits(80.5869244261416), { digits: '8058692442614159', k: -14 });
  t.same(grisuDigits(-4884043.914085072), { digits: '48840439140850725', k: -10 });
  t.same(grisuDigits(1.505177592653168e-91), { digits: '15051775926531681', k: -107 });
});
