/* ipcbox event loop: fd watchers (on epoll by default, or poll, select or io_uring,
 * behind a private backend interface: src/lib/loop_backend.h), a
 * min-heap of timers with "now" cached once per pass, signals delivered as loop events through signalfd,
 * and deferred callbacks that run after every fd event of the pass (the
 * place to free a handle, never inside its own callback).
 *
 * Handles are embedded in the caller's structures (no allocation per
 * watcher). A loop belongs to one thread; nothing here is thread-safe except
 * ibx_loop_wake(), which any thread may call. */
#ifndef IPCBOX_LOOP_H
#define IPCBOX_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

typedef struct ibx_loop ibx_loop;
typedef struct ibx_io ibx_io;
typedef struct ibx_timer ibx_timer;
typedef struct ibx_defer ibx_defer;

/* Event bits of a watcher. Armed with ibx_io_start()/ibx_io_modify():
 * IBX_EV_READ, IBX_EV_WRITE, IBX_EV_RDHUP, IBX_EV_EXCLUSIVE. Reported to the
 * callback: IBX_EV_READ, IBX_EV_WRITE, IBX_EV_RDHUP, and always (armed or
 * not) IBX_EV_ERROR and IBX_EV_HUP. */
#define IBX_EV_READ      0x01u  /* readable (or a listener has a client) */
#define IBX_EV_WRITE     0x02u  /* writable */
#define IBX_EV_ERROR     0x04u  /* an error is pending on the fd */
#define IBX_EV_HUP       0x08u  /* both directions hung up */
#define IBX_EV_RDHUP     0x10u  /* the peer shut down its writing side */
#define IBX_EV_EXCLUSIVE 0x20u  /* several loops watch one fd: wake only
                                 * one of them (a hint; only at start) */

/* Called with the IBX_EV_* bits that fired. */
typedef void (*ibx_io_cb)(ibx_loop *loop, ibx_io *io, uint32_t events);
/* Called once when a timer expires; restart it from inside if needed. */
typedef void (*ibx_timer_cb)(ibx_loop *loop, ibx_timer *t);
/* Called once after the fd events of the pass in which it was queued. */
typedef void (*ibx_defer_cb)(ibx_loop *loop, ibx_defer *d);
/* Called on the loop for each delivered signal. */
typedef void (*ibx_signal_cb)(ibx_loop *loop, int signo, void *data);

/* An fd watcher. Zero-initialise, then ibx_io_start(). */
struct ibx_io {
    int fd;             /* watched fd, -1 when stopped */
    uint32_t events;    /* armed IBX_EV_* mask */
    bool active;        /* registered with the loop */
    bool counted;       /* keeps ibx_loop_run() alive (see ibx_io_unref) */
    ibx_io_cb cb;
    void *data;         /* free for the owner */
};

/* A one-shot timer. Zero-initialise, then ibx_timer_start(). */
struct ibx_timer {
    uint64_t due;       /* absolute ms on the loop clock */
    size_t slot;        /* heap index + 1; 0 when not armed */
    uint64_t seq;       /* insertion order, keeps equal deadlines FIFO */
    ibx_timer_cb cb;
    void *data;
};

/* A deferred callback. Zero-initialise, then ibx_loop_defer(). */
struct ibx_defer {
    ibx_defer *next;
    bool queued;
    ibx_defer_cb cb;
    void *data;
};

/* Create a loop on the best readiness backend this system has (epoll).
 * Returns 0 or -errno. */
int ibx_loop_new(ibx_loop **out);
/* Create a loop on the named backend: "epoll", "poll", "select" or
 * "io_uring" (NULL: as ibx_loop_new, which never picks io_uring). A select
 * loop cannot watch a descriptor at or past FD_SETSIZE (ibx_io_start
 * returns -EMFILE). io_uring needs Linux 5.13 and may be refused: -EPERM
 * (seccomp, sysctl kernel.io_uring_disabled), -ENOSYS (absent or too old).
 * Returns 0, -EINVAL for an unknown name, or -errno. */
