/* Private to the event loop: how a loop learns readiness. The loop
 * (loop.c) owns watchers, timers, signals, wakes and deferred callbacks; a
 * backend only keeps a set of (fd, IBX_EV_* mask) registrations and waits
 * for them, in the manner of redis's aeApi* functions. One backend per file
 * (loop_epoll.c, loop_poll.c, loop_select.c, loop_uring.c), each exporting one ops table
 * listed in loop.c's `backends[]`; protocols never see which one runs. A
 * loop takes the first backend it can create unless one is named
 * (ibx_loop_new_backend; a model names its backend in struct ibx_model).
 *
 * Contract common to every operation: a backend is used by one thread, the
 * loop's; it never calls back into the loop; errors are -errno. */
#ifndef IPCBOX_LOOP_BACKEND_H
#define IPCBOX_LOOP_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcbox/loop.h"

/* One ready watcher of a pass: which, and the IBX_EV_* bits that fired. */
struct ibx__fired {
    ibx_io *io;
    uint32_t events;
};

struct ibx__loop_backend {
    const char *name;   /* "epoll" ... */
    /* Make the state of a new loop in *out. Returns 0 or -errno. */
    int (*create)(void **out);
    /* Release the state: close this process's descriptors and free memory.
     * Also called in a forked child on the parent's copy, so it must not
     * change kernel objects the parent still uses (no deregistration). */
    void (*release)(void *st);
    /* Start watching io->fd for events (an IBX_EV_* mask, possibly 0). io
     * stays valid, at the same address, until del(). Returns 0 or -errno. */
    int (*add)(void *st, ibx_io *io, uint32_t events);
    /* Change the mask of a watched io from io->events to events (the loop
     * never passes IBX_EV_EXCLUSIVE here). Returns 0 or -errno. */
    int (*mod)(void *st, ibx_io *io, uint32_t events);
    /* Stop watching io; its fd is still open. Cannot fail. */
    void (*del)(void *st, ibx_io *io);
    /* Wait at most timeout_ms (-1: no limit, 0: just look) and store up to
     * max ready watchers in fired[]. Returns how many, 0 on timeout or on
     * a signal interruption, or -errno. A watcher fires while it stays
     * ready (level-triggered); IBX_EV_ERROR and IBX_EV_HUP are reported
     * whether armed or not. */
    int (*wait)(void *st, int timeout_ms, struct ibx__fired *fired, int max);
    /* The highest descriptor add() takes (select: FD_SETSIZE - 1), or 0
     * for no limit. */
    int max_fd;
    /* Only when named: ibx_loop_new never falls back to it (io_uring). */
    bool named_only;
};

/* loop_epoll.c, loop_poll.c, loop_select.c, loop_uring.c */
extern const struct ibx__loop_backend ibx__loop_epoll;
extern const struct ibx__loop_backend ibx__loop_poll;
extern const struct ibx__loop_backend ibx__loop_select;
extern const struct ibx__loop_backend ibx__loop_uring;

/* In a child forked from inside one of l's callbacks, whose work is done:
 * end the current pass at once. The rest of the pass -- other ready
 * watchers, timers, deferred callbacks -- belongs to the parent, and run
 * here it would act on the parent's sockets and rings from the child. The
 * loop then only gets released (ibx_loop_free_forked). */
void ibx__loop_abandon(ibx_loop *l);

/* False if fd is past what the loop's backend can watch (select's
 * FD_SETSIZE): the caller closes it rather than fail later, with a log
 * line naming the limit. */
bool ibx__loop_fd_ok(const ibx_loop *l, int fd);

#endif
