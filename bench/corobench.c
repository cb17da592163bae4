/* Benchmark of the coroutines (ipcbox/coro.h), run by bench/coro.sh
 * (make bench-coro):
 *
 *   corobench switch [N]        N resume/yield round trips (2N switches);
 *                               prints ns per switch and switches/s
 *   corobench idle [N]          N coroutines parked on one loop (sleeping);
 *                               prints the RSS they add, per coroutine:
 *                               bare (parked from their first frame), then
 *                               shaped as echo's handler (parked beneath a
 *                               16 KiB buffer on the stack, a 64-byte
 *                               request in it), whose parked frames sit
 *                               pages further down the stack
 *   corobench echo HOST:PORT [-c CONNS] [-s SECONDS] [-b BYTES]
 *                               CONNS connections each echo BYTES-long
 *                               requests one at a time (request/response)
 *                               for SECONDS; prints requests/s. Every
 *                               reply is checked.
 *
 * Exit 0, or 1 with the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/coro.h"
#include "ipcbox/net.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- switch ---- */

static void spin_body(ibx_co *co, void *arg)
{
    long n = *(long *)arg;
    for (long i = 0; i < n; i++)
        ibx_co_yield(co);
}

static int bench_switch(long n)
{
    ibx_co *co;
    int r = ibx_co_new(&co, NULL, 0, spin_body, &n);
    if (r < 0) {
        fprintf(stderr, "corobench: %s\n", strerror(-r));
        return 1;
    }
    double t0 = now_s();
    while (ibx_co_resume(co) == 0)
        ;
    double dt = now_s() - t0;
    ibx_co_free(co);
    double per = dt * 1e9 / (2.0 * (double)n);
    printf("switch: %ld round trips in %.3f s: %.1f ns per switch, %.1f M switches/s\n",
           n, dt, per, 1e3 / per);
    return 0;
}

/* ---- idle ---- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void idle_body(ibx_co *co, void *arg)
{
    int *left = arg;
    (void)ibx_co_sleep(co, 3600 * 1000);   /* until cancelled */
    (*left)--;
}

/* echo_co_serve's shape: a 16 KiB buffer on the stack, a request read
 * into its start, then parked (in a sleep here: no socket needed). */
static void idle_echo_body(ibx_co *co, void *arg)
{
    int *left = arg;
    char buf[16384];
    memset(buf, 'x', 64);
    __asm__ volatile("" : : "r"(buf) : "memory");   /* keep it, as a read() would */
    (void)ibx_co_sleep(co, 3600 * 1000);
    (*left)--;
}

static int bench_idle(long n, ibx_co_fn body, const char *what)
{
    ibx_loop *loop;
    if (ibx_loop_new(&loop) < 0)
        return 1;
    ibx_co **cos = calloc((size_t)n, sizeof *cos);
    int left = 0;
    long before = rss_kib();
    for (long i = 0; i < n; i++) {
        int r = ibx_co_spawn(loop, 0, body, &left, &cos[i]);
        if (r < 0) {
            fprintf(stderr, "corobench: coroutine %ld: %s (vm.max_map_count?)\n", i,
                    strerror(-r));
            return 1;
        }
        left++;
    }
    long after = rss_kib();
    printf("idle: %ld parked coroutines (%s) add %ld KiB RSS: %.2f KiB each "
           "(stack %zu KiB virtual each)\n", n, what, after - before,
           (double)(after - before) / (double)n, IBX_CO_STACK_DEFAULT / 1024);
    for (long i = 0; i < n; i++)
        ibx_co_cancel(cos[i], IBX_CO_ABORT);
    while (left > 0 && ibx_loop_run_once(loop, 1000) >= 0)
        ;
    ibx_loop_run_once(loop, 0);
    free(cos);
    ibx_loop_free(loop);
    if (left) {
        fprintf(stderr, "corobench: %d coroutines did not end\n", left);
        return 1;
    }
    return 0;
}

/* ---- echo load ---- */

struct econn {
    int fd;
    size_t got;
    unsigned seq;
};

static void fill(unsigned char *p, size_t len, unsigned seq)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(seq * 31 + i);
}

static int bench_echo(const char *target, int conns, double secs, size_t len)
{
    ibx_addr a;
    if (ibx_addr_parse(target, "127.0.0.1", 7007, &a) < 0) {
        fprintf(stderr, "corobench: bad address %s\n", target);
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct econn *c = calloc((size_t)conns, sizeof *c);
    unsigned char *out = malloc(len), *in = malloc(len), *want = malloc(len);
    for (int i = 0; i < conns; i++) {
        c[i].fd = ibx_tcp_connect_wait(&a, 5000);
        if (c[i].fd < 0) {
            fprintf(stderr, "corobench: connect: %s\n", strerror(-c[i].fd));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
        fill(out, len, 0);
        if (send(c[i].fd, out, len, MSG_NOSIGNAL) != (ssize_t)len) {
            perror("corobench: send");
            return 1;
        }
    }
    unsigned long done = 0;
    double t0 = now_s(), end = t0 + secs;
    struct epoll_event evs[256];
    while (now_s() < end) {
        int n = epoll_wait(ep, evs, 256, 1000);
        for (int k = 0; k < n; k++) {
            struct econn *e = &c[evs[k].data.u32];
            ssize_t m = recv(e->fd, in + e->got, len - e->got, 0);
            if (m <= 0) {
                fprintf(stderr, "corobench: connection lost\n");
                return 1;
            }
            fill(want, len, e->seq);
            if (memcmp(in + e->got, want + e->got, (size_t)m) != 0) {
                fprintf(stderr, "corobench: wrong bytes echoed\n");
                return 1;
            }
            e->got += (size_t)m;
            if (e->got < len)
                continue;
            done++;
            e->got = 0;
            e->seq++;
            fill(out, len, e->seq);
            if (send(e->fd, out, len, MSG_NOSIGNAL) != (ssize_t)len) {
                perror("corobench: send");
                return 1;
            }
        }
    }
    double dt = now_s() - t0;
    printf("echo: %d connections x %zu B request/response: %.0f requests/s\n", conns, len,
           (double)done / dt);
    for (int i = 0; i < conns; i++)
        close(c[i].fd);
    close(ep);
    free(c);
    free(out);
    free(in);
    free(want);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "switch") == 0)
        return bench_switch(argc > 2 ? atol(argv[2]) : 20000000L);
    if (argc >= 2 && strcmp(argv[1], "idle") == 0) {
        long n = argc > 2 ? atol(argv[2]) : 10000L;
        if (n < 1)
            return 2;
        return bench_idle(n, idle_body, "bare") ||
               bench_idle(n, idle_echo_body, "as echo's handler: beneath a 16 KiB stack buffer");
    }
    if (argc >= 3 && strcmp(argv[1], "echo") == 0) {
        int conns = 50;
        double secs = 5;
        size_t len = 64;
        for (int i = 3; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "-c") == 0)
                conns = atoi(argv[i + 1]);
            else if (strcmp(argv[i], "-s") == 0)
                secs = atof(argv[i + 1]);
            else if (strcmp(argv[i], "-b") == 0)
                len = (size_t)atol(argv[i + 1]);
        }
        if (conns < 1 || secs <= 0 || len < 1 || len > 65536) {
            fprintf(stderr, "corobench: bad -c/-s/-b\n");
            return 2;
        }
        return bench_echo(argv[2], conns, secs, len);
    }
    fprintf(stderr, "usage: corobench switch [N] | idle [N] | echo HOST:PORT [-c CONNS] "
            "[-s SECONDS] [-b BYTES]\n");
    return 2;
}
