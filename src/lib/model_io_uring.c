/* io_uring: the epoll model's one loop, on the io_uring backend
 * (loop_uring.c): readiness from poll requests that are re-armed in the
 * same system call that waits. Where the kernel refuses io_uring (seccomp,
 * containers, sysctl kernel.io_uring_disabled) the server does not start:
 * creating its loop fails and the caller prints the reason in one line;
 * there is no silent fallback to another backend. */
#include "server_int.h"

const struct ibx_model ibx__model_io_uring = {
    .name = "io_uring",
    .help = "one event loop on io_uring poll requests (refused where the kernel disables io_uring)",
    .traits = IBX_MODEL_ONE_LOOP,
    .backend = "io_uring",
    .nofile_share = 2,
};
