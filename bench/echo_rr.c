/* Load generator: request/response echo. CONNS connections each send a
 * SIZE-byte message and wait for its echo, over and over, for SECONDS;
 * prints "requests/s R requests N seconds S" (answers checked for length
 * only). One epoll loop.
 *
 *   echo_rr [-n CONNS] [-s SIZE] [-d SECONDS] HOST:PORT
 *
 * The numbers measure the server's per-event cost (bench/echo_backends.sh),
 * not its bulk throughput (bench/echo.sh). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/net.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t n = 50, size = 64;
    double secs = 5;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            size = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-d") && i + 1 < argc)
            secs = atof(argv[++i]);
        else
            target = argv[i];
    }
    ibx_addr addr;
    if (!target || !n || !size || size > 4096 ||
        ibx_addr_parse(target, "127.0.0.1", 7007, &addr) < 0) {
        fprintf(stderr, "usage: echo_rr [-n CONNS] [-s SIZE] [-d SECONDS] HOST:PORT\n");
        return 2;
    }
    int ep = epoll_create1(0);
    size_t *got = calloc(n, sizeof *got);
    int *fd = calloc(n, sizeof *fd);
    char msg[4096], buf[4096];
    memset(msg, 'x', sizeof msg);
    for (size_t i = 0; i < n; i++) {
        fd[i] = socket(addr.ss.ss_family, SOCK_STREAM, 0);
        if (fd[i] < 0 || connect(fd[i], (struct sockaddr *)&addr.ss, addr.len) < 0) {
            perror("connect");
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &ev);
    }
    unsigned long done = 0;
    double t0 = now_s(), end = t0 + secs;
    for (size_t i = 0; i < n; i++)
        if (send(fd[i], msg, size, MSG_NOSIGNAL) != (ssize_t)size)
            return 1;
    struct epoll_event evs[256];
    while (now_s() < end) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int j = 0; j < k; j++) {
            size_t i = evs[j].data.u64;
            ssize_t r = recv(fd[i], buf, sizeof buf, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                fprintf(stderr, "conn %zu: %s\n", i, r ? strerror(errno) : "closed");
                return 1;
            }
            got[i] += (size_t)r;
            if (got[i] >= size) {
                got[i] -= size;
                done++;
                if (send(fd[i], msg, size, MSG_NOSIGNAL) != (ssize_t)size)
                    return 1;
            }
        }
    }
    double el = now_s() - t0;
    printf("requests/s %.0f requests %lu seconds %.3f\n", (double)done / el, done, el);
    for (size_t i = 0; i < n; i++)
        close(fd[i]);
    free(fd);
    free(got);
    close(ep);
    return 0;
}
