/* Benchmark tool: the library process pool, tiny tasks (make bench-pool).
 *
 *   poolbench [--mode map|submit] [-j WORKERS] [-n TASKS] [--batch K]
 *             [--rounds R]
 *
 * The task is the issue's: add two 32-bit integers (8 bytes in, 8 bytes
 * out). --mode map (default) runs ibx_pool_map over an array of TASKS
 * tasks; --mode submit submits them one at a time (ibx_pool_submit, a
 * window of at most 65536 outstanding) and takes each result with
 * ibx_pool_next, as completed. Each of R rounds (default 3) is timed with
 * a fresh array; the best round is reported, with the median beside it.
 * Every result is checked (its sum, and in submit mode that each tag came
 * back exactly once). One line on stdout:
 *   mode=map workers=2 tasks=2000000 tasks_per_s=... median_tasks_per_s=...
 *   ns_per_task=... batches=... errors=0
 * Exit 0 when every result was right, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipcbox/pool.h"

struct pair {
    int32_t a, b;
};

static int add(const void *task, size_t len, void *result, size_t cap,
               size_t *rlen, void *arg)
{
    (void)cap;
    (void)arg;
    if (len != sizeof(struct pair))
        return 1;
    struct pair t;
    memcpy(&t, task, sizeof t);
    int64_t s = (int64_t)t.a + t.b;
    memcpy(result, &s, sizeof s);
    *rlen = sizeof s;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int32_t val_a(size_t i) { return (int32_t)(i * 7u); }
static int32_t val_b(size_t i) { return (int32_t)(i ^ 0x5a5a5a5u); }
static int64_t want(size_t i) { return (int64_t)val_a(i) + val_b(i); }

static long run_map(ibx_pool *p, size_t n, struct pair *t, int64_t *res)
{
    for (size_t i = 0; i < n; i++)
        t[i] = (struct pair){val_a(i), val_b(i)};
    long failed = ibx_pool_map(p, t, sizeof *t, n, res, sizeof *res, NULL);
    if (failed < 0) {
        fprintf(stderr, "poolbench: map: %s\n", strerror((int)-failed));
        return 1;
    }
    long errors = failed;
    for (size_t i = 0; i < n; i++)
        errors += res[i] != want(i);
    return errors;
}

static long take_one(ibx_pool *p, unsigned char *seen)
{
    struct ibx_pool_result r;
    int64_t s;
    int e = ibx_pool_next(p, &r, &s, sizeof s, -1);
    if (e < 0) {
        fprintf(stderr, "poolbench: next: %s\n", strerror(-e));
        return 1;
    }
    long bad = r.status != IBX_POOL_OK || r.len != sizeof s || seen[r.tag] ||
               s != want((size_t)r.tag);
    seen[r.tag] = 1;
    return bad;
}

static long run_submit(ibx_pool *p, size_t n, unsigned char *seen)
{
    const size_t window = 65536;
    long errors = 0;
    size_t got = 0;
    memset(seen, 0, n);
    for (size_t i = 0; i < n; i++) {
        struct pair t = {val_a(i), val_b(i)};
        if (i - got >= window) {
            errors += take_one(p, seen);
            got++;
        }
        int e = ibx_pool_submit(p, &t, sizeof t, i);
        if (e < 0) {
            fprintf(stderr, "poolbench: submit: %s\n", strerror(-e));
            return errors + 1;
        }
    }
    for (; got < n; got++)
        errors += take_one(p, seen);
    return errors;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int usage(void)
{
    fprintf(stderr, "usage: poolbench [--mode map|submit] [-j WORKERS] "
                    "[-n TASKS] [--batch K] [--rounds R]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *mode = "map";
    unsigned workers = 2, batch = 0, rounds = 3;
    size_t n = 2000000;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "-j"))
            workers = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "-n"))
            n = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--batch"))
            batch = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--rounds"))
            rounds = (unsigned)strtoul(v, NULL, 10);
        else
            return usage();
    }
    bool map = !strcmp(mode, "map");
    if ((!map && strcmp(mode, "submit")) || !workers || !n || !rounds ||
        rounds > 100)
        return usage();
    struct ibx_pool_config cfg = {.fn = add, .workers = workers,
                                  .max_task = sizeof(struct pair),
                                  .max_result = sizeof(int64_t), .batch = batch};
    ibx_pool *p;
    int e = ibx_pool_new(&p, &cfg);
    if (e < 0) {
        fprintf(stderr, "poolbench: ibx_pool_new: %s\n", strerror(-e));
        return 1;
    }
    struct pair *t = malloc(n * sizeof *t);
    int64_t *res = malloc(n * sizeof *res);
    unsigned char *seen = malloc(n);
    double rate[100];
    long errors = 0;
    if (!t || !res || !seen) {
        fprintf(stderr, "poolbench: out of memory\n");
        return 1;
    }
    for (unsigned r = 0; r < rounds; r++) {
        double t0 = now_s();
        errors += map ? run_map(p, n, t, res) : run_submit(p, n, seen);
        rate[r] = (double)n / (now_s() - t0);
    }
    struct ibx_pool_stats st;
    ibx_pool_stats(p, &st);
    ibx_pool_close(p, IBX_POOL_DRAIN);
    qsort(rate, rounds, sizeof *rate, cmp_double);
    double best = rate[rounds - 1];
    printf("mode=%s workers=%u tasks=%zu tasks_per_s=%.0f median_tasks_per_s=%.0f "
           "ns_per_task=%.1f batches=%llu errors=%ld\n",
           mode, workers, n, best, rate[rounds / 2], 1e9 / best,
           (unsigned long long)st.batches, errors);
    free(t);
    free(res);
    free(seen);
    return errors ? 1 : 0;
}
