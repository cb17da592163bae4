/* The poll(2) backend of the event loop (see loop_backend.h for the
 * contract). One pollfd array holds every registration, with the watcher
 * of each entry beside it; a table indexed by fd finds an entry in O(1)
 * for modification and removal (which moves the last entry into the hole).
 * Every wait hands the whole array to the kernel and every pass scans it:
 * the O(n) per pass that epoll removes, kept here on purpose as one of the
 * models `make bench-models` measures. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* POLLRDHUP */
#endif
#include "loop_backend.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct poll_state {
    struct pollfd *pfd;
    ibx_io **io;          /* the watcher of pfd[i] */
    size_t n, cap;
    int *slot;            /* by fd: index in pfd + 1, 0 when not watched */
    size_t nslot;
    size_t start;         /* where the next scan begins (fairness) */
};

static short to_poll(uint32_t ev)
{
    return (short)((ev & IBX_EV_READ ? POLLIN : 0) | (ev & IBX_EV_WRITE ? POLLOUT : 0) |
                   (ev & IBX_EV_RDHUP ? POLLRDHUP : 0));
}

static uint32_t from_poll(short ev)
{
    return (ev & POLLIN ? IBX_EV_READ : 0) | (ev & POLLOUT ? IBX_EV_WRITE : 0) |
           (ev & (POLLERR | POLLNVAL) ? IBX_EV_ERROR : 0) | (ev & POLLHUP ? IBX_EV_HUP : 0) |
           (ev & POLLRDHUP ? IBX_EV_RDHUP : 0);
}

static int pl_create(void **out)
{
    struct poll_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    *out = s;
    return 0;
}

/* Nothing of the kernel's to release: poll keeps no registrations. */
static void pl_release(void *st)
{
    struct poll_state *s = st;
    free(s->pfd);
    free(s->io);
    free(s->slot);
    free(s);
}

static int pl_add(void *st, ibx_io *io, uint32_t events)
{
    struct poll_state *s = st;
    int fd = io->fd;
    if (fd < 0)
        return -EBADF;
    if ((size_t)fd >= s->nslot) {
        size_t n = s->nslot ? s->nslot : 64;
        while (n <= (size_t)fd)
            n *= 2;
        int *t = realloc(s->slot, n * sizeof *t);
        if (!t)
            return -ENOMEM;
        memset(t + s->nslot, 0, (n - s->nslot) * sizeof *t);
        s->slot = t;
        s->nslot = n;
    }
    if (s->slot[fd])
        return -EEXIST;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct pollfd *p = realloc(s->pfd, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        s->pfd = p;
        ibx_io **w = realloc(s->io, cap * sizeof *w);
        if (!w)
            return -ENOMEM;
        s->io = w;
        s->cap = cap;
    }
    s->pfd[s->n] = (struct pollfd){.fd = fd, .events = to_poll(events)};
    s->io[s->n] = io;
    s->slot[fd] = (int)++s->n;
    return 0;
}

static int pl_mod(void *st, ibx_io *io, uint32_t events)
{
    struct poll_state *s = st;
    if (io->fd < 0 || (size_t)io->fd >= s->nslot || !s->slot[io->fd])
        return -ENOENT;
    s->pfd[s->slot[io->fd] - 1].events = to_poll(events);
    return 0;
}

static void pl_del(void *st, ibx_io *io)
{
    struct poll_state *s = st;
    int fd = io->fd;
    if (fd < 0 || (size_t)fd >= s->nslot || !s->slot[fd])
        return;
    size_t i = (size_t)s->slot[fd] - 1, last = --s->n;
    s->slot[fd] = 0;
    if (i != last) {
        s->pfd[i] = s->pfd[last];
        s->io[i] = s->io[last];
        s->slot[s->pfd[i].fd] = (int)i + 1;
    }
}

/* One poll over the whole set; the ready entries are collected from a
 * rotating start so that, past `max` ready at once, none waits for ever. */
static int pl_wait(void *st, int timeout_ms, struct ibx__fired *fired, int max)
{
    struct poll_state *s = st;
    int n = poll(s->pfd, s->n, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    int got = 0;
    size_t count = s->n, start = count ? s->start % count : 0;
    for (size_t k = 0; k < count && got < n && got < max; k++) {
        size_t i = (start + k) % count;
        if (!s->pfd[i].revents)
            continue;
        fired[got].io = s->io[i];
        fired[got].events = from_poll(s->pfd[i].revents);
        got++;
    }
    s->start = start + 1;
    return got;
}

const struct ibx__loop_backend ibx__loop_poll = {
    .name = "poll",
    .create = pl_create,
    .release = pl_release,
    .add = pl_add,
    .mod = pl_mod,
    .del = pl_del,
    .wait = pl_wait,
};
