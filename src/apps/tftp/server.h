/* The TFTP server as a unit on a server's main loop: one UDP listener and
 * any number of concurrent transfers, each on its own socket (from
 * --port-range if set) or all on the listening socket (single-port mode,
 * demultiplexed by peer address). Every transfer is a unit of its own, so
 * a shutdown lets transfers finish within the grace period. */
#ifndef IPCBOX_APPS_TFTP_SERVER_H
#define IPCBOX_APPS_TFTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcbox/log.h"
#include "ipcbox/net.h"
#include "ipcbox/server.h"

/* Default cap on concurrent transfers (lower if RLIMIT_NOFILE is). */
#define TFTPD_MAX_TRANSFERS 256
/* Default cap on concurrent transfers of one peer address. */
#define TFTPD_MAX_PER_PEER 16

/* Server configuration; tftpd_cfg_init() sets the defaults. */
struct tftpd_cfg {
    const char *root;        /* directory served (for logs) */
    int rootfd;              /* O_PATH directory fd, -1 until prepared */
    ibx_addr listen;
    int lfd;                 /* bound UDP socket, -1 until prepared */
    bool create;             /* uploads may create files */
    bool overwrite;          /* uploads may replace files */
    bool single_port;        /* every transfer on the listening socket */
    uint16_t port_lo, port_hi;   /* transfer ports; 0 = ephemeral */
    uint32_t max_blksize;    /* largest blksize granted */
    uint32_t max_window;     /* largest windowsize granted */
    uint32_t timeout_ms;     /* retransmit ceiling when none is negotiated */
    uint32_t giveup_ms;      /* abandon a transfer silent this long */
    uint64_t max_size;       /* largest upload, bytes (0 = unlimited) */
    unsigned max_transfers;  /* concurrent transfers (0 = sized from
                              * RLIMIT_NOFILE by tftpd_prepare(): at most
                              * TFTPD_MAX_TRANSFERS) */
    unsigned max_per_peer;   /* concurrent transfers of one peer address */
    bool busy_poll;          /* spin briefly for the next packet of a lone
                              * fast transfer; off where the loop is shared */
};

/* Fill in the defaults (read-only, 127.0.0.1:6969, blksize up to 65464,
 * windowsize up to 256, 1 s retransmit ceiling, 10 s give-up, 16
 * transfers per peer address, the global cap sized at prepare). */
void tftpd_cfg_init(struct tftpd_cfg *cfg);
/* Open root, remove upload temporaries a dead server left (root.h),
 * size max_transfers if unset, and bind the listener (logs "listening on
 * ADDR" proto=udp), or keep cfg->lfd if it is already a socket (socket
 * activation). Returns 0 or -errno after logging why. */
int tftpd_prepare(struct tftpd_cfg *cfg, const char *root, const ibx_log *log);
/* Unit starter for ibx_server_add_unit (arg: the prepared cfg, which must
 * outlive the server run). Takes over cfg->lfd. */
int tftpd_unit_start(ibx_worker *w, void *arg);
/* Close what tftpd_prepare() opened and the unit did not take. */
void tftpd_cfg_fini(struct tftpd_cfg *cfg);

#endif
