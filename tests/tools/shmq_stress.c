/* Multi-process stress test of the shared-memory queue.
 *
 * Each round creates an anonymous queue, forks one consumer and P producer
 * processes and streams --count messages of random size (0..--max-size)
 * through it. Every message carries its producer, a sequence number and an
 * XXH3 hash of its payload; the consumer checks order per producer, length
 * and hash of every one. With --kill, each round picks a victim at random
 * (a producer or the consumer) and SIGKILLs it at a random point; the
 * survivors must notice (-EOWNERDEAD) instead of hanging, and the consumer
 * must have received everything the dead producer committed, nothing more.
 *
 *   shmq_stress [--count N] [--rounds R] [--producers P] [--kill]
 *               [--capacity BYTES] [--max-size BYTES] [--seed S]
 *               [--timeout SEC] [--spin N]
 * --spin sets the busy-wait before sleeping (0: every wait sleeps on the
 * futex, which exercises the wake-up protocol). Prints one line per round; exit 0 if every round passed, 1 if not,
 * 2 on bad usage. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "ipcbox/shmq.h"

#define MAXP IBX_SHMQ_MAX_PRODUCERS
#define POOL_SPAN 65536u

/* Exit codes of the children. */
enum { EX_OK = 0, EX_NOTICED = 3, EX_PIPE = 4, EX_BAD = 5, EX_ERR = 6 };

struct hdr {
    uint32_t producer;
    uint32_t len;
    uint64_t seq;
    uint64_t hash;
};

/* Progress, shared by all processes of a round. */
struct stats {
    _Atomic uint64_t sent[MAXP];
    _Atomic uint64_t received[MAXP];
    _Atomic uint64_t received_total;
    _Atomic uint64_t bytes;
};

struct cfg {
    uint64_t count;
    unsigned rounds;
    unsigned producers;
    int kill;
    size_t capacity;
    size_t max_size;
    uint64_t seed;
    unsigned timeout;
    long spin;          /* -1: library default */
};

static uint64_t splitmix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Payload size of message seq of producer p: mostly small, some large. */
static size_t msg_size(const struct cfg *c, uint64_t seed, unsigned p, uint64_t seq)
{
    uint64_t r = splitmix(seed ^ ((uint64_t)p << 56) ^ seq);
    size_t max = c->max_size;
    switch (r & 7) {
    case 0:  return (size_t)((r >> 8) % (max + 1));
    case 1:
    case 2:  return (size_t)((r >> 8) % (max / 16 + 1));
    default: return (size_t)((r >> 8) % ((max < 256 ? max : 256) + 1));
    }
}

static const unsigned char *payload(const unsigned char *pool, unsigned p, uint64_t seq)
{
    return pool + (seq * 977 + p * 131) % POOL_SPAN;
}

static int producer(const struct cfg *c, ibx_shmq *q, struct stats *st,
                    const unsigned char *pool, uint64_t seed, unsigned p, uint64_t n)
{
    if (ibx_shmq_attach(q, IBX_SHMQ_PRODUCER) < 0)
        return EX_ERR;
    if (c->spin >= 0)
        ibx_shmq_set_spin(q, (unsigned)c->spin);
    for (uint64_t i = 0; i < n; i++) {
        size_t len = msg_size(c, seed, p, i);
        const unsigned char *src = payload(pool, p, i);
        void *w;
        int r = ibx_shmq_reserve(q, sizeof(struct hdr) + len, &w, -1);
        if (r == -EOWNERDEAD)
            return EX_NOTICED;
        if (r == -EPIPE)
            return EX_PIPE;
        if (r < 0)
            return EX_ERR;
        struct hdr h = {p, (uint32_t)len, i, XXH3_64bits(src, len)};
        memcpy(w, &h, sizeof h);
        ibx_shmq_copy((unsigned char *)w + sizeof h, src, len);
        if (ibx_shmq_commit(q, sizeof h + len) < 0)
            return EX_ERR;
        atomic_store_explicit(&st->sent[p], i + 1, memory_order_relaxed);
    }
    ibx_shmq_close(q);
    return EX_OK;
}

