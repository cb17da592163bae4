/* Process pool: creation, submission, results, close (the API of
 * include/ipcbox/pool.h; the machinery is in the other pool_*.c files,
 * listed in pool_internal.h).
 *
 * Batches: every worker has qbatches slots of in-flight batches, and one
 * batch is open (being filled), so nworkers * qbatches + 1 batches exist
 * and the free list is never empty when the open batch is sent (a
 * worker's slot was free for it). Sizes: a batch record is batch_bytes;
 * a task ring holds qbatches + 1 of them (the +1 covers the padding a
 * ring puts before a record that would wrap), so sending never waits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pool_internal.h"

#define DEFAULT_MAX     4096u
#define DEFAULT_QUEUE   (64u << 10)
#define MIN_RECORD      (16u << 10)

static size_t pow2_at_least(size_t n)
{
    size_t c = IBX_SHMQ_MIN_CAPACITY;
    while (c < n)
        c <<= 1;
    return c;
}

/* Fill in defaults and derived sizes. -EINVAL for what cannot work. */
static int configure(ibx_pool *p, const struct ibx_pool_config *cfg)
{
    struct ibx_pool_config c = *cfg;
    if (!c.fn)
        return -EINVAL;
    if (c.workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c.workers = n < 1 ? 1 : n > IBX_POOL_MAX_WORKERS ? IBX_POOL_MAX_WORKERS : (unsigned)n;
    }
    if (c.max_task == 0)
        c.max_task = DEFAULT_MAX;
    if (c.max_result == 0)
        c.max_result = DEFAULT_MAX;
    if (c.queue_bytes == 0)
        c.queue_bytes = DEFAULT_QUEUE;
    if (c.workers > IBX_POOL_MAX_WORKERS || c.max_task > IBX_POOL_MAX_TASK ||
        c.max_result > IBX_POOL_MAX_TASK || c.queue_bytes > IBX_POOL_MAX_QUEUE)
        return -EINVAL;
    p->cfg = c;
    p->nworkers = c.workers;
    p->batch_bytes = POOL_REC_HDR + pool_ent_size(c.max_task);
    if (p->batch_bytes < MIN_RECORD)
        p->batch_bytes = MIN_RECORD;
    size_t fit = (p->batch_bytes - POOL_REC_HDR) / POOL_ENT_HDR;
    p->batch_max = (uint32_t)(c.batch && c.batch < fit ? c.batch : fit);
    p->qbatches = (unsigned)(c.queue_bytes / p->batch_bytes);
    if (p->qbatches < 2)
        p->qbatches = 2;
    p->tq_cap = pow2_at_least((p->qbatches + 1) * (p->batch_bytes + 16));
    p->rec_bytes = POOL_REC_HDR + pool_ent_size(c.max_result);
    if (p->rec_bytes < MIN_RECORD)
        p->rec_bytes = MIN_RECORD;
    p->rq_cap = pow2_at_least(4 * p->rec_bytes);
    return 0;
}

