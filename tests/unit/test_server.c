/* Unit tests for the server runner used as a library: a tiny protocol
 * (greets and closes) under every registered model that serves in this
 * process (the process models are covered by the integration tests),
 * shutdown from another thread, signal hooks, listener addresses, the
 * model registry. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/server.h"

struct greet {
    ibx_conn base;
    ibx_defer d;
};

static void greet_free(ibx_loop *l, ibx_defer *d)
{
    struct greet *g = d->data;
    ibx_conn_done(&g->base);
    free(g);
}

static const struct ibx_conn_ops greet_ops = {.drain = NULL, .abort = NULL};

/* Writes "hi\n", closes, and frees itself on the next phase. */
static int greet_open(ibx_worker *w, int fd, const struct sockaddr *peer,
                      socklen_t plen, void *ctx)
{
    struct greet *g = calloc(1, sizeof *g);
    if (!g) {
        close(fd);
        return -ENOMEM;
    }
    ssize_t n = write(fd, "hi\n", 3);
    (void)n;
    close(fd);
    ibx_conn_add(w, &g->base, &greet_ops, false);
    ibx_loop_defer(ibx_worker_loop(w), &g->d, greet_free, g);
    return 0;
}

/* The same as a coroutine (the coroutine model); the server closes fd. */
static void greet_serve(ibx_co *co, int fd, const struct sockaddr *peer,
                        socklen_t plen, void *ctx)
{
    assert_int_equal(ibx_co_write(co, fd, "hi\n", 3), 0);
}

static const struct ibx_proto greet_proto = {
    .name = "greet", .open = greet_open, .serve = greet_serve};

struct run_arg {
    ibx_server *srv;
    int rc;
};

static void *runner(void *p)
{
    struct run_arg *a = p;
    a->rc = ibx_server_run(a->srv);
    return NULL;
}

static int read_greeting(const ibx_addr *a)
{
    int fd = ibx_tcp_connect_wait(a, 5000);
    if (fd < 0)
        return fd;
    char buf[8] = {0};
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return n == 3 && memcmp(buf, "hi\n", 3) == 0 ? 0 : -EPROTO;
}

/* Serve proto/ctx under model m, answer 20 greetings, shut down from this
 * thread, free; the port refuses afterwards. */
static void serve_twenty(const ibx_model *m, unsigned workers,
                         const struct ibx_proto *proto, void *ctx)
{
    struct ibx_server_config cfg = {.model = m, .workers = workers, .grace_ms = 1000};
    ibx_server *srv;
    assert_int_equal(ibx_server_new(&srv, &cfg), 0);
    ibx_addr any, bound;
    ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
    assert_int_equal(ibx_server_listen(srv, &any, proto, ctx), 0);
    assert_int_equal(ibx_server_listener_addr(srv, 0, &bound), 0);
    assert_int_equal(ibx_server_listener_addr(srv, 1, &bound), -ENOENT);
    ibx_server_listener_addr(srv, 0, &bound);
    assert_int_not_equal(ibx_addr_port((struct sockaddr *)&bound.ss), 0);
    struct run_arg a = {srv, -1};
    pthread_t t;
    pthread_create(&t, NULL, runner, &a);
    for (int i = 0; i < 20; i++)
        assert_int_equal(read_greeting(&bound), 0);
    ibx_server_shutdown(srv);
    pthread_join(t, NULL);
    assert_int_equal(a.rc, 0);
    /* listeners are closed with the server; the port refuses afterwards */
    ibx_server_free(srv);
    assert_int_not_equal(read_greeting(&bound), 0);
}

/* The model called name (which must exist). */
static const ibx_model *model(const char *name)
{
    const ibx_model *m = NULL;
    assert_int_equal(ibx_model_parse(name, &m), 0);
    assert_non_null(m);
    return m;
}

/* Models whose workers live in this process: a fork in a unit test would
 * duplicate the test runner. */
static bool in_process(const ibx_model *m)
{
    return !(ibx_model_traits(m) & IBX_MODEL_PROCESSES);
}

