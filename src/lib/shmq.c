/* Shared-memory queue: the ring. Producer and consumer each own one index
 * and cache the other's; see include/ipcbox/shmq.h for the protocol and
 * its memory ordering. Every offset into the ring is computed from the
 * process-local capacity and every record read is bounds-checked, so a
 * corrupt or hostile peer can make us return -EPROTO but never make us
 * touch memory outside the mapping. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "shmq_internal.h"

static struct shmq_rec *rec_at(ibx_shmq *q, uint64_t pos)
{
    return (struct shmq_rec *)(q->data + (pos & q->mask));
}

/* ---- producer ---------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Room for a record ending at `end`? Refreshes the cached tail. */
static bool room_ready(ibx_shmq *q, uint64_t end)
{
    q->cached_tail = atomic_load_explicit(&q->sh->tail, memory_order_acquire);
    return end - q->cached_tail <= q->cap;
}

/* The consumer's slot state, read cheaply on every reserve: a consumer
 * that detached or is known dead makes sending pointless. */
static int consumer_gone(ibx_shmq *q)
{
    uint32_t st = atomic_load_explicit(&q->sh->consumer.state, memory_order_relaxed);
    if (st == SLOT_CLOSED)
        return -EPIPE;
    return st == SLOT_DEAD ? -EOWNERDEAD : 0;
}

/* Longest single sleep on the producer lock, ms (see producer_lock). */
#define PLOCK_SLICE_MS 20

