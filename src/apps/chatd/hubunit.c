/* The core's unit of chatd's hub (see chatd.h, hub.c): on the server's
 * main loop it takes the edges' registrations on the control socket, and
 * lives until every edge is gone (drain) or the grace is over (abort). In
 * a fork child it frees the copy of the core the child inherited. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hub.h"
#include "ipcbox/fdpass.h"

void hub_unit_done(struct hub *h)
{
    if (!h->running)
        return;
    h->running = false;
    ibx_io_stop(ibx_worker_loop(h->w), &h->ctl_io);
    ibx_conn_done(&h->base);
}

static void on_ctl(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct hub *h = io->data;
    if (!hub_core_here(h))
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
        hub_edge_add(h, fds, hello.pid);
    }
}

/* ---- the unit --------------------------------------------------------------- */

static void unit_drain(ibx_conn *base)
{
    struct hub *h = (struct hub *)base;
    h->draining = true;   /* each worker drains its clients; we wait for them */
    if (!h->nedges)
        hub_unit_done(h);
}

static void unit_abort(ibx_conn *base)
{
    struct hub *h = (struct hub *)base;
    h->draining = true;
    while (h->edges)
        hub_edge_dead(h->edges, "Server shutting down");
    hub_unit_done(h);
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
    if (h->released || hub_core_here(h))
        return;
    h->released = true;
    conn_release_all(h->srv);
    struct hub_edge **lists[] = {&h->edges, &h->dead};
    for (size_t i = 0; i < 2; i++)
        while (*lists[i]) {
            struct hub_edge *e = *lists[i];
            hub_list_del(lists[i], e);
            imap_free(&e->conns);
            hub_edge_free_mem(e, true);
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
            hub_list_del(lists[i], e);
            hub_edge_free_mem(e, h->released);
        }
    for (int i = 0; i < 2; i++)
        if (h->ctl[i] >= 0)
            close(h->ctl[i]);
    free(h);
}

int hub_ctl_fd(const struct hub *h) { return h->ctl[1]; }
size_t hub_ring_size(const struct hub *h) { return h->ring; }
bool hub_is_core_process(const struct hub *h) { return hub_core_here(h); }
