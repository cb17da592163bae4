/* Unit tests for the coroutines (src/lib/coro*.c): switching back and
 * forth, many at once, the guard page, the blocking-style calls on
 * socketpairs through the loop (on every loop backend), sleep order,
 * timeouts, cancellation of parked coroutines, and that stacks go away
 * (mappings counted in /proc/self/maps; LeakSanitizer checks the rest). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/coro.h"
#include "ipcbox/net.h"

/* The loop backend of this round (main sets it). */
static const char *backend;

static ibx_loop *new_loop(void)
{
    ibx_loop *l;
    assert_int_equal(ibx_loop_new_backend(&l, backend), 0);
    return l;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run l until *flag == want, for at most 30 s. */
static void run_until(ibx_loop *l, const int *flag, int want)
{
    double end = now_s() + 30;
    while (*flag != want && now_s() < end)
        assert_true(ibx_loop_run_once(l, 500) >= 0);
    assert_int_equal(*flag, want);
}

static void nb_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

/* Mappings of this process (one line each in /proc/self/maps). */
static int count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* ---- plain switching ---- */

struct pingpong {
    int trace[16];
    int n;
};

static void pp_body(ibx_co *co, void *arg)
{
    struct pingpong *p = arg;
    for (int i = 0; i < 3; i++) {
        p->trace[p->n++] = 100 + i;
        assert_int_equal(ibx_co_yield(co), 0);
    }
    p->trace[p->n++] = 199;
}

static void test_switch_back_and_forth(void **state)
{
    struct pingpong p = {0};
    ibx_co *co;
    assert_int_equal(ibx_co_new(&co, NULL, 0, pp_body, &p), 0);
    assert_int_equal(p.n, 0);   /* not started before the first resume */
    assert_int_equal(ibx_co_yield(co), -EPERM);   /* not from outside */
    for (int i = 0; i < 3; i++) {
        p.trace[p.n++] = i;
        assert_int_equal(ibx_co_resume(co), 0);
        assert_false(ibx_co_finished(co));
    }
    assert_int_equal(ibx_co_resume(co), 1);
    assert_true(ibx_co_finished(co));
    const int want[] = {0, 100, 1, 101, 2, 102, 199};
    assert_int_equal(p.n, 7);
    assert_memory_equal(p.trace, want, sizeof want);
    /* never resumed once finished */
    assert_int_equal(ibx_co_resume(co), -EINVAL);
    assert_int_equal(ibx_co_resume(co), -EINVAL);
    ibx_co_free(co);
}

/* Floating point state survives switches (the control words are saved,
 * the xmm registers the compiler spills around the call). */
static void fp_body(ibx_co *co, void *arg)
{
    double *x = arg;
    for (int i = 0; i < 100; i++) {
        *x = *x * 1.5 + 0.25;
        ibx_co_yield(co);
    }
}

static void test_float_state(void **state)
{
    double a = 1, b = 2, ea = 1, eb = 2;
    ibx_co *ca, *cb;
    assert_int_equal(ibx_co_new(&ca, NULL, 0, fp_body, &a), 0);
    assert_int_equal(ibx_co_new(&cb, NULL, 0, fp_body, &b), 0);
    double local = 3.0;
    for (int i = 0; i < 100; i++) {
        ibx_co_resume(ca);
        local *= 1.01;
        ibx_co_resume(cb);
        ea = ea * 1.5 + 0.25;
        eb = eb * 1.5 + 0.25;
        assert_true(a == ea && b == eb);
    }
    assert_true(local > 3.0);
    assert_int_equal(ibx_co_resume(ca), 1);
    assert_int_equal(ibx_co_resume(cb), 1);
    ibx_co_free(ca);
    ibx_co_free(cb);
}

/* A coroutine resumes another (nesting): each yields to its own resumer. */
struct nest {
    ibx_co *inner;
    int trace[8];
    int n;
};

static void inner_body(ibx_co *co, void *arg)
{
    struct nest *s = arg;
    s->trace[s->n++] = 2;
    ibx_co_yield(co);
    s->trace[s->n++] = 4;
}

static void outer_body(ibx_co *co, void *arg)
{
    struct nest *s = arg;
    s->trace[s->n++] = 1;
    assert_int_equal(ibx_co_resume(s->inner), 0);
    s->trace[s->n++] = 3;
    assert_int_equal(ibx_co_resume(co), -EINVAL);   /* itself: running */
    ibx_co_yield(co);
    s->trace[s->n++] = 5;
}

static void test_nested(void **state)
{
    struct nest s = {0};
    ibx_co *outer;
    assert_int_equal(ibx_co_new(&outer, NULL, 0, outer_body, &s), 0);
    assert_int_equal(ibx_co_new(&s.inner, NULL, 0, inner_body, &s), 0);
    assert_int_equal(ibx_co_resume(outer), 0);
    assert_int_equal(ibx_co_resume(s.inner), 1);   /* from here this time */
    assert_int_equal(ibx_co_resume(outer), 1);
    const int want[] = {1, 2, 3, 4, 5};
    assert_int_equal(s.n, 5);
    assert_memory_equal(s.trace, want, sizeof want);
    ibx_co_free(outer);
    ibx_co_free(s.inner);
}

static void count_body(ibx_co *co, void *arg)
{
    int *n = arg;
    for (int i = 0; i < 3; i++) {
        (*n)++;
        ibx_co_yield(co);
    }
}

/* 2000 coroutines resumed round-robin; their stacks are unmapped as each
 * finishes (the mapping count is back where it was). */
#define MANY 2000
static void test_many(void **state)
{
    int maps0 = count_maps();
    static ibx_co *cos[MANY];
    static int counts[MANY];
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < MANY; i++)
        assert_int_equal(ibx_co_new(&cos[i], NULL, 0, count_body, &counts[i]), 0);
    assert_true(count_maps() >= maps0 + MANY);   /* a stack (and a guard) each */
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < MANY; i++)
            assert_int_equal(ibx_co_resume(cos[i]), round == 3 ? 1 : 0);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(counts[i], 3);
        assert_true(ibx_co_finished(cos[i]));
    }
    assert_true(count_maps() <= maps0 + 4);   /* stacks gone already */
    for (int i = 0; i < MANY; i++)
        ibx_co_free(cos[i]);
}