static void test_every_model_serves(void **state)
{
    const char *name;
    size_t ran = 0;
    for (size_t i = 0; (name = ibx_model_at(i)); i++) {
        const ibx_model *m = model(name);
        if (!in_process(m))
            continue;
        print_message("model %s\n", name);
        serve_twenty(m, 2, &greet_proto, NULL);
        ran++;
    }
    assert_true(ran >= 1);
}

/* A protocol runs only under the models it has a handler for: the
 * coroutine model wants serve, the others open; listening is refused. */
static void test_model_needs_handler(void **state)
{
    static const struct ibx_proto open_only = {.name = "o", .open = greet_open};
    static const struct ibx_proto serve_only = {.name = "s", .serve = greet_serve};
    const ibx_model *co = model("coroutine"), *ep = model("epoll");
    assert_true(ibx_model_traits(co) & IBX_MODEL_COROUTINES);
    assert_false(ibx_model_traits(ep) & IBX_MODEL_COROUTINES);
    assert_true(ibx_model_runs(co, &serve_only));
    assert_false(ibx_model_runs(co, &open_only));
    assert_true(ibx_model_runs(ep, &open_only));
    assert_false(ibx_model_runs(ep, &serve_only));
    assert_false(ibx_model_runs(NULL, &serve_only));
    assert_true(ibx_model_runs(co, &greet_proto) && ibx_model_runs(ep, &greet_proto));
    const ibx_model *ms[] = {co, ep};
    const struct ibx_proto *ps[] = {&open_only, &serve_only};
    for (int i = 0; i < 2; i++) {
        struct ibx_server_config cfg = {.model = ms[i]};
        ibx_server *srv;
        assert_int_equal(ibx_server_new(&srv, &cfg), 0);
        ibx_addr any;
        ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
        assert_int_equal(ibx_server_listen(srv, &any, ps[i], NULL), -EOPNOTSUPP);
        int fd = ibx_tcp_listen(&any, 16, 0);
        assert_true(fd >= 0);
        assert_int_equal(ibx_server_adopt(srv, fd, ps[i], NULL), -EOPNOTSUPP);
        close(fd);
        assert_int_equal(ibx_server_listen(srv, &any, ps[1 - i], NULL), 0);
        ibx_server_free(srv);
    }
    serve_twenty(co, 1, &serve_only, NULL);
}

static void test_default_model_serves(void **state)
{
    serve_twenty(NULL, 2, &greet_proto, NULL);
}

/* ---- per-worker data ---- */

struct slot_stats {
    atomic_int created, finished, conns_seen;
};

struct wdata {
    struct slot_stats *st;
    int conns;
};

static void wdata_fini(void *p)
{
    struct wdata *d = p;
    atomic_fetch_add(&d->st->finished, 1);
    atomic_fetch_add(&d->st->conns_seen, d->conns);
    free(d);
}

static int slot_open(ibx_worker *w, int fd, const struct sockaddr *peer,
                     socklen_t plen, void *ctx)
{
    struct slot_stats *st = ctx;
    struct wdata *d = ibx_worker_data(w, st);
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d || ibx_worker_set_data(w, st, d, wdata_fini) < 0) {
            free(d);
            close(fd);
            return -ENOMEM;
        }
        d->st = st;
        atomic_fetch_add(&st->created, 1);
    }
    assert_ptr_equal(ibx_worker_data(w, st), d);
    assert_null(ibx_worker_data(w, &d->conns));   /* another key */
    d->conns++;
    return greet_open(w, fd, peer, plen, ctx);
}

static const struct ibx_proto slot_proto = {.name = "slot", .open = slot_open};

/* Each worker gets its data once; it is finalised when the worker ends. */
static void slot_model(const ibx_model *m, unsigned workers, int min_created,
                       int max_created)
{
    struct slot_stats st = {0};
    serve_twenty(m, workers, &slot_proto, &st);
    assert_in_range(atomic_load(&st.created), min_created, max_created);
    assert_int_equal(atomic_load(&st.finished), atomic_load(&st.created));
    assert_int_equal(atomic_load(&st.conns_seen), 20);
}