static struct timespec ts_after(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Take the multi-producer lock, recovering it from a dead holder (whose
 * uncommitted record is simply gone: head only moves on commit).
 *
 * The wait is cut into slices: a robust mutex can lose a wake-up when the
 * waiter an unlock woke is killed before it takes the lock and another
 * producer takes the free lock uncontended meanwhile (the kernel's exit
 * handling wakes a replacement only while the lock is still free, and
 * the uncontended owner's unlock wakes nobody). The lock is then free
 * while the remaining waiters sleep; each retries after at most a slice.
 * The kill stress test hung about one round in a hundred without it. */
static int producer_lock(ibx_shmq *q, int timeout_ms)
{
    pthread_mutex_t *m = &q->sh->plock;
    int r;
    if (timeout_ms == 0) {
        r = pthread_mutex_trylock(m);
        if (r == EBUSY)
            return -EAGAIN;
    } else {
        int64_t end = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
        for (;;) {
            int slice = PLOCK_SLICE_MS;
            if (timeout_ms > 0) {
                int64_t left = end - now_ms();
                if (left <= 0) {
                    r = ETIMEDOUT;
                    break;
                }
                if (left < slice)
                    slice = (int)left;
            }
            struct timespec ts = ts_after(slice);
            r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
            if (r != ETIMEDOUT)
                break;
            int gone = ibx__shmq_peer_status(q);   /* a dead consumer ends the wait */
            if (gone < 0)
                return gone;
        }
    }
    if (r == EOWNERDEAD)
        r = pthread_mutex_consistent(m);
    if (r != 0)
        return -r;
    q->plocked = true;
    return 0;
}

static void producer_unlock(ibx_shmq *q)
{
    if (q->plocked) {
        q->plocked = false;
        pthread_mutex_unlock(&q->sh->plock);
    }
}

int ibx_shmq_reserve(ibx_shmq *q, size_t len, void **buf, int timeout_ms)
{
    if (q->role != IBX_SHMQ_PRODUCER || q->reserved)
        return -EINVAL;
    if (len > q->max_msg)
        return -EMSGSIZE;
    int r = consumer_gone(q);
    if (r < 0)
        return r;
    bool mp = q->flags & IBX_SHMQ_MULTI_PRODUCER;
    if (mp) {
        int64_t t0 = timeout_ms > 0 ? now_ms() : 0;
        r = producer_lock(q, timeout_ms);
        if (r < 0)
            return r;
        if (timeout_ms > 0) {   /* the wait for room gets what is left */
            int64_t left = timeout_ms - (now_ms() - t0);
            timeout_ms = left > 0 ? (int)left : 1;
        }
        /* the lock orders us after the previous holder's commit */
        q->head_local = atomic_load_explicit(&q->sh->head, memory_order_relaxed);
    }
    uint64_t pos = q->head_local;
    if (pos & 7) {      /* only a corrupt shared head is unaligned */
        producer_unlock(q);
        return -EPROTO;
    }
    uint64_t need = shmq_rec_size(len);
    uint64_t off = pos & q->mask;
    uint64_t pad = off + need > q->cap ? q->cap - off : 0;
    uint64_t end = pos + pad + need;
    if (end - q->cached_tail > q->cap && !room_ready(q, end)) {
        r = ibx__shmq_wait(q, &q->sh->space_ev, room_ready, end, timeout_ms);
        if (r < 0) {
            producer_unlock(q);
            return r;
        }
    }
    if (pad) {
        struct shmq_rec *p = rec_at(q, pos);
        p->len = 0;
        p->kind = SHMQ_REC_PAD;
        pos += pad;
    }
    q->reserved = true;
    q->res_pos = pos;
    q->res_len = len;
    *buf = (unsigned char *)rec_at(q, pos) + SHMQ_REC_HDR;
    return 0;
}

int ibx_shmq_commit(ibx_shmq *q, size_t len)
{
    if (!q->reserved || len > q->res_len)
        return -EINVAL;
    struct shmq_rec *h = rec_at(q, q->res_pos);
    h->len = (uint32_t)len;
    h->kind = SHMQ_REC_MSG;
    uint64_t end = q->res_pos + shmq_rec_size(len);
    /* release: header and payload become visible with the new head */
    atomic_store_explicit(&q->sh->head, end, memory_order_release);
    q->head_local = end;
    q->reserved = false;
    producer_unlock(q);
    ibx__shmq_notify(q, &q->sh->data_ev);
    return 0;
}

int ibx_shmq_send(ibx_shmq *q, const void *buf, size_t len, int timeout_ms)
{
    void *dst;
    int r = ibx_shmq_reserve(q, len, &dst, timeout_ms);
    if (r < 0)
        return r;
    if (len)
        ibx_shmq_copy(dst, buf, len);
    return ibx_shmq_commit(q, len);
}

int ibx_shmq_try_send(ibx_shmq *q, const void *buf, size_t len)
{
    return ibx_shmq_send(q, buf, len, 0);
}

/* ---- consumer ---------------------------------------------------------- */

/* Has the producer published beyond pos? Refreshes the cached head. */
static bool data_ready(ibx_shmq *q, uint64_t pos)
{
    q->cached_head = atomic_load_explicit(&q->sh->head, memory_order_acquire);
    return q->cached_head != pos;
}

int ibx_shmq_peek(ibx_shmq *q, const void **buf, size_t *len, int timeout_ms)
{
    if (q->role != IBX_SHMQ_CONSUMER)
        return -EINVAL;
    uint64_t pos = q->tail_local;
    if (q->peeked) {        /* peek again without release: same message */
        *buf = (const unsigned char *)rec_at(q, pos) + SHMQ_REC_HDR;
        *len = q->peek_len;     /* our copy: the shared one may change */
        return 0;
    }
    for (;;) {
        if (pos == q->cached_head && !data_ready(q, pos)) {
            int r = ibx__shmq_wait(q, &q->sh->data_ev, data_ready, pos, timeout_ms);
            if (r < 0)
                return r;
        }
        uint64_t avail = q->cached_head - pos;
        uint64_t off = pos & q->mask;
        if (avail > q->cap || avail < SHMQ_REC_HDR || (pos & 7))
            return -EPROTO;     /* records are 8-aligned: a header never wraps */
        const struct shmq_rec *h = rec_at(q, pos);
        if (h->kind == SHMQ_REC_PAD) {
            if (avail < q->cap - off)
                return -EPROTO;
            pos += q->cap - off;     /* skip to the next lap */
            q->tail_local = pos;
            continue;
        }
        uint32_t n = h->len;
        if (h->kind != SHMQ_REC_MSG || n > q->max_msg ||
            shmq_rec_size(n) > avail || off + shmq_rec_size(n) > q->cap)
            return -EPROTO;
        q->peeked = true;
        q->peek_end = pos + shmq_rec_size(n);
        q->peek_len = n;
        *buf = (const unsigned char *)h + SHMQ_REC_HDR;
        *len = n;
        return 0;
    }
}

int ibx_shmq_release(ibx_shmq *q)
{
    if (q->role != IBX_SHMQ_CONSUMER || !q->peeked)
        return -EINVAL;
    q->peeked = false;
    q->tail_local = q->peek_end;
    /* release: our reads of the payload happen before its reuse */
    atomic_store_explicit(&q->sh->tail, q->peek_end, memory_order_release);
    ibx__shmq_notify(q, &q->sh->space_ev);
    return 0;
}

int ibx_shmq_recv(ibx_shmq *q, void *buf, size_t cap, size_t *len,
                  int timeout_ms)
{
    const void *src;
    size_t n;
    int r = ibx_shmq_peek(q, &src, &n, timeout_ms);
    if (r < 0)
        return r;
    *len = n;
    if (n > cap)
        return -EMSGSIZE;   /* stays peeked: the next call sees it again */
    if (n)
        memcpy(buf, src, n);
    return ibx_shmq_release(q);
}

int ibx_shmq_try_recv(ibx_shmq *q, void *buf, size_t cap, size_t *len)
{
    return ibx_shmq_recv(q, buf, cap, len, 0);
}
