/* Server models, the spawners: a thread per connection, a pool of thread
 * loops (threadpool, reuseport), a process per connection (fork) and a pool
 * of process loops (prefork). See ipcbox/server.h for the models. */
#include "server_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- threads ------------------------------------------------------------- */

static void on_thread_wake(ibx_loop *loop, void *data)
{
    ibx_worker *w = data;
    int cmd = atomic_load(&w->cmd);
    if (cmd == CMD_ABORT)
        worker_abort(w);
    else if (cmd == CMD_DRAIN)
        worker_drain(w);
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
    worker_fini(w);
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
    r = worker_init(w, srv, loop);
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

int thread_spawn_conn(ibx_server *srv, int fd, const struct listener *l,
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

int threads_start_pool(ibx_server *srv)
{
    bool reuseport = srv->cfg.model == IBX_MODEL_REUSEPORT;
    unsigned n = srv->cfg.workers;
    for (unsigned i = 0; i < n; i++) {
        ibx_worker *w;
        int r = thread_worker_new(srv, &w);
        if (r < 0)
            return r;
        if (srv->cfg.max_conns)
            w->cap = (srv->cfg.max_conns + n - 1) / n;
        if (reuseport && i > 0) {
            /* each further loop binds its own socket in the group */
            w->own_lfd = true;
            for (size_t k = 0; k < srv->nls; k++)
                w->lfd[k] = -1;
            for (size_t k = 0; k < srv->nls && r >= 0; k++) {
                r = ibx_tcp_listen(&srv->ls[k].addr, srv->cfg.backlog,
                                   IBX_LISTEN_REUSEPORT);
                if (r >= 0) {
                    w->lfd[k] = r;
                    listener_tune(r, srv->ls[k].proto);
                }
            }
        }
        if (r >= 0)
            r = worker_listen(w);
        if (r >= 0)
            r = thread_launch(srv, w);
        if (r < 0) {
            thread_worker_free(w);
            return r;
        }
    }
    return 0;
}

void threads_command(ibx_server *srv, int cmd)
{
    for (ibx_worker *w = srv->threads; w; w = w->next) {
        int old = atomic_load(&w->cmd);
        if (old < cmd) {
            atomic_store(&w->cmd, cmd);
            ibx_loop_wake(w->loop);
        }
    }
}

void threads_reap(ibx_server *srv, bool wait_all)
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

/* ---- processes ----------------------------------------------------------- */

static int kid_add(ibx_server *srv, pid_t pid)
{
    if (srv->nkids == srv->capkids) {
        size_t cap = srv->capkids ? srv->capkids * 2 : 16;
        pid_t *k = realloc(srv->kids, cap * sizeof *k);
        if (!k)
            return -ENOMEM;
        srv->kids = k;
        srv->capkids = cap;
    }
    srv->kids[srv->nkids++] = pid;
    return 0;
}

void kids_signal(ibx_server *srv, int sig)
{
    for (size_t i = 0; i < srv->nkids; i++)
        kill(srv->kids[i], sig);
}

void kids_reap(ibx_server *srv)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < srv->nkids; i++)
            if (srv->kids[i] == pid) {
                srv->kids[i] = srv->kids[--srv->nkids];
                break;
            }
        if (WIFSIGNALED(st) && !srv->stopping)
            ibx_warn(srv->cfg.log, "msg=\"child killed\" child=%ld reason=%s",
                     (long)pid, strsignal(WTERMSIG(st)));
        else if (WIFEXITED(st) && WEXITSTATUS(st) && !srv->stopping)
            ibx_warn(srv->cfg.log, "msg=\"child exited with an error\" child=%ld "
                     "status=%d", (long)pid, WEXITSTATUS(st));
    }
}

static void on_child_signal(ibx_loop *loop, int signo, void *data)
{
    /* Every signal means "drain": the parent forwards SIGTERM and a
     * terminal's ^C reaches the whole group, so counting them here would
     * turn one request into two. The grace timer and the parent's SIGKILL
     * bound the wait. */
    worker_drain(data);
}

/* In a new child process: serve on a fresh loop until done. With fd >= 0
 * that one connection (fork model); otherwise the shared listeners
 * (prefork). The parent's loop is never touched. */
static void child_serve(ibx_server *srv, int fd, const struct listener *l,
                        const struct sockaddr_storage *peer, socklen_t plen)
{
    srv->is_child = true;
    srv->nkids = 0;
    ibx_loop *loop;
    if (ibx_loop_new(&loop) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    ibx_worker w = {0};
    int r = worker_init(&w, srv, loop);
    if (fd >= 0) {
        /* one connection: the listeners are the parent's business */
        for (size_t i = 0; i < srv->nls; i++) {
            close(srv->ls[i].fd);
            srv->ls[i].fd = -1;
            if (w.lfd)
                w.lfd[i] = -1;
        }
        w.single = true;
    } else if (srv->cfg.max_conns) {
        w.cap = (srv->cfg.max_conns + srv->cfg.workers - 1) / srv->cfg.workers;
    }
    if (!r)
        r = ibx_loop_signal(loop, SIGTERM, on_child_signal, &w);
    if (!r)
        r = ibx_loop_signal(loop, SIGINT, on_child_signal, &w);
    if (!r)
        r = hooks_register(srv, loop, false);
    if (!r && fd >= 0) {
        r = l->proto->open(&w, fd, (const struct sockaddr *)peer, plen, l->ctx);
        fd = -1;   /* open owns it now, even on failure */
    } else if (!r) {
        r = worker_listen(&w);
    }
    if (!r)
        ibx_loop_run(loop);
    else if (fd >= 0)
        close(fd);
    worker_fini(&w);
    ibx_loop_free(loop);
}

int fork_conn(ibx_server *srv, int fd, const struct listener *l,
              const struct sockaddr_storage *peer, socklen_t plen)
{
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (pid == 0) {
        child_serve(srv, fd, l, peer, plen);
        return IBX_SERVER_CHILD;
    }
    close(fd);
    int r = kid_add(srv, pid);
    if (r < 0)
        kill(pid, SIGKILL);   /* untracked children would never be reaped */
    return r;
}

int prefork_spawn(ibx_server *srv)
{
    while (srv->nkids < srv->cfg.workers) {
        pid_t pid = fork();
        if (pid < 0)
            return -errno;
        if (pid == 0) {
            child_serve(srv, -1, NULL, NULL, 0);
            return IBX_SERVER_CHILD;
        }
        int r = kid_add(srv, pid);
        if (r < 0) {
            kill(pid, SIGKILL);
            return r;
        }
    }
    return 0;
}
