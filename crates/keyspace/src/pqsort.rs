//! Redis's partial quicksort (`pqsort.c`), which GEO searches with COUNT and SORT with BY
//! and LIMIT use: the elements outside the wanted range are left in whatever order the
//! partitioning gives, and ties inside it come out as Redis's do, which a full stable sort
//! would not reproduce.

/// Redis's `pqsort` (`pqsort.c`, Bentley & McIlroy's quicksort that only recurses into
/// partitions overlapping elements `lrange..=rrange`), on indexes instead of pointers.
pub(crate) fn pqsort<T>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32, lrange: usize, rrange: usize) {
    pqsort_at(v, 0, v.len(), cmp, lrange, rrange);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &dyn Fn(&T, &T) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

/// Swap the `n` elements from `a` with the `n` from `b` (`vecswap`).
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

/// `_pqsort` on `v[a..a + n]`; `lrange`/`rrange` are absolute indexes.
fn pqsort_at<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &dyn Fn(&T, &T) -> i32,
    lrange: usize,
    rrange: usize,
) {
    // The C skips a partition [l, r] when lrange and rrange are both before l or both
    // after r (its pointers are bytes; in elements that is the test below).
    let outside = |l: usize, cnt: usize| {
        (lrange < l && rrange < l) || (lrange >= l + cnt && rrange >= l + cnt)
    };
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let mut pa = a + 1;
        let mut pb = a + 1;
        // pc never goes below pb - 1 >= a, so these indexes never underflow.
        let mut pc = a + n - 1;
        let mut pd = a + n - 1;
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r > 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r < 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r) {
            pqsort_at(v, a, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if !outside(a, n) {
                continue;
            }
        }
        return;
    }
}
