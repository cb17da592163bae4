/* ipcbox process pool: N pre-forked worker processes run one C function
 * over tasks, the producer-consumer pattern over shared memory.
 *
 * The caller submits tasks (opaque bytes, each with a 64-bit tag of the
 * caller's choosing); a worker process runs fn over each and its result
 * comes back, tagged, through ibx_pool_next (as completed) or
 * ibx_pool_map (an array in, an array out, in order).
 *
 * Transport. Each worker has two shared-memory rings of its own
 * (ipcbox/shmq.h, single producer, lock-free): tasks in, results out.
 * Tasks are packed many to one ring record (a batch) and results many to
 * one record, so a record costs its ring operations once for hundreds of
 * tasks. A batch being filled is sent when it is full, when some worker
 * has nothing in flight, or when the caller waits (ibx_pool_next,
 * ibx_pool_map, ibx_pool_close) or calls ibx_pool_flush. A caller that
 * waits sleeps on a futex in a shared page that a worker rings after
 * publishing results, only if somebody sleeps there.
 *
 * Bounds and backpressure. Each worker has at most queue_bytes of tasks
 * in flight (sent and not all answered); when every worker is full and
 * the batch being filled is full, ibx_pool_submit waits and
 * ibx_pool_try_submit fails with -EAGAIN. Results a worker publishes are
 * moved into the caller's process as soon as the pool is called, so a
 * caller that submits without collecting results never blocks the
 * workers; the results wait in memory until ibx_pool_next takes them.
 *
 * Crashes. A supervisor thread of the pool waits on a pidfd per worker.
 * When a worker dies (a signal, exit, or corrupt output that gets it
 * killed) its published results are collected, the worker is replaced by
 * a new process, and of the tasks it had been given:
 *  - the task it was running is reported IBX_POOL_CRASHED (code: the wait
 *    status), or, with retry_on_crash, run once more (a second crash of
 *    the same task reports it crashed);
 *  - tasks it had not started are sent to the replacement;
 *  - tasks it had finished whose results it had not yet published (they
 *    go out once per result record) run again on the replacement.
 * So every submitted task yields exactly one result, and a task runs
 * more than once only next to a crash.
 *
 * Processes and threads. Workers are forked from the supervisor thread
 * (at ibx_pool_new, and to replace one that died): they are copies of the
 * caller with its memory and descriptors as they are at that moment, and
 * run fn with the signal mask the creating thread had; they leave with
 * _exit, so atexit handlers and stdio buffers of the caller do not run in
 * them; fn runs on that thread's stack (the default pthread stack size).
 *
 * Locks and replacements. fork copies only the forking thread: a lock
 * another thread of the caller holds at that instant stays locked for
 * ever in the child. The first workers are forked inside ibx_pool_new,
 * but a REPLACEMENT is forked when a worker dies, at any moment, while
 * the caller's other threads run. If fn (or anything it calls: malloc
 * aside, which glibc makes fork-safe; stdio FILEs, loggers, caches, a
 * library's internal mutex) takes a lock that a caller thread may hold,
 * a replacement can deadlock on its first task, and ibx_pool_next then
 * waits for that task for ever (use a timeout). So either keep fn free
 * of locks the caller's threads take (work on the task and result
 * buffers and on state set up before ibx_pool_new), or let no worker
 * die (fn does not crash), or run the pool in a single-threaded process.
 * Creating the pool before starting threads protects the first workers
 * only. (Forking replacements from a helper process made at
 * ibx_pool_new would lift this; it is not done yet.) A
 * worker whose owner dies exits when its current task is done (within
 * 20 ms when idle). Do not reap the pool's children yourself
 * (waitpid(-1, ...)).
 *
 * Every call except ibx_pool_close may come from several threads at once
 * (one mutex). A pool belongs to the process that created it: a child it
 * forks must not use the pool (nor close it). Functions return 0 (or a count) or a negative errno; the
 * library never exits the calling process. */
#ifndef IPCBOX_POOL_H
#define IPCBOX_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* A pool of worker processes (opaque). */
typedef struct ibx_pool ibx_pool;

/* The work, run in a worker process: read len bytes of task, write at
 * most cap bytes of result to result (cap is the pool's max_result) and
 * set *rlen (0 before the call). Return 0 for success or any other value
 * for a failure the caller sees as IBX_POOL_FAILED with that code (the
 * result bytes still travel). arg is the configuration's arg, as it was
 * in the caller when the worker was forked. */
typedef int (*ibx_pool_fn)(const void *task, size_t len, void *result,
                           size_t cap, size_t *rlen, void *arg);

/* Pool configuration. Zero-initialise, set fn, then what differs from
 * the defaults. */
struct ibx_pool_config {
    ibx_pool_fn fn;         /* required */
    void *arg;              /* passed to fn */
    unsigned workers;       /* worker processes, 1..IBX_POOL_MAX_WORKERS;
                             * 0: the online CPUs */
    size_t max_task;        /* largest task in bytes; 0: 4096 */
    size_t max_result;      /* largest result in bytes; 0: 4096 */
    size_t queue_bytes;     /* tasks in flight per worker, in bytes (at
                             * least two batches); 0: 64 KiB */
    unsigned batch;         /* most tasks per batch; 0: as many as fit in
                             * a batch (16 KiB, or more for large tasks).
                             * A batch runs on one worker: for tasks that
                             * take long and vary (files to hash), set 1,
                             * or big batches load the workers unevenly
                             * (Python's chunksize trade-off) */
    bool retry_on_crash;    /* run a task whose worker crashed once more */
};

