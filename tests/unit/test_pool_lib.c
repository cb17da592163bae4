/* The process pool: results as completed and in order, failures,
 * backpressure, workers that crash (reported, retried once, replaced),
 * drain and cancel at close, the caller's eventfd, several threads, and
 * that a closed pool leaves no child process and no descriptor behind.
 * Every blocking step is bounded by alarm() so a regression fails instead
 * of hanging. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/pool.h"

/* What a test task asks its worker to do. */
enum op { OP_DOUBLE, OP_FAIL, OP_KILL, OP_KILL_ONCE, OP_BLOCK, OP_COUNT, OP_PID };

struct task {
    uint32_t op;
    uint32_t x;
};

/* Shared with the workers (MAP_SHARED, made before the pool). */
struct shared {
    _Atomic uint32_t count;         /* OP_COUNT runs */
    _Atomic uint32_t killed;        /* OP_KILL_ONCE has killed a worker */
    int started_w;                  /* OP_BLOCK writes a byte here ... */
    int release_r;                  /* ... then waits for one here */
};

static struct shared *sh;
static int started_r, release_w;

static int work(const void *task, size_t len, void *result, size_t cap,
                size_t *rlen, void *arg)
{
    struct shared *s = arg;
    struct task t;
    if (len != sizeof t)
        return 99;
    memcpy(&t, task, sizeof t);
    uint64_t v = (uint64_t)t.x * 2;
    char c = 'x';
    switch (t.op) {
    case OP_FAIL:
        memcpy(result, "no", 2);
        *rlen = 2;
        return 7;
    case OP_KILL:
        raise(SIGKILL);
        break;
    case OP_KILL_ONCE:
        if (atomic_exchange(&s->killed, 1) == 0)
            raise(SIGKILL);
        break;
    case OP_BLOCK:
        if (write(s->started_w, &c, 1) != 1 || read(s->release_r, &c, 1) < 0)
            return 98;
        break;
    case OP_COUNT:
        atomic_fetch_add(&s->count, 1);
        break;
    case OP_PID:
        v = (uint64_t)getpid();
        break;
    }
    if (cap < sizeof v)
        return 97;
    memcpy(result, &v, sizeof v);
    *rlen = sizeof v;
    return 0;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int fds_before;

/* Fresh shared state and pipes; remember the descriptors we start with
 * (pipes included: they are the test's, closed in teardown). */
static int setup(void **state)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return -1;
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
        return -1;
    started_r = a[0];
    sh->started_w = a[1];
    sh->release_r = b[0];
    release_w = b[1];
    fds_before = count_fds();
    alarm(120);
    return 0;
}

/* The pool left nothing behind: no child, no descriptor. */
static int teardown(void **state)
{
    alarm(0);
    int st;
    pid_t left = waitpid(-1, &st, WNOHANG);
    int fds = count_fds();
    close(started_r);
    close(sh->started_w);
    close(sh->release_r);
    close(release_w);
    munmap(sh, sizeof *sh);
    if (left != -1 || errno != ECHILD) {
        fprintf(stderr, "a child process was left (waitpid: %d)\n", (int)left);
        return -1;
    }
    if (fds != fds_before) {
        fprintf(stderr, "descriptors: %d before, %d after\n", fds_before, fds);
        return -1;
    }
    return 0;
}

static ibx_pool *new_pool(unsigned workers, bool retry)
{
    struct ibx_pool_config cfg = {.fn = work, .arg = sh, .workers = workers,
                                  .max_task = sizeof(struct task),
                                  .max_result = 64, .retry_on_crash = retry};
    ibx_pool *p;
    assert_int_equal(ibx_pool_new(&p, &cfg), 0);
    return p;
}

static void submit(ibx_pool *p, uint32_t op, uint32_t x, uint64_t tag)
{
    struct task t = {op, x};
    assert_int_equal(ibx_pool_submit(p, &t, sizeof t, tag), 0);
}

/* Wait until an OP_BLOCK task runs in a worker. */
static void wait_started(void)
{
    char c;
    assert_int_equal(read(started_r, &c, 1), 1);
}

static void release_one(void)
{
    assert_int_equal(write(release_w, "r", 1), 1);
}

