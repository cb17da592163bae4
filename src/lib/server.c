/* Servers, the part every model shares: listeners, accepting, connection
 * tracking, graceful shutdown. What differs between models is asked of the
 * model's ops (struct ibx_model in server_int.h; one file per model,
 * model_*.c); the thread and process workers live in server_thread.c and
 * server_proc.c. */
#include "server_int.h"
#include "loop_backend.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

ibx_loop *ibx_worker_loop(ibx_worker *w) { return w->loop; }
const ibx_log *ibx_worker_log(const ibx_worker *w) { return w->srv->cfg.log; }
bool ibx_worker_draining(const ibx_worker *w) { return w->draining; }

void *ibx_worker_data(const ibx_worker *w, const void *key)
{
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].key == key)
            return w->slots[i].data;
    return NULL;
}

int ibx_worker_set_data(ibx_worker *w, const void *key, void *data,
                        void (*fini)(void *data))
{
    for (size_t i = 0; i < w->nslots; i++)
        if (w->slots[i].key == key) {
            w->slots[i].data = data;
            w->slots[i].fini = fini;
            return 0;
        }
    struct wslot *s = realloc(w->slots, (w->nslots + 1) * sizeof *s);
    if (!s)
        return -ENOMEM;
    w->slots = s;
    s[w->nslots++] = (struct wslot){key, data, fini};
    return 0;
}

/* ---- workers ------------------------------------------------------------- */

int ibx__worker_init(ibx_worker *w, ibx_server *srv, ibx_loop *loop)
{
    w->srv = srv;
    w->loop = loop;
    w->head.next = w->head.prev = &w->head;
    w->spare = ibx_spare_fd_open();
    w->conn_fd = -1;
    if (srv->nls) {
        w->lio = calloc(srv->nls, sizeof *w->lio);
        w->lfd = calloc(srv->nls, sizeof *w->lfd);
        if (!w->lio || !w->lfd) {
            ibx__worker_fini(w);
            return -ENOMEM;
        }
        for (size_t i = 0; i < srv->nls; i++)
            w->lfd[i] = srv->ls[i].fd;
    }
    return 0;
}

void ibx__worker_fini(ibx_worker *w)
{
    for (size_t i = w->nslots; i-- > 0;)
        if (w->slots[i].fini)
            w->slots[i].fini(w->slots[i].data);
    free(w->slots);
    w->slots = NULL;
    w->nslots = 0;
    if (w->lfd && w->own_lfd)
        for (size_t i = 0; i < w->srv->nls; i++)
            if (w->lfd[i] >= 0)
                close(w->lfd[i]);
    free(w->lio);
    free(w->lfd);
    w->lio = NULL;
    w->lfd = NULL;
    if (w->spare >= 0)
        close(w->spare);
    w->spare = -1;
}

static void on_accept(ibx_loop *loop, ibx_io *io, uint32_t events);
static void server_check_done(ibx_server *srv);

int ibx__worker_listen(ibx_worker *w)
{
    if (w->listening || w->draining)
        return 0;
    /* Several loops on one listener: wake only one of them per connection. */
    uint32_t ev = IBX_EV_READ;
    if (w->shared_lfd)
        ev |= IBX_EV_EXCLUSIVE;
    for (size_t i = 0; i < w->srv->nls; i++) {
        int r = ibx_io_start(w->loop, &w->lio[i], w->lfd[i], ev, on_accept, w);
        if (r < 0) {
            while (i--)
                ibx_io_stop(w->loop, &w->lio[i]);
            return r;
        }
    }
    w->listening = true;
    return 0;
}

static void worker_unlisten(ibx_worker *w)
{
    if (!w->listening)
        return;
    for (size_t i = 0; i < w->srv->nls; i++)
        ibx_io_stop(w->loop, &w->lio[i]);
    w->listening = false;
}

/* Live connections that count against the cap: this worker's own, or for
 * the models with a thread or process per connection the threads and
 * children of the server. */
static size_t load(const ibx_worker *w)
{
    const ibx_server *srv = w->srv;
    if (w == &srv->main && (srv->cfg.model->traits & IBX_MODEL_PER_CONN))
        return srv->nthreads + srv->nkids;
    return w->nconns;
}

