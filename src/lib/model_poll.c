/* poll: the epoll model's one loop, on the poll(2) backend (loop_poll.c):
 * every pass hands the kernel, and scans, the whole set of descriptors, so
 * its cost grows with the connections held, idle or not. */
#include "server_int.h"

const struct ibx_model ibx__model_poll = {
    .name = "poll",
    .help = "one event loop on poll(2): O(connections) per pass",
    .traits = IBX_MODEL_ONE_LOOP,
    .backend = "poll",
    .nofile_share = 2,
};
