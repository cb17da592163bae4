/* prefork: `workers` child processes, each a loop accepting on the shared
 * listeners (one of them woken per connection: IBX_EV_EXCLUSIVE); a child
 * that dies is replaced. */
#include "server_int.h"

/* Fork children until there are `workers` of them. In a child, returns 0
 * with srv->is_child set once it is done serving. */
static int prefork_spawn(ibx_server *srv)
{
    while (srv->nkids < srv->cfg.workers) {
        int r = ibx__kid_fork(srv, -1, NULL, NULL, 0);
        if (r < 0 || srv->is_child)
            return r;
    }
    return 0;
}

const struct ibx_model ibx__model_prefork = {
    .name = "prefork",
    .help = "a pool of child processes, each an event loop",
    .traits = IBX_MODEL_PROCESSES | IBX_MODEL_POOL,
    .nofile_share = 2,
    .start = prefork_spawn,
    .child_exited = prefork_spawn,
};