/* Take n results of OP_DOUBLE tasks tagged 0..n-1 (x = tag): each once. */
static void take_doubles(ibx_pool *p, size_t n)
{
    unsigned char *seen = calloc(n, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < n; i++) {
        struct ibx_pool_result r;
        uint64_t v;
        assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, -1), 0);
        assert_true(r.tag < n);
        assert_false(seen[r.tag]);
        seen[r.tag] = 1;
        assert_int_equal(r.status, IBX_POOL_OK);
        assert_int_equal(r.len, sizeof v);
        assert_int_equal(v, r.tag * 2);
    }
    free(seen);
}

static void test_submit_next(void **state)
{
    ibx_pool *p = new_pool(2, false);
    const size_t n = 5000;
    for (size_t i = 0; i < n; i++)
        submit(p, OP_DOUBLE, (uint32_t)i, i);
    take_doubles(p, n);
    struct ibx_pool_result r;
    char buf[64];
    assert_int_equal(ibx_pool_next(p, &r, buf, sizeof buf, -1), -ENOENT);

    /* a failing task: its code and its bytes come back */
    submit(p, OP_FAIL, 0, 42);
    assert_int_equal(ibx_pool_next(p, &r, buf, sizeof buf, -1), 0);
    assert_int_equal(r.tag, 42);
    assert_int_equal(r.status, IBX_POOL_FAILED);
    assert_int_equal(r.code, 7);
    assert_int_equal(r.len, 2);
    assert_memory_equal(buf, "no", 2);

    /* a result larger than the buffer stays queued */
    submit(p, OP_DOUBLE, 21, 1);
    assert_int_equal(ibx_pool_next(p, &r, buf, 4, -1), -EMSGSIZE);
    assert_int_equal(r.len, 8);
    assert_int_equal(ibx_pool_next(p, &r, buf, sizeof buf, -1), 0);
    assert_int_equal(r.tag, 1);

    char big[sizeof(struct task) + 1] = {0};
    assert_int_equal(ibx_pool_try_submit(p, big, sizeof big, 0), -EMSGSIZE);
    struct ibx_pool_stats st;
    ibx_pool_stats(p, &st);
    assert_int_equal(st.workers, 2);
    assert_int_equal(st.submitted, n + 2);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.crashes, 0);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

