/* Workers in child processes, for the process models: a process per
 * connection (model_fork.c) and a pool of process loops (model_prefork.c).
 * A child serves on a fresh loop of its own and never touches the
 * parent's; the parent tracks its children, forwards signals to them and
 * reaps them on SIGCHLD. */
#include "server_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

void ibx__kids_signal(ibx_server *srv, int sig)
{
    for (size_t i = 0; i < srv->nkids; i++)
        kill(srv->kids[i], sig);
}

void ibx__kids_reap(ibx_server *srv)
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
    ibx__worker_drain(data);
}

/* In a new child process: serve on a fresh loop until done. With fd >= 0
 * that one connection (fork model); otherwise the shared listeners
 * (prefork). The parent's loop is never touched. */
static void child_serve(ibx_server *srv, int fd, const struct listener *l,
                        const struct sockaddr_storage *peer, socklen_t plen)
{
    srv->is_child = true;
    srv->nkids = 0;
    /* what the main loop's units must not share with a child */
    for (ibx_conn *c = srv->main.head.next; c && c != &srv->main.head; c = c->next)
        if (c->ops && c->ops->forked)
            c->ops->forked(c);
    ibx_loop *loop;
    if (ibx_loop_new(&loop) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    ibx_worker w = {0};
    int r = ibx__worker_init(&w, srv, loop);
    if (fd >= 0) {
        /* one connection: the listeners are the parent's business */
        for (size_t i = 0; i < srv->nls; i++) {
            close(srv->ls[i].fd);
            srv->ls[i].fd = -1;
            if (w.lfd)
                w.lfd[i] = -1;
        }
        w.single = true;
    } else {
        w.shared_lfd = true;   /* every child accepts on the same listeners */
        if (srv->cfg.max_conns)
            w.cap = (srv->cfg.max_conns + srv->cfg.workers - 1) / srv->cfg.workers;
    }
    if (!r)
        r = ibx_loop_signal(loop, SIGTERM, on_child_signal, &w);
    if (!r)
        r = ibx_loop_signal(loop, SIGINT, on_child_signal, &w);
    if (!r)
        r = ibx__hooks_register(srv, loop, false);
    if (!r && fd >= 0) {
        r = l->proto->open(&w, fd, (const struct sockaddr *)peer, plen, l->ctx);
        fd = -1;   /* open owns it now, even on failure */
    } else if (!r) {
        r = ibx__worker_listen(&w);
    }
    if (!r)
        ibx_loop_run(loop);
    else if (fd >= 0)
        close(fd);
    ibx__worker_fini(&w);
    ibx_loop_free(loop);
}

int ibx__kid_fork(ibx_server *srv, int fd, const struct listener *l,
                  const struct sockaddr_storage *peer, socklen_t plen)
{
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    if (pid == 0) {
        child_serve(srv, fd, l, peer, plen);
        return 0;
    }
    if (fd >= 0)
        close(fd);
    int r = kid_add(srv, pid);
    if (r < 0)
        kill(pid, SIGKILL);   /* untracked children would never be reaped */
    return r;
}
