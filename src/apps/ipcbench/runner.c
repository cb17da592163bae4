/* ipcbench runner: forks the two sides of a row, pins them to different
 * CPUs, runs warm-up then measurement, and verifies that every byte
 * arrived by comparing a running XXH3 of everything each side received
 * with the hash of what the other side sent (recomputed by the parent).
 *
 * Latency: A sends message i, B answers with its own message i of the same
 * size; A times each round trip with CLOCK_MONOTONIC (vDSO) around send +
 * recv. Throughput: A streams, B receives and hashes; the rate is taken on
 * B between the end of warm-up and the last message. A run ends at a count
 * or a time cap, whichever comes first: A stores the final count in the
 * shared control block before sending the last message, so B knows it is
 * the last when it arrives. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
/* the same hash, using AVX2 or AVX-512 when the CPU has them (chosen at
 * run time; Debian's library is built for baseline x86-64 otherwise) */
#include <xxh_x86dispatch.h>
#endif

#include "bench.h"

#define POOL_SPREAD 65536u

/* Shared by parent and both children of a row. */
struct ctl {
    _Atomic int ready;
    _Atomic uint64_t total;     /* 0 until A decides the final count */
    _Atomic int done;           /* sides finished */
    uint64_t a_count, b_count;  /* messages received by A / B */
    uint64_t a_hash, b_hash;    /* XXH3 of those bytes, in order */
    int64_t t0, t1;             /* B's measured stream window */
    uint64_t warm;              /* warm-up messages / round trips */
    uint64_t measured;          /* latency samples written */
    int64_t cpu_ns[2], wall_ns[2];  /* each side's CPU and wall time of its run */
    int64_t runq_ns[2];         /* ... and its wait for a CPU (-1: unknown) */
    char why[2][112];           /* a side's failure */
};

/* Message i in direction dir (0 A->B, 1 B->A): a window into a shared
 * random pool, at an offset that changes with i, so a lost, repeated or
 * reordered message changes the receiver's hash. */
const unsigned char *pool_msg(const unsigned char *pool, uint64_t i, int dir)
{
    return pool + (((i * 2 + (uint64_t)dir) * 97) % (POOL_SPREAD / 64)) * 64;
}

unsigned char *pool_make(size_t size)
{
    size_t n = size + POOL_SPREAD;
    unsigned char *p = malloc(n);
    if (!p)
        return NULL;
    uint64_t x = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)x;
    }
    return p;
}

static uint64_t expect_hash(const unsigned char *pool, size_t size, uint64_t count, int dir)
{
    XXH3_state_t *s = XXH3_createState();
    XXH3_64bits_reset(s);
    for (uint64_t i = 0; i < count; i++)
        XXH3_64bits_update(s, pool_msg(pool, i, dir), size);
    uint64_t h = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    return h;
}

