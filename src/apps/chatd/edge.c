/* chatd's edges (see chatd.h, "the hub"): under the models with several
 * loops, each worker loop has one edge, made with its first client. It
 * owns the sockets of the worker's clients and does only their I/O: what
 * a client sends goes to the core as it is read (no parsing here), and
 * what the core sends is written with writev from shared messages (one
 * copy per edge and message, whatever the number of recipients).
 *
 * The edge enforces --sendq exactly as the core does for its own
 * sockets: a write attempt first, then the queue is dropped but for the
 * message being written, the client gets "ERROR :SendQ exceeded" (or the
 * plain notice) and the core is told it closed (it logs the line and
 * tells the rooms). Closing lingers CHATD_LINGER_MS for what is left to
 * write. A worker that drains writes the shutdown line to each client.
 *
 * While the core's ring is full, records wait in order; past
 * CHATD_EDGE_PEND_MAX the edge stops reading its sockets until they are
 * in (TCP pushes back on the clients). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chatd.h"
#include "ipcbox/fdpass.h"

struct edge;

/* A client socket of an edge. */
struct econn {
    ibx_conn base;           /* first */
    ibx_io io;
    ibx_timer linger;
    ibx_defer flush_d, free_d;
    struct edge *e;
    struct econn *prev, *next;
    uint64_t id;
    struct outq out;
    enum dialect dialect;
    bool dead;               /* nothing more is read or queued */
    bool closed;             /* the socket is closed */
    bool told;               /* the core knows it is closed */
    bool in_eof;             /* dead: the client sends no more (linger_discard) */
};

struct edge {
    struct chat_srv *srv;    /* its cfg and log only: the rest is the core's */
    ibx_loop *loop;
    struct hub_tx tx;        /* edge -> core */
    ibx_shmq *rx;            /* core -> edge */
    int bell;
    ibx_io bell_io;
    ibx_timer retry;
    ibx_defer flush_d;
    struct imap conns;       /* id -> struct econn */
    struct econn *list;
    uint64_t next_id;
    bool paused, gone, dirty, zombie;
};

static const char edge_key;   /* ibx_worker_data key */

static void econn_close(struct econn *c);
static void econn_flush(struct econn *c);

/* ---- to the core ------------------------------------------------------------ */

static void econn_events(struct econn *c);

static void core_gone(struct edge *e)
{
    if (e->gone)
        return;
    e->gone = true;
    if (e->list)
        ibx_warn(e->srv->log, "msg=\"the chat core is gone: this worker's clients are "
                 "closed\"");
    for (struct econn *c = e->list, *next; c; c = next) {
        next = c->next;
        c->told = true;
        econn_close(c);
    }
}

static void on_retry(ibx_loop *loop, ibx_timer *t);

/* Waiting records into the ring; ring the core once. */
static void edge_flush(struct edge *e)
{
    e->dirty = false;
    if (e->gone)
        return;
    if (hubtx_flush(&e->tx) < 0) {
        core_gone(e);
        return;
    }
    if (e->tx.committed) {
        e->tx.committed = false;
        hub_ring(e->bell);
    }
    if (ibx_buf_used(&e->tx.pend)) {
        if (!ibx_timer_active(&e->retry))
            ibx_timer_start(e->loop, &e->retry, CHATD_HUB_RETRY_MS, on_retry, e);
    } else if (e->paused) {
        e->paused = false;
        for (struct econn *c = e->list; c; c = c->next)
            econn_events(c);
    }
}

static void on_retry(ibx_loop *loop, ibx_timer *t) { edge_flush(t->data); }

static void on_edge_flush(ibx_loop *loop, ibx_defer *d)
{
    struct edge *e = d->data;
    if (e->zombie)   /* the worker ended with this queued */
        free(e);
    else if (e->dirty)
        edge_flush(e);
}