/* Most worker processes, and largest max_task / max_result / queue_bytes. */
#define IBX_POOL_MAX_WORKERS 256
#define IBX_POOL_MAX_TASK    (16u << 20)
#define IBX_POOL_MAX_QUEUE   (256u << 20)

/* Outcome of one task (ibx_pool_result.status). */
enum ibx_pool_status {
    IBX_POOL_OK = 0,        /* fn returned 0 */
    IBX_POOL_FAILED = 1,    /* fn returned code != 0 */
    IBX_POOL_CRASHED = 2,   /* its worker died running it; code is the
                             * wait status (WIFSIGNALED, WTERMSIG ...),
                             * or -1 if it could not be had */
};

/* One result, as ibx_pool_next returns it (the bytes go to the caller's
 * buffer) or ibx_pool_map fills it per task. */
struct ibx_pool_result {
    uint64_t tag;           /* the tag the task was submitted with */
    int status;             /* enum ibx_pool_status */
    int code;               /* fn's return value, or the wait status */
    size_t len;             /* result bytes */
};

/* Counters since ibx_pool_new (ibx_pool_stats). */
struct ibx_pool_stats {
    unsigned workers;       /* worker processes */
    uint64_t submitted;     /* tasks accepted (map's included) */
    uint64_t completed;     /* results delivered (map's included) */
    uint64_t pending;       /* submitted, result not yet taken by next */
    uint64_t batches;       /* task records sent to workers */
    uint64_t crashes;       /* workers that died */
    uint64_t respawns;      /* workers started to replace them */
    uint64_t retried;       /* tasks run again after crashing a worker */
};

/* How ibx_pool_close ends. */
enum ibx_pool_close_how {
    IBX_POOL_DRAIN = 0,     /* run every submitted task, then stop the
                             * workers (results not taken are dropped) */
    IBX_POOL_CANCEL = 1,    /* kill the workers now (SIGKILL); queued and
                             * running tasks are dropped */
};

/* Start a pool: validate cfg, start the supervisor thread, fork the
 * workers. Returns 0 and *out, -EINVAL for a bad configuration, or the
 * -errno of what failed (fork, memfd, mmap, pthread_create). */
int ibx_pool_new(ibx_pool **out, const struct ibx_pool_config *cfg);

/* Submit one task of len bytes (0..max_task) with the caller's tag;
 * waits while the pool is full. Returns 0, -EMSGSIZE (too large), -EBUSY
 * (an ibx_pool_map is running), -EPIPE (the pool is closing), -EINVAL
 * (p NULL, or task NULL with len > 0). */
int ibx_pool_submit(ibx_pool *p, const void *task, size_t len, uint64_t tag);

/* ibx_pool_submit that never waits: -EAGAIN when the pool is full. */
int ibx_pool_try_submit(ibx_pool *p, const void *task, size_t len,
                        uint64_t tag);

/* Send the batch being filled now, if a worker has room for it (else it
 * goes when one has). Call after a burst of submissions when nothing
 * else will wait for their results soon (an event loop). Returns 0, or
 * -EINVAL for a NULL p. */
int ibx_pool_flush(ibx_pool *p);

/* Take one result, as tasks complete (in no particular order): fills
 * *res and copies res->len bytes to buf. Waits up to timeout_ms (-1: no
 * limit, 0: not at all). Sends the batch being filled first. Returns 0;
 * -EAGAIN (timeout 0) or -ETIMEDOUT when none came; -ENOENT when no
 * submitted task is outstanding (nothing to wait for); -EMSGSIZE if the
 * result is larger than cap (res->len tells its size; it stays queued);
 * -EINVAL for a NULL p or res. */
int ibx_pool_next(ibx_pool *p, struct ibx_pool_result *res, void *buf,
                  size_t cap, int timeout_ms);

/* Run fn over n tasks of task_size bytes each, laid out in tasks, and
 * write the result of task i to results + i * result_size (at most
 * result_size bytes; the rest of the slot is zeroed; a longer result
 * makes the task IBX_POOL_FAILED with code -EMSGSIZE; results NULL drops
 * them, for tasks run for their side effects). info, if not
 * NULL, gets one ibx_pool_result per task (tag = index). Waits until all
 * are done. Needs the pool to itself: -EBUSY if tasks or results of
 * ibx_pool_submit are outstanding or another map runs. Returns the
 * number of tasks that did not end IBX_POOL_OK, or -EMSGSIZE (task_size
 * > max_task), -EPIPE (closing), -EINVAL. */
long ibx_pool_map(ibx_pool *p, const void *tasks, size_t task_size, size_t n,
                  void *results, size_t result_size,
                  struct ibx_pool_result *info);

/* A descriptor (eventfd) for the caller's event loop: after
 * ibx_pool_next returned -EAGAIN it becomes readable when a result may
 * be there (call ibx_pool_next until -EAGAIN again; the pool reads the
 * descriptor itself). Owned by the pool. -EINVAL for a NULL p. */
int ibx_pool_fd(ibx_pool *p);

/* Copy the pool's counters to *st (zeros for a NULL p; nothing for a
 * NULL st). */
void ibx_pool_stats(ibx_pool *p, struct ibx_pool_stats *st);

/* Stop the pool (how: drain or cancel), reap every worker, join the
 * supervisor and free everything. Call from one thread, once no other
 * thread uses the pool. NULL is ignored. Returns 0, or -EINVAL for an
 * unknown how (nothing is done then). */
int ibx_pool_close(ibx_pool *p, enum ibx_pool_close_how how);

#pragma GCC visibility pop

#endif