static bool at_cap(const ibx_worker *w)
{
    return w->cap && load(w) >= w->cap;
}

/* Resume accepting after the load dropped below the cap, or after a
 * pause for want of descriptors (then with the spare descriptor back, if
 * one can be had). */
static void maybe_resume(ibx_worker *w)
{
    if (!w->listening && !w->draining && !w->single && w->lfd && !at_cap(w)) {
        if (w->spare < 0)
            w->spare = ibx_spare_fd_open();
        ibx__worker_listen(w);
    }
}

/* Out of descriptors with none to spare (ibx_accept could not shed the
 * client), or of kernel memory: the listener stays readable, and retrying
 * at once would spin. Accepting pauses this long, or until a connection
 * of this worker closes. */
#define ACCEPT_PAUSE_MS 100

static void on_accept_pause(ibx_loop *loop, ibx_timer *t)
{
    maybe_resume(t->data);
}

/* True at most once per LOG_EVERY_MS per *last: for log lines that a peer
 * can trigger at will (a flood of connections must not flood the log). */
#define LOG_EVERY_MS 10000
static bool log_due(ibx_worker *w, uint64_t *last)
{
    uint64_t now = ibx_loop_now(w->loop);
    if (*last && now - *last < LOG_EVERY_MS)
        return false;
    *last = now ? now : 1;
    return true;
}

static void on_accept(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    ibx_worker *w = io->data;
    ibx_server *srv = w->srv;
    const struct listener *l = &srv->ls[io - w->lio];
    int lfd = io->fd;
    /* A bounded batch per wake keeps other connections served. */
    for (int n = 0; n < 64; n++) {
        if (at_cap(w)) {
            worker_unlisten(w);
            if (log_due(w, &w->cap_logged_ms))
                ibx_warn(ibx_log_as(srv->cfg.log, l->proto->name, &(ibx_log){0}),
                         "msg=\"connection limit reached (--max-conns), accepting "
                         "paused until one closes\" max_conns=%zu", w->cap);
            return;
        }
        struct sockaddr_storage peer;
        socklen_t plen;
        int fd = ibx_accept(lfd, &w->spare, &peer, &plen);
        if (fd == -EAGAIN)
            return;
        if (fd < 0) {
            bool nofd = fd == -EMFILE || fd == -ENFILE;
            bool pause = (nofd && w->spare < 0) || fd == -ENOBUFS || fd == -ENOMEM;
            if (log_due(w, &w->accept_logged_ms))
                ibx_warn(ibx_log_as(srv->cfg.log, l->proto->name, &(ibx_log){0}),
                         "msg=\"accept failed%s%s\" reason=%s",
                         pause ? ", accepting paused" : nofd ? ", connection shed" : "",
                         nofd ? ": raise ulimit -n or lower --max-conns" : "",
                         strerror(-fd));
            if (pause) {
                worker_unlisten(w);
                ibx_timer_start(loop, &w->accept_pause, ACCEPT_PAUSE_MS, on_accept_pause, w);
            }
            return;
        }
        if (!ibx__loop_fd_ok(loop, fd)) {
            /* select: FD_SETSIZE; never handed to a watcher */
            close(fd);
            if (log_due(w, &w->serve_logged_ms))
                ibx_warn(ibx_log_as(srv->cfg.log, l->proto->name, &(ibx_log){0}),
                         "msg=\"connection closed: its descriptor is past what the %s loop "
                         "can watch\" fd=%d flag=--max-conns", ibx_loop_backend(loop), fd);
            continue;
        }
        bool was_child = srv->is_child;
        int r = srv->cfg.model->accept
                    ? srv->cfg.model->accept(srv, w, fd, l, &peer, plen)
                    : l->proto->open(w, fd, (struct sockaddr *)&peer, plen, l->ctx);
        if (srv->is_child && !was_child) {
            /* In a child forked for the connection, which it has served:
             * the rest of this pass is the parent's */
            ibx__loop_abandon(loop);
            return;
        }
        if (r < 0 && log_due(w, &w->serve_logged_ms))
            ibx_warn(ibx_log_as(srv->cfg.log, l->proto->name, &(ibx_log){0}),
                     "msg=\"cannot serve a connection\" reason=%s", strerror(-r));
        if (srv->is_child)
            return;
    }
}

