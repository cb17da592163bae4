/* ipcbox coroutines: blocking-style code multiplexed on one event loop.
 *
 * A coroutine runs a function on a stack of its own: an mmap'd region
 * (committed lazily, page by page, as it is touched) with an inaccessible
 * guard region below it (IBX_CO_GUARD bytes), so an overflow faults
 * (SIGSEGV) instead of corrupting memory. A single frame larger than the
 * guard (a local buffer of more than 64 KiB) could step over it into the
 * mapping below: keep such buffers off the stack, or build the code with
 * -fstack-clash-protection (which probes every page of a big frame, and so
 * also commits every page of it). Switching between coroutines is a few instructions in
 * user space (callee-saved registers and the stack pointer; no system
 * call, no signal mask). x86-64 only for now: elsewhere ibx_co_new()
 * returns -ENOSYS.
 *
 * Two levels:
 *  - plain: ibx_co_new(), ibx_co_resume() runs it until it calls
 *    ibx_co_yield() or returns; ibx_co_free().
 *  - on a loop: ibx_co_read(), ibx_co_write(), ibx_co_accept(),
 *    ibx_co_connect() and ibx_co_sleep() look blocking: when the call
 *    would block, the coroutine parks on the loop (an fd watcher, a timer)
 *    and yields; the loop resumes it when the descriptor is ready or the
 *    timer fires. ibx_co_spawn() starts a coroutine that frees itself when
 *    its function returns.
 *
 * Cancellation: ibx_co_cancel() wakes a parked coroutine with -ECANCELED
 * (and makes its later blocking calls fail the same way), so it unwinds
 * through its own code and frees what it holds. A finished coroutine is
 * never resumed again (ibx_co_resume returns -EINVAL).
 *
 * A coroutine belongs to its loop's thread. Descriptors a coroutine waited
 * on must be closed with ibx_co_close() (it forgets the watcher first). One
 * coroutine at a time may wait on a given descriptor. */
#ifndef IPCBOX_CORO_H
#define IPCBOX_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ipcbox/loop.h"

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

typedef struct ibx_co ibx_co;

/* The body of a coroutine: runs on its own stack; returning ends it. */
typedef void (*ibx_co_fn)(ibx_co *co, void *arg);

/* Default stack size (64 KiB; pages are committed only when touched). */
#define IBX_CO_STACK_DEFAULT ((size_t)64 * 1024)
/* Smallest stack accepted (smaller requests are rounded up to it). */
#define IBX_CO_STACK_MIN ((size_t)16 * 1024)
/* The inaccessible region below each stack (address space only, no
 * memory): a frame up to this size cannot step over it. */
#define IBX_CO_GUARD ((size_t)64 * 1024)
/* Largest stack accepted (ibx_co_new returns -EINVAL above it). */
#define IBX_CO_STACK_MAX ((size_t)256 * 1024 * 1024)

/* How ibx_co_cancel() stops a coroutine. */
enum ibx_co_cancel {
    /* Graceful: waits for new input (read, accept, sleep) fail with
     * -ECANCELED; writes and connects in flight still complete. */
    IBX_CO_DRAIN = 1,
    /* Now: every blocking call fails with -ECANCELED. */
    IBX_CO_ABORT = 2,
};

/* Create a coroutine that will run fn(co, arg) on a stack of stack_size
 * bytes (0: IBX_CO_STACK_DEFAULT; rounded up to whole pages, at least
 * IBX_CO_STACK_MIN) plus the guard (IBX_CO_GUARD). loop (may be NULL) is where its
 * blocking calls park; without one they return -EINVAL. The coroutine does
 * not run until ibx_co_resume(). Returns 0, -EINVAL, -ENOMEM, or -ENOSYS
 * on an architecture without a context switch. */
int ibx_co_new(ibx_co **out, ibx_loop *loop, size_t stack_size, ibx_co_fn fn,
               void *arg);

