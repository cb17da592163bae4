/* coroutine: one loop, like epoll, but each connection runs as a coroutine
 * (ipcbox/coro.h) on it: the protocol's serve handler, written as
 * blocking-style code, parks on the loop whenever it would block. A
 * protocol without a serve handler cannot run under it (ibx_model_runs).
 *
 * Shutdown: drain cancels the coroutine's waits for new input (a read,
 * accept or sleep ends with -ECANCELED; writes in flight finish), abort
 * cancels every wait; serve is expected to return then. The socket is
 * closed and the connection unregistered when serve returns. */
#include "server_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct co_conn {
    ibx_conn base;          /* first */
    ibx_co *co;             /* NULL once serve returned */
    int fd;
    const struct listener *l;
    struct sockaddr_storage peer;
    socklen_t plen;
};

static void co_drain(ibx_conn *base)
{
    struct co_conn *c = (struct co_conn *)base;
    if (c->co)
        ibx_co_cancel(c->co, IBX_CO_DRAIN);
}

static void co_abort(ibx_conn *base)
{
    struct co_conn *c = (struct co_conn *)base;
    if (c->co)
        ibx_co_cancel(c->co, IBX_CO_ABORT);
}

static const struct ibx_conn_ops co_ops = {.drain = co_drain, .abort = co_abort};

static void co_main(ibx_co *co, void *arg)
{
    struct co_conn *c = arg;
    ibx_worker *w = c->base.worker;
    c->base.worker = NULL;
    c->co = co;
    ibx_conn_add(w, &c->base, &co_ops, false);   /* may cancel at once */
    c->l->proto->serve(co, c->fd, (const struct sockaddr *)&c->peer, c->plen,
                       c->l->ctx);
    ibx_co_close(co, c->fd);
    c->co = NULL;
    ibx_conn_done(&c->base);
    free(c);
}

static int co_accept(ibx_server *srv, ibx_worker *w, int fd,
                     const struct listener *l, const struct sockaddr_storage *peer,
                     socklen_t plen)
{
    struct co_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->fd = fd;
    c->l = l;
    memcpy(&c->peer, peer, plen <= sizeof c->peer ? plen : sizeof c->peer);
    c->plen = plen;
    c->base.worker = w;   /* handed over to co_main */
    int r = ibx_co_spawn(w->loop, l->proto->stack_size, co_main, c, NULL);
    if (r < 0) {
        close(fd);
        free(c);
    }
    return r;
}

const struct ibx_model ibx__model_coroutine = {
    .name = "coroutine",
    .help = "one event loop; each connection a coroutine (blocking-style code)",
    .traits = IBX_MODEL_ONE_LOOP | IBX_MODEL_COROUTINES,
    .nofile_share = 2,
    .accept = co_accept,
};