static void edge_put(struct edge *e, uint32_t type, uint64_t id, const void *p, size_t len)
{
    if (e->gone)
        return;
    struct hub_rec r = {.type = type, .id = id};
    if (hubtx_put(&e->tx, &r, p, len, NULL, 0) < 0) {
        core_gone(e);
        return;
    }
    if (!e->dirty) {
        e->dirty = true;
        ibx_loop_defer(e->loop, &e->flush_d, on_edge_flush, e);
    }
    if (!e->paused && ibx_buf_used(&e->tx.pend) > CHATD_EDGE_PEND_MAX) {
        e->paused = true;
        for (struct econn *c = e->list; c; c = c->next)
            econn_events(c);
    }
}

/* ---- a client ----------------------------------------------------------------- */

static void econn_events(struct econn *c)
{
    if (c->closed)
        return;
    uint32_t ev = 0;
    if (c->dead ? !c->in_eof : !c->e->paused)   /* dead: dropped while it lingers */
        ev |= IBX_EV_READ | IBX_EV_RDHUP;
    if (c->out.n)
        ev |= IBX_EV_WRITE;
    ibx_io_modify(c->e->loop, &c->io, ev);
}

static void econn_tell(struct econn *c, const char *reason)
{
    if (c->told)
        return;
    c->told = true;
    edge_put(c->e, HUB_CLOSED, c->id, reason, strlen(reason));
}

static void on_free(ibx_loop *loop, ibx_defer *d)
{
    struct econn *c = d->data;
    /* a worker whose last client this was may end now: the core must
     * have its CLOSED before */
    if (c->e->dirty)
        edge_flush(c->e);
    ibx_conn_done(&c->base);
    free(c);
}

static void econn_close(struct econn *c)
{
    if (c->closed)
        return;
    c->closed = c->dead = true;
    struct edge *e = c->e;
    int fd = c->io.fd;   /* ibx_io_stop forgets it */
    ibx_io_stop(e->loop, &c->io);
    close(fd);
    ibx_timer_stop(e->loop, &c->linger);
    outq_drop(&c->out);
    imap_del(&e->conns, c->id);
    if (c->prev)
        c->prev->next = c->next;
    else
        e->list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ibx_loop_defer(e->loop, &c->free_d, on_free, c);
    econn_tell(c, "Connection closed");   /* if nobody did */
}

static void econn_end(struct econn *c, const char *reason)
{
    econn_tell(c, reason);
    econn_close(c);
}

static void on_flush(ibx_loop *loop, ibx_defer *d) { econn_flush(d->data); }

static void econn_flush(struct econn *c)
{
    if (c->closed)
        return;
    if (outq_write(&c->out, c->io.fd) < 0) {
        econn_end(c, "write error");
        return;
    }
    if (!c->out.n && c->dead) {
        econn_close(c);
        return;
    }
    econn_events(c);
}

static void on_linger(ibx_loop *loop, ibx_timer *t) { econn_close(t->data); }

/* Nothing more is read or queued; what is queued gets CHATD_LINGER_MS. */
static void econn_linger(struct econn *c)
{
    c->dead = true;
    if (!c->out.n) {
        econn_close(c);
        return;
    }
    ibx_timer_start(c->e->loop, &c->linger, CHATD_LINGER_MS, on_linger, c);
    econn_flush(c);
}

static void econn_push(struct econn *c, struct chat_msg *m, bool bulk)
{
    if (outq_push(&c->out, m, bulk) < 0) {
        econn_end(c, "out of memory");
        return;
    }
    if (c->out.n == 1)
        ibx_loop_defer(c->e->loop, &c->flush_d, on_flush, c);
}

/* Queue error for c, tell the core (reason), linger. */
static void econn_finish(struct econn *c, const char *error, const char *reason)
{
    struct chat_msg *m = error_line(c->dialect, error);
    if (m) {
        econn_push(c, m, false);
        msg_unref(m);
    }
    econn_tell(c, reason);
    if (!c->closed)
        econn_linger(c);
}

static void econn_send(struct econn *c, struct chat_msg *m, bool bulk)
{
    const struct chat_cfg *cfg = c->e->srv->cfg;
    if (outq_over(&c->out, bulk, m->len, cfg)) {
        /* as conn_send: write what the socket takes before judging */
        econn_flush(c);
        if (c->dead)
            return;
        if (outq_over(&c->out, bulk, m->len, cfg)) {
            outq_keep_head(&c->out);
            econn_finish(c, "SendQ exceeded", "SendQ exceeded");
            return;
        }
    }
    econn_push(c, m, bulk);
}

