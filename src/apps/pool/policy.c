/* Pure decisions of `ipcbox pool` (see policy.h). The halt rules follow
 * GNU parallel 20221122's should_we_halt() and halt(). */
#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Digits only, at most 9 of them. */
static bool uint_of(const char *s, size_t n, unsigned *out)
{
    if (n == 0 || n > 9)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

int pool_parse_jobs(const char *s, unsigned cpus, unsigned *out)
{
    size_t n = strlen(s);
    unsigned v;
    long r;
    if (cpus == 0)
        cpus = 1;
    if (n && s[n - 1] == '%') {
        if (!uint_of(s, n - 1, &v))
            return -EINVAL;
        r = (long)((double)cpus * v / 100.0);
    } else if (n && (s[0] == '+' || s[0] == '-')) {
        if (!uint_of(s + 1, n - 1, &v))
            return -EINVAL;
        r = s[0] == '+' ? (long)cpus + v : (long)cpus - (long)v;
    } else {
        if (!uint_of(s, n, &v))
            return -EINVAL;
        r = v ? v : POOL_JOBS_MAX;
    }
    if (r < 1)
        r = 1;
    if (r > POOL_JOBS_MAX)
        r = POOL_JOBS_MAX;
    *out = (unsigned)r;
    return 0;
}

int pool_parse_seconds(const char *s, uint64_t *ms)
{
    const char *dot = strchr(s, '.');
    size_t ni = dot ? (size_t)(dot - s) : strlen(s);
    unsigned whole = 0;
    if (ni && !uint_of(s, ni, &whole))
        return -EINVAL;
    uint64_t frac = 0, scale = 1000;
    if (dot) {
        const char *f = dot + 1;
        if (!ni && !*f)
            return -EINVAL;
        for (; *f; f++) {
            if (*f < '0' || *f > '9')
                return -EINVAL;
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*f - '0') * scale;
            }
        }
    } else if (!ni) {
        return -EINVAL;
    }
    uint64_t v = (uint64_t)whole * 1000 + frac;
    if (whole > 86400 || (v == 0 && !(dot && dot[1])))
        return -EINVAL;
    if (v == 0) {
        /* "0.0001": below the millisecond, still a timeout */
        for (const char *f = dot + 1; *f; f++)
            if (*f != '0') {
                v = 1;
                break;
            }
        if (v == 0)
            return -EINVAL;
    }
    *ms = v;
    return 0;
}

int halt_parse(const char *s, struct halt *h)
{
    memset(h, 0, sizeof *h);
    static const struct {
        const char *s;
        enum halt_when when;
        enum halt_why why;
    } shorts[] = {
        {"1", HALT_SOON, HALT_FAIL},     {"2", HALT_NOW, HALT_FAIL},
        {"-1", HALT_SOON, HALT_SUCCESS}, {"-2", HALT_NOW, HALT_SUCCESS},
    };
    if (!strcmp(s, "0") || !strcmp(s, "never"))
        return 0;
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++)
        if (!strcmp(s, shorts[i].s)) {
            h->when = shorts[i].when;
            h->why = shorts[i].why;
            h->value = 1;
            return 0;
        }
    size_t n = strlen(s);
    unsigned v;
    if (n > 1 && s[n - 1] == '%' && uint_of(s, n - 1, &v)) {   /* "5%" */
        h->when = HALT_SOON;
        h->why = HALT_FAIL;
        h->pct = true;
        h->value = v;
        return v <= 100 ? 0 : -EINVAL;
    }
    const char *comma = strchr(s, ','), *why = comma ? comma + 1 : NULL;
    if (!comma)
        return -EINVAL;
    size_t wl = (size_t)(comma - s);
    if (wl == 4 && !strncmp(s, "soon", 4))
        h->when = HALT_SOON;
    else if (wl == 3 && !strncmp(s, "now", 3))
        h->when = HALT_NOW;
    else
        return -EINVAL;
    const char *eq = strchr(why, '=');
    if (!eq)
        return -EINVAL;
    size_t yl = (size_t)(eq - why);
    if (yl == 4 && !strncmp(why, "fail", 4))
        h->why = HALT_FAIL;
    else if (yl == 7 && !strncmp(why, "success", 7))
        h->why = HALT_SUCCESS;
    else if (yl == 4 && !strncmp(why, "done", 4))
        h->why = HALT_DONE;
    else
        return -EINVAL;
    const char *num = eq + 1;
    n = strlen(num);
    if (n > 1 && num[n - 1] == '%') {
        if (!uint_of(num, n - 1, &v) || v > 100)
            return -EINVAL;
        h->pct = true;
    } else if (!uint_of(num, n, &v)) {
        return -EINVAL;
    }
    h->value = v;
    return 0;
}

bool halt_job_done(const struct halt *h, struct halt_state *st, long exitval, int sig,
                   uint64_t total)
{
    bool failed = exitval != 0 || sig != 0;
    st->completed++;
    if (failed)
        st->failed++;
    if (h->when == HALT_NEVER || st->halting)
        return false;
    double limit;
    if (h->why == HALT_DONE)
        limit = (double)st->completed;
    else if (h->why == HALT_FAIL && failed)
        limit = (double)st->failed;
    else if (h->why == HALT_SUCCESS && !failed)
        limit = (double)(st->completed - st->failed);
    else
        return false;
    double count = h->pct ? (double)total * h->value / 100.0 : h->value;
    if (limit < count)
        return false;
    st->halting = true;
    if (h->why == HALT_SUCCESS) {
        st->status = 0;
    } else if (h->pct) {
        st->status = total ? (int)ceil((double)st->failed * 100.0 / (double)total) : 0;
    } else {
        st->status = st->failed > 101 ? 101 : (int)st->failed;
    }
    if (h->why != HALT_SUCCESS && count == 1) {
        /* the failed (or finished) job's own status, a signal as 128+N;
         * -1 (a timeout) reads as 255 the way exit() takes it */
        st->status = exitval ? (int)(exitval & 0xff) : sig ? 128 + sig : 0;
    }
    st->have_status = true;
    return true;
}

int halt_exit_status(const struct halt *h, const struct halt_state *st)
{
    if (h->when != HALT_NEVER) {
        if (st->have_status)
            return st->status;
        if (h->pct) {
            uint64_t started = st->started ? st->started : 1;
            return (int)ceil((double)st->failed * 100.0 / (double)started);
        }
    }
    return st->failed > 101 ? 101 : (int)st->failed;
}
