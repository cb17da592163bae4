/* fork: the main process accepts; each connection gets a child process
 * with a fresh loop, which exits when the connection closes. */
#include "server_int.h"

/* Hand fd to a new child process (server_proc.c). */
static int fork_accept(ibx_server *srv, ibx_worker *w, int fd,
                       const struct listener *l,
                       const struct sockaddr_storage *peer, socklen_t plen)
{
    return ibx__kid_fork(srv, fd, l, peer, plen);
}

const struct ibx_model ibx__model_fork = {
    .name = "fork",
    .help = "a child process per connection",
    .traits = IBX_MODEL_PROCESSES | IBX_MODEL_PER_CONN,
    .nofile_share = 2,
    .max_conns_ceiling = 256,   /* a process costs far more than an fd */
    .accept = fork_accept,
};