/* One worker per loop: one for a single loop, up to `workers` for a pool,
 * one per connection for the thread-per-connection model. */
static void test_worker_data(void **state)
{
    const char *name;
    for (size_t i = 0; (name = ibx_model_at(i)); i++) {
        const ibx_model *m = model(name);
        unsigned t = ibx_model_traits(m);
        if (!in_process(m) || !ibx_model_runs(m, &slot_proto))
            continue;
        print_message("model %s\n", name);
        if (t & IBX_MODEL_PER_CONN)
            slot_model(m, 1, 20, 20);
        else if (t & IBX_MODEL_POOL)
            slot_model(m, 2, 1, 2);
        else
            slot_model(m, 1, 1, 1);
    }
}

static void on_usr1(ibx_loop *l, int signo, void *data)
{
    *(int *)data = signo;
}

static int start_unit(ibx_worker *w, void *arg)
{
    (void)w;
    (*(int *)arg)++;
    return 0;
}

static void test_signal_hook_and_units(void **state)
{
    struct ibx_server_config cfg = {.model = model("epoll"), .grace_ms = 1000};
    ibx_server *srv;
    assert_int_equal(ibx_server_new(&srv, &cfg), 0);
    ibx_addr any;
    ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
    assert_int_equal(ibx_server_listen(srv, &any, &greet_proto, NULL), 0);
    int got = 0;
    assert_int_equal(ibx_server_on_signal(srv, SIGTERM, on_usr1, &got), -EINVAL);
    assert_int_equal(ibx_server_on_signal(srv, SIGUSR1, on_usr1, &got), 0);
    int started = 0;
    assert_int_equal(ibx_server_add_unit(srv, start_unit, &started), 0);
    struct run_arg a = {srv, -1};
    /* the runner thread must not take SIGUSR1 before its signalfd exists */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, runner, &a);
    for (int i = 0; i < 500 && !got; i++) {
        kill(getpid(), SIGUSR1);
        usleep(10000);
    }
    ibx_server_shutdown(srv);
    pthread_join(t, NULL);
    assert_int_equal(got, SIGUSR1);
    assert_int_equal(started, 1);
    assert_int_equal(a.rc, 0);
    ibx_server_free(srv);
}

/* A child forked for a connection (the fork model) ends the parent's loop
 * pass once its work is done: a main-loop deferred callback queued on
 * every pass runs in the server's process only, never in a connection's child (where
 * it would act on the parent's sockets). The server runs in a process of
 * its own here, so that its fork children leave this test alone. */
struct spy {
    ibx_defer d;
    pid_t server;
    int fd;          /* a child writes its pid here: it must not */
};

static void on_spy(ibx_loop *l, ibx_defer *d)
{
    struct spy *s = d->data;
    if (getpid() != s->server) {
        pid_t me = getpid();
        ssize_t n = write(s->fd, &me, sizeof me);
        (void)n;
    }
    ibx_loop_defer(l, &s->d, on_spy, s);   /* again at the end of the next pass */
}

static int spy_start(ibx_worker *w, void *arg)
{
    struct spy *s = arg;
    ibx_loop_defer(ibx_worker_loop(w), &s->d, on_spy, s);
    return 0;
}

