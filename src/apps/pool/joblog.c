/* GNU parallel's job log (see joblog.h). */
#include "joblog.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int joblog_format(const struct joblog_rec *r, char *out, size_t cap)
{
    /* parallel: sprintf("%10.3f", int(runtime * 1000) / 1000) */
    double rt = r->runtime > 0 ? floor(r->runtime * 1000.0) / 1000.0 : 0;
    int n = snprintf(out, cap, "%" PRIu64 "\t:\t%.3f\t%10.3f\t%" PRIu64 "\t%" PRIu64
                     "\t%ld\t%d\t",
                     r->seq, r->start, rt, r->send, r->receive, r->exitval, r->sig);
    if (n < 0)
        return -1;
    size_t pos = (size_t)n;
    for (size_t i = 0; i < r->cmdlen; i++, pos++)
        if (pos + 1 < cap)
            out[pos] = r->cmd[i] == '\n' ? '\0' : r->cmd[i];
    if (pos + 1 < cap)
        out[pos] = '\n';
    pos++;
    if (pos < cap)
        out[pos] = '\0';
    else if (cap)
        out[cap - 1] = '\0';
    return pos > INT32_MAX ? -1 : (int)pos;
}

bool joblog_is_header(const char *line, size_t len)
{
    size_t h = strlen(JOBLOG_HEADER) - 1;
    return len == h && !memcmp(line, JOBLOG_HEADER, h);
}

/* A field [*p, tab) ; *p moves past the tab. False at the end of line. */
static bool field(const char **p, const char *end, const char **f, size_t *n)
{
    const char *t = memchr(*p, '\t', (size_t)(end - *p));
    if (!t)
        return false;
    *f = *p;
    *n = (size_t)(t - *p);
    *p = t + 1;
    return true;
}

/* An optionally signed decimal, possibly with a fraction and blanks around
 * (JobRuntime is padded). */
static bool parse_number(const char *f, size_t n, bool frac, bool sign, double *out)
{
    char tmp[64];
    while (n && *f == ' ')
        f++, n--;
    while (n && f[n - 1] == ' ')
        n--;
    if (!n || n >= sizeof tmp)
        return false;
    size_t i = 0;
    if (sign && f[0] == '-')
        i++;
    bool digit = false, dot = false;
    for (; i < n; i++) {
        if (f[i] >= '0' && f[i] <= '9')
            digit = true;
        else if (f[i] == '.' && frac && !dot)
            dot = true;
        else
            return false;
    }
    if (!digit)
        return false;
    memcpy(tmp, f, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    /* seconds (a start time, a run time): anything past 1e15 is no time,
     * and would not fit the field when written back */
    return *out < 1e15 && *out > -1e15;
}

int joblog_parse(const char *line, size_t len, struct joblog_rec *r)
{
    const char *p = line, *end = line + len, *f;
    size_t n;
    double d;
    memset(r, 0, sizeof *r);
    /* Seq: digits only */
    if (!field(&p, end, &f, &n) || !n || n > 19)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (f[i] < '0' || f[i] > '9')
            return -EINVAL;
        r->seq = r->seq * 10 + (uint64_t)(f[i] - '0');
    }
    if (!field(&p, end, &f, &n) || !n)   /* Host */
        return -EINVAL;
    if (!field(&p, end, &f, &n) || !parse_number(f, n, true, false, &r->start))
        return -EINVAL;
    if (!field(&p, end, &f, &n) || !parse_number(f, n, true, true, &r->runtime))
        return -EINVAL;
    if (!field(&p, end, &f, &n) || !parse_number(f, n, false, false, &d) || d > 1e18)
        return -EINVAL;
    r->send = (uint64_t)d;
    if (!field(&p, end, &f, &n) || !parse_number(f, n, false, false, &d) || d > 1e18)
        return -EINVAL;
    r->receive = (uint64_t)d;
    if (!field(&p, end, &f, &n) || !parse_number(f, n, false, true, &d) || fabs(d) > 1e9)
        return -EINVAL;
    r->exitval = (long)d;
    if (!field(&p, end, &f, &n) || !parse_number(f, n, false, true, &d) || fabs(d) > 1e9)
        return -EINVAL;
    r->sig = (int)d;
    r->cmd = p;
    r->cmdlen = (size_t)(end - p);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int joblog_read(const char *buf, size_t len, bool failed_too, struct joblog_done *d,
                size_t *bad_line)
{
    memset(d, 0, sizeof *d);
    const char *p = buf, *end = buf + len;
    size_t lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        struct joblog_rec r;
        size_t n = (size_t)(le - p);
        if (!(lineno == 1 && joblog_is_header(p, n)) && !(n == 0 && !nl)) {
            int pr = joblog_parse(p, n, &r);
            if (pr < 0 && !nl)
                break;   /* a last record cut short (killed, disk full): not done */
            if (pr < 0) {
                *bad_line = lineno;
                joblog_done_free(d);
                return -EINVAL;
            }
            if (!failed_too || (r.exitval == 0 && r.sig == 0)) {
                if (d->n == d->cap) {
                    size_t c = d->cap ? d->cap * 2 : 64;
                    uint64_t *q = realloc(d->seq, c * sizeof *q);
                    if (!q) {
                        joblog_done_free(d);
                        return -ENOMEM;
                    }
                    d->seq = q;
                    d->cap = c;
                }
                d->seq[d->n++] = r.seq;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (d->n) {
        qsort(d->seq, d->n, sizeof *d->seq, cmp_u64);
        size_t w = 1;
        for (size_t i = 1; i < d->n; i++)
            if (d->seq[i] != d->seq[w - 1])
                d->seq[w++] = d->seq[i];
        d->n = w;
    }
    return 0;
}

size_t joblog_keep(const char *buf, size_t len)
{
    if (!len || buf[len - 1] == '\n')
        return len;
    const char *nl = memrchr(buf, '\n', len);
    size_t start = nl ? (size_t)(nl - buf) + 1 : 0;
    struct joblog_rec r;
    if (joblog_parse(buf + start, len - start, &r) == 0 ||
        (start == 0 && joblog_is_header(buf, len)))
        return len;
    return start;
}

bool joblog_done_has(const struct joblog_done *d, uint64_t seq)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->seq[mid] == seq)
            return true;
        if (d->seq[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void joblog_done_free(struct joblog_done *d)
{
    free(d->seq);
    memset(d, 0, sizeof *d);
}
