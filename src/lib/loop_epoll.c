/* The epoll backend of the event loop (see loop_backend.h for the
 * contract). Level-triggered; each registration carries its ibx_io in the
 * epoll data, so a ready event maps to its watcher without a lookup. */
#include "loop_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* At most this many ready fds per pass (the rest wait for the next). */
#define MAX_EVENTS 256

struct epoll_state {
    int epfd;
    struct epoll_event events[MAX_EVENTS];
};

/* IBX_EV_* -> EPOLL* for a registration. */
static uint32_t to_epoll(uint32_t ev)
{
    return (ev & IBX_EV_READ ? EPOLLIN : 0) | (ev & IBX_EV_WRITE ? EPOLLOUT : 0) |
           (ev & IBX_EV_RDHUP ? EPOLLRDHUP : 0) |
           (ev & IBX_EV_EXCLUSIVE ? EPOLLEXCLUSIVE : 0);
}

/* EPOLL* -> IBX_EV_* for a ready event. */
static uint32_t from_epoll(uint32_t ev)
{
    return (ev & EPOLLIN ? IBX_EV_READ : 0) | (ev & EPOLLOUT ? IBX_EV_WRITE : 0) |
           (ev & EPOLLERR ? IBX_EV_ERROR : 0) | (ev & EPOLLHUP ? IBX_EV_HUP : 0) |
           (ev & EPOLLRDHUP ? IBX_EV_RDHUP : 0);
}

/* A new epoll instance, close-on-exec. Returns 0 or -errno. */
static int ep_create(void **out)
{
    struct epoll_state *s = malloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int e = -errno;
        free(s);
        return e;
    }
    *out = s;
    return 0;
}

/* Close this process's epoll descriptor. In a forked child the instance
 * lives on in the parent: closing our copy leaves its registrations (which
 * belong to the open file description) untouched, where EPOLL_CTL_DEL
 * would have removed them for the parent too. */
static void ep_release(void *st)
{
    struct epoll_state *s = st;
    close(s->epfd);
    free(s);
}

/* EPOLL_CTL_ADD. IBX_EV_EXCLUSIVE becomes EPOLLEXCLUSIVE (kernel 4.5+),
 * which epoll accepts only here, never in a later modification. */
static int ep_add(void *st, ibx_io *io, uint32_t events)
{
    struct epoll_state *s = st;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
    return epoll_ctl(s->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

/* EPOLL_CTL_MOD with the new mask. */
static int ep_mod(void *st, ibx_io *io, uint32_t events)
{
    struct epoll_state *s = st;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
    return epoll_ctl(s->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

/* EPOLL_CTL_DEL; a failure (the fd was already closed, say) leaves
 * nothing registered, so it is ignored. */
static void ep_del(void *st, ibx_io *io)
{
    struct epoll_state *s = st;
    (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

/* One epoll_wait; EINTR counts as a pass without events. */
static int ep_wait(void *st, int timeout_ms, struct ibx__fired *fired, int max)
{
    struct epoll_state *s = st;
    if (max > MAX_EVENTS)
        max = MAX_EVENTS;
    int n = epoll_wait(s->epfd, s->events, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        fired[i].io = s->events[i].data.ptr;
        fired[i].events = from_epoll(s->events[i].events);
    }
    return n;
}

const struct ibx__loop_backend ibx__loop_epoll = {
    .name = "epoll",
    .create = ep_create,
    .release = ep_release,
    .add = ep_add,
    .mod = ep_mod,
    .del = ep_del,
    .wait = ep_wait,
};