static void test_bad_args(void **state)
{
    ibx_co *co;
    assert_int_equal(ibx_co_new(&co, NULL, 0, NULL, NULL), -EINVAL);
    assert_int_equal(ibx_co_new(&co, NULL, IBX_CO_STACK_MAX + 1, count_body, NULL), -EINVAL);
    assert_int_equal(ibx_co_spawn(NULL, 0, count_body, NULL, &co), -EINVAL);
    assert_null(co);
    int n = 0;
    assert_int_equal(ibx_co_new(&co, NULL, 1, count_body, &n), 0);   /* rounded up */
    char buf[4];
    assert_int_equal(ibx_co_read(co, 0, buf, sizeof buf), -EINVAL);  /* outside */
    assert_int_equal(ibx_co_cancel(co, 7), -EINVAL);
    ibx_co_free(co);   /* never started: fine */
    ibx_co_free(NULL);
}

/* ---- the guard page ---- */

struct overflow {
    char *frame;     /* an address on the coroutine's stack */
    uintptr_t stop;  /* recursion goes down to this address */
    int r;
};

static int deep(const struct overflow *o, int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    pad[255] = (char)n;
    if ((uintptr_t)__builtin_frame_address(0) < o->stop)
        return 0;
    return deep(o, n + 1) + pad[0] + pad[255];
}

static void overflow_body(ibx_co *co, void *arg)
{
    struct overflow *o = arg;
    o->frame = __builtin_frame_address(0);
    ibx_co_yield(co);
    o->r = deep(o, 0);
}

/* The mappings of this process around p: *start is the lowest address of
 * the run of adjacent mappings that holds p (the stack and its guard
 * page), *below_end the end of the nearest mapping below that (0: none). */
