/* Process pool, the parent's side of the rings: tasks are appended to the
 * open batch, a full (or flushed) batch is copied into the task ring of
 * the least loaded worker and kept, with its tags, in that worker's
 * in-flight ring until every one of its results is back. Results come
 * back in the order the worker got the tasks, so the n-th result from a
 * worker belongs to the n-th task sent to it: no tag travels. */
#include <errno.h>
#include <string.h>

#include "pool_internal.h"

int ibx__pool_append(ibx_pool *p, const void *task, size_t len, uint64_t tag,
                     int32_t flags)
{
    struct pool_batch *b = p->open;
    if (b->n >= p->batch_max || pool_ent_size(len) > p->batch_bytes - b->used)
        return -EAGAIN;
    void *dst = ibx__pool_rec_put(b->data, &b->used, (uint32_t)len, flags);
    if (len)
        memcpy(dst, task, len);
    b->tags[b->n++] = tag;
    return 0;
}

bool ibx__pool_some_idle(const ibx_pool *p)
{
    for (unsigned i = 0; i < p->nworkers; i++) {
        const struct pool_worker *w = &p->w[i];
        if (w->fly_count == 0 && w->pid > 0 && !w->broken)
            return true;
    }
    return false;
}

bool ibx__pool_busy(const ibx_pool *p)
{
    if (p->open->n)
        return true;
    for (unsigned i = 0; i < p->nworkers; i++)
        if (p->w[i].fly_count)
            return true;
    return false;
}

int ibx__pool_send_to(ibx_pool *p, unsigned i, struct pool_batch *b)
{
    struct pool_worker *w = &p->w[i];
    struct pool_rec_hdr h = {b->n, POOL_REC_TASKS};
    memcpy(b->data, &h, sizeof h);
    int r = ibx_shmq_send(w->tq, b->data, b->used, -1);
    if (r < 0) {
        /* the worker is gone: its supervisor will resend what it had */
        ibx__pool_kill_worker(w);
        return r;
    }
    w->fly[(w->fly_head + w->fly_count) % p->qbatches] = b;
    w->fly_count++;
    w->sent += b->n;
    p->st.batches++;
    return 0;
}

/* The live worker with the fewest batches in flight and room for one
 * more, starting the search after the last one chosen. -1 if none. */
static int pick_worker(ibx_pool *p)
{
    int best = -1;
    unsigned best_count = p->qbatches;
    for (unsigned k = 0; k < p->nworkers; k++) {
        unsigned i = (p->rr + 1 + k) % p->nworkers;
        struct pool_worker *w = &p->w[i];
        if (w->pid <= 0 || w->broken || w->fly_count >= best_count)
            continue;
        best = (int)i;
        best_count = w->fly_count;
        if (best_count == 0)
            break;
    }
    return best;
}

int ibx__pool_send_open(ibx_pool *p)
{
    struct pool_batch *b = p->open;
    if (b->n == 0)
        return -EAGAIN;
    for (;;) {
        int i = pick_worker(p);
        if (i < 0)
            return -EAGAIN;
        p->rr = (unsigned)i;
        if (ibx__pool_send_to(p, (unsigned)i, b) == 0)
            break;
    }
    struct pool_batch *nb = p->free_batches;     /* never empty: see pool.c */
    p->free_batches = nb->next_free;
    nb->n = nb->done = 0;
    nb->used = POOL_REC_HDR;
    p->open = nb;
    return 0;
}

int ibx__pool_deliver(ibx_pool *p, uint64_t tag, int status, int code,
                      const void *data, size_t len)
{
    p->st.completed++;
    struct pool_map_sink *m = p->map;
    if (m) {
        if (tag >= m->n)
            return 0;       /* cannot happen: map's tags are its indices */
        if (!m->results) {
            /* results dropped: only the status counts */
        } else if (len > m->result_size) {
            status = IBX_POOL_FAILED;
            code = -EMSGSIZE;
            len = 0;
            memset(m->results + tag * m->result_size, 0, m->result_size);
        } else {
            unsigned char *slot = m->results + tag * m->result_size;
            if (len)
                memcpy(slot, data, len);
            if (len < m->result_size)
                memset(slot + len, 0, m->result_size - len);
        }
        if (m->info)
            m->info[tag] = (struct ibx_pool_result){tag, status, code, len};
        if (status != IBX_POOL_OK)
            m->failed++;
        m->done++;
        return 0;
    }
    struct pool_res r = {tag, status, code, len};
    size_t need = sizeof r + ((len + 7u) & ~(size_t)7u);
    int e = ibx_buf_reserve(&p->results, need);
    if (e < 0)
        return e;
    char *at = ibx_buf_tail(&p->results);
    memcpy(at, &r, sizeof r);
    if (len)
        memcpy(at + sizeof r, data, len);
    ibx_buf_commit(&p->results, need);
    return 0;
}

/* The worker's output cannot be trusted any more: stop reading it, and
 * kill it so that the supervisor replaces it. */
static int corrupt(struct pool_worker *w)
{
    w->corrupt = true;
    ibx__pool_kill_worker(w);
    return -EPROTO;
}

/* Hand out the results of one record. */
static int take_record(ibx_pool *p, struct pool_worker *w, const void *rec,
                       size_t len)
{
    struct pool_rec_iter it;
    if (ibx__pool_rec_begin(&it, rec, len, POOL_REC_RESULTS, p->cfg.max_result) < 0)
        return corrupt(w);
    int n = 0;
    const void *data;
    uint32_t dlen;
    int32_t code;
    int r;
    while ((r = ibx__pool_rec_next(&it, &data, &dlen, &code)) == 1) {
        if (w->fly_count == 0)
            return corrupt(w);  /* more results than tasks */
        struct pool_batch *b = w->fly[w->fly_head];
        uint64_t tag = b->tags[b->done++];
        w->returned++;
        r = ibx__pool_deliver(p, tag, code ? IBX_POOL_FAILED : IBX_POOL_OK,
                              code, data, dlen);
        if (r < 0)
            return r;       /* only before anything of the record went */
        n++;
        if (b->done == b->n) {
            w->fly_head = (w->fly_head + 1) % p->qbatches;
            w->fly_count--;
            b->next_free = p->free_batches;
            p->free_batches = b;
        }
    }
    return r < 0 ? corrupt(w) : n;
}

int ibx__pool_pump_worker(ibx_pool *p, unsigned i)
{
    struct pool_worker *w = &p->w[i];
    int total = 0;
    if (w->corrupt || !w->rq)
        return -EPROTO;
    for (;;) {
        const void *rec;
        size_t len;
        int r = ibx_shmq_peek(w->rq, &rec, &len, 0);
        if (r == -EAGAIN)
            return total;
        if (r < 0) {
            ibx__pool_kill_worker(w);
            return r;
        }
        /* room for every entry before taking any: a record goes whole */
        if (!p->map) {
            r = ibx_buf_reserve(&p->results, 3 * len + 64);
            if (r < 0)
                return r;
        }
        r = take_record(p, w, rec, len);
        ibx_shmq_release(w->rq);
        if (r < 0)
            return r;
        total += r;
    }
}

int ibx__pool_pump(ibx_pool *p)
{
    int total = 0;
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct pool_worker *w = &p->w[i];
        if (w->pid <= 0 || w->broken)
            continue;
        int r = ibx__pool_pump_worker(p, i);
        if (r == -ENOMEM)
            return r;
        if (r > 0)
            total += r;
    }
    if (total)
        ibx__pool_bell_ring(p);
    return total;
}
