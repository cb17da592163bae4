/* Coroutines on the event loop: blocking-style calls that park (see
 * ipcbox/coro.h).
 *
 * A call first tries the operation; when it would block, the coroutine
 * arms its one fd watcher (and a timer for a timeout) and yields; the
 * watcher's or timer's callback resumes it, and the call tries again. The
 * watcher stays registered on the descriptor between waits (level
 * triggered: a wait that finds it armed costs no system call), and is
 * dropped when it fires while the coroutine waits for something else.
 * After a read came back short, the next read on that descriptor waits
 * first instead of trying a read the kernel would answer EAGAIN (the
 * level-triggered watcher reports at once data that came meanwhile).
 *
 * Cancellation resumes a parked coroutine from a deferred callback, never
 * from inside ibx_co_cancel()'s caller (which may be the coroutine's own
 * drain hook, or a loop callback that goes on using what the coroutine
 * would free). */
#include "coro_int.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

void ibx__co_unpark(ibx_co *co)
{
    if (!co->loop)
        return;
    ibx_io_stop(co->loop, &co->io);
    ibx_timer_stop(co->loop, &co->timer);
    co->parked = false;
}

/* Resume a woken coroutine from the loop. */
static void co_run(ibx_co *co, int result)
{
    co->parked = false;
    co->result = result;
    ibx_timer_stop(co->loop, &co->timer);
    ibx_co_resume(co);
}

static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    ibx_co *co = io->data;
    if (!co->parked || !co->want || co->wake_d.queued ||
        !(events & (co->want | IBX_EV_ERROR | IBX_EV_HUP))) {
        /* not waiting for it now: stop listening (an error or hang-up
         * would otherwise be reported on every pass) */
        ibx_io_stop(loop, io);
        return;
    }
    co_run(co, 0);
}

static void on_timer(ibx_loop *loop, ibx_timer *t)
{
    ibx_co *co = t->data;
    if (!co->parked || co->wake_d.queued)
        return;
    co_run(co, co->sleeping ? 0 : -ETIMEDOUT);
}

static void on_wake(ibx_loop *loop, ibx_defer *d)
{
    ibx_co *co = d->data;
    if (co->freeing || co->state != CO_SUSPENDED || !co->parked)
        return;
    co_run(co, -ECANCELED);
}

/* Is a wait of this kind cancelled? */
static bool cancelled(const ibx_co *co, bool input)
{
    return co->cancel == IBX_CO_ABORT || (input && co->cancel);
}

/* Park co until fd (-1: none) reports events, or ms (0: never) pass, or a
 * cancellation. Returns the wake's result: 0, -ETIMEDOUT (0 for a sleep),
 * -ECANCELED, or -errno when it cannot park. */
static int park(ibx_co *co, int fd, uint32_t events, uint64_t ms, bool input,
                bool sleeping)
{
    if (!co->loop)
        return -EINVAL;
    if (cancelled(co, input))
        return -ECANCELED;
    ibx_loop *loop = co->loop;
    if (fd >= 0) {
        if (co->io.active && co->io.fd != fd)
            ibx_io_stop(loop, &co->io);
        int r = co->io.active ? ibx_io_modify(loop, &co->io, events)
                              : ibx_io_start(loop, &co->io, fd, events, on_io, co);
        if (r < 0)
            return r;
    }
    if (ms) {
        int r = ibx_timer_start(loop, &co->timer, ms, on_timer, co);
        if (r < 0)
            return r;
    }
    co->want = fd >= 0 ? events : 0;
    co->parked = true;
    co->parked_input = input;
    co->sleeping = sleeping;
    co->result = 0;
    int r = ibx_co_yield(co);
    if (r < 0) {
        co->parked = false;
        ibx_timer_stop(loop, &co->timer);
        return r;
    }
    return co->result;
}

void ibx_co_set_timeout(ibx_co *co, unsigned ms) { co->timeout_ms = ms; }

ssize_t ibx_co_read(ibx_co *co, int fd, void *buf, size_t len)
{
    if (!co->loop)
        return -EINVAL;
    for (;;) {
        if (cancelled(co, true))
            return -ECANCELED;
        if (co->short_fd != fd) {
            ssize_t n = read(fd, buf, len);
            if (n >= 0) {
                co->short_fd = n > 0 && (size_t)n < len ? fd : -1;
                return n;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -errno;
        }
        co->short_fd = -1;
        int r = park(co, fd, IBX_EV_READ | IBX_EV_RDHUP, co->timeout_ms, true, false);
        if (r == -EPERM)   /* a file epoll cannot watch: always ready */
            continue;
        if (r < 0)
            return r;
    }
}

int ibx_co_write(ibx_co *co, int fd, const void *buf, size_t len)
{
    const char *p = buf;
    bool sock = true;
    if (!co->loop)
        return -EINVAL;
    while (len) {
        if (cancelled(co, false))
            return -ECANCELED;
        ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (n < 0 && sock && errno == ENOTSOCK) {
            sock = false;
            continue;
        }
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int r = park(co, fd, IBX_EV_WRITE, co->timeout_ms, false, false);
        if (r < 0)
            return r;
    }
    return 0;
}

int ibx_co_accept(ibx_co *co, int lfd, struct sockaddr *peer, socklen_t *len)
{
    if (!co->loop)
        return -EINVAL;
    for (;;) {
        if (cancelled(co, true))
            return -ECANCELED;
        int fd = accept4(lfd, peer, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int r = park(co, lfd, IBX_EV_READ, co->timeout_ms, true, false);
        if (r < 0)
            return r;
    }
}

int ibx_co_connect(ibx_co *co, int fd, const struct sockaddr *addr,
                   socklen_t len)
{
    if (!co->loop)
        return -EINVAL;
    if (cancelled(co, false))
        return -ECANCELED;
    if (connect(fd, addr, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return -errno;
    int r = park(co, fd, IBX_EV_WRITE, co->timeout_ms, false, false);
    if (r < 0)
        return r;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return -errno;
    return -err;
}

int ibx_co_sleep(ibx_co *co, uint64_t ms)
{
    if (!co->loop)
        return -EINVAL;
    if (!ms) {
        /* still a point where a cancellation is seen */
        return cancelled(co, true) ? -ECANCELED : 0;
    }
    return park(co, -1, 0, ms, true, true);
}

int ibx_co_close(ibx_co *co, int fd)
{
    if (co->loop && co->io.active && co->io.fd == fd)
        ibx_io_stop(co->loop, &co->io);
    if (co->short_fd == fd)
        co->short_fd = -1;
    return close(fd) < 0 ? -errno : 0;
}

int ibx_co_cancel(ibx_co *co, int how)
{
    if ((how != IBX_CO_DRAIN && how != IBX_CO_ABORT) || co->freeing ||
        co->state == CO_DONE)
        return -EINVAL;
    if (how > co->cancel)
        co->cancel = how;
    if (co->parked && co->loop && cancelled(co, co->parked_input))
        ibx_loop_defer(co->loop, &co->wake_d, on_wake, co);
    return 0;
}

int ibx_co_cancelled(const ibx_co *co) { return co->cancel; }
