/* The core's side of chatd's hub (see chatd.h): a unit on the server's
 * main loop that takes the edges' registrations on the control socket,
 * reads their rings (clients opening, their bytes, their closing) and
 * writes to them what the chat logic sends to remote connections.
 *
 * Batching: a message sent to several clients of one edge in one loop
 * pass goes to that edge as one record with the list of their ids. Each
 * edge keeps a few open batches keyed by message; a connection is only
 * added to a batch at least as new as its last one, so that its lines
 * keep their order. At the end of the pass the batches go into the rings
 * and each edge that got something is rung once. Any other record for an
 * edge first puts its open batches in, for the same reason.
 *
 * An edge is gone when its doorbell hangs up or its ring says its writer
 * detached or died: what it committed is read first, then each of its
 * clients quits as if it had closed. An edge whose ring stays full past
 * CHATD_HUB_PEND_MAX is stuck: its clients are disconnected.
 *
 * Fork children. A child forked from the main loop (the fork model, a
 * prefork replacement) finishes the parent's loop pass after its work is
 * done, on its copy of the core: every callback that reads or writes a
 * ring or a shared socket first checks that it runs in the core's process
 * (core_here). The copy is freed by the unit's release op. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chatd.h"
#include "ipcbox/fdpass.h"

#define HUB_BATCHES 4

struct hub_batch {
    struct chat_msg *m;
    bool bulk;
    uint64_t seq;
    uint64_t *ids;
    size_t n, cap;
};

struct hub_edge {
    struct hub *hub;
    struct hub_edge *prev, *next;   /* the hub's live (or dead) edges */
    struct hub_edge *dnext;         /* the hub's edges to flush */
    bool dirty, dead;
    ibx_shmq *rx;                   /* edge -> core */
    struct hub_tx tx;               /* core -> edge */
    int bell;
    ibx_io bell_io;
    ibx_timer retry;
    ibx_defer free_d;
    struct imap conns;              /* id -> struct conn */
    struct hub_batch b[HUB_BATCHES];
    size_t nb;
    uint64_t seq;
    long pid;
    bool broken;                    /* its reader is gone: nothing more to it */
};

struct hub {
    ibx_conn base;                  /* first: the unit */
    struct chat_srv *srv;
    ibx_worker *w;
    int ctl[2];                     /* [0] the core's end */
    ibx_io ctl_io;
    pid_t pid;
    size_t ring;
    struct hub_edge *edges, *dead, *dirty;
    size_t nedges;
    ibx_defer flush_d;
    bool running, draining, released;
};

static void edge_dead(struct hub_edge *e, const char *reason);

/* In the core's process, not in a fork child finishing a loop pass on its
 * copy (see above). */
static bool core_here(const struct hub *h) { return getpid() == h->pid; }

/* ---- edges ------------------------------------------------------------------ */

