/* The io_uring backend of the event loop (see loop_backend.h for the
 * contract): readiness learned through IORING_OP_POLL_ADD requests on one
 * ring, with liburing. Only named loops use it (ibx_loop_new_backend(&l,
 * "io_uring"), the io_uring model): the kernel or its sandbox may refuse
 * io_uring_setup (seccomp, containers, sysctl kernel.io_uring_disabled),
 * and create() then returns that -errno for the caller to report.
 *
 * Batched submission. add(), mod() and del() only note the watcher's fd on
 * a dirty list; the next wait() turns every dirty entry into at most one
 * POLL_REMOVE and one POLL_ADD and hands them to the kernel in the same
 * io_uring_enter that waits (io_uring_submit_and_wait_timeout, the wait's
 * timeout included). Nothing is written to the shared submission ring
 * outside wait(), so a child forked between two passes holds no half-built
 * submission, and release() (munmap, close) leaves the parent's ring alone.
 *
 * Level-triggered from one-shot polls. A poll request completes once; the
 * watcher's fd is then dirty, and the next wait re-arms it, after the pass
 * has run its callback. Arming a poll checks readiness at once, so an fd
 * still ready completes again in the same enter: the watcher keeps firing
 * while it stays ready, as with epoll.
 *
 * Stale completions. Each request carries (generation << 32 | fd) as its
 * user_data, and the fd's slot remembers the generation of the one request
 * it has in flight; a re-arm, a removal or a new watcher on the same fd
 * bumps it. A completion whose tag is not the slot's current one (a
 * cancelled poll's -ECANCELED, a result reaped after ibx_io_stop) is
 * dropped: no completion ever reaches a stopped, freed or reused ibx_io.
 *
 * The quiet mode. The kernel adds POLLERR, POLLHUP and POLLRDHUP to every
 * poll request, whatever was asked; ERROR and HUP are reported anyway, but
 * a peer's half-close (RDHUP, lasting) on a watcher that did not arm it
 * would complete every one-shot poll at once, for ever: a busy loop. Such
 * a completion is not reported, and the slot is re-armed as a multishot
 * poll (IORING_POLL_ADD_MULTI) instead, which posts on wake-ups only; the
 * first completion with something to report returns it to one-shot polls.
 *
 * Multishot polls for every watcher were measured too (docs/server-models.md):
 * they post on wake-ups only, so keeping the level-triggered contract needs
 * a readiness re-check of each fired fd after its pass (one more system
 * call per pass), which cost more than the re-arms it saved. */
#include "loop_backend.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Submission ring entries; a pass with more changes submits in several
 * steps. The completion ring is larger: every watched fd may complete at
 * once (beyond it the kernel queues completions, IORING_FEAT_NODROP). */
#define SQ_ENTRIES 256
#define CQ_ENTRIES 4096

/* One watched fd (the slot of fd in the table). */
struct slot {
    ibx_io *io;          /* the watcher, NULL when none */
    uint32_t mask;       /* the IBX_EV_* it wants */
    uint32_t gen;        /* generation of the request in flight (tag) */
    uint32_t armed;      /* mask of the request in flight */
    uint32_t pass;       /* the pass it last fired in (fidx is valid then) */
    int fidx;            /* its index in that pass's fired[] */
    bool inflight;       /* a poll request tagged (gen, fd) is armed */
    bool multi;          /* ... and it is multishot */
    bool quiet;          /* arm multishot: nothing to report but RDHUP */
    bool stale;          /* the request in flight is a stopped watcher's */
    bool dirty;          /* on the dirty list */
};

struct uring_state {
    struct io_uring ring;
    struct slot *slot;   /* by fd */
    size_t nslot;
    int *dirty;          /* fds whose requests wait() must change */
    size_t ndirty, capdirty;
    uint32_t pass;
    bool disabled;       /* created disabled: the first wait enables it */
};

static uint64_t tag_of(int fd, uint32_t gen) { return (uint64_t)gen << 32 | (uint32_t)fd; }

static unsigned to_poll(uint32_t ev)
{
    return (ev & IBX_EV_READ ? POLLIN : 0u) | (ev & IBX_EV_WRITE ? POLLOUT : 0u) |
           (ev & IBX_EV_RDHUP ? POLLRDHUP : 0u);
}

static uint32_t from_poll(unsigned ev)
{
    return (ev & POLLIN ? IBX_EV_READ : 0) | (ev & POLLOUT ? IBX_EV_WRITE : 0) |
           (ev & (POLLERR | POLLNVAL) ? IBX_EV_ERROR : 0) | (ev & POLLHUP ? IBX_EV_HUP : 0) |
           (ev & POLLRDHUP ? IBX_EV_RDHUP : 0);
}

/* A ring, or the kernel's reason for refusing one: -ENOSYS (no io_uring,
 * or older than 5.13: no multishot polls), -EPERM (seccomp, sysctl
 * kernel.io_uring_disabled), -ENOMEM ... */
