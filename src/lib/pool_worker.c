/* Process pool: a worker process. It takes one task record at a time from
 * its task ring (zero-copy: the record stays in the ring while it runs),
 * runs fn over each task with the result written straight into a record
 * reserved in its result ring, and publishes results one record at a
 * time: when the record is full, and when the batch is done. Before each
 * task it counts it in its shared line (`started`), so that the parent
 * knows, if the worker dies, which task it was running.
 *
 * The batch's task record is released before its last results are
 * published: once the parent has every result of a batch, the batch's
 * room in the ring is free, so the parent never finds the ring full.
 *
 * It leaves with _exit: never through the caller's atexit handlers or
 * stdio buffers (and never through a sanitizer's exit-time leak check of
 * the caller's memory, which it shares copy-on-write). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pool_internal.h"

/* Exit statuses of a worker that gave up (seen as a crash by the parent,
 * whose tasks are then resent). */
enum { WORKER_EXIT_OK = 0, WORKER_EXIT_ATTACH = 120, WORKER_EXIT_RING = 121,
       WORKER_EXIT_PROTO = 122 };

struct out {
    ibx_shmq *rq;
    unsigned char *rec;     /* reserved result record, or NULL */
    size_t used;
    uint32_t count;
    size_t cap;             /* p->rec_bytes */
    const struct ibx_pool *p;
};

static void publish(struct out *o)
{
    struct pool_rec_hdr h = {o->count, POOL_REC_RESULTS};
    memcpy(o->rec, &h, sizeof h);
    if (ibx_shmq_commit(o->rq, o->used) < 0)
        _exit(WORKER_EXIT_RING);
    o->rec = NULL;
    ibx__pool_notify_results(o->p->sh, o->p->efd);
}

/* Room in the result record for one more result of any size. */
static void *result_slot(struct out *o)
{
    size_t need = pool_ent_size(o->p->cfg.max_result);
    if (o->rec && o->cap - o->used < need)
        publish(o);
    if (!o->rec) {
        void *buf;
        int r = ibx_shmq_reserve(o->rq, o->cap, &buf, -1);
        if (r < 0)      /* the parent is gone (-EPIPE, -EOWNERDEAD) */
            _exit(r == -EPIPE ? WORKER_EXIT_OK : WORKER_EXIT_RING);
        o->rec = buf;
        o->used = POOL_REC_HDR;
        o->count = 0;
    }
    return o->rec + o->used + POOL_ENT_HDR;
}

_Noreturn void ibx__pool_worker_main(const struct pool_child *c)
{
    const ibx_pool *p = c->p;
    pthread_sigmask(SIG_SETMASK, &p->mask, NULL);
    if (ibx_shmq_attach(c->tq, IBX_SHMQ_CONSUMER) < 0 ||
        ibx_shmq_attach(c->rq, IBX_SHMQ_PRODUCER) < 0)
        _exit(WORKER_EXIT_ATTACH);
    _Atomic uint64_t *started = &p->wsh[c->index].started;
    uint64_t nstarted = 0;
    struct out o = {.rq = c->rq, .cap = p->rec_bytes, .p = p};
    const size_t max_result = p->cfg.max_result;
    for (;;) {
        const void *rec;
        size_t len;
        int r = ibx_shmq_peek(c->tq, &rec, &len, -1);
        if (r == -EPIPE)        /* closed: every task done */
            break;
        if (r < 0)
            _exit(r == -EOWNERDEAD ? WORKER_EXIT_OK : WORKER_EXIT_RING);
        struct pool_rec_iter it;
        if (ibx__pool_rec_begin(&it, rec, len, POOL_REC_TASKS, p->cfg.max_task) < 0)
            _exit(WORKER_EXIT_PROTO);
        const void *task;
        uint32_t tlen;
        int32_t flags;
        while ((r = ibx__pool_rec_next(&it, &task, &tlen, &flags)) == 1) {
            void *res = result_slot(&o);
            atomic_store_explicit(started, ++nstarted, memory_order_relaxed);
            size_t rlen = 0;
            int code = p->cfg.fn(task, tlen, res, max_result, &rlen, p->cfg.arg);
            if (rlen > max_result) {
                code = -EMSGSIZE;
                rlen = 0;
            }
            ibx__pool_rec_put(o.rec, &o.used, (uint32_t)rlen, code);
            o.count++;
        }
        if (r < 0)
            _exit(WORKER_EXIT_PROTO);
        ibx_shmq_release(c->tq);
        if (o.rec)
            publish(&o);
    }
    ibx_shmq_close(c->rq);
    ibx_shmq_close(c->tq);
    _exit(WORKER_EXIT_OK);
}
