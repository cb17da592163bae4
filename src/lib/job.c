/* Blocking work on a thread, finished on the loop (see job.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipcbox/job.h"

/* Thread stack: the work is a few system calls. */
#define JOB_STACK (256u * 1024)

void ibx_job_init(struct ibx_job *j)
{
    memset(j, 0, sizeof *j);
    j->efd = -1;
    j->io.fd = -1;
}

static void *job_main(void *arg)
{
    struct ibx_job *j = arg;
    j->work(j);
    uint64_t one = 1;
    ssize_t r;
    do
        r = write(j->efd, &one, sizeof one);
    while (r < 0 && errno == EINTR);
    return NULL;
}

/* Finish on the loop: join, then done(). */
static void job_complete(ibx_loop *loop, struct ibx_job *j)
{
    if (j->threaded)
        pthread_join(j->tid, NULL);   /* also orders the thread's writes */
    j->threaded = false;
    if (j->efd >= 0) {
        /* no fd held between jobs: an idle connection costs one fd */
        close(j->efd);
        j->efd = -1;
    }
    j->running = false;
    j->done(loop, j);
}

static void on_job_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct ibx_job *j = io->data;
    uint64_t v;
    (void)events;
    if (read(j->efd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;   /* spurious: the thread has not finished */
    ibx_io_stop(loop, io);
    job_complete(loop, j);
}

static void on_inline_done(ibx_loop *loop, ibx_defer *d)
{
    job_complete(loop, d->data);
}

/* Start the thread with every signal blocked: signals belong to the
 * loops (signalfd), never to a worker thread. */
static int job_spawn(struct ibx_job *j)
{
    pthread_attr_t attr;
    sigset_t all, old;
    if (pthread_attr_init(&attr))
        return -ENOMEM;
    pthread_attr_setstacksize(&attr, JOB_STACK);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&j->tid, &attr, job_main, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return -r;
}

void ibx_job_start(struct ibx_job *j, ibx_loop *loop, ibx_job_fn work,
                   ibx_job_done_fn done, void *data)
{
    j->work = work;
    j->done = done;
    j->data = data;
    j->running = true;
    j->threaded = false;
    if (j->efd < 0)
        j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);   /* closed at the end */
    if (j->efd >= 0 && ibx_io_start(loop, &j->io, j->efd, IBX_EV_READ, on_job_io, j) == 0) {
        j->pid = getpid();
        if (job_spawn(j) == 0) {
            j->threaded = true;
            return;
        }
        ibx_io_stop(loop, &j->io);
    }
    /* no thread to be had: block this once rather than fail the work */
    work(j);
    ibx_loop_defer(loop, &j->inline_done, on_inline_done, j);
}

void ibx_job_fini(struct ibx_job *j, ibx_loop *loop)
{
    if (j->threaded && j->pid == getpid())
        pthread_join(j->tid, NULL);
    j->threaded = false;
    j->running = false;
    if (loop && j->io.active)
        ibx_io_stop(loop, &j->io);
    if (j->efd >= 0)
        close(j->efd);
    j->efd = -1;
}
