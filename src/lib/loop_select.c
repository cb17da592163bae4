/* The select(2) backend of the event loop (see loop_backend.h for the
 * contract): the oldest readiness interface, kept as one of the models
 * `make bench-models` measures. Two master fd_sets and a watcher per fd;
 * every wait copies the sets and every pass scans 0..maxfd.
 *
 * fd_set is a fixed bitmap of FD_SETSIZE (1024) bits: a descriptor at or
 * past it cannot be watched, and FD_SET on it would write out of bounds.
 * add() refuses it with -EMFILE (the server checks first and closes such a
 * connection with a log line: ibx__loop_fd_ok). select reports no hang-up
 * or error of its own: a socket in that state is readable (and writable),
 * and the read or write that follows tells the owner. */
#include "loop_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

struct select_state {
    fd_set rd, wr;                 /* what is armed */
    fd_set rready, wready;         /* this pass's result */
    ibx_io *io[FD_SETSIZE];        /* the watcher of each fd, or NULL */
    int maxfd;                     /* highest watched fd, -1 when none */
    int start;                     /* where the next scan begins (fairness) */
};

static int sl_create(void **out)
{
    struct select_state *s = malloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    FD_ZERO(&s->rd);
    FD_ZERO(&s->wr);
    memset(s->io, 0, sizeof s->io);
    s->maxfd = -1;
    s->start = 0;
    *out = s;
    return 0;
}

static void sl_release(void *st) { free(st); }

static void arm(struct select_state *s, int fd, uint32_t events)
{
    /* RDHUP arrives as readability (read returns 0) */
    if (events & (IBX_EV_READ | IBX_EV_RDHUP))
        FD_SET(fd, &s->rd);
    else
        FD_CLR(fd, &s->rd);
    if (events & IBX_EV_WRITE)
        FD_SET(fd, &s->wr);
    else
        FD_CLR(fd, &s->wr);
}

static int sl_add(void *st, ibx_io *io, uint32_t events)
{
    struct select_state *s = st;
    int fd = io->fd;
    if (fd < 0)
        return -EBADF;
    if (fd >= FD_SETSIZE)
        return -EMFILE;
    if (s->io[fd])
        return -EEXIST;
    s->io[fd] = io;
    arm(s, fd, events);
    if (fd > s->maxfd)
        s->maxfd = fd;
    return 0;
}

static int sl_mod(void *st, ibx_io *io, uint32_t events)
{
    struct select_state *s = st;
    if (io->fd < 0 || io->fd >= FD_SETSIZE || s->io[io->fd] != io)
        return -ENOENT;
    arm(s, io->fd, events);
    return 0;
}

static void sl_del(void *st, ibx_io *io)
{
    struct select_state *s = st;
    int fd = io->fd;
    if (fd < 0 || fd >= FD_SETSIZE || s->io[fd] != io)
        return;
    s->io[fd] = NULL;
    FD_CLR(fd, &s->rd);
    FD_CLR(fd, &s->wr);
    while (s->maxfd >= 0 && !s->io[s->maxfd])
        s->maxfd--;
}

static int sl_wait(void *st, int timeout_ms, struct ibx__fired *fired, int max)
{
    struct select_state *s = st;
    s->rready = s->rd;
    s->wready = s->wr;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int n = select(s->maxfd + 1, &s->rready, &s->wready, NULL, timeout_ms < 0 ? NULL : &tv);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    int got = 0, span = s->maxfd + 1;
    int start = span > 0 ? s->start % span : 0;
    for (int k = 0; k < span && got < max; k++) {
        int fd = (start + k) % span;
        uint32_t ev = (FD_ISSET(fd, &s->rready) ? IBX_EV_READ : 0) |
                      (FD_ISSET(fd, &s->wready) ? IBX_EV_WRITE : 0);
        if (!ev || !s->io[fd])
            continue;
        fired[got].io = s->io[fd];
        fired[got].events = ev;
        got++;
    }
    s->start = start + 1;
    return got;
}

const struct ibx__loop_backend ibx__loop_select = {
    .name = "select",
    .create = sl_create,
    .release = sl_release,
    .add = sl_add,
    .mod = sl_mod,
    .del = sl_del,
    .wait = sl_wait,
    .max_fd = FD_SETSIZE - 1,
};