static void test_fork_child_leaves_parent_pass(void **state)
{
    int spyp[2], portp[2];
    assert_int_equal(pipe(spyp), 0);
    assert_int_equal(pipe(portp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(spyp[0]);
        close(portp[0]);
        struct ibx_server_config cfg = {.model = model("fork"), .grace_ms = 500};
        ibx_server *srv;
        ibx_addr any, bound;
        ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
        struct spy s = {.server = getpid(), .fd = spyp[1]};
        if (ibx_server_new(&srv, &cfg) < 0 || ibx_server_listen(srv, &any, &greet_proto, NULL) < 0 ||
            ibx_server_add_unit(srv, spy_start, &s) < 0 ||
            ibx_server_listener_addr(srv, 0, &bound) < 0)
            _exit(3);
        if (write(portp[1], &bound, sizeof bound) != (ssize_t)sizeof bound)
            _exit(3);
        close(portp[1]);
        ibx_server_run(srv);
        _exit(0);   /* the server and every connection's child */
    }
    close(spyp[1]);
    close(portp[1]);
    ibx_addr bound;
    assert_int_equal(read(portp[0], &bound, sizeof bound), (ssize_t)sizeof bound);
    close(portp[0]);
    for (int i = 0; i < 20; i++)
        assert_int_equal(read_greeting(&bound), 0);
    kill(pid, SIGTERM);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* every writer is gone (children exit before the server): EOF, and no
     * child's pid before it */
    pid_t who;
    assert_int_equal(read(spyp[0], &who, sizeof who), 0);
    close(spyp[0]);
}

/* Every listed model parses back to itself under a distinct name, has a
 * line of help, and traits that say where its connections live. */
static void test_model_registry(void **state)
{
    const char *name;
    size_t n = 0;
    for (size_t i = 0; (name = ibx_model_at(i)); i++, n++) {
        const ibx_model *m = model(name);
        assert_string_equal(ibx_model_name(m), name);
        assert_non_null(ibx_model_help(m));
        assert_true(ibx_model_help(m)[0] != '\0');
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(ibx_model_at(k), name);
        unsigned t = ibx_model_traits(m);
        int where = !!(t & IBX_MODEL_ONE_LOOP) + !!(t & IBX_MODEL_THREADS) +
                    !!(t & IBX_MODEL_PROCESSES);
        assert_int_equal(where, 1);
        if (!(t & IBX_MODEL_ONE_LOOP))   /* elsewhere: per connection or a pool */
            assert_int_equal(!!(t & IBX_MODEL_PER_CONN) + !!(t & IBX_MODEL_POOL), 1);
        if (t & IBX_MODEL_SERIAL)
            assert_true(t & IBX_MODEL_ONE_LOOP);
    }
    assert_true(n >= 7);
    assert_null(ibx_model_at(n));
    assert_null(ibx_model_at((size_t)-1));
    /* NULL is the default model */
    assert_string_equal(ibx_model_name(NULL), "epoll");
    assert_int_equal(ibx_model_traits(NULL), ibx_model_traits(model("epoll")));
    const ibx_model *m = NULL;
    assert_int_equal(ibx_model_parse("kqueue", &m), -EINVAL);
    assert_null(m);
    assert_int_equal(ibx_model_parse("", &m), -EINVAL);
}

/* The default connection cap follows the soft descriptor limit, and the
 * process- and thread-per-connection models stop at 256. */
static void test_default_max_conns(void **state)
{
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    struct rlimit rl = old;
    rl.rlim_cur = 40;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_int_equal(ibx_server_default_max_conns(NULL), 20);
    assert_int_equal(ibx_server_default_max_conns(model("epoll")), 20);
    assert_int_equal(ibx_server_default_max_conns(model("fork")), 20);
    assert_int_equal(ibx_server_default_max_conns(model("thread")), 10);
    rl.rlim_cur = 10;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_int_equal(ibx_server_default_max_conns(model("threadpool")), 8);
    if (old.rlim_max == RLIM_INFINITY || old.rlim_max >= 4096) {
        rl.rlim_cur = 4096;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
        assert_int_equal(ibx_server_default_max_conns(model("epoll")), 2048);
        assert_int_equal(ibx_server_default_max_conns(model("reuseport")), 2048);
        assert_int_equal(ibx_server_default_max_conns(model("fork")), 256);
        assert_int_equal(ibx_server_default_max_conns(model("thread")), 256);
    }
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_registry),
        cmocka_unit_test(test_fork_child_leaves_parent_pass),
        cmocka_unit_test(test_every_model_serves),
        cmocka_unit_test(test_default_model_serves),
        cmocka_unit_test(test_model_needs_handler),
        cmocka_unit_test(test_worker_data),
        cmocka_unit_test(test_signal_hook_and_units),
        cmocka_unit_test(test_default_max_conns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
