/* Process pool: waiting for progress. The caller's threads sleep on one
 * event count (struct pool_bell) in the pool's shared page; whoever makes
 * progress a sleeper may be waiting for (a worker that published results,
 * a thread that collected some, the supervisor after a crash) bumps seq
 * and FUTEX_WAKEs, only when `waiters` is non-zero, so the fast path
 * costs a fence and a load per result record.
 *
 * No lost wake-up (Dekker): a sleeper raises `waiters` and fences, then
 * re-checks its condition (collecting results, which loads the rings'
 * heads) and sleeps only if seq has not moved. A worker stores its ring's
 * head (shmq commit), fences, then loads `waiters`. One of the two sees
 * the other's store. A thread of the caller's process holds p->mu when it
 * rings, and a sleeper releases p->mu only after reading seq, so a ring
 * between the re-check and the futex call changes seq and the futex call
 * returns at once.
 *
 * The eventfd (ibx_pool_fd) works the same way with the `armed` word:
 * ibx_pool_next arms it when it finds nothing, then re-checks; the first
 * worker to publish afterwards disarms it and writes the eventfd. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pool_internal.h"

static void futex_wait(_Atomic uint32_t *addr, uint32_t val,
                       const struct timespec *rel)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, val, rel, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ibx__pool_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? 0 : now_ns() + (int64_t)timeout_ms * 1000000;
}

uint32_t ibx__pool_bell_arm(ibx_pool *p)
{
    struct pool_bell *b = &p->sh->bell;
    atomic_fetch_add_explicit(&b->waiters, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(&b->seq, memory_order_acquire);
}

void ibx__pool_bell_disarm(ibx_pool *p)
{
    atomic_fetch_sub_explicit(&p->sh->bell.waiters, 1, memory_order_relaxed);
}

int ibx__pool_bell_sleep(ibx_pool *p, uint32_t seq, int64_t deadline_ns)
{
    struct pool_bell *b = &p->sh->bell;
    struct timespec rel, *prel = NULL;
    int r = 0;
    if (deadline_ns) {
        int64_t left = deadline_ns - now_ns();
        if (left <= 0)
            r = -ETIMEDOUT;
        rel.tv_sec = left / 1000000000;
        rel.tv_nsec = left % 1000000000;
        prel = &rel;
    }
    if (r == 0) {
        pthread_mutex_unlock(&p->mu);
        futex_wait(&b->seq, seq, prel);
        pthread_mutex_lock(&p->mu);
    }
    ibx__pool_bell_disarm(p);
    return r;
}

static void ring(struct pool_bell *b)
{
    if (atomic_load_explicit(&b->waiters, memory_order_relaxed) != 0) {
        atomic_fetch_add_explicit(&b->seq, 1, memory_order_release);
        futex_wake(&b->seq);
    }
}

void ibx__pool_bell_ring(ibx_pool *p)
{
    atomic_thread_fence(memory_order_seq_cst);
    ring(&p->sh->bell);
}

static void efd_write(int efd)
{
    uint64_t one = 1;
    ssize_t n = write(efd, &one, sizeof one);
    (void)n;    /* EAGAIN: the counter is already non-zero, readable */
}

void ibx__pool_notify_results(struct pool_shared *sh, int efd)
{
    atomic_thread_fence(memory_order_seq_cst);
    ring(&sh->bell);
    if (atomic_load_explicit(&sh->armed, memory_order_relaxed) &&
        atomic_exchange_explicit(&sh->armed, 0, memory_order_acq_rel))
        efd_write(efd);
}

void ibx__pool_fd_arm(ibx_pool *p)
{
    uint64_t v;
    ssize_t n = read(p->efd, &v, sizeof v);    /* non-blocking: drain */
    (void)n;
    atomic_store_explicit(&p->sh->armed, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
}

void ibx__pool_fd_kick(ibx_pool *p)
{
    if (p->fd_used)
        efd_write(p->efd);
}