static int ur_create(void **out)
{
    struct uring_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    /* Best first: completions run only when this loop's thread waits
     * (DEFER_TASKRUN, 6.1+; the ring is enabled by the thread that first
     * waits, its one issuer); else without interrupting the running task
     * (COOP_TASKRUN, 5.19+); else plain. */
    static const unsigned flags[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    struct io_uring_params p;
    int r = -EINVAL;
    for (size_t i = 0; r == -EINVAL && i < sizeof flags / sizeof flags[0]; i++) {
        memset(&p, 0, sizeof p);
        p.flags = IORING_SETUP_CQSIZE | flags[i];
        p.cq_entries = CQ_ENTRIES;
        r = io_uring_queue_init_params(SQ_ENTRIES, &s->ring, &p);
    }
    if (r < 0) {
        free(s);
        return r;
    }
    s->disabled = p.flags & IORING_SETUP_R_DISABLED;
    /* NODROP (5.5), the wait's timeout in the enter itself (EXT_ARG,
     * 5.11), multishot polls (5.13, announced by RSRC_TAGS) */
    unsigned need = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_RSRC_TAGS;
    if ((p.features & need) != need) {
        io_uring_queue_exit(&s->ring);
        free(s);
        return -ENOSYS;
    }
    *out = s;
    return 0;
}

/* Unmap the rings and close this process's ring descriptor. In a forked
 * child the ring lives on in the parent (the requests belong to it and to
 * the open file), and no submission is half-built between passes. */
static void ur_release(void *st)
{
    struct uring_state *s = st;
    io_uring_queue_exit(&s->ring);
    free(s->slot);
    free(s->dirty);
    free(s);
}

/* Put fd on the dirty list (once). Returns 0 or -ENOMEM. */
static int mark(struct uring_state *s, int fd)
{
    struct slot *sl = &s->slot[fd];
    if (sl->dirty)
        return 0;
    if (s->ndirty == s->capdirty) {
        size_t cap = s->capdirty ? s->capdirty * 2 : 64;
        int *d = realloc(s->dirty, cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        s->dirty = d;
        s->capdirty = cap;
    }
    s->dirty[s->ndirty++] = fd;
    sl->dirty = true;
    return 0;
}

static int ur_add(void *st, ibx_io *io, uint32_t events)
{
    struct uring_state *s = st;
    int fd = io->fd;
    if (fd < 0)
        return -EBADF;
    if ((size_t)fd >= s->nslot) {
        size_t n = s->nslot ? s->nslot : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct slot *t = realloc(s->slot, n * sizeof *t);
        if (!t)
            return -ENOMEM;
        memset(t + s->nslot, 0, (n - s->nslot) * sizeof *t);
        s->slot = t;
        s->nslot = n;
    }
    struct slot *sl = &s->slot[fd];
    if (sl->io)
        return -EEXIST;
    int r = mark(s, fd);
    if (r < 0)
        return r;
    /* IBX_EV_EXCLUSIVE has no io_uring equivalent: it is a hint, and the
     * io_uring model runs one loop */
    sl->io = io;
    sl->mask = events & ~IBX_EV_EXCLUSIVE;
    sl->quiet = false;
    return 0;
}

static int ur_mod(void *st, ibx_io *io, uint32_t events)
{
    struct uring_state *s = st;
    if (io->fd < 0 || (size_t)io->fd >= s->nslot || s->slot[io->fd].io != io)
        return -ENOENT;
    int r = mark(s, io->fd);
    if (r < 0)
        return r;
    s->slot[io->fd].mask = events;
    s->slot[io->fd].quiet = false;
    return 0;
}

/* Forget the watcher now; its request, if one is in flight, is removed at
 * the next wait (and its completion dropped, being of an old generation),
 * even if another watcher on the same fd takes its place meanwhile.
 * Without memory for the dirty list the request stays armed until it
 * completes, and is dropped then. */
static void ur_del(void *st, ibx_io *io)
{
    struct uring_state *s = st;
    if (io->fd < 0 || (size_t)io->fd >= s->nslot || s->slot[io->fd].io != io)
        return;
    (void)mark(s, io->fd);
    s->slot[io->fd].io = NULL;
    /* a new watcher on the fd in this pass gets a request of its own */
    s->slot[io->fd].stale = s->slot[io->fd].inflight;
}

/* A free submission entry: the ring's, or one made free by submitting what
 * is queued. NULL only if the kernel takes none. */
static struct io_uring_sqe *get_sqe(struct uring_state *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe && io_uring_submit(&s->ring) >= 0)
        sqe = io_uring_get_sqe(&s->ring);
    return sqe;
}

/* Turn the dirty list into requests: remove the one in flight if it no
 * longer fits (watcher gone, mask changed, multishot no longer wanted),
 * and arm a new one for a watcher that has none. Returns 0 or -errno (the
 * entries left are kept for the next pass). */
static int flush(struct uring_state *s)
{
    size_t i;
    int r = 0;
    for (i = 0; i < s->ndirty; i++) {
        int fd = s->dirty[i];
        struct slot *sl = &s->slot[fd];
        if (sl->inflight && (sl->stale || !sl->io || sl->armed != sl->mask ||
                             sl->multi != sl->quiet)) {
            struct io_uring_sqe *sqe = get_sqe(s);
            if (!sqe) {
                r = -EBUSY;
                break;
            }
            io_uring_prep_poll_remove(sqe, tag_of(fd, sl->gen));
            io_uring_sqe_set_data64(sqe, 0);
            sl->inflight = false;
            sl->gen++;   /* a late completion of the old one is stale */
        }
        sl->stale = false;
        if (sl->io && !sl->inflight) {
            struct io_uring_sqe *sqe = get_sqe(s);
            if (!sqe) {
                r = -EBUSY;
                break;
            }
            sl->gen++;
            if (sl->quiet)
                io_uring_prep_poll_multishot(sqe, fd, to_poll(sl->mask));
            else
                io_uring_prep_poll_add(sqe, fd, to_poll(sl->mask));
            io_uring_sqe_set_data64(sqe, tag_of(fd, sl->gen));
            sl->inflight = true;
            sl->multi = sl->quiet;
            sl->armed = sl->mask;
        }
        sl->dirty = false;
    }
    if (i < s->ndirty) {
        memmove(s->dirty, s->dirty + i, (s->ndirty - i) * sizeof *s->dirty);
        s->ndirty -= i;
    } else {
        s->ndirty = 0;
    }
    return r;
}

/* One completion: the watcher it reports for and what to tell it, or
 * nothing (a removal's own result, a stale tag, a quiet RDHUP). */
static void complete(struct uring_state *s, const struct io_uring_cqe *cqe,
                     struct ibx__fired *fired, int *got)
{
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    int fd = (int)(uint32_t)ud;
    if (!ud || (size_t)fd >= s->nslot)
        return;
    struct slot *sl = &s->slot[fd];
    if (!sl->inflight || sl->stale || tag_of(fd, sl->gen) != ud)
        return;   /* stale */
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        sl->inflight = false;
        (void)mark(s, fd);   /* re-armed at the next wait, after the pass */
    }
    if (!sl->io)
        return;
    uint32_t ev;
    if (cqe->res == -ECANCELED)
        return;   /* ended by the kernel (a full ring): re-armed */
    if (cqe->res < 0)
        ev = IBX_EV_ERROR;
    else
        ev = from_poll((unsigned)cqe->res) & (sl->mask | IBX_EV_ERROR | IBX_EV_HUP);
    if (!ev) {
        sl->quiet = true;   /* an unarmed RDHUP: wake-ups only from now on */
        return;
    }
    if (sl->multi) {
        sl->quiet = false;   /* back to one-shot, level-triggered polls */
        (void)mark(s, fd);
    }
    if (sl->pass == s->pass && sl->fidx < *got && fired[sl->fidx].io == sl->io) {
        fired[sl->fidx].events |= ev;   /* a multishot's second post */
        return;
    }
    sl->pass = s->pass;
    sl->fidx = *got;
    fired[*got].io = sl->io;
    fired[*got].events = ev;
    (*got)++;
}

