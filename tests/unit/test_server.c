/* Unit tests for the server runner used as a library: a tiny protocol
 * (greets and closes) under the epoll and threadpool models, shutdown from
 * another thread, signal hooks, listener addresses. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

static const struct ibx_conn_ops greet_ops = {NULL, NULL};

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

static const struct ibx_proto greet_proto = {.name = "greet", .open = greet_open};

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

static void run_model(enum ibx_model m)
{
    struct ibx_server_config cfg = {.model = m, .workers = 2, .grace_ms = 1000};
    ibx_server *srv;
    assert_int_equal(ibx_server_new(&srv, &cfg), 0);
    ibx_addr any, bound;
    ibx_addr_parse("127.0.0.1:0", NULL, 0, &any);
    assert_int_equal(ibx_server_listen(srv, &any, &greet_proto, NULL), 0);
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

static void test_epoll_model(void **state) { run_model(IBX_MODEL_EPOLL); }
static void test_threadpool_model(void **state) { run_model(IBX_MODEL_THREADPOOL); }
static void test_reuseport_model(void **state) { run_model(IBX_MODEL_REUSEPORT); }
static void test_thread_model(void **state) { run_model(IBX_MODEL_THREAD); }
static void test_iterative_model(void **state) { run_model(IBX_MODEL_ITERATIVE); }

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
    struct ibx_server_config cfg = {.model = IBX_MODEL_EPOLL, .grace_ms = 1000};
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

static void test_model_names(void **state)
{
    enum ibx_model m;
    for (int i = 0; i < IBX_MODEL_COUNT; i++) {
        assert_int_equal(ibx_model_parse(ibx_model_name((enum ibx_model)i), &m), 0);
        assert_int_equal(m, i);
    }
    assert_int_equal(ibx_model_parse("select", &m), -EINVAL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoll_model),
        cmocka_unit_test(test_iterative_model),
        cmocka_unit_test(test_thread_model),
        cmocka_unit_test(test_threadpool_model),
        cmocka_unit_test(test_reuseport_model),
        cmocka_unit_test(test_signal_hook_and_units),
        cmocka_unit_test(test_model_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