static void test_map_in_order(void **state)
{
    ibx_pool *p = new_pool(2, false);
    const size_t n = 100000;
    struct task *t = calloc(n, sizeof *t);
    uint64_t *res = calloc(n, sizeof *res);
    struct ibx_pool_result *info = calloc(n, sizeof *info);
    assert_true(t && res && info);
    for (size_t i = 0; i < n; i++)
        t[i] = (struct task){i == 500 ? OP_FAIL : OP_DOUBLE, (uint32_t)i};
    assert_int_equal(ibx_pool_map(p, t, sizeof *t, n, res, sizeof *res, info), 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(info[i].tag, i);
        if (i == 500) {
            assert_int_equal(info[i].status, IBX_POOL_FAILED);
            assert_int_equal(info[i].code, 7);
            continue;
        }
        assert_int_equal(info[i].status, IBX_POOL_OK);
        assert_int_equal(res[i], 2 * i);
    }
    /* map needs the pool to itself */
    submit(p, OP_DOUBLE, 0, 0);
    assert_int_equal(ibx_pool_map(p, t, sizeof *t, 1, res, sizeof *res, NULL), -EBUSY);
    take_doubles(p, 1);
    assert_int_equal(ibx_pool_map(p, t, sizeof *t, 10, res, sizeof *res, NULL), 0);
    /* results dropped, statuses kept; too small a slot fails the task */
    assert_int_equal(ibx_pool_map(p, t, sizeof *t, 1000, NULL, 0, info), 1);
    assert_int_equal(info[500].status, IBX_POOL_FAILED);
    assert_int_equal(info[499].status, IBX_POOL_OK);
    assert_int_equal(ibx_pool_map(p, t, sizeof *t, 10, res, 4, info), 10);
    assert_int_equal(info[3].code, -EMSGSIZE);
    assert_int_equal(ibx_pool_map(p, t, sizeof *t + 100, 1, res, 8, NULL), -EMSGSIZE);
    free(t);
    free(res);
    free(info);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

static void *blocking_submit(void *arg)
{
    submit(arg, OP_DOUBLE, 1000, 1000);
    return NULL;
}

static void test_backpressure(void **state)
{
    struct ibx_pool_config cfg = {.fn = work, .arg = sh, .workers = 1,
                                  .max_task = sizeof(struct task), .max_result = 64,
                                  .batch = 4, .queue_bytes = 1};
    ibx_pool *p;
    assert_int_equal(ibx_pool_new(&p, &cfg), 0);
    submit(p, OP_BLOCK, 0, 0);
    wait_started();     /* the only worker is stuck: nothing drains */
    struct task t = {OP_DOUBLE, 1};
    uint32_t accepted = 1;
    int r;
    while ((r = ibx_pool_try_submit(p, &t, sizeof t, accepted)) == 0 && accepted < 1000)
        t.x = ++accepted;
    assert_int_equal(r, -EAGAIN);
    /* bounded: the batches a worker may hold, plus the open one */
    assert_true(accepted > 1 && accepted <= 1 + 3 * 4);
    pthread_t th;       /* a blocking submit waits for room ... */
    assert_int_equal(pthread_create(&th, NULL, blocking_submit, p), 0);
    release_one();      /* ... which comes once the worker moves on */
    assert_int_equal(pthread_join(th, NULL), 0);
    size_t got = 0;
    struct ibx_pool_result res;
    uint64_t v;
    while (ibx_pool_next(p, &res, &v, sizeof v, -1) == 0) {
        assert_int_equal(res.status, IBX_POOL_OK);
        assert_int_equal(v, 2 * (res.tag == 0 ? 0 : res.tag));
        got++;
    }
    assert_int_equal(got, accepted + 1);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

/* 200 tasks with task 77 killing its worker: one crash, the rest fine. */
static void run_crash(bool retry, uint32_t op, int want_status)
{
    ibx_pool *p = new_pool(2, retry);
    const size_t n = 200;
    for (size_t i = 0; i < n; i++)
        submit(p, i == 77 ? op : OP_DOUBLE, (uint32_t)i, i);
    for (size_t i = 0; i < n; i++) {
        struct ibx_pool_result r;
        uint64_t v = 0;
        assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, -1), 0);
        if (r.tag == 77 && want_status == IBX_POOL_CRASHED) {
            assert_int_equal(r.status, IBX_POOL_CRASHED);
            assert_true(WIFSIGNALED(r.code) && WTERMSIG(r.code) == SIGKILL);
            assert_int_equal(r.len, 0);
            continue;
        }
        assert_int_equal(r.status, IBX_POOL_OK);
        assert_int_equal(v, r.tag * 2);
    }
    struct ibx_pool_stats st;
    ibx_pool_stats(p, &st);
    uint64_t deaths = op == OP_KILL && retry ? 2 : 1;
    assert_int_equal(st.crashes, deaths);
    assert_int_equal(st.respawns, deaths);
    assert_int_equal(st.retried, retry ? 1 : 0);
    assert_int_equal(st.pending, 0);

    /* the pool still has two workers: two blocked tasks run at once */
    submit(p, OP_BLOCK, 0, 0);
    submit(p, OP_BLOCK, 1, 1);
    assert_int_equal(ibx_pool_flush(p), 0);
    wait_started();
    wait_started();
    release_one();
    release_one();
    take_doubles(p, 2);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

static void test_crash_reported(void **state)
{
    run_crash(false, OP_KILL, IBX_POOL_CRASHED);
}

static void test_crash_retried(void **state)
{
    run_crash(true, OP_KILL_ONCE, IBX_POOL_OK);
}

static void test_crash_twice(void **state)
{
    run_crash(true, OP_KILL, IBX_POOL_CRASHED);
}

/* A task that kills its worker in the middle of a map, at several points
 * (so the dead worker's in-flight batches sit anywhere in its ring): the
 * map completes, with that task reported and every other result in place. */
static void test_crash_in_map(void **state)
{
    ibx_pool *p = new_pool(2, false);
    const size_t n = 20000;
    struct task *t = calloc(n, sizeof *t);
    uint64_t *res = calloc(n, sizeof *res);
    struct ibx_pool_result *info = calloc(n, sizeof *info);
    assert_true(t && res && info);
    for (unsigned round = 0; round < 6; round++) {
        size_t bad = (12345 + round * 3001) % n;
        for (size_t i = 0; i < n; i++)
            t[i] = (struct task){i == bad ? OP_KILL : OP_DOUBLE, (uint32_t)i};
        assert_int_equal(ibx_pool_map(p, t, sizeof *t, n, res, sizeof *res, info), 1);
        for (size_t i = 0; i < n; i++) {
            if (i == bad) {
                assert_int_equal(info[i].status, IBX_POOL_CRASHED);
                continue;
            }
            assert_int_equal(info[i].status, IBX_POOL_OK);
            assert_int_equal(res[i], 2 * i);
        }
    }
    struct ibx_pool_stats st;
    ibx_pool_stats(p, &st);
    assert_int_equal(st.crashes, 6);
    free(t);
    free(res);
    free(info);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

static void test_close_drain(void **state)
{
    ibx_pool *p = new_pool(2, false);
    for (uint32_t i = 0; i < 3000; i++)
        submit(p, OP_COUNT, i, i);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
    assert_int_equal(atomic_load(&sh->count), 3000);
}

static void test_close_cancel(void **state)
{
    ibx_pool *p = new_pool(1, false);
    submit(p, OP_BLOCK, 0, 0);
    wait_started();     /* the one worker is busy for good ... */
    for (uint32_t i = 1; i <= 100; i++)
        submit(p, OP_COUNT, i, i);
    /* ... so cancel must kill it, and the queued tasks never run */
    assert_int_equal(ibx_pool_close(p, IBX_POOL_CANCEL), 0);
    assert_int_equal(atomic_load(&sh->count), 0);
    assert_int_equal(ibx_pool_close(NULL, IBX_POOL_DRAIN), 0);
}

static void test_event_fd(void **state)
{
    ibx_pool *p = new_pool(1, false);
    int fd = ibx_pool_fd(p);
    assert_true(fd >= 0);
    submit(p, OP_BLOCK, 0, 5);
    wait_started();
    struct ibx_pool_result r;
    uint64_t v;
    assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, 0), -EAGAIN);
    struct pollfd pfd = {fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0);      /* nothing yet */
    release_one();
    assert_int_equal(poll(&pfd, 1, 60000), 1);  /* the result woke it */
    assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, 0), 0);
    assert_int_equal(r.tag, 5);
    assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, 0), -ENOENT);

    /* a timeout that passes */
    submit(p, OP_BLOCK, 0, 6);
    wait_started();
    assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, 10), -ETIMEDOUT);
    release_one();
    assert_int_equal(ibx_pool_next(p, &r, &v, sizeof v, -1), 0);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

