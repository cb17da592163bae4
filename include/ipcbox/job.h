/* A blocking piece of work run off the event loop (like libuv's
 * uv_queue_work): on a thread of its own, then finished back on the loop
 * that started it, through an eventfd that loop watches. recv and tftpd
 * commit received files this way (fsync, rename), so that one client's
 * flush never stalls the other clients of the loop.
 *
 * The loop must not touch what the work uses until done() runs. While a
 * job runs its watcher keeps the loop alive, so a draining server waits
 * for it. */
#ifndef IPCBOX_JOB_H
#define IPCBOX_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ipcbox/loop.h"

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

struct ibx_job;
/* The work, on the job's thread: blocking calls are fine, the loop and
 * the logger are not (a log line's time formatting takes a libc lock that
 * a fork() in another thread could leave held). */
typedef void (*ibx_job_fn)(struct ibx_job *j);
/* Called on the loop once the work is over. */
typedef void (*ibx_job_done_fn)(ibx_loop *loop, struct ibx_job *j);

/* One job slot; reusable after done() ran. Zero-initialise with
 * ibx_job_init. */
struct ibx_job {
    ibx_io io;              /* completion eventfd on the owning loop */
    ibx_defer inline_done;  /* done() after work that ran inline */
    int efd;                /* the eventfd while running, else -1 */
    pthread_t tid;
    pid_t pid;              /* process that started the thread */
    bool running;           /* started and done() not yet called */
    bool threaded;          /* tid is to be joined */
    ibx_job_fn work;
    ibx_job_done_fn done;
    void *data;             /* free for the owner */
};

/* Prepare an idle job slot (no fd). */
void ibx_job_init(struct ibx_job *j);
/* Run work(j) on a new thread and done(loop, j) on loop afterwards. If no
 * thread or eventfd can be had, work runs inline and done follows on the
 * next pass of the loop: the job always completes, exactly once. The slot
 * must be idle. */
void ibx_job_start(struct ibx_job *j, ibx_loop *loop, ibx_job_fn work,
                   ibx_job_done_fn done, void *data);
/* True between ibx_job_start and the end of done(). */
static inline bool ibx_job_running(const struct ibx_job *j)
{
    return j->running;
}
/* Release the slot. A job still running in this process is first
 * waited for (a thread must never outlive what it uses); in a forked
 * child, which has no such thread, nothing is waited for. done() is not
 * called. */
void ibx_job_fini(struct ibx_job *j, ibx_loop *loop);

#pragma GCC visibility pop

#endif