static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct econn *c = io->data;
    if (events & IBX_EV_ERROR) {
        econn_end(c, "socket error");
        return;
    }
    if (events & IBX_EV_WRITE) {
        econn_flush(c);
        if (c->closed)
            return;
    }
    if (!(events & (IBX_EV_READ | IBX_EV_RDHUP | IBX_EV_HUP)))
        return;
    if (c->dead) {
        if (!c->in_eof && linger_discard(c->io.fd)) {
            c->in_eof = true;
            econn_events(c);
        }
        return;
    }
    if (c->e->paused)
        return;
    char buf[4096];
    ssize_t n = recv(c->io.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        econn_end(c, n == 0 ? "Connection closed" : "Read error");
        return;
    }
    edge_put(c->e, HUB_DATA, c->id, buf, (size_t)n);
}

static void econn_drain(ibx_conn *base)
{
    struct econn *c = (struct econn *)base;
    if (!c->dead)
        econn_finish(c, "Closing Link: server shutting down", "Server shutting down");
}

static void econn_abort(ibx_conn *base)
{
    struct econn *c = (struct econn *)base;
    econn_end(c, "Server shutting down");
}

static const struct ibx_conn_ops econn_ops = {.drain = econn_drain, .abort = econn_abort};

/* ---- from the core ------------------------------------------------------------ */

static void on_send(struct edge *e, const struct hub_rec *r, const void *p, size_t len)
{
    if ((uint64_t)r->n * sizeof(uint64_t) > len)
        return;
    const uint64_t *ids = p;
    const char *text = (const char *)p + r->n * sizeof(uint64_t);
    size_t tlen = len - r->n * sizeof(uint64_t);
    struct chat_msg *m = NULL;
    for (uint32_t i = 0; i < r->n; i++) {
        struct econn *c = imap_get(&e->conns, ids[i]);
        if (!c || c->dead)
            continue;
        if (!m) {   /* one copy for every recipient */
            if (!(m = msg_new(tlen)))
                return;
            memcpy(m->data, text, tlen);
        }
        econn_send(c, m, r->id != 0);
    }
    msg_unref(m);
}

static void on_close(struct edge *e, const struct hub_rec *r, const void *p, size_t len)
{
    struct econn *c = imap_get(&e->conns, r->id);
    if (!c || c->dead)
        return;
    c->told = true;   /* the core closed it */
    if (r->n)
        outq_keep_head(&c->out);
    if (len) {
        struct chat_msg *m = msg_new(len);
        if (m) {
            memcpy(m->data, p, len);
            econn_push(c, m, false);
            msg_unref(m);
        }
    }
    if (!c->closed)
        econn_linger(c);
}

static void on_bell(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct edge *e = io->data;
    bool gone = hub_bell_drain(e->bell) < 0 || (events & (IBX_EV_HUP | IBX_EV_ERROR));
    while (!e->gone) {
        const struct hub_rec *r;
        const void *p;
        size_t n;
        int got = hubrx_next(e->rx, &r, &p, &n);
        if (got == 0)
            break;
        if (got < 0) {
            gone = true;
            break;
        }
        struct econn *c;
        switch (r->type) {
        case HUB_SEND:
            on_send(e, r, p, n);
            break;
        case HUB_DIALECT:
            if ((c = imap_get(&e->conns, r->id)) && r->n <= D_IRC)
                c->dialect = (enum dialect)r->n;
            break;
        case HUB_CLOSE:
            on_close(e, r, p, n);
            break;
        default:
            break;
        }
        ibx_shmq_release(e->rx);
    }
    if (gone)
        core_gone(e);
    else if (ibx_buf_used(&e->tx.pend))
        edge_flush(e);   /* it may have made room */
}

/* ---- the edge of a worker ----------------------------------------------------- */

