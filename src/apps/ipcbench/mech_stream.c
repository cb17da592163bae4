/* ipcbench: byte-stream mechanisms (pipe, FIFO, Unix stream socketpair,
 * TCP loopback). A message is `size` bytes written with write() and read
 * back in full with read(); the stream carries no framing of its own. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define PIPE_BYTES (1 << 20)    /* the default pipe-max-size */

static const char *const fifo_names[] = {"ab", "ba"};

static int stream_send(struct chan *c, const void *buf)
{
    return fd_write_all(c->wfd, buf, c->size);
}

static int stream_recv(struct chan *c, const void **data)
{
    *data = c->rbuf;
    return fd_read_all(c->rfd, c->rbuf, c->size);
}

static void close_fds(struct chan *c)
{
    for (int i = 0; i < 8; i++)
        if (c->fd[i] >= 0) {
            close(c->fd[i]);
            c->fd[i] = -1;
        }
}

/* Keep fds a and b (this side's), close the rest. */
static void keep(struct chan *c, int r, int w)
{
    c->rfd = c->fd[r];
    c->wfd = c->fd[w];
    for (int i = 0; i < 8; i++)
        if (i != r && i != w && c->fd[i] >= 0)
            close(c->fd[i]);
}

/* ---- pipe: fd[0..1] A->B, fd[2..3] B->A ---- */

static int pipe_open(struct chan *c)
{
    if (pipe2(&c->fd[0], O_CLOEXEC) < 0 || pipe2(&c->fd[2], O_CLOEXEC) < 0) {
        int e = errno;
        close_fds(c);
        return -e;
    }
    fcntl(c->fd[1], F_SETPIPE_SZ, PIPE_BYTES);  /* best effort */
    fcntl(c->fd[3], F_SETPIPE_SZ, PIPE_BYTES);
    return 0;
}

static int pipe_side(struct chan *c, int side)
{
    if (side == 0)
        keep(c, 2, 1);
    else
        keep(c, 0, 3);
    return 0;
}

const struct mech mech_pipe = {
    .name = "pipe", .label = "pipe", .kind = MECH_CHANNEL,
    .open = pipe_open, .side = pipe_side, .send = stream_send,
    .recv = stream_recv, .destroy = close_fds,
};

/* ---- FIFO: two named pipes in a private directory ---- */

static int fifo_open(struct chan *c)
{
    int r = chan_tmpdir(c, NULL);
    if (r < 0)
        return r;
    char path[128];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", c->tmpdir, fifo_names[i]);
        if (mkfifo(path, 0600) < 0) {
            r = -errno;
            chan_tmpdir_remove(c, fifo_names, 2);
            return r;
        }
    }
    return 0;
}

static int fifo_side(struct chan *c, int side)
{
    char ab[128], ba[128];
    snprintf(ab, sizeof ab, "%s/ab", c->tmpdir);
    snprintf(ba, sizeof ba, "%s/ba", c->tmpdir);
    /* open order matches on both sides, or the opens deadlock */
    if (side == 0) {
        c->wfd = open(ab, O_WRONLY | O_CLOEXEC);
        c->rfd = c->wfd < 0 ? -1 : open(ba, O_RDONLY | O_CLOEXEC);
    } else {
        c->rfd = open(ab, O_RDONLY | O_CLOEXEC);
        c->wfd = c->rfd < 0 ? -1 : open(ba, O_WRONLY | O_CLOEXEC);
    }
    if (c->rfd < 0 || c->wfd < 0)
        return -errno;
    fcntl(c->wfd, F_SETPIPE_SZ, PIPE_BYTES);
    return 0;
}

static void fifo_destroy(struct chan *c)
{
    chan_tmpdir_remove(c, fifo_names, 2);
}

const struct mech mech_fifo = {
    .name = "fifo", .label = "FIFO", .kind = MECH_CHANNEL,
    .open = fifo_open, .side = fifo_side, .send = stream_send,
    .recv = stream_recv, .destroy = fifo_destroy,
};

/* ---- connected pairs: fd[0] is A's end, fd[1] B's ---- */

static int pair_side(struct chan *c, int side)
{
    keep(c, side, side);
    return 0;
}

static int unix_stream_open(struct chan *c)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) < 0)
        return -errno;
    return 0;
}

const struct mech mech_unix_stream = {
    .name = "unix", .label = "Unix stream (socketpair)", .kind = MECH_CHANNEL,
    .open = unix_stream_open, .side = pair_side, .send = stream_send,
    .recv = stream_recv, .destroy = close_fds,
};

/* TCP over 127.0.0.1 with TCP_NODELAY; buffers left to autotuning. */
static int tcp_open(struct chan *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int one = 1, r = 0;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        return -errno;
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) < 0)
        r = -errno;
    if (r == 0 && (c->fd[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        r = -errno;
    if (r == 0 && connect(c->fd[0], (struct sockaddr *)&sa, sizeof sa) < 0)
        r = -errno;
    if (r == 0 && (c->fd[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
        r = -errno;
    close(l);
    if (r == 0 && (setsockopt(c->fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
                   setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0))
        r = -errno;
    if (r < 0)
        close_fds(c);
    return r;
}

const struct mech mech_tcp = {
    .name = "tcp", .label = "TCP loopback (NODELAY)", .kind = MECH_CHANNEL,
    .open = tcp_open, .side = pair_side, .send = stream_send,
    .recv = stream_recv, .destroy = close_fds,
};
