/* Process pool: the supervisor thread. It forks the workers, waits on a
 * pidfd per worker (or polls every 20 ms where pidfd_open is missing),
 * replaces a worker that died and settles the tasks it held (see
 * include/ipcbox/pool.h, "Crashes"), and at close stops and reaps them.
 *
 * Why a thread: shmq reports a peer's death through a robust mutex each
 * side holds while attached, and a robust mutex belongs to a thread. The
 * parent's side of every ring is attached (and closed) here, by a thread
 * that lives exactly as long as the pool, so a caller's thread that ends
 * never looks like a dead pool to the workers; the caller's threads use
 * the rings (under p->mu) but never attach or close them. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool_internal.h"

#define POLL_MS 20          /* death polling without pidfds */
#define RESPAWN_MS 1000     /* retry of a failed fork */
/* A worker's busy-wait before it sleeps on its task ring (shmq's default
 * is 4096). Workers outnumber spare cores as soon as the caller is busy
 * too (2 workers and the caller on 2 CPUs): a long spin takes the CPU
 * from the caller that would give it work. Measured with
 * bench/poolbench.c on 2 CPUs: 4096 halved the tasks/s of 64 to 1024. */
#define WORKER_SPIN 256

static int pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* SIGKILL to w's process, by pidfd if it has one. */
static void kill_process(struct pool_worker *w)
{
#ifdef SYS_pidfd_send_signal
    if (w->pidfd >= 0 && syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0) == 0)
        return;
#endif
    if (w->pid > 0)
        kill(w->pid, SIGKILL);
}

void ibx__pool_kill_worker(struct pool_worker *w)
{
    w->broken = true;
    kill_process(w);
}

/* Copy a batch record into w's task ring. */
static int ring_send(struct pool_worker *w, struct pool_batch *b)
{
    struct pool_rec_hdr h = {b->n, POOL_REC_TASKS};
    memcpy(b->data, &h, sizeof h);
    return ibx_shmq_send(w->tq, b->data, b->used, -1);
}

static void close_rings(struct pool_worker *w)
{
    ibx_shmq_close(w->tq);
    ibx_shmq_close(w->rq);
    w->tq = w->rq = NULL;
}

/* Start a process for slot i: fresh rings (a ring's roles are single
 * use), attached here, the child's own mappings made before fork so the
 * child allocates nothing before it runs. Then resend the batches the
 * slot holds (a dead predecessor's, settled by settle()). */
static int spawn(ibx_pool *p, unsigned i)
{
    struct pool_worker *w = &p->w[i];
    ibx_shmq *tq = NULL, *rq = NULL, *ctq = NULL, *crq = NULL;
    int r = ibx_shmq_create(NULL, p->tq_cap, 0, 0600, &tq);
    if (r == 0)
        r = ibx_shmq_create(NULL, p->rq_cap, 0, 0600, &rq);
    if (r == 0)
        r = ibx_shmq_from_fd(ibx_shmq_fd(tq), &ctq);
    if (r == 0)
        r = ibx_shmq_from_fd(ibx_shmq_fd(rq), &crq);
    if (r == 0)
        r = ibx_shmq_attach(tq, IBX_SHMQ_PRODUCER);
    if (r == 0)
        r = ibx_shmq_attach(rq, IBX_SHMQ_CONSUMER);
    pid_t pid = -1;
    if (r == 0) {
        ibx_shmq_set_spin(ctq, WORKER_SPIN);
        ibx_shmq_set_spin(crq, WORKER_SPIN);
        atomic_store(&p->wsh[i].started, 0);
        pid = fork();
        if (pid == 0) {
            struct pool_child c = {p, i, ctq, crq};
            ibx__pool_worker_main(&c);
        }
        if (pid < 0)
            r = -errno;
    }
    ibx_shmq_close(ctq);    /* the child's, never attached here */
    ibx_shmq_close(crq);
    if (r < 0) {
        ibx_shmq_close(tq);
        ibx_shmq_close(rq);
        return r;
    }
    w->pid = pid;
    w->status = 0;
    w->tq = tq;
    w->rq = rq;
    w->sent = w->returned = 0;
    w->broken = w->corrupt = w->down = false;
    w->pidfd = pidfd_open(pid);
    if (w->pidfd >= 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i + 1};
        if (epoll_ctl(p->sup_ep, EPOLL_CTL_ADD, w->pidfd, &ev) < 0) {
            close(w->pidfd);
            w->pidfd = -1;
        }
    }
    for (unsigned k = 0; k < w->fly_count; k++) {
        struct pool_batch *b = w->fly[(w->fly_head + k) % p->qbatches];
        if (ring_send(w, b) < 0) {
            ibx__pool_kill_worker(w);  /* died already: settled again */
            break;
        }
        w->sent += b->n;
        p->st.batches++;
    }
    return 0;
}