/* Create a coroutine on loop and run it at once, until it first parks or
 * returns; the loop resumes it from then on, and it frees itself (stack
 * and handle) when fn returns. *out, if out is not NULL, receives the
 * handle, valid until fn returns. Returns 0 or -errno as ibx_co_new. */
int ibx_co_spawn(ibx_loop *loop, size_t stack_size, ibx_co_fn fn, void *arg,
                 ibx_co **out);

/* Switch into co until it yields, parks or returns. Returns 0 when it
 * yielded, 1 when it returned (its stack is released then; free the handle
 * with ibx_co_free), -EINVAL when it has finished already or is running
 * (a coroutine cannot resume itself or one of its resumers). */
int ibx_co_resume(ibx_co *co);

/* From inside co: switch back to whoever resumed it. Returns 0 once it is
 * resumed, or -EPERM when not called on co's own stack. */
int ibx_co_yield(ibx_co *co);

/* True once co's function has returned. */
bool ibx_co_finished(const ibx_co *co);

/* Free a coroutine that is not running: its stack (at once) and the handle
 * (at once without a loop, else from a deferred callback of the loop). A
 * coroutine still parked does not unwind: what its frames hold is lost, so
 * cancel it and let it return instead. Not for spawned coroutines, which
 * free themselves. NULL is ignored. */
void ibx_co_free(ibx_co *co);

/* The loop co parks on (may be NULL). */
ibx_loop *ibx_co_loop(const ibx_co *co);

/* Fail later waits of co's read, write, accept and connect with -ETIMEDOUT
 * after ms milliseconds without progress (0: wait forever, the default). */
void ibx_co_set_timeout(ibx_co *co, unsigned ms);

/* Read up to len bytes from fd (non-blocking) into buf, parking co until
 * some arrive. Returns the count (0 at end of file), -ECANCELED,
 * -ETIMEDOUT, or -errno. */
ssize_t ibx_co_read(ibx_co *co, int fd, void *buf, size_t len);

/* Write all len bytes of buf to fd (non-blocking; a socket is sent
 * MSG_NOSIGNAL), parking co while the descriptor is full. Returns 0 once
 * every byte is written, or -ECANCELED, -ETIMEDOUT, -errno (some bytes may
 * have been written). */
int ibx_co_write(ibx_co *co, int fd, const void *buf, size_t len);

/* Accept a connection on non-blocking listener lfd, parking co until one
 * comes. peer/len may be NULL. Returns the new descriptor (non-blocking,
 * close-on-exec) or -ECANCELED, -ETIMEDOUT, -errno. */
int ibx_co_accept(ibx_co *co, int lfd, struct sockaddr *peer, socklen_t *len);

/* Connect non-blocking socket fd to addr, parking co until the handshake
 * ends. Returns 0, or -ECANCELED, -ETIMEDOUT, -errno (-ECONNREFUSED ...). */
int ibx_co_connect(ibx_co *co, int fd, const struct sockaddr *addr,
                   socklen_t len);

/* Park co for ms milliseconds. Returns 0, or -ECANCELED when cancelled. */
int ibx_co_sleep(ibx_co *co, uint64_t ms);

/* Stop co's watcher on fd if it has one, then close fd. Returns close()'s
 * 0 or -errno. */
int ibx_co_close(ibx_co *co, int fd);

/* Cancel co (how: IBX_CO_DRAIN or IBX_CO_ABORT, never downgraded): a
 * parked wait that the level covers ends with -ECANCELED, from a deferred
 * callback of the loop (never inside the caller), and so do later ones.
 * Returns 0, or -EINVAL for a bad how or a finished coroutine. */
int ibx_co_cancel(ibx_co *co, int how);

/* The cancellation level of co: 0, IBX_CO_DRAIN or IBX_CO_ABORT. */
int ibx_co_cancelled(const ibx_co *co);

#pragma GCC visibility pop

#endif