static void mapping_around(const void *p, uintptr_t *start, uintptr_t *below_end)
{
    static uintptr_t lo[8192], hi[8192];
    size_t n = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    while (f && n < 8192 && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo[n], &hi[n]) == 2)
            n++;
    if (f)
        fclose(f);
    *start = *below_end = 0;
    for (size_t i = 0; i < n; i++)
        if ((uintptr_t)p >= lo[i] && (uintptr_t)p < hi[i])
            *start = lo[i];
    for (bool more = *start != 0; more;) {
        more = false;
        for (size_t i = 0; i < n; i++)
            if (hi[i] == *start) {
                *start = lo[i];
                more = true;
            }
    }
    for (size_t i = 0; i < n; i++)
        if (hi[i] <= *start && hi[i] > *below_end)
            *below_end = hi[i];
}

/* Running off the bottom of a coroutine's stack faults on the guard page:
 * the child dies of SIGSEGV instead of scribbling over the memory mapped
 * below the stack (a victim region put there on purpose, when there is
 * room, which the recursion reaches into unless the guard stops it). */
static void test_guard_page(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);   /* no sanitizer handler: a plain death */
        signal(SIGBUS, SIG_DFL);
        struct overflow o = {0};
        ibx_co *co;
        if (ibx_co_new(&co, NULL, IBX_CO_STACK_MIN, overflow_body, &o) < 0 ||
            ibx_co_resume(co) != 0)
            _exit(3);
        uintptr_t lo, below;
        mapping_around(o.frame, &lo, &below);
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        if (!lo)
            _exit(4);
        size_t vlen = lo - below;   /* the victim: just below, in the gap */
        if (vlen > ((size_t)1 << 20))
            vlen = (size_t)1 << 20;
        char *v = NULL;
        if (lo > below && vlen >= 4 * page) {
            v = mmap((void *)(lo - vlen), vlen, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (v == MAP_FAILED || (uintptr_t)v != lo - vlen)
                _exit(5);
            memset(v, 0x5a, vlen);
            o.stop = lo - vlen / 2;
        } else {
            o.stop = lo - page;   /* no room: below the stack at least */
        }
        ibx_co_resume(co);
        for (size_t i = 0; v && i < vlen; i++)
            if (v[i] != 0x5a)
                _exit(6);   /* silent corruption */
        _exit(7);           /* survived the overflow: wrong as well */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFEXITED(st))
        print_error("child exited %d instead of dying\n", WEXITSTATUS(st));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
}

/* A frame larger than a page (a big local buffer) must not step over the
 * guard into the memory below: with a one-page guard, its low end lands
 * below it, and is written without a fault (this test is built without
 * -fstack-clash-protection). The array is kept out of AddressSanitizer's
 * hands so that it lives on the coroutine's stack. */
#define BIG_FRAME (32 * 1024)   /* twice IBX_CO_STACK_MIN */

__attribute__((noinline, no_sanitize("address")))
static int big_frame(int n)
{
    volatile char a[BIG_FRAME];
    a[0] = (char)n;                 /* the lowest byte: below the guard */
    a[BIG_FRAME - 1] = (char)n;
    return a[0] + a[BIG_FRAME - 1];
}

static void big_frame_body(ibx_co *co, void *arg)
{
    struct overflow *o = arg;
    o->frame = __builtin_frame_address(0);
    ibx_co_yield(co);
    o->r = big_frame(1);
}