/* ---- connections ----------------------------------------------------------- */

void ibx_conn_add(ibx_worker *w, ibx_conn *c, const struct ibx_conn_ops *ops,
                  bool is_unit)
{
    c->worker = w;
    c->ops = ops;
    c->is_unit = is_unit;
    c->next = &w->head;
    c->prev = w->head.prev;
    w->head.prev->next = c;
    w->head.prev = c;
    if (is_unit)
        w->nunits++;
    else
        w->nconns++;
    if (w->draining && ops->drain)
        ops->drain(c);   /* born during shutdown: finish at once */
}

static void worker_check_done(ibx_worker *w)
{
    if (w->nconns || w->nunits)
        return;
    if (w->single || (w->draining && w != &w->srv->main)) {
        ibx_timer_stop(w->loop, &w->grace);
        ibx_loop_stop(w->loop);
    } else if (w == &w->srv->main) {
        server_check_done(w->srv);
    }
}

void ibx_conn_done(ibx_conn *c)
{
    ibx_worker *w = c->worker;
    if (!w)
        return;
    c->prev->next = c->next;
    c->next->prev = c->prev;
    c->next = c->prev = NULL;
    c->worker = NULL;
    if (c->is_unit)
        w->nunits--;
    else
        w->nconns--;
    maybe_resume(w);
    worker_check_done(w);
}

/* Call drain or abort on every connection and unit. Each callback may
 * unregister its own connection, so the successor is taken first. */
static void for_each_conn(ibx_worker *w, bool abort)
{
    ibx_conn *c = w->head.next;
    while (c != &w->head) {
        ibx_conn *next = c->next;
        void (*fn)(ibx_conn *) = abort ? c->ops->abort : c->ops->drain;
        if (fn)
            fn(c);
        c = next;
    }
}

static void on_worker_grace(ibx_loop *loop, ibx_timer *t)
{
    ibx__worker_abort(t->data);
}

void ibx__worker_drain(ibx_worker *w)
{
    if (w->draining)
        return;
    w->draining = true;
    worker_unlisten(w);
    ibx_timer_stop(w->loop, &w->accept_pause);
    if (w->own_lfd || w->srv->is_child) {
        /* our own copies: close them so new clients are refused (in a
         * prefork child they are the server's numbers: forget those too,
         * so ibx_server_free does not close a reused descriptor) */
        for (size_t i = 0; w->lfd && i < w->srv->nls; i++) {
            if (w->lfd[i] >= 0)
                close(w->lfd[i]);
            if (!w->own_lfd)
                w->srv->ls[i].fd = -1;
            w->lfd[i] = -1;
        }
    }
    if (w->srv->cfg.grace_ms == 0) {
        ibx__worker_abort(w);
        return;
    }
    ibx_timer_start(w->loop, &w->grace, w->srv->cfg.grace_ms, on_worker_grace, w);
    for_each_conn(w, false);
    worker_check_done(w);
}

void ibx__worker_abort(ibx_worker *w)
{
    w->draining = true;
    worker_unlisten(w);
    ibx_timer_stop(w->loop, &w->grace);
    ibx_timer_stop(w->loop, &w->accept_pause);
    for_each_conn(w, true);
    worker_check_done(w);
}

/* ---- server ---------------------------------------------------------------- */

static void begin_shutdown(ibx_server *srv, int signo);

static void on_main_wake(ibx_loop *loop, void *data)
{
    ibx_server *srv = data;
    if (atomic_exchange(&srv->main.cmd, CMD_NONE) == CMD_DRAIN && !srv->stopping)
        begin_shutdown(srv, 0);
    ibx__threads_reap(srv, false);
    maybe_resume(&srv->main);
    server_check_done(srv);
}



unsigned ibx_server_default_max_conns(const ibx_model *model)
{
    const struct ibx_model *m = ibx__model_of(model);
    struct rlimit rl;
    rlim_t nofile = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        nofile = rl.rlim_cur == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_cur;
    /* Each model says which share of the descriptors its connections may
     * take (a half leaves the other half for what each one opens, the
     * listeners and the spare) and, if a connection costs far more than a
     * descriptor (a process, a thread), a ceiling. */
    rlim_t cap = nofile / (m->nofile_share ? m->nofile_share : 2);
    if (cap < 8)
        cap = 8;
    if (m->max_conns_ceiling && cap > m->max_conns_ceiling)
        cap = m->max_conns_ceiling;
    if (cap > 1u << 20)
        cap = 1u << 20;
    return (unsigned)cap;
}

