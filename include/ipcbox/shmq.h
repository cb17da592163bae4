/* ipcbox shared-memory queue: variable-size messages between processes
 * through one mapping, without a system call on the fast path.
 *
 * A queue is a header followed by a power-of-two byte ring. It lives in a
 * POSIX shared-memory object (ibx_shmq_create with a name, "/NAME") or in
 * an anonymous memfd (name NULL) whose descriptor can be inherited or passed
 * over a Unix socket (see ipcbox/fdpass.h) and mapped with ibx_shmq_from_fd.
 *
 * Roles. A process (strictly: a thread, see "Peer death") attaches as the
 * consumer or as a producer. Single-producer mode (the default) is
 * lock-free: the producer owns `head`, the consumer owns `tail`, each on
 * its own 128-byte block so the two cores never write the same cache line
 * (128 and not 64 because adjacent-line prefetchers pull lines in pairs).
 * Each side keeps a private cached copy of the other side's index and
 * reloads the shared one only when the cached value says "full" or
 * "empty", so in steady streaming a message costs no shared read at all.
 * IBX_SHMQ_MULTI_PRODUCER serialises producers with a robust process-shared
 * mutex held from reserve to commit; a producer that dies holding it loses
 * only its own uncommitted message (the next producer recovers the lock and
 * the ring is intact, because `head` moves only on commit).
 *
 * Records. Every message is an 8-byte header (length) plus payload,
 * rounded up to 8 bytes, and never wraps: when a record does not fit
 * before the end of the ring a padding record fills the rest of the lap.
 * Hence the largest message is capacity/2 - 8 bytes (ibx_shmq_max_msg).
 *
 * Memory ordering (C11 atomics; x86 and arm64 both covered by it):
 *  - The producer writes header and payload with plain stores, then
 *    publishes with a release store of `head`. The consumer loads `head`
 *    with acquire, so everything before that store is visible to it.
 *  - The consumer reads the payload, then frees it with a release store of
 *    `tail`; the producer loads `tail` with acquire before reusing bytes,
 *    so the consumer's reads happen before the producer's overwrites.
 *  - Cached copies are plain process-local values: `tail` and `head` only
 *    grow (64-bit byte counts that never wrap in practice), so a stale copy
 *    is always a conservative under-estimate and safe to act on.
 *  - Waiting (spin, then futex) uses an event count per direction: a waiter
 *    increments `waiters` (seq_cst RMW), loads `seq` (acquire), re-checks
 *    the index, then FUTEX_WAITs on `seq`. A publisher stores the index,
 *    fences, and only if `waiters` is non-zero bumps `seq` and FUTEX_WAKEs.
 *    The two fences (Dekker) guarantee the publisher sees the waiter or the
 *    waiter sees the new index, so a wake is never lost and never issued
 *    when nobody sleeps. The fence is asymmetric where the kernel allows:
 *    processes register with membarrier(2) at attach, the publisher's
 *    fence is then only a compiler barrier and the waiter, just before it
 *    sleeps, runs membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which puts
 *    a full barrier into every running registered thread. The per-message
 *    cost stays off the fast path; an unregistered process fences itself.
 *
 * Peer death. Each attached role holds a robust process-shared mutex for
 * as long as it is attached; the kernel releases it with FUTEX_OWNER_DIED
 * when the holding thread exits (or the process dies or execs). A waiter
 * probes the peer's mutex with trylock whenever it is about to sleep and at
 * least every 20 ms while asleep, so a dead peer is reported instead of
 * waited on forever. Attach from a thread that outlives the queue's use.
 * Each role slot is single-use: a consumer, or a producer slot, that
 * detached or died cannot be re-attached.
 *
 * Errors: every function returns 0 (or a count) or a negative errno:
 *   -EAGAIN     try variant (timeout 0): nothing to receive / no room
 *   -ETIMEDOUT  the timeout passed
 *   -EPIPE      the peer detached (for the consumer: all producers
 *               detached and every message has been received)
 *   -EOWNERDEAD the peer died without detaching (again the consumer first
 *               receives every message committed before the death)
 *   -EMSGSIZE   message larger than ibx_shmq_max_msg(), or (recv) larger
 *               than the caller's buffer (the message stays queued)
 *   -EPROTO     the shared header or a record is corrupt
 *
 * A handle is used by one thread at a time. It may be created before fork
 * and attached in the child; an attached handle must not be used by a
 * forked child (map the queue afresh with ibx_shmq_from_fd instead). */
#ifndef IPCBOX_SHMQ_H
#define IPCBOX_SHMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* An attached (or attachable) mapping of one queue. */
typedef struct ibx_shmq ibx_shmq;

/* Creation flags. */
enum {
    IBX_SHMQ_MULTI_PRODUCER = 1u << 0,  /* up to IBX_SHMQ_MAX_PRODUCERS producers */
};

/* Producer slots in multi-producer mode. */
#define IBX_SHMQ_MAX_PRODUCERS 16

/* Smallest and largest ring capacity in bytes (rounded up to a power of
 * two). */
#define IBX_SHMQ_MIN_CAPACITY 4096u
#define IBX_SHMQ_MAX_CAPACITY (1ull << 32)