static void free_pool(ibx_pool *p)
{
    if (p->batches) {
        size_t nb = (size_t)p->nworkers * p->qbatches + 1;
        for (size_t i = 0; i < nb; i++) {
            free(p->batches[i].data);
            free(p->batches[i].tags);
        }
        free(p->batches);
    }
    if (p->w)
        for (unsigned i = 0; i < p->nworkers; i++)
            free(p->w[i].fly);
    free(p->w);
    ibx_buf_free(&p->results);
    if (p->sh)
        munmap(p->sh, p->sh_size);
    if (p->efd >= 0)
        close(p->efd);
    if (p->sup_ep >= 0)
        close(p->sup_ep);
    if (p->sup_wake >= 0)
        close(p->sup_wake);
    pthread_cond_destroy(&p->started_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static int alloc_state(ibx_pool *p)
{
    size_t nb = (size_t)p->nworkers * p->qbatches + 1;
    p->batches = calloc(nb, sizeof *p->batches);
    p->w = calloc(p->nworkers, sizeof *p->w);
    if (!p->batches || !p->w)
        return -ENOMEM;
    for (size_t i = 0; i < nb; i++) {
        struct pool_batch *b = &p->batches[i];
        b->data = malloc(p->batch_bytes);
        b->tags = malloc(p->batch_max * sizeof *b->tags);
        if (!b->data || !b->tags)
            return -ENOMEM;
        b->used = POOL_REC_HDR;
        b->next_free = i ? &p->batches[i - 1] : NULL;
    }
    p->open = &p->batches[nb - 1];
    p->open->next_free = NULL;
    p->free_batches = nb > 1 ? &p->batches[nb - 2] : NULL;
    for (unsigned i = 0; i < p->nworkers; i++) {
        p->w[i].pidfd = -1;
        p->w[i].fly = calloc(p->qbatches, sizeof *p->w[i].fly);
        if (!p->w[i].fly)
            return -ENOMEM;
    }
    p->sh_size = sizeof(struct pool_shared) + p->nworkers * sizeof(struct pool_wshared);
    void *m = mmap(NULL, p->sh_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    p->sh = m;
    p->wsh = (struct pool_wshared *)((char *)m + sizeof(struct pool_shared));
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->sup_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->sup_ep = epoll_create1(EPOLL_CLOEXEC);
    if (p->efd < 0 || p->sup_wake < 0 || p->sup_ep < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    if (epoll_ctl(p->sup_ep, EPOLL_CTL_ADD, p->sup_wake, &ev) < 0)
        return -errno;
    return 0;
}

int ibx_pool_new(ibx_pool **out, const struct ibx_pool_config *cfg)
{
    if (!out || !cfg)
        return -EINVAL;
    ibx_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->efd = p->sup_ep = p->sup_wake = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->started_cv, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &p->mask);
    int r = configure(p, cfg);
    if (r == 0)
        r = alloc_state(p);
    if (r == 0)
        r = ibx__pool_super_start(p);
    if (r < 0) {
        free_pool(p);
        return r;
    }
    p->st.workers = p->nworkers;
    *out = p;
    return 0;
}

/* Add one task, sending batches as they fill; waits (timeout_ms) while
 * every worker is full. */
static int submit(ibx_pool *p, const void *task, size_t len, uint64_t tag,
                  int timeout_ms)
{
    if (!p)
        return -EINVAL;
    if (len > p->cfg.max_task)
        return -EMSGSIZE;
    if (len && !task)
        return -EINVAL;
    pthread_mutex_lock(&p->mu);
    int r = p->closing ? -EPIPE : p->map ? -EBUSY : 0;
    int64_t deadline = 0;
    while (r == 0 && ibx__pool_append(p, task, len, tag, 0) < 0) {
        if (ibx__pool_send_open(p) == 0)
            continue;
        r = ibx__pool_pump(p);
        if (r < 0)
            break;
        if (r > 0 || ibx__pool_send_open(p) == 0) {
            r = 0;
            continue;
        }
        if (timeout_ms == 0) {
            r = -EAGAIN;
            break;
        }
        if (!deadline)
            deadline = ibx__pool_deadline(timeout_ms);
        uint32_t seq = ibx__pool_bell_arm(p);
        if (ibx__pool_pump(p) != 0) {
            ibx__pool_bell_disarm(p);
            continue;
        }
        r = ibx__pool_bell_sleep(p, seq, deadline);
        if (!r && (p->closing || p->map))
            r = p->closing ? -EPIPE : -EBUSY;
    }
    if (r == 0) {
        p->st.submitted++;
        p->st.pending++;
        /* full, or a worker would otherwise sit idle: send it now */
        if (p->open->n >= p->batch_max || ibx__pool_some_idle(p))
            ibx__pool_send_open(p);
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

int ibx_pool_submit(ibx_pool *p, const void *task, size_t len, uint64_t tag)
{
    return submit(p, task, len, tag, -1);
}

int ibx_pool_try_submit(ibx_pool *p, const void *task, size_t len, uint64_t tag)
{
    return submit(p, task, len, tag, 0);
}

int ibx_pool_flush(ibx_pool *p)
{
    if (!p)
        return -EINVAL;
    pthread_mutex_lock(&p->mu);
    ibx__pool_send_open(p);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

/* Take the first collected result, if any: 1, 0 (none), -EMSGSIZE. */
static int pop_result(ibx_pool *p, struct ibx_pool_result *res, void *buf,
                      size_t cap)
{
    if (ibx_buf_used(&p->results) == 0)
        return 0;
    struct pool_res r;
    const char *at = ibx_buf_head(&p->results);
    memcpy(&r, at, sizeof r);
    *res = (struct ibx_pool_result){r.tag, r.status, r.code, (size_t)r.len};
    if (r.len > cap)
        return -EMSGSIZE;
    if (r.len)
        memcpy(buf, at + sizeof r, (size_t)r.len);
    ibx_buf_consume(&p->results, sizeof r + (((size_t)r.len + 7u) & ~(size_t)7u));
    p->st.pending--;
    return 1;
}

int ibx_pool_next(ibx_pool *p, struct ibx_pool_result *res, void *buf,
                  size_t cap, int timeout_ms)
{
    if (!p || !res)
        return -EINVAL;
    pthread_mutex_lock(&p->mu);
    int64_t deadline = 0;
    int r;
    for (;;) {
        r = pop_result(p, res, buf, cap);
        if (r != 0)
            break;
        ibx__pool_send_open(p);
        r = ibx__pool_pump(p);
        if (r < 0)
            break;
        if (r > 0)
            continue;
        if (p->st.pending == 0) {
            r = -ENOENT;
            break;
        }
        if (timeout_ms == 0) {
            if (p->fd_used) {
                ibx__pool_fd_arm(p);
                if (ibx__pool_pump(p) > 0)
                    continue;
            }
            r = -EAGAIN;
            break;
        }
        if (!deadline)
            deadline = ibx__pool_deadline(timeout_ms);
        uint32_t seq = ibx__pool_bell_arm(p);
        if (ibx_buf_used(&p->results) || ibx__pool_pump(p) != 0) {
            ibx__pool_bell_disarm(p);
            continue;
        }
        r = ibx__pool_bell_sleep(p, seq, deadline);
        if (r < 0)
            break;
    }
    pthread_mutex_unlock(&p->mu);
    return r > 0 ? 0 : r;
}

int ibx_pool_fd(ibx_pool *p)
{
    if (!p)
        return -EINVAL;
    pthread_mutex_lock(&p->mu);
    p->fd_used = true;
    pthread_mutex_unlock(&p->mu);
    return p->efd;
}

void ibx_pool_stats(ibx_pool *p, struct ibx_pool_stats *st)
{
    if (!st)
        return;
    if (!p) {
        memset(st, 0, sizeof *st);
        return;
    }
    pthread_mutex_lock(&p->mu);
    *st = p->st;
    pthread_mutex_unlock(&p->mu);
}

/* Wait until every task sent or being filled has its result back. */
static void drain(ibx_pool *p)
{
    while (ibx__pool_busy(p)) {
        ibx_buf_reset(&p->results);     /* dropped: nobody will take them */
        ibx__pool_send_open(p);
        uint32_t seq = ibx__pool_bell_arm(p);
        if (ibx__pool_pump(p) != 0) {
            ibx__pool_bell_disarm(p);
            continue;
        }
        if (!ibx__pool_busy(p)) {
            ibx__pool_bell_disarm(p);
            break;
        }
        ibx__pool_bell_sleep(p, seq, 0);
    }
}

int ibx_pool_close(ibx_pool *p, enum ibx_pool_close_how how)
{
    if (!p)
        return 0;
    if (how != IBX_POOL_DRAIN && how != IBX_POOL_CANCEL)
        return -EINVAL;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    p->cancel = how == IBX_POOL_CANCEL;
    if (!p->cancel)
        drain(p);
    ibx__pool_bell_ring(p);     /* any waiter left: -EPIPE */
    pthread_mutex_unlock(&p->mu);
    ibx__pool_super_stop(p);
    free_pool(p);
    return 0;
}