int ibx_server_new(ibx_server **out, const struct ibx_server_config *cfg)
{
    ibx_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->cfg = *cfg;
    srv->cfg.model = ibx__model_of(cfg->model);
    if (srv->cfg.model->max_conns_limit && srv->cfg.max_conns > srv->cfg.model->max_conns_limit) {
        free(srv);
        return -ERANGE;
    }
    if (!srv->cfg.workers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        srv->cfg.workers = n > 0 ? (unsigned)n : 1;
    }
    if (!srv->cfg.backlog)
        srv->cfg.backlog = 1024;
    if (!srv->cfg.ident)
        srv->cfg.ident = "server";
    srv->main.spare = -1;
    /* The main loop exists from the start, so that ibx_server_shutdown()
     * is safe from any thread at any time, even before ibx_server_run(). */
    int r = ibx_loop_new_backend(&srv->main.loop, srv->cfg.model->backend);
    if (!r)
        r = ibx_loop_set_wake(srv->main.loop, on_main_wake, srv);
    if (r < 0) {
        ibx_loop_free(srv->main.loop);
        free(srv);
        return r;
    }
    *out = srv;
    return 0;
}

void ibx_server_free(ibx_server *srv)
{
    if (!srv)
        return;
    for (size_t i = 0; i < srv->nls; i++)
        if (srv->ls[i].fd >= 0)
            close(srv->ls[i].fd);
    free(srv->ls);
    free(srv->units);
    free(srv->kids);
    if (srv->is_child)
        ibx_loop_free_forked(srv->main.loop);   /* the parent's epoll */
    else
        ibx_loop_free(srv->main.loop);
    free(srv);
}

void ibx__listener_tune(int fd, const struct ibx_proto *proto)
{
    if (proto->defer_accept_s) {
        int s = (int)proto->defer_accept_s;
        /* an optimisation: a socket that refuses it still works */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &s, sizeof s);
    }
}

static int add_listener(ibx_server *srv, int fd, const struct ibx_proto *proto,
                        void *ctx)
{
    ibx__listener_tune(fd, proto);
    struct listener *ls = realloc(srv->ls, (srv->nls + 1) * sizeof *ls);
    if (!ls)
        return -ENOMEM;
    srv->ls = ls;
    struct listener *l = &ls[srv->nls];
    l->fd = fd;
    l->proto = proto;
    l->ctx = ctx;
    int r = ibx_sock_local(fd, &l->addr);
    if (r < 0)
        return r;
    srv->nls++;
    char a[IBX_ADDRSTRLEN];
    ibx_addr_format((struct sockaddr *)&l->addr.ss, l->addr.len, a, sizeof a);
    const ibx_model *m = srv->cfg.model;
    ibx_log as;
    if (m->traits & IBX_MODEL_POOL)
        ibx_info(ibx_log_as(srv->cfg.log, proto->name, &as),
                 "msg=\"listening on %s\" proto=tcp model=%s workers=%u", a,
                 ibx_model_name(m), srv->cfg.workers);
    else
        ibx_info(ibx_log_as(srv->cfg.log, proto->name, &as),
                 "msg=\"listening on %s\" proto=tcp model=%s", a, ibx_model_name(m));
    return 0;
}

int ibx_server_listen(ibx_server *srv, const ibx_addr *addr,
                      const struct ibx_proto *proto, void *ctx)
{
    if (!ibx_model_runs(srv->cfg.model, proto))
        return -EOPNOTSUPP;
    int fd = ibx_tcp_listen(addr, srv->cfg.backlog, srv->cfg.model->listen_flags);
    if (fd < 0)
        return fd;
    int r = add_listener(srv, fd, proto, ctx);
    if (r < 0)
        close(fd);
    return r;
}