/* Roles for ibx_shmq_attach. */
enum ibx_shmq_role {
    IBX_SHMQ_CONSUMER = 1,
    IBX_SHMQ_PRODUCER = 2,
};

/* Create a queue with a ring of at least `capacity` bytes. name NULL makes
 * an anonymous memfd queue; otherwise name is a POSIX shared-memory name
 * ("/x", at most NAME_MAX bytes, no further '/') created exclusively with
 * permission bits mode (e.g. 0600). Returns 0 and *out, or -errno
 * (-EEXIST if the name exists, -EINVAL for a bad name, capacity or flag). */
int ibx_shmq_create(const char *name, size_t capacity, unsigned flags,
                    mode_t mode, ibx_shmq **out);

/* Map an existing named queue and validate its header. Returns 0, -ENOENT,
 * -EAGAIN if its creator has not finished initialising it, -EPROTO if the
 * object is not a compatible queue, or another -errno. */
int ibx_shmq_open(const char *name, ibx_shmq **out);

/* Map the queue behind fd (from ibx_shmq_fd, possibly received over a Unix
 * socket). The handle keeps its own duplicate; the caller still owns fd.
 * Same errors as ibx_shmq_open. */
int ibx_shmq_from_fd(int fd, ibx_shmq **out);

/* Remove a queue's name (existing mappings stay valid). 0 or -errno. */
int ibx_shmq_unlink(const char *name);

/* The descriptor behind the mapping (close-on-exec), to pass to another
 * process. Owned by the handle. */
int ibx_shmq_fd(const ibx_shmq *q);

/* Attach this thread as consumer or producer. Returns 0, -EBUSY if the
 * role (or, in multi-producer mode, every producer slot) is taken or was
 * used before, -EINVAL for an unknown role or if already attached. */
int ibx_shmq_attach(ibx_shmq *q, enum ibx_shmq_role role);

/* Detach (telling the peer, which then sees -EPIPE), unmap and free.
 * NULL is ignored. */
void ibx_shmq_close(ibx_shmq *q);

/* In a child forked while q was mapped (attached or not): unmap and free
 * this process's copy without detaching, so the parent keeps its role
 * and its peer sees nothing. NULL is ignored. */
void ibx_shmq_free_forked(ibx_shmq *q);

/* Ring capacity in bytes. */
size_t ibx_shmq_capacity(const ibx_shmq *q);
/* Largest message the queue accepts (capacity/2 - 8). */
size_t ibx_shmq_max_msg(const ibx_shmq *q);
/* True if created with IBX_SHMQ_MULTI_PRODUCER. */
bool ibx_shmq_is_multi_producer(const ibx_shmq *q);

/* Iterations of the busy-wait (with a CPU pause) before a blocking call
 * goes to sleep on the futex; 0 sleeps at once. Default 4096 (10 to 150
 * microseconds, depending on the CPU's pause). Process-local. */
void ibx_shmq_set_spin(ibx_shmq *q, unsigned iterations);

/* Timeouts below are in milliseconds: -1 waits for ever (but still
 * notices a dead peer), 0 never waits (-EAGAIN instead). */

/* Copy len bytes (0..max_msg) in as one message. Producer only. */
int ibx_shmq_send(ibx_shmq *q, const void *buf, size_t len, int timeout_ms);
/* ibx_shmq_send with timeout 0. */
int ibx_shmq_try_send(ibx_shmq *q, const void *buf, size_t len);

/* Receive one message into buf (cap bytes); *len gets its length. If the
 * message is larger than cap, returns -EMSGSIZE, sets *len to its size and
 * leaves it queued. Consumer only. */
int ibx_shmq_recv(ibx_shmq *q, void *buf, size_t cap, size_t *len,
                  int timeout_ms);
/* ibx_shmq_recv with timeout 0. */
int ibx_shmq_try_recv(ibx_shmq *q, void *buf, size_t cap, size_t *len);

/* Zero-copy send: reserve room for up to len bytes and get a pointer into
 * the ring; write the message there and publish it with ibx_shmq_commit
 * (which may shorten it). Nothing is visible to the consumer before commit.
 * In multi-producer mode the producer lock is held in between, so keep
 * the window short. */
int ibx_shmq_reserve(ibx_shmq *q, size_t len, void **buf, int timeout_ms);
/* Copy n bytes into a reserved message the way ibx_shmq_send does:
 * memcpy for small messages, non-temporal stores (straight to memory) for
 * large ones, so the consumer's core does not have to pull every line out
 * of ours. Safe for any dst/src alignment. */
void ibx_shmq_copy(void *dst, const void *src, size_t n);
/* Publish the reserved message with its final length (<= reserved). */
int ibx_shmq_commit(ibx_shmq *q, size_t len);

/* Zero-copy receive: point *buf at the next message in the ring and set
 * *len; the bytes stay valid until ibx_shmq_release. */
int ibx_shmq_peek(ibx_shmq *q, const void **buf, size_t *len, int timeout_ms);
/* Free the message returned by the last ibx_shmq_peek. */
int ibx_shmq_release(ibx_shmq *q);

#pragma GCC visibility pop

#endif
