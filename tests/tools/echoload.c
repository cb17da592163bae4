/* Test tool: drives an echo server and verifies every byte.
 *
 *   echoload [-n CONNS] [-b BYTES] [-r ROUNDS] [-t SECONDS] [--hold] HOST:PORT
 *       CONNS concurrent TCP connections (one epoll loop) each send BYTES of
 *       pseudo-random data and check the echo byte for byte; ROUNDS times
 *       over with fresh connections (default 1). With --hold the
 *       connections stay open after the check: "ready N" is printed on
 *       stdout, and the tool then waits until the server closes every one
 *       (clean EOF, no reset, no stray bytes), printing "closed N".
 *   echoload --udp SIZE [-t SECONDS] HOST:PORT
 *       sends one datagram of SIZE bytes, checks the reply is identical.
 *
 * Exit 0 when everything verified, 1 otherwise (with the reason), always
 * within the time limit. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/net.h"

struct conn {
    int fd;
    size_t sent, recvd;
    unsigned seed;
    int state;   /* 0 connecting/echoing, 1 verified (holding), 2 closed */
};

static unsigned char byte_at(unsigned seed, size_t i)
{
    uint64_t x = (uint64_t)seed * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (unsigned char)(x * 0x94D049BB133111EBull >> 56);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int udp_check(const ibx_addr *addr, size_t size, int timeout_s)
{
    int fd = socket(addr->ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) {
        perror("udp socket");
        return 1;
    }
    int big = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    unsigned char *out = malloc(size + 1), *in = malloc(65536);
    for (size_t i = 0; i < size; i++)
        out[i] = byte_at(7, i);
    int rc = 1;
    for (int attempt = 0; attempt < 5 && rc; attempt++) {
        if (send(fd, out, size, 0) != (ssize_t)size) {
            perror("udp send");
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_s * 1000 / 5) <= 0)
            continue;
        ssize_t n = recv(fd, in, 65536, MSG_TRUNC);
        if (n != (ssize_t)size || memcmp(in, out, size) != 0) {
            fprintf(stderr, "udp: got %zd bytes, want %zu identical bytes\n", n, size);
            break;
        }
        rc = 0;
    }
    if (rc)
        fprintf(stderr, "udp: no valid echo of %zu bytes\n", size);
    free(out);
    free(in);
    close(fd);
    return rc;
}

static int run_round(const ibx_addr *paddr, size_t nconns, size_t bytes,
                     int timeout, int hold, int quiet)
{
    const ibx_addr addr = *paddr;
    int rc = 0;
    struct conn *c = calloc(nconns, sizeof *c);
    int ep = epoll_create1(0);
    for (size_t i = 0; i < nconns; i++) {
        c[i].fd = ibx_tcp_connect(&addr);
        if (c[i].fd < 0) {
            fprintf(stderr, "connect %zu: %s\n", i, strerror(-c[i].fd));
            goto fail;
        }
        c[i].seed = (unsigned)i + 1;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    double deadline = now_s() + timeout;
    size_t verified = 0, closed = 0;
    unsigned char buf[16384];
    int announced = 0;
    while (now_s() < deadline) {
        if (!hold && verified == nconns)
            break;
        if (hold && verified == nconns && !announced) {
            printf("ready %zu\n", nconns);
            fflush(stdout);
            announced = 1;
        }
        if (hold && closed == nconns)
            break;
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            struct conn *x = &c[evs[k].data.u64];
            if (x->state == 2)
                continue;
            if ((evs[k].events & EPOLLOUT) && x->sent < bytes) {
                size_t len = bytes - x->sent < sizeof buf ? bytes - x->sent : sizeof buf;
                for (size_t j = 0; j < len; j++)
                    buf[j] = byte_at(x->seed, x->sent + j);
                ssize_t w = send(x->fd, buf, len, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN) {
                    fprintf(stderr, "conn %lu: send: %s\n", (unsigned long)evs[k].data.u64, strerror(errno));
                    goto fail;
                }
                if (w > 0)
                    x->sent += (size_t)w;
                if (x->sent == bytes) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = evs[k].data.u64};
                    epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
                }
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = recv(x->fd, buf, sizeof buf, 0);
                if (r < 0 && errno == EAGAIN)
                    continue;
                if (r < 0) {
                    fprintf(stderr, "conn %lu: recv: %s\n", (unsigned long)evs[k].data.u64, strerror(errno));
                    goto fail;
                }
                if (r == 0) {
                    if (x->state != 1) {
                        fprintf(stderr, "conn %lu: closed after %zu of %zu bytes\n",
                                (unsigned long)evs[k].data.u64, x->recvd, bytes);
                        goto fail;
                    }
                    x->state = 2;
                    closed++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                    continue;
                }
                for (ssize_t j = 0; j < r; j++)
                    if (x->recvd + (size_t)j >= bytes ||
                        buf[j] != byte_at(x->seed, x->recvd + (size_t)j)) {
                        fprintf(stderr, "conn %lu: wrong byte at %zu\n",
                                (unsigned long)evs[k].data.u64, x->recvd + (size_t)j);
                        goto fail;
                    }
                x->recvd += (size_t)r;
                if (x->recvd == bytes && x->state == 0) {
                    x->state = 1;
                    verified++;
                }
            }
        }
    }
    if (verified != nconns) {
        fprintf(stderr, "timeout: %zu of %zu connections verified\n", verified, nconns);
        rc = 1;
    } else if (hold && closed != nconns) {
        fprintf(stderr, "timeout: server closed %zu of %zu connections\n", closed, nconns);
        rc = 1;
    } else if (hold) {
        printf("closed %zu\n", closed);
    } else if (!quiet) {
        printf("verified %zu connections x %zu bytes\n", nconns, bytes);
    }
    goto out;
fail:
    rc = 1;
out:
    for (size_t i = 0; i < nconns; i++)
        if (c[i].fd > 0)
            close(c[i].fd);
    free(c);
    close(ep);
    return rc;
}

int main(int argc, char **argv)
{
    size_t nconns = 1, bytes = 65536, udp = 0;
    int timeout = 30, hold = 0, quiet = 0;
    long rounds = 1;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            nconns = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-b") && i + 1 < argc)
            bytes = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            timeout = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            rounds = atol(argv[++i]);
        else if (!strcmp(argv[i], "-q"))
            quiet = 1;
        else if (!strcmp(argv[i], "--hold"))
            hold = 1;
        else if (!strcmp(argv[i], "--udp") && i + 1 < argc)
            udp = strtoul(argv[++i], NULL, 10);
        else
            target = argv[i];
    }
    ibx_addr addr;
    if (!target || ibx_addr_parse(target, "127.0.0.1", 7007, &addr) < 0) {
        fprintf(stderr, "usage: echoload [-n CONNS] [-b BYTES] [-t S] [--hold] [--udp SIZE] HOST:PORT\n");
        return 2;
    }
    if (udp)
        return udp_check(&addr, udp, timeout);

    for (long r = 0; r < rounds; r++)
        if (run_round(&addr, nconns, bytes, timeout, hold, quiet || rounds > 1) != 0)
            return 1;
    if (rounds > 1)
        printf("verified %ld rounds of %zu connections x %zu bytes\n", rounds, nconns, bytes);
    return 0;
}