void pin_cpu(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void barrier(struct ctl *ctl)
{
    atomic_fetch_add(&ctl->ready, 1);
    while (atomic_load(&ctl->ready) < 2)
        sched_yield();
}

/* Counts per measurement: (warm-up, maximum measured). */
void plan_counts(const struct plan *pl, size_t size, bool stream,
                 uint64_t *warm, uint64_t *max)
{
    if (stream) {
        uint64_t bytes = pl->quick ? (64ull << 20) : (8ull << 30);
        *max = bytes / size;
        if (*max > 50000000)
            *max = 50000000;
        if (*max < 64)
            *max = 64;
    } else {
        *max = size >= (1u << 20) ? 2000 : size >= 65536 ? 20000 : 200000;
        if (pl->quick)
            *max /= 100;
    }
    *warm = *max / 20;
    if (*warm > 2000)
        *warm = 2000;
    if (*warm < 2)
        *warm = 2;
}

/* Side A of a latency run. */
static int lat_a(const struct plan *pl, struct chan *c, struct ctl *ctl,
                 const unsigned char *pool, uint64_t *samples, uint64_t max)
{
    const struct mech *m = c->m;
    XXH3_state_t *hs = XXH3_createState();
    XXH3_64bits_reset(hs);
    uint64_t warm = ctl->warm, limit = warm + max, i;
    int64_t tstart = 0, cap = (int64_t)(pl->cap_s * 1e9);
    int r = 0;
    for (i = 0; r == 0; i++) {
        if (i == warm)
            tstart = now_ns();
        bool last = i + 1 == limit ||
                    (i > warm + 10 && now_ns() - tstart > cap);
        if (last)
            atomic_store(&ctl->total, i + 1);
        const void *d;
        int64_t t0 = now_ns();
        r = m->send(c, pool_msg(pool, i, 0));
        if (r == 0)
            r = m->recv(c, &d);
        int64_t t1 = now_ns();
        if (r < 0)
            break;
        XXH3_64bits_update(hs, d, c->size);
        if (m->release)
            m->release(c);
        if (i >= warm)
            samples[i - warm] = (uint64_t)(t1 - t0);
        if (last) {
            i++;
            break;
        }
    }
    ctl->a_count = i;
    ctl->measured = i > warm ? i - warm : 0;
    ctl->a_hash = XXH3_64bits_digest(hs);
    XXH3_freeState(hs);
    return r;
}

/* Side B of a latency run: echo with our own message of the same index. */
static int lat_b(struct chan *c, struct ctl *ctl, const unsigned char *pool)
{
    const struct mech *m = c->m;
    XXH3_state_t *hs = XXH3_createState();
    XXH3_64bits_reset(hs);
    uint64_t i;
    int r = 0;
    for (i = 0;; i++) {
        const void *d;
        r = m->recv(c, &d);
        if (r < 0)
            break;
        XXH3_64bits_update(hs, d, c->size);
        if (m->release)
            m->release(c);
        r = m->send(c, pool_msg(pool, i, 1));
        if (r < 0)
            break;
        if (atomic_load(&ctl->total) == i + 1) {
            i++;
            break;
        }
    }
    ctl->b_count = i;
    ctl->b_hash = XXH3_64bits_digest(hs);
    XXH3_freeState(hs);
    return r;
}

static int stream_a(const struct plan *pl, struct chan *c, struct ctl *ctl,
                    const unsigned char *pool, uint64_t max)
{
    const struct mech *m = c->m;
    uint64_t warm = ctl->warm, limit = warm + max;
    int64_t tstart = now_ns(), cap = (int64_t)(pl->cap_s * 1e9);
    int r = 0;
    for (uint64_t i = 0; r == 0; i++) {
        bool last = i + 1 == limit ||
                    ((i & 63) == 0 && i > warm + 64 && now_ns() - tstart > cap);
        if (last)
            atomic_store(&ctl->total, i + 1);
        r = m->send(c, pool_msg(pool, i, 0));
        if (last)
            break;
    }
    return r;
}

static int stream_b(struct chan *c, struct ctl *ctl)
{
    const struct mech *m = c->m;
    XXH3_state_t *hs = XXH3_createState();
    XXH3_64bits_reset(hs);
    uint64_t i;
    int r = 0;
    ctl->t0 = now_ns();
    for (i = 0;; i++) {
        const void *d;
        r = m->recv(c, &d);
        if (r < 0)
            break;
        XXH3_64bits_update(hs, d, c->size);
        if (m->release)
            m->release(c);
        if (i + 1 == ctl->warm)
            ctl->t0 = now_ns();
        if (atomic_load(&ctl->total) == i + 1) {
            i++;
            break;
        }
    }
    ctl->t1 = now_ns();
    ctl->b_count = i;
    ctl->b_hash = XXH3_64bits_digest(hs);
    XXH3_freeState(hs);
    return r;
}

/* One side, in its own process. Returns the exit status. */
static int child(const struct plan *pl, struct chan *c, struct ctl *ctl, int side,
                 const unsigned char *pool, uint64_t *samples, uint64_t max)
{
    alarm((unsigned)(pl->cap_s * 4) + 20);   /* a hung mechanism dies */
    pin_cpu(side == 0 ? pl->cpu_a : pl->cpu_b);
    c->rbuf = malloc(c->size ? c->size : 1);
    int r = c->rbuf ? c->m->side(c, side) : -ENOMEM;
    if (r < 0) {
        snprintf(ctl->why[side], sizeof ctl->why[side], "%s side: %s",
                 side ? "B" : "A", c->why[0] ? c->why : strerror(-r));
        return 1;
    }
    barrier(ctl);
    int64_t w0 = now_ns(), c0 = cpu_now_ns(), q0 = runq_wait_ns();
    if (side == 0)
        r = c->stream ? stream_a(pl, c, ctl, pool, max)
                      : lat_a(pl, c, ctl, pool, samples, max);
    else
        r = c->stream ? stream_b(c, ctl) : lat_b(c, ctl, pool);
    int64_t q1 = runq_wait_ns();
    ctl->cpu_ns[side] = cpu_now_ns() - c0;
    ctl->wall_ns[side] = now_ns() - w0;
    ctl->runq_ns[side] = q0 >= 0 && q1 >= q0 ? q1 - q0 : -1;
    if (r < 0)
        snprintf(ctl->why[side], sizeof ctl->why[side], "%s: %s",
                 side ? "B" : "A", c->why[0] ? c->why : strerror(-r));
    /* Keep our end open until the other side has everything: libraries
     * with I/O threads (ZeroMQ, nng) drop queued messages on close. */
    atomic_fetch_add(&ctl->done, 1);
    while (r == 0 && atomic_load(&ctl->done) < 2)
        usleep(200);
    if (c->m->leave)
        c->m->leave(c);
    return r < 0 ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Wait for both children; if one fails, the other is stopped. */
static bool reap_pair(pid_t a, pid_t b)
{
    bool ok = true;
    for (int left = 2; left > 0;) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (p != a && p != b)
            continue;
        left--;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            ok = false;
            kill(p == a ? b : a, SIGKILL);
        }
    }
    return ok;
}

