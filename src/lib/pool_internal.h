/* Private state of the process pool (see include/ipcbox/pool.h).
 *
 * Files: pool.c (create, submit, next, close), pool_batch.c (batches out,
 * results in: the parent's bookkeeping), pool_wire.c (the record format,
 * pure), pool_wait.c (the doorbell and the caller's eventfd),
 * pool_super.c (the supervisor thread: spawning, deaths, shutdown),
 * pool_worker.c (the worker process), pool_map.c (ibx_pool_map).
 *
 * Locking: one mutex, p->mu, guards everything in struct ibx_pool below
 * except what is set once at creation. Every function named ibx__pool_*
 * that touches that state expects it held; waits release it. */
#ifndef IPCBOX_POOL_INTERNAL_H
#define IPCBOX_POOL_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcbox/buf.h"
#include "ipcbox/pool.h"
#include "ipcbox/shmq.h"

/* ---- the wire: records in the rings (pool_wire.c) --------------------- */

/* A ring record (task batch or result batch): this header, then `count`
 * entries, each an entry header and its bytes padded to 8. */
struct pool_rec_hdr {
    uint32_t count;
    uint32_t kind;          /* POOL_REC_TASKS or POOL_REC_RESULTS */
};
struct pool_ent_hdr {
    uint32_t len;
    int32_t word;           /* tasks: POOL_TASK_* flags; results: fn's code */
};
enum { POOL_REC_TASKS = 0x4b534154u, POOL_REC_RESULTS = 0x53455252u };
enum { POOL_TASK_RETRIED = 1 };     /* crashed a worker once already */

#define POOL_REC_HDR sizeof(struct pool_rec_hdr)
#define POOL_ENT_HDR sizeof(struct pool_ent_hdr)

/* Bytes an entry of len payload bytes takes. */
static inline size_t pool_ent_size(size_t len)
{
    return POOL_ENT_HDR + ((len + 7u) & ~(size_t)7u);
}

/* Walks a record's entries with bounds checks. */
struct pool_rec_iter {
    const unsigned char *rec;
    size_t len, off;
    uint32_t left;          /* entries not yet returned */
    size_t max_len;         /* largest entry payload accepted */
};
/* Start walking rec (len bytes) of the expected kind. 0 or -EPROTO. */
int ibx__pool_rec_begin(struct pool_rec_iter *it, const void *rec, size_t len,
                        uint32_t kind, size_t max_len);
/* Next entry: 1 and its payload, word and length; 0 at the end (every
 * byte used); -EPROTO for a malformed record. */
int ibx__pool_rec_next(struct pool_rec_iter *it, const void **data,
                       uint32_t *len, int32_t *word);
/* Append an entry at rec + *used (room checked by the caller). Returns a
 * pointer to its payload. */
void *ibx__pool_rec_put(unsigned char *rec, size_t *used, uint32_t len,
                        int32_t word);

/* ---- shared memory (MAP_SHARED, inherited by every worker) ------------ */

#define POOL_LINE 128

/* An event count: the caller's threads sleep on seq; a worker or thread
 * that makes progress bumps it and wakes them only if waiters != 0. */
struct pool_bell {
    _Atomic uint32_t seq;
    _Atomic uint32_t waiters;
};

struct pool_shared {
    alignas(POOL_LINE) struct pool_bell bell;
    alignas(POOL_LINE) _Atomic uint32_t armed;  /* write the eventfd on results */
};

/* One worker slot's own line: tasks it has begun (its current task, if
 * it dies, is number started - 1 of those it was given). */
struct pool_wshared {
    alignas(POOL_LINE) _Atomic uint64_t started;
};

/* ---- the parent ---------------------------------------------------------- */

/* A batch of tasks: the record as sent, and the tags (kept until every
 * result of the batch has come back, so a crash can resend it). */
struct pool_batch {
    unsigned char *data;    /* pool_rec_hdr + entries */
    size_t used;            /* bytes of data */
    uint64_t *tags;
    uint32_t n;             /* tasks */
    uint32_t done;          /* results received */
    struct pool_batch *next_free;
};

struct pool_worker {
    pid_t pid;              /* 0: no process */
    int pidfd;              /* -1 without pidfd_open */
    int status;             /* wait status once reaped */
    ibx_shmq *tq, *rq;      /* tasks out, results in (attached by the supervisor) */
    struct pool_batch **fly;    /* in-flight batches, a ring of qbatches */
    unsigned fly_head, fly_count;
    uint64_t sent;          /* tasks sent to this process */
    uint64_t returned;      /* results received from it */
    bool broken;            /* dead, or its output corrupt: supervisor's turn */
    bool corrupt;           /* its result ring is not to be read again */
    bool down;              /* no process (a respawn failed): retried */
};

/* Mark worker w broken and make sure its process dies (the supervisor's
 * pidfd then fires). Signals through the pidfd where there is one, so
 * that a pid reused after an early reap is never hit (pool_super.c). */
void ibx__pool_kill_worker(struct pool_worker *w);