static int consumer(const struct cfg *c, ibx_shmq *q, struct stats *st,
                    const unsigned char *pool, uint64_t seed)
{
    if (ibx_shmq_attach(q, IBX_SHMQ_CONSUMER) < 0)
        return EX_ERR;
    if (c->spin >= 0)
        ibx_shmq_set_spin(q, (unsigned)c->spin);
    uint64_t next[MAXP] = {0};
    for (;;) {
        const void *m;
        size_t n;
        int r = ibx_shmq_peek(q, &m, &n, -1);
        if (r == -EOWNERDEAD)
            return EX_NOTICED;
        if (r == -EPIPE)
            return EX_OK;
        if (r < 0) {
            fprintf(stderr, "consumer: peek: %s\n", strerror(-r));
            return EX_ERR;
        }
        struct hdr h;
        if (n < sizeof h)
            return EX_BAD;
        memcpy(&h, m, sizeof h);
        const unsigned char *body = (const unsigned char *)m + sizeof h;
        if (h.producer >= c->producers || h.seq != next[h.producer] ||
            h.len != n - sizeof h ||
            h.len != msg_size(c, seed, h.producer, h.seq) ||
            XXH3_64bits(body, h.len) != h.hash ||
            memcmp(body, payload(pool, h.producer, h.seq), h.len) != 0) {
            fprintf(stderr, "consumer: bad message: producer %u seq %llu "
                    "(expected %llu) len %u\n", h.producer,
                    (unsigned long long)h.seq,
                    (unsigned long long)(h.producer < c->producers ? next[h.producer] : 0),
                    h.len);
            return EX_BAD;
        }
        next[h.producer]++;
        atomic_store_explicit(&st->received[h.producer], next[h.producer], memory_order_relaxed);
        atomic_fetch_add_explicit(&st->received_total, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->bytes, n, memory_order_relaxed);
        if (ibx_shmq_release(q) < 0)
            return EX_ERR;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
}

/* Wait for pid until the deadline; -1 if it had to be killed. */
static int wait_child(pid_t pid, double deadline)
{
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        nap_ms(1);
    }
}

static const char *describe(int st)
{
    static char buf[64];
    if (st == -1)
        return "hung (killed at the deadline)";
    if (WIFSIGNALED(st))
        snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
    return buf;
}

/* One round; returns 0 if every expectation held. */
static int round_run(const struct cfg *c, unsigned round, const unsigned char *pool)
{
    uint64_t seed = splitmix(c->seed + round);
    struct stats *st = mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (st == MAP_FAILED)
        return -1;
    memset(st, 0, sizeof *st);
    ibx_shmq *q;
    int r = ibx_shmq_create(NULL, c->capacity,
                            c->producers > 1 ? IBX_SHMQ_MULTI_PRODUCER : 0, 0600, &q);
    if (r < 0) {
        fprintf(stderr, "shmq_stress: create: %s\n", strerror(-r));
        munmap(st, sizeof *st);
        return -1;
    }
    uint64_t per = c->count / c->producers;
    /* victim: -1 none, 0..P-1 a producer, P the consumer */
    int victim = -1;
    uint64_t kill_at = 0;
    uint64_t slack = (uint64_t)c->capacity / 32 + 1;     /* ring holds fewer */
    if (c->kill && per > 2 * slack) {
        uint64_t rr = splitmix(seed ^ 0x4b494c4c);
        victim = (int)(rr % (c->producers + 1));
        kill_at = (rr >> 16) % (per - slack);
    }
    double deadline = now_s() + c->timeout;
    pid_t cons = fork();
    if (cons == 0)
        _exit(consumer(c, q, st, pool, seed));
    pid_t prod[MAXP];
    for (unsigned p = 0; p < c->producers; p++) {
        prod[p] = fork();
        if (prod[p] == 0)
            _exit(producer(c, q, st, pool, seed, p, per));
    }
    if (victim >= 0) {
        pid_t vpid = victim == (int)c->producers ? cons : prod[victim];
        _Atomic uint64_t *progress = victim == (int)c->producers
            ? &st->received_total : &st->sent[victim];
        while (atomic_load(progress) < kill_at && now_s() < deadline)
            nap_ms(1);
        kill(vpid, SIGKILL);
    }
    int cst = wait_child(cons, deadline + 5);
    int pst[MAXP];
    for (unsigned p = 0; p < c->producers; p++)
        pst[p] = wait_child(prod[p], deadline + 5);

    int ok = 1;
    char what[96];
    if (victim < 0) {
        snprintf(what, sizeof what, "no kill");
        ok = cst == 0;
        for (unsigned p = 0; p < c->producers; p++)
            ok = ok && pst[p] == 0 && atomic_load(&st->received[p]) == per;
    } else if (victim == (int)c->producers) {
        snprintf(what, sizeof what, "consumer killed after %llu",
                 (unsigned long long)kill_at);
        ok = cst != -1 && WIFSIGNALED(cst);
        /* each producer still had more to send than fits: it must notice */
        for (unsigned p = 0; p < c->producers; p++)
            ok = ok && pst[p] != -1 && WIFEXITED(pst[p]) &&
                 WEXITSTATUS(pst[p]) == EX_NOTICED;
    } else {
        snprintf(what, sizeof what, "producer %d killed after %llu",
                 victim, (unsigned long long)kill_at);
        /* the consumer drains, then reports the death; unless the kill
         * landed only after the victim had sent everything and detached
         * (the parent polls its progress and can lag on a loaded machine
         * while an unblocked producer sends the last few thousand), and
         * then an orderly end is the right answer */
        bool finished = atomic_load(&st->sent[victim]) == per;
        ok = cst != -1 && WIFEXITED(cst) &&
             (WEXITSTATUS(cst) == EX_NOTICED || (finished && WEXITSTATUS(cst) == EX_OK));
        if (finished)
            snprintf(what, sizeof what, "producer %d killed after %llu (it had finished)",
                     victim, (unsigned long long)kill_at);
        for (unsigned p = 0; p < c->producers; p++) {
            uint64_t sent = atomic_load(&st->sent[p]), got = atomic_load(&st->received[p]);
            if ((int)p == victim)   /* killed between commit and counter: +1 */
                ok = ok && pst[p] != -1 &&
                     (WIFSIGNALED(pst[p]) || (finished && pst[p] == 0)) &&
                     (got == sent || got == sent + 1);
            else
                ok = ok && pst[p] == 0 && got == per;
        }
    }
    printf("round %u: %s: %llu messages, %.1f MiB verified; consumer %s",
           round, what, (unsigned long long)atomic_load(&st->received_total),
           atomic_load(&st->bytes) / 1048576.0, describe(cst));
    for (unsigned p = 0; p < c->producers; p++)
        printf(", producer %u %s", p, describe(pst[p]));
    printf(": %s\n", ok ? "ok" : "FAIL");
    fflush(stdout);
    ibx_shmq_close(q);
    munmap(st, sizeof *st);
    return ok ? 0 : -1;
}