/* Several threads submit and several take results at once. */
#define PRODUCERS 4
#define PER_PRODUCER 5000
#define CONSUMERS 2

struct thr {
    ibx_pool *p;
    unsigned id;
    unsigned char *seen;
    _Atomic uint32_t *taken;
    _Atomic uint32_t *bad;
};

static void *producer(void *arg)
{
    struct thr *t = arg;
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        uint32_t tag = t->id * PER_PRODUCER + i;
        struct task k = {OP_DOUBLE, tag};
        if (ibx_pool_submit(t->p, &k, sizeof k, tag) < 0)
            atomic_fetch_add(t->bad, 1);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct thr *t = arg;
    const uint32_t total = PRODUCERS * PER_PRODUCER;
    while (atomic_load(t->taken) < total) {
        struct ibx_pool_result r;
        uint64_t v;
        int e = ibx_pool_next(t->p, &r, &v, sizeof v, 50);
        if (e == -ETIMEDOUT || e == -ENOENT) {
            if (e == -ENOENT)
                usleep(1000);   /* producers have not caught up */
            continue;
        }
        if (e < 0 || r.tag >= total || v != r.tag * 2 ||
            atomic_exchange((_Atomic unsigned char *)&t->seen[r.tag], 1))
            atomic_fetch_add(t->bad, 1);
        atomic_fetch_add(t->taken, 1);
    }
    return NULL;
}

