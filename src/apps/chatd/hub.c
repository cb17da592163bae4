/* The core's side of chatd's hub (see chatd.h): it maps each edge that
 * registers, reads its ring (clients opening, their bytes, their closing)
 * and writes to the other what the chat logic sends to remote
 * connections. The unit on the main loop that takes the registrations and
 * carries the core's life is hubunit.c.
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
 * prefork replacement) holds a copy of the core. The library ends the
 * parent's loop pass in the child as soon as the child's work is done
 * (ibx__loop_abandon), so no core callback runs there; the rare paths
 * that touch a ring or a shared socket (retry, edge teardown, release)
 * still check that they run in the core's process (hub_core_here), the
 * hot ones (batches, records, flush) do not. The copy is freed by the
 * unit's release op. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hub.h"

/* ---- edges ------------------------------------------------------------------ */

/* Free e's memory and descriptors; the loop is not touched. */
void hub_edge_free_mem(struct hub_edge *e, bool forked)
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
    hub_list_del(&e->hub->dead, e);
    hub_edge_free_mem(e, !hub_core_here(e->hub));
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
    if (!e->nb)
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
        hub_edge_dead(e, "worker stuck");
    } else if (pend && !ibx_timer_active(&e->retry)) {
        ibx_timer_start(ibx_worker_loop(e->hub->w), &e->retry, CHATD_HUB_RETRY_MS, on_retry, e);
    }
}

static void on_retry(ibx_loop *loop, ibx_timer *t)
{
    struct hub_edge *e = t->data;
    if (!hub_core_here(e->hub))
        return;
    if (e->broken) {
        hub_edge_pump(e);
        hub_edge_dead(e, "worker died");
    } else {
        edge_flush(e);
    }
}

static void on_flush(ibx_loop *loop, ibx_defer *d)
{
    struct hub *h = d->data;
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
    if (e->dead || e->broken)
        return;
    emit_batches(e);
    struct hub_rec r = {.type = type, .n = n, .id = id};
    if (!e->broken && hubtx_put(&e->tx, &r, p, len, NULL, 0) < 0)
        edge_broken(e);
    else
        mark_dirty(e);
}

/* The clients of e quit (reason), its watchers stop; freed after the pass. */
void hub_edge_dead(struct hub_edge *e, const char *reason)
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
    hub_list_del(&h->edges, e);
    hub_list_add(&h->dead, e);
    h->nedges--;
    ibx_loop_defer(loop, &e->free_d, on_edge_free, e);
    if (h->draining && !h->nedges)
        hub_unit_done(h);
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
void hub_edge_pump(struct hub_edge *e)
{
    while (!e->dead) {
        const struct hub_rec *r;
        const void *p;
        size_t n;
        int got = hubrx_next(e->rx, &r, &p, &n);
        if (got == 0)
            return;
        if (got < 0) {
            hub_edge_dead(e, "worker died");
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
    if (!hub_core_here(e->hub))
        return;
    bool gone = hub_bell_drain(e->bell) < 0 || (events & (IBX_EV_HUP | IBX_EV_ERROR));
    hub_edge_pump(e);
    if (gone || e->broken)
        hub_edge_dead(e, "worker died");
    else if (!e->dead && ibx_buf_used(&e->tx.pend))
        edge_flush(e);   /* it may have made room */
}

/* A registration: map the rings, watch the doorbell. */
void hub_edge_add(struct hub *h, int fds[3], long pid)
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
            hub_edge_free_mem(e, false);
        }
        close(fds[2]);
        return;
    }
    e->hub = h;
    e->pid = pid;
    hub_list_add(&h->edges, e);
    h->nedges++;
    ibx_debug(h->srv->log, "msg=\"a worker joined the chat core\" worker=%ld edges=%zu", pid,
              h->nedges);
    hub_edge_pump(e);   /* what it wrote before we were there */
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
            if (!hub_core_here(e->hub))
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