static void test_guard_page_big_frame(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        struct overflow o = {0};
        ibx_co *co;
        if (ibx_co_new(&co, NULL, IBX_CO_STACK_MIN, big_frame_body, &o) < 0 ||
            ibx_co_resume(co) != 0)
            _exit(3);
        uintptr_t lo, below;
        mapping_around(o.frame, &lo, &below);
        if (!lo)
            _exit(4);
        /* the victim: up to 64 KiB just below the guard, where the frame's
         * low end falls if the guard is a page (12 KiB below it; with no
         * room for it there, a fault proves nothing, and the test cannot
         * tell) */
        size_t vlen = lo > below ? lo - below : 0;
        if (vlen > (size_t)64 * 1024)
            vlen = (size_t)64 * 1024;
        char *v = NULL;
        if (vlen >= (size_t)20 * 1024) {
            v = mmap((void *)(lo - vlen), vlen, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (v == MAP_FAILED || (uintptr_t)v != lo - vlen)
                _exit(5);
            memset(v, 0x5a, vlen);
        }
        ibx_co_resume(co);
        for (size_t i = 0; v && i < vlen; i++)
            if (v[i] != 0x5a)
                _exit(6);   /* silent corruption below the guard */
        _exit(7);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFEXITED(st))
        print_error("child exited %d instead of dying\n", WEXITSTATUS(st));
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
}

/* ---- on the loop ---- */

#define BIG ((size_t)4 << 20)   /* well past a socket buffer: writes park */

struct rw {
    int fd;
    unsigned char *data;
    size_t got;
    int result;
    int done;
    int *flag;
};

static void writer_body(ibx_co *co, void *arg)
{
    struct rw *w = arg;
    w->result = ibx_co_write(co, w->fd, w->data, BIG);
    shutdown(w->fd, SHUT_WR);
    (*w->flag)++;
}

static void reader_body(ibx_co *co, void *arg)
{
    struct rw *r = arg;
    unsigned char buf[7000];   /* odd size: reads split the stream anyhow */
    for (;;) {
        ssize_t n = ibx_co_read(co, r->fd, buf, sizeof buf);
        if (n <= 0) {
            r->result = (int)n;
            break;
        }
        assert_true(r->got + (size_t)n <= BIG);
        assert_memory_equal(buf, r->data + r->got, (size_t)n);
        r->got += (size_t)n;
    }
    (*r->flag)++;
}

/* A writer and a reader on the two ends of a socketpair: 4 MiB go through,
 * each side parking when the socket is full or empty. */
static void test_read_write_socketpair(void **state)
{
    ibx_loop *l = new_loop();
    int sv[2];
    nb_pair(sv);
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 13));
    int finished = 0;
    struct rw w = {.fd = sv[0], .data = data, .flag = &finished};
    struct rw r = {.fd = sv[1], .data = data, .flag = &finished};
    ibx_co *cw, *cr;
    assert_int_equal(ibx_co_spawn(l, 0, writer_body, &w, &cw), 0);
    assert_int_equal(ibx_co_spawn(l, 0, reader_body, &r, &cr), 0);
    assert_int_equal(finished, 0);   /* both parked */
    run_until(l, &finished, 2);
    assert_int_equal(w.result, 0);
    assert_int_equal(r.result, 0);   /* EOF */
    assert_int_equal(r.got, BIG);
    free(data);
    close(sv[0]);
    close(sv[1]);
    ibx_loop_free(l);
}

struct sleeper {
    uint64_t ms;
    int id;
    int *order, *n;
};

static void sleep_body(ibx_co *co, void *arg)
{
    struct sleeper *s = arg;
    assert_int_equal(ibx_co_sleep(co, s->ms), 0);
    s->order[(*s->n)++] = s->id;
}

/* Sleepers wake in deadline order, whatever the spawn order. */
static void test_sleep_order(void **state)
{
    ibx_loop *l = new_loop();
    int order[4], n = 0;
    struct sleeper s[4] = {
        {40, 0, order, &n}, {10, 1, order, &n}, {30, 2, order, &n}, {20, 3, order, &n}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ibx_co_spawn(l, 0, sleep_body, &s[i], NULL), 0);
    assert_int_equal(n, 0);
    run_until(l, &n, 4);
    const int want[] = {1, 3, 2, 0};
    assert_memory_equal(order, want, sizeof want);
    ibx_loop_free(l);
}

struct waiter {
    int fd;
    int how;             /* cancellation to apply from outside */
    ssize_t result;      /* of the read */
    int write_result;
    int cancelled;       /* ibx_co_cancelled() seen */
    int done;
};