/* Reap slot i's process (it is dead or dying: SIGKILL makes sure). */
static void reap(ibx_pool *p, struct pool_worker *w)
{
    int st = -1;
    kill_process(w);
    while (waitpid(w->pid, &st, 0) < 0) {
        if (errno != EINTR) {   /* reaped by someone else: status unknown */
            st = -1;
            break;
        }
    }
    w->status = st;
    w->pid = 0;
    if (w->pidfd >= 0) {
        epoll_ctl(p->sup_ep, EPOLL_CTL_DEL, w->pidfd, NULL);
        close(w->pidfd);
        w->pidfd = -1;
    }
}

/* Rewrite one in-flight batch of a dead worker in place: drop what came
 * back and the task that crashed it (reported, unless it is to be
 * retried); `seq` numbers the worker's tasks in the order it got them. */
static void settle_batch(ibx_pool *p, struct pool_batch *b, uint64_t *seq,
                         uint64_t culprit, int status)
{
    struct pool_rec_iter it;
    size_t used = POOL_REC_HDR;
    uint32_t n = 0, k = 0;
    const void *data;
    uint32_t len;
    int32_t flags;
    if (ibx__pool_rec_begin(&it, b->data, b->used, POOL_REC_TASKS, p->cfg.max_task) < 0)
        return;     /* cannot happen: our own record */
    for (; ibx__pool_rec_next(&it, &data, &len, &flags) == 1; k++) {
        if (k < b->done)
            continue;
        uint64_t tag = b->tags[k];
        if ((*seq)++ == culprit) {
            if (!p->cfg.retry_on_crash || (flags & POOL_TASK_RETRIED)) {
                ibx__pool_deliver(p, tag, IBX_POOL_CRASHED, status, NULL, 0);
                continue;
            }
            flags |= POOL_TASK_RETRIED;
            p->st.retried++;
        }
        unsigned char *ent = (unsigned char *)data - POOL_ENT_HDR;
        memmove(b->data + used, ent, pool_ent_size(len));
        struct pool_ent_hdr h = {len, flags};
        memcpy(b->data + used, &h, sizeof h);
        used += pool_ent_size(len);
        b->tags[n++] = tag;
    }
    b->n = n;
    b->done = 0;
    b->used = used;
}

static void reverse(struct pool_batch **a, unsigned from, unsigned to)
{
    while (from + 1 < to) {
        struct pool_batch *t = a[from];
        a[from++] = a[--to];
        a[to] = t;
    }
}

/* Rotate the ring a[0..n) so that a[head] comes first, in place. */
static void rotate_to_front(struct pool_batch **a, unsigned n, unsigned head)
{
    reverse(a, 0, head);
    reverse(a, head, n);
    reverse(a, 0, n);
}

/* Slot i's process died: collect what it published, settle its tasks,
 * start another (or mark the slot down, retried later). */
