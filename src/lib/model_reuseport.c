/* reuseport: `workers` threads, each a loop with a SO_REUSEPORT listener
 * of its own in one group; the kernel spreads connections across them. */
#include "server_int.h"

/* The i-th thread of the pool: the first one takes the server's listeners,
 * each further one binds its own socket in the group. */
static int reuseport_prepare(ibx_server *srv, ibx_worker *w, unsigned i)
{
    w->shared_lfd = false;   /* nobody else accepts on these */
    if (i == 0)
        return 0;
    w->own_lfd = true;
    for (size_t k = 0; k < srv->nls; k++)
        w->lfd[k] = -1;
    for (size_t k = 0; k < srv->nls; k++) {
        int fd = ibx_tcp_listen(&srv->ls[k].addr, srv->cfg.backlog,
                                IBX_LISTEN_REUSEPORT);
        if (fd < 0)
            return fd;
        w->lfd[k] = fd;
        ibx__listener_tune(fd, srv->ls[k].proto);
    }
    return 0;
}

static int reuseport_start(ibx_server *srv)
{
    return ibx__threads_start_pool(srv, reuseport_prepare);
}

const struct ibx_model ibx__model_reuseport = {
    .name = "reuseport",
    .help = "a pool of threads, each an event loop with its own listener",
    .traits = IBX_MODEL_THREADS | IBX_MODEL_POOL,
    .listen_flags = IBX_LISTEN_REUSEPORT,
    .nofile_share = 2,
    .start = reuseport_start,
};