static void park_read_body(ibx_co *co, void *arg)
{
    struct waiter *w = arg;
    char c;
    w->result = ibx_co_read(co, w->fd, &c, 1);
    w->cancelled = ibx_co_cancelled(co);
    /* later waits fail at once */
    assert_int_equal(ibx_co_sleep(co, 100000), -ECANCELED);
    w->done = 1;
}

/* A coroutine parked in a read is woken with -ECANCELED by a drain, from
 * a deferred callback (not inside ibx_co_cancel), and unwinds. */
static void test_cancel_wakes_parked(void **state)
{
    ibx_loop *l = new_loop();
    int sv[2];
    nb_pair(sv);
    struct waiter w = {.fd = sv[1]};
    ibx_co *co;
    assert_int_equal(ibx_co_spawn(l, 0, park_read_body, &w, &co), 0);
    assert_int_equal(ibx_loop_run_once(l, 0), 0);   /* nothing to read */
    assert_int_equal(w.done, 0);
    assert_int_equal(ibx_co_cancel(co, IBX_CO_DRAIN), 0);
    assert_int_equal(w.done, 0);   /* not inside the call */
    run_until(l, &w.done, 1);
    assert_int_equal(w.result, -ECANCELED);
    assert_int_equal(w.cancelled, IBX_CO_DRAIN);
    close(sv[0]);
    close(sv[1]);
    ibx_loop_free(l);
}

static void drain_write_body(ibx_co *co, void *arg)
{
    struct waiter *w = arg;
    unsigned char *big = calloc(1, BIG);
    w->write_result = ibx_co_write(co, w->fd, big, BIG);
    free(big);
    char c;
    w->result = ibx_co_read(co, w->fd, &c, 1);
    w->done = 1;
}

/* Drain lets a write in flight finish (then the next read is cancelled);
 * abort cancels the write itself. */
static void test_drain_finishes_writes_abort_does_not(void **state)
{
    for (int how = IBX_CO_DRAIN; how <= IBX_CO_ABORT; how++) {
        ibx_loop *l = new_loop();
        int sv[2];
        nb_pair(sv);
        struct waiter w = {.fd = sv[0]};
        ibx_co *co;
        assert_int_equal(ibx_co_spawn(l, 0, drain_write_body, &w, &co), 0);
        assert_int_equal(w.done, 0);   /* parked: the socket is full */
        assert_int_equal(ibx_co_cancel(co, how), 0);
        static unsigned char sink[1 << 16];
        size_t drained = 0;
        for (int i = 0; i < 100000 && !w.done; i++) {
            assert_true(ibx_loop_run_once(l, how == IBX_CO_ABORT ? 5000 : 0) >= 0);
            ssize_t n = how == IBX_CO_DRAIN ? read(sv[1], sink, sizeof sink) : 0;
            if (n > 0)
                drained += (size_t)n;
        }
        assert_int_equal(w.done, 1);
        if (how == IBX_CO_DRAIN) {
            assert_int_equal(w.write_result, 0);
            while (drained < BIG) {
                ssize_t n = read(sv[1], sink, sizeof sink);
                assert_true(n > 0);
                drained += (size_t)n;
            }
        } else {
            assert_int_equal(w.write_result, -ECANCELED);
        }
        assert_int_equal(w.result, -ECANCELED);
        close(sv[0]);
        close(sv[1]);
        ibx_loop_free(l);
    }
}

static void timeout_body(ibx_co *co, void *arg)
{
    struct waiter *w = arg;
    char c;
    ibx_co_set_timeout(co, 20);
    w->result = ibx_co_read(co, w->fd, &c, 1);
    w->done = 1;
}