static int usage(FILE *f, int code)
{
    fprintf(f, "usage: shmq_stress [--count N] [--rounds R] [--producers P] [--kill]\n"
               "                   [--capacity BYTES] [--max-size BYTES] [--seed S] [--timeout SEC]\n"
               "                   [--spin N]\n");
    return code;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct cfg c = {.count = 1000000, .rounds = 4, .producers = 1, .kill = 0,
                    .capacity = 65536, .max_size = 8192, .seed = 1, .timeout = 60,
                    .spin = -1};
    static const struct option opts[] = {
        {"count", required_argument, 0, 'n'}, {"rounds", required_argument, 0, 'r'},
        {"producers", required_argument, 0, 'p'}, {"kill", no_argument, 0, 'k'},
        {"capacity", required_argument, 0, 'c'}, {"max-size", required_argument, 0, 'm'},
        {"seed", required_argument, 0, 's'}, {"timeout", required_argument, 0, 't'},
        {"spin", required_argument, 0, 'S'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int o;
    uint64_t v;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 'n': bad = parse_u64(optarg, 1, UINT64_C(1) << 40, &c.count); break;
        case 'r': bad = parse_u64(optarg, 1, 100000, &v); c.rounds = (unsigned)v; break;
        case 'p': bad = parse_u64(optarg, 1, MAXP, &v); c.producers = (unsigned)v; break;
        case 'k': c.kill = 1; break;
        case 'c': bad = parse_u64(optarg, IBX_SHMQ_MIN_CAPACITY, 1u << 30, &v); c.capacity = v; break;
        case 'm': bad = parse_u64(optarg, 0, 1u << 20, &v); c.max_size = v; break;
        case 's': bad = parse_u64(optarg, 0, UINT64_MAX, &c.seed); break;
        case 't': bad = parse_u64(optarg, 1, 86400, &v); c.timeout = (unsigned)v; break;
        case 'S': bad = parse_u64(optarg, 0, 1u << 30, &v); c.spin = (long)v; break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
        if (bad) {
            fprintf(stderr, "shmq_stress: bad value '%s'\n", optarg);
            return 2;
        }
    }
    if (optind != argc)
        return usage(stderr, 2);
    /* a record must fit: capacity/2 - 8 - header */
    ibx_shmq *probe;
    if (ibx_shmq_create(NULL, c.capacity, 0, 0600, &probe) < 0)
        return 1;
    size_t room = ibx_shmq_max_msg(probe) - sizeof(struct hdr);
    c.capacity = ibx_shmq_capacity(probe);
    ibx_shmq_close(probe);
    if (c.max_size > room) {
        fprintf(stderr, "shmq_stress: --max-size %zu exceeds %zu for this capacity\n",
                c.max_size, room);
        return 2;
    }
    unsigned char *pool = malloc(POOL_SPAN + c.max_size);
    if (!pool)
        return 1;
    uint64_t x = c.seed;
    for (size_t i = 0; i < POOL_SPAN + c.max_size; i++)
        pool[i] = (unsigned char)(splitmix(x + i) >> 24);
    int fails = 0;
    double t0 = now_s();
    for (unsigned r = 0; r < c.rounds; r++)
        if (round_run(&c, r, pool) < 0)
            fails++;
    printf("shmq_stress: %u/%u rounds ok in %.1f s\n", c.rounds - fails, c.rounds,
           now_s() - t0);
    free(pool);
    return fails ? 1 : 0;
}
