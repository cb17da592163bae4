/* The event loop: a backend for fd readiness (loop_backend.h: epoll, poll,
 * select, io_uring), a binary min-heap for timers, signalfd for signals, an eventfd
 * for cross-thread wakes, and a FIFO of deferred callbacks run after each
 * pass's fd events. */
#include "ipcbox/loop.h"
#include "loop_backend.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* Ready watchers dispatched per pass at most. */
#define MAX_EVENTS 256

/* The backends, best first: a loop takes the first that it can create. */
static const struct ibx__loop_backend *const backends[] = {
    &ibx__loop_epoll,
    &ibx__loop_poll,
    &ibx__loop_select,
    &ibx__loop_uring,   /* named only: the kernel may refuse it */
};

struct sigwatch {
    int signo;
    ibx_signal_cb cb;
    void *data;
};

struct ibx_loop {
    const struct ibx__loop_backend *be;
    void *be_state;
    bool stop;
    bool abandoned;           /* ibx__loop_abandon: the pass ends now */
    uint64_t now;
    size_t counted;           /* counted active watchers */
    /* timers */
    ibx_timer **heap;
    size_t nheap, capheap;
    uint64_t seq;
    /* deferred callbacks */
    ibx_defer *dhead, *dtail;
    /* signals */
    int sigfd;
    ibx_io sigio;
    sigset_t sigmask;
    struct sigwatch sigs[16];
    size_t nsigs;
    /* wake */
    int wakefd;
    ibx_io wakeio;
    ibx_wake_cb wake_cb;
    void *wake_data;
    /* current pass: fired[next..nfired) are still to be dispatched */
    struct ibx__fired fired[MAX_EVENTS];
    int next, nfired;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int ibx_loop_new(ibx_loop **out) { return ibx_loop_new_backend(out, NULL); }

int ibx_loop_new_backend(ibx_loop **out, const char *backend)
{
    size_t nb = sizeof backends / sizeof backends[0], i;
    if (backend) {
        for (i = 0; i < nb && strcmp(backends[i]->name, backend) != 0; i++)
            ;
        if (i == nb)
            return -EINVAL;
    }
    ibx_loop *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    int r = -ENOSYS;
    for (i = 0; r < 0 && i < nb; i++) {
        if (backend ? strcmp(backends[i]->name, backend) != 0 : backends[i]->named_only)
            continue;
        l->be = backends[i];
        r = l->be->create(&l->be_state);
    }
    if (r < 0) {
        free(l);
        return r;
    }
    l->sigfd = -1;
    l->wakefd = -1;
    sigemptyset(&l->sigmask);
    l->now = mono_ms();
    *out = l;
    return 0;
}

static void run_deferred(ibx_loop *l)
{
    /* Only what was queued before this call runs now; callbacks that queue
     * more are served on the next pass (bounded work per pass). */
    ibx_defer *d = l->dhead, *last = l->dtail;
    l->dhead = l->dtail = NULL;
    while (d) {
        ibx_defer *next = d->next;
        bool end = d == last;
        d->next = NULL;
        d->queued = false;
        d->cb(l, d);
        if (end)
            break;
        d = next;
    }
}

/* Close this process's fds of the loop and free its memory. */
static void loop_release(ibx_loop *l)
{
    if (l->sigfd >= 0)
        close(l->sigfd);
    if (l->wakefd >= 0)
        close(l->wakefd);
    l->be->release(l->be_state);
    free(l->heap);
    free(l);
}

void ibx_loop_free(ibx_loop *l)
{
    if (!l)
        return;
    while (l->dhead)
        run_deferred(l);
    loop_release(l);
}

void ibx_loop_free_forked(ibx_loop *l)
{
    if (l)
        loop_release(l);
}

const char *ibx_loop_backend(const ibx_loop *l) { return l->be->name; }

const char *ibx_loop_backend_at(size_t i)
{
    return i < sizeof backends / sizeof backends[0] ? backends[i]->name : NULL;
}

bool ibx__loop_fd_ok(const ibx_loop *l, int fd) { return !l->be->max_fd || fd <= l->be->max_fd; }

uint64_t ibx_loop_now(const ibx_loop *l) { return l->now; }
void ibx_loop_update_now(ibx_loop *l) { l->now = mono_ms(); }
void ibx_loop_stop(ibx_loop *l) { l->stop = true; }

/* ---- fd watchers --------------------------------------------------------- */

int ibx_io_start(ibx_loop *l, ibx_io *io, int fd, uint32_t events,
                 ibx_io_cb cb, void *data)
{
    if (io->active)
        return -EBUSY;
    io->fd = fd;
    int r = l->be->add(l->be_state, io, events);
    if (r < 0) {
        io->fd = -1;
        return r;
    }
    io->events = events;
    io->cb = cb;
    io->data = data;
    io->active = true;
    io->counted = true;
    l->counted++;
    return 0;
}

int ibx_io_modify(ibx_loop *l, ibx_io *io, uint32_t events)
{
    if (!io->active)
        return -EINVAL;
    if (events == io->events)
        return 0;
    int r = l->be->mod(l->be_state, io, events);
    if (r < 0)
        return r;
    io->events = events;
    return 0;
}

void ibx_io_stop(ibx_loop *l, ibx_io *io)
{
    if (!io->active)
        return;
    l->be->del(l->be_state, io);
    /* Events of this pass still to come for io are dropped: io may be
     * started again in this pass on another descriptor (the same number,
     * reused by the kernel, or not), and what the wait saw belongs to the
     * old one. */
    for (int i = l->next; i < l->nfired; i++)
        if (l->fired[i].io == io)
            l->fired[i].io = NULL;
    io->active = false;
    io->fd = -1;
    if (io->counted)
        l->counted--;
    io->counted = false;
}

void ibx_io_unref(ibx_loop *l, ibx_io *io)
{
    if (io->active && io->counted) {
        io->counted = false;
        l->counted--;
    }
}

/* ---- timers: a binary min-heap keyed on (due, seq) ------------------------ */

static bool timer_less(const ibx_timer *a, const ibx_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(ibx_loop *l, size_t i, ibx_timer *t)
{
    l->heap[i] = t;
    t->slot = i + 1;
}

static void heap_up(ibx_loop *l, size_t i)
{
    ibx_timer *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_less(t, l->heap[p]))
            break;
        heap_set(l, i, l->heap[p]);
        i = p;
    }
    heap_set(l, i, t);
}