int ibx_loop_new_backend(ibx_loop **out, const char *backend);
/* Name of the backend a loop runs on ("epoll" ...). */
const char *ibx_loop_backend(const ibx_loop *loop);
/* Name of the i-th backend (i from 0, best first), or NULL past the last. */
const char *ibx_loop_backend_at(size_t i);
/* Free a loop; watchers still registered are simply forgotten (their fds
 * are not closed). Pending deferred callbacks are run first. */
void ibx_loop_free(ibx_loop *loop);

/* Free a loop inherited across fork() in the child: closes this process's
 * copies of its fds and frees memory, but never deregisters a watcher (the
 * kernel's readiness set is shared with the parent) and runs no callback. */
void ibx_loop_free_forked(ibx_loop *loop);

/* Run until ibx_loop_stop() or until no counted watcher or timer remains.
 * Returns 0 or -errno from waiting for events. */
int ibx_loop_run(ibx_loop *loop);
/* Make ibx_loop_run() return after the current pass. */
void ibx_loop_stop(ibx_loop *loop);
/* Run one pass: wait at most timeout_ms (-1 = until an event or timer),
 * dispatch events, expired timers and deferred callbacks. Returns the
 * number of fd events dispatched or -errno. */
int ibx_loop_run_once(ibx_loop *loop, int timeout_ms);

/* Milliseconds on CLOCK_MONOTONIC, cached at the start of each pass. */
uint64_t ibx_loop_now(const ibx_loop *loop);
/* Refresh the cached clock (after a long computation inside a callback). */
void ibx_loop_update_now(ibx_loop *loop);

/* Watch fd for events (IBX_EV_READ, IBX_EV_WRITE, IBX_EV_RDHUP,
 * IBX_EV_EXCLUSIVE; level-triggered). Returns 0 or -errno. */
int ibx_io_start(ibx_loop *loop, ibx_io *io, int fd, uint32_t events,
                 ibx_io_cb cb, void *data);
/* Change the armed events of an active watcher; a no-op if unchanged. */
int ibx_io_modify(ibx_loop *loop, ibx_io *io, uint32_t events);
/* Stop watching; the fd is left open. Events already collected for it in
 * the current pass are not delivered. Safe on a stopped watcher. */
void ibx_io_stop(ibx_loop *loop, ibx_io *io);
/* Do not let this active watcher keep ibx_loop_run() alive. */
void ibx_io_unref(ibx_loop *loop, ibx_io *io);

/* Arm t to fire after ms milliseconds (re-arms if already armed).
 * Returns 0, or -ENOMEM when the heap cannot grow (t is then disarmed). */
int ibx_timer_start(ibx_loop *loop, ibx_timer *t, uint64_t ms,
                     ibx_timer_cb cb, void *data);
/* Disarm t; safe if not armed. */
void ibx_timer_stop(ibx_loop *loop, ibx_timer *t);
/* True while t is armed. */
static inline bool ibx_timer_active(const ibx_timer *t) { return t->slot != 0; }

/* Queue d to run after the fd events of the current pass (or the next pass
 * if called from a deferred callback). Idempotent while queued. */
void ibx_loop_defer(ibx_loop *loop, ibx_defer *d, ibx_defer_cb cb, void *data);

/* Deliver signo as a loop event. The signal is blocked in the calling
 * thread (block it before creating threads so no other thread takes it:
 * see ibx_signals_block). Returns 0 or -errno. */
int ibx_loop_signal(ibx_loop *loop, int signo, ibx_signal_cb cb, void *data);
/* Block the usual process-control signals (INT, TERM, HUP, CHLD,
 * USR1, USR2) in the calling thread and ignore SIGPIPE; call first in
 * main() so that threads inherit the mask. Returns 0 or -errno. */
int ibx_signals_block(void);

/* Callback run on the loop thread after ibx_loop_wake() from any thread. */
typedef void (*ibx_wake_cb)(ibx_loop *loop, void *data);
/* Register the wake callback (an eventfd). Returns 0 or -errno. */
int ibx_loop_set_wake(ibx_loop *loop, ibx_wake_cb cb, void *data);
/* Wake the loop from any thread; the callback runs once per pass however
 * many wakes arrived. Async-signal-safe. */
void ibx_loop_wake(ibx_loop *loop);

#pragma GCC visibility pop

#endif
