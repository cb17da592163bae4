/* Socket creation and acceptance (ipcbox/net.h): non-blocking and
 * close-on-exec from birth, dual-stack IPv6, SO_REUSEPORT, the EMFILE
 * spare-fd trick, and systemd socket activation. */
#include "ipcbox/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v) < 0 ? -errno : 0;
}

static int bound_socket(const ibx_addr *addr, int type, int flags)
{
    int fd = socket(addr->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = 0;
    if (type == SOCK_STREAM)
        r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (!r && (flags & IBX_LISTEN_REUSEPORT))
        r = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!r && addr->ss.ss_family == AF_INET6)
        r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                    (flags & IBX_LISTEN_V6ONLY) ? 1 : 0);
    if (!r && bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
        r = -errno;
    if (r) {
        close(fd);
        return r;
    }
    return fd;
}

int ibx_tcp_listen(const ibx_addr *addr, int backlog, int flags)
{
    int fd = bound_socket(addr, SOCK_STREAM, flags);
    if (fd < 0)
        return fd;
    if (listen(fd, backlog > 0 ? backlog : 1024) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int ibx_udp_bind(const ibx_addr *addr, int flags)
{
    return bound_socket(addr, SOCK_DGRAM, flags);
}

int ibx_tcp_connect(const ibx_addr *addr)
{
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 &&
        errno != EINPROGRESS) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int ibx_tcp_connect_wait(const ibx_addr *addr, int timeout_ms)
{
    int fd = ibx_tcp_connect(addr);
    if (fd < 0)
        return fd;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    int e = n < 0 ? -errno : n == 0 ? -ETIMEDOUT : ibx_sock_error(fd);
    if (!e)
        e = ibx_fd_nonblock(fd, false);
    if (e) {
        close(fd);
        return e;
    }
    return fd;
}

int ibx_sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    return -err;
}

int ibx_tcp_nodelay(int fd, bool on)
{
    return set_int(fd, IPPROTO_TCP, TCP_NODELAY, on);
}

int ibx_sock_local(int fd, ibx_addr *out)
{
    memset(out, 0, sizeof *out);
    out->len = sizeof out->ss;
    return getsockname(fd, (struct sockaddr *)&out->ss, &out->len) < 0 ? -errno : 0;
}

int ibx_fd_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    int nfl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    if (nfl != fl && fcntl(fd, F_SETFL, nfl) < 0)
        return -errno;
    return 0;
}

int ibx_spare_fd_open(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int ibx_accept(int lfd, int *spare, struct sockaddr_storage *peer,
               socklen_t *peerlen)
{
    for (;;) {
        socklen_t len = sizeof *peer;
        int fd = accept4(lfd, (struct sockaddr *)peer, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            *peerlen = len;
            return fd;
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED:   /* the peer gave up while queued: next one */
            continue;
        case EMFILE:
        case ENFILE:
            if (!spare || *spare < 0)
                return -errno;
            /* Shed one connection with the spare descriptor so the
             * listener does not stay readable forever. */
            close(*spare);
            fd = accept(lfd, NULL, NULL);
            if (fd >= 0)
                close(fd);
            *spare = ibx_spare_fd_open();
            return -EMFILE;
        default:
            return -errno;
        }
    }
}

int ibx_listen_fds(int *fds, const char **names, int max)
{
    const char *pid = getenv("LISTEN_PID");
    const char *cnt = getenv("LISTEN_FDS");
    if (!pid || !cnt)
        return 0;
    char *end;
    long p = strtol(pid, &end, 10);
    if (*end || p != (long)getpid())
        return 0;
    long n = strtol(cnt, &end, 10);
    if (*end || n < 0 || n > 1024)
        return -EINVAL;
    const char *fdnames = getenv("LISTEN_FDNAMES");
    int got = 0;
    for (long i = 0; i < n && got < max; i++) {
        int fd = 3 + (int)i;
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0)
            return -EBADF;
        fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
        fds[got] = fd;
        if (names) {
            /* names[i] points at the i-th ':'-separated entry */
            const char *s = fdnames;
            for (long k = 0; s && k < i; k++) {
                s = strchr(s, ':');
                if (s)
                    s++;
            }
            names[got] = s;
        }
        got++;
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    /* LISTEN_FDNAMES is kept: names[] point into it */
    return got;
}

bool ibx_sock_is_listener(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0)
        return false;
    return v != 0;
}