static void heap_down(ibx_loop *l, size_t i)
{
    ibx_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && timer_less(l->heap[c + 1], l->heap[c]))
            c++;
        if (!timer_less(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

void ibx_timer_stop(ibx_loop *l, ibx_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    l->counted--;
    l->nheap--;
    if (i == l->nheap)
        return;
    l->heap[i] = l->heap[l->nheap];
    l->heap[i]->slot = i + 1;
    if (i > 0 && timer_less(l->heap[i], l->heap[(i - 1) / 2]))
        heap_up(l, i);
    else
        heap_down(l, i);
}

int ibx_timer_start(ibx_loop *l, ibx_timer *t, uint64_t ms, ibx_timer_cb cb,
                    void *data)
{
    ibx_timer_stop(l, t);
    if (l->nheap == l->capheap) {
        size_t cap = l->capheap ? l->capheap * 2 : 64;
        ibx_timer **h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        l->heap = h;
        l->capheap = cap;
    }
    t->due = l->now + ms;
    t->seq = l->seq++;
    t->cb = cb;
    t->data = data;
    l->heap[l->nheap++] = t;
    l->counted++;
    heap_up(l, l->nheap - 1);
    return 0;
}

static void run_timers(ibx_loop *l)
{
    while (l->nheap && l->heap[0]->due <= l->now) {
        ibx_timer *t = l->heap[0];
        ibx_timer_stop(l, t);
        t->cb(l, t);
    }
}

static int next_timeout(const ibx_loop *l, int timeout_ms)
{
    if (l->dhead)
        return 0;
    if (!l->nheap)
        return timeout_ms;
    uint64_t due = l->heap[0]->due;
    uint64_t wait = due > l->now ? due - l->now : 0;
    if (wait > INT32_MAX)
        wait = INT32_MAX;
    if (timeout_ms >= 0 && (uint64_t)timeout_ms < wait)
        return timeout_ms;
    return (int)wait;
}

/* ---- deferred ------------------------------------------------------------ */

void ibx_loop_defer(ibx_loop *l, ibx_defer *d, ibx_defer_cb cb, void *data)
{
    if (d->queued)
        return;
    d->queued = true;
    d->cb = cb;
    d->data = data;
    d->next = NULL;
    if (l->dtail)
        l->dtail->next = d;
    else
        l->dhead = d;
    l->dtail = d;
}

/* ---- signals ------------------------------------------------------------- */

int ibx_signals_block(void)
{
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&set, sigs[i]);
    int r = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (r)
        return -r;
    struct sigaction sa = {.sa_handler = SIG_IGN};
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -errno;
    return 0;
}

static void on_signalfd(ibx_loop *l, ibx_io *io, uint32_t events)
{
    struct signalfd_siginfo si[8];
    ssize_t n;
    while (!l->abandoned && (n = read(io->fd, si, sizeof si)) > 0) {
        for (size_t k = 0; k < (size_t)n / sizeof si[0] && !l->abandoned; k++)
            for (size_t i = 0; i < l->nsigs && !l->abandoned; i++)
                if (l->sigs[i].signo == (int)si[k].ssi_signo)
                    l->sigs[i].cb(l, l->sigs[i].signo, l->sigs[i].data);
    }
}

int ibx_loop_signal(ibx_loop *l, int signo, ibx_signal_cb cb, void *data)
{
    if (l->nsigs == sizeof l->sigs / sizeof l->sigs[0])
        return -ENOSPC;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    int r = pthread_sigmask(SIG_BLOCK, &one, NULL);
    if (r)
        return -r;
    sigaddset(&l->sigmask, signo);
    int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (l->sigfd < 0) {
        l->sigfd = fd;
        r = ibx_io_start(l, &l->sigio, fd, IBX_EV_READ, on_signalfd, NULL);
        if (r < 0) {
            close(fd);
            l->sigfd = -1;
            return r;
        }
        ibx_io_unref(l, &l->sigio);
    }
    l->sigs[l->nsigs++] = (struct sigwatch){signo, cb, data};
    return 0;
}

/* ---- wake ---------------------------------------------------------------- */

static void on_wakefd(ibx_loop *l, ibx_io *io, uint32_t events)
{
    uint64_t v;
    while (read(io->fd, &v, sizeof v) > 0)
        ;
    if (l->wake_cb)
        l->wake_cb(l, l->wake_data);
}

int ibx_loop_set_wake(ibx_loop *l, ibx_wake_cb cb, void *data)
{
    if (l->wakefd < 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return -errno;
        int r = ibx_io_start(l, &l->wakeio, fd, IBX_EV_READ, on_wakefd, NULL);
        if (r < 0) {
            close(fd);
            return r;
        }
        ibx_io_unref(l, &l->wakeio);
        l->wakefd = fd;
    }
    l->wake_cb = cb;
    l->wake_data = data;
    return 0;
}

void ibx_loop_wake(ibx_loop *l)
{
    uint64_t one = 1;
    if (l->wakefd >= 0) {
        ssize_t r = write(l->wakefd, &one, sizeof one);
        (void)r;   /* a full counter already means "wake" */
    }
}

/* ---- running ------------------------------------------------------------- */

int ibx_loop_run_once(ibx_loop *l, int timeout_ms)
{
    int n = l->be->wait(l->be_state, next_timeout(l, timeout_ms), l->fired,
                        MAX_EVENTS);
    l->now = mono_ms();
    if (n < 0)
        return n;
    l->nfired = n;
    for (l->next = 0; l->next < n && !l->abandoned;) {
        struct ibx__fired f = l->fired[l->next++];
        if (f.io && f.io->active)
            f.io->cb(l, f.io, f.events);
    }
    l->next = l->nfired = 0;
    if (l->abandoned)
        return n;
    run_timers(l);
    run_deferred(l);
    return n;
}

void ibx__loop_abandon(ibx_loop *l)
{
    l->abandoned = true;
    l->stop = true;
}

int ibx_loop_run(ibx_loop *l)
{
    l->stop = false;
    l->now = mono_ms();
    while (!l->stop && (l->counted > 0 || l->dhead)) {
        int r = ibx_loop_run_once(l, -1);
        if (r < 0)
            return r;
    }
    return 0;
}
