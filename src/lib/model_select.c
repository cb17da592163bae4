/* select: the epoll model's one loop, on the select(2) backend
 * (loop_select.c). An fd_set holds descriptors below FD_SETSIZE (1024)
 * only, so the connection cap stays well under it (the loop's own
 * descriptors, listeners and what connections open need the rest), and a
 * connection whose descriptor lands past it anyway is closed with a log
 * line, never passed to FD_SET. */
#include <sys/select.h>

#include "server_int.h"

const struct ibx_model ibx__model_select = {
    .name = "select",
    .help = "one event loop on select(2): O(highest fd) per pass, below FD_SETSIZE",
    .traits = IBX_MODEL_ONE_LOOP,
    .backend = "select",
    .nofile_share = 2,
    .max_conns_ceiling = FD_SETSIZE / 2 - 32,
    /* past this even a connection that opens nothing lands past FD_SETSIZE */
    .max_conns_limit = FD_SETSIZE - 32,
};