/* ibx_pool_map's destination while it runs. */
struct pool_map_sink {
    unsigned char *results;
    size_t result_size;
    struct ibx_pool_result *info;
    size_t n;
    size_t done;
    long failed;
};

struct ibx_pool {
    /* set at creation, read-only afterwards */
    struct ibx_pool_config cfg;
    unsigned nworkers;
    size_t batch_bytes;     /* task record size */
    uint32_t batch_max;     /* tasks per batch */
    unsigned qbatches;      /* batches in flight per worker */
    size_t tq_cap, rq_cap;  /* ring capacities */
    size_t rec_bytes;       /* result record a worker reserves */
    struct pool_shared *sh;
    struct pool_wshared *wsh;
    size_t sh_size;
    int efd;                /* ibx_pool_fd */
    int sup_ep;             /* supervisor's epoll */
    int sup_wake;           /* eventfd: close() tells the supervisor */
    sigset_t mask;          /* the creator's signal mask, for workers */
    pthread_t sup;

    pthread_mutex_t mu;
    pthread_cond_t started_cv;  /* supervisor finished the first spawn */
    bool started;
    int start_err;

    struct pool_worker *w;
    struct pool_batch *batches; /* every batch, for freeing */
    struct pool_batch *free_batches;
    struct pool_batch *open;    /* being filled */
    unsigned rr;            /* round-robin start for worker choice */
    ibx_buf results;        /* delivered, not yet taken: pool_res entries */
    struct pool_map_sink *map;
    bool fd_used;
    bool closing;
    bool cancel;            /* close(CANCEL) */
    bool stop;              /* supervisor: shut down */
    struct ibx_pool_stats st;
};

/* A result waiting in p->results (then its bytes, padded to 8). */
struct pool_res {
    uint64_t tag;
    int32_t status;
    int32_t code;
    uint64_t len;
};

/* pool_batch.c */
/* Add a task to the open batch; -EAGAIN if it is full (send it first). */
int ibx__pool_append(ibx_pool *p, const void *task, size_t len, uint64_t tag,
                     int32_t flags);
/* Send the open batch to the least loaded worker with room. 0, or
 * -EAGAIN when no worker has room (or the batch is empty). */
int ibx__pool_send_open(ibx_pool *p);
/* Send a batch to worker i (its fly ring has room). 0 or -errno. */
int ibx__pool_send_to(ibx_pool *p, unsigned i, struct pool_batch *b);
/* True if some live worker has nothing in flight. */
bool ibx__pool_some_idle(const ibx_pool *p);
/* Collect every result published so far. Returns how many, or -ENOMEM. */
int ibx__pool_pump(ibx_pool *p);
/* Collect worker i's published results. Count, or -errno when its ring
 * says the worker is gone or corrupt (or -ENOMEM). */
int ibx__pool_pump_worker(ibx_pool *p, unsigned i);
/* Deliver one result (to the map running, or to p->results). */
int ibx__pool_deliver(ibx_pool *p, uint64_t tag, int status, int code,
                      const void *data, size_t len);
/* Tasks in flight in any worker, or in the open batch. */
bool ibx__pool_busy(const ibx_pool *p);

/* pool_wait.c */
/* Register as a sleeper; returns the sequence to sleep on. */
uint32_t ibx__pool_bell_arm(ibx_pool *p);
/* Unregister without sleeping. */
void ibx__pool_bell_disarm(ibx_pool *p);
/* Release p->mu, sleep until the bell rings or deadline_ns (0: none,
 * CLOCK_MONOTONIC), take p->mu, unregister. 0 or -ETIMEDOUT. */
int ibx__pool_bell_sleep(ibx_pool *p, uint32_t seq, int64_t deadline_ns);
/* Wake the sleepers, if any (a thread of the caller's process). */
void ibx__pool_bell_ring(ibx_pool *p);
/* A worker published results: ring the bell and the eventfd if armed. */
void ibx__pool_notify_results(struct pool_shared *sh, int efd);
/* Arm the eventfd (drains it first); ibx_pool_next then re-checks. */
void ibx__pool_fd_arm(ibx_pool *p);
/* Make the eventfd readable (a crash was handled). */
void ibx__pool_fd_kick(ibx_pool *p);
/* CLOCK_MONOTONIC now + ms (ms < 0: 0, meaning no deadline). */
int64_t ibx__pool_deadline(int timeout_ms);

/* pool_super.c */
/* Start the supervisor, which forks the workers. 0 or -errno. */
int ibx__pool_super_start(ibx_pool *p);
/* Tell the supervisor to stop (p->cancel says how) and join it. */
void ibx__pool_super_stop(ibx_pool *p);

/* pool_worker.c: the worker process's life; never returns. */
struct pool_child {
    const ibx_pool *p;
    unsigned index;
    ibx_shmq *tq, *rq;      /* mapped for the child, not attached */
};
_Noreturn void ibx__pool_worker_main(const struct pool_child *c);

#endif