static void run_channel(const struct plan *pl, const struct mech *m, size_t size,
                        bool stream, struct row *row)
{
    struct chan *c = calloc(1, sizeof *c);    /* each process has its copy */
    struct ctl *ctl = shared_alloc(sizeof *ctl);
    unsigned char *pool = pool_make(size);
    uint64_t warm, max;
    plan_counts(pl, size, stream, &warm, &max);
    uint64_t *samples = stream ? NULL : shared_alloc(max * sizeof *samples);
    if (!c || !ctl || !pool || (!stream && !samples)) {
        row->status = ROW_FAIL;
        snprintf(row->note, sizeof row->note, "out of memory");
        goto out;
    }
    c->m = m;
    c->size = size;
    c->stream = stream;
    for (int i = 0; i < 8; i++)
        c->fd[i] = -1;
    c->rfd = c->wfd = -1;
    ctl->warm = warm;
    int r = m->open(c);
    if (r < 0) {
        row->status = ROW_NA;
        snprintf(row->note, sizeof row->note, "%s", c->why[0] ? c->why : strerror(-r));
        if (m->destroy)
            m->destroy(c);
        goto out;
    }
    if (c->why[0])      /* a remark from open, e.g. "file on tmpfs" */
        snprintf(row->note, sizeof row->note, "%s", c->why);
    fflush(NULL);
    pid_t a = fork();
    if (a == 0)
        _exit(child(pl, c, ctl, 0, pool, samples, max));
    pid_t b = a > 0 ? fork() : -1;
    if (b == 0)
        _exit(child(pl, c, ctl, 1, pool, samples, max));
    bool ok = a > 0 && b > 0 && reap_pair(a, b);
    if (a > 0 && b < 0) {   /* A waits at the barrier for ever: stop it */
        kill(a, SIGKILL);
        waitpid(a, NULL, 0);
    }
    if (m->destroy)
        m->destroy(c);
    if (!ok) {
        row->status = ROW_FAIL;
        snprintf(row->note, sizeof row->note, "%s",
                 ctl->why[0][0] ? ctl->why[0] : ctl->why[1][0] ? ctl->why[1]
                 : "a side crashed or timed out");
        goto out;
    }
    uint64_t total = atomic_load(&ctl->total);
    bool verified = ctl->b_count == total &&
                    ctl->b_hash == expect_hash(pool, size, total, 0);
    if (!stream)
        verified = verified && ctl->a_count == total &&
                   ctl->a_hash == expect_hash(pool, size, total, 1);
    row->verified = row->verified && verified;
    if (!verified) {
        row->status = ROW_FAIL;
        snprintf(row->note, sizeof row->note, "checksum mismatch (%s)",
                 stream ? "stream" : "ping-pong");
    }
    /* both sides' CPU time over the longer of their two runs */
    int64_t wall = ctl->wall_ns[0] > ctl->wall_ns[1] ? ctl->wall_ns[0] : ctl->wall_ns[1];
    double cores = wall > 0 ? (double)(ctl->cpu_ns[0] + ctl->cpu_ns[1]) / (double)wall : 0;
    double wanted = wall > 0 && ctl->runq_ns[0] >= 0 && ctl->runq_ns[1] >= 0
                        ? cores + (double)(ctl->runq_ns[0] + ctl->runq_ns[1]) / (double)wall
                        : -1;
    if (stream) {
        row->has_tput_cores = true;
        row->tput_cores = cores;
        row->tput_wanted = wanted;
        uint64_t n = total > warm ? total - warm : total;
        double secs = (ctl->t1 - ctl->t0) / 1e9;
        row->has_tput = true;
        row->tput_count = n;
        row->msg_s = secs > 0 ? n / secs : 0;
        row->mb_s = row->msg_s * size / 1e6;
    } else {
        row->has_lat_cores = true;
        row->lat_cores = cores;
        row->lat_wanted = wanted;
        uint64_t n = ctl->measured;
        qsort(samples, n, sizeof *samples, cmp_u64);
        row->has_lat = n > 0;
        row->lat_count = n;
        if (n) {
            row->p50_ns = samples[(n - 1) / 2];
            row->p99_ns = samples[(n - 1) * 99 / 100];
            row->max_ns = samples[n - 1];
        }
    }
out:
    free(pool);
    if (samples)
        shared_free(samples, max * sizeof *samples);
    shared_free(ctl, sizeof *ctl);
    free(c);
}

