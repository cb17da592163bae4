/* lat_hist.h: a latency histogram for the load tools of bench/ (header
 * only: each bench .c file is its own program).
 *
 * Log-linear: 32 sub-buckets per power of two of nanoseconds, so a
 * percentile is within about 3% of the true value at any scale, in a
 * fixed 16 KiB. lat_hist_pct gives the midpoint of the bucket holding
 * the percentile (at most the largest sample), in microseconds. */
#ifndef IPCBOX_BENCH_LAT_HIST_H
#define IPCBOX_BENCH_LAT_HIST_H

#include <math.h>
#include <stdint.h>

#define LAT_SUB 32

struct lat_hist {
    uint64_t b[64 * LAT_SUB];
    uint64_t n, max;         /* samples; the largest, ns */
};

/* Count one sample of ns nanoseconds. */
static inline void lat_hist_add(struct lat_hist *h, uint64_t ns)
{
    if (ns > h->max)
        h->max = ns;
    unsigned b;
    if (ns < LAT_SUB) {
        b = (unsigned)ns;
    } else {
        int e = 63 - __builtin_clzll(ns);            /* >= 5 */
        unsigned m = (unsigned)(ns >> (e - 5)) & (LAT_SUB - 1);
        b = (unsigned)(e - 4) * LAT_SUB + m;
    }
    h->b[b]++;
    h->n++;
}

/* lower bound of bucket b, ns */
static inline double lat_hist_lo(unsigned b)
{
    if (b < LAT_SUB)
        return b;
    unsigned e = b / LAT_SUB + 4, m = b % LAT_SUB;
    return ldexp(LAT_SUB + m, (int)e - 5);
}

/* The p-th fraction (0.5: the median) of h, microseconds (0 if empty). */
static inline double lat_hist_pct(const struct lat_hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)ceil(p * (double)h->n), acc = 0;
    if (want == 0)
        want = 1;
    for (unsigned b = 0; b < 64 * LAT_SUB; b++) {
        acc += h->b[b];
        if (acc >= want) {   /* the bucket's midpoint, never above the largest */
            double mid = (lat_hist_lo(b) + lat_hist_lo(b + 1)) / 2;
            return (mid < (double)h->max ? mid : (double)h->max) / 1000;
        }
    }
    return (double)h->max / 1000.0;
}

#endif