static void test_read_timeout(void **state)
{
    ibx_loop *l = new_loop();
    int sv[2];
    nb_pair(sv);
    struct waiter w = {.fd = sv[1]};
    assert_int_equal(ibx_co_spawn(l, 0, timeout_body, &w, NULL), 0);
    run_until(l, &w.done, 1);
    assert_int_equal(w.result, -ETIMEDOUT);
    close(sv[0]);
    close(sv[1]);
    ibx_loop_free(l);
}

struct netpair {
    int lfd;
    ibx_addr addr;
    char got[8];
    int server_result, client_result;
    int done;
};

static void server_body(ibx_co *co, void *arg)
{
    struct netpair *p = arg;
    int fd = ibx_co_accept(co, p->lfd, NULL, NULL);
    assert_true(fd >= 0);
    char buf[4];
    size_t have = 0;
    while (have < 4) {
        ssize_t n = ibx_co_read(co, fd, buf + have, 4 - have);
        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_memory_equal(buf, "ping", 4);
    p->server_result = ibx_co_write(co, fd, "pong", 4);
    ibx_co_close(co, fd);
    p->done++;
}

static void client_body(ibx_co *co, void *arg)
{
    struct netpair *p = arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    p->client_result = ibx_co_connect(co, fd, (struct sockaddr *)&p->addr.ss, p->addr.len);
    assert_int_equal(p->client_result, 0);
    assert_int_equal(ibx_co_write(co, fd, "ping", 4), 0);
    size_t have = 0;
    for (;;) {
        ssize_t n = ibx_co_read(co, fd, p->got + have, sizeof p->got - have);
        assert_true(n >= 0);
        if (n == 0)
            break;
        have += (size_t)n;
    }
    assert_int_equal(have, 4);
    ibx_co_close(co, fd);
    p->done++;
}

/* accept and connect park too: a server and a client coroutine over TCP. */
static void test_accept_connect(void **state)
{
    ibx_loop *l = new_loop();
    struct netpair p = {0};
    ibx_addr any;
    ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
    p.lfd = ibx_tcp_listen(&any, 16, 0);
    assert_true(p.lfd >= 0);
    assert_int_equal(ibx_sock_local(p.lfd, &p.addr), 0);
    assert_int_equal(ibx_co_spawn(l, 0, server_body, &p, NULL), 0);
    assert_int_equal(ibx_co_spawn(l, 0, client_body, &p, NULL), 0);
    run_until(l, &p.done, 2);
    assert_memory_equal(p.got, "pong", 4);
    close(p.lfd);
    ibx_loop_free(l);
}

/* Freeing a parked coroutine forgets its watcher: data arriving later
 * resumes nothing (ASan would see a use after free). */
static void test_free_parked(void **state)
{
    ibx_loop *l = new_loop();
    int sv[2];
    nb_pair(sv);
    struct waiter w = {.fd = sv[1]};
    ibx_co *co;
    assert_int_equal(ibx_co_new(&co, l, 0, park_read_body, &w), 0);
    assert_int_equal(ibx_co_resume(co), 0);   /* parks in the read */
    ibx_co_free(co);
    assert_int_equal(write(sv[0], "x", 1), 1);
    assert_int_equal(ibx_loop_run_once(l, 0), 0);
    assert_int_equal(w.done, 0);
    close(sv[0]);
    close(sv[1]);
    ibx_loop_free(l);
}

/* A coroutine freed while parked leaves no AddressSanitizer poison behind
 * on its stack (the redzones of the frames it never left): memory mapped
 * there later is used without a false report. Without ASan the test runs
 * all the same and proves only that nothing crashes. */
struct poisoned {
    int fd;
    char *where;    /* an address in the parked frame */
};

static void poison_body(ibx_co *co, void *arg)
{
    struct poisoned *p = arg;
    char buf[100];   /* addressable: ASan puts redzones around it */
    p->where = buf;
    (void)ibx_co_read(co, p->fd, buf, sizeof buf);
}

static void test_free_parked_leaves_no_poison(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ibx_loop *l;
        if (ibx_loop_new_backend(&l, backend) < 0)
            _exit(3);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
            _exit(3);
        struct poisoned p = {.fd = sv[1]};
        ibx_co *co;
        if (ibx_co_new(&co, l, 0, poison_body, &p) < 0 || ibx_co_resume(co) != 0)
            _exit(3);
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        char *pg = (char *)((uintptr_t)p.where & ~(uintptr_t)(page - 1));
        ibx_co_free(co);   /* parked in the read: its stack is unmapped */
        ibx_loop_run_once(l, 0);
        char *m = mmap(pg, page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (m == MAP_FAILED || m != pg)
            _exit(0);   /* the address was taken meanwhile: nothing to see */
        volatile char *q = m;
        for (size_t i = 0; i < page; i++)   /* instrumented stores */
            q[i] = (char)i;
        munmap(m, page);
        close(sv[0]);
        close(sv[1]);
        ibx_loop_free(l);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        print_error("child: %s %d (a sanitizer report above?)\n",
                    WIFEXITED(st) ? "exit" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

struct sleep_cancel {
    int result;
    int done;
};

static void long_sleep_body(ibx_co *co, void *arg)
{
    struct sleep_cancel *s = arg;
    s->result = ibx_co_sleep(co, 3600 * 1000);
    s->done++;
}

/* Cancelling a sleep (either level) wakes it with -ECANCELED, from the
 * loop; a sleep whose timer ends returns 0 (test_sleep_order). */
static void test_cancel_sleep(void **state)
{
    for (int how = IBX_CO_DRAIN; how <= IBX_CO_ABORT; how++) {
        ibx_loop *l = new_loop();
        struct sleep_cancel s = {0};
        ibx_co *co;
        assert_int_equal(ibx_co_spawn(l, 0, long_sleep_body, &s, &co), 0);
        assert_int_equal(ibx_loop_run_once(l, 0), 0);
        assert_int_equal(s.done, 0);
        assert_int_equal(ibx_co_cancel(co, how), 0);
        run_until(l, &s.done, 1);
        assert_int_equal(s.result, -ECANCELED);
        ibx_loop_free(l);
    }
}

/* Write until a write fails (the socket buffers fill up, then it parks). */
static void write_forever_body(ibx_co *co, void *arg)
{
    struct waiter *w = arg;
    unsigned char *chunk = calloc(1, (size_t)1 << 20);
    while ((w->write_result = ibx_co_write(co, w->fd, chunk, (size_t)1 << 20)) == 0)
        ;
    free(chunk);
    w->done = 1;
}

/* The peer goes away while the coroutine is parked in a write: the write
 * fails with the socket's error (no SIGPIPE: that would kill this test),
 * for a socketpair closed and for a TCP peer that resets. */
static void test_peer_gone_during_write(void **state)
{
    for (int tcp = 0; tcp <= 1; tcp++) {
        ibx_loop *l = new_loop();
        int sv[2], lfd = -1;
        if (tcp) {
            ibx_addr any, a;
            ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
            lfd = ibx_tcp_listen(&any, 4, 0);
            assert_true(lfd >= 0);
            assert_int_equal(ibx_sock_local(lfd, &a), 0);
            sv[1] = ibx_tcp_connect_wait(&a, 5000);
            assert_true(sv[1] >= 0);
            for (int i = 0; i < 500 && (sv[0] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0; i++)
                usleep(10000);
            assert_true(sv[0] >= 0);
        } else {
            nb_pair(sv);
        }
        struct waiter w = {.fd = sv[0]};
        assert_int_equal(ibx_co_spawn(l, 0, write_forever_body, &w, NULL), 0);
        assert_int_equal(w.done, 0);   /* parked: nobody reads */
        if (tcp) {
            struct linger lg = {1, 0};
            setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(sv[1]);
        run_until(l, &w.done, 1);
        if (w.write_result != -EPIPE && w.write_result != -ECONNRESET)
            print_error("write: %d\n", w.write_result);
        assert_true(w.write_result == -EPIPE || w.write_result == -ECONNRESET);
        close(sv[0]);
        if (lfd >= 0)
            close(lfd);
        ibx_loop_free(l);
    }
}

/* Thousands of coroutines parked and then cancelled at once all unwind
 * and unmap their stacks. Two rounds: the first may leave the allocator's
 * new regions behind (mappings too), the second must add none. */
#define PARKED 3000
static void test_cancel_many_parked(void **state)
{
    ibx_loop *l = new_loop();
    static struct sleep_cancel s[PARKED];
    static ibx_co *cos[PARKED];
    int maps0 = 0;
    for (int round = 0; round < 2; round++) {
        int done = 0;
        memset(s, 0, sizeof s);
        for (int i = 0; i < PARKED; i++)
            assert_int_equal(ibx_co_spawn(l, 0, long_sleep_body, &s[i], &cos[i]), 0);
        assert_true(count_maps() >= maps0 + PARKED);
        for (int i = 0; i < PARKED; i++)
            assert_int_equal(ibx_co_cancel(cos[i], i % 2 ? IBX_CO_ABORT : IBX_CO_DRAIN), 0);
        double end = now_s() + 60;
        while (done < PARKED && now_s() < end) {
            assert_true(ibx_loop_run_once(l, 500) >= 0);
            done = 0;
            for (int i = 0; i < PARKED; i++)
                done += s[i].done;
        }
        assert_int_equal(done, PARKED);
        for (int i = 0; i < PARKED; i++)
            assert_int_equal(s[i].result, -ECANCELED);
        ibx_loop_run_once(l, 0);   /* the deferred frees */
        if (round == 0) {
            maps0 = count_maps();
        } else {
            if (count_maps() > maps0 + 4)
                print_error("maps: %d after round 1, %d after round 2\n", maps0, count_maps());
            assert_true(count_maps() <= maps0 + 4);
        }
    }
    ibx_loop_free(l);
}

/* Spawned coroutines leave nothing behind: 500 finished, stacks unmapped;
 * cancelling a finished plain one is refused. */
static void test_spawned_free_themselves(void **state)
{
    ibx_loop *l = new_loop();
    int maps0 = count_maps();
    int order[500], n = 0;
    static struct sleeper s[500];
    for (int i = 0; i < 500; i++) {
        s[i] = (struct sleeper){(uint64_t)(1 + i % 5), i, order, &n};
        assert_int_equal(ibx_co_spawn(l, 0, sleep_body, &s[i], NULL), 0);
    }
    assert_true(count_maps() >= maps0 + 500);
    run_until(l, &n, 500);
    ibx_loop_run_once(l, 0);   /* the deferred frees */
    assert_true(count_maps() <= maps0 + 4);
    ibx_co *co;
    int k = 0;
    assert_int_equal(ibx_co_new(&co, l, 0, count_body, &k), 0);
    while (ibx_co_resume(co) == 0)
        ;
    assert_int_equal(ibx_co_cancel(co, IBX_CO_ABORT), -EINVAL);
    ibx_co_free(co);
    ibx_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_switch_back_and_forth),
        cmocka_unit_test(test_float_state),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_guard_page_big_frame),
    };
    const struct CMUnitTest on_loop[] = {
        cmocka_unit_test(test_read_write_socketpair),
        cmocka_unit_test(test_sleep_order),
        cmocka_unit_test(test_cancel_wakes_parked),
        cmocka_unit_test(test_drain_finishes_writes_abort_does_not),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_accept_connect),
        cmocka_unit_test(test_free_parked),
        cmocka_unit_test(test_free_parked_leaves_no_poison),
        cmocka_unit_test(test_cancel_sleep),
        cmocka_unit_test(test_peer_gone_during_write),
        cmocka_unit_test(test_cancel_many_parked),
        cmocka_unit_test(test_spawned_free_themselves),
    };
    int failed = cmocka_run_group_tests_name("switch", plain, NULL, NULL);
    for (size_t i = 0; (backend = ibx_loop_backend_at(i)) != NULL; i++)
        failed += cmocka_run_group_tests_name(backend, on_loop, NULL, NULL);
    return failed;
}
