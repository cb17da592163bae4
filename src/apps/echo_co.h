/* echo's TCP side, shared by its two handlers: the state machine
 * (echo.c, every model but coroutine) and the coroutine one (echo_co.c,
 * the coroutine model). */
#ifndef IPCBOX_APPS_ECHO_CO_H
#define IPCBOX_APPS_ECHO_CO_H

#include <sys/socket.h>

#include "ipcbox/coro.h"
#include "ipcbox/log.h"

/* echo's settings, as its connections see them. */
struct echo_cfg {
    unsigned idle_ms;
    unsigned udp_rate;       /* answers/s per source; 0 = unlimited */
    unsigned udp_burst;      /* 0 = udp_rate */
    const ibx_log *log;      /* the server's (for the coroutine handler) */
};

/* The coroutine handler of echo's struct ibx_proto: read, write it all
 * back, until EOF, --idle without progress, an error or shutdown. ctx is
 * the struct echo_cfg. */
void echo_co_serve(ibx_co *co, int fd, const struct sockaddr *peer,
                   socklen_t peerlen, void *ctx);

#endif
