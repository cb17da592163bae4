/* Workers on threads of their own, for the thread models: a thread per
 * connection (model_thread.c) and pools of thread loops (model_threadpool.c,
 * model_reuseport.c). Each thread worker has a private loop; the main
 * thread posts commands to it through an atomic and the loop's wake. */
#include "server_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_thread_wake(ibx_loop *loop, void *data)
{
    ibx_worker *w = data;
    int cmd = atomic_load(&w->cmd);
    if (cmd == CMD_ABORT)
        ibx__worker_abort(w);
    else if (cmd == CMD_DRAIN)
        ibx__worker_drain(w);
}

static void *thread_main(void *arg)
{
    ibx_worker *w = arg;
    bool run = true;
    if (w->single) {
        const struct listener *l = w->from;
        int r = l->proto->open(w, w->conn_fd, (struct sockaddr *)&w->peer,
                               w->peerlen, l->ctx);
        if (r < 0) {
            ibx_warn(ibx_log_as(w->srv->cfg.log, l->proto->name, &(ibx_log){0}),
                     "msg=\"cannot serve a connection\" reason=%s", strerror(-r));
            run = false;
        }
    }
    if (run)
        ibx_loop_run(w->loop);
    atomic_store(&w->finished, true);
    ibx_loop_wake(w->srv->main.loop);
    return NULL;
}

static void thread_worker_free(ibx_worker *w)
{
    ibx_loop *loop = w->loop;
    ibx__worker_fini(w);
    ibx_loop_free(loop);
    free(w);
}

/* A worker with its own loop, ready for a thread. */
static int thread_worker_new(ibx_server *srv, ibx_worker **out)
{
    ibx_worker *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    ibx_loop *loop;
    int r = ibx_loop_new(&loop);
    if (r < 0) {
        free(w);
        return r;
    }
    r = ibx__worker_init(w, srv, loop);
    if (!r)
        r = ibx_loop_set_wake(loop, on_thread_wake, w);
    if (r < 0) {
        w->loop = loop;
        thread_worker_free(w);
        return r;
    }
    w->is_thread = true;
    *out = w;
    return 0;
}

static int thread_launch(ibx_server *srv, ibx_worker *w)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1u << 20);
    int r = pthread_create(&w->tid, &attr, thread_main, w);
    pthread_attr_destroy(&attr);
    if (r)
        return -r;
    w->next = srv->threads;
    srv->threads = w;
    srv->nthreads++;
    return 0;
}

int ibx__thread_spawn_conn(ibx_server *srv, int fd, const struct listener *l,
                           const struct sockaddr_storage *peer, socklen_t plen)
{
    ibx_worker *w;
    int r = thread_worker_new(srv, &w);
    if (r < 0) {
        close(fd);
        return r;
    }
    w->single = true;
    /* it never accepts: no spare descriptor for EMFILE shedding */
    if (w->spare >= 0) {
        close(w->spare);
        w->spare = -1;
    }
    w->conn_fd = fd;
    w->peer = *peer;
    w->peerlen = plen;
    w->from = l;
    r = thread_launch(srv, w);
    if (r < 0) {
        close(fd);
        thread_worker_free(w);
    }
    return r;
}

int ibx__threads_start_pool(ibx_server *srv,
                            int (*prepare)(ibx_server *srv, ibx_worker *w,
                                           unsigned i))
{
    unsigned n = srv->cfg.workers;
    for (unsigned i = 0; i < n; i++) {
        ibx_worker *w;
        int r = thread_worker_new(srv, &w);
        if (r < 0)
            return r;
        if (srv->cfg.max_conns)
            w->cap = (srv->cfg.max_conns + n - 1) / n;
        w->shared_lfd = true;
        if (prepare)
            r = prepare(srv, w, i);
        if (r >= 0)
            r = ibx__worker_listen(w);
        if (r >= 0)
            r = thread_launch(srv, w);
        if (r < 0) {
            thread_worker_free(w);
            return r;
        }
    }
    return 0;
}

void ibx__threads_command(ibx_server *srv, int cmd)
{
    for (ibx_worker *w = srv->threads; w; w = w->next) {
        int old = atomic_load(&w->cmd);
        if (old < cmd) {
            atomic_store(&w->cmd, cmd);
            ibx_loop_wake(w->loop);
        }
    }
}

void ibx__threads_reap(ibx_server *srv, bool wait_all)
{
    ibx_worker **pp = &srv->threads;
    while (*pp) {
        ibx_worker *w = *pp;
        if (wait_all || atomic_load(&w->finished)) {
            pthread_join(w->tid, NULL);
            *pp = w->next;
            srv->nthreads--;
            thread_worker_free(w);
        } else {
            pp = &w->next;
        }
    }
}
