/* epoll (the default): one loop, in the calling thread, for every listener
 * and connection. The shared code does it all: the main worker accepts and
 * opens each connection on its own loop. (The name is historical: the loop
 * uses whichever backend it has, see loop_backend.h.) */
#include "server_int.h"

const struct ibx_model ibx__model_epoll = {
    .name = "epoll",
    .help = "one event loop for every connection (default)",
    .traits = IBX_MODEL_ONE_LOOP,
    /* half the descriptors for connections leaves the other half for what
     * each one opens (files, pipes, part files), the listeners, the spare */
    .nofile_share = 2,
};