static void list_del(struct hub_edge **head, struct hub_edge *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        *head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static void list_add(struct hub_edge **head, struct hub_edge *e)
{
    e->prev = NULL;
    e->next = *head;
    if (*head)
        (*head)->prev = e;
    *head = e;
}

/* Free e's memory and descriptors; the loop is not touched. */
static void edge_free_mem(struct hub_edge *e, bool forked)
{
    if (e->bell >= 0)
        close(e->bell);
    if (forked) {
        ibx_shmq_free_forked(e->rx);
        ibx_shmq_free_forked(e->tx.q);
    } else {
        ibx_shmq_close(e->rx);
        ibx_shmq_close(e->tx.q);
    }
    ibx_buf_free(&e->tx.pend);
    for (size_t i = 0; i < HUB_BATCHES; i++) {
        msg_unref(e->b[i].m);
        free(e->b[i].ids);
    }
    imap_free(&e->conns);
    free(e);
}

static void on_edge_free(ibx_loop *loop, ibx_defer *d)
{
    struct hub_edge *e = d->data;
    list_del(&e->hub->dead, e);
    edge_free_mem(e, !core_here(e->hub));
}

static void unit_done(struct hub *h)
{
    if (!h->running)
        return;
    h->running = false;
    ibx_io_stop(ibx_worker_loop(h->w), &h->ctl_io);
    ibx_conn_done(&h->base);
}

static void on_retry(ibx_loop *loop, ibx_timer *t);

/* e's reader detached or died: nothing more goes to it. Its clients quit
 * once what it committed before is read (the reasons it gave count), on
 * its doorbell's hang-up or at the latest on the retry timer. Not at
 * once: we may be inside a fan-out. */
static void edge_broken(struct hub_edge *e)
{
    if (e->broken)
        return;
    e->broken = true;
    ibx_buf_free(&e->tx.pend);
    ibx_timer_start(ibx_worker_loop(e->hub->w), &e->retry, CHATD_HUB_RETRY_MS, on_retry, e);
}

/* Put e's open batches into its ring (or its waiting records). */
static void emit_batches(struct hub_edge *e)
{
    if (!e->nb || !core_here(e->hub))
        return;
    size_t nb = e->nb;
    e->nb = 0;
    for (size_t i = 0; i < nb; i++) {
        struct hub_batch *b = &e->b[i];
        size_t room = hubtx_room(&e->tx), per = 0;
        if (b->m->len + sizeof(uint64_t) <= room)
            per = (room - b->m->len) / sizeof(uint64_t);
        for (size_t k = 0; per && k < b->n && !e->broken; k += per) {
            size_t n = b->n - k < per ? b->n - k : per;
            struct hub_rec r = {.type = HUB_SEND, .n = (uint32_t)n, .id = b->bulk};
            int err = hubtx_put(&e->tx, &r, b->ids + k, n * sizeof *b->ids, b->m->data,
                                b->m->len);
            if (err < 0)
                edge_broken(e);
        }
        msg_unref(b->m);
        b->m = NULL;
        b->n = 0;
    }
}

static void on_flush(ibx_loop *loop, ibx_defer *d);

static void mark_dirty(struct hub_edge *e)
{
    struct hub *h = e->hub;
    if (e->dirty)
        return;
    e->dirty = true;
    e->dnext = h->dirty;
    h->dirty = e;
    ibx_loop_defer(ibx_worker_loop(h->w), &h->flush_d, on_flush, h);
}

static void edge_pump(struct hub_edge *e);

/* Batches and waiting records into the ring; ring the edge. */
static void edge_flush(struct hub_edge *e)
{
    emit_batches(e);
    if (e->dead || e->broken)
        return;
    if (hubtx_flush(&e->tx) < 0) {
        edge_broken(e);
        return;
    }
    if (e->tx.committed) {
        e->tx.committed = false;
        hub_ring(e->bell);
    }
    size_t pend = ibx_buf_used(&e->tx.pend);
    if (pend > CHATD_HUB_PEND_MAX) {
        ibx_warn(e->hub->srv->log, "msg=\"a worker does not read what the core sends it: "
                 "its clients are disconnected\" worker=%ld clients=%zu pending=%zu",
                 e->pid, e->conns.n, pend);
        edge_dead(e, "worker stuck");
    } else if (pend && !ibx_timer_active(&e->retry)) {
        ibx_timer_start(ibx_worker_loop(e->hub->w), &e->retry, CHATD_HUB_RETRY_MS, on_retry, e);
    }
}

static void on_retry(ibx_loop *loop, ibx_timer *t)
{
    struct hub_edge *e = t->data;
    if (!core_here(e->hub))
        return;
    if (e->broken) {
        edge_pump(e);
        edge_dead(e, "worker died");
    } else {
        edge_flush(e);
    }
}

static void on_flush(ibx_loop *loop, ibx_defer *d)
{
    struct hub *h = d->data;
    if (!core_here(h))
        return;
    struct hub_edge *e = h->dirty;
    h->dirty = NULL;
    while (e) {
        struct hub_edge *next = e->dnext;
        e->dirty = false;
        e->dnext = NULL;
        if (!e->dead)
            edge_flush(e);
        e = next;
    }
}

/* One record for e, after its open batches. */
static void edge_put(struct hub_edge *e, uint32_t type, uint32_t n, uint64_t id, const void *p,
                     size_t len)
{
    if (e->dead || e->broken || !core_here(e->hub))
        return;
    emit_batches(e);
    struct hub_rec r = {.type = type, .n = n, .id = id};
    if (!e->broken && hubtx_put(&e->tx, &r, p, len, NULL, 0) < 0)
        edge_broken(e);
    else
        mark_dirty(e);
}

/* The clients of e quit (reason), its watchers stop; freed after the pass. */
static void edge_dead(struct hub_edge *e, const char *reason)
{
    if (e->dead)
        return;
    e->dead = true;
    struct hub *h = e->hub;
    if (e->conns.n && strcmp(reason, "Server shutting down") != 0)
        ibx_warn(h->srv->log, "msg=\"a worker is gone: its clients quit\" worker=%ld "
                 "clients=%zu reason=\"%s\"", e->pid, e->conns.n, reason);
    for (size_t i = 0; i < e->conns.cap; i++)
        if (e->conns.t[i].k)
            conn_gone(e->conns.t[i].v, reason);
    imap_free(&e->conns);
    if (e->dirty) {
        struct hub_edge **pp = &h->dirty;
        while (*pp && *pp != e)
            pp = &(*pp)->dnext;
        if (*pp)
            *pp = e->dnext;
        e->dirty = false;
    }
    ibx_loop *loop = ibx_worker_loop(h->w);
    ibx_timer_stop(loop, &e->retry);
    ibx_io_stop(loop, &e->bell_io);
    list_del(&h->edges, e);
    list_add(&h->dead, e);
    h->nedges--;
    ibx_loop_defer(loop, &e->free_d, on_edge_free, e);
    if (h->draining && !h->nedges)
        unit_done(h);
}

/* ---- records from an edge --------------------------------------------------- */

static void text_of(char *dst, size_t cap, const void *p, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void on_open(struct hub_edge *e, uint64_t id, const void *p, size_t n)
{
    struct hub *h = e->hub;
    char host[IBX_ADDRSTRLEN];
    text_of(host, sizeof host, p, n);
    if (!id || imap_get(&e->conns, id))
        return;   /* never from a sound edge */
    const char *refused = NULL;
    struct conn *c = conn_open_remote(h->srv, h->w, e, id, host, &refused);
    if (c && imap_put(&e->conns, id, c) < 0) {
        conn_gone(c, "out of memory");
        c = NULL;
    }
    if (!c) {
        char line[128];
        int len = snprintf(line, sizeof line, "ERROR :Closing Link: %s\r\n",
                           refused ? refused : "out of memory");
        edge_put(e, HUB_CLOSE, 0, id, line, (size_t)len);
    }
}

/* Read what e committed. */
static void edge_pump(struct hub_edge *e)
{
    while (!e->dead) {
        const struct hub_rec *r;
        const void *p;
        size_t n;
        int got = hubrx_next(e->rx, &r, &p, &n);
        if (got == 0)
            return;
        if (got < 0) {
            edge_dead(e, "worker died");
            return;
        }
        struct conn *c;
        char why[128];
        switch (r->type) {
        case HUB_OPEN:
            on_open(e, r->id, p, n);
            break;
        case HUB_DATA:
            if ((c = imap_get(&e->conns, r->id)))
                conn_data(c, p, n);
            break;
        case HUB_CLOSED:
            text_of(why, sizeof why, p, n);
            if ((c = imap_del(&e->conns, r->id)))
                conn_gone(c, why);
            break;
        default:
            break;
        }
        ibx_shmq_release(e->rx);
    }
}

static void on_bell(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct hub_edge *e = io->data;
    if (!core_here(e->hub))
        return;
    bool gone = hub_bell_drain(e->bell) < 0 || (events & (IBX_EV_HUP | IBX_EV_ERROR));
    edge_pump(e);
    if (gone || e->broken)
        edge_dead(e, "worker died");
    else if (!e->dead && ibx_buf_used(&e->tx.pend))
        edge_flush(e);   /* it may have made room */
}

/* A registration: map the rings, watch the doorbell. */
static void edge_add(struct hub *h, int fds[3], long pid)
{
    struct hub_edge *e = calloc(1, sizeof *e);
    int r = e ? 0 : -ENOMEM;
    if (e)
        e->bell = -1;
    if (!r)
        r = ibx_shmq_from_fd(fds[0], &e->rx);
    if (!r)
        r = ibx_shmq_attach(e->rx, IBX_SHMQ_CONSUMER);
    if (!r)
        r = ibx_shmq_from_fd(fds[1], &e->tx.q);
    if (!r)
        r = ibx_shmq_attach(e->tx.q, IBX_SHMQ_PRODUCER);
    close(fds[0]);
    close(fds[1]);
    if (!r && fcntl(fds[2], F_SETFL, O_NONBLOCK) < 0)
        r = -errno;
    if (!r) {
        e->bell = fds[2];
        r = ibx_io_start(ibx_worker_loop(h->w), &e->bell_io, e->bell, IBX_EV_READ, on_bell, e);
    }
    if (r < 0) {
        ibx_warn(h->srv->log, "msg=\"cannot take a worker's registration\" worker=%ld "
                 "reason=%s", pid, strerror(-r));
        if (e) {
            e->bell = -1;
            edge_free_mem(e, false);
        }
        close(fds[2]);
        return;
    }
    e->hub = h;
    e->pid = pid;
    list_add(&h->edges, e);
    h->nedges++;
    ibx_debug(h->srv->log, "msg=\"a worker joined the chat core\" worker=%ld edges=%zu", pid,
              h->nedges);
    edge_pump(e);   /* what it wrote before we were there */
}

static void on_ctl(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct hub *h = io->data;
    if (!core_here(h))
        return;
    for (int i = 0; i < 64; i++) {
        struct hub_hello hello;
        int fds[3];
        size_t nfds = 0;
        ssize_t n = ibx_fdpass_recv(h->ctl[0], &hello, sizeof hello, fds, 3, &nfds);
        if (n == -EAGAIN || n == 0)
            return;
        if (n < 0 && n != -EMSGSIZE) {
            ibx_warn(h->srv->log, "msg=\"hub control socket\" reason=%s", strerror((int)-n));
            return;
        }
        if (n != (ssize_t)sizeof hello || nfds != 3 || hello.magic != HUB_MAGIC) {
            for (size_t k = 0; k < nfds; k++)
                close(fds[k]);
            continue;
        }
        edge_add(h, fds, hello.pid);
    }
}

/* ---- what the chat logic sends ---------------------------------------------- */

void hub_send(struct conn *c, struct chat_msg *m, bool bulk)
{
    struct hub_edge *e = c->edge;
    if (!e || e->dead || e->broken)
        return;
    struct hub_batch *b = NULL;
    for (size_t i = 0; i < e->nb; i++)
        if (e->b[i].m == m && e->b[i].bulk == bulk && e->b[i].seq >= c->hub_seq) {
            b = &e->b[i];
            break;
        }
    if (!b) {
        if (e->nb == HUB_BATCHES) {   /* the oldest goes in first */
            if (!core_here(e->hub))
                return;
            e->nb = 1;
            emit_batches(e);
            struct hub_batch spare = e->b[0];   /* its id array, reused */
            memmove(e->b, e->b + 1, (HUB_BATCHES - 1) * sizeof *e->b);
            e->b[HUB_BATCHES - 1] = spare;
            e->nb = HUB_BATCHES - 1;
            if (e->broken)
                return;
        }
        b = &e->b[e->nb++];
        b->m = msg_ref(m);
        b->bulk = bulk;
        b->seq = ++e->seq;
        b->n = 0;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        uint64_t *ids = realloc(b->ids, cap * sizeof *ids);
        if (!ids)
            return;
        b->ids = ids;
        b->cap = cap;
    }
    b->ids[b->n++] = c->rid;
    c->hub_seq = b->seq;
    mark_dirty(e);
}

void hub_dialect(struct conn *c)
{
    if (c->edge)
        edge_put(c->edge, HUB_DIALECT, (uint32_t)c->dialect, c->rid, NULL, 0);
}

void hub_close(struct conn *c, bool drop, const char *error)
{
    struct hub_edge *e = c->edge;
    if (!e)
        return;
    imap_del(&e->conns, c->rid);
    c->edge = NULL;
    struct chat_msg *line = error ? error_line(c->dialect, error) : NULL;
    edge_put(e, HUB_CLOSE, drop, c->rid, line ? line->data : NULL, line ? line->len : 0);
    msg_unref(line);
}

/* ---- the unit --------------------------------------------------------------- */

static void unit_drain(ibx_conn *base)
{
    struct hub *h = (struct hub *)base;
    h->draining = true;   /* each worker drains its clients; we wait for them */
    if (!h->nedges)
        unit_done(h);
}

static void unit_abort(ibx_conn *base)
{
    struct hub *h = (struct hub *)base;
    h->draining = true;
    while (h->edges)
        edge_dead(h->edges, "Server shutting down");
    unit_done(h);
}

static void unit_release(ibx_conn *base) { hub_release((struct hub *)base); }

static const struct ibx_conn_ops unit_ops = {
    .drain = unit_drain, .abort = unit_abort, .release = unit_release,
};

static int unit_start(ibx_worker *w, void *arg)
{
    struct hub *h = arg;
    h->w = w;
    int r = ibx_io_start(ibx_worker_loop(w), &h->ctl_io, h->ctl[0], IBX_EV_READ, on_ctl, h);
    if (r < 0)
        return r;
    h->running = true;
    ibx_conn_add(w, &h->base, &unit_ops, true);
    return 0;
}

int hub_add_unit(struct hub *h, ibx_server *srv)
{
    return ibx_server_add_unit(srv, unit_start, h);
}

int hub_new(struct chat_srv *s, unsigned traits, struct hub **out)
{
    struct hub *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, h->ctl) < 0 ||
        fcntl(h->ctl[0], F_SETFL, O_NONBLOCK) < 0) {
        int e = -errno;
        free(h);
        return e;
    }
    h->srv = s;
    h->pid = getpid();
    h->ring = traits & IBX_MODEL_PER_CONN ? CHATD_RING_CONN : CHATD_RING_POOL;
    *out = h;
    return 0;
}

void hub_release(struct hub *h)
{
    if (h->released || core_here(h))
        return;
    h->released = true;
    conn_release_all(h->srv);
    struct hub_edge **lists[] = {&h->edges, &h->dead};
    for (size_t i = 0; i < 2; i++)
        while (*lists[i]) {
            struct hub_edge *e = *lists[i];
            list_del(lists[i], e);
            imap_free(&e->conns);
            edge_free_mem(e, true);
        }
    h->nedges = 0;
    h->dirty = NULL;
    close(h->ctl[0]);
    h->ctl[0] = -1;
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    /* what is left after the loop ended (a failed start) */
    struct hub_edge **lists[] = {&h->edges, &h->dead};
    for (size_t i = 0; i < 2; i++)
        while (*lists[i]) {
            struct hub_edge *e = *lists[i];
            list_del(lists[i], e);
            edge_free_mem(e, h->released);
        }
    for (int i = 0; i < 2; i++)
        if (h->ctl[i] >= 0)
            close(h->ctl[i]);
    free(h);
}

int hub_ctl_fd(const struct hub *h) { return h->ctl[1]; }
size_t hub_ring_size(const struct hub *h) { return h->ring; }
bool hub_is_core_process(const struct hub *h) { return core_here(h); }
