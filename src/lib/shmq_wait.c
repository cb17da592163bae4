/* Shared-memory queue: waiting. Spin first (the peer is usually on
 * another core and answers within microseconds), then sleep on a futex in
 * the shared mapping. While asleep the waiter wakes at least every
 * SLICE_MS to probe the peer's robust mutex, so a peer that died is noticed
 * even though a dead process never wakes anybody.
 *
 * Publisher and sleeper need a store-load fence each (Dekker): the
 * publisher between storing the index and reading `waiters`, the sleeper
 * between raising `waiters` and re-reading the index. The publisher runs
 * once per message, the sleeper only before a futex sleep, so the fence is
 * made asymmetric: a process registered with membarrier(2) publishes with
 * a compiler barrier only, and a sleeper issues
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which makes every running
 * thread of every registered process execute a full barrier before it
 * returns (a thread that is not running has passed one by being switched
 * out). Either the publisher's index store is then visible to the
 * sleeper's re-check, or the publisher's later load of `waiters` sees the
 * sleeper. A process that could not register fences itself on every
 * publish; a sleeper whose membarrier call fails falls back to its own
 * fence and sleeps in 1 ms slices, bounding the delay a registered
 * publisher's missed wake could cause. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shmq_internal.h"

#define SLICE_MS 20
#define SLICE_MS_NO_MEMBARRIER 1

#ifndef MEMBARRIER_CMD_GLOBAL_EXPEDITED
#define MEMBARRIER_CMD_GLOBAL_EXPEDITED (1 << 1)
#define MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (1 << 2)
#endif

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* FUTEX_WAIT (shared, not private: the word is in a shared mapping). */
static void futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, val, &ts, NULL, 0);
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

bool ibx__shmq_asym_register(void)
{
#ifdef SYS_membarrier
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
#else
    return false;
#endif
}

/* The sleeper's half of the asymmetric fence. True if it was issued. */
static bool heavy_barrier(void)
{
#ifdef SYS_membarrier
    return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
#else
    return false;
#endif
}

void ibx__shmq_notify(ibx_shmq *q, struct shmq_event *ev)
{
    /* Either we see the sleeper's flag, or its re-check sees what we
     * published (see the top of this file). */
    if (q->asym)
        atomic_signal_fence(memory_order_seq_cst);
    else
        atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ev->waiters, memory_order_relaxed) != 0) {
        atomic_fetch_add_explicit(&ev->seq, 1, memory_order_release);
        futex_wake(&ev->seq);
    }
}

void ibx__shmq_wake_all(struct shmq_event *ev)
{
    atomic_fetch_add_explicit(&ev->seq, 1, memory_order_seq_cst);
    futex_wake(&ev->seq);
}

/* Probe one attached slot. Returns SLOT_ATTACHED while its holder lives,
 * else the slot's final state (SLOT_CLOSED or SLOT_DEAD). */
static uint32_t probe_slot(ibx_shmq *q, struct shmq_slot *s)
{
    uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (st != SLOT_ATTACHED || s == q->slot)
        return st;
    int r = pthread_mutex_trylock(&s->lock);
    if (r == EBUSY)
        return SLOT_ATTACHED;
    if (r == EOWNERDEAD) {
        /* The holder died: record it once, for every other waiter too. */
        uint32_t exp = SLOT_ATTACHED;
        atomic_compare_exchange_strong(&s->state, &exp, SLOT_DEAD);
        pthread_mutex_consistent(&s->lock);
        pthread_mutex_unlock(&s->lock);
        ibx__shmq_wake_all(&q->sh->data_ev);
        ibx__shmq_wake_all(&q->sh->space_ev);
        return atomic_load(&s->state);
    }
    if (r == 0)     /* it detached between our two loads */
        pthread_mutex_unlock(&s->lock);
    /* ENOTRECOVERABLE or a detach race: the state word has the answer. */
    st = atomic_load_explicit(&s->state, memory_order_acquire);
    return st == SLOT_ATTACHED ? SLOT_DEAD : st;
}

int ibx__shmq_peer_status(ibx_shmq *q)
{
    struct shmq_shared *sh = q->sh;
    if (q->role == IBX_SHMQ_PRODUCER) {
        uint32_t st = probe_slot(q, &sh->consumer);
        if (st == SLOT_CLOSED)
            return -EPIPE;
        return st == SLOT_DEAD ? -EOWNERDEAD : 0;
    }
    bool any_used = false, any_dead = false;
    for (unsigned i = 0; i < q->nslots; i++) {
        uint32_t st = probe_slot(q, &sh->producers[i]);
        if (st == SLOT_ATTACHED)
            return 0;
        if (st != SLOT_FREE)
            any_used = true;
        if (st == SLOT_DEAD)
            any_dead = true;
    }
    if (!any_used)
        return 0;   /* no producer yet: wait for one */
    return any_dead ? -EOWNERDEAD : -EPIPE;
}

/* One check of ready() and of the peer, for a caller that will not wait:
 * 0 ready, the peer's error if it is gone, else -EAGAIN. */
static int check_once(ibx_shmq *q, shmq_ready_fn ready, uint64_t arg)
{
    if (ready(q, arg))
        return 0;
    int r = ibx__shmq_peer_status(q);
    if (r < 0)  /* whatever the peer published before leaving still counts */
        return ready(q, arg) ? 0 : r;
    return -EAGAIN;
}

int ibx__shmq_wait(ibx_shmq *q, struct shmq_event *ev, shmq_ready_fn ready,
                   uint64_t arg, int timeout_ms)
{
    if (timeout_ms == 0)
        return check_once(q, ready, arg);
    for (unsigned i = 0; i < q->spin; i++) {
        if (ready(q, arg))
            return 0;
        cpu_relax();
    }
    int64_t deadline = timeout_ms > 0 ? now_ns() + (int64_t)timeout_ms * 1000000 : 0;
    for (;;) {
        /* Flag ourselves, then re-check: see ibx__shmq_notify. */
        atomic_fetch_add_explicit(&ev->waiters, 1, memory_order_seq_cst);
        int64_t slice = (int64_t)SLICE_MS * 1000000;
        if (!heavy_barrier())
            slice = (int64_t)SLICE_MS_NO_MEMBARRIER * 1000000;
        uint32_t seq = atomic_load_explicit(&ev->seq, memory_order_acquire);
        int r = check_once(q, ready, arg);
        if (r == -EAGAIN && timeout_ms > 0) {
            int64_t left = deadline - now_ns();
            if (left <= 0)
                r = -ETIMEDOUT;
            else if (left < slice)
                slice = left;
        }
        if (r == -EAGAIN)
            futex_wait(&ev->seq, seq, slice);
        atomic_fetch_sub_explicit(&ev->waiters, 1, memory_order_relaxed);
        if (r != -EAGAIN)
            return r;
    }
}