static void edge_fini(void *p)
{
    struct edge *e = p;
    /* the worker ended: what waits goes in (bounded: the core may be
     * gone or stuck), then the core sees the rings detach */
    for (int i = 0; i < 100 && !e->gone && ibx_buf_used(&e->tx.pend); i++) {
        edge_flush(e);
        if (ibx_buf_used(&e->tx.pend))
            usleep(10000);
    }
    edge_flush(e);
    ibx_timer_stop(e->loop, &e->retry);
    if (e->bell_io.active)
        ibx_io_stop(e->loop, &e->bell_io);
    ibx_shmq_close(e->tx.q);
    ibx_shmq_close(e->rx);
    if (e->bell >= 0)
        close(e->bell);
    ibx_buf_free(&e->tx.pend);
    imap_free(&e->conns);
    if (e->flush_d.queued)
        e->zombie = true;   /* freed when it runs */
    else
        free(e);
}

/* Make this worker's edge and register it with the core. */
static int edge_new(ibx_worker *w, struct chat_srv *s, struct edge **out)
{
    struct hub *h = s->hub;
    struct edge *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->srv = s;
    e->loop = ibx_worker_loop(w);
    e->bell = -1;
    int sp[2] = {-1, -1};
    int r = ibx_shmq_create(NULL, hub_ring_size(h), 0, 0600, &e->tx.q);
    if (!r)
        r = ibx_shmq_create(NULL, hub_ring_size(h), 0, 0600, &e->rx);
    if (!r)
        r = ibx_shmq_attach(e->tx.q, IBX_SHMQ_PRODUCER);
    if (!r)
        r = ibx_shmq_attach(e->rx, IBX_SHMQ_CONSUMER);
    if (!r && socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0)
        r = -errno;
    if (!r) {
        e->bell = sp[0];
        /* the thread's id under the thread models: one pid for all */
        struct hub_hello hello = {.magic = HUB_MAGIC, .pid = (int32_t)gettid()};
        int fds[3] = {ibx_shmq_fd(e->tx.q), ibx_shmq_fd(e->rx), sp[1]};
        ssize_t n = ibx_fdpass_send(hub_ctl_fd(h), &hello, sizeof hello, fds, 3);
        if (n < 0)
            r = (int)n;
        close(sp[1]);
    }
    if (!r)
        r = ibx_io_start(e->loop, &e->bell_io, e->bell, IBX_EV_READ, on_bell, e);
    if (!r) {
        ibx_io_unref(e->loop, &e->bell_io);
        r = ibx_worker_set_data(w, &edge_key, e, edge_fini);
    }
    if (r < 0) {
        ibx_warn(s->log, "msg=\"cannot join this worker to the chat core\" reason=%s",
                 strerror(-r));
        e->gone = true;
        edge_fini(e);
        return r;
    }
    *out = e;
    return 0;
}

int edge_open(ibx_worker *w, int fd, const char *host, struct chat_srv *s)
{
    struct edge *e = ibx_worker_data(w, &edge_key);
    int r = 0;
    if (!e)
        r = edge_new(w, s, &e);
    if (!r && e->gone)
        r = -EPIPE;
    struct econn *c = r ? NULL : calloc(1, sizeof *c);
    if (!r && !c)
        r = -ENOMEM;
    if (!r) {
        c->e = e;
        c->id = ++e->next_id;
        r = imap_put(&e->conns, c->id, c);
    }
    if (!r) {
        r = ibx_io_start(e->loop, &c->io, fd, e->paused ? 0 : IBX_EV_READ | IBX_EV_RDHUP,
                         on_io, c);
        if (r < 0)
            imap_del(&e->conns, c->id);
    }
    if (r < 0) {
        free(c);
        close(fd);
        return r;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    c->next = e->list;
    if (e->list)
        e->list->prev = c;
    e->list = c;
    /* the core hears of it before anything else of it (a drain, say) */
    edge_put(e, HUB_OPEN, c->id, host, strlen(host));
    ibx_conn_add(w, &c->base, &econn_ops, false);
    return 0;
}