/* Spawn rows: one child, pinned to A, starts and reaps children. */
static void run_spawn(const struct plan *pl, const struct mech *m, struct row *row)
{
    uint64_t max = pl->quick ? 30 : 2000;
    uint64_t *s = shared_alloc((max + 2) * sizeof *s);   /* [0] count, [1] failures */
    if (!s) {
        row->status = ROW_FAIL;
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm((unsigned)(pl->cap_s * 4) + 20);
        pin_cpu(pl->cpu_a);
        int64_t start = now_ns(), cap = (int64_t)(pl->cap_s * 1e9);
        uint64_t i, fails = 0;
        for (i = 0; i < max && (i < 5 || now_ns() - start < cap); i++) {
            int64_t t0 = now_ns();
            if (m->spawn(pl->true_path) != 0)
                fails++;
            s[2 + i] = (uint64_t)(now_ns() - t0);
        }
        s[0] = i;
        s[1] = fails;
        _exit(0);
    }
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    uint64_t n = s[0];
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || n == 0) {
        row->status = ROW_FAIL;
        snprintf(row->note, sizeof row->note, "benchmark child failed");
    } else {
        qsort(s + 2, n, sizeof *s, cmp_u64);
        row->has_lat = true;
        row->lat_count = n;
        row->p50_ns = s[2 + (n - 1) / 2];
        row->p99_ns = s[2 + (n - 1) * 99 / 100];
        row->max_ns = s[2 + n - 1];
        row->verified = s[1] == 0;
        if (s[1]) {
            row->status = ROW_FAIL;
            snprintf(row->note, sizeof row->note, "%llu of %llu children did not exit 0",
                     (unsigned long long)s[1], (unsigned long long)n);
        } else {
            if (m == &mech_fork_only)
                snprintf(row->note, sizeof row->note, "the child exits at once");
            else
                snprintf(row->note, sizeof row->note, "the child execs %s", pl->true_path);
        }
    }
    shared_free(s, (max + 2) * sizeof *s);
}

void run_row(const struct plan *pl, const struct mech *m, size_t size, struct row *row)
{
    memset(row, 0, sizeof *row);
    row->m = m;
    row->size = size;
    row->status = ROW_OK;
    switch (m->kind) {
    case MECH_SPAWN:
        run_spawn(pl, m, row);
        return;
    case MECH_MEMCPY:
        run_reference(pl, m, size, row);
        return;
    case MECH_LATENCY:
        row->verified = true;
        run_channel(pl, m, size, false, row);
        return;
    case MECH_CHANNEL:
        row->verified = true;
        run_channel(pl, m, size, false, row);
        if (row->status == ROW_OK)
            run_channel(pl, m, size, true, row);
        return;
    }
}