static void handle_death(ibx_pool *p, unsigned i)
{
    struct pool_worker *w = &p->w[i];
    reap(p, w);
    p->st.crashes++;
    if (!w->corrupt)
        while (ibx__pool_pump_worker(p, i) > 0)
            ;
    uint64_t started = atomic_load(&p->wsh[i].started);
    uint64_t seq = w->returned;
    uint64_t culprit = started > seq ? started - 1 : UINT64_MAX;
    rotate_to_front(w->fly, p->qbatches, w->fly_head);
    w->fly_head = 0;
    unsigned kept = 0;
    for (unsigned k = 0; k < w->fly_count; k++) {
        struct pool_batch *b = w->fly[k];
        settle_batch(p, b, &seq, culprit, w->status);
        if (b->n) {
            w->fly[kept++] = b;     /* kept <= k: in-place compaction */
        } else {
            b->next_free = p->free_batches;
            p->free_batches = b;
        }
    }
    w->fly_count = kept;
    close_rings(w);
    if (spawn(p, i) == 0)
        p->st.respawns++;
    else
        w->down = true;
    ibx__pool_bell_ring(p);
    ibx__pool_fd_kick(p);
}

/* Is slot i's process gone? (Polled: pidfds only say "look".) */
static bool exited(struct pool_worker *w)
{
    if (w->pid <= 0)
        return false;
    siginfo_t si;
    si.si_pid = 0;
    if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
        return errno == ECHILD;
    return si.si_pid != 0;
}

/* Stop every worker and reap it; close every ring. */
static void shutdown_all(ibx_pool *p)
{
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct pool_worker *w = &p->w[i];
        if (p->cancel)
            kill_process(w);
        ibx_shmq_close(w->tq);  /* the worker sees -EPIPE once idle */
        w->tq = NULL;
    }
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct pool_worker *w = &p->w[i];
        if (w->pid > 0) {
            int st;
            while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
                ;
            w->pid = 0;
        }
        if (w->pidfd >= 0)
            close(w->pidfd);
        w->pidfd = -1;
        close_rings(w);
    }
}

static void *super_main(void *arg)
{
    ibx_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    int r = 0;
    for (unsigned i = 0; i < p->nworkers && r == 0; i++)
        r = spawn(p, i);
    p->start_err = r;
    p->started = true;
    pthread_cond_broadcast(&p->started_cv);
    while (r == 0 && !p->stop) {
        bool poll = false;
        for (unsigned i = 0; i < p->nworkers; i++)
            poll |= p->w[i].pidfd < 0;
        bool down = false;
        for (unsigned i = 0; i < p->nworkers; i++)
            down |= p->w[i].down;
        pthread_mutex_unlock(&p->mu);
        struct epoll_event ev[8];
        epoll_wait(p->sup_ep, ev, 8, down ? RESPAWN_MS : poll ? POLL_MS : -1);
        uint64_t v;
        ssize_t n = read(p->sup_wake, &v, sizeof v);    /* non-blocking */
        (void)n;
        pthread_mutex_lock(&p->mu);
        if (p->stop)
            break;
        for (unsigned i = 0; i < p->nworkers; i++) {
            struct pool_worker *w = &p->w[i];
            if (exited(w))
                handle_death(p, i);
            else if (w->down && spawn(p, i) == 0)
                p->st.respawns++;
        }
    }
    shutdown_all(p);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int ibx__pool_super_start(ibx_pool *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread blocks them all */
    int r = pthread_create(&p->sup, NULL, super_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return -r;
    pthread_mutex_lock(&p->mu);
    while (!p->started)
        pthread_cond_wait(&p->started_cv, &p->mu);
    r = p->start_err;
    pthread_mutex_unlock(&p->mu);
    if (r < 0)
        pthread_join(p->sup, NULL);
    return r;
}

void ibx__pool_super_stop(ibx_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    uint64_t one = 1;
    ssize_t n = write(p->sup_wake, &one, sizeof one);
    (void)n;
    pthread_join(p->sup, NULL);
}
