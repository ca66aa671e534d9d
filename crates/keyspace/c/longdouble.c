/* INCRBYFLOAT arithmetic in C's `long double`, as Redis does it.
 *
 * Redis parses with strtold, adds in long double (80-bit extended on x86-64) and prints with
 * "%.17Lf" before trimming zeroes (util.c: string2ld, ld2string LD_STR_HUMAN). Rust has no
 * long double, and f64 gives different digits (and overflows at 1e308 where Redis goes on to
 * 1e4932), so the few lines that must match byte for byte are compiled from C here.
 * Parsing and printing run under the "C" locale whatever the process's locale is. */

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

/* MAX_LONG_DOUBLE_CHARS in Redis's util.h. */
#define SHRIKE_LD_CHARS (5 * 1024)

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void init_c_locale(void) {
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Redis's string2ld: the whole buffer must be a number; no leading space, no NaN, and no
 * overflow/underflow reported by strtold. Returns 1 and sets *out, or 0. */
static int parse_ld(const char *s, size_t slen, long double *out) {
    char buf[SHRIKE_LD_CHARS];
    char *eptr;
    long double value;

    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        (size_t)(eptr - buf) != slen ||
        (errno == ERANGE &&
            (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL ||
        isnan(value))
        return 0;
    *out = value;
    return 1;
}

/* Returns the length written to out (> 0), or:
 *   -1 when cur or incr is not a valid float,
 *   -2 when the sum is NaN or infinite,
 *   -3 when out is too small (cannot happen with SHRIKE_LD_CHARS bytes).
 * cur == NULL means the key does not exist (value 0). */
int shrike_incrbyfloat(const char *cur, size_t curlen, const char *incr, size_t incrlen,
                       char *out, size_t outcap) {
    long double value = 0, by;
    int ret;
    locale_t old;

    pthread_once(&c_locale_once, init_c_locale);
    old = c_locale ? uselocale(c_locale) : (locale_t)0;

    if ((cur != NULL && !parse_ld(cur, curlen, &value)) || !parse_ld(incr, incrlen, &by)) {
        ret = -1;
        goto done;
    }
    value += by;
    if (isnan(value) || isinf(value)) {
        ret = -2;
        goto done;
    }
    {
        int l = snprintf(out, outcap, "%.17Lf", value);
        if (l < 0 || (size_t)l + 1 > outcap) {
            ret = -3;
            goto done;
        }
        /* Remove trailing zeroes after the '.', then a bare '.', and turn "-0" into "0". */
        if (memchr(out, '.', (size_t)l) != NULL) {
            char *p = out + l - 1;
            while (*p == '0') {
                p--;
                l--;
            }
            if (*p == '.') l--;
        }
        if (l == 2 && out[0] == '-' && out[1] == '0') {
            out[0] = '0';
            l = 1;
        }
        ret = l;
    }
done:
    if (c_locale) uselocale(old);
    return ret;
}

/* Capacity callers must give shrike_incrbyfloat. */
size_t shrike_ld_chars(void) {
    return SHRIKE_LD_CHARS;
}

/* Redis's double parsers, with strtod under the "C" locale. With `strict`, util.c's
 * string2d (scores and weights: no leading space, no overflow or underflow to zero, no NaN);
 * without, t_zset.c's zslParseRange (strtod must consume everything and not give NaN; an
 * empty string is 0, a leading space and an overflow to inf pass); with `strict` 2, sort.c's
 * check (strtod must stop at a NUL or the end, with no ERANGE and no NaN). Returns 1 and sets
 * *out, or 0. */
int shrike_strtod(const char *s, size_t slen, int strict, double *out) {
    char small[128];
    char *buf = small;
    char *eptr;
    double value;
    locale_t old;
    int ok;

    if (strict == 1 && slen == 0) return 0;
    if (slen >= sizeof(small)) {
        buf = malloc(slen + 1);
        if (!buf) return 0;
    }
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    pthread_once(&c_locale_once, init_c_locale);
    old = c_locale ? uselocale(c_locale) : (locale_t)0;
    errno = 0;
    value = strtod(buf, &eptr);
    if (strict == 2) {
        ok = eptr[0] == '\0' && errno != ERANGE && !isnan(value);
    } else if (strict) {
        ok = !(isspace((unsigned char)buf[0]) || (size_t)(eptr - buf) != slen ||
               (errno == ERANGE &&
                   (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
               isnan(value));
    } else {
        ok = (size_t)(eptr - buf) == slen && !isnan(value);
    }
    if (c_locale) uselocale(old);
    if (buf != small) free(buf);
    if (ok) *out = value;
    return ok;
}
