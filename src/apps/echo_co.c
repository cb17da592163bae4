/* echo in the coroutine style (the coroutine model): the same protocol as
 * the state machine in echo.c, written as a plain loop. Reading and
 * writing park the coroutine on the loop when the socket is not ready.
 * Memory is bounded by the one buffer on the coroutine's stack: nothing
 * more is read until what was read has been written back, so a peer that
 * does not read stops being read from (and --idle ends it). */
#include "echo_co.h"

#include <errno.h>
#include <stdbool.h>

#include "ipcbox/net.h"

#define ECHO_CO_BUF 16384

/* The log word for why a connection ended, from a read or write result. */
static const char *end_reason(long r)
{
    switch (r) {
    case 0: return "eof";
    case -ETIMEDOUT: return "idle";
    case -ECANCELED: return "shutdown";
    default: return "error";
    }
}

void echo_co_serve(ibx_co *co, int fd, const struct sockaddr *peer,
                   socklen_t peerlen, void *ctx)
{
    const struct echo_cfg *cfg = ctx;
    ibx_loop *loop = ibx_co_loop(co);
    uint64_t opened = ibx_loop_now(loop), bytes = 0;
    ibx_log as;
    const ibx_log *log = ibx_log_as(cfg->log, "echo", &as);
    bool debug = ibx_log_enabled(log, IBX_LOG_DEBUG);
    char who[IBX_ADDRSTRLEN] = "";
    if (debug) {
        ibx_addr_format(peer, peerlen, who, sizeof who);
        ibx_debug(log, "msg=\"connection opened\" peer=%s", who);
    }
    ibx_co_set_timeout(co, cfg->idle_ms);   /* 0: none */
    char buf[ECHO_CO_BUF];
    long end;
    for (;;) {
        ssize_t n = ibx_co_read(co, fd, buf, sizeof buf);
        if (n <= 0) {
            end = (long)n;
            break;
        }
        bytes += (uint64_t)n;
        int r = ibx_co_write(co, fd, buf, (size_t)n);
        if (r < 0) {
            end = r;
            break;
        }
    }
    if (debug)
        ibx_debug(log, "msg=\"connection closed\" peer=%s bytes=%llu duration_ms=%llu "
                  "reason=%s", who, (unsigned long long)bytes,
                  (unsigned long long)(ibx_loop_now(loop) - opened), end_reason(end));
}