static void test_threads(void **state)
{
    ibx_pool *p = new_pool(2, false);
    _Atomic uint32_t taken = 0, bad = 0;
    unsigned char *seen = calloc(PRODUCERS * PER_PRODUCER, 1);
    assert_non_null(seen);
    pthread_t th[PRODUCERS + CONSUMERS];
    struct thr arg[PRODUCERS + CONSUMERS];
    for (unsigned i = 0; i < PRODUCERS + CONSUMERS; i++) {
        arg[i] = (struct thr){p, i, seen, &taken, &bad};
        assert_int_equal(pthread_create(&th[i], NULL, i < PRODUCERS ? producer : consumer,
                                        &arg[i]), 0);
    }
    for (unsigned i = 0; i < PRODUCERS + CONSUMERS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    assert_int_equal(atomic_load(&taken), PRODUCERS * PER_PRODUCER);
    for (uint32_t i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

static void *create_pool(void *arg)
{
    *(ibx_pool **)arg = new_pool(2, false);
    return NULL;
}

/* The thread that created the pool ends: the workers must not take that
 * for the end of the pool (their rings' owner is the pool's own thread). */
static void test_creator_thread_exits(void **state)
{
    ibx_pool *p = NULL;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, create_pool, &p), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(p);
    for (uint32_t i = 0; i < 1000; i++)
        submit(p, OP_DOUBLE, i, i);
    take_doubles(p, 1000);
    struct ibx_pool_stats st;
    ibx_pool_stats(p, &st);
    assert_int_equal(st.crashes, 0);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

/* The process that owns a pool is killed: its workers exit on their own.
 * We are their subreaper, so they come back to us to be reaped. */
static void test_owner_killed(void **state)
{
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid_t owner = fork();
    assert_true(owner >= 0);
    if (owner == 0) {
        ibx_pool *p = new_pool(2, false);
        submit(p, OP_DOUBLE, 0, 0);
        struct ibx_pool_result r;
        uint64_t v;
        if (ibx_pool_next(p, &r, &v, sizeof v, -1) < 0 || write(fds[1], "k", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);   /* the pool runs */
    close(fds[0]);
    assert_int_equal(kill(owner, SIGKILL), 0);
    /* the owner, then (re-parented to us) each of its two workers */
    unsigned workers = 0;
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            assert_int_equal(errno, ECHILD);
            break;
        }
        if (pid == owner)
            continue;
        assert_true(WIFEXITED(st));     /* left by itself, not killed */
        workers++;
    }
    assert_int_equal(workers, 2);
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

/* NULL where a pool or a result belongs: -EINVAL, never a crash. */
static void test_null_args(void **state)
{
    (void)state;
    struct ibx_pool_result r;
    struct ibx_pool_stats st;
    memset(&st, 0xff, sizeof st);
    assert_int_equal(ibx_pool_submit(NULL, "x", 1, 0), -EINVAL);
    assert_int_equal(ibx_pool_try_submit(NULL, "x", 1, 0), -EINVAL);
    assert_int_equal(ibx_pool_flush(NULL), -EINVAL);
    assert_int_equal(ibx_pool_next(NULL, &r, NULL, 0, 0), -EINVAL);
    assert_int_equal(ibx_pool_fd(NULL), -EINVAL);
    assert_int_equal(ibx_pool_map(NULL, "x", 1, 1, NULL, 0, NULL), -EINVAL);
    ibx_pool_stats(NULL, &st);
    assert_int_equal(st.submitted, 0);
    assert_int_equal(st.workers, 0);
    assert_int_equal(ibx_pool_close(NULL, IBX_POOL_DRAIN), 0);
    ibx_pool *p;
    struct ibx_pool_config cfg = {.fn = work, .workers = 1};
    assert_int_equal(ibx_pool_new(&p, &cfg), 0);
    assert_int_equal(ibx_pool_submit(p, "x", 1, 0), 0);
    assert_int_equal(ibx_pool_next(p, NULL, NULL, 0, -1), -EINVAL);
    ibx_pool_stats(p, NULL);
    char buf[64];
    assert_int_equal(ibx_pool_next(p, &r, buf, sizeof buf, 10000), 0);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

static void test_bad_config(void **state)
{
    ibx_pool *p;
    struct ibx_pool_config cfg = {0};
    assert_int_equal(ibx_pool_new(&p, &cfg), -EINVAL);
    cfg.fn = work;
    cfg.workers = IBX_POOL_MAX_WORKERS + 1;
    assert_int_equal(ibx_pool_new(&p, &cfg), -EINVAL);
    cfg.workers = 1;
    cfg.max_task = IBX_POOL_MAX_TASK + 1;
    assert_int_equal(ibx_pool_new(&p, &cfg), -EINVAL);
    assert_int_equal(ibx_pool_new(NULL, &cfg), -EINVAL);
    cfg.max_task = 0;   /* defaults, and the online CPUs */
    cfg.workers = 0;
    assert_int_equal(ibx_pool_new(&p, &cfg), 0);
    assert_int_equal(ibx_pool_close(p, 7), -EINVAL);
    assert_int_equal(ibx_pool_close(p, IBX_POOL_DRAIN), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_in_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_creator_thread_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owner_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_args, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