int ibx_server_adopt(ibx_server *srv, int fd, const struct ibx_proto *proto,
                     void *ctx)
{
    if (!ibx_model_runs(srv->cfg.model, proto))
        return -EOPNOTSUPP;
    if (!ibx_sock_is_listener(fd))
        return -ENOTSOCK;
    int r = ibx_fd_nonblock(fd, true);
    if (r < 0)
        return r;
    if (srv->cfg.model->listen_flags & IBX_LISTEN_REUSEPORT) {
        int one = 1;   /* the other workers bind beside it */
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    return add_listener(srv, fd, proto, ctx);
}

int ibx_server_listener_addr(const ibx_server *srv, size_t i, ibx_addr *out)
{
    if (i >= srv->nls)
        return -ENOENT;
    *out = srv->ls[i].addr;
    return 0;
}

int ibx_server_add_unit(ibx_server *srv, ibx_unit_start_fn start, void *arg)
{
    struct unit_start *u = realloc(srv->units, (srv->nunits + 1) * sizeof *u);
    if (!u)
        return -ENOMEM;
    srv->units = u;
    u[srv->nunits++] = (struct unit_start){start, arg};
    return 0;
}

int ibx_server_on_signal(ibx_server *srv, int signo, ibx_signal_cb cb,
                         void *data)
{
    if (signo == SIGINT || signo == SIGTERM || signo == SIGCHLD)
        return -EINVAL;   /* the server's own */
    if (srv->nhooks == sizeof srv->hooks / sizeof srv->hooks[0])
        return -ENOSPC;
    srv->hooks[srv->nhooks++] = (struct sig_hook){signo, cb, data};
    return 0;
}

static void on_hook_signal(ibx_loop *loop, int signo, void *data)
{
    ibx_server *srv = data;
    for (size_t i = 0; i < srv->nhooks; i++)
        if (srv->hooks[i].signo == signo)
            srv->hooks[i].cb(loop, signo, srv->hooks[i].data);
}

static void on_hook_forward(ibx_loop *loop, int signo, void *data)
{
    on_hook_signal(loop, signo, data);
    ibx__kids_signal(data, signo);
}

/* Deliver the registered hooks on loop; the main loop of a process model
 * also forwards them to the children. */
int ibx__hooks_register(ibx_server *srv, ibx_loop *loop, bool forward)
{
    for (size_t i = 0; i < srv->nhooks; i++) {
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            seen |= srv->hooks[k].signo == srv->hooks[i].signo;
        if (seen)
            continue;
        int r = ibx_loop_signal(loop, srv->hooks[i].signo,
                                forward ? on_hook_forward : on_hook_signal, srv);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Stop the main loop once everything it waits for has ended. */
static void server_check_done(ibx_server *srv)
{
    ibx_worker *m = &srv->main;
    if (!srv->stopping || m->nconns || m->nunits || srv->nthreads || srv->nkids)
        return;
    srv->done = true;
    ibx_loop_stop(m->loop);
}

static void on_kill_timer(ibx_loop *loop, ibx_timer *t)
{
    ibx_server *srv = t->data;
    if (srv->nkids) {
        ibx_warn(srv->cfg.log, "msg=\"children outlived the grace period, killing "
                 "them\" children=%zu", srv->nkids);
        ibx__kids_signal(srv, SIGKILL);
    }
}

static void begin_shutdown(ibx_server *srv, int signo)
{
    ibx_worker *m = &srv->main;
    if (!srv->stopping) {
        srv->stopping = true;
        ibx_info(srv->cfg.log, "msg=\"shutting down\" reason=%s grace_s=%u",
                 signo ? strsignal(signo) : "requested", srv->cfg.grace_ms / 1000);
        ibx__threads_command(srv, CMD_DRAIN);
        ibx__kids_signal(srv, SIGTERM);
        if (srv->nkids) /* children that outlive their own grace are killed */
            ibx_timer_start(m->loop, &srv->kill_timer, srv->cfg.grace_ms + 2000,
                            on_kill_timer, srv);
        ibx__worker_drain(m);
    } else if (!srv->aborting) {
        srv->aborting = true;
        ibx_info(srv->cfg.log, "msg=\"second signal, stopping now\"");
        ibx__threads_command(srv, CMD_ABORT);
        ibx__kids_signal(srv, SIGKILL);
        ibx__worker_abort(m);
    }
    server_check_done(srv);
}

static void on_signal(ibx_loop *loop, int signo, void *data)
{
    ibx_server *srv = data;
    if (signo == SIGCHLD) {
        ibx__kids_reap(srv);
        if (!srv->stopping && srv->cfg.model->child_exited) {
            (void)srv->cfg.model->child_exited(srv);
            if (srv->is_child) {
                ibx__loop_abandon(loop);   /* a replacement child, finished */
                return;
            }
        }
        maybe_resume(&srv->main);
        server_check_done(srv);
        return;
    }
    begin_shutdown(srv, signo);
}

bool ibx_server_is_child(const ibx_server *srv) { return srv->is_child; }

void ibx_server_shutdown(ibx_server *srv)
{
    atomic_store(&srv->main.cmd, CMD_DRAIN);
    ibx_loop_wake(srv->main.loop);
}

static int setup_main(ibx_server *srv, ibx_loop *loop)
{
    ibx_worker *m = &srv->main;
    /* taken now, after the caller had its chance to raise RLIMIT_NOFILE */
    if (!srv->cfg.max_conns)
        srv->cfg.max_conns = ibx_server_default_max_conns(srv->cfg.model);
    int r = ibx__worker_init(m, srv, loop);
    if (r < 0)
        return r;
    unsigned traits = srv->cfg.model->traits;
    if (traits & IBX_MODEL_SERIAL)
        m->cap = 1;
    else if (!(traits & IBX_MODEL_POOL))   /* a pool's workers have caps */
        m->cap = srv->cfg.max_conns;
    int sigs[] = {SIGINT, SIGTERM, SIGCHLD};
    size_t nsig = (traits & IBX_MODEL_PROCESSES) ? 3 : 2;
    for (size_t i = 0; i < nsig && r == 0; i++)
        r = ibx_loop_signal(loop, sigs[i], on_signal, srv);
    if (!r)
        r = ibx__hooks_register(srv, loop, nsig == 3);
    return r;
}

int ibx_server_run(ibx_server *srv)
{
    ibx_loop *loop = srv->main.loop;
    int r = setup_main(srv, loop);
    for (size_t i = 0; !r && i < srv->nunits; i++)
        r = srv->units[i].fn(&srv->main, srv->units[i].arg);
    if (!r) {
        if (srv->cfg.model->start)
            r = srv->cfg.model->start(srv);
        else if (srv->nls)
            r = ibx__worker_listen(&srv->main);
    }
    int lr = 0;
    if (r < 0) {
        /* a start-up failure: stop whatever did start, then clean up */
        srv->stopping = srv->aborting = true;
        ibx__threads_command(srv, CMD_ABORT);
        ibx__kids_signal(srv, SIGKILL);
        ibx__worker_abort(&srv->main);
    }
    /* The main loop may hold no watcher of its own (pool models) yet must
     * run until everything has ended, so it is driven pass by pass. */
    while (!srv->done && !srv->is_child && lr >= 0)
        lr = ibx_loop_run_once(loop, -1);
    if (lr > 0)
        lr = 0;
    if (srv->is_child) {
        /* A fork/prefork child whose work is done. The loop is the
         * parent's copy: release it without touching the shared epoll,
         * and the units it inherited through their release op. */
        for (ibx_conn *c = srv->main.head.next, *next; c && c != &srv->main.head; c = next) {
            next = c->next;
            if (c->ops && c->ops->release)
                c->ops->release(c);
        }
        ibx__worker_fini(&srv->main);
        return 0;
    }
    ibx__threads_command(srv, CMD_ABORT);
    ibx__threads_reap(srv, true);
    /* children still alive here are past every grace period */
    ibx__kids_signal(srv, SIGKILL);
    for (size_t i = 0; i < srv->nkids; i++)
        while (waitpid(srv->kids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    srv->nkids = 0;
    worker_unlisten(&srv->main);
    /* on the error path units may remain: abort them and let their
     * deferred frees run */
    for_each_conn(&srv->main, true);
    ibx_loop_run_once(loop, 0);
    ibx__worker_fini(&srv->main);
    return r < 0 ? r : lr;
}
