/* Example: producers and consumers through a process pool.
 *
 *   pool_prodcons [-p PRODUCERS] [-c COLLECTORS] [-j WORKERS] [-n ITEMS]
 *
 * PRODUCERS threads each submit ITEMS items (a producer number, a
 * sequence number and a payload) to one ibx_pool; its WORKERS processes
 * consume them (each computes a checksum of the payload) and COLLECTORS
 * threads take the results as they complete. The pool's queues are small
 * on purpose (16 KiB per worker), so producers block on backpressure.
 * Every item is checked: its result must come back exactly once, from
 * the item submitted, with the right checksum. Prints one line and exits
 * 0 if all is well, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/pool.h"

#define MAX_THREADS 64

struct item {
    uint32_t producer;
    uint32_t seq;
    uint8_t payload[48];
};

struct answer {
    uint32_t producer;
    uint32_t seq;
    uint64_t sum;
};

/* The consumer's work, in a worker process. */
static int consume(const void *task, size_t len, void *result, size_t cap,
                   size_t *rlen, void *arg)
{
    (void)arg;
    struct item it;
    struct answer a;
    if (len != sizeof it || cap < sizeof a)
        return EINVAL;
    memcpy(&it, task, sizeof it);
    a.producer = it.producer;
    a.seq = it.seq;
    a.sum = 1469598103934665603ull;     /* FNV-1a */
    for (size_t i = 0; i < sizeof it.payload; i++)
        a.sum = (a.sum ^ it.payload[i]) * 1099511628211ull;
    memcpy(result, &a, sizeof a);
    *rlen = sizeof a;
    return 0;
}

static void fill(struct item *it, uint32_t producer, uint32_t seq)
{
    it->producer = producer;
    it->seq = seq;
    for (size_t i = 0; i < sizeof it->payload; i++)
        it->payload[i] = (uint8_t)(producer * 131 + seq * 7 + i);
}

static uint64_t expected_sum(uint32_t producer, uint32_t seq)
{
    struct item it;
    struct answer a;
    size_t n;
    fill(&it, producer, seq);
    consume(&it, sizeof it, &a, sizeof a, &n, NULL);
    return a.sum;
}

struct shared {
    ibx_pool *pool;
    unsigned producers;
    uint32_t items;
    _Atomic uint8_t *seen;          /* producers * items flags */
    _Atomic uint64_t taken;
    _Atomic uint64_t errors;
};

struct worker_arg {
    struct shared *s;
    uint32_t id;
};

static void *producer(void *arg)
{
    struct worker_arg *w = arg;
    struct shared *s = w->s;
    for (uint32_t seq = 0; seq < s->items; seq++) {
        struct item it;
        fill(&it, w->id, seq);
        uint64_t tag = (uint64_t)w->id * s->items + seq;
        int e = ibx_pool_submit(s->pool, &it, sizeof it, tag);
        if (e < 0) {
            fprintf(stderr, "pool_prodcons: submit: %s\n", strerror(-e));
            atomic_fetch_add(&s->errors, 1);
            return NULL;
        }
    }
    return NULL;
}

/* Check one result; false if it is wrong or a duplicate. */
static bool check(struct shared *s, const struct ibx_pool_result *r,
                  const struct answer *a)
{
    uint64_t total = (uint64_t)s->producers * s->items;
    if (r->status != IBX_POOL_OK || r->len != sizeof *a || r->tag >= total)
        return false;
    if (a->producer != r->tag / s->items || a->seq != r->tag % s->items ||
        a->sum != expected_sum(a->producer, a->seq))
        return false;
    return atomic_exchange(&s->seen[r->tag], 1) == 0;
}

static void *collector(void *arg)
{
    struct shared *s = ((struct worker_arg *)arg)->s;
    uint64_t total = (uint64_t)s->producers * s->items;
    while (atomic_load(&s->taken) < total && atomic_load(&s->errors) == 0) {
        struct ibx_pool_result r;
        struct answer a;
        /* -ENOENT: nothing outstanding yet (producers behind): poll again */
        int e = ibx_pool_next(s->pool, &r, &a, sizeof a, 100);
        if (e == -ETIMEDOUT || e == -ENOENT) {
            if (e == -ENOENT)
                usleep(1000);
            continue;
        }
        if (e < 0 || !check(s, &r, &a)) {
            fprintf(stderr, "pool_prodcons: bad result (tag %llu, error %d)\n",
                    (unsigned long long)r.tag, e);
            atomic_fetch_add(&s->errors, 1);
        }
        atomic_fetch_add(&s->taken, 1);
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned producers = 4, collectors = 2, workers = 2;
    unsigned long items = 100000;
    int c;
    while ((c = getopt(argc, argv, "p:c:j:n:")) != -1) {
        unsigned long v = optarg ? strtoul(optarg, NULL, 10) : 0;
        switch (c) {
        case 'p': producers = (unsigned)v; break;
        case 'c': collectors = (unsigned)v; break;
        case 'j': workers = (unsigned)v; break;
        case 'n': items = v; break;
        default: return 2;
        }
    }
    if (optind != argc || !producers || !collectors || !workers ||
        producers + collectors > MAX_THREADS || !items || items > 10000000) {
        fprintf(stderr, "usage: pool_prodcons [-p PRODUCERS] [-c COLLECTORS] "
                        "[-j WORKERS] [-n ITEMS]\n");
        return 2;
    }
    struct shared s = {.producers = producers, .items = (uint32_t)items};
    s.seen = calloc((size_t)producers * items, 1);
    struct ibx_pool_config cfg = {.fn = consume, .workers = workers,
                                  .max_task = sizeof(struct item),
                                  .max_result = sizeof(struct answer),
                                  .queue_bytes = 16 << 10};
    int e = s.seen ? ibx_pool_new(&s.pool, &cfg) : -ENOMEM;
    if (e < 0) {
        fprintf(stderr, "pool_prodcons: %s\n", strerror(-e));
        return 1;
    }
    pthread_t th[MAX_THREADS];
    struct worker_arg args[MAX_THREADS];
    unsigned nth = producers + collectors;
    double t0 = now_s();
    for (unsigned i = 0; i < nth; i++) {
        args[i] = (struct worker_arg){&s, i};
        if (pthread_create(&th[i], NULL, i < producers ? producer : collector, &args[i])) {
            fprintf(stderr, "pool_prodcons: pthread_create failed\n");
            return 1;
        }
    }
    for (unsigned i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    ibx_pool_close(s.pool, IBX_POOL_DRAIN);
    uint64_t total = (uint64_t)producers * items, missing = 0;
    for (uint64_t i = 0; i < total; i++)
        missing += s.seen[i] == 0;
    free((void *)s.seen);
    uint64_t errors = atomic_load(&s.errors);
    printf("pool_prodcons: %llu items from %u producers through %u workers to %u "
           "collectors in %.3f s (%.0f items/s): %s\n",
           (unsigned long long)total, producers, workers, collectors, secs,
           (double)total / secs,
           errors || missing ? "ERRORS" : "every item exactly once");
    if (errors || missing) {
        fprintf(stderr, "pool_prodcons: %llu errors, %llu items missing\n",
                (unsigned long long)errors, (unsigned long long)missing);
        return 1;
    }
    return 0;
}
