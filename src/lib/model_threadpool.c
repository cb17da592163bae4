/* threadpool: `workers` threads, each a loop accepting on the shared
 * listeners (one of them woken per connection: IBX_EV_EXCLUSIVE). */
#include "server_int.h"

/* The pool of thread loops (server_thread.c). */
static int threadpool_start(ibx_server *srv)
{
    return ibx__threads_start_pool(srv, NULL);
}

const struct ibx_model ibx__model_threadpool = {
    .name = "threadpool",
    .help = "a pool of threads, each an event loop",
    .traits = IBX_MODEL_THREADS | IBX_MODEL_POOL,
    .nofile_share = 2,
    .start = threadpool_start,
};