/* Submit the pass's changes and wait in one enter, then reap up to max
 * completions (the rest wait in the ring for the next pass). */
static int ur_wait(void *st, int timeout_ms, struct ibx__fired *fired, int max)
{
    struct uring_state *s = st;
    if (s->disabled) {
        /* this thread, the loop's, becomes the ring's one issuer */
        /* (io_uring_enable_rings is missing from liburing 2.3's .so) */
        int e = io_uring_register(s->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
        if (e < 0)
            return e;
        s->disabled = false;
    }
    int r = flush(s);
    struct io_uring_cqe *cqe;
    if (timeout_ms == 0) {
        r = io_uring_submit_and_get_events(&s->ring);
    } else {
        struct __kernel_timespec ts = {
            .tv_sec = timeout_ms / 1000,
            .tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
        };
        r = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1,
                                             timeout_ms < 0 ? NULL : &ts, NULL);
    }
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
        return r;
    s->pass++;
    int got = 0;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&s->ring, head, cqe) {
        if (got >= max)
            break;
        complete(s, cqe, fired, &got);
        seen++;
    }
    io_uring_cq_advance(&s->ring, seen);
    return got;
}

const struct ibx__loop_backend ibx__loop_uring = {
    .name = "io_uring",
    .create = ur_create,
    .release = ur_release,
    .add = ur_add,
    .mod = ur_mod,
    .del = ur_del,
    .wait = ur_wait,
    .named_only = true,
};
