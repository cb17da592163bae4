/* The recv server protocol, shared by the recv applet and its serve
 * registration. */
#ifndef IPCBOX_APPS_XFER_RECV_H
#define IPCBOX_APPS_XFER_RECV_H

#include <stdbool.h>

#include "ipcbox/log.h"
#include "ipcbox/server.h"
#include "xfer.h"

/* Configuration shared by every connection of one recv listener. With
 * once, the first connection to close shuts the server down (single
 * loop models only: status is written without locking). */
struct recv_cfg {
    int rootfd;             /* the served directory */
    struct xfer_rx_opts opts;
    unsigned idle_ms;       /* close connections silent this long */
    const ibx_log *log;
    ibx_server *srv;
    bool once;              /* stop after the first connection */
    int status;             /* worst exit code seen (for --once) */
};

/* The protocol; ctx is a struct recv_cfg. */
extern const struct ibx_proto xfer_recv_proto;

#endif
