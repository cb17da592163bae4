/* http_idle HOST:PORT COUNT [PATH]: open COUNT keep-alive HTTP/1.1
 * connections, make one request on each (so every connection has been
 * through a full request and sits idle in keep-alive), print "ready N" and
 * hold them until stdin reaches EOF. Used by bench/http.sh to measure a
 * server's memory with many idle connections. Exits 1 if fewer than COUNT
 * connections completed their request. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipcbox/net.h"

/* Read one response (head + Content-Length body) from a blocking fd. */
static int read_response(int fd)
{
    char buf[8192];
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have == sizeof buf - 1)
            return -1;
        ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';   /* for strcasestr below */
        end = memmem(buf, have, "\r\n\r\n", 4);
    }
    size_t head = (size_t)(end - buf) + 4;
    char *cl = strcasestr(buf, "\r\ncontent-length:");
    long left = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
    left -= (long)(have - head);
    while (left > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return -1;
        left -= n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: http_idle HOST:PORT COUNT [PATH]\n");
        return 2;
    }
    ibx_addr addr;
    if (ibx_addr_parse(argv[1], "127.0.0.1", 80, &addr) < 0) {
        fprintf(stderr, "http_idle: bad address %s\n", argv[1]);
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    const char *path = argc > 3 ? argv[3] : "/";
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int *fds = calloc((size_t)count, sizeof *fds);
    if (!fds)
        return 1;
    char req[1024];
    int rn = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
    long ok = 0;
    for (long i = 0; i < count; i++) {
        int fd = ibx_tcp_connect_wait(&addr, 5000);
        if (fd < 0) {
            fprintf(stderr, "http_idle: connection %ld: %s\n", i, strerror(-fd));
            break;
        }
        fds[ok++] = fd;
        if (send(fd, req, (size_t)rn, MSG_NOSIGNAL) != rn || read_response(fd) < 0) {
            fprintf(stderr, "http_idle: request on connection %ld failed\n", i);
            break;
        }
    }
    printf("ready %ld\n", ok);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    for (long i = 0; i < ok; i++)
        close(fds[i]);
    free(fds);
    return ok == count ? 0 : 1;
}
