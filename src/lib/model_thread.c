/* thread: the main thread accepts; each connection gets a thread with a
 * private loop, which ends when the connection closes. */
#include "server_int.h"

/* Hand fd to a new thread (server_thread.c). */
static int thread_accept(ibx_server *srv, ibx_worker *w, int fd,
                         const struct listener *l,
                         const struct sockaddr_storage *peer, socklen_t plen)
{
    return ibx__thread_spawn_conn(srv, fd, l, peer, plen);
}

const struct ibx_model ibx__model_thread = {
    .name = "thread",
    .help = "a thread per connection",
    .traits = IBX_MODEL_THREADS | IBX_MODEL_PER_CONN,
    /* each connection's loop holds two more descriptors (its epoll and
     * eventfd), and a thread costs far more than a descriptor */
    .nofile_share = 4,
    .max_conns_ceiling = 256,
    .accept = thread_accept,
};
